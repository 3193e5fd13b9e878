//! The training loop: Adam on cross-entropy, the best-validation model kept, early stopping,
//! reproducible from the seed, checkpointed every epoch and resumable.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device, Int, Tensor};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::cnn::{Cnn, CnnConfig, dropout_mask};
use crate::data::ImageSet;
use crate::error::{Error, Result};
use crate::rng::Rng;

/// A labelled set the loop draws its batches from: images ([`ImageSet`]) or feature
/// sequences ([`crate::ser::SequenceSet`]).
pub trait Batches {
    /// The network input of a batch (`Tensor<4>` for images, `Tensor<3>` for sequences).
    type Input;
    /// Number of examples.
    fn count(&self) -> usize;
    /// The class of every example.
    fn targets(&self) -> &[usize];
    /// The examples at `indices`, in that order, as an input tensor and their labels.
    fn batch(&self, indices: &[usize], device: &Device) -> (Self::Input, Tensor<1, Int>);
    /// Like [`Batches::batch`], each example changed by `augment` with draws from `rng`. Sets
    /// without augmentation return the plain batch (the default).
    fn augmented_batch(
        &self,
        indices: &[usize],
        _augment: &Augment,
        _rng: &mut Rng,
        device: &Device,
    ) -> (Self::Input, Tensor<1, Int>) {
        self.batch(indices, device)
    }
    /// Whether the set changes its training batches by itself (then the loop calls
    /// [`Batches::augmented_batch`] even when the options' [`Augment`] is the identity).
    fn augments_itself(&self) -> bool {
        false
    }
    /// A 64-bit fingerprint of the examples and labels, so a resumed run can tell it is given
    /// the data it started with.
    fn fingerprint(&self) -> u64;
}

/// A network the loop can train: built from its config and the run's seed (and the training
/// set, for statistics such as input normalization), giving logits for a batch.
pub trait Trainable: Module + Sized {
    /// The network's shape (serialized into checkpoints, compared on resume).
    type Config: Clone + PartialEq + std::fmt::Debug + Serialize + DeserializeOwned;
    /// The sets it trains on.
    type Data: Batches;
    /// A fresh network of `config` with weights drawn from `seed`; `train` is the training set
    /// (the same one on resume: its fingerprint is checked).
    fn build(config: &Self::Config, seed: u64, train: &Self::Data, device: &Device)
    -> Result<Self>;
    /// Checks the config, and that `set` (the `what` set) fits the network.
    fn check(config: &Self::Config, what: &str, set: &Self::Data) -> Result<()>;
    /// Dropout before the dense layer while training: its rate and width, or `None`.
    fn dropout(config: &Self::Config) -> Option<(f32, usize)>;
    /// The logits `[batch, classes]`; `dropout_mask` (`[batch, width]`, 0 or 1/(1-p)) is
    /// applied before the dense layer when given.
    fn forward_logits(
        &self,
        input: <Self::Data as Batches>::Input,
        dropout_mask: Option<Tensor<2>>,
    ) -> Tensor<2>;
}

/// How to train.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainOptions {
    /// Most epochs to run (early stopping may end sooner).
    pub epochs: usize,
    /// Images per optimizer step.
    pub batch: usize,
    /// Adam's learning rate (the peak of the schedule).
    pub learning_rate: f64,
    /// How the learning rate moves over the run.
    pub schedule: LrSchedule,
    /// Random changes to each training image, new every epoch.
    pub augment: Augment,
    /// Stop after this many epochs without a better validation result; 0 never stops early.
    pub patience: usize,
    /// Seed of everything random (weights, batch order, dropout).
    pub seed: u64,
    /// Where to write a checkpoint after every epoch; `None` writes none.
    pub checkpoint_dir: Option<PathBuf>,
    /// Continue from the checkpoint in `checkpoint_dir`.
    pub resume: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            epochs: 30,
            batch: 32,
            learning_rate: 1e-3,
            schedule: LrSchedule::Constant,
            augment: Augment::default(),
            patience: 6,
            seed: 42,
            checkpoint_dir: None,
            resume: false,
        }
    }
}

impl TrainOptions {
    /// The recipe of the image jobs (emoji, fer): `epochs` of batch 32, Adam peaking at
    /// `learning_rate` after one epoch of linear warm-up and decaying (cosine) to 2% of it by the
    /// last epoch, training images mirrored half of the time and shifted by up to ±3 px, no early
    /// stopping (the schedule is sized to the run), seed 42.
    pub fn image_recipe(epochs: usize, learning_rate: f64) -> Self {
        Self {
            epochs,
            batch: 32,
            learning_rate,
            schedule: LrSchedule::WarmupCosine {
                warmup_epochs: 1,
                final_fraction: 0.02,
            },
            augment: Augment {
                mirror: true,
                max_shift: 3,
            },
            patience: 0,
            ..Self::default()
        }
    }

