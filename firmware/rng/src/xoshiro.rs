//! xoshiro256** (Blackman and Vigna), seeded through SplitMix64: the generated datasets'.
//!
//! The integer methods ([`Xoshiro256StarStar::next_u64`], [`Xoshiro256StarStar::below`],
//! [`Xoshiro256StarStar::shuffle`]) are bit-exact everywhere; the float methods are exact too,
//! but what callers compute from them (`sin`, `cos`, ...) may differ in the last bit between
//! platforms' math libraries.

use crate::{GAMMA, mix64};

/// xoshiro256**: 256 bits of state, for long streams (datasets of many images).
#[derive(Clone, Debug)]
pub struct Xoshiro256StarStar {
    s: [u64; 4],
}

impl Xoshiro256StarStar {
    /// A generator seeded from `seed` (any value, including 0, is fine): the state is the
    /// SplitMix64 outputs [`mix64`]`(seed + i * GAMMA)` for i = 0..4.
    pub fn new(seed: u64) -> Self {
        let mut z = seed;
        let mut s = [0u64; 4];
        for word in &mut s {
            *word = mix64(z);
            z = z.wrapping_add(GAMMA);
        }
        if s == [0; 4] {
            s[0] = 1;
        }
        Self { s }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `0..n` without modulo bias (draws until one falls below the top partial block
    /// of the u64 range); 0 when `n` is 0.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let zone = u64::MAX - (u64::MAX - n + 1) % n;
        loop {
            let x = self.next_u64();
            if x <= zone {
                return x % n;
            }
        }
    }

    /// Uniform index in `0..n` (`n` > 0), from [`below`](Self::below).
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// Uniform in `[0, 1)`, 24 bits of precision.
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in `[lo, hi)`.
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform in `[-amount, amount)`.
    pub fn sym(&mut self, amount: f32) -> f32 {
        self.range(-amount, amount)
    }

    /// True with probability `p` (one [`unit`](Self::unit) draw, always).
    pub fn chance(&mut self, p: f32) -> bool {
        self.unit() < p
    }

    /// Standard normal (Box-Muller, the cosine half; two [`unit`](Self::unit) draws).
    #[cfg(feature = "std")]
    pub fn normal(&mut self) -> f32 {
        let u1 = self.unit().max(1e-7);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (core::f32::consts::TAU * u2).cos()
    }

    /// One of `items`, uniformly; `None` when `items` is empty.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.index(items.len()))
    }

    /// Fisher-Yates shuffle, with [`index`](Self::index).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Computed with the datasets' own copy (host/data/src/rng.rs) before it moved here. If one
    // changes, every split and every generated dataset changes with it.

    #[test]
    fn next_u64_is_pinned() {
        let mut rng = Xoshiro256StarStar::new(42);
        let first = [rng.next_u64(), rng.next_u64(), rng.next_u64()];
        assert_eq!(
            first,
            [
                0x1578_0B2E_0C2E_C716,
                0x6104_D986_6D11_3A7E,
                0xAE17_5332_39E4_99A1
            ]
        );
        assert_eq!(Xoshiro256StarStar::new(0).next_u64(), 0x99EC_5F36_CB75_F2B4);
    }

    #[test]
    fn derived_draws_are_pinned() {
        let mut rng = Xoshiro256StarStar::new(42);
        assert_eq!([0; 6].map(|_| rng.below(5)), [2, 2, 4, 3, 1, 4]);
        let mut rng = Xoshiro256StarStar::new(42);
        let units = [rng.unit(), rng.unit(), rng.unit()].map(f32::to_bits);
        assert_eq!(units, [0x3DAB_C058, 0x3EC2_09B2, 0x3F2E_1753]);
        let mut rng = Xoshiro256StarStar::new(42);
        let mut items = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        rng.shuffle(&mut items);
        assert_eq!(items, [7, 3, 8, 9, 5, 6, 4, 1, 0, 2]);
    }

    #[cfg(feature = "std")]
    #[test]
    fn normal_is_pinned() {
        let mut rng = Xoshiro256StarStar::new(42);
        let normals = [rng.normal(), rng.normal(), rng.normal()].map(f32::to_bits);
        assert_eq!(normals, [0xBFCE_7E1B, 0x3F48_1CF8, 0x3C82_049A]);
    }

    #[cfg(feature = "std")]
    #[test]
    fn normal_has_mean_0_and_variance_1() {
        let mut rng = Xoshiro256StarStar::new(1);
        let mut xs = [0.0f32; 10_000];
        for x in &mut xs {
            *x = rng.normal();
        }
        let mean = xs.iter().sum::<f32>() / 10_000.0;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / 10_000.0;
        assert!(mean.abs() < 0.05 && (var - 1.0).abs() < 0.1, "{mean} {var}");
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut rng = Xoshiro256StarStar::new(7);
        let mut seen = [0usize; 5];
        for _ in 0..5000 {
            seen[rng.below(5) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| (800..1200).contains(&n)), "{seen:?}");
        assert_eq!(rng.below(0), 0);
        assert_eq!(rng.below(1), 0);
        assert_eq!(rng.pick::<u8>(&[]), None);
    }

    #[test]
    fn unit_is_in_range_with_the_right_mean() {
        let mut rng = Xoshiro256StarStar::new(1);
        let mut sum = 0.0f32;
        for _ in 0..10_000 {
            let x = rng.unit();
            assert!((0.0..1.0).contains(&x));
            sum += x;
        }
        assert!((sum / 10_000.0 - 0.5).abs() < 0.02, "{sum}");
    }
}
