//! A whole training job for an image classifier: split, train, evaluate on the test split,
//! export ONNX, check the export in tract, and write the run's files.
//!
//! Files written in the output directory:
//! - `model.onnx`: the best-validation model, ending in a softmax;
//! - `manifest.json`: a `sentio_models::Manifest` (labels, input shape, preprocessing, sha256
//!   and size of `model.onnx`, training summary, evaluation figures);
//! - `history.json`: every epoch's train/validation loss and accuracy;
//! - `curves.png`: the same as a picture;
//! - `checkpoint/`: the last epoch's model and optimizer and the best model (for `resume`).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::{Device, Tensor};
use sentio_data::ImageFolder;
use sentio_infer::{LoadOptions, Model};
use sentio_models::labels::LabelSet;
use sentio_models::{
    DType, Figures, InputSpec, LabelSpec, Manifest, Precision, Preprocessing, Task,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::cnn::CnnConfig;
use crate::data::ImageSet;
use crate::error::{Error, Result};
use crate::eval;
use crate::export;
use crate::plot;
use crate::trainer::{self, History, TrainOptions, TrainProgress, Trainable};

/// Largest difference allowed between burn's and tract's probabilities on the export check.
pub const EXPORT_TOLERANCE: f32 = 1e-4;

/// An image classifier a [`Job`] trains: its probabilities and its ONNX form.
pub trait ImageClassifier: Trainable<Data = ImageSet> {
    /// Class probabilities `[batch, classes]` of `input` `[batch, 1, side, side]` (what the
    /// exported model outputs).
    fn probabilities(&self, input: Tensor<4>) -> Tensor<2>;
    /// The model (in inference mode) as ONNX bytes, input `[1, 1, side, side]`, output
    /// `[1, classes]` probabilities.
    fn to_onnx(&self, side: usize, graph_name: &str) -> Result<Vec<u8>>;
}

/// The shape of an [`ImageClassifier`] (what a [`Job`] holds): the network it builds, its input
/// and outputs, and what the manifest says about it.
pub trait ImageNetwork: Clone + PartialEq + std::fmt::Debug + Serialize + DeserializeOwned {
    /// The network this config builds.
    type Model: ImageClassifier<Config = Self>;
    /// Input width and height in pixels (one gray channel).
    fn side(&self) -> usize;
    /// Output classes.
    fn classes(&self) -> usize;
    /// The network's description for the manifest's `training.network` (layers, parameters).
    fn describe(&self, model: &Self::Model) -> Value;
}

/// What to train and where to write it.
#[derive(Clone, Debug)]
pub struct Job<C = CnnConfig> {
    /// Model name in the manifest (`[a-z0-9][a-z0-9_-]*`).
    pub name: String,
    /// Model version in the manifest.
    pub version: String,
    /// The task recorded in the manifest.
    pub task: Task,
    /// The label set's name (`emoji8`, ...).
    pub label_set: String,
    /// The labels, in class-index (output) order.
    pub labels: Vec<String>,
    /// The network.
    pub cnn: C,
    /// Training options (the checkpoint directory is set to `out/checkpoint`).
    pub train: TrainOptions,
    /// Fraction of each class held out for validation.
    pub val_fraction: f32,
    /// Fraction of each class held out for the test.
    pub test_fraction: f32,
    /// The output directory.
    pub out: PathBuf,
    /// Free-form facts about the data for the manifest (source, generator, ...).
    pub data_summary: Figures,
}

/// Per-class test figures.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClassFigures {
    /// The label.
    pub label: String,
    /// Of the images predicted as this class, the fraction that are.
    pub precision: f32,
    /// Of the images of this class, the fraction predicted as it.
    pub recall: f32,
    /// Harmonic mean of precision and recall.
    pub f1: f32,
    /// Test images of this class.
    pub support: usize,
}

/// What a finished job measured and wrote.
#[derive(Clone, Debug)]
pub struct Report {
    /// Every epoch.
    pub history: History,
    /// Accuracy of the kept model on the test split.
    pub test_accuracy: f32,
    /// Per-class precision/recall/F1 on the test split.
    pub per_class: Vec<ClassFigures>,
    /// Confusion matrix on the test split: `confusion[true][predicted]`.
    pub confusion: Vec<Vec<usize>>,
    /// Images in the train / validation / test splits.
    pub split: [usize; 3],
    /// Largest |burn - tract| probability difference seen on the export check.
    pub export_max_diff: f32,
    /// Size of `model.onnx` in bytes.
    pub onnx_size: u64,
    /// Wall time of the whole job, loading excluded, in seconds.
    pub seconds: f32,
    /// The files written.
    pub files: Vec<PathBuf>,
}

