//! Turning camera colours into panel colours.

use embedded_graphics::pixelcolor::{BinaryColor, Gray8, GrayColor, Rgb565, Rgb888, RgbColor};

use crate::camera::luma_bt601;

/// A panel colour that a camera's RGB888 pixel can be turned into.
pub trait PanelColor: embedded_graphics::prelude::PixelColor {
    /// The panel colour for `rgb` drawn at panel position (x, y). Colour panels ignore the
    /// position; 1-bit panels use it for ordered dithering, so a photo stays recognisable.
    fn from_rgb(rgb: [u8; 3], x: u32, y: u32) -> Self;
}

impl PanelColor for Rgb565 {
    #[inline]
    fn from_rgb([r, g, b]: [u8; 3], _x: u32, _y: u32) -> Self {
        Rgb888::new(r, g, b).into()
    }
}

impl PanelColor for Rgb888 {
    #[inline]
    fn from_rgb([r, g, b]: [u8; 3], _x: u32, _y: u32) -> Self {
        Rgb888::new(r, g, b)
    }
}

impl PanelColor for Gray8 {
    #[inline]
    fn from_rgb([r, g, b]: [u8; 3], _x: u32, _y: u32) -> Self {
        Gray8::new(luma_bt601(r, g, b))
    }
}

/// 4x4 Bayer matrix, thresholds spread over 0..255.
const BAYER4: [[u8; 4]; 4] = [[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]];

impl PanelColor for BinaryColor {
    #[inline]
    fn from_rgb([r, g, b]: [u8; 3], x: u32, y: u32) -> Self {
        let threshold = BAYER4[(y % 4) as usize][(x % 4) as usize] * 16 + 8;
        if luma_bt601(r, g, b) > threshold {
            BinaryColor::On
        } else {
            BinaryColor::Off
        }
    }
}

/// The RGB888 value of a panel colour, for saving a framebuffer as PNG.
pub trait ToRgb888: embedded_graphics::prelude::PixelColor {
    fn to_rgb888(self) -> [u8; 3];
}

impl ToRgb888 for Rgb565 {
    fn to_rgb888(self) -> [u8; 3] {
        let c: Rgb888 = self.into();
        [c.r(), c.g(), c.b()]
    }
}

impl ToRgb888 for Rgb888 {
    fn to_rgb888(self) -> [u8; 3] {
        [self.r(), self.g(), self.b()]
    }
}

impl ToRgb888 for Gray8 {
    fn to_rgb888(self) -> [u8; 3] {
        [self.luma(); 3]
    }
}

impl ToRgb888 for BinaryColor {
    fn to_rgb888(self) -> [u8; 3] {
        match self {
            BinaryColor::On => [255; 3],
            BinaryColor::Off => [0; 3],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mono_dither_keeps_mean_brightness() {
        // A flat mid-gray field dithers to about half the pixels lit.
        let lit = (0..16)
            .flat_map(|y| (0..16).map(move |x| (x, y)))
            .filter(|&(x, y)| BinaryColor::from_rgb([128; 3], x, y) == BinaryColor::On)
            .count();
        assert_eq!(lit, 128);
        assert_eq!(BinaryColor::from_rgb([0; 3], 3, 3), BinaryColor::Off);
        assert_eq!(BinaryColor::from_rgb([255; 3], 3, 3), BinaryColor::On);
    }

    #[test]
    fn rgb565_round_trip_is_close() {
        let c = Rgb565::from_rgb([200, 100, 50], 0, 0);
        let [r, g, b] = c.to_rgb888();
        assert!(r.abs_diff(200) < 8 && g.abs_diff(100) < 4 && b.abs_diff(50) < 8);
    }
}
