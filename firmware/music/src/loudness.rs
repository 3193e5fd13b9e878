//! Integrated loudness (EBU R128) of whole tracks, measured once per file and kept on disk.
//!
//! An entry is keyed by the file's path, length and modification time (and the channel layout
//! it was measured in), so a changed file is measured again. The cache is written atomically
//! (a temporary file in the same folder, synced, then renamed over the old one): a power cut
//! leaves the old cache or the new one, never half of one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use crate::MusicError;
use crate::decode::TrackSource;

/// Integrated loudness of `samples` (interleaved, `channels`, at `rate`) in LUFS; `None` for
/// silence or audio too short to gate (under 400 ms).
pub fn integrated_loudness(samples: &[f32], channels: u32, rate: u32) -> Option<f64> {
    let mut meter = ebur128::EbuR128::new(channels, rate, ebur128::Mode::I).ok()?;
    meter.add_frames_f32(samples).ok()?;
    finite(meter.loudness_global().ok()?)
}

fn finite(lufs: f64) -> Option<f64> {
    lufs.is_finite().then_some(lufs)
}

/// Decodes the whole of `path` (a packet at a time) mixed to `channels` at its own rate and
/// measures its integrated loudness.
pub fn measure_file(path: &Path, channels: usize) -> Result<Option<f64>, MusicError> {
    let mut source = TrackSource::open(path, None, channels)?;
    let mut chunk = Vec::new();
    let mut meter: Option<ebur128::EbuR128> = None;
    while source.decode_more(&mut chunk)? {
        if chunk.is_empty() {
            continue;
        }
        if meter.is_none() {
            meter = Some(
                ebur128::EbuR128::new(channels as u32, source.rate(), ebur128::Mode::I).map_err(
                    |e| MusicError::Decode {
                        path: path.to_path_buf(),
                        reason: format!("cannot measure loudness at {} Hz ({e})", source.rate()),
                    },
                )?,
            );
        }
        if let Some(meter) = &mut meter {
            // The chunk is whole frames of `channels` samples, so this cannot fail.
            let _ = meter.add_frames_f32(&chunk);
        }
        chunk.clear();
    }
    Ok(meter
        .and_then(|m| m.loudness_global().ok())
        .and_then(finite))
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    path: PathBuf,
    len: u64,
    mtime_ns: u64,
    channels: u16,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    path: PathBuf,
    len: u64,
    /// Modification time in ns since 1970.
    mtime_ns: u64,
    /// The channel layout it was measured in (the output's).
    channels: u16,
    /// `None`: silent.
    lufs: Option<f64>,
}

#[derive(Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    tracks: Vec<Entry>,
}

/// Measured loudness by file, optionally kept in a file between runs.
#[derive(Default)]
pub struct LoudnessCache {
    file: Option<PathBuf>,
    entries: BTreeMap<Key, Option<f64>>,
    measurements: usize,
}

impl LoudnessCache {
    /// A cache kept in memory only.
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// The cache kept in `file` (a missing file is an empty cache).
    pub fn load(file: &Path) -> Result<Self, MusicError> {
        let mut cache = LoudnessCache {
            file: Some(file.to_path_buf()),
            ..Default::default()
        };
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(cache),
            Err(source) => {
                return Err(MusicError::Io {
                    action: "read",
                    path: file.to_path_buf(),
                    source,
                });
            }
        };
        let parsed: CacheFile = serde_json::from_str(&text).map_err(|e| MusicError::Cache {
            path: file.to_path_buf(),
            reason: e.to_string(),
        })?;
        if parsed.version != 1 {
            return Err(MusicError::Cache {
                path: file.to_path_buf(),
                reason: format!("version {} (this build reads version 1)", parsed.version),
            });
        }
        cache.entries = parsed
            .tracks
            .into_iter()
            .map(|e| {
                let key = Key {
                    path: e.path,
                    len: e.len,
                    mtime_ns: e.mtime_ns,
                    channels: e.channels,
                };
                (key, e.lufs)
            })
            .collect();
        Ok(cache)
    }

    /// An empty cache that will be written to `file` (replacing an unreadable one).
    pub fn empty_at(file: &Path) -> Self {
        LoudnessCache {
            file: Some(file.to_path_buf()),
            ..Default::default()
        }
    }

    /// How many files this cache has measured (not found in it) since it was made.
    pub fn measurements(&self) -> usize {
        self.measurements
    }

    /// The integrated loudness of `path` mixed to `channels`: from the cache if the file is
    /// unchanged, else measured and written to the cache file.
    pub fn loudness(&mut self, path: &Path, channels: usize) -> Result<Option<f64>, MusicError> {
        let meta = std::fs::metadata(path).map_err(|source| MusicError::Io {
            action: "open",
            path: path.to_path_buf(),
            source,
        })?;
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        let key = Key {
            path: path.to_path_buf(),
            len: meta.len(),
            mtime_ns,
            channels: channels as u16,
        };
        if let Some(lufs) = self.entries.get(&key) {
            return Ok(*lufs);
        }
        let lufs = measure_file(path, channels)?;
        self.measurements += 1;
        // An older entry for the same path (the file changed) goes.
        self.entries
            .retain(|k, _| !(k.path == key.path && k.channels == key.channels));
        self.entries.insert(key, lufs);
        self.save()?;
        Ok(lufs)
    }

    /// Writes the cache file atomically (nothing to do for an in-memory cache).
    pub fn save(&self) -> Result<(), MusicError> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let body = CacheFile {
            version: 1,
            tracks: self
                .entries
                .iter()
                .map(|(key, lufs)| Entry {
                    path: key.path.clone(),
                    len: key.len,
                    mtime_ns: key.mtime_ns,
                    channels: key.channels,
                    lufs: *lufs,
                })
                .collect(),
        };
        let text = serde_json::to_string_pretty(&body).map_err(|e| MusicError::Cache {
            path: file.clone(),
            reason: e.to_string(),
        })?;
        write_atomically(file, text.as_bytes())
    }
}

/// Writes `bytes` to `path` whole or not at all ([`sentio_files::write_bytes_atomically`]),
/// creating its folder first.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), MusicError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|source| MusicError::Io {
        action: "create",
        path: dir.to_path_buf(),
        source,
    })?;
    sentio_files::write_bytes_atomically(path, bytes).map_err(|source| MusicError::Io {
        action: "write",
        path: path.to_path_buf(),
        source,
    })
}
