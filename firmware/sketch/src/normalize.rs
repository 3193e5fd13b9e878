//! The one normalization of a drawing: what the generator's images end with and what the device
//! does to every card it sees and every drawing on its touch panel.
//!
//! 1. **Lighting flattened**: each pixel is divided by the local paper brightness (a closing
//!    wider than any stroke, then a box blur), so a gradient, a hand's shadow, a dim corner or a
//!    face coloured in with crayon leaves the paper at 1.
//! 2. **Ink softly binarized**: darkness below [`INK_FROM`] of the paper is paper (texture, ruled
//!    lines, grain), above [`INK_FULL`] is full ink, a ramp between keeps the strokes' edges
//!    anti-aliased. Pencil and marker end up the same black.
//! 3. **Cropped to the ink**: the box between the 1st and 99th percentile of the ink mass along
//!    each axis (a stray dot does not stretch it), made square around its centre with a margin,
//!    and resampled by area to [`INPUT_SIZE`]: the face fills the same part of the input however
//!    big it was drawn and wherever it sat on the card.

use image::{GrayImage, Luma};

use crate::SketchError;

/// Side of the emoji CNN's input, and of every normalized drawing.
pub const INPUT_SIZE: u32 = 64;

/// Darkness (1 - pixel / local paper) at which ink starts.
const INK_FROM: f32 = 0.2;
/// Darkness at which a pixel is full ink.
const INK_FULL: f32 = 0.45;
/// The square crop is this much wider than the ink's box, so strokes do not touch the border.
const MARGIN: f32 = 1.14;
/// Less ink than this share of the image (in full-ink pixels) is a blank card.
const BLANK_INK_SHARE: f32 = 0.006;
/// Local paper darker than this is not paper.
const MIN_PAPER: f32 = 0.12;
/// Smallest side a drawing may have.
const MIN_SIDE: u32 = 16;

/// A normalized drawing, or why there is none.
#[derive(Clone, Debug, PartialEq)]
pub enum Normalized {
    /// 64x64, ink black (0) on white (255), as the emoji CNN takes it.
    Drawing(GrayImage),
    /// Too little ink to be a drawing: a blank card, or a panel nobody drew on.
    Blank,
}

impl Normalized {
    /// The image, if there is a drawing.
    pub fn image(&self) -> Option<&GrayImage> {
        match self {
            Normalized::Drawing(image) => Some(image),
            Normalized::Blank => None,
        }
    }
}

/// Normalize a drawing (dark ink on light paper, any size from 16x16) into the emoji CNN's
/// 64x64 input. See the module docs for the steps.
pub fn normalize_drawing(drawing: &GrayImage) -> Result<Normalized, SketchError> {
    let (w, h) = drawing.dimensions();
    if w < MIN_SIDE || h < MIN_SIDE {
        return Err(SketchError::TooSmall {
            what: "the drawing",
            width: w,
            height: h,
            min: MIN_SIDE,
            help: "a card must fill more of the camera picture; hold it closer",
        });
    }
    let ink = ink_map(drawing);
    let (w, h) = (w as usize, h as usize);
    let total: f32 = ink.iter().sum();
    if total < BLANK_INK_SHARE * (w * h) as f32 {
        return Ok(Normalized::Blank);
    }
    let mut columns = vec![0.0f32; w];
    let mut rows = vec![0.0f32; h];
    for y in 0..h {
        for x in 0..w {
            let v = ink[y * w + x];
            columns[x] += v;
            rows[y] += v;
        }
    }
    let (x0, x1) = mass_span(&columns, total);
    let (y0, y1) = mass_span(&rows, total);
    let side = (x1 - x0).max(y1 - y0).max(4.0) * MARGIN;
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let (left, top) = (cx - side / 2.0, cy - side / 2.0);
    let out = INPUT_SIZE as usize;
    let step = side / out as f32;
    // Average over `n x n` bilinear samples per output pixel: an area filter when shrinking.
    let n = (step.ceil() as usize).clamp(2, 8);
    let mut image = GrayImage::new(INPUT_SIZE, INPUT_SIZE);
    for j in 0..out {
        for i in 0..out {
            let mut sum = 0.0;
            for sy in 0..n {
                for sx in 0..n {
                    let x = left + (i as f32 + (sx as f32 + 0.5) / n as f32) * step;
                    let y = top + (j as f32 + (sy as f32 + 0.5) / n as f32) * step;
                    sum += bilinear(&ink, w, h, x - 0.5, y - 0.5);
                }
            }
            let v = 1.0 - sum / (n * n) as f32;
            image.put_pixel(i as u32, j as u32, Luma([(v * 255.0).round() as u8]));
        }
    }
    Ok(Normalized::Drawing(image))
}

