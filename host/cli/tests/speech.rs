//! The speech tools as a user runs them on a speech folder: `sentio train ser`, then `sentio eval`
//! and `sentio baseline` on the same held-out speakers, which must see exactly the clips and the
//! features the training run saw.

mod common;

use common::{ok, s, sentio};
use serde_json::Value;

#[test]
fn train_ser_then_eval_and_baseline_agree_on_the_held_out_speakers() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("speech");
    // 8 speakers x 8 classes x 1 clip; 15% of the speakers -> one speaker validates, one tests.
    sentio_data::synth::tones(&data, sentio_models::SER8.labels, 8, 1, 3).unwrap();
    let out = tmp.path().join("ser");
    let printed = ok(sentio(&[
        "train",
        "ser",
        "--data",
        s(&data),
        "--out",
        s(&out),
        "--epochs",
        "2",
        "--seed",
        "7",
        "--json",
    ]));
    // --json: a start line, one line per epoch, a done line; nothing else on stdout.
    let lines: Vec<Value> = printed
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["start", "epoch", "epoch", "done"], "{printed}");
    let done = &lines[3];
    assert_eq!(done["test_examples"], 8, "{done}");
    assert!(done["test_accuracy"].is_f64(), "{done}");
    assert!(lines[1]["val_accuracy"].is_f64(), "{printed}");
    for file in ["model.onnx", "manifest.json", "report.md", "curves.png"] {
        assert!(out.join(file).exists(), "{file} missing");
    }
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let trained_accuracy = manifest["eval"]["accuracy"].as_f64().unwrap();
    let test_speakers = manifest["training"]["split"]["test_speakers"].clone();
    assert_eq!(
        test_speakers.as_array().unwrap().len(),
        1,
        "{test_speakers}"
    );

    // `sentio eval` rebuilds the features from the manifest and picks the same test speaker.
    let model = out.join("model.onnx");
    let eval: Value = serde_json::from_str(&ok(sentio(&[
        "eval",
        s(&model),
        "--data",
        s(&data),
        "--split",
        "test",
        "--seed",
        "7",
        "--json",
    ])))
    .unwrap();
    let examples = eval["examples"].as_array().unwrap();
    assert_eq!(examples.len(), 8);
    let speaker = test_speakers[0]
        .as_str()
        .unwrap()
        .trim_start_matches("ravdess-");
    for e in examples {
        let source = e["source"].as_str().unwrap();
        assert!(
            source.ends_with(&format!("-{speaker}.wav")),
            "{source} is not the test speaker's"
        );
    }
    let eval_accuracy = eval["accuracy"].as_f64().unwrap();
    assert!(
        (eval_accuracy - trained_accuracy).abs() < 1e-3,
        "eval {eval_accuracy} vs training run {trained_accuracy}"
    );

    // The baselines on utterance summaries of the same clips, with the model in the table.
    let table: Value = serde_json::from_str(&ok(sentio(&[
        "baseline",
        "--data",
        s(&data),
        "--seed",
        "7",
        "--model",
        s(&model),
        "--json",
    ])))
    .unwrap();
    assert_eq!(table["test"], 8);
    assert_eq!(table["features"], 2 * 117);
    assert_eq!(table["results"].as_array().unwrap().len(), 5);
    let cnn = &table["reference"][0];
    assert!(
        (cnn["accuracy"].as_f64().unwrap() - eval_accuracy).abs() < 1e-6,
        "{cnn}"
    );
    // Pure tones of distinct pitches: some classical model gets most of them on an unheard voice.
    let best = table["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["accuracy"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert!(best >= 0.75, "{table}");

    // An image model on the speech folder is refused with what to do.
    let emoji = common::zoo_emoji();
    let out = sentio(&["eval", s(&emoji), "--data", s(&data)]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not one of the model's") || stderr.contains("speech features"),
        "{stderr}"
    );
}
