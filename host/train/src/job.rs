//! The tail every network's job shares, once its data is loaded and split ([`run`]): train,
//! export ONNX and check it against burn in tract, judge the exported model on the held-out
//! split in tract, and write the run's files. Knows no network: it works through the traits a
//! network implements ([`Deployable`], [`Exportable`],
//! [`Trainable`]) and the judgement its objective calls for ([`Assess`]: [`ClassAssessment`]
//! for the classifiers; the tagger brings its own).
//!
//! Files written in the output directory:
//! - `model.onnx`: the best-validation model, ending in its output activation;
//! - `manifest.json`: a `sentio_models::Manifest` (labels, input shape, preprocessing, sha256
//!   and size of `model.onnx`, training summary, evaluation figures);
//! - `history.json`: every epoch's train/validation loss and figure; `curves.png`: the same as
//!   a picture;
//! - the held-out report: `report.md`, `report.json` (and for classifiers `confusion.png`, and
//!   `worst.png` for gray images);
//! - `checkpoint/`: the last epoch's model and optimizer and the best model (for `resume`),
//!   when the job checkpoints.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::Device;
use sentio_infer::{LoadOptions, Model};
use sentio_models::labels::LabelSet;
use sentio_models::{
    DType, Figures, InputSpec, LabelSpec, Manifest, Precision, Preprocessing, Task,
};
use serde_json::{Value, json};

use crate::data::{Examples, Labels, Shape};
use crate::error::{Error, Result};
use crate::eval::{self, ClassFigures, Evaluation, class_figures, confusion_of, round4};
use crate::export::{self, Exportable, check_export};
use crate::files;
use crate::options::TrainOptions;
use crate::plot;
use crate::progress::{History, TrainProgress};
use crate::trainer::{self, CrossEntropy, LabelsOf, Objective, SetOf, Trainable, Trained};

/// A network a job can run end to end: trained, exported, judged and described in the manifest.
pub trait Deployable: Exportable {
    /// How the exported model is judged on the held-out split.
    type Assessment: Assess<Self>;
    /// The network's description for the manifest's `training.network` (layers, parameters).
    fn describe(&self, config: &Self::Config) -> Value;
    /// More of the manifest's training figures that the trained network knows (its input
    /// normalization, ...).
    fn training_figures(&self) -> Result<Figures> {
        Ok(Figures::new())
    }
}

/// How the tail judges the exported model on the held-out split, what it writes about it and
/// what the manifest records.
pub trait Assess<M: Exportable>: Sized {
    /// Judges the model (the exported one, in tract, and the trained one where it helps).
    fn assess(held: &HeldOut<'_, M>, progress: &mut dyn TrainProgress) -> Result<Self>;
    /// Writes the report files into `out`; returns their paths.
    fn write_report(&self, held: &HeldOut<'_, M>, out: &Path) -> Result<Vec<PathBuf>>;
    /// Adds the judgement's figures to the manifest's `eval`.
    fn eval_figures(&self, eval: &mut Figures) -> Result<()>;
    /// What the manifest's label spec says beside the labels (multi-label, output, ...).
    fn label_extra() -> Figures {
        Figures::new()
    }
}

/// The held-out split and the model to judge on it.
pub struct HeldOut<'a, M: Trainable> {
    /// The model's name.
    pub name: &'a str,
    /// The labels, in output order.
    pub labels: &'a [String],
    /// The examples.
    pub set: &'a SetOf<M>,
    /// The file of each example, when known (else empty).
    pub sources: Vec<PathBuf>,
    /// Which split it is (`test`, or `val` when the test split is empty).
    pub split: &'static str,
    /// The data in words, for reports (`DIR, test split (70 images)`).
    pub description: String,
    /// The trained model (in inference mode).
    pub model: &'a M,
    /// The exported model.
    pub onnx: &'a [u8],
}

impl<M: Trainable> HeldOut<'_, M> {
    /// The exported model loaded in tract.
    pub fn tract(&self) -> Result<Model> {
        let dims: Vec<usize> = std::iter::once(1).chain(self.set.shape.dims()).collect();
        let options = LoadOptions::new().name(self.name).shape(&dims);
        Model::load(self.onnx, &options)
            .map_err(|e| Error::Export(format!("tract cannot load the model: {e}")))
    }
}

