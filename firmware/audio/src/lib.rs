//! The audio front end of Sentio's speech-emotion model, shared by the device and the trainer.
//!
//! The device computes features from the microphone and the host trainer computes them from WAV
//! files; both call this crate, so there is exactly one definition of every feature and the two
//! cannot drift apart. It holds WAV decoding ([`wav`]) and sample-rate conversion ([`resample`]).
//!
//! This crate must stay pure Rust (it is checked for aarch64 without a C toolchain), must not
//! depend on an inference or training framework, and must not print: it returns typed errors
//! whose messages say what to do.

mod error;
pub mod resample;
pub mod wav;

pub use error::AudioError;
pub use resample::resample;
pub use wav::{Audio, read_wav, write_wav};
