//! The mood pipeline end to end, as a user runs it: `sentiod --board sim` as a process with a
//! face picture and a voice clip, checked through its events and its last display frame; and
//! the inputs it must survive (a clip at another rate and in stereo, a corrupt clip, a speech
//! model whose manifest does not match it, a `[mood]` section that cannot work).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn sentiod() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sentiod"))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn events(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

fn of_kind<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event"] == kind).collect()
}

/// Whether OpenCV's cascade (Debian opencv-data), which the sim profile's detector reads, is
/// installed; CI installs it, so there a missing cascade fails the test.
fn cascade_installed() -> bool {
    let path = Path::new("/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml");
    if path.is_file() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing: apt-get install opencv-data",
        path.display()
    );
    eprintln!("skipped: {} is missing", path.display());
    false
}

/// Runs `sentiod --board BOARD` at virtual pace for `frames` frames with the sim camera and
/// `mic`, plus `extra` arguments; its output folder is `out`.
fn run(board: &str, mic: &Path, frames: u32, out: &Path, extra: &[&str]) -> Output {
    sentiod()
        .args([
            "--board",
            board,
            "--pace",
            "virtual",
            "--no-link",
            "--no-beep",
        ])
        .args(["--frames", &frames.to_string()])
        .arg("--camera")
        .arg(repo().join("boards/sim/camera"))
        .arg("--mic")
        .arg(mic)
        .arg("--display-out")
        .arg(out.join("display"))
        .arg("--speaker-out")
        .arg(out.join("speaker.wav"))
        .args(extra)
        .output()
        .expect("sentiod runs")
}

fn ok(out: &Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    events(&out.stdout)
}

