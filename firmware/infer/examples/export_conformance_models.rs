//! Writes the conformance models and their inputs to a directory (default
//! `tests/conformance/models`): `NAME.onnx` and `NAME.input.json` (`{"shape": [...], "data":
//! [...]}`), and for every case with layers that have an int8 form, `NAME.int8.onnx`: the model
//! calibrated on `conformance::calibration_set` (min-max) and quantized by `sentio_infer::quantize`.
//! `tests/conformance/make_fixtures.py` then runs onnxruntime on all of them.
//!
//! `cargo run -p sentio-infer --example export_conformance_models -- tests/conformance/models`

use std::path::PathBuf;

use sentio_infer::LoadOptions;
use sentio_infer::conformance::{CALIBRATION_SAMPLES, calibration_set, cases};
use sentio_infer::quantize::{Observer, calibrate, quantize};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("tests/conformance/models"));
    std::fs::create_dir_all(&dir)?;
    for case in cases() {
        let model = dir.join(format!("{}.onnx", case.name));
        std::fs::write(&model, &case.model)?;
        let input = serde_json::json!({ "shape": case.input_shape, "data": case.input });
        std::fs::write(
            dir.join(format!("{}.input.json", case.name)),
            serde_json::to_string(&input)?,
        )?;
        println!(
            "{} ({} bytes, sha256 {}): {}",
            model.display(),
            case.model.len(),
            hex::encode(sentio_models::sha256(&case.model)),
            case.covers
        );
        let options = LoadOptions::new().name(case.name);
        let calibration = calibrate(
            &case.model,
            &options,
            &calibration_set(&case, CALIBRATION_SAMPLES),
            Observer::MinMax,
        )?;
        match quantize(&case.model, case.name, &calibration) {
            Ok(q) => {
                let path = dir.join(format!("{}.int8.onnx", case.name));
                std::fs::write(&path, &q.model)?;
                println!(
                    "{} ({} bytes, {:.0}% of f32): {} int8 nodes, {} f32 nodes",
                    path.display(),
                    q.model.len(),
                    100.0 * q.report.size_ratio(),
                    q.report.quantized.len(),
                    q.report.kept_f32.len()
                );
            }
            Err(e) => println!("  no int8 form: {e}"),
        }
    }
    Ok(())
}
