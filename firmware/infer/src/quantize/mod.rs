//! Static post-training int8 quantization, in Rust, for tract.
//!
//! 1. [`calibrate`] runs the f32 model on a calibration set and records the range of every
//!    tensor (min-max, or a percentile that clips outliers).
//! 2. [`quantize`] writes a new ONNX model in QOperator form with standard-domain ops only
//!    (`QuantizeLinear`, `QLinearConv`, `DequantizeLinear`, `Reshape`, ...), which tract runs in
//!    integer arithmetic: per-channel symmetric int8 weights, per-tensor asymmetric int8
//!    activations, int32 biases, signed int8 throughout (s8s8, the form tract executes in
//!    integers; see NOTES.md). Dense layers become 1x1 `QLinearConv`s (per-channel weights and an
//!    int32 bias, which `QLinearMatMul` lacks). BatchNorms after a Conv are folded into it, ReLUs
//!    after a quantized layer into its output range.
//! 3. What has no int8 form tract runs stays f32: softmax (never quantized around: tract folds
//!    `DequantizeLinear -> Softmax -> QuantizeLinear` into a table that answers 1.0), averaging
//!    pools, LSTM/GRU, additions. The [`QuantReport`] lists each node and why.
//!
//! 4. [`quantize_and_compare`] does all of it for a loaded f32 model and measures what changed
//!    (top-1 accuracy on a labelled set, p50 latency), telling a callback where it is.
//!
//! The tolerance to hold the int8 model to is derived in `tests/conformance/README.md`.

mod compare;
mod math;
mod proto;
mod rewrite;

use std::collections::BTreeMap;

use prost::Message;
use tract_onnx::pb;

pub use compare::{
    Accuracy, Comparison, LabelledInputs, QuantizeProgress, accuracy, calibration_options,
    quantize_and_compare, quantize_model,
};
pub use math::{QParams, activation_params, dequantize_value, quantize_value};

use crate::error::{Error, Result};
use crate::model::{LoadOptions, Model};

/// How an activation's range is chosen from the calibration set.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Observer {
    /// The smallest and largest value seen.
    #[default]
    MinMax,
    /// The range holding this percentage of the values (e.g. 99.99), clipping outliers.
    Percentile(f32),
}

impl std::fmt::Display for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MinMax => write!(f, "min-max"),
            Self::Percentile(p) => write!(f, "percentile {p}"),
        }
    }
}

/// What calibration saw of one tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorStats {
    /// The range kept (after the observer's clipping).
    pub min: f32,
    /// See `min`.
    pub max: f32,
    /// The tensor's shape.
    pub shape: Vec<usize>,
}

/// The ranges of a model's tensors over a calibration set.
#[derive(Clone, Debug, Default)]
pub struct Calibration {
    tensors: BTreeMap<String, TensorStats>,
    samples: usize,
    observer: Observer,
}

impl Calibration {
    /// What was seen of `tensor`.
    pub fn stats(&self, tensor: &str) -> Option<&TensorStats> {
        self.tensors.get(tensor)
    }

    /// Every tensor observed.
    pub fn tensors(&self) -> impl Iterator<Item = (&str, &TensorStats)> {
        self.tensors.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// How many calibration inputs were run.
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// The observer used.
    pub fn observer(&self) -> Observer {
        self.observer
    }
}

/// One node of the quantized model's report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeReport {
    /// The node's name in the f32 model.
    pub node: String,
    /// Its operator.
    pub op: String,
    /// How it was quantized, or why it stayed f32.
    pub note: String,
}

impl std::fmt::Display for NodeReport {
    /// `node (op): note`, one line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.node, self.op, self.note)
    }
}

/// What [`quantize`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuantReport {
    /// Nodes that run in int8.
    pub quantized: Vec<NodeReport>,
    /// Nodes kept in f32, with the reason.
    pub kept_f32: Vec<NodeReport>,
    /// BatchNormalizations folded into the Conv before them.
    pub folded_batch_norms: usize,
    /// Size of the f32 model file.
    pub f32_bytes: usize,
    /// Size of the int8 model file.
    pub int8_bytes: usize,
}

impl QuantReport {
    /// int8 size as a fraction of the f32 size.
    pub fn size_ratio(&self) -> f64 {
        self.int8_bytes as f64 / self.f32_bytes.max(1) as f64
    }
}

/// A quantized model file and its report.
#[derive(Clone, Debug)]
pub struct Quantized {
    /// The int8 ONNX model.
    pub model: Vec<u8>,
    /// What was quantized and what stayed f32.
    pub report: QuantReport,
}

/// Bins of the percentile observer's histograms.
const HISTOGRAM_BINS: usize = 4096;

