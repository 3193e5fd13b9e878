//! Evaluation reports, the way the published work reports its models: accuracy, a per-class
//! precision/recall/F1/support table (markdown and JSON), the confusion matrix as a picture, and
//! the worst examples (lowest probability given to the true class) as a contact sheet.
//!
//! The model is run through `sentio-infer` (tract), the runtime the device uses, so the figures
//! are those of the file that ships, not of the framework that trained it.

use std::path::{Path, PathBuf};
use std::time::Instant;

use image::{GrayImage, Rgb, RgbImage, imageops};
use sentio_infer::Model;
use serde::{Deserialize, Serialize};

use crate::draw::{CHAR_WIDTH, LINE_HEIGHT, fill, text, text_width};
use crate::error::{Error, Result};
use crate::files;

/// Gives the picture of an example, for the contact sheet (`None` when it has none).
pub type ExampleImage<'a> = dyn Fn(&Example) -> Option<GrayImage> + 'a;

/// One evaluated example.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// Index of the example in the evaluated set.
    pub index: usize,
    /// Where it came from (a file), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<PathBuf>,
    /// The true class.
    pub label: usize,
    /// The predicted class (highest probability).
    pub predicted: usize,
    /// Probability given to the true class.
    pub p_true: f32,
    /// Probability given to the predicted class.
    pub p_predicted: f32,
    /// Wall time of the model run, in milliseconds.
    pub millis: f32,
}

/// Latency of the model runs over the set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Median, ms.
    pub p50: f32,
    /// 99th percentile (nearest rank), ms.
    pub p99: f32,
    /// Mean, ms.
    pub mean: f32,
}

impl Latency {
    /// The latency of runs that took `millis` milliseconds each.
    pub fn of(millis: &[f32]) -> Self {
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
}

/// Per-class test figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassFigures {
    /// The label.
    pub label: String,
    /// Of the examples predicted as this class, the fraction that are.
    pub precision: f32,
    /// Of the examples of this class, the fraction predicted as it.
    pub recall: f32,
    /// Harmonic mean of precision and recall.
    pub f1: f32,
    /// Test examples of this class.
    pub support: usize,
}

/// A model's figures on a labelled set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The model evaluated (a name or a path).
    pub model: String,
    /// The data evaluated on (a path and, when a split, which part).
    pub data: String,
    /// Class labels, in the model's output order.
    pub labels: Vec<String>,
    /// Fraction of examples whose predicted class is the true one.
    pub accuracy: f32,
    /// Mean of the per-class F1 scores.
    pub macro_f1: f32,
    /// Per-class precision/recall/F1/support.
    pub per_class: Vec<ClassFigures>,
    /// `confusion[true][predicted]`.
    pub confusion: Vec<Vec<usize>>,
    /// Latency of the runs.
    pub latency: Latency,
    /// Every example, in evaluation order.
    pub examples: Vec<Example>,
}

impl Evaluation {
    /// Figures from the model's outputs: `outputs[i]` are the class scores of example `i`
    /// (probabilities, or logits: they are turned into probabilities with a softmax when they
    /// are not a distribution), `labels[i]` its true class.
    pub fn from_outputs(
        model: &str,
        data: &str,
        class_labels: &[String],
        outputs: &[Vec<f32>],
        truth: &[usize],
        millis: &[f32],
        sources: Option<&[PathBuf]>,
    ) -> Result<Evaluation> {
        let classes = class_labels.len();
        if outputs.len() != truth.len() || outputs.is_empty() {
            return Err(Error::Eval(format!(
                "{} outputs for {} labelled examples (need at least one)",
                outputs.len(),
                truth.len()
            )));
        }
        let mut confusion = vec![vec![0usize; classes]; classes];
        let mut examples = Vec::with_capacity(outputs.len());
        for (i, (scores, &label)) in outputs.iter().zip(truth).enumerate() {
            if scores.len() != classes || label >= classes {
                return Err(Error::Eval(format!(
                    "example {i}: {} scores and true class {label}, for {classes} labels",
                    scores.len()
                )));
            }
            let probabilities = as_probabilities(scores);
            let predicted = argmax(&probabilities);
            confusion[label][predicted] += 1;
            examples.push(Example {
                index: i,
                source: sources.and_then(|s| s.get(i).cloned()),
                label,
                predicted,
                p_true: probabilities[label],
                p_predicted: probabilities[predicted],
                millis: millis.get(i).copied().unwrap_or(0.0),
            });
        }
        let correct: usize = (0..classes).map(|c| confusion[c][c]).sum();
        let per_class = class_figures(&confusion, class_labels);
        let present: Vec<&ClassFigures> = per_class.iter().filter(|c| c.support > 0).collect();
        let macro_f1 = present.iter().map(|c| c.f1).sum::<f32>() / present.len().max(1) as f32;
        let times: Vec<f32> = examples.iter().map(|e| e.millis).collect();
        Ok(Evaluation {
            model: model.to_owned(),
            data: data.to_owned(),
            labels: class_labels.to_vec(),
            accuracy: correct as f32 / outputs.len() as f32,
            macro_f1,
            per_class,
            confusion,
            latency: Latency::of(&times),
            examples,
        })
    }

