use std::path::Path;
use std::time::Duration;

use super::Pacing;
use crate::{Clock, ErrorKind, HalError, Microphone};

/// Paces a sample source: in real time, a read returns only once its samples would have been
/// captured by a real microphone.
struct SampleSchedule<C: Clock> {
    rate: u32,
    pacing: Pacing,
    clock: C,
    start: Option<Duration>,
    /// Samples handed out so far.
    delivered: u64,
}

impl<C: Clock> SampleSchedule<C> {
    fn wait_for(&mut self, count: usize) {
        let end = self.delivered + count as u64;
        if self.pacing == Pacing::RealTime {
            let start = *self.start.get_or_insert_with(|| self.clock.now());
            let due = Duration::from_nanos(end * 1_000_000_000 / u64::from(self.rate));
            self.clock.sleep_until(start + due);
        }
        self.delivered = end;
    }
}

/// A microphone that plays back a WAV file, mixed down to mono and resampled to `rate`.
pub struct WavMicrophone<C: Clock> {
    samples: Vec<i16>,
    position: usize,
    looping: bool,
    schedule: SampleSchedule<C>,
}

impl<C: Clock> WavMicrophone<C> {
    /// Reads the whole file now (8/16/24/32-bit integer or 32-bit float PCM, any channel count).
    pub fn open(
        path: &Path,
        rate: u32,
        looping: bool,
        pacing: Pacing,
        clock: C,
    ) -> Result<Self, HalError> {
        let device = format!("sim microphone {}", path.display());
        if rate == 0 {
            return Err(HalError::new(
                ErrorKind::Unsupported,
                device,
                "sample rate 0",
            ));
        }
        let file = std::fs::File::open(path).map_err(|e| {
            HalError::io(device.clone(), "cannot open the WAV file", e)
                .with_help("check the path, or use --mic silence")
        })?;
        let reader = hound::WavReader::new(std::io::BufReader::new(file)).map_err(|e| {
            HalError::new(
                ErrorKind::InvalidData,
                device.clone(),
                format!("not a WAV file: {e}"),
            )
            .with_help(
                "sim microphones read RIFF WAV (PCM or float); convert with `sox in.ogg out.wav`",
            )
        })?;
        let spec = reader.spec();
        let channels = usize::from(spec.channels.max(1));
        let interleaved = read_as_f32(reader).map_err(|e| {
            HalError::new(
                ErrorKind::InvalidData,
                device.clone(),
                format!("cannot read samples: {e}"),
            )
        })?;
        let mono: Vec<f32> = interleaved
            .chunks(channels)
            .map(|frame| frame.iter().sum::<f32>() / frame.len() as f32)
            .collect();
        // The project's one resampler (sentio-audio's): the simulated board brings a WAV to its
        // rate with the same filter as `sentio features`, `sentio run` and the trainer.
        let resampled = sentio_audio::resample(&mono, spec.sample_rate, rate);
        if resampled.is_empty() {
            return Err(HalError::new(
                ErrorKind::InvalidData,
                device,
                "the WAV file holds no samples",
            )
            .with_help("record a clip of at least a few milliseconds"));
        }
        let samples = resampled
            .iter()
            .map(|&s| (s * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
            .collect();
        Ok(WavMicrophone {
            samples,
            position: 0,
            looping,
            schedule: SampleSchedule {
                rate,
                pacing,
                clock,
                start: None,
                delivered: 0,
            },
        })
    }

    /// The whole clip at the declared rate.
    pub fn clip(&self) -> &[i16] {
        &self.samples
    }
}

fn read_as_f32<R: std::io::Read>(reader: hound::WavReader<R>) -> Result<Vec<f32>, hound::Error> {
    let spec = reader.spec();
    match spec.sample_format {
        hound::SampleFormat::Float => reader.into_samples::<f32>().collect(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect()
        }
    }
}

impl<C: Clock> Microphone for WavMicrophone<C> {
    fn sample_rate(&self) -> u32 {
        self.schedule.rate
    }

    fn read(&mut self, buf: &mut [i16]) -> Result<usize, HalError> {
        let mut written = 0;
        while written < buf.len() {
            if self.position == self.samples.len() {
                if !self.looping {
                    break;
                }
                self.position = 0;
            }
            let n = (buf.len() - written).min(self.samples.len() - self.position);
            buf[written..written + n]
                .copy_from_slice(&self.samples[self.position..self.position + n]);
            self.position += n;
            written += n;
        }
        self.schedule.wait_for(written);
        Ok(written)
    }
}

/// A microphone that hears nothing, forever.
pub struct SilenceMicrophone<C: Clock> {
    schedule: SampleSchedule<C>,
}

impl<C: Clock> SilenceMicrophone<C> {
    pub fn new(rate: u32, pacing: Pacing, clock: C) -> Self {
        SilenceMicrophone {
            schedule: SampleSchedule {
                rate: rate.max(1),
                pacing,
                clock,
                start: None,
                delivered: 0,
            },
        }
    }
}

impl<C: Clock> Microphone for SilenceMicrophone<C> {
    fn sample_rate(&self) -> u32 {
        self.schedule.rate
    }

    fn read(&mut self, buf: &mut [i16]) -> Result<usize, HalError> {
        buf.fill(0);
        self.schedule.wait_for(buf.len());
        Ok(buf.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VirtualClock;

    fn write_wav(path: &Path, rate: u32, channels: u16, samples: &[i16]) {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for &s in samples {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
    }

    #[test]
    fn same_rate_mono_is_bit_exact_and_ends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.wav");
        let data: Vec<i16> = (0..100).map(|i| (i * 300 - 15000) as i16).collect();
        write_wav(&path, 16000, 1, &data);
        let clock = VirtualClock::new();
        let mut mic = WavMicrophone::open(&path, 16000, false, Pacing::Fast, &clock).unwrap();
        let mut buf = [0i16; 64];
        assert_eq!(mic.read(&mut buf).unwrap(), 64);
        assert_eq!(&buf[..], &data[..64]);
        assert_eq!(mic.read(&mut buf).unwrap(), 36);
        assert_eq!(&buf[..36], &data[64..]);
        assert_eq!(mic.read(&mut buf).unwrap(), 0, "end of a non-looping clip");
    }

    #[test]
    fn looping_wraps_around() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.wav");
        write_wav(&path, 8000, 1, &[1, 2, 3]);
        let clock = VirtualClock::new();
        let mut mic = WavMicrophone::open(&path, 8000, true, Pacing::Fast, &clock).unwrap();
        let mut buf = [0i16; 7];
        assert_eq!(mic.read(&mut buf).unwrap(), 7);
        assert_eq!(buf, [1, 2, 3, 1, 2, 3, 1]);
    }

    #[test]
    fn stereo_44k1_is_mixed_and_resampled() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("st.wav");
        // Left: 1 kHz sine, right: its negation plus DC 0 -> mono is silence... use equal channels.
        let mut data = Vec::new();
        for i in 0..44100 {
            let s =
                (8000.0 * (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / 44100.0).sin()) as i16;
            data.push(s);
            data.push(s);
        }
        write_wav(&path, 44100, 2, &data);
        let clock = VirtualClock::new();
        let mic = WavMicrophone::open(&path, 16000, false, Pacing::Fast, &clock).unwrap();
        let clip = mic.clip();
        assert_eq!(clip.len(), 16000);
        let crossings = clip.windows(2).filter(|w| w[0] < 0 && w[1] >= 0).count();
        assert!((crossings as i64 - 1000).abs() <= 1, "{crossings}");
        let peak = clip[100..15900]
            .iter()
            .map(|s| s.unsigned_abs())
            .max()
            .unwrap();
        assert!((7800..=8200).contains(&peak), "{peak}");
    }

    #[test]
    fn resampling_is_sentio_audios() {
        // One resampler for the project: the clip is sentio_audio::resample of the mono mix,
        // quantized to i16, sample for sample.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("st48k.wav");
        let mut data = Vec::new();
        let mut mono = Vec::new();
        for i in 0..4800 {
            let t = i as f64 / 48000.0;
            let l = (9000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as i16;
            let r = (5000.0 * (2.0 * std::f64::consts::PI * 3100.0 * t).sin()) as i16;
            data.extend([l, r]);
            mono.push((f32::from(l) / 32768.0 + f32::from(r) / 32768.0) / 2.0);
        }
        write_wav(&path, 48000, 2, &data);
        let clock = VirtualClock::new();
        let mic = WavMicrophone::open(&path, 16000, false, Pacing::Fast, &clock).unwrap();
        let expected: Vec<i16> = sentio_audio::resample(&mono, 48000, 16000)
            .iter()
            .map(|&s| (s * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
            .collect();
        assert_eq!(mic.clip().len(), 1600);
        let max_diff = mic
            .clip()
            .iter()
            .zip(&expected)
            .map(|(a, b)| (i32::from(*a) - i32::from(*b)).abs())
            .max()
            .unwrap();
        // The mix's rounding may differ in the last bit of f32, not more.
        assert!(max_diff <= 1, "max difference {max_diff} LSB");
    }

    #[test]
    fn a_constant_level_stays_constant_away_from_the_edges() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dc.wav");
        write_wav(&path, 22050, 1, &vec![8192i16; 22050]);
        let clock = VirtualClock::new();
        let mic = WavMicrophone::open(&path, 16000, false, Pacing::Fast, &clock).unwrap();
        let clip = mic.clip();
        assert_eq!(clip.len(), 16000);
        // The filter reaches ~36 output samples; beyond them the level is kept to 1 LSB.
        assert!(
            clip[100..15900].iter().all(|&s| (s - 8192).abs() <= 1),
            "{:?}",
            &clip[100..110]
        );
    }

    #[test]
    fn real_time_reads_wait_for_their_samples() {
        let clock = VirtualClock::new();
        let mut mic = SilenceMicrophone::new(16000, Pacing::RealTime, &clock);
        let mut buf = [1i16; 1600];
        assert_eq!(mic.read(&mut buf).unwrap(), 1600);
        assert!(buf.iter().all(|&s| s == 0));
        assert_eq!(clock.now(), Duration::from_millis(100));
        mic.read(&mut buf).unwrap();
        assert_eq!(clock.now(), Duration::from_millis(200));
    }

    #[test]
    fn bad_files_give_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let clock = VirtualClock::new();
        let err = WavMicrophone::open(
            &dir.path().join("none.wav"),
            16000,
            false,
            Pacing::Fast,
            &clock,
        )
        .err()
        .unwrap();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.to_string().contains("none.wav"));
        let junk = dir.path().join("junk.wav");
        std::fs::write(&junk, b"RIFF....WAVEjunk").unwrap();
        let err = WavMicrophone::open(&junk, 16000, false, Pacing::Fast, &clock)
            .err()
            .unwrap();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        assert!(err.to_string().contains("not a WAV file"), "{err}");
    }
}
