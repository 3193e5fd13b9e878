//! The speech-emotion model (SER): a 1-D CNN over per-frame audio features followed by an LSTM.
//!
//! Input `[batch, frames, dims]`: `frames` rows of `sentio_audio::FeatureExtractor` features
//! (10 ms apart by default, 117 values each). The graph:
//!
//! ```text
//! (x - mean) * inv_std            per feature dimension, statistics of the training set
//! transpose -> [batch, dims, frames]
//! conv block x N                  Conv1d (kernel k, same padding) -> ReLU -> MaxPool1d 2
//! pooling over time, by `SerConfig::pooling` (see [`Pooling`]):
//!   Last          LSTM (hidden H) over [batch, frames / 2^N, filters]: its last hidden state
//!   LastAndStats  that, concatenated with the mean and standard deviation over time of the
//!                 last conv block's features (x-vector statistics pooling)
//!   Stats         the mean and standard deviation alone (no LSTM)
//! dropout (training only) -> [dense -> ReLU, when `head` > 0] -> dense -> logits
//!                                 (softmax in the exported model)
//! ```
//!
//! The normalization is part of the model (and of its ONNX graph), so the device feeds the raw
//! features. How a clip becomes a fixed number of frames is [`SerInput`]'s job
//! (`sentio_audio::SpeechInput`), the one rule of the trainer, the evaluator and the device.

pub mod export;
pub mod job;

use std::fmt;
use std::str::FromStr;

use burn::module::{Module, Param};
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::pool::{MaxPool1d, MaxPool1dConfig};
use burn::nn::{Initializer, Linear, Lstm, LstmConfig, PaddingConfig1d};
use burn::tensor::activation::{relu, softmax};
use burn::tensor::{Device, Int, Tensor, TensorData};
use sentio_audio::FeatureConfig;
pub use sentio_audio::{SpeechInput as SerInput, fit_frames};
use serde::{Deserialize, Serialize};

use crate::cnn::{dense_layer, glorot, zeros};
use crate::data::{class_counts, gather, label_tensor};
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::trainer::{Augment, Batches, Trainable};

pub use job::{SerOptions, train_ser};

/// The shape of a [`SerNet`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SerConfig {
    /// Frames per input (T): 300 frames of 10 ms are 3 s.
    pub frames: usize,
    /// Feature values per frame (D), `FeatureConfig::dims()`.
    pub dims: usize,
    /// Filters of each conv block (Conv1d with `kernel`, same padding, ReLU, max-pool 2).
    pub filters: Vec<usize>,
    /// Conv kernel size (odd, so "same" padding is symmetric: `kernel / 2` on each side).
    pub kernel: usize,
    /// LSTM hidden size.
    pub hidden: usize,
    /// Dropout on the pooled vector (the dense layers' input), while training.
    pub dropout: f32,
    /// Output classes.
    pub classes: usize,
    /// How the sequence becomes one vector for the dense layers (absent from older configs and
    /// manifests: [`Pooling::Last`], the LSTM's last hidden state).
    #[serde(default)]
    pub pooling: Pooling,
    /// Units of a dense + ReLU layer between the pooled vector and the classifier; 0 (the
    /// default, and what older configs mean) for none.
    #[serde(default)]
    pub head: usize,
}

/// How a [`SerNet`] turns the conv features `[batch, channels, steps]` into one vector.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pooling {
    /// The LSTM's hidden state after the last step (`hidden` values).
    #[default]
    Last,
    /// The LSTM's last hidden state, then the mean and the standard deviation over time of each
    /// channel of the last conv block (`hidden + 2 * channels` values): statistics pooling as in
    /// x-vector speaker models, so utterance-level statistics reach the classifier directly.
    LastAndStats,
    /// The mean and standard deviation over time of each channel alone (`2 * channels` values);
    /// the network has no LSTM.
    Stats,
}

impl Pooling {
    /// Every pooling, in the order of their names.
    pub const ALL: [Pooling; 3] = [Pooling::Last, Pooling::LastAndStats, Pooling::Stats];

    /// Whether the network has an LSTM.
    pub fn uses_lstm(self) -> bool {
        matches!(self, Pooling::Last | Pooling::LastAndStats)
    }

    /// Whether the mean and standard deviation over time are pooled.
    pub fn uses_stats(self) -> bool {
        matches!(self, Pooling::LastAndStats | Pooling::Stats)
    }

    /// The name used in configs and on command lines (`last`, `last_and_stats`, `stats`).
    pub fn name(self) -> &'static str {
        match self {
            Pooling::Last => "last",
            Pooling::LastAndStats => "last_and_stats",
            Pooling::Stats => "stats",
        }
    }
}

impl fmt::Display for Pooling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Pooling {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Pooling::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                Error::option(
                    "pooling",
                    format!("`{s}` is not one of last, last_and_stats, stats"),
                )
            })
    }
}

