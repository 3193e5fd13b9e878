//! Bad model files: each gives a typed error that names the model (and the node, operator or
//! weight) with a help line, and none of them takes down the model already running in a slot.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sentio_infer::onnx::{Attr, Dim, GraphBuilder, SplitMix64};
use sentio_infer::{Error, ErrorKind, LoadOptions, Model, ModelSlot, conformance};
use sentio_models::{
    DType, Figures, InputSpec, LabelSpec, Manifest, Precision, Preprocessing, Task,
};
use tract_onnx::pb::tensor_proto::DataType;

fn case(name: &str) -> conformance::Case {
    conformance::cases()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap()
}

fn manifest(name: &str, shape: &[usize], labels: &[&str]) -> Manifest {
    Manifest::new(
        name,
        "1.0.0",
        Task::Custom,
        LabelSpec::new("test", labels),
        InputSpec {
            shape: shape.to_vec(),
            dtype: DType::F32,
            preprocessing: Preprocessing::none(),
            extra: Figures::new(),
        },
        Precision::F32,
    )
}

/// A one-conv model whose weight is `w` (8 values, shape [2, 1, 2, 2]).
fn conv_with_weights(w: &[f32]) -> Vec<u8> {
    let mut g = GraphBuilder::new("w");
    g.input("x", &[1, 1, 4, 4])
        .initializer("conv.weight", &[2, 1, 2, 2], w)
        .node("Conv", &["x", "conv.weight"], &["y"], &[])
        .output("y", &[1, 2, 3, 3]);
    g.to_bytes()
}

fn relu(input_shape: &[Dim]) -> Vec<u8> {
    let mut g = GraphBuilder::new("relu");
    g.input_typed("x", DataType::Float, input_shape)
        .node("Relu", &["x"], &["y"], &[])
        .output("y", &[1]);
    g.to_bytes()
}

/// Loads `bytes` as model `bad`, expects `kind`, checks the message names the model and holds
/// every one of `needles`, and that there is a help line. Returns the error.
fn expect(bytes: &[u8], options: LoadOptions, kind: ErrorKind, needles: &[&str]) -> Error {
    let err = Model::load(bytes, &options.name("bad")).expect_err("the model must be refused");
    let text = err.to_string();
    assert_eq!(err.kind(), kind, "{text}");
    assert_eq!(err.model(), "bad");
    assert!(text.starts_with("model `bad`: "), "{text}");
    for n in needles {
        assert!(text.contains(n), "`{n}` not in: {text}");
    }
    assert!(err.help().len() > 20, "no help for {text}");
    err
}

/// What is wrong, the file, how it is loaded, the error kind, what the message must say.
type BadCase = (
    &'static str,
    Vec<u8>,
    LoadOptions,
    ErrorKind,
    Vec<&'static str>,
);

