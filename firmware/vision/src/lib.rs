//! Images into model inputs, the one way the trainer, the evaluator, the host tool and the device
//! all do it: resize to the input's size, gray or RGB, `(raw * scale - mean) / std` per channel,
//! laid out as the input's shape says (`[1, C, H, W]`, `[C, H, W]`, `[H, W]` or channels-last
//! `[1, H, W, C]`).
//!
//! Faces: [`face`] (boxes, the [`face::FaceDetector`] trait, the expression crop), two detectors
//! ([`haar`]: OpenCV's Haar cascades evaluated in Rust; [`blazeface`]: MediaPipe's BlazeFace
//! through sentio-infer) and [`track`] (follow the largest face between detections).
//!
//! Sketches: [`sketch`] reads the emoji of a card in a camera frame or of a touch drawing
//! (the card search and the normalization are `sentio-sketch`'s); [`anp::AnpTagger`] scores
//! the adjective-noun pairs of a scene for the captions.

#![forbid(unsafe_code)]

pub mod anp;
pub mod blazeface;
pub mod expression;
pub mod face;
pub mod haar;
pub mod picture;
pub mod role;
pub mod sketch;
pub mod track;

use std::path::{Path, PathBuf};

use sentio_models::Preprocessing;

/// What went wrong turning an image into an input, and what to do about it.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum VisionError {
    /// The input shape is not an image's.
    #[error("the model's input shape {shape:?} is not an image ([1, C, H, W] with C = 1 or 3)")]
    #[diagnostic(
        code(data::vision::not_an_image),
        help("give the input as a tensor instead (e.g. `--input FILE.npy`)")
    )]
    NotAnImage {
        /// The input shape.
        shape: Vec<usize>,
    },
    /// The file could not be read or decoded.
    #[error("{path}: {reason}")]
    #[diagnostic(code(data::vision::decode), help("give a PNG or JPEG image"))]
    Decode {
        /// The image file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A Haar cascade file that cannot be used.
    #[error("{path}: not a usable Haar cascade: {reason}")]
    #[diagnostic(
        code(data::vision::cascade),
        help(
            "give one of OpenCV's cascade XML files (Debian's opencv-data puts them in /usr/share/opencv4/haarcascades/), with --cascade FILE or the profile's faces.cascade"
        )
    )]
    Cascade {
        /// The cascade file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A face detector model that cannot be used.
    #[error("{model}: not a usable face detector model: {reason}")]
    #[diagnostic(
        code(data::vision::detector),
        help(
            "give BlazeFace's short-range ONNX (models/zoo/blazeface/fetch.sh fetches it), or use --detector haar"
        )
    )]
    Detector {
        /// The model's file or name.
        model: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The output buffer has the wrong length.
    #[error("the input buffer holds {got} values, the shape {shape:?} needs {want}")]
    #[diagnostic(code(data::vision::buffer))]
    Buffer {
        /// The input shape.
        shape: Vec<usize>,
        /// Values the shape needs.
        want: usize,
        /// Values given.
        got: usize,
    },
}

/// How raw 8-bit pixel values become input values: `(raw * scale - mean[c]) / std[c]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ImagePrep {
    /// Factor applied to the raw 0..255 value first.
    pub scale: f32,
    /// Subtracted after scaling: one value for every channel, or one per channel (empty: 0).
    pub mean: Vec<f32>,
    /// Divided by after the mean: one value, or one per channel (empty: 1).
    pub std: Vec<f32>,
}

impl Default for ImagePrep {
    /// Bytes to 0..1 (`scale = 1/255`), no mean, no std: what a model without a manifest gets.
    fn default() -> Self {
        Self {
            scale: 1.0 / 255.0,
            mean: Vec::new(),
            std: Vec::new(),
        }
    }
}

impl ImagePrep {
    /// The manifest's preprocessing, with the defaults of [`ImagePrep::default`] for what it
    /// leaves out (or for no manifest).
    pub fn from_manifest(p: Option<&Preprocessing>) -> Self {
        let default = Self::default();
        Self {
            scale: p.and_then(|p| p.scale).unwrap_or(default.scale),
            mean: p.and_then(|p| p.mean.clone()).unwrap_or_default(),
            std: p.and_then(|p| p.std.clone()).unwrap_or_default(),
        }
    }

