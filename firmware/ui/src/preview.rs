//! The first device screen: the camera preview, a microphone level meter and live timings.

use core::fmt::Write as _;

use embedded_graphics::mono_font::MonoTextStyle;
use embedded_graphics::mono_font::ascii::{FONT_4X6, FONT_6X10};
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{PrimitiveStyle, Rectangle};
use embedded_graphics::text::{Baseline, Text};
use sentio_hal::{Frame, PanelColor};

use crate::Palette;

/// Lowest level the meter shows; anything quieter is an empty bar.
const METER_FLOOR_DB: f32 = -60.0;
/// Levels above these are drawn in the mid and high colours.
const METER_MID_DB: f32 = -18.0;
const METER_HIGH_DB: f32 = -6.0;

/// What the status area shows, measured by the caller.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PreviewStats {
    /// Frame number (from 0).
    pub frame: u64,
    /// Frames per second over the last measuring window.
    pub fps: f32,
    /// Microphone level of the audio that came with this frame, dBFS.
    pub level_dbfs: f32,
    /// Mean milliseconds per frame spent in each stage over the last window.
    pub capture_ms: f32,
    pub audio_ms: f32,
    pub draw_ms: f32,
    pub flush_ms: f32,
}

/// A face to mark on the preview: its box in camera pixels and, once the expression model has
/// run, the top label and its confidence.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaceOverlay<'a> {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    pub label: Option<(&'a str, f32)>,
}

/// Where each part of the preview screen goes on a panel of a given size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreviewLayout {
    /// The area the camera picture is fitted into (letterboxed).
    pub picture_area: Rectangle,
    /// The camera picture itself, for the camera's aspect ratio.
    pub picture: Rectangle,
    /// The level meter bar.
    pub meter: Rectangle,
    /// The status area (text and meter).
    pub status: Rectangle,
    /// True when the status area is beside the picture (wide panels) rather than below it.
    pub side_by_side: bool,
}

impl PreviewLayout {
    /// Lays out a panel of `panel` size for a camera of `camera_w` x `camera_h`. Panels at
    /// least 1.6 times as wide as tall (128x64 OLEDs) put the status beside the picture; the
    /// others (240x240, 240x320, 320x240) put it below.
    pub fn new(panel: Size, camera_w: u32, camera_h: u32, large_font: bool) -> Self {
        let (w, h) = (panel.width, panel.height);
        let side_by_side = w * 10 >= h * 16;
        let (picture_area, status, meter) = if side_by_side {
            let status_w = (w / 3).clamp(24.min(w), 48);
            let area = Rectangle::new(Point::zero(), Size::new(w - status_w, h));
            let status =
                Rectangle::new(Point::new((w - status_w) as i32, 0), Size::new(status_w, h));
            // A vertical meter down the right edge of the status area, below two text lines.
            let text_h = if large_font { 24 } else { 14 };
            let meter = Rectangle::new(
                Point::new((w - 8) as i32, text_h as i32),
                Size::new(6, h.saturating_sub(text_h + 2)),
            );
            (area, status, meter)
        } else {
            let status_h = if large_font { 60 } else { 24 }.min(h / 2);
            let area = Rectangle::new(Point::zero(), Size::new(w, h - status_h));
            let status =
                Rectangle::new(Point::new(0, (h - status_h) as i32), Size::new(w, status_h));
            let char_w = if large_font { 6 } else { 4 };
            let label_w = 12 * char_w; // "MIC -23.4 dB"
            let meter = Rectangle::new(
                Point::new(label_w as i32 + 6, status.top_left.y + 4),
                Size::new(
                    w.saturating_sub(label_w + 10),
                    if large_font { 10 } else { 5 },
                ),
            );
            (area, status, meter)
        };
        let picture = fit(picture_area, camera_w.max(1), camera_h.max(1));
        PreviewLayout {
            picture_area,
            picture,
            meter,
            status,
            side_by_side,
        }
    }
}

