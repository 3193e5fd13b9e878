//! Importers for the public datasets' formats, into the project's
//! [`ImageFolder`](crate::ImageFolder) layout (FER2013, image folders) and
//! [`AudioFolder`](crate::AudioFolder) layout (RAVDESS, TESS, CREMA-D, SAVEE, with the mapping
//! from their file names to `ser8` labels and speakers; see `docs/datasets.md` for every
//! table).
//!
//! Every importer writes into a hidden staging folder beside `out` and renames it into place
//! only when it succeeds, so a failed import leaves nothing behind and never a half dataset.

mod audio;
mod fer2013;
mod imagefolder;
mod speech;

use std::fmt;
use std::path::PathBuf;

pub use audio::{cremad_label, ravdess_label, savee_label, tess_label};
pub use fer2013::{FER2013_USAGES, fer2013, fer2013_usage};
pub use imagefolder::imagefolder;
pub use speech::{SpeechSet, cremad, ravdess, savee, speech, tess};

use crate::folder::DatasetInfo;

/// What to do with a malformed row or file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum BadRows {
    /// Import the rest and list the bad ones in the report.
    #[default]
    Skip,
    /// Stop at the first bad one; nothing is written.
    Fail,
}

/// A row or file left out of an import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedRow {
    /// The CSV or image file.
    pub path: PathBuf,
    /// The 1-based line in a CSV (the header is line 1); `None` for image files.
    pub line: Option<usize>,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for SkippedRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.reason),
            None => write!(f, "{}: {}", self.path.display(), self.reason),
        }
    }
}

/// What an import did.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportReport {
    /// The dataset folder written.
    pub root: PathBuf,
    /// Its `dataset.json`.
    pub info: DatasetInfo,
    /// Images (or audio files) written.
    pub imported: usize,
    /// Rows or files left out (only with [`BadRows::Skip`]).
    pub skipped: Vec<SkippedRow>,
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "imported {} {} into {} (label set {})",
            self.imported,
            if self.info.sample_rate.is_some() {
                "audio files"
            } else {
                "images"
            },
            self.root.display(),
            self.info.label_set
        )?;
        for (label, count) in self.info.labels.iter().zip(&self.info.per_class) {
            writeln!(f, "  {label:<18} {count:>7}")?;
        }
        if !self.info.usage.is_empty() {
            let parts: Vec<String> = self
                .info
                .usage
                .iter()
                .map(|(usage, n)| format!("{usage} {n}"))
                .collect();
            writeln!(f, "  usage: {}", parts.join(", "))?;
        }
        if !self.info.speakers.is_empty() {
            writeln!(f, "  {} speakers", self.info.speakers.len())?;
        }
        if !self.skipped.is_empty() {
            writeln!(f, "skipped {} malformed:", self.skipped.len())?;
            for row in &self.skipped {
                writeln!(f, "  {row}")?;
            }
        }
        Ok(())
    }
}
