use embedded_graphics::pixelcolor::{BinaryColor, Rgb565, Rgb888, RgbColor};
use sentio_hal::PanelColor;

/// The colours a screen uses, per panel colour type. Mono panels map every role to on or off.
pub trait Palette: PanelColor {
    const BACKGROUND: Self;
    const TEXT: Self;
    const DIM: Self;
    const LEVEL_LOW: Self;
    const LEVEL_MID: Self;
    const LEVEL_HIGH: Self;
    /// The face box and its label.
    const FACE: Self;
    /// Font size class: false for small mono panels, which get the smaller font.
    const LARGE: bool;
}

const fn rgb565(r: u8, g: u8, b: u8) -> Rgb565 {
    Rgb565::new(r >> 3, g >> 2, b >> 3)
}

impl Palette for Rgb565 {
    const BACKGROUND: Self = Rgb565::BLACK;
    const TEXT: Self = Rgb565::WHITE;
    const DIM: Self = rgb565(60, 60, 70);
    const LEVEL_LOW: Self = rgb565(40, 200, 80);
    const LEVEL_MID: Self = rgb565(240, 200, 40);
    const LEVEL_HIGH: Self = rgb565(240, 60, 40);
    const FACE: Self = rgb565(80, 230, 230);
    const LARGE: bool = true;
}

impl Palette for Rgb888 {
    const BACKGROUND: Self = Rgb888::BLACK;
    const TEXT: Self = Rgb888::WHITE;
    const DIM: Self = Rgb888::new(60, 60, 70);
    const LEVEL_LOW: Self = Rgb888::new(40, 200, 80);
    const LEVEL_MID: Self = Rgb888::new(240, 200, 40);
    const LEVEL_HIGH: Self = Rgb888::new(240, 60, 40);
    const FACE: Self = Rgb888::new(80, 230, 230);
    const LARGE: bool = true;
}

impl Palette for BinaryColor {
    const BACKGROUND: Self = BinaryColor::Off;
    const TEXT: Self = BinaryColor::On;
    const DIM: Self = BinaryColor::Off;
    const LEVEL_LOW: Self = BinaryColor::On;
    const LEVEL_MID: Self = BinaryColor::On;
    const LEVEL_HIGH: Self = BinaryColor::On;
    const FACE: Self = BinaryColor::On;
    const LARGE: bool = false;
}
