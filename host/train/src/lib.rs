//! `sentio-train`: trains the Sentio models in Rust with burn on the CPU, and writes what the
//! device runs: an ONNX model checked against tract, its manifest, the training history and curves.
//!
//! The modules import each other in one direction (`tests/module_layers.rs` checks it):
//!
//! 1. `error` ([`Error`]), [`rng`], [`draw`]: errors, the seeded random numbers, text and lines on
//!    images.
//! 2. The training core, which knows no network: [`progress`] ([`TrainProgress`], [`History`]),
//!    [`data`] (one [`Examples`] type for images and sequences, batches, augmentation),
//!    [`options`] ([`TrainOptions`]), [`files`] (atomic writes through `sentio-files`),
//!    [`checkpoint`], and [`trainer`]: the loop — Adam on the network's [`Objective`], the
//!    best-validation model kept, early stopping, a checkpoint every epoch and `resume` — for
//!    any [`Trainable`] network.
//! 3. The job tail, which knows no network either: [`init`] (seeded weights), [`export`]
//!    (ONNX helpers, [`Exportable`] and the check in tract), [`eval`] (evaluation reports),
//!    [`plot`] (curves), [`job`] (train, export, check, judge in tract, report, manifest:
//!    [`job::run`] for any [`Deployable`] network) and [`images`] (a classifier's job on an image
//!    folder).
//! 4. The networks, each with its ONNX export and its job: [`cnn`] and [`emoji`] (the emoji
//!    CNN, [`train_emoji`]), [`fer`] (the facial-expression mini-Xception, [`train_fer`]),
//!    [`ser`] (the speech-emotion 1-D CNN + LSTM over `sentio-audio` features, [`train_ser`]:
//!    a speech folder split by speaker), [`anp`] (the multi-label ANP tagger on RGB kiosk
//!    scenes, [`train_anp`]).
//!
//! What it must not do: print or draw progress (the CLI does, through [`TrainProgress`]), panic
//! on a dataset, checkpoint or option from outside, or use burn's global RNG (two trainings in one
//! process would disturb each other's reproducibility; see [`rng`]).

pub mod anp;
pub mod checkpoint;
pub mod cnn;
pub mod data;
pub mod draw;
pub mod emoji;
mod error;
pub mod eval;
pub mod export;
pub mod fer;
pub mod files;
pub mod images;
pub mod init;
pub mod job;
pub mod options;
pub mod plot;
pub mod progress;
pub mod rng;
pub mod ser;
pub mod trainer;

pub use anp::{AnpConfig, AnpNet, AnpOptions, AnpReport, SceneImages, Tagging, Tags, train_anp};
pub use cnn::{Cnn, CnnConfig};
pub use data::{Augment, Examples, Image, ImageSet, Labels, Masking, Sequence, SequenceSet, Shape};
pub use emoji::{EmojiOptions, train_emoji};
pub use error::{Error, ErrorKind, Result};
pub use eval::ClassFigures;
pub use export::Exportable;
pub use fer::job::{FerOptions, train_fer};
pub use fer::{FerConfig, FerNet};
pub use job::{ClassAssessment, Deployable, Job, Report};
pub use options::{LrSchedule, TrainOptions};
pub use progress::{EpochRecord, History, NoProgress, RunStart, TrainProgress};
pub use ser::{Normalization, SerConfig, SerInput, SerNet, SerOptions, train_ser};
pub use trainer::{
    CrossEntropy, Objective, SetOf, Tally, Trainable, Trained, evaluate, predict, train_model,
};
