//! Sentio's mood music player, as a library: the profile points each mood at a folder or an
//! M3U playlist; tracks (OGG Vorbis, MP3, FLAC, WAV) are decoded a packet at a time with
//! symphonia, mixed to the speaker's channels, resampled to its rate with `sentio_audio`'s one
//! resampler, normalized to a target loudness (EBU R128, measured once per file and cached on
//! disk), crossfaded, ducked while someone speaks and rendered block by block.
//!
//! The player ([`Player`]) takes every time from its caller and reads no clock, so tests run
//! on a virtual clock. It must not print, must not hold a whole track in memory (a Pi Zero 2 W
//! has 512 MB), and must stay pure Rust; errors are typed and say what to do. It does not talk
//! to a sound device: the caller writes what [`Player::render_i16`] gives to its speaker.

mod config;
pub mod decode;
mod error;
pub mod library;
pub mod loudness;
mod player;

pub use config::MusicConfig;
pub use error::MusicError;
pub use loudness::{LoudnessCache, integrated_loudness};
pub use player::{PROMPT_EDGE_MS, Player, START_FADE_MS, SkipReason, TrackEvent, VOLUME_RAMP_MS};
