//! What the profile tests share.

#![allow(dead_code)]

use sentio_boards::{ErrorKind, ProfileError};

/// A valid profile with only the required sections, for the tests of an optional section
/// (appended after a blank line, so its first line is line `BASE_LINES + 2`).
pub const BASE: &str = r#"[board]
name = "testboard"
description = "test"

[cpu]
arch = "x86_64"
cores = 2
features = []

[camera]
driver = "sim"
device = "pattern"
width = 640
height = 480
fps = 15
pixel_format = "rgb888"

[audio]
driver = "sim"
capture = "silence"
playback = "speaker.wav"
rate = 16000

[display]
driver = "none"

[serial]
device = "pty"
baud = 921600

[runtime]
threads = 1
precision = "f32"

[models]
load = ["fer", "ser"]
"#;

/// The lines of [`BASE`].
pub const BASE_LINES: usize = 36;

/// A profile error as the binaries show it (plain): its text, then its help line.
pub fn shown(e: &sentio_boards::ProfileError) -> String {
    match miette::Diagnostic::help(e) {
        Some(help) => format!("{e}\n  help: {help}"),
        None => e.to_string(),
    }
}

/// Checks an error's kind, file, 1-based line and key, that its rendered text starts with
/// `file:line:` and contains `parts`, that it has a help line, and that the span a terminal
/// underlines is on the same line of the same file.
#[track_caller]
pub fn check_error(
    e: &ProfileError,
    file: &str,
    kind: ErrorKind,
    line: usize,
    key: &str,
    parts: &[&str],
) {
    let text = shown(e);
    assert_eq!(e.kind(), kind, "{text}");
    assert_eq!(e.file(), Some(file), "{text}");
    assert_eq!(e.line(), Some(line), "{text}");
    assert_eq!(e.key_path(), Some(key), "{text}");
    assert!(text.starts_with(&format!("{file}:{line}:")), "{text}");
    for part in parts {
        assert!(text.contains(part), "{part:?} not in:\n{text}");
    }
    assert!(e.help_text().is_some(), "no help line:\n{text}");
    let labels: Vec<_> = miette::Diagnostic::labels(e).expect("a span").collect();
    assert_eq!(labels.len(), 1, "{text}");
    assert_eq!(labels[0].label(), Some(key), "{text}");
    let source = miette::Diagnostic::source_code(e).expect("the profile text");
    let at = source.read_span(labels[0].inner(), 0, 0).unwrap();
    assert_eq!(at.line() + 1, line, "{text}");
    assert_eq!(at.name(), Some(file), "{text}");
}
