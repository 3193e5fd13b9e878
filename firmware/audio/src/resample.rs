//! Band-limited sample-rate conversion: a Kaiser-windowed sinc evaluated at exact fractional
//! positions, so any pair of rates works (22050, 44100, 48000 or 8000 Hz to 16000 Hz, and odd
//! ones like 44101 Hz).
//!
//! The kernel is tabulated once (finely, with linear interpolation between entries) instead of
//! being built per rate pair, so there is one code path for every ratio. When downsampling, the
//! kernel is stretched so it low-passes below the new Nyquist frequency and nothing folds back.

use std::f64::consts::PI;
use std::sync::OnceLock;

/// Zero crossings of the sinc on each side, counted at the lower of the two rates. With the
/// window below, the transition band is about 18% of the lower Nyquist frequency wide.
const ZERO_CROSSINGS: usize = 32;
/// Kaiser window shape: beta 9 gives about 90 dB of stop-band attenuation.
const KAISER_BETA: f64 = 9.0;
/// Cut-off as a fraction of the lower Nyquist frequency. 0.9 puts the whole transition band
/// (0.81 .. 0.99 of Nyquist) below Nyquist, so almost nothing aliases, while keeping the pass band
/// flat to about 6.5 kHz at 16 kHz.
const ROLLOFF: f64 = 0.9;
/// Table entries per zero crossing. Linear interpolation between them errs by about
/// (pi / 2 / 512)^2 / 2 ~ 5e-6 relative, far below the stop band.
const TABLE_STEPS: usize = 512;

/// Largest polyphase table (phases x taps) worth building; above it (rate pairs whose ratio
/// reduces to a large numerator, like 44101 -> 16000) the kernel is interpolated per tap instead.
const MAX_POLYPHASE_ENTRIES: usize = 1 << 18;

/// Resamples `input`, taken at `from_hz`, to `to_hz`. The output has
/// `round(input.len() * to_hz / from_hz)` samples; sample `n` sits at time `n / to_hz`, the same
/// instant as input sample `n * from_hz / to_hz`. Samples outside the input count as zero.
///
/// Equal rates (and a rate of 0, which has no meaning) return the input unchanged.
pub fn resample(input: &[f32], from_hz: u32, to_hz: u32) -> Vec<f32> {
    if from_hz == to_hz || from_hz == 0 || to_hz == 0 || input.is_empty() {
        return input.to_vec();
    }
    let kernel = Kernel::new(from_hz, to_hz);
    let divisor = gcd(from_hz, to_hz);
    let phases = (to_hz / divisor) as usize;
    let step = (from_hz / divisor) as usize;
    let taps = 2 * kernel.reach + 2;
    if phases.saturating_mul(taps) <= MAX_POLYPHASE_ENTRIES {
        resample_polyphase(input, &kernel, phases, step)
    } else {
        resample_interpolated(input, &kernel, from_hz, to_hz)
    }
}

/// The anti-aliasing kernel for one rate pair.
struct Kernel {
    /// Cut-off relative to the input's Nyquist frequency.
    cutoff: f64,
    /// Half-width of the kernel in input samples.
    half_width: f64,
    /// Input samples on each side of the output instant that can have a non-zero weight.
    reach: usize,
}

impl Kernel {
    fn new(from_hz: u32, to_hz: u32) -> Self {
        let cutoff = (f64::from(to_hz) / f64::from(from_hz)).min(1.0) * ROLLOFF;
        let half_width = ZERO_CROSSINGS as f64 / cutoff;
        Kernel {
            cutoff,
            half_width,
            reach: half_width.floor() as usize + 1,
        }
    }

    /// Weight of an input sample `distance` input samples away from the output instant.
    fn weight(&self, distance: f64) -> f64 {
        self.cutoff
            * lookup(
                kernel_table(),
                distance.abs() * TABLE_STEPS as f64 * self.cutoff,
            )
    }
}

/// Rational ratio `phases / step` (to / from in lowest terms): output sample n sits at input
/// position `(n * step) / phases`, whose fractional part is one of `phases` values, so the
/// weights for each fraction are computed once and every output sample is a plain dot product.
fn resample_polyphase(input: &[f32], kernel: &Kernel, phases: usize, step: usize) -> Vec<f32> {
    let taps = 2 * kernel.reach + 2;
    let table = polyphase_table(kernel, phases);
    // phases / step is to / from in lowest terms, so this is round(len * to / from).
    let out_len = output_len(input.len(), step as u32, phases as u32);
    (0..out_len)
        .map(|n| polyphase_sample(input, 0, n as u64, &table, taps, kernel.reach, phases, step))
        .collect()
}

