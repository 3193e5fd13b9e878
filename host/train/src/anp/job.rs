//! The `anp` job (`sentio train anp`): a scene set (`sentio_data::SceneSet`, `anp32`) loaded
//! as 64x64 RGB, split, the tagger trained with binary cross-entropy, exported, checked and
//! evaluated in tract.
//!
//! Files written in the output directory:
//! - `model.onnx`: input `[1, 3, 64, 64]` f32 RGB in 0..1, output `[1, 32]` independent
//!   probabilities (sigmoid in the graph);
//! - `manifest.json`: task `anp`, label set `anp32` (marked multi-label), input and
//!   preprocessing (`rgb`), sha256 and size, training recipe and data summary, test figures;
//! - `report.md`, `report.json`: the test split through tract: top-1 precision, top-5 recall,
//!   mAP, per-pair precision/recall/F1 at 0.5 and average precision, latency, top-1 misses;
//! - `history.json`, `curves.png`: per epoch, loss and mAP (the "accuracy" fields of the
//!   history hold the mean average precision: training batches and validation split).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor};
use sentio_data::SceneSet;
use sentio_infer::{LoadOptions, Model};
use sentio_models::labels::LabelSet;
use sentio_models::{
    ANP32, DType, Figures, InputSpec, LabelSpec, Manifest, Precision, Preprocessing, Task,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::metrics::{TaggerFigures, ranking};
use super::{AnpConfig, AnpNet, SceneImages, binary_cross_entropy, export};
use crate::cnn::dropout_mask;
use crate::error::{Error, Result};
use crate::eval::Latency;
use crate::job::{check_export, insert_training_figures, write_manifest, write_model_files};
use crate::rng::Rng;
use crate::trainer::{
    EpochRecord, History, RunStart, TrainOptions, TrainProgress, Trained, write_atomic,
};

/// The threshold of the per-pair precision/recall/F1 (and of "the model says it is there").
pub const THRESHOLD: f32 = 0.5;

/// Options of `sentio train anp`.
#[derive(Clone, Debug)]
pub struct AnpOptions {
    /// The scene set (`sentio data synth scenes`).
    pub data: PathBuf,
    /// Where the model, manifest, report, history and curves go.
    pub out: PathBuf,
    /// Epochs, batch, learning rate and schedule, augmentation, seed. `patience` and `resume`
    /// are not used: the job has no early stopping and writes no checkpoint (a run takes a few
    /// minutes).
    pub train: TrainOptions,
    /// The network ([`AnpConfig::anp32`]; tests use smaller ones).
    pub network: AnpConfig,
    /// Fraction of the scenes held out for validation.
    pub val_fraction: f32,
    /// Fraction of the scenes held out for the test.
    pub test_fraction: f32,
}

impl AnpOptions {
    /// The recipe for `data` and `out`: [`AnpConfig::anp32`], 16 epochs of batch 32, Adam
    /// peaking at 1e-2 (one epoch of warm-up, cosine decay to 2% of it), training scenes
    /// mirrored half of the time and shifted by up to ±3 px, seed 42, 10% validation, 10% test.
    /// (At 3e-3 with dropout 0.2, 20 epochs reached a validation mAP of 0.65 and 60 epochs
    /// 0.83: the tagger underfits in its five minutes, so it gets the larger steps and no
    /// dropout. Epochs take 12 s on a quiet 2-core machine and 16 s on a busy one: 18 epochs
    /// took 297 s there, 16 leave a margin under five minutes.)
    pub fn new(data: impl Into<PathBuf>, out: impl Into<PathBuf>) -> Self {
        Self {
            data: data.into(),
            out: out.into(),
            train: TrainOptions::image_recipe(16, 1e-2),
            network: AnpConfig::anp32(),
            val_fraction: 0.1,
            test_fraction: 0.1,
        }
    }
}

/// What a finished `anp` job measured and wrote.
#[derive(Clone, Debug)]
pub struct AnpReport {
    /// Every epoch (the accuracy fields hold the mean average precision).
    pub history: History,
    /// The kept model on the test split, run in tract.
    pub test: TaggerFigures,
    /// Scenes in the train / validation / test splits.
    pub split: [usize; 3],
    /// Largest |burn - tract| probability difference seen on the export check.
    pub export_max_diff: f32,
    /// Size of `model.onnx` in bytes.
    pub onnx_size: u64,
    /// Trainable parameters.
    pub parameters: usize,
    /// Wall time of the epochs, in seconds.
    pub train_seconds: f32,
    /// Wall time of the whole job, loading included, in seconds.
    pub seconds: f32,
    /// The files written.
    pub files: Vec<PathBuf>,
}

/// One test scene the tagger got wrong at rank 1, for the report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Miss {
    /// The image file.
    pub image: String,
    /// What it shows.
    pub truth: Vec<String>,
    /// The three best-scored pairs with their probabilities.
    pub top3: Vec<(String, f32)>,
}

