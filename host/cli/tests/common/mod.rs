//! Helpers shared by the CLI's integration tests: run the built `sentio` binary, paths.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the built `sentio` with `args`.
pub fn sentio(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sentio"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs the built `sentio` with `args` in `dir` (so relative paths in its messages are the same
/// on every machine), logging nothing and without colours.
pub fn sentio_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sentio"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env_remove("SENTIO_PORT")
        .env_remove("SENTIO_BAUD")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Compares `actual` with `tests/snapshots/NAME.txt`. With `SENTIO_BLESS=1` (or when the file is
/// missing, which then fails) it writes the file instead, to be looked at and committed.
pub fn assert_snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.txt"));
    let bless = std::env::var_os("SENTIO_BLESS").is_some();
    match std::fs::read_to_string(&path) {
        Ok(expected) if !bless => assert_eq!(
            actual,
            expected,
            "{name}: the rendered error changed; if that is intended, rerun with SENTIO_BLESS=1 \
             and look at {}",
            path.display()
        ),
        _ => {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, actual).unwrap();
            assert!(
                bless,
                "{name}: no snapshot yet; wrote {} from this run, look at it and commit it",
                path.display()
            );
        }
    }
}

/// The stdout of a run that must succeed.
pub fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The stderr of a run that must fail.
pub fn fails(out: Output) -> String {
    assert!(
        !out.status.success(),
        "expected a failure; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

/// A path as a command-line argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The shipped emoji model (models/zoo/emoji/model.onnx, its manifest beside it).
pub fn zoo_emoji() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/zoo/emoji/model.onnx")
}
