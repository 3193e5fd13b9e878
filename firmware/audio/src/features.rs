//! The per-frame feature matrix the speech-emotion model consumes, defined once for the device
//! and the trainer.
//!
//! Each frame (25 ms window every 10 ms by default) gives one row:
//! `[mfcc (n_mfcc), zcr (1), chroma (12), log-mel (n_mels)]`. The log-mel values are the same dB
//! values the MFCCs are computed from. All of them follow librosa 0.11's definitions (see the
//! modules [`crate::stft`], [`crate::mel`], [`crate::mfcc`], [`crate::chroma`], [`crate::zcr`]) and
//! are checked against librosa's output in `tests/librosa_reference.rs`.
//!
//! The top-dB clip of the log-mel (and so of the MFCCs) is relative to the loudest value in the
//! samples given to one `extract` call, as librosa's is relative to the whole clip: the trainer
//! and the device must call it on the same unit (one utterance / one model window).

use serde::{Deserialize, Serialize};

use crate::AudioError;
use crate::chroma::{ChromaFilterbank, PITCH_CLASSES};
use crate::lanes::{LaneBuffers, LanePlan};
use crate::mel::{MelFilterbank, clip_to_top_db, power_to_db_in_place};
use crate::mfcc::Dct2;
use crate::stft::Stft;
use crate::zcr::zero_crossing_rate_frame;

/// Number of chroma columns (pitch classes C..B).
pub const CHROMA_BINS: usize = 12;

/// Everything that determines the features. A model manifest records it (serde), and a model
/// must only be fed features made with the config it was trained with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureConfig {
    /// Rate the samples are at, Hz. 16 kHz: speech carries its emotion cues (pitch, formants,
    /// energy) well below 8 kHz, and it keeps the device's work per second low. Resample other
    /// rates with [`crate::resample()`] first.
    pub sample_rate: u32,
    /// FFT size in samples. 512 (32 ms) is the power of two just above the 25 ms window.
    pub n_fft: usize,
    /// Analysis window (periodic Hann) in samples, centred in the FFT frame; also the ZCR and
    /// RMS frame length. 400 = 25 ms, the usual speech frame: short enough for the spectrum
    /// to be stationary, long enough to resolve the pitch harmonics of most voices.
    pub win_length: usize,
    /// Hop between frames in samples. 160 = 10 ms, 100 frames per second.
    pub hop_length: usize,
    /// Mel bands. 64: with a 512-point FFT at 16 kHz (31.25 Hz bins) every band still covers at
    /// least one bin; librosa's 128 would leave the lowest bands empty.
    pub n_mels: usize,
    /// MFCCs kept (must be <= n_mels). 40, as the RAVDESS speech-emotion recipes the SER model
    /// follows use.
    pub n_mfcc: usize,
    /// Lowest mel band edge, Hz (librosa's default 0).
    pub fmin: f32,
    /// Highest mel band edge, Hz; `None` is the Nyquist frequency, librosa's default.
    pub fmax: Option<f32>,
    /// Log-mel values are clipped to (clip maximum - top_db) dB; `None` disables the clip.
    /// 80 dB as librosa: it keeps digital silence from dominating the scale.
    pub top_db: Option<f32>,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            sample_rate: 16_000,
            n_fft: 512,
            win_length: 400,
            hop_length: 160,
            n_mels: 64,
            n_mfcc: 40,
            fmin: 0.0,
            fmax: None,
            top_db: Some(80.0),
        }
    }
}

impl FeatureConfig {
    /// Columns per frame: n_mfcc + 1 (zcr) + 12 (chroma) + n_mels.
    pub fn dims(&self) -> usize {
        self.n_mfcc + 1 + CHROMA_BINS + self.n_mels
    }

    /// The upper mel edge actually used (fmax, or the Nyquist frequency).
    pub fn mel_fmax(&self) -> f32 {
        self.fmax.unwrap_or(self.sample_rate as f32 / 2.0)
    }

    /// Column names in order: `mfcc_0.., zcr, chroma_C..chroma_B, logmel_0..`.
    pub fn column_names(&self) -> Vec<String> {
        let mut names = Vec::with_capacity(self.dims());
        names.extend((0..self.n_mfcc).map(|i| format!("mfcc_{i}")));
        names.push("zcr".to_owned());
        names.extend(PITCH_CLASSES.iter().map(|p| format!("chroma_{p}")));
        names.extend((0..self.n_mels).map(|i| format!("logmel_{i}")));
        names
    }