/// `report.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaggerReport {
    /// The model evaluated.
    pub model: String,
    /// The data it was evaluated on.
    pub data: String,
    /// Where the figures come from.
    pub runtime: String,
    /// The figures.
    #[serde(flatten)]
    pub figures: TaggerFigures,
    /// Latency of the tract runs, in milliseconds.
    pub latency: Latency,
    /// The scenes whose best-scored pair they do not show.
    pub top1_misses: Vec<Miss>,
}

/// Trains the tagger on the scene set `options.data` and writes the run to `options.out`.
pub fn train_anp(options: &AnpOptions, progress: &mut dyn TrainProgress) -> Result<AnpReport> {
    let started = Instant::now();
    if options.train.resume {
        return Err(Error::option(
            "resume",
            "the anp job writes no checkpoint (a run takes a few minutes); start it again",
        ));
    }
    let side = options.network.side;
    let (set, images, summary) = load_scene_set(&options.data, side, progress)?;
    let strata = rarest_label(&images);
    let split = sentio_data::split::stratified(
        &strata,
        options.val_fraction,
        options.test_fraction,
        options.train.seed,
    );
    if split.train.is_empty() || split.val.is_empty() || split.test.is_empty() {
        return Err(Error::Dataset {
            path: options.data.clone(),
            reason: format!(
                "{} scenes are too few to split into training, validation and test sets",
                images.len()
            ),
        });
    }
    let (train, val, test) = (
        images.subset(&split.train),
        images.subset(&split.val),
        images.subset(&split.test),
    );
    std::fs::create_dir_all(&options.out)
        .map_err(|e| Error::io("creating directory", &options.out, e))?;
    let trained = train_tagger(&options.network, &train, &val, &options.train, progress)?;
    let net = &trained.best;

    progress.stage("exporting ONNX and checking it in tract");
    let onnx = export::to_onnx(net, side, "anp")?;
    let probe: Vec<&[f32]> = (0..test.len().min(16)).map(|i| test.image(i)).collect();
    let export_max_diff = check_export(export::max_difference(net, &onnx, side, &probe)?)?;

    progress.stage("evaluating the exported model on the test split in tract");
    let labels: Vec<String> = ANP32.labels.iter().map(|l| (*l).to_owned()).collect();
    let (scores, millis) = run_in_tract(&onnx, &test, side)?;
    let truth: Vec<Vec<usize>> = (0..test.len()).map(|i| test.labels_of(i)).collect();
    let figures = TaggerFigures::new(&labels, &scores, &truth, THRESHOLD);
    let sources: Vec<String> = split
        .test
        .iter()
        .map(|&i| {
            set.samples[i]
                .path
                .strip_prefix(&set.root)
                .unwrap_or(&set.samples[i].path)
                .display()
                .to_string()
        })
        .collect();
    let report = TaggerReport {
        model: "anp".into(),
        data: format!(
            "{}, test split ({} scenes)",
            options.data.display(),
            test.len()
        ),
        runtime: "tract (sentio-infer), 1 thread".into(),
        latency: latency(&millis),
        top1_misses: misses(&labels, &scores, &truth, &sources),
        figures,
    };

    let mut files = write_report(&options.out, &report)?;
    files.extend(write_model_files(&options.out, &onnx, &trained.history)?);
    let train_seconds: f32 = trained.history.epochs.iter().map(|e| e.seconds).sum();
    let manifest = manifest(
        options,
        &onnx,
        &trained,
        &summary,
        [&images, &train, &val, &test],
        &report,
        export_max_diff,
    )?;
    files.push(write_manifest(&manifest, &options.out)?);
    Ok(AnpReport {
        history: trained.history,
        test: report.figures,
        split: [train.len(), val.len(), test.len()],
        export_max_diff,
        onnx_size: onnx.len() as u64,
        parameters: net.trainable_params(),
        train_seconds,
        seconds: started.elapsed().as_secs_f32(),
        files,
    })
}

