//! Energy-based voice activity detection: finds where someone speaks in a stream of samples so
//! the emotion model only sees speech.
//!
//! The signal is cut into 10 ms frames; each frame's level (dBFS, from its mean square) is
//! compared with an adaptive noise floor:
//!
//! - the floor follows a falling level at once (quieter frames are the best evidence of the
//!   noise) and a rising level only slowly (`floor_rise_db_per_s`), so speech, which is short
//!   and loud, barely moves it while a lasting change in background noise is absorbed;
//! - the floor never goes below `min_floor_db`, the quietest level a real microphone delivers,
//!   so digital silence does not make the next faint hiss look like speech;
//! - speech starts when a frame is `start_threshold_db` above the floor and continues while
//!   frames stay `continue_threshold_db` above it (hysteresis), plus `hangover_ms` to bridge the
//!   short dips between syllables;
//! - segments shorter than `min_speech_ms` (clicks, door knocks) are dropped.
//!
//! [`Vad`] works on a stream (push samples in chunks of any size); [`detect_speech`] runs it over
//! a whole clip. Limits: it cannot tell speech from other loud sounds (music, a TV), and a noise
//! that starts more than the start threshold above the floor is reported as speech until the
//! floor has risen to it.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::AudioError;

/// Tuning of the [`Vad`]; the defaults suit a 16 kHz microphone in a room.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VadConfig {
    /// Frame length, ms. 10 ms gives the segment edges a 10 ms resolution.
    pub frame_ms: u32,
    /// A frame this far above the floor starts speech, dB.
    pub start_threshold_db: f32,
    /// Speech continues while frames stay this far above the floor, dB (below the start
    /// threshold, so a level hovering near it does not flicker).
    pub continue_threshold_db: f32,
    /// How fast the floor may rise, dB per second.
    pub floor_rise_db_per_s: f32,
    /// Lowest floor, dBFS: about the self-noise of a MEMS microphone.
    pub min_floor_db: f32,
    /// Speech continues this long after the last loud frame, ms (bridges syllable gaps).
    pub hangover_ms: u32,
    /// Shorter segments are dropped, ms.
    pub min_speech_ms: u32,
}

impl Default for VadConfig {
    fn default() -> Self {
        VadConfig {
            frame_ms: 10,
            start_threshold_db: 12.0,
            continue_threshold_db: 8.0,
            floor_rise_db_per_s: 2.0,
            min_floor_db: -60.0,
            hangover_ms: 200,
            min_speech_ms: 100,
        }
    }
}

impl VadConfig {
    pub fn validate(&self) -> Result<(), AudioError> {
        let invalid = |field, problem: String| {
            Err(AudioError::InvalidConfig {
                config: "VadConfig",
                field,
                problem,
            })
        };
        if self.frame_ms == 0 {
            return invalid("frame_ms", "is 0".into());
        }
        if !(self.continue_threshold_db > 0.0
            && self.continue_threshold_db <= self.start_threshold_db)
        {
            return invalid(
                "continue_threshold_db",
                format!(
                    "is {}, must be > 0 and <= start_threshold_db ({})",
                    self.continue_threshold_db, self.start_threshold_db
                ),
            );
        }
        // Written so NaN fails too.
        if !matches!(
            self.floor_rise_db_per_s.partial_cmp(&0.0),
            Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)
        ) {
            return invalid("floor_rise_db_per_s", "must be >= 0".into());
        }
        if !self.min_floor_db.is_finite() {
            return invalid("min_floor_db", "must be a finite dBFS value".into());
        }
        Ok(())
    }
}

/// Streaming voice activity detector. Sample positions are counted from the first sample pushed.
pub struct Vad {
    frame_len: usize,
    start_db: f64,
    continue_db: f64,
    rise_per_frame: f64,
    min_floor_db: f64,
    hangover_frames: u64,
    min_speech_frames: u64,
    /// Samples of the frame being filled.
    sum_sq: f64,
    filled: usize,
    /// Index of the next complete frame.
    frame: u64,
    floor_db: Option<f64>,
    /// Open segment: first frame, and last frame that was loud enough to continue.
    open: Option<(u64, u64)>,
}

impl Vad {
    pub fn new(config: &VadConfig, sample_rate: u32) -> Result<Self, AudioError> {
        config.validate()?;
        if sample_rate == 0 {
            return Err(AudioError::ZeroSampleRate {
                what: "the voice activity detector".into(),
            });
        }
        let frame_len = (u64::from(sample_rate) * u64::from(config.frame_ms) / 1000).max(1);
        let frame_secs = frame_len as f64 / f64::from(sample_rate);
        let frames_for = |ms: u32| (f64::from(ms) / 1000.0 / frame_secs).round() as u64;
        Ok(Vad {
            frame_len: frame_len as usize,
            start_db: f64::from(config.start_threshold_db),
            continue_db: f64::from(config.continue_threshold_db),
            rise_per_frame: f64::from(config.floor_rise_db_per_s) * frame_secs,
            min_floor_db: f64::from(config.min_floor_db),
            hangover_frames: frames_for(config.hangover_ms),
            min_speech_frames: frames_for(config.min_speech_ms).max(1),
            sum_sq: 0.0,
            filled: 0,
            frame: 0,
            floor_db: None,
            open: None,
        })
    }

