//! `sentio data`: procedural datasets and importers for the public formats (`sentio-data`),
//! with a progress bar while generating.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use miette::IntoDiagnostic as _;
use sentio_data::{BadRows, import, synth};

#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Generate a procedural dataset (`DIR/<label>/*.png` or `*.wav` + `dataset.json`).
    Synth(SynthArgs),
    /// Convert a public dataset into the project's layout (docs/datasets.md).
    Import(ImportArgs),
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum SynthKind {
    /// Hand-drawn emoji, 8 classes (emoji8), 64x64 gray, normalized as the device does.
    Emoji,
    /// Camera frames of drawn emoji cards (emoji8), RGB: the sketch mode's test set.
    Cards,
    /// Touch drawings of emoji (emoji8) as stroke files, for replay as a touch panel.
    Strokes,
    /// Faces with 7 expressions (fer7), 48x48 gray.
    Faces,
    /// Speech with 8 emotions (ser8) from espeak-ng, 16 kHz WAV, RAVDESS-style names.
    Speech,
    /// Kiosk scenes, 64x64 RGB, each labelled with the adjective-noun pairs it shows (anp32,
    /// several per image): DIR/images/*.png + DIR/labels.jsonl. --per-class N writes 8N scenes
    /// (each pair shows in 0.7N to 1.8N of them).
    Scenes,
}

#[derive(Args, Debug)]
pub struct SynthArgs {
    /// What to generate.
    pub kind: SynthKind,
    /// The dataset folder to create (must not exist, or be empty).
    #[arg(long)]
    pub out: PathBuf,
    /// Images (or utterances) per class [default: 500 images, 200 utterances].
    #[arg(long)]
    pub per_class: Option<usize>,
    /// Speakers of a speech set (espeak-ng voice + variant + pitch), at most 40.
    #[arg(long, default_value_t = synth::speech::DEFAULT_SPEAKERS)]
    pub speakers: usize,
    /// Seed: the same seed gives byte-identical images.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Drawing styles of emoji and cards, comma-separated: classic, doodle, filled, marker
    /// [default: classic,doodle,filled; marker is the held-out style].
    #[arg(long, value_delimiter = ',', value_parser = parse_style)]
    pub styles: Vec<synth::EmojiStyle>,
    /// Size of card frames, WIDTHxHEIGHT.
    #[arg(long, default_value = "320x240", value_parser = parse_size)]
    pub frame: (u32, u32),
    /// Print what was written as one JSON object (root, the dataset.json contents) instead of
    /// a sentence.
    #[arg(long)]
    pub json: bool,
}

fn parse_style(text: &str) -> Result<synth::EmojiStyle, String> {
    synth::EmojiStyle::by_name(text).ok_or_else(|| {
        let names: Vec<&str> = synth::EmojiStyle::ALL.iter().map(|s| s.name()).collect();
        format!(
            "no drawing style called {text:?}; the styles are {}",
            names.join(", ")
        )
    })
}

fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("{text:?} is not WIDTHxHEIGHT (e.g. 320x240, each at least 64x48)");
    let (w, h) = text.split_once('x').ok_or_else(bad)?;
    let (w, h) = (
        w.parse::<u32>().map_err(|_| bad())?,
        h.parse::<u32>().map_err(|_| bad())?,
    );
    if w < 64 || h < 48 || w > 4096 || h > 4096 {
        return Err(bad());
    }
    Ok((w, h))
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ImportFormat {
    /// FER2013's CSV (emotion,pixels,Usage).
    Fer2013,
    /// A folder with one subfolder of images per label, any format.
    Imagefolder,
    /// RAVDESS speech (Actor_XX/03-01-EE-II-SS-RR-AA.wav).
    Ravdess,
    /// TESS (OAF_angry/OAF_back_angry.wav).
    Tess,
    /// CREMA-D (AudioWAV/1001_DFA_ANG_XX.wav).
    Cremad,
    /// SAVEE (DC/a01.wav or DC_a01.wav).
    Savee,
}

#[derive(ValueEnum, Clone, Copy, Debug, Default)]
pub enum BadRowsArg {
    /// Import the rest and list the malformed rows.
    #[default]
    Skip,
    /// Stop at the first malformed row; nothing is written.
    Fail,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The source format.
    pub format: ImportFormat,
    /// The CSV file (fer2013) or the dataset's folder (the others).
    pub src: PathBuf,
    /// The dataset folder to create (must not exist, or be empty).
    #[arg(long)]
    pub out: PathBuf,
    /// What to do with malformed rows or unreadable images.
    #[arg(long, value_enum, default_value_t = BadRowsArg::Skip)]
    pub bad_rows: BadRowsArg,
    /// Print the report as one JSON object (root, dataset.json contents, imported count and
    /// every skipped row) instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(command: DataCommand) -> miette::Result<()> {
    match command {
        DataCommand::Synth(args) => synth_cmd(&args),
        DataCommand::Import(args) => import_cmd(&args),
    }
}

/// `--json` output: what was written, with the dataset.json it holds.
fn print_json(value: &serde_json::Value) -> miette::Result<()> {
    println!("{}", serde_json::to_string(value).into_diagnostic()?);
    Ok(())
}

