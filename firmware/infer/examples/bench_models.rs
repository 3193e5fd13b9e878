//! Writes the benchmark models (`tests/bench/bench_inference.py` runs them): three CNNs shaped
//! like Sentio's models, with random weights (latency does not depend on what the weights are).
//!
//! - `emoji_cnn`: 1x64x64 gray; 4 blocks Conv 2x2 (16/32/64/128) + ReLU + MaxPool 2x2; dense 8;
//!   softmax. ~4.9M MACs.
//! - `fer_xception`: 1x48x48 gray; mini-Xception-like: 2 Conv 3x3 + BN + ReLU, 4 modules of two
//!   depthwise-separable convs (+ BN) with a max-pool and a strided 1x1 residual added; global
//!   average pool; dense 7; softmax. ~23M MACs.
//! - `ser_cnn_lstm`: [1, 40 MFCC features, 128 frames]; two 1-D convs (as Conv 1xk over
//!   [1, 40, 1, 128]) + ReLU, MaxPool over time, LSTM hidden 64 over the 64 pooled frames; dense 8;
//!   softmax. ~10M MACs.
//!
//! It also writes `models.json` (name, file, input shape, MACs of each).
//!
//! `cargo run --release -p sentio-infer --example bench_models -- DIR`

use std::path::PathBuf;

use sentio_infer::onnx::{Attr, GraphBuilder, SplitMix64};

/// A graph under construction, with fresh tensor names and a MAC count.
struct Net {
    g: GraphBuilder,
    rng: SplitMix64,
    next: usize,
    macs: u64,
}

impl Net {
    fn new(name: &str, seed: u64, input: &[i64]) -> Self {
        let mut g = GraphBuilder::new(name);
        g.input("x", input);
        Self {
            g,
            rng: SplitMix64::new(seed),
            next: 0,
            macs: 0,
        }
    }

    fn fresh(&mut self, what: &str) -> String {
        self.next += 1;
        format!("{what}{}", self.next)
    }

    /// Weights uniform in ±1/sqrt(fan_in), so activations keep their scale through the layers.
    fn weights(&mut self, name: &str, dims: &[i64], fan_in: i64) {
        let n = dims.iter().product::<i64>() as usize;
        let s = 1.0 / (fan_in as f32).sqrt();
        let w = self.rng.vec(n, -s, s);
        self.g.initializer(name, dims, &w);
    }

    /// A Conv; `out_hw` is the output's spatial size (for the MAC count).
    #[allow(clippy::too_many_arguments)]
    fn conv(
        &mut self,
        x: &str,
        c_in: i64,
        c_out: i64,
        kernel: [i64; 2],
        stride: i64,
        pads: [i64; 4],
        group: i64,
        out_hw: [i64; 2],
    ) -> String {
        let (w, b, y) = (self.fresh("w"), self.fresh("b"), self.fresh("conv"));
        let per_group = c_in / group;
        self.weights(
            &w,
            &[c_out, per_group, kernel[0], kernel[1]],
            per_group * kernel[0] * kernel[1],
        );
        let bias = self.rng.vec(c_out as usize, -0.05, 0.05);
        self.g.initializer(&b, &[c_out], &bias);
        self.g.node(
            "Conv",
            &[x, &w, &b],
            &[&y],
            &[
                ("kernel_shape", Attr::Ints(kernel.to_vec())),
                ("strides", Attr::Ints(vec![stride, stride])),
                ("pads", Attr::Ints(pads.to_vec())),
                ("group", Attr::Int(group)),
            ],
        );
        self.macs += (c_out * per_group * kernel[0] * kernel[1] * out_hw[0] * out_hw[1]) as u64;
        y
    }

    fn batch_norm(&mut self, x: &str, c: i64) -> String {
        let names: Vec<String> = ["s", "o", "m", "v"].iter().map(|n| self.fresh(n)).collect();
        let ranges = [(0.8, 1.2), (-0.1, 0.1), (-0.1, 0.1), (0.8, 1.2)];
        for (name, (lo, hi)) in names.iter().zip(ranges) {
            let v = self.rng.vec(c as usize, lo, hi);
            self.g.initializer(name, &[c], &v);
        }
        let y = self.fresh("bn");
        let inputs: Vec<&str> = std::iter::once(x)
            .chain(names.iter().map(String::as_str))
            .collect();
        self.g.node("BatchNormalization", &inputs, &[&y], &[]);
        y
    }

