//! The sketch mode's model: which of the 8 emoji a hand-drawn face is, from a camera frame
//! (a card held up) or a touch panel's strokes. The device (`sentiod --mode sketch`) and the
//! host (`sentio sketch`) both read drawings through this type, so a card gives the same
//! answer on both.
//!
//! Everything before the CNN is `sentio-sketch`: the card search, the perspective warp and the
//! one normalization the training images went through.

use image::GrayImage;
use sentio_infer::{AutoPolicy, LoadOptions, Model, PlanChoice, Precision, PrecisionChoice};
use sentio_models::{EMOJI8, Manifest, Task};
use sentio_sketch::{CardSearch, Normalized, Quad};

use crate::role::{LabelRule, Role, RoleError};
use crate::{ImageLayout, ImagePrep};

/// Why a model cannot be the emoji model, or a picture cannot be read.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SketchModelError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Role(#[from] RoleError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Sketch(#[from] sentio_sketch::SketchError),
}

/// The emoji model's role: task `emoji`, the emoji8 labels in order, a square gray image input.
pub const ROLE: Role = Role {
    name: "the emoji model",
    task: Task::Emoji,
    labels: LabelRule::Exactly(&EMOJI8),
    labels_help: "fix the manifest's labels (`sentio manifest init MODEL --labels emoji8`) or retrain with `sentio train emoji`",
    input: "a square one-channel image [1, 1, H, H]",
    input_help: "the emoji model takes a gray drawing; give one trained by `sentio train emoji`",
};

/// What one look at a frame or a drawing found.
#[derive(Clone, Debug, PartialEq)]
pub enum SketchReading {
    /// A drawing, and which emoji it is.
    Emoji {
        /// The top emoji8 index and label, and its probability.
        index: usize,
        label: &'static str,
        score: f32,
        /// Every emoji8 score, in order.
        scores: Vec<f32>,
        /// The card's corners in the frame (none for a touch drawing).
        corners: Option<Quad>,
    },
    /// No card in view.
    NoCard,
    /// Two cards in view: which one is meant is not clear.
    TwoCards,
    /// A card (or a panel) with nothing drawn on it.
    Blank,
}

impl SketchReading {
    /// `emoji`, `no_card`, `two_cards` or `blank`: what the `emoji` event says.
    pub fn kind(&self) -> &'static str {
        match self {
            SketchReading::Emoji { .. } => "emoji",
            SketchReading::NoCard => "no_card",
            SketchReading::TwoCards => "two_cards",
            SketchReading::Blank => "blank",
        }
    }
}

/// A loaded emoji model with its preprocessing.
#[derive(Debug)]
pub struct SketchModel {
    model: Model,
    /// `name@version` of the model.
    pub label: String,
    /// Where it came from (a path, `store:emoji@1.0.0`).
    pub origin: String,
    /// What runs (f32 or int8) and why.
    pub precision: PrecisionChoice,
    prep: ImagePrep,
    side: u32,
    input: Vec<f32>,
    /// The normalized drawing of the last reading (what the CNN saw), for `sentio sketch --dump`.
    last_drawing: Option<GrayImage>,
}

/// Checks that `manifest` describes an emoji model (task `emoji` or `custom`, the emoji8 labels
/// in order, a gray image input), without loading it.
pub fn check_manifest(manifest: &Manifest, origin: &str) -> Result<(), RoleError> {
    ROLE.check_manifest(manifest, origin)?;
    match ImageLayout::of_shape(&manifest.input.shape) {
        Ok(layout) if layout.channels == 1 && layout.width == layout.height => Ok(()),
        _ => Err(ROLE.wrong_input(origin, &manifest.input.shape)),
    }
}

impl SketchModel {
    /// Checks the manifest ([`check_manifest`]) and loads the ONNX bytes at `precision` (int8
    /// is quantized here, calibrated on a few faces drawn with the touch rasterizer, when no
    /// quantized model ships), then checks that the model gives one score per emoji8 label.
    pub fn load(
        manifest: &Manifest,
        onnx: &[u8],
        origin: &str,
        options: &LoadOptions,
        precision: Precision,
    ) -> Result<Self, SketchModelError> {
        check_manifest(manifest, origin)?;
        let shape = manifest.input.shape.clone();
        let layout = ImageLayout::of_shape(&shape).map_err(|_| ROLE.wrong_input(origin, &shape))?;
        let prep = ImagePrep::from_manifest(Some(&manifest.input.preprocessing));
        let side = layout.width as u32;
        let calibration: Vec<Vec<f32>> = if precision == Precision::F32 {
            Vec::new()
        } else {
            calibration_faces()
                .iter()
                .map(|face| tensor(face, side, &prep))
                .collect()
        };
        let options = options.clone().manifest(manifest).smoke_run(true);
        let (model, choice) = sentio_infer::load_with_precision(
            onnx,
            None,
            &calibration,
            &options,
            precision,
            &AutoPolicy::default(),
        )
        .map_err(|source| RoleError::infer(origin, source))?;
        ROLE.check_outputs(&model, manifest, origin)?;
        Ok(Self {
            model,
            label: format!("{}@{}", manifest.name, manifest.version),
            origin: origin.to_string(),
            precision: choice,
            input: vec![0.0; layout.len()],
            prep,
            side,
            last_drawing: None,
        })
    }

