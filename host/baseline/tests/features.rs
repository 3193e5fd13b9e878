//! Features of a dataset folder written by sentio-data.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sentio_baseline::{BaselineError, FeatureKind, features};
use sentio_data::{ImageFolder, synth};

#[test]
fn an_image_folder_becomes_a_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("emoji");
    synth::emoji(&out, 2, 9, &mut |_, _| {}).unwrap();
    let folder = ImageFolder::open(&out).unwrap();
    let mut calls = 0;
    let kind = FeatureKind::hog(64);
    let data = features::image_folder(&folder, &kind, &mut |done, total| {
        calls += 1;
        assert!(done <= total);
    })
    .unwrap();
    assert_eq!(calls, 16);
    assert_eq!(
        (data.len(), data.n_features(), data.n_classes()),
        (16, 1764, 8)
    );
    assert_eq!(data.targets(), folder.targets().as_slice());
    // The features are those of the image in memory (sample 0 is `<label>-00000.png` of the
    // alphabetically first label).
    let label = folder.samples[0].label;
    assert!(
        folder.samples[0]
            .path
            .ends_with(format!("{0}/{0}-00000.png", folder.labels[label]))
    );
    let first = synth::draw_emoji(label, synth::image_seed(9, label, 0));
    assert_eq!(data.row(0), kind.extract(&first).unwrap().as_slice());

    // A damaged file names itself.
    std::fs::write(&folder.samples[3].path, b"not a png").unwrap();
    let e = features::image_folder(&folder, &kind, &mut |_, _| {}).unwrap_err();
    assert!(matches!(e, BaselineError::Image { .. }), "{e}");
    assert!(e.to_string().contains(".png"), "{e}");
}
