//! The rasterizer lives in `sentio-sketch` (the device draws touch strokes with it too); this
//! module re-exports it and adds the hand's randomness, which only the generators need.

pub use sentio_sketch::raster::*;

use crate::rng::Rng;

/// A hand's wobble: displace each point sideways by smooth low-frequency noise (a few random
/// sinusoids along the stroke) of about `amount` pixels, plus `tremor` pixels of per-point
/// jitter.
pub fn wobble(points: &[Pt], amount: f32, tremor: f32, rng: &mut Rng) -> Vec<Pt> {
    let waves: Vec<(f32, f32, f32)> = (0..3)
        .map(|k| {
            (
                rng.range(0.5, 2.5) * (k + 1) as f32,
                rng.range(0.0, std::f32::consts::TAU),
                amount / (k + 1) as f32,
            )
        })
        .collect();
    let waves_y: Vec<(f32, f32)> = (0..3)
        .map(|_| (rng.range(0.0, std::f32::consts::TAU), rng.range(0.5, 1.0)))
        .collect();
    let n = points.len().max(2) as f32 - 1.0;
    points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let t = i as f32 / n;
            let (mut dx, mut dy) = (0.0, 0.0);
            for ((freq, phase, amp), (phase_y, ky)) in waves.iter().zip(&waves_y) {
                dx += amp * (std::f32::consts::TAU * freq * t + phase).sin();
                dy += amp * ky * (std::f32::consts::TAU * freq * t + phase_y).sin();
            }
            pt(p.x + dx + rng.sym(tremor), p.y + dy + rng.sym(tremor))
        })
        .collect()
}

/// Per-point widths for a pen stroke: `base` width, varying smoothly by up to `variation`
/// (a fraction), tapering over the first and last few points when `taper` is set.
pub fn pen_widths(n: usize, base: f32, variation: f32, taper: bool, rng: &mut Rng) -> Vec<f32> {
    let phase = rng.range(0.0, std::f32::consts::TAU);
    let freq = rng.range(0.5, 2.0);
    let denom = n.max(2) as f32 - 1.0;
    (0..n)
        .map(|i| {
            let t = i as f32 / denom;
            let mut w = base * (1.0 + variation * (std::f32::consts::TAU * freq * t + phase).sin());
            if taper {
                let edge = (t.min(1.0 - t) * 8.0).min(1.0);
                w *= 0.55 + 0.45 * edge;
            }
            w.max(0.3)
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn wobble_is_seeded_and_bounded() {
        let line: Vec<Pt> = (0..30).map(|i| pt(i as f32, 5.0)).collect();
        let a = wobble(&line, 1.0, 0.2, &mut Rng::new(5));
        assert_eq!(a, wobble(&line, 1.0, 0.2, &mut Rng::new(5)));
        assert_ne!(a, wobble(&line, 1.0, 0.2, &mut Rng::new(6)));
        for (p, q) in line.iter().zip(&a) {
            assert!((p.y - q.y).abs() < 2.5 && (p.x - q.x).abs() < 2.5);
        }
    }
}
