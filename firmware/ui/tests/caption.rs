//! The caption line: golden images of a scrolling caption at its start and mid-scroll (where
//! the end of the text, the gap and the next copy are all in view) on a 240x240 RGB565 panel and
//! a 128x64 OLED, and behaviour tests that do not depend on the goldens.
//!
//! On a golden mismatch the test writes `<name>.actual.png` and `<name>.diff.png` beside the
//! golden file. `SENTIO_BLESS=1 cargo test -p sentio-ui --test caption` rewrites the goldens.

use std::time::Duration;

use embedded_graphics::pixelcolor::{BinaryColor, Rgb565};
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::Rectangle;
use sentio_hal::sim::SimDisplay;

mod common;
use common::assert_golden;
use sentio_ui::{CaptionTicker, Palette};

const SQUARE: Size = Size::new(240, 240);
const OLED: Size = Size::new(128, 64);

const LONG: &str = "A cheerful person in a sunny room with a blue sky in the window.";
const SHORT: &str = "A person in a room.";

/// The caption strip: a row at the bottom of the panel, as under the mood screen.
fn strip(panel: Size) -> Rectangle {
    if panel == OLED {
        Rectangle::new(Point::new(0, 54), Size::new(128, 10))
    } else {
        Rectangle::new(Point::new(0, 224), Size::new(panel.width, 16))
    }
}

fn render<C>(panel: Size, text: &str, elapsed: Duration) -> SimDisplay<C>
where
    C: Palette + Default + sentio_hal::color::ToRgb888,
{
    let mut d = SimDisplay::<C>::new(panel.width, panel.height);
    CaptionTicker::new(strip(panel), C::LARGE)
        .draw(&mut d, text, elapsed)
        .unwrap();
    d
}

/// The time at which `LONG` has scrolled so far that its end, the gap and the next copy's
/// start are all in the strip.
fn mid_scroll(panel: Size, large: bool) -> Duration {
    let t = CaptionTicker::new(strip(panel), large);
    let width = t.text_width(LONG);
    // The end of the text a third of the way into the strip.
    let offset = width - strip(panel).size.width / 3;
    let elapsed = CaptionTicker::PAUSE
        + Duration::from_millis((u64::from(offset) * 1000).div_ceil(u64::from(t.speed())));
    assert_eq!(t.offset_at(LONG, elapsed), offset);
    elapsed
}

#[test]
fn scrolling_caption_on_the_colour_panel_matches_golden() {
    let start = render::<Rgb565>(SQUARE, LONG, Duration::ZERO);
    assert_golden("caption_240x240_start", &start.to_rgb_image());
    let mid = render::<Rgb565>(SQUARE, LONG, mid_scroll(SQUARE, true));
    assert_golden("caption_240x240_scrolled", &mid.to_rgb_image());
}

#[test]
fn scrolling_caption_on_the_mono_panel_matches_golden() {
    let start = render::<BinaryColor>(OLED, LONG, Duration::ZERO);
    assert_golden("caption_128x64_start", &start.to_rgb_image());
    let mid = render::<BinaryColor>(OLED, LONG, mid_scroll(OLED, false));
    assert_golden("caption_128x64_scrolled", &mid.to_rgb_image());
}

/// The columns of the strip with any lit pixel.
fn lit_columns<C>(d: &SimDisplay<C>, panel: Size) -> Vec<bool>
where
    C: Palette + Default + sentio_hal::color::ToRgb888,
{
    let s = strip(panel);
    (0..panel.width)
        .map(|x| {
            (s.top_left.y as u32..s.top_left.y as u32 + s.size.height)
                .any(|y| d.pixel(x, y) != Some(C::BACKGROUND))
        })
        .collect()
}

#[test]
fn a_short_caption_does_not_scroll_and_is_centred() {
    for (panel, large) in [(SQUARE, true), (OLED, false)] {
        let ticker = CaptionTicker::new(strip(panel), large);
        assert!(!ticker.scrolls(SHORT));
        assert_eq!(ticker.period(SHORT), None);
        let first = render::<Rgb565>(panel, SHORT, Duration::ZERO);
        for ms in [1, 2500, 3_000, 7_777, 60_000, 3_600_000] {
            let later = render::<Rgb565>(panel, SHORT, Duration::from_millis(ms));
            assert!(first.pixels() == later.pixels(), "{panel:?} at {ms} ms");
        }
        // Centred: the blank margins either side differ by at most one character.
        let lit = lit_columns(&first, panel);
        let left = lit.iter().position(|&l| l).unwrap();
        let right = lit.len() - 1 - lit.iter().rposition(|&l| l).unwrap();
        let cw = ticker.font().character_size.width as usize;
        assert!(
            left.abs_diff(right) <= cw,
            "{panel:?}: margins {left} and {right}"
        );
    }
}

