//! The feature extractor's wiring: layout, buffer reuse, config handling, summaries.

use std::f64::consts::PI;

use sentio_audio::{
    AudioError, FeatureConfig, FeatureExtractor, FeatureMatrix, resample, utterance_summary,
    utterance_summary_names,
};

fn tone(freq: f64, secs: f64, amplitude: f64) -> Vec<f32> {
    (0..(16000.0 * secs) as usize)
        .map(|i| (amplitude * (2.0 * PI * freq * i as f64 / 16000.0).sin()) as f32)
        .collect()
}

fn column(names: &[String], name: &str) -> usize {
    names
        .iter()
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

#[test]
fn layout_is_mfcc_zcr_chroma_logmel() {
    let config = FeatureConfig::default();
    let names = config.column_names();
    assert_eq!(config.dims(), 40 + 1 + 12 + 64);
    assert_eq!(names.len(), config.dims());
    assert_eq!(names[0], "mfcc_0");
    assert_eq!(names[40], "zcr");
    assert_eq!(names[41], "chroma_C");
    assert_eq!(names[50], "chroma_A");
    assert_eq!(names[53], "logmel_0");
    assert_eq!(names[116], "logmel_63");
    let summary_names = utterance_summary_names(&config);
    assert_eq!(summary_names.len(), 2 * config.dims());
    assert_eq!(summary_names[config.dims()], "std_mfcc_0");
}

#[test]
fn an_a4_tone_lights_chroma_a_and_crosses_zero_880_times_a_second() {
    let mut extractor = FeatureExtractor::new(FeatureConfig::default()).unwrap();
    let names = extractor.column_names();
    let m = extractor.extract(&tone(440.0, 0.5, 0.5));
    assert_eq!((m.frames, m.dims), (1 + 8000 / 160, extractor.dims()));
    let chroma_a = column(&names, "chroma_A");
    let zcr = column(&names, "zcr");
    for t in 5..m.frames - 5 {
        let row = m.row(t);
        assert_eq!(row[chroma_a], 1.0, "frame {t}");
        // A 512-point FFT has 31 Hz bins, so the neighbouring semitones (G#, A#) leak in;
        // classes further away must stay low.
        let chroma = &row[column(&names, "chroma_C")..column(&names, "chroma_C") + 12];
        for (class, &value) in chroma.iter().enumerate() {
            if !(8..=10).contains(&class) {
                assert!(
                    value < 0.3,
                    "frame {t}: class {class} = {value}: {chroma:?}"
                );
            }
        }
        // 880 crossings per second over 400-sample frames: 22 (+-1) crossings per frame.
        assert!(
            (row[zcr] - 22.0 / 400.0).abs() <= 1.0 / 400.0,
            "zcr {}",
            row[zcr]
        );
    }
    // The loudest mel band holds 440 Hz: band edges are evenly spaced in Slaney mel.
    let mel0 = column(&names, "logmel_0");
    let row = m.row(m.frames / 2);
    let loudest = (0..64)
        .max_by(|&a, &b| row[mel0 + a].total_cmp(&row[mel0 + b]))
        .unwrap();
    let mel_440 = sentio_audio::mel::hz_to_mel(440.0);
    let band_width = sentio_audio::mel::hz_to_mel(8000.0) / 65.0;
    assert!(
        ((loudest + 1) as f64 * band_width - mel_440).abs() <= band_width,
        "band {loudest}"
    );
}

#[test]
fn digital_silence_sits_on_the_floor() {
    // All powers are below amin, so every log-mel value is 10*log10(1e-10) = -100 dB; the
    // MFCCs of a constant frame are c0 = -100 * sqrt(n_mels) and nothing else.
    let mut extractor = FeatureExtractor::new(FeatureConfig::default()).unwrap();
    let m = extractor.extract(&vec![0.0; 1600]);
    assert_eq!(m.frames, 11);
    for t in 0..m.frames {
        let row = m.row(t);
        assert!((row[0] + 800.0).abs() < 1e-3, "c0 {}", row[0]);
        assert!(row[1..40].iter().all(|c| c.abs() < 1e-3));
        assert!(row[40..53].iter().all(|&v| v == 0.0), "zcr and chroma");
        assert!(row[53..].iter().all(|&v| v == -100.0));
    }
}

#[test]
fn top_db_is_relative_to_the_loudest_value_in_the_clip() {
    let mut extractor = FeatureExtractor::new(FeatureConfig::default()).unwrap();
    let m = extractor.extract(&tone(1000.0, 0.3, 0.5));
    let logmel = &m.column(53 + 20);
    let max = m
        .data
        .chunks_exact(m.dims)
        .flat_map(|row| row[53..].iter().copied())
        .fold(f32::MIN, f32::max);
    let min = m
        .data
        .chunks_exact(m.dims)
        .flat_map(|row| row[53..].iter().copied())
        .fold(f32::MAX, f32::min);
    assert!((max - min - 80.0).abs() < 1e-3, "range {}", max - min);
    assert!(logmel.iter().all(|v| *v >= max - 80.0));
}

#[test]
fn extract_into_reuses_its_buffer_and_matches_extract() {
    let mut extractor = FeatureExtractor::new(FeatureConfig::default()).unwrap();
    let long = tone(300.0, 1.0, 0.4);
    let mut out = FeatureMatrix::default();
    extractor.extract_into(&long, &mut out);
    let pointer = out.data.as_ptr();
    let capacity = out.data.capacity();
    let first = out.clone();

    // Same length, different content; then a shorter clip: no reallocation either way.
    let other = tone(2000.0, 1.0, 0.2);
    extractor.extract_into(&other, &mut out);
    assert_eq!(
        (out.data.as_ptr(), out.data.capacity()),
        (pointer, capacity)
    );
    assert_ne!(out, first);
    assert_eq!(out, extractor.extract(&other));

    extractor.extract_into(&long[..8000], &mut out);
    assert_eq!(
        (out.data.as_ptr(), out.data.capacity()),
        (pointer, capacity)
    );
    assert_eq!(out.frames, 51);
    assert_eq!(out, extractor.extract(&long[..8000]));

    // Back to the first clip: identical to the first result (no state leaks between calls).
    extractor.extract_into(&long, &mut out);
    assert_eq!(out, first);
    assert_eq!(out.data.as_ptr(), pointer);
}

#[test]
fn empty_input_gives_no_frames() {
    let mut extractor = FeatureExtractor::new(FeatureConfig::default()).unwrap();
    let m = extractor.extract(&[]);
    assert_eq!((m.frames, m.data.len()), (0, 0));
    assert_eq!(utterance_summary(&m), vec![0.0; 2 * extractor.dims()]);
}

#[test]
fn utterance_summary_is_column_mean_then_std() {
    let m = FeatureMatrix {
        frames: 4,
        dims: 2,
        data: vec![1.0, 10.0, 2.0, 10.0, 3.0, 10.0, 4.0, 10.0],
    };
    let summary = utterance_summary(&m);
    // Column 0: mean 2.5, population std sqrt(1.25); column 1 constant.
    assert_eq!(summary.len(), 4);
    assert!((summary[0] - 2.5).abs() < 1e-6);
    assert!((summary[1] - 10.0).abs() < 1e-6);
    assert!((summary[2] - 1.25f32.sqrt()).abs() < 1e-6);
    assert!(summary[3].abs() < 1e-6);
}

#[test]
fn config_round_trips_through_json_and_rejects_unknown_fields() {
    let config = FeatureConfig {
        n_mels: 40,
        n_mfcc: 13,
        fmax: Some(7600.0),
        ..FeatureConfig::default()
    };
    let json = serde_json::to_string(&config).unwrap();
    let back: FeatureConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, config);
    let typo = json.replace("n_mels", "n_mel");
    assert!(serde_json::from_str::<FeatureConfig>(&typo).is_err());
}

