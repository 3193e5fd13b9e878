//! The loader never panics on damaged profiles, and every error it reports points inside the text.
//! A deterministic stand-in for fuzzing: every prefix and many single-byte edits of every
//! built-in profile.

use std::path::Path;

use sentio_boards::*;

fn builtin_texts() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
    builtin_names()
        .iter()
        .map(|name| {
            let text =
                std::fs::read_to_string(dir.join(format!("{name}.toml"))).expect("profile file");
            ((*name).to_owned(), text)
        })
        .collect()
}

#[track_caller]
fn check_located(text: &str, what: &str) {
    let result = BoardProfile::from_str(
        text,
        ProfileOrigin::File("fuzz.toml".into()),
        Path::new("."),
    );
    if let Err(e) = result {
        let lines = text.split('\n').count();
        assert_eq!(e.file(), Some("fuzz.toml"), "{what}: {e}");
        if let Some(line) = e.line() {
            assert!(
                line >= 1 && line <= lines,
                "{what}: line {line} of {lines}: {e}"
            );
            assert!(e.column().is_some_and(|c| c >= 1), "{what}: {e}");
        } else {
            // Only a missing top-level table has no position.
            assert_eq!(e.kind(), ErrorKind::MissingKey, "{what}: {e}");
        }
        assert!(!e.message().is_empty(), "{what}");
    }
}

#[test]
fn every_prefix_of_every_builtin() {
    for (name, text) in builtin_texts() {
        for (cut, _) in text.char_indices().step_by(3) {
            check_located(&text[..cut], &format!("{name} cut at {cut}"));
        }
    }
}

#[test]
fn single_byte_edits_of_every_builtin() {
    const REPLACEMENTS: &[&str] = &["\"", "[", "]", "=", "\n", "x", "0", "-", ".", "é"];
    for (name, text) in builtin_texts() {
        for (at, ch) in text.char_indices().step_by(2) {
            for (r, replacement) in REPLACEMENTS.iter().enumerate() {
                // Spread the replacements over the positions to keep the run short.
                if (at + r) % 3 != 0 {
                    continue;
                }
                let mut edited = String::with_capacity(text.len() + 2);
                edited.push_str(&text[..at]);
                edited.push_str(replacement);
                edited.push_str(&text[at + ch.len_utf8()..]);
                check_located(&edited, &format!("{name}: byte {at} -> {replacement:?}"));
            }
        }
    }
}
