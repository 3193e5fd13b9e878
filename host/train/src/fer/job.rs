//! The `fer` job (`sentio train fer`): the mini-Xception trained on a `fer7` image folder of
//! 48x48 gray faces (`sentio data synth faces`, or `sentio data import fer2013`), written like
//! the emoji job (see [`crate::images`] and [`crate::job`]).

use std::path::PathBuf;

use sentio_models::Task;
use sentio_models::labels::FER7;

use super::{FerConfig, FerNet};
use crate::error::Result;
use crate::images;
use crate::job::{Job, Report};
use crate::options::TrainOptions;
use crate::progress::TrainProgress;

/// Options of `sentio train fer`.
#[derive(Clone, Debug)]
pub struct FerOptions {
    /// The image folder (one sub-folder per `fer7` label).
    pub data: PathBuf,
    /// Where the model, manifest, history, curves, report and checkpoint go.
    pub out: PathBuf,
    /// Most epochs, batch size, learning rate and schedule, augmentation, patience, seed, resume.
    pub train: TrainOptions,
    /// The network ([`FerConfig::fer7`]; tests use smaller ones).
    pub network: FerConfig,
    /// Fraction of each class held out for validation.
    pub val_fraction: f32,
    /// Fraction of each class held out for the test.
    pub test_fraction: f32,
}

impl FerOptions {
    /// The recipe for `data` and `out`: [`FerConfig::fer7`], 10 epochs of batch 32, Adam with a
    /// peak rate of 4e-3 (one epoch of warm-up, cosine decay to 2% of it), mirrored and shifted
    /// (±3 px) training faces, no early stopping (the schedule is sized to the run), seed 42, 10%
    /// validation, 10% test. Ten epochs of 5600 faces take about 17 minutes on 2 cores (~100 s
    /// each).
    pub fn new(data: impl Into<PathBuf>, out: impl Into<PathBuf>) -> Self {
        Self {
            data: data.into(),
            out: out.into(),
            // A mirrored expression is the same expression (FER2013 models train with
            // horizontal flips too).
            train: TrainOptions::image_recipe(10, 4e-3),
            network: FerConfig::fer7(),
            val_fraction: 0.1,
            test_fraction: 0.1,
        }
    }
}

/// Trains the FER network on the folder `options.data` and writes the run to `options.out`.
pub fn train_fer(options: &FerOptions, progress: &mut dyn TrainProgress) -> Result<Report> {
    let job = Job {
        train: options.train.clone(),
        val_fraction: options.val_fraction,
        test_fraction: options.test_fraction,
        ..Job::new(
            "fer",
            Task::Fer,
            &FER7,
            options.network.clone(),
            &options.out,
        )
    };
    images::run_on_folder::<FerNet>(&job, &options.data, progress)
}
