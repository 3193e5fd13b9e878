//! Waveform effects for the speech generator: the emotion cues espeak-ng cannot make (tremolo,
//! pitch jitter, breathiness, muffling, harshness, emphasis) and the augmentations (noise at an
//! SNR, a synthetic room, gain). All work on mono `f32` samples at `rate` Hz, in place or
//! returning a new buffer; all randomness comes from the caller's [`Rng`].
//!
//! These are effects, not format conversion: sample-rate conversion and WAV files are
//! `sentio-audio`'s.

use std::f32::consts::TAU;

use crate::rng::Rng;

/// Pitch vibrato and jitter: the signal read through a delay line whose length follows a sine
/// of `rate_hz` (depth `depth_ms`) plus smoothed random wander (`jitter_ms`), with linear
/// interpolation. A 1 ms sine delay at 6 Hz bends the pitch by about 2%.
pub(crate) fn vibrato(
    x: &[f32],
    rate: u32,
    rate_hz: f32,
    depth_ms: f32,
    jitter_ms: f32,
    rng: &mut Rng,
) -> Vec<f32> {
    let fs = rate as f32;
    let depth = depth_ms.max(0.0) * fs / 1000.0;
    let jitter = jitter_ms.max(0.0) * fs / 1000.0;
    let base = depth + 2.0 * jitter + 2.0;
    let phase0 = rng.range(0.0, TAU);
    // Random wander: a new target every 30-60 ms, followed by a one-pole smoother.
    let mut target = 0.0f32;
    let mut wander = 0.0f32;
    let mut next_change = 0usize;
    let smooth = 1.0 - (-1.0 / (0.02 * fs)).exp();
    let mut out = Vec::with_capacity(x.len());
    for n in 0..x.len() {
        if n >= next_change {
            target = rng.sym(1.0);
            next_change = n + (fs * rng.range(0.03, 0.06)) as usize;
        }
        wander += smooth * (target - wander);
        let t = n as f32 / fs;
        let d = base + depth * (TAU * rate_hz * t + phase0).sin() + jitter * wander;
        let pos = n as f32 - d;
        out.push(if pos < 0.0 {
            0.0
        } else {
            let i = pos.floor() as usize;
            let frac = pos - pos.floor();
            let a = x.get(i).copied().unwrap_or(0.0);
            let b = x.get(i + 1).copied().unwrap_or(0.0);
            a + (b - a) * frac
        });
    }
    out
}

/// Amplitude modulation: `x * (1 - depth * (0.5 + 0.5 sin(2 pi f t)))`. Around 4-10 Hz it is a
/// trembling voice; at 30-70 Hz it sounds rough and harsh.
pub(crate) fn tremolo(x: &mut [f32], rate: u32, freq_hz: f32, depth: f32, phase: f32) {
    let depth = depth.clamp(0.0, 1.0);
    let w = TAU * freq_hz / rate as f32;
    for (n, s) in x.iter_mut().enumerate() {
        *s *= 1.0 - depth * (0.5 + 0.5 * (w * n as f32 + phase).sin());
    }
}

/// Two cascaded one-pole low-pass filters at `cutoff_hz` (a muffled, softer voice).
pub(crate) fn lowpass(x: &mut [f32], rate: u32, cutoff_hz: f32) {
    let a = 1.0 - (-TAU * cutoff_hz.max(1.0) / rate as f32).exp();
    for _ in 0..2 {
        let mut y = 0.0f32;
        for s in x.iter_mut() {
            y += a * (*s - y);
            *s = y;
        }
    }
}

/// Spectral tilt: `amount` > 0 boosts what lies above ~1.5 kHz (bright, tense voice),
/// `amount` < 0 cuts it.
pub(crate) fn tilt(x: &mut [f32], rate: u32, amount: f32) {
    let mut low = x.to_vec();
    lowpass(&mut low, rate, 1500.0);
    for (s, l) in x.iter_mut().zip(&low) {
        *s += amount * (*s - l);
    }
}

