//! The mood screen: the fused mood as a drawn face, its confidence, the face and voice
//! confidences, the track playing, the camera and microphone privacy indicators and the fps.
//!
//! Everything is drawn with embedded-graphics primitives (no bitmaps), so the faces scale from a
//! 240x240 colour panel down to a 128x64 OLED with the same code. Drawing allocates nothing.

use core::fmt::Write as _;

use embedded_graphics::mono_font::ascii::{FONT_4X6, FONT_6X10, FONT_10X20};
use embedded_graphics::mono_font::{MonoFont, MonoTextStyle};
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{
    Arc, Circle, Ellipse, Line, Polyline, PrimitiveStyle, PrimitiveStyleBuilder, Rectangle, Sector,
    StrokeAlignment, Triangle,
};
use embedded_graphics::text::{Baseline, Text};
use sentio_mood::Mood;

use crate::Palette;

/// What the mood screen shows. The caller fills it from the fused mood, the per-modality
/// results, the player and the sensing switches.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MoodView<'a> {
    /// The fused mood, or `None` while there is none yet (no one seen or heard, or still
    /// deciding).
    pub mood: Option<Mood>,
    /// Confidence of `mood`, 0..1.
    pub confidence: f32,
    /// Confidence of the face (expression) result, 0..1, or `None` when no face is seen.
    pub face: Option<f32>,
    /// Confidence of the voice (speech emotion) result, 0..1, or `None` when there is no speech.
    pub voice: Option<f32>,
    /// Title of the track playing, if any.
    pub track: Option<&'a str>,
    /// The camera is sensing (false: paused by the user).
    pub camera_on: bool,
    /// The microphone is sensing (false: paused by the user).
    pub mic_on: bool,
    /// Frames per second of the device loop.
    pub fps: f32,
}

/// Where each part of the mood screen goes on a panel of a given size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MoodLayout {
    /// True when the text is in a column beside the face (128x64, 320x240) rather than below
    /// it (240x240, 240x320).
    pub side_by_side: bool,
    /// The area the face is centred in.
    pub face_area: Rectangle,
    /// The face disc itself.
    pub face: Circle,
    /// Camera and microphone indicators and the fps (one row, or two on narrow columns).
    pub status: Rectangle,
    /// The mood's name and confidence (one row on colour panels, two on small ones).
    pub name: Rectangle,
    /// The face confidence row (label, bar, value) and its bar.
    pub face_row: Rectangle,
    pub face_bar: Rectangle,
    /// The voice confidence row and its bar.
    pub voice_row: Rectangle,
    pub voice_bar: Rectangle,
    /// The track line, when there is room for it.
    pub track: Option<Rectangle>,
}

/// Text sizes for one font class.
#[derive(Clone, Copy)]
struct Metrics {
    font: &'static MonoFont<'static>,
    /// Character width and row height of `font`.
    cw: u32,
    row: u32,
    name_font: &'static MonoFont<'static>,
    /// Height of the name block (one large row, or a name row and a confidence row).
    name_h: u32,
    bar_h: u32,
    /// Diameter of the indicator dots.
    dot: u32,
    pad: u32,
}

impl Metrics {
    fn new(large: bool) -> Self {
        if large {
            Metrics {
                font: &FONT_6X10,
                cw: 6,
                row: 14,
                name_font: &FONT_10X20,
                name_h: 22,
                bar_h: 8,
                dot: 9,
                pad: 4,
            }
        } else {
            Metrics {
                font: &FONT_4X6,
                cw: 4,
                row: 7,
                name_font: &FONT_6X10,
                name_h: 11 + 7,
                bar_h: 4,
                dot: 5,
                pad: 2,
            }
        }
    }

    /// Width of the bar rows' label column ("voice ") and value column (" 100%" / " 100").
    fn label_w(&self) -> u32 {
        6 * self.cw
    }

    fn value_w(&self, large: bool) -> u32 {
        if large { 5 * self.cw } else { 4 * self.cw }
    }
}

fn rect(x: i32, y: i32, w: u32, h: u32) -> Rectangle {
    Rectangle::new(Point::new(x, y), Size::new(w, h))
}

