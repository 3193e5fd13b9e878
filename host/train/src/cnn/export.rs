//! ONNX export of a [`Cnn`], written through `sentio-infer`'s graph builder and checked against
//! burn in tract by [`crate::export::max_difference`].
//!
//! The graph is `Conv -> Relu -> MaxPool` per block, `Flatten`, `Gemm`, `Softmax`: the model
//! outputs probabilities. Dropout is a training-only op and is not in the graph; an input
//! inversion ([`CnnConfig::invert`](super::CnnConfig::invert)) is folded into the first conv.

use sentio_infer::onnx::{Attr, GraphBuilder};

use super::Cnn;
use crate::error::Result;
use crate::export::{INPUT, OUTPUT, conv_node, floats, gemm_node, pool_node};

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
    let classes = gemm_node(&mut g, &model.dense, "dense", "flat", "logits")?;
    g.node("Softmax", &["logits"], &[OUTPUT], &[("axis", Attr::Int(1))]);
    g.output(OUTPUT, &[1, dim(classes)]);
    Ok(g.to_bytes())
}
