//! WAV files in and out: decode any common PCM/float WAV to mono f32, write 16-bit PCM atomically.
//!
//! Decoding always gives mono samples in -1..1 plus the file's own sample rate; bringing the
//! rate to the features' rate is [`crate::resample()`]'s job, so each step stays testable alone.

use std::fs::File;
use std::io::Cursor;
use std::path::Path;

use hound::{SampleFormat, WavReader, WavSpec, WavWriter};

use crate::AudioError;

/// A decoded clip: mono samples in -1..1 at `sample_rate` Hz.
#[derive(Clone, Debug, PartialEq)]
pub struct Audio {
    pub samples: Vec<f32>,
    pub sample_rate: u32,
}

impl Audio {
    /// Length of the clip in seconds.
    pub fn duration_secs(&self) -> f64 {
        if self.sample_rate == 0 {
            return 0.0;
        }
        self.samples.len() as f64 / f64::from(self.sample_rate)
    }

    /// The clip at `to_hz` (see [`crate::resample()`]); unchanged if it is already at that rate.
    pub fn resampled(self, to_hz: u32) -> Audio {
        if self.sample_rate == to_hz {
            return self;
        }
        Audio {
            samples: crate::resample(&self.samples, self.sample_rate, to_hz),
            sample_rate: to_hz,
        }
    }
}

/// Reads a WAV file (PCM integer 8/16/24/32-bit or 32-bit float, any channel count) and mixes
/// it down to mono by averaging the channels.
pub fn read_wav(path: impl AsRef<Path>) -> Result<Audio, AudioError> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|source| AudioError::Io {
        action: "open",
        path: path.to_path_buf(),
        source,
    })?;
    decode_wav(std::io::BufReader::new(file), path)
}

/// [`read_wav`] from any reader (bytes in memory, a pipe); `source` only names it in errors.
pub fn decode_wav(reader: impl std::io::Read, source: &Path) -> Result<Audio, AudioError> {
    decode_wav_with_channels(reader, source).map(|(audio, _)| audio)
}

/// [`decode_wav`], and the channel count the file had before they were mixed to mono (for a
/// tool that says what it did to the clip).
pub fn decode_wav_with_channels(
    reader: impl std::io::Read,
    source: &Path,
) -> Result<(Audio, u16), AudioError> {
    let path = source;
    let reader = WavReader::new(reader).map_err(|err| header_error(path, err))?;
    let spec = reader.spec();
    if spec.channels == 0 {
        return Err(AudioError::UnsupportedFormat {
            path: path.to_path_buf(),
            detail: "the header declares 0 channels".into(),
        });
    }
    if spec.sample_rate == 0 {
        return Err(AudioError::UnsupportedFormat {
            path: path.to_path_buf(),
            detail: "the header declares a sample rate of 0 Hz".into(),
        });
    }
    let interleaved = decode_samples(path, reader, spec)?;
    // Float files can hold NaN or infinity, which would poison every feature computed from them.
    if let Some(index) = interleaved.iter().position(|x| !x.is_finite()) {
        return Err(AudioError::NonFiniteSample {
            path: path.to_path_buf(),
            index,
            value: interleaved[index],
        });
    }
    let audio = Audio {
        samples: mix_to_mono(&interleaved, usize::from(spec.channels)),
        sample_rate: spec.sample_rate,
    };
    Ok((audio, spec.channels))
}

fn decode_samples<R: std::io::Read>(
    path: &Path,
    mut reader: WavReader<R>,
    spec: WavSpec,
) -> Result<Vec<f32>, AudioError> {
    match (spec.sample_format, spec.bits_per_sample) {
        (SampleFormat::Float, 32) => reader
            .samples::<f32>()
            .collect::<Result<Vec<f32>, _>>()
            .map_err(|err| data_error(path, err)),
        (SampleFormat::Int, bits @ (8 | 16 | 24 | 32)) => {
            // hound returns 8-bit (unsigned on disk) already shifted to signed, so every width
            // scales the same way: full scale is 2^(bits-1).
            let scale = 1.0 / f64::from(1u32 << (bits - 1));
            reader
                .samples::<i32>()
                .map(|sample| sample.map(|value| (f64::from(value) * scale) as f32))
                .collect::<Result<Vec<f32>, _>>()
                .map_err(|err| data_error(path, err))
        }
        (format, bits) => Err(AudioError::UnsupportedFormat {
            path: path.to_path_buf(),
            detail: format!(
                "{bits}-bit {}",
                match format {
                    SampleFormat::Float => "float",
                    SampleFormat::Int => "integer PCM",
                }
            ),
        }),
    }
}

