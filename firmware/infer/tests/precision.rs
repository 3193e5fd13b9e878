//! Loading at the board profile's precision: f32, int8 (shipped or quantized at load) and auto,
//! which keeps the faster precision whose accuracy check passed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::train;
use sentio_infer::quantize::{Observer, calibrate, is_quantized, quantize};
use sentio_infer::{AutoPolicy, ErrorKind, LoadOptions, Model, Precision, load_with_precision};

/// The plan multiplies int8 matrices.
fn runs_int8(model: &Model) -> bool {
    model
        .plan_nodes()
        .iter()
        .any(|n| n.op == "OptMatMul" && n.inputs.iter().any(|t| t == "I8"))
}

#[test]
fn f32_and_int8_load_what_they_say() {
    let t = train();
    let options = LoadOptions::new().name("shape_cnn");
    let policy = AutoPolicy::default();
    let (model, choice) =
        load_with_precision(&t.model, None, &[], &options, Precision::F32, &policy).unwrap();
    assert_eq!(choice.chosen, Precision::F32);
    assert!(!runs_int8(&model));

    // int8 made at load from the calibration set.
    let (model, choice) =
        load_with_precision(&t.model, None, &t.calib, &options, Precision::Int8, &policy).unwrap();
    assert_eq!(choice.chosen, Precision::Int8);
    assert!(choice.quantized_at_load);
    assert!(runs_int8(&model));

    // int8 shipped.
    let calibration = calibrate(&t.model, &options, &t.calib, Observer::MinMax).unwrap();
    let q = quantize(&t.model, "shape_cnn", &calibration).unwrap();
    let (_, choice) = load_with_precision(
        &t.model,
        Some(&q.model),
        &[],
        &options,
        Precision::Int8,
        &policy,
    )
    .unwrap();
    assert!(!choice.quantized_at_load);
}

#[test]
fn int8_without_a_model_or_calibration_set_is_a_clear_error() {
    let t = train();
    let options = LoadOptions::new().name("shape_cnn");
    let e = load_with_precision(
        &t.model,
        None,
        &[],
        &options,
        Precision::Int8,
        &AutoPolicy::default(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Calibration);
    assert!(e.to_string().contains("sentio quantize"), "{e}");
    // An "int8" model that is not quantized is refused, not run as if it were.
    let e = load_with_precision(
        &t.model,
        Some(&t.model),
        &[],
        &options,
        Precision::Int8,
        &AutoPolicy::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("no quantized op"), "{e}");
}

#[test]
fn auto_measures_both_and_keeps_the_faster_accurate_one() {
    let t = train();
    let options = LoadOptions::new().name("shape_cnn");
    let check = &t.calib[..40];
    let (model, choice) = load_with_precision(
        &t.model,
        None,
        check,
        &options,
        Precision::Auto,
        &AutoPolicy {
            bench_runs: 5,
            ..AutoPolicy::default()
        },
    )
    .unwrap();
    println!("{}", choice.reason);
    let (f, i) = (choice.f32_latency.unwrap(), choice.int8_latency.unwrap());
    let agreement = choice.agreement.unwrap();
    assert!(agreement >= 0.9, "{agreement}");
    let int8_runs = runs_int8(&model);
    assert_eq!(int8_runs, choice.chosen == Precision::Int8);
    // The faster of the two was kept (both passed the check).
    if agreement >= 0.99 {
        assert_eq!(choice.chosen == Precision::Int8, i < f, "{}", choice.reason);
    }
}

#[test]
fn auto_keeps_f32_when_int8_fails_the_accuracy_check() {
    let t = train();
    let options = LoadOptions::new().name("shape_cnn");
    // An impossible bar: int8 must agree on more than every input.
    let (_, choice) = load_with_precision(
        &t.model,
        None,
        &t.calib[..20],
        &options,
        Precision::Auto,
        &AutoPolicy {
            min_agreement: 1.01,
            bench_runs: 3,
            ..AutoPolicy::default()
        },
    )
    .unwrap();
    assert_eq!(choice.chosen, Precision::F32);
    assert!(
        choice.reason.contains("accuracy check"),
        "{}",
        choice.reason
    );
    // No calibration set and no int8 model: f32, and it says why.
    let (_, choice) = load_with_precision(
        &t.model,
        None,
        &[],
        &options,
        Precision::Auto,
        &AutoPolicy::default(),
    )
    .unwrap();
    assert_eq!(choice.chosen, Precision::F32);
    assert!(choice.reason.contains("no int8 model"), "{}", choice.reason);
    assert!(!is_quantized(&t.model));
}

#[test]
fn precision_parses_from_the_profile_words() {
    assert_eq!("auto".parse::<Precision>().unwrap(), Precision::Auto);
    assert_eq!("int8".parse::<Precision>().unwrap(), Precision::Int8);
    assert!(
        "fp16"
            .parse::<Precision>()
            .unwrap_err()
            .contains("f32, int8 or auto")
    );
}
