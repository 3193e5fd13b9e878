//! The max pool against its definition ([`reference::max_pool`]) for every implementation this
//! CPU runs: random shapes, kernels, strides and paddings (proptest, with the stride-2 column
//! windows the AVX-512 and NEON paths take drawn often), the shapes of the zoo models' pools,
//! windows past the plane, NaN inputs, and the plan's refusals.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use sentio_kernels::max_pool::{MaxPoolGeometry, MaxPoolPlan};
use sentio_kernels::{Isa, KernelError, reference};

mod common;
mod compare;

/// One axis of a pool: (input length, kernel, stride, pad before, output length), the output
/// as ONNX computes it from a padding after below the kernel.
type Axis = (usize, usize, usize, usize, usize);

fn axis(
    len: impl Strategy<Value = usize>,
    kernel: [usize; 2],
    stride: [usize; 2],
) -> impl Strategy<Value = Axis> {
    (len, kernel[0]..=kernel[1], stride[0]..=stride[1])
        .prop_flat_map(|(len, k, s)| (Just(len), Just(k), Just(s), 0..k, 0..k))
        .prop_filter_map(
            "the padded input holds a window",
            |(len, k, s, before, after)| {
                let reach = (len + before + after).checked_sub(k)?;
                Some((len, k, s, before, reach / s + 1))
            },
        )
}

/// Any axis.
fn any_axis(max_len: usize) -> impl Strategy<Value = Axis> {
    axis(1..=max_len, [1, 4], [1, 3])
}

/// A column axis the stride-2 paths take: 2 wide unpadded or 3 wide padded 1, stride 2, over
/// rows of up to 35 outputs: several 16-output blocks (AVX-512) and 8-output blocks (NEON),
/// whole or cut short at any width, with or without a padded last column.
fn stride_2_columns() -> impl Strategy<Value = Axis> {
    (
        1..=70usize,
        prop_oneof![Just((2, 0)), Just((3, 1))],
        0..2usize,
    )
        .prop_filter_map(
            "the padded input holds a window",
            |(w, (k, before), after)| {
                let reach = (w + before + after).checked_sub(k)?;
                Some((w, k, 2, before, reach / 2 + 1))
            },
        )
}

/// The rows of a CNN block's 2x2 stride-2 unpadded pool.
fn rows_2x2() -> impl Strategy<Value = Axis> {
    (2..=12usize, 0..2usize).prop_map(|(h, after)| (h, 2, 2, 0, (h + after - 2) / 2 + 1))
}

fn geometry(channels: [usize; 2], rows: Axis, columns: Axis) -> MaxPoolGeometry {
    let (h, kh, sh, pt, oh) = rows;
    let (w, kw, sw, pl, ow) = columns;
    MaxPoolGeometry {
        input: [channels[0], channels[1], h, w],
        output: [oh, ow],
        kernel: [kh, kw],
        strides: [sh, sw],
        pad_before: [pt, pl],
    }
}

fn case() -> impl Strategy<Value = (MaxPoolGeometry, u64)> {
    let channels = (1..=2usize, 1..=3usize).prop_map(|(n, c)| [n, c]);
    let shapes = prop_oneof![
        (channels.clone(), any_axis(12), any_axis(40)),
        (channels.clone(), any_axis(12), stride_2_columns()),
        (channels, rows_2x2(), stride_2_columns()),
    ];
    (shapes, any::<u64>())
        .prop_map(|((ch, rows, columns), seed)| (geometry(ch, rows, columns), seed))
}

/// Reproducible values in [-100, 100).
fn values(seed: u64, n: usize) -> Vec<f32> {
    common::Values::new(seed)
        .take(n)
        .into_iter()
        .map(|v| v * 100.0)
        .collect()
}

/// The pool of `input` with `isa`, from an output of NaN (a value the pool leaves unwritten
/// fails every comparison).
fn pool(g: &MaxPoolGeometry, isa: Isa, input: &[f32]) -> Vec<f32> {
    let plan = MaxPoolPlan::new(*g, isa).unwrap();
    let mut out = vec![f32::NAN; plan.output_len()];
    plan.run(input, &mut out).unwrap();
    out
}