/// Added to the variance over time before its square root (in burn and in the ONNX graph), so
/// a channel that is constant over the window has a finite gradient.
pub const STATS_EPSILON: f32 = 1e-5;

impl SerConfig {
    /// The device model for `ser8`: 3 s of 117-value frames, conv blocks of 32/64/128 filters
    /// (kernel 5), LSTM 64 whose last hidden state is concatenated with the mean and standard
    /// deviation over time of the last conv block ([`Pooling::LastAndStats`]), dropout 0.5 on
    /// that vector, dense 8. About 122k parameters (0.5 MB of f32) and 12M multiply-adds per
    /// 3 s window (see [`SerConfig::macs`]).
    ///
    /// Chosen on the validation speakers of the speech set (seed 1, split seed 42, 40 epochs,
    /// 2026-12-06): the LSTM's last state alone ([`SerConfig::ser8_last`], the model until
    /// then) 86.5%, with the statistics 92.2%, the statistics alone (no LSTM) 91.9%, with a
    /// dense 64 + ReLU head 89.6%; dropout 0.3 instead of 0.5 overfit the training voices more
    /// (85.2% vs 86.5% for the last state alone).
    pub fn ser8() -> Self {
        Self {
            pooling: Pooling::LastAndStats,
            ..Self::ser8_last()
        }
    }

    /// The `ser8` network before statistics pooling (the zoo model of 2026-11-26): the LSTM's
    /// last hidden state alone ([`Pooling::Last`]), 120k parameters.
    pub fn ser8_last() -> Self {
        Self {
            frames: 300,
            dims: FeatureConfig::default().dims(),
            filters: vec![32, 64, 128],
            kernel: 5,
            hidden: 64,
            dropout: 0.5,
            classes: 8,
            pooling: Pooling::Last,
            head: 0,
        }
    }

    /// Time steps the LSTM sees: `frames` halved (floor) by each conv block's pool.
    pub fn lstm_steps(&self) -> usize {
        self.filters.iter().fold(self.frames, |t, _| t / 2)
    }

    /// Channels going into the LSTM.
    pub fn lstm_input(&self) -> usize {
        self.filters.last().copied().unwrap_or(self.dims)
    }

    /// Width of the pooled vector (the dense layers' input, where dropout applies).
    pub fn pooled_width(&self) -> usize {
        let c = self.lstm_input();
        match self.pooling {
            Pooling::Last => self.hidden,
            Pooling::LastAndStats => self.hidden + 2 * c,
            Pooling::Stats => 2 * c,
        }
    }

    /// Trainable parameters (weights and biases; burn's LSTM has two biases per gate, the ONNX
    /// LSTM too).
    pub fn parameters(&self) -> usize {
        let mut n = 0;
        let mut channels = self.dims;
        for &f in &self.filters {
            n += f * channels * self.kernel + f;
            channels = f;
        }
        let h = self.hidden;
        if self.pooling.uses_lstm() {
            n += 4 * (channels * h + h * h + 2 * h);
        }
        let mut width = self.pooled_width();
        if self.head > 0 {
            n += width * self.head + self.head;
            width = self.head;
        }
        n + width * self.classes + self.classes
    }

    /// Multiply-adds of one forward pass (convs, LSTM gates, dense layers; the element-wise ops,
    /// the statistics pooling among them, are not counted).
    pub fn macs(&self) -> usize {
        let mut n = 0;
        let (mut channels, mut t) = (self.dims, self.frames);
        for &f in &self.filters {
            n += f * channels * self.kernel * t;
            channels = f;
            t /= 2;
        }
        let h = self.hidden;
        if self.pooling.uses_lstm() {
            n += 4 * h * (channels + h) * t;
        }
        let mut width = self.pooled_width();
        if self.head > 0 {
            n += width * self.head;
            width = self.head;
        }
        n + width * self.classes
    }

    /// The graph in one line, for manifests.
    pub fn graph_description(&self) -> String {
        let pooled = match self.pooling {
            Pooling::Last => "lstm last hidden",
            Pooling::LastAndStats => {
                "concat(lstm last hidden, mean and std over time of the last conv block)"
            }
            Pooling::Stats => "mean and std over time of the last conv block",
        };
        let head = if self.head > 0 {
            format!("dense {} + relu, ", self.head)
        } else {
            String::new()
        };
        format!(
            "normalize, (conv1d same + relu + maxpool 2) per block, {pooled}, {head}dense, softmax"
        )
    }

