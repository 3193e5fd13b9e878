//! Procedural grayscale faces, 48x48, in the seven expressions of `fer7`, cropped the way
//! FER2013's faces are (the face fills most of the frame).
//!
//! A face is drawn in "face units" (half the face's width is 1, y down, origin between the
//! cheekbones) and placed by a random pose (rotation ±15°, small shift, size). Face shape,
//! skin tone, hair, lighting, background, glasses and fringes vary independently of the
//! expression; the expression is carried only by brows, eyes, mouth and nose wrinkles, with
//! the intensity varying too.

use image::GrayImage;

use crate::raster::{Affine, Canvas, Pt, arc, ellipse, pt, quad, transform};
use crate::rng::Rng;

/// Side of a face image in pixels.
pub const SIZE: u32 = 48;

const ANGRY: usize = 0;
const DISGUST: usize = 1;
const FEAR: usize = 2;
const HAPPY: usize = 3;
const SAD: usize = 4;
const SURPRISE: usize = 5;

/// Drawing in face units onto the canvas.
struct Painter<'a> {
    canvas: &'a mut Canvas,
    place: Affine,
}

impl Painter<'_> {
    fn fill(&mut self, outline: &[Pt], value: f32, opacity: f32) {
        let on_page = transform(outline, &self.place);
        self.canvas.fill(&on_page, value, opacity);
    }

    /// A stroke `width` pixels wide.
    fn stroke(&mut self, points: &[Pt], width: f32, value: f32, opacity: f32) {
        let on_page = transform(points, &self.place);
        self.canvas.stroke_even(&on_page, width, value, opacity);
    }

    /// A stroke with a width per point.
    fn stroke_widths(&mut self, points: &[Pt], widths: &[f32], value: f32, opacity: f32) {
        let on_page = transform(points, &self.place);
        self.canvas.stroke(&on_page, widths, value, opacity);
    }
}

/// How the expression shows, in face units and factors.
struct Expression {
    /// Brow height above the eye, at the inner and outer end.
    brow_inner: f32,
    brow_outer: f32,
    /// Brow arch (positive bows upward).
    brow_arch: f32,
    /// Inner brow ends pulled together.
    brow_squeeze: f32,
    /// Eye opening factor (1 = relaxed).
    eye_open: f32,
    /// Lower lid raised (a smile's squint, disgust).
    lower_lid: f32,
    /// Nose wrinkles (disgust).
    wrinkles: bool,
}

