//! The emoji job: the seed's CNN trained on an `emoji8` image folder (`sentio train emoji`).

use std::path::PathBuf;

use sentio_models::Task;
use sentio_models::labels::EMOJI8;

use crate::cnn::{Cnn, CnnConfig};
use crate::error::Result;
use crate::images;
use crate::job::{Job, Report};
use crate::options::TrainOptions;
use crate::progress::TrainProgress;

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
            // Every emoji8 class is its own mirror image (a wink may be on either side).
            train: TrainOptions::image_recipe(32, 2e-3),
            val_fraction: 0.1,
            test_fraction: 0.1,
        }
    }
}

/// Trains the emoji CNN on the folder `options.data` and writes the run to `options.out`.
pub fn train_emoji(options: &EmojiOptions, progress: &mut dyn TrainProgress) -> Result<Report> {
    let job = Job {
        train: options.train.clone(),
        val_fraction: options.val_fraction,
        test_fraction: options.test_fraction,
        ..Job::new(
            "emoji",
            Task::Emoji,
            &EMOJI8,
            CnnConfig::emoji(),
            &options.out,
        )
    };
    images::run_on_folder::<Cnn>(&job, &options.data, progress)
}