/// The largest rectangle of aspect `cw:ch` inside `area`, centred horizontally, at the top.
fn fit(area: Rectangle, cw: u32, ch: u32) -> Rectangle {
    let (aw, ah) = (area.size.width, area.size.height);
    let (w, h) = if u64::from(aw) * u64::from(ch) <= u64::from(ah) * u64::from(cw) {
        (aw, (u64::from(aw) * u64::from(ch) / u64::from(cw)) as u32)
    } else {
        ((u64::from(ah) * u64::from(cw) / u64::from(ch)) as u32, ah)
    };
    let x = area.top_left.x + ((aw - w) / 2) as i32;
    Rectangle::new(Point::new(x, area.top_left.y), Size::new(w, h))
}

/// Draws `frame` scaled (nearest neighbour) into `dest`.
pub fn draw_frame_scaled<D>(
    target: &mut D,
    frame: &Frame<'_>,
    dest: Rectangle,
) -> Result<(), D::Error>
where
    D: DrawTarget,
    D::Color: Palette,
{
    let (dw, dh) = (dest.size.width, dest.size.height);
    if dw == 0 || dh == 0 || frame.width == 0 || frame.height == 0 {
        return Ok(());
    }
    // Source column of each destination column, sampled at pixel centres.
    let xs: Vec<u32> = (0..dw)
        .map(|x| ((2 * x + 1) * frame.width / (2 * dw)).min(frame.width - 1))
        .collect();
    let x0 = dest.top_left.x.max(0) as u32;
    let y0 = dest.top_left.y.max(0) as u32;
    let colors = (0..dh).flat_map(|y| {
        let sy = ((2 * y + 1) * frame.height / (2 * dh)).min(frame.height - 1);
        xs.iter()
            .enumerate()
            .map(move |(x, &sx)| D::Color::from_rgb(frame.rgb(sx, sy), x0 + x as u32, y0 + y))
    });
    target.fill_contiguous(&dest, colors)
}

/// The preview screen for one panel size and camera.
pub struct PreviewScreen {
    layout: PreviewLayout,
    text: heapless_string::Line,
}

impl PreviewScreen {
    pub fn new(panel: Size, camera_w: u32, camera_h: u32, large_font: bool) -> Self {
        PreviewScreen {
            layout: PreviewLayout::new(panel, camera_w, camera_h, large_font),
            text: heapless_string::Line::new(),
        }
    }

    pub fn layout(&self) -> &PreviewLayout {
        &self.layout
    }

    /// Draws the whole screen: picture, letterbox, meter and status text.
    pub fn draw<D>(
        &mut self,
        target: &mut D,
        frame: &Frame<'_>,
        stats: &PreviewStats,
    ) -> Result<(), D::Error>
    where
        D: DrawTarget,
        D::Color: Palette,
    {
        let l = self.layout;
        // Letterbox bands around the picture.
        for band in letterbox(l.picture_area, l.picture) {
            target.fill_solid(&band, D::Color::BACKGROUND)?;
        }
        draw_frame_scaled(target, frame, l.picture)?;
        target.fill_solid(&l.status, D::Color::BACKGROUND)?;
        self.draw_meter(target, stats.level_dbfs)?;
        self.draw_status_text(target, stats)
    }

