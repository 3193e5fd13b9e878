//! A caption line: one line of text in a strip of the panel, scrolled sideways when it is wider
//! than the strip.
//!
//! The scroll position is a pure function of the time since the caption was first shown, so a
//! frame can be redrawn (or tested) at any time without the ticker keeping state: the text
//! rests at its start for a pause, scrolls left at a steady speed until a second copy, one gap
//! behind it, has taken its place, and starts over. Drawing allocates nothing.

use core::time::Duration;

use embedded_graphics::draw_target::DrawTargetExt;
use embedded_graphics::mono_font::ascii::{FONT_4X6, FONT_5X8, FONT_6X10};
use embedded_graphics::mono_font::{MonoFont, MonoTextStyle};
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::Rectangle;
use embedded_graphics::text::{Baseline, Text};

use crate::Palette;

/// Draws a caption in one strip of the panel, scrolling it when it does not fit.
#[derive(Clone, Copy, Debug)]
pub struct CaptionTicker {
    area: Rectangle,
    font: &'static MonoFont<'static>,
    pause: Duration,
    /// Pixels per second.
    speed: u32,
    /// Blank pixels between the end of the text and the start of its next copy.
    gap: u32,
}

impl CaptionTicker {
    /// How long the start of a scrolling caption stays still, before each pass.
    pub const PAUSE: Duration = Duration::from_secs(2);
    /// Scrolling speed in characters per second: slow enough to read while it moves.
    pub const CHARS_PER_SECOND: u32 = 5;
    /// The gap before the next copy of a scrolling caption, in characters.
    pub const GAP_CHARS: u32 = 4;

    /// A ticker for the strip `area`. The font is the largest that fits the strip's height:
    /// 6x10 when `large_font` (the panel colour's [`Palette::LARGE`]), else 5x8, and 4x6 when
    /// nothing larger fits (cut at the strip's edges if even that does not).
    pub fn new(area: Rectangle, large_font: bool) -> Self {
        let fonts: &[&'static MonoFont<'static>] = if large_font {
            &[&FONT_6X10, &FONT_5X8, &FONT_4X6]
        } else {
            &[&FONT_5X8, &FONT_4X6]
        };
        let font = fonts
            .iter()
            .copied()
            .find(|f| f.character_size.height <= area.size.height)
            .unwrap_or(&FONT_4X6);
        let advance = advance(font);
        CaptionTicker {
            area,
            font,
            pause: Self::PAUSE,
            speed: Self::CHARS_PER_SECOND * advance,
            gap: Self::GAP_CHARS * advance,
        }
    }

    /// The same ticker resting `pause` at the start of each pass.
    pub fn with_pause(self, pause: Duration) -> Self {
        CaptionTicker { pause, ..self }
    }

    /// The same ticker scrolling `pixels_per_second` (0: never scrolls; the start is shown).
    pub fn with_speed(self, pixels_per_second: u32) -> Self {
        CaptionTicker {
            speed: pixels_per_second,
            ..self
        }
    }

    /// The strip the caption is drawn in.
    pub fn area(&self) -> Rectangle {
        self.area
    }

    /// The font the caption is drawn in.
    pub fn font(&self) -> &'static MonoFont<'static> {
        self.font
    }

    /// Scrolling speed in pixels per second.
    pub fn speed(&self) -> u32 {
        self.speed
    }

    /// Width of `text` in pixels (one glyph per character; characters the font lacks are drawn
    /// as its replacement glyph).
    pub fn text_width(&self, text: &str) -> u32 {
        text.chars().count() as u32 * advance(self.font)
    }

    /// Whether `text` is wider than the strip, so it scrolls.
    pub fn scrolls(&self, text: &str) -> bool {
        self.speed > 0 && self.text_width(text) > self.area.size.width
    }

    /// One pass of a scrolling `text`: the pause and the scroll by one copy. `None` when it does
    /// not scroll.
    pub fn period(&self, text: &str) -> Option<Duration> {
        self.scrolls(text)
            .then(|| self.pause + Duration::from_millis(self.scroll_ms(text)))
    }

    /// How far `text` has scrolled left, in pixels, `elapsed` after it was first shown:
    /// 0 during each pass's pause and for a text that fits, then growing at the scrolling speed
    /// up to (not including) the text's width plus the gap, where the next copy is at the start.
    pub fn offset_at(&self, text: &str, elapsed: Duration) -> u32 {
        if !self.scrolls(text) {
            return 0;
        }
        let pause_ms = self.pause.as_millis();
        let period_ms = pause_ms + u128::from(self.scroll_ms(text));
        let t = elapsed.as_millis() % period_ms;
        if t < pause_ms {
            return 0;
        }
        let cycle = self.text_width(text) + self.gap;
        ((t - pause_ms) * u128::from(self.speed) / 1000 % u128::from(cycle)) as u32
    }

    /// Milliseconds to scroll by one copy (text and gap), rounded up so the pass ends exactly
    /// where the next copy sits at the start.
    fn scroll_ms(&self, text: &str) -> u64 {
        let cycle = u64::from(self.text_width(text) + self.gap);
        (cycle * 1000).div_ceil(u64::from(self.speed.max(1)))
    }