/// Splits `images` (stratified, seeded with the job's seed), trains, evaluates, exports and
/// writes the job's files. `split` is given by the caller (see `sentio_data::split`) as index
/// lists into `images`.
pub fn run<C: ImageNetwork>(
    job: &Job<C>,
    images: &ImageSet,
    split: [&[usize]; 3],
    progress: &mut dyn TrainProgress,
) -> Result<Report> {
    let started = Instant::now();
    let (side, classes) = (job.cnn.side(), job.cnn.classes());
    if job.labels.len() != classes {
        return Err(Error::option(
            "labels",
            format!(
                "{} labels for a network of {classes} classes",
                job.labels.len(),
            ),
        ));
    }
    fs::create_dir_all(&job.out).map_err(|e| Error::io("creating directory", &job.out, e))?;
    let [train_idx, val_idx, test_idx] = split;
    let (train, val, test) = (
        images.subset(train_idx),
        images.subset(val_idx),
        images.subset(test_idx),
    );
    let mut options = job.train.clone();
    options.checkpoint_dir = Some(checkpoint_dir(&job.out));
    let trained = trainer::train_model::<C::Model>(&job.cnn, &train, &val, &options, progress)?;

    progress.stage("evaluating on the test split");
    let device = Device::flex();
    let model = &trained.best;
    let eval_set = if test.is_empty() { &val } else { &test };
    let predicted = trainer::predict(model, eval_set, &device);
    let (confusion, test_accuracy) = confusion_of(&eval_set.labels, &predicted, classes);
    let per_class = class_figures(&confusion, &job.labels);

    progress.stage("exporting ONNX and checking it in tract");
    let onnx = model.to_onnx(side, &job.name)?;
    let probe: Vec<&[f32]> = (0..eval_set.len().min(16))
        .map(|i| eval_set.image(i))
        .collect();
    let export_max_diff = check_export(export::max_difference(model, &onnx, side, &probe)?)?;

    progress.stage("evaluating the exported model in tract");
    let split_name = if test.is_empty() { "val" } else { "test" };
    let evaluation = evaluate_exported(job, &onnx, eval_set, split_name)?;
    if evaluation.confusion != confusion {
        // tract and burn agree to EXPORT_TOLERANCE; an example on a near-tie may still flip.
        progress.stage(&format!(
            "note: tract's {split_name} accuracy {:.4} differs from burn's {test_accuracy:.4} (near-tied examples)",
            evaluation.accuracy
        ));
    }

    let mut files = Vec::new();
    let image_of = |e: &eval::Example| -> Option<image::GrayImage> {
        let pixels = eval_set.image(e.index);
        let bytes = pixels
            .iter()
            .map(|v| (v * 255.0).round().clamp(0.0, 255.0) as u8);
        image::GrayImage::from_raw(side as u32, side as u32, bytes.collect())
    };
    files.extend(evaluation.write_report(&job.out, 18, Some(&image_of))?);
    files.extend(write_model_files(&job.out, &onnx, &trained.history)?);

    let seconds = started.elapsed().as_secs_f32();
    let mut manifest = Manifest::new(
        &job.name,
        &job.version,
        job.task.clone(),
        LabelSpec {
            set: job.label_set.clone(),
            labels: job.labels.clone(),
            extra: Figures::new(),
        },
        InputSpec {
            shape: vec![1, 1, side, side],
            dtype: DType::F32,
            preprocessing: Preprocessing {
                kind: "gray".into(),
                width: Some(side as u32),
                height: Some(side as u32),
                scale: Some(1.0 / 255.0),
                ..Preprocessing::default()
            },
            extra: Figures::new(),
        },
        Precision::F32,
    );
    manifest.model_sha256 = sentio_models::sha256(&onnx);
    manifest.model_size = onnx.len() as u64;
    let mut training = job.data_summary.clone();
    let counts = |set: &ImageSet| -> Value {
        let c = set.class_counts(classes);
        Value::Object(
            job.labels
                .iter()
                .zip(c)
                .map(|(l, n)| (l.clone(), Value::from(n)))
                .collect(),
        )
    };
    training.insert("images".into(), Value::from(images.len()));
    training.insert("per_class".into(), counts(images));
    training.insert(
        "split".into(),
        json!({
            "train": train.len(), "val": val.len(), "test": test.len(),
            "val_fraction": job.val_fraction, "test_fraction": job.test_fraction,
            "method": "stratified", "seed": job.train.seed,
        }),
    );
    training.insert("network".into(), job.cnn.describe(model));
    training.insert("augment".into(), json!(job.train.augment));
    insert_training_figures(&mut training, &job.train, &trained.history);
    manifest.training = Some(training);
    let mut eval = Figures::new();
    eval.insert(
        "split".into(),
        Value::from(if test.is_empty() { "val" } else { "test" }),
    );
    eval.insert("images".into(), Value::from(eval_set.len()));
    eval.insert("accuracy".into(), Value::from(round4(test_accuracy)));
    insert_eval_figures(
        &mut eval,
        &trained.history,
        &per_class,
        &confusion,
        export_max_diff,
    )?;
    manifest.eval = Some(eval);
    files.push(write_manifest(&manifest, &job.out)?);

    Ok(Report {
        test_accuracy,
        per_class,
        confusion,
        split: [train.len(), val.len(), test.len()],
        export_max_diff,
        onnx_size: onnx.len() as u64,
        seconds,
        files,
        history: trained.history,
    })
}

