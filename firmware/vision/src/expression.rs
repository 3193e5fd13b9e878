//! The facial-expression model: fer7 scores for a face crop. The device (`sentiod`) and the host
//! (`sentio faces --fer`) both read expressions through this type, so a face gives the same
//! scores on both; the crop becomes the model's input through [`crate::image_into`], the function
//! `sentio run --image`, `sentio eval` and the trainer use.

use sentio_infer::{LoadOptions, Model};
use sentio_models::{FER7, Manifest, Task};

use crate::{ImageLayout, ImagePrep};

/// Why a model cannot be the expression model. Each names the model and says what to do.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ExpressionError {
    #[error(
        "{origin}: the expression model's input {shape:?} is not an image ([1, C, H, W] or [1, H, W, C] with C = 1 or 3)"
    )]
    #[diagnostic(
        code(data::vision::not_an_image),
        help("give an expression model that takes a face picture, with its manifest")
    )]
    NotAnImage { origin: String, shape: Vec<usize> },
    #[error(
        "{origin}: its labels are {set} {labels:?}; an expression model must give the fer7 labels in FER2013 order {want:?}"
    )]
    #[diagnostic(
        code(data::vision::wrong_labels),
        help(
            "fix the manifest's labels (`sentio manifest init MODEL --labels fer7`) or retrain with the fer7 label set"
        )
    )]
    WrongLabels {
        origin: String,
        set: String,
        labels: Vec<String>,
        want: Vec<&'static str>,
    },
    #[error("{origin}: its task is {task:?}, not \"fer\"")]
    #[diagnostic(
        code(data::vision::wrong_task),
        help("flash it under the name its task serves, or fix the manifest's task")
    )]
    WrongTask { origin: String, task: String },
    #[error("{origin}: the model gives {got} scores, its manifest lists {want} labels")]
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
        /// Boxed: the runtime's error is large, and this one travels in every `Result`.
        #[diagnostic_source]
        source: Box<sentio_infer::Error>,
    },
}

/// Checks that `manifest` describes an expression model (task `fer` or `custom`, the fer7
/// labels in order, an image input), without loading it.
pub fn check_manifest(manifest: &Manifest, origin: &str) -> Result<(), ExpressionError> {
    let origin = || origin.to_string();
    if !matches!(manifest.task, Task::Fer | Task::Custom) {
        return Err(ExpressionError::WrongTask {
            origin: origin(),
            task: manifest.task.to_string(),
        });
    }
    let labels = &manifest.labels.labels;
    if !manifest.labels.are(&FER7) {
        return Err(ExpressionError::WrongLabels {
            origin: origin(),
            set: manifest.labels.set.clone(),
            labels: labels.clone(),
            want: FER7.labels.to_vec(),
        });
    }
    if ImageLayout::of_shape(&manifest.input.shape).is_err() {
        return Err(ExpressionError::NotAnImage {
            origin: origin(),
            shape: manifest.input.shape.clone(),
        });
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
    /// checks that the model gives one score per fer7 label.
    pub fn load(
        manifest: &Manifest,
        onnx: &[u8],
        origin: &str,
        options: &LoadOptions,
    ) -> Result<Self, ExpressionError> {
        check_manifest(manifest, origin)?;
        let infer = |source| ExpressionError::Infer {
            origin: origin.to_string(),
            source: Box::new(source),
        };
        let model = Model::load(onnx, &options.clone().manifest(manifest).smoke_run(true))
            .map_err(infer)?;
        let outputs = model.first_output_len();
        if outputs != FER7.len() {
            return Err(ExpressionError::OutputSize {
                origin: origin.to_string(),
                got: outputs,
                want: FER7.len(),
            });
        }
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

    /// fer7 scores (in fer7 order) for a face crop from [`crate::face::face_crop`].
    pub fn scores(&mut self, crop: &image::RgbImage) -> Result<Vec<f32>, ExpressionError> {
        let image = image::DynamicImage::ImageRgb8(crop.clone());
        crate::image_into(&image, &self.shape, &self.prep, &mut self.input).map_err(|_| {
            ExpressionError::NotAnImage {
                origin: self.origin.clone(),
                shape: self.shape.clone(),
            }
        })?;
        self.model
            .run_first(&self.input)
            .map_err(|source| ExpressionError::Infer {
                origin: self.origin.clone(),
                source: Box::new(source),
            })
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
