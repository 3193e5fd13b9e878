//! [`run`]: fit each chosen model on the training part, measure it on the test part, and
//! collect a [`BaselineTable`].

use std::fmt::Write as _;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::models::{
    AdaBoostOptions, BoostingOptions, Fitted, ForestOptions, Train, TreeOptions, fit_adaboost,
    fit_boosting, fit_forest, fit_tree,
};
use crate::svm::{self, SvmOptions};
use crate::tree::Binned;
use crate::{BaselineError, Dataset, Standardizer, TrainTest, metrics, par};

/// A classical model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// One-vs-rest linear SVM ([`SvmOptions`]).
    Svm,
    /// Random forest ([`ForestOptions`]).
    RandomForest,
    /// AdaBoost, SAMME ([`AdaBoostOptions`]).
    AdaBoost,
    /// One CART tree ([`TreeOptions`]).
    DecisionTree,
    /// Softmax gradient boosting ([`BoostingOptions`]).
    GradientBoosting,
}

impl ModelKind {
    /// All five, in the order of the published tables.
    pub const ALL: [ModelKind; 5] = [
        ModelKind::Svm,
        ModelKind::RandomForest,
        ModelKind::AdaBoost,
        ModelKind::DecisionTree,
        ModelKind::GradientBoosting,
    ];

    /// The name in tables.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Svm => "SVM (linear, one-vs-rest)",
            ModelKind::RandomForest => "Random forest",
            ModelKind::AdaBoost => "AdaBoost (SAMME)",
            ModelKind::DecisionTree => "Decision tree",
            ModelKind::GradientBoosting => "Gradient boosting",
        }
    }

    fn uses_trees(self) -> bool {
        self != ModelKind::Svm
    }
}

/// Which models to fit and how.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Options {
    /// The models, in table order (default: [`ModelKind::ALL`]).
    pub models: Vec<ModelKind>,
    /// Seed of every random choice (bootstrap, feature sampling, visiting order); the same seed
    /// and data give the same table except for the timings.
    pub seed: u64,
    /// Threads for the forest, boosting's per-class trees and the SVM's classes; 0 = all
    /// cores. Results do not depend on it.
    pub threads: usize,
    /// Bins per feature for the tree models' split search (2..=256).
    pub max_bins: usize,
    /// Linear SVM.
    pub svm: SvmOptions,
    /// Random forest.
    pub forest: ForestOptions,
    /// AdaBoost.
    pub adaboost: AdaBoostOptions,
    /// Decision tree.
    pub tree: TreeOptions,
    /// Gradient boosting.
    pub boosting: BoostingOptions,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            models: ModelKind::ALL.to_vec(),
            seed: 0,
            threads: 0,
            max_bins: 64,
            svm: SvmOptions::default(),
            forest: ForestOptions::default(),
            adaboost: AdaBoostOptions::default(),
            tree: TreeOptions::default(),
            boosting: BoostingOptions::default(),
        }
    }
}

impl Options {
    /// Check every option that is used.
    pub fn check(&self) -> Result<(), BaselineError> {
        if self.models.is_empty() {
            return Err(BaselineError::Empty {
                what: "the list of models",
            });
        }
        if !(2..=256).contains(&self.max_bins) {
            return Err(BaselineError::bad_option(
                "max_bins",
                self.max_bins,
                "must be 2..=256",
            ));
        }
        for &m in &self.models {
            match m {
                ModelKind::Svm => self.svm.check()?,
                ModelKind::RandomForest => self.forest.check()?,
                ModelKind::AdaBoost => self.adaboost.check()?,
                ModelKind::DecisionTree => self.tree.check()?,
                ModelKind::GradientBoosting => self.boosting.check()?,
            }
        }
        Ok(())
    }

    /// The hyper-parameters of `model`, in a few words.
    pub fn describe(&self, model: ModelKind) -> String {
        let depth = |d: Option<usize>| d.map_or_else(|| "unlimited".to_string(), |d| d.to_string());
        match model {
            ModelKind::Svm => format!(
                "squared hinge, C={}, dual CD tol {}",
                self.svm.c, self.svm.tolerance
            ),
            ModelKind::RandomForest => format!(
                "{} trees, depth {}, {} features/split{}",
                self.forest.trees,
                depth(self.forest.max_depth),
                max_features(self.forest.max_features),
                if self.forest.bootstrap {
                    ", bootstrap"
                } else {
                    ""
                }
            ),
            ModelKind::AdaBoost => format!(
                "{} rounds, depth-{} trees, lr {}",
                self.adaboost.rounds, self.adaboost.max_depth, self.adaboost.learning_rate
            ),
            ModelKind::DecisionTree => format!(
                "Gini, depth {}, min leaf {}",
                depth(self.tree.max_depth),
                self.tree.min_samples_leaf
            ),
            ModelKind::GradientBoosting => format!(
                "{} rounds x 1 tree/class, depth {}, lr {}, subsample {}, {} features/split",
                self.boosting.rounds,
                self.boosting.max_depth,
                self.boosting.learning_rate,
                self.boosting.subsample,
                max_features(self.boosting.max_features)
            ),
        }
    }
}

