//! Displays: an embedded-graphics `DrawTarget` whose drawing shows once `flush` is called.

use embedded_graphics::draw_target::DrawTarget;

use crate::HalError;

/// A panel. Drawing goes into a buffer; [`Display::flush`] makes it visible (sends it over the
/// bus, or writes the PNG of a simulated panel). Drawing code is written against this trait only,
/// so the same screens draw on an SPI panel, an I2C OLED and in tests.
pub trait Display: DrawTarget {
    /// Makes everything drawn so far visible.
    fn flush(&mut self) -> Result<(), HalError>;
}