/// Every bad case.
fn bad_cases() -> Vec<BadCase> {
    let good = case("mini_cnn").model;
    let conv = case("conv").model;
    let softmax = case("softmax").model;
    let mut rng = SplitMix64::new(42);
    let random: Vec<u8> = (0..4096).map(|_| rng.next_u64() as u8).collect();

    let mut unsupported = GraphBuilder::new("u");
    unsupported
        .input("x", &[1, 4])
        .node("Relu", &["x"], &["r"], &[])
        .node("FancyActivation", &["r"], &["y"], &[])
        .output("y", &[1]);

    let mut vendor = GraphBuilder::new("v");
    vendor
        .input("x", &[1, 4])
        .node_in_domain("com.microsoft", "QGemm", &["x"], &["y"], &[])
        .output("y", &[1]);

    let mut two_inputs = GraphBuilder::new("two");
    two_inputs
        .input("a", &[1, 4])
        .input("b", &[1, 4])
        .node("Add", &["a", "b"], &["y"], &[])
        .output("y", &[1]);

    let mut no_input = GraphBuilder::new("none");
    no_input
        .initializer("c", &[1, 4], &[1.0, 2.0, 3.0, 4.0])
        .node("Relu", &["c"], &["y"], &[])
        .output("y", &[1]);

    let mut int_input = GraphBuilder::new("int");
    int_input
        .input_typed("ids", DataType::Int64, &[Dim::Fixed(1), Dim::Fixed(4)])
        .node("Cast", &["ids"], &["y"], &[("to", Attr::Int(1))])
        .output("y", &[1]);

    // Conv weight for 5 input channels on a 3-channel input: tract's analysis rejects it.
    let mut bad_conv = GraphBuilder::new("badconv");
    bad_conv
        .input("x", &[1, 3, 8, 8])
        .initializer("w", &[4, 5, 3, 3], &[0.1; 180])
        .node("Conv", &["x", "w"], &["y"], &[])
        .output("y", &[1]);

    // log(0) = -inf: loads, but the smoke run on a zero input fails.
    let mut log = GraphBuilder::new("log");
    log.input("x", &[1, 4])
        .node("Log", &["x"], &["y"], &[])
        .output("y", &[1]);

    let mut nan = vec![0.5; 8];
    nan[5] = f32::NAN;
    let mut inf = vec![0.5; 8];
    inf[2] = f32::INFINITY;
    inf[3] = f32::NEG_INFINITY;

    let o = LoadOptions::new;
    vec![
        ("empty file", vec![], o(), ErrorKind::Empty, vec!["empty"]),
        (
            "truncated file",
            good[..good.len() / 2].to_vec(),
            o(),
            ErrorKind::Corrupt,
            vec!["not a valid ONNX file", "bytes"],
        ),
        (
            "truncated by one byte",
            good[..good.len() - 1].to_vec(),
            o(),
            ErrorKind::Corrupt,
            vec!["not a valid ONNX file"],
        ),
        (
            "random bytes",
            random,
            o(),
            ErrorKind::Corrupt,
            vec!["not a valid ONNX file (4096 bytes)"],
        ),
        (
            "a text file",
            b"version: 1\nlabels: [a, b]\n".to_vec(),
            o(),
            ErrorKind::Corrupt,
            vec!["not a valid ONNX file"],
        ),
        (
            "unsupported operator",
            unsupported.to_bytes(),
            o(),
            ErrorKind::UnsupportedOperator,
            vec!["node `fancyactivation_1`", "operator `FancyActivation`"],
        ),
        (
            "vendor-domain operator",
            vendor.to_bytes(),
            o(),
            ErrorKind::UnsupportedOperator,
            vec!["`QGemm`", "domain `com.microsoft`"],
        ),
        (
            "input shape differs from the manifest",
            conv.clone(),
            o().manifest(&manifest("conv", &[1, 1, 48, 48], &[])),
            ErrorKind::ShapeMismatch,
            vec![
                "[1, 3, 16, 16] in the model",
                "[1, 1, 48, 48] in the manifest",
            ],
        ),
        (
            "input rank differs from the manifest",
            conv.clone(),
            o().manifest(&manifest("conv", &[3, 16, 16], &[])),
            ErrorKind::ShapeMismatch,
            vec!["[3, 16, 16] in the manifest"],
        ),
        (
            "explicit shape differs from the model",
            conv,
            o().shape(&[1, 3, 32, 32]),
            ErrorKind::ShapeMismatch,
            vec!["in the explicit shape"],
        ),
        (
            "NaN weight",
            conv_with_weights(&nan),
            o(),
            ErrorKind::NonFiniteWeights,
            vec!["weight `conv.weight` holds NaN at index 5", "1 non-finite"],
        ),
        (
            "infinite weights",
            conv_with_weights(&inf),
            o(),
            ErrorKind::NonFiniteWeights,
            vec!["holds inf at index 2", "2 non-finite"],
        ),
        (
            "two inputs",
            two_inputs.to_bytes(),
            o(),
            ErrorKind::TooManyInputs,
            vec!["2 inputs (a, b)"],
        ),
        (
            "no input",
            no_input.to_bytes(),
            o(),
            ErrorKind::NoInput,
            vec!["no input"],
        ),
        (
            "zero-size dimension in the model",
            relu(&[Dim::Fixed(1), Dim::Fixed(0), Dim::Fixed(4)]),
            o(),
            ErrorKind::InvalidShape,
            vec!["[1, 0, 4]", "dimension of 0"],
        ),
        (
            "zero-size dimension in the manifest",
            relu(&[Dim::from("N"), Dim::from("C")]),
            o().manifest(&manifest("relu", &[1, 0], &[])),
            ErrorKind::InvalidShape,
            vec!["at least 1"],
        ),
        (
            "symbolic dimension and no shape given",
            relu(&[Dim::from("N"), Dim::from("C")]),
            o(),
            ErrorKind::InvalidShape,
            vec!["dimension 1 is symbolic"],
        ),
        (
            "manifest label count differs from the output size",
            softmax,
            o().manifest(&manifest(
                "softmax",
                &[1, 20],
                &["a", "b", "c", "d", "e", "f", "g"],
            )),
            ErrorKind::LabelMismatch,
            vec!["7 labels", "output `y` has 8 classes"],
        ),
        (
            "integer input",
            int_input.to_bytes(),
            o(),
            ErrorKind::UnsupportedInputType,
            vec!["input `ids` is Int64"],
        ),
        (
            "tract rejects a node",
            bad_conv.to_bytes(),
            o(),
            ErrorKind::Optimize,
            vec!["conv_0"],
        ),
        (
            "non-finite output on the smoke run",
            log.to_bytes(),
            o(),
            ErrorKind::SmokeRun,
            vec!["output `y` holds -inf"],
        ),
    ]
}