    /// The `n` examples that gave the true class the lowest probability, worst first.
    pub fn worst(&self, n: usize) -> Vec<&Example> {
        let mut order: Vec<&Example> = self.examples.iter().collect();
        order.sort_by(|a, b| a.p_true.total_cmp(&b.p_true).then(a.index.cmp(&b.index)));
        order.truncate(n);
        order
    }

    /// The `n` slowest runs, slowest first.
    pub fn slowest(&self, n: usize) -> Vec<&Example> {
        let mut order: Vec<&Example> = self.examples.iter().collect();
        order.sort_by(|a, b| b.millis.total_cmp(&a.millis).then(a.index.cmp(&b.index)));
        order.truncate(n);
        order
    }

    /// The report as markdown: figures, per-class table, confusion matrix, worst and slowest
    /// examples.
    pub fn to_markdown(&self, worst: usize) -> String {
        let mut md = String::new();
        let push = |md: &mut String, line: String| {
            md.push_str(&line);
            md.push('\n');
        };
        push(&mut md, format!("# Evaluation of {}\n", self.model));
        push(&mut md, format!("Data: {}\n", self.data));
        push(&mut md, "| | |\n| --- | --- |".into());
        push(&mut md, format!("| examples | {} |", self.examples.len()));
        push(
            &mut md,
            format!("| accuracy | **{:.2}%** |", self.accuracy * 100.0),
        );
        push(&mut md, format!("| macro F1 | {:.4} |", self.macro_f1));
        push(
            &mut md,
            format!(
                "| latency (tract, 1 thread) | p50 {:.3} ms, p99 {:.3} ms, mean {:.3} ms |\n",
                self.latency.p50, self.latency.p99, self.latency.mean
            ),
        );
        push(&mut md, "## Per class\n".into());
        push(
            &mut md,
            "| class | precision | recall | F1 | support |\n| --- | --- | --- | --- | --- |".into(),
        );
        for c in &self.per_class {
            push(
                &mut md,
                format!(
                    "| {} | {:.3} | {:.3} | {:.3} | {} |",
                    c.label, c.precision, c.recall, c.f1, c.support
                ),
            );
        }
        push(
            &mut md,
            "\n## Confusion matrix\n\nRows: true class; columns: predicted class (numbered as the rows).\n"
                .into(),
        );
        let header: Vec<String> = (0..self.labels.len()).map(|i| i.to_string()).collect();
        push(
            &mut md,
            format!("| true \\ predicted | {} |", header.join(" | ")),
        );
        push(
            &mut md,
            format!("| --- |{}", " --- |".repeat(self.labels.len())),
        );
        for (i, row) in self.confusion.iter().enumerate() {
            let cells: Vec<String> = row.iter().map(usize::to_string).collect();
            push(
                &mut md,
                format!("| {i} {} | {} |", self.labels[i], cells.join(" | ")),
            );
        }
        let list = |md: &mut String, title: &str, examples: Vec<&Example>| {
            push(md, format!("\n## {title}\n"));
            push(
                md,
                "| # | example | true | predicted | p(true) | p(predicted) | ms |\n| --- | --- | --- | --- | --- | --- | --- |"
                    .into(),
            );
            for (rank, e) in examples.iter().enumerate() {
                let name = e
                    .source
                    .as_ref()
                    .map_or_else(|| format!("#{}", e.index), |p| p.display().to_string());
                push(
                    md,
                    format!(
                        "| {} | {name} | {} | {} | {:.3} | {:.3} | {:.3} |",
                        rank + 1,
                        self.labels[e.label],
                        self.labels[e.predicted],
                        e.p_true,
                        e.p_predicted,
                        e.millis
                    ),
                );
            }
        };
        list(
            &mut md,
            "Worst examples (lowest probability of the true class; worst.png shows them for images)",
            self.worst(worst),
        );
        list(&mut md, "Slowest runs", self.slowest(5));
        md
    }

