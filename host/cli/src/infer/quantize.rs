//! `sentio quantize`: read the calibration (and evaluation) inputs, let
//! `sentio_infer::quantize::quantize_and_compare` quantize the model and compare it with the f32
//! one (drawing its progress), write the int8 model and its manifest, and print the report.

use std::path::{Path, PathBuf};

use clap::Args;
use indicatif::ProgressBar;
use miette::{IntoDiagnostic as _, Result, WrapErr, bail};
use sentio_data::ImageDir;
use sentio_diagnostics::FileContext as _;
use sentio_infer::Model;
use sentio_infer::quantize::{self, LabelledInputs, Observer, QuantizeProgress};
use sentio_models::Precision;
use sentio_vision::ImagePrep;
use serde_json::json;

use super::{
    ModelArgs, image_tensors, load_options, model_name, ms, npy_samples, progress_bar, read_model,
    show, spinner,
};

/// `sentio quantize`.
#[derive(Args, Debug)]
pub struct QuantizeArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Calibration inputs: an .npy of shape [N, ...input], or a directory of images (ImageFolder
    /// `DIR/<label>/*.png`, or loose images).
    #[arg(long, value_name = "DIR_OR_NPY")]
    pub calib: PathBuf,
    /// Where to write the int8 model (and, when there is a manifest, `<stem>.manifest.json`).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// How activation ranges are chosen: `minmax` or `percentile:P` (e.g. percentile:99.99).
    #[arg(long, default_value = "minmax", value_parser = parse_observer)]
    pub observer: Observer,
    /// A labelled ImageFolder to compare f32 and int8 top-1 accuracy on (default: --calib when it
    /// is a labelled ImageFolder).
    #[arg(long, value_name = "DIR")]
    pub eval: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub(super) fn parse_observer(text: &str) -> Result<Observer, String> {
    match text {
        "minmax" | "min-max" => Ok(Observer::MinMax),
        _ => {
            let p = text
                .strip_prefix("percentile:")
                .and_then(|p| p.parse::<f32>().ok())
                .ok_or_else(|| {
                    format!("`{text}`: use `minmax` or `percentile:P` (e.g. percentile:99.99)")
                })?;
            if p > 0.0 && p <= 100.0 {
                Ok(Observer::Percentile(p))
            } else {
                Err(format!("percentile {p} must be in (0, 100]"))
            }
        }
    }
}

/// Draws the progress of `quantize_and_compare`: a spinner while calibrating, a bar for each
/// model's evaluation.
#[derive(Default)]
struct QuantizeBars(Option<ProgressBar>);

impl QuantizeBars {
    fn show(&mut self, progress: QuantizeProgress) {
        match progress {
            QuantizeProgress::Calibrating { inputs, observer } => self.replace(Some(spinner(
                &format!("calibrating on {inputs} inputs ({observer})"),
            ))),
            QuantizeProgress::Evaluating {
                precision,
                done: 0,
                total,
            } => self.replace(Some(progress_bar(total, &format!("eval {precision}")))),
            QuantizeProgress::Evaluating { done, .. } => {
                if let Some(bar) = &self.0 {
                    bar.set_position(done as u64);
                }
            }
            QuantizeProgress::Quantizing | QuantizeProgress::Timing => self.replace(None),
        }
    }

    fn replace(&mut self, bar: Option<ProgressBar>) {
        if let Some(old) = std::mem::replace(&mut self.0, bar) {
            old.finish_and_clear();
        }
    }
}

/// `out.onnx` → `out.manifest.json`.
fn manifest_path_for(out: &Path) -> PathBuf {
    let stem = model_name(out);
    out.with_file_name(format!("{stem}.manifest.json"))
}

/// Replaces `path` with `bytes` (see `sentio_files`: a reader never sees half a file and a
/// failure leaves nothing behind).
fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    sentio_files::write_bytes_atomically(path, bytes)
        .file_context(|| format!("cannot write {}", path.display()))
}