impl MoodLayout {
    /// Lays out a panel of `panel` size. Panels at least 1.3 times as wide as tall (128x64,
    /// 320x240) put the face on the left and the text in a column on the right; the others put
    /// a status row on top, the face in the middle and the text below.
    ///
    /// `large_font` is the panel colour's [`Palette::LARGE`]; panels smaller than 160x120 get
    /// the small font whatever their colour, as the large one leaves no room there.
    pub fn new(panel: Size, large_font: bool) -> Self {
        Self::unclipped(panel, large_text(panel, large_font)).fitted(panel)
    }

    /// Drops (makes empty) every part that does not fit on the panel whole, so nothing is ever
    /// drawn outside it; on panels this small the screen shows what fits.
    fn fitted(self, panel: Size) -> Self {
        let inside = |r: Rectangle| {
            r.top_left.x >= 0
                && r.top_left.y >= 0
                && r.top_left.x as u32 + r.size.width <= panel.width
                && r.top_left.y as u32 + r.size.height <= panel.height
        };
        let fit = |r: Rectangle| if inside(r) { r } else { Rectangle::zero() };
        let face_area = fit(self.face_area);
        let face = if inside(self.face.bounding_box()) && !face_area.is_zero_sized() {
            self.face
        } else {
            Circle::new(Point::zero(), 0)
        };
        let (face_row, voice_row) = (fit(self.face_row), fit(self.voice_row));
        MoodLayout {
            side_by_side: self.side_by_side,
            face_area,
            face,
            status: fit(self.status),
            name: fit(self.name),
            face_row,
            face_bar: if face_row.is_zero_sized() {
                Rectangle::zero()
            } else {
                fit(self.face_bar)
            },
            voice_row,
            voice_bar: if voice_row.is_zero_sized() {
                Rectangle::zero()
            } else {
                fit(self.voice_bar)
            },
            track: self.track.filter(|&r| inside(r)),
        }
    }

    fn unclipped(panel: Size, large_font: bool) -> Self {
        let (w, h) = (panel.width, panel.height);
        let m = Metrics::new(large_font);
        let side_by_side = w * 10 >= h * 13;
        let bar_rows = 2 * m.row;
        if side_by_side {
            let face_w = h.min(w / 2);
            let face_area = rect(0, 0, face_w, h);
            let col_x = face_w as i32 + m.pad as i32;
            let col_w = w.saturating_sub(face_w + 2 * m.pad);
            // One status row if the indicators and the fps fit side by side, else two. On top
            // of the column on colour panels (as on square ones), at the bottom on small ones,
            // where the mood's name comes first.
            let status_rows = if col_w >= status_one_row_w(&m) { 1 } else { 2 };
            let status_h = status_rows * m.row;
            let status_y = if large_font {
                0
            } else {
                h.saturating_sub(status_h)
            };
            let status = rect(col_x, status_y as i32, col_w, status_h);
            // The rest is centred in the space the status leaves.
            let (free_y, free_h) = if large_font {
                (status_h, h.saturating_sub(status_h))
            } else {
                (0, h.saturating_sub(status_h))
            };
            let without_track = m.name_h + m.pad + bar_rows;
            let with_track = without_track + m.pad + m.row;
            let (content_h, has_track) = if with_track <= free_h {
                (with_track, true)
            } else {
                (without_track, false)
            };
            let y0 = (free_y + free_h.saturating_sub(content_h) / 2) as i32;
            let name = rect(col_x, y0, col_w, m.name_h);
            let fy = y0 + (m.name_h + m.pad) as i32;
            let face_row = rect(col_x, fy, col_w, m.row);
            let voice_row = rect(col_x, fy + m.row as i32, col_w, m.row);
            let track =
                has_track.then(|| rect(col_x, fy + (bar_rows + m.pad) as i32, col_w, m.row));
            MoodLayout {
                side_by_side,
                face_area,
                face: face_circle(face_area, m.pad),
                status,
                name,
                face_row,
                face_bar: bar_in(face_row, &m, large_font),
                voice_row,
                voice_bar: bar_in(voice_row, &m, large_font),
                track,
            }
        } else {
            let status = rect(m.pad as i32, 0, w.saturating_sub(2 * m.pad), m.row);
            // Below the face: name, the two bars, the track; the bars are inset a little.
            let inset = if large_font { 12 } else { m.pad };
            let info_h = m.pad + m.name_h + m.pad + bar_rows + m.pad + m.row + m.pad;
            let face_h = h.saturating_sub(m.row + info_h);
            let face_area = rect(0, m.row as i32, w, face_h);
            let mut y = (m.row + face_h + m.pad) as i32;
            let name = rect(0, y, w, m.name_h);
            y += (m.name_h + m.pad) as i32;
            let row_w = w.saturating_sub(2 * inset);
            let face_row = rect(inset as i32, y, row_w, m.row);
            let voice_row = rect(inset as i32, y + m.row as i32, row_w, m.row);
            y += (bar_rows + m.pad) as i32;
            let track = (y as u32 + m.row <= h).then(|| rect(inset as i32, y, row_w, m.row));
            MoodLayout {
                side_by_side,
                face_area,
                face: face_circle(face_area, m.pad),
                status,
                name,
                face_row,
                face_bar: bar_in(face_row, &m, large_font),
                voice_row,
                voice_bar: bar_in(voice_row, &m, large_font),
                track,
            }
        }
    }
}

