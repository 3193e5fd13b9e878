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

#[test]
fn a_speech_folder_becomes_utterance_summaries() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("speech");
    // Two "emotions" (a low and a high voice), four speakers each saying three clips.
    sentio_data::synth::tones(&root, &["low", "high"], 4, 3, 5).unwrap();
    let folder = sentio_data::AudioFolder::open(&root).unwrap();
    let config = sentio_audio::FeatureConfig::default();
    let mut calls = 0;
    let data = features::audio_folder(&folder, &config, true, &mut |done, total| {
        calls += 1;
        assert!(done <= total);
    })
    .unwrap();
    assert_eq!(calls, 24);
    assert_eq!(
        (data.len(), data.n_features(), data.n_classes()),
        (24, 2 * config.dims(), 2)
    );
    // The row is the summary of the speech span's frames.
    let samples = folder.load(0).unwrap();
    let span = sentio_audio::speech_span(&samples, 16_000, &Default::default()).unwrap();
    assert!(
        span.start > 2400 && span.end < samples.len() - 800,
        "{span:?}"
    );
    let mut extractor = sentio_audio::FeatureExtractor::new(config.clone()).unwrap();
    let expected = sentio_audio::utterance_summary(&extractor.extract(&samples[span]));
    assert_eq!(data.row(0), expected.as_slice());
    // Without trimming the silence is summarized too: the mean RMS-like columns drop.
    let untrimmed = features::audio_folder(&folder, &config, false, &mut |_, _| {}).unwrap();
    assert_ne!(untrimmed.row(0), data.row(0));

    // The classical models tell the voices apart on speakers they never heard.
    let speakers = folder.speakers();
    assert_eq!(speakers.iter().filter(|s| *s == &speakers[0]).count(), 6);
    let split = sentio_data::split::by_group(data.targets(), &speakers, 0.0, 0.25, 1);
    let table = sentio_baseline::run(
        &data,
        &sentio_baseline::TrainTest::from(&split),
        &sentio_baseline::Options {
            models: vec![sentio_baseline::ModelKind::Svm],
            ..Default::default()
        },
        &mut |_| {},
    )
    .unwrap();
    assert!(table.results[0].accuracy > 0.99, "{:?}", table.results[0]);

    // A damaged clip names itself.
    std::fs::write(&folder.samples[5].path, b"RIFF....WAVEjunk").unwrap();
    let e = features::audio_folder(&folder, &config, true, &mut |_, _| {}).unwrap_err();
    assert!(
        e.to_string()
            .contains(&*folder.samples[5].path.to_string_lossy()),
        "{e}"
    );
}