#[test]
fn a_long_caption_rests_then_moves_left_and_comes_round() {
    // Frames are compared with assert!, not assert_eq!, which would print 57,600 pixels.
    let panel = SQUARE;
    let ticker = CaptionTicker::new(strip(panel), true);
    let period = ticker.period(LONG).unwrap();
    let frame = |t: Duration| render::<Rgb565>(panel, LONG, t).pixels().to_vec();
    let start = frame(Duration::ZERO);
    // Still during the pause, with the start of the text at the strip's left edge.
    assert!(frame(CaptionTicker::PAUSE - Duration::from_millis(1)) == start);
    let lit = lit_columns(&render::<Rgb565>(panel, LONG, Duration::ZERO), panel);
    assert!(lit[..3].contains(&true));
    // Moving after it: one second later the text is one second of speed further left.
    let one_s = frame(CaptionTicker::PAUSE + Duration::from_secs(1));
    assert!(one_s != start);
    let moved = ticker.speed() as i32;
    let s = strip(panel);
    for y in s.top_left.y..s.top_left.y + s.size.height as i32 {
        for x in 0..(panel.width as i32 - moved) {
            assert_eq!(
                pixel(&one_s, panel, x, y),
                pixel(&start, panel, x + moved, y),
                "({x}, {y})"
            );
        }
    }
    // After a whole pass the next copy is where the first one started: the same frames again.
    assert!(
        frame(period) == start,
        "not back at the start after {period:?}"
    );
    let later = period * 3 + CaptionTicker::PAUSE + Duration::from_secs(1);
    assert!(
        frame(later) == one_s,
        "the fourth pass differs from the first"
    );
}

fn pixel(pixels: &[Rgb565], panel: Size, x: i32, y: i32) -> Rgb565 {
    pixels[(y as u32 * panel.width + x as u32) as usize]
}

#[test]
fn nothing_is_drawn_outside_the_strip() {
    // Strips inside the panel, across its edges, and empty ones; the rest of the panel keeps
    // what was there.
    let panel = Size::new(96, 48);
    let strips = [
        Rectangle::new(Point::new(10, 20), Size::new(50, 12)),
        Rectangle::new(Point::new(-20, 40), Size::new(200, 16)),
        Rectangle::new(Point::new(80, -5), Size::new(40, 9)),
        Rectangle::new(Point::new(0, 0), Size::new(0, 10)),
        Rectangle::new(Point::new(200, 200), Size::new(30, 10)),
    ];
    let marker = <Rgb565 as Palette>::FACE;
    for area in strips {
        for text in [LONG, SHORT, "", "ünïcödé ✓ captions"] {
            for ms in [0, 2_100, 9_999, 123_456] {
                let mut d = SimDisplay::<Rgb565>::new(panel.width, panel.height);
                d.clear(marker).unwrap();
                for large in [true, false] {
                    CaptionTicker::new(area, large)
                        .draw(&mut d, text, Duration::from_millis(ms))
                        .unwrap();
                }
                for y in 0..panel.height {
                    for x in 0..panel.width {
                        let inside = area.contains(Point::new(x as i32, y as i32));
                        let p = d.pixel(x, y).unwrap();
                        if inside {
                            assert_ne!(p, marker, "{area:?} {text:?}: ({x}, {y}) not cleared");
                        } else {
                            assert_eq!(p, marker, "{area:?} {text:?}: ({x}, {y}) drawn on");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn the_mono_panel_gets_only_on_and_off() {
    let d = render::<BinaryColor>(OLED, LONG, mid_scroll(OLED, false));
    let img = d.to_rgb_image();
    assert!(
        img.pixels()
            .all(|p| p.0 == [0, 0, 0] || p.0 == [255, 255, 255])
    );
    assert!(img.pixels().any(|p| p.0 == [255, 255, 255]));
}