    /// The checks every training loop applies to its options.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.epochs == 0 || self.epochs > 100_000 {
            return Err(Error::option("epochs", "must be 1 to 100000"));
        }
        if self.batch == 0 || self.batch > 65_536 {
            return Err(Error::option("batch", "must be 1 to 65536"));
        }
        if !(self.learning_rate.is_finite()
            && self.learning_rate > 0.0
            && self.learning_rate < 10.0)
        {
            return Err(Error::option("lr", "must be a positive number below 10"));
        }
        if let LrSchedule::WarmupCosine {
            warmup_epochs,
            final_fraction,
        } = self.schedule
            && (warmup_epochs >= self.epochs || !(0.0..=1.0).contains(&final_fraction))
        {
            return Err(Error::option(
                "schedule",
                "the warm-up must be shorter than the run (give at least 2 epochs) and the final \
                 fraction in [0, 1]",
            ));
        }
        if self.augment.max_shift > 8 {
            return Err(Error::option(
                "augment",
                "shifts above 8 pixels are not supported",
            ));
        }
        if self.resume && self.checkpoint_dir.is_none() {
            return Err(Error::option(
                "resume",
                "needs a checkpoint directory (the --out of the run to continue)",
            ));
        }
        Ok(())
    }
}

/// The learning rate over a run, as a function of the position in it only, so a resumed run
/// steps exactly like an uninterrupted one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum LrSchedule {
    /// The same rate for every step.
    #[default]
    Constant,
    /// Linear warm-up from 0 over `warmup_epochs`, then a cosine decay to `final_fraction` of the
    /// peak at the last epoch. With a fixed budget of epochs this reaches a given accuracy in
    /// fewer epochs than a constant rate: large steps early, small ones to settle.
    WarmupCosine {
        /// Epochs of linear warm-up.
        warmup_epochs: usize,
        /// The rate at the end, as a fraction of the peak.
        final_fraction: f64,
    },
}

impl LrSchedule {
    /// The rate for step `batch` (0-based) of `batches` in `epoch` (1-based) of `epochs`.
    pub fn rate(
        &self,
        peak: f64,
        epoch: usize,
        batch: usize,
        batches: usize,
        epochs: usize,
    ) -> f64 {
        match *self {
            LrSchedule::Constant => peak,
            LrSchedule::WarmupCosine {
                warmup_epochs,
                final_fraction,
            } => {
                let batches = batches.max(1);
                let step = (epoch.saturating_sub(1) * batches + batch) as f64;
                let warmup = (warmup_epochs * batches) as f64;
                let total = (epochs * batches) as f64;
                if step < warmup {
                    peak * (step + 1.0) / warmup
                } else {
                    // The last step of the run gets exactly the final rate.
                    let t = ((step - warmup) / (total - warmup - 1.0).max(1.0)).min(1.0);
                    let cosine = 0.5 * (1.0 + (std::f64::consts::PI * t).cos());
                    peak * (final_fraction + (1.0 - final_fraction) * cosine)
                }
            }
        }
    }
}

/// Random changes to training images: drawn from the run's seed and the epoch, so a resumed run
/// sees the same images.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Augment {
    /// Mirror left-right half of the time (for classes that a mirror does not change).
    pub mirror: bool,
    /// Shift by up to this many pixels in x and y (the border value fills the gap).
    pub max_shift: usize,
}

impl Augment {
    /// Whether it changes anything.
    pub fn is_identity(&self) -> bool {
        !self.mirror && self.max_shift == 0
    }
}

/// One epoch's figures.
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
    /// Training images.
    pub train: usize,
    /// Validation images.
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

/// A finished run.
#[derive(Debug)]
pub struct Trained<M = Cnn> {
    /// The kept (best-validation) model, in inference mode.
    pub best: M,
    /// The model after the last epoch run, in inference mode.
    pub last: M,
    /// Every epoch, including those of earlier runs when resumed.
    pub history: History,
}

/// Checkpoint file names inside the checkpoint directory.
const STATE_FILE: &str = "state.json";
const STATE_FORMAT: u32 = 1;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct CheckpointState {
    format: u32,
    /// The last epoch completed.
    epoch: usize,
    seed: u64,
    batch: usize,
    learning_rate: f64,
    #[serde(default)]
    schedule: LrSchedule,
    #[serde(default)]
    augment: Augment,
    /// The network's config (a `CnnConfig`, `SerConfig`, ...), compared on resume.
    config: serde_json::Value,
    train_fingerprint: u64,
    val_fingerprint: u64,
    history: History,
    /// Best (validation accuracy, validation loss) so far.
    best: Option<(f32, f32)>,
    since_best: usize,
    model_file: String,
    optimizer_file: String,
    best_file: Option<String>,
}

