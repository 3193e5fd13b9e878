//! The sketch screen: the emoji the device recognised in a visitor's drawing, drawn, with its
//! label and confidence, or what to do when there is nothing to read; a caption line at the
//! bottom when the device describes the scene.

use core::time::Duration;

use embedded_graphics::mono_font::ascii::{FONT_6X10, FONT_10X20};
use embedded_graphics::mono_font::{MonoFont, MonoTextStyle};
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{
    Circle, PrimitiveStyle, PrimitiveStyleBuilder, Rectangle, Sector, StrokeAlignment, Triangle,
};
use embedded_graphics::text::{Alignment, Baseline, Text, TextStyleBuilder};
use sentio_mood::Mood;

use crate::mood::{Geo, disc, stroke_arc, stroke_line};
use crate::{CaptionTicker, Palette};

/// What the sketch mode saw last.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SketchState<'a> {
    /// Nothing read yet.
    Waiting,
    /// An emoji: its emoji8 index and label, its probability, and the mood it maps to.
    Emoji {
        index: usize,
        label: &'a str,
        score: f32,
        mood: Option<Mood>,
    },
    NoCard,
    TwoCards,
    Blank,
}

/// What the sketch screen shows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SketchView<'a> {
    pub state: SketchState<'a>,
    /// `true` when the drawing came from the touch panel (the hint then says "draw").
    pub touch: bool,
    /// The caption of the scene, and how long it has been shown (for the scrolling).
    pub caption: Option<(&'a str, Duration)>,
}

/// The sketch screen for one panel size.
pub struct SketchScreen {
    panel: Size,
    large: bool,
    ticker: CaptionTicker,
}

impl SketchScreen {
    pub fn new(panel: Size, large_font: bool) -> Self {
        let large = large_font && panel.width >= 160 && panel.height >= 120;
        let strip_h = if large { 16 } else { 10 };
        let strip = Rectangle::new(
            Point::new(0, panel.height.saturating_sub(strip_h) as i32),
            Size::new(panel.width, strip_h),
        );
        Self {
            panel,
            large,
            ticker: CaptionTicker::new(strip, large),
        }
    }

