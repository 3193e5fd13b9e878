//! Chroma (12 pitch classes C, C#, ..., B) from a power spectrum, as
//! `librosa.feature.chroma_stft(tuning=0.0, norm=inf)` with `librosa.filters.chroma` defaults
//! (ctroct 5, octwidth 2, filter columns L2-normalized, base C).
//!
//! Tuning is fixed at 0 (A4 = 440 Hz). librosa's default estimates the tuning of every clip from
//! its own spectrum (`estimate_tuning`), so the same note would map to slightly different filters
//! in different clips; a fixed reference keeps the feature a pure function of each frame, which a
//! streaming device needs, and speech has no tuning to estimate anyway.

use crate::kernels::dot;

/// Pitch-class names in column order.
pub const PITCH_CLASSES: [&str; 12] = [
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
];

/// The 12 x (n_fft/2 + 1) chroma filter matrix, built once.
#[derive(Clone, Debug)]
pub struct ChromaFilterbank {
    bins: usize,
    /// Row-major [12, bins].
    weights: Vec<f64>,
    /// The same times [`SCALE`] rounded to f32, weights below 1e-12 as 0, for
    /// [`ChromaFilterbank::apply`].
    weights_f32: Vec<f32>,
}

/// 2^60: the f32 weights are scaled by it so that no product with a power (>= 1e-30, see
/// [`crate::stft::POWER_FLUSH`]) is subnormal (slow on x86); a power of two changes no rounding,
/// and the normalization by the largest class cancels it. Weights below 1e-12 (the Gaussian tails,
/// down to 1e-32) are dropped: they change no chroma value by more than ~1e-8 of the largest.
pub(crate) const SCALE: f32 = (1u64 << 60) as f32;

const N_CHROMA: usize = 12;
/// Centre octave and width (in octaves) of the Gaussian weighting over frequency.
const CENTRE_OCTAVE: f64 = 5.0;
const OCTAVE_WIDTH: f64 = 2.0;

impl ChromaFilterbank {
    /// Weights below this are dropped (see [`SCALE`]).
    pub(crate) const DROP_BELOW: f64 = 1e-12;

    /// Follows `librosa.filters.chroma` step by step (in f64).
    pub fn new(sample_rate: u32, n_fft: usize) -> Self {
        let sr = f64::from(sample_rate);
        let n_chroma = N_CHROMA as f64;
        // Octaves relative to A4/16 (27.5 Hz, A0) for every FFT bin except DC...
        let a0 = 440.0 / 16.0;
        let mut frq_bins: Vec<f64> = (1..n_fft)
            .map(|k| n_chroma * (k as f64 * sr / n_fft as f64 / a0).log2())
            .collect();
        // ...and a made-up value for DC, 1.5 octaves below bin 1 (librosa's choice).
        frq_bins.insert(0, frq_bins[0] - 1.5 * n_chroma);
        let bin_width: Vec<f64> = (0..n_fft)
            .map(|k| {
                if k + 1 < n_fft {
                    (frq_bins[k + 1] - frq_bins[k]).max(1.0)
                } else {
                    1.0
                }
            })
            .collect();
        let half = (n_chroma / 2.0).round();
        // Gaussian bumps per chroma row c and bin k, over all n_fft bins (the column norm below
        // is over rows, so the mirrored bins only matter for being dropped afterwards).
        let mut weights = vec![0.0; N_CHROMA * n_fft];
        for k in 0..n_fft {
            for c in 0..N_CHROMA {
                let d =
                    (frq_bins[k] - c as f64 + half + 10.0 * n_chroma).rem_euclid(n_chroma) - half;
                weights[c * n_fft + k] = (-0.5 * (2.0 * d / bin_width[k]).powi(2)).exp();
            }
            let norm = (0..N_CHROMA)
                .map(|c| weights[c * n_fft + k].powi(2))
                .sum::<f64>()
                .sqrt();
            let octave_weight =
                (-0.5 * ((frq_bins[k] / n_chroma - CENTRE_OCTAVE) / OCTAVE_WIDTH).powi(2)).exp();
            for c in 0..N_CHROMA {
                weights[c * n_fft + k] = weights[c * n_fft + k] / norm * octave_weight;
            }
        }
        // Rows start at A; rotate by 3 so row 0 is C, then keep bins 0..=n_fft/2.
        let bins = n_fft / 2 + 1;
        let mut kept = vec![0.0; N_CHROMA * bins];
        for c in 0..N_CHROMA {
            let source = (c + 3) % N_CHROMA;
            kept[c * bins..(c + 1) * bins]
                .copy_from_slice(&weights[source * n_fft..source * n_fft + bins]);
        }
        ChromaFilterbank {
            bins,
            weights_f32: kept
                .iter()
                .map(|&w| {
                    if w < Self::DROP_BELOW {
                        0.0
                    } else {
                        w as f32 * SCALE
                    }
                })
                .collect(),
            weights: kept,
        }
    }

    pub fn bins(&self) -> usize {
        self.bins
    }

    /// The filters as a row-major [12, bins] matrix.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// Chroma of one power-spectrum frame (`power` as [`crate::stft::Stft::power_frame`] writes
    /// it), normalized so its largest value is 1 (librosa's
    /// `norm=inf`). A frame whose largest value is below the smallest normal f32 (silence) is
    /// left unnormalized, as librosa's `util.normalize` does, so it stays ~0 instead of noise.
    #[inline(always)]
    pub fn apply(&self, power: &[f32], chroma: &mut [f32]) {
        for (out, row) in chroma
            .iter_mut()
            .zip(self.weights_f32.chunks_exact(self.bins))
        {
            *out = dot(row, power);
        }
        let max = chroma.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        if max >= f32::MIN_POSITIVE * SCALE {
            for value in chroma.iter_mut() {
                *value /= max;
            }
        } else {
            for value in chroma.iter_mut() {
                *value /= SCALE;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bin_of(hz: f64, sr: f64, n_fft: usize) -> usize {
        (hz * n_fft as f64 / sr).round() as usize
    }

    #[test]
    fn a_pure_a4_lights_the_a_class() {
        let sr = 16000;
        let n_fft = 4096;
        let fb = ChromaFilterbank::new(sr, n_fft);
        let mut power = vec![0.0; fb.bins()];
        power[bin_of(440.0, 16000.0, n_fft)] = 1.0;
        let mut chroma = [0.0f32; 12];
        fb.apply(&power, &mut chroma);
        let best = (0..12).max_by(|&a, &b| chroma[a].total_cmp(&chroma[b]));
        assert_eq!(best.map(|i| PITCH_CLASSES[i]), Some("A"));
        assert_eq!(chroma[9], 1.0);
        // C (261.6 Hz) too.
        let mut power = vec![0.0; fb.bins()];
        power[bin_of(261.63, 16000.0, n_fft)] = 1.0;
        fb.apply(&power, &mut chroma);
        assert_eq!(chroma[0], 1.0);
    }

    #[test]
    fn silence_stays_zero() {
        let fb = ChromaFilterbank::new(16000, 512);
        let mut chroma = [1.0f32; 12];
        fb.apply(&vec![0.0; fb.bins()], &mut chroma);
        assert_eq!(chroma, [0.0; 12]);
    }
}
