//! The template: who is there, how they look, where they are, what the place has and when.
//!
//! `subject [with ...] [wearing ... | , one wearing ...,] [in place] [with ...] [on/at time].`

use sentio_models::{ANPS, Anp, AnpCategory};

use crate::words::Tok::{self, Article, Comma, Plural, Word};

/// The numbers said as words; more faces than this are "a crowd".
const NUMBERS: [&str; 5] = ["", "", "two", "three", "four"];

/// The adjective said for each label of the fused `mood` set (`None`: nothing said). None of
/// them is an ANP adjective, so a mood and a pair never say the same word.
pub(crate) const MOOD_WORDS: [(&str, Option<&str>); 7] = [
    ("neutral", None),
    // "happy" is happy_crowd's adjective.
    ("happy", Some("cheerful")),
    ("sad", Some("sad")),
    ("angry", Some("angry")),
    ("fearful", Some("anxious")),
    // "surprised" is surprised_face's adjective.
    ("surprised", Some("astonished")),
    ("calm", Some("calm")),
];

/// The adjective of the mood labelled `label`; `None` for neutral and for a label the `mood`
/// set does not have.
pub(crate) fn mood_word(label: &str) -> Option<&'static str> {
    MOOD_WORDS
        .iter()
        .find(|(l, _)| *l == label)
        .and_then(|(_, w)| *w)
}

/// The forced pairs sorted by the part of the template they fill. The selection rules leave at
/// most one pair per slot (one per noun, one sky, one subject).
#[derive(Default)]
struct Slots {
    face: Option<&'static Anp>,
    subject: Option<&'static Anp>,
    room: Option<&'static Anp>,
    corner: Option<&'static Anp>,
    light: Option<&'static Anp>,
    window: Option<&'static Anp>,
    sky: Option<&'static Anp>,
    shirt: Option<&'static Anp>,
    /// Things the place has (plants, balloons, flowers, and pairs the template has no special
    /// place for), in [`ANPS`] order so a caption reads the same whatever the scores.
    things: Vec<&'static Anp>,
}

impl Slots {
    fn new(forced: &[usize]) -> Self {
        let mut sorted = forced.to_vec();
        sorted.sort_unstable();
        let mut slots = Slots::default();
        for i in sorted {
            let anp = &ANPS[i];
            let slot = match (anp.category, anp.noun) {
                (AnpCategory::Face, _) => &mut slots.face,
                (AnpCategory::Crowd, _) => &mut slots.subject,
                (AnpCategory::Light, "room") => &mut slots.room,
                (AnpCategory::Light, "corner") => &mut slots.corner,
                (AnpCategory::Light, "light") => &mut slots.light,
                (AnpCategory::Light, "window") => &mut slots.window,
                (AnpCategory::Sky, _) => &mut slots.sky,
                (AnpCategory::Colour, "shirt") => &mut slots.shirt,
                _ => {
                    slots.things.push(anp);
                    continue;
                }
            };
            if slot.is_some() {
                slots.things.push(anp);
            } else {
                *slot = Some(anp);
            }
        }
        slots
    }
}

/// `[a] adjective noun`: no article before a plural ("balloons") or a mass noun ("light").
fn noun_phrase(out: &mut Vec<Tok>, anp: &Anp) {
    if !(anp.noun.ends_with('s') || anp.noun == "light") {
        out.push(Article);
    }
    out.extend([Word(anp.adjective), Word(anp.noun)]);
}

/// `with a, b and c` (nothing for no items).
fn with_list(out: &mut Vec<Tok>, items: &[Vec<Tok>]) {
    if items.is_empty() {
        return;
    }
    out.push(Word("with"));
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            if i + 1 == items.len() {
                out.push(Word("and"));
            } else {
                out.push(Comma);
            }
        }
        out.extend_from_slice(item);
    }
}

