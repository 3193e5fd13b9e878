//! The audio front end of Sentio's speech-emotion model, shared by the device and the trainer.
//!
//! The device computes features from the microphone and the host trainer computes them from WAV
//! files; both call this crate, so there is exactly one definition of every feature and the two
//! cannot drift apart. It holds WAV decoding ([`wav`]), sample-rate conversion ([`resample()`]),
//! voice activity detection ([`vad`]) and the per-frame features ([`features`]: MFCC, zero-crossing
//! rate, chroma, log-mel), which follow librosa 0.11's definitions and are tested against its
//! output.
//!
//! This crate must stay pure Rust (it is checked for aarch64 without a C toolchain), must not
//! depend on an inference or training framework, and must not print: it returns typed errors
//! whose messages say what to do.

pub mod chroma;
mod error;
pub mod features;
mod kernels;
mod lanes;
pub mod mel;
pub mod mfcc;
pub mod resample;
pub mod rms;
mod simd;
pub mod stft;
pub mod vad;
pub mod wav;
pub mod window;
pub mod zcr;

pub use error::AudioError;
pub use features::{
    CHROMA_BINS, FeatureConfig, FeatureExtractor, FeatureMatrix, utterance_summary,
    utterance_summary_names,
};
pub use resample::resample;
pub use rms::rms;
pub use vad::{Vad, VadConfig, detect_speech, speech_span};
pub use wav::{Audio, decode_wav, decode_wav_with_channels, read_wav, write_wav};
pub use window::{SpeechInput, WindowPlace, fit_frames};
pub use zcr::zero_crossing_rate;
