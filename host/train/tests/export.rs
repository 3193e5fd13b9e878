//! The exported ONNX model, loaded with `sentio_infer::Model::load` (tract), gives burn's
//! probabilities within 1e-4; and a whole job writes its files with a valid manifest.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use sentio_infer::{LoadOptions, Model};
use sentio_models::Manifest;
use sentio_train::cnn::export::to_onnx;
use sentio_train::job::{Data, Split};
use sentio_train::rng::Rng;
use sentio_train::{
    Cnn, CnnConfig, Job, NoProgress, Report, TrainOptions, export, job, train_model,
};

/// Burn's probabilities and tract's for each input; returns the largest difference.
fn compare(model: &Cnn, side: usize, inputs: &[Vec<f32>]) -> f32 {
    let onnx = to_onnx(model, side, "test").unwrap();
    let mut tract = Model::load(&onnx, &LoadOptions::new().shape(&[1, 1, side, side])).unwrap();
    assert_eq!(tract.output_shapes()[0], vec![1, model.classes()]);
    let device = Device::flex();
    let mut worst = 0.0f32;
    for input in inputs {
        let theirs = tract.run(input).unwrap().tensors[0].data.clone();
        let x = Tensor::<4>::from_data(TensorData::new(input.clone(), [1, 1, side, side]), &device);
        let ours: Vec<f32> = model.probabilities(x).into_data().try_to_vec().unwrap();
        assert_eq!(ours.len(), theirs.len());
        assert!(
            (theirs.iter().sum::<f32>() - 1.0).abs() < 1e-5,
            "softmax in the graph"
        );
        for (a, b) in ours.iter().zip(&theirs) {
            worst = worst.max((a - b).abs());
        }
    }
    worst
}

#[test]
fn emoji_cnn_export_matches_burn_in_tract() {
    let config = CnnConfig::emoji();
    let model = Cnn::new(&config, 11, &Device::flex()).unwrap().valid();
    let mut rng = Rng::new(3);
    let inputs: Vec<Vec<f32>> = (0..4)
        .map(|_| (0..64 * 64).map(|_| rng.next_f32()).collect())
        .collect();
    let worst = compare(&model, 64, &inputs);
    assert!(worst < 1e-4, "max |burn - tract| = {worst}");
    // The seed's size: 52,536 parameters, about 210 kB of ONNX.
    assert_eq!(model.num_params(), 80 + 2080 + 8256 + 32896 + 9224);
    let bytes = to_onnx(&model, 64, "emoji").unwrap();
    assert!(bytes.len() < 2 * 1024 * 1024);
}

#[test]
fn trained_model_export_matches_burn_in_tract() {
    let set = common::bars(16, 30, 9);
    let (t, v) = common::split(set.len());
    let options = TrainOptions {
        epochs: 3,
        batch: 8,
        learning_rate: 3e-3,
        ..TrainOptions::default()
    };
    let trained = train_model::<Cnn>(
        &common::tiny(),
        &set.subset(&t),
        &set.subset(&v),
        &options,
        &mut NoProgress,
    )
    .unwrap();
    let inputs: Vec<Vec<f32>> = v.iter().map(|&i| set.example(i).to_vec()).collect();
    let worst = compare(&trained.best, 16, &inputs);
    assert!(worst < 1e-4, "max |burn - tract| = {worst}");
}

#[test]
fn a_job_writes_model_manifest_history_and_curves() {
    let out = tempfile::tempdir().unwrap();
    let set = common::bars(16, 20, 4);
    let (t, rest) = common::split(set.len());
    let (v, test): (Vec<usize>, Vec<usize>) = rest.iter().partition(|i| *i % 2 == 0);
    let labels: Vec<String> = ["horizontal", "vertical", "diagonal"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let j = Job {
        name: "bars".into(),
        version: "0.1.0".into(),
        task: sentio_models::Task::Custom,
        label_set: "bars3".into(),
        labels: labels.clone(),
        network: common::tiny(),
        train: TrainOptions {
            epochs: 2,
            batch: 8,
            ..TrainOptions::default()
        },
        val_fraction: 0.1,
        test_fraction: 0.1,
        out: out.path().to_path_buf(),
        checkpoints: true,
    };
    let data = Data {
        examples: set,
        sources: Vec::new(),
        summary: Default::default(),
        preprocessing: job::image_preprocessing("gray", 16),
        unit: "images",
    };
    let split = Split {
        train: t.clone(),
        val: v.clone(),
        test: test.clone(),
        method: "interleaved".into(),
        groups: None,
    };
    let report = Report::new(job::run::<Cnn>(&j, &data, &split, &mut NoProgress).unwrap());
    assert_eq!(report.split, [t.len(), v.len(), test.len()]);
    assert_eq!(report.confusion.iter().flatten().sum::<usize>(), test.len());
    assert!(report.export_max_diff < export::EXPORT_TOLERANCE);

    let onnx = std::fs::read(out.path().join("model.onnx")).unwrap();
    let manifest =
        Manifest::from_slice(&std::fs::read(out.path().join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest.model_sha256, sentio_models::sha256(&onnx));
    assert_eq!(manifest.model_size, onnx.len() as u64);
    assert_eq!(manifest.labels.labels, labels);
    assert_eq!(manifest.input.shape, vec![1, 1, 16, 16]);
    assert_eq!(manifest.input.preprocessing.kind, "gray");
    assert_eq!(manifest.input.preprocessing.scale, Some(1.0 / 255.0));
    let eval = manifest.eval.as_ref().unwrap();
    assert_eq!(eval["per_class"].as_array().unwrap().len(), 3);
    assert!(eval["accuracy"].as_f64().unwrap() >= 0.0);
    let training = manifest.training.as_ref().unwrap();
    assert_eq!(training["split"]["train"], t.len());
    // sentio-infer loads the model with its manifest.
    Model::load(&onnx, &LoadOptions::new().manifest(&manifest)).unwrap();

    let history: sentio_train::History =
        serde_json::from_slice(&std::fs::read(out.path().join("history.json")).unwrap()).unwrap();
    assert_eq!(history.epochs.len(), 2);
    let curves = image::open(out.path().join("curves.png")).unwrap();
    assert!(curves.width() > 100);
    assert!(job::checkpoint_dir(out.path()).join("state.json").exists());
}
