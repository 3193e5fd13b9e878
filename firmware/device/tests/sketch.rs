//! `sentiod --mode sketch` end to end on the sim board: cards held up to the camera (frames
//! drawn by sentio-data's card generator) and drawings on a replayed touch panel are read by the
//! shipped emoji model; no card, two cards and a blank card are results the device reports and
//! runs on; a stroke file that is not one is refused before anything starts.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use image::RgbImage;
use sentio_data::synth::{EmojiStyle, draw_card_frame, draw_emoji_raw};
use sentio_hal::StrokeFile;
use sentio_sketch::raster::{Canvas, pt};
use serde_json::Value;

/// The sim profile's camera size: frames are given at it.
const FRAME: (u32, u32) = (640, 480);

fn sentiod(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sentiod"))
        .args(["--board", "sim", "--mode", "sketch", "--pace", "virtual"])
        .args(["--no-beep", "--no-music", "--no-link"])
        .arg("--display-out")
        .arg(dir.join("display"))
        .arg("--speaker-out")
        .arg(dir.join("speaker.wav"))
        .args(args)
        .output()
        .unwrap()
}

fn events(out: &Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "sentiod failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// (source, state or label) of each `emoji` event, in order.
fn emoji_events(events: &[Value]) -> Vec<(String, String)> {
    events
        .iter()
        .filter(|e| e["event"] == "emoji")
        .map(|e| {
            let what = e["label"].as_str().or(e["state"].as_str()).unwrap_or("?");
            (
                e["source"].as_str().unwrap_or("?").to_string(),
                what.to_string(),
            )
        })
        .collect()
}

/// A dark room with light quadrilaterals (cards), a ring drawn on each when `ink`.
fn cards_frame(cards: &[[[f32; 2]; 4]], ink: bool) -> RgbImage {
    let mut canvas = Canvas::new(FRAME.0, FRAME.1, 0.2);
    for quad in cards {
        let polygon: Vec<_> = quad.iter().map(|p| pt(p[0], p[1])).collect();
        canvas.fill(&polygon, 0.92, 1.0);
        if ink {
            let cx = quad.iter().map(|p| p[0]).sum::<f32>() / 4.0;
            let cy = quad.iter().map(|p| p[1]).sum::<f32>() / 4.0;
            let ring = sentio_sketch::raster::arc(pt(cx, cy), 40.0, 40.0, 0.0, 6.3, 48);
            canvas.stroke_even(&ring, 4.0, 0.05, 1.0);
        }
    }
    image::DynamicImage::ImageLuma8(canvas.to_image()).to_rgb8()
}

/// Writes each frame three times in a row (sorted names): six camera frames, two looks.
fn write_frames(dir: &Path, frames: &[(&str, RgbImage)]) -> PathBuf {
    let camera = dir.join("camera");
    std::fs::create_dir_all(&camera).unwrap();
    for (i, (name, frame)) in frames.iter().enumerate() {
        for copy in 0..6 {
            frame
                .save(camera.join(format!("{i:02}-{name}-{copy}.png")))
                .unwrap();
        }
    }
    camera
}

#[test]
fn cards_no_card_two_cards_and_a_blank_card_are_read_and_reported_in_turn() {
    let dir = tempfile::tempdir().unwrap();
    let winking = draw_card_frame(5, 7, &EmojiStyle::TRAINING, FRAME.0, FRAME.1).frame;
    let angry = draw_card_frame(3, 8, &EmojiStyle::HELD_OUT, FRAME.0, FRAME.1).frame;
    let left = [[60.0, 100.0], [290.0, 100.0], [290.0, 400.0], [60.0, 400.0]];
    let right = [[340.0, 90.0], [580.0, 90.0], [580.0, 390.0], [340.0, 390.0]];
    let tilted = [
        [180.0, 80.0],
        [470.0, 120.0],
        [440.0, 420.0],
        [160.0, 390.0],
    ];
    let frames = [
        ("winking", winking),
        ("angry", angry),
        ("two", cards_frame(&[left, right], true)),
        ("blank", cards_frame(&[tilted], false)),
        ("none", cards_frame(&[], false)),
    ];
    let camera = write_frames(dir.path(), &frames);
    let out = sentiod(
        dir.path(),
        &["--camera", camera.to_str().unwrap(), "--frames", "30"],
    );
    let events = events(&out);
    let read: Vec<String> = emoji_events(&events).into_iter().map(|(_, w)| w).collect();
    assert_eq!(
        read,
        ["winking", "angry", "two_cards", "blank", "no_card"],
        "{events:#?}"
    );
    // Through the emoji8 -> mood table, winking is happy.
    let first = events.iter().find(|e| e["event"] == "emoji").unwrap();
    assert_eq!(first["mood"], "happy");
    assert!(first["score"].as_f64().unwrap() > 0.5);
    // The sketch screen was drawn (its goldens are sentio-ui's).
    assert!(
        dir.path()
            .join("display")
            .read_dir()
            .unwrap()
            .next()
            .is_some()
    );
}

#[test]
fn drawings_on_the_touch_panel_are_read_when_the_pen_rests() {
    let dir = tempfile::tempdir().unwrap();
    // tongue_out, frowning, heart_eyes, each as the generator's hand drew it.
    let classes = [6usize, 7, 1];
    let drawings: Vec<Vec<Vec<[f32; 2]>>> = classes
        .iter()
        .map(|&class| {
            draw_emoji_raw(class, 1000 + class as u64, EmojiStyle::Classic, 240)
                .strokes
                .into_iter()
                .map(|s| {
                    s.into_iter()
                        .map(|[x, y]| [x.clamp(0.0, 239.9), y.clamp(0.0, 239.9)])
                        .collect()
                })
                .collect()
        })
        .collect();
    let path = dir.path().join("drawings.json");
    StrokeFile::from_drawings(240, 240, &drawings, 60, 2500)
        .unwrap()
        .write(&path)
        .unwrap();
    let out = sentiod(
        dir.path(),
        &[
            "--camera",
            "pattern",
            "--strokes",
            path.to_str().unwrap(),
            "--frames",
            "200",
        ],
    );
    let events = events(&out);
    let touch: Vec<String> = emoji_events(&events)
        .into_iter()
        .filter(|(source, _)| source == "touch")
        .map(|(_, what)| what)
        .collect();
    assert_eq!(touch, ["tongue_out", "frowning", "heart_eyes"]);
    // Each drawing stays on show for seconds: the fused mood follows it, from the emoji alone.
    let moods: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "mood")
        .filter(|e| e["contributions"]["emoji"]["share"].as_f64() > Some(0.5))
        .filter_map(|e| e["mood"].as_str())
        .collect();
    assert!(moods.contains(&"sad"), "{moods:?}");
}

