//! `sentio-infer`: the thin layer over tract that every model on the device goes through.
//!
//! It loads an ONNX file (with its `sentio-models` manifest when there is one) into an optimized
//! tract plan with a fixed input shape, checks it before it can replace a running model
//! ([`ModelSlot`]), runs it with per-stage timings ([`Profile`]) and answers top-k with labels.
//! Errors are typed ([`Error`]), name the model (and the node, operator or weight), and carry a
//! help line.
//!
//! - [`quantize`]: static post-training int8 quantization (calibration, per-channel weights,
//!   QOperator-form ONNX with standard ops only) that tract runs in integer arithmetic.
//! - [`load_with_precision`]: f32, int8 or `auto` (measure both here, keep the faster one whose
//!   accuracy check passed), as the board profile's `runtime.precision` says;
//!   [`LoadOptions::threads`] for `runtime.threads`.
//! - [`PlanCache`]: the decluttered plan kept on disk, keyed by sha256 + input shape + runtime
//!   version, so a restart with an unchanged model skips parsing and decluttering.
//! - [`lowering`]: graph rewrites that steer tract to its faster kernels (same values), and the
//!   measured choice between tract's convolution lowerings at load ([`Model::lowering`]).
//! - [`npy`]: NumPy `.npy` files (inputs and calibration sets from Python tools).
//!
//! It must not print, pick threads or precision by itself (the board profile does), or depend on
//! anything above `sentio-models`. Only this crate depends on tract, so tract's build cost is paid
//! once.

pub mod bench;
mod cache;
#[cfg(feature = "conformance")]
pub mod conformance;
mod error;
pub mod lowering;
mod model;
pub mod npy;
pub mod onnx;
mod precision;
pub mod quantize;

pub use cache::{CacheStatus, PlanCache, RUNTIME_VERSION, TRACT_VERSION};
pub use error::{Error, ErrorKind, Result};
pub use lowering::{ChoiceReason, KernelsMode, PlanChoice, PlanKind};
pub use model::{
    LoadOptions, Model, ModelSlot, NodeTime, OutputTensor, Outputs, PlanNode, Prediction, Profile,
};
pub use precision::{AutoPolicy, Precision, PrecisionChoice, load_with_precision, median_latency};
pub use sentio_kernels::Isa;
