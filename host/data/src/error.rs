//! [`DataError`]: every failure names the file (and the line, for CSV rows) and has a
//! [`help`](DataError::help) line saying what to do about it.

use std::path::PathBuf;

/// An error of this crate.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// Reading, writing, creating or renaming a file or directory failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done ("cannot read", "cannot create", ...).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// An image could not be decoded or encoded.
    #[error("image {}: {source}", path.display())]
    Image {
        /// The image file.
        path: PathBuf,
        /// The cause.
        source: image::ImageError,
    },
    /// `dataset.json` is not valid JSON of the expected shape, or contradicts the folders.
    #[error("{}: {reason}", path.display())]
    BadManifest {
        /// The `dataset.json` file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A folder holds no usable dataset.
    #[error("{}: {reason}", path.display())]
    NotADataset {
        /// The folder.
        path: PathBuf,
        /// What is missing.
        reason: String,
    },
    /// A row (or file) of an import is malformed; with [`BadRows::Fail`](crate::BadRows) this
    /// stops the import.
    #[error("{}{}: {reason}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    BadRow {
        /// The CSV file, or the image file.
        path: PathBuf,
        /// 1-based line number in a CSV (the header is line 1).
        line: Option<usize>,
        /// What is wrong with it.
        reason: String,
    },
    /// A CSV's header lacks a required column.
    #[error("{}:1: the header {found:?} has no `{column}` column", path.display())]
    BadHeader {
        /// The CSV file.
        path: PathBuf,
        /// The header line as found.
        found: String,
        /// The missing column.
        column: &'static str,
    },
    /// A file name does not follow the naming scheme of its dataset.
    #[error("{name}: not a {dataset} file name ({reason})")]
    BadFileName {
        /// The file name.
        name: String,
        /// The dataset (`RAVDESS`, `TESS`, `CREMA-D`, `SAVEE`).
        dataset: &'static str,
        /// What does not match.
        reason: String,
    },
    /// The output directory already holds files.
    #[error("{} already exists and is not empty", path.display())]
    OutputExists {
        /// The output directory.
        path: PathBuf,
    },
    /// A sample index past the end of the dataset.
    #[error("{}: sample {index} requested, the dataset has {len}", root.display())]
    NoSuchSample {
        /// The dataset folder.
        root: PathBuf,
        /// The index asked for.
        index: usize,
        /// The number of samples.
        len: usize,
    },
    /// A WAV file could not be decoded or written (the message names the file and the fix).
    #[error("{source}")]
    Audio {
        /// The WAV file.
        path: PathBuf,
        /// The cause, from `sentio-audio`.
        source: sentio_audio::AudioError,
    },
    /// An external program this step needs is not installed.
    #[error("{program} not found")]
    ProgramMissing {
        /// The program (`espeak-ng`).
        program: String,
        /// The Debian/Ubuntu package that provides it.
        package: &'static str,
    },
    /// The speech synthesizer failed on one utterance, or lacks a voice the generator uses.
    #[error("espeak-ng failed for voice `{voice}` on \"{text}\": {reason}")]
    Synthesis {
        /// The voice and variant (`en-us+f3`).
        voice: String,
        /// The text (SSML) it was asked to speak.
        text: String,
        /// Exit status and what espeak-ng printed.
        reason: String,
    },
    /// An argument is out of its range (zero samples per class, zero image size, ...).
    #[error("{0}")]
    BadArgument(String),
    /// A scene set's `labels.jsonl` is missing, or a line of it is malformed, names a label
    /// outside the set or an image that is not there.
    #[error("{}{}: {reason}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    BadLabels {
        /// The `labels.jsonl` file.
        path: PathBuf,
        /// 1-based line number, when a line is at fault.
        line: Option<usize>,
        /// What is wrong.
        reason: String,
    },
    /// A folder of images given for a model has a class folder that is not one of the model's
    /// labels.
    #[error("{}: folder `{folder}` is not one of the manifest's labels ({})", path.display(), labels.join(", "))]
    UnknownLabel {
        /// The folder of images.
        path: PathBuf,
        /// The class folder that is not a label.
        folder: String,
        /// The model's labels.
        labels: Vec<String>,
    },
}

impl miette::Diagnostic for DataError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        // The first segment is the kind of failure, which picks the binaries' exit code.
        let code = match self {
            Self::Io { .. } => "data::dataset::io",
            Self::Image { .. } => "data::dataset::image",
            Self::BadManifest { .. } => "data::dataset::bad_manifest",
            Self::NotADataset { .. } => "data::dataset::not_a_dataset",
            Self::BadRow { .. } => "data::dataset::bad_row",
            Self::BadHeader { .. } => "data::dataset::bad_header",
            Self::BadFileName { .. } => "data::dataset::bad_file_name",
            Self::OutputExists { .. } => "data::dataset::output_exists",
            Self::NoSuchSample { .. } => "data::dataset::no_such_sample",
            Self::Audio { .. } => "data::dataset::audio",
            Self::ProgramMissing { .. } => "data::dataset::program_missing",
            Self::Synthesis { .. } => "data::dataset::synthesis",
            Self::BadArgument { .. } => "data::dataset::bad_argument",
            Self::BadLabels { .. } => "data::dataset::bad_labels",
            Self::UnknownLabel { .. } => "data::dataset::unknown_label",
        };
        Some(Box::new(code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(self.help())
            .filter(|h| !h.is_empty())
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display + 'a>)
    }
}

