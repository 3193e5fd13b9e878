//! The training loop: Adam on the network's objective, the best-validation model kept, early
//! stopping, reproducible from the seed, checkpointed every epoch and resumable.
//!
//! It knows no network: it trains any [`Trainable`] on [`Examples`] of the network's shape,
//! toward the network's [`Objective`] ([`CrossEntropy`] for a classifier; the multi-label
//! tagger brings its own).

use std::fmt::Debug;
use std::time::Instant;

use burn::module::Module;
use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::checkpoint::{RunKey, State};
use crate::data::{Examples, Labels, Shape};
use crate::error::{Error, Result};
use crate::options::TrainOptions;
use crate::progress::{EpochRecord, History, RunStart, TrainProgress};
use crate::rng::Rng;

/// What a network is trained toward: the labels it needs, the loss the optimizer minimizes and
/// the figure the best epoch is chosen by.
pub trait Objective {
    /// The labels of the examples.
    type Labels: Labels;
    /// Sums up the figure over batches.
    type Tally: Tally<<Self::Labels as Labels>::Target>;
    /// The loss's name in manifests (`cross_entropy`).
    const LOSS: &'static str;
    /// The figure's name in manifests (`accuracy`); the history's `*_accuracy` fields hold it.
    const FIGURE: &'static str;
    /// Examples per batch when evaluating without autodiff.
    const EVAL_BATCH: usize;
    /// The objective, its constants on `device`.
    fn new(device: &Device) -> Self;
    /// The mean loss of `logits` `[batch, classes]` against a batch's `targets`.
    fn loss(&self, logits: Tensor<2>, targets: <Self::Labels as Labels>::Target) -> Tensor<1>;
}

/// Sums up an [`Objective`]'s figure over the batches of an epoch or a set.
pub trait Tally<T>: Default {
    /// Adds a batch: its logits `[batch, classes]` and targets.
    fn add(&mut self, logits: &Tensor<2>, targets: &T) -> Result<()>;
    /// The figure of the batches so far, cheap enough to show after every batch.
    fn running(&self) -> f32;
    /// The figure of all batches added.
    fn total(&self) -> f32;
}

/// Cross-entropy over one class per example; the figure is the accuracy (argmax = label).
#[derive(Clone, Debug)]
pub struct CrossEntropy(CrossEntropyLoss);

impl Objective for CrossEntropy {
    type Labels = Vec<usize>;
    type Tally = Correct;
    const LOSS: &'static str = "cross_entropy";
    const FIGURE: &'static str = "accuracy";
    const EVAL_BATCH: usize = 256;

    fn new(device: &Device) -> Self {
        Self(CrossEntropyLossConfig::new().init(device))
    }

    fn loss(&self, logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
        self.0.forward(logits, targets)
    }
}

/// Examples whose highest logit is their class, of those seen.
#[derive(Clone, Copy, Debug, Default)]
pub struct Correct {
    correct: usize,
    seen: usize,
}

impl Tally<Tensor<1, Int>> for Correct {
    fn add(&mut self, logits: &Tensor<2>, targets: &Tensor<1, Int>) -> Result<()> {
        let [n, _] = logits.dims();
        let predicted: Tensor<1, Int> = logits.clone().argmax(1).reshape([n]);
        let hits: i64 = predicted.equal(targets.clone()).int().sum().into_scalar();
        self.correct += hits.max(0) as usize;
        self.seen += n;
        Ok(())
    }

    fn running(&self) -> f32 {
        self.correct as f32 / self.seen as f32
    }

    fn total(&self) -> f32 {
        self.correct as f32 / self.seen.max(1) as f32
    }
}

/// The examples a network of type `M` trains on.
pub type SetOf<M> = Examples<<M as Trainable>::Shape, LabelsOf<M>>;
/// The labels of the examples a network of type `M` trains on.
pub type LabelsOf<M> = <<M as Trainable>::Objective as Objective>::Labels;

