//! Sample-rate conversion for whole clips: a windowed-sinc interpolator.
//!
//! Used to bring a WAV file recorded at any rate to the rate a board profile declares. The
//! clips are short (seconds), so a direct O(n * taps) filter is fast enough and easy to trust.

use std::f64::consts::PI;

/// Zero crossings of the sinc kernel on each side of the output sample, at the lower of the two
/// rates. 16 keeps the stop-band ripple below about -60 dB with the Blackman window.
const HALF_TAPS: f64 = 16.0;

/// Resamples `input` (taken at `from` Hz) to `to` Hz. When downsampling, the kernel is widened so
/// it also low-passes at the new Nyquist frequency, so nothing above it folds back.
pub fn resample(input: &[f32], from: u32, to: u32) -> Vec<f32> {
    if from == to || input.is_empty() || from == 0 || to == 0 {
        return input.to_vec();
    }
    let ratio = f64::from(to) / f64::from(from);
    // Cut-off relative to the input's Nyquist frequency.
    let cutoff = ratio.min(1.0);
    let half_width = HALF_TAPS / cutoff; // in input samples
    let out_len = ((input.len() as f64) * ratio).round() as usize;
    let mut out = Vec::with_capacity(out_len);
    let last = input.len() as i64 - 1;
    for n in 0..out_len {
        let t = n as f64 / ratio; // position in input samples
        let first = (t - half_width).ceil().max(0.0) as i64;
        let end = ((t + half_width).floor() as i64).min(last);
        let mut acc = 0.0f64;
        let mut weight_sum = 0.0f64;
        for k in first..=end {
            let x = t - k as f64;
            let w = cutoff * sinc(cutoff * x) * blackman(x / half_width);
            acc += w * f64::from(input[k as usize]);
            weight_sum += w;
        }
        // Normalising by the kernel's sum keeps DC gain exactly 1, also near the clip's edges.
        out.push(if weight_sum.abs() > 1e-12 {
            (acc / weight_sum) as f32
        } else {
            0.0
        });
    }
    out
}

fn sinc(x: f64) -> f64 {
    if x.abs() < 1e-12 {
        1.0
    } else {
        (PI * x).sin() / (PI * x)
    }
}

/// Blackman window over [-1, 1], zero outside.
fn blackman(u: f64) -> f64 {
    if u.abs() >= 1.0 {
        return 0.0;
    }
    let p = PI * (u + 1.0); // 0..2π across the window
    0.42 - 0.5 * p.cos() + 0.08 * (2.0 * p).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, rate: u32, secs: f64, amp: f64) -> Vec<f32> {
        let n = (f64::from(rate) * secs) as usize;
        (0..n)
            .map(|i| (amp * (2.0 * PI * freq * i as f64 / f64::from(rate)).sin()) as f32)
            .collect()
    }

    fn rms(x: &[f32]) -> f64 {
        (x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len() as f64).sqrt()
    }

    /// Counts upward zero crossings: frequency * seconds.
    fn upward_crossings(x: &[f32]) -> usize {
        x.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count()
    }

    #[test]
    fn same_rate_is_identity() {
        let x = sine(440.0, 16000, 0.1, 0.5);
        assert_eq!(resample(&x, 16000, 16000), x);
    }

    #[test]
    fn downsampling_keeps_frequency_amplitude_and_length() {
        let x = sine(1000.0, 44100, 1.0, 0.5);
        let y = resample(&x, 44100, 16000);
        assert_eq!(y.len(), 16000);
        assert!((upward_crossings(&y) as i64 - 1000).abs() <= 1);
        // Away from the edges the amplitude is kept to within 0.1 dB.
        let mid = &y[1000..15000];
        let ratio = rms(mid) / (0.5 / 2f64.sqrt());
        assert!((ratio - 1.0).abs() < 0.012, "gain {ratio}");
    }

    #[test]
    fn upsampling_keeps_frequency() {
        let x = sine(300.0, 8000, 1.0, 0.5);
        let y = resample(&x, 8000, 48000);
        assert_eq!(y.len(), 48000);
        assert!((upward_crossings(&y) as i64 - 300).abs() <= 1);
    }

    #[test]
    fn tone_above_new_nyquist_is_removed() {
        // 12 kHz cannot exist at 16 kHz; it must not fold back to 4 kHz.
        let x = sine(12000.0, 48000, 0.5, 0.5);
        let y = resample(&x, 48000, 16000);
        let mid = &y[500..7500];
        assert!(rms(mid) < 0.5 / 2f64.sqrt() * 0.01, "leak rms {}", rms(mid));
    }

    #[test]
    fn constant_signal_stays_constant() {
        let x = vec![0.25f32; 1000];
        let y = resample(&x, 22050, 16000);
        assert!(y.iter().all(|&v| (v - 0.25).abs() < 1e-4));
    }
}