/// What to train and where to write it.
#[derive(Clone, Debug)]
pub struct Job<C> {
    /// Model name in the manifest (`[a-z0-9][a-z0-9_-]*`), also the ONNX graph's name.
    pub name: String,
    /// Model version in the manifest.
    pub version: String,
    /// The task recorded in the manifest.
    pub task: Task,
    /// The label set's name (`emoji8`, ...).
    pub label_set: String,
    /// The labels, in class-index (output) order.
    pub labels: Vec<String>,
    /// The network's config.
    pub network: C,
    /// Training options (the checkpoint directory is set to `out/checkpoint`, or to none).
    pub train: TrainOptions,
    /// Fraction of the data held out for validation.
    pub val_fraction: f32,
    /// Fraction of the data held out for the test.
    pub test_fraction: f32,
    /// The output directory.
    pub out: PathBuf,
    /// Whether to write a checkpoint every epoch into `out/checkpoint` (which `resume`
    /// continues from).
    pub checkpoints: bool,
}

impl<C> Job<C> {
    /// A job training `network` on the labels of `labels` into `out`, version 1.0.0, with the
    /// default [`TrainOptions`], 10% of each class for validation and 10% for the test, and a
    /// checkpoint every epoch.
    pub fn new(
        name: &str,
        task: Task,
        labels: &LabelSet,
        network: C,
        out: impl Into<PathBuf>,
    ) -> Self {
        Self {
            name: name.into(),
            version: "1.0.0".into(),
            task,
            label_set: labels.name.into(),
            labels: labels.labels.iter().map(|l| (*l).to_owned()).collect(),
            network,
            train: TrainOptions::default(),
            val_fraction: 0.1,
            test_fraction: 0.1,
            out: out.into(),
            checkpoints: true,
        }
    }
}

/// A loaded dataset: its examples and what the reports and the manifest say about them.
#[derive(Clone, Debug)]
pub struct Data<S, L> {
    /// Every example.
    pub examples: Examples<S, L>,
    /// The file of every example, when known (else empty); the reports name them.
    pub sources: Vec<PathBuf>,
    /// Facts about the data for the manifest's training figures (`dataset`, `generator`, ...).
    pub summary: Figures,
    /// How the device prepares the model's input (the manifest's preprocessing).
    pub preprocessing: Preprocessing,
    /// What an example is called in reports and the manifest: `images`, `clips`.
    pub unit: &'static str,
}

/// The split of a [`Data`]'s examples, as index lists into them.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// The training examples.
    pub train: Vec<usize>,
    /// The validation examples.
    pub val: Vec<usize>,
    /// The test examples (may be empty: then the validation split is judged).
    pub test: Vec<usize>,
    /// How it was made, for the manifest (`stratified`, `by_speaker`, ...).
    pub method: String,
    /// The groups kept apart by the split (speakers), when it kept any.
    pub groups: Option<Groups>,
}

impl Split {
    /// `split` made by `method`, no groups kept apart.
    pub fn new(split: sentio_data::split::Split, method: &str) -> Self {
        Self {
            train: split.train,
            val: split.val,
            test: split.test,
            method: method.into(),
            groups: None,
        }
    }
}

/// The groups each part of a [`Split`] holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Groups {
    /// What a group is (`speakers`): the manifest's keys are `train_<name>`, ...
    pub name: String,
    /// The groups of the training, validation and test parts, each sorted.
    pub parts: [Vec<String>; 3],
}

/// What the tail measured and wrote.
#[derive(Debug)]
pub struct Finished<M: Deployable> {
    /// The trained models and every epoch.
    pub trained: Trained<M>,
    /// The judgement of the exported model on the held-out split.
    pub assessment: M::Assessment,
    /// Examples in the train / validation / test splits.
    pub split: [usize; 3],
    /// Largest |burn - tract| probability difference seen on the export check.
    pub export_max_diff: f32,
    /// Size of `model.onnx` in bytes.
    pub onnx_size: u64,
    /// Wall time of the tail (training included, loading excluded), in seconds.
    pub seconds: f32,
    /// The files written.
    pub files: Vec<PathBuf>,
}

