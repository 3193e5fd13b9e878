//! The scene generator through its file-writing path, and `SceneSet` reading it back: layout,
//! determinism, every pair present, the consistency rules on the written labels, and the
//! errors for broken sets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sentio_data::synth::scenes;
use sentio_data::{DataError, DatasetInfo, LABELS_FILE, SceneSet};
use sentio_models::{ANP32, ANPS, AnpCategory};

mod common;
use common::files;

/// The rules of docs/datasets.md on one scene's labels.
fn check_rules(labels: &[usize]) {
    let names: Vec<&str> = labels.iter().map(|&l| ANP32.labels[l]).collect();
    let has = |n: &str| names.contains(&n);
    for (i, &a) in labels.iter().enumerate() {
        for &b in &labels[i + 1..] {
            assert_ne!(
                ANPS[a].noun, ANPS[b].noun,
                "two {} pairs: {names:?}",
                ANPS[a].noun
            );
        }
    }
    let crowd = labels
        .iter()
        .filter(|&&l| ANPS[l].category == AnpCategory::Crowd)
        .count();
    assert_eq!(crowd, 1, "{names:?}");
    if has("empty_hall") {
        assert!(
            !labels
                .iter()
                .any(|&l| ANPS[l].category == AnpCategory::Face || ANPS[l].noun == "shirt"),
            "a face or shirt in an empty hall: {names:?}"
        );
    }
    assert!(!(has("dark_room") && has("gloomy_corner")), "{names:?}");
    assert!(!(has("sunny_room") && has("starry_night")), "{names:?}");
    if has("rainy_window") {
        assert!(has("cloudy_sky") || has("stormy_sky"), "{names:?}");
    }
    if has("snowy_window") {
        assert!(has("cloudy_sky"), "{names:?}");
    }
}