pub fn quantize_cmd(args: &QuantizeArgs) -> Result<()> {
    let path = &args.model.model;
    let (options, manifest) = load_options(&args.model, 1)?;
    let bytes = read_model(path)?;
    let mut f32_model = Model::load(&bytes, &options)?;
    if quantize::is_quantized(&bytes) {
        bail!(
            code = "usage::quantize::already_int8",
            help = "quantize the f32 model it came from",
            "{} is already quantized (it holds QLinear ops)",
            path.display()
        );
    }
    let shape = f32_model.input_shape().to_vec();
    let name = f32_model.name().to_owned();
    let labels = manifest.as_ref().map(|m| m.manifest.labels.labels.clone());
    let prep = ImagePrep::from_manifest(manifest.as_ref().map(|m| &m.manifest.input.preprocessing));

    // Calibration inputs: the images of a directory, or the rows of an .npy.
    let calib_dir = if args.calib.is_dir() {
        Some(ImageDir::open(&args.calib, labels.as_deref())?)
    } else {
        None
    };
    let samples = match &calib_dir {
        Some(dir) => image_tensors(&dir.paths(), &shape, &prep, "calib images")?,
        None => npy_samples(&args.calib, &shape)?,
    };

    // A labelled set to compare the accuracy on: --eval, else the calibration images.
    let eval_set = match (&args.eval, calib_dir) {
        (Some(dir), _) => match ImageDir::open(dir, labels.as_deref())? {
            ImageDir::Labelled(set) => Some(set),
            ImageDir::Loose { .. } => bail!(
                code = "usage::quantize::eval_unlabelled",
                help = "give a labelled ImageFolder (DIR/<label>/*.png)",
                "--eval {}: found loose images, not label folders",
                dir.display()
            ),
        },
        (None, Some(ImageDir::Labelled(set))) => Some(set),
        _ => None,
    };
    let eval_inputs = match &eval_set {
        Some(set) => {
            let classes = f32_model
                .output_shapes()
                .first()
                .and_then(|s| s.last().copied())
                .unwrap_or(0);
            if set.labels.len() > classes {
                bail!(
                    code = "data::quantize::classes",
                    help = "evaluate on a set made for this model (its labels, in its order)",
                    "{}: {} classes ({}) but the model has {classes} outputs",
                    set.root.display(),
                    set.labels.len(),
                    set.labels.join(", ")
                );
            }
            let paths: Vec<&Path> = set.samples.iter().map(|s| s.path.as_path()).collect();
            Some(image_tensors(&paths, &shape, &prep, "eval images")?)
        }
        None => None,
    };
    let truth = eval_set
        .as_ref()
        .map(|set| set.targets())
        .unwrap_or_default();
    let eval = eval_inputs.as_ref().map(|inputs| LabelledInputs {
        inputs,
        labels: &truth,
    });

    let mut bars = QuantizeBars::default();
    let compared = quantize::quantize_and_compare(
        &mut f32_model,
        &bytes,
        &options,
        &samples,
        args.observer,
        eval,
        &mut |p| bars.show(p),
    );
    bars.replace(None);
    let compared = compared?;
    let quantized = &compared.quantized;
    let report = &quantized.report;
    let eval = compared.accuracy.zip(eval_set.as_ref());
    let eval_json = eval.map(|(acc, set)| {
        json!({
            "dir": show(&set.root),
            "images": acc.inputs,
            "f32_top1": acc.f32_top1,
            "int8_top1": acc.int8_top1,
            "change_points": acc.change_points(),
        })
    });

    // The manifest of the new file, when the f32 one has a manifest.
    let manifest_out = match &manifest {
        Some(m) => {
            let mut new = m.manifest.clone();
            new.precision = Precision::Int8;
            new.model_sha256 = sentio_models::sha256(&quantized.model);
            new.model_size = quantized.model.len() as u64;
            new.extra.insert(
                "quantization".to_owned(),
                json!({
                    "from_sha256": hex::encode(sentio_models::sha256(&bytes)),
                    "observer": args.observer.to_string(),
                    "calibration_inputs": compared.calibration_inputs,
                    "int8_nodes": report.quantized.len(),
                    "f32_nodes": report.kept_f32.len(),
                    "eval": eval_json.clone(),
                }),
            );
            let json = new
                .to_json_pretty()
                .context("cannot write the int8 manifest")?;
            Some((manifest_path_for(&args.out), json))
        }
        None => None,
    };

    // Write: the model, then its manifest; if the manifest fails the model goes too.
    write(&args.out, &quantized.model)?;
    if let Some((mpath, json)) = &manifest_out
        && let Err(e) = write(mpath, json.as_bytes())
    {
        let _ = std::fs::remove_file(&args.out);
        return Err(e);
    }

    let (f32_p50, int8_p50) = (compared.f32_p50, compared.int8_p50);
    if args.json {
        let doc = json!({
            "model": show(path),
            "out": show(&args.out),
            "manifest": manifest_out.as_ref().map(|(p, _)| show(p)),
            "observer": args.observer.to_string(),
            "calibration": {"source": show(&args.calib), "inputs": samples.len()},
            "size": {
                "f32_bytes": report.f32_bytes,
                "int8_bytes": report.int8_bytes,
                "int8_percent": 100.0 * report.size_ratio(),
            },
            "nodes": {
                "int8": report.quantized.iter().map(|n| json!({"node": n.node, "op": n.op, "note": n.note})).collect::<Vec<_>>(),
                "f32": report.kept_f32.iter().map(|n| json!({"node": n.node, "op": n.op, "reason": n.note})).collect::<Vec<_>>(),
                "folded_batch_norms": report.folded_batch_norms,
            },
            "latency_p50_ms": {"f32": ms(f32_p50), "int8": ms(int8_p50)},
            "accuracy": eval_json,
            "sha256": hex::encode(sentio_models::sha256(&quantized.model)),
        });
        println!("{}", serde_json::to_string_pretty(&doc).into_diagnostic()?);
        return Ok(());
    }
    println!(
        "quantized {name} -> {} ({} observer, {} calibration inputs from {})",
        args.out.display(),
        args.observer,
        samples.len(),
        args.calib.display()
    );
    println!(
        "size      f32 {} bytes -> int8 {} bytes ({:.1}% of f32)",
        report.f32_bytes,
        report.int8_bytes,
        100.0 * report.size_ratio()
    );
    println!(
        "nodes     {} int8, {} kept f32{}",
        report.quantized.len(),
        report.kept_f32.len(),
        if report.folded_batch_norms > 0 {
            format!(", {} BatchNorm folded", report.folded_batch_norms)
        } else {
            String::new()
        }
    );
    for node in &report.quantized {
        println!("  int8  {node}");
    }
    for node in &report.kept_f32 {
        println!("  f32   {node}");
    }
    println!(
        "latency   p50 f32 {:.3} ms, int8 {:.3} ms (int8/f32 {:.2}x, 1 thread)",
        ms(f32_p50),
        ms(int8_p50),
        compared.latency_ratio()
    );
    match eval {
        Some((acc, set)) => println!(
            "accuracy  top-1 on {} images of {}: f32 {:.2}%, int8 {:.2}% ({:+.2} points)",
            acc.inputs,
            set.root.display(),
            acc.f32_top1 * 100.0,
            acc.int8_top1 * 100.0,
            acc.change_points()
        ),
        None => println!(
            "accuracy  not measured (give --eval DIR, a labelled ImageFolder, or calibrate on one)"
        ),
    }
    if let Some((p, _)) = &manifest_out {
        println!("manifest  {} (precision int8)", p.display());
    }
    Ok(())
}
