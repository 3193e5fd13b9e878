//! The device hears a clip exactly as `sentio run` does: sentiod's voice path (its listener fed
//! the microphone's samples frame by frame, the streaming VAD, the utterance's window by the
//! manifest's rule, the features and the model through the device's load options) gives the
//! same window and the same scores as `sentio run MODEL CLIP.wav` on the whole clip.

use std::path::{Path, PathBuf};
use std::process::Command;

use sentiod::models::{ModelFile, device_load_options};
use sentiod::voice::{Listener, ListenerConfig, SpeechWindow};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What `sentio run --json` prints for a clip: the scores.
fn run_scores(model: &Path, clip: &Path) -> Vec<f32> {
    let out = Command::new(env!("CARGO_BIN_EXE_sentio"))
        .arg("run")
        .arg(model)
        .arg(clip)
        .arg("--json")
        .output()
        .expect("sentio runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    json["outputs"][0]["data"]
        .as_array()
        .expect("outputs[0].data")
        .iter()
        .map(|v| v.as_f64().expect("a number") as f32)
        .collect()
}

#[test]
fn the_device_scores_a_clip_as_sentio_run_does() {
    let zoo = repo().join("models/zoo/ser");
    let clip_path = repo().join("boards/sim/voice.wav");
    let mut model = ModelFile::shipped(&repo().join("models/zoo"), "ser")
        .and_then(|f| {
            f.speech(&device_load_options(&sentio_boards::RuntimeConfig {
                threads: 1,
                precision: sentio_boards::Precision::F32,
                kernels: sentio_boards::Kernels::Auto,
            }))
        })
        .expect("the zoo speech model loads as the device loads it");

    // The microphone's samples as the sim microphone hands them over: i16 at 16 kHz, in the
    // chunks the device loop reads per frame (15 fps), then 3 s of silence.
    let clip = sentio_audio::read_wav(&clip_path).expect("the sim clip");
    assert_eq!(clip.sample_rate, 16_000);
    let mut samples: Vec<i16> = clip
        .samples
        .iter()
        .map(|&s| (s * 32768.0).round() as i16)
        .collect();
    samples.extend(std::iter::repeat_n(0, 3 * 16_000));
    let window_secs = model.input.window() as f32 / 16_000.0;
    let mut listener = Listener::new(16_000, window_secs, ListenerConfig::default()).unwrap();
    let mut windows: Vec<SpeechWindow> = Vec::new();
    let mut last = None;
    let mut position = 0usize;
    for frame in 1u64.. {
        let end = ((frame * 16_000 / 15) as usize).min(samples.len());
        let mut due = Vec::new();
        listener.push(&samples[position..end], &mut due);
        for w in due.iter().filter(|w| w.last) {
            last = Some(listener.model_window(w, &model.input));
        }
        windows.extend(due);
        position = end;
        if position == samples.len() {
            break;
        }
    }
    assert_eq!(
        windows.iter().filter(|w| w.last).count(),
        1,
        "one utterance: {windows:?}"
    );
    assert!(windows.iter().any(|w| !w.last), "interim windows too");
    let device_window = last.expect("the utterance ended");

    // The same window as the clip rule (VAD over the whole clip, then fit).
    let clip_window = model.input.window_of(&clip.samples).unwrap();
    assert_eq!(device_window.len(), clip_window.len());
    assert_eq!(device_window, clip_window);

    let device = model.scores(&device_window).unwrap();
    let host = run_scores(&zoo.join("model.onnx"), &clip_path);
    assert_eq!(device.len(), 8);
    assert_eq!(host.len(), 8);
    let diff = device
        .iter()
        .zip(&host)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(diff <= 1e-6, "device {device:?} vs sentio run {host:?}");
}
