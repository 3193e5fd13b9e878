//! `sentio data` as a user runs it: the built binary on real files.

use std::process::Command;

mod common;

use common::{fails, ok, s, sentio};

#[test]
fn synth_writes_a_dataset_and_the_same_seed_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    let text = ok(sentio(&[
        "data",
        "synth",
        "emoji",
        "--out",
        s(&a),
        "--per-class",
        "3",
        "--seed",
        "5",
    ]));
    assert!(
        text.contains("wrote 24 images (8 classes x 3, 64x64 gray, label set emoji8, seed 5)"),
        "{text}"
    );
    ok(sentio(&[
        "data",
        "synth",
        "emoji",
        "--out",
        s(&b),
        "--per-class",
        "3",
        "--seed",
        "5",
    ]));
    for name in ["tears_of_joy/tears_of_joy-00002.png", "dataset.json"] {
        assert_eq!(
            std::fs::read(a.join(name)).unwrap(),
            std::fs::read(b.join(name)).unwrap()
        );
    }
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("dataset.json")).unwrap()).unwrap();
    assert_eq!(info["label_set"], "emoji8");
    assert_eq!(info["seed"], 5);

    let faces = tmp.path().join("faces");
    let text = ok(sentio(&[
        "data",
        "synth",
        "faces",
        "--out",
        s(&faces),
        "--per-class",
        "2",
    ]));
    assert!(text.contains("14 images"), "{text}");

    // Again into the same folder: refused, with a help line, and the dataset is untouched.
    let err = fails(sentio(&[
        "data",
        "synth",
        "emoji",
        "--out",
        s(&a),
        "--per-class",
        "1",
    ]));
    assert!(err.contains("already exists and is not empty"), "{err}");
    assert!(err.contains("help: choose a new --out"), "{err}");
    assert_eq!(std::fs::read_dir(a.join("angry")).unwrap().count(), 3);
}

#[test]
fn import_fer2013_reports_bad_rows_or_fails_as_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let pixels = |n: usize| vec!["128"; n].join(" ");
    let csv = tmp.path().join("fer2013.csv");
    std::fs::write(
        &csv,
        format!(
            "emotion,pixels,Usage\n3,{},Training\n1,{},Training\n8,{},PublicTest\n",
            pixels(2304),
            pixels(100),
            pixels(2304)
        ),
    )
    .unwrap();

    let failed = tmp.path().join("failed");
    let err = fails(sentio(&[
        "data",
        "import",
        "fer2013",
        s(&csv),
        "--out",
        s(&failed),
        "--bad-rows",
        "fail",
    ]));
    assert!(err.contains("fer2013.csv:3: 100 pixel values"), "{err}");
    assert!(err.contains("help:"), "{err}");
    assert!(!failed.exists());

    let out = tmp.path().join("fer");
    let text = ok(sentio(&[
        "data",
        "import",
        "fer2013",
        s(&csv),
        "--out",
        s(&out),
    ]));
    assert!(text.contains("imported 1 images"), "{text}");
    assert!(text.contains("skipped 2 malformed"), "{text}");
    assert!(text.contains("fer2013.csv:3: 100 pixel values"), "{text}");
    assert!(
        text.contains("fer2013.csv:4: emotion 8 is out of range"),
        "{text}"
    );
    assert!(out.join("happy/training-000002.png").is_file());
}

#[test]
fn import_imagefolder_converts_images() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(src.join("neutral")).unwrap();
    image::RgbImage::from_pixel(30, 20, image::Rgb([10, 200, 30]))
        .save(src.join("neutral/face.jpg"))
        .unwrap();
    let out = tmp.path().join("out");
    let text = ok(sentio(&[
        "data",
        "import",
        "imagefolder",
        s(&src),
        "--out",
        s(&out),
    ]));
    assert!(text.contains("imported 1 images"), "{text}");
    assert!(text.contains("label set fer7"), "{text}");
    let png = image::open(out.join("neutral/face.png")).unwrap();
    assert_eq!(png.color(), image::ColorType::L8);

    let err = fails(sentio(&[
        "data",
        "import",
        "imagefolder",
        s(&tmp.path().join("nope")),
        "--out",
        s(&tmp.path().join("x")),
    ]));
    assert!(err.contains("nope"), "{err}");
}

#[test]
fn synth_speech_writes_ravdess_named_wavs_or_says_espeak_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("speech");
    let args = [
        "data",
        "synth",
        "speech",
        "--out",
        s(&out_dir),
        "--per-class",
        "1",
        "--speakers",
        "2",
        "--seed",
        "3",
    ];
    let have_espeak = Command::new("espeak-ng").arg("--version").output().is_ok();
    if !have_espeak {
        let stderr = fails(sentio(&args));
        assert!(stderr.contains("apt-get install espeak-ng"), "{stderr}");
        assert!(!out_dir.exists());
        eprintln!("espeak-ng is not installed: checked the error only");
        return;
    }
    let text = ok(sentio(&args));
    assert!(
        text.contains(
            "wrote 8 utterances (8 classes x 1, 16000 Hz mono WAV, label set ser8, seed 3)"
        ),
        "{text}"
    );
    let angry: Vec<_> = std::fs::read_dir(out_dir.join("angry"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(angry.len(), 1);
    // RAVDESS names: emotion code 05 is angry.
    assert!(
        angry[0].starts_with("03-01-05-") && angry[0].ends_with(".wav"),
        "{angry:?}"
    );
}