    /// Checks that the values can work together; every error names the field and the fix.
    pub fn validate(&self) -> Result<(), AudioError> {
        let invalid = |field, problem: String| {
            Err(AudioError::InvalidConfig {
                config: "FeatureConfig",
                field,
                problem,
            })
        };
        if self.sample_rate == 0 {
            return invalid("sample_rate", "is 0 Hz".into());
        }
        if self.n_fft < 2 || !self.n_fft.is_multiple_of(2) {
            return invalid("n_fft", format!("is {}, must be even and >= 2", self.n_fft));
        }
        if self.win_length == 0
            || self.win_length > self.n_fft
            || !self.win_length.is_multiple_of(2)
        {
            return invalid(
                "win_length",
                format!(
                    "is {}, must be even (so ZCR frames line up with STFT frames) and in 2..={}",
                    self.win_length, self.n_fft
                ),
            );
        }
        if self.hop_length == 0 {
            return invalid("hop_length", "is 0".into());
        }
        if self.n_mels == 0 {
            return invalid("n_mels", "is 0".into());
        }
        if self.n_mfcc > self.n_mels {
            return invalid(
                "n_mfcc",
                format!("is {}, more than n_mels ({})", self.n_mfcc, self.n_mels),
            );
        }
        let nyquist = self.sample_rate as f32 / 2.0;
        let fmax = self.mel_fmax();
        if !(self.fmin >= 0.0 && self.fmin < fmax && fmax <= nyquist) {
            return invalid(
                "fmin/fmax",
                format!(
                    "are {} and {fmax} Hz, need 0 <= fmin < fmax <= {nyquist} (Nyquist)",
                    self.fmin
                ),
            );
        }
        // Written so NaN fails too.
        if let Some(top_db) = self.top_db
            && top_db.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater)
        {
            return invalid("top_db", format!("is {top_db}, must be > 0 (or null)"));
        }
        Ok(())
    }
}

/// Features of one clip: `frames` rows of `dims` values, row-major.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FeatureMatrix {
    pub frames: usize,
    pub dims: usize,
    pub data: Vec<f32>,
}

impl FeatureMatrix {
    /// Row `frame`. Panics if `frame >= self.frames`, like slice indexing.
    pub fn row(&self, frame: usize) -> &[f32] {
        &self.data[frame * self.dims..(frame + 1) * self.dims]
    }

    /// Column `dim` across all frames (copied). Panics if `dim >= self.dims`.
    pub fn column(&self, dim: usize) -> Vec<f32> {
        self.data
            .chunks_exact(self.dims.max(1))
            .map(|row| row[dim])
            .collect()
    }
}

/// Computes [`FeatureMatrix`]es. Built once per config: the FFT plan, window, mel, chroma and DCT
/// matrices are made in `new`, and the work buffers grow to the longest clip seen and are then
/// reused, so [`FeatureExtractor::extract_into`] does not allocate for clips no longer than one
/// it has already processed.
pub struct FeatureExtractor {
    config: FeatureConfig,
    stft: Stft,
    mel: MelFilterbank,
    chroma: ChromaFilterbank,
    dct: Dct2,
    /// One frame's power spectrum.
    power: Vec<f32>,
    /// The clip's mel powers, then dB values, [frames, n_mels] (needed whole for the top-dB clip).
    mel_db: Vec<f32>,
    /// The lane-parallel path (every power-of-two FFT size) and its buffers.
    lanes: Option<LanePlan>,
    lane_buffers: LaneBuffers,
    /// The instruction set [`FeatureExtractor::extract_into`] uses.
    isa: Isa,
}

/// The builds of the lane-parallel path, by vector width. All give bit-identical features.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// The target's baseline (SSE2 on x86_64, NEON on aarch64): 2 f64 lanes.
    Portable,
    /// x86_64 AVX2 + FMA: 4 f64 lanes.
    Avx2,
    /// x86_64 AVX-512F: 8 f64 lanes.
    Avx512,
}

