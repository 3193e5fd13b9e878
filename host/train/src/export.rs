//! What every network's ONNX export shares: the [`Exportable`] trait, the graph builder's
//! common nodes (`Conv`, `MaxPool`, `Gemm`, written through `sentio-infer`'s builder, the
//! protobuf types tract reads), and the check of an export against burn in tract
//! ([`max_difference`], [`check_export`]). Each network writes its own graph (`cnn::export`,
//! `fer::export`, `ser::export`, `anp::export`).

use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
use burn::nn::{Linear, PaddingConfig2d};
use burn::tensor::{Device, Tensor, TensorData};
use sentio_infer::onnx::{Attr, GraphBuilder};
use sentio_infer::{LoadOptions, Model};

use crate::data::Shape;
use crate::error::{Error, Result};
use crate::trainer::Trainable;

/// Name of the exported graph's input.
pub const INPUT: &str = "input";
/// Name of the exported graph's output (probabilities).
pub const OUTPUT: &str = "probabilities";
/// Largest difference allowed between burn's and tract's probabilities on the export check.
pub const EXPORT_TOLERANCE: f32 = 1e-4;

/// A network that exports itself as ONNX.
pub trait Exportable: Trainable {
    /// The model (in inference mode: call `valid()` first) of `config` as ONNX bytes: input
    /// `[1, dims of an example...]` f32, output `[1, classes]` probabilities.
    fn to_onnx(&self, config: &Self::Config, graph_name: &str) -> Result<Vec<u8>>;
    /// What the exported model outputs, computed by burn: probabilities `[batch, classes]`.
    fn probabilities(&self, input: <Self::Shape as Shape>::Input) -> Tensor<2>;
}

/// Adds a `Conv` node from `input` to `output` with `conv`'s kernel, stride, dilation, groups
/// and padding, and `weights` (`conv.weight`'s shape) and `bias` (one per output channel) as
/// initializers named `{output}.weight` and `{output}.bias`: the caller passes them so it can
/// fold something into them first (an input inversion, a batch norm).
pub fn conv_node(
    g: &mut GraphBuilder,
    conv: &Conv2d,
    input: &str,
    output: &str,
    weights: &[f32],
    bias: &[f32],
) -> Result<()> {
    let dim = |v: usize| v as i64;
    let shape: [usize; 4] = conv.weight.dims();
    if weights.len() != shape.iter().product::<usize>() || bias.len() != shape[0] {
        return Err(Error::Export(format!(
            "conv {output}: {} weights and {} biases for a kernel of shape {shape:?}",
            weights.len(),
            bias.len()
        )));
    }
    let pads = pads(&conv.padding, output)?;
    let (w, b) = (format!("{output}.weight"), format!("{output}.bias"));
    g.initializer(&w, &shape.map(dim), weights);
    g.initializer(&b, &[dim(shape[0])], bias);
    g.node(
        "Conv",
        &[input, &w, &b],
        &[output],
        &[
            (
                "kernel_shape",
                Attr::Ints(conv.kernel_size.map(dim).to_vec()),
            ),
            ("strides", Attr::Ints(conv.stride.map(dim).to_vec())),
            ("dilations", Attr::Ints(conv.dilation.map(dim).to_vec())),
            ("pads", Attr::Ints(pads.map(dim).to_vec())),
            ("group", Attr::Int(dim(conv.groups))),
        ],
    );
    Ok(())
}

/// Adds a `MaxPool` node from `input` to `output` with `pool`'s kernel, stride and padding.
pub fn pool_node(g: &mut GraphBuilder, pool: &MaxPool2d, input: &str, output: &str) -> Result<()> {
    let dim = |v: usize| v as i64;
    if pool.ceil_mode || pool.dilation != [1, 1] {
        return Err(Error::Export(format!(
            "max-pool {output}: ceil mode and dilation are not exported"
        )));
    }
    g.node(
        "MaxPool",
        &[input],
        &[output],
        &[
            (
                "kernel_shape",
                Attr::Ints(pool.kernel_size.map(dim).to_vec()),
            ),
            ("strides", Attr::Ints(pool.stride.map(dim).to_vec())),
            (
                "pads",
                Attr::Ints(pads(&pool.padding, output)?.map(dim).to_vec()),
            ),
        ],
    );
    Ok(())
}

