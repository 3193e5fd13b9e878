//! A CNN trained by the tests (until the training crate ships models): two conv layers with
//! fixed random filters (ReLU, max pooling) give features, and the dense classifier on top is
//! fitted in closed form (ridge regression) on a procedural 8-class shape set. A real trained
//! classifier, ~90 % accurate on held-out images, with 27k weights.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sentio_infer::onnx::{Attr, GraphBuilder, SplitMix64};
use sentio_infer::{LoadOptions, Model};

const SIDE: usize = 32;
const CLASSES: usize = 8;
const C1: usize = 32;
const C2: usize = 64;
/// Features after the second conv and an 8x8 max pool: 64 channels x 2 x 2.
const FEATURES: usize = C2 * 4;

/// One procedural image of `class`: a bar, a diagonal, a ring, a disk, a cross or a box, at a
/// random place, size, thickness and brightness, on noise.
fn shape_image(class: usize, rng: &mut SplitMix64) -> Vec<f32> {
    let cx = 16.0 + rng.uniform(-5.0, 5.0);
    let cy = 16.0 + rng.uniform(-5.0, 5.0);
    let size = rng.uniform(6.0, 11.0);
    let thick = rng.uniform(1.2, 2.8);
    let ink = rng.uniform(0.5, 1.0);
    let mut img = vec![0f32; SIDE * SIDE];
    for y in 0..SIDE {
        for x in 0..SIDE {
            let (dx, dy) = (x as f32 - cx, y as f32 - cy);
            let r = (dx * dx + dy * dy).sqrt();
            let inside = dx.abs() <= size && dy.abs() <= size;
            let on = match class {
                0 => dy.abs() <= thick && dx.abs() <= size,
                1 => dx.abs() <= thick && dy.abs() <= size,
                2 => (dx - dy).abs() <= thick * 1.4 && inside,
                3 => (dx + dy).abs() <= thick * 1.4 && inside,
                4 => (r - size).abs() <= thick,
                5 => r <= size * 0.8,
                6 => (dx.abs() <= thick || dy.abs() <= thick) && inside,
                _ => inside && (size - dx.abs() <= thick || size - dy.abs() <= thick),
            };
            let noise = rng.uniform(-0.15, 0.15);
            img[y * SIDE + x] = if on { ink } else { 0.0 } + noise;
        }
    }
    img
}

fn dataset(per_class: usize, seed: u64) -> (Vec<Vec<f32>>, Vec<usize>) {
    let mut rng = SplitMix64::new(seed);
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for i in 0..per_class * CLASSES {
        let class = i % CLASSES;
        xs.push(shape_image(class, &mut rng));
        ys.push(class);
    }
    (xs, ys)
}

/// The conv trunk (input -> flattened features), shared by the feature model and the classifier.
fn trunk(g: &mut GraphBuilder, rng: &mut SplitMix64) {
    let he = |n: usize, fan_in: usize, rng: &mut SplitMix64| {
        let s = (6.0 / fan_in as f32).sqrt();
        rng.vec(n, -s, s)
    };
    let w1 = he(C1 * 9, 9, rng);
    let b1 = rng.vec(C1, -0.05, 0.05);
    let w2 = he(C2 * C1 * 9, C1 * 9, rng);
    let b2 = rng.vec(C2, -0.05, 0.05);
    let conv = [
        ("kernel_shape", Attr::Ints(vec![3, 3])),
        ("pads", Attr::Ints(vec![1, 1, 1, 1])),
    ];
    g.input("x", &[1, 1, SIDE as i64, SIDE as i64])
        .initializer("w1", &[C1 as i64, 1, 3, 3], &w1)
        .initializer("b1", &[C1 as i64], &b1)
        .initializer("w2", &[C2 as i64, C1 as i64, 3, 3], &w2)
        .initializer("b2", &[C2 as i64], &b2)
        .node("Conv", &["x", "w1", "b1"], &["c1"], &conv)
        .node("Relu", &["c1"], &["r1"], &[])
        .node(
            "MaxPool",
            &["r1"],
            &["p1"],
            &[
                ("kernel_shape", Attr::Ints(vec![2, 2])),
                ("strides", Attr::Ints(vec![2, 2])),
            ],
        )
        .node("Conv", &["p1", "w2", "b2"], &["c2"], &conv)
        .node("Relu", &["c2"], &["r2"], &[])
        .node(
            "MaxPool",
            &["r2"],
            &["p2"],
            &[
                ("kernel_shape", Attr::Ints(vec![8, 8])),
                ("strides", Attr::Ints(vec![8, 8])),
            ],
        )
        .node("Flatten", &["p2"], &["f"], &[("axis", Attr::Int(1))]);
}