/// Trains `job.network` on `split` of `data`, exports it and checks the export in tract, judges
/// the exported model on the test split (the validation split when the test is empty), and
/// writes the run's files into `job.out`.
pub fn run<M: Deployable>(
    job: &Job<M::Config>,
    data: &Data<M::Shape, LabelsOf<M>>,
    split: &Split,
    progress: &mut dyn TrainProgress,
) -> Result<Finished<M>> {
    let started = Instant::now();
    let classes = M::classes(&job.network);
    if job.labels.len() != classes {
        return Err(Error::option(
            "labels",
            format!(
                "{} labels for a network of {classes} classes",
                job.labels.len(),
            ),
        ));
    }
    files::create_dir(&job.out)?;
    let all = &data.examples;
    let (train, val, test) = (
        all.subset(&split.train),
        all.subset(&split.val),
        all.subset(&split.test),
    );
    let mut options = job.train.clone();
    options.checkpoint_dir = job.checkpoints.then(|| checkpoint_dir(&job.out));
    let trained = trainer::train_model::<M>(&job.network, &train, &val, &options, progress)?;
    let model = &trained.best;

    let (eval_set, eval_idx, split_name) = if test.is_empty() {
        (&val, &split.val, "val")
    } else {
        (&test, &split.test, "test")
    };
    progress.stage("exporting ONNX and checking it in tract");
    let onnx = model.to_onnx(&job.network, &job.name)?;
    let probe: Vec<&[f32]> = (0..eval_set.len().min(16))
        .map(|i| eval_set.example(i))
        .collect();
    let shape = M::shape(&job.network);
    let export_max_diff = check_export(export::max_difference(model, &shape, &onnx, &probe)?)?;

    let dataset = data
        .summary
        .get("dataset")
        .and_then(Value::as_str)
        .unwrap_or("the dataset");
    let groups = match &split.groups {
        Some(g) => {
            let part = if split_name == "test" { 2 } else { 1 };
            format!(" of {} held-out {}", g.parts[part].len(), g.name)
        }
        None => String::new(),
    };
    let held = HeldOut {
        name: &job.name,
        labels: &job.labels,
        set: eval_set,
        sources: eval_idx
            .iter()
            .filter_map(|&i| data.sources.get(i).cloned())
            .collect(),
        split: split_name,
        description: format!(
            "{dataset}, {split_name} split ({} {}{groups})",
            eval_set.len(),
            data.unit
        ),
        model,
        onnx: &onnx,
    };
    let assessment = M::Assessment::assess(&held, progress)?;
    let mut written = assessment.write_report(&held, &job.out)?;
    written.extend(write_model_files(&job.out, &onnx, &trained.history)?);

    let sizes = [train.len(), val.len(), test.len()];
    let mut manifest = Manifest::new(
        &job.name,
        &job.version,
        job.task.clone(),
        LabelSpec {
            set: job.label_set.clone(),
            labels: job.labels.clone(),
            extra: M::Assessment::label_extra(),
        },
        InputSpec {
            shape: std::iter::once(1).chain(shape.dims()).collect(),
            dtype: DType::F32,
            preprocessing: data.preprocessing.clone(),
            extra: Figures::new(),
        },
        Precision::F32,
    );
    manifest.model_sha256 = sentio_models::sha256(&onnx);
    manifest.model_size = onnx.len() as u64;
    let mut training = data.summary.clone();
    training.insert(data.unit.into(), Value::from(all.len()));
    training.insert("per_class".into(), label_counts(&job.labels, &all.labels));
    training.insert("split".into(), split_figures(job, split, sizes));
    training.insert("network".into(), model.describe(&job.network));
    training.extend(model.training_figures()?);
    training.insert("augment".into(), json!(job.train.augment));
    insert_training_figures::<M::Objective>(&mut training, &job.train, &trained.history);
    manifest.training = Some(training);
    let mut eval = Figures::new();
    eval.insert("split".into(), Value::from(split_name));
    eval.insert(data.unit.into(), Value::from(eval_set.len()));
    if let Some(best) = trained.history.best() {
        let figure = <M::Objective as Objective>::FIGURE;
        eval.insert(
            format!("val_{figure}"),
            Value::from(round4(best.val_accuracy)),
        );
        eval.insert("val_loss".into(), Value::from(round4(best.val_loss)));
    }
    assessment.eval_figures(&mut eval)?;
    eval.insert("export_max_abs_diff".into(), Value::from(export_max_diff));
    eval.insert(
        "export_checked_with".into(),
        Value::from("tract (sentio-infer)"),
    );
    manifest.eval = Some(eval);
    written.push(write_manifest(&manifest, &job.out)?);

    Ok(Finished {
        trained,
        assessment,
        split: sizes,
        export_max_diff,
        onnx_size: onnx.len() as u64,
        seconds: started.elapsed().as_secs_f32(),
        files: written,
    })
}

