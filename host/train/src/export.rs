//! ONNX export of a [`Cnn`], written through `sentio-infer`'s graph builder (the protobuf types
//! tract reads), and checked against burn by running it in tract.
//!
//! The graph is `Conv -> Relu -> MaxPool` per block, `Flatten`, `Gemm`, `Softmax`: the model
//! outputs probabilities. Dropout is a training-only op and is not in the graph; an input
//! inversion ([`CnnConfig::invert`](crate::CnnConfig::invert)) is folded into the first conv.

use burn::tensor::{Device, Tensor, TensorData};
use sentio_infer::onnx::{Attr, GraphBuilder};
use sentio_infer::{LoadOptions, Model};

use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;

use crate::cnn::Cnn;
use crate::error::{Error, Result};
use crate::job::ImageClassifier;

/// Name of the exported graph's input.
pub const INPUT: &str = "input";
/// Name of the exported graph's output (probabilities).
pub const OUTPUT: &str = "probabilities";

/// The model (in inference mode: call `valid()` first) as ONNX bytes, input
/// `[1, 1, side, side]` f32, output `[1, classes]` probabilities.
pub fn to_onnx(model: &Cnn, side: usize, graph_name: &str) -> Result<Vec<u8>> {
    let mut g = GraphBuilder::new(graph_name);
    let dim = |v: usize| v as i64;
    g.input(INPUT, &[1, 1, dim(side), dim(side)]);
    let mut x = INPUT.to_owned();
    for (i, conv) in model.convs.iter().enumerate() {
        let weight = conv.weight.val();
        let shape: [usize; 4] = weight.dims();
        let mut weights = floats(weight.into_data())?;
        let mut bias = match &conv.bias {
            Some(bias) => floats(bias.val().into_data())?,
            None => vec![0.0; shape[0]],
        };
        if i == 0 && model.invert {
            // conv(1 - x) = conv'(x) with w' = -w and b' = b + sum(w) over each filter (no
            // padding, so every window sees only pixels).
            let per_filter = weights.len() / shape[0].max(1);
            for (f, chunk) in weights.chunks_mut(per_filter.max(1)).enumerate() {
                if let Some(b) = bias.get_mut(f) {
                    *b += chunk.iter().sum::<f32>();
                }
                for v in chunk {
                    *v = -*v;
                }
            }
        }
        let (c, r, p) = (format!("conv{i}"), format!("relu{i}"), format!("pool{i}"));
        conv_node(&mut g, conv, &x, &c, &weights, &bias)?;
        g.node("Relu", &[&c], &[&r], &[]);
        pool_node(&mut g, &model.pool, &r, &p)?;
        x = p;
    }
    g.node("Flatten", &[&x], &["flat"], &[("axis", Attr::Int(1))]);
    let weight = model.dense.weight.val();
    let [features, classes]: [usize; 2] = weight.dims();
    g.initializer(
        "dense.weight",
        &[dim(features), dim(classes)],
        &floats(weight.into_data())?,
    );
    let bias = match &model.dense.bias {
        Some(bias) => floats(bias.val().into_data())?,
        None => vec![0.0; classes],
    };
    g.initializer("dense.bias", &[dim(classes)], &bias);
    g.node(
        "Gemm",
        &["flat", "dense.weight", "dense.bias"],
        &["logits"],
        &[],
    );
    g.node("Softmax", &["logits"], &[OUTPUT], &[("axis", Attr::Int(1))]);
    g.output(OUTPUT, &[1, dim(classes)]);
    Ok(g.to_bytes())
}

/// Adds a `Conv` node from `input` to `output` with `conv`'s kernel, stride, dilation, groups
/// and padding, and `weights` (`conv.weight`'s shape) and `bias` (one per output channel) as
/// initializers named `{output}.weight` and `{output}.bias`: the caller passes them so it can
/// fold something into them first (an input inversion, a batch norm).
pub(crate) fn conv_node(
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
pub(crate) fn pool_node(
    g: &mut GraphBuilder,
    pool: &MaxPool2d,
    input: &str,
    output: &str,
) -> Result<()> {
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
/// `side * side` values) and returns the largest absolute difference of the probabilities.
pub fn max_difference<M: ImageClassifier>(
    model: &M,
    onnx: &[u8],
    side: usize,
    inputs: &[&[f32]],
) -> Result<f32> {
    max_difference_of(onnx, 1, side, inputs, |t| model.probabilities(t))
}

/// Runs `onnx` in tract and `probabilities` (the burn network) on each of `inputs` (each
/// `channels * side * side` planar values) and returns the largest absolute difference: the
/// export check of every image network.
pub(crate) fn max_difference_of(
    onnx: &[u8],
    channels: usize,
    side: usize,
    inputs: &[&[f32]],
    probabilities: impl Fn(Tensor<4>) -> Tensor<2>,
) -> Result<f32> {
    let shape = [1, channels, side, side];
    let options = LoadOptions::new().name("export-check").shape(&shape);
    let mut tract = Model::load(onnx, &options)
        .map_err(|e| Error::Export(format!("tract cannot load the model: {e}")))?;
    let device = Device::flex();
    let mut worst = 0.0f32;
    for input in inputs {
        let outputs = tract
            .run(input)
            .map_err(|e| Error::Export(format!("tract cannot run the model: {e}")))?;
        let Some(theirs) = outputs.tensors.first() else {
            return Err(Error::Export("the model has no output".into()));
        };
        let tensor = Tensor::<4>::from_data(TensorData::new(input.to_vec(), shape), &device);
        let ours = floats(probabilities(tensor).into_data())?;
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

/// The values of `data` as f32 (weights read for the export).
pub(crate) fn floats(data: TensorData) -> Result<Vec<f32>> {
    data.try_to_vec::<f32>()
        .map_err(|e| Error::Export(format!("reading weights: {e:?}")))
}
