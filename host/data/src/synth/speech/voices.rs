//! The generated speakers (espeak-ng voice x variant x baselines) and the sentences they say.

use crate::rng::{Rng, derive_seed};

/// Language of a voice, which picks the sentences it says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Lang {
    En,
    De,
    Fr,
    Es,
    It,
    Nl,
    Pt,
}

/// One generated speaker: an espeak-ng voice and variant, with baselines for pitch, rate, pitch
/// range and how strongly the speaker acts, so two speakers saying the same line in the same
/// emotion still sound different.
#[derive(Clone, Debug, PartialEq)]
pub struct Speaker {
    /// 1-based, the `AA` (actor) field of the file names.
    pub number: usize,
    /// espeak-ng voice (language), e.g. `en-gb-scotland`.
    pub voice: &'static str,
    /// espeak-ng variant, e.g. `f3`.
    pub variant: &'static str,
    /// Baseline offset on espeak-ng's 0-99 pitch scale (-9..9).
    pub pitch: f32,
    /// Baseline speaking-rate factor (0.88..1.12).
    pub rate: f32,
    /// Baseline pitch-range factor (0.8..1.2).
    pub range: f32,
    /// How far this speaker's acting goes from neutral (0.9..1.1).
    pub expressiveness: f32,
    pub(crate) lang: Lang,
}

impl Speaker {
    /// `voice+variant`, what `espeak-ng -v` takes.
    pub fn espeak_voice(&self) -> String {
        format!("{}+{}", self.voice, self.variant)
    }

    /// A one-line description for `dataset.json`.
    pub fn describe(&self) -> String {
        format!(
            "espeak-ng {}, pitch {:+.1}, rate x{:.2}, range x{:.2}, expressiveness x{:.2}",
            self.espeak_voice(),
            self.pitch,
            self.rate,
            self.range,
            self.expressiveness
        )
    }
}

/// The voice table, in speaker order. Languages and genders are interleaved so that the first
/// N speakers are a mix for any N; every voice and variant ships with espeak-ng 1.51.
const TABLE: [(&str, &str, Lang); 40] = [
    ("en-us", "m3", Lang::En),
    ("en-gb", "f2", Lang::En),
    ("en-gb-scotland", "m1", Lang::En),
    ("de", "f3", Lang::De),
    ("en-029", "m4", Lang::En),
    ("en-gb-x-rp", "f4", Lang::En),
    ("en-us-nyc", "m2", Lang::En),
    ("fr-fr", "f1", Lang::Fr),
    ("en-gb-x-gbclan", "m5", Lang::En),
    ("en-us", "f5", Lang::En),
    ("en-gb-x-gbcwmd", "m6", Lang::En),
    ("es", "m7", Lang::Es),
    ("en-gb", "Andy", Lang::En),
    ("en-gb-scotland", "Annie", Lang::En),
    ("en-029", "f2", Lang::En),
    ("it", "m2", Lang::It),
    ("en-us", "Michael", Lang::En),
    ("en-gb-x-rp", "Alicia", Lang::En),
    ("en-us-nyc", "m8", Lang::En),
    ("nl", "f2", Lang::Nl),
    ("en-gb-x-gbclan", "f3", Lang::En),
    ("en-gb", "m7", Lang::En),
    ("en-us", "Andrea", Lang::En),
    ("pt-br", "m3", Lang::Pt),
    ("en-gb-x-gbcwmd", "f1", Lang::En),
    ("en-029", "m2", Lang::En),
    ("en-gb-scotland", "f4", Lang::En),
    ("de", "m6", Lang::De),
    ("en-us-nyc", "steph", Lang::En),
    ("en-gb-x-rp", "m4", Lang::En),
    ("en-us", "m1", Lang::En),
    ("fr-fr", "m3", Lang::Fr),
    ("en-gb", "f5", Lang::En),
    ("en-029", "Alex", Lang::En),
    ("en-gb-x-gbclan", "m2", Lang::En),
    ("es", "f2", Lang::Es),
    ("en-us-nyc", "f3", Lang::En),
    ("en-gb-scotland", "m5", Lang::En),
    ("en-gb-x-gbcwmd", "Andrea", Lang::En),
    ("it", "f4", Lang::It),
];

/// The most speakers a generated set can have.
pub const MAX_SPEAKERS: usize = TABLE.len();

/// Speakers' baselines come from this fixed seed, not the dataset's: speaker 7 is the same voice
/// in every generated set.
const SPEAKER_SEED: u64 = 0x5BEA_C0DE;

/// The first `n` speakers (at most [`MAX_SPEAKERS`]).
pub fn speakers(n: usize) -> Vec<Speaker> {
    TABLE
        .iter()
        .take(n)
        .enumerate()
        .map(|(k, &(voice, variant, lang))| {
            let mut rng = Rng::new(derive_seed(SPEAKER_SEED, &[k as u64]));
            Speaker {
                number: k + 1,
                voice,
                variant,
                pitch: rng.sym(9.0),
                rate: rng.range(0.88, 1.12),
                range: rng.range(0.8, 1.2),
                expressiveness: rng.range(0.9, 1.1),
                lang,
            }
        })
        .collect()
}

