//! The small f32 kernels the feature extractor spends its time in, written so that LLVM
//! vectorizes them on every target (SSE2, AVX, NEON) without intrinsics: fixed-width chunks with
//! independent accumulators instead of one sequential sum, whose add latency would bound it.
//! Each is tested against a plain f64 reference over a grid of lengths.

/// Lanes per chunk: two SSE/NEON registers or one AVX register of f32.
const LANES: usize = 8;
/// Lanes per chunk of [`dot`]: four SSE/NEON registers, so four independent add chains hide the
/// add latency (a 257-bin chroma row is 16 chunks).
const DOT_LANES: usize = 16;

/// `sum_i a[i] * b[i]` over the shorter of the two slices.
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let len = a.len().min(b.len());
    let (a_chunks, a_tail) = a[..len].as_chunks::<DOT_LANES>();
    let (b_chunks, b_tail) = b[..len].as_chunks::<DOT_LANES>();
    // A fold over whole arrays: this shape (not an indexed update of a mutable array) is the one
    // LLVM's SLP vectorizer turns into full-width vector adds.
    let acc = a_chunks
        .iter()
        .zip(b_chunks)
        .fold([0.0f32; DOT_LANES], |acc, (x, y)| {
            std::array::from_fn(|lane| acc[lane] + x[lane] * y[lane])
        });
    let tail: f32 = a_tail.iter().zip(b_tail).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

/// `sum_i a[i]` in f64 (for a sum that must not lose f32 bits to its own size).
#[inline(always)]
pub fn sum_f64(a: &[f32]) -> f64 {
    let (chunks, tail) = a.as_chunks::<LANES>();
    let acc = chunks.iter().fold([0.0f64; LANES], |acc, x| {
        std::array::from_fn(|lane| acc[lane] + f64::from(x[lane]))
    });
    let tail: f64 = tail.iter().map(|&x| f64::from(x)).sum();
    acc.iter().sum::<f64>() + tail
}

/// Number of `a[i] != b[i]` sign classes (`x < -threshold`) over the shorter slice: the
/// sign-change count of the zero-crossing rate, with `a` and `b` the signal and the signal
/// shifted by one.
#[inline(always)]
pub fn sign_changes(a: &[f32], b: &[f32], threshold: f32) -> usize {
    let len = a.len().min(b.len());
    let (a_chunks, a_tail) = a[..len].as_chunks::<LANES>();
    let (b_chunks, b_tail) = b[..len].as_chunks::<LANES>();
    let acc = a_chunks
        .iter()
        .zip(b_chunks)
        .fold([0u32; LANES], |acc, (x, y)| {
            std::array::from_fn(|lane| {
                acc[lane] + u32::from((x[lane] < -threshold) != (y[lane] < -threshold))
            })
        });
    let tail = a_tail
        .iter()
        .zip(b_tail)
        .filter(|&(&x, &y)| (x < -threshold) != (y < -threshold))
        .count();
    acc.iter().map(|&c| c as usize).sum::<usize>() + tail
}

/// `10 / ln(10)`: decibels per neper of power.
const DB_PER_LN: f32 = 4.342_945;

/// `10 * log10(max(x, floor))` for every value in place (`floor > 0`, a normal f32).
///
/// A natural log of the mantissa by its atanh series instead of libm's scalar `log10`, so the
/// loop vectorizes: `x = 2^e * m` with `m` in [sqrt(1/2), sqrt(2)), `ln m = 2 atanh(s)`,
/// `s = (m - 1) / (m + 1)`, |s| < 0.172, series to s^11 (truncation < 1e-10 relative). The
/// result is within a few f32 ulps of the exact value (tested below).
/// Values at or below the floor get libm's exact dB of the floor (-100 for librosa's amin), so
/// silence sits exactly on it.
#[inline(always)]
pub fn power_to_db_in_place(values: &mut [f32], floor: f32) {
    let floor_db = (10.0 * f64::from(floor).log10()) as f32;
    for value in values.iter_mut() {
        let x = *value;
        *value = if x > floor {
            DB_PER_LN * ln_normal(x)
        } else {
            floor_db
        };
    }
}

