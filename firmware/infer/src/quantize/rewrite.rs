//! Rewrites an f32 ONNX graph into its int8 form (QOperator style, standard domain only):
//! Conv and dense layers become `QLinearConv` with per-channel int8 weights and an int32 bias,
//! ReLUs that follow them are folded into the output range, shape-only ops pass int8 through,
//! and everything else (softmax, pooling averages, LSTM, additions) runs in f32 between a
//! `DequantizeLinear` and, where an int8 op follows, a `QuantizeLinear`.

use std::collections::{HashMap, HashSet};

use tract_onnx::pb;

use super::math::{QParams, activation_params, bias_i32, per_channel_weights};
use super::proto::{
    attr_float, attr_int, f32_tensor, floats, i8_tensor, i32_tensor, i64_tensor, ints_attr, node,
    node_label,
};
use super::{Calibration, NodeReport, QuantReport};

/// Ops that only move or pick values: they run on int8 as they are and keep its parameters.
const PASS_THROUGH: &[&str] = &[
    "MaxPool",
    "Flatten",
    "Reshape",
    "Transpose",
    "Squeeze",
    "Unsqueeze",
    "Identity",
];

/// Ops whose output must never be re-quantized: tract folds `DequantizeLinear -> Softmax ->
/// QuantizeLinear` into a lookup table that answers 1.0 for every class (NOTES.md).
const KEEP_F32_OUTPUT: &[&str] = &["Softmax", "LogSoftmax"];

/// An int8 tensor of the rewritten graph and the initializers holding its parameters.
#[derive(Clone, Debug)]
struct QTensor {
    name: String,
    scale: String,
    zero_point: String,
    params: QParams,
}

struct Rewriter<'a> {
    calibration: &'a Calibration,
    weights: HashMap<String, pb::TensorProto>,
    /// Tensors available in int8, by their f32 name.
    quantized: HashMap<String, QTensor>,
    /// Tensors available in f32 (the graph input, f32 initializers, f32 node outputs).
    float: HashSet<String>,
    never_quantize: HashSet<String>,
    nodes: Vec<pb::NodeProto>,
    new_weights: Vec<pb::TensorProto>,
    used_weights: HashSet<String>,
    report: QuantReport,
}

/// Folds each BatchNormalization that directly follows a Conv (its only consumer) into the
/// Conv's weights and bias, so the pair quantizes as one layer.
pub fn fold_batch_norms(graph: &mut pb::GraphProto) -> usize {
    let mut folded = 0;
    loop {
        let consumers = consumers(graph);
        let outputs: HashSet<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
        let mut fold = None;
        for (ci, conv) in graph.node.iter().enumerate() {
            if conv.op_type != "Conv" || !conv.domain.is_empty() {
                continue;
            }
            let Some(out) = conv.output.first() else {
                continue;
            };
            if outputs.contains(out.as_str()) {
                continue;
            }
            let Some(users) = consumers.get(out.as_str()) else {
                continue;
            };
            let [bi] = users.as_slice() else { continue };
            let bn = &graph.node[*bi];
            if bn.op_type == "BatchNormalization"
                && bn.input.first() == Some(out)
                && bn.output.iter().skip(1).all(String::is_empty)
            {
                fold = Some((ci, *bi));
                break;
            }
        }
        let Some((ci, bi)) = fold else { break };
        if !fold_one(graph, ci, bi) {
            break;
        }
        folded += 1;
    }
    folded
}

