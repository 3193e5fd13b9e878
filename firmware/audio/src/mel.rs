//! Mel filterbank and decibel conversion, identical to librosa's defaults:
//! `librosa.filters.mel(htk=False, norm="slaney")` (Slaney's auditory-toolbox mel scale: linear
//! below 1 kHz, logarithmic above; each triangle scaled to unit area) and
//! `librosa.power_to_db(ref=1.0, amin=1e-10, top_db=80)`.

/// Slaney scale: 200/3 Hz per mel below 1 kHz.
const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;
const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;

/// Step of the log part: 27 mels per factor 6.4 in frequency.
fn log_step() -> f64 {
    6.4f64.ln() / 27.0
}

/// Hz to mel on the Slaney scale (librosa `hz_to_mel(htk=False)`).
pub fn hz_to_mel(hz: f64) -> f64 {
    if hz >= MIN_LOG_HZ {
        MIN_LOG_MEL + (hz / MIN_LOG_HZ).ln() / log_step()
    } else {
        hz / F_SP
    }
}

/// Mel to Hz on the Slaney scale (librosa `mel_to_hz(htk=False)`).
pub fn mel_to_hz(mel: f64) -> f64 {
    if mel >= MIN_LOG_MEL {
        MIN_LOG_HZ * (log_step() * (mel - MIN_LOG_MEL)).exp()
    } else {
        F_SP * mel
    }
}

/// Triangular mel filters over the bins 0..=n_fft/2 of a power spectrum, stored sparsely (each
/// filter is non-zero on one run of bins).
#[derive(Clone, Debug)]
pub struct MelFilterbank {
    bins: usize,
    /// (first non-zero bin, weights from there on) per filter.
    filters: Vec<(usize, Vec<f64>)>,
    /// The same weights rounded to f32 for [`MelFilterbank::apply`], all filters back to back:
    /// filter i is `packed[offsets[i]..offsets[i + 1]]`, starting at bin `filters[i].0`.
    packed: Vec<f32>,
    offsets: Vec<usize>,
}

impl MelFilterbank {
    /// Builds `n_mels` filters between `fmin` and `fmax` Hz for an `n_fft`-point FFT at
    /// `sample_rate`, exactly as librosa does (in f64): `n_mels + 2` edges evenly spaced in mel,
    /// triangles from edge i to edge i+2 evaluated at the FFT bin frequencies, then each scaled by
    /// `2 / (f[i+2] - f[i])` (Slaney's constant-area normalization).
    pub fn new(sample_rate: u32, n_fft: usize, n_mels: usize, fmin: f64, fmax: f64) -> Self {
        let bins = n_fft / 2 + 1;
        let bin_hz: Vec<f64> = (0..bins)
            .map(|k| k as f64 * f64::from(sample_rate) / n_fft as f64)
            .collect();
        let (mel_lo, mel_hi) = (hz_to_mel(fmin), hz_to_mel(fmax));
        let edges: Vec<f64> = (0..n_mels + 2)
            .map(|i| mel_to_hz(mel_lo + (mel_hi - mel_lo) * i as f64 / (n_mels + 1) as f64))
            .collect();
        let filters = (0..n_mels)
            .map(|i| {
                let (left, centre, right) = (edges[i], edges[i + 1], edges[i + 2]);
                let area_norm = 2.0 / (right - left);
                let weights: Vec<f64> = bin_hz
                    .iter()
                    .map(|&f| {
                        let rising = (f - left) / (centre - left);
                        let falling = (right - f) / (right - centre);
                        rising.min(falling).max(0.0) * area_norm
                    })
                    .collect();
                let first = weights.iter().position(|&w| w > 0.0).unwrap_or(bins);
                let last = weights
                    .iter()
                    .rposition(|&w| w > 0.0)
                    .map_or(first, |l| l + 1);
                (first, weights[first..last].to_vec())
            })
            .collect::<Vec<(usize, Vec<f64>)>>();
        let packed = filters
            .iter()
            .flat_map(|(_, w)| w.iter().map(|&w| w as f32))
            .collect();
        let offsets = std::iter::once(0)
            .chain(filters.iter().scan(0, |end, (_, w)| {
                *end += w.len();
                Some(*end)
            }))
            .collect();
        MelFilterbank {
            bins,
            filters,
            packed,
            offsets,
        }
    }

    pub fn n_mels(&self) -> usize {
        self.filters.len()
    }

    /// Number of FFT bins a power spectrum must have: `n_fft / 2 + 1`.
    pub fn bins(&self) -> usize {
        self.bins
    }

