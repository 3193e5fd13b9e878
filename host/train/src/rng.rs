//! The trainer's own random numbers (SplitMix64).
//!
//! Weight initialisation, dropout masks and batch order all come from here, never from burn's
//! backend RNG: burn's flex backend keeps one global generator per process, so two trainings in
//! one process (parallel tests, a GUI) would draw from each other's stream and lose
//! reproducibility. Every stream is derived from `(seed, purpose, epoch)`, so a run resumed at
//! epoch `k` draws exactly what an uninterrupted run draws from epoch `k` on.

/// A small, fast, portable generator: the same seed gives the same numbers everywhere.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator started at `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// A generator for one purpose (a stream name) and index (e.g. an epoch) of a run's seed.
    pub fn derive(seed: u64, stream: &str, index: u64) -> Self {
        let mut h = seed ^ 0x51_7c_c1_b7_27_22_0a_95;
        for b in stream.bytes() {
            h = mix(h ^ u64::from(b));
        }
        Self(mix(h ^ mix(index.wrapping_add(0x9e37_79b9_7f4a_7c15))))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in `[0, 1)`, 24 bits of precision.
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.next_f32()
    }

    /// Uniform in `0..n` (`n > 0`), without modulo bias worth mentioning for n < 2^32.
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// Shuffles `items` in place (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4)
            .map(|_| Rng::derive(7, "batches", 3).next_u64())
            .collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            Rng::derive(7, "batches", 3).next_u64(),
            Rng::derive(7, "batches", 4).next_u64()
        );
        assert_ne!(
            Rng::derive(7, "batches", 3).next_u64(),
            Rng::derive(7, "dropout", 3).next_u64()
        );
    }

    #[test]
    fn shuffle_is_a_permutation_and_floats_are_in_range() {
        let mut rng = Rng::new(1);
        let mut v: Vec<usize> = (0..100).collect();
        rng.shuffle(&mut v);
        let mut sorted = v.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_ne!(v, sorted);
        for _ in 0..1000 {
            let x = rng.next_f32();
            assert!((0.0..1.0).contains(&x));
            assert!(rng.below(3) < 3);
        }
    }
}