/// Draw one face of class `class` (an `fer7` index; others wrap around) from `seed`.
pub fn draw(class: usize, seed: u64) -> GrayImage {
    let mut rng = Rng::new(seed);
    let class = class % 7;
    let intensity = rng.range(0.6, 1.0);

    // Background: a tone, a gradient, a few out-of-focus shapes.
    let background = rng.range(0.1, 0.9);
    let mut canvas = Canvas::new(SIZE, SIZE, background);
    let (gx, gy) = (rng.sym(0.25), rng.sym(0.25));
    canvas.shade(|x, y, v| v + gx * (x / SIZE as f32 - 0.5) + gy * (y / SIZE as f32 - 0.5));
    for _ in 0..rng.index(3) {
        let c = pt(rng.range(0.0, 48.0), rng.range(0.0, 48.0));
        let shape = ellipse(c, rng.range(5.0, 20.0), rng.range(5.0, 20.0), 24);
        canvas.fill(&shape, rng.range(0.0, 1.0), rng.range(0.2, 0.6));
    }
    canvas.soften(1.0);

    let half_width = rng.range(16.5, 20.5);
    let aspect = rng.range(1.12, 1.35);
    let centre = pt(24.0 + rng.sym(2.0), 24.5 + rng.sym(2.0));
    let angle = rng.sym(15f32.to_radians());
    let mut p = Painter {
        canvas: &mut canvas,
        place: Affine::place(centre, half_width, half_width, angle),
    };

    let skin = rng.range(0.3, 0.85);
    let hair = if rng.chance(0.5) {
        rng.range(0.03, 0.25)
    } else {
        rng.range(0.25, 0.75)
    };
    let feature_dark = (skin * rng.range(0.25, 0.5)).min(0.3);
    let chin = aspect;
    let jaw = rng.range(0.05, 0.3);
    let face_outline: Vec<Pt> = (0..48)
        .map(|i| {
            let t = std::f32::consts::TAU * i as f32 / 48.0;
            let (x, y) = (t.cos(), t.sin() * chin);
            // Narrow the lower half towards the chin.
            let narrowing = if y > 0.0 {
                1.0 - jaw * (y / chin).powi(2)
            } else {
                1.0
            };
            pt(x * narrowing, y - 0.1)
        })
        .collect();

    // Neck and shoulders under the face.
    let neck = [pt(-0.45, 0.5), pt(0.45, 0.5), pt(0.5, 2.0), pt(-0.5, 2.0)];
    p.fill(&neck, skin * 0.72, 1.0);
    let shoulders = ellipse(pt(0.0, 2.3), 2.2, 0.8, 32);
    p.fill(&shoulders, rng.range(0.05, 0.9), 1.0);

    // Hair behind the head, long hair down the sides sometimes.
    let has_hair = rng.chance(0.85);
    if has_hair {
        let top = ellipse(pt(0.0, -0.45), 1.15, chin * 0.8, 32);
        p.fill(&top, hair, 1.0);
        if rng.chance(0.35) {
            for side in [-1.0, 1.0] {
                let long = ellipse(pt(side * 1.0, 0.4), 0.35, chin * 0.9, 20);
                p.fill(&long, hair, 1.0);
            }
        }
    }
    if rng.chance(0.5) {
        for side in [-1.0f32, 1.0] {
            let ear = ellipse(pt(side * 0.98, 0.0), 0.15, 0.28, 12);
            p.fill(&ear, skin * 0.92, 1.0);
        }
    }
    p.fill(&face_outline, skin, 1.0);
    // Hairline over the forehead.
    if has_hair {
        let line = rng.range(0.75, 1.0) * chin;
        let dip = rng.range(-0.1, 0.2);
        let mut cap = arc(
            pt(0.0, -0.1),
            1.02,
            chin * 1.02,
            std::f32::consts::PI,
            std::f32::consts::PI,
            24,
        );
        cap.extend(quad(
            pt(1.0, -line + 0.25),
            pt(0.0, -line + 2.0 * dip),
            pt(-1.0, -line + 0.25),
            12,
        ));
        p.fill(&cap, hair, 1.0);
    }

    // The shading of a round face: darker towards the rim.
    let rim = transform(&face_outline, &p.place);
    let mut closed = rim.clone();
    closed.push(rim[0]);
    p.canvas
        .stroke_even(&closed, half_width * 0.35, skin * 0.7, 0.25);

    let expression = expression(class, intensity, &mut rng);
    let eye_y = rng.range(-0.18, -0.04);
    let eye_x = rng.range(0.36, 0.44);
    let eye_w = rng.range(0.17, 0.22);
    let mouth_y = rng.range(0.5, 0.6) * chin - 0.05;
    let mouth_w = rng.range(0.3, 0.4);

    // Eye sockets: a soft shadow above each eye.
    for side in [-1.0f32, 1.0] {
        let socket = ellipse(pt(side * eye_x, eye_y - 0.04), eye_w * 1.5, 0.16, 16);
        p.fill(&socket, skin * 0.6, 0.3);
    }
    for side in [-1.0f32, 1.0] {
        eye(
            &mut p,
            pt(side * eye_x, eye_y),
            eye_w,
            &expression,
            skin,
            feature_dark,
            &mut rng,
        );
        brow(
            &mut p,
            side,
            eye_x,
            eye_y,
            eye_w,
            &expression,
            hair.min(skin * 0.5),
            &mut rng,
        );
    }
    nose(&mut p, eye_y, mouth_y, skin, &expression, &mut rng);
    mouth(
        &mut p,
        class,
        intensity,
        mouth_y,
        mouth_w,
        skin,
        feature_dark,
        &mut rng,
    );

    // Occlusions: glasses, or a fringe over the forehead.
    if rng.chance(0.2) {
        glasses(&mut p, eye_x, eye_y, eye_w, &mut rng);
    }
    if has_hair && rng.chance(0.2) {
        let low = eye_y - rng.range(0.2, 0.4);
        let mut fringe = vec![pt(-1.05, -chin), pt(1.05, -chin)];
        let teeth = 6 + rng.index(5);
        for k in 0..=teeth {
            let x = 1.0 - 2.0 * k as f32 / teeth as f32;
            let y = if k % 2 == 0 {
                low
            } else {
                low - rng.range(0.05, 0.2)
            };
            fringe.push(pt(x, y));
        }
        p.fill(&fringe, hair, 1.0);
    }

    // Light from one side over everything, then camera softness and sensor noise.
    let dir = rng.range(0.0, std::f32::consts::TAU);
    let strength = rng.range(0.0, 0.35);
    let (dx, dy) = (dir.cos(), dir.sin());
    canvas.shade(|x, y, v| {
        let t = ((x - 24.0) * dx + (y - 24.0) * dy) / 24.0;
        v * (1.0 + strength * t)
    });
    canvas.soften(rng.range(0.3, 1.0));
    let contrast = rng.range(0.8, 1.2);
    let gamma = rng.range(0.8, 1.25);
    canvas.shade(|_, _, v| (v.clamp(0.0, 1.0).powf(gamma) - 0.5) * contrast + 0.5);
    let noise = rng.range(0.0, 0.025);
    canvas.add(|_, _| rng.normal() * noise);
    canvas.to_image()
}

