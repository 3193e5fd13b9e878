//! ONNX export of a [`Cnn`], written through `sentio-infer`'s graph builder (the protobuf types
//! tract reads), and checked against burn by running it in tract.
//!
//! The graph is `Conv -> Relu -> MaxPool` per block, `Flatten`, `Gemm`, `Softmax`: the model
//! outputs probabilities. Dropout is a training-only op and is not in the graph; an input
//! inversion ([`CnnConfig::invert`](crate::CnnConfig::invert)) is folded into the first conv.

use burn::tensor::{Device, Tensor, TensorData};
use sentio_infer::onnx::{Attr, GraphBuilder};
use sentio_infer::{LoadOptions, Model};

use crate::cnn::Cnn;
use crate::error::{Error, Result};

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
        let w = format!("conv{i}.weight");
        let b = format!("conv{i}.bias");
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
        g.initializer(&w, &shape.map(dim), &weights);
        g.initializer(&b, &[dim(shape[0])], &bias);
        let (c, r, p) = (format!("conv{i}"), format!("relu{i}"), format!("pool{i}"));
        g.node(
            "Conv",
            &[&x, &w, &b],
            &[&c],
            &[
                (
                    "kernel_shape",
                    Attr::Ints(conv.kernel_size.map(dim).to_vec()),
                ),
                ("strides", Attr::Ints(conv.stride.map(dim).to_vec())),
                ("dilations", Attr::Ints(conv.dilation.map(dim).to_vec())),
                ("pads", Attr::Ints(vec![0, 0, 0, 0])),
                ("group", Attr::Int(dim(conv.groups))),
            ],
        );
        g.node("Relu", &[&c], &[&r], &[]);
        g.node(
            "MaxPool",
            &[&r],
            &[&p],
            &[
                (
                    "kernel_shape",
                    Attr::Ints(model.pool.kernel_size.map(dim).to_vec()),
                ),
                ("strides", Attr::Ints(model.pool.stride.map(dim).to_vec())),
                ("pads", Attr::Ints(vec![0, 0, 0, 0])),
            ],
        );
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

/// Runs `onnx` in tract (through `sentio-infer`) and burn's `model` on each of `inputs` (each
/// `side * side` values) and returns the largest absolute difference of the probabilities.
pub fn max_difference(model: &Cnn, onnx: &[u8], side: usize, inputs: &[&[f32]]) -> Result<f32> {
    let options = LoadOptions::new()
        .name("export-check")
        .shape(&[1, 1, side, side]);
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
        let tensor =
            Tensor::<4>::from_data(TensorData::new(input.to_vec(), [1, 1, side, side]), &device);
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

fn floats(data: TensorData) -> Result<Vec<f32>> {
    data.try_to_vec::<f32>()
        .map_err(|e| Error::Export(format!("reading weights: {e:?}")))
}
