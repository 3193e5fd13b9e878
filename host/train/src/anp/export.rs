//! ONNX export of an [`AnpNet`] through `sentio-infer`'s graph builder (checked against burn
//! in tract by [`crate::export::max_difference`]).
//!
//! ```text
//! input [1, 3, side, side] f32 RGB in 0..1
//! stem:  Conv 3x3 stride 2 pad 1 (batch norm folded) -> Relu -> MaxPool 2x2
//! block: Conv depthwise 3x3 pad 1 -> Conv 1x1 (batch norm folded) -> Relu
//!        [-> MaxPool 2x2 after the first `pooled` blocks]
//! head:  Concat(GlobalMaxPool, GlobalAveragePool) -> Flatten -> Gemm -> Sigmoid
//! probabilities [1, classes], each in 0..1 on its own (multi-label)
//! ```

use sentio_infer::onnx::{Attr, GraphBuilder};

use super::AnpNet;
use crate::error::Result;
use crate::export::{INPUT, OUTPUT, conv_node, floats, gemm_node, pool_node};
use crate::fer::export::fold;

/// The model (in inference mode: call `valid()` first) as ONNX bytes, input
/// `[1, 3, side, side]` f32, output `[1, classes]` independent probabilities. Each batch norm
/// is folded into the conv before it, so the device runs plain convs.
pub fn to_onnx(net: &AnpNet, side: usize, graph_name: &str) -> Result<Vec<u8>> {
    let mut g = GraphBuilder::new(graph_name);
    let dim = |v: usize| v as i64;
    g.input(INPUT, &[1, 3, dim(side), dim(side)]);
    let (weights, bias) = fold(&net.stem.conv, &net.stem.norm)?;
    conv_node(&mut g, &net.stem.conv, INPUT, "stem", &weights, &bias)?;
    g.node("Relu", &["stem"], &["stem.relu"], &[]);
    pool_node(&mut g, &net.pool, "stem.relu", "stem.pool")?;
    let mut x = "stem.pool".to_owned();
    for (i, block) in net.blocks.iter().enumerate() {
        let name = |part: &str| format!("block{i}.{part}");
        let depthwise = floats(block.depthwise.weight.val().into_data())?;
        let zeros = vec![0.0; block.depthwise.weight.dims()[0]];
        conv_node(
            &mut g,
            &block.depthwise,
            &x,
            &name("depthwise"),
            &depthwise,
            &zeros,
        )?;
        let pointwise = &block.pointwise;
        let (weights, bias) = fold(&pointwise.conv, &pointwise.norm)?;
        conv_node(
            &mut g,
            &pointwise.conv,
            &name("depthwise"),
            &name("pointwise"),
            &weights,
            &bias,
        )?;
        g.node("Relu", &[&name("pointwise")], &[&name("relu")], &[]);
        x = name("relu");
        if i < net.pooled {
            pool_node(&mut g, &net.pool, &x, &name("pool"))?;
            x = name("pool");
        }
    }
    g.node("GlobalMaxPool", &[&x], &["max"], &[]);
    g.node("GlobalAveragePool", &[&x], &["mean"], &[]);
    g.node(
        "Concat",
        &["max", "mean"],
        &["pooled"],
        &[("axis", Attr::Int(1))],
    );
    g.node(
        "Flatten",
        &["pooled"],
        &["features"],
        &[("axis", Attr::Int(1))],
    );
    let classes = gemm_node(&mut g, &net.dense, "dense", "features", "logits")?;
    g.node("Sigmoid", &["logits"], &[OUTPUT], &[]);
    g.output(OUTPUT, &[1, dim(classes)]);
    Ok(g.to_bytes())
}
