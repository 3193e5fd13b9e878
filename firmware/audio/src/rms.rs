//! Root-mean-square level per frame, as `librosa.feature.rms(center=True, pad_mode="constant")`:
//! frames centred on `t * hop`, zero padding, mean of squares over the whole frame (the zeros
//! included), square root.

use crate::stft::frame_count;

/// RMS of centred frame `frame` (`frame_length` samples every `hop`).
pub fn rms_frame(samples: &[f32], frame: usize, frame_length: usize, hop: usize) -> f32 {
    if frame_length == 0 {
        return 0.0;
    }
    let start = (frame * hop) as isize - (frame_length / 2) as isize;
    let first = start.max(0) as usize;
    let end = ((start + frame_length as isize).max(0) as usize).min(samples.len());
    let sum_sq: f64 = samples
        .get(first..end)
        .unwrap_or(&[])
        .iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum();
    (sum_sq / frame_length as f64).sqrt() as f32
}

/// RMS of every centred frame; `1 + len / hop` frames for an even `frame_length`.
pub fn rms(samples: &[f32], frame_length: usize, hop: usize) -> Vec<f32> {
    (0..frame_count(samples.len(), frame_length, hop))
        .map(|t| rms_frame(samples, t, frame_length, hop))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_scale_sine_has_rms_one_over_root_two_and_edges_see_the_padding() {
        let x: Vec<f32> = (0..16000)
            .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 16000.0).sin())
            .collect();
        let levels = rms(&x, 400, 160);
        assert_eq!(levels.len(), 101);
        assert!((levels[50] - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-4);
        // Frame 0 is half padding: its mean square is halved.
        assert!((levels[0] - 0.5).abs() < 1e-3, "{}", levels[0]);
    }
}