    /// Writes `report.md`, `report.json`, `confusion.png` and, when `image_of` gives the
    /// pictures, `worst.png` (the `worst` worst examples) into `dir`. Returns the files written.
    pub fn write_report(
        &self,
        dir: &Path,
        worst: usize,
        image_of: Option<&ExampleImage<'_>>,
    ) -> Result<Vec<PathBuf>> {
        files::create_dir(dir)?;
        let mut written = Vec::new();
        let md = dir.join("report.md");
        files::write_bytes(&md, self.to_markdown(worst).as_bytes())?;
        written.push(md);
        let json = dir.join("report.json");
        let bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::Export(format!("serializing the report: {e}")))?;
        files::write_bytes(&json, &bytes)?;
        written.push(json);
        let confusion = dir.join("confusion.png");
        files::write_png(&confusion, &confusion_image(self))?;
        written.push(confusion);
        if let Some(image_of) = image_of {
            let tiles: Vec<(GrayImage, &Example)> = self
                .worst(worst)
                .into_iter()
                .filter_map(|e| image_of(e).map(|img| (img, e)))
                .collect();
            if !tiles.is_empty() {
                let sheet = dir.join("worst.png");
                files::write_png(&sheet, &contact_sheet(&tiles, &self.labels))?;
                written.push(sheet);
            }
        }
        Ok(written)
    }
}

