//! The ANP tagger: scores for the 32 adjective-noun pairs (`anp32`) a kiosk camera can see, from
//! the whole camera picture. Multi-label: each score is its own probability, so a scene can be
//! both a "sunny room" and a "busy crowd". The device's captioner forces the top pairs into its
//! caption.

use sentio_infer::{LoadOptions, Model};
use sentio_models::{ANP32, Manifest, Task};

use crate::{ImageLayout, ImagePrep};

/// Why a model cannot be the ANP tagger. Each names the model and says what to do.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum AnpError {
    #[error("{origin}: its labels are not the anp32 pairs in order")]
    #[diagnostic(
        code(data::vision::wrong_labels),
        help("fix the manifest's labels or retrain with `sentio train anp`")
    )]
    WrongLabels { origin: String },
    #[error("{origin}: its task is {task:?}, not \"anp\"")]
    #[diagnostic(
        code(data::vision::wrong_task),
        help("flash it under the name its task serves, or fix the manifest's task")
    )]
    WrongTask { origin: String, task: String },
    #[error("{origin}: its input {shape:?} is not an RGB image [1, 3, H, W]")]
    #[diagnostic(
        code(data::vision::not_an_rgb_image),
        help("the ANP tagger looks at the colour picture; give one trained by `sentio train anp`")
    )]
    NotAnRgbImage { origin: String, shape: Vec<usize> },
    #[error("{origin}: the model gives {got} scores for {want} pairs")]
    #[diagnostic(
        code(data::vision::output_size),
        help(
            "the manifest does not describe this model; write it again with `sentio manifest init`"
        )
    )]
    OutputSize {
        origin: String,
        got: usize,
        want: usize,
    },
    #[error("{origin}: {source}")]
    #[diagnostic(code(data::vision::infer))]
    Infer {
        origin: String,
        #[diagnostic_source]
        source: Box<sentio_infer::Error>,
    },
}

/// A loaded ANP tagger with its preprocessing.
#[derive(Debug)]
pub struct AnpTagger {
    model: Model,
    /// `name@version` of the model.
    pub label: String,
    /// Where it came from.
    pub origin: String,
    shape: Vec<usize>,
    prep: ImagePrep,
    input: Vec<f32>,
}

impl AnpTagger {
    /// Checks the manifest (task `anp` or `custom`, the anp32 labels in order, an RGB image
    /// input), loads the model and checks it gives 32 scores.
    pub fn load(
        manifest: &Manifest,
        onnx: &[u8],
        origin: &str,
        options: &LoadOptions,
    ) -> Result<Self, AnpError> {
        let origin_s = || origin.to_string();
        if !matches!(manifest.task, Task::Anp | Task::Custom) {
            return Err(AnpError::WrongTask {
                origin: origin_s(),
                task: manifest.task.to_string(),
            });
        }
        if !manifest.labels.are(&ANP32) {
            return Err(AnpError::WrongLabels { origin: origin_s() });
        }
        let shape = manifest.input.shape.clone();
        match ImageLayout::of_shape(&shape) {
            Ok(layout) if layout.channels == 3 => {}
            _ => {
                return Err(AnpError::NotAnRgbImage {
                    origin: origin_s(),
                    shape,
                });
            }
        }
        let model = Model::load(onnx, &options.clone().manifest(manifest).smoke_run(true))
            .map_err(|source| AnpError::Infer {
                origin: origin_s(),
                source: Box::new(source),
            })?;
        let outputs = model.first_output_len();
        if outputs != ANP32.len() {
            return Err(AnpError::OutputSize {
                origin: origin_s(),
                got: outputs,
                want: ANP32.len(),
            });
        }
        Ok(Self {
            model,
            label: format!("{}@{}", manifest.name, manifest.version),
            origin: origin_s(),
            prep: ImagePrep::from_manifest(Some(&manifest.input.preprocessing)),
            input: vec![0.0; shape.iter().product()],
            shape,
        })
    }

    /// anp32 scores (each 0..1) for a camera picture (resized to the model's input).
    pub fn scores(&mut self, picture: &image::RgbImage) -> Result<Vec<f32>, AnpError> {
        let image = image::DynamicImage::ImageRgb8(picture.clone());
        crate::image_into(&image, &self.shape, &self.prep, &mut self.input).map_err(|_| {
            AnpError::NotAnRgbImage {
                origin: self.origin.clone(),
                shape: self.shape.clone(),
            }
        })?;
        self.model
            .run_first(&self.input)
            .map_err(|source| AnpError::Infer {
                origin: self.origin.clone(),
                source: Box::new(source),
            })
    }
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
