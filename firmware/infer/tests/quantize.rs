//! The int8 quantizer on a CNN trained here (tests/common): accuracy change, size, integer
//! execution, determinism and the f32 fallbacks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{accuracy, train};
use sentio_infer::quantize::{Observer, calibrate, is_quantized, quantize};
use sentio_infer::{LoadOptions, Model};

#[test]
fn int8_accuracy_within_one_point_and_size_under_30_percent() {
    let t = train();
    let options = LoadOptions::new().name("shape_cnn");
    let mut f32_model = Model::load(&t.model, &options).unwrap();
    let f32_acc = accuracy(&mut f32_model, &t.test_x, &t.test_y);
    assert!(
        f32_acc >= 80.0,
        "the trained CNN only reaches {f32_acc:.1}%"
    );

    let calibration = calibrate(&t.model, &options, &t.calib, Observer::MinMax).unwrap();
    let q = quantize(&t.model, "shape_cnn", &calibration).unwrap();
    assert!(is_quantized(&q.model) && !is_quantized(&t.model));
    let mut int8_model = Model::load(&q.model, &options).unwrap();
    let int8_acc = accuracy(&mut int8_model, &t.test_x, &t.test_y);
    let ratio = q.report.size_ratio();
    println!(
        "shape CNN: f32 {f32_acc:.2}% ({} bytes), int8 {int8_acc:.2}% ({} bytes, {:.1}% of f32), \
         change {:+.2} points on {} test images",
        q.report.f32_bytes,
        q.report.int8_bytes,
        100.0 * ratio,
        int8_acc - f32_acc,
        t.test_x.len()
    );
    assert!(
        (int8_acc - f32_acc).abs() <= 1.0,
        "int8 {int8_acc:.2}% vs f32 {f32_acc:.2}%"
    );
    assert!(ratio <= 0.30, "int8 model is {:.1}% of f32", 100.0 * ratio);
}

/// Integer kernels, not fake quantization: every matrix product of the f32 plan reads f32, every
/// one of the int8 plan (the two convolutions and the dense layer) reads int8 and accumulates in
/// int32, and the only f32 left is the input's QuantizeLinear and the softmax at the end.
#[test]
fn int8_plan_really_runs_integer_ops() {
    let t = train();
    let options = LoadOptions::new().name("shape_cnn");
    let calibration = calibrate(&t.model, &options, &t.calib, Observer::MinMax).unwrap();
    let q = quantize(&t.model, "shape_cnn", &calibration).unwrap();
    // tract's own f32 plan, for the like-for-like count of matmuls (Sentio's lowering runs the
    // convolutions as its own ops); the int8 plan is the default one.
    let f32_model = Model::load(&t.model, &options.clone().tract_only(true)).unwrap();
    let int8_model = Model::load(&q.model, &options).unwrap();
    assert!(
        int8_model.lowering().is_empty(),
        "Sentio's f32 kernels stay out of an int8 plan: {:?}",
        int8_model.lowering()
    );
    let matmuls = |m: &Model| -> Vec<String> {
        m.plan_nodes()
            .into_iter()
            .filter(|n| n.op == "OptMatMul")
            .map(|n| n.to_string())
            .collect()
    };
    let (f32_mm, int8_mm) = (matmuls(&f32_model), matmuls(&int8_model));
    println!("f32 plan matmuls: {f32_mm:#?}\nint8 plan matmuls: {int8_mm:#?}");
    assert_eq!(f32_mm.len(), 3);
    assert!(
        f32_mm
            .iter()
            .all(|n| n.contains("(F32") && !n.contains("I8")),
        "{f32_mm:?}"
    );
    assert_eq!(int8_mm.len(), 3, "{int8_mm:?}");
    for n in &int8_mm {
        assert!(!n.contains("F32"), "an int8 matmul touches f32: {n}");
        assert!(n.contains("I8") || n.contains("I32"), "{n}");
    }
    let nodes = int8_model.plan_nodes();
    let conversions: Vec<&str> = nodes
        .iter()
        .filter(|n| n.op.starts_with("QuantizeLinear") || n.op.starts_with("DequantizeLinear"))
        .map(|n| n.op.as_str())
        .collect();
    assert_eq!(conversions, ["QuantizeLinearI8", "DequantizeLinearF32"]);
}

