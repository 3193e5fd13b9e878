//! Rough real-time factor of the feature extractor and the resampler on this machine:
//! `cargo run --release -p sentio-audio --example bench_features`.

use std::time::Instant;

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

/// The extractor's stages alone, each over every frame of `audio`.
fn stages(audio: &[f32], cfg: &FeatureConfig) {
    use sentio_audio::chroma::ChromaFilterbank;
    use sentio_audio::mel::{MelFilterbank, clip_to_top_db, power_to_db_in_place};
    use sentio_audio::mfcc::Dct2;
    use sentio_audio::stft::Stft;
    use sentio_audio::zcr::zero_crossing_rate;

    let mut stft = Stft::new(cfg.n_fft, cfg.win_length, cfg.hop_length);
    let frames = stft.frames(audio.len());
    let mut powers = vec![0.0f32; frames * stft.bins()];
    let fft = best_us_per_frame(frames, || {
        for (t, power) in powers.chunks_exact_mut(stft.bins()).enumerate() {
            stft.power_frame(audio, t, power);
        }
    });
    let fmax = cfg.mel_fmax().into();
    let mel = MelFilterbank::new(
        cfg.sample_rate,
        cfg.n_fft,
        cfg.n_mels,
        cfg.fmin.into(),
        fmax,
    );
    let mut mels = vec![0.0f32; frames * cfg.n_mels];
    let mel_us = best_us_per_frame(frames, || {
        for (power, out) in powers
            .chunks_exact(mel.bins())
            .zip(mels.chunks_exact_mut(cfg.n_mels))
        {
            mel.apply(power, out);
        }
    });
    let chroma = ChromaFilterbank::new(cfg.sample_rate, cfg.n_fft);
    let mut out = [0.0f32; 12];
    let chroma_us = best_us_per_frame(frames, || {
        for power in powers.chunks_exact(chroma.bins()) {
            chroma.apply(power, &mut out);
        }
    });
    let mut db = mels.clone();
    let db_us = best_us_per_frame(frames, || {
        db.copy_from_slice(&mels);
        power_to_db_in_place(&mut db);
        clip_to_top_db(&mut db, cfg.top_db);
    });
    let dct = Dct2::new(cfg.n_mels, cfg.n_mfcc);
    let mut mfcc = vec![0.0f32; cfg.n_mfcc];
    let dct_us = best_us_per_frame(frames, || {
        for row in db.chunks_exact(cfg.n_mels) {
            dct.apply(row, &mut mfcc);
        }
    });
    let mut zcr = Vec::new();
    let zcr_us = best_us_per_frame(frames, || {
        zcr = zero_crossing_rate(audio, cfg.win_length, cfg.hop_length);
    });
    println!(
        "stages, us per frame: stft {fft:.2}, mel {mel_us:.2}, chroma {chroma_us:.2}, dB + clip \
         {db_us:.2}, dct {dct_us:.2}, zcr {zcr_us:.2} (checksum {:.3})",
        out[0] + mfcc[0] + zcr.first().copied().unwrap_or(0.0)
    );
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
        "features: {:.2} ms per {secs} s of 16 kHz audio ({} frames x {} dims): {:.2} us per \
         frame (median {:.2}), real-time factor {:.5}",
        best * 1e3,
        out.frames,
        out.dims,
        per_frame_us(best),
        per_frame_us(median),
        best / secs
    );

    // The same without the run-time dispatch (the target's baseline instruction set, SSE2 on
    // x86_64).
    let portable = best_us_per_frame(out.frames, || {
        extractor.extract_into_portable(&audio, &mut out);
    });
    println!("features, portable build: {portable:.2} us per frame");
    // `extract` (a new matrix per call, as `sentio features --repeat` times it): the output's
    // allocation and first-touch page faults on top.
    let fresh = best_us_per_frame(out.frames, || {
        out = extractor.extract(&audio);
    });
    println!("features, new matrix per call: {fresh:.2} us per frame");
    stages(&audio, &FeatureConfig::default());

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