/// Loads every scene of the set at `dir` as `side`x`side` planar RGB with its `anp32` targets.
/// Also returns the opened set (for the file names) and a summary of it for the manifest.
pub fn load_scene_set(
    dir: &Path,
    side: usize,
    progress: &mut dyn TrainProgress,
) -> Result<(SceneSet, SceneImages, Figures)> {
    let set = SceneSet::open(dir)?;
    if set.labels != ANP32.labels {
        return Err(Error::Dataset {
            path: dir.to_path_buf(),
            reason: format!(
                "its label set is `{}`, the tagger's is `{}` (32 adjective-noun pairs)",
                set.label_set, ANP32.name
            ),
        });
    }
    progress.stage(&format!(
        "loading {} scenes from {}",
        set.len(),
        dir.display()
    ));
    let mut images = SceneImages::new(side, ANP32.len());
    images.pixels.reserve(set.len() * 3 * side * side);
    for (i, sample) in set.samples.iter().enumerate() {
        let pixels = set.load_rgb(i, side as u32, side as u32)?;
        if !images.push(&pixels, &sample.labels) {
            return Err(Error::Dataset {
                path: dir.to_path_buf(),
                reason: format!(
                    "{} did not load as {side}x{side} RGB",
                    sample.path.display()
                ),
            });
        }
    }
    let mut summary = Figures::new();
    summary.insert("dataset".into(), Value::from(dir.display().to_string()));
    if let Ok(Some(info)) = sentio_data::DatasetInfo::read(dir) {
        summary.insert("generator".into(), Value::from(info.generator));
        if let Some(seed) = info.seed {
            summary.insert("data_seed".into(), Value::from(seed));
        }
    }
    Ok((set, images, summary))
}

/// The stratum of each image for the split: its least frequent label (ties to the lower
/// index), so the rare pairs spread over the three splits; `classes` for an image with none.
pub fn rarest_label(images: &SceneImages) -> Vec<usize> {
    let counts = images.counts();
    (0..images.len())
        .map(|i| {
            images
                .labels_of(i)
                .into_iter()
                .min_by_key(|&l| (counts[l], l))
                .unwrap_or(images.classes)
        })
        .collect()
}

