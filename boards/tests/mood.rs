//! The optional `[mood]` section: defaults when absent, every key read, and each bad value
//! reported at its key with the allowed values and a help line.

mod common;
use common::{BASE, BASE_LINES, check_error, shown};

use sentio_boards::*;
use sentio_mood::{Mood, MoodEngine};

/// [`BASE`] is a valid profile without `[mood]`; `with_mood` appends a blank line and a section,
/// so the section's first line is line `BASE_LINES + 2`.
fn with_mood(section: &str) -> String {
    format!("{BASE}\n{section}")
}

fn parse(text: &str) -> Result<BoardProfile, ProfileError> {
    BoardProfile::from_str(
        text,
        ProfileOrigin::File("boards/mood.toml".into()),
        std::path::Path::new("boards"),
    )
}

/// Parses `BASE` + `section`, expecting an error.
fn fail(section: &str) -> ProfileError {
    match parse(&with_mood(section)) {
        Ok(p) => panic!("[mood] {section:?} was accepted: {:?}", p.mood),
        Err(e) => e,
    }
}

/// Checks kind, location (`line` counted from the start of the section, 0 for its first line)
/// and key, and
/// that the rendered message contains `parts`.
#[track_caller]
fn check(e: &ProfileError, kind: ErrorKind, line: usize, key: &str, parts: &[&str]) {
    check_error(
        e,
        "boards/mood.toml",
        kind,
        BASE_LINES + 2 + line,
        key,
        parts,
    );
}

#[test]
fn the_base_has_the_line_count_the_tests_assume() {
    assert_eq!(BASE.lines().count(), BASE_LINES);
    let e = fail("[mood]\nface_weight = 11");
    assert_eq!(e.line(), Some(BASE_LINES + 3));
}

#[test]
fn without_the_section_every_value_is_the_default() {
    let p = parse(BASE).expect("valid");
    assert_eq!(p.mood, MoodConfig::default());
    let p = parse(&with_mood("[mood]\n")).expect("an empty section is valid");
    assert_eq!(p.mood, MoodConfig::default());
    for name in builtin_names() {
        let p = BoardProfile::load(name).expect("built-in loads");
        assert_eq!(p.mood, MoodConfig::default(), "{name}");
    }
}

#[test]
fn every_key_is_read() {
    let p = parse(&with_mood(
        r#"[mood]
face_weight = 1.5
voice_weight = 0.8
emoji_weight = 0
face_stale_ms = 2500
voice_stale_ms = 8000
emoji_stale_ms = 4000
smoothing_ms = 0
hysteresis = 0.25
min_dwell_ms = 5000
min_confidence = 0.5
idle_mood = "calm"

[mood.fer7]
disgust = "sad"

[mood.ser8]
disgust = "angry"
calm = "neutral"

[mood.emoji8]
tongue_out = "surprised"
"#,
    ))
    .expect("valid");
    let m = &p.mood;
    assert_eq!(
        (m.face_weight, m.voice_weight, m.emoji_weight),
        (1.5, 0.8, 0.0)
    );
    assert_eq!(
        (m.face_stale_ms, m.voice_stale_ms, m.emoji_stale_ms),
        (2500, 8000, 4000)
    );
    assert_eq!((m.smoothing_ms, m.min_dwell_ms), (0, 5000));
    assert_eq!((m.hysteresis, m.min_confidence), (0.25, 0.5));
    assert_eq!(m.idle_mood, "calm");
    let pairs = |map: &std::collections::BTreeMap<String, String>| {
        map.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
    };
    assert_eq!(pairs(&m.fer7), ["disgust=sad"]);
    assert_eq!(pairs(&m.ser8), ["calm=neutral", "disgust=angry"]);
    assert_eq!(pairs(&m.emoji8), ["tongue_out=surprised"]);
    assert_eq!(m.validate(), Ok(()));

    // The engine takes the profile's settings as they are.
    let engine = MoodEngine::with_builtin_labels(m).expect("engine");
    assert_eq!(engine.mood(), Mood::Calm);
    assert_eq!(
        engine.table(sentio_mood::Modality::Voice).mood_of("calm"),
        Some(Mood::Neutral)
    );
}

