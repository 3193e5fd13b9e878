//! One preprocessing path: the expression scores the device computes for the face in a camera
//! frame equal what `sentio run` prints for the same crop saved as a PNG.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sentio_boards::BoardProfile;
use sentio_hal::{Clock, Frame, PixelFormat, VirtualClock};
use sentiod::pipeline::{Pipeline, StepInput};
use sentiod::setup::{self, FaceOptions};
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether Debian's opencv-data put the Haar cascade the sim profile names where it reads it;
/// a missing one skips the test here and fails it in CI, which installs it.
fn cascade_installed(profile: &BoardProfile) -> bool {
    let cascade = profile.resolve(&profile.faces.cascade);
    if cascade.is_file() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "apt-get install opencv-data"
    );
    eprintln!(
        "skipped: {} is missing (apt-get install opencv-data)",
        cascade.display()
    );
    false
}

#[test]
fn device_expression_scores_equal_sentio_run_on_the_same_crop() {
    let profile = BoardProfile::load("sim").unwrap();
    if !cascade_installed(&profile) {
        return;
    }
    let mut events = Vec::new();
    let mut pipeline = setup::face_pipeline(&profile, &FaceOptions::default(), None, &mut |e| {
        events.push(e)
    });
    let photo = image::open(repo().join("boards/sim/camera/frame_00.jpg"))
        .unwrap()
        .to_rgb8();
    let frame = Frame {
        width: photo.width(),
        height: photo.height(),
        pixel_format: PixelFormat::Rgb888,
        data: photo.as_raw(),
        timestamp: Duration::ZERO,
        sequence: 0,
    };
    let clock = VirtualClock::new();
    pipeline.step(
        &StepInput {
            frame: &frame,
            audio: &[],
            sample_rate: 16000,
            index: 0,
            t_ms: 0.0,
            media_ms: 0,
            now: clock.now(),
            clock: &clock,
        },
        &mut |e| events.push(e),
    );
    let (crop, device_scores) = pipeline
        .last_reading()
        .unwrap_or_else(|| panic!("the device read no face: {events:?}"));
    assert_eq!(device_scores.len(), 7);

    let dir = tempfile::tempdir().unwrap();
    let crop_path = dir.path().join("crop.png");
    crop.save(&crop_path).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sentio"))
        .arg("run")
        .arg(repo().join("models/zoo/fer/model.onnx"))
        .arg("--image")
        .arg(&crop_path)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let host_scores: Vec<f32> = doc["outputs"][0]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(host_scores.len(), 7);
    for (i, (d, h)) in device_scores.iter().zip(&host_scores).enumerate() {
        assert!(
            (d - h).abs() <= 1e-6,
            "score {i}: device {d}, sentio run {h} (device {device_scores:?}, host {host_scores:?})"
        );
    }
}

#[test]
fn sentio_faces_reads_each_face_expression_with_fer() {
    if !cascade_installed(&BoardProfile::load("sim").unwrap()) {
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_sentio"))
        .arg("faces")
        .arg(repo().join("boards/sim/camera/frame_00.jpg"))
        .args(["--min-neighbors", "8", "--json", "--fer"])
        .arg(repo().join("models/zoo/fer/model.onnx"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let faces = doc["faces"].as_array().unwrap();
    assert_eq!(faces.len(), 1, "{doc}");
    let expression = &faces[0]["expression"];
    let scores: Vec<f64> = expression["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["score"].as_f64().unwrap())
        .collect();
    assert_eq!(scores.len(), 7);
    assert!(
        (scores.iter().sum::<f64>() - 1.0).abs() < 1e-4,
        "{scores:?}"
    );
    let best = scores.iter().cloned().fold(f64::MIN, f64::max);
    assert_eq!(expression["score"].as_f64().unwrap(), best);
    assert_eq!(expression["scores"][0]["label"], "angry");

    // A model that is not an expression model is refused by name.
    let out = Command::new(env!("CARGO_BIN_EXE_sentio"))
        .arg("faces")
        .arg(repo().join("boards/sim/camera/frame_00.jpg"))
        .arg("--fer")
        .arg(repo().join("models/zoo/ser/model.onnx"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ser") && err.contains("not \"fer\""), "{err}");
}