/// Trains an [`AnpNet`] of `config` on `train`, keeping the epoch with the best validation mAP
/// (then the lowest validation loss). Binary cross-entropy on the logits, Adam, `options`'
/// schedule, augmentation, batch and seed; dropout masks, batch order and augmentation drawn
/// from the seed's streams as in [`crate::train_model`]. `patience` stops the run early when
/// set; `resume` and `checkpoint_dir` are refused and ignored.
pub fn train_tagger(
    config: &AnpConfig,
    train: &SceneImages,
    val: &SceneImages,
    options: &TrainOptions,
    progress: &mut dyn TrainProgress,
) -> Result<Trained<AnpNet>> {
    check_options(options)?;
    config.validate()?;
    for (what, set) in [("training", train), ("validation", val)] {
        if set.is_empty() {
            return Err(Error::option("data", format!("the {what} set is empty")));
        }
        if set.side != config.side || set.classes != config.classes {
            return Err(Error::option(
                "data",
                format!(
                    "the {what} set is {0}x{0} with {1} labels, the network takes {2}x{2} with {3}",
                    set.side, set.classes, config.side, config.classes
                ),
            ));
        }
    }
    let device = Device::flex().autodiff();
    let plain = Device::flex();
    let mut model = AnpNet::new(config, options.seed, &device)?;
    let rates: Vec<f32> = train
        .counts()
        .iter()
        .map(|&c| c as f32 / train.len() as f32)
        .collect();
    model.set_base_rates(&rates, &device);
    let mut optim = AdamConfig::new().init();
    let mut history = History::default();
    let mut best: Option<(f32, f32)> = None;
    let mut best_model: Option<AnpNet> = None;
    let mut since_best = 0;
    let batches = train.len().div_ceil(options.batch);
    progress.run_start(&RunStart {
        first_epoch: 1,
        max_epochs: options.epochs,
        batches,
        train: train.len(),
        val: val.len(),
    });
    let train_truth: Vec<Vec<usize>> = (0..train.len()).map(|i| train.labels_of(i)).collect();
    let labels: Vec<String> = (0..config.classes).map(|l| l.to_string()).collect();
    for epoch in 1..=options.epochs {
        let started = Instant::now();
        progress.epoch_start(epoch, batches);
        let mut order: Vec<usize> = (0..train.len()).collect();
        Rng::derive(options.seed, "batches", epoch as u64).shuffle(&mut order);
        let mut dropout_rng = Rng::derive(options.seed, "dropout", epoch as u64);
        let mut augment_rng = Rng::derive(options.seed, "augment", epoch as u64);
        let (mut loss_sum, mut seen, mut top1_hits) = (0.0f64, 0usize, 0usize);
        let mut scores: Vec<Vec<f32>> = Vec::with_capacity(train.len());
        let mut truth: Vec<Vec<usize>> = Vec::with_capacity(train.len());
        let mut learning_rate = options.learning_rate;
        for (b, chunk) in order.chunks(options.batch).enumerate() {
            let (input, targets) = if options.augment.is_identity() {
                train.batch(chunk, &device)
            } else {
                train.augmented_batch(chunk, &options.augment, &mut augment_rng, &device)
            };
            let mask = (config.dropout > 0.0).then(|| {
                dropout_mask(
                    &mut dropout_rng,
                    chunk.len(),
                    config.features(),
                    config.dropout,
                    &device,
                )
            });
            let logits = model.logits(input, mask);
            let batch_scores = rows(sigmoid(logits.clone().detach()), config.classes)?;
            for (row, &i) in batch_scores.into_iter().zip(chunk) {
                if ranking(&row)
                    .first()
                    .is_some_and(|l| train_truth[i].contains(l))
                {
                    top1_hits += 1;
                }
                scores.push(row);
                truth.push(train_truth[i].clone());
            }
            let loss = binary_cross_entropy(logits, targets);
            let loss_value: f32 = loss.clone().into_scalar();
            if !loss_value.is_finite() {
                return Err(Error::Diverged {
                    epoch,
                    loss: loss_value,
                });
            }
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            learning_rate =
                options
                    .schedule
                    .rate(options.learning_rate, epoch, b, batches, options.epochs);
            model = optim.step(learning_rate, model, grads);
            loss_sum += f64::from(loss_value) * chunk.len() as f64;
            seen += chunk.len();
            progress.batch_end(
                b + 1,
                (loss_sum / seen as f64) as f32,
                top1_hits as f32 / seen as f32,
            );
        }
        let train_map =
            TaggerFigures::new(&labels, &scores, &truth, THRESHOLD).mean_average_precision;
        let valid = model.valid();
        let (val_loss, val_scores) = predict(&valid, val, &plain)?;
        let val_truth: Vec<Vec<usize>> = (0..val.len()).map(|i| val.labels_of(i)).collect();
        let val_map =
            TaggerFigures::new(&labels, &val_scores, &val_truth, THRESHOLD).mean_average_precision;
        let better = match best {
            None => true,
            Some((map, loss)) => val_map > map || (val_map == map && val_loss < loss),
        };
        if better {
            best = Some((val_map, val_loss));
            best_model = Some(valid);
            since_best = 0;
            history.best_epoch = Some(epoch);
        } else {
            since_best += 1;
        }
        if options.patience > 0 && since_best >= options.patience {
            history.stopped_early = true;
        }
        let record = EpochRecord {
            epoch,
            train_loss: (loss_sum / seen.max(1) as f64) as f32,
            train_accuracy: train_map,
            val_loss,
            val_accuracy: val_map,
            seconds: started.elapsed().as_secs_f32(),
            learning_rate,
            best: better,
        };
        history.epochs.push(record.clone());
        progress.epoch_end(&record);
        if history.stopped_early {
            break;
        }
        if epoch < options.epochs && progress.should_stop() {
            history.interrupted = true;
            break;
        }
    }
    let last = model.valid();
    let best = best_model.unwrap_or_else(|| last.clone());
    Ok(Trained {
        best,
        last,
        history,
    })
}

