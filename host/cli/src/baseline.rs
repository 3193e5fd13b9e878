//! `sentio baseline --data DIR`: the classical baselines (linear SVM, random forest, AdaBoost,
//! decision tree, gradient boosting) on the same seeded split `sentio train` uses (stratified
//! for images, by speaker for speech), as one table — with the CNN beside them when `--model`
//! names it.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use indicatif::ProgressBar;
use miette::{IntoDiagnostic as _, Result, bail};
use sentio_baseline::{Dataset, Event, FeatureKind, Options, ReferenceRow, TrainTest};

use crate::eval::{Classifier, Labelled, SplitArgs};
use crate::infer::{ModelArgs, progress_bar};

/// Image features for the baselines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Features {
    /// A HOG-like descriptor: 8 px cells, 9 orientation bins, 2x2-cell blocks (L2-Hys).
    Hog,
    /// The gray pixels, area-downsampled to 32x32.
    Pixels,
}

/// `sentio baseline`.
#[derive(Args, Debug)]
pub struct BaselineArgs {
    /// The labelled data: images `DIR/<label>/*.png`, or speech clips `DIR/<label>/*.wav`
    /// (speakers from RAVDESS-style names).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// The features the classical models see, for images. Speech clips are always summarized
    /// as the mean and standard deviation of the SER model's per-frame features (MFCC, ZCR,
    /// chroma, log-mel) over the speech the VAD finds.
    #[arg(long, value_enum, default_value_t = Features::Hog)]
    pub features: Features,
    /// The split (its seed also seeds the models); the validation part is left out.
    #[command(flatten)]
    pub parts: SplitArgs,
    /// Also evaluate this ONNX model (the CNN) on the same test samples, in the same table.
    #[arg(long, value_name = "MODEL.onnx")]
    pub model: Option<PathBuf>,
    /// The model's manifest (default: beside it).
    #[arg(long, value_name = "FILE", requires = "model")]
    pub manifest: Option<PathBuf>,
    /// Worker threads for the ensembles (0: all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Print the table as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &BaselineArgs) -> Result<()> {
    let folder = Labelled::open(&args.data)?;
    let n = folder.samples().len();
    let bar = progress_bar(n, "features");
    let mut on_progress = |done: usize, _| bar.set_position(done as u64);
    let (data, described): (Dataset, String) = match &folder {
        Labelled::Images(images) => {
            let first = sentio_vision::decode_image(&images.samples[0].path)?;
            let side = first.width().max(first.height());
            let kind = match args.features {
                Features::Hog => FeatureKind::hog(side),
                Features::Pixels => FeatureKind::Pixels { side: side.min(32) },
            };
            let data = sentio_baseline::features::image_folder(images, &kind, &mut on_progress)?;
            (data, kind.describe())
        }
        Labelled::Speech(audio) => {
            // The SER model's own feature configuration, so the table compares like with like.
            let input = sentio_train::SerInput::ser8();
            let data = sentio_baseline::features::audio_folder(
                audio,
                &input.features,
                input.trim_silence,
                &mut on_progress,
            )?;
            let described = format!(
                "per-clip mean and std of {} per-frame features (40 MFCC, ZCR, 12 chroma, 64 log-mel; 16 kHz, 25 ms windows, 10 ms hop) over the VAD's speech span: {} values",
                input.features.dims(),
                data.n_features()
            );
            (data, described)
        }
    };
    bar.finish_and_clear();
    let (parts, how) = args.parts.split(&folder, data.targets());
    if parts.test.is_empty() || parts.train.is_empty() {
        bail!(
            code = "data::baseline::too_few",
            help = "use a larger dataset, or another --test-fraction",
            "{} {} are too few for a training and a test part (--test-fraction)",
            data.len(),
            folder.unit()
        );
    }
    eprintln!(
        "{} {}, {described}; train {}, test {} ({how})",
        data.len(),
        folder.unit(),
        parts.train.len(),
        parts.test.len(),
    );
    let options = Options {
        seed: args.parts.seed,
        threads: args.threads,
        ..Options::default()
    };
    let mut bar: Option<ProgressBar> = None;
    let mut table = sentio_baseline::run(
        &data,
        &TrainTest::from(&parts),
        &options,
        &mut |e| match e {
            Event::Started { model, .. } => {
                let b = progress_bar(1, model.name());
                bar = Some(b);
            }
            Event::Progress { done, total, .. } => {
                if let Some(b) = &bar {
                    b.set_length(total as u64);
                    b.set_position(done as u64);
                }
            }
            Event::Finished(r) => {
                if let Some(b) = bar.take() {
                    b.finish_and_clear();
                }
                eprintln!(
                    "{:>20}: {:.2}% in {:.1} s",
                    r.model.name(),
                    r.accuracy * 100.0,
                    r.fit_seconds
                );
            }
            Event::Prepared { .. } => {}
        },
    )?;

    if let Some(model_path) = &args.model {
        let mut test = parts.test.clone();
        test.sort_unstable();
        table
            .reference
            .push(cnn_row(model_path, args, &folder, &test)?);
    }
    if args.json {
        println!("{}", table.to_json().into_diagnostic()?);
    } else {
        println!("Features: {described}\n");
        print!("{}", table.to_markdown());
    }
    Ok(())
}

/// The CNN on the test samples, through tract, as a row of the table.
fn cnn_row(
    model_path: &std::path::Path,
    args: &BaselineArgs,
    folder: &Labelled,
    test: &[usize],
) -> Result<ReferenceRow> {
    let model_args = ModelArgs {
        model: model_path.to_owned(),
        manifest: args.manifest.clone(),
        shape: None,
    };
    let mut classifier = Classifier::load(&model_args, folder)?;
    let evaluation = classifier.evaluate(folder, test, &args.data.display().to_string())?;
    let predict: f32 = evaluation.examples.iter().map(|e| e.millis).sum::<f32>() / 1e3;
    Ok(ReferenceRow {
        name: format!("CNN ({}, tract)", model_path.display()),
        accuracy: f64::from(evaluation.accuracy),
        macro_f1: f64::from(evaluation.macro_f1),
        predict_seconds: Some(f64::from(predict)),
    })
}
