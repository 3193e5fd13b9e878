//! Sentio's lowering onto tract (`sentio_infer::lowering`): its ops replace the ones they are
//! meant for and give tract's own answers, int8 plans keep tract's ops, and the measured choice
//! between tract's convolution lowerings is made where there is one. (The conformance suite
//! checks the same plans against onnxruntime.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use sentio_infer::lowering::fastest;
use sentio_infer::{
    CacheStatus, ChoiceReason, Isa, KernelsMode, LoadOptions, Model, PlanCache, PlanKind,
    conformance,
};

fn case(name: &str) -> conformance::Case {
    conformance::cases()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap()
}

/// The largest difference between the outputs of Sentio's plan and tract's own plan of `case`.
fn sentio_vs_tract(case: &conformance::Case) -> (Model, f32) {
    sentio_vs_tract_with(case, LoadOptions::new().kernels(KernelsMode::Sentio))
}

/// [`sentio_vs_tract`] with Sentio's plan loaded with `options`.
fn sentio_vs_tract_with(case: &conformance::Case, options: LoadOptions) -> (Model, f32) {
    let mut sentio = Model::load(&case.model, &options).unwrap();
    let mut tract = Model::load(&case.model, &LoadOptions::new().tract_only(true)).unwrap();
    assert!(tract.lowering().is_empty(), "{:?}", tract.lowering());
    let a = sentio.run(&case.input).unwrap().tensors;
    let b = tract.run(&case.input).unwrap().tensors;
    assert_eq!(a.len(), b.len());
    let mut worst = 0.0f32;
    for (a, b) in a.iter().zip(&b) {
        assert_eq!((&a.name, &a.shape), (&b.name, &b.shape), "{}", case.name);
        for (x, y) in a.data.iter().zip(&b.data) {
            worst = worst.max((x - y).abs());
        }
    }
    (sentio, worst)
}

#[test]
fn every_conformance_model_gives_tract_s_answer_through_sentio_s_lowering() {
    for case in conformance::cases() {
        let (_, worst) = sentio_vs_tract(&case);
        // Only the order of the sums differs (and fused multiply-adds): a few ulps.
        assert!(worst <= 1e-5, "{}: {worst}", case.name);
        println!("{:<20} {worst:.1e}", case.name);
    }
}

#[test]
fn convolutions_and_max_pools_run_as_sentio_s_kernels() {
    // (case, convs expected as flat convs, as row convs, max pools expected as row pools)
    for (name, flat_convs, row_convs, max_pools) in [
        ("first_conv", 0, 1, 1),
        ("mini_cnn", 2, 0, 2),
        ("depthwise_separable", 2, 0, 0),
        ("pooling", 0, 0, 1),
        ("maxpool1d", 0, 0, 1),
        ("conv", 1, 0, 0),
        ("conv1d_wide", 1, 0, 0),
        ("conv1d", 1, 0, 0),
        ("conv1d_12ch", 0, 0, 0),
        ("xception_module", 3, 0, 1),
    ] {
        let (model, _) = sentio_vs_tract(&case(name));
        let lowering = model.lowering();
        println!("{name}: {lowering:?}");
        assert_eq!(
            lowering.flat_convs.len(),
            flat_convs,
            "{name}: {lowering:?}"
        );
        assert_eq!(lowering.row_convs.len(), row_convs, "{name}: {lowering:?}");
        assert_eq!(lowering.max_pools, max_pools, "{name}: {lowering:?}");
        let ops = model.plan_ops();
        let count = |op: &str| ops.iter().filter(|o| *o == op).count();
        assert_eq!(count("SentioFlatConv"), flat_convs, "{name}: {ops:?}");
        assert_eq!(count("SentioRowConv"), row_convs, "{name}: {ops:?}");
        assert_eq!(count("SentioRowMaxPool"), max_pools, "{name}: {ops:?}");
        assert_eq!(count("OptMaxPool"), 0, "{name}: {ops:?}");
    }
}

#[test]
fn a_relu_after_a_flat_conv_is_fused_into_it() {
    let (model, worst) = sentio_vs_tract(&case("conv1d_wide"));
    assert!(worst <= 1e-5, "{worst}");
    let nodes = model.plan_nodes();
    let ops: Vec<&str> = nodes.iter().map(|n| n.op.as_str()).collect();
    assert_eq!(ops, ["Source", "SentioFlatConv"], "{nodes:?}");
}