/// Trains a [`Cnn`] of `config` on `train`, choosing the model by `val`.
///
/// With `options.checkpoint_dir` it writes a checkpoint after each epoch (model, optimizer and
/// state, written so that a crash at any point leaves the previous checkpoint usable), and with
/// `options.resume` it continues from one: the run then gives the same weights as an
/// uninterrupted one with the same seed.
pub fn train(
    config: &CnnConfig,
    train: &ImageSet,
    val: &ImageSet,
    options: &TrainOptions,
    progress: &mut dyn TrainProgress,
) -> Result<Trained> {
    train_model::<Cnn>(config, train, val, options, progress)
}

/// [`train`] for any [`Trainable`] network: the same loop, schedule, checkpoints, resume and
/// early stopping.
pub fn train_model<M: Trainable>(
    config: &M::Config,
    train: &M::Data,
    val: &M::Data,
    options: &TrainOptions,
    progress: &mut dyn TrainProgress,
) -> Result<Trained<M>> {
    options.validate()?;
    M::check(config, "training", train)?;
    M::check(config, "validation", val)?;
    let config_json = serde_json::to_value(config)
        .map_err(|e| Error::option("config", format!("cannot be serialized: {e}")))?;

    let device = Device::flex().autodiff();
    let plain = Device::flex();
    let mut model = M::build(config, options.seed, train, &device)?;
    let mut optim = AdamConfig::new().init();
    let mut history = History::default();
    let mut best: Option<(f32, f32)> = None;
    let mut best_model: Option<M> = None;
    let mut since_best = 0;
    let mut first_epoch = 1;
    let (train_fp, val_fp) = (train.fingerprint(), val.fingerprint());

    if options.resume
        && let Some(dir) = &options.checkpoint_dir
    {
        let state = read_state(dir)?;
        let mismatch = |what: &str| {
            Error::checkpoint(
                dir,
                format!("it was made with a different {what} than this run's"),
            )
        };
        if state.format != STATE_FORMAT {
            return Err(Error::checkpoint(
                dir,
                format!(
                    "format {} is not the format {STATE_FORMAT} this version reads",
                    state.format
                ),
            ));
        }
        if state.seed != options.seed {
            return Err(mismatch("--seed"));
        }
        if state.batch != options.batch {
            return Err(mismatch("--batch"));
        }
        if state.learning_rate != options.learning_rate || state.schedule != options.schedule {
            return Err(mismatch("learning rate or schedule"));
        }
        if state.augment != options.augment {
            return Err(mismatch("augmentation"));
        }
        if serde_json::from_value::<M::Config>(state.config.clone())
            .ok()
            .as_ref()
            != Some(config)
        {
            return Err(mismatch("network shape"));
        }
        if state.train_fingerprint != train_fp || state.val_fingerprint != val_fp {
            return Err(mismatch("dataset (or split)"));
        }
        model = load_model(model, &dir.join(&state.model_file), dir)?;
        let bytes = read(&dir.join(&state.optimizer_file))?;
        optim = optim
            .from_bytes(Bytes::from_bytes_vec(bytes))
            .map_err(|e| Error::checkpoint(dir, format!("optimizer state: {e}")))?;
        if let Some(file) = &state.best_file {
            let fresh = M::build(config, options.seed, train, &plain)?;
            best_model = Some(load_model(fresh, &dir.join(file), dir)?.valid());
        }
        history = state.history;
        history.interrupted = false;
        best = state.best;
        since_best = state.since_best;
        first_epoch = state.epoch + 1;
        progress.stage(&format!("resuming after epoch {}", state.epoch));
    }

    let batches = train.count().div_ceil(options.batch);
    progress.run_start(&RunStart {
        first_epoch,
        max_epochs: options.epochs,
        batches,
        train: train.count(),
        val: val.count(),
    });
    let loss_fn = CrossEntropyLossConfig::new().init(&device);

    let mut epoch = first_epoch;
    while epoch <= options.epochs && !history.stopped_early {
        let started = Instant::now();
        progress.epoch_start(epoch, batches);
        let mut order: Vec<usize> = (0..train.count()).collect();
        Rng::derive(options.seed, "batches", epoch as u64).shuffle(&mut order);
        let mut dropout_rng = Rng::derive(options.seed, "dropout", epoch as u64);
        let mut augment_rng = Rng::derive(options.seed, "augment", epoch as u64);
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
        let mut learning_rate = options.learning_rate;
        for (b, chunk) in order.chunks(options.batch).enumerate() {
            let (input, targets) = if options.augment.is_identity() && !train.augments_itself() {
                train.batch(chunk, &device)
            } else {
                train.augmented_batch(chunk, &options.augment, &mut augment_rng, &device)
            };
            let mask = M::dropout(config)
                .filter(|(p, _)| *p > 0.0)
                .map(|(p, width)| dropout_mask(&mut dropout_rng, chunk.len(), width, p, &device));
            let logits = model.forward_logits(input, mask);
            correct += count_correct(logits.clone(), targets.clone());
            let loss = loss_fn.forward(logits, targets);
            let loss_value: f32 = loss.clone().into_scalar();
            if !loss_value.is_finite() {
                return Err(Error::Diverged {
                    epoch,
                    loss: loss_value,
                });
            }
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            learning_rate =
                options
                    .schedule
                    .rate(options.learning_rate, epoch, b, batches, options.epochs);
            model = optim.step(learning_rate, model, grads);
            loss_sum += f64::from(loss_value) * chunk.len() as f64;
            seen += chunk.len();
            progress.batch_end(
                b + 1,
                (loss_sum / seen as f64) as f32,
                correct as f32 / seen as f32,
            );
        }
        let valid = model.valid();
        let (val_loss, val_accuracy) = evaluate(&valid, val, &plain);
        let better = match best {
            None => true,
            Some((acc, loss)) => val_accuracy > acc || (val_accuracy == acc && val_loss < loss),
        };
        if better {
            best = Some((val_accuracy, val_loss));
            best_model = Some(valid);
            since_best = 0;
            history.best_epoch = Some(epoch);
        } else {
            since_best += 1;
        }
        if options.patience > 0 && since_best >= options.patience {
            history.stopped_early = true;
        }
        let record = EpochRecord {
            epoch,
            train_loss: (loss_sum / seen.max(1) as f64) as f32,
            train_accuracy: correct as f32 / seen.max(1) as f32,
            val_loss,
            val_accuracy,
            seconds: started.elapsed().as_secs_f32(),
            learning_rate,
            best: better,
        };
        history.epochs.push(record.clone());
        if let Some(dir) = &options.checkpoint_dir {
            let state = CheckpointState {
                format: STATE_FORMAT,
                epoch,
                seed: options.seed,
                batch: options.batch,
                learning_rate: options.learning_rate,
                schedule: options.schedule,
                augment: options.augment,
                config: config_json.clone(),
                train_fingerprint: train_fp,
                val_fingerprint: val_fp,
                history: history.clone(),
                best,
                since_best,
                model_file: format!("epoch-{epoch:04}.model.bpk"),
                optimizer_file: format!("epoch-{epoch:04}.optim.bpk"),
                best_file: history
                    .best_epoch
                    .map(|e| format!("best-epoch-{e:04}.model.bpk")),
            };
            write_checkpoint(dir, &state, &model, &optim, better.then_some(&best_model))?;
        }
        progress.epoch_end(&record);
        if epoch < options.epochs && !history.stopped_early && progress.should_stop() {
            history.interrupted = true;
            break;
        }
        epoch += 1;
    }

    let last = model.valid();
    let best = match best_model {
        Some(m) => m,
        None => last.clone(),
    };
    Ok(Trained {
        best,
        last,
        history,
    })
}

