//! The sketch screen: golden images of a recognised emoji (with the caption line), of the hint
//! when no card is in view and of the two-cards state, on a 240x240 RGB565 panel and a 128x64
//! OLED; and the eight emoji drawn eight different ways.
//!
//! `SENTIO_BLESS=1 cargo test -p sentio-ui --test sketch_screen` rewrites the goldens.

use std::collections::HashSet;
use std::time::Duration;

use embedded_graphics::pixelcolor::{BinaryColor, Rgb565};
use embedded_graphics::prelude::*;
use sentio_hal::sim::SimDisplay;
use sentio_mood::Mood;
use sentio_ui::{Palette, SketchScreen, SketchState, SketchView, draw_emoji_face};

mod common;
use common::assert_golden;

const SQUARE: Size = Size::new(240, 240);
const OLED: Size = Size::new(128, 64);

const CAPTION: &str = "A cheerful person in a sunny room with a blue sky in the window.";

fn winking() -> SketchView<'static> {
    SketchView {
        state: SketchState::Emoji {
            index: 5,
            label: "winking",
            score: 0.93,
            mood: Some(Mood::Happy),
        },
        touch: false,
        caption: Some((CAPTION, Duration::ZERO)),
    }
}

fn render<C>(panel: Size, view: &SketchView<'_>) -> SimDisplay<C>
where
    C: Palette + Default + sentio_hal::color::ToRgb888,
{
    let mut d = SimDisplay::<C>::new(panel.width, panel.height);
    SketchScreen::new(panel, C::LARGE)
        .draw(&mut d, view)
        .unwrap();
    d
}

#[test]
fn a_recognised_emoji_with_its_caption_matches_golden() {
    let colour = render::<Rgb565>(SQUARE, &winking());
    assert_golden("sketch_240x240_winking", &colour.to_rgb_image());
    let mono = render::<BinaryColor>(OLED, &winking());
    assert_golden("sketch_128x64_winking", &mono.to_rgb_image());
}

#[test]
fn the_hints_match_golden() {
    for (name, state, touch) in [
        ("no_card", SketchState::NoCard, false),
        ("two_cards", SketchState::TwoCards, false),
        ("draw", SketchState::Waiting, true),
    ] {
        let view = SketchView {
            state,
            touch,
            caption: None,
        };
        let colour = render::<Rgb565>(SQUARE, &view);
        assert_golden(&format!("sketch_240x240_{name}"), &colour.to_rgb_image());
        let mono = render::<BinaryColor>(OLED, &view);
        assert_golden(&format!("sketch_128x64_{name}"), &mono.to_rgb_image());
    }
}

#[test]
fn the_eight_emoji_are_eight_different_drawings() {
    let mut seen = HashSet::new();
    for index in 0..8 {
        let mut d = SimDisplay::<Rgb565>::new(100, 100);
        draw_emoji_face(&mut d, index, None, Point::new(50, 50), 90).unwrap();
        assert!(
            seen.insert(d.to_rgb_image().into_raw()),
            "emoji {index} repeats one before it"
        );
    }
}
