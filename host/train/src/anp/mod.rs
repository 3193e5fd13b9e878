//! The ANP tagger: a small CNN that tells which of the 32 adjective-noun pairs of `anp32` a
//! kiosk scene shows, each independently (multi-label: one sigmoid per pair, not a softmax).
//!
//! - [`AnpConfig`] / [`AnpNet`]: a conv 3x3 stem on the RGB image, depthwise-separable
//!   blocks with batch norm, ReLU and max-pool 2x2, then the global maximum and mean of each
//!   channel (a pair can be anywhere in the scene), dropout, one dense layer to the 32 pairs;
//!   sigmoid at inference.
//! - [`SceneImages`]: the scenes in memory as planar RGB with their 0/1 targets, batched and
//!   augmented (mirror, shift) for training.
//! - [`metrics`]: the figures a multi-label tagger is judged by (top-1 precision, top-k recall,
//!   average precision, per-pair precision/recall/F1 at a threshold).
//! - [`export`]: the ONNX graph (batch norms folded into the convs; `GlobalMaxPool` and
//!   `GlobalAveragePool` concatenated, `Gemm`, `Sigmoid`) and its check against burn in tract.
//! - [`job`]: the loop (binary cross-entropy on the logits, Adam, the trainer's schedule and
//!   augmentation options, the best-validation-mAP epoch kept) and the `anp` job
//!   ([`train_anp`]: a scene set to the files in `--out`).
//!
//! Why not [`crate::train_model`]: the trainer's loop, its checkpoints and its `Batches` are
//! built around one class index per example and cross-entropy; a multi-label target is a 0/1
//! vector and its loss a sum of binary cross-entropies. The loop here keeps the trainer's
//! options, schedule, seeded streams, history and progress reporting.

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

use crate::cnn::dense_layer;
use crate::error::{Error, Result};
use crate::fer::{ConvNorm, SeparableNorm};
use crate::rng::Rng;
use crate::trainer::Augment;

pub use job::{AnpOptions, AnpReport, train_anp};
pub use metrics::{LabelFigures, TaggerFigures};

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

/// Scenes in memory: square RGB images (planar, values in 0..1) with a 0/1 target per label.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SceneImages {
    /// Width and height of every image.
    pub side: usize,
    /// Labels per image (the width of a target).
    pub classes: usize,
    /// All pixels, image after image, each `[3, side, side]`.
    pub pixels: Vec<f32>,
    /// All targets, image after image, `classes` values of 0 or 1 each.
    pub targets: Vec<f32>,
}

impl SceneImages {
    /// An empty set of `side`x`side` RGB images with `classes` labels.
    pub fn new(side: usize, classes: usize) -> Self {
        Self {
            side,
            classes,
            pixels: Vec::new(),
            targets: Vec::new(),
        }
    }

    /// Values per image.
    fn per_image(&self) -> usize {
        3 * self.side * self.side
    }

    /// Adds one image (`3 * side * side` planar values) showing the labels `labels`. Returns
    /// `false` (and adds nothing) when the length is wrong or a label is out of range.
    pub fn push(&mut self, pixels: &[f32], labels: &[usize]) -> bool {
        if pixels.len() != self.per_image() || labels.iter().any(|&l| l >= self.classes) {
            return false;
        }
        self.pixels.extend_from_slice(pixels);
        let start = self.targets.len();
        self.targets.resize(start + self.classes, 0.0);
        for &l in labels {
            self.targets[start + l] = 1.0;
        }
        true
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.targets.len() / self.classes.max(1)
    }

    /// Whether the set holds no image.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// The pixels of image `i`.
    pub fn image(&self, i: usize) -> &[f32] {
        let n = self.per_image();
        &self.pixels[i * n..(i + 1) * n]
    }

    /// The target of image `i`.
    pub fn target(&self, i: usize) -> &[f32] {
        &self.targets[i * self.classes..(i + 1) * self.classes]
    }

    /// The labels image `i` shows, ascending.
    pub fn labels_of(&self, i: usize) -> Vec<usize> {
        self.target(i)
            .iter()
            .enumerate()
            .filter(|(_, t)| **t > 0.5)
            .map(|(l, _)| l)
            .collect()
    }