impl Isa {
    /// The builds this CPU can run, widest first.
    pub fn available() -> Vec<Isa> {
        #[cfg(target_arch = "x86_64")]
        let wide = [
            (std::arch::is_x86_feature_detected!("avx512f")).then_some(Isa::Avx512),
            (std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma"))
            .then_some(Isa::Avx2),
        ];
        #[cfg(not(target_arch = "x86_64"))]
        let wide: [Option<Isa>; 0] = [];
        wide.into_iter()
            .flatten()
            .chain(std::iter::once(Isa::Portable))
            .collect()
    }

    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => {
                if cfg!(target_arch = "aarch64") {
                    "neon"
                } else {
                    "portable"
                }
            }
            Isa::Avx2 => "avx2+fma",
            Isa::Avx512 => "avx512",
        }
    }
}

impl FeatureExtractor {
    pub fn new(config: FeatureConfig) -> Result<Self, AudioError> {
        config.validate()?;
        let stft = Stft::new(config.n_fft, config.win_length, config.hop_length);
        let mel = MelFilterbank::new(
            config.sample_rate,
            config.n_fft,
            config.n_mels,
            f64::from(config.fmin),
            f64::from(config.mel_fmax()),
        );
        let chroma = ChromaFilterbank::new(config.sample_rate, config.n_fft);
        let dct = Dct2::new(config.n_mels, config.n_mfcc);
        let lanes = crate::lanes::supports(&config).then(|| LanePlan::new(&config, &mel, &chroma));
        Ok(FeatureExtractor {
            lanes,
            lane_buffers: LaneBuffers::default(),
            isa: Isa::available()[0],
            power: vec![0.0; stft.bins()],
            mel_db: Vec::new(),
            stft,
            mel,
            chroma,
            dct,
            config,
        })
    }

    pub fn config(&self) -> &FeatureConfig {
        &self.config
    }

    pub fn dims(&self) -> usize {
        self.config.dims()
    }

    pub fn column_names(&self) -> Vec<String> {
        self.config.column_names()
    }

    /// The mel filterbank in use (e.g. to check it against librosa's).
    pub fn mel_filterbank(&self) -> &MelFilterbank {
        &self.mel
    }

    pub fn chroma_filterbank(&self) -> &ChromaFilterbank {
        &self.chroma
    }

    /// Number of frames for `len` samples: `1 + len / hop_length`, or 0 for no samples.
    pub fn frames_for(&self, len: usize) -> usize {
        self.stft.frames(len)
    }

    /// Features of `samples` (mono, at `config.sample_rate`) in a new matrix.
    pub fn extract(&mut self, samples: &[f32]) -> FeatureMatrix {
        let mut out = FeatureMatrix::default();
        self.extract_into(samples, &mut out);
        out
    }

    /// The instruction set `extract_into` runs on (see [`Isa`]).
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// Features of `samples` written into `out`, reusing its buffer and the extractor's.
    ///
    /// Frames are computed a block at a time with one frame per vector lane (see
    /// `crate::lanes`), built for the widest vectors the CPU has ([`FeatureExtractor::isa`]);
    /// every build gives bit-identical features (tested). FFT sizes that are not a power of two
    /// take the frame-at-a-time path.
    pub fn extract_into(&mut self, samples: &[f32], out: &mut FeatureMatrix) {
        self.extract_into_with(self.isa, samples, out);
    }

