//! Hand-drawn emoji, 64x64 gray: dark strokes on light paper.
//!
//! Each drawing is made in "face units" (the face circle has radius 1, y down) and placed on
//! the page by a random rotation (±15°), scale and shift. Every stroke is drawn the way a hand
//! draws it: resampled, displaced by a slow wobble and a little tremor, with a pen width that
//! varies along the stroke and sometimes tapers. What makes a class is only its features
//! (eyes, brows, mouth, tears, tongue); everything else varies independently of the class, so a
//! classifier has to look at the features.
//!
//! Drawings come in style families ([`EmojiStyle`]): how wide and steady the pen is, whether
//! strokes are traced twice, whether the face is coloured in, how big the eyes are. Training
//! sets use [`EmojiStyle::TRAINING`]; [`EmojiStyle::HELD_OUT`] (a felt marker's bold, steady
//! drawings) is never trained on and measures how well the model meets a pen it has not seen.
//!
//! Every image ends with `sentio_sketch::normalize_drawing`, the normalization the device runs
//! on cards and touch drawings; [`draw_raw`] gives the drawing before it (any size, with the
//! strokes the hand drew, for camera cards and touch replays).

use std::f32::consts::{FRAC_PI_2, PI, TAU};

use image::GrayImage;

use crate::raster::{
    Affine, Canvas, Pt, arc, ellipse, pen_widths, pt, quad, resample, transform, wobble,
};
use crate::rng::Rng;

/// Side of an emoji image in pixels.
pub const SIZE: u32 = 64;

/// Class indices in `emoji8` order.
const SLIGHTLY_SMILING: usize = 0;
const HEART_EYES: usize = 1;
const NEUTRAL: usize = 2;
const ANGRY: usize = 3;
const TEARS_OF_JOY: usize = 4;
const WINKING: usize = 5;
const TONGUE_OUT: usize = 6;
const FROWNING: usize = 7;

/// A family of drawing styles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EmojiStyle {
    /// Ballpoint or pencil, a shaky hand, outlines: the generator's first style.
    Classic,
    /// Quick sketches: thin lines traced twice, overshooting, oval faces, big eyes.
    Doodle,
    /// The face coloured in with a light crayon before the features are drawn.
    Filled,
    /// A felt marker: bold, steady, untapered strokes, large dot eyes.
    Marker,
}

impl EmojiStyle {
    pub const ALL: [EmojiStyle; 4] = [
        EmojiStyle::Classic,
        EmojiStyle::Doodle,
        EmojiStyle::Filled,
        EmojiStyle::Marker,
    ];
    /// The families training sets are drawn from.
    pub const TRAINING: [EmojiStyle; 3] =
        [EmojiStyle::Classic, EmojiStyle::Doodle, EmojiStyle::Filled];
    /// The family kept out of training, to measure generalization.
    pub const HELD_OUT: [EmojiStyle; 1] = [EmojiStyle::Marker];

    pub const fn name(self) -> &'static str {
        match self {
            EmojiStyle::Classic => "classic",
            EmojiStyle::Doodle => "doodle",
            EmojiStyle::Filled => "filled",
            EmojiStyle::Marker => "marker",
        }
    }

    /// The style called `name`.
    pub fn by_name(name: &str) -> Option<EmojiStyle> {
        EmojiStyle::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// A drawing before normalization, and the strokes that made it.
#[derive(Clone, Debug)]
pub struct EmojiDrawing {
    /// `size x size`, dark ink on paper, lighting and texture as drawn.
    pub image: GrayImage,
    /// Every pen stroke in page pixels, in drawing order (fills are their outlines).
    pub strokes: Vec<Vec<[f32; 2]>>,
    pub style: EmojiStyle,
}

/// The pen: where the drawing sits on the page and how this person draws.
struct Hand<'a> {
    canvas: &'a mut Canvas,
    rng: &'a mut Rng,
    place: Affine,
    /// Keystone (perspective) of the page: x and y shrink along the other axis by this share
    /// per page side, around `centre`.
    keystone: (f32, f32),
    centre: Pt,
    /// Pixels per pixel of a 64x64 drawing.
    k: f32,
    /// Chance that a stroke is traced a second time, a little off.
    retrace: f32,
    taper: f32,
    strokes: Vec<Vec<[f32; 2]>>,
    /// Gray of the ink (0 = black; pencil is lighter).
    ink: f32,
    opacity: f32,
    /// Base stroke width in pixels.
    pen: f32,
    /// How shaky the hand is (1 = average).
    shake: f32,
}

