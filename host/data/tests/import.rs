//! The importers on small files written by the tests, malformed rows included.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use image::{GrayImage, Luma, Rgb, RgbImage};
use sentio_data::import::{self, BadRows, fer2013_usage};
use sentio_data::{DataError, ImageFolder};

fn pixels(seed: usize, n: usize) -> String {
    (0..n)
        .map(|i| ((i * 7 + seed * 13) % 256).to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A FER2013 CSV: 5 good rows and 5 bad ones (lines 3, 5, 7, 8, 10), plus a blank line.
fn fer_csv(dir: &Path) -> std::path::PathBuf {
    let rows = [
        "emotion,pixels,Usage".to_string(),
        format!("0,{},Training", pixels(0, 2304)), // 2 ok angry
        format!("3,{},Training", pixels(1, 2303)), // 3 short
        format!("3,{},PublicTest", pixels(2, 2304)), // 4 ok happy
        format!("9,{},Training", pixels(3, 2304)), // 5 emotion out of range
        format!("6,{},PrivateTest", pixels(4, 2304)), // 6 ok neutral
        format!("2,{} abc,Training", pixels(5, 2303)), // 7 non-numeric pixel
        format!("2,{},Validation", pixels(6, 2304)), // 8 bad usage
        String::new(),                             // 9 blank: ignored
        format!("happy,{},Training", pixels(7, 2304)), // 10 non-numeric emotion
        format!("3,{},Training", pixels(8, 2304)), // 11 ok happy
        format!("\"5\",\"{}\",PrivateTest", pixels(9, 2304)), // 12 ok surprise, quoted
    ];
    let path = dir.join("fer2013.csv");
    std::fs::write(&path, rows.join("\n") + "\n").unwrap();
    path
}

#[test]
fn fer2013_skip_imports_the_good_rows_and_lists_the_bad_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = fer_csv(tmp.path());
    let out = tmp.path().join("fer");
    let report = import::fer2013(&csv, &out, BadRows::Skip).unwrap();
    assert_eq!(report.imported, 5);
    let lines: Vec<Option<usize>> = report.skipped.iter().map(|r| r.line).collect();
    assert_eq!(lines, [Some(3), Some(5), Some(7), Some(8), Some(10)]);
    assert!(
        report.skipped[0].reason.contains("2303 pixel values"),
        "{:?}",
        report.skipped[0]
    );
    assert!(report.skipped[1].reason.contains("emotion 9"));
    assert!(report.skipped[2].reason.contains("`abc`"));
    assert!(report.skipped[3].reason.contains("Validation"));
    assert!(report.skipped[4].reason.contains("`happy`"));
    let text = report.to_string();
    assert!(text.contains("fer2013.csv:3: 2303 pixel values"), "{text}");
    assert!(
        text.contains("usage: Training 2, PublicTest 1, PrivateTest 2"),
        "{text}"
    );

    assert_eq!(report.info.label_set, "fer7");
    assert_eq!(report.info.per_class, [1, 0, 0, 2, 0, 1, 1]);
    assert_eq!(report.info.skipped, 5);

    let data = ImageFolder::open(&out).unwrap();
    assert_eq!(data.samples.len(), 5);
    let names: Vec<String> = data
        .samples
        .iter()
        .map(|s| s.path.strip_prefix(&out).unwrap().display().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "angry/training-000002.png",
            "happy/publictest-000004.png",
            "happy/training-000011.png",
            "neutral/privatetest-000006.png",
            "surprise/privatetest-000012.png",
        ]
    );
    assert_eq!(fer2013_usage(&data.samples[1].path), Some("PublicTest"));
    // The pixels survive the trip: row 2 is pixels(0, ..), row-major.
    let angry = image::open(&data.samples[0].path).unwrap().to_luma8();
    assert_eq!(angry.dimensions(), (48, 48));
    assert_eq!(angry.get_pixel(1, 0).0, [7]);
    assert_eq!(angry.get_pixel(0, 1).0, [(48 * 7 % 256) as u8]);
}

#[test]
fn fer2013_fail_stops_at_the_first_bad_row_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = fer_csv(tmp.path());
    let out = tmp.path().join("fer");
    let err = import::fer2013(&csv, &out, BadRows::Fail).unwrap_err();
    match &err {
        DataError::BadRow { path, line, reason } => {
            assert_eq!(path, &csv);
            assert_eq!(*line, Some(3));
            assert!(reason.contains("2303"));
        }
        other => panic!("{other}"),
    }
    assert!(
        err.to_string()
            .starts_with(&format!("{}:3:", csv.display()))
    );
    assert!(err.help().contains("--bad-rows skip"));
    assert!(!out.exists());
    let left: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["fer2013.csv"], "no staging folder left behind");
}