    /// Checks that the network can be built.
    pub fn validate(&self) -> Result<()> {
        if self.classes < 2 {
            return Err(Error::option("classes", "at least 2 classes are needed"));
        }
        if self.dims == 0 || self.dims > 4096 {
            return Err(Error::option("dims", "must be 1 to 4096 values per frame"));
        }
        if self.frames == 0 || self.frames > 100_000 {
            return Err(Error::option("frames", "must be 1 to 100000"));
        }
        if self.filters.is_empty() || self.filters.contains(&0) {
            return Err(Error::option(
                "filters",
                "at least one conv block, each with at least one filter",
            ));
        }
        if self.kernel == 0 || self.kernel.is_multiple_of(2) || self.kernel > self.frames {
            return Err(Error::option(
                "kernel",
                format!(
                    "must be odd (same padding) and at most the {} frames, is {}",
                    self.frames, self.kernel
                ),
            ));
        }
        if self.lstm_steps() == 0 {
            return Err(Error::option(
                "frames",
                format!(
                    "{} frames are too few for {} conv blocks (each halves them)",
                    self.frames,
                    self.filters.len()
                ),
            ));
        }
        if self.pooling.uses_lstm() && (self.hidden == 0 || self.hidden > 4096) {
            return Err(Error::option("hidden", "must be 1 to 4096"));
        }
        if self.head > 4096 {
            return Err(Error::option("head", "must be 0 (none) to 4096"));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::option("dropout", "must be in [0, 1)"));
        }
        Ok(())
    }
}

/// Per-dimension mean and standard deviation of the training features.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Normalization {
    /// Mean of each dimension.
    pub mean: Vec<f32>,
    /// Standard deviation of each dimension, floored at [`Normalization::MIN_STD`].
    pub std: Vec<f32>,
}

impl Normalization {
    /// Smallest standard deviation used, so a constant dimension does not blow up.
    pub const MIN_STD: f32 = 1e-3;

    /// Mean 0 and std 1 for `dims` dimensions (no change).
    pub fn identity(dims: usize) -> Self {
        Self {
            mean: vec![0.0; dims],
            std: vec![1.0; dims],
        }
    }

    /// The statistics of every frame of every example of `set` (in f64).
    pub fn of(set: &SequenceSet) -> Self {
        let d = set.dims;
        let mut sum = vec![0.0f64; d];
        let mut sq = vec![0.0f64; d];
        let rows = set.values.chunks_exact(d.max(1));
        let n = rows.len().max(1) as f64;
        for row in rows {
            for (j, v) in row.iter().enumerate() {
                sum[j] += f64::from(*v);
                sq[j] += f64::from(*v) * f64::from(*v);
            }
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let std = sq
            .iter()
            .zip(&mean)
            .map(|(s, m)| ((s / n - m * m).max(0.0).sqrt() as f32).max(Self::MIN_STD))
            .collect();
        Self {
            mean: mean.iter().map(|m| *m as f32).collect(),
            std,
        }
    }

    /// `1 / std` of each dimension (what the graph multiplies by).
    pub fn inv_std(&self) -> Vec<f32> {
        self.std
            .iter()
            .map(|s| 1.0 / s.max(Self::MIN_STD))
            .collect()
    }
}

/// The network. Build it with [`SerNet::new`]; its weights come from the run's seed.
#[derive(Module, Debug)]
pub struct SerNet {
    /// The conv layers, one per block.
    pub convs: Vec<Conv1d>,
    /// The max-pool shared by every block (kernel 2, stride 2).
    pub pool: MaxPool1d,
    /// The LSTM over the conv features (batch first); `None` with [`Pooling::Stats`].
    pub lstm: Option<Lstm>,
    /// How the conv features become one vector.
    #[module(skip)]
    pub pooling: Pooling,
    /// The dense + ReLU layer after the pooling (weights `[pooled, head]`), when
    /// [`SerConfig::head`] > 0.
    pub head: Option<Linear>,
    /// The classifier (weights `[pooled or head, classes]`).
    pub dense: Linear,
    /// Feature means `[dims]` (a constant: not trained, not in the record; rebuilt from the
    /// training set).
    pub mean: Tensor<1>,
    /// `1 / std` per feature `[dims]` (a constant, like `mean`).
    pub inv_std: Tensor<1>,
}

impl SerNet {
    /// A network of `config`'s shape normalizing its input with `norm`, on `device`. Weights
    /// are Glorot-uniform from `seed` (conv, LSTM input and recurrent weights, dense), biases 0
    /// except the LSTM's forget gate (1, as Keras's `unit_forget_bias`).
    pub fn new(
        config: &SerConfig,
        norm: &Normalization,
        seed: u64,
        device: &Device,
    ) -> Result<Self> {
        config.validate()?;
        if norm.mean.len() != config.dims || norm.std.len() != config.dims {
            return Err(Error::option(
                "dims",
                format!(
                    "the normalization has {} dimensions, the network takes {}",
                    norm.mean.len(),
                    config.dims
                ),
            ));
        }
        let mut rng = Rng::derive(seed, "init", 0);
        let mut convs = Vec::with_capacity(config.filters.len());
        let mut channels = config.dims;
        let k = config.kernel;
        for &filters in &config.filters {
            let mut conv = Conv1dConfig::new(channels, filters, k)
                .with_padding(PaddingConfig1d::Explicit(k / 2, k / 2))
                .with_initializer(Initializer::Zeros)
                .init(device);
            conv.weight = glorot(
                &mut rng,
                [filters, channels, k],
                channels * k,
                filters * k,
                device,
            );
            conv.bias = Some(zeros(filters, device));
            convs.push(conv);
            channels = filters;
        }
        // Draws in layer order (convs, LSTM, head, dense): a `Last` network without a head
        // gets the weights it got before pooling and heads existed.
        let lstm = if config.pooling.uses_lstm() {
            Some(lstm_layer(&mut rng, channels, config.hidden, device))
        } else {
            None
        };
        let mut width = config.pooled_width();
        let head = if config.head > 0 {
            let layer = dense_layer(&mut rng, width, config.head, device);
            width = config.head;
            Some(layer)
        } else {
            None
        };
        let dense = dense_layer(&mut rng, width, config.classes, device);
        let d = config.dims;
        Ok(Self {
            convs,
            pool: MaxPool1dConfig::new(2).init(),
            lstm,
            pooling: config.pooling,
            head,
            dense,
            mean: Tensor::from_data(TensorData::new(norm.mean.clone(), [d]), device),
            inv_std: Tensor::from_data(TensorData::new(norm.inv_std(), [d]), device),
        })
    }