#[test]
fn batch_norms_relus_and_strided_reads_fold_into_the_flat_convs() {
    // Depthwise conv, pointwise conv + batch norm + ReLU, max pool; strided 1x1 conv + batch
    // norm; the residual add.
    let (model, worst) = sentio_vs_tract(&case("xception_module"));
    assert!(worst <= 1e-5, "{worst}");
    let nodes = model.plan_nodes();
    let ops: Vec<&str> = nodes.iter().map(|n| n.op.as_str()).collect();
    assert_eq!(
        ops.iter().filter(|o| **o == "SentioFlatConv").count(),
        3,
        "{ops:?}"
    );
    assert!(
        !ops.iter().any(|o| o.contains("Downsample")
            || o.contains("Mul")
            || o.contains("MaxBy")
            || o.contains("BinChain")
            || o.contains("MatMul")),
        "{ops:?}"
    );
    assert_eq!(
        ops.iter().filter(|o| o.contains("Add")).count(),
        1,
        "{ops:?}"
    );
}

#[test]
fn lstms_run_as_one_op_over_the_whole_sequence() {
    // (case, LSTM directions replaced)
    for (name, lstms) in [("lstm", 1), ("lstm_bidirectional", 2), ("gru", 0)] {
        let c = case(name);
        let (mut model, worst) = sentio_vs_tract(&c);
        assert!(worst <= 1e-5, "{name}: {worst}");
        let lowering = model.lowering();
        assert_eq!(lowering.lstms.len(), lstms, "{name}: {lowering:?}");
        let ops = model.plan_ops();
        let count = |op: &str| ops.iter().filter(|o| *o == op).count();
        assert_eq!(count("SentioSeqLstm"), lstms, "{name}: {ops:?}");
        if lstms > 0 {
            // No Scan is left, so no state carried between runs either.
            assert!(!ops.iter().any(|o| o.contains("Scan")), "{name}: {ops:?}");
            assert!(!model.is_stateful(), "{name}");
            let first = model.run(&c.input).unwrap().tensors;
            assert_eq!(first, model.run(&c.input).unwrap().tensors, "{name}");
        }
    }
}

#[test]
fn int8_models_keep_tract_s_integer_plan() {
    for name in ["first_conv", "mini_cnn", "depthwise_separable"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/conformance/models")
            .join(format!("{name}.int8.onnx"));
        let model = Model::load_path(&path, &LoadOptions::new()).unwrap();
        assert!(
            model.lowering().row_convs.is_empty(),
            "{name}: {:?}",
            model.lowering()
        );
        assert!(
            !model.plan_ops().iter().any(|o| o == "SentioRowConv"),
            "{name}"
        );
    }
}

#[test]
fn a_wide_1d_conv_gets_the_faster_of_tract_s_two_lowerings() {
    let (model, worst) = sentio_vs_tract(&case("conv1d_12ch"));
    assert!(worst <= 1e-5, "{worst}");
    let choice =
        model.lowering().conv_choice.clone().expect(
            "a 160-wide conv to 12 channels has tract's direct spatial kernel to choose from",
        );
    assert!(!choice.direct_spatial_time.is_zero() && !choice.im2col_time.is_zero());
    assert_eq!(
        choice.direct_spatial,
        choice.direct_spatial_time <= choice.im2col_time,
        "{choice}"
    );
    let ops = model.plan_ops();
    assert_eq!(
        ops.iter().any(|o| o == "DirectSpatialConv"),
        choice.direct_spatial,
        "the plan is the one chosen: {choice}, {ops:?}"
    );
    println!("{choice}");
    // No choice where tract has nothing to choose between.
    let (mini, _) = sentio_vs_tract(&case("mini_cnn"));
    assert!(mini.lowering().conv_choice.is_none());
}