impl Hand<'_> {
    /// Draw a stroke through `points` (face units); `weight` scales the pen width.
    fn stroke(&mut self, points: &[Pt], weight: f32) {
        self.stroke_steadied(points, weight, 1.0);
    }

    /// A stroke with the wobble scaled by `steadiness`: for the mouth line, where a slow bow
    /// of the hand would read as a smile or a frown and change the class.
    fn stroke_steadied(&mut self, points: &[Pt], weight: f32, steadiness: f32) {
        let on_page = self.to_page(points);
        let dense = resample(&on_page, 0.7 * self.k);
        if dense.is_empty() {
            return;
        }
        let length = dense.len() as f32 * 0.7;
        let amount = (0.12 + length * 0.008).min(0.9) * self.shake * steadiness * self.k;
        let passes = if self.rng.chance(self.retrace) { 2 } else { 1 };
        for _ in 0..passes {
            let shaken = wobble(&dense, amount, 0.07 * self.shake * self.k, self.rng);
            let base = self.pen * weight * self.rng.range(0.85, 1.15);
            let taper = self.rng.chance(self.taper);
            let widths = pen_widths(shaken.len(), base, 0.25, taper, self.rng);
            let opacity = self.opacity * self.rng.range(0.85, 1.0);
            self.canvas.stroke(&shaken, &widths, self.ink, opacity);
            self.strokes
                .push(shaken.iter().map(|p| [p.x, p.y]).collect());
        }
    }

    /// Face units to page pixels: the placement, then the page's perspective.
    fn to_page(&self, points: &[Pt]) -> Vec<Pt> {
        let (kx, ky) = self.keystone;
        let side = self.canvas.width() as f32;
        transform(points, &self.place)
            .into_iter()
            .map(|p| {
                let (dx, dy) = (p.x - self.centre.x, p.y - self.centre.y);
                pt(
                    self.centre.x + dx * (1.0 + kx * dy / side),
                    self.centre.y + dy * (1.0 + ky * dx / side),
                )
            })
            .collect()
    }

    /// A filled blob (a dot eye, a filled heart): the outline filled, then traced.
    fn fill(&mut self, outline: &[Pt]) {
        let on_page = self.to_page(outline);
        let shaken = wobble(
            &on_page,
            0.15 * self.shake * self.k,
            0.05 * self.k,
            self.rng,
        );
        let opacity = self.opacity * self.rng.range(0.85, 1.0);
        self.canvas.fill(&shaken, self.ink, opacity);
        let mut closed = outline.to_vec();
        if let Some(&first) = outline.first() {
            closed.push(first);
        }
        self.stroke(&closed, 0.6);
    }

    /// A scribbled fill: zig-zag strokes across the shape's bounding box, clipped by hand
    /// (the zig-zag is kept to the shape by sampling its outline's horizontal extent).
    fn scribble(&mut self, outline: &[Pt]) {
        let (mut top, mut bottom) = (f32::MAX, f32::MIN);
        for p in outline {
            top = top.min(p.y);
            bottom = bottom.max(p.y);
        }
        let rows = 5 + self.rng.index(4);
        let mut zig = Vec::new();
        for r in 0..=rows {
            let y = top + (bottom - top) * (r as f32 + 0.5) / (rows as f32 + 1.0);
            let (mut left, mut right) = (f32::MAX, f32::MIN);
            for w in outline.windows(2) {
                let (a, b) = (w[0], w[1]);
                if (a.y - y) * (b.y - y) <= 0.0 && (a.y - b.y).abs() > 1e-6 {
                    let x = a.x + (b.x - a.x) * (y - a.y) / (b.y - a.y);
                    left = left.min(x);
                    right = right.max(x);
                }
            }
            if left < right {
                if r % 2 == 0 {
                    zig.push(pt(left, y));
                    zig.push(pt(right, y));
                } else {
                    zig.push(pt(right, y));
                    zig.push(pt(left, y));
                }
            }
        }
        self.stroke(&zig, 0.7);
    }
}

/// Where the features go in this drawing.
struct Layout {
    /// Eye centres (left, right).
    eyes: [Pt; 2],
    /// Mouth centre.
    mouth: Pt,
    /// Half the mouth's width.
    mouth_half: f32,
    /// Mouth tilt in radians.
    tilt: f32,
    /// The ordinary eye style of this drawer (0 dot, 1 oval, 2 ring, 3 dash).
    eye_style: usize,
    /// Eye size factor.
    eye_size: f32,
}

impl Layout {
    fn new(rng: &mut Rng) -> Layout {
        let ey = rng.range(-0.42, -0.18);
        let ex = rng.range(0.26, 0.42);
        let jitter = |rng: &mut Rng| pt(rng.sym(0.04), rng.sym(0.04));
        let (jl, jr) = (jitter(rng), jitter(rng));
        Layout {
            eyes: [pt(-ex + jl.x, ey + jl.y), pt(ex + jr.x, ey + jr.y)],
            mouth: pt(rng.sym(0.06), rng.range(0.28, 0.48)),
            mouth_half: rng.range(0.28, 0.52),
            tilt: rng.sym(0.12),
            eye_style: rng.index(4),
            eye_size: rng.range(0.85, 1.2),
        }
    }

    /// A point on the mouth's baseline, `u` in -1..1 from left to right corner, raised by `dy`.
    fn mouth_at(&self, u: f32, dy: f32) -> Pt {
        let (s, c) = self.tilt.sin_cos();
        let (x, y) = (u * self.mouth_half, dy);
        pt(self.mouth.x + x * c - y * s, self.mouth.y + x * s + y * c)
    }
}

/// Draw one emoji of class `class` (an `emoji8` index; others wrap around) from `seed`, in one
/// of the training styles, normalized as the device normalizes (64x64).
pub fn draw(class: usize, seed: u64) -> GrayImage {
    draw_styled(class, seed, &EmojiStyle::TRAINING)
}

