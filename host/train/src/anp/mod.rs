//! The ANP tagger: a small CNN that tells which of the 32 adjective-noun pairs of `anp32` a
//! kiosk scene shows, each independently (multi-label: one sigmoid per pair, not a softmax).
//!
//! - [`AnpConfig`] / [`AnpNet`]: a conv 3x3 stem on the RGB image, depthwise-separable
//!   blocks with batch norm, ReLU and max-pool 2x2, then the global maximum and mean of each
//!   channel (a pair can be anywhere in the scene), dropout, one dense layer to the 32 pairs;
//!   sigmoid at inference.
//! - [`SceneImages`]: the scenes in memory, RGB [`Examples`] with a 0/1 target per pair
//!   ([`Tags`]), trained toward [`Tagging`]: binary cross-entropy on the logits, the best epoch
//!   chosen by the validation mean average precision. The trainer's loop, options, seeded
//!   streams and checkpoints serve it as they serve the classifiers.
//! - [`metrics`]: the figures a multi-label tagger is judged by (top-1 precision, top-k recall,
//!   average precision, per-pair precision/recall/F1 at a threshold).
//! - [`export`]: the ONNX graph (batch norms folded into the convs; `GlobalMaxPool` and
//!   `GlobalAveragePool` concatenated, `Gemm`, `Sigmoid`).
//! - [`job`]: the `anp` job ([`train_anp`]: a scene set to the files in `--out`, through the
//!   shared [`crate::job`] tail, judged by [`job::TaggerAssessment`]).

pub mod export;
pub mod job;
pub mod metrics;

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNormConfig, Initializer, Linear, PaddingConfig2d};
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::data::{Examples, Fingerprint, Image, Labels, Shape};
use crate::error::{Error, Result};
use crate::export::Exportable;
use crate::fer::{ConvNorm, SeparableNorm};
use crate::init::dense_layer;
use crate::job::Deployable;
use crate::rng::Rng;
use crate::trainer::{Objective, Tally, Trainable};

pub use job::{AnpOptions, AnpReport, TaggerAssessment, train_anp};
use metrics::ranking;
pub use metrics::{LabelFigures, TaggerFigures};

/// The threshold of the per-pair precision/recall/F1 (and of "the model says it is there").
pub const THRESHOLD: f32 = 0.5;

/// The shape of an [`AnpNet`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnpConfig {
    /// Input width and height in pixels (three RGB channels).
    pub side: usize,
    /// Outputs: one independent probability per label.
    pub classes: usize,
    /// Filters of the stem: a full conv 3x3 with stride 2 (zero padding 1) on the RGB image,
    /// batch norm, ReLU, max-pool 2x2: the map is a quarter of the image's side. (At full
    /// resolution the stem and its batch norm cost 4x as much, most of an epoch.)
    pub stem: usize,
    /// Filters of each following block: a depthwise-separable conv (depthwise 3x3 padding 1,
    /// pointwise 1x1), batch norm, ReLU.
    pub blocks: Vec<usize>,
    /// How many of the blocks, from the first, end with a max-pool 2x2.
    pub pooled: usize,
    /// Dropout before the dense layer, while training.
    pub dropout: f32,
}

impl AnpConfig {
    /// The shipped tagger: 64x64 RGB in, a stem of 24 filters (to 16x16), blocks of 48 (then
    /// pooled to 8x8), 96 and 128, the global maximum and mean of each channel (256 features),
    /// no dropout (it underfits in its time budget), 32 outputs.
    pub fn anp32() -> Self {
        Self {
            side: 64,
            classes: sentio_models::ANP32.len(),
            stem: 24,
            blocks: vec![48, 96, 128],
            pooled: 1,
            dropout: 0.0,
        }
    }

    /// Width (= height) of the last feature map.
    pub fn final_side(&self) -> usize {
        let after_stem = self.side.div_ceil(2) / 2;
        (0..self.pooled.min(self.blocks.len())).fold(after_stem, |s, _| s / 2)
    }