/// Natural log of a positive normal f32 (see [`power_to_db_in_place`]); branch-free.
#[inline(always)]
fn ln_normal(x: f32) -> f32 {
    const LN_2: f32 = std::f32::consts::LN_2;
    let bits = x.to_bits() as i32;
    // Rebase so the mantissa lands in [sqrt(1/2), sqrt(2)): subtract the bits of sqrt(1/2).
    let offset = bits - 0x3f35_04f3;
    let exponent = offset >> 23;
    let mantissa = f32::from_bits((bits - (exponent << 23)) as u32);
    let s = (mantissa - 1.0) / (mantissa + 1.0);
    let s2 = s * s;
    let series = 1.0
        + s2 * (1.0 / 3.0
            + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0 + s2 * (1.0 / 11.0)))));
    exponent as f32 * LN_2 + 2.0 * s * series
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(len: usize, seed: u32) -> Vec<f32> {
        let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state as f32 / u32::MAX as f32) * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn dot_matches_an_f64_reference_for_every_length() {
        for len in 0..70 {
            let (a, b) = (values(len, 1), values(len + 3, 2));
            let exact: f64 = a.iter().zip(&b).map(|(&x, &y)| f64::from(x * y)).sum();
            let got = f64::from(dot(&a, &b));
            assert!(
                (got - exact).abs() <= 1e-6 * (len as f64 + 1.0),
                "len {len}"
            );
        }
    }

    #[test]
    fn sum_f64_matches_a_sequential_sum_for_every_length() {
        for len in 0..70 {
            let a = values(len, 3);
            let exact: f64 = a.iter().map(|&x| f64::from(x)).sum();
            assert!((sum_f64(&a) - exact).abs() < 1e-12, "len {len}");
        }
    }

    #[test]
    fn sign_changes_match_a_scalar_count_for_every_length() {
        for len in 0..70 {
            let mut x = values(len + 1, 7);
            if len > 3 {
                x[2] = -1e-12; // below the threshold: counts as positive
                x[3] = 0.0;
            }
            let expected = x
                .windows(2)
                .filter(|w| (w[0] < -1e-10) != (w[1] < -1e-10))
                .count();
            assert_eq!(
                sign_changes(&x[..len], &x[1..], 1e-10),
                expected,
                "len {len}"
            );
        }
    }

    #[test]
    fn decibels_are_within_a_few_ulps_of_libm() {
        let mut worst = 0.0f64;
        // 1e-10 .. 1e6 and beyond, densely in the mantissa.
        let inputs: Vec<f32> = (0..200_000)
            .map(|i| 1e-10f32 * 1.000_105f32.powi(i))
            .chain([
                1.0,
                2.0,
                0.5,
                f32::MAX,
                1e-10,
                1e-20,
                0.0,
                std::f32::consts::SQRT_2,
                1e3,
                7.7e5,
                1e6,
            ])
            .collect();
        let mut db = inputs.clone();
        power_to_db_in_place(&mut db, 1e-10);
        for (&x, &got) in inputs.iter().zip(&db) {
            let exact = 10.0 * f64::from(x.max(1e-10)).log10();
            let err = (f64::from(got) - exact).abs();
            // A few ulps of the output, or of 1 dB near 0 dB.
            worst = worst.max(err / exact.abs().max(1.0));
        }
        assert!(
            worst < 4.0 * f64::from(f32::EPSILON),
            "worst relative error {worst:e}"
        );
        let mut unit = [1.0f32, 1e-3, 1e-10, 0.0, f32::NAN];
        power_to_db_in_place(&mut unit, 1e-10);
        assert_eq!(unit[0], 0.0);
        assert!((unit[1] + 30.0).abs() < 1e-5);
        assert_eq!(unit[2..], [-100.0; 3], "the floor is exact");
    }
}
