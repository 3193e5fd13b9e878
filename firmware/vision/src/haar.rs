//! Haar cascades evaluated in Rust from OpenCV's cascade XML (the format of
//! `haarcascade_frontalface_default.xml`): integral and squared-integral images, the scale
//! pyramid, stage thresholds, tilted features, and OpenCV's grouping of overlapping windows.
//!
//! (API fixed here; the implementation lands with the Haar work.)

use std::path::Path;

use crate::VisionError;
use crate::face::{FaceBox, FaceDetector, Pixels};

/// `detectMultiScale`'s parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HaarParams {
    /// Ratio between two scales of the pyramid (OpenCV's `scaleFactor`), > 1.
    pub scale_factor: f32,
    /// Windows a group needs to be kept (OpenCV's `minNeighbors`).
    pub min_neighbors: u32,
    /// Smallest face side in pixels (OpenCV's `minSize`, square).
    pub min_size: u32,
    /// Largest face side in pixels (0: the image).
    pub max_size: u32,
}

impl Default for HaarParams {
    fn default() -> Self {
        Self {
            scale_factor: 1.1,
            min_neighbors: 3,
            min_size: 24,
            max_size: 0,
        }
    }
}

/// A parsed cascade.
#[derive(Clone, Debug)]
pub struct Cascade {}

impl Cascade {
    /// Reads a cascade file; errors name the file and what is wrong with it.
    pub fn from_file(path: &Path) -> Result<Self, VisionError> {
        let text = std::fs::read_to_string(path).map_err(|e| VisionError::Cascade {
            path: path.to_path_buf(),
            reason: format!("cannot read it ({e})"),
        })?;
        Self::parse(&text, path)
    }

    /// Parses the XML text of a cascade; `origin` names it in errors.
    pub fn parse(_xml: &str, origin: &Path) -> Result<Self, VisionError> {
        Err(VisionError::Cascade {
            path: origin.to_path_buf(),
            reason: "not implemented yet".into(),
        })
    }
}

/// A [`FaceDetector`] running a [`Cascade`] with [`HaarParams`].
#[derive(Clone, Debug)]
pub struct HaarDetector {
    pub cascade: Cascade,
    pub params: HaarParams,
}

impl HaarDetector {
    pub fn new(cascade: Cascade, params: HaarParams) -> Self {
        Self { cascade, params }
    }
}

impl FaceDetector for HaarDetector {
    fn name(&self) -> &str {
        "haar"
    }
    fn detect(&mut self, _image: &Pixels<'_>) -> Result<Vec<FaceBox>, VisionError> {
        Ok(Vec::new())
    }
}
