//! `train_anp` end to end: one epoch on a tiny generated scene set, the export run in tract
//! (quick); and the shipped recipe (ignored: `cargo test --workspace --test anp -- --ignored
//! --nocapture`, see models/zoo/anp/README.md).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use sentio_infer::{LoadOptions, Model};
use sentio_models::{ANP32, Manifest, Task};
mod common;

use sentio_train::{
    AnpConfig, AnpOptions, EpochRecord, ErrorKind, LrSchedule, NoProgress, TrainOptions,
    TrainProgress, train_anp,
};

fn generate(dir: &Path, per_class: usize, seed: u64) {
    sentio_data::synth::scenes::generate(dir, per_class, seed, &mut |_, _| {}).unwrap();
}

/// The test's small tagger (32x32, the loader resizes) and a few quick epochs.
fn tiny_options(data: &Path, out: &Path, epochs: usize) -> AnpOptions {
    let mut options = AnpOptions::new(data, out);
    options.network = AnpConfig {
        side: 32,
        stem: 4,
        blocks: vec![8, 8],
        pooled: 1,
        ..AnpConfig::anp32()
    };
    options.train = TrainOptions {
        epochs,
        batch: 8,
        schedule: LrSchedule::Constant,
        ..TrainOptions::image_recipe(2, 1e-3)
    };
    options.val_fraction = 0.2;
    options.test_fraction = 0.2;
    options
}

#[test]
fn one_epoch_on_a_tiny_set_exports_a_tagger_tract_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("out"));
    generate(&data, 6, 3);
    // A small network keeps this test to a few seconds.
    let options = tiny_options(&data, &out, 1);
    let report = train_anp(&options, &mut NoProgress).unwrap();
    assert_eq!(report.split.iter().sum::<usize>(), 48);
    assert!(report.export_max_diff < 1e-4, "{}", report.export_max_diff);
    assert_eq!(report.history.epochs.len(), 1);
    assert_eq!(report.test.images, report.split[2]);
    assert_eq!(report.test.per_label.len(), 32);
    for name in [
        "model.onnx",
        "manifest.json",
        "report.md",
        "report.json",
        "history.json",
        "curves.png",
    ] {
        assert!(out.join(name).is_file(), "{name} missing");
    }

    // The exported model in tract: input [1, 3, 32, 32], output [1, 32] of probabilities.
    let mut model = Model::load_path(out.join("model.onnx"), &LoadOptions::new()).unwrap();
    assert_eq!(model.input_shape(), &[1, 3, 32, 32]);
    assert_eq!(model.output_shapes()[0], vec![1, 32]);
    for fill in [0.0f32, 0.5, 1.0] {
        let outputs = model.run(&vec![fill; 3 * 32 * 32]).unwrap();
        let probabilities = &outputs.tensors[0].data;
        assert_eq!(probabilities.len(), 32);
        assert!(
            probabilities.iter().all(|p| (0.0..=1.0).contains(p)),
            "{probabilities:?}"
        );
    }

    let manifest =
        Manifest::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest.task, Task::Anp);
    assert_eq!(manifest.labels.set, "anp32");
    assert_eq!(manifest.labels.labels, ANP32.labels);
    assert_eq!(manifest.labels.extra["multi_label"], true);
    assert_eq!(manifest.input.shape, vec![1, 3, 32, 32]);
    assert_eq!(manifest.input.preprocessing.kind, "rgb");
    assert_eq!(
        manifest.model_sha256,
        sentio_models::sha256(&std::fs::read(out.join("model.onnx")).unwrap())
    );
    let training = manifest.training.unwrap();
    assert_eq!(training["loss"], "binary_cross_entropy");
    assert!(training["generator"].as_str().unwrap().contains("scenes"));
    let eval = manifest.eval.unwrap();
    for key in ["top1_precision", "top5_recall", "mean_average_precision"] {
        let v = eval[key].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&v), "{key} {v}");
    }

    // A folder that is not a scene set is refused, naming the missing label file.
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let err = train_anp(&AnpOptions::new(&empty, &out), &mut NoProgress).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Input);
    assert!(err.to_string().contains("labels.jsonl"), "{err}");
    assert!(
        err.help().contains("sentio data synth scenes"),
        "{}",
        err.help()
    );
}

#[test]
fn an_interrupted_run_resumes_from_its_checkpoint_to_the_same_model() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    generate(&data, 4, 5);
    let (whole, part) = (tmp.path().join("whole"), tmp.path().join("part"));
    let uninterrupted = train_anp(&tiny_options(&data, &whole, 2), &mut NoProgress).unwrap();

    let stopped = train_anp(&tiny_options(&data, &part, 2), &mut common::StopAfter(1)).unwrap();
    assert!(stopped.history.interrupted);
    assert_eq!(stopped.history.epochs.len(), 1);
    assert!(part.join("checkpoint").is_dir());
    let mut rest = tiny_options(&data, &part, 2);
    rest.train.resume = true;
    // Only the second epoch runs again.
    struct Epochs(Vec<usize>);
    impl TrainProgress for Epochs {
        fn epoch_end(&mut self, record: &EpochRecord) {
            self.0.push(record.epoch);
        }
    }
    let mut ran = Epochs(Vec::new());
    let resumed = train_anp(&rest, &mut ran).unwrap();
    assert_eq!(ran.0, vec![2]);
    assert_eq!(resumed.history.epochs.len(), 2);
    assert_eq!(resumed.history.best_epoch, uninterrupted.history.best_epoch);
    let onnx = |out: &Path| std::fs::read(out.join("model.onnx")).unwrap();
    assert!(onnx(&part) == onnx(&whole), "the resumed model differs");
}

/// The shipped model: `sentio data synth scenes --per-class 500 --seed 42`, the default
/// options. Writes to `$SENTIO_ANP_OUT` (default: a temporary directory) and asserts the
/// recipe's figures on the test split, through tract.
#[test]
#[ignore = "full training run (about five minutes); see models/zoo/anp/README.md"]
fn anp_full_run_reaches_the_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let data = std::env::var_os("SENTIO_ANP_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let data = tmp.path().join("data");
            generate(&data, 500, 42);
            data
        });
    let out = std::env::var_os("SENTIO_ANP_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().join("out"));
    struct Log;
    impl TrainProgress for Log {
        fn epoch_end(&mut self, r: &EpochRecord) {
            eprintln!(
                "epoch {:>2}: train loss {:.4} mAP {:.4} | val loss {:.4} mAP {:.4} | {:.1} s{}",
                r.epoch,
                r.train_loss,
                r.train_accuracy,
                r.val_loss,
                r.val_accuracy,
                r.seconds,
                if r.best { " *" } else { "" }
            );
        }
        fn stage(&mut self, text: &str) {
            eprintln!("{text}");
        }
    }
    let started = std::time::Instant::now();
    let report = train_anp(&AnpOptions::new(&data, &out), &mut Log).unwrap();
    let t = &report.test;
    eprintln!(
        "top-1 precision {:.4}, top-5 recall {:.4}, mAP {:.4}, macro F1 {:.4}; {} epochs, {:.0} s training, {:.0} s job, {:.0} s wall",
        t.top1_precision,
        t.top5_recall,
        t.mean_average_precision,
        t.macro_f1,
        report.history.epochs.len(),
        report.train_seconds,
        report.seconds,
        started.elapsed().as_secs_f32()
    );
    assert!(
        t.top1_precision >= 0.9,
        "top-1 precision {}",
        t.top1_precision
    );
    assert!(t.top5_recall >= 0.85, "top-5 recall {}", t.top5_recall);
}