/// The trainer's option checks, and no checkpoints: this loop writes none.
fn check_options(options: &TrainOptions) -> Result<()> {
    if options.resume || options.checkpoint_dir.is_some() {
        return Err(Error::option(
            "resume",
            "the anp loop writes no checkpoint; drop --resume",
        ));
    }
    options.validate()
}

/// The rows of a `[n, classes]` tensor.
fn rows(tensor: Tensor<2>, classes: usize) -> Result<Vec<Vec<f32>>> {
    let values = tensor
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .map_err(|e| Error::Eval(format!("reading the scores: {e:?}")))?;
    Ok(values.chunks(classes.max(1)).map(<[f32]>::to_vec).collect())
}

/// Mean binary cross-entropy and the probabilities of `net` on every image of `set`, in
/// batches, without autodiff.
pub fn predict(net: &AnpNet, set: &SceneImages, device: &Device) -> Result<(f32, Vec<Vec<f32>>)> {
    let indices: Vec<usize> = (0..set.len()).collect();
    let (mut loss_sum, mut scores) = (0.0f64, Vec::with_capacity(set.len()));
    for chunk in indices.chunks(128) {
        let (input, targets) = set.batch(chunk, device);
        let logits = net.logits(input, None);
        let loss: f32 = binary_cross_entropy(logits.clone(), targets).into_scalar();
        loss_sum += f64::from(loss) * chunk.len() as f64;
        scores.extend(rows(sigmoid(logits), set.classes)?);
    }
    Ok(((loss_sum / set.len().max(1) as f64) as f32, scores))
}

/// The exported model run in tract on every image of `set`: the probabilities and each run's
/// wall time in milliseconds.
fn run_in_tract(onnx: &[u8], set: &SceneImages, side: usize) -> Result<(Vec<Vec<f32>>, Vec<f32>)> {
    let options = LoadOptions::new().name("anp").shape(&[1, 3, side, side]);
    let mut model = Model::load(onnx, &options)
        .map_err(|e| Error::Export(format!("tract cannot load the model: {e}")))?;
    let (mut scores, mut millis) = (Vec::with_capacity(set.len()), Vec::with_capacity(set.len()));
    for i in 0..set.len() {
        let started = Instant::now();
        let out = model
            .run(set.image(i))
            .map_err(|e| Error::Eval(format!("running the tagger on test scene {i}: {e}")))?;
        millis.push(started.elapsed().as_secs_f32() * 1e3);
        let first = out
            .tensors
            .first()
            .ok_or_else(|| Error::Eval("the tagger has no output".into()))?;
        scores.push(first.data.clone());
    }
    Ok((scores, millis))
}

fn latency(millis: &[f32]) -> Latency {
    let mut times = millis.to_vec();
    times.sort_by(f32::total_cmp);
    let rank = |p: f32| {
        let k = ((p / 100.0 * times.len() as f32).ceil() as usize).max(1);
        times.get(k - 1).copied().unwrap_or(0.0)
    };
    Latency {
        p50: rank(50.0),
        p99: rank(99.0),
        mean: times.iter().sum::<f32>() / times.len().max(1) as f32,
    }
}

fn misses(
    labels: &[String],
    scores: &[Vec<f32>],
    truth: &[Vec<usize>],
    sources: &[String],
) -> Vec<Miss> {
    let mut out = Vec::new();
    for (i, (s, t)) in scores.iter().zip(truth).enumerate() {
        let order = ranking(s);
        if order.first().is_some_and(|best| t.contains(best)) {
            continue;
        }
        out.push(Miss {
            image: sources.get(i).cloned().unwrap_or_else(|| format!("#{i}")),
            truth: t.iter().map(|&l| labels[l].clone()).collect(),
            top3: order
                .iter()
                .take(3)
                .map(|&l| (labels[l].clone(), round4(s[l])))
                .collect(),
        });
    }
    out
}

fn round4(v: f32) -> f32 {
    (v * 10_000.0).round() / 10_000.0
}

