//! `sentio sketch`: the device's sketch mode on files. Camera frames (a card held up), or touch
//! drawings (`--strokes`), read by the emoji model exactly as `sentiod --mode sketch` reads
//! them; with `--data DIR` (an image folder of frames, e.g. from `sentio data synth cards`) the
//! accuracy and a per-class table.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use miette::{IntoDiagnostic as _, Result, WrapErr, bail, miette};
use sentio_diagnostics::FileContext as _;
use sentio_hal::StrokeFile;
use sentio_infer::{LoadOptions, Precision, bench};
use sentio_models::{EMOJI8, Manifest};
use sentio_vision::sketch::{SketchModel, SketchReading};

/// `sentio sketch`.
#[derive(Args, Debug)]
pub struct SketchArgs {
    /// Camera frames (PNG or JPEG) with a drawn card in view.
    #[arg(value_name = "IMAGE")]
    pub images: Vec<PathBuf>,
    /// A folder of labelled frames (`DIR/<emoji8 label>/*.png`) or stroke files
    /// (`DIR/<label>/*.json`, from `sentio data synth strokes`): print the accuracy.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Stroke files (touch drawings; docs/boards.md describes the format): each drawing in
    /// them is read.
    #[arg(long, value_name = "FILE")]
    pub strokes: Vec<PathBuf>,
    /// The emoji model (its manifest beside it).
    #[arg(long, default_value = "models/zoo/emoji/model.onnx")]
    pub model: PathBuf,
    /// f32, int8 or auto, as a board profile's runtime.precision.
    #[arg(long, default_value = "f32", value_parser = parse_precision)]
    pub precision: Precision,
    /// Write what the model saw (each normalized drawing, 64x64 PNG) into DIR; with --data,
    /// only the frames read wrong, named `<true>-as-<read>-<frame>.png`.
    #[arg(long, value_name = "DIR")]
    pub dump: Option<PathBuf>,
    /// Gap between two drawings of a stroke file, in milliseconds (the device's idle time).
    #[arg(long, default_value_t = 1500)]
    pub idle_ms: u64,
}

fn parse_precision(text: &str) -> Result<Precision, String> {
    match text {
        "f32" => Ok(Precision::F32),
        "int8" => Ok(Precision::Int8),
        "auto" => Ok(Precision::Auto),
        _ => Err(format!("{text:?} is not a precision: f32, int8 or auto")),
    }
}

pub fn run(args: &SketchArgs) -> Result<()> {
    if args.images.is_empty() && args.data.is_none() && args.strokes.is_empty() {
        bail!(
            code = "usage::sketch::nothing_to_read",
            help = "give camera frames, --data DIR (e.g. from `sentio data synth cards`) or \
                    --strokes FILE",
            "nothing to read"
        );
    }
    let mut model = load(&args.model, args.precision)?;
    eprintln!(
        "model {} ({}), {}",
        model.label, model.origin, model.precision.reason
    );
    if let Some(dir) = &args.dump {
        std::fs::create_dir_all(dir)
            .file_context(|| format!("cannot create --dump {}", dir.display()))?;
    }
    for path in &args.images {
        let reading = read_frame(&mut model, path)?;
        println!("{}: {}", path.display(), describe(&reading));
        if let (Some(dir), Some(stem)) = (&args.dump, path.file_stem()) {
            dump(&model, &dir.join(stem).with_extension("png"))?;
        }
    }
    for path in &args.strokes {
        let file = StrokeFile::read(path)?;
        let drawings = file.drawings(Duration::from_millis(args.idle_ms));
        for (i, drawing) in drawings.iter().enumerate() {
            let reading = model.read_strokes(drawing)?;
            println!(
                "{} drawing {}: {}",
                path.display(),
                i + 1,
                describe(&reading)
            );
        }
    }
    if let Some(dir) = &args.data {
        accuracy(
            &mut model,
            dir,
            args.dump.as_deref(),
            Duration::from_millis(args.idle_ms),
        )?;
    }
    Ok(())
}