#[test]
fn a_stroke_file_that_is_not_one_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.json");
    std::fs::write(&path, b"{\"format\": \"svg\"}").unwrap();
    let out = sentiod(
        dir.path(),
        &["--strokes", path.to_str().unwrap(), "--frames", "3"],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("notes.json") && stderr.contains("help:"),
        "{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "nothing started: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn the_scene_is_captioned_with_the_pairs_the_tagger_sees() {
    let dir = tempfile::tempdir().unwrap();
    let camera = dir.path().join("camera");
    std::fs::create_dir_all(&camera).unwrap();
    // A generated kiosk scene built around a golden sunset, as the camera sees it.
    let scene = sentio_data::synth::scenes::draw(4242, Some(18));
    image::imageops::resize(
        &scene.image,
        FRAME.0,
        FRAME.1,
        image::imageops::FilterType::Triangle,
    )
    .save(camera.join("scene.png"))
    .unwrap();
    let out = sentiod(
        dir.path(),
        &["--camera", camera.to_str().unwrap(), "--frames", "31"],
    );
    let events = events(&out);
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "model_active" && e["role"] == "anp"),
        "{events:#?}"
    );
    let captions: Vec<&Value> = events.iter().filter(|e| e["event"] == "caption").collect();
    // Frames 0 and 30: the same picture gives the same sentence, said once.
    assert_eq!(captions.len(), 1, "{captions:#?}");
    let caption = captions[0];
    let text = caption["text"].as_str().unwrap();
    assert!(text.ends_with('.'), "{text}");
    let truth: Vec<&str> = scene
        .labels
        .iter()
        .map(|&i| sentio_models::ANP32.labels[i])
        .collect();
    let top = caption["anps"][0][0].as_str().unwrap();
    assert!(
        truth.contains(&top),
        "top pair {top} is not in the scene {truth:?}"
    );
    let forced = caption["forced"].as_array().unwrap();
    assert!(!forced.is_empty(), "{caption}");
    for pair in forced {
        let pair = sentio_models::anp::by_label(pair.as_str().unwrap()).unwrap();
        assert!(
            text.contains(&format!("{} {}", pair.adjective, pair.noun)),
            "{text} lacks {pair:?}"
        );
    }
}
