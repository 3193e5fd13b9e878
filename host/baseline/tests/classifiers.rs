//! Each classifier on small synthetic problems, through the public `run`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sentio_baseline::{
    AdaBoostOptions, BaselineError, BaselineTable, BoostingOptions, Dataset, Event, ForestOptions,
    ModelKind, Options, SvmOptions, TrainTest, TreeOptions, run,
};
use sentio_data::rng::Rng;

fn labels(k: usize) -> Vec<String> {
    (0..k).map(|i| format!("class{i}")).collect()
}

/// `k` Gaussian blobs (sd 1) with centres 6 apart on a circle, in 2 informative dimensions
/// plus `noise` pure-noise dimensions; every other sample trains.
fn blobs(k: usize, per_class: usize, noise: usize, seed: u64) -> (Dataset, TrainTest) {
    let mut rng = Rng::new(seed);
    let mut rows = Vec::new();
    let mut y = Vec::new();
    for i in 0..k * per_class {
        let c = i % k;
        let angle = c as f32 * std::f32::consts::TAU / k as f32;
        let radius = 6.0 / (2.0 * (std::f32::consts::PI / k as f32).sin());
        let mut row = vec![
            radius * angle.cos() + rng.normal(),
            radius * angle.sin() + rng.normal(),
        ];
        row.extend((0..noise).map(|_| rng.normal() * 3.0));
        rows.push(row);
        y.push(c);
    }
    halves(rows, y, k)
}

/// XOR of the signs of two uniform features (with a margin), plus noise dimensions.
fn xor(n: usize, noise: usize, seed: u64) -> (Dataset, TrainTest) {
    let mut rng = Rng::new(seed);
    let mut rows = Vec::new();
    let mut y = Vec::new();
    while y.len() < n {
        let (a, b) = (rng.range(-1.0, 1.0), rng.range(-1.0, 1.0));
        if a.abs() < 0.1 || b.abs() < 0.1 {
            continue;
        }
        let mut row = vec![a, b];
        row.extend((0..noise).map(|_| rng.range(-1.0, 1.0)));
        rows.push(row);
        y.push(usize::from((a > 0.0) != (b > 0.0)));
    }
    halves(rows, y, 2)
}

/// Samples `i` with `(i / k)` even train, the others test (blobs cycle through the classes,
/// so both parts get every class).
fn halves(rows: Vec<Vec<f32>>, y: Vec<usize>, k: usize) -> (Dataset, TrainTest) {
    let n = y.len();
    let data = Dataset::from_rows(rows, y, labels(k)).unwrap();
    let split = TrainTest {
        train: (0..n).filter(|i| (i / k).is_multiple_of(2)).collect(),
        test: (0..n).filter(|i| !(i / k).is_multiple_of(2)).collect(),
    };
    (data, split)
}

/// Fast settings for small problems.
fn small_options(models: &[ModelKind]) -> Options {
    Options {
        models: models.to_vec(),
        seed: 7,
        threads: 2,
        forest: ForestOptions {
            trees: 50,
            ..ForestOptions::default()
        },
        adaboost: AdaBoostOptions {
            rounds: 50,
            ..AdaBoostOptions::default()
        },
        boosting: BoostingOptions {
            rounds: 50,
            max_features: sentio_baseline::MaxFeatures::All,
            ..BoostingOptions::default()
        },
        ..Options::default()
    }
}

fn accuracy(table: &BaselineTable, model: ModelKind) -> f64 {
    table
        .results
        .iter()
        .find(|r| r.model == model)
        .map(|r| r.accuracy)
        .unwrap()
}

#[test]
fn every_model_separates_blobs() {
    // 4 classes: exercises the multiclass rules (one-vs-rest, SAMME, softmax).
    let (data, split) = blobs(4, 100, 3, 1);
    let table = run(&data, &split, &small_options(&ModelKind::ALL), &mut |_| {}).unwrap();
    assert_eq!(table.results.len(), 5);
    for r in &table.results {
        // The Bayes error of these blobs is about 0.1%; a classifier that ignores the
        // features gets 25%.
        assert!(r.accuracy >= 0.95, "{:?}: {}", r.model, r.accuracy);
        assert!(r.macro_f1 >= 0.95, "{:?}: {}", r.model, r.macro_f1);
        assert_eq!(r.per_class_f1.len(), 4);
        assert!(r.fit_seconds >= 0.0 && r.predict_seconds >= 0.0);
    }
}

