//! Microphones and speakers: mono signed 16-bit samples at a declared rate.

use crate::HalError;

/// A source of mono i16 samples.
pub trait Microphone {
    /// Samples per second of what [`Microphone::read`] returns.
    fn sample_rate(&self) -> u32;

    /// Fills `buf` with up to `buf.len()` samples and returns how many were written. A live
    /// microphone blocks until samples are there. `Ok(0)` (for a non-empty `buf`) means the
    /// source has ended and will give nothing more.
    fn read(&mut self, buf: &mut [i16]) -> Result<usize, HalError>;
}

/// A sink of i16 samples, mono unless [`Speaker::channels`] says otherwise.
pub trait Speaker {
    /// Samples per second that [`Speaker::write`] expects.
    fn sample_rate(&self) -> u32;

    /// Interleaved channels per frame that [`Speaker::write`] expects (1 unless the speaker
    /// says otherwise).
    fn channels(&self) -> u16 {
        1
    }

    /// Queues samples for playback. May block while the device's buffer is full.
    fn write(&mut self, samples: &[i16]) -> Result<(), HalError>;

    /// Blocks until everything written has been played (or stored).
    fn drain(&mut self) -> Result<(), HalError>;
}

impl<M: Microphone + ?Sized> Microphone for Box<M> {
    fn sample_rate(&self) -> u32 {
        (**self).sample_rate()
    }
    fn read(&mut self, buf: &mut [i16]) -> Result<usize, HalError> {
        (**self).read(buf)
    }
}

impl<S: Speaker + ?Sized> Speaker for Box<S> {
    fn sample_rate(&self) -> u32 {
        (**self).sample_rate()
    }
    fn channels(&self) -> u16 {
        (**self).channels()
    }
    fn write(&mut self, samples: &[i16]) -> Result<(), HalError> {
        (**self).write(samples)
    }
    fn drain(&mut self) -> Result<(), HalError> {
        (**self).drain()
    }
}

/// Root-mean-square level of `samples` in dB relative to full scale, floored at -96 dBFS
/// (silence, including an empty slice).
pub fn rms_dbfs(samples: &[i16]) -> f32 {
    const FLOOR: f32 = -96.0;
    if samples.is_empty() {
        return FLOOR;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    let rms = (sum / samples.len() as f64).sqrt() / 32768.0;
    if rms <= 0.0 {
        return FLOOR;
    }
    (20.0 * rms.log10()).max(f64::from(FLOOR)) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_scale_square_wave_is_zero_dbfs() {
        let s: Vec<i16> = (0..1000)
            .map(|i| if i % 2 == 0 { 32767 } else { -32768 })
            .collect();
        assert!(rms_dbfs(&s).abs() < 0.01);
    }

    #[test]
    fn half_amplitude_sine_is_about_minus_9_dbfs() {
        // A sine of peak A has RMS A/sqrt(2): 0.5 peak -> -6.02 - 3.01 = -9.03 dBFS.
        let s: Vec<i16> = (0..16000)
            .map(|i| (16384.0 * (i as f32 * 0.1).sin()) as i16)
            .collect();
        assert!((rms_dbfs(&s) + 9.03).abs() < 0.1, "{}", rms_dbfs(&s));
    }

    #[test]
    fn silence_is_the_floor() {
        assert_eq!(rms_dbfs(&[0; 100]), -96.0);
        assert_eq!(rms_dbfs(&[]), -96.0);
    }
}
