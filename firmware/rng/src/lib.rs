//! Sentio's seeded random numbers: every generator the workspace draws from, written once.
//!
//! - [`SplitMix64`]: the trainer's weights, dropout and batch order, the ONNX test models'
//!   weights and inputs, the music player's shuffle, the link's nonces and the fault and
//!   power-cut simulations.
//! - [`Xoshiro256StarStar`]: the generated datasets (images, speech, scenes), their splits and
//!   the baselines' trees.
//!
//! The same seed gives the same numbers on every platform and every build, forever: generated
//! datasets, golden images and trained accuracies depend on them. What this crate must not do:
//! change a sequence (a new draw is a new method, never a change to one that exists; the tests
//! pin the first outputs of each), depend on another crate's versioned stream, or need `std`
//! for anything but [`Xoshiro256StarStar::normal`] (it builds for `thumbv7em-none-eabihf`
//! without default features).
//!
//! Where two callers drew differently from the same generator (a bounded integer by modulo or
//! by multiplication, a chance from 53 bits or 24), each way is its own method, named for how it
//! draws, so no stream changed when the copies were merged.
#![no_std]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod splitmix;
mod xoshiro;

pub use splitmix::SplitMix64;
pub use xoshiro::Xoshiro256StarStar;

/// SplitMix64's increment (2^64 / the golden ratio).
pub const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function (Stafford's mix 13): a bijective 64-bit mixer.
pub const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// [`mix`] of `z + GAMMA`: the first number of `SplitMix64::new(z)`; used to derive seeds.
pub const fn mix64(z: u64) -> u64 {
    mix(z.wrapping_add(GAMMA))
}

/// A seed derived from a parent seed and a path of indices (class, sample, ...), so that each
/// image or class gets its own independent stream (the datasets' derivation; the trainer's is
/// [`SplitMix64::derive`]).
pub fn derive_seed(seed: u64, path: &[u64]) -> u64 {
    path.iter().fold(mix64(seed), |acc, &part| {
        mix64(acc ^ mix64(part.wrapping_add(0x5EED)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix64_is_the_first_splitmix_output() {
        for z in [0, 1, 42, u64::MAX] {
            assert_eq!(mix64(z), SplitMix64::new(z).next_u64());
        }
    }

    #[test]
    fn seed_derivations_are_pinned() {
        // Computed with the datasets' own copy (host/data/src/rng.rs) before it moved here.
        assert_eq!(mix64(0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(derive_seed(1, &[0, 1]), 0xD192_9B7B_B385_0B26);
        assert_eq!(derive_seed(42, &[]), mix64(42));
        assert_ne!(derive_seed(1, &[0, 1]), derive_seed(1, &[1, 0]));
        assert_ne!(derive_seed(1, &[0, 1]), derive_seed(1, &[0, 1, 0]));
    }
}
