//! Streaming decode of one track: a packet at a time, mixed to the output's channels and
//! resampled to its rate with `sentio_audio`'s resampler.

use std::fs::File;
use std::path::{Path, PathBuf};

use sentio_audio::resample::Resampler;
use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use crate::MusicError;

/// Damaged packets in a row after which a track counts as undecodable.
const MAX_BAD_PACKETS: u32 = 8;

/// One open track. Memory stays at one packet plus the resampler's history, whatever the
/// track's length.
pub struct TrackSource {
    path: PathBuf,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    /// `None`: keep the file's rate (loudness measurement).
    out_rate: Option<u32>,
    out_channels: usize,
    /// The file's rate and channels, known after the first packet.
    in_rate: u32,
    in_channels: usize,
    resamplers: Vec<Resampler>,
    interleaved: Vec<f32>,
    planes: Vec<Vec<f32>>,
    resampled: Vec<Vec<f32>>,
    bad_packets: u32,
    finished: bool,
}

impl TrackSource {
    /// Opens `path` and finds its audio track. Nothing is decoded yet.
    pub fn open(
        path: &Path,
        out_rate: Option<u32>,
        out_channels: usize,
    ) -> Result<Self, MusicError> {
        let decode_err = |reason: String| MusicError::Decode {
            path: path.to_path_buf(),
            reason,
        };
        let file = File::open(path).map_err(|source| MusicError::Io {
            action: "open",
            path: path.to_path_buf(),
            source,
        })?;
        let stream = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let format = symphonia::default::get_probe()
            .probe(
                &hint,
                stream,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(|e| decode_err(format!("unknown container ({e})")))?;
        let track = format
            .default_track(TrackType::Audio)
            .ok_or_else(|| decode_err("no audio track".into()))?;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| decode_err("no audio codec parameters".into()))?;
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(params, &AudioDecoderOptions::default())
            .map_err(|e| decode_err(format!("unsupported codec ({e})")))?;
        let track_id = track.id;
        Ok(TrackSource {
            path: path.to_path_buf(),
            format,
            decoder,
            track_id,
            out_rate,
            out_channels,
            in_rate: 0,
            in_channels: 0,
            resamplers: Vec::new(),
            interleaved: Vec::new(),
            planes: Vec::new(),
            resampled: Vec::new(),
            bad_packets: 0,
            finished: false,
        })
    }

    /// The rate of what [`TrackSource::decode_more`] appends (0 until the first packet when
    /// keeping the file's rate).
    pub fn rate(&self) -> u32 {
        self.out_rate.unwrap_or(self.in_rate)
    }

    /// Decodes the next packet and appends its frames (interleaved, the output's channels) to
    /// `out`. Returns `Ok(false)` once the track has ended and everything was appended.
    pub fn decode_more(&mut self, out: &mut Vec<f32>) -> Result<bool, MusicError> {
        loop {
            if self.finished {
                return Ok(false);
            }
            let packet = match self.format.next_packet() {
                Ok(Some(packet)) => packet,
                Ok(None) | Err(SymphoniaError::ResetRequired) => {
                    self.flush(out);
                    return Ok(true);
                }
                Err(SymphoniaError::IoError(e))
                    if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    self.flush(out);
                    return Ok(true);
                }
                Err(e) => return Err(self.error(format!("demuxing failed ({e})"))),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            match self.decoder.decode(&packet) {
                Ok(buffer) => {
                    self.bad_packets = 0;
                    let rate = buffer.spec().rate();
                    let channels = buffer.spec().channels().count();
                    if rate == 0 || channels == 0 {
                        return Err(self.error("a packet with no rate or no channels".into()));
                    }
                    buffer.copy_to_vec_interleaved(&mut self.interleaved);
                    if self.in_rate == 0 {
                        self.start(rate, channels);
                    } else if rate != self.in_rate || channels != self.in_channels {
                        return Err(self.error(format!(
                            "the format changes mid-track ({} Hz x {} to {rate} Hz x {channels})",
                            self.in_rate, self.in_channels
                        )));
                    }
                    self.process(out);
                    return Ok(true);
                }
                Err(SymphoniaError::DecodeError(reason)) => {
                    self.bad_packets += 1;
                    if self.bad_packets >= MAX_BAD_PACKETS {
                        return Err(self.error(format!(
                            "{MAX_BAD_PACKETS} damaged packets in a row ({reason})"
                        )));
                    }
                }
                Err(SymphoniaError::IoError(e))
                    if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    self.flush(out);
                    return Ok(true);
                }
                Err(e) => return Err(self.error(format!("decoding failed ({e})"))),
            }
        }
    }

    fn error(&mut self, reason: String) -> MusicError {
        self.finished = true;
        MusicError::Decode {
            path: self.path.clone(),
            reason,
        }
    }

    fn start(&mut self, rate: u32, channels: usize) {
        self.in_rate = rate;
        self.in_channels = channels;
        let work = work_channels(channels, self.out_channels);
        let to = self.out_rate.unwrap_or(rate);
        self.resamplers = (0..work).map(|_| Resampler::new(rate, to)).collect();
        self.planes = vec![Vec::new(); work];
        self.resampled = vec![Vec::new(); work];
    }

    fn process(&mut self, out: &mut Vec<f32>) {
        mix_to_planes(
            &self.interleaved,
            self.in_channels,
            self.out_channels,
            &mut self.planes,
        );
        for ((resampler, plane), resampled) in self
            .resamplers
            .iter_mut()
            .zip(&self.planes)
            .zip(&mut self.resampled)
        {
            resampled.clear();
            resampler.push(plane, resampled);
        }
        interleave(&self.resampled, self.out_channels, out);
    }

    fn flush(&mut self, out: &mut Vec<f32>) {
        self.finished = true;
        for (resampler, resampled) in self.resamplers.iter_mut().zip(&mut self.resampled) {
            resampled.clear();
            resampler.finish(resampled);
        }
        interleave(&self.resampled, self.out_channels, out);
    }
}