/// Loads the image folder at `data` (one sub-folder per label of `job.labels`, matched by
/// name), splits it (stratified, seeded with the job's seed) and [`run`]s the job on it; what
/// the folder's `dataset.json` says about the data joins the job's data summary.
pub fn run_on_folder<C: ImageNetwork>(
    job: &Job<C>,
    data: &Path,
    progress: &mut dyn TrainProgress,
) -> Result<Report> {
    let labels: Vec<&str> = job.labels.iter().map(String::as_str).collect();
    let (images, summary) =
        load_image_folder(data, job.cnn.side(), &job.label_set, &labels, progress)?;
    let split = sentio_data::split::stratified(
        &images.labels,
        job.val_fraction,
        job.test_fraction,
        job.train.seed,
    );
    if split.train.is_empty() || split.val.is_empty() {
        return Err(Error::Dataset {
            path: data.to_path_buf(),
            reason: format!(
                "{} images are too few to split into training and validation sets",
                images.len()
            ),
        });
    }
    let mut job = job.clone();
    job.data_summary.extend(summary);
    run(
        &job,
        &images,
        [&split.train, &split.val, &split.test],
        progress,
    )
}

impl<C> Job<C> {
    /// A job training `cnn` on the labels of `labels` into `out`, version 1.0.0, with the
    /// default [`TrainOptions`], 10% of each class for validation and 10% for the test, and no
    /// data summary yet.
    pub fn new(name: &str, task: Task, labels: &LabelSet, cnn: C, out: impl Into<PathBuf>) -> Self {
        Self {
            name: name.into(),
            version: "1.0.0".into(),
            task,
            label_set: labels.name.into(),
            labels: labels.labels.iter().map(|l| (*l).to_owned()).collect(),
            cnn,
            train: TrainOptions::default(),
            val_fraction: 0.1,
            test_fraction: 0.1,
            out: out.into(),
            data_summary: Figures::new(),
        }
    }
}

