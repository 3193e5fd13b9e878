//! A small anti-aliased rasterizer: thick strokes whose width varies along the stroke (a pen's
//! pressure), filled polygons, and the path helpers (ellipse arcs, Bezier curves, resampling)
//! that produce the points. The procedural generators of `sentio-data` draw with it, and the
//! device draws a touch panel's strokes with it, so both make the same pixels.
//!
//! Canvases hold gray values in `0..=1` (0 black, 1 white) as `f32`, so strokes compose without
//! rounding until the final [`Canvas::to_image`]. A stroke is rendered into a coverage mask first
//! (maximum over its segments) and then composited once: overlapping segments of one stroke do
//! not darken each other's joints, as they would if each segment were blended on its own.

use image::GrayImage;

/// A point in pixel coordinates (x right, y down; pixel `(i, j)` covers `[i, i+1) x [j, j+1)`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pt {
    /// x
    pub x: f32,
    /// y
    pub y: f32,
}

/// Shorthand for [`Pt`].
pub const fn pt(x: f32, y: f32) -> Pt {
    Pt { x, y }
}

impl Pt {
    fn sub(self, o: Pt) -> Pt {
        pt(self.x - o.x, self.y - o.y)
    }
    fn dot(self, o: Pt) -> f32 {
        self.x * o.x + self.y * o.y
    }
    fn lerp(self, o: Pt, t: f32) -> Pt {
        pt(self.x + (o.x - self.x) * t, self.y + (o.y - self.y) * t)
    }
}

/// A 2D affine map `p -> (a x + b y + tx, c x + d y + ty)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Affine {
    a: f32,
    b: f32,
    c: f32,
    d: f32,
    tx: f32,
    ty: f32,
}

impl Affine {
    /// The identity.
    pub const IDENTITY: Affine = Affine {
        a: 1.0,
        b: 0.0,
        c: 0.0,
        d: 1.0,
        tx: 0.0,
        ty: 0.0,
    };

    /// Scale by `sx, sy`, rotate by `angle` radians (clockwise on screen, since y is down), then
    /// translate to `center`: maps a drawing made around the origin onto the canvas.
    pub fn place(center: Pt, sx: f32, sy: f32, angle: f32) -> Affine {
        let (s, c) = angle.sin_cos();
        Affine {
            a: c * sx,
            b: -s * sy,
            c: s * sx,
            d: c * sy,
            tx: center.x,
            ty: center.y,
        }
    }

    /// Apply to a point.
    pub fn apply(&self, p: Pt) -> Pt {
        pt(
            self.a * p.x + self.b * p.y + self.tx,
            self.c * p.x + self.d * p.y + self.ty,
        )
    }

    /// The mean linear scale factor (to scale stroke widths with the drawing).
    pub fn scale(&self) -> f32 {
        (self.a * self.d - self.b * self.c).abs().sqrt()
    }
}

/// A gray canvas.
#[derive(Clone, Debug, PartialEq)]
pub struct Canvas {
    width: u32,
    height: u32,
    px: Vec<f32>,
}

