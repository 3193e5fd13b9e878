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
use burn::tensor::{Device, Tensor, TensorData};
use sentio_audio::FeatureConfig;
pub use sentio_audio::{SpeechInput as SerInput, fit_frames};
use sentio_models::Figures;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::data::Sequence;
pub use crate::data::{Masking, SequenceSet};
use crate::error::{Error, Result};
use crate::export::{Exportable, floats};
use crate::init::{dense_layer, glorot, zeros};
use crate::job::{ClassAssessment, Deployable};
use crate::rng::Rng;
use crate::trainer::{CrossEntropy, Trainable};

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
        let d = set.shape.dims;
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
    type Shape = Sequence;
    type Objective = CrossEntropy;

    fn build(config: &SerConfig, seed: u64, train: &SequenceSet, device: &Device) -> Result<Self> {
        SerNet::new(config, &Normalization::of(train), seed, device)
    }

    fn validate(config: &SerConfig) -> Result<()> {
        config.validate()
    }

    fn shape(config: &SerConfig) -> Sequence {
        Sequence {
            frames: config.frames,
            dims: config.dims,
        }
    }

    fn classes(config: &SerConfig) -> usize {
        config.classes
    }

    fn dropout(config: &SerConfig) -> Option<(f32, usize)> {
        Some((config.dropout, config.pooled_width()))
    }

    fn forward_logits(&self, input: Tensor<3>, dropout_mask: Option<Tensor<2>>) -> Tensor<2> {
        self.logits(input, dropout_mask)
    }
}

impl Exportable for SerNet {
    fn to_onnx(&self, config: &SerConfig, graph_name: &str) -> Result<Vec<u8>> {
        export::to_onnx(self, config.frames, graph_name)
    }

    fn probabilities(&self, input: Tensor<3>) -> Tensor<2> {
        SerNet::probabilities(self, input)
    }
}

impl Deployable for SerNet {
    type Assessment = ClassAssessment;

    fn describe(&self, config: &SerConfig) -> Value {
        json!({
            "config": config, "parameters": self.num_params(), "macs": config.macs(),
            "graph": config.graph_description(),
        })
    }

    /// The input normalization the graph applies (statistics of the training set).
    fn training_figures(&self) -> Result<Figures> {
        let norm = self.normalization()?;
        Ok(Figures::from([(
            "normalization".to_owned(),
            json!({ "mean": norm.mean, "std": norm.std, "in_graph": true }),
        )]))
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
        let mut set = SequenceSet::new(Sequence { frames: 2, dims: 2 });
        assert!(set.push(&[1.0, 5.0, 3.0, 5.0], 0));
        assert!(set.push(&[1.0, 5.0, 3.0, 5.0], 1));
        assert!(!set.push(&[1.0], 1));
        let n = Normalization::of(&set);
        assert_eq!(n.mean, vec![2.0, 5.0]);
        assert_eq!(n.std, vec![1.0, Normalization::MIN_STD]);
    }
}
