//! Weights drawn from the run's seed (never from burn's global RNG, see [`crate::rng`]), as
//! Keras initialises the published networks: Glorot-uniform weights and zero biases.

use burn::module::Param;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::{Device, Tensor, TensorData};

use crate::rng::Rng;

/// A dense layer `inputs -> outputs`: Glorot-uniform weights from `rng`, zero bias.
pub fn dense_layer(rng: &mut Rng, inputs: usize, outputs: usize, device: &Device) -> Linear {
    let mut dense = LinearConfig::new(inputs, outputs)
        .with_initializer(Initializer::Zeros)
        .init(device);
    dense.weight = glorot(rng, [inputs, outputs], inputs, outputs, device);
    dense.bias = Some(zeros(outputs, device));
    dense
}

/// A parameter of `n` zeros.
pub fn zeros(n: usize, device: &Device) -> Param<Tensor<1>> {
    Param::from_data(TensorData::new(vec![0.0f32; n], [n]), device)
}

/// Glorot-uniform values of `shape` from `rng`: uniform in ±sqrt(6 / (fan_in + fan_out)).
pub fn glorot<const D: usize>(
    rng: &mut Rng,
    shape: [usize; D],
    fan_in: usize,
    fan_out: usize,
    device: &Device,
) -> Param<Tensor<D>> {
    let limit = (6.0 / (fan_in + fan_out) as f32).sqrt();
    let n = shape.iter().product();
    let data: Vec<f32> = (0..n).map(|_| rng.uniform(-limit, limit)).collect();
    Param::from_data(TensorData::new(data, shape), device)
}
