//! ONNX export of a [`SerNet`], written node by node through `sentio-infer`'s graph builder
//! (burn's own exporter has no LSTM), and checked against burn by running it in tract.
//!
//! The graph, for input `[1, frames, dims]`:
//!
//! ```text
//! Sub(mean) -> Mul(1/std) -> Transpose[0,2,1]
//! (Conv k, pads k/2 -> Relu -> MaxPool 2) per block
//! pooling, by the network's `Pooling`:
//!   Last          Transpose[2,0,1] -> LSTM (seq-first, forward) -> Y_h [1, 1, H] -> Flatten
//!   LastAndStats  Concat(axis 1) of that, the mean and the std below (each Flatten'ed)
//!   Stats         Concat(axis 1) of the mean and the std
//!     mean = ReduceMean(axes [2], keepdims) of the last block's [1, C, T']
//!     std  = Sqrt(Add(ReduceMean(Mul(d, d)), epsilon)), d = Sub(x, mean)
//! [Gemm -> Relu, with a head] -> Gemm -> Softmax
//! ```
//!
//! burn keeps one `GateController` per gate, each a pair of `Linear` layers (input and hidden,
//! weights `[in, H]`, each with its own bias). ONNX's LSTM stacks the gates in the order
//! **i, o, f, c**: `W = [W_i; W_o; W_f; W_c]` (`[1, 4H, in]`, each block the transpose of burn's
//! input weight), `R` the same of the hidden weights, `B = [Wb_i, Wb_o, Wb_f, Wb_c, Rb_i, ...]`.

use burn::nn::Linear;
use sentio_infer::onnx::{Attr, GraphBuilder};

use super::{STATS_EPSILON, SerNet};
use crate::data::Sequence;
use crate::error::{Error, Result};
use crate::export::{bias, floats, gemm_node};

/// Name of the exported graph's input.
pub const INPUT: &str = "features";
/// Name of the exported graph's output (probabilities).
pub const OUTPUT: &str = "probabilities";

/// One of the LSTM's four gates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Input gate `i`.
    Input,
    /// Output gate `o`.
    Output,
    /// Forget gate `f`.
    Forget,
    /// Cell (candidate) gate `c`.
    Cell,
}

/// The order ONNX stacks the gates in (`i, o, f, c`).
pub const ONNX_GATE_ORDER: [Gate; 4] = [Gate::Input, Gate::Output, Gate::Forget, Gate::Cell];

/// The ONNX LSTM tensors `W` (`[4H * in]`), `R` (`[4H * H]`) and `B` (`[8H]`) of `net`'s LSTM,
/// its gates stacked in `order` (ONNX wants [`ONNX_GATE_ORDER`]; another order is only for
/// showing that it matters). An error for a network without an LSTM.
pub fn lstm_tensors(net: &SerNet, order: [Gate; 4]) -> Result<(Vec<f32>, Vec<f32>, Vec<f32>)> {
    let lstm = net
        .lstm
        .as_ref()
        .ok_or_else(|| Error::Export("the network has no LSTM".into()))?;
    let h = lstm.d_hidden;
    let (mut w, mut r, mut wb, mut rb) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for gate in order {
        let controller = match gate {
            Gate::Input => &lstm.input_gate,
            Gate::Output => &lstm.output_gate,
            Gate::Cell => &lstm.cell_gate,
            Gate::Forget => lstm.forget_gate.as_ref().ok_or_else(|| {
                Error::Export("an LSTM with a coupled forget gate has no ONNX form".into())
            })?,
        };
        w.extend(transposed(&controller.input_transform)?);
        r.extend(transposed(&controller.hidden_transform)?);
        wb.extend(bias(&controller.input_transform, h)?);
        rb.extend(bias(&controller.hidden_transform, h)?);
    }
    wb.extend(rb);
    Ok((w, r, wb))
}

