//! `sentio train emoji | fer | ser | anp`: thin over `sentio-train`; draws one indicatif bar per
//! epoch (loss, accuracy, ETA; hidden when stderr is not a terminal) and prints one summary line
//! per epoch.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use miette::{IntoDiagnostic as _, Result, WrapErr as _};
use sentio_train::{
    AnpOptions, EmojiOptions, EpochRecord, FerOptions, Report, RunStart, SerOptions, TrainOptions,
    TrainProgress,
};

#[derive(Subcommand, Debug)]
pub enum TrainCommand {
    /// The emoji CNN (64x64 gray, emoji8) on an image folder from `sentio data synth emoji`.
    Emoji(TrainArgs),
    /// The FER mini-Xception (48x48 gray faces, fer7) on an image folder from
    /// `sentio data synth faces` or `sentio data import fer2013`.
    Fer(TrainArgs),
    /// The speech-emotion 1-D CNN + LSTM (ser8) on a speech folder from `sentio data synth
    /// speech` or `sentio data import ravdess|tess|cremad|savee`, split by speaker.
    Ser(TrainArgs),
    /// The ANP tagger (64x64 RGB kiosk scenes, the 32 pairs of anp32, each with its own
    /// sigmoid) on a scene set from `sentio data synth scenes`.
    Anp(TrainArgs),
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// The dataset: one sub-folder per label (images for emoji, WAV clips for ser); for anp a
    /// scene set (DIR/labels.jsonl + DIR/images/).
    #[arg(long)]
    data: PathBuf,
    /// Output directory: model.onnx, manifest.json, history.json, curves.png, checkpoint/.
    #[arg(long)]
    out: PathBuf,
    /// Most epochs to run [default: the model's recipe: 32 for emoji, 10 for fer, 40 for ser,
    /// 16 for anp].
    #[arg(long)]
    epochs: Option<usize>,
    /// Seed of the split, the weights, the batch order, augmentation and dropout.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Examples per optimizer step [default: the recipe's, 32].
    #[arg(long)]
    batch: Option<usize>,
    /// Adam's peak learning rate [default: the recipe's: 2e-3 for emoji and ser, 4e-3 for fer,
    /// 1e-2 for anp].
    #[arg(long)]
    lr: Option<f64>,
    /// Stop after this many epochs without a better validation accuracy; 0 never stops early
    /// [default: the recipe's, 0].
    #[arg(long)]
    patience: Option<usize>,
    /// Continue the run checkpointed in --out (same --data, --seed and --batch).
    #[arg(long)]
    resume: bool,
    /// JSON lines on stdout instead of text: `{"event":"start",...}`, one `{"event":"epoch",...}`
    /// per epoch (history.json's record) and `{"event":"done",...}` with the test figures and
    /// the files written. Stages and the bar go to stderr.
    #[arg(long)]
    json: bool,
}

pub fn run(command: TrainCommand) -> Result<()> {
    match command {
        TrainCommand::Emoji(args) => {
            let mut options = EmojiOptions::new(&args.data, &args.out);
            args.apply(&mut options.train);
            train_with(
                |progress| sentio_train::train_emoji(&options, progress),
                "images",
                args.json,
            )
        }
        TrainCommand::Fer(args) => {
            let mut options = FerOptions::new(&args.data, &args.out);
            args.apply(&mut options.train);
            train_with(
                |progress| sentio_train::train_fer(&options, progress),
                "images",
                args.json,
            )
        }
        TrainCommand::Ser(args) => {
            let mut options = SerOptions::new(&args.data, &args.out);
            args.apply(&mut options.train);
            train_with(
                |progress| sentio_train::train_ser(&options, progress),
                "clips",
                args.json,
            )
        }
        TrainCommand::Anp(args) => {
            let mut options = AnpOptions::new(&args.data, &args.out);
            args.apply(&mut options.train);
            train_anp_with(&options, args.json)
        }
    }
}