    /// Marks a face on the picture drawn by [`draw`](Self::draw): its box, and the top label
    /// with its confidence (above the box on colour panels, in the status column on 128x64).
    pub fn draw_face<D>(
        &mut self,
        target: &mut D,
        camera_w: u32,
        camera_h: u32,
        face: &FaceOverlay<'_>,
    ) -> Result<(), D::Error>
    where
        D: DrawTarget,
        D::Color: Palette,
    {
        let pic = self.layout.picture;
        if camera_w == 0 || camera_h == 0 || pic.size.width == 0 || pic.size.height == 0 {
            return Ok(());
        }
        let sx = pic.size.width as f32 / camera_w as f32;
        let sy = pic.size.height as f32 / camera_h as f32;
        let (x0, y0) = (pic.top_left.x as f32, pic.top_left.y as f32);
        let (px1, py1) = (
            x0 + pic.size.width as f32 - 1.0,
            y0 + pic.size.height as f32 - 1.0,
        );
        let left = (x0 + face.x * sx).round().clamp(x0, px1);
        let top = (y0 + face.y * sy).round().clamp(y0, py1);
        let right = (x0 + (face.x + face.w) * sx).round().clamp(x0, px1);
        let bottom = (y0 + (face.y + face.h) * sy).round().clamp(y0, py1);
        let large = D::Color::LARGE;
        let rect = Rectangle::with_corners(
            Point::new(left as i32, top as i32),
            Point::new(right as i32, bottom as i32),
        );
        rect.into_styled(PrimitiveStyle::with_stroke(
            D::Color::FACE,
            if large { 2 } else { 1 },
        ))
        .draw(target)?;
        let Some((label, score)) = face.label else {
            return Ok(());
        };
        self.text.clear();
        if large {
            _ = write!(self.text, "{label} {:.0}%", score * 100.0);
            let style = MonoTextStyle::new(&FONT_6X10, D::Color::BACKGROUND);
            let w = 6 * self.text.as_str().len() as u32 + 4;
            let ty = if top as i32 - 12 >= pic.top_left.y {
                top as i32 - 12
            } else {
                (bottom as i32 + 1).min(pic.top_left.y + pic.size.height as i32 - 12)
            };
            let tx = (left as i32).min(pic.top_left.x + pic.size.width as i32 - w as i32);
            let band = Rectangle::new(Point::new(tx, ty), Size::new(w, 12));
            target.fill_solid(&band, D::Color::FACE)?;
            Text::with_baseline(
                self.text.as_str(),
                Point::new(tx + 2, ty + 1),
                style,
                Baseline::Top,
            )
            .draw(target)?;
        } else {
            // 128x64: the status column's third line, four letters and the percentage.
            let short: String = label.chars().take(4).collect();
            _ = write!(self.text, "{short}{:.0}", score * 100.0);
            let style = MonoTextStyle::new(&FONT_4X6, D::Color::TEXT);
            let st = self.layout.status;
            let at = Point::new(st.top_left.x + 2, st.top_left.y + 3 + 2 * 7);
            Text::with_baseline(self.text.as_str(), at, style, Baseline::Top).draw(target)?;
        }
        Ok(())
    }

    fn draw_meter<D>(&self, target: &mut D, dbfs: f32) -> Result<(), D::Error>
    where
        D: DrawTarget,
        D::Color: Palette,
    {
        let m = self.layout.meter;
        let vertical = self.layout.side_by_side;
        let length = if vertical {
            m.size.height
        } else {
            m.size.width
        };
        if length == 0 {
            return Ok(());
        }
        let fraction = ((dbfs - METER_FLOOR_DB) / -METER_FLOOR_DB).clamp(0.0, 1.0);
        let lit = (fraction * length as f32).round() as u32;
        // Outline for mono panels (whose DIM is off), track for colour ones.
        target.fill_solid(&m, D::Color::DIM)?;
        if D::Color::DIM == D::Color::BACKGROUND {
            m.into_styled(PrimitiveStyle::with_stroke(D::Color::TEXT, 1))
                .draw(target)?;
        }
        // Draw the lit part in up to three colour segments.
        let db_at = |i: u32| METER_FLOOR_DB + (i as f32 + 0.5) / length as f32 * -METER_FLOOR_DB;
        let mut start = 0;
        while start < lit {
            let color = segment_color::<D::Color>(db_at(start));
            let mut end = start + 1;
            while end < lit && segment_color::<D::Color>(db_at(end)) == color {
                end += 1;
            }
            let seg = if vertical {
                // Grows upward from the bottom.
                let bottom = m.top_left.y + m.size.height as i32;
                Rectangle::new(
                    Point::new(m.top_left.x, bottom - end as i32),
                    Size::new(m.size.width, end - start),
                )
            } else {
                Rectangle::new(
                    Point::new(m.top_left.x + start as i32, m.top_left.y),
                    Size::new(end - start, m.size.height),
                )
            };
            target.fill_solid(&seg, color)?;
            start = end;
        }
        Ok(())
    }

