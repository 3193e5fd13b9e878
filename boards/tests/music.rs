//! The optional `[music]` section and the music buttons of `[gpio]`: `None` when absent, every
//! key read, relative paths resolved against the profile's folder, and each bad value reported
//! at its key with the allowed values and a help line.

mod common;
use common::{BASE, BASE_LINES, check_error, shown};

use std::path::{Path, PathBuf};

use sentio_boards::*;
use sentio_mood::Mood;

/// [`BASE`] is a valid profile without `[music]` or `[gpio]`; `with` appends a blank line and a
/// section, so the section's first line is line `BASE_LINES + 2`.
fn with(section: &str) -> String {
    format!("{BASE}\n{section}")
}

fn parse(text: &str) -> Result<BoardProfile, ProfileError> {
    BoardProfile::from_str(
        text,
        ProfileOrigin::File("boards/music.toml".into()),
        Path::new("/opt/board"),
    )
}

/// Parses `BASE` + `section`, expecting an error.
fn fail(section: &str) -> ProfileError {
    match parse(&with(section)) {
        Ok(p) => panic!("{section:?} was accepted: {:?} {:?}", p.music, p.gpio),
        Err(e) => e,
    }
}

/// Checks kind, location (`line` counted from the start of the section, 0 for its first line),
/// key, that the rendered message contains `parts`, and that there is a help line.
#[track_caller]
fn check(e: &ProfileError, kind: ErrorKind, line: usize, key: &str, parts: &[&str]) {
    check_error(
        e,
        "boards/music.toml",
        kind,
        BASE_LINES + 2 + line,
        key,
        parts,
    );
}

#[test]
fn the_base_has_the_line_count_the_tests_assume() {
    assert_eq!(BASE.lines().count(), BASE_LINES);
    let e = fail("[music]\ncrossfade_ms = 20000");
    assert_eq!(e.line(), Some(BASE_LINES + 3));
}

#[test]
fn the_sim_profiles_play_the_sim_music_from_existing_folders() {
    let boards = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in ["sim", "sim-mono"] {
        let p = BoardProfile::load(name).expect("built-in loads");
        let music = p.music.as_ref().expect("sim has [music]");
        let moods: Vec<&str> = music.folders.keys().map(String::as_str).collect();
        let mut all = Mood::ALL.map(Mood::as_str).to_vec();
        all.sort_unstable();
        assert_eq!(moods, all, "{name}: a folder for every mood");
        for (mood, folder) in &music.folders {
            assert_eq!(folder, &boards.join("sim/music").join(mood), "{name}");
            assert!(
                folder.is_dir(),
                "{name}: {} is not a folder",
                folder.display()
            );
            let wavs = std::fs::read_dir(folder)
                .expect("readable")
                .filter_map(|e| e.ok())
                .filter(|e| e.path().extension().is_some_and(|x| x == "wav"))
                .count();
            assert!(wavs >= 1, "{name}: no .wav in {}", folder.display());
        }
        assert_eq!(
            (
                music.crossfade_ms,
                music.skip_crossfade_ms,
                music.min_dwell_ms,
                music.long_dwell_ms,
                music.seed,
            ),
            (1500, 300, 1500, 4000, 7),
            "{name}"
        );
        assert_eq!(music.loudness_cache, None, "{name}: cache in memory");
        let defaults = MusicConfig::default();
        assert_eq!(music.fallback_mood, defaults.fallback_mood);
        assert_eq!(music.volume, defaults.volume);
        music.validate().expect("valid");
    }
}

#[test]
fn without_the_section_there_is_no_music() {
    assert_eq!(parse(BASE).expect("valid").music, None);
    for name in [
        "rpi4",
        "rpi5",
        "rpi-zero2w",
        "jetson-nano",
        "jetson-orin-nano",
    ] {
        let p = BoardProfile::load(name).expect("built-in loads");
        assert_eq!(p.music, None, "{name}: [music] is commented out");
        let gpio = p.gpio.expect("real boards have [gpio]");
        assert_eq!(
            (gpio.next, gpio.volume_up, gpio.volume_down),
            (None, None, None),
            "{name}: the music buttons are commented out"
        );
    }
}

#[test]
fn an_empty_section_is_the_defaults() {
    let p = parse(&with("[music]\n")).expect("valid");
    assert_eq!(p.music, Some(MusicConfig::default()));
}

