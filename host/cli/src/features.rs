//! `sentio features WAV...`: the feature matrix the device computes for a clip (MFCC, ZCR,
//! chroma, log-mel per frame, sentio-audio's librosa-compatible definitions), as a table or as
//! JSON, so a person (or a script comparing with librosa) sees exactly what the model is fed.
//!
//! With `--manifest`, the clip goes through the model's input rule (`SpeechInput`: VAD trim,
//! middle window or end padding) and the output is the model's `frames x dims` input.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;
use miette::{IntoDiagnostic as _, Result, WrapErr, bail, miette};
use sentio_audio::{
    Audio, FeatureConfig, FeatureExtractor, FeatureMatrix, SpeechInput, WindowPlace,
};
use sentio_diagnostics::FileContext as _;
use sentio_infer::bench::{self, Budget};
use serde_json::{Value, json};

use crate::infer::find_manifest;

/// `sentio features`.
#[derive(Args, Debug)]
#[command(after_help = "\
Frame t is centred at t * hop_length / sample_rate seconds (of the clip, or of the model window \
with --manifest). A WAV at another rate is resampled with sentio-audio's resampler and \
multi-channel audio is averaged to mono, as the device does (a note on stderr says so).

--json prints one JSON document per file, one per line (JSON Lines):
  {\"file\", \"sample_rate\", \"hop_length\", \"columns\": [...], \"frames\": [{\"t\", \"values\": [...]}, ...],
   \"config\": {...}, \"source\": {...}, \"window\": {...} (with --manifest), \"compute_ms\" (with --repeat)}
Values are the f32 features, printed so they read back exactly.")]
pub struct FeaturesArgs {
    /// WAV files (PCM 8/16/24/32-bit or float32, any rate, any channel count).
    #[arg(value_name = "WAV", required = true)]
    pub wavs: Vec<PathBuf>,
    /// A FeatureConfig as JSON (the fields of `FeatureConfig`; missing fields are an error)
    /// [default: FeatureConfig::default(): 16 kHz, n_fft 512, win 400, hop 160, 64 mels, 40 MFCCs].
    #[arg(long, value_name = "FILE", conflicts_with = "manifest")]
    pub config: Option<PathBuf>,
    /// A speech model's manifest: print what the model sees (its feature config, the VAD trim
    /// and the fixed window of its input rule).
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// Columns to show, comma-separated: names (`mfcc_0,zcr`), prefixes ending in `*`
    /// (`chroma_*`), or `all` [default: text shows mfcc_0..mfcc_3, zcr and the strongest
    /// pitch class; --json prints all].
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
    /// Compute the features N times per file and report the median compute time (WAV reading
    /// and resampling excluded) on stderr, or as `compute_ms` in JSON.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub repeat: u32,
    /// Print JSON (one document per file, one per line) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Where the features' rule comes from.
enum Rule {
    /// Features of the whole clip with this config (and where it came from).
    Plain(FeatureConfig, String),
    /// A model's input rule, and its manifest's path.
    Model(SpeechInput, PathBuf),
}

impl Rule {
    fn config(&self) -> &FeatureConfig {
        match self {
            Rule::Plain(c, _) => c,
            Rule::Model(input, _) => &input.features,
        }
    }
}

fn rule(args: &FeaturesArgs) -> Result<Rule> {
    if let Some(path) = &args.manifest {
        let Some(file) = find_manifest(path, Some(path))? else {
            bail!(
                code = "data::features::no_manifest",
                help = "check the path; `sentio train ser` writes manifest.json beside the model",
                "cannot read the manifest {}",
                path.display()
            );
        };
        let input =
            SpeechInput::from_manifest(&file.manifest.input.preprocessing).map_err(|e| {
                miette!(
                    code = "usage::features::not_a_speech_manifest",
                    help = "--manifest takes a speech model's manifest (preprocessing kind \
                        `audio_features`); for plain features leave it out or give --config",
                    "{}: {e}",
                    path.display()
                )
            })?;
        return Ok(Rule::Model(input, file.path));
    }
    match &args.config {
        None => Ok(Rule::Plain(
            FeatureConfig::default(),
            "FeatureConfig::default()".into(),
        )),
        Some(path) => {
            let text = std::fs::read(path).file_context(|| {
                format!(
                    "cannot read the feature config {}; check the path",
                    path.display()
                )
            })?;
            let config: FeatureConfig = serde_json::from_slice(&text).map_err(|e| {
                miette!(
                    code = "data::features::not_a_config",
                    help = format!(
                        "give a JSON object with every field of FeatureConfig, e.g. {}",
                        serde_json::to_string(&FeatureConfig::default()).unwrap_or_default()
                    ),
                    "{}: not a feature config ({e})",
                    path.display()
                )
            })?;
            config
                .validate()
                .wrap_err_with(|| path.display().to_string())?;
            Ok(Rule::Plain(config, path.display().to_string()))
        }
    }
}

/// The columns to print: indices into the feature row.
fn pick_columns(names: &[String], wanted: &[String]) -> Result<Vec<usize>> {
    let mut picked = Vec::new();
    for w in wanted.iter().map(|w| w.trim()).filter(|w| !w.is_empty()) {
        let matches: Vec<usize> = if w == "all" {
            (0..names.len()).collect()
        } else if let Some(prefix) = w.strip_suffix('*') {
            (0..names.len())
                .filter(|&i| names[i].starts_with(prefix))
                .collect()
        } else {
            (0..names.len()).filter(|&i| names[i] == w).collect()
        };
        if matches.is_empty() {
            let name = |n: Option<&String>| n.map(String::as_str).unwrap_or("").to_owned();
            bail!(
                code = "usage::features::no_column",
                help = format!(
                    "the columns are {}..{}, zcr, chroma_C..chroma_B, {}..{} (or `all`, or a \
                     prefix like `chroma_*`)",
                    name(names.first()),
                    name(names.iter().rfind(|n| n.starts_with("mfcc_"))),
                    name(names.iter().find(|n| n.starts_with("logmel_"))),
                    name(names.last()),
                ),
                "--columns: no column `{w}`"
            );
        }
        picked.extend(matches);
    }
    Ok(picked)
}

/// A clip read for the features: mono samples at the config's rate, and how it got there.
pub(crate) struct Clip {
    pub(crate) audio: Audio,
    pub(crate) file_rate: u32,
    pub(crate) channels: u16,
    pub(crate) file_seconds: f64,
}

/// Reads `path`, mixes it to mono and brings it to `rate` with sentio-audio's resampler (what
/// the device does), saying so on stderr.
pub(crate) fn read_clip(path: &Path, rate: u32) -> Result<Clip> {
    let bytes = std::fs::read(path).file_context(|| {
        format!(
            "cannot read {}; check that the path exists and is a WAV file",
            path.display()
        )
    })?;
    let (audio, channels) = sentio_audio::decode_wav_with_channels(&bytes[..], path)?;
    let file_rate = audio.sample_rate;
    let file_seconds = audio.duration_secs();
    if audio.samples.is_empty() {
        bail!(
            code = "data::features::empty_clip",
            help = "record or export a clip of at least a few milliseconds",
            "{}: the WAV file holds no samples",
            path.display()
        );
    }
    let mut notes = Vec::new();
    if channels > 1 {
        notes.push(format!("{channels} channels averaged to mono"));
    }
    if file_rate != rate {
        notes.push(format!(
            "resampled from {file_rate} Hz to {rate} Hz with sentio-audio's resampler"
        ));
    }
    if !notes.is_empty() {
        eprintln!(
            "note: {}: {} (as the device does)",
            path.display(),
            notes.join(", ")
        );
    }
    Ok(Clip {
        audio: audio.resampled(rate),
        file_rate,
        channels,
        file_seconds,
    })
}

/// Where the model window lies in the clip, as JSON (seconds and samples).
pub(crate) fn place_json(place: &WindowPlace, rate: u32) -> Value {
    let s = |n: usize| n as f64 / f64::from(rate);
    json!({
        "speech_start_s": s(place.speech.start),
        "speech_end_s": s(place.speech.end),
        "start_s": s(place.clip.start),
        "end_s": s(place.clip.end),
        "start_sample": place.clip.start,
        "end_sample": place.clip.end,
        "padding_samples": place.padding,
    })
}

/// Where the model window lies in the clip, in words.
pub(crate) fn describe_place(place: &WindowPlace, input: &SpeechInput, rate: u32) -> String {
    let s = |n: usize| n as f64 / f64::from(rate);
    let trim = if input.trim_silence {
        format!(
            "speech (VAD) at {:.3}..{:.3} s; ",
            s(place.speech.start),
            s(place.speech.end)
        )
    } else {
        String::new()
    };
    let fit = if place.padding > 0 {
        format!(
            "window = clip {:.3}..{:.3} s + {:.3} s of silence at the end",
            s(place.clip.start),
            s(place.clip.end),
            s(place.padding)
        )
    } else {
        format!(
            "window = clip {:.3}..{:.3} s (the middle)",
            s(place.clip.start),
            s(place.clip.end)
        )
    };
    format!("{trim}{fit}")
}

/// Features of one clip by `rule`, and the model window's place with a manifest.
fn compute(
    rule: &Rule,
    samples: &[f32],
    extractor: &mut FeatureExtractor,
) -> Result<(FeatureMatrix, Option<WindowPlace>)> {
    match rule {
        Rule::Plain(..) => Ok((extractor.extract(samples), None)),
        Rule::Model(input, _) => {
            let (window, place) = input.window_and_place(samples)?;
            let mut m = FeatureMatrix::default();
            input.window_features(&window, extractor, &mut m)?;
            Ok((m, Some(place)))
        }
    }
}

pub fn run(args: &FeaturesArgs) -> Result<()> {
    if args.repeat == 0 {
        bail!(
            code = "usage::features::repeat",
            help = "give at least 1 run",
            "--repeat 0"
        );
    }
    let rule = rule(args)?;
    let config = rule.config().clone();
    let names = config.column_names();
    let mut extractor = FeatureExtractor::new(config.clone())?;
    let shown: Option<Vec<usize>> = match &args.columns {
        Some(wanted) => Some(pick_columns(&names, wanted)?),
        None => None,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for (i, path) in args.wavs.iter().enumerate() {
        let clip = read_clip(path, config.sample_rate)?;
        let samples = &clip.audio.samples;
        let mut result = None;
        let times = bench::time(
            || -> Result<()> {
                let r = compute(&rule, samples, &mut extractor)
                    .with_context(|| format!("{}", path.display()))?;
                result = Some(r);
                Ok(())
            },
            0,
            Budget::Runs(args.repeat as usize),
        )?;
        let Some((m, place)) = result else {
            continue;
        };
        let compute_ms = times.p50().as_secs_f64() * 1e3;
        if args.json {
            let columns = shown.clone().unwrap_or_else(|| (0..names.len()).collect());
            let doc = json_doc(
                path, &clip, &rule, &names, &columns, &m, place, compute_ms, args,
            );
            writeln!(out, "{}", serde_json::to_string(&doc).into_diagnostic()?)
                .into_diagnostic()?;
        } else {
            if i > 0 {
                writeln!(out).into_diagnostic()?;
            }
            let text = table(path, &clip, &rule, &names, shown.as_deref(), &m, place);
            out.write_all(text.as_bytes()).into_diagnostic()?;
            if args.repeat > 1 {
                eprintln!(
                    "{}: features computed in {compute_ms:.3} ms (median of {} runs, WAV reading excluded)",
                    path.display(),
                    args.repeat
                );
            }
        }
    }
    Ok(())
}

/// Seconds of frame `t`'s centre.
fn frame_time(t: usize, config: &FeatureConfig) -> f64 {
    (t * config.hop_length) as f64 / f64::from(config.sample_rate)
}

#[allow(clippy::too_many_arguments)]
fn json_doc(
    path: &Path,
    clip: &Clip,
    rule: &Rule,
    names: &[String],
    columns: &[usize],
    m: &FeatureMatrix,
    place: Option<WindowPlace>,
    compute_ms: f64,
    args: &FeaturesArgs,
) -> Value {
    let config = rule.config();
    let frames: Vec<Value> = (0..m.frames)
        .map(|t| {
            let row = m.row(t);
            json!({
                "t": frame_time(t, config),
                "values": columns.iter().map(|&c| row[c]).collect::<Vec<f32>>(),
            })
        })
        .collect();
    let mut doc = json!({
        "file": path.display().to_string(),
        "sample_rate": config.sample_rate,
        "hop_length": config.hop_length,
        "columns": columns.iter().map(|&c| names[c].clone()).collect::<Vec<_>>(),
        "frames": frames,
        "config": config,
        "source": {
            "sample_rate": clip.file_rate,
            "channels": clip.channels,
            "seconds": clip.file_seconds,
            "resampled": clip.file_rate != config.sample_rate,
        },
    });
    if let (Rule::Model(input, manifest), Some(place)) = (rule, place) {
        doc["manifest"] = json!(manifest.display().to_string());
        doc["input"] = json!({
            "frames": input.frames,
            "dims": config.dims(),
            "trim_silence": input.trim_silence,
            "window_samples": input.window(),
        });
        doc["window"] = place_json(&place, config.sample_rate);
    }
    if args.repeat > 1 {
        doc["compute_ms"] = json!(compute_ms);
        doc["repeat"] = json!(args.repeat);
    }
    doc
}

/// The text report of one clip: a header, then one line per frame, then mean/min/max.
fn table(
    path: &Path,
    clip: &Clip,
    rule: &Rule,
    names: &[String],
    shown: Option<&[usize]>,
    m: &FeatureMatrix,
    place: Option<WindowPlace>,
) -> String {
    use std::fmt::Write as _;
    let config = rule.config();
    let mut s = String::new();
    let mut source = format!(
        "{:.3} s, {} Hz, {} channel{}",
        clip.file_seconds,
        clip.file_rate,
        clip.channels,
        if clip.channels == 1 { "" } else { "s" }
    );
    if clip.channels > 1 {
        source.push_str(", averaged to mono");
    }
    if clip.file_rate != config.sample_rate {
        let _ = write!(source, ", resampled to {} Hz", config.sample_rate);
    }
    let _ = writeln!(s, "file     {} ({source})", path.display());
    let described = format!(
        "{} Hz, n_fft {}, win {}, hop {}, {} mels, {} MFCCs, top_db {}",
        config.sample_rate,
        config.n_fft,
        config.win_length,
        config.hop_length,
        config.n_mels,
        config.n_mfcc,
        config
            .top_db
            .map(|d| d.to_string())
            .unwrap_or_else(|| "none".into())
    );
    match (rule, place) {
        (Rule::Model(input, manifest), Some(place)) => {
            let _ = writeln!(
                s,
                "model    what the model of {} sees: {} frames x {} features ({described})",
                manifest.display(),
                input.frames,
                config.dims()
            );
            let _ = writeln!(
                s,
                "window   {}; {} samples ({:.3} s){}",
                describe_place(&place, input, config.sample_rate),
                input.window(),
                input.window() as f64 / f64::from(config.sample_rate),
                if input.trim_silence {
                    ""
                } else {
                    "; no silence trim"
                }
            );
            let _ = writeln!(
                s,
                "frames   {} x {}, t = centre of the frame in the window (clip time = t + {:.3} s)",
                m.frames,
                m.dims,
                place.clip.start as f64 / f64::from(config.sample_rate)
            );
        }
        (Rule::Plain(_, from), _) => {
            let _ = writeln!(s, "config   {from}: {described}");
            let _ = writeln!(
                s,
                "frames   {} x {}, t = centre of the frame (t * {} / {} s)",
                m.frames, m.dims, config.hop_length, config.sample_rate
            );
        }
        _ => {}
    }

    // Columns: the chosen ones, or a readable default with the strongest pitch class.
    let chroma_at = config.n_mfcc + 1;
    let (columns, pitch): (Vec<usize>, bool) = match shown {
        Some(c) => (c.to_vec(), false),
        None => (
            (0..config.n_mfcc.min(4)).chain([config.n_mfcc]).collect(),
            true,
        ),
    };
    let width = columns
        .iter()
        .map(|&c| names[c].len())
        .max()
        .unwrap_or(0)
        .max(9);
    let _ = write!(s, "{:>8}", "t (s)");
    for &c in &columns {
        let _ = write!(s, " {:>width$}", names[c]);
    }
    if pitch {
        let _ = write!(s, "  pitch class");
    }
    let _ = writeln!(s);
    let pitch_classes = &names[chroma_at..chroma_at + sentio_audio::CHROMA_BINS];
    for t in 0..m.frames {
        let row = m.row(t);
        let _ = write!(s, "{:>8.3}", frame_time(t, config));
        for &c in &columns {
            let _ = write!(s, " {:>width$}", number(row[c]));
        }
        if pitch {
            let chroma = &row[chroma_at..chroma_at + sentio_audio::CHROMA_BINS];
            let best = chroma
                .iter()
                .enumerate()
                .fold((0, 0.0f32), |b, (i, &v)| if v > b.1 { (i, v) } else { b });
            let name = if best.1 > 0.0 {
                pitch_classes[best.0].trim_start_matches("chroma_")
            } else {
                "-"
            };
            let _ = write!(s, "  {name}");
        }
        let _ = writeln!(s);
    }
    if m.frames > 1 {
        for (label, f) in [
            (
                "mean",
                (|v: &[f32]| v.iter().sum::<f32>() / v.len() as f32) as fn(&[f32]) -> f32,
            ),
            ("min", |v: &[f32]| {
                v.iter().copied().fold(f32::INFINITY, f32::min)
            }),
            ("max", |v: &[f32]| {
                v.iter().copied().fold(f32::NEG_INFINITY, f32::max)
            }),
        ] {
            let _ = write!(s, "{label:>8}");
            for &c in &columns {
                let _ = write!(s, " {:>width$}", number(f(&m.column(c))));
            }
            let _ = writeln!(s);
        }
    }
    if shown.is_none() {
        let _ = writeln!(
            s,
            "({} of {} columns shown; --columns all, --columns chroma_* or --json for the rest)",
            columns.len(),
            m.dims
        );
    }
    s
}

/// A value in at most 9 characters, readable for dB (-100.0), MFCCs (-512.3) and rates (0.0725).
fn number(v: f32) -> String {
    if v == 0.0 || (v.abs() >= 0.001 && v.abs() < 1e5) {
        let digits = if v.abs() >= 100.0 {
            2
        } else if v.abs() >= 1.0 {
            3
        } else {
            4
        };
        format!("{v:.digits$}")
    } else {
        format!("{v:.2e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_picked_by_name_prefix_or_all() {
        let names = FeatureConfig::default().column_names();
        let pick =
            |w: &[&str]| pick_columns(&names, &w.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(pick(&["mfcc_0", "zcr"]).ok(), Some(vec![0, 40]));
        assert_eq!(pick(&["chroma_*"]).ok(), Some((41..53).collect()));
        assert_eq!(pick(&["all"]).map(|c| c.len()).ok(), Some(117));
        let err = pick(&["mfcc_99"])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("no column `mfcc_99`"), "{err}");
    }

    #[test]
    fn numbers_fit_the_table() {
        for v in [-512.3456f32, -100.0, 0.0725, 0.0, 1e-7, 3.5] {
            assert!(number(v).len() <= 9, "{v} -> {}", number(v));
        }
    }
}
