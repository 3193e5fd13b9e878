//! The LSTM cell's step against its definition ([`reference::lstm_step`], ONNX's cell in f64
//! with the exact sigmoid and tanh) for every implementation this CPU runs: random hidden sizes
//! (every column-block path of the recurrent product: blocks of 64, of 8, single columns) and
//! values over a few chained steps (proptest), the SER model's size, and the cell's refusals.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use sentio_kernels::lstm::LstmCell;
use sentio_kernels::{Isa, KernelError, reference};

mod common;
mod compare;

/// Steps run in a row, each from the states the previous one left.
const STEPS: usize = 3;

/// ONNX's R ([4H, H]) transposed to the cell's `Rᵀ` ([H, 4H]).
fn transpose(r: &[f32], hidden: usize) -> Vec<f32> {
    let mut r_t = vec![0.0; r.len()];
    for (n, row) in r.chunks_exact(hidden).enumerate() {
        for (k, v) in row.iter().enumerate() {
            r_t[k * 4 * hidden + n] = *v;
        }
    }
    r_t
}

/// The first value of `STEPS` steps with `isa` that is not within 1e-4 of the definition
/// (relative to its magnitude, at least 1): (step, "h" or "c", unit, got, expected).
fn first_difference(
    hidden: usize,
    seed: u64,
    isa: Isa,
) -> Option<(usize, &'static str, usize, f32, f32)> {
    let four_h = 4 * hidden;
    let values =
        common::Values::new(seed).take(four_h * hidden + four_h + 2 * hidden + STEPS * four_h);
    let (r, rest) = values.split_at(four_h * hidden);
    let (bias, rest) = rest.split_at(four_h);
    let (state, xs) = rest.split_at(2 * hidden);
    // Gates of a few units in magnitude, as a trained model's are.
    let r: Vec<f32> = r.iter().map(|v| v * 0.5).collect();
    let cell = LstmCell::new(hidden, &transpose(&r, hidden), isa).unwrap();
    let (mut h, mut c) = (state[..hidden].to_vec(), state[hidden..].to_vec());
    for (step, x) in xs.chunks_exact(four_h).enumerate() {
        let x: Vec<f32> = x.iter().map(|v| v * 2.0).collect();
        let (h_expected, c_expected) = reference::lstm_step(&x, bias, &r, &h, &c);
        let mut gates = x.clone();
        cell.step(&mut gates, bias, &mut h, &mut c).unwrap();
        for (name, got, expected) in [("h", &h, &h_expected), ("c", &c, &c_expected)] {
            for (u, (g, e)) in got.iter().zip(expected).enumerate() {
                if !compare::close(*g, *e, e.abs()) {
                    return Some((step, name, u, *g, *e));
                }
            }
        }
    }
    None
}

#[test]
fn every_implementation_equals_the_definition_on_random_cells() {
    let isas = common::runnable_isas("lstm");
    proptest!(compare::config(64), |(hidden in 1..=40usize, seed in any::<u64>())| {
        for isa in &isas {
            prop_assert_eq!(first_difference(hidden, seed, *isa), None, "{} hidden {}", isa, hidden);
        }
    });
}

#[test]
fn every_implementation_equals_the_definition_at_the_models_sizes() {
    let isas = common::runnable_isas("lstm");
    // The SER CNN-LSTM's hidden 64 (4H = 256: four blocks of 64), and 16 (one block).
    for hidden in [64, 16] {
        for isa in &isas {
            assert_eq!(
                first_difference(hidden, 7, *isa),
                None,
                "{isa} hidden {hidden}"
            );
        }
    }
}

#[test]
fn cells_refuse_what_does_not_add_up_and_steps_refuse_other_lengths() {
    let r_t = [0.25; 2 * 8];
    assert!(matches!(
        LstmCell::new(0, &[], Isa::Portable),
        Err(KernelError::Geometry { .. })
    ));
    assert!(matches!(
        LstmCell::new(2, &r_t[1..], Isa::Portable),
        Err(KernelError::Length { slice: "Rᵀ", .. })
    ));
    for isa in compare::unavailable() {
        assert_eq!(
            LstmCell::new(2, &r_t, isa),
            Err(KernelError::IsaUnavailable {
                kernel: "lstm",
                isa
            })
        );
    }
    for isa in common::runnable_isas("lstm") {
        let cell = LstmCell::new(2, &r_t, isa).unwrap();
        let (mut gates, bias, mut h, mut c) = ([1.0; 8], [0.0; 8], [0.5; 2], [0.5; 2]);
        let calls: [(&str, Result<(), KernelError>); 4] = [
            ("gates", cell.step(&mut gates[1..], &bias, &mut h, &mut c)),
            ("bias", cell.step(&mut gates, &bias[1..], &mut h, &mut c)),
            ("h", cell.step(&mut gates, &bias, &mut h[1..], &mut c)),
            ("c", cell.step(&mut gates, &bias, &mut h, &mut [0.5; 3])),
        ];
        for (slice, result) in calls {
            assert!(
                matches!(result, Err(KernelError::Length { slice: s, .. }) if s == slice),
                "{slice}: {result:?}"
            );
        }
        assert_eq!(
            (gates, h, c),
            ([1.0; 8], [0.5; 2], [0.5; 2]),
            "nothing changed"
        );
    }
}
