//! The row convolution against its definition ([`reference::conv`]) for every implementation
//! this CPU runs: random shapes, channel groups (dense, grouped, depthwise), kernels, strides
//! and paddings (proptest), the shapes of the layers it takes in the zoo models, and the plan's
//! refusals.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use sentio_kernels::row_conv::{RowConvGeometry, RowConvPlan};
use sentio_kernels::{Isa, KernelError, reference};

mod common;
mod compare;

/// One axis: (input length, kernel, stride, pad before, output length), the output as ONNX
/// computes it from a padding after below the kernel.
fn axis(max_len: usize) -> impl Strategy<Value = (usize, usize, usize, usize, usize)> {
    (1..=max_len, 1..=3usize, 1..=3usize)
        .prop_flat_map(|(len, k, s)| (Just(len), Just(k), Just(s), 0..k, 0..k))
        .prop_filter_map(
            "the padded input holds a window",
            |(len, k, s, before, after)| {
                let reach = (len + before + after).checked_sub(k)?;
                Some((len, k, s, before, reach / s + 1))
            },
        )
}

/// (C_in, C_out, group): dense, two groups, or depthwise with a channel multiplier of 1 or 2.
fn channels() -> impl Strategy<Value = (usize, usize, usize)> {
    prop_oneof![
        (1..=3usize, 1..=5usize).prop_map(|(c_in, c_out)| (c_in, c_out, 1)),
        (1..=2usize, 1..=2usize).prop_map(|(i, o)| (2 * i, 2 * o, 2)),
        (1..=4usize, 1..=2usize).prop_map(|(c, m)| (c, c * m, c)),
    ]
}

fn case() -> impl Strategy<Value = (RowConvGeometry, u64)> {
    (1..=2usize, channels(), axis(10), axis(24), any::<u64>()).prop_map(
        |(n, (c_in, c_out, group), (h, kh, sh, pt, oh), (w, kw, sw, pl, ow), seed)| {
            let geometry = RowConvGeometry {
                input: [n, c_in, h, w],
                output: [c_out, oh, ow],
                kernel: [kh, kw],
                strides: [sh, sw],
                pad_before: [pt, pl],
                group,
            };
            (geometry, seed)
        },
    )
}

/// The convolution's weights, bias and input from `seed`, in [-1, 1).
fn values(g: &RowConvGeometry, seed: u64) -> [Vec<f32>; 3] {
    let [n, c_in, h, w] = g.input;
    let [c_out, ..] = g.output;
    let [kh, kw] = g.kernel;
    let taps = c_out * c_in / g.group * kh * kw;
    let values = common::Values::new(seed).take(taps + c_out + n * c_in * h * w);
    let (weights, rest) = values.split_at(taps);
    let (bias, input) = rest.split_at(c_out);
    [weights.to_vec(), bias.to_vec(), input.to_vec()]
}

fn definition(g: &RowConvGeometry, weights: &[f32], bias: &[f32], input: &[f32]) -> Vec<f32> {
    reference::conv(
        input,
        g.input,
        weights,
        bias,
        g.output,
        g.kernel,
        g.strides,
        g.pad_before,
        g.group,
    )
}

/// The first output of the plan with `isa` (started from NaN: a value the convolution leaves
/// unwritten fails the comparison) that is not within 1e-4 of the definition, relative to the
/// sum of the magnitudes of its terms.
fn first_difference(
    g: &RowConvGeometry,
    isa: Isa,
    [weights, bias, input]: &[Vec<f32>; 3],
) -> Option<(usize, f32, f32)> {
    let plan = RowConvPlan::new(*g, weights, bias, isa).unwrap();
    let mut out = vec![f32::NAN; plan.output_len()];
    plan.run(input, &mut out).unwrap();
    let expected = definition(g, weights, bias, input);
    let abs = |v: &[f32]| v.iter().map(|x| x.abs()).collect::<Vec<f32>>();
    let scale = definition(g, &abs(weights), &abs(bias), &abs(input));
    assert_eq!(out.len(), expected.len());
    (0..out.len())
        .find(|i| !compare::close(out[*i], expected[*i], scale[*i]))
        .map(|i| (i, out[i], expected[i]))
}