    /// One line for people: `scaled 1/255, mean [0.5], std [0.25]`.
    pub fn describe(&self) -> String {
        let mut s = if (self.scale - 1.0 / 255.0).abs() < 1e-9 {
            "scaled 1/255".to_owned()
        } else {
            format!("scaled {}", self.scale)
        };
        if !self.mean.is_empty() {
            s.push_str(&format!(", mean {:?}", self.mean));
        }
        if !self.std.is_empty() {
            s.push_str(&format!(", std {:?}", self.std));
        }
        s
    }

    /// `(raw * scale - mean[c]) / std[c]`; a single mean/std applies to every channel.
    pub fn apply(&self, raw: u8, channel: usize) -> f32 {
        let pick = |v: &[f32], default: f32| match v {
            [] => default,
            [one] => *one,
            many => many.get(channel).copied().unwrap_or(default),
        };
        (f32::from(raw) * self.scale - pick(&self.mean, 0.0)) / pick(&self.std, 1.0)
    }
}

/// Where the channel axis of an image input is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageLayout {
    /// 1 (gray) or 3 (RGB).
    pub channels: usize,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// `[1, H, W, C]` rather than `[1, C, H, W]`.
    pub channels_last: bool,
}

impl ImageLayout {
    /// The image layout of an input shape: `[1, C, H, W]`, `[3, H, W]`, `[H, W]`, or
    /// channels-last `[1, H, W, C]` when only the last axis can be the channels. A 3-D shape
    /// with a first axis of 1 is not taken for an image: `[1, 40, 128]` is far more often a
    /// sequence of feature frames than a gray picture.
    pub fn of_shape(shape: &[usize]) -> Result<Self, VisionError> {
        let is_c = |c: usize| c == 1 || c == 3;
        let layout = match shape {
            [1, c, h, w] if is_c(*c) => Some((*c, *h, *w, false)),
            [1, h, w, c] if is_c(*c) => Some((*c, *h, *w, true)),
            [3, h, w] => Some((3, *h, *w, false)),
            [h, w] => Some((1, *h, *w, false)),
            _ => None,
        };
        match layout {
            Some((channels, height, width, channels_last))
                if height > 0 && width > 0 && u32::try_from(height.max(width)).is_ok() =>
            {
                Ok(Self {
                    channels,
                    height,
                    width,
                    channels_last,
                })
            }
            _ => Err(VisionError::NotAnImage {
                shape: shape.to_vec(),
            }),
        }
    }