/// Channels carried through the resampler: the output's when mixing down (fewer to resample),
/// the file's when mixing up (copies are made after resampling).
pub fn work_channels(in_channels: usize, out_channels: usize) -> usize {
    in_channels.min(out_channels)
}

/// Splits interleaved `input` into planes of [`work_channels`] channels. Mixing down averages
/// the input channels `j` with `j % out == k` into plane `k` (stereo to mono: (L + R) / 2).
pub fn mix_to_planes(
    input: &[f32],
    in_channels: usize,
    out_channels: usize,
    planes: &mut [Vec<f32>],
) {
    let work = work_channels(in_channels, out_channels);
    let frames = input.len() / in_channels;
    for plane in planes.iter_mut() {
        plane.clear();
        plane.resize(frames, 0.0);
    }
    for (f, frame) in input.chunks_exact(in_channels).enumerate() {
        for (j, &x) in frame.iter().enumerate() {
            planes[j % work][f] += x;
        }
    }
    if in_channels > work {
        for (k, plane) in planes.iter_mut().enumerate() {
            let count = (k..in_channels).step_by(work).count() as f32;
            for x in plane.iter_mut() {
                *x /= count;
            }
        }
    }
}

/// Interleaves `planes` into `out_channels` channels, channel `c` from plane `c % planes`
/// (mono to stereo: the same signal on both).
pub fn interleave(planes: &[Vec<f32>], out_channels: usize, out: &mut Vec<f32>) {
    let Some(frames) = planes.iter().map(Vec::len).min() else {
        return;
    };
    out.reserve(frames * out_channels);
    #[allow(clippy::needless_range_loop)] // frame f of several planes
    for f in 0..frames {
        for c in 0..out_channels {
            out.push(planes[c % planes.len()][f]);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn stereo_mixes_down_to_the_mean_and_mono_up_to_copies() {
        let mut planes = vec![Vec::new(); 1];
        mix_to_planes(&[1.0, 0.0, 0.5, 0.5], 2, 1, &mut planes);
        assert_eq!(planes[0], vec![0.5, 0.5]);
        let mut out = Vec::new();
        interleave(&[vec![0.1, 0.2]], 2, &mut out);
        assert_eq!(out, vec![0.1, 0.1, 0.2, 0.2]);
        // 6 channels to stereo: plane 0 = mean of 0, 2, 4.
        let mut planes = vec![Vec::new(); 2];
        mix_to_planes(&[0.3, 1.0, 0.6, 1.0, 0.0, 1.0], 6, 2, &mut planes);
        assert!((planes[0][0] - 0.3).abs() < 1e-6);
        assert_eq!(planes[1][0], 1.0);
    }
}
