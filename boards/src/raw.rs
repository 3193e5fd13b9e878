//! The profile as written: the table structure and TOML types, with spans. serde rejects unknown
//! keys, missing keys and wrong TOML types here; every value check happens in `validate`, which
//! turns these into the plain public types. Integers are read as `i64` and strings as `String` so
//! that ranges and names are checked (and reported) by our own code.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProfile {
    pub board: S<RawBoard>,
    pub cpu: S<RawCpu>,
    pub camera: S<RawCamera>,
    pub audio: S<RawAudio>,
    pub display: S<RawDisplay>,
    pub gpio: Option<S<RawGpio>>,
    pub serial: S<RawSerial>,
    pub runtime: S<RawRuntime>,
    pub models: S<RawModels>,
    pub faces: Option<S<RawFaces>>,
    pub mood: Option<S<RawMood>>,
    pub music: Option<S<RawMusic>>,
    pub pointer: Option<S<RawPointer>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBoard {
    pub name: S<String>,
    pub description: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCpu {
    pub arch: S<String>,
    pub cores: S<i64>,
    pub features: S<Vec<S<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCamera {
    pub driver: S<String>,
    pub device: S<String>,
    pub width: S<i64>,
    pub height: S<i64>,
    pub fps: S<i64>,
    pub pixel_format: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAudio {
    pub driver: S<String>,
    pub capture: S<String>,
    pub playback: S<String>,
    pub rate: S<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDisplay {
    pub driver: S<String>,
    /// Required unless the driver is `none` (checked in `validate`).
    pub width: Option<S<i64>>,
    /// Required unless the driver is `none` (checked in `validate`).
    pub height: Option<S<i64>>,
    /// Defaults to 0.
    pub rotation: Option<S<i64>>,
    pub spi: Option<S<RawSpi>>,
    pub i2c: Option<S<RawI2c>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSpi {
    pub device: S<String>,
    pub speed_hz: S<i64>,
    pub gpio_chip: S<String>,
    pub dc: S<i64>,
    pub reset: S<i64>,
    pub backlight: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawI2c {
    pub device: S<String>,
    pub address: S<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGpio {
    pub chip: S<String>,
    pub button: Option<S<i64>>,
    pub consent: Option<S<bool>>,
    pub next: Option<S<i64>>,
    pub volume_up: Option<S<i64>>,
    pub volume_down: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSerial {
    pub device: S<String>,
    pub baud: S<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRuntime {
    pub threads: S<i64>,
    pub precision: S<String>,
    pub kernels: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawModels {
    pub load: S<Vec<S<String>>>,
    pub dir: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFaces {
    pub detector: Option<S<String>>,
    pub cascade: Option<S<String>>,
    pub model: Option<S<String>>,
    pub scale_factor: Option<S<f64>>,
    pub min_neighbors: Option<S<i64>>,
    pub min_size: Option<S<i64>>,
    pub detect_every: Option<S<i64>>,
    pub downscale: Option<S<i64>>,
}

/// `[mood]`: every key optional; `[mood.fer7]`, `[mood.ser8]`, `[mood.emoji8]` map labels of
/// that set to mood names.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMood {
    pub face_weight: Option<S<f64>>,
    pub voice_weight: Option<S<f64>>,
    pub emoji_weight: Option<S<f64>>,
    pub face_stale_ms: Option<S<i64>>,
    pub voice_stale_ms: Option<S<i64>>,
    pub emoji_stale_ms: Option<S<i64>>,
    pub smoothing_ms: Option<S<i64>>,
    pub hysteresis: Option<S<f64>>,
    pub min_dwell_ms: Option<S<i64>>,
    pub min_confidence: Option<S<f64>>,
    pub idle_mood: Option<S<String>>,
    pub fer7: Option<S<RawOverrides>>,
    pub ser8: Option<S<RawOverrides>>,
    pub emoji8: Option<S<RawOverrides>>,
}

/// Label -> mood name, both with their spans.
pub(crate) type RawOverrides = BTreeMap<S<String>, S<String>>;

/// `[music]`: every key optional (the defaults are `sentio_music::MusicConfig::default()`);
/// `[music.folders]` maps mood labels to paths, both with their spans.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMusic {
    pub folders: Option<S<BTreeMap<S<String>, S<String>>>>,
    pub fallback_mood: Option<S<String>>,
    pub crossfade_ms: Option<S<i64>>,
    pub skip_crossfade_ms: Option<S<i64>>,
    pub min_dwell_ms: Option<S<i64>>,
    pub long_dwell_ms: Option<S<i64>>,
    pub no_repeat: Option<S<i64>>,
    pub seed: Option<S<i64>>,
    pub duck_depth_db: Option<S<f64>>,
    pub duck_attack_ms: Option<S<i64>>,
    pub duck_release_ms: Option<S<i64>>,
    pub target_lufs: Option<S<f64>>,
    pub max_gain_db: Option<S<f64>>,
    pub volume: Option<S<f64>>,
    pub loudness_cache: Option<S<String>>,
}

/// `[pointer]`: `driver` is required once the section is there; which of `strokes` and `device`
/// is required (or refused) depends on it (checked in `validate`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPointer {
    pub driver: S<String>,
    pub strokes: Option<S<String>>,
    pub device: Option<S<String>>,
    pub idle_ms: Option<S<i64>>,
}
