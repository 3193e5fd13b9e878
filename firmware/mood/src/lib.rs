//! The fused mood of a Sentio device (DESIGN.md: "fusion -> smoothing/hysteresis -> mood").
//!
//! [`MoodTable`] maps one model's labels (`fer7`, `ser8`, `emoji8`) into [`Mood`];
//! [`MoodConfig`] holds the fusion's settings (a board profile's `[mood]` section);
//! [`MoodEngine`] fuses face, voice and sketch readings by weight, confidence and freshness,
//! smooths the result and changes the mood with hysteresis and a minimum dwell.
//!
//! Pure logic with no I/O and no clock of its own: every call takes the time in milliseconds on
//! the device's clock, so a run on the virtual clock is deterministic. This crate must not read
//! files, print, or look at a clock.

mod config;
mod engine;
mod error;
mod mood;
mod table;

pub use config::{Modality, MoodConfig};
pub use engine::{Contribution, MoodEngine, MoodUpdate};
pub use error::MoodError;
pub use mood::Mood;
pub use table::MoodTable;
