//! `MoodConfig`: the fusion's settings (a profile's `[mood]` section), with their defaults and
//! ranges, and `Modality`: face, voice, emoji.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

use crate::error::MoodError;
use crate::{Mood, MoodTable};

/// Where a reading comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Modality {
    /// The facial-expression model (`fer7` labels).
    Face = 0,
    /// The speech-emotion model (`ser8` labels).
    Voice = 1,
    /// The sketch model (`emoji8` labels).
    Emoji = 2,
}

impl Modality {
    /// Number of modalities.
    pub const COUNT: usize = 3;

    /// Every modality, in index order.
    pub const ALL: [Modality; Modality::COUNT] = [Modality::Face, Modality::Voice, Modality::Emoji];

    /// Index in [`Modality::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// `"face"`, `"voice"`, `"emoji"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Modality::Face => "face",
            Modality::Voice => "voice",
            Modality::Emoji => "emoji",
        }
    }

    /// The label set whose built-in table and `[mood.<set>]` overrides this modality uses.
    pub const fn table_set(self) -> &'static str {
        match self {
            Modality::Face => "fer7",
            Modality::Voice => "ser8",
            Modality::Emoji => "emoji8",
        }
    }

    /// The built-in table of [`Modality::table_set`].
    pub fn builtin_table(self) -> MoodTable {
        match self {
            Modality::Face => MoodTable::fer7(),
            Modality::Voice => MoodTable::ser8(),
            Modality::Emoji => MoodTable::emoji8(),
        }
    }
}

impl core::fmt::Display for Modality {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Settings of the mood fusion; a board profile's `[mood]` section. Every field has a default
/// ([`MoodConfig::default`]); [`MoodConfig::validate`] checks the ranges.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MoodConfig {
    /// How much the face counts, 0 to 10 (default 1.0).
    pub face_weight: f32,
    /// How much the voice counts, 0 to 10 (default 1.0).
    pub voice_weight: f32,
    /// How much a sketch counts, 0 to 10 (default 1.0).
    pub emoji_weight: f32,
    /// A face reading fades out linearly and is gone this long after it (default 2000).
    pub face_stale_ms: u64,
    /// A voice reading fades out linearly and is gone this long after it (default 6000).
    pub voice_stale_ms: u64,
    /// A sketch reading fades out linearly and is gone this long after it (default 5000).
    pub emoji_stale_ms: u64,
    /// Time constant of the exponential smoothing, 0 = none (default 1500).
    pub smoothing_ms: u64,
    /// Margin a challenger's smoothed score must beat the current mood's by, 0 to 0.5
    /// (default 0.1).
    pub hysteresis: f32,
    /// After a change the mood is held at least this long (default 3000).
    pub min_dwell_ms: u64,
    /// A reading whose top score is below this counts for nothing, 0 to 1 (default 0.3).
    pub min_confidence: f32,
    /// The mood the smoothed scores relax to with no fresh evidence (default `"neutral"`).
    pub idle_mood: String,
    /// Overrides of the `fer7` table: label -> mood name.
    pub fer7: BTreeMap<String, String>,
    /// Overrides of the `ser8` table: label -> mood name.
    pub ser8: BTreeMap<String, String>,
    /// Overrides of the `emoji8` table: label -> mood name.
    pub emoji8: BTreeMap<String, String>,
}

impl Default for MoodConfig {
    fn default() -> Self {
        MoodConfig {
            face_weight: 1.0,
            voice_weight: 1.0,
            emoji_weight: 1.0,
            face_stale_ms: 2000,
            voice_stale_ms: 6000,
            emoji_stale_ms: 5000,
            smoothing_ms: 1500,
            hysteresis: 0.1,
            min_dwell_ms: 3000,
            min_confidence: 0.3,
            idle_mood: Mood::Neutral.as_str().to_owned(),
            fer7: BTreeMap::new(),
            ser8: BTreeMap::new(),
            emoji8: BTreeMap::new(),
        }
    }
}

impl MoodConfig {
    /// `face_weight`, `voice_weight`, `emoji_weight` (not all zero).
    pub const WEIGHT_RANGE: RangeInclusive<f32> = 0.0..=10.0;
    /// `face_stale_ms`, `voice_stale_ms`, `emoji_stale_ms`.
    pub const STALE_MS_RANGE: RangeInclusive<u64> = 1..=600_000;
    /// `smoothing_ms`.
    pub const SMOOTHING_MS_RANGE: RangeInclusive<u64> = 0..=600_000;
    /// `hysteresis`.
    pub const HYSTERESIS_RANGE: RangeInclusive<f32> = 0.0..=0.5;
    /// `min_dwell_ms`.
    pub const DWELL_MS_RANGE: RangeInclusive<u64> = 0..=600_000;
    /// `min_confidence`.
    pub const CONFIDENCE_RANGE: RangeInclusive<f32> = 0.0..=1.0;