    /// Channels of the last feature map.
    pub fn channels(&self) -> usize {
        self.blocks.last().copied().unwrap_or(self.stem)
    }

    /// Number of features going into the dense layer: the global maximum and mean of each
    /// channel of the last map.
    pub fn features(&self) -> usize {
        2 * self.channels()
    }

    /// Multiply-accumulates of one forward pass (convs and the dense layer).
    pub fn macs(&self) -> usize {
        let strided = self.side.div_ceil(2);
        let mut macs = strided * strided * self.stem * 3 * 9;
        let mut side = strided / 2;
        let mut channels = self.stem;
        for (i, &filters) in self.blocks.iter().enumerate() {
            macs += side * side * channels * (9 + filters);
            channels = filters;
            if i < self.pooled {
                side /= 2;
            }
        }
        macs + self.features() * self.classes
    }

    /// Checks that the network can be built.
    pub fn validate(&self) -> Result<()> {
        if self.classes == 0 {
            return Err(Error::option("classes", "at least one output is needed"));
        }
        if self.stem == 0 || self.blocks.contains(&0) {
            return Err(Error::option(
                "filters",
                "the stem and every block need at least one filter",
            ));
        }
        if self.pooled > self.blocks.len() {
            return Err(Error::option(
                "pooled",
                "cannot pool after more blocks than there are",
            ));
        }
        if self.final_side() == 0 {
            return Err(Error::option(
                "side",
                format!(
                    "a {0}x{0} input is too small for the stem and {1} pooled blocks",
                    self.side, self.pooled
                ),
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::option("dropout", "must be in [0, 1)"));
        }
        Ok(())
    }
}

/// The network. Its weights come from the run's seed (see [`crate::rng`]).
#[derive(Module, Debug)]
pub struct AnpNet {
    /// The stem's conv 3x3 and batch norm.
    pub stem: ConvNorm,
    /// The depthwise-separable blocks.
    pub blocks: Vec<SeparableNorm>,
    /// The max-pool 2x2 after the stem and the first `pooled` blocks.
    pub pool: MaxPool2d,
    /// How many blocks end with the pool.
    #[module(skip)]
    pub pooled: usize,
    /// The dense layer (weights `[features, classes]`).
    pub dense: Linear,
}

impl AnpNet {
    /// A network of `config`'s shape on `device`: He-uniform conv weights (they feed batch
    /// norms and ReLUs), Glorot-uniform dense weights, zero biases, batch norms at identity,
    /// all drawn from `seed`.
    pub fn new(config: &AnpConfig, seed: u64, device: &Device) -> Result<Self> {
        config.validate()?;
        let mut rng = Rng::derive(seed, "anp-init", 0);
        let stem = ConvNorm {
            conv: conv(&mut rng, [3, config.stem], 3, 1, 2, device),
            norm: BatchNormConfig::new(config.stem).init(device),
        };
        let mut blocks = Vec::with_capacity(config.blocks.len());
        let mut channels = config.stem;
        for &filters in &config.blocks {
            blocks.push(SeparableNorm {
                depthwise: conv(&mut rng, [channels, channels], 3, channels, 1, device),
                pointwise: ConvNorm {
                    conv: conv(&mut rng, [channels, filters], 1, 1, 1, device),
                    norm: BatchNormConfig::new(filters).init(device),
                },
            });
            channels = filters;
        }
        let dense = dense_layer(&mut rng, config.features(), config.classes, device);
        Ok(Self {
            stem,
            blocks,
            pool: MaxPool2dConfig::new([2, 2]).init(),
            pooled: config.pooled,
            dense,
        })
    }