/// Runs `model` (f32 ONNX bytes) on every calibration input and records the range of the input
/// and of every node output.
///
/// `options` gives the model's name and input shape as for [`Model::load`]. With
/// [`Observer::Percentile`] the set is run twice (ranges first, then histograms).
pub fn calibrate(
    model: &[u8],
    options: &LoadOptions,
    inputs: &[Vec<f32>],
    observer: Observer,
) -> Result<Calibration> {
    let name = options.model_name();
    if inputs.is_empty() {
        return Err(Error::Calibration {
            model: name,
            detail: "the calibration set is empty".into(),
        });
    }
    let proto = decode(model, &name)?;
    let Some(graph) = proto.graph.as_ref() else {
        return Err(Error::NoGraph { model: name });
    };
    // Every node output becomes a graph output, so one run shows them all. The model is only
    // typed, not optimized: optimization fuses nodes whose intermediate values we need.
    let mut observed: Vec<String> = graph.input.iter().map(|i| i.name.clone()).collect();
    let initializers: std::collections::HashSet<&str> =
        graph.initializer.iter().map(|t| t.name.as_str()).collect();
    observed.retain(|n| !initializers.contains(n.as_str()));
    for node in &graph.node {
        for out in &node.output {
            if !out.is_empty() && !observed.contains(out) {
                observed.push(out.clone());
            }
        }
    }
    let mut probe = proto.clone();
    if let Some(g) = probe.graph.as_mut() {
        g.output = observed
            .iter()
            .map(|n| pb::ValueInfoProto {
                name: n.clone(),
                ..Default::default()
            })
            .collect();
    }
    // Labels are dropped: the probe's outputs are every tensor, not the model's classes.
    let probe_options = options
        .clone()
        .without_labels()
        .unoptimized()
        .smoke_run(false);
    let mut runner = Model::load(&probe.encode_to_vec(), &probe_options)?;
    let input_name = runner.input_name().to_owned();
    let input_shape = runner.input_shape().to_vec();

    let mut ranges: BTreeMap<String, TensorStats> = BTreeMap::new();
    let mut record = |tensor: &str, shape: &[usize], data: &[f32]| {
        let (lo, hi) = data
            .iter()
            .filter(|v| v.is_finite())
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(*v), hi.max(*v))
            });
        let e = ranges.entry(tensor.to_owned()).or_insert(TensorStats {
            min: f32::INFINITY,
            max: f32::NEG_INFINITY,
            shape: shape.to_vec(),
        });
        e.min = e.min.min(lo);
        e.max = e.max.max(hi);
    };
    for (i, x) in inputs.iter().enumerate() {
        let out = runner.run(x).map_err(|e| Error::Calibration {
            model: name.clone(),
            detail: format!("calibration input {i}: {e}"),
        })?;
        record(&input_name, &input_shape, x);
        for t in &out.tensors {
            record(&t.name, &t.shape, &t.data);
        }
    }
    if let Observer::Percentile(p) = observer {
        let mut hists: BTreeMap<String, math::Histogram> = ranges
            .iter()
            .map(|(k, s)| {
                (
                    k.clone(),
                    math::Histogram::new(s.min, s.max, HISTOGRAM_BINS),
                )
            })
            .collect();
        for x in inputs {
            let out = runner.run(x)?;
            if let Some(h) = hists.get_mut(&input_name) {
                h.add(x);
            }
            for t in &out.tensors {
                if let Some(h) = hists.get_mut(&t.name) {
                    h.add(&t.data);
                }
            }
        }
        for (k, h) in hists {
            if let Some(s) = ranges.get_mut(&k) {
                let (lo, hi) = h.clip_range(p);
                // Never widen, and keep an all-positive tensor (after a ReLU) at 0.
                s.min = s.min.max(lo);
                s.max = s.max.min(hi);
            }
        }
    }
    ranges.retain(|_, s| s.min.is_finite() && s.max.is_finite());
    Ok(Calibration {
        tensors: ranges,
        samples: inputs.len(),
        observer,
    })
}

/// Writes the int8 form of `model` (f32 ONNX bytes) from its calibration.
pub fn quantize(model: &[u8], name: &str, calibration: &Calibration) -> Result<Quantized> {
    let mut proto = decode(model, name)?;
    let Some(graph) = proto.graph.as_mut() else {
        return Err(Error::NoGraph {
            model: name.to_owned(),
        });
    };
    if calibration.tensors.is_empty() {
        return Err(Error::Calibration {
            model: name.to_owned(),
            detail: "the calibration holds no tensor ranges".into(),
        });
    }
    let folded = rewrite::fold_batch_norms(graph);
    let (graph, mut report) = rewrite::rewrite(graph, calibration);
    report.folded_batch_norms = folded;
    if report.quantized.is_empty() {
        return Err(Error::Calibration {
            model: name.to_owned(),
            detail: "no node of this model has an int8 form (it needs Conv, Gemm or MatMul \
                     layers with constant weights)"
                .into(),
        });
    }
    // QLinearConv needs opset 10; newer opsets are kept as they are.
    for opset in &mut proto.opset_import {
        if (opset.domain.is_empty() || opset.domain == "ai.onnx") && opset.version < 10 {
            opset.version = 10;
        }
    }
    proto.graph = Some(graph);
    proto.producer_name = "sentio-infer quantize".into();
    proto.producer_version = env!("CARGO_PKG_VERSION").into();
    let bytes = proto.encode_to_vec();
    report.f32_bytes = model.len();
    report.int8_bytes = bytes.len();
    Ok(Quantized {
        model: bytes,
        report,
    })
}

fn decode(bytes: &[u8], name: &str) -> Result<pb::ModelProto> {
    if bytes.is_empty() {
        return Err(Error::Empty {
            model: name.to_owned(),
        });
    }
    pb::ModelProto::decode(bytes).map_err(|e| Error::Corrupt {
        model: name.to_owned(),
        len: bytes.len(),
        detail: e.to_string(),
    })
}

/// True when the model holds quantized ops (it was written by [`quantize`] or another
/// QOperator-form quantizer).
pub fn is_quantized(model: &[u8]) -> bool {
    pb::ModelProto::decode(model)
        .ok()
        .and_then(|m| m.graph)
        .is_some_and(|g| {
            g.node.iter().any(|n| {
                matches!(
                    n.op_type.as_str(),
                    "QLinearConv" | "QLinearMatMul" | "ConvInteger" | "MatMulInteger"
                )
            })
        })
}
