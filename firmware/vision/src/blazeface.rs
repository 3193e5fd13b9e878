//! BlazeFace (MediaPipe's short-range face detector, 128x128 input) through sentio-infer:
//! letterboxed input, anchors, box and keypoint decoding, weighted non-maximum suppression.
//!
//! (API fixed here; the implementation lands with the BlazeFace work.)

use std::path::Path;

use sentio_infer::{LoadOptions, Model};

use crate::VisionError;
use crate::face::{FaceBox, FaceDetector, Pixels};

/// Decoding parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BlazeFaceParams {
    /// Least sigmoid score of an anchor to be kept.
    pub score_threshold: f32,
    /// Boxes overlapping more than this are merged (weighted NMS).
    pub iou_threshold: f32,
}

impl Default for BlazeFaceParams {
    fn default() -> Self {
        Self {
            score_threshold: 0.5,
            iou_threshold: 0.3,
        }
    }
}

/// A [`FaceDetector`] running the BlazeFace ONNX model.
#[derive(Debug)]
pub struct BlazeFace {
    pub model: Model,
    pub params: BlazeFaceParams,
}

impl BlazeFace {
    /// Loads the model file and checks that its input and outputs are BlazeFace's.
    pub fn load(path: &Path, params: BlazeFaceParams, options: &LoadOptions) -> Result<Self, VisionError> {
        let model = Model::load_path(path, options).map_err(|e| VisionError::Detector {
            model: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::from_model(model, params)
    }

    /// Wraps a loaded model, checking its input and outputs.
    pub fn from_model(model: Model, params: BlazeFaceParams) -> Result<Self, VisionError> {
        Ok(Self { model, params })
    }
}

impl FaceDetector for BlazeFace {
    fn name(&self) -> &str {
        "blazeface"
    }
    fn detect(&mut self, _image: &Pixels<'_>) -> Result<Vec<FaceBox>, VisionError> {
        Ok(Vec::new())
    }
}