fn max_features(m: crate::MaxFeatures) -> String {
    match m {
        crate::MaxFeatures::All => "all".into(),
        crate::MaxFeatures::Sqrt => "sqrt".into(),
        crate::MaxFeatures::Log2 => "log2".into(),
        crate::MaxFeatures::Fraction(f) => format!("{f}x"),
    }
}

/// What [`run`] reports while it works.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// Standardization (and binning, for the tree models) is done.
    Prepared {
        /// Training samples.
        train: usize,
        /// Test samples.
        test: usize,
        /// Features per sample.
        features: usize,
        /// Time it took.
        seconds: f64,
    },
    /// A model starts fitting.
    Started {
        /// The model.
        model: ModelKind,
        /// Its position in [`Options::models`].
        index: usize,
        /// Number of models.
        total: usize,
    },
    /// Trees, rounds or classes done of the model being fitted.
    Progress {
        /// The model.
        model: ModelKind,
        /// Steps done.
        done: usize,
        /// Steps in all.
        total: usize,
    },
    /// A model is fitted and measured.
    Finished(ModelResult),
}

/// One row of the table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelResult {
    /// The model.
    pub model: ModelKind,
    /// Its hyper-parameters, in a few words.
    pub params: String,
    /// Test accuracy, 0..=1.
    pub accuracy: f64,
    /// Test macro F1, 0..=1 (over the classes in the test truth or predictions).
    pub macro_f1: f64,
    /// Test F1 of each class, in label order.
    pub per_class_f1: Vec<f64>,
    /// Wall time of fitting (not counting the shared standardization and binning).
    pub fit_seconds: f64,
    /// Wall time of predicting the whole test part (one thread).
    pub predict_seconds: f64,
    /// Anything worth knowing (early stop, solver not converged).
    pub note: Option<String>,
}

/// The results of [`run`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaselineTable {
    /// The labels, in class-index order.
    pub labels: Vec<String>,
    /// Training samples.
    pub train: usize,
    /// Test samples.
    pub test: usize,
    /// Features per sample.
    pub features: usize,
    /// Options used.
    pub options: Options,
    /// Seconds of standardization and binning, shared by the models.
    pub prepare_seconds: f64,
    /// One row per model, in [`Options::models`] order.
    pub results: Vec<ModelResult>,
    /// Models measured elsewhere on the same test samples (the CNN), shown in the same table.
    #[serde(default)]
    pub reference: Vec<ReferenceRow>,
}

/// A model measured outside this crate on the same test samples, for the table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReferenceRow {
    /// What it is, e.g. `CNN (models/zoo/emoji/model.onnx, tract)`.
    pub name: String,
    /// Test accuracy, 0..=1.
    pub accuracy: f64,
    /// Test macro F1, 0..=1.
    pub macro_f1: f64,
    /// Wall time of predicting the whole test part, when measured.
    pub predict_seconds: Option<f64>,
}

impl BaselineTable {
    /// A markdown table (accuracy and macro F1 in percent, times in seconds) with the
    /// models' settings and notes below it.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} classes, {} training / {} test samples, {} features; seed {}\n",
            self.labels.len(),
            self.train,
            self.test,
            self.features,
            self.options.seed
        );
        s.push_str("| model | test accuracy | macro F1 | fit (s) | predict (s) |\n");
        s.push_str("| --- | ---: | ---: | ---: | ---: |\n");
        for r in &self.results {
            let _ = writeln!(
                s,
                "| {} | {:.2}% | {:.2}% | {:.2} | {:.3} |",
                r.model.name(),
                100.0 * r.accuracy,
                100.0 * r.macro_f1,
                r.fit_seconds,
                r.predict_seconds
            );
        }
        for r in &self.reference {
            let predict = r
                .predict_seconds
                .map_or_else(|| "-".to_owned(), |p| format!("{p:.3}"));
            let _ = writeln!(
                s,
                "| **{}** | **{:.2}%** | {:.2}% | - | {predict} |",
                r.name,
                100.0 * r.accuracy,
                100.0 * r.macro_f1,
            );
        }
        s.push('\n');
        for r in &self.results {
            let _ = write!(s, "- {}: {}", r.model.name(), r.params);
            if let Some(note) = &r.note {
                let _ = write!(s, "; {note}");
            }
            s.push('\n');
        }
        let _ = writeln!(
            s,
            "- standardization (train statistics) and binning: {:.2} s, not in the fit times",
            self.prepare_seconds
        );
        s
    }

    /// The table as pretty-printed JSON.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }
}

