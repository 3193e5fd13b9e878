//! Running: shapes from the manifest, the model or explicitly; top-k with labels; per-stage
//! profiling; the input tensor reused across calls.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use sentio_infer::onnx::{Dim, GraphBuilder};
use sentio_infer::{LoadOptions, Model, conformance};
use sentio_models::{
    DType, Figures, InputSpec, LabelSpec, Manifest, Precision, Preprocessing, Task,
};
use tract_onnx::pb::tensor_proto::DataType;

const EMOJI8: [&str; 8] = [
    "slightly_smiling",
    "heart_eyes",
    "neutral",
    "angry",
    "tears_of_joy",
    "winking",
    "tongue_out",
    "frowning",
];

fn case(name: &str) -> conformance::Case {
    conformance::cases()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap()
}

fn manifest(shape: &[usize]) -> Manifest {
    Manifest::new(
        "emoji",
        "1.0.0",
        Task::Emoji,
        LabelSpec::new("emoji8", &EMOJI8),
        InputSpec {
            shape: shape.to_vec(),
            dtype: DType::F32,
            preprocessing: Preprocessing::none(),
            extra: Figures::new(),
        },
        Precision::F32,
    )
}

/// A softmax classifier over a symbolic-shape input [N, 20].
fn symbolic_classifier() -> Vec<u8> {
    let c = case("softmax");
    let mut model = tract_onnx::pb::ModelProto::default();
    prost::Message::merge(&mut model, c.model.as_slice()).unwrap();
    let graph = model.graph.as_mut().unwrap();
    let mut g = GraphBuilder::new("sym");
    g.input_typed("x", DataType::Float, &[Dim::from("N"), Dim::from("F")]);
    graph.input = g.model().graph.unwrap().input;
    sentio_infer::onnx::encode(&model)
}

#[test]
fn top_k_uses_the_manifest_labels_and_sums_to_one() {
    let c = case("mini_cnn");
    let mut model = Model::load(
        &c.model,
        &LoadOptions::new().manifest(&manifest(&c.input_shape)),
    )
    .unwrap();
    assert_eq!(model.name(), "emoji");
    assert_eq!(model.labels().unwrap().len(), 8);
    let out = model.run(&c.input).unwrap();
    let top = out.top_k(3);
    assert_eq!(top.len(), 3);
    assert!(top[0].score >= top[1].score && top[1].score >= top[2].score);
    assert_eq!(top[0].label, Some(EMOJI8[top[0].index]));
    let all = out.top_k(100);
    assert_eq!(all.len(), 8);
    let sum: f32 = all.iter().map(|p| p.score).sum();
    assert!((sum - 1.0).abs() < 1e-5, "{sum}");
}

#[test]
fn shape_comes_from_the_manifest_then_explicit_then_the_model() {
    let bytes = symbolic_classifier();
    // From the model: symbolic batch -> 1, but F is symbolic too: refused (see bad_models).
    let m = Model::load(&bytes, &LoadOptions::new().shape(&[1, 20])).unwrap();
    assert_eq!(m.input_shape(), &[1, 20]);
    assert_eq!(m.output_shapes(), &[vec![1, 8]]);
    // Batch 4 from a manifest.
    let mut m4 = Model::load(&bytes, &LoadOptions::new().manifest(&manifest(&[4, 20]))).unwrap();
    assert_eq!(m4.output_shapes(), &[vec![4, 8]]);
    let out = m4.run(&vec![0.25; 80]).unwrap();
    assert_eq!(out.tensors[0].shape, vec![4, 8]);
    // An explicit shape wins over the manifest.
    let m2 = Model::load(
        &bytes,
        &LoadOptions::new()
            .manifest(&manifest(&[4, 20]))
            .shape(&[2, 20]),
    )
    .unwrap();
    assert_eq!(m2.input_shape(), &[2, 20]);
    // From the model, with a fixed shape.
    let c = case("conv");
    let m = Model::load(&c.model, &LoadOptions::new()).unwrap();
    assert_eq!(m.input_shape(), &[1, 3, 16, 16]);
    assert_eq!(m.output_shapes(), &[vec![1, 8, 16, 16]]);
}

