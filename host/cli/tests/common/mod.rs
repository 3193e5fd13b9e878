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