    fn draw_status_text<D>(&mut self, target: &mut D, s: &PreviewStats) -> Result<(), D::Error>
    where
        D: DrawTarget,
        D::Color: Palette,
    {
        let large = D::Color::LARGE;
        let style = if large {
            MonoTextStyle::new(&FONT_6X10, D::Color::TEXT)
        } else {
            MonoTextStyle::new(&FONT_4X6, D::Color::TEXT)
        };
        let line_h = if large { 12 } else { 7 };
        let st = self.layout.status;
        let x = st.top_left.x + 2;
        let mut y = st.top_left.y + 3;
        let level = s.level_dbfs.max(-96.0);
        let lines: [&dyn Fn(&mut heapless_string::Line); 4] = if self.layout.side_by_side {
            [
                &|t| _ = write!(t, "{:.0}fps", s.fps),
                &|t| _ = write!(t, "{level:.0}dB"),
                &|_| {},
                &|_| {},
            ]
        } else {
            [
                &|t| _ = write!(t, "MIC{level:6.1} dB"),
                &|t| _ = write!(t, "{:.1} fps   frame {}", s.fps, s.frame),
                &|t| {
                    _ = write!(
                        t,
                        "ms cap {:.1} aud {:.1} drw {:.1} out {:.1}",
                        s.capture_ms, s.audio_ms, s.draw_ms, s.flush_ms
                    )
                },
                &|_| {},
            ]
        };
        for (i, line) in lines.iter().enumerate() {
            self.text.clear();
            line(&mut self.text);
            if self.text.as_str().is_empty() {
                continue;
            }
            // In the stacked layout the meter shares the first line with the level label.
            if !self.layout.side_by_side && i == 1 {
                y = self.layout.meter.top_left.y + self.layout.meter.size.height as i32 + 4;
            }
            Text::with_baseline(self.text.as_str(), Point::new(x, y), style, Baseline::Top)
                .draw(target)?;
            y += line_h;
        }
        Ok(())
    }
}

fn segment_color<C: Palette>(db: f32) -> C {
    if db >= METER_HIGH_DB {
        C::LEVEL_HIGH
    } else if db >= METER_MID_DB {
        C::LEVEL_MID
    } else {
        C::LEVEL_LOW
    }
}

/// The parts of `area` not covered by `inner` (at most four bands).
fn letterbox(area: Rectangle, inner: Rectangle) -> impl Iterator<Item = Rectangle> {
    let (ax0, ay0) = (area.top_left.x, area.top_left.y);
    let (ax1, ay1) = (ax0 + area.size.width as i32, ay0 + area.size.height as i32);
    let (ix0, iy0) = (inner.top_left.x, inner.top_left.y);
    let (ix1, iy1) = (
        ix0 + inner.size.width as i32,
        iy0 + inner.size.height as i32,
    );
    let rect = |x0: i32, y0: i32, x1: i32, y1: i32| {
        (x1 > x0 && y1 > y0).then(|| {
            Rectangle::new(
                Point::new(x0, y0),
                Size::new((x1 - x0) as u32, (y1 - y0) as u32),
            )
        })
    };
    [
        rect(ax0, ay0, ax1, iy0),
        rect(ax0, iy1, ax1, ay1),
        rect(ax0, iy0, ix0, iy1),
        rect(ix1, iy0, ax1, iy1),
    ]
    .into_iter()
    .flatten()
}

/// A fixed-capacity text line, so drawing a frame allocates nothing.
mod heapless_string {
    pub struct Line {
        buf: [u8; 64],
        len: usize,
    }

    impl Line {
        pub fn new() -> Self {
            Line {
                buf: [0; 64],
                len: 0,
            }
        }
        pub fn clear(&mut self) {
            self.len = 0;
        }
        pub fn as_str(&self) -> &str {
            // Only whole UTF-8 strings are ever appended (see write_str), so this cannot fail.
            core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
        }
    }

