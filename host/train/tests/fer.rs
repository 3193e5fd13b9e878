//! The FER mini-Xception on a few procedural faces: the loss falls with batch norm training on
//! batch statistics, the export (batch norms folded into the convs) gives burn's probabilities
//! in tract within 1e-4, a resumed run ends with the same weights and running statistics, and
//! `train_fer` writes a `fer7` model. The full training run is a documented command
//! (models/zoo/fer/README.md), not a test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use sentio_infer::{LoadOptions, Model};
use sentio_models::Manifest;
use sentio_models::labels::FER7;
use sentio_train::fer::export::to_onnx;
use sentio_train::{
    Augment, FerConfig, FerNet, FerOptions, Image, ImageSet, LrSchedule, NoProgress, TrainOptions,
    TrainProgress, Trained, export, train_fer, train_model,
};

/// A small mini-Xception for the tests: same layers as `fer7`, fewer filters and modules.
fn tiny() -> FerConfig {
    FerConfig {
        side: 48,
        classes: 7,
        stem: vec![4],
        modules: vec![8, 16],
    }
}

/// `per_class` procedural faces of each fer7 class, as 0..1 gray.
fn faces(per_class: usize, seed: u64) -> ImageSet {
    let mut set = ImageSet::new(Image::gray(48));
    for i in 0..per_class {
        for class in 0..7 {
            let seed = sentio_data::synth::image_seed(seed, class, i);
            let image = sentio_data::synth::draw_face(class, seed);
            let pixels: Vec<f32> = image.pixels().map(|p| f32::from(p.0[0]) / 255.0).collect();
            assert!(set.push(&pixels, class));
        }
    }
    set
}

fn options(epochs: usize) -> TrainOptions {
    TrainOptions {
        epochs,
        batch: 14,
        learning_rate: 1e-2,
        schedule: LrSchedule::WarmupCosine {
            warmup_epochs: 1,
            final_fraction: 0.1,
        },
        augment: Augment {
            mirror: true,
            max_shift: 2,
            ..Augment::default()
        },
        patience: 0,
        seed: 5,
        checkpoint_dir: None,
        resume: false,
    }
}

fn train_tiny(options: &TrainOptions, progress: &mut dyn TrainProgress) -> Trained<FerNet> {
    let (train, val) = (faces(8, 1), faces(2, 2));
    train_model::<FerNet>(&tiny(), &train, &val, options, progress).unwrap()
}

/// The largest |burn - tract| probability on `set`'s images.
fn export_difference(net: &FerNet, set: &ImageSet) -> f32 {
    let onnx = to_onnx(net, 48, "fer").unwrap();
    let inputs: Vec<&[f32]> = (0..set.len()).map(|i| set.example(i)).collect();
    export::max_difference(net, &Image::gray(48), &onnx, &inputs).unwrap()
}

#[test]
fn loss_falls_and_the_export_matches_burn_in_tract() {
    let trained = train_tiny(&options(4), &mut NoProgress);
    let h = &trained.history;
    let (first, last) = (&h.epochs[0], &h.epochs[3]);
    assert!(
        last.train_loss < 0.8 * first.train_loss,
        "train loss {} -> {}",
        first.train_loss,
        last.train_loss
    );

    // Trained batch norms have running statistics far from (0, 1): the fold is exercised.
    let net = &trained.last;
    let mean: Vec<f32> = net.stem[0]
        .norm
        .running_mean
        .value()
        .into_data()
        .try_to_vec()
        .unwrap();
    assert!(mean.iter().any(|m| m.abs() > 1e-2), "{mean:?}");
    let probe = faces(2, 9);
    let worst = export_difference(net, &probe);
    assert!(worst < 1e-4, "max |burn - tract| = {worst}");

    // The ONNX graph has no BatchNormalization left, ends in a softmax, and tract gives it the
    // shapes the manifest records.
    let onnx = to_onnx(net, 48, "fer").unwrap();
    let tract = Model::load(&onnx, &LoadOptions::new().shape(&[1, 1, 48, 48])).unwrap();
    assert_eq!(tract.output_shapes()[0], vec![1, 7]);
}