    /// The pooled features `[batch, features]` of `input` `[batch, 3, side, side]`: the
    /// maximum of each channel of the last map, then its mean.
    fn features_of(&self, input: Tensor<4>) -> Tensor<2> {
        let mut x = self
            .pool
            .forward(relu(self.stem.norm.forward(self.stem.conv.forward(input))));
        for (i, block) in self.blocks.iter().enumerate() {
            let y = block.depthwise.forward(x);
            x = relu(
                block
                    .pointwise
                    .norm
                    .forward(block.pointwise.conv.forward(y)),
            );
            if i < self.pooled {
                x = self.pool.forward(x);
            }
        }
        let [n, c, _, _] = x.dims();
        let max: Tensor<2> = x.clone().max_dim(3).max_dim(2).reshape([n, c]);
        let mean: Tensor<2> = x.mean_dim(3).mean_dim(2).reshape([n, c]);
        Tensor::cat(vec![max, mean], 1)
    }

    /// The logits `[batch, classes]` of `input` `[batch, 3, side, side]`; `dropout_mask`
    /// (`[batch, features]`, entries 0 or 1/(1-p)) is applied before the dense layer when given.
    pub fn logits(&self, input: Tensor<4>, dropout_mask: Option<Tensor<2>>) -> Tensor<2> {
        let mut x = self.features_of(input);
        if let Some(mask) = dropout_mask {
            x = x * mask;
        }
        self.dense.forward(x)
    }

    /// Independent probabilities `[batch, classes]` (what the exported ONNX model outputs).
    pub fn probabilities(&self, input: Tensor<4>) -> Tensor<2> {
        sigmoid(self.logits(input, None))
    }

    /// Start each output at its label's base rate in `rates` (fractions of the training images
    /// showing it): dense bias `ln(p / (1 - p))`. A pair shows in about one scene in six;
    /// from a zero bias (probability 0.5 everywhere) the first epoch went mostly into pushing
    /// all 32 outputs down.
    pub fn set_base_rates(&mut self, rates: &[f32], device: &Device) {
        let bias: Vec<f32> = rates
            .iter()
            .map(|&p| {
                let p = p.clamp(1e-3, 1.0 - 1e-3);
                (p / (1.0 - p)).ln()
            })
            .collect();
        let n = bias.len();
        self.dense.bias = Some(Param::from_data(TensorData::new(bias, [n]), device));
    }

    /// Number of features going into the dense layer.
    pub fn features(&self) -> usize {
        self.dense.weight.shape().dims::<2>()[0]
    }

    /// Number of outputs.
    pub fn classes(&self) -> usize {
        self.dense.weight.shape().dims::<2>()[1]
    }

    /// Learnt parameters (burn's `num_params` also counts the batch norms' running
    /// statistics, which are not learnt).
    pub fn trainable_params(&self) -> usize {
        let running: usize = std::iter::once(&self.stem.norm)
            .chain(self.blocks.iter().map(|b| &b.pointwise.norm))
            .map(|n| n.running_mean.value().dims()[0] * 2)
            .sum();
        self.num_params() - running
    }
}

/// A conv `channels[0] -> channels[1]` with a square `kernel`, zero padding `kernel / 2`, no
/// bias (a batch norm follows), `groups` groups, `stride`, He-uniform weights from `rng`.
fn conv(
    rng: &mut Rng,
    channels: [usize; 2],
    kernel: usize,
    groups: usize,
    stride: usize,
    device: &Device,
) -> Conv2d {
    let [c_in, c_out] = channels;
    let pad = kernel / 2;
    let mut layer = Conv2dConfig::new([c_in, c_out], [kernel, kernel])
        .with_groups(groups)
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
        .with_bias(false)
        .with_initializer(Initializer::Zeros)
        .init(device);
    let per_group_in = c_in / groups.max(1);
    let fan_in = per_group_in * kernel * kernel;
    // He-uniform: uniform in ±sqrt(6 / fan_in), the variance a ReLU layer keeps.
    let limit = (6.0 / fan_in as f32).sqrt();
    let n = c_out * fan_in;
    let data: Vec<f32> = (0..n).map(|_| rng.uniform(-limit, limit)).collect();
    layer.weight = Param::from_data(
        TensorData::new(data, [c_out, per_group_in, kernel, kernel]),
        device,
    );
    layer
}

impl Trainable for AnpNet {
    type Config = AnpConfig;
    type Shape = Image;
    type Objective = Tagging;

