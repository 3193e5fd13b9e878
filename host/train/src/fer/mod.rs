//! The facial-expression CNN: a mini-Xception (Arriaga et al., "Real-time Convolutional Neural
//! Networks for Emotion and Gender Classification", 2017) for 48x48 gray faces, small enough
//! for a Pi Zero 2 W (about 57k parameters and 5.5M multiply-adds for `fer7`).
//!
//! ```text
//! stem:    (conv 3x3 valid, no bias -> batch norm -> ReLU) per entry of `stem`
//! module:  x -> sep 3x3 -> BN -> ReLU -> sep 3x3 -> BN -> max-pool 3x3/2 pad 1 -> (+)
//!          x -> conv 1x1 stride 2 -> BN ---------------------------------------> (+)
//!          (sep = depthwise conv 3x3 pad 1 with groups = channels, then pointwise conv 1x1)
//! head:    conv 3x3 pad 1 to the classes -> global average pooling -> softmax
//! ```
//!
//! Batch norm trains on the batch's statistics (on burn's autodiff device) and runs on its
//! running statistics otherwise; the export folds it into the conv before it. There is no
//! dropout (the published net has none).

pub mod export;
pub mod job;

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, PaddingConfig2d};
use burn::tensor::activation::{relu, softmax};
use burn::tensor::{Device, Tensor};
use serde_json::{Value, json};

use crate::data::Image;
use crate::error::{Error, Result};
use crate::export::Exportable;
use crate::init::{glorot, zeros};
use crate::job::{ClassAssessment, Deployable};
use crate::rng::Rng;
use crate::trainer::{CrossEntropy, SetOf, Trainable};

/// The shape of a [`FerNet`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FerConfig {
    /// Input width and height in pixels (one gray channel).
    pub side: usize,
    /// Output classes.
    pub classes: usize,
    /// Filters of the plain 3x3 convs at the start (no padding: each takes 2 pixels off the side).
    pub stem: Vec<usize>,
    /// Filters of each residual module (each halves the side, rounding up).
    pub modules: Vec<usize>,
}

impl FerConfig {
    /// The published mini-Xception for `fer7`: 48x48 in, a stem of two 8-filter convs, residual
    /// modules of 16/32/64/128 filters, 7 classes.
    pub fn fer7() -> Self {
        Self {
            side: 48,
            classes: 7,
            stem: vec![8, 8],
            modules: vec![16, 32, 64, 128],
        }
    }

    /// Width (= height) of the feature map going into the head.
    pub fn final_side(&self) -> usize {
        let after_stem = self.stem.iter().fold(self.side, |s, _| s.saturating_sub(2));
        // conv 1x1 stride 2 and max-pool 3x3 stride 2 pad 1 both give ceil(s / 2).
        self.modules.iter().fold(after_stem, |s, _| s.div_ceil(2))
    }

    /// Multiply-adds of one forward pass (batch norm and pooling not counted).
    pub fn macs(&self) -> usize {
        let mut side = self.side;
        let mut channels = 1;
        let mut macs = 0;
        for &filters in &self.stem {
            side = side.saturating_sub(2);
            macs += side * side * channels * filters * 9;
            channels = filters;
        }
        for &filters in &self.modules {
            let area = side * side;
            macs += area * channels * 9 + area * channels * filters; // separable 1
            macs += area * filters * 9 + area * filters * filters; // separable 2
            side = side.div_ceil(2);
            macs += side * side * channels * filters; // shortcut
            channels = filters;
        }
        macs + side * side * channels * self.classes * 9
    }

    /// Checks that the network can be built.
    pub fn validate(&self) -> Result<()> {
        if self.classes < 2 {
            return Err(Error::option("classes", "at least 2 classes are needed"));
        }
        if self.stem.is_empty() || self.stem.contains(&0) || self.modules.contains(&0) {
            return Err(Error::option(
                "network",
                "at least one stem conv, and every conv with at least one filter",
            ));
        }
        if self.side <= 2 * self.stem.len() {
            return Err(Error::option(
                "side",
                format!(
                    "a {0}x{0} input is too small for {1} unpadded 3x3 convs",
                    self.side,
                    self.stem.len()
                ),
            ));
        }
        Ok(())
    }
}

/// A conv followed by batch norm (its bias would be cancelled by the norm's mean, so it has
/// none).
#[derive(Module, Debug)]
pub struct ConvNorm {
    /// The convolution, without bias.
    pub conv: Conv2d,
    /// The batch norm after it.
    pub norm: BatchNorm,
}

impl ConvNorm {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.norm.forward(self.conv.forward(x))
    }
}

/// A depthwise-separable conv 3x3 (depthwise with one filter per channel, then pointwise 1x1)
/// followed by batch norm.
#[derive(Module, Debug)]
pub struct SeparableNorm {
    /// The depthwise conv 3x3, padding 1, `groups` = channels, no bias.
    pub depthwise: Conv2d,
    /// The pointwise conv 1x1 and the batch norm after it.
    pub pointwise: ConvNorm,
}

