//! Rough real-time factor of the feature extractor and the resampler on this machine:
//! `cargo run --release -p sentio-audio --example bench_features`.

use std::time::Instant;

use sentio_audio::{FeatureConfig, FeatureExtractor, FeatureMatrix, detect_speech, resample};

/// CPU time of the calling thread (the first field of Linux's `/proc/thread-self/schedstat`, ns).
fn thread_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(ns * 1e-9)
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
    // The fastest and the median of many runs, in this thread's CPU time where Linux reports it
    // (wall time elsewhere): the machine may be shared, and time spent preempted is not ours.
    let runs = 40;
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let (start, cpu) = (Instant::now(), thread_cpu_seconds());
            extractor.extract_into(&audio, &mut out);
            match (cpu, thread_cpu_seconds()) {
                (Some(a), Some(b)) => b - a,
                _ => start.elapsed().as_secs_f64(),
            }
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let (best, median) = (times[0], times[runs / 2]);
    let per_frame_us = |s: f64| s * 1e6 / out.frames.max(1) as f64;
    println!(
        "features: {:.2} ms per {secs} s of 16 kHz audio ({} frames x {} dims): {:.2} us per \
         frame (median {:.2}), real-time factor {:.5}",
        best * 1e3,
        out.frames,
        out.dims,
        per_frame_us(best),
        per_frame_us(median),
        best / secs
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