#[test]
fn invalid_configs_are_refused_with_the_field_named() {
    let cases = [
        (
            FeatureConfig {
                n_mfcc: 80,
                ..FeatureConfig::default()
            },
            "n_mfcc",
        ),
        (
            FeatureConfig {
                n_fft: 511,
                ..FeatureConfig::default()
            },
            "n_fft",
        ),
        (
            FeatureConfig {
                win_length: 1024,
                ..FeatureConfig::default()
            },
            "win_length",
        ),
        (
            FeatureConfig {
                hop_length: 0,
                ..FeatureConfig::default()
            },
            "hop_length",
        ),
        (
            FeatureConfig {
                fmax: Some(9000.0),
                ..FeatureConfig::default()
            },
            "fmax",
        ),
        (
            FeatureConfig {
                top_db: Some(f32::NAN),
                ..FeatureConfig::default()
            },
            "top_db",
        ),
    ];
    for (config, field) in cases {
        match FeatureExtractor::new(config) {
            Err(err @ AudioError::InvalidConfig { .. }) => {
                assert!(err.to_string().contains(field), "{err}");
                let help = miette::Diagnostic::help(&err).map(|h| h.to_string());
                assert!(help.is_some_and(|h| h.contains("default()")), "{err}");
            }
            Err(other) => panic!("{field}: wrong error {other}"),
            Ok(_) => panic!("{field}: accepted"),
        }
    }
}

#[test]
fn a_48khz_recording_resampled_gives_the_features_of_the_16khz_one() {
    // The device path: a 48 kHz capture is resampled, then featurized. Harmonics below 6 kHz
    // are inside the resampler's flat pass band, so every log-mel band below it agrees.
    let harmonic = |rate: u32| -> Vec<f32> {
        (0..(f64::from(rate) * 0.5) as usize)
            .map(|i| {
                let t = i as f64 / f64::from(rate);
                (1..20)
                    .map(|h| 0.3 / h as f64 * (2.0 * PI * 150.0 * h as f64 * t).sin())
                    .sum::<f64>() as f32
            })
            .collect()
    };
    let direct = harmonic(16000);
    let converted = resample(&harmonic(48000), 48000, 16000);
    assert_eq!(converted.len(), direct.len());
    let mut extractor = FeatureExtractor::new(FeatureConfig::default()).unwrap();
    let a = extractor.extract(&direct);
    let b = extractor.extract(&converted);
    let top_band = (0..64)
        .filter(|&i| {
            sentio_audio::mel::mel_to_hz(
                sentio_audio::mel::hz_to_mel(8000.0) * (i + 2) as f64 / 65.0,
            ) < 6000.0
        })
        .count();
    let mut worst = 0.0f32;
    for t in 3..a.frames - 3 {
        for band in 0..top_band {
            worst = worst.max((a.row(t)[53 + band] - b.row(t)[53 + band]).abs());
        }
    }
    assert!(worst < 0.1, "worst log-mel difference {worst} dB");
}