/// The ink of a drawing, 0 (paper) ..= 1 (full ink) per pixel, row-major: steps 1 and 2 of the
/// normalization.
pub fn ink_map(drawing: &GrayImage) -> Vec<f32> {
    let (w, h) = (drawing.width() as usize, drawing.height() as usize);
    let values: Vec<f32> = drawing
        .as_raw()
        .iter()
        .map(|&p| f32::from(p) / 255.0)
        .collect();
    // Wider than any stroke (the generator's thickest is about 4 px at 64), narrow enough to
    // follow a shadow's edge.
    let radius = (w.min(h) / 10).max(3);
    // The max runs over a lightly blurred copy: the maximum of raw pixels is the paper's grain
    // at its brightest, which would make every other paper pixel look like faint ink.
    // A closing (max, then min) removes every stroke narrower than the window and keeps the
    // edges of anything wider: a shadow or a crayon fill stays "paper" up to its edge, without
    // the halo of ink a plain max + blur would leave inside it.
    let calm = box_blur(&values, w, h, 1);
    let closed = extreme_filter(
        &extreme_filter(&calm, w, h, radius, f32::max),
        w,
        h,
        radius,
        f32::min,
    );
    let paper = box_blur(&closed, w, h, (radius / 2).max(1));
    values
        .iter()
        .zip(&paper)
        .map(|(&v, &p)| {
            if p < MIN_PAPER {
                // No paper here (a black frame, a dark gap): nothing drawn can be read.
                return 0.0;
            }
            let darkness = 1.0 - v / p;
            ((darkness - INK_FROM) / (INK_FULL - INK_FROM)).clamp(0.0, 1.0)
        })
        .collect()
}

/// The span between the 1st and 99th percentile of a mass distribution (in pixel edges).
fn mass_span(mass: &[f32], total: f32) -> (f32, f32) {
    let quantile = |q: f32| {
        let target = q * total;
        let mut acc = 0.0;
        for (i, &m) in mass.iter().enumerate() {
            if acc + m >= target && m > 0.0 {
                return i as f32 + (target - acc) / m;
            }
            acc += m;
        }
        mass.len() as f32
    };
    (quantile(0.01), quantile(0.99))
}

fn bilinear(values: &[f32], w: usize, h: usize, x: f32, y: f32) -> f32 {
    // Outside the image is paper (no ink).
    let get = |xi: isize, yi: isize| {
        if xi < 0 || yi < 0 || xi >= w as isize || yi >= h as isize {
            0.0
        } else {
            values[yi as usize * w + xi as usize]
        }
    };
    let (fx, fy) = (x.floor(), y.floor());
    let (tx, ty) = (x - fx, y - fy);
    let (xi, yi) = (fx as isize, fy as isize);
    get(xi, yi) * (1.0 - tx) * (1.0 - ty)
        + get(xi + 1, yi) * tx * (1.0 - ty)
        + get(xi, yi + 1) * (1.0 - tx) * ty
        + get(xi + 1, yi + 1) * tx * ty
}