    /// [`AnpNet::new`], each output started at its pair's rate in `train`.
    fn build(config: &AnpConfig, seed: u64, train: &SceneImages, device: &Device) -> Result<Self> {
        let mut net = AnpNet::new(config, seed, device)?;
        let rates: Vec<f32> = train
            .counts(config.classes)
            .iter()
            .map(|&c| c as f32 / train.len() as f32)
            .collect();
        net.set_base_rates(&rates, device);
        Ok(net)
    }

    fn validate(config: &AnpConfig) -> Result<()> {
        config.validate()
    }

    fn shape(config: &AnpConfig) -> Image {
        Image::rgb(config.side)
    }

    fn classes(config: &AnpConfig) -> usize {
        config.classes
    }

    fn dropout(config: &AnpConfig) -> Option<(f32, usize)> {
        Some((config.dropout, config.features()))
    }

    fn forward_logits(&self, input: Tensor<4>, dropout_mask: Option<Tensor<2>>) -> Tensor<2> {
        self.logits(input, dropout_mask)
    }
}

impl Exportable for AnpNet {
    fn to_onnx(&self, config: &AnpConfig, graph_name: &str) -> Result<Vec<u8>> {
        export::to_onnx(self, config.side, graph_name)
    }

    fn probabilities(&self, input: Tensor<4>) -> Tensor<2> {
        AnpNet::probabilities(self, input)
    }
}

impl Deployable for AnpNet {
    type Assessment = TaggerAssessment;

    fn describe(&self, config: &AnpConfig) -> Value {
        json!({
            "stem": {
                "filters": config.stem, "kernel": [3, 3], "stride": 2, "padding": 1,
            },
            "blocks": {"filters": config.blocks, "kind": "depthwise 3x3 + pointwise 1x1"},
            "batch_norm": "after each conv (folded into it on export)",
            "activation": "relu", "pool": [2, 2], "head": "global max + global mean",
            "dropout": config.dropout, "dense": config.classes,
            "output": "sigmoid", "parameters": self.trainable_params(),
            "macs": config.macs(),
        })
    }
}

/// A 0/1 target per label for every example (multi-label: an example may show several).
#[derive(Clone, Debug, PartialEq)]
pub struct Tags {
    /// Labels per example (the width of a target).
    pub classes: usize,
    /// All targets, example after example, `classes` values of 0 or 1 each.
    pub targets: Vec<f32>,
}

impl Tags {
    /// No targets yet, of `classes` labels each.
    pub fn new(classes: usize) -> Self {
        Self {
            classes,
            targets: Vec::new(),
        }
    }

    /// The target of example `i`.
    pub fn target(&self, i: usize) -> &[f32] {
        &self.targets[i * self.classes..(i + 1) * self.classes]
    }

    /// The labels example `i` shows, ascending.
    pub fn labels_of(&self, i: usize) -> Vec<usize> {
        shown(self.target(i))
    }
}

/// The labels a 0/1 target shows, ascending.
fn shown(target: &[f32]) -> Vec<usize> {
    target
        .iter()
        .enumerate()
        .filter(|(_, t)| **t > 0.5)
        .map(|(l, _)| l)
        .collect()
}

impl Labels for Tags {
    /// `[batch, classes]` of 0 or 1.
    type Target = Tensor<2>;

    fn count(&self) -> usize {
        self.targets.len() / self.classes.max(1)
    }

    fn subset(&self, indices: &[usize]) -> Self {
        let mut out = Self::new(self.classes);
        out.targets.reserve(indices.len() * self.classes);
        for &i in indices {
            out.targets.extend_from_slice(self.target(i));
        }
        out
    }

    fn target(&self, indices: &[usize], device: &Device) -> Tensor<2> {
        let targets = self.subset(indices).targets;
        Tensor::from_data(
            TensorData::new(targets, [indices.len(), self.classes]),
            device,
        )
    }