/// `sentio train anp`: the epoch bars and Ctrl-C of [`train_with`], then the tagger's figures
/// (top-1 precision, top-5 recall, mAP and the per-pair table) instead of a confusion.
fn train_anp_with(options: &AnpOptions, json: bool) -> Result<()> {
    let mut progress = EpochBars::stopped_by_ctrl_c(json);
    if !json {
        println!(
            "anp: an epoch line's \"acc\" is the mean average precision (the bar's: the running top-1 precision)"
        );
    }
    let report = sentio_train::train_anp(options, &mut progress).wrap_err("training failed")?;
    if let Some(bar) = progress.bar.take() {
        bar.finish_and_clear();
    }
    let t = &report.test;
    if json {
        return print_line(&serde_json::json!({
            "event": "done",
            "best_epoch": report.history.best_epoch,
            "test_scenes": t.images,
            "top1_precision": t.top1_precision,
            "top5_recall": t.top5_recall,
            "mean_average_precision": t.mean_average_precision,
            "epochs": report.history.epochs.len(),
            "interrupted": report.history.interrupted,
            "seconds": report.seconds,
            "onnx_bytes": report.onnx_size,
            "files": report.files,
        }));
    }
    println!(
        "best epoch {} (val mAP {:.4}); test, {} scenes through tract: top-1 precision {:.2}%, top-5 recall {:.2}%, mAP {:.4}; {} epochs: {:.0} s training, {:.0} s in all{}",
        report.history.best_epoch.unwrap_or(0),
        report.history.best().map_or(0.0, |b| b.val_accuracy),
        t.images,
        t.top1_precision * 100.0,
        t.top5_recall * 100.0,
        t.mean_average_precision,
        report.history.epochs.len(),
        report.train_seconds,
        report.seconds,
        if report.history.interrupted {
            " (stopped by Ctrl-C: `--resume` continues)"
        } else {
            ""
        }
    );
    println!(
        "{:<18} {:>9} {:>7} {:>7} {:>7} {:>7}",
        "pair", "precision", "recall", "f1", "ap", "support"
    );
    for l in &t.per_label {
        println!(
            "{:<18} {:>9.3} {:>7.3} {:>7.3} {:>7.3} {:>7}",
            l.label, l.precision, l.recall, l.f1, l.average_precision, l.support
        );
    }
    println!(
        "model.onnx {} bytes, {} parameters (tract agrees with burn to {:.1e})",
        report.onnx_size, report.parameters, report.export_max_diff
    );
    for file in &report.files {
        println!("wrote {}", file.display());
    }
    Ok(())
}

impl TrainArgs {
    /// The recipe with the options given on the command line.
    fn apply(&self, recipe: &mut TrainOptions) {
        recipe.epochs = self.epochs.unwrap_or(recipe.epochs);
        recipe.batch = self.batch.unwrap_or(recipe.batch);
        recipe.learning_rate = self.lr.unwrap_or(recipe.learning_rate);
        recipe.patience = self.patience.unwrap_or(recipe.patience);
        recipe.seed = self.seed;
        recipe.resume = self.resume;
    }
}

/// Runs a training job with the epoch bars and Ctrl-C handling, then prints its report.
/// One JSON line on stdout (`--json`).
fn print_line(value: &serde_json::Value) -> Result<()> {
    println!("{}", serde_json::to_string(value).into_diagnostic()?);
    Ok(())
}

fn train_with(
    job: impl FnOnce(&mut dyn TrainProgress) -> sentio_train::Result<Report>,
    unit: &str,
    json: bool,
) -> Result<()> {
    let mut progress = EpochBars::stopped_by_ctrl_c(json);
    let report = job(&mut progress).wrap_err("training failed")?;
    if let Some(bar) = progress.bar.take() {
        bar.finish_and_clear();
    }
    let best = report.history.best();
    if json {
        return print_line(&serde_json::json!({
            "event": "done",
            "best_epoch": report.history.best_epoch,
            "val_accuracy": best.map(|b| b.val_accuracy),
            "test_accuracy": report.test_accuracy,
            "test_examples": report.split[2],
            "epochs": report.history.epochs.len(),
            "stopped_early": report.history.stopped_early,
            "interrupted": report.history.interrupted,
            "seconds": report.seconds,
            "onnx_bytes": report.onnx_size,
            "export_max_diff": report.export_max_diff,
            "files": report.files,
        }));
    }
    println!(
        "best epoch {} (val accuracy {:.2}%), test accuracy {:.2}% on {} {unit}, {} epochs in {:.0} s{}",
        report.history.best_epoch.unwrap_or(0),
        best.map_or(0.0, |b| b.val_accuracy * 100.0),
        report.test_accuracy * 100.0,
        report.split[2],
        report.history.epochs.len(),
        report.seconds,
        if report.history.stopped_early {
            " (stopped early)"
        } else if report.history.interrupted {
            " (stopped by Ctrl-C: `--resume` continues)"
        } else {
            ""
        }
    );
    println!(
        "{:<18} {:>9} {:>7} {:>7} {:>7}",
        "class", "precision", "recall", "f1", "support"
    );
    for c in &report.per_class {
        println!(
            "{:<18} {:>9.3} {:>7.3} {:>7.3} {:>7}",
            c.label, c.precision, c.recall, c.f1, c.support
        );
    }
    println!(
        "model.onnx {} bytes (tract agrees with burn to {:.1e})",
        report.onnx_size, report.export_max_diff
    );
    for file in &report.files {
        println!("wrote {}", file.display());
    }
    Ok(())
}