impl SeparableNorm {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.pointwise.forward(self.depthwise.forward(x))
    }
}

/// A residual module: two separable convs and a max-pool, plus a strided 1x1 shortcut.
#[derive(Module, Debug)]
pub struct Residual {
    /// conv 1x1 stride 2 + batch norm.
    pub shortcut: ConvNorm,
    /// The first separable conv (followed by ReLU).
    pub first: SeparableNorm,
    /// The second separable conv (followed by the pool).
    pub second: SeparableNorm,
    /// Max-pool 3x3, stride 2, padding 1.
    pub pool: MaxPool2d,
}

impl Residual {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let shortcut = self.shortcut.forward(x.clone());
        let y = relu(self.first.forward(x));
        self.pool.forward(self.second.forward(y)) + shortcut
    }
}

/// The network. Build it with [`FerNet::new`]; its weights come from the run's seed, not from
/// burn's global RNG (see [`crate::rng`]).
#[derive(Module, Debug)]
pub struct FerNet {
    /// The plain convs at the start (each followed by ReLU).
    pub stem: Vec<ConvNorm>,
    /// The residual modules.
    pub modules: Vec<Residual>,
    /// conv 3x3 pad 1 to one channel per class (with bias), averaged over the map.
    pub head: Conv2d,
}

impl FerNet {
    /// A network of `config`'s shape on `device`, with Glorot-uniform conv weights (as Keras
    /// initialises the published net), zero biases, and batch norms at identity (gamma 1,
    /// beta 0, running mean 0 and variance 1), drawn from `seed`.
    pub fn new(config: &FerConfig, seed: u64, device: &Device) -> Result<Self> {
        config.validate()?;
        let mut rng = Rng::derive(seed, "init", 0);
        let mut channels = 1;
        let mut stem = Vec::with_capacity(config.stem.len());
        for &filters in &config.stem {
            // Unpadded, as published.
            let spec = ConvSpec {
                padded: false,
                ..ConvSpec::new([channels, filters], 3)
            };
            stem.push(with_norm(conv(&mut rng, spec, device), filters, device));
            channels = filters;
        }
        let mut modules = Vec::with_capacity(config.modules.len());
        for &filters in &config.modules {
            let spec = ConvSpec {
                stride: 2,
                ..ConvSpec::new([channels, filters], 1)
            };
            let shortcut = conv(&mut rng, spec, device);
            let first = separable(&mut rng, channels, filters, device);
            let second = separable(&mut rng, filters, filters, device);
            modules.push(Residual {
                shortcut: with_norm(shortcut, filters, device),
                first,
                second,
                pool: MaxPool2dConfig::new([3, 3])
                    .with_strides([2, 2])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .init(),
            });
            channels = filters;
        }
        let spec = ConvSpec {
            bias: true,
            ..ConvSpec::new([channels, config.classes], 3)
        };
        let head = conv(&mut rng, spec, device);
        Ok(Self {
            stem,
            modules,
            head,
        })
    }

    /// The logits `[batch, classes]` of `input` `[batch, 1, side, side]`.
    pub fn logits(&self, input: Tensor<4>) -> Tensor<2> {
        let mut x = input;
        for layer in &self.stem {
            x = relu(layer.forward(x));
        }
        for module in &self.modules {
            x = module.forward(x);
        }
        let x = self.head.forward(x);
        let [n, classes, _, _] = x.dims();
        // Global average pooling: the mean of the row means is the mean of the map.
        x.mean_dim(3).mean_dim(2).reshape([n, classes])
    }

    /// Class probabilities `[batch, classes]` (what the exported ONNX model outputs).
    pub fn probabilities(&self, input: Tensor<4>) -> Tensor<2> {
        softmax(self.logits(input), 1)
    }

    /// Number of output classes.
    pub fn classes(&self) -> usize {
        self.head.weight.dims()[0]
    }

    /// Learnt parameters: conv weights and biases, batch-norm gammas and betas (burn's
    /// `num_params` also counts the running statistics, which are not learnt).
    pub fn trainable_params(&self) -> usize {
        let running: usize = self
            .norms()
            .map(|n| n.running_mean.value().dims()[0] * 2)
            .sum();
        self.num_params() - running
    }

    fn norms(&self) -> impl Iterator<Item = &BatchNorm> {
        let stem = self.stem.iter().map(|l| &l.norm);
        let modules = self.modules.iter().flat_map(|m| {
            [
                &m.shortcut.norm,
                &m.first.pointwise.norm,
                &m.second.pointwise.norm,
            ]
        });
        stem.chain(modules)
    }
}

impl Trainable for FerNet {
    type Config = FerConfig;
    type Shape = Image;
    type Objective = CrossEntropy;

    fn build(config: &FerConfig, seed: u64, _train: &SetOf<Self>, device: &Device) -> Result<Self> {
        FerNet::new(config, seed, device)
    }

