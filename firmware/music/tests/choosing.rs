//! Which track plays when: mood flicker, boundaries, long dwell, no repeats, corrupt files,
//! fallback, playlists. Everything on the virtual clock of rendered frames.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use sentio_music::{Player, SkipReason, TrackEvent};

fn skipped(events: &[TrackEvent]) -> Vec<(u64, String, SkipReason)> {
    events
        .iter()
        .filter_map(|e| match e {
            TrackEvent::Skipped { t_ms, track, why } => Some((
                *t_ms,
                track.file_name().unwrap().to_string_lossy().into_owned(),
                why.clone(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn a_mood_flicker_shorter_than_the_dwell_never_changes_the_track() {
    let dir = tempfile::tempdir().unwrap();
    let happy = mood_folder(dir.path(), "happy", &[220.0, 247.0, 262.0], 3.0);
    let sad = mood_folder(dir.path(), "sad", &[330.0, 349.0, 370.0], 3.0);
    let mut config = config(&[("happy", &happy), ("sad", &sad)]);
    config.min_dwell_ms = 1000;
    config.long_dwell_ms = 5000;
    config.crossfade_ms = 500;
    config.skip_crossfade_ms = 200;
    let mut player = Player::new(config, RATE, 2).unwrap();
    let (mut out, mut events) = (Vec::new(), Vec::new());
    render_until(&mut player, 500, 480, &mut out, &mut events);
    player.set_mood(500, "sad");
    render_until(&mut player, 1200, 480, &mut out, &mut events);
    player.set_mood(1200, "happy"); // sad held 700 ms < min_dwell_ms
    render_until(&mut player, 12_000, 480, &mut out, &mut events);

    let starts = started(&events);
    assert!(starts.len() >= 4, "{starts:?}");
    assert!(starts.iter().all(|s| s.3 == "happy"), "{starts:?}");
    let skips = skipped(&events);
    // The first track is left only at its end: 3 s minus the 500 ms crossfade.
    assert_eq!(skips[0].0, 2500, "{skips:?}");
    assert!(
        skips.iter().all(|s| s.2 == SkipReason::EndOfTrack),
        "{skips:?}"
    );
}

#[test]
fn a_lasting_mood_switches_at_the_next_track_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let happy = mood_folder(dir.path(), "happy", &[220.0, 247.0], 3.0);
    let sad = mood_folder(dir.path(), "sad", &[330.0, 349.0], 3.0);
    let mut config = config(&[("happy", &happy), ("sad", &sad)]);
    config.min_dwell_ms = 1000;
    config.crossfade_ms = 500;
    config.skip_crossfade_ms = 200;
    let mut player = Player::new(config, RATE, 2).unwrap();
    let (mut out, mut events) = (Vec::new(), Vec::new());
    render_until(&mut player, 400, 1000, &mut out, &mut events);
    player.set_mood(400, "sad");
    render_until(&mut player, 6000, 1000, &mut out, &mut events);

    let starts = started(&events);
    assert_eq!(starts[0].0, 0);
    assert_eq!(starts[0].3, "happy");
    // Next boundary: the first track's crossfade starts at 2500 ms, into a sad track.
    assert_eq!(
        (starts[1].0, starts[1].3.as_str()),
        (2500, "sad"),
        "{starts:?}"
    );
    let skips = skipped(&events);
    assert_eq!(skips[0].0, 2500);
    assert_eq!(skips[0].2, SkipReason::EndOfTrack);
    assert_eq!(player.mood(), "sad");
}

#[test]
fn a_long_dwell_switches_mid_track_with_the_configured_crossfade() {
    let dir = tempfile::tempdir().unwrap();
    let happy = mood_folder(dir.path(), "happy", &[220.0], 20.0);
    let sad = mood_folder(dir.path(), "sad", &[330.0], 20.0);
    let mut config = config(&[("happy", &happy), ("sad", &sad)]);
    config.min_dwell_ms = 1000;
    config.long_dwell_ms = 3000;
    config.crossfade_ms = 1500;
    let mut player = Player::new(config, RATE, 2).unwrap();
    let (mut out, mut events) = (Vec::new(), Vec::new());
    render_until(&mut player, 1000, 777, &mut out, &mut events);
    player.set_mood(1000, "sad");
    render_until(&mut player, 8000, 777, &mut out, &mut events);

    let skips = skipped(&events);
    assert_eq!(skips.len(), 1, "{skips:?}");
    assert_eq!((skips[0].0, &skips[0].2), (4000, &SkipReason::Dwell));
    let starts = started(&events);
    assert_eq!((starts[1].0, starts[1].3.as_str()), (4000, "sad"));
    let fade = events.iter().find_map(|e| match e {
        TrackEvent::Started { fade_ms, mood, .. } if mood == "sad" => Some(*fade_ms),
        _ => None,
    });
    assert_eq!(fade, Some(1500));
    let ended = events.iter().find_map(|e| match e {
        TrackEvent::Ended { t_ms, .. } => Some(*t_ms),
        _ => None,
    });
    assert_eq!(
        ended,
        Some(5500),
        "the old track fades out over exactly 1500 ms"
    );
    // During the crossfade both tracks sound; after it only the sad one (330 Hz).
    let after = &out[frame_at(6000) * 2..frame_at(7000) * 2];
    assert!(dominant_is(after, 2, 330.0));
    let before = &out[frame_at(2000) * 2..frame_at(3000) * 2];
    assert!(dominant_is(before, 2, 220.0));
}

/// Whether channel 0 of `x` is a sine of about `freq` Hz (by its zero crossings).
fn dominant_is(x: &[f32], ch: usize, freq: f64) -> bool {
    let mono: Vec<f32> = x.iter().step_by(ch).copied().collect();
    let ups = mono
        .windows(2)
        .filter(|w| w[0] < 0.0 && w[1] >= 0.0)
        .count();
    let measured = ups as f64 * f64::from(RATE) / mono.len() as f64;
    (measured - freq).abs() < 3.0
}

#[test]
fn no_track_among_the_last_n_repeats_and_the_seed_decides_the_order() {
    let dir = tempfile::tempdir().unwrap();
    let happy = mood_folder(
        dir.path(),
        "happy",
        &[200.0, 250.0, 300.0, 350.0, 400.0],
        0.6,
    );
    let run = |seed: u64| {
        let mut config = config(&[("happy", &happy)]);
        config.no_repeat = 3;
        config.seed = seed;
        config.crossfade_ms = 100;
        config.skip_crossfade_ms = 50;
        let mut player = Player::new(config, RATE, 1).unwrap();
        let (mut out, mut events) = (Vec::new(), Vec::new());
        render_until(&mut player, 30_000, 4096, &mut out, &mut events);
        started(&events)
            .into_iter()
            .map(|s| s.1)
            .collect::<Vec<_>>()
    };
    let order = run(11);
    assert!(order.len() > 40, "{}", order.len());
    for (i, window) in order.windows(4).enumerate() {
        for a in 0..4 {
            for b in a + 1..4 {
                assert_ne!(window[a], window[b], "repeat within 4 at {i}: {window:?}");
            }
        }
    }
    assert_eq!(order, run(11));
    assert_ne!(order, run(12));
}

#[test]
fn a_corrupt_file_is_skipped_with_an_event_naming_it_and_the_music_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let happy = mood_folder(dir.path(), "happy", &[220.0, 330.0], 1.0);
    std::fs::write(
        happy.join("broken.wav"),
        b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk",
    )
    .unwrap();
    std::fs::write(happy.join("noise.ogg"), vec![0x5au8; 4000]).unwrap();
    let mut config = config(&[("happy", &happy)]);
    config.no_repeat = 0;
    config.crossfade_ms = 200;
    config.skip_crossfade_ms = 100;
    let mut player = Player::new(config, RATE, 2).unwrap();
    let (mut out, mut events) = (Vec::new(), Vec::new());
    render_until(&mut player, 20_000, 1024, &mut out, &mut events);

    let skips = skipped(&events);
    for bad in ["broken.wav", "noise.ogg"] {
        let hits: Vec<_> = skips.iter().filter(|s| s.1 == bad).collect();
        assert_eq!(hits.len(), 1, "{bad} skipped once: {skips:?}");
        match &hits[0].2 {
            SkipReason::DecodeError { detail, help } => {
                assert!(detail.contains(bad), "{detail}");
                let help = help.as_deref().unwrap_or_default();
                assert!(help.contains("remove it from the folder"), "{help}");
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    let starts = started(&events);
    assert!(starts.len() >= 15, "{starts:?}");
    assert!(
        starts
            .iter()
            .all(|s| s.1.extension().unwrap() == "wav" && s.1.file_name().unwrap() != "broken.wav")
    );
    // Never silent for long: every 100 ms window has sound.
    for w in out.chunks(2 * frame_at(100)) {
        assert!(w.iter().any(|x| x.abs() > 0.01));
    }
}

#[test]
fn an_empty_mood_falls_back_and_says_so_once() {
    let dir = tempfile::tempdir().unwrap();
    let happy = mood_folder(dir.path(), "happy", &[220.0, 330.0], 1.0);
    let sad = dir.path().join("sad");
    std::fs::create_dir(&sad).unwrap();
    let mut config = config(&[("happy", &happy), ("sad", &sad)]);
    config.min_dwell_ms = 0;
    config.long_dwell_ms = 1000;
    config.crossfade_ms = 200;
    config.skip_crossfade_ms = 100;
    let mut player = Player::new(config, RATE, 2).unwrap();
    let (mut out, mut events) = (Vec::new(), Vec::new());
    render_until(&mut player, 100, 480, &mut out, &mut events);
    player.set_mood(100, "sad");
    render_until(&mut player, 10_000, 480, &mut out, &mut events);

    let fallbacks: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            TrackEvent::Fallback {
                mood, to, reason, ..
            } => Some((mood.clone(), to.clone(), reason.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(fallbacks.len(), 1, "{fallbacks:?}");
    assert_eq!(
        (fallbacks[0].0.as_str(), fallbacks[0].1.as_str()),
        ("sad", "happy")
    );
    assert!(
        fallbacks[0].2.contains("no playable track"),
        "{}",
        fallbacks[0].2
    );
    // The long dwell does not cut the track for the same fallback music.
    assert!(
        skipped(&events)
            .iter()
            .all(|s| s.2 == SkipReason::EndOfTrack)
    );
    let starts = started(&events);
    assert!(
        starts[1..].iter().all(|s| s.2 == "sad" && s.3 == "happy"),
        "{starts:?}"
    );
}

#[test]
fn an_m3u_playlist_plays_its_entries() {
    let dir = tempfile::tempdir().unwrap();
    let pool = mood_folder(dir.path(), "pool", &[220.0, 330.0, 440.0], 0.5);
    std::fs::write(
        dir.path().join("calm.m3u"),
        "#EXTM3U\npool/pool_220.wav\n# not this\npool/pool_440.wav\n",
    )
    .unwrap();
    let _ = pool;
    let list = dir.path().join("calm.m3u");
    let mut config = config(&[("calm", &list)]);
    config.crossfade_ms = 100;
    config.skip_crossfade_ms = 50;
    let mut player = Player::new(config, RATE, 1).unwrap();
    let (mut out, mut events) = (Vec::new(), Vec::new());
    render_until(&mut player, 5000, 1000, &mut out, &mut events);
    let names: Vec<String> = started(&events)
        .iter()
        .map(|s| s.1.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.len() > 5);
    assert!(
        names
            .iter()
            .all(|n| n == "pool_220.wav" || n == "pool_440.wav"),
        "{names:?}"
    );
}

#[test]
fn a_manual_skip_crossfades_with_the_short_length() {
    let dir = tempfile::tempdir().unwrap();
    let happy = mood_folder(dir.path(), "happy", &[220.0, 330.0], 10.0);
    let mut config = config(&[("happy", &happy)]);
    config.skip_crossfade_ms = 300;
    let mut player = Player::new(config, RATE, 2).unwrap();
    let (mut out, mut events) = (Vec::new(), Vec::new());
    render_until(&mut player, 2000, 512, &mut out, &mut events);
    player.skip(2000);
    render_until(&mut player, 4000, 512, &mut out, &mut events);
    let skips = skipped(&events);
    assert_eq!((skips[0].0, &skips[0].2), (2000, &SkipReason::Manual));
    let ended = events.iter().find_map(|e| match e {
        TrackEvent::Ended { t_ms, .. } => Some(*t_ms),
        _ => None,
    });
    assert_eq!(ended, Some(2300));
    assert_ne!(started(&events)[0].1, started(&events)[1].1);
}

#[test]
fn a_long_dwell_reached_during_a_crossfade_switches_when_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let happy = mood_folder(dir.path(), "happy", &[220.0, 247.0], 12.0);
    let sad = mood_folder(dir.path(), "sad", &[330.0], 10.0);
    let mut config = config(&[("happy", &happy), ("sad", &sad)]);
    config.crossfade_ms = 5000;
    config.min_dwell_ms = 0;
    config.long_dwell_ms = 1000;
    let mut player = Player::new(config, RATE, 2).unwrap();
    let (mut out, mut events) = (Vec::new(), Vec::new());
    render_until(&mut player, 7500, 1024, &mut out, &mut events);
    player.set_mood(7500, "sad"); // the boundary crossfade runs 7000..12000
    render_until(&mut player, 14_000, 1024, &mut out, &mut events);
    let skips = skipped(&events);
    assert_eq!(skips[0].0, 7000);
    assert_eq!(skips[0].2, SkipReason::EndOfTrack);
    assert_eq!(
        (skips[1].0, &skips[1].2),
        (12_000, &SkipReason::Dwell),
        "{skips:?}"
    );
    assert_eq!(started(&events)[2].3, "sad");
}