/// Whether a panel of `panel` size gets the large text sizes.
fn large_text(panel: Size, large_font: bool) -> bool {
    large_font && panel.width >= 160 && panel.height >= 120
}

/// Width of a status row holding both indicators and the fps.
fn status_one_row_w(m: &Metrics) -> u32 {
    2 * indicator_w(m) + 2 * m.cw + 7 * m.cw
}

fn indicator_w(m: &Metrics) -> u32 {
    m.dot + m.cw / 2 + 3 * m.cw
}

/// The largest disc that fits in `area` with `pad` around it, centred.
fn face_circle(area: Rectangle, pad: u32) -> Circle {
    let d = area
        .size
        .width
        .min(area.size.height)
        .saturating_sub(2 * pad);
    Circle::with_center(area.center(), d)
}

/// The bar of a confidence row: after the label column, before the value column.
fn bar_in(row: Rectangle, m: &Metrics, large: bool) -> Rectangle {
    let w = row
        .size
        .width
        .saturating_sub(m.label_w() + m.value_w(large));
    let h = m.bar_h.min(row.size.height);
    rect(
        row.top_left.x + m.label_w() as i32,
        row.top_left.y + (row.size.height.saturating_sub(h) / 2) as i32,
        w,
        h,
    )
}

/// The mood screen for one panel size.
pub struct MoodScreen {
    layout: MoodLayout,
    large: bool,
    text: TextLine,
}

impl MoodScreen {
    /// A mood screen for a panel of `panel` size; `large_font` is the panel colour's
    /// [`Palette::LARGE`].
    pub fn new(panel: Size, large_font: bool) -> Self {
        MoodScreen {
            layout: MoodLayout::new(panel, large_font),
            large: large_text(panel, large_font),
            text: TextLine::new(),
        }
    }

    pub fn layout(&self) -> &MoodLayout {
        &self.layout
    }