    fn validate(config: &FerConfig) -> Result<()> {
        config.validate()
    }

    fn shape(config: &FerConfig) -> Image {
        Image::gray(config.side)
    }

    fn classes(config: &FerConfig) -> usize {
        config.classes
    }

    fn dropout(_config: &FerConfig) -> Option<(f32, usize)> {
        None
    }

    fn forward_logits(&self, input: Tensor<4>, _dropout_mask: Option<Tensor<2>>) -> Tensor<2> {
        self.logits(input)
    }
}

impl Exportable for FerNet {
    fn to_onnx(&self, config: &FerConfig, graph_name: &str) -> Result<Vec<u8>> {
        export::to_onnx(self, config.side, graph_name)
    }

    fn probabilities(&self, input: Tensor<4>) -> Tensor<2> {
        FerNet::probabilities(self, input)
    }
}

impl Deployable for FerNet {
    type Assessment = ClassAssessment;

    fn describe(&self, config: &FerConfig) -> Value {
        json!({
            "architecture": "mini-Xception (Arriaga et al. 2017)",
            "config": config,
            "graph": "(conv 3x3 valid + bn + relu) per stem entry; per module: (depthwise 3x3 + pointwise 1x1 + bn + relu, depthwise 3x3 + pointwise 1x1 + bn, maxpool 3x3/2 pad 1) + (conv 1x1/2 + bn); conv 3x3 to classes, global average pool, softmax; batch norm folded into the convs on export",
            "parameters": self.trainable_params(),
            "macs": config.macs(),
        })
    }
}

/// What [`conv`] builds.
#[derive(Clone, Copy)]
struct ConvSpec {
    /// Input and output channels.
    channels: [usize; 2],
    /// Kernel side.
    kernel: usize,
    stride: usize,
    /// Channel groups (depthwise when it equals both channel counts).
    groups: usize,
    /// Pad by `kernel / 2` on every side (else no padding).
    padded: bool,
    bias: bool,
}

impl ConvSpec {
    fn new(channels: [usize; 2], kernel: usize) -> Self {
        Self {
            channels,
            kernel,
            stride: 1,
            groups: 1,
            padded: true,
            bias: false,
        }
    }
}

/// A conv of `spec` with Glorot-uniform weights from `rng` and zero bias.
fn conv(rng: &mut Rng, spec: ConvSpec, device: &Device) -> Conv2d {
    let ConvSpec {
        channels: [c_in, c_out],
        kernel: k,
        stride,
        groups,
        padded,
        bias,
    } = spec;
    let padding = if padded {
        PaddingConfig2d::Explicit(k / 2, k / 2, k / 2, k / 2)
    } else {
        PaddingConfig2d::Valid
    };
    let mut layer = Conv2dConfig::new([c_in, c_out], [k, k])
        .with_stride([stride, stride])
        .with_groups(groups)
        .with_padding(padding)
        .with_bias(bias)
        .with_initializer(Initializer::Zeros)
        .init(device);
    let (per_group_in, per_group_out) = (c_in / groups.max(1), c_out / groups.max(1));
    layer.weight = glorot(
        rng,
        [c_out, per_group_in, k, k],
        per_group_in * k * k,
        per_group_out * k * k,
        device,
    );
    if bias {
        layer.bias = Some(zeros(c_out, device));
    }
    layer
}

fn with_norm(conv: Conv2d, filters: usize, device: &Device) -> ConvNorm {
    ConvNorm {
        conv,
        norm: BatchNormConfig::new(filters).init(device),
    }
}

fn separable(rng: &mut Rng, c_in: usize, c_out: usize, device: &Device) -> SeparableNorm {
    let depthwise = ConvSpec {
        groups: c_in,
        ..ConvSpec::new([c_in, c_in], 3)
    };
    let depthwise = conv(rng, depthwise, device);
    let pointwise = conv(rng, ConvSpec::new([c_in, c_out], 1), device);
    SeparableNorm {
        depthwise,
        pointwise: with_norm(pointwise, c_out, device),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn fer7_shape_size_and_cost() {
        let config = FerConfig::fer7();
        config.validate().unwrap();
        assert_eq!(config.final_side(), 3);
        let model = FerNet::new(&config, 1, &Device::flex()).unwrap();
        let params = model.trainable_params();
        assert!((50_000..100_000).contains(&params), "{params} parameters");
        let macs = config.macs();
        assert!((4_000_000..8_000_000).contains(&macs), "{macs} MACs");
        let p = model.probabilities(Tensor::<4>::ones([2, 1, 48, 48], &Device::flex()));
        assert_eq!(p.dims(), [2, 7]);
        let sums: Vec<f32> = p.sum_dim(1).into_data().try_to_vec().unwrap();
        assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-5), "{sums:?}");
        let tiny = FerConfig {
            side: 4,
            classes: 2,
            stem: vec![2, 2],
            modules: vec![],
        };
        assert!(tiny.validate().is_err());
    }
}