    /// [`FeatureExtractor::extract_into`] on a given build (for tests and benchmarks); an `isa`
    /// the CPU cannot run falls back to the portable build.
    #[doc(hidden)]
    pub fn extract_into_with(&mut self, isa: Isa, samples: &[f32], out: &mut FeatureMatrix) {
        let Some(plan) = &self.lanes else {
            self.extract_into_framewise(samples, out);
            return;
        };
        let buffers = &mut self.lane_buffers;
        // Only the builds this CPU runs (a wider one asked for falls back to the portable one).
        let isa = if Isa::available().contains(&isa) {
            isa
        } else {
            Isa::Portable
        };
        match isa {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Isa::available` says the CPU has the features the function is built for.
            Isa::Avx512 => unsafe { extract_avx512(plan, buffers, samples, out) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Isa::Avx2 => unsafe { extract_avx2(plan, buffers, samples, out) },
            _ => {
                use crate::simd::Lanes;
                crate::lanes::extract::<Lanes<f64, 2>, Lanes<f32, 4>>(plan, buffers, samples, out)
            }
        }
    }

    /// The frame-at-a-time path, for FFT sizes that are not a power of two (public for the test
    /// that compares it with the lane-parallel one).
    #[doc(hidden)]
    pub fn extract_into_framewise(&mut self, samples: &[f32], out: &mut FeatureMatrix) {
        let cfg = &self.config;
        let (n_mfcc, n_mels, dims) = (cfg.n_mfcc, cfg.n_mels, cfg.dims());
        let frames = self.stft.frames(samples.len());
        out.frames = frames;
        out.dims = dims;
        out.data.clear();
        out.data.resize(frames * dims, 0.0);
        self.mel_db.clear();
        self.mel_db.resize(frames * n_mels, 0.0);

        let zcr_col = n_mfcc;
        let chroma_col = n_mfcc + 1;
        let mel_col = chroma_col + CHROMA_BINS;
        // Pass 1, per frame: spectrum -> mel power, chroma, zcr.
        for (t, (row, mel_row)) in out
            .data
            .chunks_exact_mut(dims)
            .zip(self.mel_db.chunks_exact_mut(n_mels))
            .enumerate()
        {
            self.stft.power_frame(samples, t, &mut self.power);
            self.mel.apply(&self.power, mel_row);
            self.chroma
                .apply(&self.power, &mut row[chroma_col..mel_col]);
            row[zcr_col] = zero_crossing_rate_frame(samples, t, cfg.win_length, cfg.hop_length);
        }
        // Pass 2, over the clip: dB with the top-dB clip relative to the clip's maximum.
        power_to_db_in_place(&mut self.mel_db);
        clip_to_top_db(&mut self.mel_db, cfg.top_db);
        // Pass 3, per frame: log-mel columns and MFCCs from them.
        for (row, mel_row) in out
            .data
            .chunks_exact_mut(dims)
            .zip(self.mel_db.chunks_exact(n_mels))
        {
            self.dct.apply(mel_row, &mut row[..n_mfcc]);
            row[mel_col..].copy_from_slice(mel_row);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn extract_avx512(
    plan: &LanePlan,
    buffers: &mut LaneBuffers,
    samples: &[f32],
    out: &mut FeatureMatrix,
) {
    use crate::simd::x86::{F32x16, F64x8};
    crate::lanes::extract::<F64x8, F32x16>(plan, buffers, samples, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn extract_avx2(
    plan: &LanePlan,
    buffers: &mut LaneBuffers,
    samples: &[f32],
    out: &mut FeatureMatrix,
) {
    use crate::simd::x86::{F32x8, F64x4};
    crate::lanes::extract::<F64x4, F32x8>(plan, buffers, samples, out);
}

/// Per-column mean then per-column standard deviation (population, ddof 0) over the frames:
/// `2 * dims` values, for classical baselines that take one vector per utterance. A matrix
/// with no frames gives zeros.
pub fn utterance_summary(features: &FeatureMatrix) -> Vec<f32> {
    let dims = features.dims;
    let mut mean = vec![0.0f64; dims];
    let mut sq = vec![0.0f64; dims];
    if features.frames == 0 || dims == 0 {
        return vec![0.0; 2 * dims];
    }
    for row in features.data.chunks_exact(dims) {
        for ((m, s), &v) in mean.iter_mut().zip(sq.iter_mut()).zip(row) {
            *m += f64::from(v);
            *s += f64::from(v) * f64::from(v);
        }
    }
    let n = features.frames as f64;
    let means: Vec<f64> = mean.iter().map(|m| m / n).collect();
    let stds = sq
        .iter()
        .zip(&means)
        .map(|(s, m)| (s / n - m * m).max(0.0).sqrt());
    means
        .iter()
        .copied()
        .chain(stds)
        .map(|v| v as f32)
        .collect()
}

/// Names for [`utterance_summary`]'s values: `mean_<column>` then `std_<column>`.
pub fn utterance_summary_names(config: &FeatureConfig) -> Vec<String> {
    let names = config.column_names();
    let means = names.iter().map(|n| format!("mean_{n}"));
    let stds = names.iter().map(|n| format!("std_{n}"));
    means.chain(stds).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A vowel-like tone with noise, silence at both ends: every code path (edge frames,
    /// subnormal flushing, the top-dB clip, a last block with unused lanes).
    fn test_signal(len: usize) -> Vec<f32> {
        let mut state = 7u32;
        (0..len)
            .map(|i| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (state >> 8) as f32 / (1 << 24) as f32 - 0.5;
                let t = i as f32 / 16_000.0;
                let voiced = (2.0 * std::f32::consts::PI * 140.0 * t).sin() * 0.4
                    + (2.0 * std::f32::consts::PI * 1_120.0 * t).sin() * 0.1;
                if (len / 8..len * 7 / 8).contains(&i) {
                    voiced + 0.01 * noise
                } else {
                    0.0
                }
            })
            .collect()
    }

    #[test]
    fn every_build_of_the_lane_path_agrees_bit_for_bit() {
        let samples = test_signal(16_000 + 37);
        let mut extractor = FeatureExtractor::new(FeatureConfig::default()).unwrap();
        let mut reference = FeatureMatrix::default();
        extractor.extract_into_with(Isa::Portable, &samples, &mut reference);
        assert_eq!(reference.frames, 101);
        let available = Isa::available();
        println!("builds this CPU runs: {available:?}");
        for isa in available {
            let mut out = FeatureMatrix::default();
            extractor.extract_into_with(isa, &samples, &mut out);
            assert_eq!(out, reference, "{isa:?} differs from the portable build");
        }
        // A clip of one frame, and one shorter than a block.
        for len in [1, 100, 1_700] {
            let (mut a, mut b) = (FeatureMatrix::default(), FeatureMatrix::default());
            extractor.extract_into(&samples[..len], &mut a);
            extractor.extract_into_with(Isa::Portable, &samples[..len], &mut b);
            assert_eq!(a, b, "{len} samples");
            assert_eq!(a.frames, 1 + len / 160);
        }
    }

    #[test]
    fn the_lane_path_equals_the_frame_at_a_time_path() {
        let samples = test_signal(9_000);
        for config in [
            FeatureConfig::default(),
            FeatureConfig {
                n_fft: 1024,
                win_length: 1024,
                hop_length: 256,
                n_mels: 41,
                n_mfcc: 41,
                ..FeatureConfig::default()
            },
            FeatureConfig {
                n_fft: 8,
                win_length: 6,
                hop_length: 3,
                n_mels: 3,
                n_mfcc: 2,
                top_db: None,
                ..FeatureConfig::default()
            },
        ] {
            let mut extractor = FeatureExtractor::new(config.clone()).unwrap();
            let (mut lanes, mut framewise) = (FeatureMatrix::default(), FeatureMatrix::default());
            extractor.extract_into(&samples, &mut lanes);
            extractor.extract_into_framewise(&samples, &mut framewise);
            assert_eq!(
                (lanes.frames, lanes.dims),
                (framewise.frames, framewise.dims)
            );
            let names = config.column_names();
            for (i, (a, b)) in lanes.data.iter().zip(&framewise.data).enumerate() {
                let name = &names[i % lanes.dims];
                // dB-valued columns in dB, chroma and zcr in their unit.
                let tolerance = if name.starts_with("chroma") || name == "zcr" {
                    1e-5
                } else {
                    2e-3
                };
                assert!(
                    (a - b).abs() <= tolerance,
                    "n_fft {}: frame {} {name}: {a} vs {b}",
                    config.n_fft,
                    i / lanes.dims
                );
            }
        }
    }

    #[test]
    fn a_non_power_of_two_fft_takes_the_frame_at_a_time_path() {
        let config = FeatureConfig {
            n_fft: 480,
            ..FeatureConfig::default()
        };
        let samples = test_signal(4_000);
        let mut extractor = FeatureExtractor::new(config).unwrap();
        let out = extractor.extract(&samples);
        let mut framewise = FeatureMatrix::default();
        extractor.extract_into_framewise(&samples, &mut framewise);
        assert_eq!(out, framewise);
        assert_eq!(out.frames, 26);
    }
}
