//! The optional `[pointer]` section (sketch mode's touch panel): driver `none` when absent, the
//! sim driver's stroke file resolved against the profile's folder, the evdev driver's device,
//! the idle time, and each bad key or value reported at its line with a help line.

mod common;
use common::{BASE, BASE_LINES, check_error};

use std::fs;
use std::path::{Path, PathBuf};

use sentio_boards::*;

/// [`BASE`] is a valid profile without `[pointer]`; `with` appends a blank line and a section,
/// so the section's first line is line `BASE_LINES + 2`.
fn with(section: &str) -> String {
    format!("{BASE}\n{section}")
}

fn parse(text: &str) -> Result<BoardProfile, ProfileError> {
    BoardProfile::from_str(
        text,
        ProfileOrigin::File("boards/pointer.toml".into()),
        Path::new("/opt/board"),
    )
}

fn pointer(section: &str) -> PointerConfig {
    match parse(&with(section)) {
        Ok(p) => p.pointer,
        Err(e) => panic!("{section:?} was refused:\n{e}"),
    }
}

fn fail(section: &str) -> ProfileError {
    match parse(&with(section)) {
        Ok(p) => panic!("{section:?} was accepted: {:?}", p.pointer),
        Err(e) => e,
    }
}

/// Checks kind, location (`line` counted from the section's first line, 0), key, that the
/// rendered message contains `parts`, and that there is a help line.
#[track_caller]
fn check(e: &ProfileError, kind: ErrorKind, line: usize, key: &str, parts: &[&str]) {
    check_error(
        e,
        "boards/pointer.toml",
        kind,
        BASE_LINES + 2 + line,
        key,
        parts,
    );
}

#[test]
fn the_base_has_the_line_count_the_tests_assume() {
    assert_eq!(BASE.lines().count(), BASE_LINES);
    let e = fail("[pointer]\ndriver = \"sim\"\nstrokes = \"\"");
    assert_eq!(e.line(), Some(BASE_LINES + 4));
}

#[test]
fn without_the_section_there_is_no_pointer() {
    let p = parse(BASE).expect("valid").pointer;
    assert_eq!(p, PointerConfig::default());
    assert_eq!(p.driver, PointerDriver::None);
    assert_eq!((p.strokes, p.device), (None, None));
    assert_eq!(p.idle_ms, 1500);
    assert_eq!(
        PointerConfig::default().idle(),
        std::time::Duration::from_millis(1500)
    );
    // Nor in any built-in profile yet.
    for name in builtin_names() {
        let p = BoardProfile::load(name).expect("built-in loads");
        assert_eq!(p.pointer.driver, PointerDriver::None, "{name}");
    }
}

#[test]
fn every_key_is_read() {
    let p = pointer("[pointer]\ndriver = \"sim\"\nstrokes = \"sim/strokes.json\"\nidle_ms = 800");
    assert_eq!(
        p,
        PointerConfig {
            driver: PointerDriver::Sim,
            strokes: Some(PathBuf::from("/opt/board/sim/strokes.json")),
            device: None,
            idle_ms: 800,
        }
    );
    assert_eq!(p.idle(), std::time::Duration::from_millis(800));

    let p = pointer("[pointer]\ndriver = \"evdev\"\ndevice = \"/dev/input/event3\"");
    assert_eq!(
        p,
        PointerConfig {
            driver: PointerDriver::Evdev,
            strokes: None,
            device: Some("/dev/input/event3".to_owned()),
            idle_ms: 1500,
        }
    );

    // An absolute stroke path stays as written; `none` needs nothing.
    let p = pointer("[pointer]\ndriver = \"sim\"\nstrokes = \"/srv/s.json\"");
    assert_eq!(p.strokes, Some(PathBuf::from("/srv/s.json")));
    let p = pointer("[pointer]\ndriver = \"none\"\nidle_ms = 100");
    assert_eq!((p.driver, p.idle_ms), (PointerDriver::None, 100));
    assert_eq!(
        pointer("[pointer]\ndriver = \"sim\"\nstrokes = \"a.json\"\nidle_ms = 10000").idle_ms,
        10_000
    );
}

#[test]
fn the_stroke_file_resolves_against_the_profiles_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sub = dir.path().join("kiosk");
    fs::create_dir(&sub).expect("mkdir");
    let path = sub.join("desk.toml");
    fs::write(
        &path,
        with("[pointer]\ndriver = \"sim\"\nstrokes = \"sketches/hearts.json\""),
    )
    .expect("write");
    let p = BoardProfile::load(path.to_str().expect("utf-8")).expect("valid");
    assert_eq!(
        p.pointer.strokes,
        Some(sub.join("sketches/hearts.json")),
        "like the camera's {:?}",
        p.resolve(&p.camera.device)
    );
    // Resolving it again (as for camera paths) changes nothing.
    let strokes = p.pointer.strokes.as_ref().expect("strokes");
    assert_eq!(&p.resolve(strokes.to_str().expect("utf-8")), strokes);
}

