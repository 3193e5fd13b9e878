//! What the kernels' tests share: the implementations this CPU runs, and reproducible values.
#![allow(dead_code)]

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use sentio_kernels::{Isa, KernelError};

/// Every implementation this CPU runs, best first. Each one it cannot run is named on stdout
/// (once per kernel and test binary: `cargo test -- --nocapture` shows it), so a test never
/// passes silently for an implementation it did not run.
pub fn runnable_isas(kernel: &str) -> Vec<Isa> {
    static REPORTED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let reported = REPORTED.get_or_init(|| Mutex::new(HashSet::new()));
    let mut reported = reported.lock().unwrap_or_else(|e| e.into_inner());
    if reported.insert(kernel.to_string()) {
        for isa in Isa::ALL {
            if isa.is_available() {
                println!("{kernel}: testing the {isa} implementation");
            } else {
                println!(
                    "{kernel}: {isa} NOT RUN: this CPU ({}) lacks it",
                    std::env::consts::ARCH
                );
            }
        }
    }
    Isa::available()
}

/// Reproducible values in [-1, 1) from a seed (sentio-rng's SplitMix64).
pub struct Values(sentio_rng::SplitMix64);

impl Values {
    pub fn new(seed: u64) -> Self {
        Self(sentio_rng::SplitMix64::new(seed))
    }

    pub fn next(&mut self) -> f32 {
        self.0.uniform(-1.0, 1.0)
    }

    pub fn take(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.next()).collect()
    }
}

/// Checks that `run` (a plan's run for `input_len` values in, `output_len` out) refuses an input
/// one value short and an output one value long, each with a length error naming the slice, and
/// writes nothing to the output it refused.
pub fn assert_refuses_other_lengths(
    input_len: usize,
    output_len: usize,
    run: impl Fn(&[f32], &mut [f32]) -> Result<(), KernelError>,
) {
    let mut out = vec![1.0; output_len];
    let short = run(&vec![0.0; input_len - 1], &mut out);
    assert!(
        matches!(short, Err(KernelError::Length { slice: "input", .. })),
        "{short:?}"
    );
    let long = run(&vec![0.0; input_len], &mut vec![1.0; output_len + 1]);
    assert!(
        matches!(
            long,
            Err(KernelError::Length {
                slice: "output",
                ..
            })
        ),
        "{long:?}"
    );
    assert!(out.iter().all(|v| *v == 1.0), "nothing written");
}
