//! Simulated devices: files in, files out, deterministic.
//!
//! - [`SimCamera`]: frames from a still image, a folder of images (looping) or a moving test
//!   pattern, at the declared size and rate.
//! - [`WavMicrophone`] / [`SilenceMicrophone`]: samples from a WAV file (resampled to the
//!   declared rate, optionally looping) or silence.
//! - [`WavSpeaker`]: samples into a WAV file.
//! - [`ScriptedButton`]: a push button pressed at given times.
//! - [`ReplayPointer`]: a touch panel replaying a [`crate::StrokeFile`] (recorded pen input).
//! - [`SimDisplay`]: an in-memory framebuffer (RGB565 for colour panels, 1-bit for mono ones)
//!   that can save a PNG on every flush or every N flushes.
//!
//! Each source can run in [`Pacing::RealTime`] (it waits on its [`crate::Clock`] like real
//! hardware would) or [`Pacing::Fast`] (as fast as the consumer reads). Timestamps always come
//! from the frame or sample index, so both give the same data.

mod button;
mod camera;
mod display;
mod microphone;
mod pointer;
mod speaker;

pub use button::ScriptedButton;
pub use camera::{SimCamera, SimCameraSource};
pub use display::{FrameSaver, SimDisplay};
pub use microphone::{SilenceMicrophone, WavMicrophone};
pub use pointer::ReplayPointer;
pub use speaker::WavSpeaker;

/// Whether a simulated source waits for real (or virtual) time to pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pacing {
    /// Deliver data when it would arrive from real hardware, waiting on the clock.
    RealTime,
    /// Deliver data as fast as it is asked for.
    Fast,
}
