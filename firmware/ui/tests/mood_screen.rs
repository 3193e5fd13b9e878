//! The mood screen: golden images of every mood on a 240x240 RGB565 panel and a 128x64 OLED
//! (plus the no-mood and paused states), and behaviour tests that do not depend on the goldens.
//!
//! On a golden mismatch the test writes `<name>.actual.png` and `<name>.diff.png` beside the
//! golden file. `SENTIO_BLESS=1 cargo test -p sentio-ui --test mood_screen` rewrites the goldens.

use std::collections::HashSet;

use embedded_graphics::Pixel;
use embedded_graphics::pixelcolor::{BinaryColor, Rgb565};
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::Rectangle;
use sentio_hal::sim::SimDisplay;

mod common;
use common::assert_golden;
use sentio_mood::Mood;
use sentio_ui::{MoodScreen, MoodView, Palette, draw_mood_face};

const SQUARE: Size = Size::new(240, 240);
const WIDE: Size = Size::new(320, 240);
const OLED: Size = Size::new(128, 64);

fn view(mood: Option<Mood>) -> MoodView<'static> {
    MoodView {
        mood,
        confidence: 0.87,
        face: Some(0.82),
        voice: Some(0.46),
        track: Some("Clair de Lune"),
        camera_on: true,
        mic_on: true,
        fps: 15.0,
    }
}

fn no_one() -> MoodView<'static> {
    MoodView {
        mood: None,
        confidence: 0.0,
        face: None,
        voice: None,
        track: None,
        camera_on: true,
        mic_on: true,
        fps: 15.0,
    }
}

fn paused() -> MoodView<'static> {
    MoodView {
        camera_on: false,
        mic_on: false,
        track: Some("Rain on a tin roof"),
        fps: 14.6,
        ..no_one()
    }
}

