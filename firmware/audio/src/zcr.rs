//! Zero-crossing rate per frame, as `librosa.feature.zero_crossing_rate(center=True)`.
//!
//! librosa's conventions, kept exactly: frames are centred by padding `frame_length / 2` copies
//! of the edge samples (not zeros) on both sides; samples with `|x| <= 1e-10` count as 0; 0
//! counts as positive (a sign-bit comparison); the rate is crossings / frame_length, where the
//! first sample of a frame never counts as a crossing.

use crate::kernels::sign_changes;
use crate::stft::frame_count;

/// librosa's default threshold below which a sample counts as exactly zero.
const ZERO_THRESHOLD: f32 = 1e-10;

fn is_negative(sample: f32) -> bool {
    sample < -ZERO_THRESHOLD
}

/// Zero-crossing rate of centred frame `frame` (of `frame_length` samples every `hop`).
#[inline(always)]
pub fn zero_crossing_rate_frame(
    samples: &[f32],
    frame: usize,
    frame_length: usize,
    hop: usize,
) -> f32 {
    if samples.is_empty() || frame_length == 0 {
        return 0.0;
    }
    let start = (frame * hop) as isize - (frame_length / 2) as isize;
    if start >= 0 && start as usize + frame_length <= samples.len() {
        // Inside the signal (every frame but the first and last few): no padding to emulate.
        let window = &samples[start as usize..start as usize + frame_length];
        let crossings = sign_changes(window, &window[1..], ZERO_THRESHOLD);
        return crossings as f32 / frame_length as f32;
    }
    let last = samples.len() as isize - 1;
    let sign_at = |j: usize| is_negative(samples[(start + j as isize).clamp(0, last) as usize]);
    let mut previous = sign_at(0);
    let mut crossings = 0usize;
    for j in 1..frame_length {
        let current = sign_at(j);
        crossings += usize::from(current != previous);
        previous = current;
    }
    crossings as f32 / frame_length as f32
}

/// Zero-crossing rate of every centred frame; `1 + len / hop` frames for an even `frame_length`.
pub fn zero_crossing_rate(samples: &[f32], frame_length: usize, hop: usize) -> Vec<f32> {
    (0..frame_count(samples.len(), frame_length, hop))
        .map(|t| zero_crossing_rate_frame(samples, t, frame_length, hop))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternating_signs_cross_at_every_sample_but_the_first() {
        let x: Vec<f32> = (0..1000)
            .map(|i| if i % 2 == 0 { 0.5 } else { -0.5 })
            .collect();
        let zcr = zero_crossing_rate(&x, 400, 160);
        assert_eq!(zcr.len(), 1 + 1000 / 160);
        // Interior frames: 399 crossings out of 400 samples.
        assert_eq!(zcr[3], 399.0 / 400.0);
    }

    #[test]
    fn zeros_and_tiny_values_count_as_positive() {
        let x = [0.0f32, 1e-12, -1e-12, 0.3, -0.0, 0.0];
        // -1e-12 is below the threshold and -0.0 is zero: no crossings at all.
        assert_eq!(zero_crossing_rate(&x, 4, 2), vec![0.0; 4]);
    }

    #[test]
    fn edge_padding_repeats_the_end_samples() {
        // One negative sample at the very start: padding repeats it, so frame 0 (centred on it)
        // sees [-, -, -, +]: one crossing in 4. With zero padding it would see two.
        let x = [-0.5f32, 0.5, 0.5, 0.5, 0.5, 0.5];
        assert_eq!(zero_crossing_rate_frame(&x, 0, 4, 2), 0.25);
    }
}
