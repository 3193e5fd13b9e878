use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::{ErrorKind, HalError, Speaker};

/// A speaker that records what it plays into a 16-bit mono WAV file. The WAV header is brought
/// up to date on every [`Speaker::drain`] and when the speaker is dropped, so the file is
/// readable even if the program is stopped later.
pub struct WavSpeaker {
    writer: Option<hound::WavWriter<BufWriter<File>>>,
    rate: u32,
    path: PathBuf,
    written: u64,
}

impl WavSpeaker {
    /// Creates (or truncates) `path`, creating missing parent folders.
    pub fn create(path: &Path, rate: u32) -> Result<Self, HalError> {
        let device = format!("sim speaker {}", path.display());
        if rate == 0 {
            return Err(HalError::new(
                ErrorKind::Unsupported,
                device,
                "sample rate 0",
            ));
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| HalError::io(device.clone(), "cannot create the output folder", e))?;
        }
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let writer = hound::WavWriter::create(path, spec)
            .map_err(|e| wav_error(&device, "cannot create", e))?;
        Ok(WavSpeaker {
            writer: Some(writer),
            rate,
            path: path.to_path_buf(),
            written: 0,
        })
    }

    /// Samples written so far.
    pub fn samples_written(&self) -> u64 {
        self.written
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn device(&self) -> String {
        format!("sim speaker {}", self.path.display())
    }
}

fn wav_error(device: &str, what: &str, e: hound::Error) -> HalError {
    match e {
        hound::Error::IoError(io) => HalError::io(device, what, io),
        other => HalError::new(ErrorKind::Io, device, format!("{what}: {other}")),
    }
}

impl Speaker for WavSpeaker {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn write(&mut self, samples: &[i16]) -> Result<(), HalError> {
        let device = self.device();
        let writer = self.writer.as_mut().ok_or_else(|| {
            HalError::new(
                ErrorKind::Disconnected,
                device.clone(),
                "the speaker was closed",
            )
        })?;
        let mut w = writer.get_i16_writer(samples.len() as u32);
        for &s in samples {
            w.write_sample(s);
        }
        w.flush()
            .map_err(|e| wav_error(&device, "cannot write", e))?;
        self.written += samples.len() as u64;
        Ok(())
    }

    fn drain(&mut self) -> Result<(), HalError> {
        let device = self.device();
        if let Some(writer) = self.writer.as_mut() {
            writer
                .flush()
                .map_err(|e| wav_error(&device, "cannot flush", e))?;
        }
        Ok(())
    }
}

impl Drop for WavSpeaker {
    fn drop(&mut self) {
        if let Some(writer) = self.writer.take() {
            // Nothing to report to from a destructor; drain() is where errors surface.
            let _ = writer.finalize();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_back(path: &Path) -> (hound::WavSpec, Vec<i16>) {
        let r = hound::WavReader::open(path).unwrap();
        let spec = r.spec();
        (spec, r.into_samples::<i16>().map(|s| s.unwrap()).collect())
    }

    #[test]
    fn writes_a_valid_wav_readable_after_each_drain() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/out.wav");
        let mut spk = WavSpeaker::create(&path, 16000).unwrap();
        spk.write(&[1, -2, 3]).unwrap();
        spk.drain().unwrap();
        // Readable while the speaker is still open.
        let (spec, samples) = read_back(&path);
        assert_eq!(
            (spec.channels, spec.sample_rate, spec.bits_per_sample),
            (1, 16000, 16)
        );
        assert_eq!(samples, [1, -2, 3]);
        spk.write(&[i16::MAX, i16::MIN]).unwrap();
        assert_eq!(spk.samples_written(), 5);
        drop(spk);
        assert_eq!(read_back(&path).1, [1, -2, 3, i16::MAX, i16::MIN]);
    }

    #[test]
    fn unwritable_path_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"x").unwrap();
        let err = WavSpeaker::create(&blocker.join("out.wav"), 16000)
            .err()
            .unwrap();
        assert!(err.to_string().contains("out.wav"), "{err}");
    }
}