/// A loudness envelope (rectified signal through a 10 ms one-pole smoother).
fn envelope(x: &[f32], rate: u32) -> Vec<f32> {
    let a = 1.0 - (-1.0 / (0.01 * rate as f32)).exp();
    let mut e = 0.0f32;
    x.iter()
        .map(|s| {
            e += a * (s.abs() - e);
            e
        })
        .collect()
}

/// Emphasis: loud parts made louder than soft ones (gain = (envelope / peak envelope) ^
/// `expand`), then driven into a soft clipper (`tanh(drive x) / tanh(drive)`, `drive` > 0),
/// which adds harmonics and a pressed, shouting quality.
pub(crate) fn emphasis(x: &mut [f32], rate: u32, expand: f32, drive: f32) {
    let env = envelope(x, rate);
    let peak_env = env.iter().fold(0.0f32, |m, &e| m.max(e));
    if peak_env > 0.0 && expand > 0.0 {
        for (s, e) in x.iter_mut().zip(&env) {
            *s *= (e / peak_env).max(1e-4).powf(expand);
        }
    }
    normalize_peak(x, 1.0);
    if drive > 0.01 {
        let norm = drive.tanh();
        for s in x.iter_mut() {
            *s = (drive * *s).tanh() / norm;
        }
    }
}

/// Breathiness: high-passed noise that follows the voice's loudness, `level` times the voice's
/// own envelope.
pub(crate) fn breath(x: &mut [f32], rate: u32, level: f32, rng: &mut Rng) {
    if level <= 0.0 {
        return;
    }
    let env = envelope(x, rate);
    let a = 1.0 - (-TAU * 1200.0 / rate as f32).exp();
    let mut low = 0.0f32;
    for (s, e) in x.iter_mut().zip(&env) {
        let white = rng.sym(1.0);
        low += a * (white - low);
        *s += level * e * 3.0 * (white - low);
    }
}

/// White (`pink` false) or pink noise with unit RMS. Pink noise is Paul Kellet's three-pole
/// approximation of a -3 dB/octave slope.
pub(crate) fn noise(len: usize, pink: bool, rng: &mut Rng) -> Vec<f32> {
    let (mut b0, mut b1, mut b2) = (0.0f32, 0.0f32, 0.0f32);
    let mut out: Vec<f32> = (0..len)
        .map(|_| {
            let white = rng.sym(1.0);
            if pink {
                b0 = 0.99765 * b0 + white * 0.099_046;
                b1 = 0.963 * b1 + white * 0.296_516_4;
                b2 = 0.57 * b2 + white * 1.052_691_3;
                b0 + b1 + b2 + white * 0.1848
            } else {
                white
            }
        })
        .collect();
    let r = rms(&out);
    if r > 0.0 {
        out.iter_mut().for_each(|s| *s /= r);
    }
    out
}

/// Add noise at `snr_db` below the signal's power (measured over the whole clip).
pub(crate) fn add_noise(x: &mut [f32], snr_db: f32, pink: bool, rng: &mut Rng) {
    let signal = rms(x);
    if signal <= 0.0 {
        return;
    }
    let scale = signal / 10f32.powf(snr_db / 20.0);
    let noise = noise(x.len(), pink, rng);
    for (s, n) in x.iter_mut().zip(noise) {
        *s += scale * n;
    }
}

/// A synthetic room impulse response as sparse taps `(delay in samples, gain)`: the direct
/// sound (1.0), then after a 5-20 ms pre-delay velvet noise (one random-sign impulse in each
/// 1/1500 s cell) under an exponential decay that falls by 60 dB in `rt60` seconds, scaled so
/// the reverberant energy is `drr_db` below the direct sound.
pub(crate) fn room(rate: u32, rt60: f32, drr_db: f32, rng: &mut Rng) -> Vec<(usize, f32)> {
    let fs = rate as f32;
    let rt60 = rt60.max(0.05);
    let cell = (fs / 1500.0).max(1.0);
    let predelay = fs * rng.range(0.005, 0.02);
    let cells = (rt60 * fs / cell) as usize;
    let mut taps = Vec::with_capacity(cells + 1);
    let mut energy = 0.0f32;
    for k in 0..cells {
        let t = k as f32 * cell + rng.range(0.0, cell);
        let decay = (-6.9078 * t / (rt60 * fs)).exp();
        let sign = if rng.chance(0.5) { 1.0 } else { -1.0 };
        taps.push(((predelay + t) as usize, sign * decay));
        energy += decay * decay;
    }
    let wet = if energy > 0.0 {
        (10f32.powf(-drr_db / 10.0) / energy).sqrt()
    } else {
        0.0
    };
    taps.iter_mut().for_each(|(_, g)| *g *= wet);
    taps.insert(0, (0, 1.0));
    taps
}

