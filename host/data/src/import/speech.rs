//! The speech-emotion sets (RAVDESS, TESS, CREMA-D, SAVEE) as they are distributed, converted
//! to 16 kHz mono 16-bit WAV in the [`AudioFolder`](crate::AudioFolder) layout.
//!
//! Each importer walks the whole source tree (any folder nesting: `Actor_01/...`,
//! `AudioWAV/...`, `AudioData/DC/...`), takes every non-hidden `.wav` file, reads its label and
//! speaker from the name with the dataset's label function, and writes
//! `out/<ser8 label>/<stem>.wav`, keeping the original stem (SAVEE's `DC/a01.wav` becomes
//! `DC_a01.wav`) so [`speaker_of`](crate::speaker_of) reads the speaker back. Other files
//! (videos, READMEs) are ignored. A name the label function rejects and a WAV that does not
//! decode are bad files: listed and skipped, or fatal, as [`BadRows`] says. Two source files
//! that would get the same name are a bad file too, unless their bytes are identical (some
//! redistributions hold a set twice in nested folders), in which case the copy is silently
//! left out.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sentio_models::labels::SER8;

use super::{BadRows, ImportReport, SkippedRow};
use super::{cremad_label, ravdess_label, savee_label, tess_label};
use crate::DataError;
use crate::audiofolder::{SAMPLE_RATE, read_16k};
use crate::folder::{DatasetInfo, INFO_VERSION, SpeakerInfo, Staging};

/// How one dataset names its files.
struct Scheme {
    /// `file_names` in `dataset.json`, and the importer's name.
    name: &'static str,
    /// File name (or `folder/file` for SAVEE) -> (ser8 class, speaker).
    label: fn(&str) -> Result<(usize, String), DataError>,
}

/// The speech sets this module imports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SpeechSet {
    /// RAVDESS, `Actor_XX/03-01-EE-II-SS-RR-AA.wav`.
    Ravdess,
    /// TESS, `OAF_angry/OAF_back_angry.wav`.
    Tess,
    /// CREMA-D, `AudioWAV/1001_DFA_ANG_XX.wav`.
    Cremad,
    /// SAVEE, `AudioData/DC/a01.wav` or `DC_a01.wav`.
    Savee,
}

impl SpeechSet {
    /// Every set, in the order the CLI lists them.
    pub const ALL: [SpeechSet; 4] = [
        SpeechSet::Ravdess,
        SpeechSet::Tess,
        SpeechSet::Cremad,
        SpeechSet::Savee,
    ];

    /// The name the CLI and `dataset.json` (`file_names`) use: `ravdess`, `tess`, `cremad`,
    /// `savee`.
    pub fn name(self) -> &'static str {
        self.scheme().name
    }

    /// The set called `name` (as [`SpeechSet::name`] spells it, any case).
    pub fn from_name(name: &str) -> Option<SpeechSet> {
        Self::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }

    fn scheme(self) -> Scheme {
        match self {
            SpeechSet::Ravdess => Scheme {
                name: "ravdess",
                label: ravdess_label,
            },
            SpeechSet::Tess => Scheme {
                name: "tess",
                label: tess_label,
            },
            SpeechSet::Cremad => Scheme {
                name: "cremad",
                label: cremad_label,
            },
            SpeechSet::Savee => Scheme {
                name: "savee",
                label: savee_label,
            },
        }
    }
}

/// Import RAVDESS (`Actor_XX/03-01-EE-II-SS-RR-AA.wav`, speech and song) into `out`.
pub fn ravdess(src: &Path, out: &Path, policy: BadRows) -> Result<ImportReport, DataError> {
    speech(SpeechSet::Ravdess, src, out, policy, &mut |_, _| {})
}

/// Import TESS (`OAF_angry/OAF_back_angry.wav`, any folders) into `out`.
pub fn tess(src: &Path, out: &Path, policy: BadRows) -> Result<ImportReport, DataError> {
    speech(SpeechSet::Tess, src, out, policy, &mut |_, _| {})
}

/// Import CREMA-D (`AudioWAV/1001_DFA_ANG_XX.wav`) into `out`.
pub fn cremad(src: &Path, out: &Path, policy: BadRows) -> Result<ImportReport, DataError> {
    speech(SpeechSet::Cremad, src, out, policy, &mut |_, _| {})
}

/// Import SAVEE (`AudioData/DC/a01.wav` or `DC_a01.wav`) into `out`; files are named
/// `SPEAKER_codeNN.wav` in the output either way.
pub fn savee(src: &Path, out: &Path, policy: BadRows) -> Result<ImportReport, DataError> {
    speech(SpeechSet::Savee, src, out, policy, &mut |_, _| {})
}