impl Canvas {
    /// A canvas filled with `value`.
    pub fn new(width: u32, height: u32, value: f32) -> Canvas {
        Canvas {
            width,
            height,
            px: vec![value; width as usize * height as usize],
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The value at `(x, y)` (0 outside).
    pub fn get(&self, x: u32, y: u32) -> f32 {
        if x < self.width && y < self.height {
            self.px[(y * self.width + x) as usize]
        } else {
            0.0
        }
    }

    /// Set every pixel from a function of its centre.
    pub fn shade(&mut self, mut f: impl FnMut(f32, f32, f32) -> f32) {
        let w = self.width as usize;
        for (i, v) in self.px.iter_mut().enumerate() {
            let (x, y) = ((i % w) as f32 + 0.5, (i / w) as f32 + 0.5);
            *v = f(x, y, *v);
        }
    }

    /// Blend `value` into every pixel with the mask's coverage times `opacity`.
    pub fn composite(&mut self, mask: &Mask, value: f32, opacity: f32) {
        for (p, &m) in self.px.iter_mut().zip(&mask.cov) {
            let a = (m * opacity).clamp(0.0, 1.0);
            *p += (value - *p) * a;
        }
    }

    /// Stroke a polyline with a width per point (in pixels), in `value` at `opacity`.
    pub fn stroke(&mut self, points: &[Pt], widths: &[f32], value: f32, opacity: f32) {
        let mut mask = Mask::new(self.width, self.height);
        mask.stroke(points, widths);
        self.composite(&mask, value, opacity);
    }

    /// Stroke a polyline with one width.
    pub fn stroke_even(&mut self, points: &[Pt], width: f32, value: f32, opacity: f32) {
        let widths = vec![width; points.len()];
        self.stroke(points, &widths, value, opacity);
    }

    /// Fill a closed polygon (even-odd rule) in `value` at `opacity`.
    pub fn fill(&mut self, polygon: &[Pt], value: f32, opacity: f32) {
        let mut mask = Mask::new(self.width, self.height);
        mask.fill(polygon);
        self.composite(&mask, value, opacity);
    }

    /// Add `f(x, y)` to every pixel (noise, texture).
    pub fn add(&mut self, mut f: impl FnMut(u32, u32) -> f32) {
        let w = self.width;
        for (i, v) in self.px.iter_mut().enumerate() {
            *v += f(i as u32 % w, i as u32 / w);
        }
    }

    /// A 3x3 box-ish blur (1-2-1 kernel), for softening a rendered image.
    pub fn soften(&mut self, amount: f32) {
        let (w, h) = (self.width as i64, self.height as i64);
        let src = self.px.clone();
        let at = |x: i64, y: i64| src[(y.clamp(0, h - 1) * w + x.clamp(0, w - 1)) as usize];
        for y in 0..h {
            for x in 0..w {
                let mut sum = 0.0;
                for (dy, ky) in [(-1, 1.0), (0, 2.0), (1, 1.0)] {
                    for (dx, kx) in [(-1, 1.0), (0, 2.0), (1, 1.0)] {
                        sum += at(x + dx, y + dy) * kx * ky;
                    }
                }
                let i = (y * w + x) as usize;
                self.px[i] += (sum / 16.0 - self.px[i]) * amount;
            }
        }
    }

    /// The canvas as an 8-bit gray image (values clamped to `0..=1`, rounded).
    pub fn to_image(&self) -> GrayImage {
        let bytes = self
            .px
            .iter()
            .map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
            .collect();
        GrayImage::from_raw(self.width, self.height, bytes)
            .unwrap_or_else(|| GrayImage::new(self.width, self.height))
    }
}

/// A coverage mask in `0..=1`, one value per pixel.
#[derive(Clone, Debug)]
pub struct Mask {
    width: u32,
    height: u32,
    cov: Vec<f32>,
}

impl Mask {
    /// An empty mask.
    pub fn new(width: u32, height: u32) -> Mask {
        Mask {
            width,
            height,
            cov: vec![0.0; width as usize * height as usize],
        }
    }

    /// Coverage at `(x, y)` (0 outside).
    pub fn get(&self, x: u32, y: u32) -> f32 {
        if x < self.width && y < self.height {
            self.cov[(y * self.width + x) as usize]
        } else {
            0.0
        }
    }

    /// Sum of coverage: the painted area in pixels.
    pub fn area(&self) -> f32 {
        self.cov.iter().sum()
    }

    /// Add one segment of a stroke: a capsule from `a` (width `wa`) to `b` (width `wb`), with a
    /// one-pixel anti-aliased edge. Widths under one pixel fade the stroke instead of thinning
    /// it further, the way a thin pencil line looks lighter rather than narrower.
    pub fn segment(&mut self, a: Pt, b: Pt, wa: f32, wb: f32) {
        let (ra, rb) = (wa.max(0.0) / 2.0, wb.max(0.0) / 2.0);
        let reach = ra.max(rb).max(0.5) + 1.0;
        let x0 = ((a.x.min(b.x) - reach).floor().max(0.0)) as u32;
        let y0 = ((a.y.min(b.y) - reach).floor().max(0.0)) as u32;
        let x1 = ((a.x.max(b.x) + reach).ceil().max(0.0) as u32).min(self.width);
        let y1 = ((a.y.max(b.y) + reach).ceil().max(0.0) as u32).min(self.height);
        let d = b.sub(a);
        let len2 = d.dot(d);
        for y in y0..y1 {
            for x in x0..x1 {
                let p = pt(x as f32 + 0.5, y as f32 + 0.5);
                let t = if len2 > 1e-12 {
                    (p.sub(a).dot(d) / len2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let q = a.lerp(b, t);
                let dist = p.sub(q).dot(p.sub(q)).sqrt();
                let r = ra + (rb - ra) * t;
                let fade = (2.0 * r).min(1.0);
                let c = (r.max(0.5) - dist + 0.5).clamp(0.0, 1.0) * fade;
                let i = (y * self.width + x) as usize;
                if c > self.cov[i] {
                    self.cov[i] = c;
                }
            }
        }
    }

    /// Add a polyline with a width per point (missing widths repeat the last one).
    pub fn stroke(&mut self, points: &[Pt], widths: &[f32]) {
        let width_at = |i: usize| widths.get(i).or(widths.last()).copied().unwrap_or(1.0);
        match points {
            [] => {}
            [p] => self.segment(*p, *p, width_at(0), width_at(0)),
            _ => {
                for i in 0..points.len() - 1 {
                    self.segment(points[i], points[i + 1], width_at(i), width_at(i + 1));
                }
            }
        }
    }

    /// Add a filled polygon (even-odd rule), anti-aliased by 4x4 supersampling.
    pub fn fill(&mut self, polygon: &[Pt]) {
        if polygon.len() < 3 {
            return;
        }
        let (mut lo, mut hi) = (polygon[0], polygon[0]);
        for p in polygon {
            lo = pt(lo.x.min(p.x), lo.y.min(p.y));
            hi = pt(hi.x.max(p.x), hi.y.max(p.y));
        }
        let x0 = lo.x.floor().max(0.0) as u32;
        let y0 = lo.y.floor().max(0.0) as u32;
        let x1 = (hi.x.ceil().max(0.0) as u32 + 1).min(self.width);
        let y1 = (hi.y.ceil().max(0.0) as u32 + 1).min(self.height);
        const N: u32 = 4;
        for y in y0..y1 {
            for x in x0..x1 {
                let mut inside = 0u32;
                for sy in 0..N {
                    for sx in 0..N {
                        let p = pt(
                            x as f32 + (sx as f32 + 0.5) / N as f32,
                            y as f32 + (sy as f32 + 0.5) / N as f32,
                        );
                        if contains(polygon, p) {
                            inside += 1;
                        }
                    }
                }
                let c = inside as f32 / (N * N) as f32;
                let i = (y * self.width + x) as usize;
                if c > self.cov[i] {
                    self.cov[i] = c;
                }
            }
        }
    }
}

/// Even-odd point-in-polygon test.
fn contains(polygon: &[Pt], p: Pt) -> bool {
    let mut inside = false;
    let mut j = polygon.len() - 1;
    for i in 0..polygon.len() {
        let (a, b) = (polygon[i], polygon[j]);
        if (a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// Points along an elliptical arc: centre `c`, radii `rx, ry`, from angle `start` sweeping
/// `sweep` radians (positive = clockwise on screen), `n + 1` points.
pub fn arc(c: Pt, rx: f32, ry: f32, start: f32, sweep: f32, n: usize) -> Vec<Pt> {
    let n = n.max(1);
    (0..=n)
        .map(|i| {
            let t = start + sweep * i as f32 / n as f32;
            pt(c.x + rx * t.cos(), c.y + ry * t.sin())
        })
        .collect()
}

/// A closed ellipse as a polygon of `n` points.
pub fn ellipse(c: Pt, rx: f32, ry: f32, n: usize) -> Vec<Pt> {
    let n = n.max(3);
    (0..n)
        .map(|i| {
            let t = std::f32::consts::TAU * i as f32 / n as f32;
            pt(c.x + rx * t.cos(), c.y + ry * t.sin())
        })
        .collect()
}

/// Points along a quadratic Bezier curve, `n + 1` points.
pub fn quad(p0: Pt, p1: Pt, p2: Pt, n: usize) -> Vec<Pt> {
    let n = n.max(1);
    (0..=n)
        .map(|i| {
            let t = i as f32 / n as f32;
            p0.lerp(p1, t).lerp(p1.lerp(p2, t), t)
        })
        .collect()
}

/// Points along a cubic Bezier curve, `n + 1` points.
pub fn cubic(p0: Pt, p1: Pt, p2: Pt, p3: Pt, n: usize) -> Vec<Pt> {
    let n = n.max(1);
    (0..=n)
        .map(|i| {
            let t = i as f32 / n as f32;
            let (a, b, c) = (p0.lerp(p1, t), p1.lerp(p2, t), p2.lerp(p3, t));
            a.lerp(b, t).lerp(b.lerp(c, t), t)
        })
        .collect()
}

/// Resample a polyline to about `step` spacing (so wobble and pressure act evenly).
pub fn resample(points: &[Pt], step: f32) -> Vec<Pt> {
    let mut out = Vec::new();
    let Some(&first) = points.first() else {
        return out;
    };
    out.push(first);
    let step = step.max(1e-3);
    // Distance walked since the last point emitted; always below `step`.
    let mut since = 0.0f32;
    for w in points.windows(2) {
        let (a, b) = (w[0], w[1]);
        let len = b.sub(a).dot(b.sub(a)).sqrt();
        let mut at = step - since;
        while at <= len {
            out.push(a.lerp(b, at / len));
            at += step;
        }
        since = len - (at - step);
    }
    if let (Some(&last), Some(&end)) = (out.last(), points.last())
        && last != end
    {
        out.push(end);
    }
    out
}

/// Apply an affine map to every point.
pub fn transform(points: &[Pt], m: &Affine) -> Vec<Pt> {
    points.iter().map(|p| m.apply(*p)).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn a_horizontal_line_covers_its_width() {
        let mut m = Mask::new(20, 20);
        m.segment(pt(2.0, 10.0), pt(18.0, 10.0), 2.0, 2.0);
        // Rows 9 and 10 (centres 9.5, 10.5) are fully inside a 2-px line at y = 10.
        assert_eq!(m.get(10, 9), 1.0);
        assert_eq!(m.get(10, 10), 1.0);
        assert_eq!(m.get(10, 8), 0.0);
        assert_eq!(m.get(10, 12), 0.0);
        // Area ~ length x width plus the round caps.
        let area = m.area();
        let expected = 16.0 * 2.0 + std::f32::consts::PI;
        assert!((area - expected).abs() < 2.0, "{area} vs {expected}");
    }

    #[test]
    fn edges_are_anti_aliased() {
        let mut m = Mask::new(20, 20);
        m.segment(pt(2.0, 10.25), pt(18.0, 10.25), 2.0, 2.0);
        // The line covers y 9.25..11.25: row 9 (centre 9.5) three quarters, row 11 a quarter.
        let (top, bottom) = (m.get(10, 9), m.get(10, 11));
        assert!(
            (top - 0.75).abs() < 1e-5 && (bottom - 0.25).abs() < 1e-5,
            "{top} {bottom}"
        );
    }

    #[test]
    fn width_grows_along_a_tapered_segment() {
        let mut m = Mask::new(40, 20);
        m.segment(pt(5.0, 10.0), pt(35.0, 10.0), 1.0, 7.0);
        let column = |x| (0..20).map(|y| m.get(x, y)).sum::<f32>();
        assert!(column(8) < column(20) && column(20) < column(32));
        assert!((column(32) - 6.6).abs() < 1.0, "{}", column(32));
    }

    #[test]
    fn thin_strokes_fade_instead_of_vanishing() {
        let mut m = Mask::new(20, 20);
        m.segment(pt(2.0, 10.5), pt(18.0, 10.5), 0.4, 0.4);
        let peak = m.get(10, 10);
        assert!(peak > 0.3 && peak < 0.5, "{peak}");
    }

    #[test]
    fn overlapping_segments_of_one_stroke_do_not_darken_the_joint() {
        let mut c = Canvas::new(20, 20, 1.0);
        c.stroke_even(
            &[pt(2.0, 10.0), pt(10.0, 10.0), pt(2.0, 10.2)],
            3.0,
            0.0,
            0.5,
        );
        assert!((c.get(5, 10) - 0.5).abs() < 1e-6);
    }

    #[test]
    fn a_filled_ellipse_has_its_area() {
        let mut m = Mask::new(64, 64);
        m.fill(&ellipse(pt(32.0, 32.0), 20.0, 10.0, 128));
        let expected = std::f32::consts::PI * 200.0;
        assert!(
            (m.area() - expected).abs() / expected < 0.01,
            "{}",
            m.area()
        );
        assert_eq!(m.get(32, 32), 1.0);
        assert_eq!(m.get(32, 10), 0.0);
    }

    #[test]
    fn shapes_off_the_canvas_are_clipped() {
        let mut m = Mask::new(10, 10);
        m.segment(pt(-50.0, -50.0), pt(50.0, 50.0), 3.0, 3.0);
        m.fill(&ellipse(pt(-30.0, 5.0), 40.0, 3.0, 32));
        m.segment(pt(-50.0, 500.0), pt(-40.0, 500.0), 3.0, 3.0);
        assert!(m.area() > 0.0);
    }

    #[test]
    fn affine_place_rotates_scales_and_moves() {
        let m = Affine::place(pt(10.0, 20.0), 2.0, 2.0, std::f32::consts::FRAC_PI_2);
        let p = m.apply(pt(1.0, 0.0));
        assert!(
            (p.x - 10.0).abs() < 1e-5 && (p.y - 22.0).abs() < 1e-5,
            "{p:?}"
        );
        assert!((m.scale() - 2.0).abs() < 1e-5);
        assert_eq!(Affine::IDENTITY.apply(pt(3.0, 4.0)), pt(3.0, 4.0));
    }

    #[test]
    fn curves_start_and_end_at_their_end_points() {
        let q = quad(pt(0.0, 0.0), pt(5.0, 10.0), pt(10.0, 0.0), 10);
        assert_eq!(q.len(), 11);
        assert_eq!(q[0], pt(0.0, 0.0));
        assert!((q[10].x - 10.0).abs() < 1e-5);
        assert!((q[5].y - 5.0).abs() < 1e-5);
        let c = cubic(
            pt(0.0, 0.0),
            pt(0.0, 10.0),
            pt(10.0, 10.0),
            pt(10.0, 0.0),
            8,
        );
        assert!((c[8].x - 10.0).abs() < 1e-5 && c[8].y.abs() < 1e-5);
        let a = arc(pt(0.0, 0.0), 2.0, 1.0, 0.0, std::f32::consts::PI, 4);
        assert!((a[2].y - 1.0).abs() < 1e-5 && a[2].x.abs() < 1e-5);
    }

    #[test]
    fn resample_spaces_points_evenly() {
        let r = resample(&[pt(0.0, 0.0), pt(10.0, 0.0), pt(10.0, 10.0)], 1.0);
        assert_eq!(r.first(), Some(&pt(0.0, 0.0)));
        assert_eq!(r.last(), Some(&pt(10.0, 10.0)));
        assert!((20..=22).contains(&r.len()), "{}", r.len());
        for w in r.windows(2) {
            let d = ((w[1].x - w[0].x).powi(2) + (w[1].y - w[0].y).powi(2)).sqrt();
            assert!(d <= 1.0 + 1e-4, "{d}");
        }
    }

    #[test]
    fn canvas_to_image_clamps_and_rounds() {
        let mut c = Canvas::new(3, 1, 0.5);
        c.add(|x, _| [-1.0, 0.0, 1.0][x as usize]);
        let img = c.to_image();
        assert_eq!(img.as_raw(), &vec![0, 128, 255]);
    }
}