    /// A help line for each key (what it does and a sensible value), for error messages.
    pub fn key_help(key: &str) -> Option<&'static str> {
        Some(match key {
            "face_weight" | "voice_weight" | "emoji_weight" => {
                "how much this modality counts in the fusion; 1.0 is the default, 0 switches it off"
            }
            "face_stale_ms" => "a face reading is gone this long after it; 2000 is the default",
            "voice_stale_ms" => "a voice reading is gone this long after it; 6000 is the default",
            "emoji_stale_ms" => "a sketch reading is gone this long after it; 5000 is the default",
            "smoothing_ms" => {
                "time constant of the smoothing in ms; 1500 is the default, 0 turns smoothing off"
            }
            "hysteresis" => {
                "margin a new mood's smoothed score must win by; 0.1 is the default, 0 switches on any lead"
            }
            "min_dwell_ms" => "a new mood is held at least this long; 3000 is the default",
            "min_confidence" => {
                "a reading whose top score is below this is ignored; 0.3 is the default"
            }
            "idle_mood" => {
                "the mood shown when there is no fresh evidence; \"neutral\" is the default"
            }
            _ => return None,
        })
    }

    /// The configured weight of `modality`.
    pub fn weight(&self, modality: Modality) -> f32 {
        match modality {
            Modality::Face => self.face_weight,
            Modality::Voice => self.voice_weight,
            Modality::Emoji => self.emoji_weight,
        }
    }

    /// The configured staleness of `modality`, in ms.
    pub fn stale_ms(&self, modality: Modality) -> u64 {
        match modality {
            Modality::Face => self.face_stale_ms,
            Modality::Voice => self.voice_stale_ms,
            Modality::Emoji => self.emoji_stale_ms,
        }
    }

    /// The table overrides `modality` uses (`fer7`, `ser8` or `emoji8`).
    pub fn overrides(&self, modality: Modality) -> &BTreeMap<String, String> {
        match modality {
            Modality::Face => &self.fer7,
            Modality::Voice => &self.ser8,
            Modality::Emoji => &self.emoji8,
        }
    }

    /// The idle mood, checked.
    pub fn idle(&self) -> Result<Mood, MoodError> {
        Mood::from_label(&self.idle_mood).ok_or_else(|| MoodError::UnknownMood {
            setting: "mood.idle_mood".into(),
            mood: self.idle_mood.clone(),
        })
    }

    /// The table of `modality` for a model with `labels` (its manifest's labels, in output
    /// order): the built-in table of [`Modality::table_set`] with this config's overrides.
    pub fn table<L: AsRef<str>>(
        &self,
        modality: Modality,
        labels: &[L],
    ) -> Result<MoodTable, MoodError> {
        MoodTable::from_labels(&modality.builtin_table(), labels, self.overrides(modality))
    }

    /// Checks every value against its range, the idle mood, and the overrides against the
    /// built-in label sets. Returns the first problem.
    pub fn validate(&self) -> Result<(), MoodError> {
        let float = |key: &'static str, value: f32, range: &RangeInclusive<f32>| {
            if value.is_finite() && range.contains(&value) {
                Ok(())
            } else {
                Err(out_of_range(key, value, range.start(), range.end()))
            }
        };
        let int = |key: &'static str, value: u64, range: &RangeInclusive<u64>| {
            if range.contains(&value) {
                Ok(())
            } else {
                Err(out_of_range(key, value, range.start(), range.end()))
            }
        };
        float("face_weight", self.face_weight, &Self::WEIGHT_RANGE)?;
        float("voice_weight", self.voice_weight, &Self::WEIGHT_RANGE)?;
        float("emoji_weight", self.emoji_weight, &Self::WEIGHT_RANGE)?;
        if Modality::ALL.iter().all(|m| self.weight(*m) == 0.0) {
            return Err(MoodError::NoWeight);
        }
        int("face_stale_ms", self.face_stale_ms, &Self::STALE_MS_RANGE)?;
        int("voice_stale_ms", self.voice_stale_ms, &Self::STALE_MS_RANGE)?;
        int("emoji_stale_ms", self.emoji_stale_ms, &Self::STALE_MS_RANGE)?;
        int("smoothing_ms", self.smoothing_ms, &Self::SMOOTHING_MS_RANGE)?;
        float("hysteresis", self.hysteresis, &Self::HYSTERESIS_RANGE)?;
        int("min_dwell_ms", self.min_dwell_ms, &Self::DWELL_MS_RANGE)?;
        float(
            "min_confidence",
            self.min_confidence,
            &Self::CONFIDENCE_RANGE,
        )?;
        self.idle()?;
        for modality in Modality::ALL {
            modality
                .builtin_table()
                .with_overrides(self.overrides(modality))?;
        }
        Ok(())
    }
}