    /// The logits `[batch, classes]` of raw features `[batch, frames, dims]`; `dropout_mask`
    /// (`[batch, pooled width]`, entries 0 or 1/(1-p)) is applied to the pooled vector.
    pub fn logits(&self, input: Tensor<3>, dropout_mask: Option<Tensor<2>>) -> Tensor<2> {
        let mut h = self.pooled(input);
        if let Some(mask) = dropout_mask {
            h = h * mask;
        }
        if let Some(head) = &self.head {
            h = relu(head.forward(h));
        }
        self.dense.forward(h)
    }

    /// The pooled vector `[batch, pooled width]` of raw features `[batch, frames, dims]`: the
    /// LSTM's last hidden state, the mean and standard deviation over time of the last conv
    /// block's channels, or both in that order, as [`SerNet::pooling`] says.
    pub fn pooled(&self, input: Tensor<3>) -> Tensor<2> {
        let [_, _, d] = input.dims();
        let mean: Tensor<3> = self.mean.clone().reshape([1, 1, d]);
        let scale: Tensor<3> = self.inv_std.clone().reshape([1, 1, d]);
        let mut x = ((input - mean) * scale).swap_dims(1, 2);
        for conv in &self.convs {
            x = self.pool.forward(relu(conv.forward(x)));
        }
        let mut parts = Vec::with_capacity(3);
        if let Some(lstm) = &self.lstm {
            let (_, state) = lstm.forward(x.clone().swap_dims(1, 2), None);
            parts.push(state.hidden);
        }
        if self.pooling.uses_stats() {
            let [b, c, _] = x.dims();
            let (mean, std) = time_statistics(x);
            parts.push(mean.reshape([b, c]));
            parts.push(std.reshape([b, c]));
        }
        if parts.len() == 1 {
            parts.remove(0)
        } else {
            Tensor::cat(parts, 1)
        }
    }

    /// Class probabilities `[batch, classes]` (what the exported ONNX model outputs).
    pub fn probabilities(&self, input: Tensor<3>) -> Tensor<2> {
        softmax(self.logits(input, None), 1)
    }

    /// The LSTM's hidden size (`None` without an LSTM).
    pub fn hidden(&self) -> Option<usize> {
        self.lstm.as_ref().map(|l| l.d_hidden)
    }

    /// Number of output classes.
    pub fn classes(&self) -> usize {
        self.dense.weight.shape().dims::<2>()[1]
    }

    /// The normalization the model applies (read back from its constants).
    pub fn normalization(&self) -> Result<Normalization> {
        let mean = floats(self.mean.clone().into_data())?;
        let inv = floats(self.inv_std.clone().into_data())?;
        Ok(Normalization {
            mean,
            std: inv.iter().map(|v| 1.0 / v).collect(),
        })
    }
}

impl Trainable for SerNet {
    type Config = SerConfig;
    type Data = SequenceSet;

    fn build(config: &SerConfig, seed: u64, train: &SequenceSet, device: &Device) -> Result<Self> {
        SerNet::new(config, &Normalization::of(train), seed, device)
    }

