//! A tiny stand-in speech folder for tests and demos of the speech tools, without espeak-ng:
//! each class is a harmonic tone of its own pitch (shifted a little per speaker) between
//! stretches of faint noise, RAVDESS-named so the speakers are known.

use std::path::Path;

use crate::DataError;
use crate::audiofolder::SAMPLE_RATE;
use crate::rng::{Rng, derive_seed};

/// Writes `per_speaker` clips of each of `labels` by each of `speakers` speakers to
/// `out/<label>/03-01-CC-01-01-RR-AA.wav` (class `CC`, take `RR`, actor `AA`, all 1-based):
/// 0.25 s of faint noise, 0.3-0.5 s of a three-harmonic tone at `160 Hz * 1.3^class`
/// (+3% per speaker, random level), 0.2 s of faint noise. Pure function of the arguments.
pub fn tones(
    out: &Path,
    labels: &[&str],
    speakers: usize,
    per_speaker: usize,
    seed: u64,
) -> Result<(), DataError> {
    let rate = SAMPLE_RATE as f32;
    for (class, label) in labels.iter().enumerate() {
        let dir = out.join(label);
        std::fs::create_dir_all(&dir).map_err(DataError::io("cannot create", &dir))?;
        for speaker in 0..speakers {
            for take in 0..per_speaker {
                let mut rng = Rng::new(derive_seed(
                    seed,
                    &[class as u64, speaker as u64, take as u64],
                ));
                let hz = 160.0 * 1.3f32.powi(class as i32) * (1.0 + 0.03 * speaker as f32);
                let level = rng.range(0.15, 0.5);
                let tone = (rng.range(0.3, 0.5) * rate) as usize;
                let mut clip: Vec<f32> =
                    (0..(0.25 * rate) as usize).map(|_| rng.sym(1e-3)).collect();
                clip.extend((0..tone).map(|n| {
                    let t = n as f32 / rate;
                    (1..=3)
                        .map(|h| (std::f32::consts::TAU * hz * h as f32 * t).sin() / h as f32)
                        .sum::<f32>()
                        * level
                        / 1.84
                }));
                clip.extend((0..(0.2 * rate) as usize).map(|_| rng.sym(1e-3)));
                let name = format!(
                    "03-01-{:02}-01-01-{:02}-{:02}.wav",
                    class + 1,
                    take + 1,
                    speaker + 1
                );
                let path = dir.join(name);
                sentio_audio::write_wav(&path, &clip, SAMPLE_RATE)
                    .map_err(DataError::audio(&path))?;
            }
        }
    }
    Ok(())
}
