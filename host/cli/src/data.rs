//! `sentio data`: procedural datasets and importers for the public formats (`sentio-data`),
//! with a progress bar while generating.

use std::path::PathBuf;

use anyhow::anyhow;
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use sentio_data::{BadRows, DataError, import, synth};

#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Generate a procedural dataset in the ImageFolder layout (DIR/<label>/*.png + dataset.json).
    Synth(SynthArgs),
    /// Convert a public dataset into the ImageFolder layout.
    Import(ImportArgs),
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum SynthKind {
    /// Hand-drawn emoji, 8 classes (emoji8), 64x64 gray.
    Emoji,
    /// Faces with 7 expressions (fer7), 48x48 gray.
    Faces,
}

#[derive(Args, Debug)]
pub struct SynthArgs {
    /// What to generate.
    pub kind: SynthKind,
    /// The dataset folder to create (must not exist, or be empty).
    #[arg(long)]
    pub out: PathBuf,
    /// Images per class.
    #[arg(long, default_value_t = synth::DEFAULT_PER_CLASS)]
    pub per_class: usize,
    /// Seed: the same seed gives byte-identical images.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ImportFormat {
    /// FER2013's CSV (emotion,pixels,Usage).
    Fer2013,
    /// A folder with one subfolder of images per label, any format.
    Imagefolder,
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
    /// The CSV file (fer2013) or folder (imagefolder).
    pub src: PathBuf,
    /// The dataset folder to create (must not exist, or be empty).
    #[arg(long)]
    pub out: PathBuf,
    /// What to do with malformed rows or unreadable images.
    #[arg(long, value_enum, default_value_t = BadRowsArg::Skip)]
    pub bad_rows: BadRowsArg,
}

pub fn run(command: DataCommand) -> anyhow::Result<()> {
    match command {
        DataCommand::Synth(args) => synth_cmd(&args),
        DataCommand::Import(args) => import_cmd(&args),
    }
}

/// A data error with its help line, for `main`'s report.
fn with_help(e: DataError) -> anyhow::Error {
    anyhow!("{e}\n  help: {}", e.help())
}

fn synth_cmd(args: &SynthArgs) -> anyhow::Result<()> {
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
    let result = match args.kind {
        SynthKind::Emoji => {
            bar.set_prefix("emoji");
            synth::emoji(&args.out, args.per_class, args.seed, &mut progress)
        }
        SynthKind::Faces => {
            bar.set_prefix("faces");
            synth::faces(&args.out, args.per_class, args.seed, &mut progress)
        }
    };
    match result {
        Ok(summary) => {
            bar.finish_and_clear();
            let info = &summary.info;
            let [w, h] = info.image_size.unwrap_or([0, 0]);
            println!(
                "wrote {} images ({} classes x {}, {w}x{h} gray, label set {}, seed {}) to {}",
                info.total(),
                info.labels.len(),
                args.per_class,
                info.label_set,
                args.seed,
                summary.root.display()
            );
            Ok(())
        }
        Err(e) => {
            bar.abandon();
            Err(with_help(e))
        }
    }
}

fn import_cmd(args: &ImportArgs) -> anyhow::Result<()> {
    let policy = match args.bad_rows {
        BadRowsArg::Skip => BadRows::Skip,
        BadRowsArg::Fail => BadRows::Fail,
    };
    let report = match args.format {
        ImportFormat::Fer2013 => import::fer2013(&args.src, &args.out, policy),
        ImportFormat::Imagefolder => import::imagefolder(&args.src, &args.out, policy),
    }
    .map_err(with_help)?;
    print!("{report}");
    Ok(())
}