fn fold_one(graph: &mut pb::GraphProto, ci: usize, bi: usize) -> bool {
    let init = |name: &str| {
        graph
            .initializer
            .iter()
            .find(|t| t.name == name)
            .and_then(floats)
    };
    let conv = &graph.node[ci];
    let bn = &graph.node[bi];
    let (Some(w_name), Some(w_dims)) = (
        conv.input.get(1),
        conv.input
            .get(1)
            .and_then(|n| graph.initializer.iter().find(|t| &t.name == n))
            .map(|t| t.dims.clone()),
    ) else {
        return false;
    };
    let Some(w) = init(w_name) else { return false };
    let m = w_dims.first().copied().unwrap_or(0) as usize;
    let params: Option<Vec<Vec<f32>>> = bn.input[1..].iter().map(|n| init(n)).collect();
    let Some(params) = params.filter(|p| p.len() == 4 && p.iter().all(|v| v.len() == m)) else {
        return false;
    };
    let bias = match conv.input.get(2).filter(|n| !n.is_empty()) {
        Some(n) => match init(n) {
            Some(b) if b.len() == m => b,
            _ => return false,
        },
        None => vec![0.0; m],
    };
    let eps = attr_float(bn, "epsilon", 1e-5);
    let (gamma, beta, mean, var) = (&params[0], &params[1], &params[2], &params[3]);
    let per = w.len() / m.max(1);
    let mut new_w = w.clone();
    let mut new_b = vec![0.0; m];
    for c in 0..m {
        let k = gamma[c] / (var[c] + eps).sqrt();
        for v in &mut new_w[c * per..(c + 1) * per] {
            *v *= k;
        }
        new_b[c] = (bias[c] - mean[c]) * k + beta[c];
    }
    let label = node_label(conv);
    let w_out = format!("{label}/bn_folded_w");
    let b_out = format!("{label}/bn_folded_b");
    graph.initializer.push(f32_tensor(&w_out, &w_dims, &new_w));
    graph
        .initializer
        .push(f32_tensor(&b_out, &[m as i64], &new_b));
    let bn_out = graph.node[bi].output[0].clone();
    let conv = &mut graph.node[ci];
    conv.input.truncate(1);
    conv.input.push(w_out);
    conv.input.push(b_out);
    conv.output[0] = bn_out;
    graph.node.remove(bi);
    true
}

fn consumers(graph: &pb::GraphProto) -> HashMap<&str, Vec<usize>> {
    let mut map: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, n) in graph.node.iter().enumerate() {
        for input in &n.input {
            let users = map.entry(input.as_str()).or_default();
            if !users.contains(&i) {
                users.push(i);
            }
        }
    }
    map
}

/// Rewrites `graph` (BatchNorms already folded) into its int8 form.
pub fn rewrite(graph: &pb::GraphProto, calibration: &Calibration) -> (pb::GraphProto, QuantReport) {
    let mut r = Rewriter {
        calibration,
        weights: graph
            .initializer
            .iter()
            .map(|t| (t.name.clone(), t.clone()))
            .collect(),
        quantized: HashMap::new(),
        float: graph
            .input
            .iter()
            .map(|i| i.name.clone())
            .chain(graph.initializer.iter().map(|t| t.name.clone()))
            .collect(),
        never_quantize: HashSet::new(),
        nodes: Vec::new(),
        new_weights: Vec::new(),
        used_weights: HashSet::new(),
        report: QuantReport::default(),
    };
    let consumers = consumers(graph);
    let graph_outputs: HashSet<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
    let mut skip = HashSet::new();
    for (i, n) in graph.node.iter().enumerate() {
        if skip.contains(&i) {
            continue;
        }
        // A Relu right after a quantized layer is folded into that layer's output range.
        let relu_after = |out: &str| -> Option<usize> {
            if graph_outputs.contains(out) {
                return None;
            }
            match consumers.get(out).map(Vec::as_slice) {
                Some([j])
                    if graph.node[*j].op_type == "Relu" && graph.node[*j].domain.is_empty() =>
                {
                    Some(*j)
                }
                _ => None,
            }
        };
        let handled = match (n.domain.as_str(), n.op_type.as_str()) {
            ("", "Conv") => r.conv(
                n,
                relu_after(n.output[0].as_str()).map(|j| (j, &graph.node[j])),
            ),
            ("", "Gemm") | ("", "MatMul") => r.dense(
                n,
                relu_after(n.output[0].as_str()).map(|j| (j, &graph.node[j])),
            ),
            ("", op) if PASS_THROUGH.contains(&op) => r.pass_through(n),
            _ => Err("no int8 form in the standard domain that tract runs".to_owned()),
        };
        match handled {
            Ok(fused) => {
                if let Some(j) = fused {
                    skip.insert(j);
                }
            }
            Err(reason) => r.keep_f32(n, reason),
        }
    }
    for out in &graph.output {
        r.ensure_f32(&out.name);
    }
    let mut initializer: Vec<pb::TensorProto> = graph
        .initializer
        .iter()
        .filter(|t| r.used_weights.contains(&t.name))
        .cloned()
        .collect();
    initializer.extend(r.new_weights);
    let out = pb::GraphProto {
        name: graph.name.clone(),
        doc_string: graph.doc_string.clone(),
        input: graph.input.clone(),
        output: graph.output.clone(),
        node: r.nodes,
        initializer,
        ..Default::default()
    };
    (out, r.report)
}

