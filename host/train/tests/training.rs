//! The training loop on tiny generated sets: the loss falls, a seed reproduces a run exactly,
//! and a resumed run continues from its checkpoint to the same weights as an uninterrupted one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use sentio_train::cnn::export::to_onnx;
use sentio_train::{
    Augment, Cnn, CnnConfig, Error, ErrorKind, History, ImageSet, LrSchedule, NoProgress, RunStart,
    TrainOptions, TrainProgress, Trained, train_model,
};

/// The emoji CNN's loop on `train`, choosing by `val`.
fn train(
    config: &CnnConfig,
    train: &ImageSet,
    val: &ImageSet,
    options: &TrainOptions,
    progress: &mut dyn TrainProgress,
) -> sentio_train::Result<Trained<Cnn>> {
    train_model::<Cnn>(config, train, val, options, progress)
}

/// The options of these tests: a warm-up + cosine schedule and shifted images, so that seeding
/// and resuming are checked with both in play.
fn options(epochs: usize, seed: u64) -> TrainOptions {
    TrainOptions {
        epochs,
        batch: 16,
        learning_rate: 3e-3,
        schedule: if epochs > 1 {
            LrSchedule::WarmupCosine {
                warmup_epochs: 1,
                final_fraction: 0.1,
            }
        } else {
            LrSchedule::Constant
        },
        augment: Augment {
            max_shift: 1,
            ..Augment::default()
        },
        patience: 0,
        seed,
        checkpoint_dir: None,
        resume: false,
    }
}

fn run(options: &TrainOptions, progress: &mut dyn TrainProgress) -> Trained<Cnn> {
    let set = common::bars(16, 40, 7);
    let (t, v) = common::split(set.len());
    train(
        &common::tiny(),
        &set.subset(&t),
        &set.subset(&v),
        options,
        progress,
    )
    .unwrap()
}

fn without_times(h: &History) -> History {
    let mut h = h.clone();
    for e in &mut h.epochs {
        e.seconds = 0.0;
    }
    h
}

#[test]
fn loss_falls_and_the_classes_are_learnt() {
    let mut opts = options(8, 1);
    opts.batch = 8;
    opts.learning_rate = 1e-2;
    let trained = run(&opts, &mut NoProgress);
    let h = &trained.history;
    assert_eq!(h.epochs.len(), 8);
    let (first, last) = (&h.epochs[0], &h.epochs[7]);
    assert!(
        last.train_loss < 0.5 * first.train_loss,
        "train loss {} -> {}",
        first.train_loss,
        last.train_loss
    );
    assert!(last.val_loss < first.val_loss);
    let best = h.best().unwrap();
    assert!(
        best.val_accuracy >= 0.9,
        "val accuracy {}",
        best.val_accuracy
    );
}

#[test]
fn same_seed_same_run_other_seed_other_run() {
    let a = run(&options(2, 5), &mut NoProgress);
    let b = run(&options(2, 5), &mut NoProgress);
    let c = run(&options(2, 6), &mut NoProgress);
    assert_eq!(without_times(&a.history), without_times(&b.history));
    let bytes = |t: &Trained<Cnn>| to_onnx(&t.last, 16, "t").unwrap();
    assert_eq!(bytes(&a), bytes(&b), "identical weights");
    assert_ne!(bytes(&a), bytes(&c));
}

#[derive(Default)]
struct Recorder {
    starts: Vec<RunStart>,
    epochs: Vec<usize>,
    batches: usize,
}

impl TrainProgress for Recorder {
    fn run_start(&mut self, start: &RunStart) {
        self.starts.push(start.clone());
    }
    fn epoch_end(&mut self, record: &sentio_train::EpochRecord) {
        self.epochs.push(record.epoch);
    }
    fn batch_end(&mut self, _: usize, loss: f32, accuracy: f32) {
        assert!(loss.is_finite() && (0.0..=1.0).contains(&accuracy));
        self.batches += 1;
    }
}

