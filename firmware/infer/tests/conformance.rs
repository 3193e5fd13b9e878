//! tract f32 against onnxruntime: every conformance model (rebuilt here, byte-identical to the
//! files the fixtures were made from) must match the stored onnxruntime outputs within 1e-4.
//!
//! Regenerate the fixtures with:
//! `cargo run -p sentio-infer --example export_conformance_models -- tests/conformance/models`
//! then `python3 tests/conformance/make_fixtures.py` (from the workspace root).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use sentio_infer::conformance::{Case, cases};
use sentio_infer::{LoadOptions, Model};
use serde_json::Value;

const TOLERANCE: f32 = 1e-4;

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance/fixtures")
}

fn fixture(case: &Case) -> Value {
    let path = fixtures_dir().join(format!("{}.json", case.name));
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
            assert!(
                names.contains(&stem.as_str()),
                "stale fixture {}",
                path.display()
            );
        }
    }
}

#[test]
fn tract_f32_matches_onnxruntime_within_1e_4() {
    let mut report = Vec::new();
    for case in cases() {
        let f = fixture(&case);
        let mut model = Model::load(&case.model, &LoadOptions::new().name(case.name))
            .unwrap_or_else(|e| panic!("{}: {e}\nhelp: {}", case.name, e.help()));
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
