//! `sentio run MODEL CLIP.wav` with the zoo speech model: the clip goes through the model's input
//! rule (VAD trim, window, features) and the scores printed are exactly those of the same window
//! run in-process through sentio-infer; and the errors for a WAV the model cannot take.

use std::path::{Path, PathBuf};

use sentio_audio::{FeatureExtractor, SpeechInput, read_wav, write_wav};
use sentio_infer::{LoadOptions, Model};
use serde_json::Value;

mod common;

use common::{fails, ok, s, sentio, zoo_emoji};

fn ser_model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/zoo/ser/model.onnx")
}

fn speech_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../firmware/audio/tests/reference/speech.wav")
}

/// The scores of `wav` computed in-process: manifest -> SpeechInput -> window -> features ->
/// the model (one thread, as `sentio run`).
fn in_process_scores(wav: &Path) -> Vec<f32> {
    let manifest_path = ser_model().with_file_name("manifest.json");
    let manifest =
        sentio_models::Manifest::from_slice(&std::fs::read(manifest_path).unwrap()).unwrap();
    let input = SpeechInput::from_manifest(&manifest.input.preprocessing).unwrap();
    let audio = read_wav(wav).unwrap().resampled(input.features.sample_rate);
    let mut extractor = FeatureExtractor::new(input.features.clone()).unwrap();
    let features = input.features(&audio.samples, &mut extractor).unwrap();
    let bytes = std::fs::read(ser_model()).unwrap();
    let mut model =
        Model::load(&bytes, &LoadOptions::new().threads(1).manifest(&manifest)).unwrap();
    let outputs = model.run(&features.data).unwrap();
    outputs.tensors[0].data.clone()
}

fn run_json(wav: &Path) -> Value {
    serde_json::from_str(&ok(sentio(&["run", s(&ser_model()), s(wav), "--json"]))).unwrap()
}

#[test]
fn a_clip_gets_the_scores_of_its_window() {
    let tmp = tempfile::tempdir().unwrap();
    // A 0.8 s clip (padded to the window) and a 5 s one (speech between silences, longer than
    // the 2.99 s window once trimmed: its middle is kept), the second at 22.05 kHz.
    let short = speech_fixture();
    let speech = read_wav(&short).unwrap().samples;
    let mut long = vec![0.0f32; 8000];
    for _ in 0..5 {
        long.extend(&speech);
    }
    long.extend(vec![0.0f32; 8000]);
    let long_16k = tmp.path().join("long.wav");
    write_wav(&long_16k, &long, 16000).unwrap();
    let long_22k = tmp.path().join("long22k.wav");
    write_wav(
        &long_22k,
        &sentio_audio::resample(&long, 16000, 22050),
        22050,
    )
    .unwrap();

    let labels: Vec<String> = sentio_models::SER8
        .labels
        .iter()
        .map(|l| l.to_string())
        .collect();
    for wav in [short.clone(), long_16k, long_22k] {
        let doc = run_json(&wav);
        let got: Vec<String> = serde_json::from_value(doc["labels"].clone()).unwrap();
        assert_eq!(got, labels, "{}", wav.display());
        let scores: Vec<f32> = doc["scores"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        assert_eq!(scores.len(), 8);
        let sum: f32 = scores.iter().sum();
        assert!((sum - 1.0).abs() < 1e-5, "{}: sum {sum}", wav.display());
        assert_eq!(scores, in_process_scores(&wav), "{}", wav.display());
        assert_eq!(doc["input"]["shape"], serde_json::json!([1, 300, 117]));
        assert_eq!(doc["speech"]["window_samples"], 47840);
        // The top of the list agrees with the scores.
        let best = scores
            .iter()
            .enumerate()
            .fold((0, f32::MIN), |b, (i, &v)| if v > b.1 { (i, v) } else { b });
        assert_eq!(doc["top"][0]["label"], labels[best.0].as_str());
    }

    // The long clip is trimmed to its speech and its middle window kept: no padding.
    let doc = run_json(&tmp.path().join("long.wav"));
    assert_eq!(doc["speech"]["window"]["padding_samples"], 0);
    let doc = run_json(&short);
    assert!(doc["speech"]["window"]["padding_samples"].as_u64().unwrap() > 30000);

    let text = ok(sentio(&["run", s(&ser_model()), "--audio", s(&short)]));
    assert!(text.contains("scores"), "{text}");
    for label in &labels {
        assert!(text.contains(label.as_str()), "{label}: {text}");
    }
    assert!(text.contains("window = clip"), "{text}");
}

#[test]
fn a_wav_needs_a_speech_model_with_its_manifest() {
    let wav = speech_fixture();
    let err = fails(sentio(&["run", s(&zoo_emoji()), s(&wav)]));
    assert!(
        err.contains("not a speech model") && err.contains("audio_features"),
        "{err}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let alone = tmp.path().join("ser.onnx");
    std::fs::copy(ser_model(), &alone).unwrap();
    let err = fails(sentio(&["run", s(&alone), s(&wav)]));
    assert!(
        err.contains("has no manifest") && err.contains("--manifest"),
        "{err}"
    );
    // Given explicitly, the manifest makes it work.
    let manifest = ser_model().with_file_name("manifest.json");
    let out = ok(sentio(&[
        "run",
        s(&alone),
        "--manifest",
        s(&manifest),
        s(&wav),
        "--json",
    ]));
    assert!(out.contains("\"scores\""), "{out}");

    let odd = tmp.path().join("clip.ogg");
    std::fs::write(&odd, b"OggS").unwrap();
    let err = fails(sentio(&["run", s(&ser_model()), s(&odd)]));
    assert!(err.contains("--audio"), "{err}");
}