#[test]
fn scenes_are_deterministic_cover_every_pair_and_read_back() {
    let tmp = tempfile::tempdir().unwrap();
    let (big, small, other) = (
        tmp.path().join("big"),
        tmp.path().join("small"),
        tmp.path().join("other"),
    );
    let mut calls = Vec::new();
    // 4 per class: 32 scenes, one built around each pair.
    let summary =
        scenes::generate(&big, 4, 9, &mut |done, total| calls.push((done, total))).unwrap();
    scenes::generate(&small, 1, 9, &mut |_, _| {}).unwrap();
    scenes::generate(&other, 1, 10, &mut |_, _| {}).unwrap();
    assert_eq!(summary.scenes, 32);
    assert_eq!(calls.len(), 32);
    assert_eq!(calls.last(), Some(&(32, 32)));

    // Same seed, same bytes: the smaller set is the start of the bigger one.
    let (fb, fs, fo) = (files(&big), files(&small), files(&other));
    assert_eq!(fb.len(), 34, "32 images, labels.jsonl, dataset.json");
    assert_eq!(fs.len(), 10);
    for (path, bytes) in &fs {
        if path.starts_with("images") {
            assert_eq!(Some(bytes), fb.get(path), "{}", path.display());
        }
    }
    let lines = |f: &BTreeMap<PathBuf, Vec<u8>>| -> Vec<String> {
        String::from_utf8(f[Path::new(LABELS_FILE)].clone())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(lines(&fs)[..], lines(&fb)[..8]);
    assert_ne!(
        fs[Path::new("images/scene-00000.png")],
        fo[Path::new("images/scene-00000.png")]
    );

    // dataset.json: anp32, 64x64, the scenes showing each pair, the seed.
    let info = DatasetInfo::read(&big).unwrap().unwrap();
    assert_eq!(info, summary.info);
    assert_eq!(info.label_set, "anp32");
    assert_eq!(info.labels, ANP32.labels);
    assert_eq!(info.image_size, Some([64, 64]));
    assert_eq!(info.seed, Some(9));
    assert!(
        info.generator.contains("synth scenes"),
        "{}",
        info.generator
    );

    // Read back: every pair appears, every scene keeps the rules, the counts match.
    let set = SceneSet::open(&big).unwrap();
    assert_eq!(set.len(), 32);
    assert_eq!(set.label_set, "anp32");
    assert_eq!(set.counts(), info.per_class);
    assert!(
        set.counts().iter().all(|&c| c > 0),
        "a pair never appears: {:?}",
        set.counts()
    );
    for (i, sample) in set.samples.iter().enumerate() {
        check_rules(&sample.labels);
        // Scene i is built around pair i % 32.
        assert!(sample.labels.contains(&(i % 32)), "scene {i}");
        assert!(sample.labels.windows(2).all(|w| w[0] < w[1]));
    }
    let target = set.multi_hot(3).unwrap();
    assert_eq!(target.len(), 32);
    assert_eq!(
        target.iter().filter(|t| **t == 1.0).count(),
        set.samples[3].labels.len()
    );

    // Pixels: planar RGB in 0..1, the PNG's values.
    let planar = set.load_rgb(5, 64, 64).unwrap();
    assert_eq!(planar.len(), 3 * 64 * 64);
    let png = image::open(big.join("images/scene-00005.png"))
        .unwrap()
        .to_rgb8();
    let px = png.get_pixel(10, 20).0;
    for (k, &v) in px.iter().enumerate() {
        assert_eq!(planar[k * 64 * 64 + 20 * 64 + 10], f32::from(v) / 255.0);
    }
    assert_eq!(set.load_rgb(0, 32, 32).unwrap().len(), 3 * 32 * 32);
    assert!(matches!(
        set.load_rgb(99, 64, 64),
        Err(DataError::NoSuchSample { index: 99, .. })
    ));

    // The generator refuses a non-empty destination and a zero count.
    assert!(matches!(
        scenes::generate(&big, 1, 1, &mut |_, _| {}),
        Err(DataError::OutputExists { .. })
    ));
    assert!(matches!(
        scenes::generate(&tmp.path().join("zero"), 0, 1, &mut |_, _| {}),
        Err(DataError::BadArgument(_))
    ));
}

/// A one-image scene set whose `labels.jsonl` is `labels`.
fn set_with_labels(dir: &Path, labels: &str) {
    std::fs::create_dir_all(dir.join("images")).unwrap();
    image::RgbImage::from_pixel(8, 8, image::Rgb([10, 200, 30]))
        .save(dir.join("images/a.png"))
        .unwrap();
    std::fs::write(dir.join(LABELS_FILE), labels).unwrap();
}

fn bad_labels(dir: &Path) -> (Option<usize>, String, String) {
    match SceneSet::open(dir) {
        Err(e @ DataError::BadLabels { line, .. }) => (line, e.to_string(), e.help()),
        other => panic!("expected BadLabels, got {other:?}"),
    }
}

#[test]
fn broken_scene_sets_are_refused_with_the_line_and_a_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = |name: &str| tmp.path().join(name);

    // Without dataset.json the labels are anp32's; a good line reads.
    set_with_labels(
        &dir("good"),
        "{\"image\":\"images/a.png\",\"labels\":[\"lonely_person\",\"blue_sky\"]}\n\n",
    );
    let set = SceneSet::open(dir("good")).unwrap();
    assert_eq!(set.samples[0].labels, vec![12, 29]);
    assert_eq!(set.load_rgb(0, 8, 8).unwrap()[64], 200.0 / 255.0);

    // No label file.
    std::fs::create_dir_all(dir("none")).unwrap();
    let (line, message, help) = bad_labels(&dir("none"));
    assert_eq!(line, None);
    assert!(message.contains("labels.jsonl"), "{message}");
    assert!(help.contains("sentio data synth scenes"), "{help}");

    // A garbled line, named by its number.
    set_with_labels(
        &dir("garbled"),
        "{\"image\":\"images/a.png\",\"labels\":[]}\n{\"image\": 3\n",
    );
    let (line, message, help) = bad_labels(&dir("garbled"));
    assert_eq!(line, Some(2));
    assert!(message.contains("labels.jsonl:2"), "{message}");
    assert!(help.contains("\"labels\""), "{help}");

    // An unknown label, a repeated one.
    set_with_labels(
        &dir("unknown"),
        "{\"image\":\"images/a.png\",\"labels\":[\"sad_face\"]}\n",
    );
    let (line, message, _) = bad_labels(&dir("unknown"));
    assert_eq!(line, Some(1));
    assert!(
        message.contains("`sad_face`") && message.contains("smiling_face"),
        "{message}"
    );
    set_with_labels(
        &dir("twice"),
        "{\"image\":\"images/a.png\",\"labels\":[\"blue_sky\",\"blue_sky\"]}\n",
    );
    assert!(bad_labels(&dir("twice")).1.contains("twice"));

    // A missing image, a path out of the set.
    set_with_labels(
        &dir("missing"),
        "{\"image\":\"images/a.png\",\"labels\":[]}\n{\"image\":\"images/b.png\",\"labels\":[]}\n",
    );
    let (line, message, _) = bad_labels(&dir("missing"));
    assert_eq!(line, Some(2));
    assert!(message.contains("images/b.png"), "{message}");
    set_with_labels(
        &dir("escape"),
        "{\"image\":\"../good/images/a.png\",\"labels\":[]}\n",
    );
    assert!(bad_labels(&dir("escape")).1.contains("inside"));

    // An empty label file, a garbled dataset.json.
    set_with_labels(&dir("empty"), "\n");
    assert_eq!(bad_labels(&dir("empty")).0, None);
    set_with_labels(
        &dir("manifest"),
        "{\"image\":\"images/a.png\",\"labels\":[]}\n",
    );
    std::fs::write(dir("manifest").join("dataset.json"), "{not json").unwrap();
    assert!(matches!(
        SceneSet::open(dir("manifest")),
        Err(DataError::BadManifest { .. })
    ));
}