impl Rewriter<'_> {
    fn weight(&self, name: &str) -> Option<(&pb::TensorProto, Vec<f32>)> {
        let t = self.weights.get(name)?;
        Some((t, floats(t)?))
    }

    fn add_weight(&mut self, t: pb::TensorProto) -> String {
        let name = t.name.clone();
        self.new_weights.push(t);
        name
    }

    fn params_tensors(&mut self, base: &str, p: QParams) -> (String, String) {
        let scale = self.add_weight(f32_tensor(&format!("{base}/scale"), &[], &[p.scale]));
        let zp = self.add_weight(i8_tensor(
            &format!("{base}/zero_point"),
            &[],
            &[p.zero_point],
        ));
        (scale, zp)
    }

    /// The int8 form of `name`, quantizing it first when it only exists in f32.
    fn ensure_int8(&mut self, name: &str) -> Option<QTensor> {
        if let Some(q) = self.quantized.get(name) {
            return Some(q.clone());
        }
        if self.never_quantize.contains(name) || !self.float.contains(name) {
            return None;
        }
        let stats = self.calibration.stats(name)?;
        let params = activation_params(stats.min, stats.max);
        let (scale, zero_point) = self.params_tensors(&format!("{name}/q"), params);
        let q = QTensor {
            name: format!("{name}/int8"),
            scale,
            zero_point,
            params,
        };
        self.nodes.push(node(
            &format!("{name}/quantize"),
            "QuantizeLinear",
            &[name, &q.scale, &q.zero_point],
            &[&q.name],
            vec![],
        ));
        self.quantized.insert(name.to_owned(), q.clone());
        Some(q)
    }

    /// The f32 form of `name`, dequantizing it when it only exists in int8.
    fn ensure_f32(&mut self, name: &str) {
        if name.is_empty() || self.float.contains(name) {
            self.used_weights.insert(name.to_owned());
            return;
        }
        if let Some(q) = self.quantized.get(name).cloned() {
            self.nodes.push(node(
                &format!("{name}/dequantize"),
                "DequantizeLinear",
                &[&q.name, &q.scale, &q.zero_point],
                &[name],
                vec![],
            ));
            self.float.insert(name.to_owned());
        }
    }

    fn keep_f32(&mut self, n: &pb::NodeProto, reason: String) {
        for input in &n.input {
            self.ensure_f32(input);
        }
        if KEEP_F32_OUTPUT.contains(&n.op_type.as_str()) {
            self.never_quantize.extend(n.output.iter().cloned());
        }
        self.float
            .extend(n.output.iter().filter(|o| !o.is_empty()).cloned());
        self.nodes.push(n.clone());
        self.report.kept_f32.push(NodeReport {
            node: node_label(n),
            op: n.op_type.clone(),
            note: reason,
        });
    }

    /// The output's int8 parameters: from the folded ReLU's range when there is one.
    fn output_params(&self, out: &str, relu: Option<&pb::NodeProto>) -> Result<QParams, String> {
        let observed = relu
            .and_then(|r| r.output.first())
            .map_or(out, String::as_str);
        let s = self
            .calibration
            .stats(observed)
            .ok_or_else(|| format!("`{observed}` was not observed during calibration"))?;
        let min = if relu.is_some() { 0.0 } else { s.min };
        Ok(activation_params(min, s.max))
    }

    /// Emits a QLinearConv; `weights` is `[M, ...]` in f32, `bias` `[M]`.
    #[allow(clippy::too_many_arguments)]
    fn qlinear_conv(
        &mut self,
        label: &str,
        x: &QTensor,
        weights: &[f32],
        w_dims: &[i64],
        bias: &[f32],
        y: &str,
        y_params: QParams,
        attrs: Vec<pb::AttributeProto>,
    ) -> QTensor {
        let m = w_dims.first().copied().unwrap_or(1).max(1) as usize;
        let (wq, w_scales) = per_channel_weights(weights, m);
        let bq = bias_i32(bias, x.params.scale, &w_scales);
        let w = self.add_weight(i8_tensor(&format!("{label}/w_int8"), w_dims, &wq));
        let ws = self.add_weight(f32_tensor(
            &format!("{label}/w_scale"),
            &[m as i64],
            &w_scales,
        ));
        let wz = self.add_weight(i8_tensor(
            &format!("{label}/w_zero_point"),
            &[m as i64],
            &vec![0; m],
        ));
        let b = self.add_weight(i32_tensor(&format!("{label}/b_int32"), &[m as i64], &bq));
        let (ys, yz) = self.params_tensors(&format!("{y}/q"), y_params);
        let out = QTensor {
            name: format!("{y}/int8"),
            scale: ys,
            zero_point: yz,
            params: y_params,
        };
        self.nodes.push(node(
            label,
            "QLinearConv",
            &[
                &x.name,
                &x.scale,
                &x.zero_point,
                &w,
                &ws,
                &wz,
                &out.scale,
                &out.zero_point,
                &b,
            ],
            &[&out.name],
            attrs,
        ));
        out
    }

    fn conv(
        &mut self,
        n: &pb::NodeProto,
        relu: Option<(usize, &pb::NodeProto)>,
    ) -> Result<Option<usize>, String> {
        let w_name = n.input.get(1).ok_or("Conv without weights")?;
        let (w_t, w) = self
            .weight(w_name)
            .ok_or("the weights are not a constant f32 initializer")?;
        let w_dims = w_t.dims.clone();
        let m = w_dims.first().copied().unwrap_or(0) as usize;
        let bias = match n.input.get(2).filter(|b| !b.is_empty()) {
            Some(b) => self
                .weight(b)
                .map(|(_, v)| v)
                .filter(|v| v.len() == m)
                .ok_or("the bias is not a constant f32 initializer")?,
            None => vec![0.0; m],
        };
        let y_params = self.output_params(&n.output[0], relu.map(|r| r.1))?;
        let x = self
            .ensure_int8(&n.input[0])
            .ok_or("its input was not observed during calibration")?;
        let y_name = relu.map_or(&n.output[0], |(_, r)| &r.output[0]).clone();
        let label = node_label(n);
        let out = self.qlinear_conv(
            &label,
            &x,
            &w,
            &w_dims,
            &bias,
            &y_name,
            y_params,
            n.attribute.clone(),
        );
        self.quantized.insert(y_name, out);
        self.note_quantized(n, relu.map(|r| r.1));
        Ok(relu.map(|r| r.0))
    }

    /// Gemm / MatMul with constant weights, as a 1x1 QLinearConv between two Reshapes: a
    /// standard op with per-channel weights and an int32 bias, which QLinearMatMul lacks.
    fn dense(
        &mut self,
        n: &pb::NodeProto,
        relu: Option<(usize, &pb::NodeProto)>,
    ) -> Result<Option<usize>, String> {
        let a = n.input.first().ok_or("no input")?;
        let a_rank = self
            .calibration
            .stats(a)
            .map(|s| s.shape.len())
            .ok_or("its input was not observed during calibration")?;
        if a_rank != 2 {
            return Err(format!("input of rank {a_rank} (only rank 2 is quantized)"));
        }
        let b_name = n.input.get(1).ok_or("no weights")?;
        let (b_t, b) = self
            .weight(b_name)
            .ok_or("the weights are not a constant f32 initializer")?;
        let [rows, cols] = b_t.dims.as_slice() else {
            return Err("the weights are not 2-D".into());
        };
        let (rows, cols) = (*rows as usize, *cols as usize);
        let gemm = n.op_type == "Gemm";
        if gemm
            && (attr_int(n, "transA", 0) != 0
                || attr_float(n, "alpha", 1.0) != 1.0
                || attr_float(n, "beta", 1.0) != 1.0)
        {
            return Err(
                "Gemm with transA, alpha or beta (only the plain dense form is quantized)".into(),
            );
        }
        let trans_b = gemm && attr_int(n, "transB", 0) != 0;
        // Weights as [out, in] rows, the layout of Conv weights.
        let (outs, ins) = if trans_b { (rows, cols) } else { (cols, rows) };
        let w: Vec<f32> = if trans_b {
            b
        } else {
            (0..outs)
                .flat_map(|o| (0..ins).map(move |i| (o, i)))
                .map(|(o, i)| b[i * cols + o])
                .collect()
        };
        let bias = match n.input.get(2).filter(|c| gemm && !c.is_empty()) {
            Some(c) => self
                .weight(c)
                .map(|(_, v)| v)
                .filter(|v| v.len() == outs)
                .ok_or("the bias is not a constant f32 vector of one value per output")?,
            None => vec![0.0; outs],
        };
        let y_params = self.output_params(&n.output[0], relu.map(|r| r.1))?;
        let x = self
            .ensure_int8(a)
            .ok_or("its input was not observed during calibration")?;
        let label = node_label(n);
        let to_4d = self.add_weight(i64_tensor(
            &format!("{label}/shape_4d"),
            &[4],
            &[0, -1, 1, 1],
        ));
        let to_2d = self.add_weight(i64_tensor(&format!("{label}/shape_2d"), &[2], &[0, -1]));
        let x4 = QTensor {
            name: format!("{}/4d", x.name),
            ..x.clone()
        };
        self.nodes.push(node(
            &format!("{label}/reshape_in"),
            "Reshape",
            &[&x.name, &to_4d],
            &[&x4.name],
            vec![],
        ));
        let y_name = relu.map_or(&n.output[0], |(_, r)| &r.output[0]).clone();
        let y4 = self.qlinear_conv(
            &label,
            &x4,
            &w,
            &[outs as i64, ins as i64, 1, 1],
            &bias,
            &format!("{y_name}/4d"),
            y_params,
            vec![ints_attr("kernel_shape", &[1, 1])],
        );
        let y = QTensor {
            name: format!("{y_name}/int8"),
            ..y4.clone()
        };
        self.nodes.push(node(
            &format!("{label}/reshape_out"),
            "Reshape",
            &[&y4.name, &to_2d],
            &[&y.name],
            vec![],
        ));
        self.quantized.insert(y_name, y);
        self.note_quantized(n, relu.map(|r| r.1));
        Ok(relu.map(|r| r.0))
    }

    fn pass_through(&mut self, n: &pb::NodeProto) -> Result<Option<usize>, String> {
        let input = n.input.first().ok_or("no input")?;
        let Some(x) = self.quantized.get(input).cloned() else {
            return Err("its input is f32 (nothing to pass through)".into());
        };
        if n.output.len() != 1 {
            return Err("more than one output".into());
        }
        let out = QTensor {
            name: format!("{}/int8", n.output[0]),
            ..x.clone()
        };
        let mut inputs = vec![x.name.clone()];
        for extra in &n.input[1..] {
            self.ensure_f32(extra);
            inputs.push(extra.clone());
        }
        let mut q = n.clone();
        q.input = inputs;
        q.output = vec![out.name.clone()];
        self.nodes.push(q);
        self.quantized.insert(n.output[0].clone(), out);
        self.report.quantized.push(NodeReport {
            node: node_label(n),
            op: n.op_type.clone(),
            note: "runs on int8 as it is".into(),
        });
        Ok(None)
    }

    fn note_quantized(&mut self, n: &pb::NodeProto, relu: Option<&pb::NodeProto>) {
        let note = match (n.op_type.as_str(), relu) {
            ("Conv", None) => "QLinearConv, per-channel int8 weights".to_owned(),
            ("Conv", Some(_)) => "QLinearConv, per-channel int8 weights, ReLU folded".to_owned(),
            (_, None) => "1x1 QLinearConv, per-channel int8 weights".to_owned(),
            (_, Some(_)) => "1x1 QLinearConv, per-channel int8 weights, ReLU folded".to_owned(),
        };
        self.report.quantized.push(NodeReport {
            node: node_label(n),
            op: n.op_type.clone(),
            note,
        });
    }
}