    /// Images showing each label.
    pub fn counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes];
        for i in 0..self.len() {
            for l in self.labels_of(i) {
                counts[l] += 1;
            }
        }
        counts
    }

    /// The images at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Self {
        let mut out = Self::new(self.side, self.classes);
        out.pixels.reserve(indices.len() * self.per_image());
        for &i in indices {
            out.pixels.extend_from_slice(self.image(i));
            out.targets.extend_from_slice(self.target(i));
        }
        out
    }

    /// The images at `indices` as an input tensor `[n, 3, side, side]` and their targets
    /// `[n, classes]`.
    pub fn batch(&self, indices: &[usize], device: &Device) -> (Tensor<4>, Tensor<2>) {
        let subset = self.subset(indices);
        subset.into_tensors(device)
    }

    /// Like [`SceneImages::batch`], each image mirrored half of the time (when
    /// `augment.mirror`) and shifted by up to `augment.max_shift` pixels, the edge pixels
    /// filling in; the same mirror and shift for the three channels. Every `anp32` pair is
    /// left-right symmetric, so a mirrored scene keeps its targets.
    pub fn augmented_batch(
        &self,
        indices: &[usize],
        augment: &Augment,
        rng: &mut Rng,
        device: &Device,
    ) -> (Tensor<4>, Tensor<2>) {
        let side = self.side;
        let mut out = Self::new(side, self.classes);
        out.pixels.reserve(indices.len() * self.per_image());
        let span = 2 * augment.max_shift + 1;
        let last = side as isize - 1;
        for &i in indices {
            let image = self.image(i);
            let mirror = augment.mirror && rng.below(2) == 1;
            let dx = rng.below(span) as isize - augment.max_shift as isize;
            let dy = rng.below(span) as isize - augment.max_shift as isize;
            for plane in image.chunks(side * side) {
                for y in 0..side as isize {
                    let sy = (y - dy).clamp(0, last) as usize;
                    let row = &plane[sy * side..(sy + 1) * side];
                    for x in 0..side as isize {
                        let sx = (x - dx).clamp(0, last);
                        let sx = if mirror { last - sx } else { sx } as usize;
                        out.pixels.push(row[sx]);
                    }
                }
            }
            out.targets.extend_from_slice(self.target(i));
        }
        out.into_tensors(device)
    }

    fn into_tensors(self, device: &Device) -> (Tensor<4>, Tensor<2>) {
        let n = self.len();
        (
            Tensor::from_data(
                TensorData::new(self.pixels, [n, 3, self.side, self.side]),
                device,
            ),
            Tensor::from_data(TensorData::new(self.targets, [n, self.classes]), device),
        )
    }
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
    fn a_mirrored_batch_mirrors_every_channel_and_keeps_the_targets() {
        let device = Device::flex();
        let side = 4;
        let mut set = SceneImages::new(side, 3);
        let mut image = vec![0.0; 3 * side * side];
        // A bright pixel at (x=0, y=1) in the red plane and at (x=1, y=2) in the blue one.
        image[side] = 1.0;
        image[2 * side * side + 2 * side + 1] = 1.0;
        assert!(set.push(&image, &[0, 2]));
        assert!(!set.push(&image, &[3]));
        assert!(!set.push(&image[1..], &[0]));
        let mirror = Augment {
            mirror: true,
            max_shift: 0,
        };
        let mut rng = Rng::new(3);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..16 {
            let (input, targets) = set.augmented_batch(&[0], &mirror, &mut rng, &device);
            assert_eq!(values(targets), vec![1.0, 0.0, 1.0]);
            let px = values(input);
            let bright: Vec<usize> = (0..px.len()).filter(|&i| px[i] == 1.0).collect();
            seen.insert(bright);
        }
        let plain = vec![side, 2 * side * side + 2 * side + 1];
        let mirrored = vec![side + 3, 2 * side * side + 2 * side + 2];
        assert_eq!(seen, [plain, mirrored].into_iter().collect());
        assert_eq!(set.labels_of(0), vec![0, 2]);
        assert_eq!(set.counts(), vec![1, 0, 1]);
    }
}
