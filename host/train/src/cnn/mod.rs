//! The emoji CNN (the seed's shape): conv blocks of 2x2 kernels, ReLU and 2x2 max-pooling, then
//! dropout and one dense layer to the classes; softmax at inference. [`export`] writes it as
//! ONNX; the `emoji` job trains it.

pub mod export;

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Initializer, Linear};
use burn::tensor::activation::{relu, softmax};
use burn::tensor::{Device, Tensor};
use serde_json::{Value, json};

use crate::data::Image;
use crate::error::{Error, Result};
use crate::export::Exportable;
use crate::init::{dense_layer, glorot, zeros};
use crate::job::Deployable;
use crate::rng::Rng;
use crate::trainer::{CrossEntropy, SetOf, Trainable};

/// The shape of a [`Cnn`]: a square gray input, one conv block per entry of `filters`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CnnConfig {
    /// Input width and height in pixels (one gray channel).
    pub side: usize,
    /// Output classes.
    pub classes: usize,
    /// Filters of each conv block (kernel 2x2, stride 1, no padding, then ReLU and max-pool 2x2).
    pub filters: Vec<usize>,
    /// Dropout before the dense layer, while training.
    pub dropout: f32,
    /// Feed `1 - x` to the first conv (ink bright on a dark ground, as in the seed's data) while
    /// the model's input stays the plain 0..1 gray image. The export folds it into the first
    /// conv's weights, so the ONNX graph is the same either way.
    #[serde(default)]
    pub invert: bool,
}

impl CnnConfig {
    /// The seed's emoji CNN: 64x64 gray in, 16/32/64/128 filters, dropout 0.5, 8 classes.
    pub fn emoji() -> Self {
        Self {
            side: 64,
            classes: 8,
            filters: vec![16, 32, 64, 128],
            dropout: 0.5,
            invert: true,
        }
    }

    /// Width (= height) of the feature map after the conv blocks.
    pub fn final_side(&self) -> usize {
        // conv 2x2 valid: s -> s - 1; max-pool 2x2 stride 2, floor: s -> s / 2.
        self.filters
            .iter()
            .fold(self.side, |s, _| s.saturating_sub(1) / 2)
    }

    /// Number of features going into the dense layer.
    pub fn features(&self) -> usize {
        let side = self.final_side();
        side * side * self.filters.last().copied().unwrap_or(1)
    }

    /// Checks that the network can be built.
    pub fn validate(&self) -> Result<()> {
        if self.classes < 2 {
            return Err(Error::option("classes", "at least 2 classes are needed"));
        }
        if self.filters.is_empty() || self.filters.contains(&0) {
            return Err(Error::option(
                "filters",
                "at least one conv block, each with at least one filter",
            ));
        }
        if self.final_side() == 0 {
            return Err(Error::option(
                "side",
                format!(
                    "a {0}x{0} input is too small for {1} conv blocks",
                    self.side,
                    self.filters.len()
                ),
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::option("dropout", "must be in [0, 1)"));
        }
        Ok(())
    }
}

/// The network. Build it with [`Cnn::new`]; its weights come from the run's seed, not from burn's
/// global RNG (see [`crate::rng`]).
#[derive(Module, Debug)]
pub struct Cnn {
    /// The conv layers, one per block.
    pub convs: Vec<Conv2d>,
    /// The max-pool shared by every block.
    pub pool: MaxPool2d,
    /// The dense layer (weights `[features, classes]`).
    pub dense: Linear,
    /// Whether the input is inverted (`1 - x`) before the first conv (see [`CnnConfig::invert`]).
    #[module(skip)]
    pub invert: bool,
}

impl Cnn {
    /// A network of `config`'s shape on `device`, with Glorot-uniform weights and zero biases (as
    /// Keras initialises the seed's layers) drawn from `seed`.
    pub fn new(config: &CnnConfig, seed: u64, device: &Device) -> Result<Self> {
        config.validate()?;
        let mut rng = Rng::derive(seed, "init", 0);
        let mut convs = Vec::with_capacity(config.filters.len());
        let mut channels = 1;
        for &filters in &config.filters {
            let mut conv = Conv2dConfig::new([channels, filters], [2, 2])
                .with_initializer(Initializer::Zeros)
                .init(device);
            let fan_in = channels * 4;
            let fan_out = filters * 4;
            conv.weight = glorot(&mut rng, [filters, channels, 2, 2], fan_in, fan_out, device);
            conv.bias = Some(zeros(filters, device));
            convs.push(conv);
            channels = filters;
        }
        let dense = dense_layer(&mut rng, config.features(), config.classes, device);
        Ok(Self {
            convs,
            pool: MaxPool2dConfig::new([2, 2]).init(),
            dense,
            invert: config.invert,
        })
    }

