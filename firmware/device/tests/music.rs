//! Mood music end to end: `sentiod --board sim` as a process, its speaker WAV measured.
//!
//! Two runs of the same 8 s: one hears the simulated voice clip, one a silent microphone. Until
//! the first track boundary (3.5 s) both play the same track, so the ratio of their levels is the
//! ducking gain alone: it must fall by the profile's depth within the attack time of the speech
//! onset the voice-activity detector finds in the clip (fed in the device's per-frame chunks) and
//! come back after the release.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The sim profile's music settings that the assertions depend on (defaults of sentio-music
/// unless boards/profiles/sim.toml sets them).
const DUCK_DEPTH_DB: f64 = 12.0;
const DUCK_ATTACK_MS: f64 = 150.0;
const DUCK_RELEASE_MS: f64 = 800.0;
const TARGET_LUFS: f64 = -18.0;
const VOLUME: f64 = 0.8;
const FPS: u64 = 15;
const RATE: u64 = 16_000;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `sentiod --board sim` for `frames` frames with `args`, its display and speaker in `out`;
/// returns its events.
fn run(out: &Path, frames: u32, args: &[&str]) -> Vec<Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_sentiod"))
        .args(["--board", "sim", "--frames"])
        .arg(frames.to_string())
        .args(args)
        .arg("--display-out")
        .arg(out.join("display"))
        .arg("--speaker-out")
        .arg(out.join("speaker.wav"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn read_wav(path: &Path) -> Vec<f64> {
    let reader = hound::WavReader::open(path).unwrap();
    assert_eq!(reader.spec().sample_rate as u64, RATE);
    assert_eq!(reader.spec().channels, 1);
    reader
        .into_samples::<i16>()
        .map(|s| f64::from(s.unwrap()) / 32768.0)
        .collect()
}

fn rms(x: &[f64]) -> f64 {
    (x.iter().map(|v| v * v).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

/// Speaker sample index of media time `ms`: frame `n` brings the interval `((n - 1) / FPS,
/// n / FPS]` of sound, so sample `i` plays at `i * 1000 / RATE` ms, as the microphone's.
fn sample_at(ms: f64) -> usize {
    (ms * RATE as f64 / 1000.0).max(0.0) as usize
}

/// The media times (ms) at which the device's voice-activity detector starts and stops hearing
/// speech in the first `secs` of the sim clip: the clip fed in per-frame chunks, as the device
/// does, each change taking effect at its frame's time.
fn speech_changes(secs: f64) -> Vec<(f64, bool)> {
    let audio = sentio_audio::read_wav(repo().join("boards/sim/voice.wav")).unwrap();
    assert_eq!(u64::from(audio.sample_rate), RATE);
    let mut vad = sentio_audio::Vad::new(&Default::default(), audio.sample_rate).unwrap();
    let mut segments = Vec::new();
    let mut speaking = false;
    let mut changes = Vec::new();
    let frames = (secs * FPS as f64) as u64;
    for n in 1..frames {
        let (from, to) = ((n - 1) * RATE / FPS, n * RATE / FPS);
        let chunk = &audio.samples[from as usize..(to as usize).min(audio.samples.len())];
        vad.push(chunk, &mut segments);
        if vad.in_speech() != speaking {
            speaking = vad.in_speech();
            changes.push((n as f64 * 1000.0 / FPS as f64, speaking));
        }
    }
    changes
}

#[test]
fn music_follows_the_mood_ducks_under_speech_and_keeps_its_loudness() {
    let dir = tempfile::tempdir().unwrap();
    let (voice, quiet) = (dir.path().join("voice"), dir.path().join("quiet"));
    let frames = 120; // 8 s
    let events = run(&voice, frames, &["--pace", "fast"]);
    let _ = run(&quiet, frames, &["--pace", "fast", "--mic", "silence"]);
    let with_speech = read_wav(&voice.join("speaker.wav"));
    let without = read_wav(&quiet.join("speaker.wav"));
    assert_eq!(with_speech.len(), without.len());
    assert_eq!(
        with_speech.len() as u64,
        (u64::from(frames) - 1) * RATE / FPS
    );

    // The mood of the sim media (a happy face and a happy voice) leaves the fallback's neutral
    // music at the first track boundary, not before: neutral starts, is left at its end, and a
    // happy track starts at the same time.
    let tracks: Vec<&Value> = events.iter().filter(|e| e["event"] == "track").collect();
    assert_eq!(
        (&tracks[0]["action"], &tracks[0]["mood"]),
        (&Value::from("started"), &Value::from("neutral")),
        "{tracks:#?}"
    );
    let moods: Vec<&Value> = events.iter().filter(|e| e["event"] == "mood").collect();
    assert!(moods.iter().any(|m| m["mood"] == "happy"), "{moods:#?}");
    let left = tracks
        .iter()
        .find(|t| t["action"] == "skipped")
        .expect("the neutral track is left");
    assert_eq!(left["why"], "end_of_track");
    let switch_ms = left["t_ms"].as_f64().unwrap();
    let happy = tracks
        .iter()
        .find(|t| t["action"] == "started" && t["mood"] == "happy")
        .expect("happy music starts");
    assert_eq!(happy["t_ms"].as_f64(), Some(switch_ms));
    assert!((3000.0..4000.0).contains(&switch_ms), "{switch_ms}");

    // Ducking: the gain between the two runs, in 20 ms windows, up to the switch.
    let changes = speech_changes(switch_ms / 1000.0);
    let (onset, end) = match changes.as_slice() {
        [(on, true), (off, false), ..] => (*on, *off),
        other => panic!("expected speech then silence in the clip, got {other:?}"),
    };
    assert!(
        end + DUCK_RELEASE_MS + 100.0 < switch_ms,
        "the clip's first utterance ({onset}-{end} ms) must end well before the switch"
    );
    let gain_db = |ms: f64| {
        let at = sample_at(ms);
        let window = at..at + (RATE / 50) as usize;
        20.0 * (rms(&with_speech[window.clone()]) / rms(&without[window])).log10()
    };
    let mut worst = Vec::new();
    let mut check = |from: f64, to: f64, want: f64, what: &str| {
        let mut ms = from;
        while ms + 20.0 <= to {
            let got = gain_db(ms);
            if (got - want).abs() > 0.5 {
                worst.push(format!("{what} at {ms:.0} ms: {got:.2} dB, want {want}"));
            }
            ms += 20.0;
        }
    };
    check(300.0, onset, 0.0, "before speech");
    check(onset + DUCK_ATTACK_MS, end, -DUCK_DEPTH_DB, "during speech");
    check(
        end + DUCK_RELEASE_MS,
        switch_ms - 100.0,
        0.0,
        "after the release",
    );
    assert!(worst.is_empty(), "speech {onset}-{end} ms: {worst:#?}");
    println!(
        "speech {onset:.0}-{end:.0} ms; gain before {:.2} dB, after the attack {:.2} dB, \
         after the release {:.2} dB",
        gain_db(onset - 100.0),
        gain_db(onset + DUCK_ATTACK_MS),
        gain_db(end + DUCK_RELEASE_MS)
    );
    // Part-way down during the attack: a ramp, not a jump.
    let mid = gain_db(onset + DUCK_ATTACK_MS / 2.0 - 10.0);
    assert!(
        mid < -1.0 && mid > -DUCK_DEPTH_DB + 1.0,
        "mid-attack gain {mid:.2} dB"
    );

    // No clicks: ducking adds no step the undistorted music does not have, and no step
    // anywhere (crossfades, the beep, gain ramps) exceeds a quarter of full scale; the music's
    // own largest step is about 0.24 (an 880 Hz synth note at full level).
    let max_step = |x: &[f64]| {
        x.windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0, f64::max)
    };
    let (ducked, plain) = (max_step(&with_speech), max_step(&without));
    println!("largest sample step: {ducked:.4} with ducking, {plain:.4} without");
    assert!(ducked <= plain + 1e-3, "{ducked} vs {plain}");
    assert!(plain < 0.3, "largest sample step {plain}");

    // Loudness: each track alone (after the beep, before the crossfade) at the target, scaled
    // by the volume, within 1 LU.
    let expected = TARGET_LUFS + 20.0 * VOLUME.log10();
    let loudness = |from_ms: f64, to_ms: f64| {
        let mut meter =
            ebur128::EbuR128::new(1, RATE as u32, ebur128::Mode::I).expect("ebur128 meter");
        let samples: Vec<f32> = without[sample_at(from_ms)..sample_at(to_ms)]
            .iter()
            .map(|&v| v as f32)
            .collect();
        meter.add_frames_f32(&samples).unwrap();
        meter.loudness_global().unwrap()
    };
    let neutral = loudness(400.0, switch_ms);
    assert!(
        (neutral - expected).abs() <= 1.0,
        "neutral track: {neutral:.2} LUFS, want {expected:.2}"
    );
    // The happy track sounds alone from the end of the crossfade (1.5 s) to the run's end.
    let happy_alone = loudness(switch_ms + 1600.0, 7900.0);
    println!("loudness: neutral {neutral:.2}, happy {happy_alone:.2} LUFS (target {expected:.2})");
    assert!(
        (happy_alone - expected).abs() <= 1.0,
        "happy track: {happy_alone:.2} LUFS, want {expected:.2}"
    );
}

#[test]
fn the_next_button_skips_with_the_short_crossfade_and_no_music_is_silent() {
    let dir = tempfile::tempdir().unwrap();
    // Virtual pace: the button's press time is on the run's clock.
    let events = run(
        &dir.path().join("next"),
        45,
        &["--pace", "virtual", "--next-at", "1.0"],
    );
    let tracks: Vec<&Value> = events.iter().filter(|e| e["event"] == "track").collect();
    let skip = tracks
        .iter()
        .find(|t| t["action"] == "skipped")
        .expect("a skip");
    assert_eq!(skip["why"], "manual", "{tracks:#?}");
    let ended = tracks
        .iter()
        .find(|t| t["action"] == "ended" && t["track"] == skip["track"])
        .expect("the skipped track ends");
    // The profile's skip_crossfade_ms.
    let fade = ended["t_ms"].as_u64().unwrap() - skip["t_ms"].as_u64().unwrap();
    assert_eq!(fade, 300, "{tracks:#?}");

    // --no-music: the speaker gets the beep only.
    let quiet = dir.path().join("quiet");
    let events = run(&quiet, 10, &["--pace", "fast", "--no-music"]);
    assert!(
        events.iter().all(|e| e["event"] != "track"),
        "no track events without music"
    );
    let samples = read_wav(&quiet.join("speaker.wav"));
    assert_eq!(samples.len(), 2400, "the 150 ms beep alone");
}
