//! `MoodTable`: which mood each output label of a model counts for.

use std::collections::BTreeMap;

use sentio_models::{EMOJI8, FER7, LabelSet, SER8};

use crate::Mood;
use crate::error::MoodError;

/// Largest amount a score may exceed 1 by (float rounding of a softmax) before it is refused.
const SCORE_SLACK: f32 = 1e-3;

/// The built-in moods of `fer7`, in `FER7` order.
const FER7_MOODS: [Mood; 7] = [
    Mood::Angry,     // angry
    Mood::Angry,     // disgust
    Mood::Fearful,   // fear
    Mood::Happy,     // happy
    Mood::Sad,       // sad
    Mood::Surprised, // surprise
    Mood::Neutral,   // neutral
];

/// The built-in moods of `ser8`, in `SER8` order.
const SER8_MOODS: [Mood; 8] = [
    Mood::Neutral,   // neutral
    Mood::Calm,      // calm
    Mood::Happy,     // happy
    Mood::Sad,       // sad
    Mood::Angry,     // angry
    Mood::Fearful,   // fearful
    Mood::Angry,     // disgust
    Mood::Surprised, // surprised
];

/// The built-in moods of `emoji8`, in `EMOJI8` order.
const EMOJI8_MOODS: [Mood; 8] = [
    Mood::Happy,   // slightly_smiling
    Mood::Happy,   // heart_eyes
    Mood::Neutral, // neutral
    Mood::Angry,   // angry
    Mood::Happy,   // tears_of_joy
    Mood::Happy,   // winking
    Mood::Happy,   // tongue_out
    Mood::Sad,     // frowning
];

/// An explicit table from one model's output labels into [`Mood`]: label `i` of the model
/// counts for `moods()[i]`.
#[derive(Clone, Debug, PartialEq)]
pub struct MoodTable {
    set: String,
    labels: Vec<String>,
    moods: Vec<Mood>,
}

