//! [`BaselineError`]: every failure says what is wrong with which input, and
//! [`help`](BaselineError::help) says what to do about it.

use std::path::PathBuf;

/// An error of this crate.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// A dataset, part of a split or list of models holds nothing.
    #[error("{what} is empty")]
    Empty {
        /// What is empty ("the dataset", "the training part", ...).
        what: &'static str,
    },
    /// Two lengths that must agree do not (rows of a matrix, labels and rows, ...).
    #[error("{what}: {found}, expected {expected}")]
    Mismatch {
        /// What was compared.
        what: String,
        /// The length required.
        expected: usize,
        /// The length found.
        found: usize,
    },
    /// A sample's class index is not below the number of labels.
    #[error("sample {row} has class {class}, but there are only {classes} labels")]
    LabelOutOfRange {
        /// The sample.
        row: usize,
        /// Its class index.
        class: usize,
        /// The number of labels.
        classes: usize,
    },
    /// A feature value is NaN or infinite.
    #[error("sample {row}, feature {column} is {value} (not a finite number)")]
    NonFinite {
        /// The sample.
        row: usize,
        /// The feature.
        column: usize,
        /// The value found.
        value: f32,
    },
    /// A split names a sample the dataset does not have.
    #[error("the {part} part names sample {index}, the dataset has {len}")]
    IndexOutOfRange {
        /// `train` or `test`.
        part: &'static str,
        /// The index.
        index: usize,
        /// The number of samples.
        len: usize,
    },
    /// A sample is in both the training and the test part.
    #[error("sample {index} is in both the training and the test part")]
    Overlap {
        /// The sample.
        index: usize,
    },
    /// An option is out of its range.
    #[error("option `{name}` = {value}: {reason}")]
    BadOption {
        /// The option (`svm.c`, `hog.cell`, ...).
        name: &'static str,
        /// Its value, as text.
        value: String,
        /// The allowed range.
        reason: &'static str,
    },
    /// An image is too small for the feature asked for.
    #[error("image {width}x{height} is too small: {reason}")]
    ImageTooSmall {
        /// Its width.
        width: u32,
        /// Its height.
        height: u32,
        /// What it must at least be.
        reason: String,
    },
    /// An image file could not be read or decoded.
    #[error("image {}: {source}", path.display())]
    Image {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: image::ImageError,
    },
    /// A speech clip could not be turned into features.
    #[error("audio {}: {reason}", path.display())]
    Audio {
        /// The clip (or the folder, for a bad feature configuration).
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Opening a dataset folder failed.
    #[error(transparent)]
    Data(#[from] sentio_data::DataError),
}

impl miette::Diagnostic for BaselineError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        // The first segment is the kind of failure, which picks the binaries' exit code.
        let code = match self {
            Self::Empty { .. } => "data::baseline::empty",
            Self::Mismatch { .. } => "data::baseline::mismatch",
            Self::LabelOutOfRange { .. } => "data::baseline::label_out_of_range",
            Self::NonFinite { .. } => "data::baseline::non_finite",
            Self::IndexOutOfRange { .. } => "data::baseline::index_out_of_range",
            Self::Overlap { .. } => "data::baseline::overlap",
            Self::BadOption { .. } => "data::baseline::bad_option",
            Self::ImageTooSmall { .. } => "data::baseline::image_too_small",
            Self::Image { .. } => "data::baseline::image",
            Self::Audio { .. } => "data::baseline::audio",
            Self::Data { .. } => "data::baseline::data",
        };
        Some(Box::new(code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(self.help())
            .filter(|h| !h.is_empty())
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display + 'a>)
    }
}

impl BaselineError {
    /// What the user can do about it.
    pub fn help(&self) -> String {
        match self {
            Self::Empty { .. } => "give at least one sample in the dataset and in each part of \
                 the split, and at least one model in Options::models"
                .into(),
            Self::Mismatch { .. } => "every sample needs one label and the same number of \
                 features; check how the feature rows were built"
                .into(),
            Self::LabelOutOfRange { .. } => {
                "class indices index the label list: add the missing labels, or fix the targets"
                    .into()
            }
            Self::NonFinite { .. } => "the features hold a NaN or infinity: fix the feature \
                 extraction (e.g. a division by zero on silent audio), or drop the sample"
                .into(),
            Self::IndexOutOfRange { .. } => {
                "the split was made for another dataset: make it from this dataset's targets \
                 (sentio_data::split::stratified or by_group)"
                    .into()
            }
            Self::Overlap { .. } => "a sample in both parts leaks the test set into training: \
                 use a split whose parts are disjoint"
                .into(),
            Self::BadOption { .. } => "see the documentation of sentio_baseline::Options for \
                 the allowed values, or start from Options::default()"
                .into(),
            Self::ImageTooSmall { .. } => "resize the images first (FeatureKind::Hog's `side`), \
                 or use smaller HOG cells"
                .into(),
            Self::Image { .. } => "the file is damaged or in a format this build cannot read \
                 (PNG and JPEG are supported); re-export it, or remove it"
                .into(),
            Self::Audio { .. } => "the clip must be a readable mono WAV with at least a few \
                 tens of milliseconds of sound at the feature rate; re-export it or remove it"
                .into(),
            Self::Data(e) => e.help(),
        }
    }

    pub(crate) fn bad_option(
        name: &'static str,
        value: impl std::fmt::Display,
        reason: &'static str,
    ) -> BaselineError {
        BaselineError::BadOption {
            name,
            value: value.to_string(),
            reason,
        }
    }
}