/// Loads every image of the folder at `dir` as `side`x`side` gray, with class indices in the
/// order of `labels`, the labels of the set called `set` (folder labels are matched by name).
/// Also returns a summary of the dataset for the manifest.
pub fn load_image_folder(
    dir: &Path,
    side: usize,
    set: &str,
    labels: &[&str],
    progress: &mut dyn TrainProgress,
) -> Result<(ImageSet, Figures)> {
    let folder = ImageFolder::open(dir)?;
    let bad = |reason: String| Error::Dataset {
        path: dir.to_path_buf(),
        reason,
    };
    let mut to_set = Vec::with_capacity(folder.labels.len());
    for label in &folder.labels {
        match labels.iter().position(|l| l == label) {
            Some(i) => to_set.push(i),
            None => {
                return Err(bad(format!(
                    "label folder `{label}` is not in the {set} label set [{}]",
                    labels.join(", ")
                )));
            }
        }
    }
    progress.stage(&format!(
        "loading {} images from {}",
        folder.samples.len(),
        dir.display()
    ));
    let mut images = ImageSet::new(side);
    images.pixels.reserve(folder.samples.len() * side * side);
    for (i, sample) in folder.samples.iter().enumerate() {
        let pixels = folder.load_gray(i, side as u32, side as u32)?;
        let Some(&label) = to_set.get(sample.label) else {
            return Err(bad(format!(
                "{} has label index {} but the folder has {} labels",
                sample.path.display(),
                sample.label,
                to_set.len()
            )));
        };
        if !images.push(&pixels, label) {
            return Err(bad(format!(
                "{} did not load as {side}x{side}",
                sample.path.display()
            )));
        }
    }
    let counts = images.class_counts(labels.len());
    if let Some(missing) = counts.iter().position(|c| *c == 0) {
        return Err(bad(format!(
            "class `{}` has no images (every class of {set} needs some)",
            labels[missing]
        )));
    }
    let mut summary = Figures::new();
    summary.insert("dataset".into(), Value::from(dir.display().to_string()));
    if let Ok(Some(info)) = sentio_data::DatasetInfo::read(dir) {
        summary.insert("generator".into(), Value::from(info.generator));
        if let Some(seed) = info.seed {
            summary.insert("data_seed".into(), Value::from(seed));
        }
        if let Some(source) = info.source {
            summary.insert("source".into(), Value::from(source));
        }
    }
    Ok((images, summary))
}

/// The exported model run in tract on `set` (what ships is what is reported).
fn evaluate_exported<C>(
    job: &Job<C>,
    onnx: &[u8],
    set: &ImageSet,
    split_name: &str,
) -> Result<eval::Evaluation> {
    let options = LoadOptions::new().name(&job.name);
    let mut model = Model::load(onnx, &options)
        .map_err(|e| Error::Export(format!("tract cannot load the model: {e}")))?;
    let data = job
        .data_summary
        .get("dataset")
        .and_then(Value::as_str)
        .unwrap_or("the dataset");
    eval::evaluate_model(
        &mut model,
        &job.name,
        &format!("{data}, {split_name} split ({} images)", set.len()),
        &job.labels,
        &set.labels,
        None,
        &mut |i, buffer| {
            let image = set.image(i);
            if image.len() != buffer.len() {
                return Err(Error::Eval(format!(
                    "the model takes {} values, the images have {}",
                    buffer.len(),
                    image.len()
                )));
            }
            buffer.copy_from_slice(image);
            Ok(())
        },
        &mut |_, _| {},
    )
}

/// Per-class precision, recall, F1 and support from a confusion matrix (`[true][predicted]`).
pub fn class_figures(confusion: &[Vec<usize>], labels: &[String]) -> Vec<ClassFigures> {
    labels
        .iter()
        .enumerate()
        .map(|(c, label)| {
            let tp = confusion
                .get(c)
                .and_then(|r| r.get(c))
                .copied()
                .unwrap_or(0) as f32;
            let support: usize = confusion.get(c).map(|r| r.iter().sum()).unwrap_or(0);
            let predicted: usize = confusion.iter().filter_map(|r| r.get(c)).sum();
            let precision = if predicted > 0 {
                tp / predicted as f32
            } else {
                0.0
            };
            let recall = if support > 0 {
                tp / support as f32
            } else {
                0.0
            };
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            ClassFigures {
                label: label.clone(),
                precision: round4(precision),
                recall: round4(recall),
                f1: round4(f1),
                support,
            }
        })
        .collect()
}

fn round4(v: f32) -> f32 {
    (v * 10_000.0).round() / 10_000.0
}

/// The confusion matrix (rows: true class, columns: predicted) of `predicted` against `labels`,
/// and the accuracy it gives.
pub(crate) fn confusion_of(
    labels: &[usize],
    predicted: &[usize],
    classes: usize,
) -> (Vec<Vec<usize>>, f32) {
    let mut confusion = vec![vec![0usize; classes]; classes];
    for (&t, &p) in labels.iter().zip(predicted) {
        if t < classes && p < classes {
            confusion[t][p] += 1;
        }
    }
    let correct: usize = (0..classes).map(|c| confusion[c][c]).sum();
    (confusion, correct as f32 / labels.len().max(1) as f32)
}