/// The caption of a scene with `faces` faces, the mood adjective `mood` and the pairs `forced`
/// (which [`crate::select::select`] made compatible).
pub(crate) fn compose(faces: usize, mood: Option<&'static str>, forced: &[usize]) -> Vec<Tok> {
    let s = Slots::new(forced);
    let mut out = Vec::new();
    let people = faces >= 1;
    let plural = faces >= 2;

    // Who: the subject carries one adjective, a subject pair's or else the mood's.
    let mood_on_subject = people && s.subject.is_none();
    let mut collective = false;
    match (faces, s.subject) {
        (0, Some(hall)) => out.extend([Article, Word(hall.adjective), Word(hall.noun)]),
        (0, None) => {
            out.extend([Article, Word("empty")]);
            if let Some(room) = s.room {
                out.push(Word(room.adjective));
            }
            out.push(Word("room"));
        }
        (_, Some(subject)) => {
            collective = plural;
            out.extend([Article, Word(subject.adjective), Word(subject.noun)]);
        }
        (1, None) => {
            out.push(Article);
            out.extend(mood.map(Word));
            out.push(Word("person"));
        }
        (2..=4, None) => {
            out.push(Word(NUMBERS[faces]));
            out.extend(mood.map(Word));
            out.push(Word("people"));
        }
        (_, None) => {
            collective = true;
            out.push(Article);
            out.extend(mood.map(Word));
            out.push(Word("crowd"));
        }
    }

    // How they look: the face pair, or the mood when the subject's adjective is a pair's.
    if people {
        let face_adjective =
            s.face
                .map(|f| f.adjective)
                .or(if mood_on_subject { None } else { mood });
        let face_noun = s.face.map_or("face", |f| f.noun);
        let mut items: Vec<Vec<Tok>> = Vec::new();
        if let Some(adjective) = face_adjective {
            items.push(if plural {
                vec![Word(adjective), Plural(face_noun)]
            } else {
                vec![Article, Word(adjective), Word(face_noun)]
            });
        }
        let mut shirt_after: Vec<Tok> = Vec::new();
        if let Some(shirt) = s.shirt {
            let worn = [Article, Word(shirt.adjective), Word(shirt.noun)];
            if !plural && items.is_empty() {
                // "a person wearing a red shirt"
                shirt_after.push(Word("wearing"));
                shirt_after.extend(worn);
            } else if !plural {
                // "a person with a smiling face and a red shirt": not "a face wearing a shirt"
                items.push(worn.to_vec());
            } else if collective {
                // "a busy crowd with someone wearing a red shirt"
                let mut item = vec![Word("someone"), Word("wearing")];
                item.extend(worn);
                items.push(item);
            } else {
                // "two people, one wearing a red shirt," (not a third person)
                shirt_after.extend([Comma, Word("one"), Word("wearing")]);
                shirt_after.extend(worn);
                shirt_after.push(Comma);
            }
        }
        with_list(&mut out, &items);
        out.extend(shirt_after);

        // Where: a corner of a room, or a room.
        out.push(Word("in"));
        if let Some(corner) = s.corner {
            out.extend([Article, Word(corner.adjective), Word(corner.noun)]);
            if let Some(room) = s.room {
                out.extend([Word("of"), Article, Word(room.adjective), Word(room.noun)]);
            }
        } else {
            out.push(Article);
            if let Some(room) = s.room {
                out.push(Word(room.adjective));
            }
            out.push(Word("room"));
        }
    }

    // What the place has: light, a corner (when the place is the subject), things, the window.
    let mut items: Vec<Vec<Tok>> = Vec::new();
    let phrase = |anp: &Anp| {
        let mut item = Vec::new();
        noun_phrase(&mut item, anp);
        item
    };
    if let Some(light) = s.light {
        items.push(phrase(light));
    }
    if let (false, Some(corner)) = (people, s.corner) {
        items.push(phrase(corner));
    }
    for thing in &s.things {
        items.push(phrase(thing));
    }
    let mut time: Vec<Tok> = Vec::new();
    let mut window_said = false;
    if let Some(sky) = s.sky {
        match sky.noun {
            // "a blue sky in the (bright) window"
            "sky" => {
                let mut item = phrase(sky);
                item.extend([Word("in"), Word("the")]);
                if let Some(window) = s.window {
                    item.push(Word(window.adjective));
                }
                item.push(Word("window"));
                items.push(item);
                window_said = true;
            }
            "night" => time.extend([Word("on"), Article, Word(sky.adjective), Word(sky.noun)]),
            "sunset" => time.extend([Word("at"), Article, Word(sky.adjective), Word(sky.noun)]),
            // "a rainy window"
            _ => items.push(phrase(sky)),
        }
    }
    if let (false, Some(window)) = (window_said, s.window) {
        items.push(phrase(window));
    }
    with_list(&mut out, &items);
    out.extend(time);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentio_models::MOOD;

    #[test]
    fn every_mood_label_has_a_word_and_no_word_is_a_pairs() {
        let labels: Vec<&str> = MOOD_WORDS.iter().map(|(l, _)| *l).collect();
        assert_eq!(labels, MOOD.labels);
        for (_, word) in MOOD_WORDS {
            if let Some(w) = word {
                assert!(
                    ANPS.iter().all(|a| a.adjective != w && a.noun != w),
                    "{w} is an ANP word"
                );
            }
        }
        assert_eq!(mood_word("happy"), Some("cheerful"));
        assert_eq!(mood_word("neutral"), None);
        assert_eq!(mood_word("Happy"), None);
    }

    #[test]
    fn every_pair_has_a_slot_the_template_says() {
        // Each pair alone, with a face count it fits, ends up in the sentence.
        for (i, anp) in ANPS.iter().enumerate() {
            let faces = (0..10).find(|&n| crate::select::fits(anp, n)).unwrap();
            let text = crate::words::render(&compose(faces, None, &[i]));
            let pair = format!("{} {}", anp.adjective, anp.noun);
            assert!(text.to_lowercase().contains(&pair), "{pair}: {text}");
        }
    }
}
