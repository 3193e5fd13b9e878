//! The layout every speech dataset is stored in, and loading its clips as 16 kHz samples.
//!
//! ```text
//! DIR/dataset.json          DatasetInfo: generator, labels, counts, sample_rate, speakers
//! DIR/<label>/<stem>.wav    16 kHz mono 16-bit WAV, one folder per label
//! ```
//!
//! Each file's speaker comes from its name, by the scheme `dataset.json` names in `file_names`
//! (the sets this crate writes keep their source's naming: RAVDESS-style for generated sets).

use std::path::{Path, PathBuf};

use crate::DataError;
use crate::folder::{DatasetInfo, discover_labels};
use crate::import::{cremad_label, ravdess_label, savee_label, tess_label};

/// The sample rate [`AudioFolder::load`] returns and the writers of this crate use.
pub const SAMPLE_RATE: u32 = 16_000;

/// Audio file extensions [`AudioFolder::open`] picks up (lowercase).
pub const AUDIO_EXTENSIONS: &[&str] = &["wav"];

/// One clip of an [`AudioFolder`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AudioSample {
    /// The WAV file.
    pub path: PathBuf,
    /// Its class index into [`AudioFolder::labels`].
    pub label: usize,
    /// Who speaks (`synth-07`, `ravdess-12`, `tess-OAF`, ...): the group for
    /// [`split::by_group`](crate::split::by_group).
    pub speaker: String,
}

/// A speech dataset in the `DIR/<label>/<stem>.wav` layout.
#[derive(Clone, Debug, PartialEq)]
pub struct AudioFolder {
    /// The dataset folder.
    pub root: PathBuf,
    /// The labels, in class-index order.
    pub labels: Vec<String>,
    /// Every clip, sorted by path.
    pub samples: Vec<AudioSample>,
    /// `dataset.json`, when there is one.
    pub info: Option<DatasetInfo>,
}

/// The speaker of a file by a naming scheme: `synth`, `ravdess`, `tess`, `cremad`, `savee`.
/// `None` when the name does not follow it.
pub fn speaker_of(scheme: &str, file_name: &str) -> Option<String> {
    let parsed = match scheme {
        "synth" => ravdess_label(file_name)
            .ok()
            .map(|(_, s)| s.replace("ravdess-", "synth-")),
        "ravdess" => ravdess_label(file_name).ok().map(|(_, s)| s),
        "tess" => tess_label(file_name).ok().map(|(_, s)| s),
        "cremad" => cremad_label(file_name).ok().map(|(_, s)| s),
        "savee" => savee_label(file_name).ok().map(|(_, s)| s),
        _ => None,
    };
    parsed.filter(|s| !s.is_empty())
}

impl AudioFolder {
    /// Open a speech dataset folder.
    ///
    /// Labels as [`ImageFolder::open`](crate::ImageFolder::open) finds them: the label set
    /// named in `dataset.json` (so `ser8` keeps its order), else the labels listed there, else
    /// the sorted subfolder names. Clips are the `.wav` files directly in each label's folder,
    /// sorted by path. The speaker of each comes from its file name by the scheme in
    /// `dataset.json` (`file_names`); without one, the schemes RAVDESS, CREMA-D, TESS, SAVEE
    /// are tried in that order, and a name none of them parses is its own speaker (its stem),
    /// so a by-speaker split of such a folder is a split by file.
    pub fn open(dir: impl AsRef<Path>) -> Result<AudioFolder, DataError> {
        let root = dir.as_ref().to_path_buf();
        let (info, labels) = discover_labels(&root)?;
        let scheme = info.as_ref().and_then(|i| i.file_names.clone());
        let mut samples = Vec::new();
        for (label, name) in labels.iter().enumerate() {
            let folder = root.join(name);
            if !folder.is_dir() {
                continue;
            }
            for path in audio_files(&folder)? {
                let file = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let speaker = match &scheme {
                    Some(scheme) => speaker_of(scheme, &file),
                    None => ["ravdess", "cremad", "tess", "savee"]
                        .iter()
                        .find_map(|s| speaker_of(s, &file)),
                }
                .unwrap_or_else(|| {
                    path.file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default()
                });
                samples.push(AudioSample {
                    path,
                    label,
                    speaker,
                });
            }
        }
        if samples.is_empty() {
            return Err(DataError::NotADataset {
                path: root,
                reason: "no .wav files in any label folder".into(),
            });
        }
        samples.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(AudioFolder {
            root,
            labels,
            samples,
            info,
        })
    }

    /// The class index of every clip, in sample order (what [`crate::split`] takes).
    pub fn targets(&self) -> Vec<usize> {
        self.samples.iter().map(|s| s.label).collect()
    }

    /// The speaker of every clip, in sample order (the groups of
    /// [`split::by_group`](crate::split::by_group)).
    pub fn speakers(&self) -> Vec<String> {
        self.samples.iter().map(|s| s.speaker.clone()).collect()
    }

    /// Clips per class, parallel to `labels`.
    pub fn counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.labels.len()];
        for s in &self.samples {
            if let Some(c) = counts.get_mut(s.label) {
                *c += 1;
            }
        }
        counts
    }

    /// Clip `i` as mono samples in -1..1 at [`SAMPLE_RATE`] (channels averaged, other rates
    /// resampled).
    pub fn load(&self, i: usize) -> Result<Vec<f32>, DataError> {
        let sample = self.samples.get(i).ok_or_else(|| DataError::NoSuchSample {
            root: self.root.clone(),
            index: i,
            len: self.samples.len(),
        })?;
        read_16k(&sample.path)
    }
}

/// Read any WAV `sentio-audio` decodes as mono at [`SAMPLE_RATE`].
pub(crate) fn read_16k(path: &Path) -> Result<Vec<f32>, DataError> {
    let audio = sentio_audio::read_wav(path).map_err(DataError::audio(path))?;
    Ok(if audio.sample_rate == SAMPLE_RATE {
        audio.samples
    } else {
        sentio_audio::resample(&audio.samples, audio.sample_rate, SAMPLE_RATE)
    })
}

/// Sorted, non-hidden `.wav` files directly in `dir`.
fn audio_files(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let entries = std::fs::read_dir(dir).map_err(DataError::io("cannot read", dir))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(DataError::io("cannot read", dir))?.path();
        let is_audio = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if is_audio && !hidden && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}