#[test]
fn an_unknown_driver_lists_the_drivers() {
    let e = fail("[pointer]\ndriver = \"evdv\"");
    check(
        &e,
        ErrorKind::BadValue,
        1,
        "pointer.driver",
        &[
            "unknown pointer driver \"evdv\"",
            "allowed: none, sim, evdev",
            "did you mean \"evdev\"?",
        ],
    );
}

#[test]
fn a_section_without_a_driver() {
    let e = fail("[pointer]\nidle_ms = 1500");
    check(
        &e,
        ErrorKind::MissingKey,
        0,
        "pointer.driver",
        &[
            "missing key `driver` in [pointer]",
            "add `driver = \"evdev\"`",
        ],
    );
}

#[test]
fn unknown_keys_name_the_allowed_ones() {
    let e = fail("[pointer]\ndriver = \"sim\"\nstroke = \"s.json\"");
    check(
        &e,
        ErrorKind::UnknownKey,
        2,
        "pointer.stroke",
        &[
            "unknown key `stroke` in [pointer]",
            "allowed: driver, strokes, device, idle_ms",
            "did you mean `strokes`?",
        ],
    );
}

#[test]
fn each_driver_needs_its_key() {
    let e = fail("[pointer]\ndriver = \"sim\"");
    check(
        &e,
        ErrorKind::MissingKey,
        0,
        "pointer.strokes",
        &[
            "pointer driver \"sim\" needs `strokes`",
            "add `strokes = \"sim/strokes.json\"` to [pointer]",
        ],
    );
    let e = fail("[pointer]\nidle_ms = 900\ndriver = \"evdev\"");
    check(
        &e,
        ErrorKind::MissingKey,
        0,
        "pointer.device",
        &[
            "pointer driver \"evdev\" needs `device`",
            "add `device = \"/dev/input/event0\"` to [pointer]",
        ],
    );
}

#[test]
fn a_key_of_another_driver_is_refused() {
    let e =
        fail("[pointer]\ndriver = \"evdev\"\ndevice = \"/dev/input/event0\"\nstrokes = \"s.json\"");
    check(
        &e,
        ErrorKind::Conflict,
        3,
        "pointer.strokes",
        &[
            "pointer driver \"evdev\" does not use `strokes`",
            "`strokes` belongs to driver = \"sim\"",
        ],
    );
    let e =
        fail("[pointer]\ndriver = \"sim\"\nstrokes = \"s.json\"\ndevice = \"/dev/input/event0\"");
    check(
        &e,
        ErrorKind::Conflict,
        3,
        "pointer.device",
        &[
            "pointer driver \"sim\" does not use `device`",
            "driver = \"evdev\"",
        ],
    );
    let e = fail("[pointer]\ndriver = \"none\"\ndevice = \"/dev/input/event0\"");
    check(
        &e,
        ErrorKind::Conflict,
        2,
        "pointer.device",
        &["pointer driver \"none\" does not use `device`"],
    );
}

#[test]
fn bad_values_are_named_at_their_key() {
    let e = fail("[pointer]\ndriver = \"sim\"\nstrokes = \"  \"");
    check(
        &e,
        ErrorKind::BadValue,
        2,
        "pointer.strokes",
        &["must not be empty", "stroke file"],
    );
    let e = fail("[pointer]\ndriver = \"evdev\"\ndevice = \"event0\"");
    check(
        &e,
        ErrorKind::BadValue,
        2,
        "pointer.device",
        &[
            "\"event0\" is not an absolute device path",
            "/proc/bus/input/devices",
        ],
    );
    for bad in ["99", "10001", "-5"] {
        let e = fail(&format!(
            "[pointer]\ndriver = \"sim\"\nstrokes = \"s.json\"\nidle_ms = {bad}"
        ));
        check(
            &e,
            ErrorKind::BadValue,
            3,
            "pointer.idle_ms",
            &[&format!("{bad} is out of range"), "allowed: 100 to 10000"],
        );
    }
    let e = fail("[pointer]\ndriver = \"sim\"\nstrokes = \"s.json\"\nidle_ms = \"1500\"");
    check(
        &e,
        ErrorKind::WrongType,
        3,
        "pointer.idle_ms",
        &[
            "expected an integer",
            "write the number without quotes: `idle_ms = 1500`",
        ],
    );
    let e = fail("[pointer]\ndriver = \"sim\"\nstrokes = [\"a.json\"]");
    check(
        &e,
        ErrorKind::WrongType,
        2,
        "pointer.strokes",
        &["expected a string", "`strokes = \"sim/strokes.json\"`"],
    );
}
