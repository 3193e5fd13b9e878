//! Short-time Fourier transform framing, as `librosa.stft(center=True, pad_mode="constant")`.
//!
//! Frame `t` is centred on sample `t * hop`: the signal is taken as padded with `n_fft / 2`
//! zeros on both sides (librosa >= 0.10's default `pad_mode="constant"`; older librosa reflected
//! the signal instead). Zero padding was chosen because it is the current reference's default and
//! because it invents no signal: the first and last frames only see real samples and silence.
//! The window is a periodic Hann window of `win_length` samples (`scipy.signal.get_window("hann",
//! win_length, fftbins=True)`), centred in the `n_fft`-sample frame with zeros on both sides.
//! Padding is done by index arithmetic, never by copying the signal.

use std::f64::consts::PI;
use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

/// Number of centred frames for `len` samples with frames of `frame_length` (padded by
/// `frame_length / 2` on each side, as librosa does) every `hop` samples. 0 for an empty signal.
pub fn frame_count(len: usize, frame_length: usize, hop: usize) -> usize {
    let padded = len + 2 * (frame_length / 2);
    if len == 0 || hop == 0 || padded < frame_length {
        return 0;
    }
    1 + (padded - frame_length) / hop
}

/// Periodic Hann window of `len` samples: `0.5 - 0.5 cos(2 pi n / len)`, the DFT-even form used
/// for spectral analysis (its last sample is not the repeated zero of the symmetric form).
pub fn hann_periodic(len: usize) -> Vec<f64> {
    (0..len)
        .map(|n| 0.5 - 0.5 * (2.0 * PI * n as f64 / len as f64).cos())
        .collect()
}

/// A planned STFT: the FFT plan, the padded window and the work buffers are built once and reused
/// for every frame.
pub struct Stft {
    n_fft: usize,
    hop: usize,
    /// Hann window of `win_length` centred in `n_fft` samples.
    window: Vec<f64>,
    fft: Arc<dyn Fft<f64>>,
    buffer: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
}

impl Stft {
    /// `win_length <= n_fft`, both > 0, and `hop > 0` are the caller's to check
    /// ([`crate::FeatureConfig::validate`] does).
    pub fn new(n_fft: usize, win_length: usize, hop: usize) -> Self {
        let mut window = vec![0.0; n_fft];
        let offset = (n_fft - win_length) / 2;
        window[offset..offset + win_length].copy_from_slice(&hann_periodic(win_length));
        let fft = FftPlanner::new().plan_fft_forward(n_fft);
        let scratch = vec![Complex::default(); fft.get_inplace_scratch_len()];
        Stft {
            n_fft,
            hop,
            window,
            fft,
            buffer: vec![Complex::default(); n_fft],
            scratch,
        }
    }

    /// Number of frequency bins of one frame: `n_fft / 2 + 1`.
    pub fn bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// Number of frames [`Stft::power_frame`] accepts for `len` samples.
    pub fn frames(&self, len: usize) -> usize {
        frame_count(len, self.n_fft, self.hop)
    }

    /// Writes `|X_t(k)|^2` for k in 0..=n_fft/2 of frame `frame` of `samples` into `power`
    /// (which must hold [`Stft::bins`] values).
    pub fn power_frame(&mut self, samples: &[f32], frame: usize, power: &mut [f64]) {
        let half = (self.n_fft / 2) as isize;
        let start = (frame * self.hop) as isize - half;
        for (j, (slot, &w)) in self.buffer.iter_mut().zip(&self.window).enumerate() {
            let index = start + j as isize;
            let sample = if index >= 0 && (index as usize) < samples.len() {
                f64::from(samples[index as usize])
            } else {
                0.0
            };
            *slot = Complex::new(sample * w, 0.0);
        }
        self.fft
            .process_with_scratch(&mut self.buffer, &mut self.scratch);
        for (p, x) in power.iter_mut().zip(&self.buffer[..self.bins()]) {
            *p = x.norm_sqr();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_count_matches_librosa_centered_framing() {
        // librosa: 1 + len // hop for an even frame length.
        assert_eq!(frame_count(16000, 512, 160), 101);
        assert_eq!(frame_count(159, 512, 160), 1);
        assert_eq!(frame_count(160, 512, 160), 2);
        assert_eq!(frame_count(0, 512, 160), 0);
    }

    #[test]
    fn periodic_hann_is_dft_even() {
        let w = hann_periodic(8);
        assert_eq!(w[0], 0.0);
        assert!((w[4] - 1.0).abs() < 1e-15);
        // Periodic: w[n] == w[len - n], and there is no trailing zero.
        for n in 1..8 {
            assert!((w[n] - w[8 - n]).abs() < 1e-15);
        }
        assert!(w[7] > 0.1);
    }

    #[test]
    fn a_bin_centred_sine_puts_its_power_in_one_bin_with_the_window_gain() {
        // 16 cycles over 512 samples, no window truncation (win = n_fft): the Hann window's
        // coherent gain is 0.5, so |X| = A * N / 2 * 0.5 at bin 16 and half that at its neighbours.
        let n = 512;
        let amplitude = 0.5;
        let samples: Vec<f32> = (0..4 * n)
            .map(|i| (amplitude * (2.0 * PI * 16.0 * i as f64 / n as f64).cos()) as f32)
            .collect();
        let mut stft = Stft::new(n, n, 128);
        let mut power = vec![0.0; stft.bins()];
        stft.power_frame(&samples, 8, &mut power); // fully inside the signal
        let peak = amplitude * n as f64 / 2.0 * 0.5;
        assert!(
            (power[16].sqrt() / peak - 1.0).abs() < 1e-4,
            "{}",
            power[16].sqrt()
        );
        assert!((power[15].sqrt() / (peak / 2.0) - 1.0).abs() < 1e-3);
        assert!(power[20] < 1e-6 * power[16]);
    }

    #[test]
    fn the_first_frame_is_centred_on_sample_zero() {
        // An impulse at sample 0 lands in the middle of frame 0, where the window is 1, so its
        // spectrum is flat with power 1; frame 1 (centred at `hop`) sees it through the window.
        let mut samples = vec![0.0f32; 1000];
        samples[0] = 1.0;
        let mut stft = Stft::new(512, 400, 160);
        let mut power = vec![0.0; stft.bins()];
        stft.power_frame(&samples, 0, &mut power);
        assert!(
            power.iter().all(|&p| (p - 1.0).abs() < 1e-12),
            "{:?}",
            &power[..4]
        );
        stft.power_frame(&samples, 1, &mut power);
        let w = hann_periodic(400)[200 - 160];
        assert!((power[0] - w * w).abs() < 1e-12);
    }
}
