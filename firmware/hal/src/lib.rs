//! Hardware traits of a Sentio device, and simulated implementations of them.
//!
//! Everything above the hardware (pipelines, UI, the device binary) is generic over the traits
//! here, so the whole device runs and is tested on a simulated board. The simulated devices in
//! [`sim`] read and write ordinary files (images, WAV, PNG, stroke files) and are deterministic: the same inputs
//! give the same frames, samples and pixels, with time taken from a [`Clock`] the caller chooses.
//!
//! This crate must not depend on system libraries or on any real driver: those live in
//! `sentio-linux`, behind cargo features.

pub mod audio;
pub mod button;
pub mod camera;
pub mod clock;
pub mod color;
pub mod display;
mod error;
pub mod pointer;
pub mod sim;
pub mod strokes;

pub use audio::{Microphone, Speaker};
pub use button::PushButton;
pub use camera::{Camera, Frame, FrameFormat, PixelFormat};
pub use clock::{Clock, SystemClock, VirtualClock};
pub use color::PanelColor;
pub use display::Display;
pub use error::{ErrorKind, HalError};
pub use pointer::{Pointer, PointerEvent, Stroke, StrokeCollector};
pub use strokes::StrokeFile;