    fn misfit(&self, what: &str, classes: usize) -> Option<String> {
        (self.classes != classes).then(|| {
            format!(
                "the {what} set has {} labels per example, the network has {classes} outputs",
                self.classes
            )
        })
    }

    fn counts(&self, classes: usize) -> Vec<usize> {
        let mut counts = vec![0; classes];
        for i in 0..self.count() {
            for l in self.labels_of(i) {
                if let Some(c) = counts.get_mut(l) {
                    *c += 1;
                }
            }
        }
        counts
    }

    fn fingerprint(&self, fp: &mut Fingerprint) {
        fp.number(self.classes);
        fp.floats(&self.targets);
    }
}

/// Scenes in memory: square RGB images (planar, values in 0..1) with a 0/1 target per label.
pub type SceneImages = Examples<Image, Tags>;

impl<S: Shape> Examples<S, Tags> {
    /// Adds one example (`shape.size()` values) showing the labels `labels`. Returns `false`
    /// (and adds nothing) when the length is wrong or a label is out of range.
    pub fn push(&mut self, values: &[f32], labels: &[usize]) -> bool {
        let classes = self.labels.classes;
        if values.len() != self.shape.size() || labels.iter().any(|&l| l >= classes) {
            return false;
        }
        self.values.extend_from_slice(values);
        let start = self.labels.targets.len();
        self.labels.targets.resize(start + classes, 0.0);
        for &l in labels {
            self.labels.targets[start + l] = 1.0;
        }
        true
    }
}

/// What the tagger is trained toward: binary cross-entropy on the logits of each label; the
/// best epoch is the one with the best mean average precision.
#[derive(Clone, Copy, Debug)]
pub struct Tagging;

impl Objective for Tagging {
    type Labels = Tags;
    type Tally = TagTally;
    const LOSS: &'static str = "binary_cross_entropy";
    const FIGURE: &'static str = "mean_average_precision";
    const EVAL_BATCH: usize = 128;

    fn new(_device: &Device) -> Self {
        Tagging
    }

    fn loss(&self, logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
        binary_cross_entropy(logits, targets)
    }
}

/// The scores and true labels of the batches so far: the running top-1 precision while
/// training, the mean average precision at the end (at [`THRESHOLD`]).
#[derive(Clone, Debug, Default)]
pub struct TagTally {
    top1_hits: usize,
    scores: Vec<Vec<f32>>,
    truth: Vec<Vec<usize>>,
}

impl Tally<Tensor<2>> for TagTally {
    fn add(&mut self, logits: &Tensor<2>, targets: &Tensor<2>) -> Result<()> {
        let [_, classes] = logits.dims();
        let scores = rows(sigmoid(logits.clone().detach()), classes)?;
        let truth = rows(targets.clone(), classes)?;
        for (row, target) in scores.into_iter().zip(truth) {
            let shows = shown(&target);
            if ranking(&row).first().is_some_and(|l| shows.contains(l)) {
                self.top1_hits += 1;
            }
            self.scores.push(row);
            self.truth.push(shows);
        }
        Ok(())
    }

    fn running(&self) -> f32 {
        self.top1_hits as f32 / self.scores.len() as f32
    }