/// Fit every model of `options` on the `split.train` rows of `data` and measure it on the
/// `split.test` rows. Features are standardized with statistics of the training rows only.
pub fn run(
    data: &Dataset,
    split: &TrainTest,
    options: &Options,
    progress: &mut dyn FnMut(Event),
) -> Result<BaselineTable, BaselineError> {
    options.check()?;
    split.check(data.len())?;
    let started = Instant::now();
    let d = data.n_features();
    let classes = data.n_classes();
    let standardizer = Standardizer::fit(data, &split.train)?;
    let x_train = standardizer.transform(data, &split.train)?;
    let x_test = standardizer.transform(data, &split.test)?;
    let y_train: Vec<usize> = split.train.iter().map(|&i| data.targets()[i]).collect();
    let y_test: Vec<usize> = split.test.iter().map(|&i| data.targets()[i]).collect();
    let binned = options
        .models
        .iter()
        .any(|m| m.uses_trees())
        .then(|| Binned::new(&x_train, y_train.len(), d, options.max_bins));
    let prepare_seconds = started.elapsed().as_secs_f64();
    progress(Event::Prepared {
        train: y_train.len(),
        test: y_test.len(),
        features: d,
        seconds: prepare_seconds,
    });

    let train = Train {
        x: &x_train,
        d,
        y: &y_train,
        classes,
        seed: options.seed,
        threads: par::threads(options.threads),
    };
    let mut results = Vec::with_capacity(options.models.len());
    for (index, &model) in options.models.iter().enumerate() {
        progress(Event::Started {
            model,
            index,
            total: options.models.len(),
        });
        let mut step = |done, total| {
            progress(Event::Progress { model, done, total });
        };
        let started = Instant::now();
        let (fitted, note) = match (model, &binned) {
            (ModelKind::Svm, _) => {
                let s = svm::fit(&train, &options.svm, &mut step);
                let note = (s.unconverged > 0).then(|| {
                    format!(
                        "{} of {classes} one-vs-rest problems stopped at max_epochs {} before \
                         the tolerance",
                        s.unconverged, options.svm.max_epochs
                    )
                });
                (Fitted::Svm(s), note)
            }
            (ModelKind::DecisionTree, Some(b)) => {
                let t = fit_tree(&train, b, &options.tree);
                step(1, 1);
                (Fitted::Tree(t), None)
            }
            (ModelKind::RandomForest, Some(b)) => (
                Fitted::Forest(fit_forest(&train, b, &options.forest, &mut step)),
                None,
            ),
            (ModelKind::AdaBoost, Some(b)) => {
                let (trees, note) = fit_adaboost(&train, b, &options.adaboost, &mut step);
                (Fitted::AdaBoost(trees), note)
            }
            (ModelKind::GradientBoosting, Some(b)) => (
                Fitted::Boosting(fit_boosting(&train, b, &options.boosting, &mut step)),
                None,
            ),
            // `binned` exists whenever a tree model is asked for.
            (_, None) => continue,
        };
        let fit_seconds = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let pred: Vec<usize> = x_test
            .chunks(d)
            .map(|row| fitted.predict(row, classes))
            .collect();
        let predict_seconds = started.elapsed().as_secs_f64();
        let (per_class_f1, macro_f1) = metrics::f1(&y_test, &pred, classes);
        let result = ModelResult {
            model,
            params: options.describe(model),
            accuracy: metrics::accuracy(&y_test, &pred),
            macro_f1,
            per_class_f1,
            fit_seconds,
            predict_seconds,
            note,
        };
        progress(Event::Finished(result.clone()));
        results.push(result);
    }
    Ok(BaselineTable {
        labels: data.labels().to_vec(),
        train: y_train.len(),
        test: y_test.len(),
        features: d,
        options: options.clone(),
        prepare_seconds,
        results,
        reference: Vec::new(),
    })
}
