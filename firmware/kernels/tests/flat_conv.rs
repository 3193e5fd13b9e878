//! The flat convolution against its definition, for every implementation this CPU runs, over
//! random shapes, paddings, channel counts and values (proptest), and over the shapes of the
//! zoo models' layers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use sentio_kernels::Isa;
use sentio_kernels::flat_conv::FlatConvPlan;
use sentio_kernels::reference;

mod common;

/// One convolution case: input [N, C_in, H, W], C_out, kernel, padding (top, left, bottom,
/// right), depthwise, ReLU, a subsample of the input (pointwise only), and its values.
#[derive(Clone, Debug)]
struct Case {
    input: [usize; 4],
    c_out: usize,
    taps: [usize; 2],
    pad: [usize; 4],
    depthwise: bool,
    relu: bool,
    subsample: Option<[usize; 2]>,
    seed: u64,
}

impl Case {
    fn output(&self) -> [usize; 3] {
        let [_, _, h, w] = self.input;
        let [top, left, bottom, right] = self.pad;
        let [kh, kw] = self.taps;
        [
            self.c_out,
            h + top + bottom + 1 - kh,
            w + left + right + 1 - kw,
        ]
    }

    /// The worst |difference| between the plan's output with `isa` and the definition.
    fn worst_error(&self, isa: Isa) -> f32 {
        let [n, c_in, h, w] = self.input;
        let [kh, kw] = self.taps;
        let group = if self.depthwise { c_in } else { 1 };
        let mut values = common::Values::new(self.seed);
        let weights = values.take(self.c_out * c_in / group * kh * kw);
        let bias = values.take(self.c_out);
        // With a subsample, the input is the bigger planes the kept rows and columns come from.
        let (stored_hw, input) = match self.subsample {
            Some([sh, sw]) => {
                let hw = [h * sh, w * sw];
                (hw, values.take(n * c_in * hw[0] * hw[1]))
            }
            None => ([h, w], values.take(n * c_in * h * w)),
        };
        let kept: Vec<f32> = match self.subsample {
            Some([sh, sw]) => input
                .chunks_exact(stored_hw[0] * stored_hw[1])
                .flat_map(|plane| {
                    plane
                        .chunks_exact(stored_hw[1])
                        .step_by(sh)
                        .flat_map(move |row| row.iter().step_by(sw).copied())
                })
                .collect(),
            None => input.clone(),
        };
        let output = self.output();
        let expected = reference::conv(
            &kept,
            self.input,
            &weights,
            &bias,
            output,
            self.taps,
            [1, 1],
            [self.pad[0], self.pad[1]],
            group,
        );
        let mut plan = FlatConvPlan::new(
            self.input,
            output,
            self.taps,
            self.pad,
            &weights,
            &bias,
            self.depthwise,
            isa,
        )
        .expect("a case the plan takes")
        .with_relu(self.relu);
        if let Some(strides) = self.subsample {
            plan = plan
                .with_subsample(n * c_in, stored_hw, strides)
                .expect("a subsample that makes the input");
        }
        let mut out = vec![f32::NAN; plan.output_len()];
        plan.run(&input, &mut out).unwrap();
        out.iter()
            .zip(&expected)
            .map(|(a, b)| {
                let b = if self.relu { b.max(0.0) } else { *b };
                // NaN (an output left unwritten) is the worst error there is.
                if a.is_nan() {
                    f32::INFINITY
                } else {
                    (a - b).abs() / (1.0 + b.abs())
                }
            })
            .fold(0.0f32, f32::max)
    }
}

