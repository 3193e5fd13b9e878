//! Screens of a Sentio device, drawn with embedded-graphics.
//!
//! Every screen is written against `DrawTarget` with a [`Palette`] colour, so the same code draws
//! on a 240x240 RGB565 SPI panel, a 128x64 1-bit OLED, and the simulated framebuffer in tests.
//! This crate draws only: it does no I/O and never flushes a display (the caller decides when).
//!
//! - [`PreviewScreen`]: the camera picture with the face box, a microphone level meter and live
//!   timings.
//! - [`MoodScreen`]: the fused mood as a drawn face (one per [`Mood`](sentio_mood::Mood), in its
//!   own colour), its confidence, the face and voice confidence bars, the track playing, the
//!   camera and microphone privacy indicators and the fps, from a plain [`MoodView`].
//!   [`draw_mood_face`] draws just the face, at any size.
//! - [`SketchScreen`]: the sketch mode: the emoji recognised in a drawing, drawn
//!   ([`draw_emoji_face`]), its confidence, hints when there is no card, and the caption line.

mod caption;
mod mood;
mod palette;
mod preview;
mod sketch;

pub use caption::CaptionTicker;
pub use mood::{MoodLayout, MoodScreen, MoodView, draw_mood_face};
pub use palette::Palette;
pub use preview::{FaceOverlay, PreviewLayout, PreviewScreen, PreviewStats, draw_frame_scaled};
pub use sketch::{SketchScreen, SketchState, SketchView, draw_emoji_face};