#[test]
fn a_partial_section_keeps_the_other_defaults() {
    let p = parse(&with_mood(
        "[mood]\nface_weight = 1.0\nvoice_weight = 0.8\nmin_dwell_ms = 3000\n[mood.ser8]\ndisgust = \"angry\"\n",
    ))
    .expect("the example of docs/boards.md");
    let want = MoodConfig {
        voice_weight: 0.8,
        ser8: [("disgust".to_owned(), "angry".to_owned())].into(),
        ..MoodConfig::default()
    };
    assert_eq!(p.mood, want);
    // Integers are fine where a number belongs; only the [mood.*] tables may appear alone.
    let p = parse(&with_mood("[mood]\nface_weight = 2\n")).expect("integer weight");
    assert_eq!(p.mood.face_weight, 2.0);
    let p = parse(&with_mood("[mood.fer7]\nfear = \"sad\"\n")).expect("sub-table alone");
    assert_eq!(p.mood.fer7.get("fear").map(String::as_str), Some("sad"));
}

#[test]
fn an_unknown_mood_lists_the_moods() {
    let e = fail("[mood.ser8]\ndisgust = \"anxious\"\n");
    check(
        &e,
        ErrorKind::BadValue,
        1,
        "mood.ser8.disgust",
        &[
            "boards/mood.toml:39:11: mood.ser8.disgust: \"anxious\" is not a mood",
            "allowed: neutral, happy, sad, angry, fearful, surprised, calm",
            "help: write the mood ser8's \"disgust\" counts for, e.g. `disgust = \"angry\"` (the built-in choice)",
        ],
    );
    assert_eq!(
        e.allowed_values(),
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

    let e = fail("[mood]\nidle_mood = \"nuetral\"\n");
    check(
        &e,
        ErrorKind::BadValue,
        1,
        "mood.idle_mood",
        &[
            "mood.idle_mood: \"nuetral\" is not a mood",
            "help: did you mean \"neutral\"?",
        ],
    );
    // Mood names are lower case.
    let e = fail("[mood.emoji8]\nwinking = \"Happy\"\n");
    check(
        &e,
        ErrorKind::BadValue,
        1,
        "mood.emoji8.winking",
        &["\"Happy\" is not a mood", "did you mean \"happy\"?"],
    );
}

#[test]
fn an_override_for_a_label_the_table_lacks_lists_its_labels() {
    let e = fail("[mood.fer7]\nsurprised = \"happy\"\n");
    check(
        &e,
        ErrorKind::UnknownKey,
        1,
        "mood.fer7.surprised",
        &[
            "boards/mood.toml:39:1: mood.fer7.surprised: \"surprised\" is not a label of fer7",
            "allowed: angry, disgust, fear, happy, sad, surprise, neutral",
            "help: did you mean `surprise`?",
        ],
    );
    let e = fail("[mood.ser8]\nhappy = \"happy\"\nbored = \"calm\"\n");
    check(
        &e,
        ErrorKind::UnknownKey,
        2,
        "mood.ser8.bored",
        &["\"bored\" is not a label of ser8"],
    );
}

#[test]
fn a_weight_out_of_range_gives_the_range() {
    let e = fail("[mood]\nvoice_weight = 12.5\n");
    check(
        &e,
        ErrorKind::BadValue,
        1,
        "mood.voice_weight",
        &[
            "boards/mood.toml:39:16: mood.voice_weight: 12.5 is out of range",
            "allowed: 0 to 10",
            "help: how much this modality counts",
        ],
    );
    let e = fail("[mood]\nface_weight = -0.5\n");
    check(
        &e,
        ErrorKind::BadValue,
        1,
        "mood.face_weight",
        &["-0.5 is out of range"],
    );
    let e = fail("[mood]\nemoji_weight = nan\n");
    check(
        &e,
        ErrorKind::BadValue,
        1,
        "mood.emoji_weight",
        &["NaN is out of range"],
    );
}

#[test]
fn all_weights_zero_is_refused() {
    let e = fail("[mood]\nface_weight = 0.0\nvoice_weight = 0\nemoji_weight = 0.0\n");
    check(
        &e,
        ErrorKind::Conflict,
        3,
        "mood.emoji_weight",
        &[
            "face_weight, voice_weight and emoji_weight are all 0",
            "give at least one a weight above 0",
        ],
    );
}

#[test]
fn every_other_value_is_range_checked() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "face_stale_ms = 0",
            "mood.face_stale_ms",
            "allowed: 1 to 600000",
        ),
        (
            "voice_stale_ms = -5",
            "mood.voice_stale_ms",
            "-5 is out of range",
        ),
        (
            "emoji_stale_ms = 700000",
            "mood.emoji_stale_ms",
            "allowed: 1 to 600000",
        ),
        (
            "smoothing_ms = 600001",
            "mood.smoothing_ms",
            "allowed: 0 to 600000",
        ),
        ("hysteresis = 0.6", "mood.hysteresis", "allowed: 0 to 0.5"),
        (
            "min_dwell_ms = -1",
            "mood.min_dwell_ms",
            "allowed: 0 to 600000",
        ),
        (
            "min_confidence = 1.5",
            "mood.min_confidence",
            "allowed: 0 to 1",
        ),
    ];
    for (line, key, part) in cases {
        let e = fail(&format!("[mood]\n{line}\n"));
        check(&e, ErrorKind::BadValue, 1, key, &["is out of range", part]);
    }
    // The ends of each range are accepted.
    let ends = "[mood]\nface_weight = 10\nface_stale_ms = 1\nsmoothing_ms = 0\nhysteresis = 0.5\nmin_dwell_ms = 600000\nmin_confidence = 1.0\n";
    assert!(parse(&with_mood(ends)).is_ok());
}

