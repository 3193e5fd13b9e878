//! The `[music]` section of a board profile.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::MusicError;

/// What the player plays for each mood and how it mixes. Every key has a default, so an empty
/// `[music]` section is valid (it plays nothing until folders are given).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MusicConfig {
    /// Mood label (`sentio_models::MOOD`) to a folder of tracks (`.ogg`, `.oga`, `.mp3`,
    /// `.flac`, `.wav`; not recursive) or an M3U playlist (`.m3u`, `.m3u8`). Relative paths are
    /// resolved by [`MusicConfig::with_base_dir`].
    pub folders: BTreeMap<String, PathBuf>,
    /// The mood played at start and whenever a mood has no playable track.
    pub fallback_mood: String,
    /// Crossfade at a track boundary and after a long dwell, in ms.
    pub crossfade_ms: u32,
    /// Crossfade on a manual skip, in ms (not longer than `crossfade_ms`).
    pub skip_crossfade_ms: u32,
    /// A mood must hold this long before the player takes any notice of it (flicker filter).
    pub min_dwell_ms: u32,
    /// A mood held this long switches the playing track with a crossfade instead of waiting for
    /// the track's end.
    pub long_dwell_ms: u32,
    /// None of a mood's last N tracks is picked again (fewer if the mood has fewer tracks).
    pub no_repeat: u32,
    /// Seed of the shuffle: the same seed and the same calls give the same tracks.
    pub seed: u64,
    /// How far the music goes down while someone speaks, in dB.
    pub duck_depth_db: f32,
    /// Time to go the whole depth down after speech starts, in ms.
    pub duck_attack_ms: u32,
    /// Time to come the whole depth back up after speech ends, in ms.
    pub duck_release_ms: u32,
    /// Integrated loudness (EBU R128) every track is brought to, in LUFS.
    pub target_lufs: f32,
    /// Largest gain normalization may apply to a quiet track, in dB.
    pub max_gain_db: f32,
    /// Output volume, 0 (silent) to 1 (full scale).
    pub volume: f32,
    /// File where measured loudness is kept between runs (none: measure on every start).
    pub loudness_cache: Option<PathBuf>,
}

impl Default for MusicConfig {
    fn default() -> Self {
        MusicConfig {
            folders: BTreeMap::new(),
            fallback_mood: "neutral".to_string(),
            crossfade_ms: 3000,
            skip_crossfade_ms: 500,
            min_dwell_ms: 2000,
            long_dwell_ms: 60_000,
            no_repeat: 3,
            seed: 0,
            duck_depth_db: 12.0,
            duck_attack_ms: 150,
            duck_release_ms: 800,
            target_lufs: -18.0,
            max_gain_db: 12.0,
            volume: 0.8,
            loudness_cache: None,
        }
    }
}

fn invalid(key: &'static str, value: impl ToString, allowed: impl ToString) -> MusicError {
    MusicError::InvalidConfig {
        key,
        value: value.to_string(),
        allowed: allowed.to_string(),
    }
}

fn check_u32(key: &'static str, value: u32, min: u32, max: u32) -> Result<(), MusicError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(invalid(key, value, format!("{min}..={max}")))
    }
}

fn check_f32(key: &'static str, value: f32, min: f32, max: f32) -> Result<(), MusicError> {
    if value.is_finite() && (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(invalid(key, value, format!("{min}..={max}")))
    }
}

