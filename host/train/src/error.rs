//! Why training, checkpointing or exporting failed.

use std::path::PathBuf;

/// What went wrong, coarsely (for callers that branch on it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The options or the dataset are not usable as given.
    Input,
    /// A file or directory could not be read or written.
    Io,
    /// A checkpoint is missing, damaged or from another run.
    Checkpoint,
    /// The exported model failed its check against burn.
    Export,
}

/// An error of `sentio-train`. Every variant has a [`help`](Error::help) line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An option has a value training cannot use.
    #[error("invalid option `{option}`: {reason}")]
    Option {
        /// The option's name as the CLI spells it (`epochs`, `batch`, ...).
        option: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The dataset cannot be trained on.
    #[error("dataset {}: {reason}", path.display())]
    Dataset {
        /// The dataset directory.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The dataset crate could not read the data.
    #[error("could not read the dataset: {0}")]
    Data(#[from] sentio_data::DataError),
    /// Reading or writing a file failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done (`writing`, `reading`, `creating directory`).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A checkpoint could not be used to resume.
    #[error("checkpoint in {}: {reason}", dir.display())]
    Checkpoint {
        /// The checkpoint directory.
        dir: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A training curve image could not be written.
    #[error("writing the curves image {}: {source}", path.display())]
    Image {
        /// The PNG file.
        path: PathBuf,
        /// The underlying error.
        source: image::ImageError,
    },
    /// The exported ONNX model does not load in tract or disagrees with burn.
    #[error("ONNX export check failed: {0}")]
    Export(String),
    /// The manifest could not be built or serialized.
    /// Evaluating a model failed: an example could not be read, or the model could not run it.
    #[error("evaluation: {0}")]
    Eval(String),

    #[error("manifest: {0}")]
    Manifest(#[from] sentio_models::ManifestError),
    /// Training diverged (the loss is not a finite number).
    #[error("the training loss became {loss} at epoch {epoch}")]
    Diverged {
        /// The epoch (1-based).
        epoch: usize,
        /// The loss value seen.
        loss: f32,
    },
}

impl Error {
    /// The coarse kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Option { .. }
            | Self::Dataset { .. }
            | Self::Data(_)
            | Self::Diverged { .. }
            | Self::Eval(_) => ErrorKind::Input,
            Self::Io { .. } | Self::Image { .. } => ErrorKind::Io,
            Self::Checkpoint { .. } => ErrorKind::Checkpoint,
            Self::Export(_) | Self::Manifest(_) => ErrorKind::Export,
        }
    }

    /// One line telling the user what to do about it.
    pub fn help(&self) -> String {
        match self {
            Self::Option { option, .. } => format!("check --{option}; `sentio train --help` lists the ranges"),
            Self::Dataset { .. } => "the dataset is an image folder: one sub-directory per label of the label set, holding PNG/JPEG files; `sentio data synth emoji|faces --out DIR` makes one".into(),
            Self::Data(e) => e.help(),
            Self::Io { .. } | Self::Image { .. } => "check that the path exists, is writable and the disk is not full".into(),
            Self::Checkpoint { .. } => "drop --resume to start afresh, or point --out at the directory of the run you want to continue (with the same --data, --seed and --batch)".into(),
            Self::Export(_) => "this is a bug in the exporter or in tract; report it with the model's checkpoint".into(),
            Self::Manifest(_) => "this is a bug in sentio-train's manifest; report it".into(),
            Self::Eval(_) => "check that the model's input shape and labels match the data (give its manifest with --manifest) and that every image decodes".into(),
            Self::Diverged { .. } => "lower the learning rate (--lr) or check the dataset for broken images".into(),
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn option(option: &'static str, reason: impl Into<String>) -> Self {
        Self::Option {
            option,
            reason: reason.into(),
        }
    }

    pub(crate) fn checkpoint(dir: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self::Checkpoint {
            dir: dir.into(),
            reason: reason.into(),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl miette::Diagnostic for Error {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        // The first segment is the kind of failure, which picks the binaries' exit code.
        let code = match self {
            Self::Option { .. } => "data::train::option",
            Self::Dataset { .. } => "data::train::dataset",
            Self::Data { .. } => "data::train::data",
            Self::Io { .. } => "data::train::io",
            Self::Checkpoint { .. } => "data::train::checkpoint",
            Self::Image { .. } => "data::train::image",
            Self::Export { .. } => "data::train::export",
            Self::Eval { .. } => "data::train::eval",
            Self::Manifest { .. } => "data::train::manifest",
            Self::Diverged { .. } => "data::train::diverged",
        };
        Some(Box::new(code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(self.help())
            .filter(|h| !h.is_empty())
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display + 'a>)
    }
}