/// The model (in inference mode: call `valid()` first) as ONNX bytes, input
/// `[1, frames, dims]` raw features, output `[1, classes]` probabilities.
pub fn to_onnx(net: &SerNet, frames: usize, graph_name: &str) -> Result<Vec<u8>> {
    to_onnx_with_gates(net, frames, graph_name, ONNX_GATE_ORDER)
}

/// [`to_onnx`] with the LSTM gates stacked in `order` (for tests that show a wrong order fails).
pub fn to_onnx_with_gates(
    net: &SerNet,
    frames: usize,
    graph_name: &str,
    order: [Gate; 4],
) -> Result<Vec<u8>> {
    let check = |ok: bool, what: &str| {
        if ok {
            Ok(())
        } else {
            Err(Error::Export(format!("cannot export this network: {what}")))
        }
    };
    if let Some(lstm) = &net.lstm {
        check(
            lstm.batch_first && !lstm.reverse,
            "the LSTM must be batch-first and forward",
        )?;
        check(lstm.clip.is_none(), "the LSTM must not clip its cell state")?;
    }
    check(
        net.lstm.is_some() == net.pooling.uses_lstm(),
        "the LSTM must be there exactly when the pooling uses it",
    )?;
    let dim = |v: usize| v as i64;
    let mut g = GraphBuilder::new(graph_name);
    let norm = net.normalization()?;
    let d = norm.mean.len();
    g.input(INPUT, &[1, dim(frames), dim(d)]);
    g.initializer("norm.mean", &[dim(d)], &norm.mean);
    g.initializer(
        "norm.inv_std",
        &[dim(d)],
        &floats(net.inv_std.clone().into_data())?,
    );
    g.node("Sub", &[INPUT, "norm.mean"], &["centred"], &[]);
    g.node("Mul", &["centred", "norm.inv_std"], &["normalized"], &[]);
    g.node(
        "Transpose",
        &["normalized"],
        &["channels_first"],
        &[("perm", Attr::Ints(vec![0, 2, 1]))],
    );
    let mut x = "channels_first".to_owned();
    for (i, conv) in net.convs.iter().enumerate() {
        let weight = conv.weight.val();
        let shape: [usize; 3] = weight.dims();
        check(
            conv.kernel_size % 2 == 1 && conv.stride == 1 && conv.dilation == 1 && conv.groups == 1,
            "convs must be odd-kernel, stride 1, dilation 1, one group",
        )?;
        let (w, b) = (format!("conv{i}.weight"), format!("conv{i}.bias"));
        g.initializer(&w, &shape.map(dim), &floats(weight.into_data())?);
        let bias = match &conv.bias {
            Some(bias) => floats(bias.val().into_data())?,
            None => vec![0.0; shape[0]],
        };
        g.initializer(&b, &[dim(shape[0])], &bias);
        let (c, r, p) = (format!("conv{i}"), format!("relu{i}"), format!("pool{i}"));
        let pad = dim(conv.kernel_size / 2);
        g.node(
            "Conv",
            &[&x, &w, &b],
            &[&c],
            &[
                ("kernel_shape", Attr::Ints(vec![dim(conv.kernel_size)])),
                ("strides", Attr::Ints(vec![1])),
                ("dilations", Attr::Ints(vec![1])),
                ("pads", Attr::Ints(vec![pad, pad])),
                ("group", Attr::Int(1)),
            ],
        );
        g.node("Relu", &[&c], &[&r], &[]);
        g.node(
            "MaxPool",
            &[&r],
            &[&p],
            &[
                ("kernel_shape", Attr::Ints(vec![dim(net.pool.kernel_size)])),
                ("strides", Attr::Ints(vec![dim(net.pool.stride)])),
                ("pads", Attr::Ints(vec![0, 0])),
            ],
        );
        x = p;
    }
    let mut parts: Vec<String> = Vec::with_capacity(3);
    if let Some(h) = net.hidden() {
        // [1, C, T'] -> [T', 1, C]: ONNX's LSTM is sequence-first.
        g.node(
            "Transpose",
            &[&x],
            &["sequence"],
            &[("perm", Attr::Ints(vec![2, 0, 1]))],
        );
        let (w, r, b) = lstm_tensors(net, order)?;
        let input = w.len() / (4 * h).max(1);
        g.initializer("lstm.W", &[1, dim(4 * h), dim(input)], &w);
        g.initializer("lstm.R", &[1, dim(4 * h), dim(h)], &r);
        g.initializer("lstm.B", &[1, dim(8 * h)], &b);
        g.node(
            "LSTM",
            &["sequence", "lstm.W", "lstm.R", "lstm.B"],
            &["lstm.Y", "lstm.Y_h"],
            &[
                ("hidden_size", Attr::Int(dim(h))),
                ("direction", Attr::Str("forward".into())),
            ],
        );
        g.node(
            "Flatten",
            &["lstm.Y_h"],
            &["last"],
            &[("axis", Attr::Int(1))],
        );
        parts.push("last".into());
    }
    if net.pooling.uses_stats() {
        // Over the time axis of [1, C, T'], keeping it: [1, C, 1] each, as burn computes them.
        let over_time = || vec![("axes", Attr::Ints(vec![2])), ("keepdims", Attr::Int(1))];
        g.node("ReduceMean", &[&x], &["stats.mean"], &over_time());
        g.node("Sub", &[&x, "stats.mean"], &["stats.centred"], &[]);
        g.node(
            "Mul",
            &["stats.centred", "stats.centred"],
            &["stats.squared"],
            &[],
        );
        g.node(
            "ReduceMean",
            &["stats.squared"],
            &["stats.var"],
            &over_time(),
        );
        g.initializer("stats.epsilon", &[1], &[STATS_EPSILON]);
        g.node(
            "Add",
            &["stats.var", "stats.epsilon"],
            &["stats.var_eps"],
            &[],
        );
        g.node("Sqrt", &["stats.var_eps"], &["stats.std"], &[]);
        for s in ["mean", "std"] {
            let flat = format!("stats.{s}_flat");
            g.node(
                "Flatten",
                &[&format!("stats.{s}")],
                &[&flat],
                &[("axis", Attr::Int(1))],
            );
            parts.push(flat);
        }
    }
    let mut pooled = match parts.as_slice() {
        [one] => one.clone(),
        _ => {
            let inputs: Vec<&str> = parts.iter().map(String::as_str).collect();
            g.node("Concat", &inputs, &["pooled"], &[("axis", Attr::Int(1))]);
            "pooled".to_owned()
        }
    };
    if let Some(head) = &net.head {
        gemm_node(&mut g, head, "head", &pooled, "head.gemm")?;
        g.node("Relu", &["head.gemm"], &["head.relu"], &[]);
        pooled = "head.relu".into();
    }
    let classes = gemm_node(&mut g, &net.dense, "dense", &pooled, "logits")?;
    g.node("Softmax", &["logits"], &[OUTPUT], &[("axis", Attr::Int(1))]);
    g.output(OUTPUT, &[1, dim(classes)]);
    Ok(g.to_bytes())
}

/// Runs `onnx` in tract (through `sentio-infer`) and burn's `net` on each of `inputs` (each
/// `frames * dims` raw features) and returns the largest absolute difference of the
/// probabilities ([`crate::export::max_difference`] at `net`'s input width).
pub fn max_difference(net: &SerNet, onnx: &[u8], frames: usize, inputs: &[&[f32]]) -> Result<f32> {
    let dims = net.mean.dims()[0];
    crate::export::max_difference(net, &Sequence { frames, dims }, onnx, inputs)
}

/// A `Linear`'s weight `[in, out]` as `[out, in]`, row-major.
fn transposed(linear: &Linear) -> Result<Vec<f32>> {
    let weight = linear.weight.val();
    let [rows, cols]: [usize; 2] = weight.dims();
    let values = floats(weight.into_data())?;
    let mut out = vec![0.0; rows * cols];
    for i in 0..rows {
        for j in 0..cols {
            out[j * rows + i] = values[i * cols + j];
        }
    }
    Ok(out)
}
