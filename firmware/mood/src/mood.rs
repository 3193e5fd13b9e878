//! The moods, in the order of `sentio_models::MOOD`.

use sentio_models::MOOD;

/// One fused mood. The discriminant is the index in [`sentio_models::MOOD`] (a test pins it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mood {
    Neutral = 0,
    Happy = 1,
    Sad = 2,
    Angry = 3,
    Fearful = 4,
    Surprised = 5,
    Calm = 6,
}

impl Mood {
    /// Number of moods.
    pub const COUNT: usize = 7;

    /// Every mood, in `MOOD` order.
    pub const ALL: [Mood; Mood::COUNT] = [
        Mood::Neutral,
        Mood::Happy,
        Mood::Sad,
        Mood::Angry,
        Mood::Fearful,
        Mood::Surprised,
        Mood::Calm,
    ];

    /// Index in the `mood` label set.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The mood at `index` of the `mood` label set.
    pub fn from_index(index: usize) -> Option<Mood> {
        Mood::ALL.get(index).copied()
    }

    /// The label as the `mood` set, events and profiles spell it (`"happy"`).
    pub fn as_str(self) -> &'static str {
        MOOD.labels[self.index()]
    }

    /// The mood spelt `label` (exact, lower case), if any.
    pub fn from_label(label: &str) -> Option<Mood> {
        MOOD.index_of(label).and_then(Mood::from_index)
    }
}

impl core::fmt::Display for Mood {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_enum_follows_the_label_set() {
        assert_eq!(Mood::COUNT, MOOD.len());
        for (i, mood) in Mood::ALL.iter().enumerate() {
            assert_eq!(mood.index(), i);
            assert_eq!(mood.as_str(), MOOD.labels[i]);
            assert_eq!(Mood::from_label(mood.as_str()), Some(*mood));
            assert_eq!(Mood::from_index(i), Some(*mood));
        }
        assert_eq!(Mood::from_label("Happy"), None);
        assert_eq!(Mood::from_index(Mood::COUNT), None);
    }
}