#[test]
fn every_implementation_equals_the_definition_on_random_convolutions() {
    let isas = common::runnable_isas("row_conv");
    proptest!(compare::config(64), |((g, seed) in case())| {
        let values = values(&g, seed);
        for isa in &isas {
            prop_assert_eq!(first_difference(&g, *isa, &values), None, "{} {:?}", isa, g);
        }
    });
}

#[test]
fn every_implementation_equals_the_definition_on_the_models_layers() {
    // (n, c_in, h, w, c_out, group, kernel, strides, pad_before, output hw)
    let cases = [
        (1, 1, 64, 64, 16, 1, [2, 2], [1, 1], [0, 0], [63, 63]),
        (1, 1, 48, 48, 16, 1, [3, 3], [1, 1], [1, 1], [48, 48]),
        (1, 1, 64, 64, 8, 1, [3, 3], [2, 2], [1, 1], [32, 32]),
        (2, 2, 9, 11, 3, 1, [2, 2], [2, 2], [1, 0], [5, 5]),
        (1, 1, 5, 7, 4, 1, [3, 1], [1, 2], [1, 0], [5, 4]),
        // Depthwise 3x3, strided depthwise, and two groups of two channels with two outputs
        // each.
        (1, 8, 12, 12, 8, 8, [3, 3], [1, 1], [1, 1], [12, 12]),
        (1, 8, 12, 12, 8, 8, [3, 3], [2, 2], [1, 1], [6, 6]),
        (1, 4, 6, 6, 4, 2, [2, 2], [1, 1], [0, 0], [5, 5]),
        // A 1-D convolution over time: one row.
        (1, 1, 1, 300, 4, 1, [1, 5], [1, 2], [0, 2], [1, 150]),
    ];
    let isas = common::runnable_isas("row_conv");
    for (seed, (n, c_in, h, w, c_out, group, kernel, strides, pad_before, [oh, ow])) in
        cases.into_iter().enumerate()
    {
        let g = RowConvGeometry {
            input: [n, c_in, h, w],
            output: [c_out, oh, ow],
            kernel,
            strides,
            pad_before,
            group,
        };
        let values = values(&g, seed as u64);
        for isa in &isas {
            assert_eq!(first_difference(&g, *isa, &values), None, "{isa} {g:?}");
        }
    }
}

#[test]
fn plans_refuse_what_does_not_add_up_and_runs_refuse_other_lengths() {
    let g = RowConvGeometry {
        input: [1, 2, 4, 4],
        output: [2, 3, 3],
        kernel: [2, 2],
        strides: [1, 1],
        pad_before: [0, 0],
        group: 1,
    };
    let (weights, bias) = ([0.5; 16], [0.0; 2]);
    let bad_geometries = [
        RowConvGeometry { group: 0, ..g },
        RowConvGeometry {
            group: 2,
            input: [1, 3, 4, 4],
            ..g
        },
        RowConvGeometry {
            strides: [0, 1],
            ..g
        },
        RowConvGeometry {
            output: [2, 0, 3],
            ..g
        },
        RowConvGeometry {
            input: [usize::MAX, 2, 4, 4],
            ..g
        },
    ];
    for bad in bad_geometries {
        assert!(
            matches!(
                RowConvPlan::new(bad, &weights, &bias, Isa::Portable),
                Err(KernelError::Geometry { .. })
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        RowConvPlan::new(g, &weights[1..], &bias, Isa::Portable),
        Err(KernelError::Length {
            slice: "weights",
            ..
        })
    ));
    assert!(matches!(
        RowConvPlan::new(g, &weights, &bias[1..], Isa::Portable),
        Err(KernelError::Length { slice: "bias", .. })
    ));
    for isa in compare::unavailable() {
        assert_eq!(
            RowConvPlan::new(g, &weights, &bias, isa),
            Err(KernelError::IsaUnavailable {
                kernel: "row_conv",
                isa
            })
        );
    }
    for isa in common::runnable_isas("row_conv") {
        let plan = RowConvPlan::new(g, &weights, &bias, isa).unwrap();
        common::assert_refuses_other_lengths(32, 18, |input, output| plan.run(input, output));
    }
}