/// `draw` with the style picked (by the seed) from `styles` (all of them when empty).
pub fn draw_styled(class: usize, seed: u64, styles: &[EmojiStyle]) -> GrayImage {
    let styles = if styles.is_empty() {
        &EmojiStyle::ALL[..]
    } else {
        styles
    };
    let style = styles[Rng::new(seed ^ 0x5717_1e5e_ed00_0000).index(styles.len())];
    let raw = draw_raw(class, seed, style, SIZE);
    match sentio_sketch::normalize_drawing(&raw.image) {
        Ok(sentio_sketch::Normalized::Drawing(image)) => image,
        // Every class draws a face outline at least, so this does not happen (a test draws
        // thousands); a white page keeps the dataset's shape if it ever did.
        _ => GrayImage::from_pixel(SIZE, SIZE, image::Luma([255])),
    }
}

/// The style the drawing of `seed` is in, out of `styles` (all of them when empty).
pub fn pick_style(seed: u64, styles: &[EmojiStyle]) -> EmojiStyle {
    let styles = if styles.is_empty() {
        &EmojiStyle::ALL[..]
    } else {
        styles
    };
    styles[Rng::new(seed ^ 0x5717_1e5e_ed00_0000).index(styles.len())]
}

/// One drawing of class `class` in `style` on a `size x size` page, before normalization,
/// with its strokes: the card a visitor holds up, or what they draw on a touch panel.
pub fn draw_raw(class: usize, seed: u64, style: EmojiStyle, size: u32) -> EmojiDrawing {
    let mut rng = Rng::new(seed);
    let class = class % 8;
    let size = size.max(16);
    let k = size as f32 / SIZE as f32;
    let mut canvas = paper(&mut rng, size);
    let radius = rng.range(21.0, 28.0) * k;
    let aspect = match style {
        EmojiStyle::Doodle => rng.range(0.8, 1.2),
        _ => rng.range(0.9, 1.1),
    };
    let centre = pt(
        size as f32 / 2.0 + rng.sym(3.5) * k,
        size as f32 / 2.0 + rng.sym(3.5) * k,
    );
    let angle = rng.sym(22f32.to_radians());
    let keystone = (rng.sym(0.25), rng.sym(0.25));
    let pencil = style == EmojiStyle::Classic && rng.chance(0.3);
    let ink = if pencil {
        rng.range(0.15, 0.4)
    } else {
        rng.range(0.0, 0.2)
    };
    let opacity = rng.range(0.8, 1.0);
    let pen = k * match style {
        EmojiStyle::Marker => rng.range(3.2, 5.0),
        EmojiStyle::Doodle => rng.range(1.0, 2.0),
        _ if pencil => rng.range(1.2, 2.2),
        _ => rng.range(1.4, 3.2),
    };
    let shake = match style {
        EmojiStyle::Marker => rng.range(0.3, 0.7),
        EmojiStyle::Doodle => rng.range(1.0, 2.0),
        _ => rng.range(0.5, 1.6),
    };
    let retrace = match style {
        EmojiStyle::Doodle => 0.6,
        _ => 0.0,
    };
    let taper = if style == EmojiStyle::Marker {
        0.0
    } else {
        0.5
    };
    let place = Affine::place(centre, radius, radius * aspect, angle);
    if style == EmojiStyle::Filled {
        // Crayon: a light tone over the face, a little off the outline.
        let tone = rng.range(0.55, 0.8);
        let spread = rng.range(0.9, 1.0);
        let disk = transform(
            &ellipse(pt(rng.sym(0.05), rng.sym(0.05)), spread, spread, 48),
            &place,
        );
        canvas.fill(&disk, tone, rng.range(0.6, 0.95));
    }
    let mut child = Rng::new(rng.next_u64());
    let mut hand = Hand {
        canvas: &mut canvas,
        rng: &mut child,
        place,
        keystone,
        centre,
        k,
        retrace,
        taper,
        strokes: Vec::new(),
        ink,
        opacity,
        pen,
        shake,
    };
    face_outline(&mut hand);
    let mut layout = Layout::new(hand.rng);
    match style {
        EmojiStyle::Doodle => layout.eye_size *= hand.rng.range(1.1, 1.5),
        EmojiStyle::Marker => {
            layout.eye_style = 0;
            layout.eye_size *= hand.rng.range(1.0, 1.4);
        }
        _ => {}
    }
    match class {
        SLIGHTLY_SMILING => {
            plain_eyes(&mut hand, &layout);
            // Kept clear of neutral's ±0.02 so the hand's wobble cannot turn one into the other.
            let sag = hand.rng.range(0.12, 0.24);
            smile(&mut hand, &layout, sag);
        }
        HEART_EYES => {
            let filled = hand.rng.index(3);
            for eye in layout.eyes {
                let size = hand.rng.range(0.15, 0.23) * layout.eye_size.sqrt();
                heart(&mut hand, eye, size, filled);
            }
            if hand.rng.chance(0.5) {
                let depth = hand.rng.range(0.15, 0.3);
                open_mouth(&mut hand, &layout, depth, false);
            } else {
                let sag = hand.rng.range(0.12, 0.28);
                smile(&mut hand, &layout, sag);
            }
        }
        NEUTRAL => {
            plain_eyes(&mut hand, &layout);
            let sag = hand.rng.sym(0.02);
            smile(&mut hand, &layout, sag);
        }
        ANGRY => {
            plain_eyes(&mut hand, &layout);
            brows(&mut hand, &layout, true);
            match hand.rng.index(5) {
                0 => gritted_teeth(&mut hand, &layout),
                1 => {
                    let sag = hand.rng.sym(0.02);
                    smile(&mut hand, &layout, sag);
                }
                _ => {
                    let sag = -hand.rng.range(0.08, 0.22);
                    smile(&mut hand, &layout, sag);
                }
            }
            if hand.rng.chance(0.2) {
                anger_mark(&mut hand);
            }
        }
        TEARS_OF_JOY => {
            let style = hand.rng.index(5);
            for (side, eye) in layout.eyes.into_iter().enumerate() {
                match style {
                    0..=2 => closed_eye(&mut hand, eye, true),
                    3 => caret_eye(&mut hand, eye, side == 0),
                    _ => plain_eye(&mut hand, eye, &layout),
                }
            }
            let both = hand.rng.chance(0.7);
            let first = hand.rng.index(2);
            for side in 0..2 {
                if both || side == first {
                    tear(&mut hand, layout.eyes[side], side == 0);
                }
            }
            let depth = hand.rng.range(0.22, 0.4);
            open_mouth(&mut hand, &layout, depth, true);
        }
        WINKING => {
            let wink_side = hand.rng.index(2);
            for (side, eye) in layout.eyes.into_iter().enumerate() {
                if side == wink_side {
                    match hand.rng.index(3) {
                        0 => caret_eye(&mut hand, eye, side == 0),
                        1 => {
                            let happy = hand.rng.chance(0.5);
                            closed_eye(&mut hand, eye, happy);
                        }
                        _ => {
                            let half = hand.rng.range(0.14, 0.2);
                            let tilt = hand.rng.sym(0.04);
                            hand.stroke(
                                &[
                                    pt(eye.x - half, eye.y + tilt),
                                    pt(eye.x + half, eye.y - tilt),
                                ],
                                1.2,
                            );
                        }
                    }
                } else {
                    plain_eye(&mut hand, eye, &layout);
                }
            }
            if hand.rng.chance(0.3) {
                smirk(&mut hand, &layout, wink_side);
            } else {
                let sag = hand.rng.range(0.1, 0.25);
                smile(&mut hand, &layout, sag);
            }
        }
        TONGUE_OUT => {
            if hand.rng.chance(0.85) {
                plain_eyes(&mut hand, &layout);
            } else {
                for eye in layout.eyes {
                    closed_eye(&mut hand, eye, true);
                }
            }
            tongue(&mut hand, &layout);
        }
        _ => {
            debug_assert_eq!(class, FROWNING);
            plain_eyes(&mut hand, &layout);
            if hand.rng.chance(0.2) {
                brows(&mut hand, &layout, false);
            }
            if hand.rng.chance(0.15) {
                open_frown(&mut hand, &layout);
            } else {
                let sag = -hand.rng.range(0.1, 0.26);
                smile(&mut hand, &layout, sag);
            }
        }
    }
    decorations(&mut hand, &layout);
    if hand.rng.chance(0.2) {
        stray_mark(&mut hand);
    }
    let soften = hand.rng.chance(0.4);
    let amount = hand.rng.range(0.2, 0.7);
    let grain = hand.rng.range(0.005, 0.03);
    let strokes = std::mem::take(&mut hand.strokes);
    if soften {
        canvas.soften(amount);
    }
    canvas.add(|_, _| rng.normal() * grain);
    EmojiDrawing {
        image: canvas.to_image(),
        strokes,
        style,
    }
}