    /// Values in one input.
    pub fn len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Whether the layout holds no value (never, for a layout from [`ImageLayout::of_shape`]).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Reads a PNG or JPEG file.
pub fn decode_image(path: &Path) -> Result<image::DynamicImage, VisionError> {
    let fail = |reason: String| VisionError::Decode {
        path: path.to_path_buf(),
        reason,
    };
    image::ImageReader::open(path)
        .map_err(|e| fail(format!("cannot read it ({e})")))?
        .with_guessed_format()
        .map_err(|e| fail(format!("cannot read it ({e})")))?
        .decode()
        .map_err(|e| fail(format!("not an image this tool can decode ({e})")))
}

/// `image` as the input tensor of `shape` (see the crate docs), written into `out`.
pub fn image_into(
    image: &image::DynamicImage,
    shape: &[usize],
    prep: &ImagePrep,
    out: &mut [f32],
) -> Result<(), VisionError> {
    let layout = ImageLayout::of_shape(shape)?;
    if out.len() != layout.len() {
        return Err(VisionError::Buffer {
            shape: shape.to_vec(),
            want: layout.len(),
            got: out.len(),
        });
    }
    // of_shape checked that both fit in u32.
    let (w, h) = (layout.width as u32, layout.height as u32);
    let filter = image::imageops::FilterType::Triangle;
    let pixels: Vec<u8> = match (layout.channels, image.width() == w && image.height() == h) {
        (1, true) => image.to_luma8().into_raw(),
        (1, false) => image::imageops::resize(&image.to_luma8(), w, h, filter).into_raw(),
        (_, true) => image.to_rgb8().into_raw(),
        (_, false) => image::imageops::resize(&image.to_rgb8(), w, h, filter).into_raw(),
    };
    let (channels, plane) = (layout.channels, layout.height * layout.width);
    for (i, px) in pixels.chunks_exact(channels).enumerate() {
        for (c, v) in px.iter().enumerate() {
            let at = if layout.channels_last {
                i * channels + c
            } else {
                c * plane + i
            };
            if let Some(slot) = out.get_mut(at) {
                *slot = prep.apply(*v, c);
            }
        }
    }
    Ok(())
}

/// `image` as a new input tensor of `shape`.
pub fn image_tensor(
    image: &image::DynamicImage,
    shape: &[usize],
    prep: &ImagePrep,
) -> Result<Vec<f32>, VisionError> {
    let mut out = vec![0.0; ImageLayout::of_shape(shape)?.len()];
    image_into(image, shape, prep, &mut out)?;
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn image_layouts() {
        let l = ImageLayout::of_shape(&[1, 3, 32, 16]).unwrap();
        assert_eq!(
            (l.channels, l.height, l.width, l.channels_last),
            (3, 32, 16, false)
        );
        let l = ImageLayout::of_shape(&[1, 48, 48, 1]).unwrap();
        assert!(l.channels_last && l.channels == 1);
        assert!(ImageLayout::of_shape(&[1, 40, 128]).is_err());
        assert_eq!(ImageLayout::of_shape(&[3, 8, 4]).unwrap().len(), 96);
        assert!(ImageLayout::of_shape(&[2, 1, 8, 8]).is_err());
        assert!(ImageLayout::of_shape(&[1, 1, 0, 8]).is_err());
    }

    #[test]
    fn preprocessing_scales_then_normalizes() {
        let prep = ImagePrep {
            scale: 1.0 / 255.0,
            mean: vec![0.5],
            std: vec![0.25],
        };
        assert!((prep.apply(255, 0) - 2.0).abs() < 1e-6);
        assert!((ImagePrep::from_manifest(None).apply(51, 2) - 0.2).abs() < 1e-6);
    }

    #[test]
    fn rgb_planes_and_channels_last_hold_the_same_values() {
        let mut rgb = image::RgbImage::new(2, 2);
        rgb.put_pixel(0, 0, image::Rgb([255, 0, 51]));
        rgb.put_pixel(1, 0, image::Rgb([0, 102, 0]));
        rgb.put_pixel(1, 1, image::Rgb([255, 255, 255]));
        let img = image::DynamicImage::ImageRgb8(rgb);
        let prep = ImagePrep::default();
        let planar = image_tensor(&img, &[1, 3, 2, 2], &prep).unwrap();
        // The second axis (2) cannot be channels: channels-last.
        let last = image_tensor(&img, &[1, 2, 2, 3], &prep).unwrap();
        let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6);
        let want_planar = [1.0, 0.0, 0.0, 1.0, 0.0, 0.4, 0.0, 1.0, 0.2, 0.0, 0.0, 1.0];
        assert!(close(&planar, &want_planar), "{planar:?}");
        let want_last = [1.0, 0.0, 0.2, 0.0, 0.4, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        assert!(close(&last, &want_last), "{last:?}");
        // Gray input of an RGB image is its luma; a wrong buffer is refused.
        let gray = image_tensor(&img, &[1, 1, 2, 2], &prep).unwrap();
        assert!(close(&gray[3..], &[1.0]), "{gray:?}");
        let mut short = [0.0; 3];
        assert!(matches!(
            image_into(&img, &[1, 1, 2, 2], &prep, &mut short),
            Err(VisionError::Buffer {
                want: 4,
                got: 3,
                ..
            })
        ));
    }

    #[test]
    fn a_file_that_is_not_an_image_names_itself() {
        let dir = std::env::temp_dir().join(format!("sentio-vision-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notes.png");
        std::fs::write(&path, b"not a png").unwrap();
        let err = decode_image(&path).unwrap_err();
        assert!(err.to_string().contains("notes.png"), "{err}");
        let help = miette::Diagnostic::help(&err).map(|h| h.to_string());
        assert!(help.is_some_and(|h| h.contains("PNG or JPEG")), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
