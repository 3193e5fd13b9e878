//! `sentio-baseline`: the classical baselines reported beside each CNN (`sentio baseline`):
//! a linear SVM, a random forest, AdaBoost, a decision tree and gradient boosting, fitted on
//! the same split and the same features.
//!
//! - [`features`]: feature vectors from gray images, raw [`features::pixels`] or a HOG-like
//!   descriptor [`features::hog`]; speech features come from elsewhere as plain rows.
//! - [`Dataset`] (checked rows and labels), [`TrainTest`] (the caller's split, e.g.
//!   `sentio_data::split::stratified` or `by_group`), [`Standardizer`] (train statistics only).
//! - [`run`]: fits each model of [`Options`], measures test accuracy, macro F1, fit and predict
//!   time, reports through [`Event`]s and returns a [`BaselineTable`] (markdown or JSON).
//!
//! All five models are this crate's own code (about 1000 lines without tests), on one CART with
//! histogram splits and sample weights (the private `tree` module), plus a one-vs-rest linear SVM
//! by dual coordinate descent. Why not a crate: smartcore 0.7 has SVC, trees and forests but
//! no AdaBoost, no gradient boosting and no sample weights in its API; linfa 0.8 (trees, ensemble, svm)
//! has AdaBoost (by weighted resampling) but no gradient boosting and brings ndarray and ~50
//! crates; perpetual and forust-ml add gradient boosting only, each with ~30 crates and minutes
//! of clean build. Ours adds no crate the workspace does not already build (image, serde,
//! serde_json, thiserror, through sentio-data). Every model is seeded and deterministic, and
//! gives the same result for any number of threads.
//!
//! What it must not do: print or draw (callers get a callback), depend on a deep-learning or
//! inference framework, or panic on any input (bad input is a [`BaselineError`] with a help
//! line).
//!
//! ```
//! use sentio_baseline::{Dataset, ModelKind, Options, TrainTest, run};
//!
//! // Two Gaussian-ish blobs on a line.
//! let rows: Vec<Vec<f32>> = (0..40).map(|i| vec![(i % 2) as f32 * 4.0 + (i % 7) as f32 * 0.1]).collect();
//! let y: Vec<usize> = (0..40).map(|i| i % 2).collect();
//! let data = Dataset::from_rows(rows, y, vec!["a".into(), "b".into()])?;
//! let split = TrainTest { train: (0..30).collect(), test: (30..40).collect() };
//! let options = Options { models: vec![ModelKind::DecisionTree, ModelKind::Svm], ..Options::default() };
//! let table = run(&data, &split, &options, &mut |_event| {})?;
//! assert_eq!(table.results[0].accuracy, 1.0);
//! println!("{}", table.to_markdown());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod dataset;
mod error;
pub mod features;
pub mod metrics;
mod models;
mod par;
mod run;
mod svm;
mod tree;

pub use dataset::{Dataset, Standardizer, TrainTest};
pub use error::BaselineError;
pub use features::{FeatureKind, HogConfig};
pub use models::{AdaBoostOptions, BoostingOptions, ForestOptions, MaxFeatures, TreeOptions};
pub use run::{BaselineTable, Event, ModelKind, ModelResult, Options, ReferenceRow, run};
pub use svm::SvmOptions;
