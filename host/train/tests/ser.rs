//! The speech-emotion CNN-LSTM: it learns tones told apart by pitch (synthetic audio through
//! sentio-audio's extractor), its hand-written ONNX graph runs in tract with burn's
//! probabilities, its LSTM gate mapping follows the ONNX spec (a wrong mapping is caught), and
//! the generalized loop checkpoints and resumes it bit-identically.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use sentio_audio::{FeatureConfig, FeatureExtractor};
use sentio_infer::{LoadOptions, Model};
use sentio_train::rng::Rng;
use sentio_train::ser::Pooling;
use sentio_train::ser::export::{self, Gate, ONNX_GATE_ORDER};
use sentio_train::{
    LrSchedule, Masking, NoProgress, Normalization, Sequence, SequenceSet, SerConfig, SerInput,
    SerNet, TrainOptions, TrainProgress, Trained, train_model,
};

const FRAMES: usize = 24;

/// `per_class` clips in 3 classes: a tone at 220-260, 440-520 or 880-1040 Hz (random pitch
/// within the band, amplitude, phase and a little noise), as features of `FRAMES` frames.
fn tones(per_class: usize, seed: u64) -> SequenceSet {
    let input = SerInput {
        features: FeatureConfig::default(),
        frames: FRAMES,
        trim_silence: false,
    };
    let mut extractor = FeatureExtractor::new(input.features.clone()).unwrap();
    let mut rng = Rng::new(seed);
    let mut set = SequenceSet::new(Sequence {
        frames: FRAMES,
        dims: input.features.dims(),
    });
    for i in 0..per_class * 3 {
        let class = i % 3;
        let f = [220.0, 440.0, 880.0][class] * rng.uniform(1.0, 1.18);
        let amp = rng.uniform(0.1, 0.8);
        let phase = rng.uniform(0.0, std::f32::consts::TAU);
        let len = input.window() + rng.below(800);
        let samples: Vec<f32> = (0..len)
            .map(|n| {
                let t = n as f32 / 16_000.0;
                amp * (std::f32::consts::TAU * f * t + phase).sin() + rng.uniform(-0.01, 0.01)
            })
            .collect();
        let m = input.features(&samples, &mut extractor).unwrap();
        assert!(set.push(&m.data, class));
    }
    set
}

fn tiny() -> SerConfig {
    SerConfig {
        frames: FRAMES,
        dims: FeatureConfig::default().dims(),
        filters: vec![8, 8],
        kernel: 3,
        hidden: 8,
        dropout: 0.1,
        classes: 3,
        pooling: Pooling::Last,
        head: 0,
    }
}

fn split(n: usize) -> (Vec<usize>, Vec<usize>) {
    (0..n).partition(|i| i % 5 != 4)
}

fn options(epochs: usize, seed: u64) -> TrainOptions {
    TrainOptions {
        epochs,
        batch: 8,
        learning_rate: 1e-2,
        schedule: LrSchedule::WarmupCosine {
            warmup_epochs: 1,
            final_fraction: 0.1,
        },
        patience: 0,
        seed,
        ..TrainOptions::default()
    }
}

fn train_tones(opts: &TrainOptions, progress: &mut dyn TrainProgress) -> Trained<SerNet> {
    let set = tones(12, 5);
    let (t, v) = split(set.len());
    train_model::<SerNet>(
        &tiny(),
        &set.subset(&t),
        &set.subset(&v),
        &masked(opts),
        progress,
    )
    .unwrap()
}

/// `opts` with masked training batches, so seeding and resuming are checked with masking in
/// play.
fn masked(opts: &TrainOptions) -> TrainOptions {
    let mut opts = opts.clone();
    opts.augment.masking = Masking {
        time_masks: 1,
        max_time: 3,
        feature_masks: 1,
        max_features: 10,
    };
    opts
}

/// Random raw features around the statistics the model normalizes with.
fn random_inputs(norm: &Normalization, frames: usize, n: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            (0..frames * norm.mean.len())
                .map(|i| {
                    let d = i % norm.mean.len();
                    norm.mean[d] + norm.std[d] * rng.uniform(-2.0, 2.0)
                })
                .collect()
        })
        .collect()
}

fn random_norm(dims: usize, seed: u64) -> Normalization {
    let mut rng = Rng::new(seed);
    Normalization {
        mean: (0..dims).map(|_| rng.uniform(-40.0, 10.0)).collect(),
        std: (0..dims).map(|_| rng.uniform(0.5, 20.0)).collect(),
    }
}

