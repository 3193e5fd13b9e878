//! The start-up beep: tells a person near the device that it is alive and the speaker works.

use std::f32::consts::PI;

pub const BEEP_HZ: u32 = 880;
pub const BEEP_MS: u32 = 150;
/// Peak amplitude: -10 dBFS, clearly audible without clipping a small amplifier.
const BEEP_PEAK: f32 = 0.316;
/// Raised-cosine fade at each end so the speaker does not click.
const FADE_MS: u32 = 10;

/// The beep's samples at `rate`.
pub fn beep(rate: u32) -> Vec<i16> {
    let n = (rate * BEEP_MS / 1000) as usize;
    let fade = (rate * FADE_MS / 1000).max(1) as usize;
    (0..n)
        .map(|i| {
            let t = i as f32 / rate as f32;
            let edge = i.min(n - 1 - i);
            let gain = if edge < fade {
                0.5 - 0.5 * (PI * edge as f32 / fade as f32).cos()
            } else {
                1.0
            };
            (BEEP_PEAK * gain * (2.0 * PI * BEEP_HZ as f32 * t).sin() * 32767.0) as i16
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beep_has_its_length_pitch_and_soft_edges() {
        let b = beep(16000);
        assert_eq!(b.len(), 2400);
        let crossings = b.windows(2).filter(|w| w[0] < 0 && w[1] >= 0).count();
        assert!((crossings as i64 - 132).abs() <= 1, "{crossings}"); // 880 Hz * 0.15 s
        assert!(b[0].abs() < 50 && b[2399].abs() < 200);
        let peak = b.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!((10000..=10400).contains(&peak), "{peak}");
    }
}
