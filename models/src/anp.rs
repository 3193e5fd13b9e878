//! The adjective-noun pairs (ANPs) a kiosk camera can plausibly see, for sentiment-bearing
//! captions: one definition, used by the scene generator, the ANP tagger's training and
//! manifest, and the device's captioner.
//!
//! Each pair belongs to one [`AnpCategory`] (what part of a scene it describes, so a captioner
//! knows where its noun goes) and carries a sentiment in -1..1 (the published ANP
//! ontologies score pairs the same way). The order of [`ANPS`] is the order of the tagger's
//! outputs and of [`ANP32`]'s labels (`adjective_noun`); the tests pin it.

use crate::labels::LabelSet;

/// What part of a kiosk scene a pair describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AnpCategory {
    /// The face of the person in front of the camera.
    Face,
    /// The light in the room.
    Light,
    /// What the window shows: sky and weather.
    Sky,
    /// Colourful things in view: clothes, plants, decorations.
    Colour,
    /// How many people there are, and how they are.
    Crowd,
}

impl AnpCategory {
    /// Every category, in the order captions mention them.
    pub const ALL: [AnpCategory; 5] = [
        AnpCategory::Face,
        AnpCategory::Crowd,
        AnpCategory::Light,
        AnpCategory::Colour,
        AnpCategory::Sky,
    ];

    /// The category's name as reports spell it.
    pub const fn name(self) -> &'static str {
        match self {
            AnpCategory::Face => "face",
            AnpCategory::Light => "light",
            AnpCategory::Sky => "sky",
            AnpCategory::Colour => "colour",
            AnpCategory::Crowd => "crowd",
        }
    }
}

/// One adjective-noun pair.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Anp {
    pub adjective: &'static str,
    pub noun: &'static str,
    pub category: AnpCategory,
    /// -1 (negative) .. 1 (positive).
    pub sentiment: f32,
}

const fn anp(
    adjective: &'static str,
    noun: &'static str,
    category: AnpCategory,
    sentiment: f32,
) -> Anp {
    Anp {
        adjective,
        noun,
        category,
        sentiment,
    }
}

use AnpCategory::{Colour, Crowd, Face, Light, Sky};

/// The vocabulary, in output order.
pub const ANPS: [Anp; 32] = [
    anp("smiling", "face", Face, 0.8),
    anp("laughing", "face", Face, 0.9),
    anp("frowning", "face", Face, -0.6),
    anp("crying", "face", Face, -0.8),
    anp("surprised", "face", Face, 0.1),
    anp("sleepy", "face", Face, -0.1),
    anp("sunny", "room", Light, 0.7),
    anp("dark", "room", Light, -0.5),
    anp("warm", "light", Light, 0.6),
    anp("cold", "light", Light, -0.3),
    anp("bright", "window", Light, 0.5),
    anp("gloomy", "corner", Light, -0.6),
    anp("blue", "sky", Sky, 0.7),
    anp("cloudy", "sky", Sky, -0.2),
    anp("stormy", "sky", Sky, -0.6),
    anp("rainy", "window", Sky, -0.4),
    anp("snowy", "window", Sky, 0.3),
    anp("starry", "night", Sky, 0.6),
    anp("golden", "sunset", Sky, 0.8),
    anp("red", "shirt", Colour, 0.1),
    anp("blue", "shirt", Colour, 0.1),
    anp("yellow", "shirt", Colour, 0.3),
    anp("green", "plant", Colour, 0.5),
    anp("wilted", "plant", Colour, -0.6),
    anp("colorful", "balloons", Colour, 0.8),
    anp("pink", "flowers", Colour, 0.7),
    anp("busy", "crowd", Crowd, 0.0),
    anp("happy", "crowd", Crowd, 0.8),
    anp("empty", "hall", Crowd, -0.4),
    anp("lonely", "person", Crowd, -0.6),
    anp("small", "group", Crowd, 0.2),
    anp("quiet", "queue", Crowd, -0.1),
];

/// The tagger's labels: `adjective_noun` in [`ANPS`] order.
pub const ANP32: LabelSet = LabelSet {
    name: "anp32",
    labels: &[
        "smiling_face",
        "laughing_face",
        "frowning_face",
        "crying_face",
        "surprised_face",
        "sleepy_face",
        "sunny_room",
        "dark_room",
        "warm_light",
        "cold_light",
        "bright_window",
        "gloomy_corner",
        "blue_sky",
        "cloudy_sky",
        "stormy_sky",
        "rainy_window",
        "snowy_window",
        "starry_night",
        "golden_sunset",
        "red_shirt",
        "blue_shirt",
        "yellow_shirt",
        "green_plant",
        "wilted_plant",
        "colorful_balloons",
        "pink_flowers",
        "busy_crowd",
        "happy_crowd",
        "empty_hall",
        "lonely_person",
        "small_group",
        "quiet_queue",
    ],
};

/// The pair whose label (`adjective_noun`) is `label`.
pub fn by_label(label: &str) -> Option<&'static Anp> {
    ANP32.index_of(label).and_then(|i| ANPS.get(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_the_pairs_in_order() {
        assert_eq!(ANP32.len(), ANPS.len());
        for (label, pair) in ANP32.labels.iter().zip(ANPS.iter()) {
            assert_eq!(*label, format!("{}_{}", pair.adjective, pair.noun));
            assert_eq!(by_label(label), Some(pair));
        }
        assert_eq!(by_label("sad_face"), None);
    }

    #[test]
    fn every_category_has_pairs_and_sentiments_are_in_range() {
        for category in AnpCategory::ALL {
            let n = ANPS.iter().filter(|a| a.category == category).count();
            assert!(n >= 5, "{} has {n} pairs", category.name());
        }
        for a in &ANPS {
            assert!((-1.0..=1.0).contains(&a.sentiment), "{a:?}");
        }
    }
}