/// Light paper: a brightness, a lighting gradient, a coarse texture, fine grain, and sometimes
/// faint ruled lines of a notebook page.
fn paper(rng: &mut Rng, size: u32) -> Canvas {
    let mut canvas = Canvas::new(size, size, rng.range(0.8, 0.97));
    let side = size as f32;
    let k = side / SIZE as f32;
    let (gx, gy) = (rng.sym(0.2), rng.sym(0.2));
    // Coarse texture: bilinear value noise on a 9x9 grid.
    let grid: Vec<f32> = (0..81).map(|_| rng.sym(1.0)).collect();
    let texture = rng.range(0.0, 0.05);
    canvas.shade(|x, y, v| {
        let (fx, fy) = (x / side * 8.0, y / side * 8.0);
        let (ix, iy) = ((fx as usize).min(7), (fy as usize).min(7));
        let (tx, ty) = (fx - ix as f32, fy - iy as f32);
        let g = |i: usize, j: usize| grid[j * 9 + i];
        let n = g(ix, iy) * (1.0 - tx) * (1.0 - ty)
            + g(ix + 1, iy) * tx * (1.0 - ty)
            + g(ix, iy + 1) * (1.0 - tx) * ty
            + g(ix + 1, iy + 1) * tx * ty;
        v + gx * (x / side - 0.5) + gy * (y / side - 0.5) + texture * n
    });
    if rng.chance(0.25) {
        let spacing = rng.range(9.0, 14.0) * k;
        let offset = rng.range(0.0, spacing);
        let slope = rng.sym(0.04);
        let tone = rng.range(0.5, 0.75);
        let mut y = offset;
        while y < side + 4.0 * k {
            let line = [pt(0.0, y), pt(side, y + slope * side)];
            canvas.stroke_even(&line, 0.8 * k, tone, 0.35);
            y += spacing;
        }
    }
    let grain = rng.range(0.0, 0.02);
    canvas.add(|_, _| rng.sym(grain));
    canvas
}

