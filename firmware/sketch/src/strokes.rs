//! A touch panel's strokes drawn the way the emoji generator draws: the same rasterizer, a pen
//! as wide relative to the face as the generator's average pen, ink on white; then the one
//! normalization.

use crate::raster::{Canvas, pt};
use crate::{Normalized, SketchError, normalize_drawing};

/// Side of the canvas strokes are drawn on before normalization.
pub const STROKE_CANVAS: u32 = 128;
/// The drawing's larger side on that canvas.
const DRAWING_SPAN: f32 = 100.0;
/// Pen width as a share of the drawing's larger side: the generator's average pen (2.3 px)
/// on its average face (49 px across).
const PEN_SHARE: f32 = 0.047;

/// Draw `strokes` (points in any coordinates, e.g. a panel's pixels; a stroke of one point is
/// a dot) and normalize the drawing for the emoji CNN.
pub fn rasterize_strokes(strokes: &[Vec<[f32; 2]>]) -> Result<Normalized, SketchError> {
    let points = strokes.iter().flatten();
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for &[x, y] in points {
        if !x.is_finite() || !y.is_finite() {
            return Err(SketchError::NonFinitePoint { x, y });
        }
        (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
    }
    if x0 > x1 {
        return Ok(Normalized::Blank);
    }
    let span = (x1 - x0).max(y1 - y0);
    if span <= 0.0 {
        // One dot, or several on one spot: nothing a classifier could read.
        return Ok(Normalized::Blank);
    }
    let scale = DRAWING_SPAN / span;
    let centre = STROKE_CANVAS as f32 / 2.0;
    let (mx, my) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let pen = PEN_SHARE * DRAWING_SPAN;
    let mut canvas = Canvas::new(STROKE_CANVAS, STROKE_CANVAS, 1.0);
    for stroke in strokes {
        let mut on_canvas: Vec<_> = stroke
            .iter()
            .map(|&[x, y]| pt(centre + (x - mx) * scale, centre + (y - my) * scale))
            .collect();
        if on_canvas.len() == 1 {
            // A tap: a dot as wide as the pen.
            let p = on_canvas[0];
            on_canvas.push(pt(p.x + 0.01, p.y));
        }
        canvas.stroke_even(&on_canvas, pen, 0.0, 1.0);
    }
    normalize_drawing(&canvas.to_image())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn circle(cx: f32, cy: f32, r: f32) -> Vec<[f32; 2]> {
        (0..=40)
            .map(|i| {
                let a = std::f32::consts::TAU * i as f32 / 40.0;
                [cx + r * a.cos(), cy + r * a.sin()]
            })
            .collect()
    }

    #[test]
    fn the_same_drawing_at_any_scale_gives_the_same_image() {
        let face = |k: f32| {
            vec![
                circle(100.0 * k, 100.0 * k, 80.0 * k),
                vec![[70.0 * k, 80.0 * k]],
                vec![[130.0 * k, 80.0 * k]],
                vec![
                    [60.0 * k, 130.0 * k],
                    [100.0 * k, 150.0 * k],
                    [140.0 * k, 130.0 * k],
                ],
            ]
        };
        let a = rasterize_strokes(&face(1.0)).unwrap();
        let b = rasterize_strokes(&face(2.5)).unwrap();
        let (a, b) = (a.image().unwrap(), b.image().unwrap());
        let diff: u32 = a
            .as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(p, q)| u32::from(p.abs_diff(*q)))
            .sum();
        assert!(diff < 64 * 64, "{diff}");
        // The eyes (taps) are drawn.
        assert!(a.as_raw().iter().filter(|&&p| p < 128).count() > 300);
    }

    #[test]
    fn nothing_a_dot_and_bad_numbers() {
        assert_eq!(rasterize_strokes(&[]).unwrap(), Normalized::Blank);
        assert_eq!(
            rasterize_strokes(&[vec![[5.0, 5.0]]]).unwrap(),
            Normalized::Blank
        );
        assert!(rasterize_strokes(&[vec![[f32::NAN, 1.0], [2.0, 2.0]]]).is_err());
    }
}