/// Brows, eyes and nose for each expression, scaled by `k` (its intensity).
fn expression(class: usize, k: f32, rng: &mut Rng) -> Expression {
    let j = |rng: &mut Rng| rng.sym(0.03);
    let relaxed = Expression {
        brow_inner: 0.28 + j(rng),
        brow_outer: 0.27 + j(rng),
        brow_arch: rng.range(0.0, 0.06),
        brow_squeeze: 0.0,
        eye_open: rng.range(0.9, 1.15),
        lower_lid: 0.0,
        wrinkles: false,
    };
    match class {
        ANGRY => Expression {
            brow_inner: 0.12 - 0.06 * k,
            brow_outer: 0.27 + 0.03 * k,
            brow_arch: -0.02,
            brow_squeeze: 0.06 * k,
            eye_open: 1.0 - 0.25 * k,
            lower_lid: 0.15 * k,
            ..relaxed
        },
        DISGUST => Expression {
            brow_inner: 0.17 - 0.04 * k,
            brow_outer: 0.22,
            brow_arch: 0.0,
            brow_squeeze: 0.04 * k,
            eye_open: 0.9 - 0.3 * k,
            lower_lid: 0.35 * k,
            wrinkles: true,
        },
        FEAR => Expression {
            brow_inner: 0.38 + 0.1 * k,
            brow_outer: 0.3 + 0.04 * k,
            brow_arch: -0.02,
            brow_squeeze: 0.04 * k,
            eye_open: 1.3 + 0.4 * k,
            ..relaxed
        },
        HAPPY => Expression {
            eye_open: 0.95 - 0.3 * k,
            lower_lid: 0.4 * k,
            ..relaxed
        },
        SAD => Expression {
            brow_inner: 0.34 + 0.1 * k,
            brow_outer: 0.2 - 0.04 * k,
            brow_arch: -0.03,
            brow_squeeze: 0.02 * k,
            eye_open: 0.85 - 0.15 * k,
            ..relaxed
        },
        SURPRISE => Expression {
            brow_inner: 0.4 + 0.12 * k,
            brow_outer: 0.38 + 0.12 * k,
            brow_arch: 0.08 + 0.05 * k,
            eye_open: 1.4 + 0.5 * k,
            ..relaxed
        },
        _ => relaxed,
    }
}