/// Mean cross-entropy and accuracy of `model` on `set`, in batches, without autodiff.
pub fn evaluate<M: Trainable>(model: &M, set: &M::Data, device: &Device) -> (f32, f32) {
    if set.count() == 0 {
        return (0.0, 0.0);
    }
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let indices: Vec<usize> = (0..set.count()).collect();
    let (mut loss_sum, mut correct) = (0.0f64, 0usize);
    for chunk in indices.chunks(256) {
        let (input, targets) = set.batch(chunk, device);
        let logits = model.forward_logits(input, None);
        correct += count_correct(logits.clone(), targets.clone());
        let loss: f32 = loss_fn.forward(logits, targets).into_scalar();
        loss_sum += f64::from(loss) * chunk.len() as f64;
    }
    (
        (loss_sum / set.count() as f64) as f32,
        correct as f32 / set.count() as f32,
    )
}

/// Predicted class of every example of `set` (argmax of the logits), without autodiff.
pub fn predict<M: Trainable>(model: &M, set: &M::Data, device: &Device) -> Vec<usize> {
    let indices: Vec<usize> = (0..set.count()).collect();
    let mut out = Vec::with_capacity(set.count());
    for chunk in indices.chunks(256) {
        let (input, _) = set.batch(chunk, device);
        let classes: Vec<i64> = model
            .forward_logits(input, None)
            .argmax(1)
            .into_data()
            .convert::<i64>()
            .try_to_vec()
            .unwrap_or_default();
        out.extend(classes.into_iter().map(|c| c.max(0) as usize));
    }
    out
}

