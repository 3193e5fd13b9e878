//! tract f32 against onnxruntime: every conformance model (rebuilt here, byte-identical to the
//! files the fixtures were made from) must match the stored onnxruntime outputs within 1e-4.
//!
//! tract int8 against onnxruntime int8 and against f32: every committed `NAME.int8.onnx` (made by
//! our quantizer) must match onnxruntime running the same file within [`INT8_VS_ORT_STEPS`] int8
//! steps of each output, and the f32 reference within [`INT8_VS_F32_STEPS`] steps (the
//! derivation is in tests/conformance/README.md).
//!
//! Regenerate the fixtures with:
//! `cargo run -p sentio-infer --example export_conformance_models -- tests/conformance/models`
//! then `python3 tests/conformance/make_fixtures.py` (from the workspace root).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use sentio_infer::conformance::{CALIBRATION_SAMPLES, Case, calibration_set, cases};
use sentio_infer::quantize::{Observer, calibrate, quantize};
use sentio_infer::{LoadOptions, Model};
use serde_json::Value;

const TOLERANCE: f32 = 1e-4;

/// tract and onnxruntime run the same integer arithmetic; they may round a requantization
/// differently (tract uses a fixed-point multiplier, onnxruntime a float one), one step at a
/// layer, which later layers carry along.
const INT8_VS_ORT_STEPS: f32 = 2.0;
/// Quantization error against the f32 model, in steps of the output's int8 grid.
const INT8_VS_F32_STEPS: f32 = 6.0;

fn models_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance/models")
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance/fixtures")
}

fn fixture(case: &Case) -> Value {
    fixture_named(case.name)
}

