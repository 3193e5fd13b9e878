//! `sentio run`, `sentio bench` and `sentio quantize`: a model a user brings (with or without a
//! Sentio manifest) run once, timed, or quantized to int8, all through `sentio-infer`.
//!
//! The manifest of `MODEL` is `--manifest FILE`, else `<MODEL stem>.manifest.json` beside it
//! (what `sentio quantize` writes), else `manifest.json` beside it (what `sentio train` writes).
//! It gives the labels, the input shape and the preprocessing of images.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use sentio_audio::{FeatureExtractor, FeatureMatrix, SpeechInput};
use sentio_infer::npy;
use sentio_infer::quantize::{self, Observer, QuantReport};
use sentio_infer::{ErrorKind, Isa, KernelsMode, LoadOptions, Model, NodeTime, Outputs};
use sentio_models::{Manifest, Precision};
use sentio_vision::{ImageLayout, ImagePrep};
use serde_json::{Value, json};

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

fn parse_observer(text: &str) -> Result<Observer, String> {
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

/// `sentio run`.
#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["input", "image", "audio", "file"])))]
pub struct RunArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// The input by its extension: `.npy` (as --input), `.png`/`.jpg`/`.jpeg` (as --image) or
    /// `.wav` (as --audio).
    #[arg(value_name = "INPUT")]
    pub file: Option<PathBuf>,
    /// A NumPy .npy tensor holding the input (its element count must be the input's).
    #[arg(long, value_name = "FILE.npy")]
    pub input: Option<PathBuf>,
    /// A PNG or JPEG image, converted to the input layout (NCHW; gray if C=1, RGB if C=3),
    /// resized to HxW and scaled by 1/255 (or the manifest's preprocessing).
    #[arg(long, value_name = "FILE.png")]
    pub image: Option<PathBuf>,
    /// A WAV clip for a speech model (manifest kind `audio_features`): resampled and mixed to
    /// mono as the device does, cut to the model's window by its input rule (VAD trim, middle
    /// window or end padding), featurized and run; the scores of every label are printed.
    #[arg(long, value_name = "FILE.wav")]
    pub audio: Option<PathBuf>,
    /// How many classes to list, best first.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub top: usize,
    /// Print JSON (every output value) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Which precision `sentio bench` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PrecisionArg {
    F32,
    Int8,
}

/// `sentio bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Threads for one inference.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub threads: usize,
    /// Precision to run (default: the model's own). `int8` on an f32 model quantizes it first
    /// from --calib.
    #[arg(long, value_enum)]
    pub precision: Option<PrecisionArg>,
    /// Calibration inputs for `--precision int8` on an f32 model: an .npy of shape [N, ...input].
    #[arg(long, value_name = "FILE.npy")]
    pub calib: Option<PathBuf>,
    /// Untimed runs first.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub warmup: usize,
    /// Timed runs (default 200).
    #[arg(long, value_name = "N", conflicts_with = "seconds")]
    pub runs: Option<usize>,
    /// Run for this many seconds instead of a number of runs.
    #[arg(long, value_name = "S")]
    pub seconds: Option<f64>,
    /// Whose plan runs: `auto` (what the device does: Sentio's plan and tract's are timed at
    /// load and the faster kept), `sentio` (tract plus Sentio's kernels for the ops tract is
    /// slow at) or `tract` (tract's plan exactly as tract makes it).
    #[arg(long, visible_alias = "lowering", value_enum, default_value_t = LoweringArg::Auto)]
    pub kernels: LoweringArg,
    /// The instruction set Sentio's kernels use at most: avx512, avx2+fma, neon or portable
    /// (default: the best this CPU has). To time on one machine what a smaller CPU runs; set
    /// `TRACT_CPU_ISA` (e.g. `-avx512f`) to limit tract's kernels the same way.
    #[arg(long, value_name = "ISA", value_parser = parse_isa)]
    pub isa: Option<Isa>,
    /// Also time every node of the plan over this many extra runs (after the timed runs) and
    /// show where the time goes.
    #[arg(long, value_name = "RUNS", num_args = 0..=1, default_missing_value = "50")]
    pub profile: Option<usize>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

fn parse_isa(text: &str) -> std::result::Result<Isa, String> {
    Isa::parse(text).ok_or_else(|| {
        let names: Vec<&str> = Isa::ALL.iter().map(|i| i.name()).collect();
        format!("no instruction set {text:?}; one of {}", names.join(", "))
    })
}

