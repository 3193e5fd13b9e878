//! The generators through their real file-writing path: layout, dataset.json, determinism.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use sentio_data::{DataError, DatasetInfo, ImageFolder, synth};

mod common;
use common::files;

#[test]
fn emoji_same_seed_gives_byte_identical_pngs() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    let mut calls = Vec::new();
    let summary = synth::emoji(&a, 4, 9, &mut |done, total| calls.push((done, total))).unwrap();
    synth::emoji(&b, 4, 9, &mut |_, _| {}).unwrap();
    synth::emoji(&c, 4, 10, &mut |_, _| {}).unwrap();
    assert_eq!(calls.len(), 32);
    assert_eq!(calls.last(), Some(&(32, 32)));
    assert!(calls.windows(2).all(|w| w[1].0 == w[0].0 + 1));

    let (fa, fb, fc) = (files(&a), files(&b), files(&c));
    assert_eq!(fa.len(), 33, "32 images and dataset.json");
    assert_eq!(fa, fb);
    assert_ne!(fa, fc);
    assert!(fa.contains_key(Path::new("heart_eyes/heart_eyes-00003.png")));

    assert_eq!(summary.root, a);
    assert_eq!(summary.info.label_set, "emoji8");
    assert_eq!(summary.info.per_class, vec![4; 8]);
    assert_eq!(summary.info.image_size, Some([64, 64]));
    assert_eq!(summary.info.seed, Some(9));
    assert_eq!(DatasetInfo::read(&a).unwrap(), Some(summary.info));
}

#[test]
fn a_bigger_dataset_with_the_same_seed_contains_the_smaller_one() {
    let tmp = tempfile::tempdir().unwrap();
    let (small, big) = (tmp.path().join("small"), tmp.path().join("big"));
    synth::faces(&small, 2, 3, &mut |_, _| {}).unwrap();
    synth::faces(&big, 3, 3, &mut |_, _| {}).unwrap();
    let big_files = files(&big);
    for (name, bytes) in files(&small) {
        if name != Path::new("dataset.json") {
            assert_eq!(big_files.get(&name), Some(&bytes), "{}", name.display());
        }
    }
}

#[test]
fn pngs_match_the_in_memory_drawings() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("faces");
    synth::faces(&out, 2, 77, &mut |_, _| {}).unwrap();
    let data = ImageFolder::open(&out).unwrap();
    assert_eq!(
        data.labels,
        [
            "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"
        ]
    );
    assert_eq!(data.samples.len(), 14);
    assert_eq!(data.counts(), vec![2; 7]);
    let surprise = data
        .samples
        .iter()
        .position(|s| s.path.ends_with("surprise/surprise-00001.png"))
        .unwrap();
    assert_eq!(data.samples[surprise].label, 5);
    let stored = image::open(&data.samples[surprise].path).unwrap();
    assert_eq!(stored.color(), image::ColorType::L8);
    assert_eq!(
        stored.to_luma8(),
        synth::draw_face(5, synth::image_seed(77, 5, 1))
    );
    let pixels = data.load_gray(surprise, 48, 48).unwrap();
    let expected: Vec<f32> = stored
        .to_luma8()
        .as_raw()
        .iter()
        .map(|&p| f32::from(p) / 255.0)
        .collect();
    assert_eq!(pixels, expected);
}

#[test]
fn an_existing_dataset_is_never_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("emoji");
    std::fs::create_dir_all(out.join("mine")).unwrap();
    std::fs::write(out.join("mine/keep.txt"), "precious").unwrap();
    let err = synth::emoji(&out, 1, 0, &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, DataError::OutputExists { .. }), "{err}");
    assert!(err.help().contains("--out"));
    assert_eq!(
        std::fs::read_to_string(out.join("mine/keep.txt")).unwrap(),
        "precious"
    );
    // No staging folder is left beside it.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);

    // An empty directory is fine (e.g. made by the user beforehand).
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    synth::emoji(&empty, 1, 0, &mut |_, _| {}).unwrap();
    assert_eq!(ImageFolder::open(&empty).unwrap().samples.len(), 8);
}

#[test]
fn zero_per_class_is_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("x");
    let err = synth::faces(&out, 0, 0, &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, DataError::BadArgument(_)));
    assert!(!out.exists());
}

/// Images of one class vary (no template), and classes differ on average.
#[test]
fn classes_vary_within_and_differ_between() {
    let mean_abs_diff = |a: &image::GrayImage, b: &image::GrayImage| {
        a.as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(&x, &y)| (f32::from(x) - f32::from(y)).abs())
            .sum::<f32>()
            / a.as_raw().len() as f32
    };
    for class in 0..8 {
        let a = synth::draw_emoji(class, synth::image_seed(1, class, 0));
        let b = synth::draw_emoji(class, synth::image_seed(1, class, 1));
        assert!(
            mean_abs_diff(&a, &b) > 5.0,
            "emoji class {class} repeats itself"
        );
    }
    for class in 0..7 {
        let a = synth::draw_face(class, synth::image_seed(1, class, 0));
        let b = synth::draw_face(class, synth::image_seed(1, class, 1));
        assert!(
            mean_abs_diff(&a, &b) > 5.0,
            "face class {class} repeats itself"
        );
    }
}
