//! Golden-image tests: the simulated board's display, after the demo ran on the bundled media,
//! must look exactly like the committed PNGs in tests/golden/.
//!
//! The run uses a virtual clock, so timings and fps on screen are the same on every machine. On
//! a mismatch the test writes `<name>.actual.png` and `<name>.diff.png` beside the golden file.
//! `SENTIO_BLESS=1 cargo test -p sentiod --test golden` rewrites the golden files.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use image::RgbImage;
use sentio_boards::BoardProfile;
use sentio_hal::VirtualClock;
use sentio_hal::sim::Pacing;
use sentiod::app::AppOptions;
use sentiod::events::Event;
use sentiod::hardware::{self, Overrides};
use sentiod::job::DeviceJob;
use sentiod::music::MusicSetup;
use sentiod::pipeline::{DevicePipeline, PreviewPipeline};
use sentiod::setup::{self, FaceOptions};

/// Whether the Haar cascade the sim profiles name is installed (Debian's opencv-data). Without
/// it the mood goldens are skipped, except in CI, where `.ci/run` installs it.
fn cascade_installed(board: &str) -> bool {
    let profile = BoardProfile::load(board).expect("built-in profile");
    let path = profile.resolve(&profile.faces.cascade);
    if path.is_file() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing: apt-get install opencv-data",
        path.display()
    );
    eprintln!(
        "skipped: {} is missing (apt-get install opencv-data)",
        path.display()
    );
    false
}

#[derive(Clone, Copy)]
enum Mode {
    Preview,
    Faces,
    Mood,
}

/// Runs the demo of `board` for `frames` frames on a virtual clock; returns the last screen.
fn run_demo(board: &str, frames: u64, out: &Path) -> (RgbImage, Vec<Event>) {
    run_mode(board, Mode::Preview, frames, out)
}

fn run_mode(board: &str, mode: Mode, frames: u64, out: &Path) -> (RgbImage, Vec<Event>) {
    let profile = BoardProfile::load(board).expect("built-in profile");
    let clock = VirtualClock::new();
    let overrides = Overrides {
        display_out: Some(out.join("display")),
        speaker_out: Some(out.join("speaker.wav")),
        save_every: 1000,
        pacing: Pacing::RealTime,
        ..Overrides::default()
    };
    let mut events = Vec::new();
    let mut setup_events = Vec::new();
    let pipeline = match mode {
        Mode::Preview => DevicePipeline::Preview(PreviewPipeline::default()),
        Mode::Faces => DevicePipeline::Faces(Box::new(setup::face_pipeline(
            &profile,
            &FaceOptions::default(),
            None,
            &mut |e| setup_events.push(e),
        ))),
        Mode::Mood => DevicePipeline::Mood(Box::new(setup::mood_pipeline(
            &profile,
            &FaceOptions::default(),
            None,
            None,
            // The profile's music, as the process plays it: the screen shows the track.
            profile.music.clone().map(|config| MusicSetup {
                config,
                sample_rate: profile.audio.rate,
                channels: 1,
                buttons: Default::default(),
            }),
            &mut |e| setup_events.push(e),
        ))),
    };
    let mut emit = |e: Event| events.push(e);
    let job = DeviceJob {
        board: profile.board.name.clone(),
        camera: hardware::open_camera(&profile, &overrides, &clock).unwrap(),
        microphone: hardware::open_microphone(&profile, &overrides, &clock).unwrap(),
        speaker: hardware::open_speaker(&profile, &overrides).unwrap(),
        clock: &clock,
        options: AppOptions {
            max_frames: Some(frames),
            ..AppOptions::default()
        },
        stop: &AtomicBool::new(false),
        pipeline,
        setup_events,
        emit: &mut emit,
    };
    hardware::with_display(&profile, &overrides, job)
        .unwrap()
        .expect("the sim demo runs");
    let latest = image::open(out.join("display/latest.png"))
        .expect("latest.png written")
        .to_rgb8();
    (latest, events)
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Compares `actual` with the golden PNG `name`; on a mismatch writes the actual image and a
/// diff (differing pixels red over a dimmed copy of the golden image) and fails.
fn assert_golden(name: &str, actual: &RgbImage) {
    let golden_path = golden_dir().join(format!("{name}.png"));
    if std::env::var_os("SENTIO_BLESS").is_some() {
        actual.save(&golden_path).unwrap();
        eprintln!("blessed {}", golden_path.display());
        return;
    }
    let golden = image::open(&golden_path)
        .unwrap_or_else(|e| {
            panic!(
                "cannot open {}: {e} (create it with SENTIO_BLESS=1)",
                golden_path.display()
            )
        })
        .to_rgb8();
    let actual_path = golden_dir().join(format!("{name}.actual.png"));
    let diff_path = golden_dir().join(format!("{name}.diff.png"));
    if golden.dimensions() != actual.dimensions() {
        actual.save(&actual_path).unwrap();
        panic!(
            "{name}: size {:?} differs from golden {:?}; actual written to {}",
            actual.dimensions(),
            golden.dimensions(),
            actual_path.display()
        );
    }
    let mut diff = RgbImage::new(golden.width(), golden.height());
    let mut differing = 0usize;
    for (x, y, g) in golden.enumerate_pixels() {
        let a = actual.get_pixel(x, y);
        if a != g {
            differing += 1;
            diff.put_pixel(x, y, image::Rgb([255, 0, 0]));
        } else {
            diff.put_pixel(x, y, image::Rgb(g.0.map(|c| c / 3)));
        }
    }
    if differing > 0 {
        actual.save(&actual_path).unwrap();
        diff.save(&diff_path).unwrap();
        panic!(
            "{name}: {differing} pixels differ from {}; see {} and {}",
            golden_path.display(),
            actual_path.display(),
            diff_path.display()
        );
    }
    // A stale actual/diff from an earlier failure would mislead whoever looks next.
    let _ = std::fs::remove_file(actual_path);
    let _ = std::fs::remove_file(diff_path);
}

#[test]
fn sim_board_rgb565_display_matches_golden() {
    let out = tempfile::tempdir().unwrap();
    let (screen, events) = run_demo("sim", 30, out.path());
    assert_eq!(screen.dimensions(), (240, 240));
    // 30 frames at 15 fps of virtual time: frame 0 at 0 s, frame 29 at 1.93 s, so one stats
    // window (each 1 s) closed.
    let stats: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, Event::Stats { .. }))
        .collect();
    assert_eq!(stats.len(), 1, "{events:?}");
    assert_golden("sim_rgb565_frame30", &screen);
}