    /// Draws the whole screen (every pixel of the panel is written).
    pub fn draw<D>(&mut self, target: &mut D, view: &MoodView<'_>) -> Result<(), D::Error>
    where
        D: DrawTarget,
        D::Color: Palette,
    {
        target.fill_solid(&target.bounding_box(), D::Color::BACKGROUND)?;
        let l = self.layout;
        match view.mood {
            Some(mood) => draw_mood_face(target, mood, l.face.center(), l.face.diameter)?,
            None => draw_empty_face(target, l.face.center(), l.face.diameter)?,
        }
        self.draw_name(target, view)?;
        let m = Metrics::new(self.large);
        self.draw_bar(
            target,
            &m,
            l.face_row,
            l.face_bar,
            "face",
            view.face,
            D::Color::FACE,
        )?;
        self.draw_bar(
            target,
            &m,
            l.voice_row,
            l.voice_bar,
            "voice",
            view.voice,
            D::Color::VOICE,
        )?;
        if let Some(track) = l.track {
            self.draw_track(target, &m, track, view.track)?;
        }
        self.draw_status(target, &m, view)
    }

    fn draw_name<D>(&mut self, target: &mut D, view: &MoodView<'_>) -> Result<(), D::Error>
    where
        D: DrawTarget,
        D::Color: Palette,
    {
        let m = Metrics::new(self.large);
        let r = self.layout.name;
        if r.is_zero_sized() {
            return Ok(());
        }
        let name_cw = m.name_font.character_size.width;
        let percent = unit_percent(view.confidence);
        let (name, color) = match view.mood {
            Some(mood) => (mood.as_str(), D::Color::mood(mood)),
            None if !view.camera_on && !view.mic_on => ("paused", D::Color::FAINT),
            None if view.face.is_none() && view.voice.is_none() => ("no one here", D::Color::FAINT),
            None => ("waiting", D::Color::FAINT),
        };
        if self.large {
            // One centred line: the name in its mood's colour, then the percentage; in the
            // smaller font if the large one does not fit, and cut only if neither does.
            self.text.clear();
            if view.mood.is_some() {
                _ = write!(self.text, " {percent}%");
            }
            let pct_len = self.text.as_str().len() as u32;
            let name_chars = name.chars().count() as u32;
            let font = if (name_chars + pct_len) * name_cw <= r.size.width {
                m.name_font
            } else {
                m.font
            };
            let cw = font.character_size.width;
            let max = r.size.width / cw;
            let name_len = name_chars.min(max);
            let total = (name_len + pct_len).min(max);
            let x = r.top_left.x + ((r.size.width - total * cw) / 2) as i32;
            let y = r.top_left.y
                + (r.size.height.saturating_sub(font.character_size.height) / 2) as i32;
            let at = Text::with_baseline(
                prefix_chars(name, name_len as usize),
                Point::new(x, y),
                MonoTextStyle::new(font, color),
                Baseline::Top,
            )
            .draw(target)?;
            if total > name_len {
                let pct = prefix_chars(self.text.as_str(), (total - name_len) as usize);
                Text::with_baseline(
                    pct,
                    at,
                    MonoTextStyle::new(font, D::Color::TEXT),
                    Baseline::Top,
                )
                .draw(target)?;
            }
        } else {
            // The name on its own row, in the larger font when it fits, and the percentage below.
            let (font, cw) = if name.chars().count() as u32 * name_cw <= r.size.width {
                (m.name_font, name_cw)
            } else {
                (m.font, m.cw)
            };
            let max = (r.size.width / cw) as usize;
            Text::with_baseline(
                prefix_chars(name, max),
                r.top_left + Point::new(0, 1),
                MonoTextStyle::new(font, color),
                Baseline::Top,
            )
            .draw(target)?;
            if view.mood.is_some() {
                self.text.clear();
                _ = write!(self.text, "{percent}% sure");
                self.draw_text(
                    target,
                    &m,
                    r.top_left + Point::new(0, 12),
                    r.size.width,
                    D::Color::TEXT,
                )?;
            }
        }
        Ok(())
    }

    /// Draws `self.text` at `at` in the small font, cut to `width`.
    fn draw_text<D>(
        &self,
        target: &mut D,
        m: &Metrics,
        at: Point,
        width: u32,
        color: D::Color,
    ) -> Result<Point, D::Error>
    where
        D: DrawTarget,
        D::Color: Palette,
    {
        let s = prefix_chars(self.text.as_str(), (width / m.cw) as usize);
        Text::with_baseline(s, at, MonoTextStyle::new(m.font, color), Baseline::Top).draw(target)
    }

    #[allow(clippy::too_many_arguments)]
    fn draw_bar<D>(
        &mut self,
        target: &mut D,
        m: &Metrics,
        row: Rectangle,
        bar: Rectangle,
        label: &str,
        value: Option<f32>,
        color: D::Color,
    ) -> Result<(), D::Error>
    where
        D: DrawTarget,
        D::Color: Palette,
    {
        if row.is_zero_sized() {
            return Ok(());
        }
        let ty = row.top_left.y
            + (row.size.height.saturating_sub(m.font.character_size.height) / 2) as i32;
        self.text.clear();
        _ = self.text.write_str(label);
        let label_color = if value.is_some() {
            D::Color::TEXT
        } else {
            D::Color::FAINT
        };
        self.draw_text(
            target,
            m,
            Point::new(row.top_left.x, ty),
            m.label_w().min(row.size.width),
            label_color,
        )?;
        if bar.size.width == 0 || bar.size.height == 0 {
            return Ok(());
        }
        // The track: dim on colour panels, an outline on mono ones (whose DIM is off).
        target.fill_solid(&bar, D::Color::DIM)?;
        if D::Color::DIM == D::Color::BACKGROUND {
            bar.into_styled(PrimitiveStyle::with_stroke(D::Color::TEXT, 1))
                .draw(target)?;
        }
        if let Some(v) = value {
            let len = fill_len(v, bar.size.width);
            target.fill_solid(
                &rect(bar.top_left.x, bar.top_left.y, len, bar.size.height),
                color,
            )?;
        }
        self.text.clear();
        match value {
            Some(v) if self.large => _ = write!(self.text, "{}%", unit_percent(v)),
            Some(v) => _ = write!(self.text, "{}", unit_percent(v)),
            None => _ = self.text.write_str("-"),
        }
        let vx = bar.top_left.x + bar.size.width as i32 + m.cw as i32;
        let vw = (row.top_left.x + row.size.width as i32 - vx).max(0) as u32;
        self.draw_text(target, m, Point::new(vx, ty), vw, label_color)?;
        Ok(())
    }

    fn draw_track<D>(
        &mut self,
        target: &mut D,
        m: &Metrics,
        row: Rectangle,
        track: Option<&str>,
    ) -> Result<(), D::Error>
    where
        D: DrawTarget,
        D::Color: Palette,
    {
        let color = if track.is_some() {
            D::Color::TEXT
        } else {
            D::Color::FAINT
        };
        let glyph_h = m.font.character_size.height.min(row.size.height);
        if row.size.width < glyph_h + 2 * m.cw {
            return Ok(());
        }
        let ty = row.top_left.y + (row.size.height.saturating_sub(glyph_h) / 2) as i32;
        let glyph_w = draw_note(target, Point::new(row.top_left.x, ty), glyph_h, color)?;
        let tx = row.top_left.x + (glyph_w + m.cw) as i32;
        let width = (row.top_left.x + row.size.width as i32 - tx).max(0) as u32;
        self.text.clear();
        self.text
            .push_fit(track.unwrap_or("no music"), (width / m.cw) as usize);
        self.draw_text(target, m, Point::new(tx, ty), width, color)?;
        Ok(())
    }

    fn draw_status<D>(
        &mut self,
        target: &mut D,
        m: &Metrics,
        view: &MoodView<'_>,
    ) -> Result<(), D::Error>
    where
        D: DrawTarget,
        D::Color: Palette,
    {
        let s = self.layout.status;
        if s.size.width == 0 {
            return Ok(());
        }
        let ty = s.top_left.y + (m.row.saturating_sub(m.font.character_size.height) / 2) as i32;
        let mut x = s.top_left.x;
        let right = s.top_left.x + s.size.width as i32;
        for (label, on) in [("CAM", view.camera_on), ("MIC", view.mic_on)] {
            if x + indicator_w(m) as i32 > right {
                break;
            }
            let dot = Circle::new(
                Point::new(x, s.top_left.y + (m.row.saturating_sub(m.dot) / 2) as i32),
                m.dot,
            );
            let text_color = if on {
                dot.into_styled(PrimitiveStyle::with_fill(D::Color::SENSING))
                    .draw(target)?;
                D::Color::TEXT
            } else {
                dot.into_styled(PrimitiveStyle::with_stroke(D::Color::FAINT, 1))
                    .draw(target)?;
                D::Color::FAINT
            };
            self.text.clear();
            _ = self.text.write_str(label);
            let tx = x + (m.dot + m.cw / 2) as i32;
            self.draw_text(target, m, Point::new(tx, ty), 3 * m.cw, text_color)?;
            x += (indicator_w(m) + 2 * m.cw) as i32;
        }
        self.text.clear();
        let fps = if view.fps.is_finite() {
            view.fps.clamp(0.0, 999.0)
        } else {
            0.0
        };
        if self.large {
            _ = write!(self.text, "{fps:.0} fps");
        } else {
            _ = write!(self.text, "{fps:.0}fps");
        }
        let n = self.text.as_str().len() as u32;
        let one_row = s.size.height < 2 * m.row;
        let (fx, fy) = if one_row {
            (right - (n * m.cw) as i32, ty)
        } else {
            (s.top_left.x, ty + m.row as i32)
        };
        if !one_row || fx >= x {
            self.draw_text(
                target,
                m,
                Point::new(fx, fy),
                (right - fx).max(0) as u32,
                D::Color::TEXT,
            )?;
        }
        Ok(())
    }
}

/// The first `n` characters of `s` (each is one glyph of a mono font).
fn prefix_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// A value of 0..1 as a whole percentage (NaN and out-of-range values clamped).
fn unit_percent(v: f32) -> u32 {
    (unit(v) * 100.0).round() as u32
}

fn unit(v: f32) -> f32 {
    if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) }
}