#[test]
fn resume_continues_from_the_saved_epoch_to_the_same_weights() {
    let whole_dir = tempfile::tempdir().unwrap();
    let part_dir = tempfile::tempdir().unwrap();
    let mut whole = options(4, 3);
    whole.checkpoint_dir = Some(whole_dir.path().to_path_buf());
    let uninterrupted = run(&whole, &mut NoProgress);

    // The same run, stopped after epoch 2 (as Ctrl-C does).
    let mut part = options(4, 3);
    part.checkpoint_dir = Some(part_dir.path().to_path_buf());
    let mut stop = common::StopAfter(2);
    let stopped = run(&part, &mut stop);
    assert!(stopped.history.interrupted);
    assert_eq!(stopped.history.epochs.len(), 2);
    assert!(part_dir.path().join("state.json").exists());

    let mut rest = options(4, 3);
    rest.checkpoint_dir = Some(part_dir.path().to_path_buf());
    rest.resume = true;
    let mut progress = Recorder::default();
    let resumed = run(&rest, &mut progress);
    assert_eq!(progress.starts[0].first_epoch, 3);
    assert_eq!(progress.epochs, vec![3, 4]);
    assert_eq!(progress.batches, 2 * progress.starts[0].batches);
    assert_eq!(resumed.history.epochs.len(), 4);
    assert_eq!(
        without_times(&resumed.history),
        without_times(&uninterrupted.history)
    );
    let bytes = |t: &Trained<Cnn>| to_onnx(&t.last, 16, "t").unwrap();
    assert_eq!(bytes(&resumed), bytes(&uninterrupted));
    assert_eq!(
        to_onnx(&resumed.best, 16, "t").unwrap(),
        to_onnx(&uninterrupted.best, 16, "t").unwrap()
    );

    // Only the latest epoch's files are kept.
    let bpk = std::fs::read_dir(part_dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".bpk")
        })
        .count();
    assert!(bpk <= 3, "{bpk} checkpoint files");
}

#[test]
fn resume_refuses_another_run_and_a_missing_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(1, 3);
    opts.checkpoint_dir = Some(dir.path().to_path_buf());
    opts.resume = true;
    let set = common::bars(16, 10, 7);
    let (t, v) = common::split(set.len());
    let (train_set, val_set) = (set.subset(&t), set.subset(&v));
    let err = train(
        &common::tiny(),
        &train_set,
        &val_set,
        &opts,
        &mut NoProgress,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Checkpoint, "{err}");
    assert!(err.help().contains("--resume"));

    opts.resume = false;
    train(
        &common::tiny(),
        &train_set,
        &val_set,
        &opts,
        &mut NoProgress,
    )
    .unwrap();
    opts.resume = true;
    opts.seed = 4;
    let err = train(
        &common::tiny(),
        &train_set,
        &val_set,
        &opts,
        &mut NoProgress,
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::Checkpoint { reason, .. } if reason.contains("--seed")),
        "{err}"
    );
    opts.seed = 3;
    std::fs::write(dir.path().join("state.json"), b"{ not json").unwrap();
    let err = train(
        &common::tiny(),
        &train_set,
        &val_set,
        &opts,
        &mut NoProgress,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Checkpoint, "{err}");
}

#[test]
fn bad_options_and_data_are_errors() {
    let set = common::bars(16, 4, 7);
    let mut opts = options(1, 1);
    opts.batch = 0;
    let err = train(&common::tiny(), &set, &set, &opts, &mut NoProgress).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Option {
                option: "batch",
                ..
            }
        ),
        "{err}"
    );
    let mut wrong = common::tiny();
    wrong.side = 32;
    let err = train(&wrong, &set, &set, &options(1, 1), &mut NoProgress).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Input);
    let mut two = common::tiny();
    two.classes = 2;
    let err = train(&two, &set, &set, &options(1, 1), &mut NoProgress).unwrap_err();
    assert!(err.to_string().contains("label 2"), "{err}");
}

#[test]
fn early_stopping_ends_the_run() {
    // Validation labels that have nothing to do with the images: the validation figures stop
    // improving while the training set is being fitted.
    let set = common::bars(16, 40, 7);
    let (t, v) = common::split(set.len());
    let mut val = set.subset(&v);
    for (i, l) in val.labels.iter_mut().enumerate() {
        *l = (i * 7 / 3) % 3;
    }
    let mut opts = options(40, 2);
    opts.patience = 2;
    let trained = train(
        &common::tiny(),
        &set.subset(&t),
        &val,
        &opts,
        &mut NoProgress,
    )
    .unwrap();
    let h = &trained.history;
    assert!(h.stopped_early, "{} epochs run", h.epochs.len());
    assert_eq!(h.epochs.len(), h.best_epoch.unwrap() + 2);
}