#[derive(Default)]
struct EpochBars {
    bar: Option<ProgressBar>,
    max_epochs: usize,
    /// Seconds of each epoch run so far, for the run's ETA.
    seconds: Vec<f32>,
    stop: Arc<AtomicBool>,
    /// `--json`: epochs as JSON lines on stdout, stages on stderr.
    json: bool,
}

impl EpochBars {
    /// Bars (or JSON lines) whose run Ctrl-C ends after the current epoch: its checkpoint is
    /// written and the best epoch so far exported, so `--resume` continues the run. A second
    /// Ctrl-C ends the process at once.
    fn stopped_by_ctrl_c(json: bool) -> EpochBars {
        let bars = EpochBars {
            json,
            ..EpochBars::default()
        };
        let stop = bars.stop.clone();
        let _ = ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            eprintln!(
                "\nstopping after this epoch (Ctrl-C again to quit now); `--resume` continues the run"
            );
        });
        bars
    }
}

impl TrainProgress for EpochBars {
    fn run_start(&mut self, start: &RunStart) {
        self.max_epochs = start.max_epochs;
        if self.json {
            let line = serde_json::json!({
                "event": "start",
                "train": start.train,
                "val": start.val,
                "batches": start.batches,
                "first_epoch": start.first_epoch,
                "max_epochs": start.max_epochs,
            });
            println!("{line}");
            return;
        }
        println!(
            "training on {} examples, validating on {}, {} batches per epoch, epochs {}..={}",
            start.train, start.val, start.batches, start.first_epoch, start.max_epochs
        );
    }

    fn epoch_start(&mut self, epoch: usize, batches: usize) {
        let bar = ProgressBar::new(batches as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>12} [{bar:30}] {pos:>4}/{len:<4} {msg} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_prefix(format!("epoch {epoch}/{}", self.max_epochs));
        self.bar = Some(bar);
    }

    fn batch_end(&mut self, batch: usize, loss: f32, accuracy: f32) {
        if let Some(bar) = &self.bar {
            bar.set_position(batch as u64);
            bar.set_message(format!("loss {loss:.4} acc {:.1}%", accuracy * 100.0));
        }
    }

    fn epoch_end(&mut self, r: &EpochRecord) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        self.seconds.push(r.seconds);
        let mean = self.seconds.iter().sum::<f32>() / self.seconds.len() as f32;
        let left = self.max_epochs.saturating_sub(r.epoch) as f32 * mean;
        if self.json {
            let mut line = serde_json::to_value(r).unwrap_or_default();
            if let Some(fields) = line.as_object_mut() {
                fields.insert("event".into(), "epoch".into());
            }
            println!("{line}");
            return;
        }
        println!(
            "epoch {:>3}/{}: train loss {:.4} acc {:.2}% | val loss {:.4} acc {:.2}% | {:.1} s, run eta {:.0} s{}",
            r.epoch,
            self.max_epochs,
            r.train_loss,
            r.train_accuracy * 100.0,
            r.val_loss,
            r.val_accuracy * 100.0,
            r.seconds,
            left,
            if r.best { "  * best" } else { "" }
        );
    }

    fn should_stop(&mut self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn stage(&mut self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None if self.json => eprintln!("{text}"),
            None => println!("{text}"),
        }
    }
}