/// Row p: weights of input samples whole - reach ..= whole + reach + 1 for fraction p/phases.
fn polyphase_table(kernel: &Kernel, phases: usize) -> Vec<f32> {
    let reach = kernel.reach as isize;
    let taps = 2 * kernel.reach + 2;
    (0..phases)
        .flat_map(|p| {
            let frac = p as f64 / phases as f64;
            (0..taps).map(move |j| kernel.weight(frac - (j as isize - reach) as f64) as f32)
        })
        .collect()
}

/// Output sample `n` of the polyphase path. `input` holds the signal's samples `base ..
/// base + input.len()`; samples past its end count as zero (the caller only asks for a sample
/// before the end of the signal is known once every tap it needs is there), and so do samples
/// before index 0. The same function serves the whole-buffer and the streaming resampler, so the
/// two give identical samples.
#[allow(clippy::too_many_arguments)]
fn polyphase_sample(
    input: &[f32],
    base: u64,
    n: u64,
    table: &[f32],
    taps: usize,
    reach: usize,
    phases: usize,
    step: usize,
) -> f32 {
    let position = u128::from(n) * step as u128;
    let whole = (position / phases as u128) as i64;
    let phase = (position % phases as u128) as usize;
    let weights = &table[phase * taps..(phase + 1) * taps];
    let first = whole - reach as i64;
    // Clip the taps to the input (outside it the signal counts as zero).
    let skip = (base as i64 - first).max(0) as usize;
    let end = (first + taps as i64).min(base as i64 + input.len() as i64);
    if end <= first + skip as i64 {
        return 0.0;
    }
    let start = (first + skip as i64 - base as i64) as usize;
    let samples = &input[start..(end - base as i64) as usize];
    // Independent partial sums (vectorized): one sequential sum of 74 taps was bound by the add
    // latency, most of the music player's cost.
    crate::kernels::dot(samples, &weights[skip..])
}

/// Any ratio: the kernel is evaluated at each tap's exact distance from the interpolated table.
fn resample_interpolated(input: &[f32], kernel: &Kernel, from_hz: u32, to_hz: u32) -> Vec<f32> {
    let out_len = output_len(input.len(), from_hz, to_hz);
    (0..out_len)
        .map(|n| interpolated_sample(input, 0, n as u64, kernel, from_hz, to_hz))
        .collect()
}

/// Exact input position of output sample `n`: `n * from / to`, computed in integers, then split.
fn interpolated_position(n: u64, from_hz: u32, to_hz: u32) -> f64 {
    let numerator = u128::from(n) * u128::from(from_hz);
    let whole = (numerator / u128::from(to_hz)) as i64;
    let frac = (numerator % u128::from(to_hz)) as f64 / f64::from(to_hz);
    whole as f64 + frac
}

/// Output sample `n` of the interpolated path; `input` and `base` as in [`polyphase_sample`].
fn interpolated_sample(
    input: &[f32],
    base: u64,
    n: u64,
    kernel: &Kernel,
    from_hz: u32,
    to_hz: u32,
) -> f32 {
    let t = interpolated_position(n, from_hz, to_hz);
    let last = base as i64 + input.len() as i64 - 1;
    let first = ((t - kernel.half_width).ceil() as i64).max(0);
    let end = ((t + kernel.half_width).floor() as i64).min(last);
    let mut acc = 0.0f64;
    for i in first..=end {
        acc += f64::from(input[(i - base as i64) as usize]) * kernel.weight(t - i as f64);
    }
    acc as f32
}

/// The streaming form of [`resample`]: feed the input in chunks of any size with
/// [`Resampler::push`], then call [`Resampler::finish`] once at the end of the signal. The
/// concatenated output is identical, sample for sample, to `resample` of the whole input (same
/// kernel, same arithmetic), while only about `2 * 32 / cutoff` input samples are kept between
/// calls. One `Resampler` handles one channel.
pub struct Resampler {
    from_hz: u32,
    to_hz: u32,
    path: Path,
    /// Input samples `base ..` still needed by later output samples.
    buffer: Vec<f32>,
    base: u64,
    /// Input samples received so far.
    received: u64,
    /// Index of the next output sample.
    next: u64,
}