#[test]
fn quantizing_is_deterministic() {
    let t = train();
    let options = LoadOptions::new().name("shape_cnn");
    let a = quantize(
        &t.model,
        "shape_cnn",
        &calibrate(&t.model, &options, &t.calib, Observer::MinMax).unwrap(),
    )
    .unwrap();
    let b = quantize(
        &t.model,
        "shape_cnn",
        &calibrate(&t.model, &options, &t.calib, Observer::MinMax).unwrap(),
    )
    .unwrap();
    assert_eq!(a.model, b.model);
}

#[test]
fn percentile_observer_clips_ranges_and_still_classifies() {
    let t = train();
    let options = LoadOptions::new().name("shape_cnn");
    let minmax = calibrate(&t.model, &options, &t.calib, Observer::MinMax).unwrap();
    let pct = calibrate(&t.model, &options, &t.calib, Observer::Percentile(99.9)).unwrap();
    let mut narrower = 0;
    for (name, s) in pct.tensors() {
        let m = minmax.stats(name).unwrap();
        assert!(s.min >= m.min && s.max <= m.max, "{name}: {s:?} vs {m:?}");
        if s.max < m.max {
            narrower += 1;
        }
    }
    assert!(narrower > 0);
    let q = quantize(&t.model, "shape_cnn", &pct).unwrap();
    let mut model = Model::load(&q.model, &options).unwrap();
    assert!(accuracy(&mut model, &t.test_x, &t.test_y) >= 75.0);
}

#[test]
fn softmax_stays_f32_with_its_reason() {
    let t = train();
    let options = LoadOptions::new().name("shape_cnn");
    let calibration = calibrate(&t.model, &options, &t.calib, Observer::MinMax).unwrap();
    let q = quantize(&t.model, "shape_cnn", &calibration).unwrap();
    let kept: Vec<&str> = q.report.kept_f32.iter().map(|n| n.op.as_str()).collect();
    assert_eq!(kept, ["Softmax"], "{:?}", q.report);
    let int8: Vec<&str> = q.report.quantized.iter().map(|n| n.op.as_str()).collect();
    assert_eq!(
        int8,
        ["Conv", "MaxPool", "Conv", "MaxPool", "Flatten", "Gemm"]
    );
}

/// A manifest's labels (one per class) must not trip calibration, whose probe outputs every tensor.
#[test]
fn calibration_accepts_options_with_labels() {
    let t = train();
    let labels = ["a", "b", "c", "d", "e", "f", "g", "h"];
    let options = LoadOptions::new().name("shape_cnn").labels(&labels);
    let calibration = calibrate(&t.model, &options, &t.calib[..8], Observer::MinMax).unwrap();
    assert!(calibration.stats("probs").is_some());
}

#[test]
fn calibration_errors_are_typed_and_name_the_model() {
    let t = train();
    let options = LoadOptions::new().name("shape_cnn");
    let e = calibrate(&t.model, &options, &[], Observer::MinMax).unwrap_err();
    assert_eq!(e.kind(), sentio_infer::ErrorKind::Calibration);
    assert!(e.to_string().contains("shape_cnn") && e.to_string().contains("empty"));
    let e = calibrate(&t.model, &options, &[vec![0.0; 5]], Observer::MinMax).unwrap_err();
    assert!(e.to_string().contains("calibration input 0"), "{e}");
    assert!(!e.help().is_empty());
    let e = calibrate(b"not onnx", &options, &t.calib, Observer::MinMax).unwrap_err();
    assert_eq!(e.kind(), sentio_infer::ErrorKind::Corrupt);
}
