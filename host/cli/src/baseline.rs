//! `sentio baseline --data DIR`: the classical baselines (linear SVM, random forest, AdaBoost,
//! decision tree, gradient boosting) on the same seeded stratified split `sentio train` uses,
//! as one table — with the CNN beside them when `--model` names it.

use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use clap::{Args, ValueEnum};
use indicatif::ProgressBar;
use sentio_baseline::{Event, FeatureKind, Options, ReferenceRow, TrainTest};
use sentio_data::ImageFolder;

use crate::eval::Classifier;
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
    /// The labelled images: `DIR/<label>/*.png`.
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// The features the classical models see.
    #[arg(long, value_enum, default_value_t = Features::Hog)]
    pub features: Features,
    /// Seed of the split (the training run's --seed) and of the models.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Fractions of each class held out for validation (unused here) and test, as in training.
    #[arg(long, default_value_t = 0.1)]
    pub val_fraction: f32,
    #[arg(long, default_value_t = 0.1)]
    pub test_fraction: f32,
    /// Also evaluate this ONNX model (the CNN) on the same test images, in the same table.
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
    let folder = ImageFolder::open(&args.data).map_err(|e| anyhow!("{e}\n  help: {}", e.help()))?;
    if folder.samples.is_empty() {
        bail!(
            "{}: no images in it (expected DIR/<label>/*.png)",
            args.data.display()
        );
    }
    let first = sentio_vision::decode_image(&folder.samples[0].path)?;
    let side = first.width().max(first.height());
    let kind = match args.features {
        Features::Hog => FeatureKind::hog(side),
        Features::Pixels => FeatureKind::Pixels { side: side.min(32) },
    };
    let bar = progress_bar(folder.samples.len(), "features");
    let data = sentio_baseline::features::image_folder(&folder, &kind, &mut |done, _| {
        bar.set_position(done as u64)
    })
    .map_err(|e| anyhow!("{e}\n  help: {}", e.help()))?;
    bar.finish_and_clear();
    let parts = sentio_data::split::stratified(
        data.targets(),
        args.val_fraction,
        args.test_fraction,
        args.seed,
    );
    if parts.test.is_empty() || parts.train.is_empty() {
        bail!(
            "{} images are too few for a training and a test part (--test-fraction {})",
            data.len(),
            args.test_fraction
        );
    }
    eprintln!(
        "{} images, {}; train {}, test {} (stratified, seed {})",
        data.len(),
        kind.describe(),
        parts.train.len(),
        parts.test.len(),
        args.seed
    );
    let options = Options {
        seed: args.seed,
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
    )
    .map_err(|e| anyhow!("{e}\n  help: {}", e.help()))?;

    if let Some(model_path) = &args.model {
        let mut test = parts.test.clone();
        test.sort_unstable();
        table
            .reference
            .push(cnn_row(model_path, args, &folder, &test)?);
    }
    if args.json {
        println!("{}", table.to_json()?);
    } else {
        println!("Features: {}\n", kind.describe());
        print!("{}", table.to_markdown());
    }
    Ok(())
}

/// The CNN on the test images, through tract, as a row of the table.
fn cnn_row(
    model_path: &std::path::Path,
    args: &BaselineArgs,
    folder: &ImageFolder,
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