fn synth_cmd(args: &SynthArgs) -> miette::Result<()> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>8} [{bar:30}] {pos:>6}/{len:<6} {per_sec:>10} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let mut progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let per_class = args.per_class.unwrap_or(match args.kind {
        SynthKind::Speech => synth::speech::DEFAULT_PER_CLASS,
        _ => synth::DEFAULT_PER_CLASS,
    });
    if let SynthKind::Scenes = args.kind {
        return scenes_cmd(args, &bar, &mut progress);
    }
    let styles = if args.styles.is_empty() {
        synth::EmojiStyle::TRAINING.to_vec()
    } else {
        args.styles.clone()
    };
    let result = match args.kind {
        SynthKind::Emoji => {
            bar.set_prefix("emoji");
            synth::emoji_styles(&args.out, per_class, args.seed, &styles, &mut progress)
        }
        SynthKind::Strokes => {
            bar.set_prefix("strokes");
            synth::strokes(&args.out, per_class, args.seed, &styles, &mut progress)
        }
        SynthKind::Cards => {
            bar.set_prefix("cards");
            synth::cards(
                &args.out,
                per_class,
                args.seed,
                &styles,
                args.frame,
                &mut progress,
            )
        }
        SynthKind::Faces => {
            bar.set_prefix("faces");
            synth::faces(&args.out, per_class, args.seed, &mut progress)
        }
        // Handled above: a multi-label set has its own summary.
        SynthKind::Scenes => return Ok(()),
        SynthKind::Speech => {
            bar.set_prefix("speech");
            let options = synth::speech::SpeechOptions {
                per_class,
                seed: args.seed,
                speakers: args.speakers,
                ..synth::speech::SpeechOptions::default()
            };
            synth::speech::generate(&args.out, &options, &mut progress)
        }
    };
    match result {
        Ok(summary) => {
            bar.finish_and_clear();
            let info = &summary.info;
            if args.json {
                return print_json(&serde_json::json!({
                    "root": summary.root,
                    "total": info.total(),
                    "seed": args.seed,
                    "info": info,
                }));
            }
            let (items, format) = match (info.image_size, info.sample_rate) {
                (Some([w, h]), _) if matches!(args.kind, SynthKind::Cards) => {
                    ("frames", format!("{w}x{h} RGB"))
                }
                (Some([w, h]), _) if matches!(args.kind, SynthKind::Strokes) => {
                    ("stroke files", format!("{w}x{h} panel"))
                }
                (Some([w, h]), _) => ("images", format!("{w}x{h} gray")),
                (None, Some(rate)) => ("utterances", format!("{rate} Hz mono WAV")),
                _ => ("files", "mixed sizes".to_owned()),
            };
            println!(
                "wrote {} {items} ({} classes x {per_class}, {format}, label set {}, seed {}) to {}",
                info.total(),
                info.labels.len(),
                info.label_set,
                args.seed,
                summary.root.display()
            );
            Ok(())
        }
        Err(e) => {
            bar.abandon();
            Err(e.into())
        }
    }
}

/// `sentio data synth scenes`: the scene generator, with the bar of [`synth_cmd`].
fn scenes_cmd(
    args: &SynthArgs,
    bar: &ProgressBar,
    progress: &mut dyn FnMut(usize, usize),
) -> miette::Result<()> {
    bar.set_prefix("scenes");
    let per_class = args.per_class.unwrap_or(synth::scenes::DEFAULT_PER_CLASS);
    match synth::scenes::generate(&args.out, per_class, args.seed, progress) {
        Ok(summary) => {
            bar.finish_and_clear();
            let info = &summary.info;
            if args.json {
                return print_json(&serde_json::json!({
                    "root": summary.root,
                    "scenes": summary.scenes,
                    "seed": args.seed,
                    "info": info,
                }));
            }
            let (fewest, most) = info
                .per_class
                .iter()
                .fold((usize::MAX, 0), |(lo, hi), &n| (lo.min(n), hi.max(n)));
            let [w, h] = info.image_size.unwrap_or([0, 0]);
            println!(
                "wrote {} scenes ({w}x{h} RGB, label set {}: every pair in {fewest} to {most} scenes, seed {}) to {}",
                summary.scenes,
                info.label_set,
                args.seed,
                summary.root.display()
            );
            Ok(())
        }
        Err(e) => {
            bar.abandon();
            Err(e.into())
        }
    }
}

fn import_cmd(args: &ImportArgs) -> miette::Result<()> {
    let policy = match args.bad_rows {
        BadRowsArg::Skip => BadRows::Skip,
        BadRowsArg::Fail => BadRows::Fail,
    };
    let speech = |set: import::SpeechSet| {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos:>6}/{len:<6} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(set.name());
        let result = import::speech(set, &args.src, &args.out, policy, &mut |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        });
        bar.finish_and_clear();
        result
    };
    let report = match args.format {
        ImportFormat::Fer2013 => import::fer2013(&args.src, &args.out, policy),
        ImportFormat::Imagefolder => import::imagefolder(&args.src, &args.out, policy),
        ImportFormat::Ravdess => speech(import::SpeechSet::Ravdess),
        ImportFormat::Tess => speech(import::SpeechSet::Tess),
        ImportFormat::Cremad => speech(import::SpeechSet::Cremad),
        ImportFormat::Savee => speech(import::SpeechSet::Savee),
    }?;
    if args.json {
        let skipped: Vec<serde_json::Value> = report
            .skipped
            .iter()
            .map(|row| {
                serde_json::json!({ "path": row.path, "line": row.line, "reason": row.reason })
            })
            .collect();
        return print_json(&serde_json::json!({
            "root": report.root,
            "imported": report.imported,
            "skipped": skipped,
            "info": report.info,
        }));
    }
    print!("{report}");
    Ok(())
}