fn dense_case() -> impl Strategy<Value = Case> {
    (
        (1usize..=2, 1usize..=12, 1usize..=9, 1usize..=24),
        prop_oneof![Just(8usize), Just(16), Just(24), Just(32)],
        (1usize..=3, 1usize..=5),
        (0usize..=2, 0usize..=2, 0usize..=2, 0usize..=2),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_filter_map(
            "kernel larger than the padded input",
            |((n, c_in, h, w), c_out, (kh, kw), (t, l, b, r), relu, seed)| {
                (h + t + b >= kh && w + l + r >= kw).then_some(Case {
                    input: [n, c_in, h, w],
                    c_out,
                    taps: [kh, kw],
                    pad: [t, l, b, r],
                    depthwise: false,
                    relu,
                    subsample: None,
                    seed,
                })
            },
        )
}

fn depthwise_case() -> impl Strategy<Value = Case> {
    (
        (1usize..=2, 1usize..=6, 1usize..=10, 1usize..=40),
        prop_oneof![
            Just([3usize, 3]),
            (1usize..=3, 1usize..=5).prop_map(|(a, b)| [a, b])
        ],
        (0usize..=2, 0usize..=2, 0usize..=2, 0usize..=2),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_filter_map(
            "kernel larger than the padded input",
            |((n, c, h, w), [kh, kw], (t, l, b, r), relu, seed)| {
                (h + t + b >= kh && w + l + r >= kw).then_some(Case {
                    input: [n, c, h, w],
                    c_out: c,
                    taps: [kh, kw],
                    pad: [t, l, b, r],
                    depthwise: true,
                    relu,
                    subsample: None,
                    seed,
                })
            },
        )
}

/// Pointwise over small planes (channels in lanes with AVX-512 when C_out is a multiple of 16),
/// some read through a subsample.
fn pointwise_case() -> impl Strategy<Value = Case> {
    (
        (1usize..=2, 1usize..=40, 1usize..=7, 1usize..=7),
        prop_oneof![Just(8usize), Just(16), Just(32), Just(48)],
        prop_oneof![
            Just(None),
            (1usize..=3, 1usize..=3).prop_map(|(a, b)| Some([a, b]))
        ],
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(|((n, c_in, h, w), c_out, subsample, relu, seed)| Case {
            input: [n, c_in, h, w],
            c_out,
            taps: [1, 1],
            pad: [0; 4],
            depthwise: false,
            relu,
            subsample,
            seed,
        })
}

const TOLERANCE: f32 = 1e-4;

fn check(case: &Case) -> Result<(), TestCaseError> {
    for isa in common::runnable_isas("flat_conv") {
        let worst = case.worst_error(isa);
        prop_assert!(worst < TOLERANCE, "{isa}: {case:?}: worst error {worst}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 96,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn dense_equals_the_definition(case in dense_case()) {
        check(&case)?;
    }

    #[test]
    fn depthwise_equals_the_definition(case in depthwise_case()) {
        check(&case)?;
    }

    #[test]
    fn pointwise_equals_the_definition(case in pointwise_case()) {
        check(&case)?;
    }
}

/// The zoo models' layer shapes (and the edges the random cases rarely hit), with every
/// implementation this CPU runs.
#[test]
fn model_layers_equal_the_definition() {
    let case = |input, c_out, taps, pad, depthwise| Case {
        input,
        c_out,
        taps,
        pad,
        depthwise,
        relu: true,
        subsample: None,
        seed: 7,
    };
    let cases = [
        // The emoji CNN's 2x2 convolutions.
        case([1, 1, 64, 64], 16, [2, 2], [0; 4], false),
        case([1, 16, 31, 31], 32, [2, 2], [0; 4], false),
        // The SER model's 1-D convolutions over time, as 1 x k.
        case([1, 40, 1, 130], 64, [1, 5], [0, 2, 0, 2], false),
        // Xception's depthwise 3x3 convolutions: rows of 3 blocks of 16, an odd row count.
        case([1, 8, 48, 48], 8, [3, 3], [1, 1, 1, 1], true),
        case([1, 2, 4, 70], 2, [3, 3], [0, 2, 1, 0], true),
        case([1, 3, 2, 2], 3, [3, 3], [1, 1, 1, 1], true),
        // Pointwise over 6x6 and 3x3 (channels in lanes with AVX-512) and over 12x12 (flat).
        case([1, 128, 6, 6], 256, [1, 1], [0; 4], false),
        case([1, 128, 3, 3], 64, [1, 1], [0; 4], false),
        case([1, 24, 12, 12], 32, [1, 1], [0; 4], false),
        // A plane 2 wide: one output per row in every vector.
        case([1, 2, 5, 2], 8, [1, 1], [0, 0, 0, 1], false),
    ];
    for case in cases {
        for isa in common::runnable_isas("flat_conv") {
            let worst = case.worst_error(isa);
            assert!(worst < TOLERANCE, "{isa}: {case:?}: worst error {worst}");
        }
    }
}