impl DataError {
    /// What the user can do about it.
    pub fn help(&self) -> String {
        match self {
            Self::Io { .. } => {
                "check that the path exists, its permissions, and the free disk space".into()
            }
            Self::Image { .. } => "the file is damaged or in a format this build cannot read \
                 (PNG and JPEG are supported); re-export it, or remove it"
                .into(),
            Self::BadManifest { .. } => "dataset.json is written by `sentio data synth` and \
                 `sentio data import`; regenerate the dataset, or delete dataset.json to use the \
                 sorted folder names as labels"
                .into(),
            Self::NotADataset { .. } => "a dataset folder holds one subfolder per label with \
                 the images or WAV files in it (DIR/<label>/<name>.png or .wav); make one with \
                 `sentio data synth` or `sentio data import`"
                .into(),
            Self::BadRow { line: Some(_), .. } => "fix or delete the row, or pass \
                 `--bad-rows skip` to import the other rows and list the bad ones"
                .into(),
            Self::BadRow { line: None, .. } => "fix or delete the file, or pass \
                 `--bad-rows skip` to import the other files and list the bad ones"
                .into(),
            Self::BadHeader { .. } => "FER2013 CSVs start with the header `emotion,pixels,Usage`; \
                 check that this is the FER2013 file (fer2013.csv or icml_face_data.csv)"
                .into(),
            Self::BadFileName { dataset, .. } => match *dataset {
                "RAVDESS" => "RAVDESS names are seven 2-digit fields, e.g. \
                              03-01-06-01-02-01-12.wav (emotion 3rd, actor last); keep the \
                              original file names"
                    .into(),
                "TESS" => "TESS names are SPEAKER_word_emotion.wav, e.g. OAF_back_angry.wav; \
                           keep the original file names"
                    .into(),
                "CREMA-D" => "CREMA-D names are ACTOR_SENTENCE_EMOTION_LEVEL.wav, e.g. \
                              1001_DFA_ANG_XX.wav; keep the original file names"
                    .into(),
                _ => "SAVEE names are SPEAKER_codeNN.wav (e.g. DC_a01.wav) or SPEAKER/codeNN.wav; \
                      keep the speaker folder or prefix"
                    .into(),
            },
            Self::OutputExists { .. } => {
                "choose a new --out directory, or delete the old dataset first".into()
            }
            Self::NoSuchSample { .. } => "use an index below ImageFolder::samples.len()".into(),
            Self::Audio { .. } => "the WAV file is damaged or in an encoding this build does \
                 not read; convert it with `sox in.wav -r 16000 -c 1 -b 16 out.wav`, or remove it"
                .into(),
            Self::ProgramMissing { program, package } => format!(
                "`{program}` must be on PATH (or pass its path in the options); on Debian/Ubuntu: \
                 `apt-get install {package}`"
            ),
            Self::Synthesis { .. } => "check that this espeak-ng has the voice and variant \
                 (`espeak-ng --voices` and `espeak-ng --voices=variant`), or choose fewer \
                 speakers; run the command by hand to see the problem"
                .into(),
            Self::BadArgument(_) => "see `sentio data --help` for the allowed values".into(),
            Self::BadLabels { line: None, .. } => "a scene set is DIR/labels.jsonl (one JSON \
                 line per image) + DIR/images/*.png + DIR/dataset.json; make one with \
                 `sentio data synth scenes --out DIR`, or point --data at such a folder"
                .into(),
            Self::BadLabels { line: Some(_), .. } => "each line of labels.jsonl is \
                 {\"image\": \"images/NAME.png\", \"labels\": [\"blue_sky\", ...]}, naming an \
                 existing image inside the folder and labels of the set (docs/datasets.md); fix \
                 or delete the line, or regenerate the set with `sentio data synth scenes`"
                .into(),
            Self::UnknownLabel { .. } => "name each class folder after one of the model's labels \
                 (its manifest's `labels`), or move the folder out"
                .into(),
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> DataError {
        let path = path.into();
        move |source| DataError::Io {
            action,
            path,
            source,
        }
    }

    pub(crate) fn audio(
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(sentio_audio::AudioError) -> DataError {
        let path = path.into();
        move |source| DataError::Audio { path, source }
    }

    pub(crate) fn image(path: impl Into<PathBuf>) -> impl FnOnce(image::ImageError) -> DataError {
        let path = path.into();
        move |source| DataError::Image { path, source }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_file_and_line() {
        let e = DataError::BadRow {
            path: "fer.csv".into(),
            line: Some(7),
            reason: "2303 pixel values, 2304 expected".into(),
        };
        assert_eq!(e.to_string(), "fer.csv:7: 2303 pixel values, 2304 expected");
        assert!(e.help().contains("--bad-rows skip"));
        let e = DataError::BadRow {
            path: "a/b.png".into(),
            line: None,
            reason: "not an image".into(),
        };
        assert_eq!(e.to_string(), "a/b.png: not an image");
        let e = DataError::BadFileName {
            name: "x.wav".into(),
            dataset: "RAVDESS",
            reason: "1 field, 7 expected".into(),
        };
        assert!(e.to_string().contains("x.wav"));
        assert!(e.help().contains("03-01-06-01-02-01-12.wav"));
    }
}