/// The filled length of a bar of `length` for confidence `v`.
fn fill_len(v: f32, length: u32) -> u32 {
    ((unit(v) * length as f32).round() as u32).min(length)
}

/// A musical note (eighth note) in a box of height `h` at `top_left`; returns its width.
fn draw_note<D>(target: &mut D, top_left: Point, h: u32, color: D::Color) -> Result<u32, D::Error>
where
    D: DrawTarget,
    D::Color: Palette,
{
    let head = (h / 2).max(2);
    let head_box = Circle::new(
        Point::new(top_left.x, top_left.y + h.saturating_sub(head) as i32),
        head,
    );
    head_box
        .into_styled(PrimitiveStyle::with_fill(color))
        .draw(target)?;
    let stem_x = top_left.x + head as i32 - 1;
    let stem_bottom = top_left.y + h.saturating_sub(head / 2) as i32 - 1;
    Line::new(
        Point::new(stem_x, top_left.y),
        Point::new(stem_x, stem_bottom),
    )
    .into_styled(PrimitiveStyle::with_stroke(color, 1))
    .draw(target)?;
    let flag = (head / 2).max(1) as i32 + 1;
    Line::new(
        Point::new(stem_x, top_left.y),
        Point::new(stem_x + flag, top_left.y + flag),
    )
    .into_styled(PrimitiveStyle::with_stroke(color, 1))
    .draw(target)?;
    Ok(head + flag as u32)
}