fn eye(p: &mut Painter, at: Pt, w: f32, e: &Expression, skin: f32, dark: f32, rng: &mut Rng) {
    let open = (0.09 * e.eye_open).max(0.02);
    // The eye's almond: upper lid arc higher than the lower one.
    let mut almond = arc(at, w, open, std::f32::consts::PI, std::f32::consts::PI, 14);
    let lower = arc(
        at,
        w,
        open * (1.0 - e.lower_lid).max(0.15),
        0.0,
        std::f32::consts::PI,
        14,
    );
    almond.extend(lower.into_iter().skip(1));
    let white = (skin + 0.2).min(0.95);
    p.fill(&almond, white, 0.9);
    let iris_r = (w * 0.5).min(open * 1.1 + 0.03);
    let look = pt(rng.sym(0.04), rng.sym(0.015));
    let iris = ellipse(
        pt(at.x + look.x, at.y + look.y),
        iris_r * 0.95,
        iris_r.min(open * 1.05 + 0.01),
        14,
    );
    p.fill(&iris, dark, 0.95);
    let lid = arc(
        at,
        w * 1.05,
        open * 1.05,
        std::f32::consts::PI,
        std::f32::consts::PI,
        14,
    );
    p.stroke(&lid, 1.1, dark, 0.9);
    if e.lower_lid > 0.2 {
        // The cheek pushed up under a squinting eye.
        let crease = arc(pt(at.x, at.y + open + 0.06), w, 0.05, 0.2, 2.7, 10);
        p.stroke(&crease, 0.8, skin * 0.6, 0.6);
    }
}

#[allow(clippy::too_many_arguments)]
fn brow(
    p: &mut Painter,
    side: f32,
    eye_x: f32,
    eye_y: f32,
    w: f32,
    e: &Expression,
    tone: f32,
    rng: &mut Rng,
) {
    let inward = -side;
    let inner = pt(
        side * eye_x + inward * (w * 1.0 + 0.02 - e.brow_squeeze),
        eye_y - e.brow_inner + rng.sym(0.015),
    );
    let outer = pt(
        side * eye_x - inward * (w * 1.2),
        eye_y - e.brow_outer + rng.sym(0.015),
    );
    let mid = pt(
        (inner.x + outer.x) / 2.0,
        (inner.y + outer.y) / 2.0 - 2.0 * e.brow_arch,
    );
    let points = quad(inner, mid, outer, 12);
    let thick = rng.range(1.6, 2.8);
    let widths: Vec<f32> = (0..points.len())
        .map(|i| thick * (1.0 - 0.45 * i as f32 / points.len() as f32))
        .collect();
    p.stroke_widths(&points, &widths, tone, 0.9);
    if e.brow_squeeze > 0.03 {
        // Frown lines between the brows.
        let x = side * 0.05;
        p.stroke(
            &[pt(x, eye_y - 0.22), pt(x * 1.3, eye_y - 0.08)],
            0.8,
            tone * 1.5,
            0.5,
        );
    }
}

