//! The ANP tagger: scores for the 32 adjective-noun pairs (`anp32`) a kiosk camera can see, from
//! the whole camera picture. Multi-label: each score is its own probability, so a scene can be
//! both a "sunny room" and a "busy crowd". The device's captioner forces the top pairs into its
//! caption.

use sentio_infer::LoadOptions;
use sentio_models::{ANP32, Manifest, Task};

use crate::ImageLayout;
use crate::picture::PictureModel;
use crate::role::{LabelRule, Role, RoleError};

/// The ANP tagger's role: task `anp`, the anp32 pairs in order, an RGB image input.
pub const ROLE: Role = Role {
    name: "the ANP tagger",
    task: Task::Anp,
    labels: LabelRule::Exactly(&ANP32),
    labels_help: "fix the manifest's labels or retrain with `sentio train anp`",
    input: "an RGB image [1, 3, H, W]",
    input_help: "the ANP tagger looks at the colour picture; give one trained by `sentio train anp`",
};

/// A loaded ANP tagger: anp32 scores (each 0..1) for a camera picture.
pub type AnpTagger = PictureModel;

/// Checks the manifest (task `anp` or `custom`, the anp32 labels in order, an RGB image
/// input), loads the model and checks it gives 32 scores.
pub fn load(
    manifest: &Manifest,
    onnx: &[u8],
    origin: &str,
    options: &LoadOptions,
) -> Result<AnpTagger, RoleError> {
    ROLE.check_manifest(manifest, origin)?;
    match ImageLayout::of_shape(&manifest.input.shape) {
        Ok(layout) if layout.channels == 3 => {}
        _ => return Err(ROLE.wrong_input(origin, &manifest.input.shape)),
    }
    PictureModel::load(&ROLE, manifest, onnx, origin, options)
}

/// The `k` highest scores as (anp32 index, score), highest first.
pub fn top_k(scores: &[f32], k: usize) -> Vec<(usize, f32)> {
    let mut ranked: Vec<(usize, f32)> = scores.iter().copied().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(k);
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_is_highest_first_with_ties_by_index() {
        let scores = [0.1, 0.9, 0.5, 0.9, 0.2];
        assert_eq!(top_k(&scores, 3), vec![(1, 0.9), (3, 0.9), (2, 0.5)]);
        assert_eq!(top_k(&scores, 10).len(), 5);
    }
}