/// A network the loop can train: built from its config and the run's seed (and the training
/// set, for statistics such as input normalization), giving logits for a batch.
pub trait Trainable: Module + Sized {
    /// The network's shape (serialized into checkpoints, compared on resume).
    type Config: Clone + PartialEq + Debug + Serialize + DeserializeOwned;
    /// What one example is.
    type Shape: Shape;
    /// What it is trained toward.
    type Objective: Objective;
    /// A fresh network of `config` with weights drawn from `seed`; `train` is the training set
    /// (the same one on resume: its fingerprint is checked).
    fn build(
        config: &Self::Config,
        seed: u64,
        train: &SetOf<Self>,
        device: &Device,
    ) -> Result<Self>;
    /// Checks that the network can be built.
    fn validate(config: &Self::Config) -> Result<()>;
    /// The examples the network takes.
    fn shape(config: &Self::Config) -> Self::Shape;
    /// Its outputs (classes, or labels of a multi-label tagger).
    fn classes(config: &Self::Config) -> usize;
    /// Dropout before the dense layer while training: its rate and width, or `None`.
    fn dropout(config: &Self::Config) -> Option<(f32, usize)>;
    /// The logits `[batch, classes]`; `dropout_mask` (`[batch, width]`, 0 or 1/(1-p)) is
    /// applied before the dense layer when given.
    fn forward_logits(
        &self,
        input: <Self::Shape as Shape>::Input,
        dropout_mask: Option<Tensor<2>>,
    ) -> Tensor<2>;
}

/// A finished run.
#[derive(Debug)]
pub struct Trained<M> {
    /// The kept (best-validation) model, in inference mode.
    pub best: M,
    /// The model after the last epoch run, in inference mode.
    pub last: M,
    /// Every epoch, including those of earlier runs when resumed.
    pub history: History,
}

