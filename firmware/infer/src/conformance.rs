//! The conformance models: small ONNX graphs covering the layers our models use, with
//! deterministic weights and inputs from a seed.
//!
//! `examples/export_conformance_models.rs` writes them to `tests/conformance/models/`,
//! `tests/conformance/make_fixtures.py` runs onnxruntime on them and stores the outputs as
//! fixtures, and `tests/conformance.rs` rebuilds them here (byte-identical: the fixtures record
//! each file's sha256) and compares tract's outputs with the fixtures.

use crate::onnx::{Attr, GraphBuilder, SplitMix64};

/// One conformance model and the input it is checked on.
#[derive(Clone, Debug)]
pub struct Case {
    /// File stem (`conv` → `conv.onnx`, `conv.json`).
    pub name: &'static str,
    /// The layers it covers.
    pub covers: &'static str,
    /// The ONNX file.
    pub model: Vec<u8>,
    /// The input's shape.
    pub input_shape: Vec<usize>,
    /// The input, row-major.
    pub input: Vec<f32>,
}

/// Weights uniform in ±1/sqrt(fan_in) (the usual init scale: activations stay near 1).
fn weights(rng: &mut SplitMix64, n: usize, fan_in: usize) -> Vec<f32> {
    let s = 1.0 / (fan_in as f32).sqrt();
    rng.vec(n, -s, s)
}

fn case(
    name: &'static str,
    covers: &'static str,
    seed: u64,
    input_shape: &[usize],
    build: impl FnOnce(&mut GraphBuilder, &mut SplitMix64),
) -> Case {
    let mut rng = SplitMix64::new(seed);
    let mut g = GraphBuilder::new(name);
    let dims: Vec<i64> = input_shape.iter().map(|d| *d as i64).collect();
    g.input("x", &dims);
    build(&mut g, &mut rng);
    let n = input_shape.iter().product();
    let input = rng.vec(n, -1.0, 1.0);
    Case {
        name,
        covers,
        model: g.to_bytes(),
        input_shape: input_shape.to_vec(),
        input,
    }
}

fn ints(v: &[i64]) -> Attr {
    Attr::Ints(v.to_vec())
}

