//! `sentio run`, `sentio bench` and `sentio quantize`: a model a user brings (with or without a
//! Sentio manifest) run once, timed, or quantized to int8, all through `sentio-infer`.
//!
//! The manifest of `MODEL` is `--manifest FILE`, else `<MODEL stem>.manifest.json` beside it
//! (what `sentio quantize` writes), else `manifest.json` beside it (what `sentio train` writes).
//! It gives the labels, the input shape and the preprocessing of images.
//!
//! Each command (`run.rs`, `bench.rs`, `quantize.rs`) parses its arguments, calls a library and
//! prints: the timing and memory figures are `sentio_infer::bench`'s, the quantization and its
//! comparison `sentio_infer::quantize`'s, the image folders `sentio_data::ImageDir`. This file
//! holds what they share: the model arguments, loading, input tensors and progress bars.

mod bench;
mod quantize;
mod run;

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use miette::{Result, WrapErr, bail};
use sentio_diagnostics::FileContext as _;
use sentio_infer::LoadOptions;
use sentio_infer::npy;
use sentio_models::Manifest;
use sentio_vision::ImagePrep;

pub use self::bench::{BenchArgs, bench};
pub use self::quantize::{QuantizeArgs, quantize_cmd};
pub use self::run::{RunArgs, run};

/// An input shape on the command line: `1,1,64,64`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape(pub Vec<usize>);

fn parse_shape(text: &str) -> Result<Shape, String> {
    let dims: Result<Vec<usize>, _> = text
        .split([',', 'x'])
        .map(|d| d.trim().parse::<usize>())
        .collect();
    match dims {
        Ok(dims) if !dims.is_empty() && !dims.contains(&0) => Ok(Shape(dims)),
        _ => Err(format!(
            "`{text}` is not a shape: give dimensions of at least 1 separated by commas, e.g. 1,1,64,64"
        )),
    }
}

/// The model and where its shape and labels come from (shared by the three commands).
#[derive(Args, Debug)]
pub struct ModelArgs {
    /// The ONNX model file.
    pub model: PathBuf,
    /// The model's manifest (default: `<MODEL stem>.manifest.json`, else `manifest.json`, beside
    /// MODEL): labels, input shape, image preprocessing.
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// The input shape, for a model whose shape is symbolic (overrides the manifest's).
    #[arg(long, value_name = "1,1,64,64", value_parser = parse_shape)]
    pub shape: Option<Shape>,
}

// ---------------------------------------------------------------------------------------------
// Loading

/// A manifest and the file it came from.
pub(crate) struct ManifestFile {
    pub(crate) path: PathBuf,
    pub(crate) manifest: Manifest,
}

/// The manifest that goes with `model`: the explicit one, or one beside the model.
pub(crate) fn find_manifest(model: &Path, explicit: Option<&Path>) -> Result<Option<ManifestFile>> {
    let candidates: Vec<PathBuf> = match explicit {
        Some(path) => vec![path.to_owned()],
        None => {
            let dir = model.parent().unwrap_or(Path::new("."));
            let stem = model.file_stem().map(|s| s.to_string_lossy().into_owned());
            let mut c = Vec::new();
            if let Some(stem) = stem {
                c.push(dir.join(format!("{stem}.manifest.json")));
            }
            c.push(dir.join("manifest.json"));
            c.into_iter().filter(|p| p.is_file()).collect()
        }
    };
    let Some(path) = candidates.into_iter().next() else {
        return Ok(None);
    };
    let text = std::fs::read(&path)
        .file_context(|| format!("cannot read the manifest {}", path.display()))?;
    let manifest = Manifest::from_slice(&text).with_context(|| {
        if explicit.is_some() {
            format!("manifest {}", path.display())
        } else {
            format!(
                "manifest {} (found beside the model; fix it, or give another with --manifest)",
                path.display()
            )
        }
    })?;
    Ok(Some(ManifestFile { path, manifest }))
}

/// The load options for `args`: name, manifest, explicit shape, threads.
pub(crate) fn load_options(
    args: &ModelArgs,
    threads: usize,
) -> Result<(LoadOptions, Option<ManifestFile>)> {
    let manifest = find_manifest(&args.model, args.manifest.as_deref())?;
    let mut options = LoadOptions::new().threads(threads);
    if let Some(m) = &manifest {
        options = options.manifest(&m.manifest);
    } else {
        options = options.name(&model_name(&args.model));
    }
    if let Some(Shape(shape)) = &args.shape {
        options = options.shape(shape);
    }
    Ok((options, manifest))
}

/// A path as text for JSON output (serde would refuse a non-UTF-8 path; this never does).
fn show(path: &Path) -> String {
    path.display().to_string()
}

pub(crate) fn model_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".to_owned())
}

pub(crate) fn read_model(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).file_context(|| format!("cannot read the model {}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// Inputs and progress

/// An image file as the model's input tensor.
pub(crate) fn image_tensor(path: &Path, shape: &[usize], prep: &ImagePrep) -> Result<Vec<f32>> {
    let image = sentio_vision::decode_image(path)?;
    Ok(sentio_vision::image_tensor(&image, shape, prep)?)
}

/// Every image of `paths` as an input tensor, drawing progress.
fn image_tensors(
    paths: &[&Path],
    shape: &[usize],
    prep: &ImagePrep,
    what: &str,
) -> Result<Vec<Vec<f32>>> {
    let bar = progress_bar(paths.len(), what);
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        out.push(image_tensor(path, shape, prep)?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(out)
}

/// The rows of an `[N, ...input]` .npy: each one input.
fn npy_samples(path: &Path, shape: &[usize]) -> Result<Vec<Vec<f32>>> {
    let array = npy::read(path)?;
    let len: usize = shape.iter().product();
    let rows = array.shape.first().copied().unwrap_or(0);
    let per_row: usize = array.shape.iter().skip(1).product();
    if array.shape.len() < 2 || per_row != len {
        bail!(
            code = "data::infer::calibration_shape",
            help = format!(
                "calibration inputs must be [N, ...input shape] with {len} values per input \
                 (input shape {shape:?})"
            ),
            "{}: the array has shape {:?}",
            path.display(),
            array.shape
        );
    }
    if rows == 0 {
        bail!(
            code = "data::infer::calibration_empty",
            help = "give at least one calibration input",
            "{}: the array holds no input (N = 0)",
            path.display()
        );
    }
    Ok(array.data.chunks(len).map(<[f32]>::to_vec).collect())
}

pub(crate) fn progress_bar(len: usize, prefix: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>14} [{bar:30}] {pos:>6}/{len:<6} {per_sec:>10} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_prefix(prefix.to_owned());
    bar
}

fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_observers_parse() {
        use sentio_infer::quantize::Observer;

        use super::quantize::parse_observer;

        assert_eq!(parse_shape("1,1,64,64"), Ok(Shape(vec![1, 1, 64, 64])));
        assert_eq!(parse_shape("1x3x8x8"), Ok(Shape(vec![1, 3, 8, 8])));
        assert!(
            parse_shape("1,0").is_err() && parse_shape("").is_err() && parse_shape("a").is_err()
        );
        assert_eq!(parse_observer("minmax"), Ok(Observer::MinMax));
        assert_eq!(
            parse_observer("percentile:99.9"),
            Ok(Observer::Percentile(99.9))
        );
        assert!(parse_observer("percentile:0").is_err() && parse_observer("max").is_err());
    }
}
