//! The datasets' random numbers: [`sentio_rng::Xoshiro256StarStar`] seeded through SplitMix64,
//! and [`derive_seed`] for one stream per class and sample. They depend on no crate's versioned
//! stream: the same seed gives the same splits and generated images on every platform and every
//! build, forever (sentio-rng pins their first outputs).
//!
//! The integer methods ([`Rng::next_u64`], [`Rng::below`], [`Rng::shuffle`]) are bit-exact
//! everywhere; the float methods are exact too, but what the generators compute from them
//! (`sin`, `cos`, ...) may differ in the last bit between platforms' math libraries.

pub use sentio_rng::Xoshiro256StarStar as Rng;
pub use sentio_rng::{derive_seed, mix64};
