//! The label sets every model, dataset and report uses, defined once (DESIGN.md, "Label sets").
//!
//! The order of each set is the order of the model's outputs and of the dataset's class indices:
//! changing it silently relabels every trained model, so the tests pin it.
//!
//! The fused `mood` set is defined here with the others; the tables mapping each model's set into
//! it, and the fusion, live in `sentio-mood`.

/// A named, ordered list of class labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LabelSet {
    /// The set's name as manifests and `dataset.json` files spell it (`emoji8`, `fer7`, `ser8`).
    pub name: &'static str,
    /// The labels, in output order.
    pub labels: &'static [&'static str],
}

impl LabelSet {
    /// The index of `label` in this set (exact, case-sensitive match).
    pub fn index_of(&self, label: &str) -> Option<usize> {
        self.labels.iter().position(|l| *l == label)
    }

    /// The number of labels.
    pub const fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the set has no labels (never true for the sets defined here).
    pub const fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// Hand-drawn emoji, for the sketch mode.
pub const EMOJI8: LabelSet = LabelSet {
    name: "emoji8",
    labels: &[
        "slightly_smiling",
        "heart_eyes",
        "neutral",
        "angry",
        "tears_of_joy",
        "winking",
        "tongue_out",
        "frowning",
    ],
};

/// Facial expressions, in FER2013's order (its `emotion` column 0..6).
pub const FER7: LabelSet = LabelSet {
    name: "fer7",
    labels: &[
        "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral",
    ],
};

/// Speech emotions, in RAVDESS's order (its emotion field 01..08).
pub const SER8: LabelSet = LabelSet {
    name: "ser8",
    labels: &[
        "neutral",
        "calm",
        "happy",
        "sad",
        "angry",
        "fearful",
        "disgust",
        "surprised",
    ],
};

/// The fused mood the display and the music use: the five moods of the music seed (happy, sad,
/// angry, surprised, neutral) plus calm and fearful, which speech (`ser8`) and faces (`fer7`)
/// tell apart and a player would treat differently (quiet music, not sad music).
pub const MOOD: LabelSet = LabelSet {
    name: "mood",
    labels: &[
        "neutral",
        "happy",
        "sad",
        "angry",
        "fearful",
        "surprised",
        "calm",
    ],
};

/// Every single-label set this crate defines (each maps into `mood`). The multi-label ANP
/// vocabulary ([`crate::anp::ANP32`]) is not one of them, but [`by_name`] finds it.
pub const ALL: &[&LabelSet] = &[&EMOJI8, &FER7, &SER8, &MOOD];

/// The label set called `name`.
pub fn by_name(name: &str) -> Option<&'static LabelSet> {
    ALL.iter()
        .copied()
        .chain([&crate::anp::ANP32])
        .find(|set| set.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_are_the_designed_ones() {
        assert_eq!(
            EMOJI8.labels,
            [
                "slightly_smiling",
                "heart_eyes",
                "neutral",
                "angry",
                "tears_of_joy",
                "winking",
                "tongue_out",
                "frowning"
            ]
        );
        assert_eq!(
            FER7.labels,
            [
                "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"
            ]
        );
        assert_eq!(
            SER8.labels,
            [
                "neutral",
                "calm",
                "happy",
                "sad",
                "angry",
                "fearful",
                "disgust",
                "surprised"
            ]
        );
        assert_eq!(
            MOOD.labels,
            [
                "neutral",
                "happy",
                "sad",
                "angry",
                "fearful",
                "surprised",
                "calm"
            ]
        );
    }

    #[test]
    fn by_name_finds_each_set_and_nothing_else() {
        for set in ALL {
            assert_eq!(by_name(set.name), Some(*set));
        }
        assert_eq!(by_name("mood"), Some(&MOOD));
        assert_eq!(by_name("anp32"), Some(&crate::anp::ANP32));
        assert_eq!(by_name("moods"), None);
        assert_eq!(by_name("EMOJI8"), None);
        assert_eq!(by_name(""), None);
    }

    #[test]
    fn index_of_is_the_position() {
        assert_eq!(FER7.index_of("angry"), Some(0));
        assert_eq!(FER7.index_of("neutral"), Some(6));
        assert_eq!(SER8.index_of("surprised"), Some(7));
        assert_eq!(EMOJI8.index_of("winking"), Some(5));
        assert_eq!(SER8.index_of("surprise"), None);
        assert_eq!(FER7.index_of("Angry"), None);
        for set in ALL {
            for (i, label) in set.labels.iter().enumerate() {
                assert_eq!(set.index_of(label), Some(i));
            }
        }
    }

    #[test]
    fn labels_are_unique_lowercase_identifiers() {
        for set in ALL {
            assert!(!set.is_empty());
            for (i, a) in set.labels.iter().enumerate() {
                assert!(a.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{a}");
                assert!(!set.labels[i + 1..].contains(a), "{} repeats {a}", set.name);
            }
        }
    }
}
