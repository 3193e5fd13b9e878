//! The `anp` job (`sentio train anp`): a scene set (`sentio_data::SceneSet`, `anp32`) loaded
//! as 64x64 RGB, split, then the shared [`crate::job`] tail: the tagger trained toward
//! [`Tagging`](super::Tagging) by the trainer's loop, exported, checked and judged in tract
//! ([`TaggerAssessment`]).
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

use sentio_data::SceneSet;
use sentio_models::{ANP32, Figures, Task};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use super::THRESHOLD;
use super::metrics::{TaggerFigures, ranking};
use super::{AnpConfig, AnpNet, SceneImages, Tags};
use crate::data::Image;
use crate::error::{Error, Result};
use crate::eval::{Latency, round4};
use crate::export::Exportable;
use crate::files;
use crate::job::{self, Assess, Data, HeldOut, Job, Split, image_preprocessing};
use crate::options::TrainOptions;
use crate::progress::{History, TrainProgress};

/// Options of `sentio train anp`.
#[derive(Clone, Debug)]
pub struct AnpOptions {
    /// The scene set (`sentio data synth scenes`).
    pub data: PathBuf,
    /// Where the model, manifest, report, history and curves go.
    pub out: PathBuf,
    /// Epochs, batch, learning rate and schedule, augmentation, patience, seed, resume (from
    /// the checkpoint in `out/checkpoint`, written every epoch).
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
    let data = load_scene_set(&options.data, options.network.side, progress)?;
    let images = &data.examples;
    let strata = rarest_label(images);
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
    let split = Split::new(split, "stratified by each scene's rarest pair");
    let job = Job {
        train: options.train.clone(),
        val_fraction: options.val_fraction,
        test_fraction: options.test_fraction,
        ..Job::new(
            "anp",
            Task::Anp,
            &ANP32,
            options.network.clone(),
            &options.out,
        )
    };
    let finished = job::run::<AnpNet>(&job, &data, &split, progress)?;
    let history = finished.trained.history;
    Ok(AnpReport {
        train_seconds: history.epochs.iter().map(|e| e.seconds).sum(),
        history,
        test: finished.assessment.report.figures,
        split: finished.split,
        export_max_diff: finished.export_max_diff,
        onnx_size: finished.onnx_size,
        parameters: finished.trained.best.trainable_params(),
        seconds: started.elapsed().as_secs_f32(),
        files: finished.files,
    })
}

/// Loads every scene of the set at `dir` as `side`x`side` planar RGB with its `anp32` targets,
/// with the image files (relative to the set) and a summary of the set for the manifest.
pub fn load_scene_set(
    dir: &Path,
    side: usize,
    progress: &mut dyn TrainProgress,
) -> Result<Data<Image, Tags>> {
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
    let mut images = SceneImages::with_labels(Image::rgb(side), Tags::new(ANP32.len()));
    images.values.reserve(set.len() * 3 * side * side);
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
    let summary = job::dataset_figures(dir);
    let sources = set
        .samples
        .iter()
        .map(|s| {
            s.path
                .strip_prefix(&set.root)
                .unwrap_or(&s.path)
                .to_path_buf()
        })
        .collect();
    Ok(Data {
        examples: images,
        sources,
        summary,
        preprocessing: image_preprocessing("rgb", side),
        unit: "images",
    })
}

/// The stratum of each image for the split: its least frequent label (ties to the lower
/// index), so the rare pairs spread over the three splits; `classes` for an image with none.
pub fn rarest_label(images: &SceneImages) -> Vec<usize> {
    let tags = &images.labels;
    let counts = images.counts(tags.classes);
    (0..images.len())
        .map(|i| {
            tags.labels_of(i)
                .into_iter()
                .min_by_key(|&l| (counts[l], l))
                .unwrap_or(tags.classes)
        })
        .collect()
}

/// The tagger's judgement on the held-out split: its figures through tract, the latency and
/// the top-1 misses ([`TaggerReport`]).
#[derive(Clone, Debug)]
pub struct TaggerAssessment {
    /// What `report.json` holds.
    pub report: TaggerReport,
}

impl<M: Exportable<Objective = super::Tagging>> Assess<M> for TaggerAssessment {
    fn assess(held: &HeldOut<'_, M>, progress: &mut dyn TrainProgress) -> Result<Self> {
        progress.stage(&format!(
            "evaluating the exported model on the {} split in tract",
            held.split
        ));
        let set = held.set;
        let mut model = held.tract()?;
        let (mut scores, mut millis) =
            (Vec::with_capacity(set.len()), Vec::with_capacity(set.len()));
        for i in 0..set.len() {
            let started = Instant::now();
            let out = model
                .run(set.example(i))
                .map_err(|e| Error::Eval(format!("running the tagger on test scene {i}: {e}")))?;
            millis.push(started.elapsed().as_secs_f32() * 1e3);
            let first = out
                .tensors
                .first()
                .ok_or_else(|| Error::Eval("the tagger has no output".into()))?;
            scores.push(first.data.clone());
        }
        let truth: Vec<Vec<usize>> = (0..set.len()).map(|i| set.labels.labels_of(i)).collect();
        let sources: Vec<String> = held
            .sources
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        Ok(Self {
            report: TaggerReport {
                model: held.name.into(),
                data: held.description.clone(),
                runtime: "tract (sentio-infer), 1 thread".into(),
                latency: Latency::of(&millis),
                top1_misses: misses(held.labels, &scores, &truth, &sources),
                figures: TaggerFigures::new(held.labels, &scores, &truth, THRESHOLD),
            },
        })
    }

    /// `report.md` and `report.json`.
    fn write_report(&self, _held: &HeldOut<'_, M>, out: &Path) -> Result<Vec<PathBuf>> {
        let md = out.join("report.md");
        files::write_bytes(&md, self.report.to_markdown(20).as_bytes())?;
        let json = out.join("report.json");
        let bytes = serde_json::to_vec_pretty(&self.report)
            .map_err(|e| Error::Export(format!("serializing the report: {e}")))?;
        files::write_bytes(&json, &bytes)?;
        Ok(vec![md, json])
    }

    fn eval_figures(&self, eval: &mut Figures) -> Result<()> {
        let f = &self.report.figures;
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
        Ok(())
    }

    /// A device must threshold each output on its own, not take an argmax over them.
    fn label_extra() -> Figures {
        let mut extra = Figures::new();
        extra.insert("multi_label".into(), Value::from(true));
        extra.insert("output".into(), Value::from("sigmoid"));
        extra.insert("threshold".into(), Value::from(THRESHOLD));
        extra
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_rarest_label_is_the_stratum() {
        let mut set = SceneImages::with_labels(Image::rgb(1), Tags::new(3));
        for labels in [&[0, 1][..], &[0], &[0, 2], &[]] {
            assert!(set.push(&[0.0; 3], labels));
        }
        // Counts: label 0 in 3 images, 1 and 2 in one each.
        assert_eq!(rarest_label(&set), vec![1, 0, 2, 3]);
    }
}
