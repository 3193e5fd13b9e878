//! Rough real-time factor of the feature extractor and the resampler on this machine:
//! `cargo run --release -p sentio-audio --example bench_features`.

use std::time::Instant;

use sentio_audio::features::Isa;
use sentio_audio::{FeatureConfig, FeatureExtractor, FeatureMatrix, detect_speech, resample};

/// Best-of-20 time of `f`, in us per frame.
fn best_us_per_frame(frames: usize, mut f: impl FnMut()) -> f64 {
    (0..20)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
        * 1e6
        / frames.max(1) as f64
}

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
    // The fastest and the median of many runs: the machine may be shared, and the fastest run is
    // the least disturbed one.
    let runs = 40;
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            extractor.extract_into(&audio, &mut out);
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let (best, median) = (times[0], times[runs / 2]);
    let per_frame_us = |s: f64| s * 1e6 / out.frames.max(1) as f64;
    println!(
        "features ({}): {:.2} ms per {secs} s of 16 kHz audio ({} frames x {} dims): {:.3} us \
         per frame (median {:.3}), real-time factor {:.5}",
        extractor.isa().name(),
        best * 1e3,
        out.frames,
        out.dims,
        per_frame_us(best),
        per_frame_us(median),
        best / secs
    );

    // Every build of the lane-parallel path this CPU runs, and the frame-at-a-time path (kept
    // for FFT sizes that are not a power of two).
    for isa in Isa::available() {
        let us = best_us_per_frame(out.frames, || {
            extractor.extract_into_with(isa, &audio, &mut out);
        });
        println!("features, {} build: {us:.3} us per frame", isa.name());
    }
    let framewise = best_us_per_frame(out.frames, || {
        extractor.extract_into_framewise(&audio, &mut out);
    });
    println!("features, frame at a time: {framewise:.3} us per frame");
    // `extract` (a new matrix per call, as `sentio features --repeat` times it): the output's
    // allocation and first-touch page faults on top.
    let fresh = best_us_per_frame(out.frames, || {
        out = extractor.extract(&audio);
    });
    println!("features, new matrix per call: {fresh:.3} us per frame");

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