#[test]
fn fer2013_header_problems_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("x.csv");
    std::fs::write(&csv, "label,image\n0,1 2 3\n").unwrap();
    let err = import::fer2013(&csv, &tmp.path().join("o"), BadRows::Skip).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::BadHeader {
                column: "emotion",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("x.csv:1"));

    // icml_face_data.csv: other order, spaces in names.
    std::fs::write(
        &csv,
        format!("emotion, Usage, pixels\n4,PublicTest,{}\n", pixels(1, 2304)),
    )
    .unwrap();
    let report = import::fer2013(&csv, &tmp.path().join("icml"), BadRows::Fail).unwrap();
    assert_eq!(report.info.per_class[4], 1);

    std::fs::write(&csv, "").unwrap();
    let err = import::fer2013(&csv, &tmp.path().join("e"), BadRows::Skip).unwrap_err();
    assert!(err.to_string().contains("empty"), "{err}");

    // Only bad rows: nothing to import is an error, and nothing is written.
    std::fs::write(&csv, "emotion,pixels,Usage\n1,1 2 3,Training\n").unwrap();
    let out = tmp.path().join("none");
    let err = import::fer2013(&csv, &out, BadRows::Skip).unwrap_err();
    assert!(
        err.to_string().contains("no valid rows (1 malformed)"),
        "{err}"
    );
    assert!(!out.exists());

    let err = import::fer2013(&tmp.path().join("missing.csv"), &out, BadRows::Skip).unwrap_err();
    assert!(matches!(err, DataError::Io { .. }));
}

#[test]
fn imagefolder_converts_any_format_to_gray_png() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    for dir in ["happy", "sad", "sad/more", "angry"] {
        std::fs::create_dir_all(src.join(dir)).unwrap();
    }
    RgbImage::from_pixel(48, 48, Rgb([200, 100, 0]))
        .save(src.join("happy/a.jpg"))
        .unwrap();
    GrayImage::from_pixel(48, 48, Luma([9]))
        .save(src.join("happy/a.png"))
        .unwrap();
    GrayImage::from_pixel(48, 48, Luma([50]))
        .save(src.join("sad/more/deep.png"))
        .unwrap();
    std::fs::write(src.join("angry/broken.png"), b"not a png").unwrap();
    std::fs::write(src.join("angry/.DS_Store"), b"junk").unwrap();

    // Fail: the broken file stops it, and nothing is written.
    let out = tmp.path().join("out");
    let err = import::imagefolder(&src, &out, BadRows::Fail).unwrap_err();
    assert!(matches!(err, DataError::BadRow { line: None, .. }), "{err}");
    assert!(err.to_string().contains("broken.png"), "{err}");
    assert!(!out.exists());

    let report = import::imagefolder(&src, &out, BadRows::Skip).unwrap();
    assert_eq!(report.imported, 3);
    assert_eq!(report.skipped.len(), 1);
    assert!(report.skipped[0].path.ends_with("angry/broken.png"));
    // The folder names are all fer7 labels: fer7's order is used.
    assert_eq!(report.info.label_set, "fer7");
    assert_eq!(report.info.per_class, [0, 0, 0, 2, 1, 0, 0]);
    assert_eq!(report.info.image_size, Some([48, 48]));

    let data = ImageFolder::open(&out).unwrap();
    assert_eq!(data.labels[3], "happy");
    let names: Vec<String> = data
        .samples
        .iter()
        .map(|s| s.path.strip_prefix(&out).unwrap().display().to_string())
        .collect();
    assert_eq!(names, ["happy/a-2.png", "happy/a.png", "sad/more_deep.png"]);
    for sample in &data.samples {
        let img = image::open(&sample.path).unwrap();
        assert_eq!(img.color(), image::ColorType::L8);
    }
}

#[test]
fn imagefolder_with_other_names_is_a_custom_set_in_sorted_order() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    for (dir, size) in [("dog", 10), ("cat", 20)] {
        std::fs::create_dir_all(src.join(dir)).unwrap();
        GrayImage::from_pixel(size, size, Luma([1]))
            .save(src.join(dir).join("x.png"))
            .unwrap();
    }
    let out = tmp.path().join("out");
    let report = import::imagefolder(&src, &out, BadRows::Fail).unwrap();
    assert_eq!(report.info.label_set, "custom");
    assert_eq!(report.info.labels, ["cat", "dog"]);
    assert_eq!(report.info.image_size, None);
    let data = ImageFolder::open(&out).unwrap();
    assert_eq!(data.labels, ["cat", "dog"]);
    assert_eq!(data.load_gray(1, 16, 16).unwrap().len(), 256);

    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let err = import::imagefolder(&empty, &tmp.path().join("o2"), BadRows::Skip).unwrap_err();
    assert!(matches!(err, DataError::NotADataset { .. }));
}