    fn unary(&mut self, op: &str, x: &str) -> String {
        let y = self.fresh(&op.to_lowercase());
        self.g.node(op, &[x], &[&y], &[]);
        y
    }

    fn max_pool(&mut self, x: &str, kernel: [i64; 2], stride: [i64; 2], pads: [i64; 4]) -> String {
        let y = self.fresh("pool");
        self.g.node(
            "MaxPool",
            &[x],
            &[&y],
            &[
                ("kernel_shape", Attr::Ints(kernel.to_vec())),
                ("strides", Attr::Ints(stride.to_vec())),
                ("pads", Attr::Ints(pads.to_vec())),
            ],
        );
        y
    }

    fn reshape(&mut self, x: &str, shape: &[i64]) -> String {
        let (s, y) = (self.fresh("shape"), self.fresh("reshape"));
        self.g.initializer_i64(&s, &[shape.len() as i64], shape);
        self.g.node("Reshape", &[x, &s], &[&y], &[]);
        y
    }

    /// Dense layer `[1, n_in] -> [1, n_out]`, then the softmax the classifier ends in.
    fn dense_softmax(&mut self, x: &str, n_in: i64, n_out: i64) {
        let (w, b, l) = (self.fresh("wd"), self.fresh("bd"), self.fresh("logits"));
        self.weights(&w, &[n_out, n_in], n_in);
        let bias = self.rng.vec(n_out as usize, -0.05, 0.05);
        self.g.initializer(&b, &[n_out], &bias);
        self.g
            .node("Gemm", &[x, &w, &b], &[&l], &[("transB", Attr::Int(1))])
            .node("Softmax", &[&l], &["y"], &[("axis", Attr::Int(-1))])
            .output("y", &[1, n_out]);
        self.macs += (n_in * n_out) as u64;
    }
}

fn emoji_cnn() -> Net {
    let mut n = Net::new("emoji_cnn", 64, &[1, 1, 64, 64]);
    let mut x = "x".to_owned();
    let (mut c_in, mut size) = (1, 64);
    for c_out in [16, 32, 64, 128] {
        size -= 1; // 2x2 kernel, no padding
        let c = n.conv(&x, c_in, c_out, [2, 2], 1, [0; 4], 1, [size, size]);
        let r = n.unary("Relu", &c);
        x = n.max_pool(&r, [2, 2], [2, 2], [0; 4]);
        size /= 2;
        c_in = c_out;
    }
    // 64 -> 63 -> 31 -> 30 -> 15 -> 14 -> 7 -> 6 -> 3
    let flat = n.fresh("flat");
    n.g.node("Flatten", &[&x], &[&flat], &[("axis", Attr::Int(1))]);
    n.dense_softmax(&flat, c_in * size * size, 8);
    n
}

fn fer_xception() -> Net {
    let mut n = Net::new("fer_xception", 48, &[1, 1, 48, 48]);
    let same3 = [1, 1, 1, 1];
    let c = n.conv("x", 1, 16, [3, 3], 1, same3, 1, [48, 48]);
    let b = n.batch_norm(&c, 16);
    let r = n.unary("Relu", &b);
    let c = n.conv(&r, 16, 16, [3, 3], 1, same3, 1, [48, 48]);
    let b = n.batch_norm(&c, 16);
    let mut x = n.unary("Relu", &b);
    let (mut c_in, mut size) = (16, 48);
    for c_out in [32, 64, 128, 256] {
        let half = size / 2;
        let res = n.conv(&x, c_in, c_out, [1, 1], 2, [0; 4], 1, [half, half]);
        let res = n.batch_norm(&res, c_out);
        // Separable conv 1: depthwise 3x3, pointwise 1x1, BN, ReLU.
        let dw = n.conv(&x, c_in, c_in, [3, 3], 1, same3, c_in, [size, size]);
        let pw = n.conv(&dw, c_in, c_out, [1, 1], 1, [0; 4], 1, [size, size]);
        let bn = n.batch_norm(&pw, c_out);
        let r = n.unary("Relu", &bn);
        // Separable conv 2, then the pool that halves the size.
        let dw = n.conv(&r, c_out, c_out, [3, 3], 1, same3, c_out, [size, size]);
        let pw = n.conv(&dw, c_out, c_out, [1, 1], 1, [0; 4], 1, [size, size]);
        let bn = n.batch_norm(&pw, c_out);
        let p = n.max_pool(&bn, [3, 3], [2, 2], same3);
        let sum = n.fresh("add");
        n.g.node("Add", &[&p, &res], &[&sum], &[]);
        x = sum;
        c_in = c_out;
        size = half;
    }
    let gap = n.unary("GlobalAveragePool", &x);
    let flat = n.fresh("flat");
    n.g.node("Flatten", &[&gap], &[&flat], &[("axis", Attr::Int(1))]);
    n.dense_softmax(&flat, c_in, 7);
    n
}