impl MusicConfig {
    /// Checks every key; the error names the key, its value and the allowed range.
    pub fn validate(&self) -> Result<(), MusicError> {
        let moods = sentio_models::MOOD.labels.join(", ");
        for mood in self.folders.keys() {
            if sentio_models::MOOD.index_of(mood).is_none() {
                return Err(invalid("folders", mood, format!("mood labels {moods}")));
            }
        }
        if sentio_models::MOOD.index_of(&self.fallback_mood).is_none() {
            return Err(invalid(
                "fallback_mood",
                &self.fallback_mood,
                format!("one of {moods}"),
            ));
        }
        check_u32("crossfade_ms", self.crossfade_ms, 0, 15_000)?;
        check_u32(
            "skip_crossfade_ms",
            self.skip_crossfade_ms,
            0,
            self.crossfade_ms,
        )
        .map_err(|_| {
            invalid(
                "skip_crossfade_ms",
                self.skip_crossfade_ms,
                format!("0..=crossfade_ms ({})", self.crossfade_ms),
            )
        })?;
        check_u32("min_dwell_ms", self.min_dwell_ms, 0, 60_000)?;
        check_u32("long_dwell_ms", self.long_dwell_ms, 1_000, 3_600_000)?;
        check_u32("no_repeat", self.no_repeat, 0, 1_000)?;
        check_f32("duck_depth_db", self.duck_depth_db, 0.0, 60.0)?;
        check_u32("duck_attack_ms", self.duck_attack_ms, 1, 5_000)?;
        check_u32("duck_release_ms", self.duck_release_ms, 1, 30_000)?;
        check_f32("target_lufs", self.target_lufs, -40.0, -5.0)?;
        check_f32("max_gain_db", self.max_gain_db, 0.0, 30.0)?;
        check_f32("volume", self.volume, 0.0, 1.0)?;
        Ok(())
    }

    /// The same configuration with relative folder, playlist and cache paths taken relative to
    /// `base` (the profile's folder).
    pub fn with_base_dir(mut self, base: &Path) -> Self {
        for path in self.folders.values_mut() {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        }
        if let Some(cache) = &mut self.loudness_cache
            && cache.is_relative()
        {
            *cache = base.join(&*cache);
        }
        self
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid() {
        MusicConfig::default().validate().unwrap();
    }

    #[test]
    fn errors_name_the_key_and_the_allowed_range() {
        let cases: Vec<(MusicConfig, &str)> = vec![
            (
                MusicConfig {
                    crossfade_ms: 20_000,
                    ..Default::default()
                },
                "crossfade_ms = 20000: allowed 0..=15000",
            ),
            (
                MusicConfig {
                    skip_crossfade_ms: 4000,
                    ..Default::default()
                },
                "skip_crossfade_ms = 4000: allowed 0..=crossfade_ms (3000)",
            ),
            (
                MusicConfig {
                    volume: 1.5,
                    ..Default::default()
                },
                "volume = 1.5: allowed 0..=1",
            ),
            (
                MusicConfig {
                    target_lufs: f32::NAN,
                    ..Default::default()
                },
                "target_lufs = NaN: allowed -40..=-5",
            ),
            (
                MusicConfig {
                    fallback_mood: "joyful".into(),
                    ..Default::default()
                },
                "fallback_mood = joyful: allowed one of neutral, happy",
            ),
        ];
        for (config, expected) in cases {
            let err = config.validate().unwrap_err();
            assert!(err.to_string().contains(expected), "{err}");
            let help = miette::Diagnostic::help(&err).map(|h| h.to_string());
            assert!(
                help.is_some_and(|h| h.contains("fix the board profile")),
                "{err}"
            );
        }
    }

    #[test]
    fn a_profile_section_parses_and_unknown_keys_are_refused() {
        let config: MusicConfig = toml::from_str(
            "fallback_mood = \"calm\"\ncrossfade_ms = 4000\n[folders]\nhappy = \"music/happy\"\nsad = \"sad.m3u\"\n",
        )
        .unwrap();
        config.validate().unwrap();
        assert_eq!(config.crossfade_ms, 4000);
        assert_eq!(config.volume, MusicConfig::default().volume);
        let resolved = config.with_base_dir(Path::new("boards/sim"));
        assert_eq!(
            resolved.folders["happy"],
            Path::new("boards/sim/music/happy")
        );
        let err = toml::from_str::<MusicConfig>("crossfade = 4000\n").unwrap_err();
        assert!(
            err.to_string().contains("unknown field `crossfade`"),
            "{err}"
        );
    }
}
