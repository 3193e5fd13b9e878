//! `sentio features` as a user runs it: the built binary's JSON on sentio-audio's librosa
//! fixtures against librosa's committed outputs, a 44.1 kHz stereo WAV (mixed and resampled
//! exactly as the library does it in-process), a model's window with --manifest, the table, and
//! the errors a user meets.

use std::path::{Path, PathBuf};

use sentio_audio::{FeatureConfig, FeatureExtractor, SpeechInput, read_wav};
use serde_json::Value;

mod common;

use common::{fails, ok, s, sentio};

fn reference(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../firmware/audio/tests/reference")
        .join(name)
}

fn zoo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../models/zoo")
        .join(path)
}

/// One JSON document per line.
fn json_lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The `[frames, columns]` values of a features document, as f32 (they print exactly).
fn values(doc: &Value) -> Vec<Vec<f32>> {
    doc["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            f["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect()
        })
        .collect()
}

/// A WAV of 16-bit PCM, interleaved `channels`, written byte by byte (hound is not a dependency
/// of the CLI).
fn write_pcm16(path: &Path, rate: u32, channels: u16, interleaved: &[i16]) {
    let data_len = (interleaved.len() * 2) as u32;
    let mut b = Vec::with_capacity(44 + data_len as usize);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
    b.extend_from_slice(&(channels * 2).to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for v in interleaved {
        b.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(path, b).unwrap();
}

const SIGNALS: [&str; 5] = ["chirp", "two_tone", "noise_burst", "speech", "silence"];

#[test]
fn json_matches_librosa_on_the_reference_fixtures() {
    let wavs: Vec<PathBuf> = SIGNALS
        .iter()
        .map(|n| reference(&format!("{n}.wav")))
        .collect();
    let mut args = vec!["features", "--json"];
    args.extend(wavs.iter().map(|p| s(p)));
    let docs = json_lines(&ok(sentio(&args)));
    assert_eq!(docs.len(), SIGNALS.len());
    let config = FeatureConfig::default();
    let names = config.column_names();
    // Column ranges of each librosa feature in sentio's row.
    let mel = config.n_mfcc + 1 + 12;
    let features = [
        ("mfcc", 0..config.n_mfcc),
        ("zcr", config.n_mfcc..config.n_mfcc + 1),
        ("chroma", config.n_mfcc + 1..mel),
        ("logmel", mel..mel + config.n_mels),
    ];
    let mut report = Vec::new();
    for (name, doc) in SIGNALS.iter().zip(&docs) {
        assert_eq!(doc["sample_rate"], 16000);
        assert_eq!(doc["hop_length"], 160);
        assert!(
            doc["file"]
                .as_str()
                .unwrap()
                .ends_with(&format!("{name}.wav"))
        );
        let columns: Vec<String> = serde_json::from_value(doc["columns"].clone()).unwrap();
        assert_eq!(columns, names);
        let rows = values(doc);
        for (t, frame) in doc["frames"].as_array().unwrap().iter().enumerate() {
            let time = frame["t"].as_f64().unwrap();
            assert!(
                (time - t as f64 * 0.01).abs() < 1e-9,
                "{name}: frame {t} at {time}"
            );
        }
        for (feature, cols) in &features {
            let lib = sentio_infer::npy::read(reference(&format!("{name}.{feature}.npy"))).unwrap();
            assert_eq!(lib.shape, vec![rows.len(), cols.len()], "{name}.{feature}");
            // Relative to the feature's range in the clip, as librosa_reference.rs measures.
            let scale = lib.data.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let mut max_diff = 0.0f32;
            for (t, row) in rows.iter().enumerate() {
                for (j, c) in cols.clone().enumerate() {
                    let d = (row[c] - lib.data[t * cols.len() + j]).abs();
                    max_diff = max_diff.max(d);
                }
            }
            let relative = if scale > 0.0 {
                max_diff / scale
            } else {
                max_diff
            };
            report.push(format!(
                "{name}.{feature}: {max_diff:.2e} ({relative:.2e} relative)"
            ));
            assert!(
                relative <= 1e-3,
                "{name}.{feature}: max diff {max_diff} = {relative} of the range {scale}"
            );
        }
    }
    println!("{}", report.join("\n"));
}

#[test]
fn a_44k1_stereo_wav_is_mixed_and_resampled_as_the_library_does() {
    let tmp = tempfile::tempdir().unwrap();
    let wav = tmp.path().join("stereo44k1.wav");
    let rate = 44_100;
    let mut data = Vec::new();
    for i in 0..rate * 3 / 2 {
        let t = f64::from(i) / f64::from(rate);
        let tau = 2.0 * std::f64::consts::PI;
        // Left: a vowel-ish 150 Hz harmonic stack; right: a 2.5 kHz tone and a 12 kHz tone
        // (above the 8 kHz Nyquist of 16 kHz, which the resampler must remove).
        let l = (0.25 * (tau * 150.0 * t).sin() + 0.1 * (tau * 450.0 * t).sin()) * 32767.0;
        let r = (0.2 * (tau * 2500.0 * t).sin() + 0.2 * (tau * 12000.0 * t).sin()) * 32767.0;
        data.extend([l as i16, r as i16]);
    }
    write_pcm16(&wav, rate, 2, &data);

    let out = sentio(&["features", "--json", s(&wav)]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let docs = json_lines(&ok(out));
    assert!(stderr.contains("2 channels averaged to mono"), "{stderr}");
    assert!(
        stderr.contains("resampled from 44100 Hz to 16000 Hz"),
        "{stderr}"
    );
    let doc = &docs[0];
    assert_eq!(doc["source"]["channels"], 2);
    assert_eq!(doc["source"]["sample_rate"], 44100);
    assert_eq!(doc["sample_rate"], 16000);

    // In-process: the library's mono mix, its resampler, its extractor.
    let audio = read_wav(&wav).unwrap().resampled(16000);
    assert_eq!(audio.samples.len(), 24000);
    let mut extractor = FeatureExtractor::new(FeatureConfig::default()).unwrap();
    let m = extractor.extract(&audio.samples);
    let rows = values(doc);
    assert_eq!((rows.len(), rows[0].len()), (m.frames, m.dims));
    for (t, row) in rows.iter().enumerate() {
        assert_eq!(row.as_slice(), m.row(t), "frame {t}");
    }
}

#[test]
fn with_a_manifest_it_prints_the_models_window() {
    let wav = reference("speech.wav");
    let manifest = zoo("ser/manifest.json");
    let docs = json_lines(&ok(sentio(&[
        "features",
        "--json",
        "--manifest",
        s(&manifest),
        s(&wav),
    ])));
    let doc = &docs[0];
    assert_eq!(doc["input"]["frames"], 300);
    assert_eq!(doc["input"]["dims"], 117);
    assert_eq!(doc["input"]["window_samples"], 47840);
    // 0.8 s of speech: the whole (trimmed) speech, then silence to the 2.99 s window.
    let w = &doc["window"];
    let start = w["start_sample"].as_u64().unwrap() as usize;
    let end = w["end_sample"].as_u64().unwrap() as usize;
    assert_eq!(
        end - start + w["padding_samples"].as_u64().unwrap() as usize,
        47840
    );
    assert!(end <= 12800);

    let text = std::fs::read(&manifest).unwrap();
    let m = sentio_models::Manifest::from_slice(&text).unwrap();
    let input = SpeechInput::from_manifest(&m.input.preprocessing).unwrap();
    let samples = read_wav(&wav).unwrap().samples;
    let mut extractor = FeatureExtractor::new(input.features.clone()).unwrap();
    let expected = input.features(&samples, &mut extractor).unwrap();
    let rows = values(doc);
    assert_eq!(rows.len(), 300);
    for (t, row) in rows.iter().enumerate() {
        assert_eq!(row.as_slice(), expected.row(t), "frame {t}");
    }

    let table = ok(sentio(&["features", "--manifest", s(&manifest), s(&wav)]));
    assert!(table.contains("what the model of"), "{table}");
    assert!(table.contains("300 frames x 117"), "{table}");
    assert!(table.contains("silence at the end"), "{table}");
}

#[test]
fn the_table_is_readable_and_columns_can_be_picked() {
    let wav = reference("two_tone.wav");
    let table = ok(sentio(&["features", s(&wav)]));
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("file"), "{table}");
    assert!(table.contains("FeatureConfig::default()"), "{table}");
    let header = lines.iter().find(|l| l.contains("t (s)")).unwrap();
    for col in ["mfcc_0", "mfcc_3", "zcr", "pitch class"] {
        assert!(header.contains(col), "{header}");
    }
    // A4 (with E5) is the strongest pitch class in the middle of the clip.
    let middle = lines
        .iter()
        .find(|l| l.trim_start().starts_with("0.150"))
        .unwrap();
    assert!(middle.trim_end().ends_with(" A"), "{middle}");
    assert!(table.contains("mean") && table.contains("max"), "{table}");

    let picked = ok(sentio(&["features", s(&wav), "--columns", "zcr,chroma_*"]));
    let header = picked.lines().find(|l| l.contains("t (s)")).unwrap();
    assert!(
        header.contains("chroma_C#") && header.contains("zcr"),
        "{header}"
    );
    assert!(!header.contains("mfcc_0"), "{header}");
    let docs = json_lines(&ok(sentio(&[
        "features",
        s(&wav),
        "--json",
        "--columns",
        "logmel_0",
        "--repeat",
        "3",
    ])));
    assert_eq!(docs[0]["columns"], serde_json::json!(["logmel_0"]));
    assert!(docs[0]["compute_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(docs[0]["repeat"], 3);
}

#[test]
fn a_feature_config_file_is_used() {
    let tmp = tempfile::tempdir().unwrap();
    let config = FeatureConfig {
        n_mfcc: 13,
        n_mels: 40,
        ..FeatureConfig::default()
    };
    let path = tmp.path().join("config.json");
    std::fs::write(&path, serde_json::to_string(&config).unwrap()).unwrap();
    let docs = json_lines(&ok(sentio(&[
        "features",
        "--json",
        "--config",
        s(&path),
        s(&reference("chirp.wav")),
    ])));
    assert_eq!(
        docs[0]["columns"].as_array().unwrap().len(),
        13 + 1 + 12 + 40
    );
    assert_eq!(docs[0]["config"]["n_mels"], 40);
}

#[test]
fn errors_name_the_file_and_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("missing.wav");
    let err = fails(sentio(&["features", s(&missing)]));
    assert!(
        err.contains("missing.wav") && err.contains("check"),
        "{err}"
    );

    let text = tmp.path().join("notes.wav");
    std::fs::write(&text, "these are notes, not audio").unwrap();
    let err = fails(sentio(&["features", s(&text)]));
    assert!(
        err.contains("notes.wav") && err.contains("is not a WAV file"),
        "{err}"
    );
    assert!(err.contains("sox"), "{err}");

    // A header that promises 1 s of samples, and 100 bytes of them.
    let cut = tmp.path().join("cut.wav");
    write_pcm16(&cut, 16000, 1, &vec![1000i16; 16000]);
    let bytes = std::fs::read(&cut).unwrap();
    std::fs::write(&cut, &bytes[..144]).unwrap();
    let err = fails(sentio(&["features", s(&cut)]));
    assert!(err.contains("cut.wav") && err.contains("damaged"), "{err}");

    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, r#"{"n_mfcc": 13}"#).unwrap();
    let wav = reference("chirp.wav");
    let err = fails(sentio(&["features", "--config", s(&bad), s(&wav)]));
    assert!(
        err.contains("bad.json") && err.contains("not a feature config"),
        "{err}"
    );
    assert!(err.contains("help"), "{err}");

    let invalid = tmp.path().join("invalid.json");
    let config = FeatureConfig {
        n_mfcc: 80,
        ..FeatureConfig::default()
    };
    std::fs::write(&invalid, serde_json::to_string(&config).unwrap()).unwrap();
    let err = fails(sentio(&["features", "--config", s(&invalid), s(&wav)]));
    assert!(
        err.contains("invalid.json") && err.contains("n_mfcc"),
        "{err}"
    );

    // An image model's manifest does not describe speech.
    let emoji = zoo("emoji/manifest.json");
    let err = fails(sentio(&["features", "--manifest", s(&emoji), s(&wav)]));
    assert!(
        err.contains("manifest.json") && err.contains("audio_features"),
        "{err}"
    );

    let err = fails(sentio(&[
        "features",
        "--manifest",
        s(&tmp.path().join("nope.json")),
        s(&wav),
    ]));
    assert!(err.contains("nope.json"), "{err}");

    let err = fails(sentio(&["features", s(&wav), "--columns", "mfcc_99"]));
    assert!(err.contains("mfcc_99"), "{err}");
}