#[test]
fn the_node_profile_times_every_node_of_the_plan_once() {
    let c = case("mini_cnn");
    let mut model = Model::load(&c.model, &LoadOptions::new()).unwrap();
    let nodes = model.profile_nodes(&c.input, 5).unwrap();
    let ids: Vec<usize> = nodes.iter().map(|n| n.id).collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    let ops: Vec<&str> = nodes.iter().map(|n| n.op.as_str()).collect();
    assert!(ops.contains(&"SentioFlatConv"), "{ops:?}");
    assert!(ops.contains(&"Softmax"), "{ops:?}");
    let total: std::time::Duration = nodes.iter().map(|n| n.mean).sum();
    assert!(!total.is_zero());
    assert!(
        nodes
            .iter()
            .any(|n| n.op == "OptMatMul" && !n.info.is_empty())
    );
    // A wrong input length is the same clear error as for `run`.
    assert!(model.profile_nodes(&c.input[1..], 1).is_err());
}

#[test]
fn a_plan_from_the_cache_gets_the_same_lowering() {
    // The cache holds tract's decluttered plan; Sentio's kernels go in after it.
    // (an LSTM comes back from NNEF with its weights outside the loop body)
    for (name, kernels) in [("first_conv", (1, 1, 0)), ("lstm_bidirectional", (0, 0, 2))] {
        let dir = tempfile::tempdir().unwrap();
        let c = case(name);
        let options = LoadOptions::new().cache(PlanCache::new(dir.path()));
        let mut first = Model::load(&c.model, &options).unwrap();
        let mut second = Model::load(&c.model, &options).unwrap();
        assert_eq!(first.cache_status(), &CacheStatus::Stored, "{name}");
        assert_eq!(second.cache_status(), &CacheStatus::Hit, "{name}");
        // (Node names may differ: the cache stores the plan as NNEF.)
        let count = |m: &Model| {
            let l = m.lowering();
            (l.row_convs.len(), l.max_pools, l.lstms.len())
        };
        assert_eq!(count(&first), kernels, "{name}");
        assert_eq!(count(&second), kernels, "{name}");
        assert_eq!(
            first.run(&c.input).unwrap().tensors,
            second.run(&c.input).unwrap().tensors,
            "{name}"
        );
    }
}

/// The largest difference between two models' outputs for `case`'s input.
fn difference(a: &mut Model, b: &mut Model, case: &conformance::Case) -> f32 {
    let a = a.run(&case.input).unwrap().tensors;
    let b = b.run(&case.input).unwrap().tensors;
    a.iter()
        .zip(&b)
        .flat_map(|(a, b)| a.data.iter().zip(&b.data).map(|(x, y)| (x - y).abs()))
        .fold(0.0, f32::max)
}

fn has_sentio_ops(model: &Model) -> bool {
    model.plan_ops().iter().any(|o| o.starts_with("Sentio"))
}

#[test]
fn auto_keeps_the_faster_plan_and_caches_the_choice() {
    let dir = tempfile::tempdir().unwrap();
    let c = case("xception_module");
    let options = LoadOptions::new().cache(PlanCache::new(dir.path()));
    let mut tract = Model::load(&c.model, &LoadOptions::new().tract_only(true)).unwrap();

    // First load: both plans timed, the faster kept, the choice stored beside the plan.
    let mut first = Model::load(&c.model, &options).unwrap();
    let choice = first.lowering().plan.clone();
    assert_eq!(choice.reason, ChoiceReason::Measured, "{choice}");
    let kinds: Vec<PlanKind> = choice.times.iter().map(|(k, _)| *k).collect();
    assert!(
        kinds.contains(&PlanKind::Sentio) && kinds.contains(&PlanKind::Tract),
        "{choice}"
    );
    assert_eq!(Some(choice.chosen), fastest(&choice.times), "{choice}");
    assert_eq!(
        has_sentio_ops(&first),
        choice.chosen.is_sentio(),
        "{choice}"
    );
    assert!(difference(&mut first, &mut tract, &c) <= 1e-5);
    println!("{choice}");
    let files = std::fs::read_dir(dir.path()).unwrap().count();

    // A restart: the same choice, not timed again.
    let second = Model::load(&c.model, &options).unwrap();
    assert_eq!(second.lowering().plan.reason, ChoiceReason::Cached);
    assert_eq!(second.lowering().plan.chosen, choice.chosen);
    assert_eq!(second.lowering().plan.times, choice.times);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), files);

    // A cached choice for tract (as a board where tract won would have stored): tract's plan
    // runs, with tract's answers.
    let entry = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "plan-choice"))
        .expect("a stored choice");
    std::fs::write(&entry, "chosen tract\nsentio 2000000\ntract 1000000\n").unwrap();
    let mut cached = Model::load(&c.model, &options).unwrap();
    let plan = &cached.lowering().plan;
    assert_eq!(
        (plan.chosen, &plan.reason),
        (PlanKind::Tract, &ChoiceReason::Cached)
    );
    assert_eq!(plan.times[1], (PlanKind::Tract, Duration::from_millis(1)));
    assert!(!has_sentio_ops(&cached));
    assert!(difference(&mut cached, &mut tract, &c) <= 1e-5);

    // An unreadable choice is timed again (and replaced), never an error.
    std::fs::write(&entry, "chosen nobody\n").unwrap();
    let again = Model::load(&c.model, &options).unwrap();
    assert_eq!(again.lowering().plan.reason, ChoiceReason::Measured);
    let stored = std::fs::read_to_string(&entry).unwrap();
    assert!(stored.starts_with(&format!("chosen {}", again.lowering().plan.chosen.name())));
}

