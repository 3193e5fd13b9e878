//! `sentio-train`: trains the Sentio models in Rust with burn on the CPU, and writes what the
//! device runs: an ONNX model checked against tract, its manifest, the training history and curves.
//!
//! - [`cnn`]: the emoji CNN of the seed (conv blocks 2x2 + ReLU + max-pool, dropout, dense,
//!   softmax), with weights drawn from the run's seed.
//! - [`trainer`]: the loop — Adam, cross-entropy, best-validation model kept, early stopping,
//!   a checkpoint every epoch and `resume` — reporting through [`TrainProgress`], for any
//!   [`Trainable`] network over [`Batches`] of examples.
//! - [`fer`]: the facial-expression mini-Xception (depthwise-separable residual modules, batch
//!   norm folded on export) and the `fer` job ([`train_fer`]).
//! - [`ser`]: the speech-emotion 1-D CNN + LSTM over `sentio-audio` features, its hand-written
//!   ONNX export (burn cannot export an LSTM) and the `ser` job ([`train_ser`]: a speech
//!   folder split by speaker).
//! - [`export`]: ONNX export through `sentio-infer`'s graph builder and the check in tract.
//! - [`anp`]: the multi-label ANP tagger (RGB kiosk scenes, 32 sigmoid outputs, binary
//!   cross-entropy) and the `anp` job ([`train_anp`]: a scene set to the files in `--out`).
//! - [`job`] / [`emoji`]: a whole run of any [`ImageNetwork`], from an image folder to the
//!   files in `--out`.
//!
//! What it must not do: print or draw progress (the CLI does, through [`TrainProgress`]), panic
//! on a dataset, checkpoint or option from outside, or use burn's global RNG (two trainings in one
//! process would disturb each other's reproducibility; see [`rng`]).

pub mod anp;
pub mod cnn;
pub mod data;
pub mod draw;
pub mod emoji;
mod error;
pub mod eval;
pub mod export;
pub mod fer;
pub mod job;
pub mod plot;
pub mod rng;
pub mod ser;
pub mod trainer;

pub use anp::{AnpConfig, AnpNet, AnpOptions, AnpReport, SceneImages, train_anp};
pub use cnn::{Cnn, CnnConfig};
pub use data::ImageSet;
pub use emoji::{EmojiOptions, train_emoji};
pub use error::{Error, ErrorKind, Result};
pub use fer::job::{FerOptions, train_fer};
pub use fer::{FerConfig, FerNet};
pub use job::{ClassFigures, ImageClassifier, ImageNetwork, Job, Report};
pub use ser::{
    Masking, Normalization, SequenceSet, SerConfig, SerInput, SerNet, SerOptions, train_ser,
};
pub use trainer::{
    Augment, Batches, EpochRecord, History, LrSchedule, NoProgress, RunStart, TrainOptions,
    TrainProgress, Trainable, Trained, evaluate, train, train_model,
};