/// The face circle: wobbly, sometimes left open or overshooting, sometimes in two strokes or
/// traced twice.
fn face_outline(hand: &mut Hand) {
    let start = hand.rng.range(0.0, TAU);
    let sweep = TAU + hand.rng.range(-0.6, 0.4);
    let (rx, ry) = (hand.rng.range(0.92, 1.06), hand.rng.range(0.88, 1.08));
    match hand.rng.index(7) {
        0 => {
            // Two halves that do not quite meet.
            let half = PI + hand.rng.sym(0.2);
            let a = arc(pt(0.0, 0.0), rx, ry, start, half, 40);
            let b = arc(
                pt(hand.rng.sym(0.04), hand.rng.sym(0.04)),
                rx,
                ry,
                start + half + hand.rng.sym(0.1),
                TAU - half + hand.rng.sym(0.15),
                40,
            );
            hand.stroke(&a, 1.0);
            hand.stroke(&b, 1.0);
        }
        1 => {
            let a = arc(pt(0.0, 0.0), rx, ry, start, sweep, 80);
            hand.stroke(&a, 1.0);
            let d = 0.035;
            let b = arc(
                pt(hand.rng.sym(d), hand.rng.sym(d)),
                rx + hand.rng.sym(d),
                ry + hand.rng.sym(d),
                start + hand.rng.sym(1.0),
                TAU * hand.rng.range(0.5, 1.0),
                80,
            );
            hand.stroke(&b, 0.7);
        }
        _ => {
            let a = arc(pt(0.0, 0.0), rx, ry, start, sweep, 80);
            hand.stroke(&a, 1.0);
        }
    }
}

/// Both eyes in this drawer's ordinary style.
fn plain_eyes(hand: &mut Hand, layout: &Layout) {
    for eye in layout.eyes {
        plain_eye(hand, eye, layout);
    }
}

fn plain_eye(hand: &mut Hand, eye: Pt, layout: &Layout) {
    let k = layout.eye_size;
    match layout.eye_style {
        0 => {
            let r = hand.rng.range(0.07, 0.11) * k;
            let squash = hand.rng.range(1.0, 1.3);
            hand.fill(&ellipse(eye, r, r * squash, 16));
        }
        1 => {
            let rx = hand.rng.range(0.055, 0.085) * k;
            let ry = hand.rng.range(0.12, 0.17) * k;
            hand.fill(&ellipse(eye, rx, ry, 16));
        }
        2 => {
            let r = hand.rng.range(0.1, 0.15) * k;
            let start = hand.rng.range(0.0, TAU);
            let ring = arc(eye, r, r * hand.rng.range(1.0, 1.3), start, TAU + 0.3, 24);
            hand.stroke(&ring, 0.75);
            if hand.rng.chance(0.6) {
                let pupil = pt(eye.x + hand.rng.sym(0.03), eye.y + hand.rng.sym(0.03));
                let pr = r * 0.4;
                hand.fill(&ellipse(pupil, pr, pr, 10));
            }
        }
        _ => {
            let half = hand.rng.range(0.1, 0.14) * k;
            let lean = hand.rng.sym(0.03);
            hand.stroke(
                &[
                    pt(eye.x - lean, eye.y - half),
                    pt(eye.x + lean, eye.y + half),
                ],
                1.1,
            );
        }
    }
}

/// A closed eye: an arc, bulging up (a happy `^`-like curve) or down.
fn closed_eye(hand: &mut Hand, eye: Pt, happy: bool) {
    let half = hand.rng.range(0.12, 0.17);
    let bulge = hand.rng.range(0.07, 0.12) * if happy { -1.0 } else { 1.0 };
    let a = pt(eye.x - half, eye.y);
    let b = pt(eye.x + half, eye.y);
    hand.stroke(&quad(a, pt(eye.x, eye.y + 2.0 * bulge), b, 12), 1.15);
}

/// A squeezed eye `>` or `<`, pointing to the face's middle.
fn caret_eye(hand: &mut Hand, eye: Pt, left: bool) {
    let (w, h) = (hand.rng.range(0.1, 0.15), hand.rng.range(0.08, 0.12));
    let dir = if left { 1.0 } else { -1.0 };
    let tip = pt(eye.x + dir * w, eye.y);
    hand.stroke(
        &[
            pt(eye.x - dir * w, eye.y - h),
            tip,
            pt(eye.x - dir * w, eye.y + h),
        ],
        1.0,
    );
}