#[test]
fn fer7_export_of_a_fresh_net_matches_burn_and_is_small() {
    let net = FerNet::new(&FerConfig::fer7(), 3, &Device::flex())
        .unwrap()
        .valid();
    let worst = export_difference(&net, &faces(1, 4));
    assert!(worst < 1e-4, "max |burn - tract| = {worst}");
    let bytes = to_onnx(&net, 48, "fer").unwrap();
    assert!(bytes.len() < 400 * 1024, "{} bytes", bytes.len());
    assert!(net.trainable_params() < 100_000);
    // Random inputs too, not only faces.
    let mut rng = sentio_train::rng::Rng::new(8);
    let noise: Vec<f32> = (0..48 * 48).map(|_| rng.next_f32()).collect();
    let onnx = to_onnx(&net, 48, "fer").unwrap();
    let diff = export::max_difference(&net, &Image::gray(48), &onnx, &[&noise]).unwrap();
    assert!(diff < 1e-4, "{diff}");
    let x = Tensor::<4>::from_data(TensorData::new(noise, [1, 1, 48, 48]), &Device::flex());
    assert_eq!(net.probabilities(x).dims(), [1, 7]);
}

#[test]
fn resumed_run_ends_with_the_same_weights_and_running_statistics() {
    let (whole_dir, part_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut whole = options(3);
    whole.checkpoint_dir = Some(whole_dir.path().to_path_buf());
    let uninterrupted = train_tiny(&whole, &mut NoProgress);

    let mut part = options(3);
    part.checkpoint_dir = Some(part_dir.path().to_path_buf());
    let stopped = train_tiny(&part, &mut common::StopAfter(1));
    assert!(stopped.history.interrupted);
    part.resume = true;
    let resumed = train_tiny(&part, &mut NoProgress);

    // The ONNX bytes hold every weight with the running statistics folded in.
    let bytes = |net: &FerNet| to_onnx(net, 48, "fer").unwrap();
    assert_eq!(bytes(&resumed.last), bytes(&uninterrupted.last));
    assert_eq!(bytes(&resumed.best), bytes(&uninterrupted.best));
    assert_eq!(resumed.history.best_epoch, uninterrupted.history.best_epoch);
}

fn write_faces(dir: &Path, per_class: usize) {
    sentio_data::synth::faces(dir, per_class, 3, &mut |_, _| {}).unwrap();
}

#[test]
fn fer_job_writes_a_fer7_model_with_its_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("out"));
    write_faces(&data, 10);
    let mut options = FerOptions::new(&data, &out);
    options.network = tiny();
    options.train = TrainOptions {
        epochs: 2,
        batch: 16,
        ..options.train
    };
    let report = train_fer(&options, &mut NoProgress).unwrap();
    assert_eq!(report.split.iter().sum::<usize>(), 70);
    assert!(report.export_max_diff < 1e-4);

    let onnx = std::fs::read(out.join("model.onnx")).unwrap();
    let manifest =
        Manifest::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest.task, sentio_models::Task::Fer);
    assert_eq!(manifest.labels.set, "fer7");
    assert_eq!(manifest.labels.labels, FER7.labels);
    assert_eq!(manifest.input.shape, vec![1, 1, 48, 48]);
    assert_eq!(manifest.input.preprocessing.kind, "gray");
    assert_eq!(manifest.input.preprocessing.scale, Some(1.0 / 255.0));
    assert_eq!(manifest.model_sha256, sentio_models::sha256(&onnx));
    let training = manifest.training.as_ref().unwrap();
    assert_eq!(training["per_class"]["surprise"], 10);
    assert!(training["generator"].as_str().unwrap().contains("faces"));
    assert!(
        training["network"]["architecture"]
            .as_str()
            .unwrap()
            .contains("Xception")
    );
    // sentio-infer loads it with its manifest, as the device does.
    Model::load(&onnx, &LoadOptions::new().manifest(&manifest)).unwrap();
    for file in ["report.md", "confusion.png", "curves.png", "history.json"] {
        assert!(out.join(file).exists(), "{file}");
    }
}