fn render<C>(panel: Size, v: &MoodView<'_>) -> SimDisplay<C>
where
    C: Palette + Default + sentio_hal::color::ToRgb888,
{
    let mut d = SimDisplay::<C>::new(panel.width, panel.height);
    MoodScreen::new(panel, C::LARGE).draw(&mut d, v).unwrap();
    d
}

#[test]
fn every_mood_on_the_colour_panel_matches_golden() {
    for mood in Mood::ALL {
        let d = render::<Rgb565>(SQUARE, &view(Some(mood)));
        assert_golden(&format!("mood_240x240_{mood}"), &d.to_rgb_image());
    }
}

#[test]
fn every_mood_on_the_mono_panel_matches_golden() {
    for mood in Mood::ALL {
        let d = render::<BinaryColor>(OLED, &view(Some(mood)));
        let img = d.to_rgb_image();
        assert!(
            img.pixels()
                .all(|p| p.0 == [0, 0, 0] || p.0 == [255, 255, 255])
        );
        assert_golden(&format!("mood_128x64_{mood}"), &img);
    }
}

#[test]
fn no_one_and_paused_states_match_golden() {
    for (state, v) in [("no_one", no_one()), ("paused", paused())] {
        let d = render::<Rgb565>(SQUARE, &v);
        assert_golden(&format!("mood_240x240_{state}"), &d.to_rgb_image());
        let d = render::<BinaryColor>(OLED, &v);
        assert_golden(&format!("mood_128x64_{state}"), &d.to_rgb_image());
    }
}

#[test]
fn wide_colour_panel_matches_golden() {
    let v = MoodView {
        voice: None,
        ..view(Some(Mood::Surprised))
    };
    let d = render::<Rgb565>(WIDE, &v);
    assert_golden("mood_320x240_surprised", &d.to_rgb_image());
}

/// The pixels of a face drawn alone, as a set of (x, y, colour) so two faces can be compared.
fn face_pixels<C>(mood: Mood, size: u32) -> HashSet<(u32, u32, C)>
where
    C: Palette + Default + sentio_hal::color::ToRgb888 + std::hash::Hash + Eq,
{
    let mut d = SimDisplay::<C>::new(size, size);
    let c = (size / 2) as i32;
    draw_mood_face(&mut d, mood, Point::new(c, c), size - 4).unwrap();
    (0..size)
        .flat_map(|y| (0..size).map(move |x| (x, y)))
        .filter_map(|(x, y)| d.pixel(x, y).map(|p| (x, y, p)))
        .collect()
}

fn raw(c: Rgb565) -> u16 {
    embedded_graphics::pixelcolor::raw::RawU16::from(c).into_inner()
}

#[test]
fn the_seven_moods_draw_seven_different_faces() {
    // Colour, at the 240x240 screen's size, and mono, at the OLED's: every pair differs in a
    // good part of the face, not in a stray pixel.
    let colour: Vec<HashSet<(u32, u32, u16)>> = Mood::ALL
        .iter()
        .map(|&m| {
            face_pixels::<Rgb565>(m, 150)
                .into_iter()
                .map(|(x, y, c)| (x, y, raw(c)))
                .collect()
        })
        .collect();
    let mono: Vec<HashSet<(u32, u32, bool)>> = Mood::ALL
        .iter()
        .map(|&m| {
            face_pixels::<BinaryColor>(m, 64)
                .into_iter()
                .map(|(x, y, c)| (x, y, c.is_on()))
                .collect()
        })
        .collect();
    for i in 0..Mood::COUNT {
        for j in i + 1..Mood::COUNT {
            let (a, b) = (Mood::ALL[i], Mood::ALL[j]);
            let differ = colour[i].symmetric_difference(&colour[j]).count() / 2;
            assert!(differ > 1000, "{a} and {b}: {differ} pixels differ");
            // Mono faces are all lit discs: the features alone must tell them apart.
            let differ = mono[i].symmetric_difference(&mono[j]).count() / 2;
            assert!(differ > 40, "mono {a} and {b}: {differ} pixels differ");
        }
    }
}

#[test]
fn faces_are_large_on_the_colour_panel() {
    let screen = MoodScreen::new(SQUARE, true);
    assert!(
        screen.layout().face.diameter >= 110,
        "{:?}",
        screen.layout()
    );
    let d = render::<Rgb565>(SQUARE, &view(Some(Mood::Happy)));
    let face = <Rgb565 as Palette>::mood(Mood::Happy);
    let xs: Vec<u32> = (0..240)
        .flat_map(|y| (0..240).map(move |x| (x, y)))
        .filter(|&(x, y)| d.pixel(x, y) == Some(face))
        .map(|(x, _)| x)
        .collect();
    let width = xs.iter().max().unwrap() - xs.iter().min().unwrap() + 1;
    assert!(width >= 110, "happy face is {width} px across");
}

/// How many pixels of the bar's middle row are filled (in `fill`, or lit inside the outline).
fn filled<C: Palette + Default + sentio_hal::color::ToRgb888>(
    panel: Size,
    v: f32,
    voice: bool,
    fill: C,
) -> (u32, u32) {
    let v = MoodView {
        face: Some(v),
        voice: Some(v),
        ..view(Some(Mood::Calm))
    };
    let d = render::<C>(panel, &v);
    let screen = MoodScreen::new(panel, C::LARGE);
    let l = screen.layout();
    let bar = if voice { l.voice_bar } else { l.face_bar };
    let y = (bar.top_left.y + bar.size.height as i32 / 2) as u32;
    let x0 = bar.top_left.x as u32;
    let (from, to) = if C::DIM == C::BACKGROUND {
        (x0 + 1, x0 + bar.size.width - 1) // inside the outline
    } else {
        (x0, x0 + bar.size.width)
    };
    let n = (from..to).filter(|&x| d.pixel(x, y) == Some(fill)).count() as u32;
    (n, to - from)
}

#[test]
fn the_confidence_bars_fill_with_confidence() {
    for voice in [false, true] {
        let colour = if voice {
            <Rgb565 as Palette>::VOICE
        } else {
            <Rgb565 as Palette>::FACE
        };
        for (panel, mono) in [(SQUARE, false), (WIDE, false), (OLED, true)] {
            let lengths: Vec<(u32, u32)> = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
                .iter()
                .map(|&v| {
                    if mono {
                        filled::<BinaryColor>(panel, v, voice, BinaryColor::On)
                    } else {
                        filled::<Rgb565>(panel, v, voice, colour)
                    }
                })
                .collect();
            let (first, last) = (lengths[0], lengths[lengths.len() - 1]);
            assert!(
                lengths.windows(2).all(|w| w[1].0 > w[0].0),
                "{panel:?} voice={voice}: {lengths:?}"
            );
            assert!(first.0 <= 1, "{panel:?}: {lengths:?}");
            assert!(last.0 + 1 >= last.1, "{panel:?}: {lengths:?}");
        }
    }
}

#[test]
fn a_missing_modality_draws_an_empty_bar() {
    let v = MoodView {
        face: None,
        ..view(Some(Mood::Sad))
    };
    let d = render::<Rgb565>(SQUARE, &v);
    let l = *MoodScreen::new(SQUARE, true).layout();
    let bar = l.face_bar;
    let in_bar = |c: Rgb565| {
        (bar.top_left.x as u32..bar.top_left.x as u32 + bar.size.width)
            .flat_map(|x| {
                (bar.top_left.y as u32..bar.top_left.y as u32 + bar.size.height)
                    .map(move |y| (x, y))
            })
            .filter(|&(x, y)| d.pixel(x, y) == Some(c))
            .count()
    };
    assert_eq!(in_bar(<Rgb565 as Palette>::FACE), 0);
    assert_eq!(
        in_bar(<Rgb565 as Palette>::DIM) as u32,
        bar.size.width * bar.size.height
    );
}

/// A panel that records every pixel drawn outside it (`SimDisplay` clips silently).
struct Strict {
    size: Size,
    outside: Vec<Point>,
    drawn: usize,
}

impl OriginDimensions for Strict {
    fn size(&self) -> Size {
        self.size
    }
}

impl DrawTarget for Strict {
    type Color = Rgb565;
    type Error = core::convert::Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Rgb565>>,
    {
        for Pixel(p, _) in pixels {
            self.drawn += 1;
            let (w, h) = (self.size.width as i32, self.size.height as i32);
            if !(0..w).contains(&p.x) || !(0..h).contains(&p.y) {
                self.outside.push(p);
            }
        }
        Ok(())
    }
}

/// The same for a mono panel.
struct StrictMono(Strict);

impl OriginDimensions for StrictMono {
    fn size(&self) -> Size {
        self.0.size
    }
}

impl DrawTarget for StrictMono {
    type Color = BinaryColor;
    type Error = core::convert::Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<BinaryColor>>,
    {
        self.0.draw_iter(
            pixels
                .into_iter()
                .map(|Pixel(p, _)| Pixel(p, Rgb565::WHITE)),
        )
    }
}

fn within(r: &Rectangle, panel: Size) -> bool {
    r.size.width == 0
        || r.size.height == 0
        || (r.top_left.x >= 0
            && r.top_left.y >= 0
            && r.top_left.x as u32 + r.size.width <= panel.width
            && r.top_left.y as u32 + r.size.height <= panel.height)
}

#[test]
fn nothing_is_drawn_outside_the_panel() {
    let long = "A very long title that goes on and on and on: Symphony No. 9 in D minor, Op. 125";
    let mut views = vec![no_one(), paused()];
    for mood in Mood::ALL {
        views.push(MoodView {
            track: Some(long),
            confidence: 1.0,
            face: Some(1.0),
            voice: Some(f32::NAN),
            fps: 1234.5,
            ..view(Some(mood))
        });
    }
    let sizes = [
        (240, 240),
        (320, 240),
        (240, 320),
        (128, 64),
        (128, 32),
        (96, 64),
        (64, 64),
        (64, 48),
        (160, 80),
        (480, 320),
        (20, 10),
        (1, 1),
        (0, 0),
    ];
    for (w, h) in sizes {
        let panel = Size::new(w, h);
        for large in [true, false] {
            let screen = MoodScreen::new(panel, large);
            let l = *screen.layout();
            let mut rects = vec![
                l.face_area,
                l.face.bounding_box(),
                l.status,
                l.name,
                l.face_row,
                l.face_bar,
                l.voice_row,
                l.voice_bar,
            ];
            rects.extend(l.track);
            for r in &rects {
                assert!(within(r, panel), "{w}x{h} large={large}: {r:?} in {l:?}");
            }
        }
        for v in &views {
            let mut d = Strict {
                size: panel,
                outside: Vec::new(),
                drawn: 0,
            };
            MoodScreen::new(panel, true).draw(&mut d, v).unwrap();
            assert!(
                d.outside.is_empty(),
                "{w}x{h}: {:?}",
                &d.outside[..5.min(d.outside.len())]
            );
            let mut d = StrictMono(Strict {
                size: panel,
                outside: Vec::new(),
                drawn: 0,
            });
            MoodScreen::new(panel, false).draw(&mut d, v).unwrap();
            assert!(
                d.0.outside.is_empty(),
                "mono {w}x{h}: {:?}",
                &d.0.outside[..5.min(d.0.outside.len())]
            );
        }
    }
}

#[test]
fn a_long_track_title_is_cut_to_its_line() {
    let long = "Très long titre — Symphonie n° 9 en ré mineur, op. 125, « An die Freude », finale";
    for panel in [SQUARE, WIDE, OLED] {
        let large = panel != OLED;
        let l = *MoodScreen::new(panel, large).layout();
        let track = l.track.expect("the track line fits on these panels");
        let render_track = |title: &str| -> Vec<bool> {
            let v = MoodView {
                track: Some(title),
                ..view(Some(Mood::Happy))
            };
            let img = if large {
                render::<Rgb565>(panel, &v).to_rgb_image()
            } else {
                render::<BinaryColor>(panel, &v).to_rgb_image()
            };
            (track.top_left.y as u32..track.top_left.y as u32 + track.size.height)
                .flat_map(|y| (0..panel.width).map(move |x| (x, y)))
                .map(|(x, y)| img.get_pixel(x, y).0 != [0, 0, 0])
                .collect()
        };
        let pixels = render_track(long);
        let right = (track.top_left.x as u32 + track.size.width) as usize;
        let w = panel.width as usize;
        // Nothing to the right of the track line...
        for (i, &on) in pixels.iter().enumerate() {
            assert!(
                !on || i % w < right,
                "{panel:?}: lit at x={} right of {right}",
                i % w
            );
        }
        // ...and the line is used up to near its end, ending in "..." (three dots).
        let last_lit = pixels
            .iter()
            .enumerate()
            .filter(|&(_, &on)| on)
            .map(|(i, _)| i % w)
            .max()
            .unwrap();
        let cw = if large { 6 } else { 4 };
        assert!(
            last_lit + 2 * cw >= right,
            "{panel:?}: last lit x {last_lit}, line ends {right}"
        );
        // A short title is drawn whole and differs from the long one.
        assert_ne!(render_track("Short"), pixels);
    }
}

#[test]
fn paused_sensing_shows_hollow_indicators() {
    let on = render::<Rgb565>(SQUARE, &view(Some(Mood::Calm)));
    let off = render::<Rgb565>(
        SQUARE,
        &MoodView {
            camera_on: false,
            mic_on: false,
            ..view(Some(Mood::Calm))
        },
    );
    let red = <Rgb565 as Palette>::SENSING;
    let count = |d: &SimDisplay<Rgb565>| d.pixels().iter().filter(|&&p| p == red).count();
    assert!(count(&on) >= 2 * 40, "two filled red dots: {}", count(&on));
    assert_eq!(count(&off), 0);
    // On the OLED the dots go from filled to rings: fewer lit pixels in the status area.
    let lit = |v: &MoodView<'_>| {
        let d = render::<BinaryColor>(OLED, v);
        let s = MoodScreen::new(OLED, false).layout().status;
        s.points()
            .filter(|p| d.pixel(p.x as u32, p.y as u32) == Some(BinaryColor::On))
            .count()
    };
    let paused = MoodView {
        camera_on: false,
        mic_on: false,
        ..view(Some(Mood::Calm))
    };
    assert!(lit(&paused) < lit(&view(Some(Mood::Calm))));
}

