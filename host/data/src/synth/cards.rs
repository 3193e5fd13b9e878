//! Camera frames of a drawn card held up to a kiosk camera: the sketch mode's test input.
//!
//! An emoji drawn by [`super::emoji::draw_raw`] on a light card, seen by a camera: the card
//! tilted and in perspective (each corner pulled independently), a cluttered room behind it,
//! light falling unevenly, sometimes the shadow of the hand that holds it and the fingers at its
//! edge, then lens blur and sensor noise. RGB, `width x height`.

use image::{GrayImage, Rgb, RgbImage};
use sentio_sketch::Homography;

use crate::raster::{Canvas, ellipse, pt};
use crate::rng::Rng;

use super::emoji::{EmojiStyle, draw_raw};

/// A camera frame and where the card is in it.
pub struct CardFrame {
    pub frame: RgbImage,
    /// Card corners in frame pixels: top-left, top-right, bottom-right, bottom-left.
    pub corners: [[f32; 2]; 4],
    pub style: EmojiStyle,
}

/// The card side the drawing is rendered at before the camera sees it.
const CARD_SIDE: u32 = 128;

/// One frame of a card with an emoji of `class`, drawn in a style picked from `styles`.
pub fn draw_card_frame(
    class: usize,
    seed: u64,
    styles: &[EmojiStyle],
    width: u32,
    height: u32,
) -> CardFrame {
    let mut rng = Rng::new(seed);
    let styles = if styles.is_empty() {
        &EmojiStyle::ALL[..]
    } else {
        styles
    };
    let style = styles[rng.index(styles.len())];
    let drawing = draw_raw(class, rng.next_u64(), style, CARD_SIDE);
    let (w, h) = (width.max(64) as f32, height.max(48) as f32);

    // The card: a rectangle (portrait, square or landscape), turned, then each corner pulled a
    // little for the perspective of a card not held square to the lens.
    let card_h = h * rng.range(0.45, 0.75);
    let aspect = rng.range(0.8, 1.35);
    let (half_w, half_h) = (card_h * aspect / 2.0, card_h / 2.0);
    let centre = (
        w / 2.0
            + rng
                .sym(w / 2.0 - half_w.max(half_h) * 1.1)
                .clamp(-w / 4.0, w / 4.0),
        h / 2.0 + rng.sym((h / 2.0 - half_h * 1.1).max(0.0)),
    );
    let angle = rng.sym(0.3);
    let (s, c) = angle.sin_cos();
    let pull = card_h * 0.08;
    let corners: [[f32; 2]; 4] =
        [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)].map(|(sx, sy): (f32, f32)| {
            let (x, y) = (sx * half_w, sy * half_h);
            [
                centre.0 + x * c - y * s + rng.sym(pull),
                centre.1 + x * s + y * c + rng.sym(pull),
            ]
        });

    // The card face: paper a little whiter than the drawing's, with the drawing in the middle
    // (the card's aspect leaves paper on two sides).
    let (cw, ch) = ((CARD_SIDE as f32 * aspect).round() as u32, CARD_SIDE);
    let card_paper = rng.range(0.85, 0.97);
    let face = card_face(&drawing.image, cw, ch, card_paper);

    let mut frame = room(&mut rng, width.max(64), height.max(48));
    let to_card = Homography::between(
        corners,
        [
            [0.0, 0.0],
            [cw as f32, 0.0],
            [cw as f32, ch as f32],
            [0.0, ch as f32],
        ],
    );
    let tint = [
        rng.range(0.93, 1.0),
        rng.range(0.93, 1.0),
        rng.range(0.9, 1.0),
    ];
    if let Some(map) = to_card {
        for y in 0..frame.height() {
            for x in 0..frame.width() {
                let [u, v] = map.apply(x as f32 + 0.5, y as f32 + 0.5);
                if u < 0.0 || v < 0.0 || u >= cw as f32 || v >= ch as f32 {
                    continue;
                }
                let g = f32::from(face.get_pixel(u as u32, v as u32).0[0]) / 255.0;
                let px = frame.get_pixel_mut(x, y);
                for (k, t) in tint.iter().enumerate() {
                    px.0[k] = (g * t * 255.0).round().clamp(0.0, 255.0) as u8;
                }
            }
        }
    }

    // Light: a broad gradient across the frame, and sometimes a hand's shadow (a soft dark
    // blob reaching in from one side) and fingers at the card's edge.
    let mut light = Canvas::new(frame.width(), frame.height(), 1.0);
    let (gx, gy) = (rng.sym(0.5), rng.sym(0.4));
    light.shade(|x, y, _| 1.0 + gx * (x / w - 0.5) + gy * (y / h - 0.5));
    if rng.chance(0.5) {
        let edge = rng.index(4);
        let at = corners[edge];
        let next = corners[(edge + 1) % 4];
        let (mx, my) = ((at[0] + next[0]) / 2.0, (at[1] + next[1]) / 2.0);
        let r = card_h * rng.range(0.25, 0.45);
        let blob = ellipse(pt(mx, my), r * rng.range(0.8, 1.4), r, 32);
        light.fill(&blob, rng.range(0.55, 0.8), 1.0);
        light.soften(1.0);
        light.soften(1.0);
    }
    let mut hands = Vec::new();
    if rng.chance(0.6) {
        // Two or three fingertips over one side of the card, skin-toned.
        let edge = rng.index(4);
        let (a, b) = (corners[edge], corners[(edge + 1) % 4]);
        let t = rng.range(0.25, 0.75);
        let (fx, fy) = (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t);
        let skin = [
            rng.range(0.45, 0.9),
            rng.range(0.3, 0.7),
            rng.range(0.2, 0.55),
        ];
        let r = card_h * 0.04;
        for f in 0..2 + rng.index(2) {
            let along = (f as f32 - 1.0) * r * 2.1;
            let (dx, dy) = (
                (b[0] - a[0]).signum() * along,
                (b[1] - a[1]).signum() * along,
            );
            hands.push((pt(fx + dx, fy + dy), r * rng.range(0.9, 1.2), skin));
        }
    }
    for y in 0..frame.height() {
        for x in 0..frame.width() {
            let l = light.get(x, y);
            let px = frame.get_pixel_mut(x, y);
            for v in &mut px.0 {
                *v = (f32::from(*v) * l).round().clamp(0.0, 255.0) as u8;
            }
            for (c, r, skin) in &hands {
                let (dx, dy) = (x as f32 + 0.5 - c.x, y as f32 + 0.5 - c.y);
                if dx * dx + dy * dy <= r * r {
                    for (k, v) in px.0.iter_mut().enumerate() {
                        *v = (skin[k] * l * 255.0).round().clamp(0.0, 255.0) as u8;
                    }
                }
            }
        }
    }

    // Lens and sensor.
    let blur = rng.range(0.0, 1.0);
    if blur > 0.35 {
        frame = image::imageops::blur(&frame, blur);
    }
    let noise = rng.range(1.0, 5.0);
    for px in frame.pixels_mut() {
        let n = rng.normal() * noise;
        for v in &mut px.0 {
            *v = (f32::from(*v) + n).round().clamp(0.0, 255.0) as u8;
        }
    }
    CardFrame {
        frame,
        corners,
        style,
    }
}

