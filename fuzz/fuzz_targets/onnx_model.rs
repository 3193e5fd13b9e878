//! Any bytes as an ONNX model (`sentio run`, `--model NAME=PATH`, a flashed bundle's model):
//! `Model::load` decodes the protobuf and runs Sentio's checks (one input, known operators,
//! finite weights, the input's type and shape) before handing the graph to tract, then tract
//! types, optimizes and plans it. No panic may escape, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentio_infer::{LoadOptions, Model};

fuzz_target!(|data: &[u8]| {
    // No smoke run, one thread: as `sentio run` loads, minus the run on zeros.
    let options = LoadOptions::default().name("fuzz").threads(1);
    match Model::load(data, &options) {
        Ok(model) => {
            let _ = (model.input_shape().len(), model.output_shapes().len());
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