    fn total(&self) -> f32 {
        let classes = self.scores.first().map_or(0, Vec::len);
        let labels: Vec<String> = (0..classes).map(|l| l.to_string()).collect();
        TaggerFigures::new(&labels, &self.scores, &self.truth, THRESHOLD).mean_average_precision
    }
}

/// The rows of a `[n, classes]` tensor.
fn rows(tensor: Tensor<2>, classes: usize) -> Result<Vec<Vec<f32>>> {
    let values = tensor
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .map_err(|e| Error::Eval(format!("reading the scores: {e:?}")))?;
    Ok(values.chunks(classes.max(1)).map(<[f32]>::to_vec).collect())
}

/// Mean binary cross-entropy of `logits` against 0/1 `targets` (same shape), computed from the
/// logits (`max(x, 0) - x t + ln(1 + e^-|x|)`), so a confident wrong logit gives a large finite
/// loss instead of `ln 0`.
pub fn binary_cross_entropy(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    let positive = logits.clone().clamp_min(0.0);
    let soft = logits.clone().abs().neg().exp().log1p();
    (positive - logits * targets + soft).mean()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn shapes_and_probabilities() {
        let device = Device::flex();
        let config = AnpConfig {
            side: 16,
            classes: 5,
            stem: 4,
            blocks: vec![6, 8],
            pooled: 1,
            dropout: 0.2,
        };
        assert_eq!(config.final_side(), 2);
        assert_eq!(config.features(), 16);
        let net = AnpNet::new(&config, 1, &device).unwrap();
        let convs = 4 * 3 * 9 + (4 * 9 + 4 * 6) + (6 * 9 + 6 * 8);
        let norms = 2 * (4 + 6 + 8);
        assert_eq!(net.trainable_params(), convs + norms + 16 * 5 + 5);
        let p = values(net.probabilities(Tensor::<4>::ones([2, 3, 16, 16], &device)));
        assert_eq!(p.len(), 10);
        assert!(p.iter().all(|v| (0.0..=1.0).contains(v)));
        assert!(
            AnpConfig {
                side: 2,
                ..config.clone()
            }
            .validate()
            .is_err()
        );
        assert_eq!(AnpConfig::anp32().final_side(), 8);
        assert!(
            AnpConfig {
                pooled: 3,
                ..config
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn binary_cross_entropy_matches_the_formula() {
        let device = Device::flex();
        let logits = Tensor::<2>::from_data(
            TensorData::new(vec![2.0f32, -1.0, 0.0, 30.0], [2, 2]),
            &device,
        );
        let targets = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, 0.0, 1.0, 0.0], [2, 2]),
            &device,
        );
        let loss = values(binary_cross_entropy(logits, targets))[0];
        let p = |x: f32| 1.0 / (1.0 + (-x).exp());
        let expected = (-(p(2.0).ln()) - (1.0 - p(-1.0)).ln() - p(0.0).ln() + 30.0) / 4.0;
        assert!((loss - expected).abs() < 1e-4, "{loss} vs {expected}");
    }

    #[test]
    fn tags_push_count_and_batch_their_targets() {
        let device = Device::flex();
        let mut set = SceneImages::with_labels(Image::rgb(1), Tags::new(3));
        assert!(set.push(&[0.0; 3], &[0, 2]));
        assert!(set.push(&[0.5; 3], &[1]));
        assert!(!set.push(&[0.0; 3], &[3]));
        assert!(!set.push(&[0.0; 2], &[0]));
        assert_eq!(set.len(), 2);
        assert_eq!(set.labels.labels_of(0), vec![0, 2]);
        assert_eq!(set.counts(3), vec![1, 1, 1]);
        let (input, targets) = set.batch(&[1, 0], &device);
        assert_eq!(input.dims(), [2, 3, 1, 1]);
        assert_eq!(values(targets), vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0]);
        assert_eq!(set.subset(&[1]).labels.targets, vec![0.0, 1.0, 0.0]);
        assert!(set.labels.misfit("training", 4).is_some());
    }

    #[test]
    fn the_tally_counts_top1_hits_and_gives_the_map() {
        let device = Device::flex();
        // Two examples: the first's best logit is a label it shows, the second's is not.
        let logits = Tensor::<2>::from_data(
            TensorData::new(vec![3.0f32, -1.0, 0.0, 2.0], [2, 2]),
            &device,
        );
        let targets = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, 0.0, 1.0, 0.0], [2, 2]),
            &device,
        );
        let mut tally = TagTally::default();
        assert!(tally.add(&logits, &targets).is_ok());
        assert_eq!(tally.running(), 0.5);
        // Label 0: both examples show it (AP 1); label 1: none does (not counted).
        assert_eq!(tally.total(), 1.0);
    }
}