#[test]
fn without_a_mood_the_screen_says_why() {
    // No one seen or heard, someone seen but no mood decided yet, sensing paused: three
    // different texts under the same empty face.
    let waiting = MoodView {
        face: Some(0.4),
        ..no_one()
    };
    let a = render::<Rgb565>(SQUARE, &no_one());
    let b = render::<Rgb565>(SQUARE, &waiting);
    let c = render::<Rgb565>(
        SQUARE,
        &MoodView {
            track: None,
            ..paused()
        },
    );
    let name = MoodScreen::new(SQUARE, true).layout().name;
    let text = |d: &SimDisplay<Rgb565>| -> Vec<Rgb565> {
        name.points()
            .filter_map(|p| d.pixel(p.x as u32, p.y as u32))
            .collect()
    };
    assert_ne!(text(&a), text(&b));
    assert_ne!(text(&a), text(&c));
    assert_ne!(text(&b), text(&c));
    // The face area is the same empty outline in all three.
    let face = MoodScreen::new(SQUARE, true).layout().face.bounding_box();
    let area = |d: &SimDisplay<Rgb565>| -> Vec<Rgb565> {
        face.points()
            .filter_map(|p| d.pixel(p.x as u32, p.y as u32))
            .collect()
    };
    assert_eq!(area(&a), area(&b));
    assert_eq!(area(&a), area(&c));
}