impl MoodTable {
    /// The names of the sets with a built-in table (the `[mood.<set>]` override tables).
    pub const BUILTIN_SETS: [&'static str; 3] = ["fer7", "ser8", "emoji8"];

    fn from_builtin(set: &LabelSet, moods: &[Mood]) -> MoodTable {
        MoodTable {
            set: set.name.to_owned(),
            labels: set.labels.iter().map(|l| (*l).to_owned()).collect(),
            moods: moods.to_vec(),
        }
    }

    /// Faces: angry, disgust -> angry; fear -> fearful; happy; sad; surprise -> surprised;
    /// neutral.
    pub fn fer7() -> MoodTable {
        MoodTable::from_builtin(&FER7, &FER7_MOODS)
    }

    /// Speech: neutral, calm, happy, sad, angry, fearful as themselves; disgust -> angry;
    /// surprised.
    pub fn ser8() -> MoodTable {
        MoodTable::from_builtin(&SER8, &SER8_MOODS)
    }

    /// Sketches: slightly_smiling, heart_eyes, tears_of_joy, winking, tongue_out -> happy;
    /// neutral; angry; frowning -> sad.
    pub fn emoji8() -> MoodTable {
        MoodTable::from_builtin(&EMOJI8, &EMOJI8_MOODS)
    }

    /// The built-in table of the set called `set` (`fer7`, `ser8`, `emoji8`).
    pub fn builtin(set: &str) -> Option<MoodTable> {
        match set {
            "fer7" => Some(MoodTable::fer7()),
            "ser8" => Some(MoodTable::ser8()),
            "emoji8" => Some(MoodTable::emoji8()),
            _ => None,
        }
    }

    /// The table for a model whose outputs are `labels` (as its manifest lists them, in output
    /// order): each label takes its mood from `overrides` (label -> mood name, as written in a
    /// profile) or else from `defaults` (one of the built-in tables, matched by label name, so the
    /// model may order or subset the labels as it likes). The result is named after `defaults`.
    ///
    /// Errors: an override for a label not in `labels` ([`MoodError::UnknownLabel`]), an
    /// override naming no mood ([`MoodError::UnknownMood`]), a label with neither
    /// ([`MoodError::UnmappedLabel`]), an empty or repeating label list
    /// ([`MoodError::BadLabels`]).
    pub fn from_labels<L: AsRef<str>>(
        defaults: &MoodTable,
        labels: &[L],
        overrides: &BTreeMap<String, String>,
    ) -> Result<MoodTable, MoodError> {
        let set = defaults.set.clone();
        let labels: Vec<String> = labels.iter().map(|l| l.as_ref().to_owned()).collect();
        if labels.is_empty() {
            return Err(MoodError::BadLabels {
                table: set,
                problem: "is empty".into(),
            });
        }
        for (i, label) in labels.iter().enumerate() {
            if labels[..i].contains(label) {
                return Err(MoodError::BadLabels {
                    table: set,
                    problem: format!("names {label:?} twice"),
                });
            }
        }
        let mut overridden: BTreeMap<&str, Mood> = BTreeMap::new();
        for (label, mood) in overrides {
            if !labels.contains(label) {
                return Err(MoodError::UnknownLabel {
                    table: set,
                    label: label.clone(),
                    labels,
                });
            }
            let Some(m) = Mood::from_label(mood) else {
                return Err(MoodError::UnknownMood {
                    setting: format!("[mood.{set}] {label}"),
                    mood: mood.clone(),
                });
            };
            overridden.insert(label, m);
        }
        let mut moods = Vec::with_capacity(labels.len());
        for label in &labels {
            match overridden
                .get(label.as_str())
                .copied()
                .or_else(|| defaults.mood_of(label))
            {
                Some(m) => moods.push(m),
                None => {
                    return Err(MoodError::UnmappedLabel {
                        table: set,
                        label: label.clone(),
                    });
                }
            }
        }
        Ok(MoodTable { set, labels, moods })
    }

    /// This table with `overrides` applied (same labels, same order).
    pub fn with_overrides(
        &self,
        overrides: &BTreeMap<String, String>,
    ) -> Result<MoodTable, MoodError> {
        MoodTable::from_labels(self, &self.labels, overrides)
    }

    /// The name of the table (`fer7`, ...).
    pub fn set(&self) -> &str {
        &self.set
    }

    /// The model's labels, in output order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The mood of each label, in output order.
    pub fn moods(&self) -> &[Mood] {
        &self.moods
    }

    /// The mood `label` counts for, if the table has that label.
    pub fn mood_of(&self, label: &str) -> Option<Mood> {
        let i = self.labels.iter().position(|l| l == label)?;
        self.moods.get(i).copied()
    }

    /// The number of labels.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the table has no labels (never true for a table this crate builds).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Sums each label's score into its mood. `scores` are the model's outputs in label order,
    /// each a probability (0 to 1).
    pub fn project(&self, scores: &[f32]) -> Result<[f32; Mood::COUNT], MoodError> {
        self.check_scores(&format!("{} scores", self.set), scores)?;
        Ok(self.project_unchecked(scores))
    }

    /// Checks that `scores` fit this table: one per label, each a finite probability.
    pub(crate) fn check_scores(&self, source_name: &str, scores: &[f32]) -> Result<(), MoodError> {
        if scores.len() != self.labels.len() {
            return Err(MoodError::ScoreCount {
                source_name: source_name.to_owned(),
                got: scores.len(),
                want: self.labels.len(),
                labels: self.labels.clone(),
            });
        }
        for (index, (value, label)) in scores.iter().zip(&self.labels).enumerate() {
            if !(0.0..=1.0 + SCORE_SLACK).contains(value) {
                return Err(MoodError::BadScore {
                    source_name: source_name.to_owned(),
                    index,
                    label: label.clone(),
                    value: *value,
                });
            }
        }
        Ok(())
    }

    pub(crate) fn project_unchecked(&self, scores: &[f32]) -> [f32; Mood::COUNT] {
        let mut out = [0.0; Mood::COUNT];
        for (score, mood) in scores.iter().zip(&self.moods) {
            out[mood.index()] += score;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn every_label_of_every_builtin_set_maps() {
        for set in sentio_models::labels::ALL {
            if set.name == "mood" {
                continue;
            }
            let table = MoodTable::builtin(set.name)
                .unwrap_or_else(|| panic!("no built-in table for {}", set.name));
            assert!(MoodTable::BUILTIN_SETS.contains(&set.name));
            assert_eq!(table.set(), set.name);
            assert_eq!(table.labels(), set.labels, "{}", set.name);
            assert_eq!(table.moods().len(), set.len());
            for label in set.labels {
                assert!(table.mood_of(label).is_some(), "{}: {label}", set.name);
            }
            // Built from the set's own labels with no overrides, the table is the same.
            let rebuilt = MoodTable::from_labels(&table, set.labels, &BTreeMap::new())
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(rebuilt, table);
        }
        assert_eq!(MoodTable::builtin("mood"), None);
        assert_eq!(MoodTable::builtin("FER7"), None);
    }

    #[test]
    fn builtin_tables_are_the_designed_ones() {
        let fer7 = MoodTable::fer7();
        let expect = [
            ("angry", Mood::Angry),
            ("disgust", Mood::Angry),
            ("fear", Mood::Fearful),
            ("happy", Mood::Happy),
            ("sad", Mood::Sad),
            ("surprise", Mood::Surprised),
            ("neutral", Mood::Neutral),
        ];
        for (label, mood) in expect {
            assert_eq!(fer7.mood_of(label), Some(mood), "fer7 {label}");
        }
        let ser8 = MoodTable::ser8();
        let expect = [
            ("neutral", Mood::Neutral),
            ("calm", Mood::Calm),
            ("happy", Mood::Happy),
            ("sad", Mood::Sad),
            ("angry", Mood::Angry),
            ("fearful", Mood::Fearful),
            ("disgust", Mood::Angry),
            ("surprised", Mood::Surprised),
        ];
        for (label, mood) in expect {
            assert_eq!(ser8.mood_of(label), Some(mood), "ser8 {label}");
        }
        let emoji8 = MoodTable::emoji8();
        let expect = [
            ("slightly_smiling", Mood::Happy),
            ("heart_eyes", Mood::Happy),
            ("neutral", Mood::Neutral),
            ("angry", Mood::Angry),
            ("tears_of_joy", Mood::Happy),
            ("winking", Mood::Happy),
            ("tongue_out", Mood::Happy),
            ("frowning", Mood::Sad),
        ];
        for (label, mood) in expect {
            assert_eq!(emoji8.mood_of(label), Some(mood), "emoji8 {label}");
        }
    }

    #[test]
    fn overrides_replace_the_default_and_follow_the_model_order() {
        // A model listing a subset of fer7 in its own order.
        let labels = ["neutral", "disgust", "happy"];
        let t = MoodTable::from_labels(&MoodTable::fer7(), &labels, &map(&[("disgust", "sad")]))
            .expect("valid");
        assert_eq!(t.set(), "fer7");
        assert_eq!(t.labels(), ["neutral", "disgust", "happy"]);
        assert_eq!(t.moods(), [Mood::Neutral, Mood::Sad, Mood::Happy]);
        let with = MoodTable::ser8()
            .with_overrides(&map(&[("calm", "neutral")]))
            .expect("valid");
        assert_eq!(with.mood_of("calm"), Some(Mood::Neutral));
        assert_eq!(with.mood_of("disgust"), Some(Mood::Angry));
    }

    #[test]
    fn a_label_with_no_mood_is_an_error_naming_it_and_the_fix() {
        let labels = ["happy", "contempt"];
        let e = MoodTable::from_labels(&MoodTable::fer7(), &labels, &BTreeMap::new())
            .expect_err("contempt has no mood");
        assert_eq!(
            e,
            MoodError::UnmappedLabel {
                table: "fer7".into(),
                label: "contempt".into()
            }
        );
        assert_eq!(
            e.to_string(),
            "label \"contempt\" of the fer7 model maps to no mood"
        );
        assert_eq!(
            crate::error::help(&e),
            "add `contempt = \"<mood>\"` under [mood.fer7] (valid moods: neutral, happy, sad, angry, fearful, surprised, calm)"
        );
        // The override fixes it.
        let t = MoodTable::from_labels(&MoodTable::fer7(), &labels, &map(&[("contempt", "angry")]))
            .expect("mapped");
        assert_eq!(t.moods(), [Mood::Happy, Mood::Angry]);
    }

    #[test]
    fn an_override_naming_no_mood_is_an_error_listing_the_moods() {
        let e = MoodTable::ser8()
            .with_overrides(&map(&[("disgust", "anxious")]))
            .expect_err("anxious is not a mood");
        assert_eq!(
            e.to_string(),
            "[mood.ser8] disgust: \"anxious\" is not a mood"
        );
        assert_eq!(
            crate::error::help(&e),
            "use one of: neutral, happy, sad, angry, fearful, surprised, calm"
        );
        // Mood names are exact and lower case.
        assert!(matches!(
            MoodTable::ser8().with_overrides(&map(&[("disgust", "Angry")])),
            Err(MoodError::UnknownMood { .. })
        ));
    }

    #[test]
    fn an_override_for_a_label_the_model_lacks_is_an_error_listing_the_labels() {
        let e = MoodTable::fer7()
            .with_overrides(&map(&[("surprised", "happy")]))
            .expect_err("fer7 says surprise");
        assert_eq!(
            e.to_string(),
            "[mood.fer7] overrides \"surprised\", which is not a label of the fer7 model"
        );
        assert_eq!(
            crate::error::help(&e),
            "remove it or use one of: angry, disgust, fear, happy, sad, surprise, neutral"
        );
    }

    #[test]
    fn empty_or_repeating_label_lists_are_refused() {
        let none: [&str; 0] = [];
        let e =
            MoodTable::from_labels(&MoodTable::fer7(), &none, &BTreeMap::new()).expect_err("empty");
        assert!(e.to_string().contains("label list is empty"), "{e}");
        let e = MoodTable::from_labels(&MoodTable::fer7(), &["sad", "sad"], &BTreeMap::new())
            .expect_err("repeat");
        assert!(e.to_string().contains("names \"sad\" twice"), "{e}");
    }

    #[test]
    fn project_sums_each_label_into_its_mood() {
        let t = MoodTable::fer7();
        // angry, disgust, fear, happy, sad, surprise, neutral
        let p = t
            .project(&[0.1, 0.2, 0.05, 0.4, 0.0, 0.15, 0.1])
            .expect("valid");
        let want = [0.1, 0.4, 0.0, 0.3, 0.05, 0.15, 0.0];
        for (mood, (got, want)) in Mood::ALL.iter().zip(p.iter().zip(want)) {
            assert!((got - want).abs() < 1e-6, "{mood}: {got} vs {want}");
        }
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn project_refuses_wrong_lengths_and_bad_values() {
        let t = MoodTable::ser8();
        let e = t.project(&[0.5; 7]).expect_err("7 for 8");
        assert_eq!(
            e.to_string(),
            "ser8 scores: 7 scores for 8 labels (neutral, calm, happy, sad, angry, fearful, disgust, surprised)"
        );
        assert!(
            crate::error::help(&e).contains("the model's whole output"),
            "{e}"
        );
        for bad in [f32::NAN, f32::INFINITY, -0.1, 1.5] {
            let mut s = [0.0; 8];
            s[3] = bad;
            let e = t.project(&s).expect_err("bad value");
            assert!(
                matches!(e, MoodError::BadScore { index: 3, ref label, .. } if label == "sad"),
                "{e}"
            );
            assert!(e.to_string().contains("score 3 (sad)"), "{e}");
        }
        // Softmax rounding just above 1 is accepted.
        let mut s = [0.0; 8];
        s[0] = 1.000_000_1;
        assert!(t.project(&s).is_ok());
    }
}