#[test]
fn every_key_is_read_and_relative_paths_resolve_against_the_profile_folder() {
    let p = parse(&with(
        r#"[music]
fallback_mood = "calm"
crossfade_ms = 4000
skip_crossfade_ms = 1000
min_dwell_ms = 0
long_dwell_ms = 120000
no_repeat = 5
seed = 42
duck_depth_db = 18
duck_attack_ms = 200
duck_release_ms = 1200
target_lufs = -23.0
max_gain_db = 6.5
volume = 0.5
loudness_cache = "cache/loudness.json"

[music.folders]
happy = "music/happy"
sad = "/srv/music/sad.m3u"
calm = "does/not/exist"
"#,
    ))
    .expect("valid: folders are not looked at");
    let m = p.music.expect("present");
    assert_eq!(m.fallback_mood, "calm");
    assert_eq!(
        (
            m.crossfade_ms,
            m.skip_crossfade_ms,
            m.min_dwell_ms,
            m.long_dwell_ms
        ),
        (4000, 1000, 0, 120_000)
    );
    assert_eq!((m.no_repeat, m.seed), (5, 42));
    assert_eq!(
        (m.duck_depth_db, m.duck_attack_ms, m.duck_release_ms),
        (18.0, 200, 1200)
    );
    assert_eq!((m.target_lufs, m.max_gain_db, m.volume), (-23.0, 6.5, 0.5));
    let base = Path::new("/opt/board");
    assert_eq!(
        m.loudness_cache,
        Some(base.join("cache/loudness.json")),
        "relative cache resolved"
    );
    let folders: Vec<(&str, PathBuf)> = m
        .folders
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    assert_eq!(
        folders,
        [
            ("calm", base.join("does/not/exist")),
            ("happy", base.join("music/happy")),
            ("sad", PathBuf::from("/srv/music/sad.m3u")),
        ]
    );
}

#[test]
fn an_unknown_mood_in_folders_is_named_with_the_moods() {
    let e = fail("[music]\n[music.folders]\nhappy = \"a\"\nhapy = \"b\"\n");
    check(
        &e,
        ErrorKind::UnknownKey,
        3,
        "music.folders.hapy",
        &[
            "\"hapy\" is not a mood",
            "allowed: neutral, happy, sad, angry, fearful, surprised, calm",
            "did you mean `happy`?",
        ],
    );
    // The inline-table form points at the label too.
    let e = fail("[music]\nfolders = { joyful = \"x\" }\n");
    check(
        &e,
        ErrorKind::UnknownKey,
        1,
        "music.folders.joyful",
        &["\"joyful\" is not a mood"],
    );
    let e = fail("[music.folders]\nsad = \"\"\n");
    check(
        &e,
        ErrorKind::BadValue,
        1,
        "music.folders.sad",
        &["must not be empty"],
    );
}

#[test]
fn an_unknown_fallback_mood_is_named_with_the_moods() {
    let e = fail("[music]\nfallback_mood = \"Calm\"\n");
    check(
        &e,
        ErrorKind::BadValue,
        1,
        "music.fallback_mood",
        &["\"Calm\" is not a mood", "calm", "did you mean `calm`?"],
    );
}

#[test]
fn values_out_of_range_give_the_range_of_sentio_music() {
    let cases = [
        ("crossfade_ms = 20000", "music.crossfade_ms", "0 to 15000"),
        ("crossfade_ms = -1", "music.crossfade_ms", "0 to 15000"),
        (
            "crossfade_ms = 99999999999",
            "music.crossfade_ms",
            "0 to 15000",
        ),
        ("min_dwell_ms = 60001", "music.min_dwell_ms", "0 to 60000"),
        (
            "long_dwell_ms = 999",
            "music.long_dwell_ms",
            "1000 to 3600000",
        ),
        ("no_repeat = 1001", "music.no_repeat", "0 to 1000"),
        ("duck_depth_db = 61", "music.duck_depth_db", "0 to 60"),
        ("duck_attack_ms = 0", "music.duck_attack_ms", "1 to 5000"),
        (
            "duck_release_ms = 30001",
            "music.duck_release_ms",
            "1 to 30000",
        ),
        ("target_lufs = -4.5", "music.target_lufs", "-40 to -5"),
        ("target_lufs = nan", "music.target_lufs", "-40 to -5"),
        ("max_gain_db = 1e300", "music.max_gain_db", "0 to 30"),
        ("volume = 1.5", "music.volume", "0 to 1"),
        ("seed = -1", "music.seed", "0 to 9223372036854775807"),
    ];
    for (line, key, allowed) in cases {
        let e = fail(&format!("[music]\n{line}\n"));
        let written = line.split(" = ").nth(1).unwrap_or_default();
        check(
            &e,
            ErrorKind::BadValue,
            1,
            key,
            &[
                &format!("{written} is out of range"),
                &format!("allowed: {allowed}"),
            ],
        );
        let help = e.help_text().unwrap_or_default();
        assert!(help.contains("e.g. `"), "{line}: no example in {help:?}");
    }
}

#[test]
fn a_skip_crossfade_longer_than_the_crossfade_is_a_conflict() {
    let e = fail("[music]\ncrossfade_ms = 1000\nskip_crossfade_ms = 1500\n");
    check(
        &e,
        ErrorKind::Conflict,
        2,
        "music.skip_crossfade_ms",
        &[
            "1500 is longer than crossfade_ms (1000)",
            "allowed: 0 to crossfade_ms (1000)",
            "lower it to at most 1000",
        ],
    );
    // The default skip crossfade (500) does not fit a crossfade of 300: the error points at
    // the key that is written.
    let e = fail("[music]\ncrossfade_ms = 300\n");
    check(
        &e,
        ErrorKind::Conflict,
        1,
        "music.crossfade_ms",
        &[
            "shorter than skip_crossfade_ms (default 500)",
            "skip_crossfade_ms = 300",
        ],
    );
}