/// The speech windows heard at the end of an utterance: (label, start_ms, end_ms).
fn last_windows(events: &[Value]) -> Vec<(String, u64, u64)> {
    of_kind(events, "speech")
        .into_iter()
        .filter(|e| e["last"] == true)
        .map(|e| {
            (
                e["label"].as_str().unwrap_or_default().to_string(),
                e["start_ms"].as_u64().unwrap_or(0),
                e["end_ms"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn a_face_and_a_voice_make_a_happy_mood_on_the_screen() {
    if !cascade_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let voice = repo().join("boards/sim/voice.wav");
    let ev = ok(&run("sim", &voice, 60, dir.path(), &[]));

    // The smiling astronaut reads as happy...
    let expressions = of_kind(&ev, "expression");
    assert_eq!(expressions[0]["label"], "happy", "{expressions:?}");
    // ...the sentence is heard: interim windows while it goes on, one window when it ends,
    // every one with the eight ser8 scores summing to 1...
    let speech = of_kind(&ev, "speech");
    assert!(speech.len() >= 2, "{speech:?}");
    for s in &speech {
        let scores = s["scores"].as_object().unwrap();
        assert_eq!(scores.len(), 8, "{s}");
        let sum: f64 = scores.values().map(|v| v.as_f64().unwrap()).sum();
        assert!((sum - 1.0).abs() < 0.01, "{s}");
        assert!(s["start_ms"].as_u64() < s["end_ms"].as_u64(), "{s}");
    }
    let last = last_windows(&ev);
    assert_eq!(last.len(), 1, "{speech:?}");
    assert_eq!(last[0].0, "happy");
    // ...and the mood changes once, neutral to happy, with each modality's part in it: the face
    // decides it (seen from frame 0; the voice's first window comes later and agrees).
    let moods = of_kind(&ev, "mood");
    assert_eq!(moods.len(), 1, "{moods:?}");
    let mood = moods[0];
    assert_eq!(
        (mood["mood"].as_str(), mood["previous"].as_str()),
        (Some("happy"), Some("neutral"))
    );
    let face = &mood["contributions"]["face"];
    assert!(face["weight"].as_f64() > Some(0.0), "{mood}");
    assert_eq!(face["mood"], "happy", "{mood}");
    let voice = &mood["contributions"]["voice"];
    assert!(voice["freshness"].as_f64().is_some(), "{mood}");
    let fused: f64 = mood["fused"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert!((fused - 1.0).abs() < 0.01, "{mood}");
    // The stats name every stage of the pipeline.
    let stats = of_kind(&ev, "stats");
    for stage in [
        "capture_ms",
        "detect_ms",
        "fer_ms",
        "features_ms",
        "ser_ms",
        "fuse_ms",
        "draw_ms",
        "flush_ms",
    ] {
        assert!(stats[0].get(stage).is_some(), "{stage}: {:?}", stats[0]);
    }

    // The last frame is the one the in-process golden test blesses: the process shows what the
    // library draws.
    let latest = image::open(dir.path().join("display/latest.png"))
        .unwrap()
        .to_rgb8();
    let golden = image::open(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/sim_rgb565_mood_frame60.png"),
    )
    .unwrap()
    .to_rgb8();
    let differing = latest
        .pixels()
        .zip(golden.pixels())
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(latest.dimensions(), golden.dimensions());
    assert_eq!(
        differing, 0,
        "the process's last frame differs from the golden mood screen"
    );
}

/// Writes `samples` (mono, -1..1, `from` Hz) as a 16-bit stereo WAV at `to` Hz, the left and
/// right channels at 0.9 and 1.1 of the signal.
fn write_stereo(path: &Path, samples: &[f32], from: u32, to: u32) {
    let resampled = sentio_audio::resample(samples, from, to);
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: to,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for x in resampled {
        for gain in [0.9f32, 1.1] {
            let v = (x * gain * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
            w.write_sample(v).unwrap();
        }
    }
    w.finalize().unwrap();
}

#[test]
fn a_clip_at_another_rate_and_in_stereo_is_resampled_and_mixed_not_refused() {
    let dir = tempfile::tempdir().unwrap();
    let voice = sentio_audio::read_wav(repo().join("boards/sim/voice.wav")).unwrap();
    let stereo = dir.path().join("voice_44k_stereo.wav");
    write_stereo(&stereo, &voice.samples, voice.sample_rate, 44_100);
    let ev = ok(&run("sim", &stereo, 45, dir.path(), &[]));
    let last = last_windows(&ev);
    assert_eq!(last.len(), 1, "{ev:?}");
    assert_eq!(last[0].0, "happy", "{ev:?}");
    // The same utterance as the 16 kHz mono clip, to the VAD's 10 ms frames.
    let reference = ok(&run(
        "sim",
        &repo().join("boards/sim/voice.wav"),
        45,
        &dir.path().join("reference"),
        &[],
    ));
    let want = last_windows(&reference);
    assert_eq!(want.len(), 1);
    assert!(last[0].1.abs_diff(want[0].1) <= 20, "{last:?} vs {want:?}");
    assert!(last[0].2.abs_diff(want[0].2) <= 20, "{last:?} vs {want:?}");
}

#[test]
fn a_corrupt_clip_is_a_clear_error_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let voice = std::fs::read(repo().join("boards/sim/voice.wav")).unwrap();
    for (name, bytes) in [
        (
            "garbage.wav",
            b"this is not audio at all, just text".to_vec(),
        ),
        // A RIFF header whose data chunk claims more than the file holds.
        ("truncated.wav", voice[..100].to_vec()),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = run("sim", &path, 5, dir.path(), &[]);
        assert!(!out.status.success(), "{name} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(name), "{name}: {err}");
        assert!(err.to_lowercase().contains("wav"), "{name}: {err}");
    }
}

#[test]
fn a_speech_model_whose_manifest_does_not_match_it_is_refused_and_the_face_goes_on() {
    if !cascade_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let zoo = repo().join("models/zoo/ser");
    let model = dir.path().join("ser.onnx");
    std::fs::copy(zoo.join("model.onnx"), &model).unwrap();
    // The manifest says 20 MFCCs (97 features per frame); the model takes 117.
    let mut manifest: Value =
        serde_json::from_slice(&std::fs::read(zoo.join("manifest.json")).unwrap()).unwrap();
    let pre = &mut manifest["input"]["preprocessing"];
    pre["features"]["n_mfcc"] = 20.into();
    pre["n_mfcc"] = 20.into();
    std::fs::write(
        dir.path().join("ser.manifest.json"),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    let voice = repo().join("boards/sim/voice.wav");
    let arg = format!("ser={}", model.display());
    let ev = ok(&run("sim", &voice, 30, dir.path(), &["--model", &arg]));
    let refused: Vec<_> = of_kind(&ev, "model_refused")
        .into_iter()
        .filter(|e| e["role"] == "speech")
        .collect();
    assert!(!refused.is_empty(), "{ev:?}");
    let reason = refused[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("ser.onnx") && reason.contains("117"),
        "{reason}"
    );
    // The next source (the shipped model) takes over; the device runs on and reads the face.
    let active: Vec<_> = of_kind(&ev, "model_active")
        .into_iter()
        .filter(|e| e["role"] == "speech")
        .collect();
    assert_eq!(active.len(), 1, "{ev:?}");
    assert!(
        active[0]["origin"]
            .as_str()
            .unwrap()
            .contains("models/zoo/ser"),
        "{ev:?}"
    );
    assert!(!of_kind(&ev, "expression").is_empty(), "{ev:?}");
    assert_eq!(of_kind(&ev, "stop").len(), 1);
}

#[test]
fn model_active_says_whose_kernels_run_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let voice = repo().join("boards/sim/voice.wav");
    let plans = |ev: &[Value]| -> Vec<Value> {
        let active = of_kind(ev, "model_active");
        assert_eq!(active.len(), 2, "fer and ser: {ev:?}");
        active.iter().map(|e| e["plan"].clone()).collect()
    };
    // `auto` (the default): both plans built and timed at load, the faster runs.
    let ev = ok(&run("sim", &voice, 3, dir.path(), &[]));
    for plan in plans(&ev) {
        let chosen = plan["chosen"].as_str().unwrap();
        assert!(
            ["sentio", "sentio+im2col", "tract"].contains(&chosen),
            "{plan}"
        );
        let reason = plan["reason"].as_str().unwrap();
        assert!(
            ["measured", "cached", "nothing_to_replace"].contains(&reason),
            "{plan}"
        );
        assert!(!plan["isa"].as_str().unwrap().is_empty(), "{plan}");
        if reason == "measured" {
            let times = plan["times_ms"].as_object().unwrap();
            assert!(times.contains_key(chosen) && times.len() >= 2, "{plan}");
        }
    }
    // The profile asks for tract's kernels: nothing is timed.
    let profile = profile_with(dir.path(), "");
    let text = std::fs::read_to_string(&profile).unwrap();
    let asked = text.replace("[runtime]\n", "[runtime]\nkernels = \"tract\"\n");
    assert_ne!(asked, text, "the sim profile has a [runtime] section");
    std::fs::write(&profile, asked).unwrap();
    let ev = ok(&run(profile.to_str().unwrap(), &voice, 3, dir.path(), &[]));
    for plan in plans(&ev) {
        assert_eq!(
            (&plan["chosen"], &plan["reason"]),
            (&"tract".into(), &"asked".into()),
            "{plan}"
        );
        assert!(plan.get("times_ms").is_none(), "{plan}");
    }
}

/// A copy of the sim profile with `extra` appended, in `dir` (paths made absolute so the
/// copy finds the sim media).
fn profile_with(dir: &Path, extra: &str) -> PathBuf {
    let boards = repo().join("boards");
    let text = std::fs::read_to_string(boards.join("profiles/sim.toml")).unwrap();
    let text = text
        .replace("\"sim/", &format!("\"{}/sim/", boards.display()))
        .replace("\"../models", &format!("\"{}/../models", boards.display()));
    let path = dir.join("kiosk.toml");
    std::fs::write(&path, format!("{text}\n{extra}\n")).unwrap();
    path
}

#[test]
fn a_mood_section_that_cannot_work_is_a_clear_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let voice = repo().join("boards/sim/voice.wav");
    for (extra, key, says) in [
        ("[mood]\nidle_mood = \"anxious\"", "idle_mood", "calm"),
        ("[mood]\nvoice_weight = 12.0", "voice_weight", "10"),
        ("[mood.ser8]\ndisgust = \"grumpy\"", "disgust", "angry"),
    ] {
        let profile = profile_with(dir.path(), extra);
        let out = run(profile.to_str().unwrap(), &voice, 5, dir.path(), &[]);
        assert!(!out.status.success(), "{extra} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("kiosk.toml"), "{extra}: {err}");
        assert!(err.contains(key), "{extra}: {err}");
        assert!(err.contains(says), "{extra}: {err}");
        assert!(
            !dir.path().join("display/latest.png").exists(),
            "{extra}: it ran"
        );
    }
    // The same file without the bad section runs.
    let profile = profile_with(dir.path(), "[mood]\nvoice_weight = 0.8");
    ok(&run(profile.to_str().unwrap(), &voice, 3, dir.path(), &[]));
}

#[test]
fn audio_is_written_only_when_the_debug_flag_asks() {
    let dir = tempfile::tempdir().unwrap();
    let voice = repo().join("boards/sim/voice.wav");
    let wavs = |root: &Path| -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = entry.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|e| e == "wav")
                    && p.file_name().is_some_and(|n| n != "speaker.wav")
                {
                    found.push(p);
                }
            }
        }
        found
    };
    let plain = dir.path().join("plain");
    let ev = ok(&run("sim", &voice, 45, &plain, &[]));
    assert!(
        !last_windows(&ev).is_empty(),
        "the model heard the sentence"
    );
    assert_eq!(
        wavs(&plain),
        Vec::<PathBuf>::new(),
        "no audio without the flag"
    );

    let debug = dir.path().join("debug");
    let audio = debug.join("audio");
    ok(&run(
        "sim",
        &voice,
        45,
        &debug,
        &["--debug-audio", audio.to_str().unwrap()],
    ));
    let written = wavs(&audio);
    let last: Vec<_> = written
        .iter()
        .filter(|p| p.to_string_lossy().ends_with("_last.wav"))
        .collect();
    assert_eq!(last.len(), 1, "{written:?}");
    // The window the model heard: 3 s at 16 kHz (the utterance, padded at the end).
    let clip = sentio_audio::read_wav(last[0]).unwrap();
    assert_eq!((clip.sample_rate, clip.samples.len()), (16_000, 47_840));
}

#[test]
fn the_consent_button_starts_and_stops_sensing() {
    let dir = tempfile::tempdir().unwrap();
    let voice = repo().join("boards/sim/voice.wav");
    let ev = ok(&run(
        "sim",
        &voice,
        75,
        dir.path(),
        &["--press-at", "1,3.5"],
    ));
    let sensing: Vec<(u64, bool)> = of_kind(&ev, "sensing")
        .iter()
        .map(|e| (e["frame"].as_u64().unwrap(), e["on"].as_bool().unwrap()))
        .collect();
    // 15 fps: on at 1 s (frame 15), off at 3.5 s (frame 52 or 53).
    assert_eq!(sensing.len(), 2, "{ev:?}");
    assert_eq!(sensing[0], (15, true));
    assert!(
        !sensing[1].1 && (52..=53).contains(&sensing[1].0),
        "{sensing:?}"
    );
    let (on, off) = (sensing[0].0, sensing[1].0);
    // Nothing is seen or heard outside the window the button opened.
    for kind in ["face", "expression", "speech"] {
        for e in of_kind(&ev, kind) {
            let frame = e["frame"].as_u64().unwrap();
            assert!((on..off).contains(&frame), "{kind} at frame {frame}: {e}");
        }
    }
    if cascade_installed() {
        assert!(!of_kind(&ev, "expression").is_empty(), "{ev:?}");
    }
}