/// The manifest's `training.split`: the sizes, fractions, method and seed, and the groups of
/// each part when the split kept groups apart.
fn split_figures<C>(job: &Job<C>, split: &Split, [train, val, test]: [usize; 3]) -> Value {
    let mut figures = json!({
        "train": train, "val": val, "test": test,
        "val_fraction": job.val_fraction, "test_fraction": job.test_fraction,
        "method": split.method, "seed": job.train.seed,
    });
    if let (Some(groups), Some(map)) = (&split.groups, figures.as_object_mut()) {
        for (part, names) in ["train", "val", "test"].iter().zip(&groups.parts) {
            map.insert(format!("{part}_{}", groups.name), json!(names));
        }
    }
    figures
}

/// The judgement of a classifier (one class per example): burn's predictions on the held-out
/// split and the exported model's [`Evaluation`] in tract (what ships is what is reported).
#[derive(Clone, Debug)]
pub struct ClassAssessment {
    /// Accuracy of the trained model (burn).
    pub burn_accuracy: f32,
    /// burn's per-class precision/recall/F1.
    pub burn_per_class: Vec<ClassFigures>,
    /// burn's confusion matrix: `confusion[true][predicted]`.
    pub burn_confusion: Vec<Vec<usize>>,
    /// The exported model's figures in tract.
    pub evaluation: Evaluation,
}

impl<M> Assess<M> for ClassAssessment
where
    M: Exportable + Trainable<Objective = CrossEntropy>,
{
    fn assess(held: &HeldOut<'_, M>, progress: &mut dyn TrainProgress) -> Result<Self> {
        progress.stage(&format!("evaluating on {}", held.description));
        let set = held.set;
        let classes = held.labels.len();
        let predicted = trainer::predict(held.model, set, &Device::flex());
        let (confusion, accuracy) = confusion_of(&set.labels, &predicted, classes);
        let per_class = class_figures(&confusion, held.labels);

        progress.stage("evaluating the exported model in tract");
        let mut tract = held.tract()?;
        let sources = (!held.sources.is_empty()).then_some(held.sources.as_slice());
        let evaluation = eval::evaluate_model(
            &mut tract,
            held.name,
            &held.description,
            held.labels,
            &set.labels,
            sources,
            &mut |i, buffer| {
                let example = set.example(i);
                if example.len() != buffer.len() {
                    return Err(Error::Eval(format!(
                        "the model takes {} values, the examples have {}",
                        buffer.len(),
                        example.len()
                    )));
                }
                buffer.copy_from_slice(example);
                Ok(())
            },
            &mut |_, _| {},
        )?;
        if evaluation.confusion != confusion {
            // tract and burn agree to EXPORT_TOLERANCE; an example on a near-tie may still flip.
            progress.stage(&format!(
                "note: tract's {} accuracy {:.4} differs from burn's {accuracy:.4} (near-tied examples)",
                held.split, evaluation.accuracy
            ));
        }
        Ok(Self {
            burn_accuracy: accuracy,
            burn_per_class: per_class,
            burn_confusion: confusion,
            evaluation,
        })
    }

    /// `report.md`, `report.json`, `confusion.png`, and `worst.png` when the examples are gray
    /// images.
    fn write_report(&self, held: &HeldOut<'_, M>, out: &Path) -> Result<Vec<PathBuf>> {
        let set = held.set;
        let picture = |e: &eval::Example| set.shape.picture(set.example(e.index));
        self.evaluation.write_report(out, 18, Some(&picture))
    }

    /// The exported model's accuracy, macro F1, per-class figures and confusion matrix, and
    /// burn's accuracy beside them.
    fn eval_figures(&self, eval: &mut Figures) -> Result<()> {
        let e = &self.evaluation;
        eval.insert("accuracy".into(), Value::from(round4(e.accuracy)));
        eval.insert(
            "burn_accuracy".into(),
            Value::from(round4(self.burn_accuracy)),
        );
        eval.insert("macro_f1".into(), Value::from(round4(e.macro_f1)));
        eval.insert(
            "per_class".into(),
            serde_json::to_value(&e.per_class)
                .map_err(|e| Error::Export(format!("serializing the per-class figures: {e}")))?,
        );
        eval.insert("confusion".into(), json!(e.confusion));
        Ok(())
    }
}