/// The drawing centred on a `width x height` card of brightness `paper`.
fn card_face(drawing: &GrayImage, width: u32, height: u32, paper: f32) -> GrayImage {
    let fill = (paper * 255.0) as u8;
    let mut face = GrayImage::from_pixel(width, height, image::Luma([fill]));
    let (dw, dh) = drawing.dimensions();
    let (ox, oy) = (width.saturating_sub(dw) / 2, height.saturating_sub(dh) / 2);
    // The drawing's own paper may be a little darker or lit unevenly: scale it so its
    // brightest paper matches the card's.
    let top = drawing.as_raw().iter().copied().max().unwrap_or(255).max(1);
    for (x, y, p) in drawing.enumerate_pixels() {
        if x + ox < width && y + oy < height {
            let v = (f32::from(p.0[0]) / f32::from(top) * f32::from(fill)).round() as u8;
            face.put_pixel(x + ox, y + oy, image::Luma([v]));
        }
    }
    face
}

/// A room behind the card: a wall gradient, furniture blocks, a window or a poster, in
/// colours mostly darker than paper.
fn room(rng: &mut Rng, width: u32, height: u32) -> RgbImage {
    let (w, h) = (width as f32, height as f32);
    let base = [
        rng.range(0.1, 0.5),
        rng.range(0.1, 0.5),
        rng.range(0.1, 0.5),
    ];
    let (gx, gy) = (rng.sym(0.2), rng.sym(0.2));
    let mut frame = RgbImage::from_fn(width, height, |x, y| {
        let g = 1.0 + gx * (x as f32 / w - 0.5) + gy * (y as f32 / h - 0.5);
        Rgb(base.map(|c| (c * g * 255.0).clamp(0.0, 255.0) as u8))
    });
    for _ in 0..rng.index(6) {
        let (x0, y0) = (rng.range(0.0, w), rng.range(0.0, h));
        let (bw, bh) = (rng.range(0.05, 0.4) * w, rng.range(0.05, 0.4) * h);
        let colour = [
            rng.range(0.05, 0.6),
            rng.range(0.05, 0.6),
            rng.range(0.05, 0.6),
        ];
        for y in y0 as u32..((y0 + bh) as u32).min(height) {
            for x in x0 as u32..((x0 + bw) as u32).min(width) {
                frame.put_pixel(x, y, Rgb(colour.map(|c| (c * 255.0) as u8)));
            }
        }
    }
    frame
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_seeded_and_the_card_is_inside_and_light() {
        for seed in 0..4 {
            let a = draw_card_frame(seed as usize % 8, seed, &EmojiStyle::TRAINING, 320, 240);
            let b = draw_card_frame(seed as usize % 8, seed, &EmojiStyle::TRAINING, 320, 240);
            assert_eq!(a.frame, b.frame);
            assert_eq!(a.frame.dimensions(), (320, 240));
            let cx = a.corners.iter().map(|p| p[0]).sum::<f32>() / 4.0;
            let cy = a.corners.iter().map(|p| p[1]).sum::<f32>() / 4.0;
            assert!((0.0..320.0).contains(&cx) && (0.0..240.0).contains(&cy));
        }
    }
}
