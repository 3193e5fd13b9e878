//! The models the device runs: where they come from (a shipped folder, the store's active slot,
//! `--model NAME=PATH`), and the checks that a model fits its job before it replaces the one
//! running. A model that fails a check is refused with a reason; the previous one keeps running.

use std::path::{Path, PathBuf};

use sentio_boards::{Kernels, RuntimeConfig};
use sentio_infer::{KernelsMode, LoadOptions, PlanCache};
use sentio_models::{BundleView, Manifest, Task};
use sentio_vision::expression::ExpressionModel;

use crate::events::Refusal;

/// A model file as read, before it is checked and loaded.
#[derive(Clone, Debug)]
pub struct ModelFile {
    /// Where it came from, for messages: a path, or `store:NAME`.
    pub origin: String,
    pub manifest: Manifest,
    pub onnx: Vec<u8>,
}

/// Why a model was refused. Each names the model and says what to do.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ModelError {
    #[error("{origin}: cannot read it ({source})")]
    #[diagnostic(
        code(data::sentiod::io),
        help("check the path given to --model or in the profile's models.dir")
    )]
    Io {
        origin: String,
        source: std::io::Error,
    },
    #[error("{origin}: no manifest next to the model ({looked})")]
    #[diagnostic(
        code(data::sentiod::no_manifest),
        help(
            "write one with `sentio manifest init {origin}`, or give a bundle made by `sentio bundle pack`"
        )
    )]
    NoManifest { origin: String, looked: String },
    #[error("{origin}: {source}")]
    #[diagnostic(code(data::sentiod::manifest))]
    Manifest {
        origin: String,
        #[diagnostic_source]
        source: sentio_models::ManifestError,
    },
    #[error("{origin}: not a valid bundle ({source})")]
    #[diagnostic(code(data::sentiod::bundle))]
    Bundle {
        origin: String,
        #[diagnostic_source]
        source: sentio_models::BundleError,
    },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Role(#[from] sentio_vision::role::RoleError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Speech(#[from] crate::voice::SpeechModelError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Sketch(#[from] sentio_vision::sketch::SketchModelError),
}