/// Writes the drawing the model saw last, if it saw one, as a PNG (whole or not at all).
fn dump(model: &SketchModel, path: &Path) -> Result<()> {
    if let Some(drawing) = model.last_drawing() {
        let mut png = std::io::Cursor::new(Vec::new());
        drawing
            .write_to(&mut png, image::ImageFormat::Png)
            .into_diagnostic()
            .wrap_err("cannot encode the drawing as PNG")?;
        sentio_files::write_bytes_atomically(path, png.get_ref())
            .file_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

fn load(path: &Path, precision: Precision) -> Result<SketchModel> {
    let onnx = std::fs::read(path).map_err(|e| {
        miette!(
            code = "data::sketch::no_model",
            help = "give it with --model (the shipped one is models/zoo/emoji/model.onnx in the \
                    source tree; `sentio train emoji` makes one)",
            "cannot read the emoji model {}: {e}",
            path.display()
        )
    })?;
    let manifest_path = path.with_file_name("manifest.json");
    let json = std::fs::read(&manifest_path).map_err(|e| {
        miette!(
            code = "data::sketch::no_manifest",
            help = format!("write one with `sentio manifest init {}`", path.display()),
            "no manifest beside the model ({}): {e}",
            manifest_path.display()
        )
    })?;
    let manifest = Manifest::from_slice(&json)
        .with_context(|| format!("{} is not a manifest", manifest_path.display()))?;
    let options = LoadOptions::new().threads(1);
    Ok(SketchModel::load(
        &manifest,
        &onnx,
        &path.display().to_string(),
        &options,
        precision,
    )?)
}

fn read_frame(model: &mut SketchModel, path: &Path) -> Result<SketchReading> {
    let frame = sentio_vision::decode_image(path)?.to_rgb8();
    Ok(model.read_frame(&frame)?)
}

fn describe(reading: &SketchReading) -> String {
    match reading {
        SketchReading::Emoji {
            label,
            score,
            corners,
            ..
        } => match corners {
            Some(c) => format!(
                "{label} ({score:.3}), card corners {}",
                c.iter()
                    .map(|[x, y]| format!("({x:.0},{y:.0})"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            None => format!("{label} ({score:.3})"),
        },
        SketchReading::NoCard => "no card in view".into(),
        SketchReading::TwoCards => "two cards in view: hold up one".into(),
        SketchReading::Blank => "a blank card".into(),
    }
}

/// The labelled samples of `dir`: stroke files (`DIR/<emoji8 label>/*.json`) when there are
/// any, else the image folder's images.
fn labelled_samples(dir: &Path) -> Result<Vec<sentio_data::Sample>> {
    let mut samples = Vec::new();
    for (label, name) in EMOJI8.labels.iter().enumerate() {
        let Ok(entries) = std::fs::read_dir(dir.join(name)) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        samples.extend(
            paths
                .into_iter()
                .map(|path| sentio_data::Sample { path, label }),
        );
    }
    if !samples.is_empty() {
        return Ok(samples);
    }
    let folder = sentio_data::ImageFolder::open(dir)?;
    if folder
        .labels
        .iter()
        .map(String::as_str)
        .ne(EMOJI8.labels.iter().copied())
    {
        bail!(
            code = "data::sketch::not_emoji8",
            help = "make frames with `sentio data synth cards` or touch drawings with \
                    `sentio data synth strokes`",
            "{}: its labels are {:?}, not emoji8's",
            dir.display(),
            folder.labels
        );
    }
    Ok(folder.samples)
}

/// Accuracy over a labelled folder of frames or stroke files: a sample without a reading
/// counts as wrong.
fn accuracy(
    model: &mut SketchModel,
    dir: &Path,
    dump_dir: Option<&Path>,
    idle: Duration,
) -> Result<()> {
    let samples = labelled_samples(dir)?;
    if samples.is_empty() {
        bail!(
            code = "data::sketch::empty",
            help = "make frames with `sentio data synth cards` or touch drawings with \
                    `sentio data synth strokes`",
            "{}: no images or stroke files in the label folders",
            dir.display()
        );
    }
    let n = EMOJI8.len();
    let mut confusion = vec![vec![0usize; n]; n];
    let mut unread = vec![0usize; n];
    let bar = ProgressBar::new(samples.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos:>6}/{len:<6} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix("sketch");
    let mut times = Vec::with_capacity(samples.len());
    for sample in &samples {
        // Decoding the file is not the device's work: only the reading is timed.
        let reading = if sample.path.extension().is_some_and(|x| x == "json") {
            let file = StrokeFile::read(&sample.path)?;
            let drawing = file.drawings(idle).into_iter().next().unwrap_or_default();
            let start = std::time::Instant::now();
            let reading = model.read_strokes(&drawing)?;
            times.push(start.elapsed());
            reading
        } else {
            let frame = sentio_vision::decode_image(&sample.path)?.to_rgb8();
            let start = std::time::Instant::now();
            let reading = model.read_frame(&frame)?;
            times.push(start.elapsed());
            reading
        };
        match reading {
            SketchReading::Emoji { index, .. } => confusion[sample.label][index] += 1,
            _ => unread[sample.label] += 1,
        }
        let read_as = match &reading {
            SketchReading::Emoji { index, .. } if *index == sample.label => None,
            SketchReading::Emoji { label, .. } => Some(*label),
            other => Some(other.kind()),
        };
        if let (Some(dir), Some(read_as), Some(stem)) = (dump_dir, read_as, sample.path.file_stem())
        {
            let name = format!(
                "{}-as-{read_as}-{}.png",
                EMOJI8.labels[sample.label],
                stem.to_string_lossy()
            );
            dump(model, &dir.join(name))?;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let total = samples.len();
    let right: usize = (0..n).map(|i| confusion[i][i]).sum();
    println!(
        "{}: {right}/{total} read right = {:.2}% ({} with nothing read)",
        dir.display(),
        100.0 * right as f64 / total.max(1) as f64,
        unread.iter().sum::<usize>()
    );
    let wall = times.iter().sum();
    let times = bench::Latencies::new(times, wall);
    let at = |p: f64| times.percentile(p).as_secs_f64() * 1e3;
    println!(
        "reading one sample (card search or rasterizing, normalization, CNN; 1 thread): p50 {:.2} ms, p99 {:.2} ms",
        at(50.0),
        at(99.0)
    );
    println!("\n| class | samples | right | recall | nothing read | most taken for |");
    println!("| --- | ---: | ---: | ---: | ---: | --- |");
    for (i, label) in EMOJI8.labels.iter().enumerate() {
        let row = &confusion[i];
        let frames = row.iter().sum::<usize>() + unread[i];
        let wrong = (0..n)
            .filter(|&j| j != i && row[j] > 0)
            .max_by_key(|&j| row[j])
            .map(|j| format!("{} ({})", EMOJI8.labels[j], row[j]))
            .unwrap_or_else(|| "-".into());
        println!(
            "| {label} | {frames} | {} | {:.3} | {} | {wrong} |",
            row[i],
            row[i] as f64 / frames.max(1) as f64,
            unread[i]
        );
    }
    Ok(())
}
