//! The fused mood of a Sentio device (DESIGN.md: "fusion -> smoothing/hysteresis -> mood").
//!
//! Pure logic with no I/O and no clock of its own: every call takes the time in milliseconds on
//! the device's clock, so a run on the virtual clock is deterministic.

mod mood;

pub use mood::Mood;
