//! `sentio run`: one input (an .npy tensor, an image or a speech clip) through the model, and
//! its outputs, top classes and per-stage times.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use miette::{IntoDiagnostic as _, Result, WrapErr, bail};
use sentio_audio::{FeatureExtractor, FeatureMatrix, SpeechInput};
use sentio_data::IMAGE_EXTENSIONS;
use sentio_infer::npy;
use sentio_infer::{ErrorKind, Model, Outputs};
use sentio_vision::{ImageLayout, ImagePrep};
use serde_json::{Value, json};

use super::{ManifestFile, ModelArgs, image_tensor, load_options, ms, read_model, show};

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

/// An .npy file as one input of `len` values.
fn npy_tensor(path: &Path, shape: &[usize]) -> Result<Vec<f32>> {
    let array = npy::read(path)?;
    let len: usize = shape.iter().product();
    if array.len() != len {
        bail!(
            code = "data::run::input_shape",
            help = format!(
                "save an array of the input's shape, e.g. np.save(path, \
                 a.reshape({shape:?}).astype('<f4')); --shape sets the input shape of a model \
                 whose shape is symbolic"
            ),
            "{}: the array has shape {:?} ({} values) but the model's input is {shape:?} ({len} values)",
            path.display(),
            array.shape,
            array.len()
        );
    }
    Ok(array.data)
}

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
                    code = "usage::run::input_kind",
                    help = "give it as --input FILE.npy, --image FILE.png or --audio FILE.wav",
                    "{}: cannot tell the kind of input from its extension",
                    p.display()
                ),
            },
            (None, None, None, None) => {
                bail!(
                    code = "usage::run::no_input",
                    help = "give FILE.npy, FILE.png or FILE.wav (or --input/--image/--audio)",
                    "no input to run the model on"
                )
            }
        })
    }
}

/// The input rule of the speech model `model` (from its manifest), or why a WAV cannot go in.
fn speech_rule(model: &Path, manifest: Option<&ManifestFile>, wav: &Path) -> Result<SpeechInput> {
    let Some(m) = manifest else {
        bail!(
            code = "usage::run::no_manifest",
            help = "give it with --manifest FILE (`sentio train ser` writes manifest.json beside \
                    the model)",
            "{} is a WAV clip, but {} has no manifest: a speech model's manifest records the \
             features and the window it was trained on",
            wav.display(),
            model.display()
        );
    };
    let p = &m.manifest.input.preprocessing;
    if p.kind != "audio_features" {
        bail!(
            code = "usage::run::not_a_speech_model",
            help = "give an image with --image or a tensor with --input FILE.npy, or run a speech \
                    model (e.g. models/zoo/ser/model.onnx)",
            "{} is a WAV clip, but {} is not a speech model (its manifest {} says preprocessing \
             `{}`, not `audio_features`)",
            wav.display(),
            model.display(),
            m.path.display(),
            p.kind
        );
    }
    SpeechInput::from_manifest(p).wrap_err_with(|| m.path.display().to_string())
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
            code = "data::run::manifest_mismatch",
            help = "the manifest is not this model's; give the right one with --manifest",
            "{} takes {:?} ({have} values) but its manifest's rule makes {} frames x {dims} \
             features ({needed} values)",
            model_path.display(),
            model.input_shape(),
            input.frames
        );
    }
    let rate = input.features.sample_rate;
    let clip = crate::features::read_clip(wav, rate)?;
    let mut extractor = FeatureExtractor::new(input.features.clone())?;
    let (window, place) = input.window_and_place(&clip.audio.samples)?;
    let mut m = FeatureMatrix::default();
    input
        .window_features(&window, &mut extractor, &mut m)
        .with_context(|| wav.display().to_string())?;
    let kind = format!(
        "speech, {} frames x {dims} features at {rate} Hz; {}",
        input.frames,
        crate::features::describe_place(&place, input, rate)
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
        "window": crate::features::place_json(&place, rate),
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
        (RunSource::Audio(_), None) => bail!(
            code = "usage::run::audio_without_speech_model",
            help = "run a speech model on it (one whose manifest has preprocessing kind \
                    `audio_features`), or give the input as --input FILE.npy",
            "a WAV clip needs a speech model"
        ),
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
        println!("{}", serde_json::to_string_pretty(&doc).into_diagnostic()?);
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