/// Solves (A + lambda I) x = b for symmetric positive definite A (Cholesky), column by column.
fn ridge(features: &[Vec<f32>], labels: &[usize], lambda: f64) -> (Vec<f32>, Vec<f32>) {
    let d = FEATURES + 1; // + a constant feature for the bias
    let mut a = vec![0f64; d * d];
    let mut b = vec![0f64; d * CLASSES];
    for (f, y) in features.iter().zip(labels) {
        let row: Vec<f64> = f.iter().map(|v| f64::from(*v)).chain([1.0]).collect();
        for i in 0..d {
            if row[i] == 0.0 {
                continue;
            }
            for j in i..d {
                a[i * d + j] += row[i] * row[j];
            }
            for c in 0..CLASSES {
                let target = if c == *y { 1.0 } else { 0.0 };
                b[i * CLASSES + c] += row[i] * target;
            }
        }
    }
    for i in 0..d {
        for j in 0..i {
            a[i * d + j] = a[j * d + i];
        }
        a[i * d + i] += lambda;
    }
    // Cholesky: A = L L^T.
    let mut l = vec![0f64; d * d];
    for i in 0..d {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * d + k] * l[j * d + k]).sum();
            l[i * d + j] = if i == j {
                (a[i * d + i] - s).sqrt()
            } else {
                (a[i * d + j] - s) / l[j * d + j]
            };
        }
    }
    let mut w = vec![0f32; CLASSES * FEATURES];
    let mut bias = vec![0f32; CLASSES];
    for c in 0..CLASSES {
        let mut z = vec![0f64; d];
        for i in 0..d {
            let s: f64 = (0..i).map(|k| l[i * d + k] * z[k]).sum();
            z[i] = (b[i * CLASSES + c] - s) / l[i * d + i];
        }
        let mut x = vec![0f64; d];
        for i in (0..d).rev() {
            let s: f64 = (i + 1..d).map(|k| l[k * d + i] * x[k]).sum();
            x[i] = (z[i] - s) / l[i * d + i];
        }
        for i in 0..FEATURES {
            w[c * FEATURES + i] = x[i] as f32;
        }
        bias[c] = x[FEATURES] as f32;
    }
    (w, bias)
}

pub struct Trained {
    pub model: Vec<u8>,
    pub test_x: Vec<Vec<f32>>,
    pub test_y: Vec<usize>,
    pub calib: Vec<Vec<f32>>,
}

pub fn train() -> Trained {
    const WEIGHTS_SEED: u64 = 42;
    let mut features_graph = GraphBuilder::new("shape_features");
    trunk(&mut features_graph, &mut SplitMix64::new(WEIGHTS_SEED));
    features_graph.output("f", &[1, FEATURES as i64]);
    let mut extractor = Model::load(
        &features_graph.to_bytes(),
        &LoadOptions::new().name("shape_features"),
    )
    .unwrap();
    let (train_x, train_y) = dataset(150, 1);
    let features: Vec<Vec<f32>> = train_x
        .iter()
        .map(|x| extractor.run(x).unwrap().tensors.remove(0).data)
        .collect();
    let (w, b) = ridge(&features, &train_y, 1.0);

    let mut g = GraphBuilder::new("shape_cnn");
    trunk(&mut g, &mut SplitMix64::new(WEIGHTS_SEED));
    g.initializer("wd", &[CLASSES as i64, FEATURES as i64], &w)
        .initializer("bd", &[CLASSES as i64], &b)
        .node(
            "Gemm",
            &["f", "wd", "bd"],
            &["logits"],
            &[("transB", Attr::Int(1))],
        )
        .node(
            "Softmax",
            &["logits"],
            &["probs"],
            &[("axis", Attr::Int(-1))],
        )
        .output("probs", &[1, CLASSES as i64]);
    let (test_x, test_y) = dataset(50, 2);
    let calib = train_x.iter().step_by(6).cloned().collect(); // 200 training images
    Trained {
        model: g.to_bytes(),
        test_x,
        test_y,
        calib,
    }
}

pub fn accuracy(model: &mut Model, xs: &[Vec<f32>], ys: &[usize]) -> f64 {
    let right = xs
        .iter()
        .zip(ys)
        .filter(|(x, y)| model.run(x).unwrap().top_k(1)[0].index == **y)
        .count();
    100.0 * right as f64 / xs.len() as f64
}