/// What a classifier's job measured and wrote.
#[derive(Clone, Debug)]
pub struct Report {
    /// Every epoch.
    pub history: History,
    /// Accuracy of the kept model on the test split (burn).
    pub test_accuracy: f32,
    /// Per-class precision/recall/F1 on the test split (burn).
    pub per_class: Vec<ClassFigures>,
    /// Confusion matrix on the test split: `confusion[true][predicted]` (burn).
    pub confusion: Vec<Vec<usize>>,
    /// Examples in the train / validation / test splits.
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

impl Report {
    /// The report of a finished classifier's run.
    pub fn new<M: Deployable<Assessment = ClassAssessment>>(finished: Finished<M>) -> Self {
        let a = finished.assessment;
        Self {
            history: finished.trained.history,
            test_accuracy: a.burn_accuracy,
            per_class: a.burn_per_class,
            confusion: a.burn_confusion,
            split: finished.split,
            export_max_diff: finished.export_max_diff,
            onnx_size: finished.onnx_size,
            seconds: finished.seconds,
            files: finished.files,
        }
    }
}

/// Writes `model.onnx`, `history.json` and `curves.png` into `out`; returns their paths.
fn write_model_files(out: &Path, onnx: &[u8], history: &History) -> Result<Vec<PathBuf>> {
    let onnx_path = out.join("model.onnx");
    files::write_bytes(&onnx_path, onnx)?;
    let history_path = out.join("history.json");
    let history_json = serde_json::to_vec_pretty(history)
        .map_err(|e| Error::Export(format!("serializing the history: {e}")))?;
    files::write_bytes(&history_path, &history_json)?;
    let curves_path = out.join("curves.png");
    plot::write_curves(history, &curves_path)?;
    Ok(vec![onnx_path, history_path, curves_path])
}

/// The manifest's training figures every job records: optimizer, loss, batch, seed, epochs,
/// best epoch and how it was chosen, early stop, training time and framework.
fn insert_training_figures<O: Objective>(
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
    training.insert("loss".into(), Value::from(O::LOSS));
    training.insert(
        "selection".into(),
        Value::from(format!(
            "the epoch with the best validation {}",
            O::FIGURE.replace('_', " ")
        )),
    );
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

/// Validates `manifest` and writes it to `out/manifest.json`; returns the path.
fn write_manifest(manifest: &Manifest, out: &Path) -> Result<PathBuf> {
    manifest.validate()?;
    let path = out.join("manifest.json");
    files::write_bytes(&path, manifest.to_json_pretty()?.as_bytes())?;
    Ok(path)
}

/// The directory a job writing to `out` keeps its checkpoint in.
pub fn checkpoint_dir(out: &Path) -> PathBuf {
    out.join("checkpoint")
}

/// How many examples show each label, keyed by the label's name.
fn label_counts<L: Labels>(names: &[String], labels: &L) -> Value {
    Value::Object(
        names
            .iter()
            .zip(labels.counts(names.len()))
            .map(|(l, n)| (l.clone(), Value::from(n)))
            .collect(),
    )
}

/// The manifest's preprocessing of `side`x`side` images of `kind` (`gray`, `rgb`): decoded,
/// resized, scaled to 0..1.
pub fn image_preprocessing(kind: &str, side: usize) -> Preprocessing {
    Preprocessing {
        kind: kind.into(),
        width: Some(side as u32),
        height: Some(side as u32),
        scale: Some(1.0 / 255.0),
        ..Preprocessing::default()
    }
}

/// What a manifest records of the dataset in `dir`: its path and, when it has a dataset.json,
/// the generator, its seed and the public source it was imported from.
pub(crate) fn dataset_figures(dir: &Path) -> Figures {
    let mut figures = Figures::new();
    figures.insert("dataset".into(), Value::from(dir.display().to_string()));
    if let Ok(Some(info)) = sentio_data::DatasetInfo::read(dir) {
        figures.insert("generator".into(), Value::from(info.generator));
        if let Some(seed) = info.seed {
            figures.insert("data_seed".into(), Value::from(seed));
        }
        if let Some(source) = info.source {
            figures.insert("source".into(), Value::from(source));
        }
    }
    figures
}
