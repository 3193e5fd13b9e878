//! Perspective: the homography between a rectangle and a quadrilateral, and warping a
//! quadrilateral of a frame flat.

use image::{GrayImage, Luma};

/// A plane-to-plane projective map `(x, y) -> ((a x + b y + c) / (g x + h y + 1), ...)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Homography {
    m: [f64; 8],
}

impl Homography {
    /// The map taking each of `from` to the same-index point of `to`, or `None` when three of
    /// the points are on one line (no such map).
    pub fn between(from: [[f32; 2]; 4], to: [[f32; 2]; 4]) -> Option<Homography> {
        // Eight equations a x + b y + c - g x X - h y X = X (and the same for Y).
        let mut a = [[0.0f64; 9]; 8];
        for k in 0..4 {
            let (x, y) = (f64::from(from[k][0]), f64::from(from[k][1]));
            let (u, v) = (f64::from(to[k][0]), f64::from(to[k][1]));
            a[2 * k] = [x, y, 1.0, 0.0, 0.0, 0.0, -x * u, -y * u, u];
            a[2 * k + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -x * v, -y * v, v];
        }
        // Gaussian elimination with partial pivoting.
        for col in 0..8 {
            let pivot = (col..8).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
            if a[pivot][col].abs() < 1e-9 {
                return None;
            }
            a.swap(col, pivot);
            let pivot_row = a[col];
            for (row, values) in a.iter_mut().enumerate() {
                if row != col {
                    let f = values[col] / pivot_row[col];
                    for (v, p) in values.iter_mut().zip(&pivot_row).skip(col) {
                        *v -= f * p;
                    }
                }
            }
        }
        let mut m = [0.0; 8];
        for (i, value) in m.iter_mut().enumerate() {
            *value = a[i][8] / a[i][i];
        }
        // Three collinear targets can still solve the equations, with a singular map.
        let det = m[0] * (m[4] - m[5] * m[7]) - m[1] * (m[3] - m[5] * m[6])
            + m[2] * (m[3] * m[7] - m[4] * m[6]);
        (m.iter().all(|v| v.is_finite()) && det.abs() > 1e-9).then_some(Homography { m })
    }

    /// Where `(x, y)` goes.
    pub fn apply(&self, x: f32, y: f32) -> [f32; 2] {
        let (x, y) = (f64::from(x), f64::from(y));
        let m = &self.m;
        let w = m[6] * x + m[7] * y + 1.0;
        [
            ((m[0] * x + m[1] * y + m[2]) / w) as f32,
            ((m[3] * x + m[4] * y + m[5]) / w) as f32,
        ]
    }
}

/// The quadrilateral `corners` (top-left, top-right, bottom-right, bottom-left, in frame
/// pixels) of `frame` warped flat into a `width x height` image, leaving `inset` (a share of
/// each side) out at every edge. `None` when the corners are degenerate.
pub fn warp_quad(
    frame: &GrayImage,
    corners: [[f32; 2]; 4],
    width: u32,
    height: u32,
    inset: f32,
) -> Option<GrayImage> {
    let (w, h) = (width as f32, height as f32);
    let (dx, dy) = (inset * w, inset * h);
    let rect = [[-dx, -dy], [w + dx, -dy], [w + dx, h + dy], [-dx, h + dy]];
    let map = Homography::between(rect, corners)?;
    let (fw, fh) = (frame.width() as f32, frame.height() as f32);
    let mut out = GrayImage::new(width, height);
    // 2x2 samples per output pixel: the card is usually shrunk a little.
    for j in 0..height {
        for i in 0..width {
            let mut sum = 0.0;
            for (sx, sy) in [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)] {
                let [x, y] = map.apply(i as f32 + sx, j as f32 + sy);
                let (x, y) = (
                    (x - 0.5).clamp(0.0, fw - 1.0),
                    (y - 0.5).clamp(0.0, fh - 1.0),
                );
                sum += sample(frame, x, y);
            }
            out.put_pixel(i, j, Luma([(sum / 4.0).round().clamp(0.0, 255.0) as u8]));
        }
    }
    Some(out)
}

fn sample(frame: &GrayImage, x: f32, y: f32) -> f32 {
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = (
        (x0 + 1).min(frame.width() - 1),
        (y0 + 1).min(frame.height() - 1),
    );
    let (tx, ty) = (x - x0 as f32, y - y0 as f32);
    let p = |x, y| f32::from(frame.get_pixel(x, y).0[0]);
    p(x0, y0) * (1.0 - tx) * (1.0 - ty)
        + p(x1, y0) * tx * (1.0 - ty)
        + p(x0, y1) * (1.0 - tx) * ty
        + p(x1, y1) * tx * ty
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn maps_the_four_corners_and_inverts() {
        let square = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]];
        let quad = [[10.0, 12.0], [90.0, 20.0], [80.0, 95.0], [5.0, 70.0]];
        let forward = Homography::between(square, quad).unwrap();
        let back = Homography::between(quad, square).unwrap();
        for (s, q) in square.iter().zip(&quad) {
            let p = forward.apply(s[0], s[1]);
            assert!(
                (p[0] - q[0]).abs() < 1e-3 && (p[1] - q[1]).abs() < 1e-3,
                "{p:?}"
            );
        }
        let mid = forward.apply(0.3, 0.6);
        let again = back.apply(mid[0], mid[1]);
        assert!((again[0] - 0.3).abs() < 1e-4 && (again[1] - 0.6).abs() < 1e-4);
        // Three corners on a line: no map.
        let flat = [[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [0.0, 1.0]];
        assert_eq!(Homography::between(square, flat), None);
    }

    #[test]
    fn warping_an_axis_aligned_quad_crops_it() {
        let frame = GrayImage::from_fn(40, 30, |x, y| Luma([(x * 5 + y) as u8]));
        let out = warp_quad(
            &frame,
            [[10.0, 5.0], [30.0, 5.0], [30.0, 25.0], [10.0, 25.0]],
            20,
            20,
            0.0,
        )
        .unwrap();
        for (i, j) in [(0, 0), (7, 3), (19, 19)] {
            let expected = frame.get_pixel(10 + i, 5 + j).0[0];
            let got = out.get_pixel(i, j).0[0];
            assert!(got.abs_diff(expected) <= 3, "({i},{j}) {got} vs {expected}");
        }
    }
}