#[test]
fn sim_mono_board_display_matches_golden() {
    let out = tempfile::tempdir().unwrap();
    let (screen, _) = run_demo("sim-mono", 30, out.path());
    assert_eq!(screen.dimensions(), (128, 64));
    assert!(
        screen
            .pixels()
            .all(|p| p.0 == [0, 0, 0] || p.0 == [255, 255, 255]),
        "1-bit panel"
    );
    assert_golden("sim_mono_frame30", &screen);
}

#[test]
fn demo_is_deterministic() {
    let (a, ea) = run_demo("sim", 12, tempfile::tempdir().unwrap().path());
    let (b, eb) = run_demo("sim", 12, tempfile::tempdir().unwrap().path());
    assert_eq!(a, b);
    // The start events name the two runs' output folders; everything else is the same.
    let not_start = |e: &&Event| !matches!(e, Event::Start { .. });
    assert_eq!(
        ea.iter().filter(not_start).collect::<Vec<_>>(),
        eb.iter().filter(not_start).collect::<Vec<_>>()
    );
}

#[test]
fn face_screens_show_the_face_box_and_its_expression() {
    if !cascade_installed("sim") {
        return;
    }
    for (board, size, golden) in [
        ("sim", (240, 240), "sim_rgb565_faces_frame30"),
        ("sim-mono", (128, 64), "sim_mono_faces_frame30"),
    ] {
        let out = tempfile::tempdir().unwrap();
        let (screen, events) = run_mode(board, Mode::Faces, 30, out.path());
        assert_eq!(screen.dimensions(), size);
        let active = events
            .iter()
            .find(|e| matches!(e, Event::ModelActive { .. }));
        assert!(
            matches!(active, Some(Event::ModelActive { role, model, .. }) if role == "expression" && model == "fer@1.0.0"),
            "{events:?}"
        );
        let started = events
            .iter()
            .filter(|e| matches!(e, Event::Face { .. }))
            .count();
        assert_eq!(started, 1, "one face, one track: {events:?}");
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::Expression { model, .. } if model == "fer@1.0.0")),
            "{events:?}"
        );
        assert_golden(golden, &screen);
    }
}

/// The mood pipeline on the bundled media: the smiling astronaut and a happy sentence make a
/// happy mood, drawn on the mood screen.
#[test]
fn mood_screens_show_the_mood_of_the_face_and_the_voice() {
    if !cascade_installed("sim") {
        return;
    }
    for (board, size, golden) in [
        ("sim", (240, 240), "sim_rgb565_mood_frame60"),
        ("sim-mono", (128, 64), "sim_mono_mood_frame60"),
    ] {
        let out = tempfile::tempdir().unwrap();
        let (screen, events) = run_mode(board, Mode::Mood, 60, out.path());
        assert_eq!(screen.dimensions(), size);
        let roles: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Event::ModelActive { role, model, .. } => Some((role.as_str(), model.as_str())),
                _ => None,
            })
            .collect();
        assert_eq!(
            roles,
            [("expression", "fer@1.0.0"), ("speech", "ser@1.1.0")],
            "{events:?}"
        );
        // The sentence (0.9-1.9 s of the clip) ends within the 4 s; its one window by the
        // manifest's rule is heard as happy.
        let last: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Event::Speech {
                    last: true,
                    label,
                    start_ms,
                    end_ms,
                    ..
                } => Some((label.as_str(), *start_ms, *end_ms)),
                _ => None,
            })
            .collect();
        assert_eq!(last.len(), 1, "{events:?}");
        assert_eq!(last[0].0, "happy", "{events:?}");
        assert!(last[0].1 >= 600 && last[0].2 <= 2500, "{last:?}");
        let moods: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Event::Mood {
                    mood,
                    contributions,
                    ..
                } => Some((mood.as_str(), contributions.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(moods.len(), 1, "one change, neutral to happy: {events:?}");
        assert_eq!(moods[0].0, "happy");
        assert!(moods[0].1["face"].weight > 0.0, "{moods:?}");
        assert_golden(golden, &screen);
    }
}
