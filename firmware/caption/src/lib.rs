//! Sentiment-bearing scene captions: the number of faces, the fused mood and the ANP tagger's
//! scores for the adjective-noun pairs of [`sentio_models::ANPS`] become one sentence, with the
//! best pairs forced in ("a lonely person with a sad face in a dark room" rather than "a person
//! in a room").
//!
//! Pure logic: no I/O, no clock, no randomness; the same input always gives the same caption.
//! It does not decide the mood or count faces (sentio-mood and the face detector do) and does
//! not draw (sentio-ui's `CaptionTicker` does).
//!
//! # Which pairs are forced
//!
//! Pairs are taken highest score first (ties: lower index first), each one unless a rule below
//! drops it, until [`Captioner::top_k`] are taken. A pair scored below
//! [`Captioner::min_score`], with an index outside [`sentio_models::ANPS`] or a score that is
//! not a number is never taken.
//!
//! - **Clashes: the higher score wins.** A pair is dropped when one already taken
//!   - has the same noun (sunny_room and dark_room; rainy_window and bright_window),
//!   - has the same adjective (blue_shirt and blue_sky: a repeated word reads as a mistake),
//!   - is also a Sky pair (the window shows one view: blue_sky, cloudy_sky, rainy_window,
//!     starry_night...),
//!   - is also a Crowd pair (the scene has one subject),
//!   - or contradicts it: sunny_room against cloudy_sky, stormy_sky, rainy_window and
//!     starry_night (a sunny room needs the sun out); empty_hall against sunny_room and
//!     dark_room (the hall is the place, there is no room).
//! - **The face count wins over the pairs.** The face detector counts; the pairs only say how
//!   the scene looks. Face pairs and shirts need at least one face. Crowd pairs need their count:
//!   lonely_person 1, small_group 2-4, quiet_queue 2 or more, busy_crowd and happy_crowd 5 or
//!   more, empty_hall none. A pair that does not fit is dropped and takes no place in the top k.
//!
//! # The sentence
//!
//! `Subject [with face, shirt] [wearing a shirt] [in place] [with light, things, window] [time].`
//! It starts with a capital letter and ends with a full stop; words are separated by single
//! spaces; "a" or "an" is chosen by the sound of the word that follows.
//!
//! - **Subject**, by the face count: 0 "an empty room" (the place is the subject and the mood is
//!   not said: there is no one to say it of), 1 "a person", 2-4 "two/three/four people", more
//!   "a crowd". A Crowd pair replaces it: "a lonely person", "a small group", "a quiet queue",
//!   "a busy crowd", "an empty hall".
//! - **Mood**: an adjective before the subject ("a cheerful person", "two calm people"):
//!   happy "cheerful", sad "sad", angry "angry", fearful "anxious", surprised "astonished",
//!   calm "calm", neutral nothing (nor a label the `mood` set does not have). None of these is
//!   an ANP adjective. When a Crowd pair holds the subject's adjective the mood moves to the
//!   face ("a lonely person with a sad face"), unless a Face pair holds that too.
//! - **Face** pairs: "with a smiling face", plural "with smiling faces".
//! - **Shirts**: "wearing a red shirt"; "with a smiling face and a red shirt" beside a face; for
//!   people counted "two people, one wearing a red shirt,"; for a crowd, group or queue "with
//!   someone wearing a red shirt".
//! - **Place**: "in a room"; sunny_room and dark_room put their adjective before "room";
//!   gloomy_corner makes it "in a gloomy corner (of a dark room)". With no one there the room
//!   is the subject: "an empty sunny room", "an empty room with a gloomy corner".
//! - **With** (what the place has, in this order): "warm light", "a gloomy corner" (no one
//!   there), "a green plant", "colorful balloons", "pink flowers", then the window:
//!   "a bright window", "a rainy window", "a blue sky in the window" (bright_window too:
//!   "a blue sky in the bright window"). Listed as "with a, b and c".
//! - **Time**: "on a starry night", "at a golden sunset".
//!
//! [`Caption::forced`] lists the pairs said, highest score first; each is said exactly once, as
//! its adjective right before its noun (or the noun's plural).
//!
//! # Examples
//!
//! ```
//! use sentio_caption::{CaptionInput, Captioner};
//! use sentio_models::ANP32;
//!
//! let anp = |label| ANP32.index_of(label).unwrap();
//! let captioner = Captioner::default();
//! let caption = captioner.caption(&CaptionInput {
//!     faces: 1,
//!     mood: Some("happy"),
//!     anps: &[(anp("sunny_room"), 0.9), (anp("blue_sky"), 0.8), (anp("dark_room"), 0.6)],
//! });
//! assert_eq!(caption.text, "A cheerful person in a sunny room with a blue sky in the window.");
//! assert_eq!(caption.forced, [anp("sunny_room"), anp("blue_sky")]);
//! ```
//!
//! A crowd pair that fits the count takes the subject, and the mood moves to the faces; a shirt
//! with no one to wear it is not said:
//!
//! ```
//! # use sentio_caption::{CaptionInput, Captioner};
//! # use sentio_models::ANP32;
//! # let anp = |label| ANP32.index_of(label).unwrap();
//! let scores = [
//!     (anp("busy_crowd"), 0.8),
//!     (anp("yellow_shirt"), 0.7),
//!     (anp("golden_sunset"), 0.6),
//! ];
//! let captioner = Captioner::new(3, 0.5);
//! let crowd = captioner.caption(&CaptionInput { faces: 7, mood: Some("calm"), anps: &scores });
//! assert_eq!(
//!     crowd.text,
//!     "A busy crowd with calm faces and someone wearing a yellow shirt in a room \
//!      at a golden sunset."
//! );
//! let empty = captioner.caption(&CaptionInput { faces: 0, mood: Some("calm"), anps: &scores });
//! assert_eq!(empty.text, "An empty room at a golden sunset.");
//! ```