#[test]
fn loss_falls_and_tones_are_told_apart() {
    let trained = train_tones(&options(10, 1), &mut NoProgress);
    let h = &trained.history;
    assert_eq!(h.epochs.len(), 10);
    let (first, last) = (&h.epochs[0], &h.epochs[9]);
    assert!(
        last.train_loss < 0.5 * first.train_loss,
        "train loss {} -> {}",
        first.train_loss,
        last.train_loss
    );
    assert!(last.val_loss < first.val_loss);
    let best = h.best().unwrap();
    assert!(
        best.val_accuracy >= 0.85,
        "val accuracy {}",
        best.val_accuracy
    );
}

#[test]
fn device_sized_export_matches_burn_in_tract() {
    let config = SerConfig::ser8();
    let norm = random_norm(config.dims, 2);
    let net = SerNet::new(&config, &norm, 7, &Device::flex())
        .unwrap()
        .valid();
    let onnx = export::to_onnx(&net, config.frames, "ser").unwrap();
    let inputs = random_inputs(&norm, config.frames, 3, 4);
    let refs: Vec<&[f32]> = inputs.iter().map(Vec::as_slice).collect();
    let worst = export::max_difference(&net, &onnx, config.frames, &refs).unwrap();
    assert!(worst < 1e-4, "max |burn - tract| = {worst}");
    // Output is a distribution of 8 classes; the file is about the f32 weights' size.
    let mut tract = Model::load(
        &onnx,
        &LoadOptions::new().shape(&[1, config.frames, config.dims]),
    )
    .unwrap();
    assert_eq!(tract.output_shapes()[0], vec![1, 8]);
    let p = tract.run(&inputs[0]).unwrap().tensors[0].data.clone();
    assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    assert_eq!(net.num_params(), config.parameters());
    let weights = config.parameters() * 4;
    assert!(
        onnx.len() > weights && onnx.len() < weights + 100_000 + 117 * 8,
        "{}",
        onnx.len()
    );
}

#[test]
fn trained_export_matches_burn_and_a_wrong_gate_order_does_not() {
    // Trained weights: the gates differ from each other (and the forget bias is not 1 any more).
    let trained = train_tones(&options(3, 2), &mut NoProgress);
    let net = &trained.best;
    let set = tones(2, 77);
    let refs: Vec<&[f32]> = (0..set.len()).map(|i| set.example(i)).collect();
    let onnx = export::to_onnx(net, FRAMES, "ser").unwrap();
    let worst = export::max_difference(net, &onnx, FRAMES, &refs).unwrap();
    assert!(worst < 1e-4, "max |burn - tract| = {worst}");

    // burn's own order (i, f, o, c), as a naive export would write it.
    let naive = [Gate::Input, Gate::Forget, Gate::Output, Gate::Cell];
    let wrong = export::to_onnx_with_gates(net, FRAMES, "ser", naive).unwrap();
    let off = export::max_difference(net, &wrong, FRAMES, &refs).unwrap();
    assert!(off > 1e-3, "a wrong gate order gave |burn - tract| = {off}");
}

#[test]
fn statistics_pooling_exports_match_burn_in_tract() {
    // Random tiny networks of every pooling, with and without a dense head, and the device
    // shape with statistics pooling.
    for (pooling, head) in [
        (Pooling::LastAndStats, 0),
        (Pooling::LastAndStats, 6),
        (Pooling::Stats, 0),
        (Pooling::Stats, 6),
        (Pooling::Last, 6),
    ] {
        let config = SerConfig {
            pooling,
            head,
            ..tiny()
        };
        let norm = random_norm(config.dims, 3);
        let net = SerNet::new(&config, &norm, 11, &Device::flex())
            .unwrap()
            .valid();
        let onnx = export::to_onnx(&net, FRAMES, "ser").unwrap();
        let inputs = random_inputs(&norm, FRAMES, 3, 5);
        let refs: Vec<&[f32]> = inputs.iter().map(Vec::as_slice).collect();
        let worst = export::max_difference(&net, &onnx, FRAMES, &refs).unwrap();
        assert!(
            worst < 1e-5,
            "{pooling}, head {head}: max |burn - tract| = {worst}"
        );
        assert_eq!(net.num_params(), config.parameters());
        // The graph says what it computes with standard ops: an LSTM only when its last state
        // is pooled, the statistics only when they are.
        let text = String::from_utf8_lossy(&onnx);
        assert_eq!(text.contains("LSTM"), pooling.uses_lstm(), "{pooling}");
        for op in ["ReduceMean", "Sqrt", "Concat"] {
            assert_eq!(text.contains(op), pooling.uses_stats(), "{pooling}: {op}");
        }
    }
    let config = SerConfig {
        pooling: Pooling::LastAndStats,
        head: 32,
        ..SerConfig::ser8()
    };
    let norm = random_norm(config.dims, 2);
    let net = SerNet::new(&config, &norm, 7, &Device::flex())
        .unwrap()
        .valid();
    let onnx = export::to_onnx(&net, config.frames, "ser").unwrap();
    let inputs = random_inputs(&norm, config.frames, 2, 4);
    let refs: Vec<&[f32]> = inputs.iter().map(Vec::as_slice).collect();
    let worst = export::max_difference(&net, &onnx, config.frames, &refs).unwrap();
    assert!(worst < 1e-5, "max |burn - tract| = {worst}");
    let tract = Model::load(
        &onnx,
        &LoadOptions::new().shape(&[1, config.frames, config.dims]),
    )
    .unwrap();
    assert_eq!(tract.output_shapes()[0], vec![1, 8]);
}

