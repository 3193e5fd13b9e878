//! `sentio eval MODEL --data DIR [--report DIR]`: a model's accuracy, per-class
//! precision/recall/F1 table, confusion matrix and worst examples on a labelled image folder or
//! speech folder, through the runtime the device uses (tract, via `sentio-infer`).

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use miette::{IntoDiagnostic as _, Result, WrapErr, bail};
use sentio_audio::FeatureExtractor;
use sentio_data::{AudioFolder, ImageFolder};
use sentio_infer::Model;
use sentio_train::SerInput;
use sentio_train::eval::{self, Evaluation, Example};
use sentio_vision::ImagePrep;

use crate::infer::{ModelArgs, load_options, model_name, progress_bar, read_model};

/// Which part of the folder to evaluate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SplitPart {
    /// Every image.
    All,
    /// The training part of the seeded split `sentio train` made (stratified for images, by
    /// speaker for speech).
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
    /// The labelled data: images `DIR/<label>/*.png` or speech clips `DIR/<label>/*.wav`
    /// (labels matched to the model's by name).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Write report.md, report.json, confusion.png and worst.png here.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Evaluate only one part of the seeded split `sentio train` uses.
    #[arg(long, value_enum, default_value_t = SplitPart::All)]
    pub split: SplitPart,
    #[command(flatten)]
    pub parts: SplitArgs,
    /// Examples on the worst-examples contact sheet.
    #[arg(long, default_value_t = 18)]
    pub worst: usize,
    /// Print the report as JSON instead of markdown.
    #[arg(long)]
    pub json: bool,
}

/// The seeded split `sentio train` makes, to pick the same parts again.
#[derive(Args, Debug, Clone, Copy)]
pub struct SplitArgs {
    /// Seed of the split (the training run's --seed).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Fraction held out for validation [default: the training recipe's: 0.1 of each class of
    /// images, 0.15 of the speakers of speech].
    #[arg(long)]
    pub val_fraction: Option<f32>,
    /// Fraction held out for the test [default: 0.1 of images, 0.15 of speakers].
    #[arg(long)]
    pub test_fraction: Option<f32>,
}

impl SplitArgs {
    /// The split of `targets` (class indices of `folder`'s samples) as `sentio train` made it:
    /// stratified for images; by speaker for speech, so the test voices were never heard.
    pub(crate) fn split(
        &self,
        folder: &Labelled,
        targets: &[usize],
    ) -> (sentio_data::split::Split, String) {
        let (val, test) = self.fractions(folder);
        match folder {
            Labelled::Images(_) => (
                sentio_data::split::stratified(targets, val, test, self.seed),
                format!(
                    "stratified split (seed {}, val {val}, test {test})",
                    self.seed
                ),
            ),
            Labelled::Speech(audio) => (
                sentio_data::split::by_group(targets, &audio.speakers(), val, test, self.seed),
                format!(
                    "split by speaker (seed {}, val {val}, test {test} of the speakers)",
                    self.seed
                ),
            ),
        }
    }

    fn fractions(&self, folder: &Labelled) -> (f32, f32) {
        let default = match folder {
            Labelled::Images(_) => 0.1,
            Labelled::Speech(_) => 0.15,
        };
        (
            self.val_fraction.unwrap_or(default),
            self.test_fraction.unwrap_or(default),
        )
    }
}

/// A labelled dataset folder: images or speech clips, one sub-folder per label.
pub(crate) enum Labelled {
    Images(ImageFolder),
    Speech(Box<AudioFolder>),
}

impl Labelled {
    /// Opens `dir` as a speech folder when its label folders hold WAV clips, else as an image
    /// folder; a folder with neither is an error.
    pub(crate) fn open(dir: &Path) -> Result<Labelled> {
        if let Ok(audio) = AudioFolder::open(dir)
            && !audio.samples.is_empty()
        {
            return Ok(Labelled::Speech(Box::new(audio)));
        }
        let images = ImageFolder::open(dir)?;
        if images.samples.is_empty() {
            bail!(
                code = "data::eval::empty",
                help = "a labelled folder holds DIR/<label>/*.png or DIR/<label>/*.wav; make one \
                        with `sentio data synth` or `sentio data import`",
                "{}: no images or WAV clips in it",
                dir.display()
            );
        }
        Ok(Labelled::Images(images))
    }

    pub(crate) fn labels(&self) -> &[String] {
        match self {
            Labelled::Images(f) => &f.labels,
            Labelled::Speech(f) => &f.labels,
        }
    }