enum Path {
    Identity,
    Polyphase {
        kernel: Kernel,
        table: Vec<f32>,
        phases: usize,
        step: usize,
    },
    Interpolated {
        kernel: Kernel,
    },
}

impl Resampler {
    /// A resampler from `from_hz` to `to_hz`. Equal rates (or a rate of 0) pass samples through.
    pub fn new(from_hz: u32, to_hz: u32) -> Self {
        let path = if from_hz == to_hz || from_hz == 0 || to_hz == 0 {
            Path::Identity
        } else {
            let kernel = Kernel::new(from_hz, to_hz);
            let divisor = gcd(from_hz, to_hz);
            let phases = (to_hz / divisor) as usize;
            let step = (from_hz / divisor) as usize;
            let taps = 2 * kernel.reach + 2;
            if phases.saturating_mul(taps) <= MAX_POLYPHASE_ENTRIES {
                let table = polyphase_table(&kernel, phases);
                Path::Polyphase {
                    kernel,
                    table,
                    phases,
                    step,
                }
            } else {
                Path::Interpolated { kernel }
            }
        };
        Resampler {
            from_hz,
            to_hz,
            path,
            buffer: Vec::new(),
            base: 0,
            received: 0,
            next: 0,
        }
    }

    /// Appends to `out` every output sample that `input` (after all earlier input) completes.
    pub fn push(&mut self, input: &[f32], out: &mut Vec<f32>) {
        if let Path::Identity = self.path {
            out.extend_from_slice(input);
            self.received += input.len() as u64;
            return;
        }
        self.buffer.extend_from_slice(input);
        self.received += input.len() as u64;
        self.emit(false, out);
    }

    /// Appends the last output samples (those whose taps reach past the end of the signal) and
    /// starts over for a new signal.
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        if !matches!(self.path, Path::Identity) {
            self.emit(true, out);
        }
        self.buffer.clear();
        self.base = 0;
        self.received = 0;
        self.next = 0;
    }

    fn emit(&mut self, at_end: bool, out: &mut Vec<f32>) {
        let total = output_len(self.received as usize, self.from_hz, self.to_hz) as u64;
        let received = self.received as i64;
        match &self.path {
            Path::Identity => {}
            Path::Polyphase {
                kernel,
                table,
                phases,
                step,
            } => {
                let taps = 2 * kernel.reach + 2;
                while self.next < total {
                    let whole = (u128::from(self.next) * *step as u128 / *phases as u128) as i64;
                    if !at_end && whole + kernel.reach as i64 + 2 > received {
                        break;
                    }
                    out.push(polyphase_sample(
                        &self.buffer,
                        self.base,
                        self.next,
                        table,
                        taps,
                        kernel.reach,
                        *phases,
                        *step,
                    ));
                    self.next += 1;
                }
                let whole = (u128::from(self.next) * *step as u128 / *phases as u128) as i64;
                self.trim(whole - kernel.reach as i64);
            }
            Path::Interpolated { kernel } => {
                while self.next < total {
                    let t = interpolated_position(self.next, self.from_hz, self.to_hz);
                    if !at_end && (t + kernel.half_width).floor() as i64 > received - 1 {
                        break;
                    }
                    out.push(interpolated_sample(
                        &self.buffer,
                        self.base,
                        self.next,
                        kernel,
                        self.from_hz,
                        self.to_hz,
                    ));
                    self.next += 1;
                }
                let t = interpolated_position(self.next, self.from_hz, self.to_hz);
                self.trim((t - kernel.half_width).ceil() as i64);
            }
        }
    }

    /// Drops buffered input before `first_needed`.
    fn trim(&mut self, first_needed: i64) {
        let drop = (first_needed - self.base as i64).clamp(0, self.buffer.len() as i64) as usize;
        if drop > 0 {
            self.buffer.drain(..drop);
            self.base += drop as u64;
        }
    }
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Number of output samples for `len` input samples: `round(len * to / from)`, halves rounded up.
pub fn output_len(len: usize, from_hz: u32, to_hz: u32) -> usize {
    if from_hz == 0 || to_hz == 0 {
        return len;
    }
    let from = u128::from(from_hz);
    let scaled = len as u128 * u128::from(to_hz);
    ((scaled * 2 + from) / (2 * from)) as usize
}