#[test]
fn an_unknown_key_is_named_with_the_allowed_keys() {
    let e = fail("[music]\ncrossfade = 3000\n");
    check(
        &e,
        ErrorKind::UnknownKey,
        1,
        "music.crossfade",
        &[
            "unknown key `crossfade` in [music]",
            "crossfade_ms",
            "did you mean `crossfade_ms`?",
        ],
    );
}

#[test]
fn wrong_types_say_what_to_write() {
    let e = fail("[music]\ncrossfade_ms = \"3000\"\n");
    check(
        &e,
        ErrorKind::WrongType,
        1,
        "music.crossfade_ms",
        &["write the number without quotes: `crossfade_ms = 3000`"],
    );
    let e = fail("[music]\nfolders = \"music\"\n");
    check(&e, ErrorKind::WrongType, 1, "music.folders", &["a table"]);
}

#[test]
fn the_music_buttons_are_read() {
    let p = parse(&with(
        "[gpio]\nchip = \"/dev/gpiochip0\"\nbutton = 17\nnext = 22\nvolume_up = 23\nvolume_down = 24\n",
    ))
    .expect("valid");
    let g = p.gpio.expect("present");
    assert_eq!(
        (g.button, g.next, g.volume_up, g.volume_down),
        (Some(17), Some(22), Some(23), Some(24))
    );
    // Each is optional, and none needs `button`.
    let p = parse(&with("[gpio]\nchip = \"gpiochip0\"\nvolume_down = 5\n")).expect("valid");
    let g = p.gpio.expect("present");
    assert_eq!(
        (g.button, g.next, g.volume_up, g.volume_down),
        (None, None, None, Some(5))
    );
}

#[test]
fn two_buttons_on_one_line_are_named_both() {
    let e = fail("[gpio]\nchip = \"/dev/gpiochip0\"\nbutton = 17\nnext = 17\n");
    check(
        &e,
        ErrorKind::Conflict,
        3,
        "gpio.next",
        &["GPIO line 17 on /dev/gpiochip0 is used by both gpio.button and gpio.next"],
    );
    let e = fail("[gpio]\nchip = \"/dev/gpiochip0\"\nvolume_up = 23\nvolume_down = 23\n");
    check(
        &e,
        ErrorKind::Conflict,
        3,
        "gpio.volume_down",
        &["used by both gpio.volume_up and gpio.volume_down"],
    );
    let e = fail("[gpio]\nchip = \"/dev/gpiochip0\"\nvolume_up = 1024\n");
    check(
        &e,
        ErrorKind::BadValue,
        2,
        "gpio.volume_up",
        &["1024 is out of range", "allowed: 0 to 1023"],
    );
}

#[test]
fn a_music_button_on_a_display_line_is_refused() {
    let mut p =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/rpi4.toml"))
            .expect("readable");
    p = p.replace("button = 17\n", "button = 17\nvolume_up = 25\n");
    let e = BoardProfile::from_str(&p, ProfileOrigin::File("rpi4.toml".into()), Path::new("."))
        .expect_err("dc is line 25");
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert_eq!(e.key_path(), Some("gpio.volume_up"), "{e}");
    assert!(
        shown(&e).contains("used by both display.spi.dc and gpio.volume_up"),
        "{e}"
    );
}

/// The real boards' commented-out `[music]` and button examples are valid once uncommented.
#[test]
fn the_commented_examples_of_the_real_boards_are_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
    for name in [
        "rpi4",
        "rpi5",
        "rpi-zero2w",
        "jetson-nano",
        "jetson-orin-nano",
    ] {
        let text = std::fs::read_to_string(dir.join(format!("{name}.toml"))).expect("readable");
        let (head, music) = text
            .split_once("\n# [music]\n")
            .unwrap_or_else(|| panic!("{name}: no commented [music] example"));
        let mut out = String::new();
        for line in head.lines() {
            let button = ["# next = ", "# volume_up = ", "# volume_down = "]
                .iter()
                .any(|p| line.starts_with(p));
            out.push_str(if button { &line[2..] } else { line });
            out.push('\n');
        }
        out.push_str("[music]\n");
        for line in music.lines() {
            out.push_str(line.strip_prefix("# ").unwrap_or(line));
            out.push('\n');
        }
        let p = BoardProfile::from_str(
            &out,
            ProfileOrigin::File(format!("{name}.toml").into()),
            Path::new("/etc/sentio"),
        )
        .unwrap_or_else(|e| panic!("{name} uncommented:\n{e}"));
        let m = p.music.expect("[music] present");
        assert_eq!(m.folders.len(), Mood::COUNT, "{name}");
        for (mood, folder) in &m.folders {
            assert_eq!(
                folder,
                &Path::new("/var/lib/sentio/music").join(mood),
                "{name}"
            );
        }
        let g = p.gpio.expect("[gpio] present");
        assert!(
            g.next.is_some() && g.volume_up.is_some() && g.volume_down.is_some(),
            "{name}: all three buttons in the example"
        );
    }
}
