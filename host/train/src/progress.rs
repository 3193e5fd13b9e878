//! What a run reports while it trains ([`TrainProgress`]) and what it keeps of every epoch
//! ([`History`]). Knows no network and no loop: the trainer fills these in.

use serde::{Deserialize, Serialize};

/// One epoch's figures. `train_accuracy` and `val_accuracy` hold the figure the network's
/// objective chooses the best epoch by: the accuracy of a classifier, the mean average precision
/// of the multi-label tagger.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches (with dropout on).
    pub train_loss: f32,
    /// Training accuracy over the epoch's batches (with dropout on).
    pub train_accuracy: f32,
    /// Loss on the validation set.
    pub val_loss: f32,
    /// Accuracy on the validation set.
    pub val_accuracy: f32,
    /// Wall time of the epoch, validation included.
    pub seconds: f32,
    /// The learning rate of the epoch's last step.
    #[serde(default)]
    pub learning_rate: f64,
    /// Whether this epoch's model became the best so far (and was kept).
    pub best: bool,
}

/// All epochs of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// The epochs, in order.
    pub epochs: Vec<EpochRecord>,
    /// The epoch whose model was kept (best validation accuracy, then lowest validation loss).
    pub best_epoch: Option<usize>,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
    /// Whether the caller stopped the run before its last epoch ([`TrainProgress::should_stop`]).
    #[serde(default)]
    pub interrupted: bool,
}

impl History {
    /// The record of the kept epoch.
    pub fn best(&self) -> Option<&EpochRecord> {
        let best = self.best_epoch?;
        self.epochs.iter().find(|e| e.epoch == best)
    }
}

/// What a run is about to do (given to [`TrainProgress::run_start`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunStart {
    /// The first epoch this call runs (greater than 1 when resuming).
    pub first_epoch: usize,
    /// The last epoch it may run.
    pub max_epochs: usize,
    /// Optimizer steps per epoch.
    pub batches: usize,
    /// Training examples.
    pub train: usize,
    /// Validation examples.
    pub val: usize,
}

/// Receives a run's progress. Every method has an empty default; the library never prints.
pub trait TrainProgress {
    /// Before the first epoch.
    fn run_start(&mut self, _start: &RunStart) {}
    /// An epoch begins.
    fn epoch_start(&mut self, _epoch: usize, _batches: usize) {}
    /// A batch ended; `loss` and `accuracy` are the epoch's running means so far.
    fn batch_end(&mut self, _batch: usize, _loss: f32, _accuracy: f32) {}
    /// An epoch ended (validation done, checkpoint written).
    fn epoch_end(&mut self, _record: &EpochRecord) {}
    /// A step outside the epochs (loading, evaluating, exporting), or a note.
    fn stage(&mut self, _text: &str) {}
    /// Asked after each epoch (once its checkpoint is written): `true` ends the run there, as
    /// if it were the last epoch (Ctrl-C in the CLI; `--resume` continues it later).
    fn should_stop(&mut self) -> bool {
        false
    }
}

/// Progress that goes nowhere.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl TrainProgress for NoProgress {}
