//! `sentio hil run` refuses a case file it cannot run, before touching any device, and says
//! what to fix. (The runs themselves are tested against the device binary in
//! firmware/device/tests/hil.rs.)

use std::process::Command;

#[test]
fn a_case_file_with_a_missing_input_or_no_expectation_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    for (text, says) in [
        (
            "[[case]]\nname = \"x\"\nimage = \"nope.png\"\nexpect = { expression = \"happy\" }\n",
            "nope.png does not exist",
        ),
        (
            "[[case]]\nname = \"x\"\naudio = \"clip.wav\"\n",
            "expects nothing: add expect = { expression = \"happy\" }",
        ),
        (
            "bundles = [\"a.bundle\"]\n",
            "no [[case]]: add at least one",
        ),
    ] {
        std::fs::write(dir.path().join("clip.wav"), b"RIFF").unwrap();
        let cases = dir.path().join("cases.toml");
        std::fs::write(&cases, text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_sentio"))
            .args(["hil", "run", "--port", "/dev/null-no-such-port"])
            .arg(&cases)
            .arg("--junit")
            .arg(dir.path().join("reports"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // A case file is data: exit code 4.
        assert_eq!(out.status.code(), Some(4), "{stderr}");
        assert!(stderr.contains(says), "{text:?}: {stderr}");
        assert!(stderr.contains("help:"), "{stderr}");
        assert!(
            !dir.path().join("reports").exists(),
            "nothing written for a file that cannot run"
        );
    }
}