#[test]
fn a_model_sentio_s_kernels_take_nothing_of_runs_tract_s_plan_untimed() {
    // tract's own plan for an int8 model (Sentio's kernels are f32 only).
    let dir = tempfile::tempdir().unwrap();
    let c = case("mini_cnn");
    let calibration = sentio_infer::quantize::calibrate(
        &c.model,
        &LoadOptions::new(),
        &conformance::calibration_set(&c, conformance::CALIBRATION_SAMPLES),
        sentio_infer::quantize::Observer::MinMax,
    )
    .unwrap();
    let int8 = sentio_infer::quantize::quantize(&c.model, "mini_cnn", &calibration)
        .unwrap()
        .model;
    let model = Model::load(&int8, &LoadOptions::new().cache(PlanCache::new(dir.path()))).unwrap();
    let plan = &model.lowering().plan;
    assert_eq!(plan.chosen, PlanKind::Tract, "{plan}");
    assert_eq!(plan.reason, ChoiceReason::NothingToReplace, "{plan}");
    assert!(plan.times.is_empty() && !has_sentio_ops(&model));
    // Nothing timed, nothing stored.
    assert!(!std::fs::read_dir(dir.path()).unwrap().any(|e| {
        e.unwrap()
            .path()
            .extension()
            .is_some_and(|x| x == "plan-choice")
    }));
}

#[test]
fn the_modes_sentio_and_tract_time_nothing() {
    let c = case("mini_cnn");
    let sentio = Model::load(&c.model, &LoadOptions::new().kernels(KernelsMode::Sentio)).unwrap();
    let plan = &sentio.lowering().plan;
    assert_eq!(
        (plan.chosen, &plan.reason),
        (PlanKind::Sentio, &ChoiceReason::Asked)
    );
    assert!(plan.times.is_empty() && has_sentio_ops(&sentio));
    let tract = Model::load(&c.model, &LoadOptions::new().kernels(KernelsMode::Tract)).unwrap();
    let plan = &tract.lowering().plan;
    assert_eq!(
        (plan.chosen, &plan.reason),
        (PlanKind::Tract, &ChoiceReason::Asked)
    );
    assert!(plan.times.is_empty() && !has_sentio_ops(&tract));
}

#[test]
fn every_instruction_set_this_cpu_runs_gives_tract_s_answers() {
    for isa in Isa::available() {
        for name in ["mini_cnn", "xception_module", "conv1d_wide", "first_conv"] {
            let c = case(name);
            let options = LoadOptions::new().kernels(KernelsMode::Sentio).isa(isa);
            let (model, worst) = sentio_vs_tract_with(&c, options);
            assert_eq!(model.lowering().plan.isa, isa);
            assert!(worst <= 1e-5, "{name} with {isa}: {worst}");
        }
    }
    // Capped at what this CPU has: asking for NEON on x86_64 (or AVX-512 on aarch64) runs the
    // best set below it.
    for isa in Isa::ALL {
        let options = LoadOptions::new().isa(isa);
        assert!(options.kernel_isa().is_available() && options.kernel_isa() <= isa);
    }
}