/// Trains a network of type `M` and `config` on `train`, choosing the model by `val` (the
/// objective's figure, then the lower loss).
///
/// With `options.checkpoint_dir` it writes a checkpoint after each epoch (model, optimizer and
/// state, written so that a crash at any point leaves the previous checkpoint usable), and with
/// `options.resume` it continues from one: the run then gives the same weights as an
/// uninterrupted one with the same seed.
pub fn train_model<M: Trainable>(
    config: &M::Config,
    train: &SetOf<M>,
    val: &SetOf<M>,
    options: &TrainOptions,
    progress: &mut dyn TrainProgress,
) -> Result<Trained<M>> {
    options.validate()?;
    M::validate(config)?;
    let (shape, classes) = (M::shape(config), M::classes(config));
    train.check("training", &shape, classes)?;
    val.check("validation", &shape, classes)?;
    let key = RunKey {
        options,
        config: serde_json::to_value(config)
            .map_err(|e| Error::option("config", format!("cannot be serialized: {e}")))?,
        train_fingerprint: train.fingerprint(),
        val_fingerprint: val.fingerprint(),
    };

    let device = Device::flex().autodiff();
    let plain = Device::flex();
    let mut model = M::build(config, options.seed, train, &device)?;
    let mut optim = AdamConfig::new().init();
    let mut history = History::default();
    let mut best: Option<(f32, f32)> = None;
    let mut best_model: Option<M> = None;
    let mut since_best = 0;
    let mut first_epoch = 1;

    if options.resume
        && let Some(dir) = &options.checkpoint_dir
    {
        let state = State::read(dir)?;
        state.check(dir, &key, config)?;
        model = state.load_model(model, dir)?;
        optim = state.load_optimizer(optim, dir)?;
        let fresh = || M::build(config, options.seed, train, &plain);
        best_model = state.load_best(fresh, dir)?.map(|m| m.valid());
        history = state.history;
        history.interrupted = false;
        best = state.best;
        since_best = state.since_best;
        first_epoch = state.epoch + 1;
        progress.stage(&format!("resuming after epoch {}", state.epoch));
    }

    let batches = train.len().div_ceil(options.batch);
    progress.run_start(&RunStart {
        first_epoch,
        max_epochs: options.epochs,
        batches,
        train: train.len(),
        val: val.len(),
    });
    let objective = M::Objective::new(&device);

    let mut epoch = first_epoch;
    while epoch <= options.epochs && !history.stopped_early {
        let started = Instant::now();
        progress.epoch_start(epoch, batches);
        let mut order: Vec<usize> = (0..train.len()).collect();
        Rng::derive(options.seed, "batches", epoch as u64).shuffle(&mut order);
        let mut dropout_rng = Rng::derive(options.seed, "dropout", epoch as u64);
        let mut augment_rng = Rng::derive(options.seed, "augment", epoch as u64);
        let (mut loss_sum, mut seen) = (0.0f64, 0usize);
        let mut tally = <M::Objective as Objective>::Tally::default();
        let mut learning_rate = options.learning_rate;
        for (b, chunk) in order.chunks(options.batch).enumerate() {
            let (input, targets) = if options.augment.is_identity() {
                train.batch(chunk, &device)
            } else {
                train.augmented_batch(chunk, &options.augment, &mut augment_rng, &device)
            };
            let mask = M::dropout(config)
                .filter(|(p, _)| *p > 0.0)
                .map(|(p, width)| dropout_mask(&mut dropout_rng, chunk.len(), width, p, &device));
            let logits = model.forward_logits(input, mask);
            tally.add(&logits, &targets)?;
            let loss = objective.loss(logits, targets);
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
            progress.batch_end(b + 1, (loss_sum / seen as f64) as f32, tally.running());
        }
        let valid = model.valid();
        let (val_loss, val_figure) = evaluate(&valid, val, &plain)?;
        let better = match best {
            None => true,
            Some((figure, loss)) => {
                val_figure > figure || (val_figure == figure && val_loss < loss)
            }
        };
        if better {
            best = Some((val_figure, val_loss));
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
            train_accuracy: tally.total(),
            val_loss,
            val_accuracy: val_figure,
            seconds: started.elapsed().as_secs_f32(),
            learning_rate,
            best: better,
        };
        history.epochs.push(record.clone());
        if let Some(dir) = &options.checkpoint_dir {
            let state = State::new(&key, epoch, &history, best, since_best);
            let new_best = if better { best_model.as_ref() } else { None };
            state.write(dir, &model, &optim, new_best)?;
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

/// The mean loss and the objective's figure of `model` on `set`, in batches, without autodiff.
pub fn evaluate<M: Trainable>(model: &M, set: &SetOf<M>, device: &Device) -> Result<(f32, f32)> {
    if set.is_empty() {
        return Ok((0.0, 0.0));
    }
    let objective = M::Objective::new(device);
    let mut tally = <M::Objective as Objective>::Tally::default();
    let indices: Vec<usize> = (0..set.len()).collect();
    let mut loss_sum = 0.0f64;
    for chunk in indices.chunks(<M::Objective as Objective>::EVAL_BATCH) {
        let (input, targets) = set.batch(chunk, device);
        let logits = model.forward_logits(input, None);
        tally.add(&logits, &targets)?;
        let loss: f32 = objective.loss(logits, targets).into_scalar();
        loss_sum += f64::from(loss) * chunk.len() as f64;
    }
    Ok(((loss_sum / set.len() as f64) as f32, tally.total()))
}

/// Predicted class of every example of `set` (argmax of the logits), without autodiff.
pub fn predict<M: Trainable>(model: &M, set: &SetOf<M>, device: &Device) -> Vec<usize> {
    let indices: Vec<usize> = (0..set.len()).collect();
    let mut out = Vec::with_capacity(set.len());
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

/// An inverted-dropout mask `[rows, features]`: each entry is kept (as `1/(1-p)`) with
/// probability `1-p`, else 0.
pub fn dropout_mask(
    rng: &mut Rng,
    rows: usize,
    features: usize,
    p: f32,
    device: &Device,
) -> Tensor<2> {
    let keep = 1.0 - p;
    let scale = 1.0 / keep;
    let data: Vec<f32> = (0..rows * features)
        .map(|_| if rng.next_f32() < keep { scale } else { 0.0 })
        .collect();
    Tensor::from_data(TensorData::new(data, [rows, features]), device)
}