/// `max_diff`, the largest difference between tract's and burn's outputs on the exported model,
/// or an error when it is above [`EXPORT_TOLERANCE`].
pub(crate) fn check_export(max_diff: f32) -> Result<f32> {
    if max_diff > EXPORT_TOLERANCE {
        return Err(Error::Export(format!(
            "tract and burn differ by {max_diff:e} (more than {EXPORT_TOLERANCE:e})"
        )));
    }
    Ok(max_diff)
}

/// Writes `model.onnx`, `history.json` and `curves.png` into `out`; returns their paths.
pub(crate) fn write_model_files(
    out: &Path,
    onnx: &[u8],
    history: &History,
) -> Result<Vec<PathBuf>> {
    let onnx_path = out.join("model.onnx");
    trainer::write_atomic(&onnx_path, onnx)?;
    let history_path = out.join("history.json");
    let history_json = serde_json::to_vec_pretty(history)
        .map_err(|e| Error::Export(format!("serializing the history: {e}")))?;
    trainer::write_atomic(&history_path, &history_json)?;
    let curves_path = out.join("curves.png");
    plot::write_curves(history, &curves_path)?;
    Ok(vec![onnx_path, history_path, curves_path])
}

/// The manifest's training figures every job records: optimizer, loss, batch, seed, epochs,
/// best epoch, early stop, training time and framework.
pub(crate) fn insert_training_figures(
    training: &mut Figures,
    options: &TrainOptions,
    history: &History,
) {
    training.insert(
        "optimizer".into(),
        json!({
            "name": "adam",
            "learning_rate": options.learning_rate,
            "schedule": options.schedule,
        }),
    );
    training.insert("loss".into(), Value::from("cross_entropy"));
    training.insert("batch".into(), Value::from(options.batch));
    training.insert("seed".into(), Value::from(options.seed));
    training.insert("max_epochs".into(), Value::from(options.epochs));
    training.insert("patience".into(), Value::from(options.patience));
    training.insert("epochs_run".into(), Value::from(history.epochs.len()));
    training.insert("best_epoch".into(), json!(history.best_epoch));
    training.insert("stopped_early".into(), Value::from(history.stopped_early));
    let seconds: f64 = history.epochs.iter().map(|e| f64::from(e.seconds)).sum();
    training.insert("train_seconds".into(), Value::from(seconds.round()));
    training.insert(
        "framework".into(),
        Value::from("burn 0.22.1, flex CPU backend (sentio-train)"),
    );
}

/// The manifest's evaluation figures every job records besides its accuracy: the best epoch's
/// validation accuracy and loss, per-class figures, the confusion matrix and the export check.
pub(crate) fn insert_eval_figures(
    eval: &mut Figures,
    history: &History,
    per_class: &[ClassFigures],
    confusion: &[Vec<usize>],
    export_max_diff: f32,
) -> Result<()> {
    if let Some(best) = history.best() {
        eval.insert(
            "val_accuracy".into(),
            Value::from(round4(best.val_accuracy)),
        );
        eval.insert("val_loss".into(), Value::from(round4(best.val_loss)));
    }
    eval.insert(
        "per_class".into(),
        serde_json::to_value(per_class)
            .map_err(|e| Error::Export(format!("serializing the per-class figures: {e}")))?,
    );
    eval.insert("confusion".into(), json!(confusion));
    eval.insert("export_max_abs_diff".into(), Value::from(export_max_diff));
    eval.insert(
        "export_checked_with".into(),
        Value::from("tract (sentio-infer)"),
    );
    Ok(())
}

/// Validates `manifest` and writes it to `out/manifest.json`; returns the path.
pub(crate) fn write_manifest(manifest: &Manifest, out: &Path) -> Result<PathBuf> {
    manifest.validate()?;
    let path = out.join("manifest.json");
    trainer::write_atomic(&path, manifest.to_json_pretty()?.as_bytes())?;
    Ok(path)
}

/// The directory a job writing to `out` keeps its checkpoint in.
pub fn checkpoint_dir(out: &Path) -> PathBuf {
    out.join("checkpoint")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn figures_from_confusion() {
        let confusion = vec![vec![8, 2], vec![1, 9]];
        let labels = vec!["a".to_string(), "b".to_string()];
        let f = class_figures(&confusion, &labels);
        assert_eq!(f[0].support, 10);
        assert!((f[0].precision - 8.0 / 9.0).abs() < 1e-3);
        assert!((f[0].recall - 0.8).abs() < 1e-4);
        assert!((f[1].recall - 0.9).abs() < 1e-4);
    }
}