/// Positions on a face of radius `r` around `c`, in units of the radius.
#[derive(Clone, Copy)]
pub(crate) struct Geo {
    pub(crate) c: Point,
    pub(crate) r: f32,
}

impl Geo {
    pub(crate) fn p(&self, x: f32, y: f32) -> Point {
        self.c + Point::new((x * self.r).round() as i32, (y * self.r).round() as i32)
    }

    /// A length of `k` radii, at least one pixel.
    pub(crate) fn d(&self, k: f32) -> u32 {
        ((k * self.r).round() as u32).max(1)
    }

    /// The stroke width of the features.
    pub(crate) fn stroke(&self) -> u32 {
        self.d(0.08)
    }
}

pub(crate) fn disc<D>(
    t: &mut D,
    center: Point,
    diameter: u32,
    color: D::Color,
) -> Result<(), D::Error>
where
    D: DrawTarget,
{
    Circle::with_center(center, diameter)
        .into_styled(PrimitiveStyle::with_fill(color))
        .draw(t)
}

/// A line of width `w` with round ends.
pub(crate) fn stroke_line<D>(
    t: &mut D,
    a: Point,
    b: Point,
    w: u32,
    color: D::Color,
) -> Result<(), D::Error>
where
    D: DrawTarget,
{
    Line::new(a, b)
        .into_styled(PrimitiveStyle::with_stroke(color, w))
        .draw(t)?;
    if w >= 3 {
        disc(t, a, w, color)?;
        disc(t, b, w, color)?;
    }
    Ok(())
}

/// An arc of width `w` with round ends; angles in degrees, clockwise from 3 o'clock.
pub(crate) fn stroke_arc<D>(
    t: &mut D,
    center: Point,
    diameter: u32,
    start: f32,
    sweep: f32,
    w: u32,
    color: D::Color,
) -> Result<(), D::Error>
where
    D: DrawTarget,
{
    Arc::with_center(center, diameter, start.deg(), sweep.deg())
        .into_styled(PrimitiveStyle::with_stroke(color, w))
        .draw(t)?;
    if w >= 3 {
        let radius = diameter as f32 / 2.0;
        for a in [start, start + sweep] {
            let (s, c) = a.to_radians().sin_cos();
            let end = center + Point::new((c * radius).round() as i32, (s * radius).round() as i32);
            disc(t, end, w, color)?;
        }
    }
    Ok(())
}

