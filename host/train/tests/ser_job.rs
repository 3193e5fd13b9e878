//! The `ser` job on a small WAV folder written here: clips are read with `AudioFolder`, turned
//! into features by `sentio-audio`, split by speaker, trained, evaluated in tract and written
//! with a manifest that records the feature config, the window and the network's pooling.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;

use sentio_audio::FeatureConfig;
use sentio_infer::{LoadOptions, Model};
use sentio_models::Manifest;
use sentio_models::labels::SER8;
use sentio_train::ser::Pooling;
use sentio_train::ser::job::{SerOptions, train_ser};
use sentio_train::{ErrorKind, NoProgress, SerConfig, SerInput, TrainOptions};

/// `per_speaker` clips of each ser8 class by each of `speakers` speakers, RAVDESS-named: a tone
/// whose pitch is set by the class between stretches of faint noise.
fn write_folder(dir: &Path, speakers: usize, per_speaker: usize) {
    sentio_data::synth::tones(dir, SER8.labels, speakers, per_speaker, 11).unwrap();
}

fn options(data: &Path, out: &Path) -> SerOptions {
    let mut o = SerOptions::new(data, out);
    o.input = SerInput {
        features: FeatureConfig::default(),
        frames: 40,
        trim_silence: true,
    };
    o.network = SerConfig {
        frames: 40,
        dims: 117,
        filters: vec![8, 8],
        kernel: 3,
        hidden: 12,
        dropout: 0.1,
        classes: 8,
        pooling: Pooling::LastAndStats,
        head: 0,
    };
    o.train = TrainOptions {
        epochs: 3,
        batch: 16,
        learning_rate: 5e-3,
        patience: 0,
        seed: 3,
        ..TrainOptions::default()
    };
    o.val_fraction = 0.25;
    o.test_fraction = 0.25;
    o
}

#[test]
fn a_ser_job_splits_by_speaker_and_writes_model_manifest_and_report() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    write_folder(data.path(), 4, 2);
    let opts = options(data.path(), out.path());
    let report = train_ser(&opts, &mut NoProgress).unwrap();

    // 64 clips of 4 speakers: 2 speakers train, 1 validates, 1 is the test.
    assert_eq!(report.split, [32, 16, 16]);
    assert_eq!(report.confusion.iter().flatten().sum::<usize>(), 16);
    assert!(report.export_max_diff < 1e-4, "{}", report.export_max_diff);
    assert_eq!(report.history.epochs.len(), 3);
    for file in [
        "model.onnx",
        "manifest.json",
        "history.json",
        "curves.png",
        "report.md",
        "report.json",
        "confusion.png",
    ] {
        assert!(out.path().join(file).exists(), "{file} missing");
    }

    let manifest =
        Manifest::from_slice(&std::fs::read(out.path().join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest.labels.set, "ser8");
    assert_eq!(manifest.input.shape, vec![1, 40, 117]);
    let pre = &manifest.input.preprocessing;
    assert_eq!(pre.frames, Some(40));
    assert_eq!(pre.sample_rate, Some(16_000));
    let features: FeatureConfig = serde_json::from_value(pre.extra["features"].clone()).unwrap();
    assert_eq!(features, opts.input.features);
    assert_eq!(pre.extra["trim_silence"], true);
    // The network is recorded with its pooling, so the manifest says what the graph computes.
    let network = &manifest.training.as_ref().unwrap()["network"];
    assert_eq!(network["config"]["pooling"], "last_and_stats");
    let graph = network["graph"].as_str().unwrap();
    assert!(graph.contains("lstm last hidden, mean and std"), "{graph}");
    let split = &manifest.training.as_ref().unwrap()["split"];
    let names = |k: &str| -> BTreeSet<String> { serde_json::from_value(split[k].clone()).unwrap() };
    let (train, val, test) = (
        names("train_speakers"),
        names("val_speakers"),
        names("test_speakers"),
    );
    assert_eq!((train.len(), val.len(), test.len()), (2, 1, 1));
    assert!(train.is_disjoint(&test) && train.is_disjoint(&val) && val.is_disjoint(&test));
    assert!(test.iter().all(|s| s.starts_with("ravdess-")), "{test:?}");

    // What ships runs in tract at the manifest's shape and gives a distribution.
    let onnx = std::fs::read(out.path().join("model.onnx")).unwrap();
    assert_eq!(manifest.model_sha256, sentio_models::sha256(&onnx));
    let mut model = Model::load(&onnx, &LoadOptions::new().shape(&[1, 40, 117])).unwrap();
    let p = model.run(&vec![-20.0; 40 * 117]).unwrap().tensors[0]
        .data
        .clone();
    assert_eq!(p.len(), 8);
    assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    let eval = manifest.eval.as_ref().unwrap();
    assert_eq!(eval["clips"], 16);
    let report_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(report_json["examples"].as_array().unwrap().len(), 16);
}

#[test]
fn a_ser_job_refuses_mismatched_shapes_and_missing_classes() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut opts = options(data.path(), out.path());
    opts.network.frames = 41;
    let err = train_ser(&opts, &mut NoProgress).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Input, "{err}");
    assert!(err.to_string().contains("frames x dims"), "{err}");

    // A folder with one class missing.
    write_folder(data.path(), 2, 1);
    std::fs::remove_dir_all(data.path().join("surprised")).unwrap();
    let err = train_ser(&options(data.path(), out.path()), &mut NoProgress).unwrap_err();
    assert!(err.to_string().contains("surprised"), "{err}");
}
