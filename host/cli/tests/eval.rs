//! `sentio eval` as a user runs it: the shipped emoji model (models/zoo/emoji) on fresh procedural
//! drawings, and the refusals.

mod common;

use common::{ok, s, sentio, zoo_emoji};
use serde_json::Value;

#[test]
fn eval_the_shipped_emoji_model_on_fresh_drawings() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, report) = (tmp.path().join("data"), tmp.path().join("report"));
    // A seed the model was not trained on: 10 drawings per class.
    sentio_data::synth::emoji(&data, 10, 9001, &mut |_, _| {}).unwrap();
    let model = zoo_emoji();
    let out = sentio(&[
        "eval",
        s(&model),
        "--data",
        s(&data),
        "--report",
        s(&report),
        "--json",
    ]);
    let doc: Value = serde_json::from_str(&ok(out)).unwrap();
    assert_eq!(doc["examples"].as_array().unwrap().len(), 80);
    assert_eq!(doc["labels"][5], "winking");
    // A broken preprocessing (inverted, unscaled, transposed) lands near chance (12.5%).
    let accuracy = doc["accuracy"].as_f64().unwrap();
    assert!(accuracy > 0.7, "accuracy {accuracy}");
    for row in doc["confusion"].as_array().unwrap() {
        let total: u64 = row
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(total, 10);
    }
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(md.contains("| heart_eyes |"), "{md}");
    assert!(md.contains("## Confusion matrix"), "{md}");
    for png in ["confusion.png", "worst.png"] {
        let img = image::open(report.join(png)).unwrap();
        assert!(img.width() > 200 && img.height() > 100, "{png}");
    }

    // The test part of the split sentio train makes: 1 of 10 per class.
    let out = sentio(&[
        "eval",
        s(&model),
        "--data",
        s(&data),
        "--split",
        "test",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["examples"].as_array().unwrap().len(), 8);
    assert!(
        doc["data"].as_str().unwrap().contains("test part"),
        "{}",
        doc["data"]
    );
}

#[test]
fn eval_refuses_labels_the_model_does_not_know_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, report) = (tmp.path().join("data"), tmp.path().join("report"));
    std::fs::create_dir_all(data.join("cats")).unwrap();
    image::GrayImage::new(64, 64)
        .save(data.join("cats").join("a.png"))
        .unwrap();
    let out = sentio(&[
        "eval",
        s(&zoo_emoji()),
        "--data",
        s(&data),
        "--report",
        s(&report),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("cats") && stderr.contains("winking"),
        "{stderr}"
    );
    assert!(!report.exists());

    // An image that does not decode is named.
    std::fs::remove_dir_all(data.join("cats")).unwrap();
    std::fs::create_dir_all(data.join("angry")).unwrap();
    std::fs::write(data.join("angry").join("broken.png"), b"not a png").unwrap();
    let out = sentio(&["eval", s(&zoo_emoji()), "--data", s(&data)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("broken.png"), "{stderr}");
}