    /// Clears the strip and draws `text` as it stands `elapsed` after it was first shown: a
    /// caption that fits is centred and still, a longer one scrolls (see
    /// [`offset_at`](Self::offset_at)). Nothing is drawn outside the strip or the panel.
    pub fn draw<D>(&self, target: &mut D, text: &str, elapsed: Duration) -> Result<(), D::Error>
    where
        D: DrawTarget,
        D::Color: Palette,
    {
        let mut strip = target.clipped(&self.area);
        let area = strip.bounding_box();
        if area.is_zero_sized() {
            return Ok(());
        }
        strip.fill_solid(&area, D::Color::BACKGROUND)?;
        let y = self.area.top_left.y
            + (self
                .area
                .size
                .height
                .saturating_sub(self.font.character_size.height)
                / 2) as i32;
        let left = self.area.top_left.x;
        let width = self.text_width(text);
        if !self.scrolls(text) {
            let x = left + (self.area.size.width.saturating_sub(width) / 2) as i32;
            return self.draw_visible(&mut strip, text, Point::new(x, y));
        }
        let x = left - self.offset_at(text, elapsed) as i32;
        self.draw_visible(&mut strip, text, Point::new(x, y))?;
        let next = x + (width + self.gap) as i32;
        if next < left + self.area.size.width as i32 {
            self.draw_visible(&mut strip, text, Point::new(next, y))?;
        }
        Ok(())
    }

    /// Draws the characters of `text` (placed at `at`) that fall at least partly inside the
    /// strip, so a long caption costs the glyphs seen, not the glyphs it has.
    fn draw_visible<D>(&self, target: &mut D, text: &str, at: Point) -> Result<(), D::Error>
    where
        D: DrawTarget,
        D::Color: Palette,
    {
        let advance = advance(self.font) as i32;
        let left = self.area.top_left.x;
        let right = left + self.area.size.width as i32;
        let skip = if at.x < left {
            ((left - at.x) / advance) as usize
        } else {
            0
        };
        let x = at.x + skip as i32 * advance;
        if x >= right {
            return Ok(());
        }
        let take = ((right - x) + advance - 1) / advance;
        let start = text.char_indices().nth(skip).map_or(text.len(), |(i, _)| i);
        let end = text[start..]
            .char_indices()
            .nth(take as usize)
            .map_or(text.len(), |(i, _)| start + i);
        Text::with_baseline(
            &text[start..end],
            Point::new(x, at.y),
            MonoTextStyle::new(self.font, D::Color::TEXT),
            Baseline::Top,
        )
        .draw(target)?;
        Ok(())
    }
}

/// Horizontal distance from one character to the next.
fn advance(font: &MonoFont<'_>) -> u32 {
    font.character_size.width + font.character_spacing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticker() -> CaptionTicker {
        CaptionTicker::new(Rectangle::new(Point::new(0, 0), Size::new(60, 12)), true)
    }

    #[test]
    fn the_font_fits_the_strip() {
        let strip = |h| Rectangle::new(Point::zero(), Size::new(100, h));
        assert_eq!(
            CaptionTicker::new(strip(12), true).font().character_size,
            Size::new(6, 10)
        );
        assert_eq!(
            CaptionTicker::new(strip(12), false).font().character_size,
            Size::new(5, 8)
        );
        assert_eq!(
            CaptionTicker::new(strip(9), true).font().character_size,
            Size::new(5, 8)
        );
        assert_eq!(
            CaptionTicker::new(strip(7), true).font().character_size,
            Size::new(4, 6)
        );
        assert_eq!(
            CaptionTicker::new(strip(2), false).font().character_size,
            Size::new(4, 6)
        );
    }

    #[test]
    fn scrolling_pauses_moves_and_wraps() {
        let t = ticker();
        // 20 characters of 6 px in a 60 px strip: 120 px, plus a 24 px gap, at 30 px/s.
        let text = "abcdefghijklmnopqrst";
        assert_eq!(t.speed(), 30);
        assert!(t.scrolls(text));
        assert_eq!(t.period(text), Some(Duration::from_millis(2000 + 4800)));
        let at = |ms| t.offset_at(text, Duration::from_millis(ms));
        assert_eq!(at(0), 0);
        assert_eq!(at(1999), 0);
        assert_eq!(at(2000), 0);
        assert_eq!(at(3000), 30);
        assert_eq!(at(6799), 143);
        assert_eq!(at(6800), 0);
        assert_eq!(at(6800 + 3000), 30);
        let mut last = 0;
        for ms in (2000..6800).step_by(7) {
            assert!(at(ms) >= last);
            last = at(ms);
        }
        // A caption that fits, or a ticker with no speed, stays put.
        assert!(!t.scrolls("0123456789"));
        assert_eq!(t.period("0123456789"), None);
        assert_eq!(t.offset_at("0123456789", Duration::from_secs(5)), 0);
        assert_eq!(t.with_speed(0).offset_at(text, Duration::from_secs(5)), 0);
        assert_eq!(
            t.with_pause(Duration::ZERO)
                .offset_at(text, Duration::from_secs(1)),
            30
        );
        // Far in the future: no overflow, still in range.
        assert!(t.offset_at(text, Duration::from_secs(u64::MAX / 2)) < 144);
    }
}
