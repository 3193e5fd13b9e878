//! Compares sentio-audio's features with librosa 0.11's, computed by
//! `tests/reference/make_fixtures.py` on the same 16-bit WAV inputs. No Python needed here: the
//! inputs and librosa's outputs are committed files. Tolerances and the measured differences are
//! documented in `tests/reference/README.md`; run with `--nocapture` to print the table.

mod support;

use std::path::{Path, PathBuf};

use sentio_audio::{FeatureConfig, FeatureExtractor, read_wav, rms};
use support::npy::read_npy;

fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference")
}

const SIGNALS: [&str; 5] = ["chirp", "two_tone", "noise_burst", "speech", "silence"];

/// Largest allowed |ours - librosa|, per feature, in the feature's unit. See the README for how
/// they were derived from the measured differences.
const TOLERANCES: [(&str, f32); 5] = [
    ("mfcc", 1e-3),
    ("zcr", 1e-6),
    ("chroma", 1e-5),
    ("logmel", 1e-3),
    ("rms", 1e-6),
];

fn tolerance(feature: &str) -> f32 {
    TOLERANCES
        .iter()
        .find(|(name, _)| *name == feature)
        .map(|(_, tol)| *tol)
        .unwrap_or(0.0)
}

struct Diff {
    max_abs: f32,
    /// max_abs relative to the largest |librosa value| of the feature in that clip.
    max_rel_to_range: f32,
    at: (usize, usize),
}

/// Compares `ours` (a [frames, width] view given by a closure) with librosa's [frames, width].
fn compare(
    name: &str,
    feature: &str,
    frames: usize,
    width: usize,
    ours: impl Fn(usize, usize) -> f32,
) -> Diff {
    let path = reference_dir().join(format!("{name}.{feature}.npy"));
    let reference = read_npy(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        reference.shape,
        vec![frames, width],
        "{name}.{feature}: shape (frames, dims)"
    );
    let scale = reference.data.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let mut diff = Diff {
        max_abs: 0.0,
        max_rel_to_range: 0.0,
        at: (0, 0),
    };
    for t in 0..frames {
        for d in 0..width {
            let err = (ours(t, d) - reference.data[t * width + d]).abs();
            assert!(err.is_finite(), "{name}.{feature}[{t}, {d}] is not finite");
            if err > diff.max_abs {
                diff.max_abs = err;
                diff.at = (t, d);
            }
        }
    }
    diff.max_rel_to_range = if scale > 0.0 {
        diff.max_abs / scale
    } else {
        0.0
    };
    diff
}

#[test]
fn the_fixtures_were_made_with_the_default_config() {
    let text = std::fs::read_to_string(reference_dir().join("config.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let config: FeatureConfig = serde_json::from_value(json["config"].clone()).unwrap();
    assert_eq!(config, FeatureConfig::default());
}

#[test]
fn features_match_librosa_within_the_documented_tolerances() {
    let config = FeatureConfig::default();
    let mut extractor = FeatureExtractor::new(config.clone()).unwrap();
    let (n_mfcc, n_mels) = (config.n_mfcc, config.n_mels);
    let mut failures = Vec::new();
    println!("| signal | feature | max abs diff | max diff / max abs value | at (frame, dim) |");
    println!("|---|---|---|---|---|");
    for name in SIGNALS {
        let audio = read_wav(reference_dir().join(format!("{name}.wav"))).unwrap();
        assert_eq!(audio.sample_rate, config.sample_rate);
        let m = extractor.extract(&audio.samples);
        let levels = rms(&audio.samples, config.win_length, config.hop_length);
        let mel_col = n_mfcc + 1 + 12;
        let results = [
            (
                "mfcc",
                compare(name, "mfcc", m.frames, n_mfcc, |t, d| m.row(t)[d]),
            ),
            (
                "zcr",
                compare(name, "zcr", m.frames, 1, |t, _| m.row(t)[n_mfcc]),
            ),
            (
                "chroma",
                compare(name, "chroma", m.frames, 12, |t, d| {
                    m.row(t)[n_mfcc + 1 + d]
                }),
            ),
            (
                "logmel",
                compare(name, "logmel", m.frames, n_mels, |t, d| {
                    m.row(t)[mel_col + d]
                }),
            ),
            (
                "rms",
                compare(name, "rms", levels.len(), 1, |t, _| levels[t]),
            ),
        ];
        for (feature, diff) in results {
            println!(
                "| {name} | {feature} | {:.3e} | {:.3e} | {:?} |",
                diff.max_abs, diff.max_rel_to_range, diff.at
            );
            if diff.max_abs > tolerance(feature) {
                failures.push(format!(
                    "{name}.{feature}: max abs diff {} at {:?} > tolerance {}",
                    diff.max_abs,
                    diff.at,
                    tolerance(feature)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn filterbanks_match_librosa() {
    let extractor = FeatureExtractor::new(FeatureConfig::default()).unwrap();
    let cases: [(&str, Vec<f64>, f64); 2] = [
        ("mel", extractor.mel_filterbank().to_dense(), 1e-7),
        (
            "chroma",
            extractor.chroma_filterbank().weights().to_vec(),
            1e-6,
        ),
    ];
    for (name, ours, tol) in cases {
        let reference = read_npy(&reference_dir().join(format!("filters.{name}.npy"))).unwrap();
        assert_eq!(reference.data.len(), ours.len(), "filters.{name}: size");
        // The fixture is librosa's f64 filterbank stored as f32: compare relative to f32 rounding.
        let max_err = ours
            .iter()
            .zip(&reference.data)
            .map(|(a, &b)| (a - f64::from(b)).abs() / f64::from(b.abs()).max(1e-3))
            .fold(0.0f64, f64::max);
        println!("filters.{name}: max relative diff {max_err:.3e}");
        assert!(max_err < tol, "filters.{name}: max relative diff {max_err}");
    }
}