#[test]
fn a_trained_statistics_pooling_net_exports_like_burn() {
    // Trained weights, with dropout and masking in play while training.
    let set = tones(12, 5);
    let (t, v) = split(set.len());
    let config = SerConfig {
        pooling: Pooling::LastAndStats,
        head: 6,
        ..tiny()
    };
    let trained = train_model::<SerNet>(
        &config,
        &set.subset(&t),
        &set.subset(&v),
        &options(3, 2),
        &mut NoProgress,
    )
    .unwrap();
    let probe = tones(2, 77);
    let refs: Vec<&[f32]> = (0..probe.len()).map(|i| probe.example(i)).collect();
    let onnx = export::to_onnx(&trained.best, FRAMES, "ser").unwrap();
    let worst = export::max_difference(&trained.best, &onnx, FRAMES, &refs).unwrap();
    assert!(worst < 1e-5, "max |burn - tract| = {worst}");
}

/// One LSTM step by the ONNX spec's equations on the exported tensors (gates i, o, f, c;
/// `f(x) = sigmoid`, `g = h = tanh`), from zero state.
fn onnx_lstm_steps(w: &[f32], r: &[f32], b: &[f32], xs: &[Vec<f32>], hidden: usize) -> Vec<f32> {
    let input = xs[0].len();
    let sigmoid = |v: f32| 1.0 / (1.0 + (-v).exp());
    let (mut h, mut c) = (vec![0.0f32; hidden], vec![0.0f32; hidden]);
    for x in xs {
        let gate = |k: usize, j: usize, h: &[f32]| -> f32 {
            let row = k * hidden + j;
            let mut s = b[row] + b[4 * hidden + row];
            for (q, xv) in x.iter().enumerate() {
                s += w[row * input + q] * xv;
            }
            for (q, hv) in h.iter().enumerate() {
                s += r[row * hidden + q] * hv;
            }
            s
        };
        let mut next_h = vec![0.0; hidden];
        for j in 0..hidden {
            let i = sigmoid(gate(0, j, &h));
            let o = sigmoid(gate(1, j, &h));
            let f = sigmoid(gate(2, j, &h));
            let g = gate(3, j, &h).tanh();
            c[j] = f * c[j] + i * g;
            next_h[j] = o * c[j].tanh();
        }
        h = next_h;
    }
    h
}