/// A heart (the classic parametric curve), outlined, filled or scribbled in.
fn heart(hand: &mut Hand, at: Pt, size: f32, filled: usize) {
    let tilt = hand.rng.sym(0.3);
    let (s, c) = tilt.sin_cos();
    let outline: Vec<Pt> = (0..=40)
        .map(|i| {
            let t = TAU * i as f32 / 40.0;
            let x = 16.0 * t.sin().powi(3) / 17.0;
            let y =
                -(13.0 * t.cos() - 5.0 * (2.0 * t).cos() - 2.0 * (3.0 * t).cos() - (4.0 * t).cos())
                    / 17.0;
            let (x, y) = (x * size, (y + 0.1) * size);
            pt(at.x + x * c - y * s, at.y + x * s + y * c)
        })
        .collect();
    match filled {
        0 => hand.stroke(&outline, 0.9),
        1 => hand.fill(&outline[..40]),
        _ => {
            hand.stroke(&outline, 0.8);
            hand.scribble(&outline);
        }
    }
}

/// The mouth as one curve; `sag` > 0 smiles (the middle lower than the corners), < 0 frowns.
fn smile(hand: &mut Hand, layout: &Layout, sag: f32) {
    let a = layout.mouth_at(-1.0, 0.0);
    let b = layout.mouth_at(1.0, 0.0);
    let mid = layout.mouth_at(hand.rng.sym(0.1), 2.0 * sag);
    hand.stroke_steadied(&quad(a, mid, b, 24), 1.0, 0.4);
    if sag > 0.08 && hand.rng.chance(0.2) {
        // Dimples: short ticks across the corners.
        for u in [-1.0, 1.0] {
            let p = layout.mouth_at(u, 0.0);
            hand.stroke(
                &[
                    pt(p.x - 0.04 * u, p.y - 0.06),
                    pt(p.x + 0.04 * u, p.y + 0.05),
                ],
                0.7,
            );
        }
    }
}

/// A smirk: one corner up, the other flat.
fn smirk(hand: &mut Hand, layout: &Layout, up_side: usize) {
    let up = if up_side == 0 { -1.0 } else { 1.0 };
    let flat = layout.mouth_at(-up, 0.05);
    let raised = layout.mouth_at(up, -hand.rng.range(0.08, 0.16));
    let mid = layout.mouth_at(0.0, hand.rng.range(0.1, 0.18));
    hand.stroke(&quad(flat, mid, raised, 20), 1.0);
}

/// An open mouth: a straight-ish top and a deep curve below; laughing ones sometimes show
/// teeth or a tongue line.
fn open_mouth(hand: &mut Hand, layout: &Layout, depth: f32, laughing: bool) {
    let top_sag = hand.rng.range(-0.02, 0.08);
    let a = layout.mouth_at(-1.0, -0.04);
    let b = layout.mouth_at(1.0, -0.04);
    let mut outline = quad(a, layout.mouth_at(0.0, 2.0 * top_sag - 0.04), b, 16);
    outline.extend(
        quad(b, layout.mouth_at(0.0, 2.0 * depth), a, 20)
            .into_iter()
            .skip(1),
    );
    match hand.rng.index(if laughing { 4 } else { 3 }) {
        0 if laughing => hand.fill(&outline),
        1 => {
            hand.stroke(&outline, 1.0);
            let y = 0.3 * depth;
            hand.stroke(&[layout.mouth_at(-0.8, y), layout.mouth_at(0.8, y)], 0.7);
        }
        2 => {
            hand.stroke(&outline, 1.0);
            let tongue = quad(
                layout.mouth_at(-0.5, depth * 1.4),
                layout.mouth_at(0.0, depth * 0.6),
                layout.mouth_at(0.5, depth * 1.4),
                10,
            );
            hand.stroke(&tongue, 0.7);
        }
        _ => hand.stroke(&outline, 1.0),
    }
}

/// A tear running from the outer corner of an eye: a drop, outlined or filled, sometimes a
/// second one or a streak.
fn tear(hand: &mut Hand, eye: Pt, left: bool) {
    let out = if left { -1.0 } else { 1.0 };
    let size = hand.rng.range(0.08, 0.15);
    let tip = pt(
        eye.x + out * hand.rng.range(0.1, 0.2),
        eye.y + hand.rng.range(0.03, 0.1),
    );
    let drop = |tip: Pt, size: f32, lean: f32| -> Vec<Pt> {
        // Tip at the top, round bottom: two quadratic sides and an arc.
        let centre = pt(tip.x + lean * size, tip.y + 1.6 * size);
        let mut pts = quad(
            tip,
            pt(tip.x - 0.3 * size, tip.y + 0.9 * size),
            pt(centre.x - size, centre.y),
            8,
        );
        pts.extend(arc(centre, size, size, PI, -PI, 14).into_iter().skip(1));
        pts.extend(
            quad(
                pt(centre.x + size, centre.y),
                pt(tip.x + 0.3 * size, tip.y + 0.9 * size),
                tip,
                8,
            )
            .into_iter()
            .skip(1),
        );
        pts
    };
    let lean = out * hand.rng.range(0.0, 0.6);
    let first = drop(tip, size, lean);
    if hand.rng.chance(0.35) {
        hand.fill(&first);
    } else {
        hand.stroke(&first, 0.8);
    }
    match hand.rng.index(4) {
        0 => {
            let second = drop(
                pt(tip.x + out * 0.08, tip.y + 3.2 * size),
                size * 0.75,
                lean,
            );
            hand.stroke(&second, 0.7);
        }
        1 => {
            // A streak down the cheek.
            let start = pt(tip.x + out * 0.02, tip.y + 2.8 * size);
            hand.stroke(
                &quad(
                    start,
                    pt(start.x + out * 0.05, start.y + 0.15),
                    pt(start.x + out * 0.02, start.y + 0.3),
                    8,
                ),
                0.6,
            );
        }
        _ => {}
    }
}