    pub(crate) fn root(&self) -> &Path {
        match self {
            Labelled::Images(f) => &f.root,
            Labelled::Speech(f) => &f.root,
        }
    }

    /// Class index (in the folder's label order) and file of every sample.
    pub(crate) fn samples(&self) -> Vec<(usize, &Path)> {
        match self {
            Labelled::Images(f) => f
                .samples
                .iter()
                .map(|s| (s.label, s.path.as_path()))
                .collect(),
            Labelled::Speech(f) => f
                .samples
                .iter()
                .map(|s| (s.label, s.path.as_path()))
                .collect(),
        }
    }

    /// "images" or "clips".
    pub(crate) fn unit(&self) -> &'static str {
        match self {
            Labelled::Images(_) => "images",
            Labelled::Speech(_) => "clips",
        }
    }
}

/// How a sample becomes the model's input.
enum Input {
    Image(ImagePrep),
    Speech(SerInput, Box<FeatureExtractor>),
}

/// A classifier loaded for evaluation on a labelled folder.
pub(crate) struct Classifier {
    model: Model,
    /// Class labels in the model's output order.
    labels: Vec<String>,
    /// Class index in the model of each of the folder's labels.
    from_folder: Vec<usize>,
    input: Input,
    name: String,
}

impl Classifier {
    /// Loads the model of `args` (with its manifest, if any) to classify the samples of
    /// `folder`: its labels are the manifest's (else the folder's) and every label of the folder
    /// must be one of them. A speech folder needs a model whose manifest records its features.
    pub(crate) fn load(args: &ModelArgs, folder: &Labelled) -> Result<Classifier> {
        let (options, manifest) = load_options(args, 1)?;
        let bytes = read_model(&args.model)?;
        let model = Model::load(&bytes, &options)
            .with_context(|| format!("cannot load {}", args.model.display()))?;
        let labels: Vec<String> = match manifest.as_ref() {
            Some(m) => m.manifest.labels.labels.clone(),
            None => folder.labels().to_vec(),
        };
        let outputs = model
            .output_shapes()
            .first()
            .map(|s| s.iter().product::<usize>())
            .unwrap_or(0);
        if outputs != labels.len() {
            bail!(
                code = "data::eval::output_size",
                help = "give the model's manifest with --manifest",
                "{} gives {outputs} scores but there are {} labels ({})",
                args.model.display(),
                labels.len(),
                labels.join(", ")
            );
        }
        let mut from_folder = Vec::with_capacity(folder.labels().len());
        for label in folder.labels() {
            let Some(i) = labels.iter().position(|l| l == label) else {
                bail!(
                    code = "data::eval::unknown_label",
                    help = "evaluate on a folder whose label folders are the model's labels",
                    "{}: label `{label}` is not one of the model's ({})",
                    folder.root().display(),
                    labels.join(", ")
                );
            };
            from_folder.push(i);
        }
        let preprocessing = manifest.as_ref().map(|m| &m.manifest.input.preprocessing);
        let input = match (folder, preprocessing) {
            (Labelled::Images(_), Some(p)) if p.kind == "audio_features" => bail!(
                code = "usage::eval::images_for_a_speech_model",
                help = "give a speech folder (DIR/<label>/*.wav)",
                "{} takes speech features, {} holds images",
                args.model.display(),
                folder.root().display()
            ),
            (Labelled::Images(_), p) => Input::Image(ImagePrep::from_manifest(p)),
            (Labelled::Speech(_), Some(p)) => {
                let ser = SerInput::from_manifest(p)
                    .wrap_err_with(|| args.model.display().to_string())?;
                let extractor = FeatureExtractor::new(ser.features.clone())
                    .wrap_err_with(|| args.model.display().to_string())?;
                let needed = [1, ser.frames, ser.features.dims()];
                if model.input_shape() != needed {
                    bail!(
                        code = "data::eval::manifest_mismatch",
                        help = "the manifest is not this model's; give the one training wrote \
                                beside it with --manifest",
                        "{} takes {:?} but its manifest's features make {needed:?}",
                        args.model.display(),
                        model.input_shape()
                    );
                }
                Input::Speech(ser, Box::new(extractor))
            }
            (Labelled::Speech(_), None) => bail!(
                code = "usage::eval::no_manifest",
                help = "give --manifest (the one training wrote beside the model)",
                "{}: a speech model needs its manifest (the feature configuration it was trained on)",
                args.model.display()
            ),
        };
        let name = manifest
            .as_ref()
            .map(|m| m.manifest.name.clone())
            .unwrap_or_else(|| model_name(&args.model));
        Ok(Classifier {
            model,
            labels,
            from_folder,
            input,
            name,
        })
    }