    impl core::fmt::Write for Line {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let end = self.len + s.len();
            if end > self.buf.len() {
                return Err(core::fmt::Error);
            }
            self.buf[self.len..end].copy_from_slice(s.as_bytes());
            self.len = end;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_graphics::pixelcolor::{BinaryColor, Rgb565};
    use sentio_hal::PixelFormat;
    use sentio_hal::sim::SimDisplay;

    fn frame(data: &[u8], w: u32, h: u32) -> Frame<'_> {
        Frame {
            width: w,
            height: h,
            pixel_format: PixelFormat::Rgb888,
            data,
            timestamp: Default::default(),
            sequence: 0,
        }
    }

    #[test]
    fn square_panel_stacks_picture_over_status() {
        let l = PreviewLayout::new(Size::new(240, 240), 640, 480, true);
        assert!(!l.side_by_side);
        assert_eq!(
            l.picture,
            Rectangle::new(Point::new(0, 0), Size::new(240, 180))
        );
        assert_eq!(l.status.top_left.y, 180);
    }

    #[test]
    fn wide_oled_puts_status_beside_picture() {
        let l = PreviewLayout::new(Size::new(128, 64), 640, 480, false);
        assert!(l.side_by_side);
        assert_eq!(l.picture.size, Size::new(85, 64));
        assert!(l.status.top_left.x >= 85);
    }

    #[test]
    fn scaling_maps_quadrants() {
        // 2x2 source: red, green / blue, white -> 4x4 destination quadrants.
        let src = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255];
        let f = frame(&src, 2, 2);
        let mut d = SimDisplay::<Rgb565>::new(4, 4);
        draw_frame_scaled(&mut d, &f, Rectangle::new(Point::zero(), Size::new(4, 4))).unwrap();
        assert_eq!(d.pixel(0, 0), Some(Rgb565::RED));
        assert_eq!(d.pixel(3, 1), Some(Rgb565::GREEN));
        assert_eq!(d.pixel(1, 3), Some(Rgb565::BLUE));
        assert_eq!(d.pixel(3, 3), Some(Rgb565::WHITE));
    }

    #[test]
    fn meter_length_follows_level() {
        let src = [0u8; 3 * 4 * 3];
        let f = frame(&src, 4, 3);
        let lit_at = |dbfs: f32| {
            let mut d = SimDisplay::<Rgb565>::new(240, 240);
            let mut s = PreviewScreen::new(Size::new(240, 240), 4, 3, true);
            s.draw(
                &mut d,
                &f,
                &PreviewStats {
                    level_dbfs: dbfs,
                    ..Default::default()
                },
            )
            .unwrap();
            let m = s.layout().meter;
            let y = (m.top_left.y + 2) as u32;
            (m.top_left.x as u32..m.top_left.x as u32 + m.size.width)
                .filter(|&x| d.pixel(x, y) != Some(Rgb565::DIM))
                .count() as f32
                / m.size.width as f32
        };
        assert_eq!(lit_at(-96.0), 0.0);
        assert!((lit_at(-30.0) - 0.5).abs() < 0.01);
        assert_eq!(lit_at(0.0), 1.0);
    }

    #[test]
    fn mono_panel_draws_text_and_picture() {
        let src = vec![255u8; 3 * 16 * 12];
        let f = frame(&src, 16, 12);
        let mut d = SimDisplay::<BinaryColor>::new(128, 64);
        let mut s = PreviewScreen::new(Size::new(128, 64), 16, 12, false);
        s.draw(
            &mut d,
            &f,
            &PreviewStats {
                fps: 15.0,
                level_dbfs: -20.0,
                ..Default::default()
            },
        )
        .unwrap();
        // White picture is all on; the status area has some lit text pixels.
        assert_eq!(d.pixel(10, 10), Some(BinaryColor::On));
        let st = s.layout().status;
        let lit = (st.top_left.x as u32..128)
            .flat_map(|x| (0..20).map(move |y| (x, y)))
            .filter(|&(x, y)| d.pixel(x, y) == Some(BinaryColor::On))
            .count();
        assert!(lit > 20, "{lit}");
    }
}