    pub fn draw<D>(&self, target: &mut D, view: &SketchView<'_>) -> Result<(), D::Error>
    where
        D: DrawTarget,
        D::Color: Palette,
    {
        target.clear(D::Color::BACKGROUND)?;
        let font: &MonoFont<'static> = if self.large { &FONT_10X20 } else { &FONT_6X10 };
        let line_h = font.character_size.height;
        let strip_h = self.ticker.area().size.height;
        let (w, h) = (self.panel.width, self.panel.height);
        // Text line at the top; the face fills what is left above the caption strip.
        let face_top = line_h + 2;
        let face_h = h.saturating_sub(face_top + strip_h + 2);
        let diameter = face_h.min(w.saturating_sub(4));
        let center = Point::new((w / 2) as i32, (face_top + face_h / 2) as i32);
        let text = |s: &str, target: &mut D| {
            let style = MonoTextStyle::new(font, D::Color::TEXT);
            let layout = TextStyleBuilder::new()
                .alignment(Alignment::Center)
                .baseline(Baseline::Top)
                .build();
            Text::with_text_style(s, Point::new((w / 2) as i32, 0), style, layout)
                .draw(target)
                .map(|_| ())
        };
        let hint = if view.touch {
            "draw a face"
        } else {
            "hold up a card"
        };
        match view.state {
            SketchState::Emoji {
                index,
                label,
                score,
                mood,
            } => {
                let percent = (score.clamp(0.0, 1.0) * 100.0).round() as u32;
                let mut line = format!("{} {percent}%", label.replace('_', " "));
                // ASCII labels: cutting at any byte is a char boundary.
                line.truncate((w / font.character_size.width) as usize);
                text(&line, target)?;
                draw_emoji_face(target, index, mood, center, diameter)?;
            }
            SketchState::Waiting | SketchState::NoCard => {
                text(hint, target)?;
                draw_card_outline(target, center, diameter)?;
            }
            SketchState::TwoCards => {
                text("one card please", target)?;
                draw_card_outline(
                    target,
                    center - Point::new((diameter / 4) as i32, 0),
                    diameter / 2,
                )?;
                draw_card_outline(
                    target,
                    center + Point::new((diameter / 4) as i32, 0),
                    diameter / 2,
                )?;
            }
            SketchState::Blank => {
                text("the card is blank", target)?;
                draw_card_outline(target, center, diameter)?;
            }
        }
        if let Some((caption, elapsed)) = view.caption {
            self.ticker.draw(target, caption, elapsed)?;
        }
        Ok(())
    }
}

/// A faint card with a pencil line: where the drawing goes.
fn draw_card_outline<D>(target: &mut D, center: Point, diameter: u32) -> Result<(), D::Error>
where
    D: DrawTarget,
    D::Color: Palette,
{
    if diameter < 8 {
        return Ok(());
    }
    let side = diameter * 3 / 4;
    Rectangle::with_center(center, Size::new(side, side))
        .into_styled(
            PrimitiveStyleBuilder::new()
                .stroke_color(D::Color::FAINT)
                .stroke_width((diameter / 40).max(1))
                .stroke_alignment(StrokeAlignment::Inside)
                .build(),
        )
        .draw(target)?;
    Circle::with_center(center, side / 2)
        .into_styled(PrimitiveStyle::with_stroke(
            D::Color::FAINT,
            (diameter / 60).max(1),
        ))
        .draw(target)
}

/// Draws emoji8 class `index` (others wrap around) as a disc of `diameter` centred on `center`,
/// in the colour of the mood it maps to (or the face colour).
pub fn draw_emoji_face<D>(
    target: &mut D,
    index: usize,
    mood: Option<Mood>,
    center: Point,
    diameter: u32,
) -> Result<(), D::Error>
where
    D: DrawTarget,
    D::Color: Palette,
{
    if diameter < 8 {
        return Ok(());
    }
    let t = target;
    let g = Geo {
        c: center,
        r: diameter as f32 / 2.0,
    };
    let ink = D::Color::FACE_INK;
    let s = g.stroke();
    disc(
        t,
        center,
        diameter,
        mood.map_or(D::Color::FACE, D::Color::mood),
    )?;
    let dots = |t: &mut D| -> Result<(), D::Error> {
        for x in [-0.34, 0.34] {
            disc(t, g.p(x, -0.14), g.d(0.18), ink)?;
        }
        Ok(())
    };
    let smile = |t: &mut D| stroke_arc(t, g.p(0.0, 0.02), g.d(0.9), 40.0, 100.0, s, ink);
    let frown = |t: &mut D| stroke_arc(t, g.p(0.0, 0.78), g.d(0.8), 225.0, 90.0, s, ink);
    let grin = |t: &mut D| {
        Sector::with_center(g.p(0.0, 0.12), g.d(0.86), 0.0.deg(), 180.0.deg())
            .into_styled(PrimitiveStyle::with_fill(ink))
            .draw(t)
    };
    match index % 8 {
        // slightly_smiling
        0 => {
            dots(t)?;
            smile(t)?;
        }
        // heart_eyes: two hearts (two lobes and a point) and a grin.
        1 => {
            for x in [-0.36f32, 0.36] {
                let lobe = g.d(0.16);
                disc(t, g.p(x - 0.08, -0.2), lobe, D::Color::CHEEK)?;
                disc(t, g.p(x + 0.08, -0.2), lobe, D::Color::CHEEK)?;
                Triangle::new(g.p(x - 0.16, -0.17), g.p(x + 0.16, -0.17), g.p(x, 0.02))
                    .into_styled(PrimitiveStyle::with_fill(D::Color::CHEEK))
                    .draw(t)?;
            }
            grin(t)?;
        }
        // neutral
        2 => {
            dots(t)?;
            stroke_line(t, g.p(-0.3, 0.4), g.p(0.3, 0.4), s, ink)?;
        }
        // angry: brows slanting to the middle, a frown.
        3 => {
            for x in [-1.0f32, 1.0] {
                stroke_line(t, g.p(0.58 * x, -0.44), g.p(0.14 * x, -0.26), g.d(0.1), ink)?;
            }
            dots(t)?;
            frown(t)?;
        }
        // tears_of_joy: squeezed eyes, a tear at each, a grin.
        4 => {
            for x in [-0.34f32, 0.34] {
                stroke_arc(t, g.p(x, -0.08), g.d(0.32), 200.0, 140.0, s, ink)?;
                let side = x.signum();
                Triangle::new(
                    g.p(x + 0.2 * side, -0.06),
                    g.p(x + 0.12 * side, 0.1),
                    g.p(x + 0.28 * side, 0.1),
                )
                .into_styled(PrimitiveStyle::with_fill(D::Color::TEAR))
                .draw(t)?;
                disc(t, g.p(x + 0.2 * side, 0.12), g.d(0.17), D::Color::TEAR)?;
            }
            grin(t)?;
        }
        // winking: one dot, one closed eye, a smile.
        5 => {
            disc(t, g.p(-0.34, -0.14), g.d(0.18), ink)?;
            stroke_arc(t, g.p(0.34, -0.2), g.d(0.3), 20.0, 140.0, s, ink)?;
            smile(t)?;
        }
        // tongue_out: a flat smile with the tongue hanging from it.
        6 => {
            dots(t)?;
            disc(t, g.p(0.08, 0.5), g.d(0.3), D::Color::CHEEK)?;
            stroke_line(t, g.p(-0.34, 0.36), g.p(0.34, 0.36), s, ink)?;
        }
        // frowning
        _ => {
            dots(t)?;
            frown(t)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_graphics::mock_display::MockDisplay;
    use embedded_graphics::pixelcolor::BinaryColor;

    #[test]
    fn every_emoji_stays_inside_its_disc() {
        for index in 0..8 {
            let mut display = MockDisplay::<BinaryColor>::new();
            display.set_allow_overdraw(true);
            draw_emoji_face(&mut display, index, None, Point::new(32, 32), 60).ok();
            let bb = display.affected_area();
            assert!(bb.top_left.x >= 2 && bb.top_left.y >= 2, "{index}: {bb:?}");
            assert!(
                bb.bottom_right().is_some_and(|p| p.x <= 62 && p.y <= 62),
                "{index}: {bb:?}"
            );
        }
    }
}
