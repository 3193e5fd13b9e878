//! `sentio-infer`: the thin layer over tract that every model on the device goes through.
//!
//! It loads an ONNX file (with its `sentio-models` manifest when there is one) into an optimized
//! tract plan with a fixed input shape, checks it before it can replace a running model
//! ([`ModelSlot`]), runs it with per-stage timings ([`Profile`]) and answers top-k with labels.
//! Errors are typed ([`Error`]), name the model (and the node, operator or weight), and carry a
//! help line.
//!
//! It must not print, pick threads or precision by itself (the board profile does), or depend on
//! anything above `sentio-models`. Only this crate depends on tract, so tract's build cost is paid
//! once.

pub mod conformance;
mod error;
mod model;
pub mod onnx;

pub use error::{Error, ErrorKind, Result};
pub use model::{LoadOptions, Model, ModelSlot, OutputTensor, Outputs, Prediction, Profile};