    fn check(config: &SerConfig, what: &str, set: &SequenceSet) -> Result<()> {
        config.validate()?;
        if set.is_empty() {
            return Err(Error::option("data", format!("the {what} set is empty")));
        }
        if set.frames != config.frames || set.dims != config.dims {
            return Err(Error::option(
                "data",
                format!(
                    "the {what} examples are {}x{} (frames x dims), the network takes {}x{}",
                    set.frames, set.dims, config.frames, config.dims
                ),
            ));
        }
        if set.values.len() != set.len() * set.frames * set.dims {
            return Err(Error::option(
                "data",
                format!("the {what} set's value count does not match its labels"),
            ));
        }
        if let Some(bad) = set.labels.iter().find(|l| **l >= config.classes) {
            return Err(Error::option(
                "data",
                format!(
                    "the {what} set has label {bad}, the network has {} classes",
                    config.classes
                ),
            ));
        }
        if let Some(i) = set.values.iter().position(|v| !v.is_finite()) {
            return Err(Error::option(
                "data",
                format!(
                    "the {what} set has a non-finite feature (example {})",
                    i / (set.frames * set.dims).max(1)
                ),
            ));
        }
        Ok(())
    }

    fn dropout(config: &SerConfig) -> Option<(f32, usize)> {
        Some((config.dropout, config.pooled_width()))
    }

    fn forward_logits(&self, input: Tensor<3>, dropout_mask: Option<Tensor<2>>) -> Tensor<2> {
        self.logits(input, dropout_mask)
    }
}

/// Fixed-size feature sequences (`frames x dims`, row-major, frame after frame) with a class
/// each.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SequenceSet {
    /// Frames of every example.
    pub frames: usize,
    /// Values per frame.
    pub dims: usize,
    /// All values, example after example (`len() * frames * dims`).
    pub values: Vec<f32>,
    /// The class of each example.
    pub labels: Vec<usize>,
    /// Masking applied to training batches (none by default; the trainer uses it whenever
    /// it is set on the training set).
    pub masking: Masking,
}

/// SpecAugment-style masking of training sequences (Park et al. 2019): each example of a
/// training batch gets `time_masks` spans of up to `max_time` frames and `feature_masks` spans
/// of up to `max_features` dimensions replaced by the example's own mean of each dimension (a
/// neutral value in raw feature units). Drawn from the run's seed and the epoch, so a resumed
/// run sees the same batches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Masking {
    /// Time masks per example.
    pub time_masks: usize,
    /// Longest time mask, frames.
    pub max_time: usize,
    /// Feature masks per example.
    pub feature_masks: usize,
    /// Widest feature mask, dimensions.
    pub max_features: usize,
}

impl Masking {
    /// Whether it changes anything.
    pub fn is_identity(&self) -> bool {
        (self.time_masks == 0 || self.max_time == 0)
            && (self.feature_masks == 0 || self.max_features == 0)
    }

    /// Masks `x` (`frames x dims`, row-major) in place with draws from `rng`.
    pub fn apply(&self, x: &mut [f32], frames: usize, dims: usize, rng: &mut Rng) {
        if self.is_identity() || frames == 0 || dims == 0 || x.len() != frames * dims {
            return;
        }
        let mut mean = vec![0.0f32; dims];
        for row in x.chunks_exact(dims) {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += v;
            }
        }
        for m in &mut mean {
            *m /= frames as f32;
        }
        for _ in 0..self.time_masks {
            let len = rng.below(self.max_time.min(frames) + 1);
            let start = rng.below(frames - len + 1);
            for row in x.chunks_exact_mut(dims).skip(start).take(len) {
                row.copy_from_slice(&mean);
            }
        }
        for _ in 0..self.feature_masks {
            let len = rng.below(self.max_features.min(dims) + 1);
            let start = rng.below(dims - len + 1);
            for row in x.chunks_exact_mut(dims) {
                row[start..start + len].copy_from_slice(&mean[start..start + len]);
            }
        }
    }
}

impl SequenceSet {
    /// An empty set of `frames x dims` examples.
    pub fn new(frames: usize, dims: usize) -> Self {
        Self {
            frames,
            dims,
            values: Vec::new(),
            labels: Vec::new(),
            masking: Masking::default(),
        }
    }

    /// Adds one example (`frames * dims` values). Returns `false` (and adds nothing) when the
    /// length is wrong.
    pub fn push(&mut self, values: &[f32], label: usize) -> bool {
        if values.len() != self.frames * self.dims {
            return false;
        }
        self.values.extend_from_slice(values);
        self.labels.push(label);
        true
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the set holds no example.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The values of example `i`. Panics if `i >= len()`, like slice indexing.
    pub fn example(&self, i: usize) -> &[f32] {
        let n = self.frames * self.dims;
        &self.values[i * n..(i + 1) * n]
    }

    /// The examples at `indices`, in that order (the masking stays with the set it was set on).
    pub fn subset(&self, indices: &[usize]) -> Self {
        let (values, labels) = gather(&self.values, &self.labels, self.frames * self.dims, indices);
        Self {
            values,
            labels,
            ..Self::new(self.frames, self.dims)
        }
    }

    /// Examples per class, for `classes` classes (labels beyond are not counted).
    pub fn class_counts(&self, classes: usize) -> Vec<usize> {
        class_counts(&self.labels, classes)
    }
}

impl Batches for SequenceSet {
    type Input = Tensor<3>;