/// Separable running extreme (`f32::max` or `f32::min`) over a window of radius `r`, the
/// window cut at the borders; van Herk / Gil-Werman, a constant number of comparisons per
/// pixel whatever the radius (the result is exactly the naive scan's).
pub(crate) fn extreme_filter(
    values: &[f32],
    w: usize,
    h: usize,
    r: usize,
    pick: fn(f32, f32) -> f32,
) -> Vec<f32> {
    // The value that never wins: a window cut at a border is a window padded with it.
    let identity = if pick(0.0, 1.0) > 0.5 {
        f32::NEG_INFINITY
    } else {
        f32::INFINITY
    };
    let mut scratch = LineScratch::default();
    let mut rows = vec![0.0; w * h];
    for y in 0..h {
        line_extreme(
            &values[y * w..(y + 1) * w],
            r,
            pick,
            identity,
            &mut scratch,
            &mut rows[y * w..(y + 1) * w],
        );
    }
    let mut out = vec![0.0; w * h];
    let (mut column, mut result) = (vec![0.0; h], vec![0.0; h]);
    for x in 0..w {
        for (y, v) in column.iter_mut().enumerate() {
            *v = rows[y * w + x];
        }
        line_extreme(&column, r, pick, identity, &mut scratch, &mut result);
        for (y, v) in result.iter().enumerate() {
            out[y * w + x] = *v;
        }
    }
    out
}

#[derive(Default)]
struct LineScratch {
    padded: Vec<f32>,
    forward: Vec<f32>,
    backward: Vec<f32>,
}

/// One line of [`extreme_filter`]: blocks of the window's length, the running extreme forward
/// within each block and backward within each block; a window spans at most two blocks.
fn line_extreme(
    src: &[f32],
    r: usize,
    pick: fn(f32, f32) -> f32,
    identity: f32,
    scratch: &mut LineScratch,
    out: &mut [f32],
) {
    let (n, k) = (src.len(), 2 * r + 1);
    let m = n + 2 * r;
    let LineScratch {
        padded,
        forward,
        backward,
    } = scratch;
    padded.clear();
    padded.resize(r, identity);
    padded.extend_from_slice(src);
    padded.resize(m, identity);
    forward.clear();
    forward.resize(m, identity);
    backward.clear();
    backward.resize(m, identity);
    for i in 0..m {
        forward[i] = if i % k == 0 {
            padded[i]
        } else {
            pick(forward[i - 1], padded[i])
        };
    }
    for i in (0..m).rev() {
        backward[i] = if i + 1 == m || (i + 1) % k == 0 {
            padded[i]
        } else {
            pick(backward[i + 1], padded[i])
        };
    }
    for (i, o) in out.iter_mut().enumerate().take(n) {
        *o = pick(backward[i], forward[i + 2 * r]);
    }
}