fn expected(g: &MaxPoolGeometry, input: &[f32]) -> Vec<f32> {
    reference::max_pool(input, g.input, g.output, g.kernel, g.strides, g.pad_before)
}

#[test]
fn every_implementation_equals_the_definition_on_random_pools() {
    let isas = common::runnable_isas("max_pool");
    proptest!(compare::config(64), |((g, seed) in case())| {
        let input = values(seed, g.input.iter().product());
        let expected = expected(&g, &input);
        for isa in &isas {
            prop_assert_eq!(pool(&g, *isa, &input), expected.clone(), "{} {:?}", isa, g);
        }
    });
}

#[test]
fn every_implementation_equals_the_definition_on_the_models_pools() {
    // (h, w, kernel, strides, pad_before, output)
    let cases = [
        (63, 63, [2, 2], [2, 2], [0, 0], [31, 31]),
        (64, 64, [2, 2], [2, 2], [0, 0], [32, 32]),
        (7, 7, [2, 2], [2, 2], [0, 0], [3, 3]),
        (6, 6, [2, 2], [2, 2], [1, 1], [4, 4]),
        (48, 48, [3, 3], [2, 2], [1, 1], [24, 24]),
        (7, 7, [3, 3], [2, 2], [1, 1], [4, 4]),
        (3, 3, [3, 3], [2, 2], [1, 1], [2, 2]),
        (1, 1, [3, 3], [2, 2], [1, 1], [1, 1]),
        (5, 2, [3, 3], [2, 2], [1, 1], [3, 1]),
        (7, 9, [3, 2], [1, 3], [1, 0], [7, 3]),
        (1, 128, [1, 2], [1, 2], [0, 0], [1, 64]),
        (5, 5, [5, 5], [1, 1], [2, 2], [5, 5]),
        // Rows of several 16-output blocks, odd widths, and stride 1 over the rows.
        (5, 67, [3, 3], [2, 2], [1, 1], [3, 34]),
        (4, 33, [2, 2], [2, 2], [0, 0], [2, 16]),
        (9, 40, [3, 3], [1, 2], [1, 1], [9, 20]),
        (2, 2, [3, 3], [2, 2], [1, 1], [1, 1]),
    ];
    let isas = common::runnable_isas("max_pool");
    for (h, w, kernel, strides, pad_before, output) in cases {
        let g = MaxPoolGeometry {
            input: [1, 3, h, w],
            output,
            kernel,
            strides,
            pad_before,
        };
        let input: Vec<f32> = (0..3 * h * w)
            .map(|i| ((i * 7919) % 1009) as f32 - 500.0)
            .collect();
        let expected = expected(&g, &input);
        for isa in &isas {
            assert_eq!(pool(&g, *isa, &input), expected, "{isa} {g:?}");
        }
    }
}

#[test]
fn a_window_with_no_tap_inside_yields_f32_min() {
    // Padded 3 before a 1x1 plane with a 3x3 window: output (0, 0) sees only padding.
    let g = MaxPoolGeometry {
        input: [1, 1, 1, 1],
        output: [2, 2],
        kernel: [3, 3],
        strides: [3, 3],
        pad_before: [3, 3],
    };
    for isa in common::runnable_isas("max_pool") {
        assert_eq!(
            pool(&g, isa, &[5.0]),
            [f32::MIN, f32::MIN, f32::MIN, 5.0],
            "{isa}"
        );
    }
}