    /// Whose kernels run the model and why (measured at load).
    pub fn plan(&self) -> &PlanChoice {
        &self.model.lowering().plan
    }

    /// emoji8 scores for a normalized drawing (64x64 from `sentio_sketch`).
    pub fn scores(&mut self, drawing: &GrayImage) -> Result<Vec<f32>, RoleError> {
        let resized;
        let drawing = if drawing.width() == self.side && drawing.height() == self.side {
            drawing
        } else {
            resized = image::imageops::resize(
                drawing,
                self.side,
                self.side,
                image::imageops::FilterType::Triangle,
            );
            &resized
        };
        for (slot, p) in self.input.iter_mut().zip(drawing.as_raw()) {
            *slot = self.prep.apply(*p, 0);
        }
        self.model
            .run_first(&self.input)
            .map_err(|source| RoleError::infer(&self.origin, source))
    }

    /// The normalized drawing the last reading gave the CNN (none after a blank or no card).
    pub fn last_drawing(&self) -> Option<&GrayImage> {
        self.last_drawing.as_ref()
    }

    /// Find the card in a camera picture and read its emoji.
    pub fn read_frame(
        &mut self,
        frame: &image::RgbImage,
    ) -> Result<SketchReading, SketchModelError> {
        self.last_drawing = None;
        match sentio_sketch::find_card(frame)? {
            CardSearch::NoCard => Ok(SketchReading::NoCard),
            CardSearch::TwoCards(_) => Ok(SketchReading::TwoCards),
            CardSearch::Card(card) => self.read(&card.drawing, Some(card.corners)),
        }
    }

    /// Read the emoji of a touch drawing (strokes in panel coordinates).
    pub fn read_strokes(
        &mut self,
        strokes: &[Vec<[f32; 2]>],
    ) -> Result<SketchReading, SketchModelError> {
        let drawing = sentio_sketch::rasterize_strokes(strokes)?;
        self.read(&drawing, None)
    }

    fn read(
        &mut self,
        drawing: &Normalized,
        corners: Option<Quad>,
    ) -> Result<SketchReading, SketchModelError> {
        let Normalized::Drawing(image) = drawing else {
            self.last_drawing = None;
            return Ok(SketchReading::Blank);
        };
        let scores = self.scores(image)?;
        self.last_drawing = Some(image.clone());
        let (index, score) = scores
            .iter()
            .copied()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((0, 0.0));
        Ok(SketchReading::Emoji {
            index,
            label: EMOJI8.labels.get(index).copied().unwrap_or("?"),
            score,
            scores,
            corners,
        })
    }
}

fn tensor(drawing: &GrayImage, side: u32, prep: &ImagePrep) -> Vec<f32> {
    let image = image::imageops::resize(drawing, side, side, image::imageops::FilterType::Triangle);
    image.as_raw().iter().map(|&p| prep.apply(p, 0)).collect()
}

/// A few plain faces drawn with the touch rasterizer (smile, frown, flat mouth, open mouth;
/// dot and ring eyes): int8 calibration inputs that need no dataset on the device.
fn calibration_faces() -> Vec<GrayImage> {
    let circle = |cx: f32, cy: f32, r: f32, n: usize| -> Vec<[f32; 2]> {
        (0..=n)
            .map(|i| {
                let a = std::f32::consts::TAU * i as f32 / n as f32;
                [cx + r * a.cos(), cy + r * a.sin()]
            })
            .collect()
    };
    let mouth = |bend: f32| -> Vec<[f32; 2]> {
        (0..=12)
            .map(|i| {
                let u = i as f32 / 6.0 - 1.0;
                [50.0 + 22.0 * u, 66.0 + bend * (1.0 - u * u)]
            })
            .collect()
    };
    let mut faces = Vec::new();
    for bend in [-10.0, 0.0, 10.0, 16.0] {
        for ring_eyes in [false, true] {
            let eye = |x: f32| {
                if ring_eyes {
                    circle(x, 38.0, 5.0, 12)
                } else {
                    vec![[x, 38.0]]
                }
            };
            let strokes = vec![
                circle(50.0, 50.0, 40.0, 48),
                eye(36.0),
                eye(64.0),
                mouth(bend),
            ];
            if let Ok(Normalized::Drawing(image)) = sentio_sketch::rasterize_strokes(&strokes) {
                faces.push(image);
            }
        }
    }
    faces
}

/// The top label of emoji8 scores and its score.
pub fn top_label(scores: &[f32]) -> Option<(&'static str, f32)> {
    scores
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .and_then(|(i, s)| EMOJI8.labels.get(i).map(|l| (*l, *s)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn calibration_faces_are_drawings() {
        let faces = calibration_faces();
        assert_eq!(faces.len(), 8);
        for face in &faces {
            assert_eq!(face.dimensions(), (64, 64));
            assert!(face.as_raw().iter().filter(|&&p| p < 128).count() > 200);
        }
    }
}
