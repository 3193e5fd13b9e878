//! The `sentiod` binary as a user runs it: options, events on stdout, files written, errors,
//! and a clean stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

fn sentiod() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sentiod"))
}

fn events(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect()
}

fn read_wav(path: &Path) -> (hound::WavSpec, Vec<i16>) {
    let r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    (spec, r.into_samples::<i16>().map(Result::unwrap).collect())
}

#[test]
fn sim_demo_prints_events_and_writes_display_and_speaker() {
    let dir = tempfile::tempdir().unwrap();
    let out = sentiod()
        .args([
            "--board",
            "sim",
            "--pace",
            "fast",
            "--frames",
            "20",
            "--save-every",
            "10",
        ])
        .arg("--display-out")
        .arg(dir.path().join("display"))
        .arg("--speaker-out")
        .arg(dir.path().join("speaker.wav"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ev = events(&out.stdout);
    let k = kinds(&ev);
    // `start` first; the models the pipeline loaded are reported next, then the beep.
    assert_eq!(k[0], "start");
    assert!(k.contains(&"beep"), "{k:?}");
    assert_eq!(k.last(), Some(&"stop"));
    assert!(k.contains(&"level"));
    assert_eq!(ev[0]["board"], "sim");
    assert_eq!(
        (ev[0]["width"].as_u64(), ev[0]["height"].as_u64()),
        (Some(640), Some(480))
    );
    let stop = ev.last().unwrap();
    assert_eq!(
        (stop["frames"].as_u64(), stop["reason"].as_str()),
        (Some(20), Some("frame_limit"))
    );
    // The voice clip is loud at times: some level event is well above silence.
    assert!(
        ev.iter()
            .filter(|e| e["event"] == "level")
            .any(|e| e["dbfs"].as_f64().unwrap() > -40.0)
    );

    let mut pngs: Vec<_> = std::fs::read_dir(dir.path().join("display"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    pngs.sort();
    assert_eq!(pngs, ["frame_00010.png", "frame_00020.png", "latest.png"]);
    let img = image::open(dir.path().join("display/latest.png")).unwrap();
    assert_eq!((img.width(), img.height()), (240, 240));

    let (spec, samples) = read_wav(&dir.path().join("speaker.wav"));
    assert_eq!((spec.channels, spec.sample_rate), (1, 16000));
    // The sim profile plays music: the speaker gets each frame's interval after the first
    // (19 of 1/15 s), the start beep mixed over the music's first 150 ms.
    assert_eq!(samples.len(), 19 * 16000 / 15);
    let tracks: Vec<_> = ev.iter().filter(|e| e["event"] == "track").collect();
    assert_eq!(tracks[0]["action"], "started", "{tracks:?}");
    assert_eq!(
        tracks[0]["mood"], "neutral",
        "the fallback mood plays first"
    );
    let peak = samples[..2400].iter().map(|s| s.unsigned_abs()).max();
    assert!(peak > Some(8000), "the beep is heard: {peak:?}");
}

#[test]
fn real_board_works_headless_with_simulated_devices() {
    // A Raspberry Pi profile on this machine: every device replaced by a simulated one.
    let dir = tempfile::tempdir().unwrap();
    let out = sentiod()
        .args([
            "--board", "rpi4", "--camera", "pattern", "--mic", "silence", "--pace", "fast",
        ])
        .args(["--frames", "5", "--no-beep", "--no-link"])
        .arg("--display-out")
        .arg(dir.path().join("d"))
        .arg("--speaker-out")
        .arg(dir.path().join("s.wav"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ev = events(&out.stdout);
    assert_eq!(ev[0]["board"], "rpi4");
    assert_eq!(ev[0]["camera"], "sim:pattern");
    assert_eq!(ev[0]["microphone"], "sim:silence");
    assert!(!kinds(&ev).contains(&"beep"));
    assert_eq!(ev.last().unwrap()["frames"], 5);
    // Silence shows as the meter's floor.
    let level = ev.iter().find(|e| e["event"] == "level").unwrap();
    assert_eq!(level["dbfs"].as_f64(), Some(-96.0));
}

#[test]
#[cfg(not(feature = "v4l"))]
fn real_board_without_driver_feature_says_how_to_fix() {
    let out = sentiod()
        .args(["--board", "rpi4", "--frames", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("without the `v4l` feature"), "{err}");
    assert!(err.contains("--features v4l"), "{err}");
    assert!(err.contains("--camera pattern"), "{err}");
    assert!(out.stdout.is_empty(), "no events before the hardware is up");
}

#[test]
fn real_board_without_its_serial_device_says_how_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let out = sentiod()
        .args([
            "--board", "rpi4", "--camera", "pattern", "--mic", "silence", "--frames", "1",
        ])
        .arg("--display-out")
        .arg(dir.path().join("d"))
        .arg("--speaker-out")
        .arg(dir.path().join("s.wav"))
        .arg("--store")
        .arg(dir.path().join("store"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/dev/ttyGS0") && err.contains("--no-link"),
        "{err}"
    );
}

#[test]
fn unknown_board_lists_the_built_in_ones() {
    let out = sentiod()
        .args(["--board", "rpi9"])
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    // A board profile is data: exit code 4, rendered once with its code and help line.
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err,
        "sentiod: error[data::boards::unknown_board]: unknown board \"rpi9\"\n  allowed: sim, \
         sim-mono, rpi4, rpi5, rpi-zero2w, jetson-nano, jetson-orin-nano\n  help: did you mean \
         \"rpi4\"? To load your own profile, pass its path, e.g. `--board ./rpi9.toml` (a path \
         contains '/' or ends in .toml)\n"
    );
    for name in [
        "sim",
        "rpi4",
        "rpi5",
        "rpi-zero2w",
        "jetson-nano",
        "jetson-orin-nano",
    ] {
        assert!(err.contains(name), "{name} missing from: {err}");
    }
}

#[test]
fn missing_media_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = sentiod()
        .args([
            "--board",
            "sim",
            "--mic",
            "no/such/voice.wav",
            "--frames",
            "1",
        ])
        .arg("--display-out")
        .arg(dir.path())
        .arg("--speaker-out")
        .arg(dir.path().join("s.wav"))
        .output()
        .unwrap();
    // A missing microphone file is the simulated device failing: exit code 3.
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no/such/voice.wav") && err.contains("not found"),
        "{err}"
    );
}

#[test]
fn sigterm_stops_cleanly_with_speaker_drained() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("speaker.wav");
    let mut child = sentiod()
        .args(["--board", "sim", "--forever", "--pace", "realtime"])
        .arg("--display-out")
        .arg(dir.path().join("display"))
        .arg("--speaker-out")
        .arg(&wav)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // Wait until the loop runs (the first level event comes with the first frame).
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let is_level = line.contains("\"event\":\"level\"");
        seen.push(line);
        if is_level {
            break;
        }
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    seen.extend(lines.map(Result::unwrap));
    let status = child.wait().unwrap();
    assert!(status.success(), "exit {status:?}");
    let last: Value = serde_json::from_str(seen.last().unwrap()).unwrap();
    assert_eq!(last["event"], "stop");
    assert_eq!(last["reason"], "signal");
    // Music: one frame interval of sound per frame after the first, all of it in the file.
    let frames = last["frames"].as_u64().unwrap();
    assert_eq!(
        read_wav(&wav).1.len() as u64,
        (frames - 1) * 16000 / 15,
        "speaker WAV complete and readable"
    );
    assert!(
        dir.path().join("display/latest.png").exists(),
        "last frame flushed"
    );
}

#[test]
#[cfg(feature = "v4l")]
fn real_board_with_missing_camera_says_what_to_check() {
    // This machine has no /dev/video0: the v4l driver's error must reach the user intact.
    let out = sentiod()
        .args(["--board", "rpi4", "--frames", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/dev/video0"), "{err}");
    assert!(err.contains("help:"), "{err}");
}
