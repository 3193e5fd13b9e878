//! The facial-expression model: fer7 scores for a face crop. The device (`sentiod`) and the host
//! (`sentio faces --fer`) both read expressions through this type, so a face gives the same
//! scores on both; the crop becomes the model's input through [`crate::image_into`], the function
//! `sentio run --image`, `sentio eval` and the trainer use.

use sentio_infer::{LoadOptions, Model, PlanChoice};
use sentio_models::{FER7, Manifest, Task};

use crate::role::{LabelRule, Role, RoleError};
use crate::{ImageLayout, ImagePrep};

/// The expression model's role: task `fer`, the fer7 labels in FER2013 order, an image input.
pub const ROLE: Role = Role {
    name: "the expression model",
    task: Task::Fer,
    labels: LabelRule::Exactly(&FER7),
    labels_help: "fix the manifest's labels (`sentio manifest init MODEL --labels fer7`) or retrain with the fer7 label set",
    input: "an image ([1, C, H, W] or [1, H, W, C] with C = 1 or 3)",
    input_help: "give an expression model that takes a face picture, with its manifest",
};

/// Checks that `manifest` describes an expression model (task `fer` or `custom`, the fer7
/// labels in order, an image input), without loading it.
pub fn check_manifest(manifest: &Manifest, origin: &str) -> Result<(), RoleError> {
    ROLE.check_manifest(manifest, origin)?;
    if ImageLayout::of_shape(&manifest.input.shape).is_err() {
        return Err(ROLE.wrong_input(origin, &manifest.input.shape));
    }
    Ok(())
}

/// A loaded expression model with its preprocessing.
#[derive(Debug)]
pub struct ExpressionModel {
    model: Model,
    /// `name@version` of the model.
    pub label: String,
    /// Where it came from (a path, `store:fer@1.0.0`).
    pub origin: String,
    shape: Vec<usize>,
    prep: ImagePrep,
    /// Fraction of the face box added on each side before cropping (the manifest's
    /// `preprocessing.margin`).
    pub margin: f32,
    input: Vec<f32>,
}

impl ExpressionModel {
    /// Checks the manifest ([`check_manifest`]), loads the ONNX bytes (with a smoke run) and
    /// checks that the model gives one score per fer7 label ([`ROLE`]).
    pub fn load(
        manifest: &Manifest,
        onnx: &[u8],
        origin: &str,
        options: &LoadOptions,
    ) -> Result<Self, RoleError> {
        check_manifest(manifest, origin)?;
        let model = ROLE.load(manifest, onnx, origin, options)?;
        let shape = manifest.input.shape.clone();
        let preprocessing = &manifest.input.preprocessing;
        Ok(Self {
            model,
            label: format!("{}@{}", manifest.name, manifest.version),
            origin: origin.to_string(),
            prep: ImagePrep::from_manifest(Some(preprocessing)),
            margin: preprocessing.margin.unwrap_or(0.0),
            input: vec![0.0; shape.iter().product()],
            shape,
        })
    }

    /// Whose kernels run the model and why (measured at load).
    pub fn plan(&self) -> &PlanChoice {
        &self.model.lowering().plan
    }

    /// fer7 scores (in fer7 order) for a face crop from [`crate::face::face_crop`].
    pub fn scores(&mut self, crop: &image::RgbImage) -> Result<Vec<f32>, RoleError> {
        let image = image::DynamicImage::ImageRgb8(crop.clone());
        crate::image_into(&image, &self.shape, &self.prep, &mut self.input)
            .map_err(|_| ROLE.wrong_input(&self.origin, &self.shape))?;
        self.model
            .run_first(&self.input)
            .map_err(|source| RoleError::infer(&self.origin, source))
    }
}

/// The top label of fer7 scores and its score.
pub fn top_label(scores: &[f32]) -> Option<(&'static str, f32)> {
    scores
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .and_then(|(i, s)| FER7.labels.get(i).map(|l| (*l, *s)))
}