#[test]
fn every_bad_model_gives_a_clear_error() {
    let cases = bad_cases();
    assert!(cases.len() >= 10);
    for (what, bytes, options, kind, needles) in cases {
        let err = expect(&bytes, options, kind, &needles);
        // What the binaries print for it (plain): the message, then the help line.
        let report = sentio_diagnostics::Report::new(err);
        let shown = sentio_diagnostics::render("sentio", &report, sentio_diagnostics::Style::Plain);
        assert!(
            shown.contains("\n  help: "),
            "{what}: no help line: {shown}"
        );
        println!("{what}: {shown}");
    }
}

#[test]
fn a_missing_file_is_an_io_error_naming_the_path() {
    let err = Model::load_path("/nonexistent/fer.onnx", &LoadOptions::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert_eq!(err.model(), "fer");
    assert!(err.to_string().contains("/nonexistent/fer.onnx"), "{err}");
}

#[test]
fn a_bad_model_leaves_the_previous_model_running() {
    let good = case("mini_cnn");
    let mut slot = ModelSlot::new();
    let options = LoadOptions::new().manifest(&manifest(
        "emoji",
        &good.input_shape,
        &["a", "b", "c", "d", "e", "f", "g", "h"],
    ));
    slot.load(&good.model, &options).unwrap();
    let before = slot.model_mut().unwrap().run(&good.input).unwrap().tensors;
    let sha = slot.model().unwrap().sha256();
    for (what, bytes, options, kind, _) in bad_cases() {
        let err = slot.load(&bytes, &options).expect_err(what);
        assert_eq!(err.kind(), kind, "{what}");
        let model = slot.model_mut().unwrap();
        assert_eq!(model.sha256(), sha, "{what} replaced the running model");
        assert_eq!(model.name(), "emoji");
        assert_eq!(
            model.run(&good.input).unwrap().tensors,
            before,
            "after {what}"
        );
    }
    assert_eq!(slot.swaps(), 1);
    // A good model still swaps in.
    let other = case("softmax");
    slot.load(&other.model, &LoadOptions::new().name("softmax"))
        .unwrap();
    assert_eq!(slot.model().unwrap().name(), "softmax");
    assert_eq!(slot.swaps(), 2);
}

#[test]
fn a_wrong_input_length_is_refused_and_the_model_keeps_working() {
    let c = case("conv");
    let mut model = Model::load(&c.model, &LoadOptions::new().name("conv")).unwrap();
    let err = model.run(&[0.0; 10]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InputLength);
    assert!(
        err.to_string()
            .contains("10 values but shape [1, 3, 16, 16] needs 768"),
        "{err}"
    );
    assert!(model.run(&c.input).is_ok());
}

/// Found by the `onnx_model` fuzz target (fuzz/fuzz_targets/onnx_model.rs): a Relu graph whose
/// output is `y` while the node writes `d` (one byte of the seed changed). tract-onnx looked `y`
/// up with an index and panicked ("no entry found for key") instead of returning an error.
#[test]
fn a_graph_output_nothing_produces_is_refused_not_a_panic() {
    const BYTES: [u8; 72] = [
        0x08, 0x08, 0x3a, 0x3e, 0x0a, 0x0c, 0x0a, 0x01, 0x78, 0x12, 0x01, 0x64, 0x22, 0x04, 0x52,
        0x65, 0x6c, 0x75, 0x12, 0x04, 0x72, 0x65, 0x6c, 0x75, 0x5a, 0x13, 0x0a, 0x01, 0x78, 0x12,
        0x0e, 0x0a, 0x0c, 0x08, 0x01, 0x12, 0x08, 0x0a, 0x02, 0x08, 0x01, 0x0a, 0x02, 0x08, 0x04,
        0x62, 0x13, 0x0a, 0x01, 0x79, 0x12, 0x0e, 0x0a, 0x0c, 0x08, 0x01, 0x12, 0x08, 0x0a, 0x02,
        0x08, 0x01, 0x0a, 0x02, 0x08, 0x04, 0x42, 0x04, 0x0a, 0x00, 0x10, 0x0d,
    ];
    let err = expect(
        &BYTES,
        LoadOptions::new(),
        ErrorKind::UndefinedOutput,
        &["output `y`", "no node"],
    );
    assert!(err.help().contains("re-export"), "{}", err.help());
    // The same through the builder: the output names a value no node writes.
    let mut g = GraphBuilder::new("dangling");
    g.input("x", &[1, 4])
        .node("Relu", &["x"], &["d"], &[])
        .output("y", &[1, 4]);
    expect(
        &g.to_bytes(),
        LoadOptions::new(),
        ErrorKind::UndefinedOutput,
        &["`y`"],
    );
}

/// Found by the `onnx_model` fuzz target: the tiny Gemm + Softmax seed with its bias initializer
/// retyped to STRING (data_type 8) while still holding raw bytes. tract-onnx reached
/// `unimplemented!("FIXME, raw tensor loading")` (a panic) while loading it.
#[test]
fn a_raw_string_initializer_is_refused_not_a_panic() {
    const BYTES: [u8; 203] = [
        0x08, 0x08, 0x3a, 0xc0, 0x01, 0x0a, 0x12, 0x0a, 0x01, 0x78, 0x0a, 0x01, 0x67, 0x0a, 0x01,
        0x62, 0x12, 0x01, 0x68, 0x22, 0x04, 0x47, 0x65, 0x6d, 0x6d, 0x0a, 0x1c, 0x0a, 0x01, 0x68,
        0x12, 0x01, 0x79, 0x22, 0x07, 0x53, 0x6f, 0x66, 0x74, 0x6d, 0x61, 0x78, 0x2a, 0x0b, 0x0a,
        0x04, 0x61, 0x78, 0x6b, 0x73, 0x18, 0x01, 0xa0, 0x01, 0x02, 0x12, 0x0c, 0x67, 0x65, 0x6d,
        0x6d, 0x5f, 0x73, 0x6f, 0x66, 0x74, 0x6d, 0x61, 0x78, 0x2a, 0x3b, 0x08, 0x04, 0x08, 0x03,
        0x10, 0x01, 0x42, 0x01, 0x67, 0x4a, 0x30, 0xfe, 0x27, 0x34, 0xbf, 0x55, 0xf9, 0xa1, 0xbf,
        0xea, 0x8e, 0x1f, 0xbf, 0x6e, 0x45, 0x29, 0x3d, 0x4e, 0xcd, 0x14, 0xc0, 0xec, 0x0a, 0xe1,
        0xbe, 0x03, 0x7a, 0x9f, 0xbf, 0xe0, 0x75, 0x3b, 0xbf, 0x8f, 0x54, 0x0b, 0xbf, 0x18, 0xf2,
        0xa1, 0xbe, 0x3d, 0xd2, 0xc1, 0x3e, 0x14, 0x71, 0x85, 0x3f, 0x2a, 0x15, 0x08, 0x03, 0x10,
        0x08, 0x42, 0x01, 0x62, 0x4a, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x05, 0x5a, 0x14, 0x0a, 0x01, 0x78, 0x12, 0x0f, 0x0a, 0x0d, 0x08, 0x01, 0x12,
        0x09, 0x0a, 0x03, 0x12, 0x01, 0x4e, 0x0a, 0x02, 0x08, 0x04, 0x62, 0x14, 0x0a, 0x01, 0x79,
        0x12, 0x0f, 0x0a, 0x0d, 0x08, 0x01, 0x12, 0x09, 0x0a, 0x03, 0x12, 0x01, 0x4e, 0x0a, 0x02,
        0x08, 0x03, 0x42, 0x04, 0x0a, 0x00, 0x10, 0x0d,
    ];
    let err = expect(
        &BYTES,
        LoadOptions::new(),
        ErrorKind::UnsupportedTensorType,
        &["`b`", "STRING"],
    );
    assert!(err.help().contains("re-export"), "{}", err.help());
}
