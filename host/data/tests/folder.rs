//! ImageFolder on folders made by hand: without dataset.json, with a wrong one, resizing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use image::{GrayImage, Luma, Rgb, RgbImage};
use sentio_data::{DataError, ImageFolder, synth};

fn gray(path: &Path, w: u32, h: u32, value: u8) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    GrayImage::from_pixel(w, h, Luma([value]))
        .save(path)
        .unwrap();
}

#[test]
fn without_dataset_json_the_labels_are_the_sorted_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    gray(&root.join("zebra/b.png"), 4, 4, 10);
    gray(&root.join("zebra/a.png"), 4, 4, 20);
    gray(&root.join("apple/x.png"), 4, 4, 30);
    RgbImage::from_pixel(8, 2, Rgb([255, 0, 0]))
        .save(root.join("apple/y.jpg"))
        .unwrap();
    std::fs::write(root.join("apple/notes.txt"), "not an image").unwrap();
    std::fs::create_dir_all(root.join(".cache")).unwrap();

    let data = ImageFolder::open(root).unwrap();
    assert_eq!(data.labels, ["apple", "zebra"]);
    let names: Vec<String> = data
        .samples
        .iter()
        .map(|s| s.path.strip_prefix(root).unwrap().display().to_string())
        .collect();
    assert_eq!(
        names,
        ["apple/x.png", "apple/y.jpg", "zebra/a.png", "zebra/b.png"]
    );
    assert_eq!(data.targets(), [0, 0, 1, 1]);

    // 4x4 of 20 stays 20/255; the 8x2 red JPEG becomes gray and is resized to 4x4.
    let a = data.load_gray(2, 4, 4).unwrap();
    assert!(a.iter().all(|&p| (p - 20.0 / 255.0).abs() < 1e-6));
    let red = data.load_gray(1, 4, 4).unwrap();
    assert_eq!(red.len(), 16);
    assert!(red.iter().all(|&p| p > 0.2 && p < 0.4), "{red:?}");

    let err = data.load_gray(4, 4, 4).unwrap_err();
    assert!(matches!(
        err,
        DataError::NoSuchSample {
            index: 4,
            len: 4,
            ..
        }
    ));
    assert!(matches!(
        data.load_gray(0, 0, 4),
        Err(DataError::BadArgument(_))
    ));
}

#[test]
fn a_known_label_set_keeps_empty_classes_and_refuses_stray_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("emoji");
    synth::emoji(&out, 1, 0, &mut |_, _| {}).unwrap();
    std::fs::remove_file(out.join("winking/winking-00000.png")).unwrap();
    let data = ImageFolder::open(&out).unwrap();
    assert_eq!(data.labels.len(), 8);
    assert_eq!(data.counts()[5], 0);

    gray(&out.join("cat/c.png"), 4, 4, 0);
    let err = ImageFolder::open(&out).unwrap_err();
    assert!(
        err.to_string()
            .contains("folder `cat` is not one of the labels"),
        "{err}"
    );
    assert!(err.to_string().contains("dataset.json"), "{err}");
}

#[test]
fn a_broken_dataset_json_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    gray(&tmp.path().join("a/x.png"), 2, 2, 0);
    std::fs::write(tmp.path().join("dataset.json"), "{ not json").unwrap();
    let err = ImageFolder::open(tmp.path()).unwrap_err();
    assert!(matches!(err, DataError::BadManifest { .. }), "{err}");
    assert!(err.to_string().contains("dataset.json"));
}

#[test]
fn empty_and_missing_folders_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let err = ImageFolder::open(tmp.path()).unwrap_err();
    assert!(matches!(err, DataError::NotADataset { .. }), "{err}");
    std::fs::create_dir(tmp.path().join("empty_label")).unwrap();
    let err = ImageFolder::open(tmp.path()).unwrap_err();
    assert!(err.to_string().contains("no .png/.jpg images"), "{err}");
    let err = ImageFolder::open(tmp.path().join("nope")).unwrap_err();
    assert!(matches!(err, DataError::Io { .. }), "{err}");
    assert!(err.to_string().contains("nope"));
}

#[test]
fn an_undecodable_png_is_an_image_error_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("a")).unwrap();
    std::fs::write(tmp.path().join("a/bad.png"), b"\x89PNG\r\n\x1a\nbroken").unwrap();
    let data = ImageFolder::open(tmp.path()).unwrap();
    let err = data.load_gray(0, 8, 8).unwrap_err();
    assert!(matches!(err, DataError::Image { .. }), "{err}");
    assert!(err.to_string().contains("bad.png"));
}
