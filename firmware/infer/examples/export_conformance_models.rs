//! Writes the conformance models and their inputs to a directory (default
//! `tests/conformance/models`): `NAME.onnx` and `NAME.input.json` (`{"shape": [...], "data":
//! [...]}`), for `tests/conformance/make_fixtures.py` to run onnxruntime on.
//!
//! `cargo run -p sentio-infer --example export_conformance_models -- tests/conformance/models`

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("tests/conformance/models"));
    std::fs::create_dir_all(&dir)?;
    for case in sentio_infer::conformance::cases() {
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
    }
    Ok(())
}