fn count_correct(logits: Tensor<2>, targets: Tensor<1, Int>) -> usize {
    let [n, _] = logits.dims();
    let predicted: Tensor<1, Int> = logits.argmax(1).reshape([n]);
    let hits: i64 = predicted.equal(targets).int().sum().into_scalar();
    hits.max(0) as usize
}

fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| Error::io("reading", path, e))
}

/// Writes `bytes` to `path` through a temporary file and a rename, so `path` is either the old
/// or the new content, never a torn one.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, bytes).map_err(|e| Error::io("writing", &tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| Error::io("renaming into", path, e))
}

fn read_state(dir: &Path) -> Result<CheckpointState> {
    let path = dir.join(STATE_FILE);
    if !path.exists() {
        return Err(Error::checkpoint(
            dir,
            "there is no checkpoint to resume from (no state.json)",
        ));
    }
    let bytes = read(&path)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| Error::checkpoint(dir, format!("state.json is damaged: {e}")))
}

fn load_model<M: Module>(model: M, path: &Path, dir: &Path) -> Result<M> {
    let bytes = read(path)?;
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes))
        .map_err(|e| Error::checkpoint(dir, format!("{}: {e}", path.display())))?;
    model
        .try_load_record(record)
        .map_err(|e| Error::checkpoint(dir, format!("{}: {e}", path.display())))
}

fn record_bytes<M: Module>(model: &M, dir: &Path) -> Result<Vec<u8>> {
    let bytes = model
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| Error::checkpoint(dir, format!("saving the model: {e}")))?;
    Ok(bytes.to_vec())
}

fn write_checkpoint<M: Module>(
    dir: &Path,
    state: &CheckpointState,
    model: &M,
    optim: &ModuleOptimizer,
    new_best: Option<&Option<M>>,
) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::io("creating directory", dir, e))?;
    write_atomic(&dir.join(&state.model_file), &record_bytes(model, dir)?)?;
    let optim_bytes = optim
        .into_bytes()
        .map_err(|e| Error::checkpoint(dir, format!("saving the optimizer: {e}")))?;
    write_atomic(&dir.join(&state.optimizer_file), &optim_bytes)?;
    if let (Some(Some(best)), Some(file)) = (new_best, &state.best_file) {
        write_atomic(&dir.join(file), &record_bytes(best, dir)?)?;
    }
    let json = serde_json::to_vec_pretty(state)
        .map_err(|e| Error::checkpoint(dir, format!("serializing the state: {e}")))?;
    write_atomic(&dir.join(STATE_FILE), &json)?;
    // The state now names the new files: the older ones can go. A failure here only leaves
    // litter, so it is ignored.
    let keep = [
        Some(state.model_file.as_str()),
        Some(state.optimizer_file.as_str()),
        state.best_file.as_deref(),
        Some(STATE_FILE),
    ];
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.ends_with(".bpk") && !keep.contains(&Some(name.as_ref())) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::LrSchedule;

    #[test]
    fn warmup_cosine_rises_to_the_peak_then_falls_to_the_final_fraction() {
        let schedule = LrSchedule::WarmupCosine {
            warmup_epochs: 1,
            final_fraction: 0.02,
        };
        let (batches, epochs) = (10, 5);
        let rates: Vec<f64> = (1..=epochs)
            .flat_map(|e| (0..batches).map(move |b| (e, b)))
            .map(|(e, b)| schedule.rate(2e-3, e, b, batches, epochs))
            .collect();
        // Warm-up: strictly rising, the last warm-up step at the peak.
        assert!(rates[..10].windows(2).all(|w| w[0] < w[1]), "{rates:?}");
        assert!((rates[9] - 2e-3).abs() < 1e-12);
        // Then never rising, ending near 2% of the peak.
        assert!(rates[10..].windows(2).all(|w| w[0] >= w[1]), "{rates:?}");
        let last = *rates.last().unwrap_or(&0.0);
        assert!((last - 4e-5).abs() < 2e-6, "{last}");
        assert_eq!(LrSchedule::Constant.rate(1e-3, 3, 4, 10, 5), 1e-3);
    }
}