    /// Filters that cover no FFT bin at all (librosa warns "Empty filters detected"): too many
    /// mels for this FFT size. Their output is always 0.
    pub fn empty_filters(&self) -> usize {
        self.filters.iter().filter(|(_, w)| w.is_empty()).count()
    }

    /// Each filter's first non-zero bin and its weights from there on.
    pub(crate) fn filters(&self) -> impl Iterator<Item = (usize, &[f64])> {
        self.filters.iter().map(|(first, w)| (*first, w.as_slice()))
    }

    /// The filters as a dense row-major [n_mels, bins] matrix (for comparisons and plots).
    pub fn to_dense(&self) -> Vec<f64> {
        let mut dense = vec![0.0; self.filters.len() * self.bins];
        for (row, (first, weights)) in dense.chunks_exact_mut(self.bins).zip(&self.filters) {
            row[*first..*first + weights.len()].copy_from_slice(weights);
        }
        dense
    }

    /// `mel[i] = sum_k weights[i][k] * power[k]`, over each filter's non-zero bins only.
    #[inline(always)]
    pub fn apply(&self, power: &[f32], mel: &mut [f32]) {
        for ((out, (first, _)), range) in mel
            .iter_mut()
            .zip(&self.filters)
            .zip(self.offsets.windows(2))
        {
            // A few to ~20 bins: a plain sum beats the wide kernel's set-up here.
            *out = self.packed[range[0]..range[1]]
                .iter()
                .zip(&power[*first..])
                .map(|(w, p)| w * p)
                .sum();
        }
    }
}

/// librosa's `amin`: powers below it count as it (-100 dB), so silence gives a finite floor.
pub const AMIN: f32 = 1e-10;

/// `10 * log10(max(power, AMIN))`, i.e. `power_to_db` with ref 1.0 before the top_db clip.
pub fn power_to_db(power: f32) -> f32 {
    let mut value = [power];
    power_to_db_in_place(&mut value);
    value[0]
}

/// [`power_to_db`] of every value in place (vectorized; within a few f32 ulps of libm's log10).
#[inline(always)]
pub fn power_to_db_in_place(values: &mut [f32]) {
    crate::kernels::power_to_db_in_place(values, AMIN);
}

/// Clips decibel values in place to `max - top_db`, where `max` is taken over the whole slice
/// (the whole clip, as librosa does). Returns the floor used. `None` leaves the values alone.
#[inline(always)]
pub fn clip_to_top_db(db: &mut [f32], top_db: Option<f32>) -> Option<f32> {
    let top_db = top_db?;
    let max = db.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let floor = max - top_db;
    for value in db.iter_mut() {
        *value = value.max(floor);
    }
    Some(floor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slaney_scale_matches_known_points() {
        // Linear part: 200/3 Hz per mel; 1 kHz is mel 15; log part: 6.4x per 27 mels.
        assert!((hz_to_mel(200.0) - 3.0).abs() < 1e-12);
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(6400.0) - 42.0).abs() < 1e-9);
        for hz in [0.0, 123.4, 999.9, 1000.0, 4321.0, 8000.0, 22050.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9 * hz.max(1.0));
        }
    }

    #[test]
    fn filters_are_triangles_of_unit_area_in_hz() {
        // Slaney normalization: each triangle has area 1 in Hz when integrated continuously; with
        // a fine FFT the bin sum * bin width approaches 1.
        let sr = 16000;
        let n_fft = 16384;
        let fb = MelFilterbank::new(sr, n_fft, 40, 0.0, 8000.0);
        let bin_hz = f64::from(sr) / n_fft as f64;
        for (i, row) in fb.to_dense().chunks_exact(fb.bins()).enumerate() {
            let area: f64 = row.iter().sum::<f64>() * bin_hz;
            assert!((area - 1.0).abs() < 0.01, "filter {i}: area {area}");
        }
        assert_eq!(fb.empty_filters(), 0);
    }

    #[test]
    fn too_many_mels_for_a_short_fft_leaves_empty_filters() {
        let fb = MelFilterbank::new(16000, 256, 128, 0.0, 8000.0);
        assert!(fb.empty_filters() > 0);
    }

    #[test]
    fn top_db_clips_relative_to_the_clip_maximum() {
        let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 5e-5);
        let mut db: Vec<f32> = [1.0, 1e-3, 1e-12, 0.0]
            .iter()
            .map(|&p| power_to_db(p))
            .collect();
        assert!(close(&db, &[0.0, -30.0, -100.0, -100.0]), "{db:?}");
        let floor = clip_to_top_db(&mut db, Some(80.0));
        assert_eq!(floor, Some(-80.0));
        assert!(close(&db, &[0.0, -30.0, -80.0, -80.0]), "{db:?}");
    }
}