/// Whose plan `sentio bench` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LoweringArg {
    /// The faster of Sentio's plan and tract's, timed at load (what the device runs).
    Auto,
    /// tract plus Sentio's kernels and measured choices.
    Sentio,
    /// tract's plan as tract makes it.
    Tract,
}

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
        .with_context(|| format!("cannot read the manifest {}", path.display()))?;
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
    std::fs::read(path).with_context(|| format!("cannot read the model {}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// Inputs: .npy tensors and images

/// An image file as the model's input tensor.
pub(crate) fn image_tensor(path: &Path, shape: &[usize], prep: &ImagePrep) -> Result<Vec<f32>> {
    let image = sentio_vision::decode_image(path)?;
    Ok(sentio_vision::image_tensor(&image, shape, prep)?)
}

/// An .npy file as one input of `len` values.
fn npy_tensor(path: &Path, shape: &[usize]) -> Result<Vec<f32>> {
    let array = npy::read(path)?;
    let len: usize = shape.iter().product();
    if array.len() != len {
        bail!(
            "{}: the array has shape {:?} ({} values) but the model's input is {shape:?} ({len} values)\n  \
             help: save an array of the input's shape, e.g. np.save(path, a.reshape({shape:?}).astype('<f4')); \
             --shape sets the input shape of a model whose shape is symbolic",
            path.display(),
            array.shape,
            array.len()
        );
    }
    Ok(array.data)
}

/// The rows of an `[N, ...input]` .npy: each one input.
fn npy_samples(path: &Path, shape: &[usize]) -> Result<Vec<Vec<f32>>> {
    let array = npy::read(path)?;
    let len: usize = shape.iter().product();
    let rows = array.shape.first().copied().unwrap_or(0);
    let per_row: usize = array.shape.iter().skip(1).product();
    if array.shape.len() < 2 || per_row != len {
        bail!(
            "{}: the array has shape {:?}; calibration inputs must be [N, ...input shape] with \
             {len} values per input (input shape {shape:?})",
            path.display(),
            array.shape
        );
    }
    if rows == 0 {
        bail!("{}: the array holds no input (N = 0)", path.display());
    }
    Ok(array.data.chunks(len).map(<[f32]>::to_vec).collect())
}

const IMAGE_EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

fn is_image(path: &Path) -> bool {
    path.is_file()
        && path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Images of a directory: an ImageFolder (`DIR/<label>/*.png`) or loose images.
#[derive(Debug)]
struct ImageSet {
    dir: PathBuf,
    /// Each image and its class index (None for loose images).
    items: Vec<(PathBuf, Option<usize>)>,
    /// Class names, by index (empty for loose images).
    classes: Vec<String>,
}

impl ImageSet {
    fn labelled(&self) -> bool {
        !self.classes.is_empty()
    }
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()
        .with_context(|| format!("cannot list {}", dir.display()))?;
    entries.sort();
    Ok(entries)
}

/// Lists `dir`. Class indices come from `labels` (the manifest's; a folder not among them is an
/// error) or, without labels, from the folders' sorted order.
fn image_set(dir: &Path, labels: Option<&[String]>) -> Result<ImageSet> {
    let entries = sorted_entries(dir)?;
    let mut folders = Vec::new();
    for sub in entries.iter().filter(|p| p.is_dir()) {
        let images: Vec<PathBuf> = sorted_entries(sub)?
            .into_iter()
            .filter(|p| is_image(p))
            .collect();
        if !images.is_empty() {
            let name = sub
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            folders.push((name, images));
        }
    }
    if folders.is_empty() {
        let items: Vec<_> = entries
            .into_iter()
            .filter(|p| is_image(p))
            .map(|p| (p, None))
            .collect();
        if items.is_empty() {
            bail!(
                "{}: no images (.png, .jpg, .jpeg) in it or in its sub-folders",
                dir.display()
            );
        }
        return Ok(ImageSet {
            dir: dir.to_owned(),
            items,
            classes: Vec::new(),
        });
    }
    let classes: Vec<String> = match labels {
        Some(labels) => {
            for (name, _) in &folders {
                if !labels.contains(name) {
                    bail!(
                        "{}: folder `{name}` is not one of the manifest's labels ({})",
                        dir.display(),
                        labels.join(", ")
                    );
                }
            }
            labels.to_vec()
        }
        None => folders.iter().map(|(n, _)| n.clone()).collect(),
    };
    let mut items = Vec::new();
    for (name, images) in folders {
        let class = classes.iter().position(|c| *c == name);
        items.extend(images.into_iter().map(|p| (p, class)));
    }
    Ok(ImageSet {
        dir: dir.to_owned(),
        items,
        classes,
    })
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

/// Every image of `set` as an input tensor, drawing progress.
fn image_tensors(
    set: &ImageSet,
    shape: &[usize],
    prep: &ImagePrep,
    what: &str,
) -> Result<Vec<Vec<f32>>> {
    let bar = progress_bar(set.items.len(), what);
    let mut out = Vec::with_capacity(set.items.len());
    for (path, _) in &set.items {
        out.push(image_tensor(path, shape, prep)?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Timing and memory

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Latencies of timed runs.
#[derive(Clone, Debug)]
struct Latencies {
    /// Sorted, fastest first.
    sorted: Vec<Duration>,
    /// Wall time of all timed runs.
    wall: Duration,
}

impl Latencies {
    /// Nearest-rank percentile (so p50 <= p90 <= p99 always holds).
    fn percentile(&self, p: f64) -> Duration {
        if self.sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * self.sorted.len() as f64).ceil() as usize;
        self.sorted[rank.clamp(1, self.sorted.len()) - 1]
    }

    fn mean(&self) -> Duration {
        let n = u32::try_from(self.sorted.len().max(1)).unwrap_or(u32::MAX);
        self.sorted.iter().sum::<Duration>() / n
    }

    fn throughput(&self) -> f64 {
        self.sorted.len() as f64 / self.wall.as_secs_f64().max(1e-12)
    }

    fn json(&self) -> Value {
        json!({
            "p50": ms(self.percentile(50.0)),
            "p90": ms(self.percentile(90.0)),
            "p99": ms(self.percentile(99.0)),
            "mean": ms(self.mean()),
            "min": ms(self.sorted.first().copied().unwrap_or_default()),
            "max": ms(self.sorted.last().copied().unwrap_or_default()),
        })
    }
}

/// When to stop timing.
#[derive(Clone, Copy, Debug)]
enum Budget {
    Runs(usize),
    Time(Duration),
    /// This many runs, or fewer when the time is up first.
    RunsWithin(usize, Duration),
}

/// `warmup` untimed runs, then timed runs of the whole `Model::run` (input copy, inference,
/// output copy: what a caller waits for).
fn time_runs(model: &mut Model, input: &[f32], warmup: usize, budget: Budget) -> Result<Latencies> {
    for _ in 0..warmup {
        model.run(input)?;
    }
    let mut times = Vec::new();
    let start = Instant::now();
    loop {
        match budget {
            Budget::Runs(n) if times.len() >= n => break,
            Budget::Time(t) if start.elapsed() >= t && !times.is_empty() => break,
            Budget::RunsWithin(n, t)
                if times.len() >= n || (start.elapsed() >= t && !times.is_empty()) =>
            {
                break;
            }
            _ => {}
        }
        let t = Instant::now();
        model.run(input)?;
        times.push(t.elapsed());
    }
    let wall = start.elapsed();
    times.sort();
    Ok(Latencies {
        sorted: times,
        wall,
    })
}

/// A deterministic input in [0, 1) (where images land after scaling): the same for every run
/// and every precision, so f32 and int8 are timed on the same data.
fn bench_input(len: usize) -> Vec<f32> {
    sentio_infer::onnx::SplitMix64::new(0x5e_4710).vec(len, 0.0, 1.0)
}

/// A field of /proc/self/status in bytes (`VmHWM`, `VmRSS`); None where there is no procfs.
fn proc_status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line
        .trim_start_matches(field)
        .trim_start_matches(':')
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Resets VmHWM to the current RSS (Linux >= 4.0: writing 5 to clear_refs), so the peak measured
/// after loading is the model's and not what came before it (e.g. calibration).
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

// ---------------------------------------------------------------------------------------------
// sentio run

/// Where `sentio run` reads its input from.
enum RunSource {
    Npy(PathBuf),
    Image(PathBuf),
    Audio(PathBuf),
}

impl RunSource {
    fn of(args: &RunArgs) -> Result<RunSource> {
        let ext = |p: &Path| {
            p.extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .unwrap_or_default()
        };
        Ok(match (&args.file, &args.input, &args.image, &args.audio) {
            (_, _, _, Some(p)) => RunSource::Audio(p.clone()),
            (_, _, Some(p), _) => RunSource::Image(p.clone()),
            // A WAV given as --input is meant as audio.
            (_, Some(p), _, _) if ext(p) == "wav" => RunSource::Audio(p.clone()),
            (_, Some(p), _, _) => RunSource::Npy(p.clone()),
            (Some(p), ..) => match ext(p).as_str() {
                "npy" => RunSource::Npy(p.clone()),
                "wav" => RunSource::Audio(p.clone()),
                e if IMAGE_EXTENSIONS.contains(&e) => RunSource::Image(p.clone()),
                _ => bail!(
                    "{}: cannot tell the kind of input from its extension; give it as --input \
                     FILE.npy, --image FILE.png or --audio FILE.wav",
                    p.display()
                ),
            },
            (None, None, None, None) => {
                bail!("give the input: FILE.npy, FILE.png or FILE.wav (or --input/--image/--audio)")
            }
        })
    }
}

/// The input rule of the speech model `model` (from its manifest), or why a WAV cannot go in.
fn speech_rule(model: &Path, manifest: Option<&ManifestFile>, wav: &Path) -> Result<SpeechInput> {
    let Some(m) = manifest else {
        bail!(
            "{} is a WAV clip, but {} has no manifest: a speech model's manifest records the \
             features and the window it was trained on\n  help: give it with --manifest FILE \
             (`sentio train ser` writes manifest.json beside the model)",
            wav.display(),
            model.display()
        );
    };
    let p = &m.manifest.input.preprocessing;
    if p.kind != "audio_features" {
        bail!(
            "{} is a WAV clip, but {} is not a speech model (its manifest {} says preprocessing \
             `{}`, not `audio_features`)\n  help: give an image with --image or a tensor with \
             --input FILE.npy, or run a speech model (e.g. models/zoo/ser/model.onnx)",
            wav.display(),
            model.display(),
            m.path.display(),
            p.kind
        );
    }
    SpeechInput::from_manifest(p).map_err(|e| anyhow!("{}: {e}", m.path.display()))
}

/// A speech clip as the model's input: the features of its window, and what was done.
struct SpeechRun {
    features: Vec<f32>,
    kind: String,
    json: Value,
}

fn speech_tensor(
    model: &Model,
    model_path: &Path,
    input: &SpeechInput,
    wav: &Path,
) -> Result<SpeechRun> {
    let dims = input.features.dims();
    let needed = input.frames * dims;
    let have: usize = model.input_shape().iter().product();
    if have != needed {
        bail!(
            "{} takes {:?} ({have} values) but its manifest's rule makes {} frames x {dims} \
             features ({needed} values): the manifest is not this model's; give the right one \
             with --manifest",
            model_path.display(),
            model.input_shape(),
            input.frames
        );
    }
    let rate = input.features.sample_rate;
    let clip = crate::features::read_clip(wav, rate)?;
    let mut extractor = FeatureExtractor::new(input.features.clone())?;
    let (window, place) = crate::features::model_window(input, &clip.audio.samples)?;
    let mut m = FeatureMatrix::default();
    input
        .window_features(&window, &mut extractor, &mut m)
        .with_context(|| wav.display().to_string())?;
    let kind = format!(
        "speech, {} frames x {dims} features at {rate} Hz; {}",
        input.frames,
        place.describe(input, rate)
    );
    let json = json!({
        "source": {
            "sample_rate": clip.file_rate,
            "channels": clip.channels,
            "seconds": clip.file_seconds,
        },
        "frames": input.frames,
        "dims": dims,
        "trim_silence": input.trim_silence,
        "window_samples": input.window(),
        "window": place.json(rate),
    });
    Ok(SpeechRun {
        features: m.data,
        kind,
        json,
    })
}

pub fn run(args: &RunArgs) -> Result<()> {
    let source = RunSource::of(args)?;
    let (options, manifest) = load_options(&args.model, 1)?;
    let speech = match &source {
        RunSource::Audio(wav) => Some(speech_rule(&args.model.model, manifest.as_ref(), wav)?),
        _ => None,
    };
    let bytes = read_model(&args.model.model)?;
    let mut model = match Model::load(&bytes, &options) {
        // A symbolic input shape with no --shape: an .npy input says what it is.
        Err(e) if e.kind() == ErrorKind::InvalidShape && matches!(source, RunSource::Npy(_)) => {
            let RunSource::Npy(path) = &source else {
                return Err(e.into());
            };
            let shape = npy::read(path)?.shape;
            Model::load(&bytes, &options.clone().shape(&shape)).map_err(|_| e)?
        }
        other => other?,
    };
    let shape = model.input_shape().to_vec();
    let read_start = Instant::now();
    let mut speech_json = None;
    let (input, source, kind) = match (&source, &speech) {
        (RunSource::Npy(path), _) => (npy_tensor(path, &shape)?, path.clone(), "npy".to_owned()),
        (RunSource::Image(path), _) => {
            let prep = ImagePrep::from_manifest(
                manifest.as_ref().map(|m| &m.manifest.input.preprocessing),
            );
            let layout = ImageLayout::of_shape(&shape)?;
            let tensor = image_tensor(path, &shape, &prep)?;
            let color = if layout.channels == 1 { "gray" } else { "RGB" };
            (
                tensor,
                path.clone(),
                format!(
                    "image, {color} {}x{}, {}",
                    layout.width,
                    layout.height,
                    prep.describe()
                ),
            )
        }
        (RunSource::Audio(path), Some(rule)) => {
            let run = speech_tensor(&model, &args.model.model, rule, path)?;
            speech_json = Some(run.json);
            (run.features, path.clone(), run.kind)
        }
        (RunSource::Audio(_), None) => bail!("a WAV clip needs a speech model"),
    };
    let read_input = read_start.elapsed();
    let outputs = model.run(&input)?;
    let top = outputs.top_k(args.top);
    let profile = outputs.profile;
    let profile_json = json!({
        "read_input": ms(read_input),
        "preprocess": ms(profile.preprocess),
        "infer": ms(profile.infer),
        "postprocess": ms(profile.postprocess),
        "total": ms(read_input + profile.total()),
    });
    let labels: Vec<String> = manifest
        .as_ref()
        .map(|m| m.manifest.labels.labels.clone())
        .unwrap_or_default();
    let scores: &[f32] = outputs
        .tensors
        .first()
        .map(|t| t.data.as_slice())
        .unwrap_or(&[]);
    if args.json {
        let mut doc = json!({
            "model": show(&args.model.model),
            "name": model.name(),
            "sha256": hex::encode(model.sha256()),
            "manifest": manifest.as_ref().map(|m| show(&m.path)),
            "input": {
                "name": model.input_name(),
                "shape": shape,
                "source": show(&source),
                "kind": kind,
            },
            "outputs": outputs.tensors.iter().map(|t| json!({
                "name": t.name,
                "shape": t.shape,
                "data": t.data,
            })).collect::<Vec<_>>(),
            "top": top.iter().map(|p| json!({
                "index": p.index,
                "label": p.label,
                "score": p.score,
            })).collect::<Vec<_>>(),
            "profile_ms": profile_json,
        });
        // A speech clip also gets every label's score (model order, f32 exactly) and its window.
        if let Some(speech) = speech_json {
            doc["labels"] = json!(labels);
            doc["scores"] = json!(scores);
            doc["speech"] = speech;
        }
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    print_run(
        &model,
        args,
        manifest.as_ref(),
        &shape,
        &source,
        &kind,
        &outputs,
    );
    if speech.is_some() && !labels.is_empty() {
        println!("scores");
        for (label, score) in labels.iter().zip(scores) {
            println!("  {label:<16} {score:.6}");
        }
    }
    println!(
        "profile  read input {:.3} ms, {}",
        ms(read_input),
        outputs.profile
    );
    Ok(())
}

fn print_run(
    model: &Model,
    args: &RunArgs,
    manifest: Option<&ManifestFile>,
    shape: &[usize],
    source: &Path,
    kind: &str,
    outputs: &Outputs,
) {
    println!(
        "model    {} ({}, sha256 {})",
        model.name(),
        args.model.model.display(),
        &hex::encode(model.sha256())[..16]
    );
    if let Some(m) = manifest {
        println!("manifest {}", m.path.display());
    }
    println!(
        "input    {} {shape:?} from {} ({kind})",
        model.input_name(),
        source.display()
    );
    const SHOWN: usize = 8;
    for t in &outputs.tensors {
        let values: Vec<String> = t
            .data
            .iter()
            .take(SHOWN)
            .map(|v| format!("{v:.6}"))
            .collect();
        let more = if t.data.len() > SHOWN {
            format!(" ... ({} values; --json prints all)", t.data.len())
        } else {
            String::new()
        };
        println!(
            "output   {} {:?}: {}{more}",
            t.name,
            t.shape,
            values.join(" ")
        );
    }
    let top = outputs.top_k(args.top);
    if !top.is_empty() {
        println!("top {}", top.len());
        for (rank, p) in top.iter().enumerate() {
            match p.label {
                Some(label) => println!(
                    "  {:>2}. {label:<16} {:.6}  (#{})",
                    rank + 1,
                    p.score,
                    p.index
                ),
                None => println!("  {:>2}. #{:<15} {:.6}", rank + 1, p.index, p.score),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// sentio bench

pub fn bench(args: &BenchArgs) -> Result<()> {
    let path = &args.model.model;
    let (options, _manifest) = load_options(&args.model, args.threads)?;
    let mut options = options.kernels(match args.kernels {
        LoweringArg::Auto => KernelsMode::Auto,
        LoweringArg::Sentio => KernelsMode::Sentio,
        LoweringArg::Tract => KernelsMode::Tract,
    });
    if let Some(isa) = args.isa {
        options = options.isa(isa);
    }
    let mut bytes = read_model(path)?;
    let file_bytes = bytes.len();
    let already_int8 = quantize::is_quantized(&bytes);
    let mut quantize_time = None;
    let precision = match (args.precision, already_int8) {
        (Some(PrecisionArg::F32), true) => bail!(
            "{} is already an int8 model; bench the f32 model it came from for f32",
            path.display()
        ),
        (Some(PrecisionArg::Int8), false) => {
            let Some(calib) = &args.calib else {
                bail!(
                    "{} is an f32 model: --precision int8 quantizes it first and needs calibration \
                     inputs, --calib FILE.npy of shape [N, ...input shape] (or quantize it once \
                     with `sentio quantize` and bench the int8 file)",
                    path.display()
                );
            };
            let probe = Model::load(&bytes, &options)?;
            let samples = npy_samples(calib, probe.input_shape())?;
            let calib_options = calibration_options(&probe);
            drop(probe);
            let start = Instant::now();
            let calibration =
                quantize::calibrate(&bytes, &calib_options, &samples, Observer::MinMax)?;
            let q = quantize::quantize(&bytes, &model_name(path), &calibration)?;
            quantize_time = Some(start.elapsed());
            bytes = q.model;
            "int8"
        }
        (_, true) => "int8",
        (_, false) => "f32",
    };

    // Memory: VmHWM (peak RSS) reset to the current RSS just before loading, read after the
    // timed runs; the increase is what loading and running this model took.
    let peak_reset = reset_peak_rss();
    let baseline_peak = proc_status_bytes("VmHWM");
    let baseline_rss = proc_status_bytes("VmRSS");
    let load_start = Instant::now();
    let mut model = Model::load(&bytes, &options)?;
    let load_time = load_start.elapsed();
    let rss_after_load = proc_status_bytes("VmRSS");
    let input_shape = model.input_shape().to_vec();
    let input = bench_input(input_shape.iter().product());
    let budget = match (args.runs, args.seconds) {
        (Some(n), _) => Budget::Runs(n.max(1)),
        (None, Some(s)) if s > 0.0 && s.is_finite() => Budget::Time(Duration::from_secs_f64(s)),
        (None, Some(s)) => bail!("--seconds {s}: give a positive number of seconds"),
        (None, None) => Budget::Runs(200),
    };
    let latencies = time_runs(&mut model, &input, args.warmup, budget)?;
    let peak = proc_status_bytes("VmHWM");
    let lowering = model.lowering().clone();
    let nodes = match args.profile {
        Some(runs) => Some(model.profile_nodes(&input, runs)?),
        None => None,
    };
    drop(model);

    let method = if peak_reset {
        "VmHWM from /proc/self/status, reset to the current RSS (clear_refs 5) before loading; \
         model_bytes = peak after the runs - RSS before loading"
    } else {
        "VmHWM from /proc/self/status before loading and after the runs (peak could not be \
         reset: model_bytes is 0 when an earlier peak was higher)"
    };
    let model_bytes = match (peak, baseline_peak) {
        (Some(p), Some(b)) => Some(p.saturating_sub(b)),
        _ => None,
    };
    let doc = json!({
        "model": show(path),
        "name": model_name(path),
        "precision": precision,
        "quantized_here": quantize_time.is_some(),
        "threads": options.thread_count(),
        "input_shape": input_shape,
        "file_bytes": file_bytes,
        "model_bytes": bytes.len(),
        "load_ms": ms(load_time),
        "quantize_ms": quantize_time.map(ms),
        "warmup": args.warmup,
        "runs": latencies.sorted.len(),
        "seconds": latencies.wall.as_secs_f64(),
        "latency_ms": latencies.json(),
        "throughput_per_s": latencies.throughput(),
        "memory": {
            "method": method,
            "baseline_rss_bytes": baseline_rss,
            "rss_after_load_bytes": rss_after_load,
            "peak_bytes": peak,
            "model_bytes": model_bytes,
        },
        "tract_onnx": sentio_infer::TRACT_VERSION,
        "lowering": {
            "mode": format!("{:?}", args.kernels).to_lowercase(),
            "plan": {
                "chosen": lowering.plan.chosen.name(),
                "reason": format!("{:?}", lowering.plan.reason).to_lowercase(),
                "isa": lowering.plan.isa.name(),
                "times_ms": lowering.plan.times.iter()
                    .map(|(k, t)| (k.name().to_string(), json!(ms(*t))))
                    .collect::<serde_json::Map<_, _>>(),
            },
            "flat_convs": lowering.flat_convs,
            "row_convs": lowering.row_convs,
            "row_max_pools": lowering.max_pools,
            "sequence_lstms": lowering.lstms,
            "conv_choice": lowering.conv_choice.as_ref().map(|c| json!({
                "direct_spatial": c.direct_spatial,
                "direct_spatial_ms": ms(c.direct_spatial_time),
                "im2col_ms": ms(c.im2col_time),
            })),
        },
        "nodes": nodes.as_ref().map(|nodes| nodes_json(nodes)),
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    let mib = |b: Option<u64>| {
        b.map_or_else(
            || "n/a".to_owned(),
            |b| format!("{:.1} MiB", b as f64 / 1048576.0),
        )
    };
    println!(
        "model      {} ({precision}, {} bytes{}), {} thread(s)",
        path.display(),
        bytes.len(),
        if quantize_time.is_some() {
            ", quantized from --calib"
        } else {
            ""
        },
        options.thread_count()
    );
    if let Some(q) = quantize_time {
        println!("quantize   {:.1} ms", ms(q));
    }
    println!("load       {:.1} ms", ms(load_time));
    let replaced = !(lowering.flat_convs.is_empty()
        && lowering.row_convs.is_empty()
        && lowering.max_pools == 0
        && lowering.lstms.is_empty());
    if replaced {
        let named = |names: &[String]| {
            if names.is_empty() {
                String::new()
            } else {
                format!(" ({})", names.join(", "))
            }
        };
        println!(
            "lowering   Sentio kernels: {} flat conv(s){}, {} row conv(s){}, {} row max pool(s), \
             {} whole-sequence LSTM(s){}",
            lowering.flat_convs.len(),
            named(&lowering.flat_convs),
            lowering.row_convs.len(),
            named(&lowering.row_convs),
            lowering.max_pools,
            lowering.lstms.len(),
            named(&lowering.lstms)
        );
    }
    println!("plan       {}", lowering.plan);
    if let Some(choice) = &lowering.conv_choice {
        println!("lowering   {choice}");
    }
    println!(
        "latency    p50 {:.3} ms  p90 {:.3} ms  p99 {:.3} ms  mean {:.3} ms  ({} runs after {} warm-up)",
        ms(latencies.percentile(50.0)),
        ms(latencies.percentile(90.0)),
        ms(latencies.percentile(99.0)),
        ms(latencies.mean()),
        latencies.sorted.len(),
        args.warmup
    );
    println!("throughput {:.1} inferences/s", latencies.throughput());
    println!(
        "memory     peak RSS {}, model's share {} (peak after runs - RSS before load)",
        mib(peak),
        mib(model_bytes)
    );
    if let (Some(nodes), Some(runs)) = (&nodes, args.profile) {
        print_node_profile(nodes, runs);
    }
    Ok(())
}

fn nodes_json(nodes: &[NodeTime]) -> Value {
    nodes
        .iter()
        .map(|n| {
            json!({
                "id": n.id,
                "name": n.name,
                "op": n.op,
                "output_shape": n.output_shape,
                "info": n.info,
                "mean_ms": ms(n.mean),
            })
        })
        .collect()
}

/// The loops one of Sentio's ops runs (the last parenthesis of its info, e.g. `avx512 8x48` or
/// `neon stride-2 pool`); empty for tract's ops.
fn implementation(node: &NodeTime) -> &str {
    let info = node.info.first().map(String::as_str).unwrap_or("");
    match (
        node.op.starts_with("Sentio"),
        info.rfind('('),
        info.ends_with(')'),
    ) {
        (true, Some(open), true) => &info[open + 1..info.len() - 1],
        _ => "",
    }
}

/// The nodes in plan order with their share of the total, then the time per operator.
fn print_node_profile(nodes: &[NodeTime], runs: usize) {
    let total: Duration = nodes.iter().map(|n| n.mean).sum();
    let share = |d: Duration| 100.0 * d.as_secs_f64() / total.as_secs_f64().max(1e-12);
    println!(
        "profile    {:.3} ms per run summed over {} nodes (mean of {} runs; each node timed alone)",
        ms(total),
        nodes.len(),
        runs.max(1)
    );
    for n in nodes {
        println!(
            "  {:>8.3} ms {:>5.1}%  {:<22} {:<28} {:<16} {}",
            ms(n.mean),
            share(n.mean),
            n.op,
            n.name,
            n.output_shape,
            implementation(n)
        );
    }
    let mut by_op: Vec<(String, Duration, usize)> = Vec::new();
    for n in nodes {
        match by_op.iter_mut().find(|(op, ..)| *op == n.op) {
            Some((_, d, count)) => {
                *d += n.mean;
                *count += 1;
            }
            None => by_op.push((n.op.clone(), n.mean, 1)),
        }
    }
    by_op.sort_by_key(|b| std::cmp::Reverse(b.1));
    println!("by operator");
    for (op, d, count) in by_op {
        println!("  {:>8.3} ms {:>5.1}%  {op} x{count}", ms(d), share(d));
    }
}

// ---------------------------------------------------------------------------------------------
// sentio quantize

/// Options for `quantize::calibrate`: the loaded model's name and resolved input shape, but no
/// labels. (calibrate makes every tensor a graph output, the input first, and LoadOptions checks
/// the labels against the first output, so a manifest's labels would fail there.)
fn calibration_options(model: &Model) -> LoadOptions {
    LoadOptions::new()
        .name(model.name())
        .shape(model.input_shape())
}

/// Top-1 accuracy of one model on a labelled set.
fn accuracy(model: &mut Model, inputs: &[Vec<f32>], labels: &[usize], what: &str) -> Result<f64> {
    let bar = progress_bar(inputs.len(), what);
    let mut correct = 0usize;
    for (x, label) in inputs.iter().zip(labels) {
        let out = model.run(x)?;
        if out.top_k(1).first().is_some_and(|p| p.index == *label) {
            correct += 1;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(correct as f64 / inputs.len().max(1) as f64)
}

/// The short benchmark `quantize` reports: p50 over 50 runs, or fewer when they take more than
/// 2 seconds.
fn quick_p50(model: &mut Model) -> Result<Duration> {
    let input = bench_input(model.input_shape().iter().product());
    let budget = Budget::RunsWithin(50, Duration::from_secs(2));
    Ok(time_runs(model, &input, 5, budget)?.percentile(50.0))
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so a
/// reader never sees half a file and a failure leaves nothing behind.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| anyhow!(e.error))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// `out.onnx` → `out.manifest.json`.
fn manifest_path_for(out: &Path) -> PathBuf {
    let stem = model_name(out);
    out.with_file_name(format!("{stem}.manifest.json"))
}

/// The reason recorded for the f32 nodes, one line each.
fn node_lines(report: &QuantReport) -> (Vec<String>, Vec<String>) {
    let line = |n: &quantize::NodeReport| format!("{} ({}): {}", n.node, n.op, n.note);
    (
        report.quantized.iter().map(line).collect(),
        report.kept_f32.iter().map(line).collect(),
    )
}

pub fn quantize_cmd(args: &QuantizeArgs) -> Result<()> {
    let path = &args.model.model;
    let (options, manifest) = load_options(&args.model, 1)?;
    let bytes = read_model(path)?;
    let mut f32_model = Model::load(&bytes, &options)?;
    if quantize::is_quantized(&bytes) {
        bail!(
            "{} is already quantized (it holds QLinear ops)",
            path.display()
        );
    }
    let shape = f32_model.input_shape().to_vec();
    let name = f32_model.name().to_owned();
    let labels = manifest.as_ref().map(|m| m.manifest.labels.labels.clone());
    let prep = ImagePrep::from_manifest(manifest.as_ref().map(|m| &m.manifest.input.preprocessing));

    // Calibration inputs.
    let calib_set = if args.calib.is_dir() {
        Some(image_set(&args.calib, labels.as_deref())?)
    } else {
        None
    };
    let samples = match &calib_set {
        Some(set) => image_tensors(set, &shape, &prep, "calib images")?,
        None => npy_samples(&args.calib, &shape)?,
    };
    let spin = spinner(&format!(
        "calibrating on {} inputs ({})",
        samples.len(),
        args.observer
    ));
    let calibration = quantize::calibrate(
        &bytes,
        &calibration_options(&f32_model),
        &samples,
        args.observer,
    );
    spin.finish_and_clear();
    let calibration = calibration?;
    let quantized = quantize::quantize(&bytes, &name, &calibration)?;
    let mut int8_model = Model::load(&quantized.model, &options)
        .context("the quantized model does not load (nothing was written)")?;

    // Accuracy on a labelled set.
    let eval_set = match (&args.eval, calib_set) {
        (Some(dir), _) => {
            let set = image_set(dir, labels.as_deref())?;
            if !set.labelled() {
                bail!(
                    "--eval {}: needs a labelled ImageFolder (DIR/<label>/*.png), found loose images",
                    dir.display()
                );
            }
            Some(set)
        }
        (None, Some(set)) if set.labelled() => Some(set),
        _ => None,
    };
    let eval = match &eval_set {
        Some(set) => {
            let classes = f32_model
                .output_shapes()
                .first()
                .and_then(|s| s.last().copied())
                .unwrap_or(0);
            if set.classes.len() > classes {
                bail!(
                    "{}: {} classes ({}) but the model has {classes} outputs",
                    set.dir.display(),
                    set.classes.len(),
                    set.classes.join(", ")
                );
            }
            let inputs = image_tensors(set, &shape, &prep, "eval images")?;
            let truth: Vec<usize> = set
                .items
                .iter()
                .map(|(_, c)| c.unwrap_or(usize::MAX))
                .collect();
            let f32_acc = accuracy(&mut f32_model, &inputs, &truth, "eval f32")?;
            let int8_acc = accuracy(&mut int8_model, &inputs, &truth, "eval int8")?;
            Some((set.dir.clone(), inputs.len(), f32_acc, int8_acc))
        }
        None => None,
    };

    let f32_p50 = quick_p50(&mut f32_model)?;
    let int8_p50 = quick_p50(&mut int8_model)?;
    let report = &quantized.report;
    let eval_json = eval.as_ref().map(|(dir, n, f, q)| {
        json!({
            "dir": show(dir),
            "images": n,
            "f32_top1": f,
            "int8_top1": q,
            "change_points": (q - f) * 100.0,
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
                    "calibration_inputs": samples.len(),
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
    write_atomically(&args.out, &quantized.model)?;
    if let Some((mpath, json)) = &manifest_out
        && let Err(e) = write_atomically(mpath, json.as_bytes())
    {
        let _ = std::fs::remove_file(&args.out);
        return Err(e);
    }

    let (int8_lines, f32_lines) = node_lines(report);
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
        println!("{}", serde_json::to_string_pretty(&doc)?);
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
        int8_lines.len(),
        f32_lines.len(),
        if report.folded_batch_norms > 0 {
            format!(", {} BatchNorm folded", report.folded_batch_norms)
        } else {
            String::new()
        }
    );
    for l in &int8_lines {
        println!("  int8  {l}");
    }
    for l in &f32_lines {
        println!("  f32   {l}");
    }
    println!(
        "latency   p50 f32 {:.3} ms, int8 {:.3} ms (int8/f32 {:.2}x, 1 thread)",
        ms(f32_p50),
        ms(int8_p50),
        int8_p50.as_secs_f64() / f32_p50.as_secs_f64().max(1e-12)
    );
    match &eval {
        Some((dir, n, f, q)) => println!(
            "accuracy  top-1 on {n} images of {}: f32 {:.2}%, int8 {:.2}% ({:+.2} points)",
            dir.display(),
            f * 100.0,
            q * 100.0,
            (q - f) * 100.0
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_observers_parse() {
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

    #[test]
    fn percentiles_are_ordered_nearest_rank() {
        let lat = Latencies {
            sorted: (1..=100).map(Duration::from_millis).collect(),
            wall: Duration::from_secs(5),
        };
        assert_eq!(lat.percentile(50.0), Duration::from_millis(50));
        assert_eq!(lat.percentile(90.0), Duration::from_millis(90));
        assert_eq!(lat.percentile(99.0), Duration::from_millis(99));
        assert_eq!(lat.throughput(), 20.0);
        let one = Latencies {
            sorted: vec![Duration::from_millis(3)],
            wall: Duration::from_millis(3),
        };
        assert_eq!(one.percentile(50.0), one.percentile(99.0));
    }
}