/// Import any of the speech sets. `progress(done, total)` is called with `(0, total)` once the
/// `.wav` files are found, then after each (imported, skipped or left out as a copy).
pub fn speech(
    set: SpeechSet,
    src: &Path,
    out: &Path,
    policy: BadRows,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ImportReport, DataError> {
    import(src, out, policy, &set.scheme(), progress)
}

/// The name the label function reads: `folder/file` (SAVEE's original layout needs the
/// folder; the others ignore it).
fn label_name(path: &Path) -> String {
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match path.parent().and_then(|p| p.file_name()) {
        Some(folder) => format!("{}/{file}", folder.to_string_lossy()),
        None => file,
    }
}

/// The output stem: the source stem, prefixed with the speaker for SAVEE's `DC/a01.wav`.
fn out_stem(scheme: &Scheme, path: &Path, speaker: &str) -> String {
    let stem = path
        .file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if scheme.name == "savee" && !stem.contains('_') {
        format!("{}_{stem}", speaker.trim_start_matches("savee-"))
    } else {
        stem
    }
}

fn import(
    src: &Path,
    out: &Path,
    policy: BadRows,
    scheme: &Scheme,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ImportReport, DataError> {
    if !src.is_dir() {
        return Err(DataError::NotADataset {
            path: src.to_path_buf(),
            reason: format!(
                "not a folder; pass the folder the {} files are in",
                scheme.name
            ),
        });
    }
    let mut files = Vec::new();
    collect_wavs(src, &mut files)?;
    files.sort();

    let staging = Staging::begin(out)?;
    let labels: Vec<String> = SER8.labels.iter().map(|l| l.to_string()).collect();
    staging.make_label_dirs(&labels)?;
    let mut per_class = vec![0usize; labels.len()];
    let mut speakers: BTreeMap<String, usize> = BTreeMap::new();
    let mut written: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut skipped = Vec::new();
    let mut imported = 0;
    let total = files.len();
    for (done, file) in files.into_iter().enumerate() {
        progress(done, total);
        let mut bad = |reason: String| -> Result<(), DataError> {
            match policy {
                BadRows::Fail => Err(DataError::BadRow {
                    path: file.clone(),
                    line: None,
                    reason,
                }),
                BadRows::Skip => {
                    skipped.push(SkippedRow {
                        path: file.clone(),
                        line: None,
                        reason,
                    });
                    Ok(())
                }
            }
        };
        let (class, speaker) = match (scheme.label)(&label_name(&file)) {
            Ok(found) => found,
            Err(e) => {
                bad(match e {
                    DataError::BadFileName {
                        dataset, reason, ..
                    } => format!("not a {dataset} file name ({reason})"),
                    other => other.to_string(),
                })?;
                continue;
            }
        };
        let Some(label) = labels.get(class) else {
            bad(format!("class {class} is not in ser8"))?;
            continue;
        };
        let stem = out_stem(scheme, &file, &speaker);
        if let Some(first) = written.get(&stem) {
            let same = match (std::fs::read(first), std::fs::read(&file)) {
                (Ok(a), Ok(b)) => a == b,
                _ => false,
            };
            if !same {
                bad(format!(
                    "its name {stem}.wav is taken by {} (a different recording)",
                    first.display()
                ))?;
            }
            continue;
        }
        let samples = match read_16k(&file) {
            Ok(samples) if samples.is_empty() => {
                bad("the WAV file holds no samples".into())?;
                continue;
            }
            Ok(samples) => samples,
            Err(e) => {
                bad(match e {
                    DataError::Audio { source, .. } => source.to_string(),
                    other => other.to_string(),
                })?;
                continue;
            }
        };
        let path = staging.path().join(label).join(format!("{stem}.wav"));
        sentio_audio::write_wav(&path, &samples, SAMPLE_RATE).map_err(DataError::audio(&path))?;
        written.insert(stem, file.clone());
        per_class[class] += 1;
        *speakers.entry(speaker).or_default() += 1;
        imported += 1;
    }
    progress(total, total);
    if imported == 0 {
        return Err(DataError::NotADataset {
            path: src.to_path_buf(),
            reason: format!("no {} WAV files found ({} bad)", scheme.name, skipped.len()),
        });
    }
    let info = DatasetInfo {
        version: INFO_VERSION,
        generator: format!(
            "sentio-data {} import {}",
            env!("CARGO_PKG_VERSION"),
            scheme.name
        ),
        label_set: SER8.name.to_string(),
        labels,
        image_size: None,
        per_class,
        seed: None,
        source: Some(src.display().to_string()),
        usage: Vec::new(),
        skipped: skipped.len(),
        sample_rate: Some(SAMPLE_RATE),
        file_names: Some(scheme.name.to_string()),
        speakers: speakers
            .into_iter()
            .map(|(id, utterances)| SpeakerInfo {
                id,
                utterances,
                voice: None,
            })
            .collect(),
    };
    let root = staging.finish(&info)?;
    Ok(ImportReport {
        root,
        info,
        imported,
        skipped,
    })
}

/// Every non-hidden `.wav` file under `dir`, recursively.
fn collect_wavs(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), DataError> {
    for entry in std::fs::read_dir(dir).map_err(DataError::io("cannot read", dir))? {
        let path = entry.map_err(DataError::io("cannot read", dir))?.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            collect_wavs(&path, files)?;
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("wav"))
        {
            files.push(path);
        }
    }
    Ok(())
}