/// ONNX `pads` (`[top, left, bottom, right]`, the order of burn's explicit padding).
fn pads(padding: &PaddingConfig2d, node: &str) -> Result<[usize; 4]> {
    match *padding {
        PaddingConfig2d::Valid => Ok([0, 0, 0, 0]),
        PaddingConfig2d::Explicit(top, left, bottom, right) => Ok([top, left, bottom, right]),
        PaddingConfig2d::Same => Err(Error::Export(format!(
            "{node}: `Same` padding is not exported; give the padding explicitly"
        ))),
    }
}

/// Runs `onnx` in tract (through `sentio-infer`) and burn's `model` on each of `inputs` (each
/// one example of `shape`) and returns the largest absolute difference of the probabilities.
pub fn max_difference<M: Exportable>(
    model: &M,
    shape: &M::Shape,
    onnx: &[u8],
    inputs: &[&[f32]],
) -> Result<f32> {
    let dims: Vec<usize> = std::iter::once(1).chain(shape.dims()).collect();
    let options = LoadOptions::new().name("export-check").shape(&dims);
    let mut tract = Model::load(onnx, &options)
        .map_err(|e| Error::Export(format!("tract cannot load the model: {e}")))?;
    let device = Device::flex();
    let mut worst = 0.0f32;
    for input in inputs {
        if input.len() != shape.size() {
            return Err(Error::Export(format!(
                "an input has {} values, the model takes {}",
                input.len(),
                shape.describe()
            )));
        }
        let outputs = tract
            .run(input)
            .map_err(|e| Error::Export(format!("tract cannot run the model: {e}")))?;
        let Some(theirs) = outputs.tensors.first() else {
            return Err(Error::Export("the model has no output".into()));
        };
        let tensor = shape.input(input.to_vec(), 1, &device);
        let ours = floats(model.probabilities(tensor).into_data())?;
        if ours.len() != theirs.data.len() {
            return Err(Error::Export(format!(
                "tract gives {} outputs, burn {}",
                theirs.data.len(),
                ours.len()
            )));
        }
        for (a, b) in ours.iter().zip(&theirs.data) {
            let d = (a - b).abs();
            if !d.is_finite() {
                return Err(Error::Export(format!(
                    "non-finite output: burn {a}, tract {b}"
                )));
            }
            worst = worst.max(d);
        }
    }
    Ok(worst)
}

/// `max_diff`, the largest difference between tract's and burn's outputs on the exported model,
/// or an error when it is above [`EXPORT_TOLERANCE`].
pub fn check_export(max_diff: f32) -> Result<f32> {
    if max_diff > EXPORT_TOLERANCE {
        return Err(Error::Export(format!(
            "tract and burn differ by {max_diff:e} (more than {EXPORT_TOLERANCE:e})"
        )));
    }
    Ok(max_diff)
}

/// Writes `linear` as a `Gemm` named `name` (initializers `{name}.weight` `[in, out]` and
/// `{name}.bias`) from `input` to `output`; returns its output width.
pub fn gemm_node(
    g: &mut GraphBuilder,
    linear: &Linear,
    name: &str,
    input: &str,
    output: &str,
) -> Result<usize> {
    let weight = linear.weight.val();
    let [inputs, outputs]: [usize; 2] = weight.dims();
    let (w, b) = (format!("{name}.weight"), format!("{name}.bias"));
    g.initializer(
        &w,
        &[inputs as i64, outputs as i64],
        &floats(weight.into_data())?,
    );
    g.initializer(&b, &[outputs as i64], &bias(linear, outputs)?);
    g.node("Gemm", &[input, &w, &b], &[output], &[]);
    Ok(outputs)
}

/// A `Linear`'s bias, or `n` zeros when it has none.
pub fn bias(linear: &Linear, n: usize) -> Result<Vec<f32>> {
    match &linear.bias {
        Some(b) => floats(b.val().into_data()),
        None => Ok(vec![0.0; n]),
    }
}

/// The values of `data` as f32 (weights read for the export).
pub fn floats(data: TensorData) -> Result<Vec<f32>> {
    data.try_to_vec::<f32>()
        .map_err(|e| Error::Export(format!("reading weights: {e:?}")))
}
