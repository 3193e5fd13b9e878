//! ONNX export of a [`FerNet`] through `sentio-infer`'s graph builder, every batch norm folded
//! into the conv before it (so the device runs plain convs), checked against burn in tract by
//! [`crate::export::max_difference`].
//!
//! ```text
//! (Conv -> Relu) per stem conv
//! per module:  Conv(depthwise) -> Conv(pointwise) -> Relu -> Conv(depthwise) -> Conv(pointwise)
//!              -> MaxPool -> Add(shortcut: Conv 1x1 stride 2)
//! Conv(head) -> GlobalAveragePool -> Flatten -> Softmax
//! ```

use burn::nn::BatchNorm;
use burn::nn::conv::Conv2d;
use sentio_infer::onnx::{Attr, GraphBuilder};

use super::{ConvNorm, FerNet, SeparableNorm};
use crate::error::{Error, Result};
use crate::export::{INPUT, OUTPUT, conv_node, floats, pool_node};

/// The model (in inference mode: call `valid()` first) as ONNX bytes, input
/// `[1, 1, side, side]` f32 gray in 0..1, output `[1, classes]` probabilities.
pub fn to_onnx(net: &FerNet, side: usize, graph_name: &str) -> Result<Vec<u8>> {
    let mut g = GraphBuilder::new(graph_name);
    let dim = |v: usize| v as i64;
    g.input(INPUT, &[1, 1, dim(side), dim(side)]);
    let mut x = INPUT.to_owned();
    for (i, layer) in net.stem.iter().enumerate() {
        let conv = format!("stem{i}");
        conv_norm(&mut g, layer, &x, &conv)?;
        x = format!("stem{i}.relu");
        g.node("Relu", &[&conv], &[&x], &[]);
    }
    for (i, module) in net.modules.iter().enumerate() {
        let name = |part: &str| format!("module{i}.{part}");
        conv_norm(&mut g, &module.shortcut, &x, &name("shortcut"))?;
        separable(&mut g, &module.first, &x, &name("first"))?;
        g.node("Relu", &[&name("first")], &[&name("first.relu")], &[]);
        separable(&mut g, &module.second, &name("first.relu"), &name("second"))?;
        pool_node(&mut g, &module.pool, &name("second"), &name("pool"))?;
        x = name("add");
        g.node("Add", &[&name("pool"), &name("shortcut")], &[&x], &[]);
    }
    let (weights, bias) = conv_weights(&net.head)?;
    conv_node(&mut g, &net.head, &x, "head", &weights, &bias)?;
    g.node("GlobalAveragePool", &["head"], &["pooled"], &[]);
    g.node(
        "Flatten",
        &["pooled"],
        &["logits"],
        &[("axis", Attr::Int(1))],
    );
    g.node("Softmax", &["logits"], &[OUTPUT], &[("axis", Attr::Int(1))]);
    g.output(OUTPUT, &[1, dim(net.classes())]);
    Ok(g.to_bytes())
}

/// A conv with its batch norm folded in, from `input` to `output`.
fn conv_norm(g: &mut GraphBuilder, layer: &ConvNorm, input: &str, output: &str) -> Result<()> {
    let (weights, bias) = fold(&layer.conv, &layer.norm)?;
    conv_node(g, &layer.conv, input, output, &weights, &bias)
}

/// Depthwise conv, then the pointwise conv with the batch norm folded in.
fn separable(g: &mut GraphBuilder, layer: &SeparableNorm, input: &str, output: &str) -> Result<()> {
    let depthwise = format!("{output}.depthwise");
    let (weights, bias) = conv_weights(&layer.depthwise)?;
    conv_node(g, &layer.depthwise, input, &depthwise, &weights, &bias)?;
    conv_norm(g, &layer.pointwise, &depthwise, output)
}

/// A conv's weights and bias (zeros when it has none).
fn conv_weights(conv: &Conv2d) -> Result<(Vec<f32>, Vec<f32>)> {
    let weights = floats(conv.weight.val().into_data())?;
    let bias = match &conv.bias {
        Some(bias) => floats(bias.val().into_data())?,
        None => vec![0.0; conv.weight.dims()[0]],
    };
    Ok((weights, bias))
}

/// The weights and bias of `conv` followed by `norm` as one conv: with
/// `s = gamma / sqrt(running_var + epsilon)`, each output channel's weights times `s` and its
/// bias `(b - running_mean) * s + beta` (computed in f64).
pub fn fold(conv: &Conv2d, norm: &BatchNorm) -> Result<(Vec<f32>, Vec<f32>)> {
    let (mut weights, mut bias) = conv_weights(conv)?;
    let gamma = floats(norm.gamma.val().into_data())?;
    let beta = floats(norm.beta.val().into_data())?;
    let mean = floats(norm.running_mean.value().into_data())?;
    let var = floats(norm.running_var.value().into_data())?;
    let channels = bias.len();
    if [gamma.len(), beta.len(), mean.len(), var.len()] != [channels; 4] || channels == 0 {
        return Err(Error::Export(format!(
            "a batch norm of {} channels after a conv of {channels}",
            gamma.len()
        )));
    }
    let per_channel = weights.len() / channels;
    for (c, chunk) in weights.chunks_mut(per_channel.max(1)).enumerate() {
        let s = f64::from(gamma[c]) / (f64::from(var[c]) + norm.epsilon).sqrt();
        for w in chunk {
            *w = (f64::from(*w) * s) as f32;
        }
        bias[c] = ((f64::from(bias[c]) - f64::from(mean[c])) * s + f64::from(beta[c])) as f32;
    }
    Ok((weights, bias))
}
