//! `sentio eval MODEL --data DIR [--report DIR]`: a model's accuracy, per-class
//! precision/recall/F1 table, confusion matrix and worst examples on a labelled image folder,
//! through the runtime the device uses (tract, via `sentio-infer`).

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, ValueEnum};
use sentio_data::ImageFolder;
use sentio_infer::Model;
use sentio_train::eval::{self, Evaluation, Example};
use sentio_vision::ImagePrep;

use crate::infer::{ModelArgs, load_options, model_name, progress_bar, read_model};

/// Which part of the folder to evaluate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SplitPart {
    /// Every image.
    All,
    /// The training part of the seeded stratified split (as `sentio train` made it).
    Train,
    /// The validation part.
    Val,
    /// The test part.
    Test,
}

/// `sentio eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// The labelled images: `DIR/<label>/*.png` (labels matched to the model's by name).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Write report.md, report.json, confusion.png and worst.png here.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Evaluate only one part of the seeded stratified split `sentio train` uses.
    #[arg(long, value_enum, default_value_t = SplitPart::All)]
    pub split: SplitPart,
    /// Seed of that split (the training run's --seed).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Fractions of each class in the validation and test parts (the training run's).
    #[arg(long, default_value_t = 0.1)]
    pub val_fraction: f32,
    #[arg(long, default_value_t = 0.1)]
    pub test_fraction: f32,
    /// Examples on the worst-examples contact sheet.
    #[arg(long, default_value_t = 18)]
    pub worst: usize,
    /// Print the report as JSON instead of markdown.
    #[arg(long)]
    pub json: bool,
}

/// A classifier loaded for evaluation on an image folder.
pub(crate) struct Classifier {
    model: Model,
    /// Class labels in the model's output order.
    labels: Vec<String>,
    /// Class index in the model of each of the folder's labels.
    from_folder: Vec<usize>,
    prep: ImagePrep,
    name: String,
}

impl Classifier {
    /// Loads the model of `args` (with its manifest, if any) to classify the images of
    /// `folder`: its labels are the manifest's (else the folder's) and every label of the folder
    /// must be one of them.
    pub(crate) fn load(args: &ModelArgs, folder: &ImageFolder) -> Result<Classifier> {
        let (options, manifest) = load_options(args, 1)?;
        let bytes = read_model(&args.model)?;
        let model = Model::load(&bytes, &options)
            .with_context(|| format!("cannot load {}", args.model.display()))?;
        let labels: Vec<String> = match manifest.as_ref() {
            Some(m) => m.manifest.labels.labels.clone(),
            None => folder.labels.clone(),
        };
        let outputs = model
            .output_shapes()
            .first()
            .map(|s| s.iter().product::<usize>())
            .unwrap_or(0);
        if outputs != labels.len() {
            bail!(
                "{} gives {outputs} scores but there are {} labels ({}); give the model's manifest with --manifest",
                args.model.display(),
                labels.len(),
                labels.join(", ")
            );
        }
        let mut from_folder = Vec::with_capacity(folder.labels.len());
        for label in &folder.labels {
            let Some(i) = labels.iter().position(|l| l == label) else {
                bail!(
                    "{}: label `{label}` is not one of the model's ({})",
                    folder.root.display(),
                    labels.join(", ")
                );
            };
            from_folder.push(i);
        }
        let prep =
            ImagePrep::from_manifest(manifest.as_ref().map(|m| &m.manifest.input.preprocessing));
        let name = manifest
            .as_ref()
            .map(|m| m.manifest.name.clone())
            .unwrap_or_else(|| model_name(&args.model));
        Ok(Classifier {
            model,
            labels,
            from_folder,
            prep,
            name,
        })
    }

    /// The true class (in the model's order) of every sample of `folder`.
    pub(crate) fn truth(&self, folder: &ImageFolder) -> Vec<usize> {
        folder
            .samples
            .iter()
            .map(|s| self.from_folder.get(s.label).copied().unwrap_or(usize::MAX))
            .collect()
    }

    /// Runs the model on the samples `chosen` of `folder` and evaluates it.
    pub(crate) fn evaluate(
        &mut self,
        folder: &ImageFolder,
        chosen: &[usize],
        data: &str,
    ) -> Result<Evaluation> {
        let all = self.truth(folder);
        let truth: Vec<usize> = chosen.iter().map(|&i| all[i]).collect();
        let sources: Vec<PathBuf> = chosen
            .iter()
            .map(|&i| folder.samples[i].path.clone())
            .collect();
        let shape = self.model.input_shape().to_vec();
        let bar = progress_bar(truth.len(), "evaluating");
        let prep = &self.prep;
        let evaluation = eval::evaluate_model(
            &mut self.model,
            &self.name,
            data,
            &self.labels,
            &truth,
            Some(&sources),
            &mut |i, buffer| {
                let image = sentio_vision::decode_image(&sources[i])
                    .map_err(|e| sentio_train::Error::Eval(e.to_string()))?;
                sentio_vision::image_into(&image, &shape, prep, buffer)
                    .map_err(|e| sentio_train::Error::Eval(e.to_string()))
            },
            &mut |done, _| bar.set_position(done as u64),
        )
        .map_err(|e| anyhow!("{e}\n  help: {}", e.help()))?;
        bar.finish_and_clear();
        Ok(evaluation)
    }
}

pub fn run(args: &EvalArgs) -> Result<()> {
    let folder = ImageFolder::open(&args.data).map_err(|e| anyhow!("{e}"))?;
    if folder.samples.is_empty() {
        bail!(
            "{}: no images in it (expected DIR/<label>/*.png)",
            args.data.display()
        );
    }
    let mut classifier = Classifier::load(&args.model, &folder)?;
    let chosen: Vec<usize> = match args.split {
        SplitPart::All => (0..folder.samples.len()).collect(),
        part => {
            // Split on the model's class indices, as `sentio train` did.
            let split = sentio_data::split::stratified(
                &classifier.truth(&folder),
                args.val_fraction,
                args.test_fraction,
                args.seed,
            );
            let mut chosen = match part {
                SplitPart::Train => split.train,
                SplitPart::Val => split.val,
                _ => split.test,
            };
            chosen.sort_unstable();
            chosen
        }
    };
    if chosen.is_empty() {
        bail!("the {:?} part of the split is empty", args.split);
    }
    let data = match args.split {
        SplitPart::All => format!("{}", args.data.display()),
        part => format!(
            "{}, {} part of the stratified split (seed {}, val {}, test {})",
            args.data.display(),
            format!("{part:?}").to_lowercase(),
            args.seed,
            args.val_fraction,
            args.test_fraction
        ),
    };
    let evaluation = classifier.evaluate(&folder, &chosen, &data)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&evaluation)?);
    } else {
        print!("{}", evaluation.to_markdown(args.worst.min(10)));
    }
    if let Some(dir) = &args.report {
        let files = write(&evaluation, dir, args.worst)?;
        eprintln!("wrote {}", files.join(", "));
    }
    Ok(())
}

fn write(evaluation: &Evaluation, dir: &std::path::Path, worst: usize) -> Result<Vec<String>> {
    let image_of = |e: &Example| -> Option<image::GrayImage> {
        let path = e.source.as_ref()?;
        Some(sentio_vision::decode_image(path).ok()?.to_luma8())
    };
    let files = evaluation
        .write_report(dir, worst, Some(&image_of))
        .map_err(|e| anyhow!("{e}\n  help: {}", e.help()))?;
    Ok(files.iter().map(|f| f.display().to_string()).collect())
}