fn ser_cnn_lstm() -> Net {
    const FEATURES: i64 = 40;
    const FRAMES: i64 = 128;
    const HIDDEN: i64 = 64;
    let mut n = Net::new("ser_cnn_lstm", 40, &[1, FEATURES, FRAMES]);
    // Conv1d over time as Conv 1xk over [1, features, 1, frames].
    let x = n.reshape("x", &[1, FEATURES, 1, FRAMES]);
    let c = n.conv(&x, FEATURES, 64, [1, 5], 1, [0, 2, 0, 2], 1, [1, FRAMES]);
    let r = n.unary("Relu", &c);
    let c = n.conv(&r, 64, 128, [1, 5], 1, [0, 2, 0, 2], 1, [1, FRAMES]);
    let r = n.unary("Relu", &c);
    let p = n.max_pool(&r, [1, 2], [1, 2], [0; 4]);
    let steps = FRAMES / 2;
    // [1, 128, 1, T] -> [1, 128, T] -> [T, 1, 128]: the LSTM's [seq, batch, input].
    let seq = n.reshape(&p, &[1, 128, steps]);
    let t = n.fresh("time_major");
    n.g.node(
        "Transpose",
        &[&seq],
        &[&t],
        &[("perm", Attr::Ints(vec![2, 0, 1]))],
    );
    let (w, rw, b) = (n.fresh("lstm_w"), n.fresh("lstm_r"), n.fresh("lstm_b"));
    n.weights(&w, &[1, 4 * HIDDEN, 128], 128);
    n.weights(&rw, &[1, 4 * HIDDEN, HIDDEN], HIDDEN);
    let bias = n.rng.vec(8 * HIDDEN as usize, -0.05, 0.05);
    n.g.initializer(&b, &[1, 8 * HIDDEN], &bias);
    let (y, h) = (n.fresh("lstm_y"), n.fresh("lstm_h"));
    n.g.node(
        "LSTM",
        &[&t, &w, &rw, &b],
        &[&y, &h],
        &[("hidden_size", Attr::Int(HIDDEN))],
    );
    n.macs += (4 * HIDDEN * (128 + HIDDEN) * steps) as u64;
    let last = n.reshape(&h, &[1, HIDDEN]);
    n.dense_softmax(&last, HIDDEN, 8);
    n
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/bench-models"));
    std::fs::create_dir_all(&dir)?;
    let mut index = Vec::new();
    for (net, shape) in [
        (emoji_cnn(), vec![1, 1, 64, 64]),
        (fer_xception(), vec![1, 1, 48, 48]),
        (ser_cnn_lstm(), vec![1, 40, 128]),
    ] {
        let name = net.g.model().graph.map(|g| g.name).unwrap_or_default();
        let file = format!("{name}.onnx");
        let bytes = net.g.to_bytes();
        std::fs::write(dir.join(&file), &bytes)?;
        println!(
            "{} ({} bytes): {:.1}M MACs",
            dir.join(&file).display(),
            bytes.len(),
            net.macs as f64 / 1e6
        );
        index.push(serde_json::json!({
            "name": name,
            "file": file,
            "input_shape": shape,
            "macs": net.macs,
        }));
    }
    std::fs::write(
        dir.join("models.json"),
        serde_json::to_string_pretty(&index)?,
    )?;
    Ok(())
}