#[test]
fn the_stride_2_paths_take_the_stride_2_column_windows() {
    let g = |kw, sw, pl| MaxPoolGeometry {
        input: [1, 1, 6, 21],
        output: [3, (21 + 2 * pl - kw) / sw + 1],
        kernel: [3, kw],
        strides: [2, sw],
        pad_before: [1, pl],
    };
    let taken = [g(2, 2, 0), g(3, 2, 1)];
    let not_taken = [g(3, 2, 0), g(2, 2, 1), g(2, 1, 0), g(3, 1, 1)];
    for isa in common::runnable_isas("max_pool") {
        let stride_2 = match isa {
            Isa::Avx512 => Some("avx512 stride-2 columns"),
            Isa::Neon => Some("neon stride-2 pool"),
            Isa::Avx2Fma | Isa::Portable => None,
        };
        for g in taken {
            let plan = MaxPoolPlan::new(g, isa).unwrap();
            if let Some(name) = stride_2 {
                assert_eq!(plan.implementation(), name, "{g:?}");
            }
        }
        for g in not_taken {
            let plan = MaxPoolPlan::new(g, isa).unwrap();
            assert!(!plan.implementation().contains("stride-2"), "{isa} {g:?}");
        }
    }
}

#[test]
fn stride_2_windows_past_the_plane_yield_f32_min() {
    // 19 columns: a whole 8-output block (columns 0..16), one cut short at the row end and
    // one past it; outputs from 10 on and the last row's read only padding.
    for (kw, pl) in [(2, 0), (3, 1)] {
        let g = MaxPoolGeometry {
            input: [1, 2, 3, 19],
            output: [3, 20],
            kernel: [2, kw],
            strides: [2, 2],
            pad_before: [0, pl],
        };
        let input = values(kw as u64, 2 * 3 * 19);
        let expected = expected(&g, &input);
        for (i, v) in expected.iter().enumerate() {
            let (oy, ox) = (i / 20 % 3, i % 20);
            assert_eq!(*v == f32::MIN, oy == 2 || ox >= 10, "{i}");
        }
        for isa in common::runnable_isas("max_pool") {
            assert_eq!(pool(&g, isa, &input), expected, "{isa} {g:?}");
        }
    }
}

#[test]
fn a_nan_input_is_skipped_by_the_row_and_stride_2_paths() {
    let g = MaxPoolGeometry {
        input: [1, 1, 4, 40],
        output: [2, 20],
        kernel: [3, 3],
        strides: [2, 2],
        pad_before: [1, 1],
    };
    let mut input: Vec<f32> = (0..160).map(|i| i as f32).collect();
    input[41] = f32::NAN;
    input[0] = f32::NAN;
    // Signalling NaNs (NEON's `vmaxnmq_f32` skips only quiet ones), in the last row output
    // row 1 reads (a NaN running max in an earlier row would be replaced by the next row's).
    input[137] = f32::from_bits(0x7fa0_0000);
    input[138] = f32::from_bits(0xffa0_0000);
    let expected = expected(&g, &input);
    // (the window of output 0 still has values)
    assert!(expected.iter().all(|v| !v.is_nan()));
    for isa in common::runnable_isas("max_pool") {
        assert_eq!(pool(&g, isa, &input), expected, "{isa}");
    }
}

#[test]
fn plans_refuse_what_does_not_add_up_and_runs_refuse_other_lengths() {
    let g = MaxPoolGeometry {
        input: [1, 2, 4, 4],
        output: [2, 2],
        kernel: [2, 2],
        strides: [2, 2],
        pad_before: [0, 0],
    };
    let zero_stride = MaxPoolGeometry {
        strides: [2, 0],
        ..g
    };
    let zero_kernel = MaxPoolGeometry {
        kernel: [0, 2],
        ..g
    };
    let empty = MaxPoolGeometry {
        output: [0, 2],
        ..g
    };
    let huge = MaxPoolGeometry {
        input: [usize::MAX, 2, 4, 4],
        ..g
    };
    for bad in [zero_stride, zero_kernel, empty, huge] {
        assert!(
            matches!(
                MaxPoolPlan::new(bad, Isa::Portable),
                Err(KernelError::Geometry { .. })
            ),
            "{bad:?}"
        );
    }
    for isa in compare::unavailable() {
        assert_eq!(
            MaxPoolPlan::new(g, isa),
            Err(KernelError::IsaUnavailable {
                kernel: "max_pool",
                isa
            })
        );
    }
    for isa in common::runnable_isas("max_pool") {
        let plan = MaxPoolPlan::new(g, isa).unwrap();
        common::assert_refuses_other_lengths(32, 8, |input, output| plan.run(input, output));
    }
}