/// Draws the face of `mood` as a disc of `diameter` centred on `center`: its own colour and
/// features a person reads at a glance. The same drawing scales from 240x240 panels to OLEDs.
pub fn draw_mood_face<D>(
    target: &mut D,
    mood: Mood,
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
    disc(t, center, diameter, D::Color::mood(mood))?;
    match mood {
        Mood::Neutral => {
            for x in [-0.34, 0.34] {
                disc(t, g.p(x, -0.12), g.d(0.2), ink)?;
            }
            stroke_line(t, g.p(-0.26, 0.38), g.p(0.26, 0.38), s, ink)?;
        }
        Mood::Happy => {
            // Eyes squeezed into arches by raised, blushing cheeks, and an open grin.
            for x in [-0.34f32, 0.34] {
                Ellipse::with_center(g.p(x * 1.62, 0.16), Size::new(g.d(0.28), g.d(0.16)))
                    .into_styled(PrimitiveStyle::with_fill(D::Color::CHEEK))
                    .draw(t)?;
                stroke_arc(t, g.p(x, -0.08), g.d(0.32), 200.0, 140.0, s, ink)?;
            }
            Sector::with_center(g.p(0.0, 0.14), g.d(0.86), 0.0.deg(), 180.0.deg())
                .into_styled(PrimitiveStyle::with_fill(ink))
                .draw(t)?;
            Ellipse::with_center(g.p(0.0, 0.47), Size::new(g.d(0.32), g.d(0.14)))
                .into_styled(PrimitiveStyle::with_fill(D::Color::CHEEK))
                .draw(t)?;
        }
        Mood::Sad => {
            // Brows raised in the middle, a frown and a tear.
            for x in [-1.0f32, 1.0] {
                stroke_line(t, g.p(0.52 * x, -0.30), g.p(0.18 * x, -0.44), s, ink)?;
                disc(t, g.p(0.34 * x, -0.10), g.d(0.18), ink)?;
            }
            stroke_arc(t, g.p(0.0, 0.68), g.d(0.64), 220.0, 100.0, s, ink)?;
            let tear = g.p(0.40, 0.24);
            Triangle::new(g.p(0.40, 0.02), g.p(0.32, 0.22), g.p(0.48, 0.22))
                .into_styled(PrimitiveStyle::with_fill(D::Color::TEAR))
                .draw(t)?;
            disc(t, tear, g.d(0.17), D::Color::TEAR)?;
        }
        Mood::Angry => {
            // Heavy brows slanting down to the centre, and a tight, turned-down mouth.
            let brow = g.d(0.12);
            for x in [-1.0f32, 1.0] {
                stroke_line(t, g.p(0.58 * x, -0.42), g.p(0.12 * x, -0.20), brow, ink)?;
                disc(t, g.p(0.32 * x, -0.04), g.d(0.16), ink)?;
                stroke_line(t, g.p(0.20 * x, 0.42), g.p(0.30 * x, 0.50), s, ink)?;
            }
            stroke_line(t, g.p(-0.20, 0.42), g.p(0.20, 0.42), s, ink)?;
        }
        Mood::Fearful => {
            // Raised brows pulled together, wide eyes with small pupils, a wavy mouth.
            for x in [-1.0f32, 1.0] {
                stroke_line(t, g.p(0.54 * x, -0.44), g.p(0.18 * x, -0.58), s, ink)?;
                let eye = g.p(0.32 * x, -0.10);
                disc(t, eye, g.d(0.36), ink)?;
                disc(
                    t,
                    eye,
                    g.d(0.36).saturating_sub(2 * s.div_ceil(2)),
                    D::Color::EYE_WHITE,
                )?;
                disc(t, eye, g.d(0.1), ink)?;
            }
            let mut wave = [Point::zero(); 7];
            for (i, p) in wave.iter_mut().enumerate() {
                let x = -0.30 + 0.10 * i as f32;
                let y = if i % 2 == 0 { 0.44 } else { 0.36 };
                *p = g.p(x, y);
            }
            Polyline::new(&wave)
                .into_styled(PrimitiveStyle::with_stroke(ink, s))
                .draw(t)?;
        }
        Mood::Surprised => {
            // Arched brows high up, round dark eyes with a glint, an O mouth.
            for x in [-1.0f32, 1.0] {
                stroke_arc(t, g.p(0.32 * x, -0.36), g.d(0.40), 215.0, 110.0, s, ink)?;
                let eye = g.p(0.32 * x, -0.08);
                Ellipse::with_center(eye, Size::new(g.d(0.2), g.d(0.26)))
                    .into_styled(PrimitiveStyle::with_fill(ink))
                    .draw(t)?;
                disc(
                    t,
                    g.p(0.32 * x + 0.04, -0.13),
                    g.d(0.07),
                    D::Color::EYE_WHITE,
                )?;
            }
            Ellipse::with_center(g.p(0.0, 0.42), Size::new(g.d(0.28), g.d(0.36)))
                .into_styled(PrimitiveStyle::with_fill(ink))
                .draw(t)?;
        }
        Mood::Calm => {
            // Closed, downward-curved eyes and a gentle smile.
            for x in [-0.34, 0.34] {
                stroke_arc(t, g.p(x, -0.16), g.d(0.30), 20.0, 140.0, s, ink)?;
            }
            stroke_arc(t, g.p(0.0, 0.10), g.d(0.64), 40.0, 100.0, s, ink)?;
        }
    }
    Ok(())
}

