//! `train_emoji` end to end on a small procedural emoji folder (a quick smoke run), and the full
//! run (ignored: `cargo test -p sentio-train --test emoji -- --ignored --nocapture`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use sentio_models::Manifest;
use sentio_models::labels::EMOJI8;
use sentio_train::{EmojiOptions, ErrorKind, NoProgress, TrainOptions, train_emoji};

fn generate(dir: &Path, per_class: usize, seed: u64) {
    sentio_data::synth::emoji(dir, per_class, seed, &mut |_, _| {}).unwrap();
}

#[test]
fn emoji_smoke_run_writes_an_emoji8_model() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("out"));
    generate(&data, 10, 1);
    let mut options = EmojiOptions::new(&data, &out);
    options.train = TrainOptions {
        epochs: 1,
        batch: 16,
        ..TrainOptions::default()
    };
    let report = train_emoji(&options, &mut NoProgress).unwrap();
    assert_eq!(report.split.iter().sum::<usize>(), 80);
    assert!(report.export_max_diff < 1e-4);
    let manifest =
        Manifest::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest.labels.set, "emoji8");
    assert_eq!(manifest.labels.labels, EMOJI8.labels);
    assert_eq!(manifest.input.shape, vec![1, 1, 64, 64]);
    assert_eq!(manifest.task, sentio_models::Task::Emoji);
    let training = manifest.training.unwrap();
    assert_eq!(training["per_class"]["heart_eyes"], 10);
    assert!(training["generator"].as_str().unwrap().contains("emoji"));

    // A folder whose labels are not emoji8 is refused with the label named.
    let other = tmp.path().join("other");
    std::fs::create_dir_all(other.join("cats")).unwrap();
    image::GrayImage::new(64, 64)
        .save(other.join("cats").join("a.png"))
        .unwrap();
    let err = train_emoji(&EmojiOptions::new(&other, &out), &mut NoProgress).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Input);
    assert!(err.to_string().contains("cats"), "{err}");
}

/// The shipped model: 500 images per class, the default options. Writes to
/// `$SENTIO_EMOJI_OUT` (default: a temporary directory) and asserts >= 97% test accuracy.
#[test]
#[ignore = "full training run (several minutes); see models/zoo/emoji/README.md"]
fn emoji_full_run_reaches_97_percent() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    generate(&data, 500, 42);
    let out = std::env::var_os("SENTIO_EMOJI_OUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().join("out"));
    struct Log;
    impl sentio_train::TrainProgress for Log {
        fn epoch_end(&mut self, r: &sentio_train::EpochRecord) {
            eprintln!("{r:?}");
        }
        fn stage(&mut self, text: &str) {
            eprintln!("{text}");
        }
    }
    let started = std::time::Instant::now();
    let report = train_emoji(&EmojiOptions::new(&data, &out), &mut Log).unwrap();
    eprintln!(
        "wall time with data generation: {:.0} s",
        started.elapsed().as_secs_f32()
    );
    eprintln!(
        "test accuracy {:.4}, {} epochs, {:.0} s",
        report.test_accuracy,
        report.history.epochs.len(),
        report.seconds
    );
    assert!(report.test_accuracy >= 0.97, "{}", report.test_accuracy);
}