/// Averages interleaved frames of `channels` samples. A trailing partial frame is dropped.
fn mix_to_mono(interleaved: &[f32], channels: usize) -> Vec<f32> {
    if channels == 1 {
        return interleaved.to_vec();
    }
    let inv = 1.0 / channels as f32;
    interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() * inv)
        .collect()
}

fn header_error(path: &Path, err: hound::Error) -> AudioError {
    let path = path.to_path_buf();
    match err {
        // hound reports a short read as an I/O error of its own making (no OS error code):
        // that is a file too short to be a WAV, not a disk problem.
        hound::Error::IoError(source) if source.raw_os_error().is_none() => AudioError::NotWav {
            path,
            reason: format!("the file ends inside the header: {source}"),
        },
        hound::Error::IoError(source) => AudioError::Io {
            action: "read",
            path,
            source,
        },
        hound::Error::FormatError(reason) => AudioError::NotWav {
            path,
            reason: reason.into(),
        },
        hound::Error::Unsupported => AudioError::UnsupportedFormat {
            path,
            detail: "an encoding other than integer PCM or IEEE float (e.g. A-law, ADPCM)".into(),
        },
        other => AudioError::UnsupportedFormat {
            path,
            detail: other.to_string(),
        },
    }
}

fn data_error(path: &Path, err: hound::Error) -> AudioError {
    match err {
        hound::Error::IoError(source) if source.raw_os_error().is_some() => AudioError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        },
        other => AudioError::CorruptData {
            path: path.to_path_buf(),
            reason: other.to_string(),
        },
    }
}

/// Writes mono `samples` as 16-bit PCM. Samples outside -1..1 are clipped. The file replaces
/// `path` whole ([`sentio_files::write_bytes_atomically`]), so a reader never sees a
/// half-written WAV and a crash leaves the old file intact.
pub fn write_wav(
    path: impl AsRef<Path>,
    samples: &[f32],
    sample_rate: u32,
) -> Result<(), AudioError> {
    let path = path.as_ref();
    if sample_rate == 0 {
        return Err(AudioError::ZeroSampleRate {
            what: format!("writing {}", path.display()),
        });
    }
    let bytes = encode_pcm16(samples, sample_rate).map_err(|err| AudioError::Io {
        action: "encode",
        path: path.to_path_buf(),
        source: std::io::Error::other(err.to_string()),
    })?;
    sentio_files::write_bytes_atomically(path, &bytes).map_err(|source| AudioError::Io {
        action: "write",
        path: path.to_path_buf(),
        source,
    })
}

fn encode_pcm16(samples: &[f32], sample_rate: u32) -> Result<Vec<u8>, hound::Error> {
    let spec = WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: SampleFormat::Int,
    };
    let mut cursor = Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    let mut writer = WavWriter::new(&mut cursor, spec)?;
    for &sample in samples {
        writer.write_sample(pcm16_from_f32(sample))?;
    }
    writer.finalize()?;
    Ok(cursor.into_inner())
}

