//! `sentio manifest init`: a manifest for a model Sentio did not train, so any ONNX (a FER model
//! trained elsewhere, a detector) can be bundled, flashed and run by a device.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use miette::{Result, WrapErr as _, bail};
use sentio_diagnostics::FileContext as _;
use sentio_infer::{LoadOptions, Model};
use sentio_models::{
    DType, Figures, InputSpec, LabelSpec, Manifest, Precision, Preprocessing, Task,
};
use sentio_vision::ImageLayout;

#[derive(Subcommand, Debug)]
pub enum ManifestCommand {
    /// Write a manifest for an ONNX model: input shape and layout read from the model, task,
    /// labels and preprocessing from the flags.
    Init(InitArgs),
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum TaskArg {
    Fer,
    Ser,
    Emoji,
    Custom,
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// The ONNX model.
    pub model: PathBuf,
    /// What the model does.
    #[arg(long, value_enum, default_value_t = TaskArg::Fer)]
    pub task: TaskArg,
    /// Output labels: a label set (`fer7`, `ser8`, `emoji8`) or a comma-separated list.
    #[arg(long, default_value = "fer7")]
    pub labels: String,
    /// Model name on the device (default: the task's model name, e.g. `fer`).
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long, default_value = "1.0.0")]
    pub version: String,
    /// Factor applied to raw 0..255 pixel values first.
    #[arg(long, default_value_t = 1.0 / 255.0)]
    pub scale: f32,
    /// Subtracted after scaling: one value, or one per channel (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub mean: Vec<f32>,
    /// Divided by after the mean: one value, or one per channel.
    #[arg(long, value_delimiter = ',')]
    pub std: Vec<f32>,
    /// Face models: fraction of the face box added on each side before cropping.
    #[arg(long)]
    pub margin: Option<f32>,
    /// Where to write it (default: `<model stem>.manifest.json` beside the model).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace an existing manifest.
    #[arg(long)]
    pub force: bool,
}

pub fn run(command: ManifestCommand) -> Result<()> {
    match command {
        ManifestCommand::Init(args) => init(&args),
    }
}

fn label_list(text: &str) -> (String, Vec<String>) {
    match sentio_models::labels::by_name(text) {
        Some(set) => (
            set.name.to_string(),
            set.labels.iter().map(|l| (*l).to_string()).collect(),
        ),
        None => (
            "custom".to_string(),
            text.split(',').map(|l| l.trim().to_string()).collect(),
        ),
    }
}

/// The manifest `init` writes (checked against the loaded model).
pub fn manifest_for(args: &InitArgs, model_bytes: &[u8]) -> Result<Manifest> {
    let (set, labels) = label_list(&args.labels);
    if labels.iter().any(String::is_empty) {
        bail!(
            code = "usage::manifest::empty_label",
            help = "give a label set (fer7, ser8, emoji8) or a comma-separated list",
            "--labels {:?}: an empty label",
            args.labels
        );
    }
    let (task, default_name) = match args.task {
        TaskArg::Fer => (Task::Fer, "fer"),
        TaskArg::Ser => (Task::Ser, "ser"),
        TaskArg::Emoji => (Task::Emoji, "emoji"),
        TaskArg::Custom => (Task::Custom, "custom"),
    };
    let model = Model::load(model_bytes, &LoadOptions::new().name(default_name))
        .with_context(|| format!("{}: cannot load it as an ONNX model", args.model.display()))?;
    let shape = model.input_shape().to_vec();
    let outputs: usize = model
        .output_shapes()
        .first()
        .map(|s| s.iter().product())
        .unwrap_or(0);
    if outputs != labels.len() {
        bail!(
            code = "usage::manifest::label_count",
            help = "give labels that match the output, one per value",
            "{}: the model's first output has {outputs} values, --labels gives {} labels ({})",
            args.model.display(),
            labels.len(),
            labels.join(",")
        );
    }
    let preprocessing = match ImageLayout::of_shape(&shape) {
        Ok(layout) => Preprocessing {
            kind: if layout.channels == 1 { "gray" } else { "rgb" }.to_string(),
            width: Some(layout.width as u32),
            height: Some(layout.height as u32),
            scale: Some(args.scale),
            mean: (!args.mean.is_empty()).then(|| args.mean.clone()),
            std: (!args.std.is_empty()).then(|| args.std.clone()),
            margin: args.margin,
            ..Preprocessing::default()
        },
        Err(_) if matches!(args.task, TaskArg::Fer | TaskArg::Emoji) => bail!(
            code = "data::manifest::not_an_image",
            help = format!(
                "a {default_name} model takes an image ([1, C, H, W] or [1, H, W, C] with C = 1 \
                 or 3); give --task custom for other models"
            ),
            "{}: its input {shape:?} is not an image",
            args.model.display()
        ),
        Err(_) => Preprocessing::none(),
    };
    let refs: Vec<&str> = labels.iter().map(String::as_str).collect();
    let mut manifest = Manifest::new(
        args.name.as_deref().unwrap_or(default_name),
        &args.version,
        task,
        LabelSpec::new(&set, &refs),
        InputSpec {
            shape,
            dtype: DType::F32,
            preprocessing,
            extra: Figures::new(),
        },
        Precision::F32,
    );
    manifest.model_sha256 = sentio_models::sha256(model_bytes);
    manifest.model_size = model_bytes.len() as u64;
    manifest
        .validate()
        .with_context(|| format!("the manifest for {}", args.model.display()))?;
    Ok(manifest)
}

fn default_out(model: &Path) -> PathBuf {
    let stem = model
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    model.with_file_name(format!("{stem}.manifest.json"))
}

fn init(args: &InitArgs) -> Result<()> {
    let bytes = std::fs::read(&args.model)
        .file_context(|| format!("cannot read the model {}", args.model.display()))?;
    let manifest = manifest_for(args, &bytes)?;
    let out = args.out.clone().unwrap_or_else(|| default_out(&args.model));
    if out.exists() && !args.force {
        bail!(
            code = "usage::manifest::exists",
            help = "give --force to replace it, or --out FILE",
            "{} exists",
            out.display()
        );
    }
    let json = manifest.to_json_pretty()?;
    sentio_files::write_bytes_atomically(&out, (json + "\n").as_bytes())
        .file_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "wrote {} ({} {}, input {:?}, {} labels {})",
        out.display(),
        manifest.name,
        manifest.version,
        manifest.input.shape,
        manifest.labels.set,
        manifest.labels.labels.join(",")
    );
    Ok(())
}
