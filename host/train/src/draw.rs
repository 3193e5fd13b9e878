//! Drawing on `image` RGB buffers for the report pictures (curves, confusion matrix, contact
//! sheets): filled rectangles, lines and text in embedded-graphics' 6x10 font (the font the
//! device's screens use; no plotting library, no system fonts).

use embedded_graphics::Drawable;
use embedded_graphics::Pixel;
use embedded_graphics::mono_font::MonoTextStyle;
use embedded_graphics::mono_font::ascii::FONT_6X10;
use embedded_graphics::pixelcolor::Rgb888;
use embedded_graphics::prelude::{DrawTarget, OriginDimensions, Point, RgbColor, Size};
use embedded_graphics::text::{Baseline, Text};
use image::{Rgb, RgbImage};

/// Width of one character of [`text`], in pixels.
pub const CHAR_WIDTH: u32 = 6;
/// Height of a line of [`text`], in pixels.
pub const LINE_HEIGHT: u32 = 10;

/// An `RgbImage` as an embedded-graphics target (pixels outside the image are dropped).
struct Target<'a>(&'a mut RgbImage);

impl OriginDimensions for Target<'_> {
    fn size(&self) -> Size {
        Size::new(self.0.width(), self.0.height())
    }
}

impl DrawTarget for Target<'_> {
    type Color = Rgb888;
    type Error = std::convert::Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Self::Color>>,
    {
        let (w, h) = (self.0.width() as i32, self.0.height() as i32);
        for Pixel(p, c) in pixels {
            if (0..w).contains(&p.x) && (0..h).contains(&p.y) {
                self.0
                    .put_pixel(p.x as u32, p.y as u32, Rgb([c.r(), c.g(), c.b()]));
            }
        }
        Ok(())
    }
}

/// Writes `s` with its top-left corner at (`x`, `y`).
pub fn text(img: &mut RgbImage, x: u32, y: u32, s: &str, color: Rgb<u8>) {
    let [r, g, b] = color.0;
    let style = MonoTextStyle::new(&FONT_6X10, Rgb888::new(r, g, b));
    let at = Point::new(x as i32, y as i32);
    // Drawing into an image cannot fail (Infallible).
    let _ = Text::with_baseline(s, at, style, Baseline::Top).draw(&mut Target(img));
}

/// Width of `s` in pixels.
pub fn text_width(s: &str) -> u32 {
    s.chars().count() as u32 * CHAR_WIDTH
}

/// Fills a rectangle, clipped to the image.
pub fn fill(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, color: Rgb<u8>) {
    for yy in y..(y.saturating_add(h)).min(img.height()) {
        for xx in x..(x.saturating_add(w)).min(img.width()) {
            img.put_pixel(xx, yy, color);
        }
    }
}

/// A 2-pixel-wide line (DDA).
pub fn line(img: &mut RgbImage, (x0, y0): (f32, f32), (x1, y1): (f32, f32), color: Rgb<u8>) {
    let steps = (x1 - x0).abs().max((y1 - y0).abs()).ceil().max(1.0) as usize;
    for i in 0..=steps {
        let t = i as f32 / steps as f32;
        let (x, y) = (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
        fill(img, x.max(0.0) as u32, y.max(0.0) as u32, 2, 2, color);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_marks_pixels_inside_its_box_only() {
        let mut img = RgbImage::from_pixel(40, 20, Rgb([255, 255, 255]));
        text(&mut img, 2, 3, "Ab", Rgb([0, 0, 0]));
        let inked: Vec<(u32, u32)> = img
            .enumerate_pixels()
            .filter(|(_, _, p)| p.0 == [0, 0, 0])
            .map(|(x, y, _)| (x, y))
            .collect();
        assert!(inked.len() > 10, "{}", inked.len());
        assert!(inked.iter().all(
            |(x, y)| (2..2 + text_width("Ab")).contains(x) && (3..3 + LINE_HEIGHT).contains(y)
        ));
        // Off the edge: clipped, not a panic.
        text(&mut img, 38, 15, "clipped", Rgb([0, 0, 0]));
    }
}