/// The face area when there is no mood yet: a faint outline with three dots.
fn draw_empty_face<D>(target: &mut D, center: Point, diameter: u32) -> Result<(), D::Error>
where
    D: DrawTarget,
    D::Color: Palette,
{
    if diameter < 8 {
        return Ok(());
    }
    let g = Geo {
        c: center,
        r: diameter as f32 / 2.0,
    };
    let w = g.d(0.03);
    Circle::with_center(center, diameter)
        .into_styled(
            PrimitiveStyleBuilder::new()
                .stroke_color(D::Color::FAINT)
                .stroke_width(w)
                .stroke_alignment(StrokeAlignment::Inside)
                .build(),
        )
        .draw(target)?;
    for x in [-0.3, 0.0, 0.3] {
        disc(target, g.p(x, 0.0), g.d(0.1), D::Color::FAINT)?;
    }
    Ok(())
}

/// A fixed-capacity text line, so drawing allocates nothing.
struct TextLine {
    buf: [u8; 96],
    len: usize,
}

impl TextLine {
    fn new() -> Self {
        TextLine {
            buf: [0; 96],
            len: 0,
        }
    }

    fn clear(&mut self) {
        self.len = 0;
    }

    fn as_str(&self) -> &str {
        // Only whole UTF-8 strings are ever appended, so this cannot fail.
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }

    /// Appends `s`, cut to at most `max` characters: when it is longer, its first `max - 3`
    /// characters and "...".
    fn push_fit(&mut self, s: &str, max: usize) {
        let n = s.chars().count();
        if n <= max {
            for ch in s.chars() {
                if self.push_char(ch).is_err() {
                    return;
                }
            }
            return;
        }
        let keep = max.saturating_sub(3);
        for ch in s.chars().take(keep) {
            if self.push_char(ch).is_err() {
                return;
            }
        }
        for _ in 0..max.min(3) {
            if self.push_char('.').is_err() {
                return;
            }
        }
    }

    fn push_char(&mut self, ch: char) -> core::fmt::Result {
        let mut b = [0u8; 4];
        self.write_str(ch.encode_utf8(&mut b))
    }
}

impl core::fmt::Write for TextLine {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_with_dots_on_char_boundaries() {
        let mut t = TextLine::new();
        t.push_fit("Clair de Lune", 20);
        assert_eq!(t.as_str(), "Clair de Lune");
        t.clear();
        t.push_fit("Clair de Lune", 8);
        assert_eq!(t.as_str(), "Clair...");
        t.clear();
        t.push_fit("ééééééééé", 5);
        assert_eq!(t.as_str(), "éé...");
        t.clear();
        t.push_fit("abcdef", 2);
        assert_eq!(t.as_str(), "..");
        t.clear();
        // More than the buffer holds: stops at the last whole character.
        t.push_fit(&"€".repeat(100), 90);
        assert!(t.as_str().chars().all(|c| c == '€'));
        assert_eq!(prefix_chars("añb", 2), "añ");
        assert_eq!(prefix_chars("ab", 5), "ab");
    }

    #[test]
    fn percentages_and_fill_are_clamped() {
        assert_eq!(unit_percent(0.874), 87);
        assert_eq!(unit_percent(f32::NAN), 0);
        assert_eq!(unit_percent(-1.0), 0);
        assert_eq!(unit_percent(7.0), 100);
        assert_eq!(fill_len(0.5, 101), 51);
        assert_eq!(fill_len(f32::INFINITY, 40), 40);
        assert_eq!(fill_len(0.0, 40), 0);
    }

    #[test]
    fn small_panels_get_the_small_text() {
        assert!(large_text(Size::new(240, 240), true));
        assert!(large_text(Size::new(320, 240), true));
        assert!(!large_text(Size::new(128, 64), true));
        assert!(!large_text(Size::new(240, 240), false));
    }
}
