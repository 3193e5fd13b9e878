//! The emoji job: the seed's CNN trained on an `emoji8` image folder (`sentio train emoji`).

use std::path::{Path, PathBuf};

use sentio_data::ImageFolder;
use sentio_models::labels::{EMOJI8, LabelSet};
use sentio_models::{Figures, Task};
use serde_json::Value;

use crate::cnn::CnnConfig;
use crate::data::ImageSet;
use crate::error::{Error, Result};
use crate::job::{self, Job, Report};
use crate::trainer::{Augment, LrSchedule, TrainOptions, TrainProgress};

/// Options of `sentio train emoji`.
#[derive(Clone, Debug)]
pub struct EmojiOptions {
    /// The image folder (one sub-folder per `emoji8` label).
    pub data: PathBuf,
    /// Where the model, manifest, history, curves and checkpoint go.
    pub out: PathBuf,
    /// Most epochs, batch size, learning rate, patience, seed, resume.
    pub train: TrainOptions,
    /// Fraction of each class held out for validation.
    pub val_fraction: f32,
    /// Fraction of each class held out for the test.
    pub test_fraction: f32,
}

impl EmojiOptions {
    /// The recipe for `data` and `out`: 32 epochs, batch 32, Adam with a peak rate of 2e-3 (one
    /// epoch of warm-up, cosine decay to 2% of it), mirrored and shifted (±3 px) training images,
    /// no early stopping (the schedule is sized to the run), seed 42, 10% validation, 10% test.
    pub fn new(data: impl Into<PathBuf>, out: impl Into<PathBuf>) -> Self {
        Self {
            data: data.into(),
            out: out.into(),
            train: TrainOptions {
                epochs: 32,
                batch: 32,
                learning_rate: 2e-3,
                schedule: LrSchedule::WarmupCosine {
                    warmup_epochs: 1,
                    final_fraction: 0.02,
                },
                // Every emoji8 class is its own mirror image (a wink may be on either side).
                augment: Augment {
                    mirror: true,
                    max_shift: 3,
                },
                patience: 0,
                ..TrainOptions::default()
            },
            val_fraction: 0.1,
            test_fraction: 0.1,
        }
    }
}

/// Trains the emoji CNN on the folder `options.data` and writes the run to `options.out`.
pub fn train_emoji(options: &EmojiOptions, progress: &mut dyn TrainProgress) -> Result<Report> {
    let config = CnnConfig::emoji();
    let (images, summary) = load_image_folder(&options.data, config.side, &EMOJI8, progress)?;
    let split = sentio_data::split::stratified(
        &images.labels,
        options.val_fraction,
        options.test_fraction,
        options.train.seed,
    );
    if split.train.is_empty() || split.val.is_empty() {
        return Err(Error::Dataset {
            path: options.data.clone(),
            reason: format!(
                "{} images are too few to split into training and validation sets",
                images.len()
            ),
        });
    }
    let job = Job {
        name: "emoji".into(),
        version: "1.0.0".into(),
        task: Task::Emoji,
        label_set: EMOJI8.name.into(),
        labels: EMOJI8.labels.iter().map(|l| (*l).to_owned()).collect(),
        cnn: config,
        train: options.train.clone(),
        val_fraction: options.val_fraction,
        test_fraction: options.test_fraction,
        out: options.out.clone(),
        data_summary: summary,
    };
    job::run(
        &job,
        &images,
        [&split.train, &split.val, &split.test],
        progress,
    )
}

/// Loads every image of the folder at `dir` as `side`x`side` gray, with class indices in the
/// order of `set` (folder labels are matched to the set by name). Also returns a summary of the
/// dataset for the manifest.
pub fn load_image_folder(
    dir: &Path,
    side: usize,
    set: &LabelSet,
    progress: &mut dyn TrainProgress,
) -> Result<(ImageSet, Figures)> {
    let folder = ImageFolder::open(dir)?;
    let bad = |reason: String| Error::Dataset {
        path: dir.to_path_buf(),
        reason,
    };
    let mut to_set = Vec::with_capacity(folder.labels.len());
    for label in &folder.labels {
        match set.index_of(label) {
            Some(i) => to_set.push(i),
            None => {
                return Err(bad(format!(
                    "label folder `{label}` is not in the {} label set [{}]",
                    set.name,
                    set.labels.join(", ")
                )));
            }
        }
    }
    progress.stage(&format!(
        "loading {} images from {}",
        folder.samples.len(),
        dir.display()
    ));
    let mut images = ImageSet::new(side);
    images.pixels.reserve(folder.samples.len() * side * side);
    for (i, sample) in folder.samples.iter().enumerate() {
        let pixels = folder.load_gray(i, side as u32, side as u32)?;
        let Some(&label) = to_set.get(sample.label) else {
            return Err(bad(format!(
                "{} has label index {} but the folder has {} labels",
                sample.path.display(),
                sample.label,
                to_set.len()
            )));
        };
        if !images.push(&pixels, label) {
            return Err(bad(format!(
                "{} did not load as {side}x{side}",
                sample.path.display()
            )));
        }
    }
    let counts = images.class_counts(set.len());
    if let Some(missing) = counts.iter().position(|c| *c == 0) {
        return Err(bad(format!(
            "class `{}` has no images (every class of {} needs some)",
            set.labels[missing], set.name
        )));
    }
    let mut summary = Figures::new();
    summary.insert("dataset".into(), Value::from(dir.display().to_string()));
    if let Ok(Some(info)) = sentio_data::DatasetInfo::read(dir) {
        summary.insert("generator".into(), Value::from(info.generator));
        if let Some(seed) = info.seed {
            summary.insert("data_seed".into(), Value::from(seed));
        }
        if let Some(source) = info.source {
            summary.insert("source".into(), Value::from(source));
        }
    }
    Ok((images, summary))
}