#[test]
fn a_symbolic_batch_alone_defaults_to_one() {
    let mut g = GraphBuilder::new("relu");
    g.input_typed("x", DataType::Float, &[Dim::from("batch"), Dim::Fixed(3)])
        .node("Relu", &["x"], &["y"], &[])
        .output("y", &[1, 3]);
    let mut m = Model::load(&g.to_bytes(), &LoadOptions::new()).unwrap();
    assert_eq!(m.input_shape(), &[1, 3]);
    assert_eq!(
        m.run(&[-1.0, 0.5, 2.0]).unwrap().tensors[0].data,
        vec![0.0, 0.5, 2.0]
    );
}

#[test]
fn loads_from_a_path_and_names_the_model_after_the_file() {
    let c = case("dense");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dense_v2.onnx");
    std::fs::write(&path, &c.model).unwrap();
    let mut m = Model::load_path(&path, &LoadOptions::new()).unwrap();
    assert_eq!(m.name(), "dense_v2");
    assert_eq!(m.sha256(), sentio_models::sha256(&c.model));
    assert_eq!(m.run(&c.input).unwrap().tensors[0].shape, vec![1, 10]);
}

#[test]
fn the_input_tensor_is_reused_and_results_are_stable() {
    let c = case("mini_cnn");
    let mut m = Model::load(&c.model, &LoadOptions::new()).unwrap();
    let first = m.run(&c.input).unwrap().tensors;
    let runs_before = m.runs();
    for _ in 0..200 {
        let out = m.run(&c.input).unwrap();
        assert_eq!(out.tensors, first);
    }
    assert_eq!(m.runs(), runs_before + 200);
    // tract drops its reference to the input at the end of every run: no run re-allocated it.
    assert_eq!(m.input_allocations(), 0);
}

#[test]
fn profile_stages_add_up_and_infer_dominates() {
    let c = case("mini_cnn");
    let mut m = Model::load(&c.model, &LoadOptions::new()).unwrap();
    let mut best = None::<sentio_infer::Profile>;
    let wall = Instant::now();
    for _ in 0..50 {
        let p = m.run(&c.input).unwrap().profile;
        if best.is_none_or(|b| p.total() < b.total()) {
            best = Some(p);
        }
    }
    let elapsed = wall.elapsed();
    let p = best.unwrap();
    assert_eq!(p.total(), p.preprocess + p.infer + p.postprocess);
    assert!(p.infer > p.preprocess && p.infer > p.postprocess, "{p}");
    assert!(p.total() * 50 <= elapsed, "{p} vs {elapsed:?}");
    let text = p.to_string();
    assert!(
        text.starts_with("preprocess ") && text.contains(" ms, infer "),
        "{text}"
    );
    println!("mini_cnn best of 50: {p}");
}

#[test]
fn the_optimized_plan_lists_its_operators() {
    let c = case("mini_cnn");
    let m = Model::load(&c.model, &LoadOptions::new()).unwrap();
    let ops = m.plan_ops();
    assert!(!ops.is_empty());
    assert!(ops.iter().any(|o| o == "Source"), "{ops:?}");
    println!("{ops:?}");
}

#[test]
fn a_recurrent_model_gives_the_same_answer_every_run() {
    // tract's Scan (LSTM, GRU) carries its hidden state into the next run of the same state
    // object: each run must start from the model's initial state, like onnxruntime. (Sentio's
    // whole-sequence LSTM has no state between runs.)
    for (name, options, stateful) in [
        ("lstm", LoadOptions::new().tract_only(true), true),
        ("gru", LoadOptions::new(), true),
        ("lstm", LoadOptions::new(), false),
    ] {
        let c = case(name);
        let mut m = Model::load(&c.model, &options).unwrap();
        assert_eq!(m.is_stateful(), stateful, "{name}");
        let first = m.run(&c.input).unwrap().tensors;
        let second = m.run(&c.input).unwrap().tensors;
        assert_eq!(first, second, "{name}");
    }
    let conv = Model::load(&case("conv").model, &LoadOptions::new()).unwrap();
    assert!(!conv.is_stateful());
}

#[test]
fn models_and_slots_can_move_to_another_thread() {
    fn send<T: Send>() {}
    send::<Model>();
    send::<sentio_infer::ModelSlot>();
    send::<sentio_infer::Error>();
}
