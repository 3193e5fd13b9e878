use embedded_graphics::pixelcolor::{BinaryColor, Rgb565, Rgb888, RgbColor};
use sentio_hal::PanelColor;
use sentio_mood::Mood;

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
    /// The mood screen's face colour of each mood, indexed by [`Mood::index`].
    const MOOD: [Self; Mood::COUNT];
    /// The strokes drawn on a mood face (eyes, brows, mouth).
    const FACE_INK: Self;
    /// The whites of wide-open eyes.
    const EYE_WHITE: Self;
    /// Blushing cheeks.
    const CHEEK: Self;
    /// A tear.
    const TEAR: Self;
    /// The "sensing now" dot of the camera and microphone indicators.
    const SENSING: Self;
    /// The voice confidence bar (the face bar is [`FACE`](Self::FACE)).
    const VOICE: Self;
    /// Text and marks that are shown but say "nothing here" or "off" (readable, unlike `DIM`).
    const FAINT: Self;

    /// The face colour of `mood`.
    fn mood(mood: Mood) -> Self {
        Self::MOOD[mood.index()]
    }
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
    const MOOD: [Self; Mood::COUNT] = [
        rgb565(205, 205, 195), // neutral: warm grey
        rgb565(255, 208, 60),  // happy: yellow
        rgb565(100, 150, 230), // sad: blue
        rgb565(235, 80, 60),   // angry: red
        rgb565(185, 155, 235), // fearful: lavender
        rgb565(255, 150, 50),  // surprised: orange
        rgb565(120, 215, 165), // calm: mint
    ];
    const FACE_INK: Self = rgb565(40, 30, 40);
    const EYE_WHITE: Self = Rgb565::WHITE;
    const CHEEK: Self = rgb565(250, 130, 120);
    const TEAR: Self = rgb565(190, 240, 255);
    const SENSING: Self = rgb565(235, 40, 40);
    const VOICE: Self = rgb565(200, 130, 255);
    const FAINT: Self = rgb565(125, 125, 135);
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
    const MOOD: [Self; Mood::COUNT] = [
        Rgb888::new(205, 205, 195),
        Rgb888::new(255, 208, 60),
        Rgb888::new(100, 150, 230),
        Rgb888::new(235, 80, 60),
        Rgb888::new(185, 155, 235),
        Rgb888::new(255, 150, 50),
        Rgb888::new(120, 215, 165),
    ];
    const FACE_INK: Self = Rgb888::new(40, 30, 40);
    const EYE_WHITE: Self = Rgb888::WHITE;
    const CHEEK: Self = Rgb888::new(250, 130, 120);
    const TEAR: Self = Rgb888::new(190, 240, 255);
    const SENSING: Self = Rgb888::new(235, 40, 40);
    const VOICE: Self = Rgb888::new(200, 130, 255);
    const FAINT: Self = Rgb888::new(125, 125, 135);
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
    // A lit disc with dark features; whites and cheeks lit like the face, so a wide eye is a
    // dark ring around a lit white with a dark pupil, and a tear a dark drop.
    const MOOD: [Self; Mood::COUNT] = [BinaryColor::On; Mood::COUNT];
    const FACE_INK: Self = BinaryColor::Off;
    const EYE_WHITE: Self = BinaryColor::On;
    const CHEEK: Self = BinaryColor::On;
    const TEAR: Self = BinaryColor::Off;
    const SENSING: Self = BinaryColor::On;
    const VOICE: Self = BinaryColor::On;
    const FAINT: Self = BinaryColor::On;
}