/// -1..1 to i16, clipping out-of-range values and mapping NaN to silence.
fn pcm16_from_f32(sample: f32) -> i16 {
    if sample.is_nan() {
        return 0;
    }
    // Same full scale as read_wav (2^15), so a round trip is exact to half an LSB; +1.0 clips
    // to 32767.
    (f64::from(sample) * 32768.0)
        .round()
        .clamp(-32768.0, 32767.0) as i16
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::path::PathBuf;

    /// What the error says to do.
    fn help(err: &AudioError) -> String {
        miette::Diagnostic::help(err)
            .map(|h| h.to_string())
            .unwrap_or_default()
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("sentio-audio-wav-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn write_with_hound<S: hound::Sample + Copy>(path: &Path, spec: WavSpec, samples: &[S]) {
        let mut writer = WavWriter::create(path, spec).unwrap();
        for &s in samples {
            writer.write_sample(s).unwrap();
        }
        writer.finalize().unwrap();
    }

    fn spec(channels: u16, bits: u16, format: SampleFormat) -> WavSpec {
        WavSpec {
            channels,
            sample_rate: 22050,
            bits_per_sample: bits,
            sample_format: format,
        }
    }

    #[test]
    fn decodes_every_integer_width_to_the_same_scale() {
        let dir = temp_dir("widths");
        // Half of full scale, positive and negative, at each width.
        for bits in [8u16, 16, 24, 32] {
            let half = 1i64 << (bits - 2);
            let path = dir.join(format!("int{bits}.wav"));
            let samples = [half as i32, -(half as i32), 0];
            match bits {
                8 => write_with_hound(
                    &path,
                    spec(1, 8, SampleFormat::Int),
                    &samples.map(|s| s as i8),
                ),
                16 => write_with_hound(
                    &path,
                    spec(1, 16, SampleFormat::Int),
                    &samples.map(|s| s as i16),
                ),
                _ => write_with_hound(&path, spec(1, bits, SampleFormat::Int), &samples),
            }
            let audio = read_wav(&path).unwrap();
            assert_eq!(audio.sample_rate, 22050);
            assert_eq!(audio.samples, vec![0.5, -0.5, 0.0], "{bits}-bit");
        }
    }

    #[test]
    fn decodes_float32_and_mixes_stereo_to_mono() {
        let dir = temp_dir("float");
        let path = dir.join("stereo.wav");
        // Frames: (0.5, -0.5) -> 0, (1.0, 0.5) -> 0.75, (-0.25, -0.75) -> -0.5
        write_with_hound(
            &path,
            spec(2, 32, SampleFormat::Float),
            &[0.5f32, -0.5, 1.0, 0.5, -0.25, -0.75],
        );
        let audio = read_wav(&path).unwrap();
        assert_eq!(audio.samples, vec![0.0, 0.75, -0.5]);
        assert!((audio.duration_secs() - 3.0 / 22050.0).abs() < 1e-12);
        let bytes = std::fs::read(&path).unwrap();
        let (same, channels) = decode_wav_with_channels(&bytes[..], &path).unwrap();
        assert_eq!((same.samples, channels), (audio.samples.clone(), 2));
        let at_16k = audio.resampled(16000);
        assert_eq!((at_16k.sample_rate, at_16k.samples.len()), (16000, 2));
    }

    #[test]
    fn write_then_read_round_trips_within_one_lsb_and_clips() {
        let dir = temp_dir("roundtrip");
        let path = dir.join("out.wav");
        let samples: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.01).sin() * 0.9).collect();
        write_wav(&path, &samples, 16000).unwrap();
        let audio = read_wav(&path).unwrap();
        assert_eq!(audio.sample_rate, 16000);
        assert_eq!(audio.samples.len(), samples.len());
        for (a, b) in audio.samples.iter().zip(&samples) {
            assert!((a - b).abs() <= 0.5 / 32768.0 + 1e-7, "{a} vs {b}");
        }

        write_wav(&path, &[2.0, -3.0, f32::NAN], 16000).unwrap();
        let clipped = read_wav(&path).unwrap().samples;
        assert!((clipped[0] - 32767.0 / 32768.0).abs() < 1e-7);
        assert_eq!(clipped[1], -1.0);
        assert_eq!(clipped[2], 0.0);
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn write_into_missing_folder_fails_and_names_the_file() {
        let dir = temp_dir("missing");
        let path = dir.join("no/such/dir/out.wav");
        let err = write_wav(&path, &[0.0], 16000).unwrap_err();
        assert!(matches!(err, AudioError::Io { .. }), "{err:?}");
        assert!(err.to_string().contains("out.wav"), "{err}");
        let err = write_wav(dir.join("x.wav"), &[0.0], 0).unwrap_err();
        assert!(matches!(err, AudioError::ZeroSampleRate { .. }), "{err:?}");
    }

    #[test]
    fn errors_name_the_file_and_say_what_to_do() {
        let dir = temp_dir("errors");

        let missing = dir.join("missing.wav");
        let err = read_wav(&missing).unwrap_err();
        assert!(matches!(err, AudioError::Io { .. }), "{err:?}");
        assert!(err.to_string().contains("missing.wav"));

        let mp3 = dir.join("song.mp3");
        fs::write(
            &mp3,
            b"ID3\x04\x00\x00\x00\x00\x00\x00not really an mp3 but not a wav",
        )
        .unwrap();
        let err = read_wav(&mp3).unwrap_err();
        assert!(matches!(err, AudioError::NotWav { .. }), "{err:?}");
        assert!(err.to_string().contains("song.mp3"), "{err}");
        assert!(help(&err).contains("sox"), "{err}");

        let empty = dir.join("empty.wav");
        fs::write(&empty, b"").unwrap();
        let err = read_wav(&empty).unwrap_err();
        assert!(matches!(err, AudioError::NotWav { .. }), "{err:?}");

        // A valid header followed by half a 16-bit sample.
        let truncated = dir.join("truncated.wav");
        write_with_hound(&truncated, spec(1, 16, SampleFormat::Int), &[1i16, 2, 3, 4]);
        let bytes = fs::read(&truncated).unwrap();
        fs::write(&truncated, &bytes[..bytes.len() - 3]).unwrap();
        let err = read_wav(&truncated).unwrap_err();
        assert!(matches!(err, AudioError::CorruptData { .. }), "{err:?}");
        assert!(err.to_string().contains("truncated.wav"));
    }

    #[test]
    fn non_finite_float_samples_are_refused() {
        let dir = temp_dir("nan");
        let path = dir.join("nan.wav");
        write_with_hound(
            &path,
            spec(1, 32, SampleFormat::Float),
            &[0.1f32, f32::NAN, 0.2],
        );
        let err = read_wav(&path).unwrap_err();
        assert!(
            matches!(err, AudioError::NonFiniteSample { index: 1, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("sample 1 is NaN"), "{err}");
        // The file is whole: the message must not send the user after a truncation.
        assert!(!err.to_string().contains("truncated"), "{err}");
    }

    /// Deterministic damage to valid files (byte flips, truncations, garbage): decoding must
    /// return a value or an error, never panic, and what it returns must be finite samples.
    #[test]
    fn damaged_files_give_errors_not_panics() {
        let dir = temp_dir("fuzz");
        let mut originals = Vec::new();
        for (i, (channels, bits, format)) in [
            (1u16, 16u16, SampleFormat::Int),
            (2, 24, SampleFormat::Int),
            (1, 8, SampleFormat::Int),
            (2, 32, SampleFormat::Float),
        ]
        .into_iter()
        .enumerate()
        {
            let path = dir.join(format!("orig{i}.wav"));
            let spec = spec(channels, bits, format);
            if format == SampleFormat::Float {
                write_with_hound(&path, spec, &[0.25f32; 64]);
            } else {
                write_with_hound(&path, spec, &[3i32; 64]);
            }
            originals.push(fs::read(&path).unwrap());
        }
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut decoded = 0;
        for round in 0..4000 {
            let mut bytes = originals[round % originals.len()].clone();
            match next() % 3 {
                0 => {
                    // Flip 1-4 bytes, mostly in the header where the structure is.
                    for _ in 0..1 + next() % 4 {
                        let limit = if next() % 4 == 0 { bytes.len() } else { 48 };
                        let at = (next() as usize) % limit;
                        bytes[at] = next() as u8;
                    }
                }
                1 => bytes.truncate((next() as usize) % bytes.len()),
                _ => {
                    let at = (next() as usize) % bytes.len();
                    for b in &mut bytes[at..] {
                        *b = next() as u8;
                    }
                }
            }
            let name = PathBuf::from(format!("mutant{round}.wav"));
            if let Ok(audio) = decode_wav(Cursor::new(bytes), &name) {
                decoded += 1;
                assert!(audio.samples.iter().all(|x| x.is_finite()), "round {round}");
            }
        }
        // Some mutations only touch sample values and still decode: the loop reached the
        // decoder's success path too, not only its error paths.
        assert!(decoded > 100, "only {decoded} of 4000 decoded");
    }

    #[test]
    fn rejects_formats_it_cannot_decode_with_a_conversion_hint() {
        let dir = temp_dir("unsupported");
        // Patch a valid 16-bit header to declare 12 bits per sample.
        let path = dir.join("odd.wav");
        write_with_hound(&path, spec(1, 16, SampleFormat::Int), &[0i16; 4]);
        let mut bytes = fs::read(&path).unwrap();
        // 16-bit PCM fmt chunk: bits_per_sample at byte 34 (RIFF header 12 + fmt header 8 + 14).
        bytes[34] = 12;
        fs::write(&path, &bytes).unwrap();
        match read_wav(&path) {
            // hound may refuse the header itself or hand us 12-bit integers; either way the
            // user is told to convert.
            Err(err @ (AudioError::UnsupportedFormat { .. } | AudioError::NotWav { .. })) => {
                assert!(help(&err).contains("sox"), "{err}");
            }
            other => panic!("expected an unsupported-format error, got {other:?}"),
        }
    }
}