    /// The true class (in the model's order) of every sample of `folder`.
    pub(crate) fn truth(&self, folder: &Labelled) -> Vec<usize> {
        folder
            .samples()
            .iter()
            .map(|(label, _)| self.from_folder.get(*label).copied().unwrap_or(usize::MAX))
            .collect()
    }

    /// Runs the model on the samples `chosen` of `folder` and evaluates it.
    pub(crate) fn evaluate(
        &mut self,
        folder: &Labelled,
        chosen: &[usize],
        data: &str,
    ) -> Result<Evaluation> {
        let all = self.truth(folder);
        let samples = folder.samples();
        let truth: Vec<usize> = chosen.iter().map(|&i| all[i]).collect();
        let sources: Vec<PathBuf> = chosen.iter().map(|&i| samples[i].1.to_owned()).collect();
        let shape = self.model.input_shape().to_vec();
        let bar = progress_bar(truth.len(), "evaluating");
        let input = &mut self.input;
        let failed = |e: String| sentio_train::Error::Eval(e);
        let evaluation = eval::evaluate_model(
            &mut self.model,
            &self.name,
            data,
            &self.labels,
            &truth,
            Some(&sources),
            &mut |i, buffer| match (&mut *input, folder) {
                (Input::Image(prep), _) => {
                    let image = sentio_vision::decode_image(&sources[i])
                        .map_err(|e| failed(e.to_string()))?;
                    sentio_vision::image_into(&image, &shape, prep, buffer)
                        .map_err(|e| failed(e.to_string()))
                }
                (Input::Speech(ser, extractor), Labelled::Speech(audio)) => {
                    let clip = audio.load(chosen[i]).map_err(|e| failed(e.to_string()))?;
                    let features = ser
                        .features(&clip, extractor)
                        .map_err(|e| failed(format!("{}: {e}", sources[i].display())))?;
                    if features.data.len() != buffer.len() {
                        return Err(failed(format!(
                            "{}: {} feature values for a model input of {}",
                            sources[i].display(),
                            features.data.len(),
                            buffer.len()
                        )));
                    }
                    buffer.copy_from_slice(&features.data);
                    Ok(())
                }
                (Input::Speech(..), Labelled::Images(_)) => {
                    Err(failed("a speech model cannot read images".into()))
                }
            },
            &mut |done, _| bar.set_position(done as u64),
        )?;
        bar.finish_and_clear();
        Ok(evaluation)
    }
}

pub fn run(args: &EvalArgs) -> Result<()> {
    let folder = Labelled::open(&args.data)?;
    let mut classifier = Classifier::load(&args.model, &folder)?;
    let mut described = String::new();
    let chosen: Vec<usize> = match args.split {
        SplitPart::All => (0..folder.samples().len()).collect(),
        part => {
            // Split on the model's class indices, as `sentio train` did.
            let (split, how) = args.parts.split(&folder, &classifier.truth(&folder));
            described = how;
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
        bail!(
            code = "data::eval::empty_split",
            help = "evaluate on another --split, or on a larger dataset",
            "the {:?} part of the split is empty",
            args.split
        );
    }
    let data = match args.split {
        SplitPart::All => format!("{}", args.data.display()),
        part => format!(
            "{}, {} part of the {described}",
            args.data.display(),
            format!("{part:?}").to_lowercase(),
        ),
    };
    let evaluation = classifier.evaluate(&folder, &chosen, &data)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&evaluation).into_diagnostic()?
        );
    } else {
        print!("{}", evaluation.to_markdown(args.worst.min(10)));
    }
    if let Some(dir) = &args.report {
        let files = write(&evaluation, dir, args.worst, &folder)?;
        eprintln!("wrote {}", files.join(", "));
    }
    Ok(())
}

fn write(
    evaluation: &Evaluation,
    dir: &Path,
    worst: usize,
    folder: &Labelled,
) -> Result<Vec<String>> {
    let image_of = |e: &Example| -> Option<image::GrayImage> {
        let path = e.source.as_ref()?;
        Some(sentio_vision::decode_image(path).ok()?.to_luma8())
    };
    // Speech has no picture for the worst-examples sheet; the report lists the clips.
    let pictures: Option<&eval::ExampleImage<'_>> = match folder {
        Labelled::Images(_) => Some(&image_of),
        Labelled::Speech(_) => None,
    };
    let files = evaluation.write_report(dir, worst, pictures)?;
    Ok(files.iter().map(|f| f.display().to_string()).collect())
}