fn out_of_range<T: core::fmt::Display>(key: &'static str, value: T, lo: &T, hi: &T) -> MoodError {
    MoodError::OutOfRange {
        key,
        value: value.to_string(),
        allowed: format!("{lo} to {hi}"),
        help: MoodConfig::key_help(key).unwrap_or("see firmware/mood/README.md"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones_and_valid() {
        let c = MoodConfig::default();
        assert_eq!(
            (c.face_weight, c.voice_weight, c.emoji_weight),
            (1.0, 1.0, 1.0)
        );
        assert_eq!(
            (c.face_stale_ms, c.voice_stale_ms, c.emoji_stale_ms),
            (2000, 6000, 5000)
        );
        assert_eq!((c.smoothing_ms, c.min_dwell_ms), (1500, 3000));
        assert_eq!((c.hysteresis, c.min_confidence), (0.1, 0.3));
        assert_eq!(c.idle_mood, "neutral");
        assert!(c.fer7.is_empty() && c.ser8.is_empty() && c.emoji8.is_empty());
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.idle(), Ok(Mood::Neutral));
    }

    #[test]
    fn every_value_is_range_checked_with_a_clear_message() {
        type Edit = fn(&mut MoodConfig);
        let cases: &[(Edit, &str)] = &[
            (
                |c| c.face_weight = 12.0,
                "mood.face_weight = 12 is out of range (allowed: 0 to 10) | how much this modality counts",
            ),
            (
                |c| c.voice_weight = -1.0,
                "mood.voice_weight = -1 is out of range",
            ),
            (
                |c| c.emoji_weight = f32::NAN,
                "mood.emoji_weight = NaN is out of range",
            ),
            (
                |c| c.face_stale_ms = 0,
                "mood.face_stale_ms = 0 is out of range (allowed: 1 to 600000)",
            ),
            (
                |c| c.voice_stale_ms = 600_001,
                "mood.voice_stale_ms = 600001",
            ),
            (|c| c.emoji_stale_ms = 0, "mood.emoji_stale_ms = 0"),
            (
                |c| c.smoothing_ms = 1_000_000,
                "mood.smoothing_ms = 1000000 is out of range (allowed: 0 to 600000) | time constant",
            ),
            (
                |c| c.hysteresis = 0.6,
                "mood.hysteresis = 0.6 is out of range (allowed: 0 to 0.5)",
            ),
            (|c| c.min_dwell_ms = 700_000, "mood.min_dwell_ms = 700000"),
            (
                |c| c.min_confidence = 1.5,
                "mood.min_confidence = 1.5 is out of range (allowed: 0 to 1)",
            ),
            (
                |c| c.idle_mood = "sleepy".into(),
                "mood.idle_mood: \"sleepy\" is not a mood | use one of: neutral, happy, sad, angry, fearful, surprised, calm",
            ),
            (
                |c| {
                    c.face_weight = 0.0;
                    c.voice_weight = 0.0;
                    c.emoji_weight = 0.0;
                },
                "are all 0, so nothing could ever move the mood",
            ),
            (
                |c| {
                    c.ser8.insert("disgust".into(), "anxious".into());
                },
                "[mood.ser8] disgust: \"anxious\" is not a mood",
            ),
            (
                |c| {
                    c.fer7.insert("contempt".into(), "angry".into());
                },
                "[mood.fer7] overrides \"contempt\", which is not a label of the fer7 model",
            ),
            (
                |c| {
                    c.emoji8.insert("smile".into(), "happy".into());
                },
                "[mood.emoji8] overrides \"smile\"",
            ),
        ];
        for (edit, want) in cases {
            let mut c = MoodConfig::default();
            edit(&mut c);
            let e = c.validate().expect_err(want);
            // The message, then the help line.
            let e = format!("{e} | {}", crate::error::help(&e));
            assert!(e.contains(want), "{want:?} not in {e:?}");
        }
        // Zero weights are fine as long as one is left.
        let c = MoodConfig {
            face_weight: 0.0,
            emoji_weight: 0.0,
            ..MoodConfig::default()
        };
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn modality_tables_use_their_overrides() {
        let mut c = MoodConfig::default();
        c.ser8.insert("calm".into(), "neutral".into());
        let voice = c
            .table(Modality::Voice, sentio_models::SER8.labels)
            .expect("valid");
        assert_eq!(voice.mood_of("calm"), Some(Mood::Neutral));
        let face = c
            .table(Modality::Face, sentio_models::FER7.labels)
            .expect("valid");
        assert_eq!(face, MoodTable::fer7());
        for m in Modality::ALL {
            assert_eq!(Modality::ALL[m.index()], m);
            assert_eq!(m.builtin_table().set(), m.table_set());
        }
    }
}