#[test]
fn lstm_tensors_follow_the_onnx_gate_order() {
    // A tiny net whose LSTM sees 2 steps of 3 channels; the gates get distinct weights.
    let config = SerConfig {
        frames: 4,
        dims: 2,
        filters: vec![3],
        kernel: 1,
        hidden: 2,
        dropout: 0.0,
        classes: 2,
        pooling: Pooling::Last,
        head: 0,
    };
    let device = Device::flex();
    let net = SerNet::new(&config, &Normalization::identity(2), 9, &device).unwrap();
    // Biases differ per gate too (the forget gate's 1 alone would not tell i from o).
    let mut rng = Rng::new(1);
    let mut lstm = net.lstm.clone().unwrap();
    for gate in [
        &mut lstm.input_gate,
        lstm.forget_gate.as_mut().unwrap(),
        &mut lstm.output_gate,
        &mut lstm.cell_gate,
    ] {
        for linear in [&mut gate.input_transform, &mut gate.hidden_transform] {
            let b: Vec<f32> = (0..2).map(|_| rng.uniform(-1.0, 1.0)).collect();
            linear.bias = Some(burn::module::Param::from_data(
                TensorData::new(b, [2]),
                &device,
            ));
        }
    }
    let net = SerNet {
        lstm: Some(lstm),
        ..net
    };
    let xs = vec![vec![0.3, -1.2, 0.8], vec![-0.5, 0.9, 0.1]];
    let x = Tensor::<3>::from_data(TensorData::new(xs.concat(), [1, 2, 3]), &device);
    let (_, state) = net.lstm.as_ref().unwrap().forward(x, None);
    let ours: Vec<f32> = state.hidden.into_data().try_to_vec().unwrap();

    let (w, r, b) = export::lstm_tensors(&net, ONNX_GATE_ORDER).unwrap();
    assert_eq!((w.len(), r.len(), b.len()), (4 * 2 * 3, 4 * 2 * 2, 8 * 2));
    let by_spec = onnx_lstm_steps(&w, &r, &b, &xs, 2);
    for (a, e) in ours.iter().zip(&by_spec) {
        assert!(
            (a - e).abs() < 1e-5,
            "burn {ours:?}, ONNX equations {by_spec:?}"
        );
    }
    for wrong in [
        [Gate::Input, Gate::Forget, Gate::Output, Gate::Cell],
        [Gate::Forget, Gate::Input, Gate::Output, Gate::Cell],
        [Gate::Input, Gate::Output, Gate::Cell, Gate::Forget],
    ] {
        let (w, r, b) = export::lstm_tensors(&net, wrong).unwrap();
        let off = onnx_lstm_steps(&w, &r, &b, &xs, 2);
        let diff = ours
            .iter()
            .zip(&off)
            .map(|(a, e)| (a - e).abs())
            .fold(0.0f32, f32::max);
        assert!(diff > 1e-3, "{wrong:?} passed ({diff})");
    }
}

#[test]
fn ser_runs_resume_to_the_same_weights() {
    let whole = tempfile::tempdir().unwrap();
    let part = tempfile::tempdir().unwrap();
    let mut opts = options(3, 4);
    opts.checkpoint_dir = Some(whole.path().to_path_buf());
    let uninterrupted = train_tones(&opts, &mut NoProgress);

    opts.checkpoint_dir = Some(part.path().to_path_buf());
    let stopped = train_tones(&opts, &mut common::StopAfter(1));
    assert_eq!(stopped.history.epochs.len(), 1);
    opts.resume = true;
    let resumed = train_tones(&opts, &mut NoProgress);
    assert_eq!(resumed.history.epochs.len(), 3);
    let bytes = |n: &SerNet| export::to_onnx(n, FRAMES, "t").unwrap();
    assert_eq!(bytes(&resumed.last), bytes(&uninterrupted.last));
    assert_eq!(bytes(&resumed.best), bytes(&uninterrupted.best));

    // A different network shape is refused.
    let set = tones(12, 5);
    let (t, v) = split(set.len());
    let mut other = tiny();
    other.hidden = 9;
    let err = train_model::<SerNet>(
        &other,
        &set.subset(&t),
        &set.subset(&v),
        &masked(&opts),
        &mut NoProgress,
    )
    .unwrap_err();
    assert!(err.to_string().contains("network shape"), "{err}");
    // So is other masking.
    let err = train_model::<SerNet>(
        &tiny(),
        &set.subset(&t),
        &set.subset(&v),
        &opts,
        &mut NoProgress,
    )
    .unwrap_err();
    assert!(err.to_string().contains("augmentation"), "{err}");
}

#[test]
fn bad_sets_are_errors() {
    let set = tones(2, 5);
    let opts = options(2, 1);
    let mut wide = tiny();
    wide.dims = 40;
    let err = train_model::<SerNet>(&wide, &set, &set, &opts, &mut NoProgress).unwrap_err();
    assert!(err.to_string().contains("frames x dims"), "{err}");
    let mut two = tiny();
    two.classes = 2;
    let err = train_model::<SerNet>(&two, &set, &set, &opts, &mut NoProgress).unwrap_err();
    assert!(err.to_string().contains("label 2"), "{err}");
    let mut nan = set.clone();
    nan.values[5] = f32::NAN;
    let err = train_model::<SerNet>(&tiny(), &nan, &set, &opts, &mut NoProgress).unwrap_err();
    assert!(err.to_string().contains("non-finite"), "{err}");
}