#[test]
fn an_unknown_key_is_named_with_the_allowed_keys() {
    let e = fail("[mood]\nmin_dwell = 3000\n");
    check(
        &e,
        ErrorKind::UnknownKey,
        1,
        "mood.min_dwell",
        &[
            "unknown key `min_dwell` in [mood]",
            "allowed: face_weight, voice_weight, emoji_weight, face_stale_ms, voice_stale_ms, emoji_stale_ms, smoothing_ms, hysteresis, min_dwell_ms, min_confidence, idle_mood, fer7, ser8, emoji8",
            "help: did you mean `min_dwell_ms`?",
        ],
    );
    let e = fail("[mood.fer8]\nfear = \"sad\"\n");
    check(
        &e,
        ErrorKind::UnknownKey,
        0,
        "mood.fer8",
        &["unknown key `fer8` in [mood]", "did you mean `fer7`?"],
    );
}

#[test]
fn wrong_types_say_what_to_write() {
    let e = fail("[mood]\nface_weight = \"1.5\"\n");
    check(
        &e,
        ErrorKind::WrongType,
        1,
        "mood.face_weight",
        &[
            "expected a number, found a string (\"1.5\")",
            "help: write the number without quotes: `face_weight = 1.5`",
        ],
    );
    let e = fail("[mood]\nmin_dwell_ms = 2.5\n");
    check(
        &e,
        ErrorKind::WrongType,
        1,
        "mood.min_dwell_ms",
        &[
            "expected an integer, found a float (2.5)",
            "write a whole number, e.g. `min_dwell_ms = 3000`",
        ],
    );
    let e = fail("[mood.ser8]\ndisgust = 3\n");
    check(
        &e,
        ErrorKind::WrongType,
        1,
        "mood.ser8.disgust",
        &["expected a string, found an integer (3)"],
    );
}

#[test]
fn a_consent_button_needs_a_button() {
    let profile = parse(&with_mood(
        "[gpio]\nchip = \"/dev/gpiochip0\"\nbutton = 17\nconsent = true",
    ))
    .unwrap();
    let gpio = profile.gpio.unwrap();
    assert_eq!((gpio.button, gpio.consent), (Some(17), true));
    let plain = parse(&with_mood("[gpio]\nchip = \"/dev/gpiochip0\"\nbutton = 17")).unwrap();
    assert!(
        !plain.gpio.unwrap().consent,
        "consent is off unless asked for"
    );

    let err = parse(&with_mood(
        "[gpio]\nchip = \"/dev/gpiochip0\"\nconsent = true",
    ))
    .unwrap_err();
    let text = shown(&err);
    assert_eq!(err.kind(), ErrorKind::Conflict, "{text}");
    assert!(
        text.contains("gpio.consent") && text.contains("button"),
        "{text}"
    );
    assert!(
        err.help_text().is_some_and(|h| h.contains("button = 17")),
        "{text}"
    );
}
