//! `sentio run`, `sentio bench` and `sentio quantize` as a user runs them: the built binary on
//! small ONNX models the tests build (`sentio_infer::onnx::GraphBuilder`) and on .npy and PNG
//! files the tests write.

use std::path::{Path, PathBuf};
use std::process::Output;

use sentio_infer::onnx::{Attr, Dim, GraphBuilder, SplitMix64};
use sentio_models::{
    DType, Figures, InputSpec, LabelSpec, Manifest, Precision, Preprocessing, Task,
};
use serde_json::Value;
use tract_onnx::pb::tensor_proto::DataType;

mod common;

use common::{ok, s, sentio};

const LABELS: [&str; 3] = ["circle", "cross", "line"];
const SIDE: i64 = 16;

/// The stderr of a run that must fail (exit code 1, an error line).
fn fails(out: Output) -> String {
    let stderr = common::fails(out);
    assert!(stderr.contains("error"), "{stderr}");
    stderr
}

fn json(out: Output) -> Value {
    let text = ok(out);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// A small CNN classifier: [1, C, 16, 16] -> Conv 3x3 (16) -> ReLU -> MaxPool -> Conv 3x3 (32) ->
/// ReLU -> MaxPool -> Flatten -> Gemm 3 -> Softmax. Big enough that int8 weights make it smaller.
fn classifier(channels: i64, input: &[Dim]) -> Vec<u8> {
    let mut rng = SplitMix64::new(7);
    let mut w = |n: usize, fan_in: usize| {
        let s = 1.0 / (fan_in as f32).sqrt();
        rng.vec(n, -s, s)
    };
    let (w1, w2, wd) = (
        w(16 * channels as usize * 9, channels as usize * 9),
        w(32 * 16 * 9, 16 * 9),
        w(3 * 32 * 16, 32 * 16),
    );
    let conv = [
        ("kernel_shape", Attr::Ints(vec![3, 3])),
        ("pads", Attr::Ints(vec![1, 1, 1, 1])),
    ];
    let pool = [
        ("kernel_shape", Attr::Ints(vec![2, 2])),
        ("strides", Attr::Ints(vec![2, 2])),
    ];
    let mut g = GraphBuilder::new("tiny");
    g.input_typed("x", DataType::Float, input)
        .initializer("w1", &[16, channels, 3, 3], &w1)
        .initializer("b1", &[16], &[0.01; 16])
        .initializer("w2", &[32, 16, 3, 3], &w2)
        .initializer("b2", &[32], &[0.0; 32])
        .initializer("wd", &[3, 512], &wd)
        .initializer("bd", &[3], &[0.0, 0.1, -0.1])
        .node("Conv", &["x", "w1", "b1"], &["c1"], &conv)
        .node("Relu", &["c1"], &["r1"], &[])
        .node("MaxPool", &["r1"], &["p1"], &pool)
        .node("Conv", &["p1", "w2", "b2"], &["c2"], &conv)
        .node("Relu", &["c2"], &["r2"], &[])
        .node("MaxPool", &["r2"], &["p2"], &pool)
        .node("Flatten", &["p2"], &["f"], &[("axis", Attr::Int(1))])
        .node(
            "Gemm",
            &["f", "wd", "bd"],
            &["l"],
            &[("transB", Attr::Int(1))],
        )
        .node("Softmax", &["l"], &["y"], &[("axis", Attr::Int(-1))])
        .output("y", &[1, 3]);
    g.to_bytes()
}

fn gray_model() -> Vec<u8> {
    classifier(1, &[1.into(), 1.into(), SIDE.into(), SIDE.into()])
}

fn manifest(channels: usize) -> Manifest {
    Manifest::new(
        "tiny",
        "1.0.0",
        Task::Custom,
        LabelSpec::new("shapes3", &LABELS),
        InputSpec {
            shape: vec![1, channels, SIDE as usize, SIDE as usize],
            dtype: DType::F32,
            preprocessing: Preprocessing {
                kind: "image".into(),
                scale: Some(1.0 / 255.0),
                ..Preprocessing::default()
            },
            extra: Figures::new(),
        },
        Precision::F32,
    )
}

/// A gray image of class `class`: a circle, a cross or a line, with noise from `seed`.
fn shape_image(class: usize, seed: u64, side: u32) -> image::GrayImage {
    let mut rng = SplitMix64::new(seed);
    let c = side as f32 / 2.0;
    image::GrayImage::from_fn(side, side, |x, y| {
        let (dx, dy) = (x as f32 - c, y as f32 - c);
        let on = match class {
            0 => ((dx * dx + dy * dy).sqrt() - c * 0.6).abs() < 1.5,
            1 => (dx - dy).abs() < 1.5 || (dx + dy).abs() < 1.5,
            _ => dy.abs() < 1.5,
        };
        let noise = rng.uniform(0.0, 40.0) as u8;
        image::Luma([if on { 215 + noise } else { noise }])
    })
}

/// `dir/<label>/<i>.png`, `per_class` images per label.
fn image_folder(dir: &Path, per_class: usize) {
    for (class, label) in LABELS.iter().enumerate() {
        let sub = dir.join(label);
        std::fs::create_dir_all(&sub).unwrap();
        for i in 0..per_class {
            shape_image(class, (class * 1000 + i) as u64, SIDE as u32)
                .save(sub.join(format!("{i}.png")))
                .unwrap();
        }
    }
}

fn write_npy(path: &Path, shape: &[usize], seed: u64) {
    let n = shape.iter().product();
    let data = SplitMix64::new(seed).vec(n, 0.0, 1.0);
    sentio_infer::npy::write(path, shape, &data).unwrap();
}

/// A directory holding `model.onnx` (gray classifier) and, when asked, `manifest.json` beside it.
fn model_dir(with_manifest: bool) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.onnx");
    std::fs::write(&model, gray_model()).unwrap();
    if with_manifest {
        std::fs::write(
            dir.path().join("manifest.json"),
            manifest(1).to_json_pretty().unwrap(),
        )
        .unwrap();
    }
    (dir, model)
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn run_on_an_npy_without_a_manifest() {
    let (dir, model) = model_dir(false);
    let input = dir.path().join("x.npy");
    write_npy(&input, &[1, 1, 16, 16], 1);
    let text = ok(sentio(&[
        "run",
        s(&model),
        "--input",
        s(&input),
        "--top",
        "2",
    ]));
    assert!(text.contains("output   y [1, 3]:"), "{text}");
    assert!(text.contains("top 2"), "{text}");
    assert!(text.contains("profile  read input"), "{text}");

    let doc = json(sentio(&["run", s(&model), "--input", s(&input), "--json"]));
    assert_eq!(doc["input"]["shape"], serde_json::json!([1, 1, 16, 16]));
    assert_eq!(doc["input"]["kind"], "npy");
    let y = &doc["outputs"][0];
    assert_eq!(y["name"], "y");
    assert_eq!(y["shape"], serde_json::json!([1, 3]));
    let sum: f64 = y["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert!((sum - 1.0).abs() < 1e-5, "softmax sums to {sum}");
    let top = doc["top"].as_array().unwrap();
    assert_eq!(top.len(), 3);
    assert!(top[0]["label"].is_null());
    assert!(top[0]["score"].as_f64().unwrap() >= top[1]["score"].as_f64().unwrap());
    assert!(doc["profile_ms"]["infer"].as_f64().unwrap() > 0.0);
    assert!(doc["manifest"].is_null());
}

#[test]
fn run_on_a_png_with_the_manifest_beside_the_model() {
    let (dir, model) = model_dir(true);
    let png = dir.path().join("cross.png");
    // A bigger RGB image: converted to gray and resized to 16x16.
    let gray = shape_image(1, 5, 40);
    image::DynamicImage::ImageLuma8(gray)
        .to_rgb8()
        .save(&png)
        .unwrap();
    let doc = json(sentio(&["run", s(&model), "--image", s(&png), "--json"]));
    assert!(doc["manifest"].as_str().unwrap().ends_with("manifest.json"));
    let kind = doc["input"]["kind"].as_str().unwrap();
    assert!(
        kind.contains("gray 16x16") && kind.contains("1/255"),
        "{kind}"
    );
    let label = doc["top"][0]["label"].as_str().unwrap();
    assert!(LABELS.contains(&label), "{label}");

    let text = ok(sentio(&["run", s(&model), "--image", s(&png)]));
    assert!(text.contains("manifest "), "{text}");
    assert!(LABELS.iter().any(|l| text.contains(l)), "{text}");

    // The same from an explicit --manifest elsewhere, and a JPEG.
    let other = tempfile::tempdir().unwrap();
    let moved = other.path().join("m.onnx");
    std::fs::copy(&model, &moved).unwrap();
    let jpg = other.path().join("x.jpg");
    image::DynamicImage::ImageLuma8(shape_image(0, 9, 16))
        .to_rgb8()
        .save(&jpg)
        .unwrap();
    let manifest_path = dir.path().join("manifest.json");
    let doc = json(sentio(&[
        "run",
        s(&moved),
        "--image",
        s(&jpg),
        "--manifest",
        s(&manifest_path),
        "--json",
    ]));
    assert!(doc["top"][0]["label"].is_string());
    // Without the manifest there are no labels.
    let doc = json(sentio(&["run", s(&moved), "--image", s(&jpg), "--json"]));
    assert!(doc["top"][0]["label"].is_null());
}

#[test]
fn run_an_rgb_model_and_a_symbolic_shape() {
    let dir = tempfile::tempdir().unwrap();
    let rgb = dir.path().join("rgb.onnx");
    std::fs::write(
        &rgb,
        classifier(3, &[1.into(), 3.into(), SIDE.into(), SIDE.into()]),
    )
    .unwrap();
    let png = dir.path().join("a.png");
    image::RgbImage::from_fn(24, 20, |x, y| image::Rgb([x as u8 * 10, y as u8 * 10, 128]))
        .save(&png)
        .unwrap();
    let doc = json(sentio(&["run", s(&rgb), "--image", s(&png), "--json"]));
    assert_eq!(doc["input"]["shape"], serde_json::json!([1, 3, 16, 16]));
    assert!(doc["input"]["kind"].as_str().unwrap().contains("RGB"));

    // Height and width symbolic: --shape, or the .npy's own shape, gives them.
    let sym = dir.path().join("sym.onnx");
    std::fs::write(
        &sym,
        classifier(1, &["N".into(), 1.into(), "H".into(), "W".into()]),
    )
    .unwrap();
    let err = fails(sentio(&["run", s(&sym), "--image", s(&png)]));
    assert!(
        err.contains("symbolic") && err.contains("help:") && err.contains("--shape"),
        "{err}"
    );
    let doc = json(sentio(&[
        "run",
        s(&sym),
        "--image",
        s(&png),
        "--shape",
        "1,1,16,16",
        "--json",
    ]));
    assert_eq!(doc["input"]["shape"], serde_json::json!([1, 1, 16, 16]));
    let npy = dir.path().join("x.npy");
    write_npy(&npy, &[1, 1, 16, 16], 3);
    let doc = json(sentio(&["run", s(&sym), "--input", s(&npy), "--json"]));
    assert_eq!(doc["outputs"][0]["shape"], serde_json::json!([1, 3]));
}

#[test]
fn run_refuses_bad_models_and_inputs_clearly() {
    let (dir, model) = model_dir(false);
    let bad = dir.path().join("bad.onnx");
    std::fs::write(&bad, b"this is not an onnx file at all").unwrap();
    let npy = dir.path().join("x.npy");
    write_npy(&npy, &[1, 1, 16, 16], 1);
    let err = fails(sentio(&["run", s(&bad), "--input", s(&npy)]));
    assert!(
        err.contains("not a valid ONNX file") && err.contains("help:"),
        "{err}"
    );

    let truncated = dir.path().join("cut.onnx");
    let bytes = gray_model();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let err = fails(sentio(&["run", s(&truncated), "--input", s(&npy)]));
    assert!(err.contains("help:"), "{err}");

    let not_npy = dir.path().join("y.npy");
    std::fs::write(&not_npy, b"1,2,3\n").unwrap();
    let err = fails(sentio(&["run", s(&model), "--input", s(&not_npy)]));
    assert!(
        err.contains("y.npy: not a .npy file") && err.contains("help: write the array with numpy"),
        "{err}"
    );

    let wrong = dir.path().join("wrong.npy");
    write_npy(&wrong, &[1, 1, 8, 8], 1);
    let err = fails(sentio(&["run", s(&model), "--input", s(&wrong)]));
    assert!(
        err.contains("[1, 1, 8, 8]") && err.contains("[1, 1, 16, 16]"),
        "{err}"
    );

    let not_png = dir.path().join("x.png");
    std::fs::write(&not_png, b"no image").unwrap();
    let err = fails(sentio(&["run", s(&model), "--image", s(&not_png)]));
    assert!(err.contains("x.png"), "{err}");

    let out = sentio(&["run", s(&model)]);
    assert_eq!(out.status.code(), Some(2), "clap usage error");
}

#[test]
fn bench_json_has_sane_numbers() {
    let (_dir, model) = model_dir(false);
    let doc = json(sentio(&[
        "bench",
        s(&model),
        "--runs",
        "40",
        "--warmup",
        "3",
        "--json",
    ]));
    assert_eq!(doc["precision"], "f32");
    assert_eq!(doc["threads"], 1);
    assert_eq!(doc["runs"], 40);
    assert_eq!(doc["input_shape"], serde_json::json!([1, 1, 16, 16]));
    let lat = &doc["latency_ms"];
    let (p50, p90, p99) = (
        lat["p50"].as_f64().unwrap(),
        lat["p90"].as_f64().unwrap(),
        lat["p99"].as_f64().unwrap(),
    );
    assert!(0.0 < p50 && p50 <= p90 && p90 <= p99, "{lat}");
    assert!(lat["min"].as_f64().unwrap() <= p50 && p99 <= lat["max"].as_f64().unwrap());
    assert!(doc["throughput_per_s"].as_f64().unwrap() > 0.0);
    assert!(doc["load_ms"].as_f64().unwrap() > 0.0);
    assert!(doc["memory"]["peak_bytes"].as_u64().unwrap() > 0);
    assert!(doc["memory"]["model_bytes"].is_u64());
    assert!(doc["memory"]["method"].as_str().unwrap().contains("VmHWM"));

    let text = ok(sentio(&[
        "bench",
        s(&model),
        "--seconds",
        "0.2",
        "--threads",
        "2",
    ]));
    assert!(
        text.contains("p50") && text.contains("inferences/s") && text.contains("2 thread"),
        "{text}"
    );
}

#[test]
fn bench_profile_times_every_node_and_tract_lowering_has_no_sentio_kernels() {
    let (_dir, model) = model_dir(false);
    let ops = |doc: &serde_json::Value| -> Vec<String> {
        doc["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                assert!(n["mean_ms"].as_f64().unwrap() >= 0.0, "{n}");
                n["op"].as_str().unwrap().to_owned()
            })
            .collect()
    };
    let bench = |lowering: &str| {
        json(sentio(&[
            "bench",
            s(&model),
            "--runs",
            "5",
            "--profile",
            "5",
            "--lowering",
            lowering,
            "--json",
        ]))
    };
    let sentio_doc = bench("sentio");
    assert_eq!(sentio_doc["lowering"]["mode"], "sentio");
    let sentio_ops = ops(&sentio_doc);
    for (key, op) in [
        ("flat_convs", "SentioFlatConv"),
        ("row_convs", "SentioRowConv"),
        ("sequence_lstms", "SentioSeqLstm"),
    ] {
        let replaced = sentio_doc["lowering"][key].as_array().unwrap().len();
        assert_eq!(
            sentio_ops.iter().filter(|o| *o == op).count(),
            replaced,
            "{key}: {sentio_ops:?}"
        );
    }
    let tract_doc = bench("tract");
    assert_eq!(tract_doc["lowering"]["mode"], "tract");
    let tract_ops = ops(&tract_doc);
    assert!(!tract_ops.is_empty());
    assert!(
        !tract_ops.iter().any(|o| o.starts_with("Sentio")),
        "{tract_ops:?}"
    );
    // Without --profile there is no per-node section.
    let plain = json(sentio(&["bench", s(&model), "--runs", "3", "--json"]));
    assert!(plain["nodes"].is_null());

    let text = ok(sentio(&[
        "bench",
        s(&model),
        "--runs",
        "3",
        "--profile",
        "3",
    ]));
    assert!(
        text.contains("profile ") && text.contains("by operator"),
        "{text}"
    );
}

#[test]
fn a_closed_stdout_ends_sentio_like_sigpipe_without_a_panic() {
    let (dir, model) = model_dir(false);
    let input = dir.path().join("x.npy");
    write_npy(&input, &[1, 1, 16, 16], 1);
    // `sentio run ... --json | head -c 0`: the reader is gone before sentio prints.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sentio"))
        .args(["run", s(&model), "--input", s(&input), "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bench_int8_quantizes_from_calib_or_says_it_needs_it() {
    let (dir, model) = model_dir(false);
    let err = fails(sentio(&["bench", s(&model), "--precision", "int8"]));
    assert!(err.contains("--calib"), "{err}");
    let calib = dir.path().join("calib.npy");
    write_npy(&calib, &[16, 1, 1, 16, 16], 2);
    let doc = json(sentio(&[
        "bench",
        s(&model),
        "--precision",
        "int8",
        "--calib",
        s(&calib),
        "--runs",
        "20",
        "--json",
    ]));
    assert_eq!(doc["precision"], "int8");
    assert_eq!(doc["quantized_here"], true);
    assert!(doc["quantize_ms"].as_f64().unwrap() > 0.0);
    assert!(doc["model_bytes"].as_u64().unwrap() < doc["file_bytes"].as_u64().unwrap());

    let bad = dir.path().join("bad.npy");
    write_npy(&bad, &[4, 10], 2);
    let err = fails(sentio(&[
        "bench",
        s(&model),
        "--precision",
        "int8",
        "--calib",
        s(&bad),
    ]));
    assert!(err.contains("[N, ...input shape]"), "{err}");
}

#[test]
fn quantize_an_image_folder_with_a_manifest() {
    let (dir, model) = model_dir(true);
    let data = dir.path().join("data");
    image_folder(&data, 6);
    let out = dir.path().join("model.int8.onnx");
    let text = ok(sentio(&[
        "quantize",
        s(&model),
        "--calib",
        s(&data),
        "--out",
        s(&out),
    ]));
    assert!(text.contains("size      f32"), "{text}");
    assert!(
        text.contains("int8, ") && text.contains("kept f32"),
        "{text}"
    );
    assert!(
        text.contains("f32   softmax"),
        "the softmax stays f32 with its reason: {text}"
    );
    assert!(text.contains("latency   p50 f32"), "{text}");
    assert!(
        text.contains("accuracy  top-1 on 18 images") && text.contains("points)"),
        "{text}"
    );
    assert!(text.contains("manifest  "), "{text}");

    let f32_len = std::fs::metadata(&model).unwrap().len();
    let int8 = std::fs::read(&out).unwrap();
    assert!(
        (int8.len() as u64) < f32_len / 2,
        "{} vs {f32_len}",
        int8.len()
    );
    assert!(sentio_infer::quantize::is_quantized(&int8));
    let m = Manifest::from_json(
        &std::fs::read_to_string(dir.path().join("model.int8.manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(m.precision, Precision::Int8);
    assert_eq!(m.model_sha256, sentio_models::sha256(&int8));
    assert_eq!(m.model_size, int8.len() as u64);
    assert!(m.extra.contains_key("quantization"));
    assert!(
        files_in(dir.path()).iter().all(|f| !f.starts_with(".tmp")),
        "no temp file left"
    );

    // `run` takes the int8 model, with its own manifest found beside it.
    let png = dir.path().join("c.png");
    shape_image(0, 77, 16).save(&png).unwrap();
    let doc = json(sentio(&["run", s(&out), "--image", s(&png), "--json"]));
    assert!(
        doc["manifest"]
            .as_str()
            .unwrap()
            .ends_with("model.int8.manifest.json")
    );
    assert!(doc["top"][0]["label"].is_string());
    let doc = json(sentio(&["bench", s(&out), "--runs", "10", "--json"]));
    assert_eq!(doc["precision"], "int8");
    assert_eq!(doc["quantized_here"], false);
    let err = fails(sentio(&["bench", s(&out), "--precision", "f32"]));
    assert!(err.contains("already an int8 model"), "{err}");

    // JSON, a percentile observer, and an explicit --eval.
    let out2 = dir.path().join("p.onnx");
    let doc = json(sentio(&[
        "quantize",
        s(&model),
        "--calib",
        s(&data),
        "--out",
        s(&out2),
        "--observer",
        "percentile:99.9",
        "--eval",
        s(&data),
        "--json",
    ]));
    assert!(
        doc["size"]["int8_bytes"].as_u64().unwrap() < doc["size"]["f32_bytes"].as_u64().unwrap()
    );
    let acc = &doc["accuracy"];
    assert_eq!(acc["images"], 18);
    let change = acc["change_points"].as_f64().unwrap();
    let (f, q) = (
        acc["f32_top1"].as_f64().unwrap(),
        acc["int8_top1"].as_f64().unwrap(),
    );
    assert!(((q - f) * 100.0 - change).abs() < 1e-9);
    assert!(
        doc["nodes"]["f32"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["reason"].is_string())
    );
    assert!(doc["latency_p50_ms"]["int8"].as_f64().unwrap() > 0.0);
}

#[test]
fn quantize_from_an_npy_without_a_manifest() {
    let (dir, model) = model_dir(false);
    let calib = dir.path().join("calib.npy");
    write_npy(&calib, &[8, 1, 1, 16, 16], 4);
    let out = dir.path().join("q.onnx");
    let doc = json(sentio(&[
        "quantize",
        s(&model),
        "--calib",
        s(&calib),
        "--out",
        s(&out),
        "--json",
    ]));
    assert!(doc["accuracy"].is_null());
    assert!(doc["manifest"].is_null());
    assert_eq!(doc["calibration"]["inputs"], 8);
    assert!(out.is_file());
    assert!(!dir.path().join("q.manifest.json").exists());
}

#[test]
fn quantize_failures_write_nothing() {
    let (dir, model) = model_dir(true);
    let before = files_in(dir.path());
    let out = dir.path().join("out.onnx");

    // No --calib: a usage error.
    let o = sentio(&["quantize", s(&model), "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--calib"));

    // A calibration file that is not .npy.
    let bad = dir.path().join("bad.npy");
    std::fs::write(&bad, b"\x93NUMPY\x01\x00\xff").unwrap();
    let err = fails(sentio(&[
        "quantize",
        s(&model),
        "--calib",
        s(&bad),
        "--out",
        s(&out),
    ]));
    assert!(
        err.contains("bad.npy: truncated header") && err.contains("help:"),
        "{err}"
    );

    // An .npy of the wrong shape.
    let wrong = dir.path().join("wrong.npy");
    write_npy(&wrong, &[4, 1, 8, 8], 1);
    let err = fails(sentio(&[
        "quantize",
        s(&model),
        "--calib",
        s(&wrong),
        "--out",
        s(&out),
    ]));
    assert!(err.contains("[N, ...input shape]"), "{err}");

    // A model that is not ONNX.
    let junk = dir.path().join("junk.onnx");
    std::fs::write(&junk, [0xffu8; 64]).unwrap();
    let calib = dir.path().join("calib.npy");
    write_npy(&calib, &[4, 1, 1, 16, 16], 1);
    let err = fails(sentio(&[
        "quantize",
        s(&junk),
        "--calib",
        s(&calib),
        "--out",
        s(&out),
    ]));
    assert!(err.contains("help:"), "{err}");

    // An ImageFolder whose folders are not the manifest's labels.
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("dog")).unwrap();
    shape_image(0, 1, 16).save(data.join("dog/0.png")).unwrap();
    let err = fails(sentio(&[
        "quantize",
        s(&model),
        "--calib",
        s(&data),
        "--out",
        s(&out),
    ]));
    assert!(
        err.contains("`dog` is not one of the manifest's labels"),
        "{err}"
    );

    // An empty directory.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let err = fails(sentio(&[
        "quantize",
        s(&model),
        "--calib",
        s(&empty),
        "--out",
        s(&out),
    ]));
    assert!(err.contains("no images"), "{err}");

    let mut after = files_in(dir.path());
    after.retain(|f| {
        ![
            "bad.npy",
            "wrong.npy",
            "junk.onnx",
            "calib.npy",
            "data",
            "empty",
        ]
        .contains(&f.as_str())
    });
    assert_eq!(after, before, "nothing written");
    assert!(!out.exists());
}