mod grammar;
mod select;
mod words;

use core::fmt;

/// What a caption is made from.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CaptionInput<'a> {
    /// Faces the detector found.
    pub faces: usize,
    /// A label of the fused `mood` set ([`sentio_models::MOOD`]), or `None` when there is no
    /// mood yet.
    pub mood: Option<&'a str>,
    /// The tagger's scores: (index into [`sentio_models::ANPS`], score 0..1), in any order.
    pub anps: &'a [(usize, f32)],
}

/// A sentence describing the scene.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Caption {
    /// One sentence, capitalised, ending in a full stop.
    pub text: String,
    /// The pairs (indices into [`sentio_models::ANPS`]) said in `text`, highest score first.
    pub forced: Vec<usize>,
}

impl fmt::Display for Caption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Turns faces, mood and pair scores into a [`Caption`] (the rules are in the crate docs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Captioner {
    top_k: usize,
    min_score: f32,
}

impl Default for Captioner {
    /// At most 3 pairs, each scored at least 0.5: more makes a sentence too long for one line
    /// of a small panel to scroll through while the scene still holds.
    fn default() -> Self {
        Captioner::new(3, 0.5)
    }
}

impl Captioner {
    /// A captioner forcing at most `top_k` pairs, each scored at least `min_score` (a NaN
    /// `min_score` forces none).
    pub const fn new(top_k: usize, min_score: f32) -> Self {
        Captioner { top_k, min_score }
    }

    /// The most pairs a caption says.
    pub const fn top_k(&self) -> usize {
        self.top_k
    }

    /// The lowest score a pair needs to be said.
    pub const fn min_score(&self) -> f32 {
        self.min_score
    }

    /// The caption of `input`.
    pub fn caption(&self, input: &CaptionInput<'_>) -> Caption {
        let forced = select::select(input.anps, input.faces, self.top_k, self.min_score);
        let mood = input.mood.and_then(grammar::mood_word);
        let text = words::render(&grammar::compose(input.faces, mood, &forced));
        Caption { text, forced }
    }
}
