//! `sentio baseline` as a user runs it: the five classical models and the shipped CNN on the same
//! test images of a small procedural emoji set, in one table.

mod common;

use common::{ok, s, sentio, zoo_emoji};
use serde_json::Value;

#[test]
fn baselines_and_the_cnn_share_one_table() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    sentio_data::synth::emoji(&data, 20, 5, &mut |_, _| {}).unwrap();
    let model = zoo_emoji();
    let doc: Value = serde_json::from_str(&ok(sentio(&[
        "baseline",
        "--data",
        s(&data),
        "--model",
        s(&model),
        "--json",
    ])))
    .unwrap();
    let results = doc["results"].as_array().unwrap();
    let names: Vec<&str> = results
        .iter()
        .map(|r| r["model"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 5, "{names:?}");
    // 2 of 20 per class in the test part.
    assert_eq!(doc["test"], 16);
    assert_eq!(doc["features"], 1764);
    for r in results {
        let a = r["accuracy"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&a), "{r}");
    }
    let cnn = &doc["reference"][0];
    assert!(cnn["name"].as_str().unwrap().contains("CNN"), "{cnn}");
    // The trained CNN is far above chance (12.5%) on these 16 drawings.
    assert!(cnn["accuracy"].as_f64().unwrap() >= 0.6, "{cnn}");

    // The markdown table has the five rows and the CNN's.
    let md = ok(sentio(&[
        "baseline",
        "--data",
        s(&data),
        "--model",
        s(&model),
    ]));
    assert!(md.contains("| Gradient boosting |"), "{md}");
    assert!(md.contains("| **CNN ("), "{md}");
}

#[test]
fn baseline_refuses_an_empty_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let out = sentio(&["baseline", "--data", s(tmp.path())]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no label folders"), "{stderr}");
}