fn lookup(table: &[f64], x: f64) -> f64 {
    let index = x as usize;
    if index + 1 >= table.len() {
        return 0.0;
    }
    let frac = x - index as f64;
    table[index] + (table[index + 1] - table[index]) * frac
}

/// sinc(x) * kaiser(x / ZERO_CROSSINGS) for x = 0, 1/TABLE_STEPS, ..., ZERO_CROSSINGS, plus a
/// trailing zero so interpolation at the very edge needs no branch.
fn kernel_table() -> &'static [f64] {
    static TABLE: OnceLock<Vec<f64>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let len = ZERO_CROSSINGS * TABLE_STEPS + 1;
        let norm = bessel_i0(KAISER_BETA);
        let mut table: Vec<f64> = (0..len)
            .map(|k| {
                let x = k as f64 / TABLE_STEPS as f64;
                let sinc = if k == 0 {
                    1.0
                } else {
                    (PI * x).sin() / (PI * x)
                };
                let r = x / ZERO_CROSSINGS as f64;
                let window = bessel_i0(KAISER_BETA * (1.0 - r * r).max(0.0).sqrt()) / norm;
                sinc * window
            })
            .collect();
        table.push(0.0);
        table
    })
}

/// Modified Bessel function of the first kind, order 0, by its power series (converges fast for
/// the arguments a Kaiser window uses).
fn bessel_i0(x: f64) -> f64 {
    let quarter_x2 = x * x / 4.0;
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..200 {
        term *= quarter_x2 / (k as f64 * k as f64);
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, rate: u32, secs: f64, amplitude: f64) -> Vec<f32> {
        let n = (f64::from(rate) * secs) as usize;
        (0..n)
            .map(|i| (amplitude * (2.0 * PI * freq * i as f64 / f64::from(rate)).sin()) as f32)
            .collect()
    }

    /// RMS over the middle half, away from the edges where the zero padding shows.
    fn middle_rms(x: &[f32]) -> f64 {
        let mid = &x[x.len() / 4..3 * x.len() / 4];
        (mid.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / mid.len() as f64).sqrt()
    }

    /// Frequency estimated from the zero crossings over the middle half.
    fn middle_frequency(x: &[f32], rate: u32) -> f64 {
        let mid = &x[x.len() / 4..3 * x.len() / 4];
        // Positions of upward zero crossings, interpolated linearly.
        let ups: Vec<f64> = mid
            .windows(2)
            .enumerate()
            .filter(|(_, w)| w[0] < 0.0 && w[1] >= 0.0)
            .map(|(i, w)| i as f64 + f64::from(-w[0]) / f64::from(w[1] - w[0]))
            .collect();
        let periods = (ups.len() - 1) as f64;
        periods * f64::from(rate) / (ups[ups.len() - 1] - ups[0])
    }

    #[test]
    fn equal_rates_are_the_identity() {
        let x = sine(440.0, 16000, 0.1, 0.5);
        assert_eq!(resample(&x, 16000, 16000), x);
    }

    #[test]
    fn length_is_rounded_ratio() {
        for (from, to, len) in [
            (22050, 16000, 22050),
            (22050, 16000, 1001),
            (44100, 16000, 12345),
            (48000, 16000, 4801),
            (8000, 16000, 999),
            (44101, 16000, 777),
        ] {
            let x = vec![0.0f32; len];
            let expected = (len as f64 * f64::from(to) / f64::from(from)).round() as usize;
            assert_eq!(
                resample(&x, from, to).len(),
                expected,
                "{from}->{to} len {len}"
            );
        }
    }

    #[test]
    fn a_1khz_sine_keeps_its_amplitude_and_frequency() {
        for from in [22050, 44100, 48000, 8000, 11025, 44101] {
            let x = sine(1000.0, from, 0.5, 0.7);
            let y = resample(&x, from, 16000);
            let expected_rms = 0.7 / 2f64.sqrt();
            let rms = middle_rms(&y);
            assert!(
                (rms / expected_rms - 1.0).abs() < 0.01,
                "{from} Hz: rms {rms}, expected {expected_rms}"
            );
            let freq = middle_frequency(&y, 16000);
            assert!((freq - 1000.0).abs() < 0.5, "{from} Hz: frequency {freq}");
        }
    }

    #[test]
    fn resampled_sine_matches_the_ideal_sine_sample_by_sample() {
        // Stronger than RMS: the phase is right too (sample n sits at n / to_hz).
        let x = sine(1000.0, 44100, 0.2, 0.5);
        let y = resample(&x, 44100, 16000);
        let ideal = sine(1000.0, 16000, 0.2, 0.5);
        let mid = y.len() / 4..3 * y.len() / 4;
        let max_err = mid.map(|i| (y[i] - ideal[i]).abs()).fold(0.0f32, f32::max);
        assert!(max_err < 0.005, "max error {max_err}");
    }

    #[test]
    fn tones_above_the_new_nyquist_are_attenuated_by_40_db() {
        for (from, tone) in [
            (48000, 9000.0),
            (44100, 8500.0),
            (22050, 10000.0),
            (48000, 15000.0),
        ] {
            let x = sine(tone, from, 0.5, 0.9);
            let y = resample(&x, from, 16000);
            let attenuation_db = 20.0 * (middle_rms(&y) / (0.9 / 2f64.sqrt())).log10();
            assert!(
                attenuation_db < -40.0,
                "{tone} Hz from {from} Hz: only {attenuation_db:.1} dB"
            );
        }
    }

    #[test]
    fn upsampling_adds_no_energy_above_the_old_nyquist() {
        // 8 kHz -> 16 kHz: a 3 kHz tone stays 3 kHz; the spectrum image at 5 kHz must be gone.
        let x = sine(3000.0, 8000, 0.5, 0.8);
        let y = resample(&x, 8000, 16000);
        let ideal = sine(3000.0, 16000, 0.5, 0.8);
        let mid = y.len() / 4..3 * y.len() / 4;
        let residual: f64 = mid
            .clone()
            .map(|i| f64::from(y[i] - ideal[i]).powi(2))
            .sum::<f64>()
            / mid.len() as f64;
        let residual_db = 10.0 * residual.log10() - 20.0 * (0.8 / 2f64.sqrt()).log10();
        assert!(residual_db < -40.0, "image residual {residual_db:.1} dB");
    }

    #[test]
    fn the_polyphase_and_interpolated_paths_agree() {
        let x: Vec<f32> = sine(1234.5, 44100, 0.1, 0.6)
            .iter()
            .zip(sine(7100.0, 44100, 0.1, 0.3))
            .map(|(a, b)| a + b)
            .collect();
        let kernel = Kernel::new(44100, 16000);
        let fast = resample_polyphase(&x, &kernel, 160, 441);
        let exact = resample_interpolated(&x, &kernel, 44100, 16000);
        assert_eq!(fast, resample(&x, 44100, 16000));
        assert_eq!(fast.len(), exact.len());
        let max_diff = fast
            .iter()
            .zip(&exact)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(max_diff < 1e-5, "max diff {max_diff}");
    }

    #[test]
    fn streaming_in_chunks_equals_the_whole_buffer_sample_for_sample() {
        let x: Vec<f32> = sine(440.0, 44101, 0.3, 0.6)
            .iter()
            .zip(sine(5100.0, 44101, 0.3, 0.3))
            .map(|(a, b)| a + b)
            .collect();
        for (from, to) in [
            (44100, 48000),
            (22050, 48000),
            (48000, 16000),
            (44101, 16000),
            (8000, 16000),
            (16000, 16000),
        ] {
            let whole = resample(&x, from, to);
            for chunks in [[1usize, 7, 300], [4096, 1, 13], [100_000, 1, 1]] {
                let mut stream = Resampler::new(from, to);
                let mut out = Vec::new();
                let mut at = 0;
                let mut k = 0;
                while at < x.len() {
                    let n = chunks[k % 3].min(x.len() - at);
                    stream.push(&x[at..at + n], &mut out);
                    at += n;
                    k += 1;
                }
                stream.finish(&mut out);
                assert_eq!(out, whole, "{from} -> {to} in chunks {chunks:?}");
            }
        }
    }

    #[test]
    fn a_finished_resampler_starts_over() {
        let x = sine(1000.0, 22050, 0.05, 0.5);
        let mut stream = Resampler::new(22050, 48000);
        let mut first = Vec::new();
        stream.push(&x, &mut first);
        stream.finish(&mut first);
        let mut second = Vec::new();
        stream.push(&x, &mut second);
        stream.finish(&mut second);
        assert_eq!(first, second);
        assert_eq!(first, resample(&x, 22050, 48000));
    }

    #[test]
    fn empty_input_gives_empty_output() {
        assert!(resample(&[], 48000, 16000).is_empty());
    }
}