    /// Current noise floor estimate, dBFS (None before the first full frame).
    pub fn noise_floor_db(&self) -> Option<f32> {
        self.floor_db.map(|f| f as f32)
    }

    /// Whether a speech segment is open (speech heard, end not yet decided).
    pub fn in_speech(&self) -> bool {
        self.open.is_some()
    }

    /// Feeds samples; appends every speech segment that ended within them to `segments`, as
    /// sample ranges counted from the first sample ever pushed.
    pub fn push(&mut self, samples: &[f32], segments: &mut Vec<Range<u64>>) {
        for &x in samples {
            self.sum_sq += f64::from(x) * f64::from(x);
            self.filled += 1;
            if self.filled == self.frame_len {
                let level_db = 10.0 * (self.sum_sq / self.frame_len as f64).max(1e-12).log10();
                self.sum_sq = 0.0;
                self.filled = 0;
                self.on_frame(level_db, segments);
                self.frame += 1;
            }
        }
    }

    /// Ends the stream: closes a segment still open (a trailing partial frame is ignored).
    pub fn finish(&mut self, segments: &mut Vec<Range<u64>>) {
        if let Some((first, last_loud)) = self.open.take() {
            self.emit(first, last_loud, segments);
        }
    }

    fn on_frame(&mut self, level_db: f64, segments: &mut Vec<Range<u64>>) {
        let floor = self.floor_db.unwrap_or(level_db).max(self.min_floor_db);
        let above = level_db - floor;
        match self.open {
            None if above >= self.start_db => self.open = Some((self.frame, self.frame)),
            None => {}
            Some((first, _)) if above >= self.continue_db => {
                self.open = Some((first, self.frame));
            }
            Some((first, last_loud)) if self.frame - last_loud > self.hangover_frames => {
                self.open = None;
                self.emit(first, last_loud, segments);
            }
            Some(_) => {}
        }
        // Fall at once, rise slowly, never below the microphone's own floor.
        let next = if level_db < floor {
            level_db
        } else {
            (floor + self.rise_per_frame).min(level_db)
        };
        self.floor_db = Some(next.max(self.min_floor_db));
    }

    fn emit(&self, first: u64, last_loud: u64, segments: &mut Vec<Range<u64>>) {
        if last_loud + 1 - first >= self.min_speech_frames {
            let frame_len = self.frame_len as u64;
            segments.push(first * frame_len..(last_loud + 1) * frame_len);
        }
    }
}

/// Speech segments of a whole clip, as sample ranges.
pub fn detect_speech(
    samples: &[f32],
    sample_rate: u32,
    config: &VadConfig,
) -> Result<Vec<Range<usize>>, AudioError> {
    let mut vad = Vad::new(config, sample_rate)?;
    let mut segments = Vec::new();
    vad.push(samples, &mut segments);
    vad.finish(&mut segments);
    Ok(segments
        .into_iter()
        .map(|r| r.start as usize..(r.end as usize).min(samples.len()))
        .collect())
}

