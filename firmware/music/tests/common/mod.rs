//! Fixtures and measurements shared by the player tests: real WAV files written with hound,
//! real rendered samples.
#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

use std::f64::consts::PI;
use std::path::{Path, PathBuf};

use sentio_music::{MusicConfig, Player, TrackEvent};

pub const RATE: u32 = 48_000;

/// Writes a 16-bit WAV of a sine (the same on every channel), with 5 ms fades at both ends.
pub fn sine_wav(path: &Path, freq: f64, secs: f64, rate: u32, channels: u16, amp: f64) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let n = (secs * f64::from(rate)) as usize;
    let edge = (0.005 * f64::from(rate)) as usize;
    for i in 0..n {
        let fade = (i.min(n - 1 - i) as f64 / edge as f64).min(1.0);
        let x = amp * fade * (2.0 * PI * freq * i as f64 / f64::from(rate)).sin();
        for _ in 0..channels {
            w.write_sample((x * 32767.0).round() as i16).unwrap();
        }
    }
    w.finalize().unwrap();
}

/// A folder `name` under `dir` with one sine track per frequency (22.05 kHz mono).
pub fn mood_folder(dir: &Path, name: &str, freqs: &[f64], secs: f64) -> PathBuf {
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).unwrap();
    for f in freqs {
        sine_wav(
            &folder.join(format!("{name}_{f}.wav")),
            *f,
            secs,
            22_050,
            1,
            0.5,
        );
    }
    folder
}

pub fn config(folders: &[(&str, &Path)]) -> MusicConfig {
    let mut config = MusicConfig {
        fallback_mood: folders[0].0.to_string(),
        ..MusicConfig::default()
    };
    for (mood, path) in folders {
        config.folders.insert(mood.to_string(), path.to_path_buf());
    }
    config
}

/// Renders until the player's clock reaches `until_ms`, in blocks of `block` frames (the last
/// one shorter), appending samples and events.
pub fn render_until(
    player: &mut Player,
    until_ms: u64,
    block: usize,
    out: &mut Vec<f32>,
    events: &mut Vec<TrackEvent>,
) {
    let ch = usize::from(player.channels());
    let end = until_ms * u64::from(player.sample_rate()) / 1000;
    let mut buf = vec![0.0f32; block * ch];
    loop {
        let done = (out.len() / ch) as u64;
        if done >= end {
            break;
        }
        let n = (block as u64).min(end - done) as usize;
        player.render(&mut buf[..n * ch]);
        out.extend_from_slice(&buf[..n * ch]);
        events.extend(player.take_events());
    }
}

pub fn started(events: &[TrackEvent]) -> Vec<(u64, PathBuf, String, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            TrackEvent::Started {
                t_ms,
                track,
                mood,
                playlist,
                ..
            } => Some((*t_ms, track.clone(), mood.clone(), playlist.clone())),
            _ => None,
        })
        .collect()
}

/// Largest difference between consecutive samples of one channel.
pub fn max_step(samples: &[f32], channels: usize) -> (f32, usize) {
    let mut worst = (0.0f32, 0);
    for c in 0..channels {
        let ch: Vec<f32> = samples.iter().skip(c).step_by(channels).copied().collect();
        for (i, w) in ch.windows(2).enumerate() {
            let d = (w[1] - w[0]).abs();
            if d > worst.0 {
                worst = (d, i + 1);
            }
        }
    }
    worst
}

/// RMS level in dBFS of channel 0 over frames `from..to`.
pub fn level_db(samples: &[f32], channels: usize, from: usize, to: usize) -> f64 {
    let sum: f64 = (from..to)
        .map(|f| f64::from(samples[f * channels]).powi(2))
        .sum();
    10.0 * (sum / (to - from) as f64).log10()
}

pub fn frame_at(ms: u64) -> usize {
    (ms * u64::from(RATE) / 1000) as usize
}
