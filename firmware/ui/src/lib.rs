//! Screens of a Sentio device, drawn with embedded-graphics.
//!
//! Every screen is written against `DrawTarget` with a [`Palette`] colour, so the same code draws
//! on a 240x240 RGB565 SPI panel, a 128x64 1-bit OLED, and the simulated framebuffer in tests.
//! This crate draws only: it does no I/O and never flushes a display (the caller decides when).

mod palette;
mod preview;

pub use palette::Palette;
pub use preview::{FaceOverlay, PreviewLayout, PreviewScreen, PreviewStats, draw_frame_scaled};