/// The span of a whole clip from the start of its first speech segment to the end of its last
/// (the whole clip when the VAD finds no speech): what the speech models and the classical
/// baselines look at, so silence before and after a sentence does not count.
pub fn speech_span(
    samples: &[f32],
    sample_rate: u32,
    config: &VadConfig,
) -> Result<Range<usize>, AudioError> {
    let segments = detect_speech(samples, sample_rate, config)?;
    Ok(match (segments.first(), segments.last()) {
        (Some(first), Some(last)) if first.start < last.end => first.start..last.end,
        _ => 0..samples.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    const SR: u32 = 16000;

    /// Deterministic white noise, uniform in -1..1 scaled to the given RMS dBFS.
    fn noise(len: usize, level_dbfs: f64, seed: u64) -> Vec<f32> {
        let mut rng = sentio_rng::SplitMix64::new(seed);
        let scale = 10f64.powf(level_dbfs / 20.0) * 3f64.sqrt(); // uniform RMS is 1/sqrt(3)
        (0..len)
            .map(|_| ((rng.next_f64() * 2.0 - 1.0) * scale) as f32)
            .collect()
    }

    fn secs(s: f64) -> usize {
        (s * f64::from(SR)) as usize
    }

    /// A voiced-speech-like signal: 140 Hz harmonics through two formants, with a 4 Hz syllable
    /// envelope that dips to 20% between syllables.
    fn speech_like(len: usize, peak: f64) -> Vec<f32> {
        (0..len)
            .map(|i| {
                let t = i as f64 / f64::from(SR);
                let voiced: f64 = (1..25)
                    .map(|h| {
                        let f = 140.0 * h as f64;
                        let formants = 1.0 / (1.0 + ((f - 700.0) / 150.0).powi(2))
                            + 0.5 / (1.0 + ((f - 1200.0) / 200.0).powi(2));
                        formants * (2.0 * PI * f * t).sin()
                    })
                    .sum();
                let envelope = 0.6 - 0.4 * (2.0 * PI * 4.0 * t).cos();
                (peak * 0.5 * voiced * envelope) as f32
            })
            .collect()
    }

    fn mix(into: &mut [f32], from: &[f32], at: usize) {
        for (a, b) in into[at..].iter_mut().zip(from) {
            *a += b;
        }
    }

    fn assert_one_segment_near(segments: &[Range<usize>], start_s: f64, end_s: f64) {
        assert_eq!(segments.len(), 1, "{segments:?}");
        let tolerance = secs(0.02) as i64;
        let (s, e) = (segments[0].start as i64, segments[0].end as i64);
        assert!((s - secs(start_s) as i64).abs() <= tolerance, "start {s}");
        assert!((e - secs(end_s) as i64).abs() <= tolerance, "end {e}");
    }

    /// 0.4 s digital silence, background noise at -50 dBFS from 0.4 s to 2.6 s, the utterance
    /// from 1.2 s to 2.0 s on top of the noise, 0.4 s silence.
    fn scene(utterance: &[f32]) -> Vec<f32> {
        let mut x = vec![0.0f32; secs(3.0)];
        mix(&mut x, &noise(secs(2.2), -50.0, 42), secs(0.4));
        mix(&mut x, utterance, secs(1.2));
        x
    }

    #[test]
    fn finds_one_speech_like_segment_in_silence_and_noise() {
        let x = scene(&speech_like(secs(0.8), 0.3));
        let segments = detect_speech(&x, SR, &VadConfig::default()).unwrap();
        // The envelope is lowest (20%) exactly at the start and end, so the audible edge is a
        // little inside; ±20 ms covers it at these levels.
        assert_one_segment_near(&segments, 1.2, 2.0);
    }

    #[test]
    fn finds_one_tone_burst() {
        let tone: Vec<f32> = (0..secs(0.5))
            .map(|i| (0.1 * (2.0 * PI * 1000.0 * i as f64 / f64::from(SR)).sin()) as f32)
            .collect();
        let segments = detect_speech(&scene(&tone), SR, &VadConfig::default()).unwrap();
        assert_one_segment_near(&segments, 1.2, 1.7);
    }

    #[test]
    fn noise_and_silence_alone_give_no_segment() {
        let x = scene(&[]);
        assert_eq!(
            detect_speech(&x, SR, &VadConfig::default()).unwrap(),
            vec![]
        );
        let silence = vec![0.0f32; secs(1.0)];
        assert_eq!(
            detect_speech(&silence, SR, &VadConfig::default()).unwrap(),
            vec![]
        );
    }

    #[test]
    fn a_click_shorter_than_min_speech_is_dropped_and_two_utterances_stay_apart() {
        let mut x = noise(secs(4.0), -45.0, 7);
        mix(&mut x, &noise(secs(0.03), -10.0, 9), secs(0.5)); // 30 ms click
        mix(&mut x, &speech_like(secs(0.6), 0.3), secs(1.0));
        mix(&mut x, &speech_like(secs(0.6), 0.3), secs(2.5));
        let segments = detect_speech(&x, SR, &VadConfig::default()).unwrap();
        assert_eq!(segments.len(), 2, "{segments:?}");
        assert!(segments[0].start >= secs(0.98) && segments[1].start >= secs(2.48));
    }

    #[test]
    fn streaming_in_odd_chunks_gives_the_same_segments() {
        let x = scene(&speech_like(secs(0.8), 0.3));
        let whole = detect_speech(&x, SR, &VadConfig::default()).unwrap();
        let mut vad = Vad::new(&VadConfig::default(), SR).unwrap();
        let mut segments = Vec::new();
        for chunk in x.chunks(317) {
            vad.push(chunk, &mut segments);
        }
        vad.finish(&mut segments);
        let streamed: Vec<Range<usize>> = segments
            .into_iter()
            .map(|r| r.start as usize..r.end as usize)
            .collect();
        assert_eq!(streamed, whole);
    }

    #[test]
    fn the_floor_follows_a_lasting_rise_in_background_noise() {
        // Noise at -50 dBFS then a fan at -42 dBFS (8 dB up: below the start threshold) for 10 s:
        // the floor must rise to it and speech over the fan must still be found.
        let mut x = noise(secs(1.0), -50.0, 3);
        x.extend(noise(secs(10.0), -42.0, 4));
        mix(&mut x, &speech_like(secs(0.6), 0.3), secs(9.0));
        let mut vad = Vad::new(&VadConfig::default(), SR).unwrap();
        let mut segments = Vec::new();
        vad.push(&x[..secs(8.0)], &mut segments);
        let floor = vad.noise_floor_db().unwrap();
        assert!((floor - -42.0).abs() < 3.0, "floor {floor}");
        vad.push(&x[secs(8.0)..], &mut segments);
        vad.finish(&mut segments);
        assert_eq!(segments.len(), 1, "{segments:?}");
    }

    #[test]
    fn rejects_bad_config() {
        let config = VadConfig {
            continue_threshold_db: 20.0,
            ..VadConfig::default()
        };
        let err = Vad::new(&config, SR).err().unwrap();
        assert!(err.to_string().contains("continue_threshold_db"), "{err}");
    }
}