    fn count(&self) -> usize {
        self.len()
    }

    fn targets(&self) -> &[usize] {
        &self.labels
    }

    fn batch(&self, indices: &[usize], device: &Device) -> (Tensor<3>, Tensor<1, Int>) {
        let (values, labels) = gather(&self.values, &self.labels, self.frames * self.dims, indices);
        let n = indices.len();
        (
            Tensor::from_data(TensorData::new(values, [n, self.frames, self.dims]), device),
            label_tensor(&labels, device),
        )
    }

    fn augments_itself(&self) -> bool {
        !self.masking.is_identity()
    }

    /// The batch with [`SequenceSet::masking`] applied (the image [`Augment`] does not apply
    /// to sequences and is ignored).
    fn augmented_batch(
        &self,
        indices: &[usize],
        _augment: &Augment,
        rng: &mut Rng,
        device: &Device,
    ) -> (Tensor<3>, Tensor<1, Int>) {
        let per = self.frames * self.dims;
        let (mut values, labels) = gather(&self.values, &self.labels, per, indices);
        // Example by example, in batch order: the same draws as masking each while gathering.
        for example in values.chunks_exact_mut(per) {
            self.masking.apply(example, self.frames, self.dims, rng);
        }
        let n = indices.len();
        (
            Tensor::from_data(TensorData::new(values, [n, self.frames, self.dims]), device),
            label_tensor(&labels, device),
        )
    }