/// Runs `model` on every input and evaluates its first output against `truth`.
/// `input(i, buffer)` fills the model's input for example `i`; `progress(done, total)` is called
/// after each run.
#[allow(clippy::too_many_arguments)]
pub fn evaluate_model(
    model: &mut Model,
    name: &str,
    data: &str,
    class_labels: &[String],
    truth: &[usize],
    sources: Option<&[PathBuf]>,
    input: &mut dyn FnMut(usize, &mut [f32]) -> Result<()>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Evaluation> {
    let len: usize = model.input_shape().iter().product();
    let mut buffer = vec![0.0f32; len];
    let mut outputs = Vec::with_capacity(truth.len());
    let mut millis = Vec::with_capacity(truth.len());
    for i in 0..truth.len() {
        input(i, &mut buffer)?;
        let started = Instant::now();
        let out = model
            .run(&buffer)
            .map_err(|e| Error::Eval(format!("running {name} on example {i}: {e}")))?;
        millis.push(started.elapsed().as_secs_f32() * 1e3);
        let first = out
            .tensors
            .first()
            .ok_or_else(|| Error::Eval(format!("{name} has no output")))?;
        outputs.push(first.data.clone());
        progress(i + 1, truth.len());
    }
    Evaluation::from_outputs(name, data, class_labels, &outputs, truth, &millis, sources)
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

/// The confusion matrix (rows: true class, columns: predicted) of `predicted` against `labels`,
/// and the accuracy it gives.
pub fn confusion_of(
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

/// `v` rounded to 4 decimals (figures in manifests and reports).
pub fn round4(v: f32) -> f32 {
    (v * 10_000.0).round() / 10_000.0
}

fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

/// `scores` if they already are a probability distribution, else their softmax.
fn as_probabilities(scores: &[f32]) -> Vec<f32> {
    let sum: f32 = scores.iter().sum();
    if scores.iter().all(|s| (0.0..=1.0).contains(s)) && (sum - 1.0).abs() < 1e-3 {
        return scores.to_vec();
    }
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = scores.iter().map(|s| (s - max).exp()).collect();
    let total: f32 = exp.iter().sum();
    exp.iter()
        .map(|e| e / total.max(f32::MIN_POSITIVE))
        .collect()
}

const WHITE: Rgb<u8> = Rgb([255, 255, 255]);
const INK: Rgb<u8> = Rgb([30, 30, 30]);

/// The confusion matrix: one cell per (true, predicted), shaded by the fraction of the true
/// class's examples (white 0 to dark blue 1; the diagonal in green), with the count in it.
pub fn confusion_image(eval: &Evaluation) -> RgbImage {
    let n = eval.labels.len() as u32;
    let cell = 40u32;
    let label_w = eval
        .labels
        .iter()
        .enumerate()
        .map(|(i, l)| text_width(&format!("{i} {l}")))
        .max()
        .unwrap_or(0)
        + 12;
    let top = 3 * LINE_HEIGHT + 12;
    let (w, h) = (
        label_w + n * cell + 12,
        top + n * cell + 2 * LINE_HEIGHT + 12,
    );
    let mut img = RgbImage::from_pixel(w, h, WHITE);
    text(
        &mut img,
        6,
        4,
        &format!(
            "{}: accuracy {:.2}% on {} examples",
            eval.model,
            eval.accuracy * 100.0,
            eval.examples.len()
        ),
        INK,
    );
    text(
        &mut img,
        label_w,
        top - 2 * LINE_HEIGHT - 2,
        "predicted",
        INK,
    );
    for i in 0..n {
        let label = format!("{i}");
        let x = label_w + i * cell + (cell - text_width(&label)) / 2;
        text(&mut img, x, top - LINE_HEIGHT - 2, &label, INK);
    }
    for (t, row) in eval.confusion.iter().enumerate() {
        let y = top + t as u32 * cell;
        let name = format!("{t} {}", eval.labels[t]);
        text(&mut img, 6, y + (cell - LINE_HEIGHT) / 2, &name, INK);
        let total: usize = row.iter().sum();
        for (p, &count) in row.iter().enumerate() {
            let x = label_w + p as u32 * cell;
            let f = if total > 0 {
                count as f32 / total as f32
            } else {
                0.0
            };
            let shade = |full: u8| (255.0 - f * (255.0 - f32::from(full))) as u8;
            let color = if t == p {
                Rgb([shade(30), shade(130), shade(60)])
            } else {
                Rgb([shade(200), shade(40), shade(40)])
            };
            fill(&mut img, x + 1, y + 1, cell - 2, cell - 2, color);
            if count > 0 {
                let s = count.to_string();
                let ink = if f > 0.5 { WHITE } else { INK };
                text(
                    &mut img,
                    x + (cell - text_width(&s)) / 2,
                    y + (cell - LINE_HEIGHT) / 2,
                    &s,
                    ink,
                );
            }
        }
    }
    text(
        &mut img,
        6,
        top + n * cell + 6,
        "rows: true class; green: correct; red: errors (shade = share of the row)",
        INK,
    );
    img
}

/// Tiles of the given images (scaled to at least 96 px), each with its true and predicted
/// class and the probabilities under it.
pub fn contact_sheet(tiles: &[(GrayImage, &Example)], labels: &[String]) -> RgbImage {
    let columns = 6u32.min(tiles.len() as u32).max(1);
    let rows = (tiles.len() as u32).div_ceil(columns);
    let side = tiles
        .iter()
        .map(|(img, _)| img.width().max(img.height()))
        .max()
        .unwrap_or(1)
        .max(1);
    let scale = 96u32.div_ceil(side).max(1);
    let image_px = side * scale;
    let tile_w = image_px.max(24 * CHAR_WIDTH) + 8;
    let tile_h = image_px + 2 * LINE_HEIGHT + 10;
    let mut sheet = RgbImage::from_pixel(columns * tile_w, rows * tile_h, WHITE);
    for (k, (img, e)) in tiles.iter().enumerate() {
        let (cx, cy) = ((k as u32 % columns) * tile_w, (k as u32 / columns) * tile_h);
        let big = imageops::resize(
            img,
            img.width() * scale,
            img.height() * scale,
            imageops::FilterType::Nearest,
        );
        let x0 = cx + (tile_w - big.width()) / 2;
        for (x, y, p) in big.enumerate_pixels() {
            sheet.put_pixel(x0 + x, cy + 4 + y, Rgb([p.0[0]; 3]));
        }
        let short = |s: &str| s.chars().take(18).collect::<String>();
        let truth = format!("T {} {:.2}", short(&labels[e.label]), e.p_true);
        let guess = format!("P {} {:.2}", short(&labels[e.predicted]), e.p_predicted);
        let y = cy + 6 + image_px;
        text(&mut sheet, cx + 4, y, &truth, Rgb([20, 110, 40]));
        text(
            &mut sheet,
            cx + 4,
            y + LINE_HEIGHT,
            &guess,
            Rgb([180, 30, 30]),
        );
    }
    sheet
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn labels() -> Vec<String> {
        ["cat", "dog", "eel"].map(String::from).to_vec()
    }

    #[test]
    fn figures_from_probabilities_and_from_logits_agree() {
        // True classes 0, 0, 1, 2; predictions 0, 1, 1, 2.
        let probs = vec![
            vec![0.8, 0.1, 0.1],
            vec![0.3, 0.6, 0.1],
            vec![0.1, 0.7, 0.2],
            vec![0.2, 0.2, 0.6],
        ];
        let truth = [0, 0, 1, 2];
        let times = [1.0, 3.0, 2.0, 4.0];
        let a =
            Evaluation::from_outputs("m", "d", &labels(), &probs, &truth, &times, None).unwrap();
        assert_eq!(a.accuracy, 0.75);
        assert_eq!(
            a.confusion,
            vec![vec![1, 1, 0], vec![0, 1, 0], vec![0, 0, 1]]
        );
        assert_eq!(a.per_class[0].recall, 0.5);
        assert_eq!(a.per_class[1].precision, 0.5);
        // F1: cat 2/3, dog 2/3, eel 1.
        assert!((a.macro_f1 - (2.0 / 3.0 + 2.0 / 3.0 + 1.0) / 3.0).abs() < 1e-3);
        assert_eq!(a.worst(1)[0].index, 1);
        assert!((a.worst(1)[0].p_true - 0.3).abs() < 1e-6);
        assert_eq!(a.slowest(1)[0].index, 3);
        assert_eq!((a.latency.p50, a.latency.p99), (2.0, 4.0));

        let logits: Vec<Vec<f32>> = probs
            .iter()
            .map(|p| p.iter().map(|v| v.ln() + 5.0).collect())
            .collect();
        let b =
            Evaluation::from_outputs("m", "d", &labels(), &logits, &truth, &times, None).unwrap();
        assert_eq!(a.confusion, b.confusion);
        assert!((a.examples[1].p_true - b.examples[1].p_true).abs() < 1e-5);

        let md = a.to_markdown(2);
        assert!(md.contains("| cat | 1.000 | 0.500 | 0.667 | 2 |"), "{md}");
        assert!(md.contains("| 0 cat | 1 | 1 | 0 |"), "{md}");
    }

    #[test]
    fn figures_from_confusion() {
        let confusion = vec![vec![8, 2], vec![1, 9]];
        let labels = vec!["a".to_string(), "b".to_string()];
        let f = class_figures(&confusion, &labels);
        assert_eq!(f[0].support, 10);
        assert!((f[0].precision - 8.0 / 9.0).abs() < 1e-3);
        assert!((f[0].recall - 0.8).abs() < 1e-4);
        assert!((f[1].recall - 0.9).abs() < 1e-4);
        let (matrix, accuracy) = confusion_of(&[0, 0, 1], &[0, 1, 1], 2);
        assert_eq!(matrix, vec![vec![1, 1], vec![0, 1]]);
        assert!((accuracy - 2.0 / 3.0).abs() < 1e-6);
        assert_eq!(Latency::of(&[3.0, 1.0, 2.0]).p50, 2.0);
    }

    #[test]
    fn mismatched_outputs_are_refused() {
        let err = Evaluation::from_outputs("m", "d", &labels(), &[vec![1.0, 0.0]], &[0], &[], None)
            .unwrap_err();
        assert!(err.to_string().contains("2 scores"), "{err}");
        assert!(Evaluation::from_outputs("m", "d", &labels(), &[], &[], &[], None).is_err());
        let err =
            Evaluation::from_outputs("m", "d", &labels(), &[vec![1.0, 0.0, 0.0]], &[3], &[], None)
                .unwrap_err();
        assert!(err.to_string().contains("true class 3"), "{err}");
    }

    #[test]
    fn report_files_are_written_and_the_pictures_show_the_counts() {
        let probs = vec![
            vec![0.9, 0.05, 0.05],
            vec![0.2, 0.7, 0.1],
            vec![0.6, 0.3, 0.1],
        ];
        let eval =
            Evaluation::from_outputs("m", "d", &labels(), &probs, &[0, 1, 1], &[], None).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let image_of = |e: &Example| {
            Some(GrayImage::from_pixel(
                8,
                8,
                image::Luma([e.index as u8 * 100]),
            ))
        };
        let files = eval.write_report(dir.path(), 2, Some(&image_of)).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["report.md", "report.json", "confusion.png", "worst.png"]
        );
        let back: Evaluation =
            serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap())
                .unwrap();
        assert_eq!(back, eval);
        // The confusion picture holds green (correct) and red (the dog -> cat error) cells.
        let img = image::open(dir.path().join("confusion.png"))
            .unwrap()
            .to_rgb8();
        assert_eq!(img, confusion_image(&eval));
        let [r, g, b] = [0, 1, 2].map(|c| move |p: &Rgb<u8>| i32::from(p.0[c]));
        assert!(img.pixels().any(|p| r(p) > g(p) + 60 && r(p) > b(p) + 60));
        assert!(img.pixels().any(|p| g(p) > r(p) + 60 && g(p) > b(p) + 30));
        let sheet = image::open(dir.path().join("worst.png")).unwrap().to_rgb8();
        // Two tiles (the worst is example 2, p_true 0.3, drawn with value 200).
        assert!(sheet.width() >= 2 * 96);
        assert!(sheet.pixels().any(|p| p.0 == [200, 200, 200]));
    }
}