    /// The logits `[batch, classes]` of `input` `[batch, 1, side, side]`; `dropout_mask`
    /// (`[batch, features]`, entries 0 or 1/(1-p)) is applied before the dense layer when given.
    pub fn logits(&self, input: Tensor<4>, dropout_mask: Option<Tensor<2>>) -> Tensor<2> {
        let mut x = if self.invert {
            input.neg().add_scalar(1.0)
        } else {
            input
        };
        for conv in &self.convs {
            x = self.pool.forward(relu(conv.forward(x)));
        }
        let mut x: Tensor<2> = x.flatten(1, 3);
        if let Some(mask) = dropout_mask {
            x = x * mask;
        }
        self.dense.forward(x)
    }

    /// Class probabilities `[batch, classes]` (what the exported ONNX model outputs).
    pub fn probabilities(&self, input: Tensor<4>) -> Tensor<2> {
        softmax(self.logits(input, None), 1)
    }

    /// Number of features going into the dense layer.
    pub fn features(&self) -> usize {
        self.dense.weight.shape().dims::<2>()[0]
    }

    /// Number of output classes.
    pub fn classes(&self) -> usize {
        self.dense.weight.shape().dims::<2>()[1]
    }
}

impl Trainable for Cnn {
    type Config = CnnConfig;
    type Shape = Image;
    type Objective = CrossEntropy;

    fn build(config: &CnnConfig, seed: u64, _train: &SetOf<Self>, device: &Device) -> Result<Self> {
        Cnn::new(config, seed, device)
    }

    fn validate(config: &CnnConfig) -> Result<()> {
        config.validate()
    }

    fn shape(config: &CnnConfig) -> Image {
        Image::gray(config.side)
    }

    fn classes(config: &CnnConfig) -> usize {
        config.classes
    }

    fn dropout(config: &CnnConfig) -> Option<(f32, usize)> {
        Some((config.dropout, config.features()))
    }

    fn forward_logits(&self, input: Tensor<4>, dropout_mask: Option<Tensor<2>>) -> Tensor<2> {
        self.logits(input, dropout_mask)
    }
}

impl Exportable for Cnn {
    fn to_onnx(&self, config: &CnnConfig, graph_name: &str) -> Result<Vec<u8>> {
        export::to_onnx(self, config.side, graph_name)
    }

    fn probabilities(&self, input: Tensor<4>) -> Tensor<2> {
        Cnn::probabilities(self, input)
    }
}

impl Deployable for Cnn {
    type Assessment = crate::job::ClassAssessment;

    fn describe(&self, config: &CnnConfig) -> Value {
        json!({
            "conv_filters": config.filters, "kernel": [2, 2], "activation": "relu",
            "pool": [2, 2], "dropout": config.dropout, "dense": config.classes,
            "output": "softmax", "parameters": self.num_params(),
            "input_inverted": config.invert,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn seed_shape() {
        let c = CnnConfig::emoji();
        assert_eq!(c.final_side(), 3);
        assert_eq!(c.features(), 1152);
        c.validate().unwrap();
        let tiny = CnnConfig {
            side: 4,
            classes: 2,
            filters: vec![2, 2],
            dropout: 0.5,
            invert: false,
        };
        assert!(tiny.validate().is_err());
    }

    #[test]
    fn forward_shapes_and_probabilities() {
        let device = Device::flex();
        let config = CnnConfig {
            side: 16,
            classes: 3,
            filters: vec![4, 8],
            dropout: 0.5,
            invert: false,
        };
        let model = Cnn::new(&config, 1, &device).unwrap();
        assert_eq!(model.features(), config.features());
        assert_eq!(model.num_params(), 4 * 4 + 4 + 8 * 4 * 4 + 8 + 72 * 3 + 3);
        let input = Tensor::<4>::ones([2, 1, 16, 16], &device);
        let p = model.probabilities(input);
        assert_eq!(p.dims(), [2, 3]);
        let sums: Vec<f32> = p.sum_dim(1).into_data().try_to_vec().unwrap();
        for s in sums {
            assert!((s - 1.0).abs() < 1e-5);
        }
    }
}