    fn fingerprint(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |bytes: &[u8]| {
            for b in bytes {
                h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
            }
        };
        eat(&(self.frames as u64).to_le_bytes());
        eat(&(self.dims as u64).to_le_bytes());
        let m = &self.masking;
        for v in [m.time_masks, m.max_time, m.feature_masks, m.max_features] {
            eat(&(v as u64).to_le_bytes());
        }
        for l in &self.labels {
            eat(&(*l as u64).to_le_bytes());
        }
        for v in &self.values {
            eat(&v.to_bits().to_le_bytes());
        }
        h
    }
}

/// The mean and the standard deviation (population, `sqrt(var + STATS_EPSILON)`) over time of
/// `x` `[batch, channels, steps]`, each `[batch, channels, 1]`: the ops of the ONNX graph
/// (ReduceMean, Sub, Mul, ReduceMean, Add, Sqrt) in the same order.
pub fn time_statistics(x: Tensor<3>) -> (Tensor<3>, Tensor<3>) {
    let mean = x.clone().mean_dim(2);
    let centred = x - mean.clone();
    let var = (centred.clone() * centred).mean_dim(2);
    (mean, (var + STATS_EPSILON).sqrt())
}

/// An LSTM of `h` units over `channels` inputs: Glorot-uniform input and recurrent weights,
/// biases 0 except the forget gate's input bias (1, as Keras's `unit_forget_bias`).
fn lstm_layer(rng: &mut Rng, channels: usize, h: usize, device: &Device) -> Lstm {
    let mut lstm = LstmConfig::new(channels, h, true)
        .with_initializer(Initializer::Zeros)
        .init(device);
    let gates = [
        Some(&mut lstm.input_gate),
        lstm.forget_gate.as_mut(),
        Some(&mut lstm.output_gate),
        Some(&mut lstm.cell_gate),
    ];
    for (g, gate) in gates.into_iter().enumerate() {
        let Some(gate) = gate else { continue };
        gate.input_transform.weight = glorot(rng, [channels, h], channels, h, device);
        gate.hidden_transform.weight = glorot(rng, [h, h], h, h, device);
        let forget = g == 1;
        gate.input_transform.bias = Some(Param::from_data(
            TensorData::new(vec![if forget { 1.0f32 } else { 0.0 }; h], [h]),
            device,
        ));
        gate.hidden_transform.bias = Some(zeros(h, device));
    }
    lstm
}

pub(crate) fn floats(data: TensorData) -> Result<Vec<f32>> {
    data.try_to_vec::<f32>()
        .map_err(|e| Error::Export(format!("reading weights: {e:?}")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn the_device_model_is_small() {
        for c in [SerConfig::ser8(), SerConfig::ser8_last()] {
            c.validate().unwrap();
            assert_eq!(c.dims, 117);
            assert_eq!(c.lstm_steps(), 37);
            // Under 1 MB of f32 weights and about 12M multiply-adds.
            assert!(c.parameters() * 4 < 1_000_000, "{}", c.parameters());
            assert!((8_000_000..16_000_000).contains(&c.macs()), "{}", c.macs());
            let net = SerNet::new(&c, &Normalization::identity(117), 1, &Device::flex()).unwrap();
            assert_eq!(net.num_params(), c.parameters());
        }
        // The shipped figures: the statistics cost 2 x 128 x 8 dense weights more.
        assert_eq!(SerConfig::ser8_last().parameters(), 120_328);
        assert_eq!(SerConfig::ser8().parameters(), 120_328 + 2 * 128 * 8);
        assert_eq!(SerConfig::ser8().pooling, Pooling::LastAndStats);
    }

    #[test]
    fn config_errors_name_the_field() {
        let field = |c: SerConfig| match c.validate() {
            Err(Error::Option { option, .. }) => option,
            other => panic!("{other:?}"),
        };
        let ok = SerConfig {
            frames: 16,
            dims: 4,
            filters: vec![3],
            kernel: 3,
            hidden: 5,
            dropout: 0.0,
            classes: 3,
            pooling: Pooling::Last,
            head: 0,
        };
        ok.validate().unwrap();
        assert_eq!(
            field(SerConfig {
                kernel: 4,
                ..ok.clone()
            }),
            "kernel"
        );
        assert_eq!(
            field(SerConfig {
                classes: 1,
                ..ok.clone()
            }),
            "classes"
        );
        assert_eq!(
            field(SerConfig {
                filters: vec![],
                ..ok.clone()
            }),
            "filters"
        );
        assert_eq!(
            field(SerConfig {
                filters: vec![3, 0],
                ..ok.clone()
            }),
            "filters"
        );
        assert_eq!(
            field(SerConfig {
                filters: vec![2; 5],
                ..ok.clone()
            }),
            "frames"
        );
        assert_eq!(
            field(SerConfig {
                hidden: 0,
                ..ok.clone()
            }),
            "hidden"
        );
        assert_eq!(
            field(SerConfig {
                dropout: 1.0,
                ..ok.clone()
            }),
            "dropout"
        );
        assert_eq!(
            field(SerConfig {
                dims: 0,
                ..ok.clone()
            }),
            "dims"
        );
        let wrong_norm = SerNet::new(&ok, &Normalization::identity(5), 1, &Device::flex());
        assert!(matches!(
            wrong_norm,
            Err(Error::Option { option: "dims", .. })
        ));
    }

    #[test]
    fn masking_replaces_spans_by_the_example_mean() {
        // Column d alternates d*10 and d*10+1 over the frames: its mean d*10+0.5 is no value
        // it holds, so every masked value shows.
        let (frames, dims) = (20, 6);
        let x: Vec<f32> = (0..frames * dims)
            .map(|i| ((i % dims) * 10 + (i / dims) % 2) as f32)
            .collect();
        let m = Masking {
            time_masks: 1,
            max_time: 5,
            feature_masks: 1,
            max_features: 2,
        };
        let mut rng = Rng::new(4);
        let (mut most_rows, mut most_cols) = (0, 0);
        for _ in 0..50 {
            let mut y = x.clone();
            m.apply(&mut y, frames, dims, &mut rng);
            for (i, (a, b)) in y.iter().zip(&x).enumerate() {
                let mean = ((i % dims) * 10) as f32 + 0.5;
                assert!(a == b || *a == mean, "value {i}: {a}");
            }
            let changed = |t: usize, d: usize| y[t * dims + d] != x[t * dims + d];
            let rows = (0..frames)
                .filter(|&t| (0..dims).all(|d| changed(t, d)))
                .count();
            let cols = (0..dims)
                .filter(|&d| (0..frames).all(|t| changed(t, d)))
                .count();
            assert!(rows <= 5 && cols <= 2, "{rows} rows, {cols} columns");
            most_rows = most_rows.max(rows);
            most_cols = most_cols.max(cols);
        }
        assert_eq!((most_rows, most_cols), (5, 2));
        let mut y = x.clone();
        Masking::default().apply(&mut y, frames, dims, &mut rng);
        assert_eq!(y, x);
    }

    fn small(pooling: Pooling, head: usize) -> SerConfig {
        SerConfig {
            frames: 16,
            dims: 4,
            filters: vec![3, 6],
            kernel: 3,
            hidden: 5,
            dropout: 0.0,
            classes: 3,
            pooling,
            head,
        }
    }

    #[test]
    fn each_pooling_gives_its_width_and_counts_its_parameters() {
        let device = Device::flex();
        let x = Tensor::<3>::from_data(
            TensorData::new(
                (0..2 * 16 * 4)
                    .map(|i| ((i * 7) % 11) as f32 - 5.0)
                    .collect(),
                [2, 16, 4],
            ),
            &device,
        );
        for (pooling, width) in [
            (Pooling::Last, 5),
            (Pooling::LastAndStats, 5 + 2 * 6),
            (Pooling::Stats, 2 * 6),
        ] {
            for head in [0, 7] {
                let c = small(pooling, head);
                c.validate().unwrap();
                assert_eq!(c.pooled_width(), width, "{pooling}");
                let net = SerNet::new(&c, &Normalization::identity(4), 3, &device).unwrap();
                assert_eq!(net.lstm.is_some(), pooling.uses_lstm());
                assert_eq!(net.head.is_some(), head > 0);
                assert_eq!(net.num_params(), c.parameters(), "{pooling}, head {head}");
                assert_eq!(net.pooled(x.clone()).dims(), [2, width]);
                assert_eq!(net.logits(x.clone(), None).dims(), [2, 3]);
                // The dropout mask covers the pooled vector.
                assert_eq!(SerNet::dropout(&c), Some((0.0, width)));
            }
        }
        // Statistics pooling adds only the dense layer's 2 x 6 extra inputs per class; the
        // LSTM costs the same with or without it.
        let last = small(Pooling::Last, 0);
        let both = small(Pooling::LastAndStats, 0);
        let stats = small(Pooling::Stats, 0);
        assert_eq!(both.macs() - last.macs(), 2 * 6 * 3);
        assert!(stats.macs() < last.macs());
    }

    #[test]
    fn a_last_network_is_the_one_built_before_pooling_existed() {
        // Same draws in the same order: the LSTM's stats partner is absent, the dense layer is
        // [hidden, classes].
        let device = Device::flex();
        let a = SerNet::new(
            &small(Pooling::Last, 0),
            &Normalization::identity(4),
            9,
            &device,
        )
        .unwrap();
        let b = SerNet::new(
            &small(Pooling::LastAndStats, 0),
            &Normalization::identity(4),
            9,
            &device,
        )
        .unwrap();
        assert_eq!(a.dense.weight.dims(), [5, 3]);
        assert_eq!(b.dense.weight.dims(), [17, 3]);
        let lstm_weights = |n: &SerNet| -> Vec<f32> {
            floats(
                n.lstm
                    .as_ref()
                    .unwrap()
                    .input_gate
                    .input_transform
                    .weight
                    .val()
                    .into_data(),
            )
            .unwrap()
        };
        assert_eq!(lstm_weights(&a), lstm_weights(&b));
    }

    #[test]
    fn time_statistics_are_the_mean_and_population_std_of_each_channel() {
        let device = Device::flex();
        // Batch 1, channel 0 = [1, 2, 3, 4], channel 1 constant 5.
        let x = Tensor::<3>::from_data(
            TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 5.0, 5.0, 5.0], [1, 2, 4]),
            &device,
        );
        let (mean, std) = time_statistics(x);
        assert_eq!(mean.dims(), [1, 2, 1]);
        let mean = floats(mean.into_data()).unwrap();
        let std = floats(std.into_data()).unwrap();
        assert_eq!(mean, vec![2.5, 5.0]);
        assert!(
            (std[0] - (1.25f32 + STATS_EPSILON).sqrt()).abs() < 1e-6,
            "{std:?}"
        );
        assert!((std[1] - STATS_EPSILON.sqrt()).abs() < 1e-7, "{std:?}");
    }

    #[test]
    fn configs_without_pooling_mean_the_last_hidden_state() {
        // A manifest's `network.config` from before pooling existed.
        let old = r#"{"classes":8,"dims":117,"dropout":0.5,"filters":[32,64,128],
            "frames":300,"hidden":64,"kernel":5}"#;
        let c: SerConfig = serde_json::from_str(old).unwrap();
        let expected = SerConfig {
            frames: 300,
            dims: 117,
            filters: vec![32, 64, 128],
            kernel: 5,
            hidden: 64,
            dropout: 0.5,
            classes: 8,
            pooling: Pooling::Last,
            head: 0,
        };
        assert_eq!(c, expected);
        assert_eq!(c, SerConfig::ser8_last());
        assert_eq!(c.pooling, Pooling::Last);
        assert_eq!(c.head, 0);
        let json = serde_json::to_value(small(Pooling::LastAndStats, 4)).unwrap();
        assert_eq!(json["pooling"], "last_and_stats");
        for p in Pooling::ALL {
            assert_eq!(p.name().parse::<Pooling>().unwrap(), p);
            assert_eq!(serde_json::to_value(p).unwrap(), p.name());
        }
        assert!(matches!(
            "mean".parse::<Pooling>(),
            Err(Error::Option {
                option: "pooling",
                ..
            })
        ));
        // Without an LSTM the hidden size does not matter; a huge head is refused.
        let mut stats = small(Pooling::Stats, 0);
        stats.hidden = 0;
        stats.validate().unwrap();
        stats.head = 5000;
        assert!(matches!(
            stats.validate(),
            Err(Error::Option { option: "head", .. })
        ));
    }

    #[test]
    fn normalization_is_per_dimension() {
        let mut set = SequenceSet::new(2, 2);
        assert!(set.push(&[1.0, 5.0, 3.0, 5.0], 0));
        assert!(set.push(&[1.0, 5.0, 3.0, 5.0], 1));
        assert!(!set.push(&[1.0], 1));
        let n = Normalization::of(&set);
        assert_eq!(n.mean, vec![2.0, 5.0]);
        assert_eq!(n.std, vec![1.0, Normalization::MIN_STD]);
    }
}