impl TaggerReport {
    /// The report as markdown: the figures, the per-pair table and the first top-1 misses.
    pub fn to_markdown(&self, misses: usize) -> String {
        let f = &self.figures;
        let mut md = String::new();
        let _ = writeln!(md, "# Evaluation of {}\n", self.model);
        let _ = writeln!(md, "Data: {}. Runtime: {}.\n", self.data, self.runtime);
        let _ = writeln!(md, "| | |\n| --- | --- |");
        let _ = writeln!(md, "| scenes | {} |", f.images);
        let _ = writeln!(
            md,
            "| top-1 precision | **{:.2}%** |",
            f.top1_precision * 100.0
        );
        let _ = writeln!(md, "| top-5 recall | **{:.2}%** |", f.top5_recall * 100.0);
        let _ = writeln!(
            md,
            "| mean average precision | **{:.4}** |",
            f.mean_average_precision
        );
        let _ = writeln!(md, "| macro F1 at {} | {:.4} |", f.threshold, f.macro_f1);
        let _ = writeln!(
            md,
            "| latency (tract, 1 thread) | p50 {:.3} ms, p99 {:.3} ms, mean {:.3} ms |\n",
            self.latency.p50, self.latency.p99, self.latency.mean
        );
        let _ = writeln!(md, "## Per pair (threshold {})\n", f.threshold);
        let _ = writeln!(
            md,
            "| pair | precision | recall | F1 | AP | support |\n| --- | --- | --- | --- | --- | --- |"
        );
        for l in &f.per_label {
            let _ = writeln!(
                md,
                "| {} | {:.3} | {:.3} | {:.3} | {:.3} | {} |",
                l.label, l.precision, l.recall, l.f1, l.average_precision, l.support
            );
        }
        let _ = writeln!(
            md,
            "\n## Top-1 misses ({} of {}; the best-scored pair is not in the scene)\n",
            self.top1_misses.len().min(misses),
            self.top1_misses.len()
        );
        let _ = writeln!(md, "| scene | shows | best three |\n| --- | --- | --- |");
        for m in self.top1_misses.iter().take(misses) {
            let top: Vec<String> = m.top3.iter().map(|(l, p)| format!("{l} {p:.2}")).collect();
            let _ = writeln!(
                md,
                "| {} | {} | {} |",
                m.image,
                m.truth.join(", "),
                top.join(", ")
            );
        }
        md
    }
}

/// Writes `report.md` and `report.json` into `dir`; returns their paths.
fn write_report(dir: &Path, report: &TaggerReport) -> Result<Vec<PathBuf>> {
    let md = dir.join("report.md");
    write_atomic(&md, report.to_markdown(20).as_bytes())?;
    let json = dir.join("report.json");
    let bytes = serde_json::to_vec_pretty(report)
        .map_err(|e| Error::Export(format!("serializing the report: {e}")))?;
    write_atomic(&json, &bytes)?;
    Ok(vec![md, json])
}