/// A tongue hanging from the mouth, with a middle line sometimes; the mouth is a line, a
/// smile or a small open mouth.
fn tongue(hand: &mut Hand, layout: &Layout) {
    let shift = hand.rng.sym(0.35);
    let width = hand.rng.range(0.36, 0.55);
    let length = hand.rng.range(0.24, 0.4);
    let mouth_sag = match hand.rng.index(3) {
        0 => 0.0,
        _ => hand.rng.range(0.04, 0.14),
    };
    let a = layout.mouth_at(-1.0, 0.0);
    let b = layout.mouth_at(1.0, 0.0);
    hand.stroke(&quad(a, layout.mouth_at(0.0, 2.0 * mouth_sag), b, 20), 1.0);
    // The tongue hangs from the mouth line near its middle.
    let y0 = mouth_sag * (1.0 - shift * shift);
    let left = layout.mouth_at(shift - width / 2.0 / layout.mouth_half.max(0.2), y0);
    let right = layout.mouth_at(shift + width / 2.0 / layout.mouth_half.max(0.2), y0);
    let bottom = layout.mouth_at(shift, y0 + length);
    let (mx, my) = ((left.x + right.x) / 2.0, (left.y + right.y) / 2.0);
    let rx = ((right.x - left.x).powi(2) + (right.y - left.y).powi(2)).sqrt() / 2.0;
    let ry = ((bottom.x - mx).powi(2) + (bottom.y - my).powi(2)).sqrt();
    let mut u = arc(pt(0.0, 0.0), rx, ry, 0.0, PI, 20);
    let rot = layout.tilt;
    let (s, c) = rot.sin_cos();
    for p in &mut u {
        *p = pt(mx + p.x * c - p.y * s, my + p.x * s + p.y * c);
    }
    u.reverse();
    hand.stroke(&u, 0.95);
    if hand.rng.chance(0.5) {
        hand.stroke(
            &[
                pt(mx, my + 0.02),
                pt(mx + s * ry * -0.55, my + c * ry * 0.55),
            ],
            0.6,
        );
    }
}

/// Brows: angry ones slope down to the middle (`\ /`), sad ones up (`/ \`).
fn brows(hand: &mut Hand, layout: &Layout, angry: bool) {
    let lift = hand.rng.range(0.17, 0.27);
    let slope = hand.rng.range(0.1, 0.18);
    let curve = hand.rng.sym(0.04);
    for (side, eye) in layout.eyes.into_iter().enumerate() {
        let inward = if side == 0 { 1.0 } else { -1.0 };
        let half = hand.rng.range(0.11, 0.18);
        let inner_drop = if angry { slope } else { -slope };
        let inner = pt(eye.x + inward * half, eye.y - lift + inner_drop);
        let outer = pt(eye.x - inward * half, eye.y - lift - inner_drop * 0.6);
        let mid = pt((inner.x + outer.x) / 2.0, (inner.y + outer.y) / 2.0 - curve);
        let weight = if angry { hand.rng.range(1.0, 1.5) } else { 0.9 };
        hand.stroke(&quad(outer, mid, inner, 10), weight);
    }
}

/// Clenched teeth: a rounded box with a line across and a few upright ones.
fn gritted_teeth(hand: &mut Hand, layout: &Layout) {
    let h = hand.rng.range(0.1, 0.16);
    let corners = [
        layout.mouth_at(-0.9, -h),
        layout.mouth_at(0.9, -h),
        layout.mouth_at(0.9, h),
        layout.mouth_at(-0.9, h),
    ];
    let mut outline = corners.to_vec();
    outline.push(corners[0]);
    hand.stroke(&outline, 1.0);
    hand.stroke(
        &[layout.mouth_at(-0.9, 0.0), layout.mouth_at(0.9, 0.0)],
        0.6,
    );
    let n = 2 + hand.rng.index(3);
    for i in 1..=n {
        let u = -0.9 + 1.8 * i as f32 / (n + 1) as f32;
        hand.stroke(&[layout.mouth_at(u, -h), layout.mouth_at(u, h)], 0.5);
    }
}

/// The open frown of a sad face: an upside-down open mouth.
fn open_frown(hand: &mut Hand, layout: &Layout) {
    let depth = hand.rng.range(0.12, 0.22);
    let a = layout.mouth_at(-0.8, depth);
    let b = layout.mouth_at(0.8, depth);
    let mut outline = quad(a, layout.mouth_at(0.0, -depth * 1.4), b, 16);
    outline.extend(
        quad(b, layout.mouth_at(0.0, depth * 1.3), a, 12)
            .into_iter()
            .skip(1),
    );
    hand.stroke(&outline, 1.0);
}