fn nose(p: &mut Painter, eye_y: f32, mouth_y: f32, skin: f32, e: &Expression, rng: &mut Rng) {
    let tip_y = eye_y + (mouth_y - eye_y) * rng.range(0.55, 0.68);
    let side = if rng.chance(0.5) { 1.0 } else { -1.0 };
    p.stroke(
        &quad(
            pt(side * 0.08, eye_y + 0.05),
            pt(side * 0.13, (eye_y + tip_y) / 2.0),
            pt(side * 0.14, tip_y),
            8,
        ),
        1.0,
        skin * 0.6,
        0.35,
    );
    p.stroke(
        &quad(pt(-0.16, tip_y), pt(0.0, tip_y + 0.1), pt(0.16, tip_y), 8),
        1.2,
        skin * 0.55,
        0.5,
    );
    for s in [-1.0f32, 1.0] {
        let nostril = ellipse(pt(s * 0.08, tip_y + 0.02), 0.05, 0.03, 8);
        p.fill(&nostril, skin * 0.35, 0.7);
    }
    if e.wrinkles {
        // Wrinkled nose: short creases across the bridge, and deep folds to the mouth.
        for k in 0..3 {
            let y = eye_y + 0.05 + 0.06 * k as f32;
            p.stroke(
                &[pt(-0.1, y + 0.02), pt(0.0, y), pt(0.1, y + 0.02)],
                0.8,
                skin * 0.5,
                0.6,
            );
        }
        for s in [-1.0f32, 1.0] {
            p.stroke(
                &quad(
                    pt(s * 0.2, tip_y - 0.02),
                    pt(s * 0.32, (tip_y + mouth_y) / 2.0),
                    pt(s * 0.3, mouth_y),
                    8,
                ),
                1.1,
                skin * 0.5,
                0.7,
            );
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn mouth(
    p: &mut Painter,
    class: usize,
    k: f32,
    y: f32,
    w: f32,
    skin: f32,
    dark: f32,
    rng: &mut Rng,
) {
    let lip = skin * rng.range(0.6, 0.8);
    let teeth = (skin + 0.25).min(0.95);
    let at = |u: f32, dy: f32| pt(u * w, y + dy);
    match class {
        HAPPY => {
            let sag = 0.1 + 0.1 * k;
            let (a, b) = (at(-1.15, -0.04), at(1.15, -0.04));
            if rng.chance(0.55) {
                // Open smile with teeth.
                let mut shape = quad(a, at(0.0, sag * 1.2), b, 14);
                shape.extend(
                    quad(b, at(0.0, sag * 2.0 + 0.2 * k), a, 14)
                        .into_iter()
                        .skip(1),
                );
                p.fill(&shape, dark, 0.95);
                let mut band = quad(a, at(0.0, sag * 1.2), b, 14);
                band.extend(
                    quad(b, at(0.0, sag * 1.6 + 0.06), a, 14)
                        .into_iter()
                        .skip(1),
                );
                p.fill(&band, teeth, 0.9);
            } else {
                p.stroke(&quad(a, at(0.0, 2.0 * sag), b, 14), 1.6, dark, 0.9);
                p.stroke(
                    &quad(
                        at(-0.7, sag + 0.05),
                        at(0.0, sag * 2.0 + 0.1),
                        at(0.7, sag + 0.05),
                        10,
                    ),
                    1.5,
                    lip,
                    0.6,
                );
            }
            for s in [-1.0f32, 1.0] {
                p.stroke(
                    &quad(at(s * 1.1, -0.3), at(s * 1.45, -0.12), at(s * 1.3, 0.08), 8),
                    1.0,
                    skin * 0.55,
                    0.5 * k,
                );
            }
        }
        SAD => {
            let sag = -(0.05 + 0.08 * k);
            p.stroke(
                &quad(at(-1.0, 0.02), at(0.0, 2.0 * sag), at(1.0, 0.02), 14),
                1.5,
                dark,
                0.9,
            );
            // Pushed-up lower lip and chin.
            p.stroke(
                &quad(
                    at(-0.55, 0.1 + sag),
                    at(0.0, 0.05 + sag),
                    at(0.55, 0.1 + sag),
                    8,
                ),
                1.6,
                lip,
                0.6,
            );
            p.stroke(
                &quad(at(-0.4, 0.3), at(0.0, 0.24), at(0.4, 0.3), 8),
                1.0,
                skin * 0.6,
                0.4,
            );
        }
        SURPRISE => {
            let (rx, ry) = (0.45 + 0.15 * k, 0.16 + 0.14 * k);
            let o = ellipse(at(0.0, 0.08), rx * w / 0.35 * 0.45, ry, 20);
            p.fill(&o, lip, 0.9);
            let inner = ellipse(at(0.0, 0.08), rx * w / 0.35 * 0.35, ry * 0.78, 20);
            p.fill(&inner, dark, 0.95);
        }
        FEAR => {
            let h = 0.08 + 0.1 * k;
            let mut shape = quad(at(-1.25, 0.02), at(0.0, -h), at(1.25, 0.02), 14);
            shape.extend(
                quad(at(1.25, 0.02), at(0.0, h * 2.0), at(-1.25, 0.02), 14)
                    .into_iter()
                    .skip(1),
            );
            p.fill(&shape, dark, 0.95);
            if rng.chance(0.6) {
                let band = [
                    at(-0.8, -h * 0.45),
                    at(0.8, -h * 0.45),
                    at(0.75, -h * 0.1),
                    at(-0.75, -h * 0.1),
                ];
                p.fill(&band, teeth, 0.8);
            }
            // Neck tension lines below the stretched mouth.
            for s in [-1.0f32, 1.0] {
                p.stroke(
                    &[at(s * 1.25, 0.05), at(s * 1.3, 0.3)],
                    0.8,
                    skin * 0.6,
                    0.4,
                );
            }
        }
        ANGRY => {
            if rng.chance(0.5) {
                // Pressed lips.
                p.stroke(
                    &quad(at(-0.9, 0.03), at(0.0, -0.03), at(0.9, 0.03), 12),
                    1.8,
                    dark,
                    0.95,
                );
                p.stroke(
                    &quad(at(-0.5, 0.13), at(0.0, 0.17), at(0.5, 0.13), 8),
                    1.2,
                    skin * 0.65,
                    0.5,
                );
            } else {
                // Bared teeth.
                let h = 0.06 + 0.06 * k;
                let shape = [at(-1.0, -h), at(1.0, -h), at(0.9, h), at(-0.9, h)];
                p.fill(&shape, dark, 0.95);
                let inner = [
                    at(-0.85, -h * 0.6),
                    at(0.85, -h * 0.6),
                    at(0.78, h * 0.6),
                    at(-0.78, h * 0.6),
                ];
                p.fill(&inner, teeth, 0.85);
                p.stroke(&[at(-0.8, 0.0), at(0.8, 0.0)], 0.8, dark, 0.8);
            }
        }
        DISGUST => {
            // A sneer: the upper lip raised on one side, the corners down.
            let s = if rng.chance(0.5) { 1.0 } else { -1.0 };
            let raise = 0.05 + 0.08 * k;
            let line = [
                at(-s * 1.0, 0.06),
                at(-s * 0.3, 0.0),
                at(s * 0.3, -raise),
                at(s * 0.9, 0.04),
            ];
            p.stroke(&line, 1.6, dark, 0.95);
            let gap = [
                at(-s * 0.2, 0.0),
                at(s * 0.3, -raise),
                at(s * 0.7, 0.0),
                at(0.0, 0.04),
            ];
            p.fill(&gap, dark, 0.8);
            p.stroke(
                &quad(at(-0.6, 0.16), at(0.0, 0.2), at(0.6, 0.16), 8),
                1.5,
                lip,
                0.6,
            );
        }
        _ => {
            let tilt = rng.sym(0.02);
            p.stroke(
                &quad(at(-1.0, tilt), at(0.0, rng.sym(0.015)), at(1.0, -tilt), 12),
                1.3,
                dark,
                0.85,
            );
            p.stroke(
                &quad(at(-0.6, 0.1), at(0.0, 0.16), at(0.6, 0.1), 8),
                1.5,
                lip,
                0.55,
            );
        }
    }
}

fn glasses(p: &mut Painter, eye_x: f32, eye_y: f32, w: f32, rng: &mut Rng) {
    let frame = rng.range(0.0, 0.25);
    let sunglasses = rng.chance(0.25);
    let (rx, ry) = (w * rng.range(1.3, 1.6), rng.range(0.16, 0.24));
    for side in [-1.0f32, 1.0] {
        let lens = ellipse(pt(side * eye_x, eye_y + 0.02), rx, ry, 20);
        if sunglasses {
            p.fill(&lens, frame, 0.92);
        }
        let mut ring = lens.clone();
        ring.push(lens[0]);
        p.stroke(&ring, 1.2, frame, 0.95);
        p.stroke(
            &[pt(side * (eye_x + rx), eye_y), pt(side * 1.0, eye_y - 0.05)],
            1.0,
            frame,
            0.9,
        );
    }
    p.stroke(
        &quad(
            pt(-eye_x + rx, eye_y),
            pt(0.0, eye_y - 0.08),
            pt(eye_x - rx, eye_y),
            6,
        ),
        1.0,
        frame,
        0.9,
    );
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn faces_are_48x48_and_seeded() {
        for class in 0..7 {
            let a = draw(class, 5);
            assert_eq!(a.dimensions(), (SIZE, SIZE));
            assert_eq!(a, draw(class, 5));
            assert_ne!(a, draw(class, 6));
        }
    }
}