/// Separable box blur of radius `r` (the window is cut at the borders).
fn box_blur(values: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    let mut rows = vec![0.0; w * h];
    for y in 0..h {
        let line = &values[y * w..(y + 1) * w];
        for x in 0..w {
            let (a, b) = (x.saturating_sub(r), (x + r + 1).min(w));
            rows[y * w + x] = line[a..b].iter().sum::<f32>() / (b - a) as f32;
        }
    }
    let mut out = vec![0.0; w * h];
    for x in 0..w {
        for y in 0..h {
            let (a, b) = (y.saturating_sub(r), (y + r + 1).min(h));
            out[y * w + x] = (a..b).map(|k| rows[k * w + x]).sum::<f32>() / (b - a) as f32;
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::raster::{Canvas, arc, pt};

    /// A ring of ink of radius `r` at `(cx, cy)` on paper of brightness `paper`, lit by a
    /// gradient of `gradient` from left to right.
    fn ring(size: u32, cx: f32, cy: f32, r: f32, paper: f32, gradient: f32) -> GrayImage {
        let mut canvas = Canvas::new(size, size, paper);
        let circle = arc(pt(cx, cy), r, r, 0.0, std::f32::consts::TAU, 64);
        canvas.stroke_even(&circle, 2.5 * size as f32 / 64.0, 0.1, 1.0);
        canvas.shade(|x, _, v| v * (1.0 - gradient * x / size as f32));
        canvas.to_image()
    }

    fn ink_box(image: &GrayImage) -> (u32, u32, u32, u32) {
        let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
        for (x, y, p) in image.enumerate_pixels() {
            if p.0[0] < 128 {
                (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            }
        }
        (x0, y0, x1, y1)
    }

    #[test]
    fn a_drawing_is_centred_and_scaled_whatever_its_size_and_place() {
        let small = normalize_drawing(&ring(64, 24.0, 40.0, 14.0, 0.9, 0.0)).unwrap();
        let big = normalize_drawing(&ring(160, 90.0, 70.0, 55.0, 0.8, 0.0)).unwrap();
        for n in [small, big] {
            let image = n.image().unwrap();
            assert_eq!(image.dimensions(), (64, 64));
            let (x0, y0, x1, y1) = ink_box(image);
            // The ring spans 1/MARGIN of the side, centred.
            for (a, b) in [(x0, x1), (y0, y1)] {
                assert!((2..=5).contains(&a), "{a}..{b}");
                assert!((58..=61).contains(&b), "{a}..{b}");
            }
            // Paper is white, ink black.
            assert_eq!(image.get_pixel(32, 32).0[0], 255);
            assert!(image.get_pixel(32, y0 + 1).0[0] < 60);
        }
    }

    #[test]
    fn uneven_light_and_grey_paper_give_the_same_drawing() {
        let even = normalize_drawing(&ring(96, 48.0, 48.0, 30.0, 0.95, 0.0)).unwrap();
        let shaded = normalize_drawing(&ring(96, 48.0, 48.0, 30.0, 0.7, 0.6)).unwrap();
        let (a, b) = (even.image().unwrap(), shaded.image().unwrap());
        let diff: u32 = a
            .as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(&p, &q)| u32::from(p.abs_diff(q)))
            .sum();
        // Mean absolute difference under 2 grey levels per pixel.
        assert!(diff < 2 * 64 * 64, "{diff}");
    }

    #[test]
    fn blank_paper_and_faint_texture_are_blank() {
        let mut paper = Canvas::new(80, 80, 0.85);
        paper.shade(|x, y, v| v + 0.04 * ((x * 0.7).sin() * (y * 0.3).cos()));
        assert_eq!(
            normalize_drawing(&paper.to_image()).unwrap(),
            Normalized::Blank
        );
        let black = GrayImage::new(40, 40);
        assert_eq!(normalize_drawing(&black).unwrap(), Normalized::Blank);
    }

    #[test]
    fn a_stray_dot_does_not_move_the_crop() {
        let clean = ring(96, 48.0, 48.0, 28.0, 0.9, 0.0);
        let mut dotted = clean.clone();
        for (x, y) in [(2, 2), (3, 2), (2, 3), (3, 3)] {
            dotted.put_pixel(x, y, Luma([20]));
        }
        let a = normalize_drawing(&clean).unwrap();
        let b = normalize_drawing(&dotted).unwrap();
        let (ba, bb) = (ink_box(a.image().unwrap()), ink_box(b.image().unwrap()));
        assert!(
            ba.0.abs_diff(bb.0) <= 2 && ba.2.abs_diff(bb.2) <= 2,
            "{ba:?} {bb:?}"
        );
    }

    #[test]
    fn the_fast_extreme_filter_is_the_naive_scan() {
        let (w, h) = (37, 23);
        let values: Vec<f32> = (0..w * h)
            .map(|i| ((i * 7919) % 101) as f32 / 100.0)
            .collect();
        for r in [1, 2, 5, 12, 40] {
            for pick in [f32::max as fn(f32, f32) -> f32, f32::min] {
                let naive = |line: &[f32], i: usize| {
                    let (a, b) = (i.saturating_sub(r), (i + r + 1).min(line.len()));
                    line[a..b].iter().copied().reduce(pick).unwrap()
                };
                let rows: Vec<f32> = (0..w * h)
                    .map(|i| naive(&values[(i / w) * w..(i / w + 1) * w], i % w))
                    .collect();
                let want: Vec<f32> = (0..w * h)
                    .map(|i| {
                        let column: Vec<f32> = (0..h).map(|y| rows[y * w + i % w]).collect();
                        naive(&column, i / w)
                    })
                    .collect();
                assert_eq!(extreme_filter(&values, w, h, r, pick), want, "r {r}");
            }
        }
    }

    #[test]
    fn tiny_images_are_refused() {
        let err = normalize_drawing(&GrayImage::new(10, 40)).unwrap_err();
        assert!(err.to_string().contains("10x40"), "{err}");
    }
}
