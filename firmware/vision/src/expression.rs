//! The facial-expression model: fer7 scores for a face crop. The device (`sentiod`) and the host
//! (`sentio faces --fer`) both read expressions through this module, so a face gives the same
//! scores on both ([`crate::picture::PictureModel`] runs it).

use sentio_infer::LoadOptions;
use sentio_models::{FER7, Manifest, Task};

use crate::ImageLayout;
use crate::picture::PictureModel;
use crate::role::{LabelRule, Role, RoleError};

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

/// A loaded expression model: fer7 scores for a face crop from [`crate::face::face_crop`]
/// (cut with its `margin`).
pub type ExpressionModel = PictureModel;

/// Checks the manifest ([`check_manifest`]), loads the ONNX bytes (with a smoke run) and checks
/// that the model gives one score per fer7 label ([`ROLE`]).
pub fn load(
    manifest: &Manifest,
    onnx: &[u8],
    origin: &str,
    options: &LoadOptions,
) -> Result<ExpressionModel, RoleError> {
    check_manifest(manifest, origin)?;
    PictureModel::load(&ROLE, manifest, onnx, origin, options)
}

/// The top label of fer7 scores and its score.
pub fn top_label(scores: &[f32]) -> Option<(&'static str, f32)> {
    scores
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .and_then(|(i, s)| FER7.labels.get(i).map(|l| (*l, *s)))
}