/// Convolve with sparse taps; the output is longer by the last tap's delay (the reverb tail).
pub(crate) fn convolve_taps(x: &[f32], taps: &[(usize, f32)]) -> Vec<f32> {
    let tail = taps.iter().map(|(d, _)| *d).max().unwrap_or(0);
    let mut out = vec![0.0f32; x.len() + tail];
    for &(delay, gain) in taps {
        for (o, s) in out[delay..].iter_mut().zip(x) {
            *o += gain * s;
        }
    }
    out
}

/// Scale so the largest magnitude is `peak` (silence stays silence).
pub(crate) fn normalize_peak(x: &mut [f32], peak: f32) {
    let max = x.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    if max > 0.0 {
        let g = peak / max;
        x.iter_mut().for_each(|s| *s *= g);
    }
}

/// Root mean square.
pub(crate) fn rms(x: &[f32]) -> f32 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|s| s * s).sum::<f32>() / x.len() as f32).sqrt()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const FS: u32 = 16_000;

    fn sine(freq: f32, secs: f32) -> Vec<f32> {
        (0..(secs * FS as f32) as usize)
            .map(|n| 0.5 * (TAU * freq * n as f32 / FS as f32).sin())
            .collect()
    }

    /// Energy above `split` Hz as a fraction of all, by a plain DFT of the first 2048 samples.
    fn high_share(x: &[f32], split: f32) -> f32 {
        let n = x.len().min(2048);
        let (mut lo, mut hi) = (0.0f32, 0.0f32);
        for k in 1..n / 2 {
            let f = k as f32 * FS as f32 / n as f32;
            let (mut re, mut im) = (0.0f32, 0.0f32);
            for (i, s) in x[..n].iter().enumerate() {
                let a = TAU * k as f32 * i as f32 / n as f32;
                re += s * a.cos();
                im -= s * a.sin();
            }
            let p = re * re + im * im;
            if f > split { hi += p } else { lo += p }
        }
        hi / (lo + hi)
    }

    #[test]
    fn noise_lands_at_the_requested_snr() {
        for (snr, pink) in [(10.0, false), (20.0, true), (30.0, false)] {
            let clean = sine(220.0, 1.0);
            let mut noisy = clean.clone();
            add_noise(&mut noisy, snr, pink, &mut Rng::new(5));
            let residual: Vec<f32> = noisy.iter().zip(&clean).map(|(a, b)| a - b).collect();
            let measured = 20.0 * (rms(&clean) / rms(&residual)).log10();
            assert!(
                (measured - snr).abs() < 0.1,
                "{snr} dB asked, {measured} got"
            );
        }
    }

    #[test]
    fn pink_noise_has_more_low_end_than_white() {
        let white = noise(8192, false, &mut Rng::new(1));
        let pink = noise(8192, true, &mut Rng::new(1));
        let (w, p) = (high_share(&white, 2000.0), high_share(&pink, 2000.0));
        assert!(w > 0.6, "white above 2 kHz: {w}");
        assert!(p < w * 0.6, "pink {p} vs white {w}");
    }

    #[test]
    fn lowpass_and_tilt_move_energy() {
        let mix: Vec<f32> = sine(200.0, 0.5)
            .iter()
            .zip(sine(4000.0, 0.5))
            .map(|(a, b)| a + b)
            .collect();
        let before = high_share(&mix, 2000.0);
        let mut dull = mix.clone();
        lowpass(&mut dull, FS, 1000.0);
        let mut bright = mix.clone();
        tilt(&mut bright, FS, 1.0);
        assert!(high_share(&dull, 2000.0) < before * 0.2);
        assert!(high_share(&bright, 2000.0) > before + 0.1);
    }

    #[test]
    fn tremolo_modulates_the_level_at_its_rate() {
        let mut x = vec![1.0f32; FS as usize];
        tremolo(&mut x, FS, 8.0, 0.5, 0.0);
        let min = x.iter().fold(1.0f32, |m, &s| m.min(s));
        assert!((min - 0.5).abs() < 0.01 && x.iter().all(|&s| s <= 1.0));
        let crossings = x
            .windows(2)
            .filter(|w| (w[0] - 0.75).signum() != (w[1] - 0.75).signum())
            .count();
        assert!((15..=17).contains(&crossings), "{crossings}");
    }

    #[test]
    fn vibrato_bends_the_pitch_and_keeps_the_level() {
        let x = sine(300.0, 1.0);
        let y = vibrato(&x, FS, 6.0, 1.0, 0.0, &mut Rng::new(2));
        assert_eq!(y.len(), x.len());
        // Zero-crossing intervals vary with vibrato and not without it.
        let periods = |s: &[f32]| {
            let idx: Vec<usize> = (1..s.len())
                .filter(|&i| s[i - 1] < 0.0 && s[i] >= 0.0)
                .collect();
            idx.windows(2)
                .map(|w| (w[1] - w[0]) as f32)
                .collect::<Vec<_>>()
        };
        let spread = |p: Vec<f32>| {
            let lo = p.iter().fold(f32::MAX, |m, &v| m.min(v));
            let hi = p.iter().fold(0.0f32, |m, &v| m.max(v));
            hi - lo
        };
        assert!(spread(periods(&x[1000..])) <= 1.0);
        assert!(spread(periods(&y[1000..])) >= 2.0);
        assert!((rms(&y[1000..]) - rms(&x[1000..])).abs() < 0.02);
    }

    #[test]
    fn room_decays_by_60_db_in_rt60_at_the_asked_drr() {
        let taps = room(FS, 0.4, 3.0, &mut Rng::new(9));
        assert_eq!(taps[0], (0, 1.0));
        let tail = &taps[1..];
        let last = tail.iter().map(|t| t.0).max().unwrap() as f32 / FS as f32;
        assert!((0.4..0.43).contains(&last), "{last}");
        let energy: f32 = tail.iter().map(|t| t.1 * t.1).sum();
        assert!((10.0 * energy.log10() + 3.0).abs() < 0.01);
        // Energy in the first 50 ms after the pre-delay vs 50 ms around t = 0.2 s: 30 dB apart.
        let window = |from: f32| -> f32 {
            tail.iter()
                .filter(|t| {
                    let s = t.0 as f32 / FS as f32;
                    s >= from && s < from + 0.05
                })
                .map(|t| t.1 * t.1)
                .sum()
        };
        let drop_db = 10.0 * (window(0.02) / window(0.22)).log10();
        assert!((drop_db - 30.0).abs() < 5.0, "{drop_db}");
        let y = convolve_taps(&[1.0, 0.0, 0.0], &taps);
        assert_eq!(y.len(), 3 + tail.iter().map(|t| t.0).max().unwrap());
        assert_eq!(y[0], 1.0);
    }

    #[test]
    fn emphasis_keeps_the_peak_and_compresses_with_drive() {
        let mut x: Vec<f32> = sine(200.0, 0.5)
            .iter()
            .enumerate()
            .map(|(i, s)| if i < 4000 { s * 0.2 } else { *s })
            .collect();
        let quiet_before = rms(&x[1000..4000]) / rms(&x[5000..]);
        emphasis(&mut x, FS, 0.5, 0.0);
        let quiet_after = rms(&x[1000..4000]) / rms(&x[5000..]);
        assert!(
            quiet_after < quiet_before * 0.7,
            "{quiet_before} -> {quiet_after}"
        );
        let mut y = sine(200.0, 0.2);
        emphasis(&mut y, FS, 0.0, 4.0);
        let peak = y.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        assert!((peak - 1.0).abs() < 1e-3);
        assert!(rms(&y) > 0.85, "driven into a near square: {}", rms(&y));
    }
}
