//! Rough real-time factor of the feature extractor and the resampler on this machine:
//! `cargo run --release -p sentio-audio --example bench_features`.

use std::time::Instant;

use sentio_audio::{FeatureConfig, FeatureExtractor, FeatureMatrix, detect_speech, resample};

fn main() {
    let secs = 10.0;
    let signal = |rate: u32| -> Vec<f32> {
        (0..(f64::from(rate) * secs) as usize)
            .map(|i| {
                let t = i as f64 / f64::from(rate);
                (0.3 * (2.0 * std::f64::consts::PI * 220.0 * t).sin()
                    + 0.1 * (2.0 * std::f64::consts::PI * 1870.0 * t).sin()) as f32
            })
            .collect()
    };
    let audio = signal(16000);
    let Ok(mut extractor) = FeatureExtractor::new(FeatureConfig::default()) else {
        eprintln!("the default config is invalid");
        return;
    };
    let mut out = FeatureMatrix::default();
    extractor.extract_into(&audio, &mut out);
    let runs = 10;
    let start = Instant::now();
    for _ in 0..runs {
        extractor.extract_into(&audio, &mut out);
    }
    let per_run = start.elapsed().as_secs_f64() / f64::from(runs);
    println!(
        "features: {:.1} ms per {secs} s of 16 kHz audio ({} frames x {} dims), real-time factor {:.4}",
        per_run * 1e3,
        out.frames,
        out.dims,
        per_run / secs
    );

    let capture = signal(48000);
    let start = Instant::now();
    let converted = resample(&capture, 48000, 16000);
    let took = start.elapsed().as_secs_f64();
    println!(
        "resample 48 kHz -> 16 kHz: {:.1} ms per {secs} s ({} samples out), real-time factor {:.4}",
        took * 1e3,
        converted.len(),
        took / secs
    );

    let start = Instant::now();
    let segments = detect_speech(&audio, 16000, &Default::default()).map(|s| s.len());
    println!(
        "vad: {:.2} ms per {secs} s ({segments:?} segments)",
        start.elapsed().as_secs_f64() * 1e3
    );
}