#[test]
fn trees_and_boosting_solve_xor_where_a_linear_svm_cannot() {
    let (data, split) = xor(600, 1, 2);
    let models = [
        ModelKind::Svm,
        ModelKind::RandomForest,
        ModelKind::AdaBoost,
        ModelKind::DecisionTree,
        ModelKind::GradientBoosting,
    ];
    let table = run(&data, &split, &small_options(&models), &mut |_| {}).unwrap();
    for model in &models[1..] {
        let a = accuracy(&table, *model);
        assert!(a >= 0.9, "{model:?}: {a}");
    }
    // No line separates XOR: a linear model is near chance.
    let svm = accuracy(&table, ModelKind::Svm);
    assert!(svm < 0.7, "linear SVM on XOR: {svm}");
}

#[test]
fn adaboost_beats_a_single_stump() {
    // Class 1 iff x0 + x1 > 0: a staircase of stumps approximates the diagonal, one stump
    // cannot (about 75%).
    let mut rng = Rng::new(5);
    let mut rows = Vec::new();
    let mut y = Vec::new();
    for _ in 0..800 {
        let (a, b) = (rng.range(-1.0, 1.0), rng.range(-1.0, 1.0));
        rows.push(vec![a, b]);
        y.push(usize::from(a + b > 0.0));
    }
    let (data, split) = halves(rows, y, 2);
    let options = Options {
        models: vec![ModelKind::DecisionTree, ModelKind::AdaBoost],
        tree: TreeOptions {
            max_depth: Some(1),
            ..TreeOptions::default()
        },
        adaboost: AdaBoostOptions {
            rounds: 100,
            max_depth: 1,
            learning_rate: 1.0,
        },
        ..Options::default()
    };
    let table = run(&data, &split, &options, &mut |_| {}).unwrap();
    let stump = accuracy(&table, ModelKind::DecisionTree);
    let boosted = accuracy(&table, ModelKind::AdaBoost);
    assert!(stump < 0.85, "stump {stump}");
    assert!(boosted >= 0.93, "AdaBoost {boosted}");
    assert!(boosted > stump + 0.1, "AdaBoost {boosted} vs stump {stump}");
}

#[test]
fn same_seed_same_table_for_any_thread_count() {
    let (data, split) = blobs(3, 60, 20, 3);
    let mut options = small_options(&ModelKind::ALL);
    // Sample features per split in boosting too, so the seed matters everywhere.
    options.boosting.max_features = sentio_baseline::MaxFeatures::Fraction(0.3);
    options.boosting.rounds = 20;
    let strip = |t: BaselineTable| {
        t.results
            .into_iter()
            .map(|r| (r.model, r.accuracy, r.macro_f1, r.per_class_f1, r.note))
            .collect::<Vec<_>>()
    };
    options.threads = 1;
    let a = strip(run(&data, &split, &options, &mut |_| {}).unwrap());
    let b = strip(run(&data, &split, &options, &mut |_| {}).unwrap());
    options.threads = 3;
    let c = strip(run(&data, &split, &options, &mut |_| {}).unwrap());
    assert_eq!(a, b);
    assert_eq!(a, c);
}