impl ModelFile {
    /// Reads a bundle (`.bundle`, or any file that parses as one) or an ONNX file with its
    /// manifest beside it (`<stem>.manifest.json`, or `manifest.json` in the same folder: where
    /// `sentio manifest init` and `sentio run` put and look for it).
    pub fn read(path: &Path) -> Result<Self, ModelError> {
        let origin = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            origin: origin.clone(),
            source,
        })?;
        if bytes.starts_with(&sentio_models::MAGIC) {
            return Self::from_bundle(&bytes, origin);
        }
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let candidates = [
            path.with_file_name(format!("{stem}.manifest.json")),
            path.with_file_name("manifest.json"),
        ];
        let Some(manifest_path) = candidates.iter().find(|p| p.is_file()) else {
            return Err(ModelError::NoManifest {
                origin,
                looked: candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        let manifest_origin = manifest_path.display().to_string();
        let json = std::fs::read(manifest_path).map_err(|source| ModelError::Io {
            origin: manifest_origin.clone(),
            source,
        })?;
        let manifest = Manifest::from_slice(&json).map_err(|source| ModelError::Manifest {
            origin: manifest_origin,
            source,
        })?;
        Ok(Self {
            origin,
            manifest,
            onnx: bytes,
        })
    }

    /// The manifest and model of a bundle (the store verified it already, or `read` got it from
    /// a file the user named).
    pub fn from_bundle(bytes: &[u8], origin: String) -> Result<Self, ModelError> {
        let view = BundleView::parse(bytes).map_err(|source| ModelError::Bundle {
            origin: origin.clone(),
            source,
        })?;
        Ok(Self {
            origin,
            manifest: view.manifest().clone(),
            onnx: view.model().to_vec(),
        })
    }

    /// The shipped model `name` in `dir` (`DIR/<name>/model.onnx` + `manifest.json`).
    pub fn shipped(dir: &Path, name: &str) -> Result<Self, ModelError> {
        Self::read(&dir.join(name).join("model.onnx"))
    }

    /// Loads it as the expression model.
    pub fn expression(&self, options: &LoadOptions) -> Result<ExpressionModel, ModelError> {
        Ok(sentio_vision::expression::load(
            &self.manifest,
            &self.onnx,
            &self.origin,
            options,
        )?)
    }
}

impl ModelFile {
    /// The emoji model of sketch mode, at the profile's precision.
    pub fn sketch(
        &self,
        options: &LoadOptions,
        precision: sentio_infer::Precision,
    ) -> Result<sentio_vision::sketch::SketchModel, ModelError> {
        Ok(sentio_vision::sketch::SketchModel::load(
            &self.manifest,
            &self.onnx,
            &self.origin,
            options,
            precision,
        )?)
    }

    /// The ANP tagger of sketch mode's captions.
    pub fn anp(&self, options: &LoadOptions) -> Result<sentio_vision::anp::AnpTagger, ModelError> {
        Ok(sentio_vision::anp::load(
            &self.manifest,
            &self.onnx,
            &self.origin,
            options,
        )?)
    }

    /// Loads it as the speech model.
    pub fn speech(&self, options: &LoadOptions) -> Result<crate::voice::SpeechModel, ModelError> {
        Ok(crate::voice::SpeechModel::load(
            &self.manifest,
            &self.onnx,
            &self.origin,
            options,
        )?)
    }
}

/// The device's self-check of a bundle the host activated (the commit point of an update, see
/// `sentio_store::Store::check_active`): it loads for its task, and one run on a neutral input
/// (mid-gray face crop, a window of silence) gives one finite score per label. Tasks the device
/// does not run yet are stored without a check. A failure says why, with the error's code and
/// help line when it has them.
pub fn self_check(bundle: &[u8], origin: &str, options: &LoadOptions) -> Result<(), Refusal> {
    let file = ModelFile::from_bundle(bundle, origin.to_string()).map_err(|e| Refusal::of(&e))?;
    let labels = file.manifest.labels.labels.len();
    let scores = match file.manifest.task {
        Task::Fer => {
            let mut model = file.expression(options).map_err(|e| Refusal::of(&e))?;
            let crop = image::RgbImage::from_pixel(64, 64, image::Rgb([128, 128, 128]));
            model.scores(&crop).map_err(|e| Refusal::of(&e))?
        }
        Task::Ser => {
            let mut model = file.speech(options).map_err(|e| Refusal::of(&e))?;
            let silence = vec![0.0; model.input.window()];
            model.scores(&silence).map_err(|e| Refusal::of(&e))?
        }
        Task::Emoji => {
            let mut model = file
                .sketch(options, sentio_infer::Precision::F32)
                .map_err(|e| Refusal::of(&e))?;
            let paper = image::GrayImage::from_pixel(64, 64, image::Luma([255]));
            model.scores(&paper).map_err(|e| Refusal::of(&e))?
        }
        Task::Anp => {
            let mut model = file.anp(options).map_err(|e| Refusal::of(&e))?;
            let grey = image::RgbImage::from_pixel(64, 64, image::Rgb([128, 128, 128]));
            model.scores(&grey).map_err(|e| Refusal::of(&e))?
        }
        _ => return Ok(()),
    };
    if scores.len() != labels || !scores.iter().all(|s| s.is_finite()) {
        return Err(Refusal::said(format!(
            "a run gave {} scores ({}) for {labels} labels",
            scores.len(),
            if scores.iter().all(|s| s.is_finite()) {
                "finite"
            } else {
                "some not finite"
            }
        )));
    }
    Ok(())
}

/// Options every model on this device loads with: the profile's threads and kernels
/// (`runtime.kernels`: by default the faster of Sentio's plan and tract's, timed at load), and
/// the plan cache when sentiod was given one (`--plan-cache`), where that choice is kept so a
/// restart does not time again.
pub fn device_load_options(runtime: &RuntimeConfig) -> LoadOptions {
    let options = LoadOptions::new()
        .threads(runtime.threads.max(1) as usize)
        .kernels(match runtime.kernels {
            Kernels::Auto => KernelsMode::Auto,
            Kernels::Sentio => KernelsMode::Sentio,
            Kernels::Tract => KernelsMode::Tract,
        });
    match PLAN_CACHE.get() {
        Some(dir) => options.cache(PlanCache::new(dir)),
        None => options,
    }
}

/// The plan cache's folder, set once at start (`sentiod --plan-cache`).
static PLAN_CACHE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Keeps every model's decluttered plan and measured plan choice in `dir` from now on (set
/// once, at start; a second call changes nothing).
pub fn set_plan_cache(dir: PathBuf) {
    let _ = PLAN_CACHE.set(dir);
}

/// Where a named model comes from at start-up, in order: `--model NAME=PATH`, the store's
/// active version (handled by the caller through the link's registry), the shipped folder.
pub fn startup_path(overrides: &[(String, PathBuf)], name: &str) -> Option<PathBuf> {
    overrides
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, p)| p.clone())
}
