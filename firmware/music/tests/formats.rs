//! The encoded formats through the real decoders: OGG Vorbis, MP3 and FLAC fixtures (10 s of
//! the simulated board's music, 44.1 kHz stereo; see tests/fixtures/make_fixtures.sh).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::*;
use sentio_music::decode::TrackSource;
use sentio_music::loudness::measure_file;
use sentio_music::{Player, SkipReason, TrackEvent};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn decode_all(path: &Path, rate: u32, channels: usize) -> Vec<f32> {
    let mut source = TrackSource::open(path, Some(rate), channels).unwrap();
    let mut out = Vec::new();
    let mut packets = 0;
    while source.decode_more(&mut out).unwrap() {
        packets += 1;
    }
    assert!(
        packets > 50,
        "{}: decoded in {packets} steps",
        path.display()
    );
    out
}

#[test]
fn ogg_mp3_and_flac_decode_to_the_same_length_and_loudness() {
    let reference = measure_file(&fixture("song.flac"), 2).unwrap().unwrap();
    for name in ["song.flac", "song.ogg", "song.mp3"] {
        let samples = decode_all(&fixture(name), RATE, 2);
        let secs = samples.len() as f64 / 2.0 / f64::from(RATE);
        // MP3 may keep its encoder delay and padding (a few ms).
        assert!((secs - 10.0).abs() < 0.06, "{name}: {secs} s");
        let lufs = measure_file(&fixture(name), 2).unwrap().unwrap();
        assert!(
            (lufs - reference).abs() < 0.5,
            "{name}: {lufs} vs FLAC {reference}"
        );
        let mono = decode_all(&fixture(name), 16_000, 1);
        assert!(
            (mono.len() as f64 / 16_000.0 - 10.0).abs() < 0.06,
            "{name} mono 16 kHz: {} frames",
            mono.len()
        );
    }
}

#[test]
fn the_player_plays_encoded_tracks_in_turn() {
    let dir = tempfile::tempdir().unwrap();
    let happy = dir.path().join("happy");
    std::fs::create_dir(&happy).unwrap();
    for name in ["song.flac", "song.ogg", "song.mp3"] {
        std::fs::copy(fixture(name), happy.join(name)).unwrap();
    }
    let mut config = config(&[("happy", &happy)]);
    config.no_repeat = 2;
    config.crossfade_ms = 2000;
    config.skip_crossfade_ms = 500;
    let mut player = Player::new(config, RATE, 2).unwrap();
    let (mut out, mut events) = (Vec::new(), Vec::new());
    render_until(&mut player, 30_000, 1024, &mut out, &mut events);
    let starts = started(&events);
    let mut names: Vec<_> = starts
        .iter()
        .map(|s| s.1.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        starts.iter().map(|s| s.0).collect::<Vec<_>>()[..4],
        [0, 8000, 16000, 24000]
    );
    names.truncate(3);
    names.sort();
    assert_eq!(names, ["song.flac", "song.mp3", "song.ogg"]);
    assert!(!events.iter().any(|e| matches!(
        e,
        TrackEvent::Skipped {
            why: SkipReason::DecodeError { .. },
            ..
        }
    )));
}

#[test]
fn tracks_are_decoded_a_little_ahead_never_whole() {
    // A 60 s track (2.9 M samples at 48 kHz stereo): never more than a crossfade and a block
    // or two of it is held decoded.
    let dir = tempfile::tempdir().unwrap();
    let happy = dir.path().join("happy");
    std::fs::create_dir(&happy).unwrap();
    sine_wav(&happy.join("long.wav"), 300.0, 60.0, 44_100, 2, 0.5);
    std::fs::copy(fixture("song.ogg"), happy.join("song.ogg")).unwrap();
    let mut config = config(&[("happy", &happy)]);
    config.crossfade_ms = 3000;
    let mut player = Player::new(config, RATE, 2).unwrap();
    let mut block = vec![0.0f32; 2 * 1024];
    let mut most = 0;
    for _ in 0..(120 * RATE as usize / 1024) {
        player.render(&mut block);
        most = most.max(player.buffered_frames());
    }
    let bound = 2 * (frame_at(3000) + 2 * 1024 + 4096);
    assert!(most <= bound, "{most} frames buffered, bound {bound}");
    assert!(
        most >= frame_at(3000),
        "{most}: the look-ahead holds a crossfade"
    );
}