/// Every conformance case, in a fixed order.
pub fn cases() -> Vec<Case> {
    vec![
        case(
            "conv",
            "Conv 3x3 pad 1 + bias, Relu",
            1,
            &[1, 3, 16, 16],
            |g, r| {
                g.initializer("w", &[8, 3, 3, 3], &weights(r, 8 * 27, 27))
                    .initializer("b", &[8], &r.vec(8, -0.1, 0.1))
                    .node(
                        "Conv",
                        &["x", "w", "b"],
                        &["c"],
                        &[
                            ("kernel_shape", ints(&[3, 3])),
                            ("pads", ints(&[1, 1, 1, 1])),
                        ],
                    )
                    .node("Relu", &["c"], &["y"], &[])
                    .output("y", &[1, 8, 16, 16]);
            },
        ),
        case(
            "conv_strided",
            "Conv 5x5 stride 2 pad 2, no bias",
            2,
            &[1, 2, 15, 15],
            |g, r| {
                g.initializer("w", &[4, 2, 5, 5], &weights(r, 4 * 50, 50))
                    .node(
                        "Conv",
                        &["x", "w"],
                        &["y"],
                        &[
                            ("kernel_shape", ints(&[5, 5])),
                            ("pads", ints(&[2, 2, 2, 2])),
                            ("strides", ints(&[2, 2])),
                        ],
                    )
                    .output("y", &[1, 4, 8, 8]);
            },
        ),
        case(
            "depthwise_separable",
            "depthwise Conv (group = channels) + pointwise 1x1 Conv",
            3,
            &[1, 8, 12, 12],
            |g, r| {
                g.initializer("dw", &[8, 1, 3, 3], &weights(r, 72, 9))
                    .initializer("dwb", &[8], &r.vec(8, -0.1, 0.1))
                    .initializer("pw", &[16, 8, 1, 1], &weights(r, 128, 8))
                    .initializer("pwb", &[16], &r.vec(16, -0.1, 0.1))
                    .node(
                        "Conv",
                        &["x", "dw", "dwb"],
                        &["d"],
                        &[
                            ("group", Attr::Int(8)),
                            ("kernel_shape", ints(&[3, 3])),
                            ("pads", ints(&[1, 1, 1, 1])),
                        ],
                    )
                    .node("Relu", &["d"], &["dr"], &[])
                    .node("Conv", &["dr", "pw", "pwb"], &["y"], &[])
                    .output("y", &[1, 16, 12, 12]);
            },
        ),
        case(
            "pooling",
            "MaxPool 2x2 stride 2, GlobalAveragePool (two outputs)",
            4,
            &[1, 4, 16, 16],
            |g, _| {
                g.node(
                    "MaxPool",
                    &["x"],
                    &["pooled"],
                    &[("kernel_shape", ints(&[2, 2])), ("strides", ints(&[2, 2]))],
                )
                .node("GlobalAveragePool", &["pooled"], &["gap"], &[])
                .output("pooled", &[1, 4, 8, 8])
                .output("gap", &[1, 4, 1, 1]);
            },
        ),
        case(
            "batchnorm",
            "BatchNormalization (inference, eps 1e-5)",
            5,
            &[1, 6, 8, 8],
            |g, r| {
                g.initializer("scale", &[6], &r.vec(6, 0.5, 1.5))
                    .initializer("bias", &[6], &r.vec(6, -0.5, 0.5))
                    .initializer("mean", &[6], &r.vec(6, -0.3, 0.3))
                    .initializer("var", &[6], &r.vec(6, 0.2, 2.0))
                    .node(
                        "BatchNormalization",
                        &["x", "scale", "bias", "mean", "var"],
                        &["y"],
                        &[("epsilon", Attr::Float(1e-5))],
                    )
                    .output("y", &[1, 6, 8, 8]);
            },
        ),
        case(
            "dense",
            "Gemm (transB) + Relu, MatMul + Add",
            6,
            &[1, 32],
            |g, r| {
                g.initializer("w1", &[16, 32], &weights(r, 512, 32))
                    .initializer("b1", &[16], &r.vec(16, -0.1, 0.1))
                    .initializer("w2", &[16, 10], &weights(r, 160, 16))
                    .initializer("b2", &[10], &r.vec(10, -0.1, 0.1))
                    .node(
                        "Gemm",
                        &["x", "w1", "b1"],
                        &["h"],
                        &[("transB", Attr::Int(1))],
                    )
                    .node("Relu", &["h"], &["hr"], &[])
                    .node("MatMul", &["hr", "w2"], &["m"], &[])
                    .node("Add", &["m", "b2"], &["y"], &[])
                    .output("y", &[1, 10]);
            },
        ),
        case(
            "softmax",
            "Gemm + Softmax (axis -1)",
            7,
            &[1, 20],
            |g, r| {
                g.initializer("w", &[8, 20], &r.vec(160, -1.0, 1.0))
                    .initializer("b", &[8], &r.vec(8, -0.5, 0.5))
                    .node(
                        "Gemm",
                        &["x", "w", "b"],
                        &["l"],
                        &[("transB", Attr::Int(1))],
                    )
                    .node("Softmax", &["l"], &["y"], &[("axis", Attr::Int(-1))])
                    .output("y", &[1, 8]);
            },
        ),
        case(
            "lstm",
            "LSTM (forward, hidden 16, seq 10), outputs Y and Y_h",
            8,
            &[10, 1, 12],
            |g, r| {
                let h = 16;
                g.initializer("w", &[1, 4 * h, 12], &weights(r, 4 * 16 * 12, 12))
                    .initializer("r", &[1, 4 * h, h], &weights(r, 4 * 16 * 16, 16))
                    .initializer("b", &[1, 8 * h], &r.vec(8 * 16, -0.1, 0.1))
                    .node(
                        "LSTM",
                        &["x", "w", "r", "b"],
                        &["y", "y_h"],
                        &[("hidden_size", Attr::Int(h))],
                    )
                    .output("y", &[10, 1, 1, 16])
                    .output("y_h", &[1, 1, 16]);
            },
        ),
        case(
            "lstm_bidirectional",
            "LSTM (both directions, batch 2, hidden 8, seq 7) from given initial h and c, \
             outputs Y, Y_h and Y_c",
            14,
            &[7, 2, 5],
            |g, r| {
                let h = 8;
                g.initializer("w", &[2, 4 * h, 5], &weights(r, 2 * 4 * 8 * 5, 5))
                    .initializer("r", &[2, 4 * h, h], &weights(r, 2 * 4 * 8 * 8, 8))
                    .initializer("b", &[2, 8 * h], &r.vec(2 * 8 * 8, -0.1, 0.1))
                    .initializer("h0", &[2, 2, h], &r.vec(2 * 2 * 8, -0.5, 0.5))
                    .initializer("c0", &[2, 2, h], &r.vec(2 * 2 * 8, -0.5, 0.5))
                    .node(
                        "LSTM",
                        &["x", "w", "r", "b", "", "h0", "c0"],
                        &["y", "y_h", "y_c"],
                        &[
                            ("hidden_size", Attr::Int(h)),
                            ("direction", Attr::Str("bidirectional".into())),
                        ],
                    )
                    .output("y", &[7, 2, 2, 8])
                    .output("y_h", &[2, 2, 8])
                    .output("y_c", &[2, 2, 8]);
            },
        ),
        case(
            "gru",
            "GRU (forward, hidden 12, seq 8), outputs Y and Y_h",
            10,
            &[8, 1, 6],
            |g, r| {
                let h = 12;
                g.initializer("w", &[1, 3 * h, 6], &weights(r, 3 * 12 * 6, 6))
                    .initializer("r", &[1, 3 * h, h], &weights(r, 3 * 12 * 12, 12))
                    .initializer("b", &[1, 6 * h], &r.vec(6 * 12, -0.1, 0.1))
                    .node(
                        "GRU",
                        &["x", "w", "r", "b"],
                        &["y", "y_h"],
                        &[("hidden_size", Attr::Int(h))],
                    )
                    .output("y", &[8, 1, 1, 12])
                    .output("y_h", &[1, 1, 12]);
            },
        ),
        case(
            "mini_cnn",
            "Conv-BN-Relu-MaxPool x2, GlobalAveragePool, Flatten, Gemm, Softmax",
            9,
            &[1, 1, 24, 24],
            |g, r| {
                g.initializer("w1", &[8, 1, 3, 3], &weights(r, 72, 9))
                    .initializer("b1", &[8], &r.vec(8, -0.1, 0.1))
                    .initializer("s1", &[8], &r.vec(8, 0.5, 1.5))
                    .initializer("o1", &[8], &r.vec(8, -0.2, 0.2))
                    .initializer("m1", &[8], &r.vec(8, -0.2, 0.2))
                    .initializer("v1", &[8], &r.vec(8, 0.5, 1.5))
                    .initializer("w2", &[16, 8, 3, 3], &weights(r, 16 * 72, 72))
                    .initializer("b2", &[16], &r.vec(16, -0.1, 0.1))
                    .initializer("wd", &[8, 16], &weights(r, 128, 16))
                    .initializer("bd", &[8], &r.vec(8, -0.1, 0.1));
                let conv = [
                    ("kernel_shape", ints(&[3, 3])),
                    ("pads", ints(&[1, 1, 1, 1])),
                ];
                let pool = [("kernel_shape", ints(&[2, 2])), ("strides", ints(&[2, 2]))];
                g.node("Conv", &["x", "w1", "b1"], &["c1"], &conv)
                    .node(
                        "BatchNormalization",
                        &["c1", "s1", "o1", "m1", "v1"],
                        &["n1"],
                        &[],
                    )
                    .node("Relu", &["n1"], &["r1"], &[])
                    .node("MaxPool", &["r1"], &["p1"], &pool)
                    .node("Conv", &["p1", "w2", "b2"], &["c2"], &conv)
                    .node("Relu", &["c2"], &["r2"], &[])
                    .node("MaxPool", &["r2"], &["p2"], &pool)
                    .node("GlobalAveragePool", &["p2"], &["gap"], &[])
                    .node("Flatten", &["gap"], &["f"], &[("axis", Attr::Int(1))])
                    .node(
                        "Gemm",
                        &["f", "wd", "bd"],
                        &["l"],
                        &[("transB", Attr::Int(1))],
                    )
                    .node("Softmax", &["l"], &["y"], &[("axis", Attr::Int(-1))])
                    .output("y", &[1, 8]);
            },
        ),
        case(
            "first_conv",
            "single-channel Conv 3x3 stride 2, uneven pads + bias; MaxPool 3x3 stride 2 pad 1 \
             (Sentio's row conv and row max pool)",
            10,
            &[1, 1, 21, 19],
            |g, r| {
                g.initializer("w", &[6, 1, 3, 3], &weights(r, 54, 9))
                    .initializer("b", &[6], &r.vec(6, -0.1, 0.1))
                    .node(
                        "Conv",
                        &["x", "w", "b"],
                        &["c"],
                        &[
                            ("kernel_shape", ints(&[3, 3])),
                            ("pads", ints(&[1, 0, 2, 1])),
                            ("strides", ints(&[2, 2])),
                        ],
                    )
                    .node(
                        "MaxPool",
                        &["c"],
                        &["y"],
                        &[
                            ("kernel_shape", ints(&[3, 3])),
                            ("pads", ints(&[1, 1, 1, 1])),
                            ("strides", ints(&[2, 2])),
                        ],
                    )
                    .output("c", &[1, 6, 11, 9])
                    .output("y", &[1, 6, 6, 5]);
            },
        ),
        case(
            "conv1d_wide",
            "Conv 1x5 pad 2 over 160 frames + Relu (Sentio's flat conv, the ReLU fused)",
            11,
            &[1, 8, 1, 160],
            |g, r| {
                g.initializer("w", &[16, 8, 1, 5], &weights(r, 16 * 40, 40))
                    .initializer("b", &[16], &r.vec(16, -0.1, 0.1))
                    .node(
                        "Conv",
                        &["x", "w", "b"],
                        &["c"],
                        &[
                            ("kernel_shape", ints(&[1, 5])),
                            ("pads", ints(&[0, 2, 0, 2])),
                        ],
                    )
                    .node("Relu", &["c"], &["y"], &[])
                    .output("y", &[1, 16, 1, 160]);
            },
        ),
        case(
            "conv1d",
            "1-D Conv (kernel 5, pad 2) over [N, C, T] + Relu, as the SER model's (Sentio's \
             flat conv over a single row)",
            17,
            &[1, 12, 50],
            |g, r| {
                g.initializer("w", &[16, 12, 5], &weights(r, 16 * 60, 60))
                    .initializer("b", &[16], &r.vec(16, -0.1, 0.1))
                    .node(
                        "Conv",
                        &["x", "w", "b"],
                        &["c"],
                        &[("kernel_shape", ints(&[5])), ("pads", ints(&[2, 2]))],
                    )
                    .node("Relu", &["c"], &["y"], &[])
                    .output("y", &[1, 16, 50]);
            },
        ),
        case(
            "conv1d_12ch",
            "Conv 1x5 pad 2 over 160 frames to 12 channels + Relu (not a multiple of 8: \
             tract's direct spatial conv or im2col, measured at load)",
            15,
            &[1, 8, 1, 160],
            |g, r| {
                g.initializer("w", &[12, 8, 1, 5], &weights(r, 12 * 40, 40))
                    .initializer("b", &[12], &r.vec(12, -0.1, 0.1))
                    .node(
                        "Conv",
                        &["x", "w", "b"],
                        &["c"],
                        &[
                            ("kernel_shape", ints(&[1, 5])),
                            ("pads", ints(&[0, 2, 0, 2])),
                        ],
                    )
                    .node("Relu", &["c"], &["y"], &[])
                    .output("y", &[1, 12, 1, 160]);
            },
        ),
        case(
            "xception_module",
            "Separable conv (depthwise 3x3 + pointwise) + BatchNormalization + Relu, MaxPool \
             3x3/2 pad 1, plus a strided 1x1 conv + BatchNormalization residual (Sentio's flat \
             convs with the batch norms, ReLU and strided reads folded in)",
            16,
            &[1, 8, 12, 12],
            |g, r| {
                let bn = |g: &mut GraphBuilder, r: &mut SplitMix64, p: &str, c: usize| {
                    let c64 = c as i64;
                    g.initializer(&format!("{p}s"), &[c64], &r.vec(c, 0.5, 1.5))
                        .initializer(&format!("{p}b"), &[c64], &r.vec(c, -0.5, 0.5))
                        .initializer(&format!("{p}m"), &[c64], &r.vec(c, -0.3, 0.3))
                        .initializer(&format!("{p}v"), &[c64], &r.vec(c, 0.2, 2.0));
                };
                bn(g, r, "bn1", 16);
                bn(g, r, "bn2", 16);
                g.initializer("dw", &[8, 1, 3, 3], &weights(r, 72, 9))
                    .initializer("dwb", &[8], &r.vec(8, -0.1, 0.1))
                    .initializer("pw", &[16, 8, 1, 1], &weights(r, 128, 8))
                    .initializer("pwb", &[16], &r.vec(16, -0.1, 0.1))
                    .initializer("rw", &[16, 8, 1, 1], &weights(r, 128, 8))
                    .initializer("rwb", &[16], &r.vec(16, -0.1, 0.1))
                    .node(
                        "Conv",
                        &["x", "dw", "dwb"],
                        &["d"],
                        &[
                            ("kernel_shape", ints(&[3, 3])),
                            ("pads", ints(&[1, 1, 1, 1])),
                            ("group", Attr::Int(8)),
                        ],
                    )
                    .node("Conv", &["d", "pw", "pwb"], &["p"], &[])
                    .node(
                        "BatchNormalization",
                        &["p", "bn1s", "bn1b", "bn1m", "bn1v"],
                        &["pn"],
                        &[("epsilon", Attr::Float(1e-5))],
                    )
                    .node("Relu", &["pn"], &["pr"], &[])
                    .node(
                        "MaxPool",
                        &["pr"],
                        &["pool"],
                        &[
                            ("kernel_shape", ints(&[3, 3])),
                            ("strides", ints(&[2, 2])),
                            ("pads", ints(&[1, 1, 1, 1])),
                        ],
                    )
                    .node(
                        "Conv",
                        &["x", "rw", "rwb"],
                        &["res"],
                        &[("strides", ints(&[2, 2]))],
                    )
                    .node(
                        "BatchNormalization",
                        &["res", "bn2s", "bn2b", "bn2m", "bn2v"],
                        &["resn"],
                        &[("epsilon", Attr::Float(1e-5))],
                    )
                    .node("Add", &["pool", "resn"], &["y"], &[])
                    .output("y", &[1, 16, 6, 6]);
            },
        ),
        case(
            "maxpool1d",
            "MaxPool over time, kernel 3 stride 2 pad 1, on [N, C, T] (Sentio's row max pool)",
            12,
            &[1, 6, 50],
            |g, _| {
                g.node(
                    "MaxPool",
                    &["x"],
                    &["y"],
                    &[
                        ("kernel_shape", ints(&[3])),
                        ("pads", ints(&[1, 1])),
                        ("strides", ints(&[2])),
                    ],
                )
                .output("y", &[1, 6, 25]);
            },
        ),
    ]
}

/// Inputs to calibrate a case's int8 form with: `n` draws from the distribution its test input
/// comes from (uniform in [-1, 1]), from a seed of their own so the test input is not among them.
pub fn calibration_set(case: &Case, n: usize) -> Vec<Vec<f32>> {
    let seed = case.name.bytes().fold(0x5e17_10ca_11b0_0000u64, |h, b| {
        h.rotate_left(5) ^ u64::from(b)
    });
    let mut rng = SplitMix64::new(seed);
    let len = case.input_shape.iter().product();
    (0..n).map(|_| rng.vec(len, -1.0, 1.0)).collect()
}

/// How many calibration inputs the conformance int8 models are made from.
pub const CALIBRATION_SAMPLES: usize = 32;
