//! `sentio faces` as a user runs it: the built binary on the Haar conformance fixtures of
//! sentio-vision, its JSON boxes against the library's, and a bad cascade file.

use std::path::{Path, PathBuf};

use sentio_vision::face::{FaceDetector, Pixels};
use sentio_vision::haar::{Cascade, HaarDetector, HaarParams};
use serde_json::Value;

mod common;

use common::{fails, ok, s, sentio};

const CASCADE: &str = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../firmware/vision/tests/fixtures/haar")
        .join(name)
}

/// Whether opencv-data's cascade is here; under CI its absence fails the test.
fn have_cascade() -> bool {
    if Path::new(CASCADE).exists() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{CASCADE} is missing: apt-get install opencv-data (CI must run this test)"
    );
    eprintln!("skipped: {CASCADE} is missing (apt-get install opencv-data)");
    false
}

#[test]
fn json_boxes_are_the_librarys() {
    if !have_cascade() {
        return;
    }
    let images = [
        fixture("lfw_mosaic_320x240.png"),
        fixture("astronaut_gray_400x300.png"),
    ];
    let out = ok(sentio(&[
        "faces",
        s(&images[0]),
        s(&images[1]),
        "--json",
        "--repeat",
        "2",
    ]));
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    let mut det = HaarDetector::new(
        Cascade::from_file(Path::new(CASCADE)).unwrap(),
        HaarParams::default(),
    );
    for (line, path) in lines.iter().zip(&images) {
        assert_eq!(line["image"], s(path));
        assert_eq!(line["detector"], "haar");
        assert!(line["detect_ms"].as_f64().unwrap() > 0.0);
        let rgb = sentio_vision::decode_image(path).unwrap().to_rgb8();
        assert_eq!(line["width"], rgb.width());
        assert_eq!(line["height"], rgb.height());
        let want = det.detect(&Pixels::of_rgb(&rgb)).unwrap();
        let got = line["faces"].as_array().unwrap();
        assert!(!want.is_empty());
        assert_eq!(got.len(), want.len(), "{line}");
        for (g, w) in got.iter().zip(&want) {
            let v = |k: &str| g[k].as_f64().unwrap() as f32;
            assert_eq!(
                (v("x"), v("y"), v("w"), v("h"), v("score")),
                (w.x, w.y, w.w, w.h, w.score),
                "{line}"
            );
            assert_eq!(g["keypoints"].as_array().unwrap().len(), 0);
        }
    }
}

#[test]
fn text_output_has_a_line_per_face() {
    if !have_cascade() {
        return;
    }
    let out = ok(sentio(&["faces", s(&fixture("astronaut_320x240.png"))]));
    assert!(out.contains("1 face(s) by haar"), "{out}");
    assert!(
        out.contains("face 0: x 109 y 40 w 62 h 62 score 38"),
        "{out}"
    );
}

#[test]
fn a_bad_cascade_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("my_cascade.xml");
    std::fs::write(&bad, "<opencv_storage><cascade>").unwrap();
    let err = fails(sentio(&[
        "faces",
        s(&fixture("astronaut_320x240.png")),
        "--cascade",
        s(&bad),
    ]));
    assert!(err.contains("my_cascade.xml"), "{err}");
    assert!(err.contains("not well-formed XML"), "{err}");
    assert!(err.contains("opencv-data"), "{err}");
}

#[test]
fn a_missing_image_names_the_file() {
    if !have_cascade() {
        return;
    }
    let err = fails(sentio(&["faces", "no_such_photo.png"]));
    assert!(err.contains("no_such_photo.png"), "{err}");
}