/// The manga anger mark: four short curves around a point near the top of the head.
fn anger_mark(hand: &mut Hand) {
    let side = if hand.rng.chance(0.5) { 1.0 } else { -1.0 };
    let at = pt(side * hand.rng.range(0.45, 0.6), -hand.rng.range(0.5, 0.65));
    let r = hand.rng.range(0.08, 0.12);
    for k in 0..4 {
        let a = FRAC_PI_2 * k as f32 + 0.3;
        let p = pt(at.x + r * a.cos(), at.y + r * a.sin());
        let q = pt(at.x + 2.0 * r * a.cos(), at.y + 2.0 * r * a.sin());
        let bend = pt(
            (p.x + q.x) / 2.0 + 0.4 * r * (a + FRAC_PI_2).cos(),
            (p.y + q.y) / 2.0 + 0.4 * r * (a + FRAC_PI_2).sin(),
        );
        hand.stroke(&quad(p, bend, q, 6), 0.7);
    }
}

/// What some people add whatever the emoji: a nose, blushing cheeks, a few hairs. Drawn
/// independently of the class so that they are noise to a classifier, not a cue.
fn decorations(hand: &mut Hand, layout: &Layout) {
    let mid_y = (layout.eyes[0].y + layout.eyes[1].y) / 2.0;
    let nose_y = (mid_y + layout.mouth.y) / 2.0 - 0.02;
    match hand.rng.index(10) {
        0 => {
            let r = hand.rng.range(0.025, 0.045);
            let x = hand.rng.sym(0.03);
            hand.fill(&ellipse(pt(x, nose_y), r, r, 8));
        }
        1 => {
            let side = if hand.rng.chance(0.5) { 1.0 } else { -1.0 };
            let top = pt(hand.rng.sym(0.03), nose_y - 0.1);
            let bottom = pt(top.x, nose_y + 0.04);
            hand.stroke(&[top, bottom, pt(top.x + side * 0.07, nose_y + 0.03)], 0.7);
        }
        _ => {}
    }
    if hand.rng.chance(0.1) {
        // Blush: short hatching on both cheeks.
        for eye in layout.eyes {
            let cheek = pt(eye.x * 1.15, layout.mouth.y - 0.1);
            for k in 0..3 {
                let x = cheek.x - 0.07 + 0.07 * k as f32;
                hand.stroke(
                    &[pt(x + 0.03, cheek.y - 0.04), pt(x - 0.03, cheek.y + 0.04)],
                    0.5,
                );
            }
        }
    }
    if hand.rng.chance(0.08) {
        // A few hairs (or a curl) on top.
        let n = 1 + hand.rng.index(3);
        for k in 0..n {
            let x = (k as f32 - (n - 1) as f32 / 2.0) * 0.12 + hand.rng.sym(0.04);
            let base = pt(x, -0.98);
            let tip = pt(x + hand.rng.sym(0.1), -1.2 - hand.rng.range(0.0, 0.08));
            let bend = pt(
                (base.x + tip.x) / 2.0 + hand.rng.sym(0.08),
                (base.y + tip.y) / 2.0,
            );
            hand.stroke(&quad(base, bend, tip, 8), 0.7);
        }
    }
}

/// A stray pen mark or pencil smudge outside the face, unrelated to the class.
fn stray_mark(hand: &mut Hand) {
    let angle = hand.rng.range(0.0, TAU);
    let r = hand.rng.range(1.1, 1.3);
    let at = pt(r * angle.cos(), r * angle.sin());
    let len = hand.rng.range(0.05, 0.25);
    let dir = hand.rng.range(0.0, TAU);
    let end = pt(at.x + len * dir.cos(), at.y + len * dir.sin());
    let weight = hand.rng.range(0.3, 0.8);
    hand.stroke(&[at, end], weight);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn drawings_are_64x64_dark_on_light_and_seeded() {
        for class in 0..8 {
            let a = draw(class, 11);
            assert_eq!(a.dimensions(), (SIZE, SIZE));
            assert_eq!(a, draw(class, 11));
            assert_ne!(a, draw(class, 12));
            let mean = a.as_raw().iter().map(|&p| f32::from(p)).sum::<f32>() / 4096.0;
            let dark = a
                .as_raw()
                .iter()
                .filter(|&&p| f32::from(p) < mean - 50.0)
                .count();
            assert!(mean > 150.0, "class {class}: mean {mean}");
            assert!(dark > 60, "class {class}: {dark} dark pixels");
        }
    }

    #[test]
    fn every_style_draws_a_face_that_normalizes_and_records_its_strokes() {
        for style in EmojiStyle::ALL {
            assert_eq!(EmojiStyle::by_name(style.name()), Some(style));
            for class in 0..8 {
                for seed in 0..2 {
                    let raw = draw_raw(class, seed, style, 96);
                    assert_eq!(raw.image.dimensions(), (96, 96));
                    assert!(
                        raw.strokes.len() >= 4,
                        "{style:?} {class}: {}",
                        raw.strokes.len()
                    );
                    let normalized = sentio_sketch::normalize_drawing(&raw.image).unwrap();
                    let image = normalized.image().expect("a drawing, not blank");
                    let ink = image.as_raw().iter().filter(|&&p| p < 128).count();
                    assert!(ink > 150, "{style:?} {class} {seed}: {ink} ink pixels");
                }
            }
        }
        assert!(!EmojiStyle::TRAINING.contains(&EmojiStyle::HELD_OUT[0]));
    }
}