/// The statements, numbered from 1 (the `SS` field). Short, emotionally neutral lines like
/// RAVDESS's two ("Kids are talking by the door", "Dogs are sitting by the door"): 40 in
/// English and 5 in each other language.
pub(crate) const SENTENCES: [(Lang, &str); 70] = [
    (Lang::En, "Kids are talking by the door"),
    (Lang::En, "Dogs are sitting by the door"),
    (Lang::En, "The train leaves at seven"),
    (Lang::En, "I put the keys on the table"),
    (Lang::En, "We walked to the store"),
    (Lang::En, "The window is open"),
    (Lang::En, "She read the letter twice"),
    (Lang::En, "The car is in the garage"),
    (Lang::En, "He is waiting at the corner"),
    (Lang::En, "There is milk in the fridge"),
    (Lang::En, "The meeting starts at noon"),
    (Lang::En, "They painted the fence"),
    (Lang::En, "My brother lives in town"),
    (Lang::En, "The phone is on the desk"),
    (Lang::En, "We saw a film last night"),
    (Lang::En, "The box is under the bed"),
    (Lang::En, "The bus was on time"),
    (Lang::En, "I have a new jacket"),
    (Lang::En, "The coffee is still warm"),
    (Lang::En, "The garden needs water"),
    (Lang::En, "She moved to a new flat"),
    (Lang::En, "The lights are turned off"),
    (Lang::En, "It rained all afternoon"),
    (Lang::En, "He found his old watch"),
    (Lang::En, "The shop closes at six"),
    (Lang::En, "We ate dinner outside"),
    (Lang::En, "The door was not locked"),
    (Lang::En, "There are two chairs in the room"),
    (Lang::En, "I sent you the message"),
    (Lang::En, "The children played in the park"),
    (Lang::En, "The printer is out of paper"),
    (Lang::En, "Your bag is in the hall"),
    (Lang::En, "We are going home now"),
    (Lang::En, "The river is near the house"),
    (Lang::En, "He opened the envelope"),
    (Lang::En, "The clock on the wall stopped"),
    (Lang::En, "She is talking to her sister"),
    (Lang::En, "The plane landed in the morning"),
    (Lang::En, "I will call you tomorrow"),
    (Lang::En, "The cat is sleeping on the sofa"),
    (Lang::De, "Die Kinder reden an der Tür"),
    (Lang::De, "Der Hund sitzt vor dem Haus"),
    (Lang::De, "Das Fenster ist offen"),
    (Lang::De, "Wir gehen jetzt nach Hause"),
    (Lang::De, "Der Zug fährt um sieben"),
    (Lang::Fr, "Les enfants parlent près de la porte"),
    (Lang::Fr, "Le chien est assis devant la maison"),
    (Lang::Fr, "La fenêtre est ouverte"),
    (Lang::Fr, "Nous rentrons à la maison"),
    (Lang::Fr, "Le train part à sept heures"),
    (Lang::Es, "Los niños hablan junto a la puerta"),
    (Lang::Es, "El perro está sentado en la puerta"),
    (Lang::Es, "La ventana está abierta"),
    (Lang::Es, "Volvemos a casa ahora"),
    (Lang::Es, "El tren sale a las siete"),
    (Lang::It, "I bambini parlano vicino alla porta"),
    (Lang::It, "Il cane è seduto davanti alla casa"),
    (Lang::It, "La finestra è aperta"),
    (Lang::It, "Torniamo a casa adesso"),
    (Lang::It, "Il treno parte alle sette"),
    (Lang::Nl, "De kinderen praten bij de deur"),
    (Lang::Nl, "De hond zit bij de deur"),
    (Lang::Nl, "Het raam staat open"),
    (Lang::Nl, "We gaan nu naar huis"),
    (Lang::Nl, "De trein vertrekt om zeven uur"),
    (Lang::Pt, "As crianças conversam perto da porta"),
    (Lang::Pt, "O cachorro está sentado na porta"),
    (Lang::Pt, "A janela está aberta"),
    (Lang::Pt, "Vamos para casa agora"),
    (Lang::Pt, "O trem sai às sete"),
];

/// The statement numbers (1-based) of a language.
pub(crate) fn statements(lang: Lang) -> Vec<usize> {
    SENTENCES
        .iter()
        .enumerate()
        .filter(|(_, (l, _))| *l == lang)
        .map(|(i, _)| i + 1)
        .collect()
}

/// The text of statement `number` (1-based).
pub(crate) fn sentence(number: usize) -> &'static str {
    number
        .checked_sub(1)
        .and_then(|i| SENTENCES.get(i))
        .map_or("", |(_, s)| s)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn speakers_are_distinct_and_stable() {
        let all = speakers(MAX_SPEAKERS);
        assert_eq!(all.len(), 40);
        let voices: BTreeSet<String> = all.iter().map(Speaker::espeak_voice).collect();
        assert_eq!(voices.len(), 40, "every speaker has its own voice+variant");
        assert_eq!(
            speakers(5),
            all[..5].to_vec(),
            "baselines do not depend on n"
        );
        assert!(all.iter().all(|s| s.pitch.abs() <= 9.0 && s.rate > 0.87));
        let langs: BTreeSet<_> = all[..24].iter().map(|s| format!("{:?}", s.lang)).collect();
        assert!(langs.len() >= 5, "the first 24 mix languages: {langs:?}");
    }

    #[test]
    fn every_language_has_sentences() {
        assert!(statements(Lang::En).len() >= 40);
        for lang in [Lang::De, Lang::Fr, Lang::Es, Lang::It, Lang::Nl, Lang::Pt] {
            assert_eq!(statements(lang).len(), 5, "{lang:?}");
        }
        assert_eq!(sentence(1), "Kids are talking by the door");
        assert_eq!(sentence(0), "");
        assert_eq!(sentence(71), "");
        assert!(SENTENCES.len() <= 99, "statement numbers are 2 digits");
    }
}
