//! What the max pool, row conv and LSTM tests add to `common`: the proptest configuration, the
//! instruction sets a plan must refuse here, and the tolerance.
#![allow(dead_code)]

use sentio_kernels::Isa;

/// `cases` cases per property, without a failure file (the shrunk case is in the message).
pub fn config(cases: u32) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}

/// The instruction sets this CPU cannot run: a plan must refuse each.
pub fn unavailable() -> Vec<Isa> {
    Isa::ALL
        .into_iter()
        .filter(|isa| !isa.is_available())
        .collect()
}

/// Whether `got` is within 1e-4 of `expected`, relative to `scale` (at least 1): the
/// magnitude of the sum the value came from.
pub fn close(got: f32, expected: f32, scale: f32) -> bool {
    (got - expected).abs() <= 1e-4 * scale.max(1.0)
}