#[test]
fn progress_reports_each_model_in_order() {
    let (data, split) = blobs(2, 30, 0, 4);
    let options = small_options(&[ModelKind::RandomForest, ModelKind::Svm]);
    let mut events = Vec::new();
    let table = run(&data, &split, &options, &mut |e| events.push(e)).unwrap();
    assert!(matches!(
        events[0],
        Event::Prepared {
            train: 30,
            test: 30,
            features: 2,
            ..
        }
    ));
    let started: Vec<ModelKind> = events
        .iter()
        .filter_map(|e| match e {
            Event::Started { model, .. } => Some(*model),
            _ => None,
        })
        .collect();
    assert_eq!(started, vec![ModelKind::RandomForest, ModelKind::Svm]);
    let forest_steps: Vec<(usize, usize)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Progress {
                model: ModelKind::RandomForest,
                done,
                total,
            } => Some((*done, *total)),
            _ => None,
        })
        .collect();
    assert!(forest_steps.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(forest_steps.last(), Some(&(50, 50)));
    let finished = events
        .iter()
        .filter(|e| matches!(e, Event::Finished(_)))
        .count();
    assert_eq!(finished, 2);
    assert!(matches!(events.last(), Some(Event::Finished(r)) if *r == table.results[1]));
}

#[test]
fn the_table_renders_as_markdown_and_json() {
    let (data, split) = blobs(2, 20, 0, 6);
    let options = small_options(&[ModelKind::DecisionTree, ModelKind::GradientBoosting]);
    let table = run(&data, &split, &options, &mut |_| {}).unwrap();
    let md = table.to_markdown();
    assert!(md.contains("| Decision tree | "), "{md}");
    assert!(md.contains("| Gradient boosting | "), "{md}");
    assert!(
        md.contains("20 training / 20 test samples, 2 features"),
        "{md}"
    );
    let percent = format!("{:.2}%", 100.0 * table.results[0].accuracy);
    assert!(md.contains(&percent), "{md}");
    let json = table.to_json().unwrap();
    let back: BaselineTable = serde_json::from_str(&json).unwrap();
    assert_eq!(back, table);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let (data, split) = blobs(2, 10, 0, 8);
    let none = Options {
        models: vec![],
        ..Options::default()
    };
    assert!(matches!(
        run(&data, &split, &none, &mut |_| {}),
        Err(BaselineError::Empty { .. })
    ));
    let bad = Options {
        svm: SvmOptions {
            c: -1.0,
            ..SvmOptions::default()
        },
        ..Options::default()
    };
    let e = run(&data, &split, &bad, &mut |_| {}).unwrap_err();
    assert!(e.to_string().contains("svm.c"), "{e}");
    assert!(!e.help().is_empty());
    let bad = Options {
        max_bins: 1,
        ..Options::default()
    };
    assert!(matches!(
        run(&data, &split, &bad, &mut |_| {}),
        Err(BaselineError::BadOption { .. })
    ));
    let leaky = TrainTest {
        train: vec![0, 1, 2],
        test: vec![2, 3],
    };
    assert!(matches!(
        run(&data, &leaky, &Options::default(), &mut |_| {}),
        Err(BaselineError::Overlap { index: 2 })
    ));
    let foreign = TrainTest {
        train: vec![0],
        test: vec![100],
    };
    assert!(matches!(
        run(&data, &foreign, &Options::default(), &mut |_| {}),
        Err(BaselineError::IndexOutOfRange { index: 100, .. })
    ));
    let empty = TrainTest {
        train: vec![0, 1],
        test: vec![],
    };
    assert!(matches!(
        run(&data, &empty, &Options::default(), &mut |_| {}),
        Err(BaselineError::Empty { .. })
    ));
}

#[test]
fn a_class_missing_from_training_is_never_predicted_and_does_not_panic() {
    // Three labels, class 2 only in the test part.
    let rows: Vec<Vec<f32>> = (0..30).map(|i| vec![(i % 3) as f32]).collect();
    let y: Vec<usize> = (0..30).map(|i| i % 3).collect();
    let data = Dataset::from_rows(rows, y, labels(3)).unwrap();
    let split = TrainTest {
        train: (0..30).filter(|i| i % 3 != 2).collect(),
        test: (0..30).filter(|i| i % 3 == 2).collect(),
    };
    let table = run(&data, &split, &small_options(&ModelKind::ALL), &mut |_| {}).unwrap();
    for r in &table.results {
        assert_eq!(r.accuracy, 0.0, "{:?}", r.model);
        assert_eq!(r.per_class_f1[2], 0.0);
    }
}
