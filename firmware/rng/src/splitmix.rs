//! SplitMix64 (Steele, Lea and Flood): one `u64` of state, one addition and one [`mix`] a draw.

use crate::{GAMMA, mix};

/// SplitMix64: small, fast and seedable; any seed, 0 included, is fine.
///
/// Its draws in a range come in three kinds, kept apart because different callers' streams
/// depend on each: [`below`](Self::below) (multiply the high 32 bits), [`below_wide`](Self::below_wide)
/// (multiply all 64) and [`below_mod`](Self::below_mod) (modulo).
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator started at `seed`.
    pub const fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// A generator for one purpose (a stream name) and index (e.g. an epoch) of a run's seed:
    /// the trainer's streams, so a run resumed at epoch `k` draws what an uninterrupted run
    /// draws from epoch `k` on.
    pub fn derive(seed: u64, stream: &str, index: u64) -> Self {
        let mut h = seed ^ 0x51_7c_c1_b7_27_22_0a_95;
        for b in stream.bytes() {
            h = mix(h ^ u64::from(b));
        }
        Self(mix(h ^ mix(index.wrapping_add(GAMMA))))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GAMMA);
        mix(self.0)
    }

    /// Uniform in `[0, 1)`, 24 bits of precision (the top 24 bits of one draw; every value is
    /// exact in an `f32`).
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in `[0, 1)`, 53 bits of precision (the top 53 bits of one draw).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[lo, hi)`, from [`next_f32`](Self::next_f32).
    pub fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.next_f32()
    }

    /// True with probability `p`, from [`next_f64`](Self::next_f64). It always draws, whatever
    /// `p` is; a caller whose stream must not move while a probability is 0 checks `p > 0.0`
    /// first.
    pub fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }

    /// Uniform in `0..n` (`n > 0`): the high 32 bits of a draw times `n`, shifted down by 32.
    /// Its bias is below n / 2^32, nothing worth mentioning for n < 2^32; `n` must be below 2^32.
    /// (The trainer's draw.)
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// Uniform in `0..n` (`n > 0`): a draw times `n` in 128 bits, shifted down by 64 (bias below
    /// n / 2^64). (The music player's draw.)
    pub fn below_wide(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in `0..n` by modulo (bias below n / 2^64); 0, without drawing, when `n` is 0.
    /// (The simulations' draw: fault injection, power cuts, random scenes.)
    pub fn below_mod(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// Shuffles `items` in place (Fisher-Yates, with [`below`](Self::below)).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }

    /// `n` floats uniform in `[lo, hi)` ([`uniform`](Self::uniform) `n` times).
    #[cfg(feature = "alloc")]
    pub fn vec(&mut self, n: usize, lo: f32, hi: f32) -> alloc::vec::Vec<f32> {
        (0..n).map(|_| self.uniform(lo, hi)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The pinned values were computed with the copies this crate replaced (the trainer's,
    // sentio-music's, the link and flash simulations', sentio-infer's test-model generator)
    // before they were switched over. If one changes, a stream changed: trained weights, test
    // models and simulations with it.

    #[test]
    fn next_u64_is_pinned() {
        let mut rng = SplitMix64::new(42);
        let first = [rng.next_u64(), rng.next_u64(), rng.next_u64()];
        assert_eq!(
            first,
            [
                0xBDD7_3226_2FEB_6E95,
                0x28EF_E333_B266_F103,
                0x4752_6757_130F_9F52
            ]
        );
    }

    #[test]
    fn floats_are_pinned() {
        let mut rng = SplitMix64::new(42);
        let f32s = [rng.next_f32(), rng.next_f32(), rng.next_f32()].map(f32::to_bits);
        assert_eq!(f32s, [0x3F3D_D732, 0x3E23_BF8C, 0x3E8E_A4CE]);
        let mut rng = SplitMix64::new(42);
        let f64s = [rng.next_f64(), rng.next_f64(), rng.next_f64()].map(f64::to_bits);
        assert_eq!(
            f64s,
            [
                0x3FE7_BAE6_44C5_FD6D,
                0x3FC4_77F1_99D9_3378,
                0x3FD1_D499_D5C4_C3E6
            ]
        );
        let mut rng = SplitMix64::new(42);
        assert_eq!(
            rng.uniform(-1.0, 1.0),
            2.0 * f32::from_bits(0x3F3D_D732) - 1.0
        );
    }

    #[test]
    fn bounded_draws_are_pinned() {
        let mut rng = SplitMix64::new(42);
        assert_eq!([0; 4].map(|_| rng.below(1000)), [741, 159, 278, 344]);
        let mut rng = SplitMix64::new(42);
        assert_eq!([0; 4].map(|_| rng.below_wide(1000)), [741, 159, 278, 344]);
        let mut rng = SplitMix64::new(42);
        assert_eq!([0; 4].map(|_| rng.below_mod(1000)), [413, 291, 858, 764]);
        let mut rng = SplitMix64::new(42);
        let chances = [0; 6].map(|_| rng.chance(0.5));
        assert_eq!(chances, [false, true, true, true, true, false]);
        let mut rng = SplitMix64::new(42);
        let mut items = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        rng.shuffle(&mut items);
        assert_eq!(items, [8, 3, 6, 5, 4, 0, 9, 2, 1, 7]);
    }

    #[test]
    fn derived_streams_are_pinned_and_distinct() {
        let mut rng = SplitMix64::derive(7, "batches", 3);
        assert_eq!(
            [rng.next_u64(), rng.next_u64()],
            [0xB3D6_641D_62D0_6378, 0xD837_EBCB_E867_FCDF]
        );
        let first = |seed, stream, index| SplitMix64::derive(seed, stream, index).next_u64();
        assert_ne!(first(7, "batches", 3), first(7, "batches", 4));
        assert_ne!(first(7, "batches", 3), first(7, "dropout", 3));
        assert_ne!(first(7, "batches", 3), first(8, "batches", 3));
    }

    #[test]
    fn below_mod_of_zero_draws_nothing() {
        let mut rng = SplitMix64::new(42);
        assert_eq!(rng.below_mod(0), 0);
        assert_eq!(rng.next_u64(), 0xBDD7_3226_2FEB_6E95);
    }

    #[test]
    fn draws_stay_in_range() {
        let mut rng = SplitMix64::new(1);
        for n in [1, 2, 3, 7, 1000] {
            for _ in 0..1000 {
                assert!(rng.below(n) < n);
                assert!(rng.below_wide(n) < n);
                assert!(rng.below_mod(n as u64) < n as u64);
                assert!((0.0..1.0).contains(&rng.next_f32()));
                assert!((0.0..1.0).contains(&rng.next_f64()));
            }
        }
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn vec_is_uniform_n_times() {
        let mut a = SplitMix64::new(3);
        let mut b = SplitMix64::new(3);
        let v = a.vec(5, 0.0, 2.0);
        assert_eq!(v, [0; 5].map(|_| b.uniform(0.0, 2.0)));
    }
}