/// The run's manifest. `sets` are all scenes, then the train, validation and test splits.
fn manifest(
    options: &AnpOptions,
    onnx: &[u8],
    trained: &Trained<AnpNet>,
    summary: &Figures,
    sets: [&SceneImages; 4],
    report: &TaggerReport,
    export_max_diff: f32,
) -> Result<Manifest> {
    let side = options.network.side;
    let set: &LabelSet = &ANP32;
    let mut label_extra = Figures::new();
    // A device must threshold each output on its own, not take an argmax over them.
    label_extra.insert("multi_label".into(), Value::from(true));
    label_extra.insert("output".into(), Value::from("sigmoid"));
    label_extra.insert("threshold".into(), Value::from(THRESHOLD));
    let mut manifest = Manifest::new(
        "anp",
        "1.0.0",
        Task::Anp,
        LabelSpec {
            set: set.name.into(),
            labels: set.labels.iter().map(|l| (*l).to_owned()).collect(),
            extra: label_extra,
        },
        InputSpec {
            shape: vec![1, 3, side, side],
            dtype: DType::F32,
            preprocessing: Preprocessing {
                kind: "rgb".into(),
                width: Some(side as u32),
                height: Some(side as u32),
                scale: Some(1.0 / 255.0),
                ..Preprocessing::default()
            },
            extra: Figures::new(),
        },
        Precision::F32,
    );
    manifest.model_sha256 = sentio_models::sha256(onnx);
    manifest.model_size = onnx.len() as u64;
    let [all, train, val, test] = sets;
    let counts = |s: &SceneImages| -> Value {
        Value::Object(
            set.labels
                .iter()
                .zip(s.counts())
                .map(|(l, n)| ((*l).to_owned(), Value::from(n)))
                .collect(),
        )
    };
    let mut training = summary.clone();
    training.insert("images".into(), Value::from(all.len()));
    training.insert("per_class".into(), counts(all));
    training.insert(
        "split".into(),
        json!({
            "train": train.len(), "val": val.len(), "test": test.len(),
            "val_fraction": options.val_fraction, "test_fraction": options.test_fraction,
            "method": "stratified by each scene's rarest pair", "seed": options.train.seed,
        }),
    );
    let net = &trained.best;
    training.insert(
        "network".into(),
        json!({
            "stem": {
                "filters": options.network.stem, "kernel": [3, 3], "stride": 2, "padding": 1,
            },
            "blocks": {"filters": options.network.blocks, "kind": "depthwise 3x3 + pointwise 1x1"},
            "batch_norm": "after each conv (folded into it on export)",
            "activation": "relu", "pool": [2, 2], "head": "global max + global mean",
            "dropout": options.network.dropout, "dense": options.network.classes,
            "output": "sigmoid", "parameters": net.trainable_params(),
            "macs": options.network.macs(),
        }),
    );
    training.insert("augment".into(), json!(options.train.augment));
    insert_training_figures(&mut training, &options.train, &trained.history);
    training.insert("loss".into(), Value::from("binary_cross_entropy"));
    training.insert(
        "selection".into(),
        Value::from("the epoch with the best validation mean average precision"),
    );
    manifest.training = Some(training);

    let f = &report.figures;
    let mut eval = Figures::new();
    eval.insert("split".into(), Value::from("test"));
    eval.insert("images".into(), Value::from(f.images));
    eval.insert(
        "top1_precision".into(),
        Value::from(round4(f.top1_precision)),
    );
    eval.insert("top5_recall".into(), Value::from(round4(f.top5_recall)));
    eval.insert(
        "mean_average_precision".into(),
        Value::from(round4(f.mean_average_precision)),
    );
    eval.insert("macro_f1".into(), Value::from(round4(f.macro_f1)));
    eval.insert("threshold".into(), Value::from(f.threshold));
    if let Some(best) = trained.history.best() {
        eval.insert(
            "val_mean_average_precision".into(),
            Value::from(round4(best.val_accuracy)),
        );
        eval.insert("val_loss".into(), Value::from(round4(best.val_loss)));
    }
    let per_label: Vec<Value> = f
        .per_label
        .iter()
        .map(|l| {
            json!({
                "label": l.label, "precision": round4(l.precision), "recall": round4(l.recall),
                "f1": round4(l.f1), "average_precision": round4(l.average_precision),
                "support": l.support,
            })
        })
        .collect();
    eval.insert("per_label".into(), Value::Array(per_label));
    eval.insert("export_max_abs_diff".into(), Value::from(export_max_diff));
    eval.insert(
        "export_checked_with".into(),
        Value::from("tract (sentio-infer)"),
    );
    manifest.eval = Some(eval);
    Ok(manifest)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_rarest_label_is_the_stratum() {
        let mut set = SceneImages::new(1, 3);
        for labels in [&[0, 1][..], &[0], &[0, 2], &[]] {
            assert!(set.push(&[0.0; 3], labels));
        }
        // Counts: label 0 in 3 images, 1 and 2 in one each.
        assert_eq!(rarest_label(&set), vec![1, 0, 2, 3]);
    }

    #[test]
    fn options_the_loop_cannot_honour_are_refused() {
        let mut options = TrainOptions {
            resume: true,
            ..TrainOptions::default()
        };
        assert!(check_options(&options).is_err());
        options.resume = false;
        assert!(check_options(&options).is_ok());
        options.epochs = 0;
        assert!(check_options(&options).is_err());
    }
}