fn fixture_named(stem: &str) -> Value {
    let path = fixtures_dir().join(format!("{stem}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; regenerate the fixtures (see this file's header)",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap()
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

#[test]
fn rebuilt_models_are_the_files_the_fixtures_were_made_from() {
    for case in cases() {
        let f = fixture(&case);
        assert_eq!(
            f["sha256"].as_str().unwrap(),
            hex::encode(sentio_models::sha256(&case.model)),
            "{}: the model built here differs from the one onnxruntime ran; regenerate the fixtures",
            case.name
        );
        assert_eq!(
            usizes(&f["input"]["shape"]),
            case.input_shape,
            "{}",
            case.name
        );
        assert_eq!(
            floats(&f["input"]["data"]),
            case.input,
            "{}: input differs",
            case.name
        );
    }
}

#[test]
fn every_fixture_has_a_case() {
    let names: Vec<&str> = cases().iter().map(|c| c.name).collect();
    for entry in std::fs::read_dir(fixtures_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let case = stem.strip_suffix(".int8").unwrap_or(&stem);
            assert!(names.contains(&case), "stale fixture {}", path.display());
        }
    }
}

#[test]
fn tract_f32_matches_onnxruntime_within_1e_4() {
    let mut report = Vec::new();
    for case in cases() {
        let f = fixture(&case);
        let mut model = Model::load(&case.model, &LoadOptions::new().name(case.name))
            .unwrap_or_else(|e| panic!("{}: {e} ({e:?})", case.name));
        assert_eq!(model.input_shape(), case.input_shape.as_slice());
        let out = model.run(&case.input).unwrap();
        let expected = f["outputs"].as_array().unwrap();
        assert_eq!(
            out.tensors.len(),
            expected.len(),
            "{}: output count",
            case.name
        );
        let mut worst = 0f32;
        for (got, want) in out.tensors.iter().zip(expected) {
            assert_eq!(got.name, want["name"].as_str().unwrap(), "{}", case.name);
            assert_eq!(
                got.shape,
                usizes(&want["shape"]),
                "{}: {}",
                case.name,
                got.name
            );
            let want = floats(&want["data"]);
            for (i, (g, w)) in got.data.iter().zip(&want).enumerate() {
                let d = (g - w).abs();
                assert!(
                    d <= TOLERANCE,
                    "{}: output `{}`[{i}]: tract {g} vs onnxruntime {w} (|d| = {d})",
                    case.name,
                    got.name
                );
                worst = worst.max(d);
            }
        }
        report.push(format!("{}: max |tract - ort| = {worst:.2e}", case.name));
    }
    println!("{}", report.join("\n"));
}

/// The step of each output's int8 grid: its calibrated range over 255.
fn output_steps(case: &Case, outputs: &[sentio_infer::OutputTensor]) -> Vec<f32> {
    let calibration = calibrate(
        &case.model,
        &LoadOptions::new().name(case.name),
        &calibration_set(case, CALIBRATION_SAMPLES),
        Observer::MinMax,
    )
    .unwrap();
    outputs
        .iter()
        .map(|t| {
            let s = calibration.stats(&t.name).unwrap();
            (s.max.max(0.0) - s.min.min(0.0)) / 255.0
        })
        .collect()
}

#[test]
fn tract_int8_matches_onnxruntime_int8_and_f32() {
    let mut report = Vec::new();
    let mut checked = 0;
    for case in cases() {
        let path = models_dir().join(format!("{}.int8.onnx", case.name));
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let f = fixture_named(&format!("{}.int8", case.name));
        assert_eq!(
            f["sha256"].as_str().unwrap(),
            hex::encode(sentio_models::sha256(&bytes)),
            "{}: fixture made from another file; regenerate the fixtures",
            path.display()
        );
        let mut model = Model::load(&bytes, &LoadOptions::new().name(case.name)).unwrap();
        let out = model.run(&case.input).unwrap();
        let steps = output_steps(&case, &out.tensors);
        let ort_int8 = f["outputs"].as_array().unwrap();
        let ort_f32 = fixture(&case)["outputs"].as_array().unwrap().clone();
        let (mut worst_ort, mut worst_f32) = (0f32, 0f32);
        for (((got, q), r), step) in out.tensors.iter().zip(ort_int8).zip(&ort_f32).zip(&steps) {
            for (i, ((g, q), r)) in got
                .data
                .iter()
                .zip(floats(&q["data"]))
                .zip(floats(&r["data"]))
                .enumerate()
            {
                let (dq, dr) = ((g - q).abs() / step, (g - r).abs() / step);
                assert!(
                    dq <= INT8_VS_ORT_STEPS,
                    "{}: `{}`[{i}]: tract int8 {g} vs onnxruntime int8 {q}: {dq:.2} steps of {step}",
                    case.name,
                    got.name
                );
                assert!(
                    dr <= INT8_VS_F32_STEPS,
                    "{}: `{}`[{i}]: tract int8 {g} vs f32 {r}: {dr:.2} steps of {step}",
                    case.name,
                    got.name
                );
                worst_ort = worst_ort.max(dq);
                worst_f32 = worst_f32.max(dr);
            }
        }
        checked += 1;
        report.push(format!(
            "{}: int8 vs onnxruntime int8 {worst_ort:.2} steps, vs f32 {worst_f32:.2} steps",
            case.name
        ));
    }
    println!("{}", report.join("\n"));
    assert!(checked >= 5, "only {checked} int8 conformance models");
}

/// The committed int8 files are what the quantizer writes today (same ops, same tensors), so the
/// fixtures test the current quantizer, not an old one.
#[test]
fn committed_int8_models_match_the_quantizer() {
    for case in cases() {
        let path = models_dir().join(format!("{}.int8.onnx", case.name));
        let calibration = calibrate(
            &case.model,
            &LoadOptions::new().name(case.name),
            &calibration_set(&case, CALIBRATION_SAMPLES),
            Observer::MinMax,
        )
        .unwrap();
        match (
            quantize(&case.model, case.name, &calibration),
            std::fs::read(&path),
        ) {
            (Ok(q), Ok(committed)) => {
                use prost::Message;
                let a = tract_onnx::pb::ModelProto::decode(q.model.as_slice()).unwrap();
                let b = tract_onnx::pb::ModelProto::decode(committed.as_slice()).unwrap();
                let ops = |m: &tract_onnx::pb::ModelProto| -> Vec<(String, Vec<String>)> {
                    m.graph
                        .as_ref()
                        .unwrap()
                        .node
                        .iter()
                        .map(|n| (n.op_type.clone(), n.input.clone()))
                        .collect()
                };
                assert_eq!(
                    ops(&a),
                    ops(&b),
                    "{}: regenerate the int8 models",
                    case.name
                );
            }
            (Err(_), Err(_)) => {}
            (Ok(_), Err(_)) => panic!(
                "{}: the quantizer makes an int8 model but none is committed",
                case.name
            ),
            (Err(e), Ok(_)) => panic!(
                "{}: an int8 model is committed but the quantizer says {e}",
                case.name
            ),
        }
    }
}
