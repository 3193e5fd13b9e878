//! What comes out: ducking, clicks, loudness, volume, prompts, formats and the loudness cache,
//! measured on the rendered samples.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::*;
use sentio_music::{Player, TrackEvent, integrated_loudness};

/// Largest step between consecutive output samples we accept anywhere (1/33 of full scale,
/// about 1000 in 16-bit units). The test tones (at most 500 Hz, after normalization to
/// -18 LUFS) move at most about 0.012 per sample at 48 kHz; a track or a gain switched on or
/// off without a ramp jumps by up to its amplitude (0.1-0.2 here).
const STEP_BOUND: f32 = 0.03;

#[test]
fn ducking_falls_by_the_depth_within_the_attack_and_recovers_after_the_release() {
    let dir = tempfile::tempdir().unwrap();
    let calm = mood_folder(dir.path(), "calm", &[440.0], 20.0);
    let mut config = config(&[("calm", &calm)]);
    config.duck_depth_db = 12.0;
    config.duck_attack_ms = 200;
    config.duck_release_ms = 1000;
    let mut player = Player::new(config, RATE, 2).unwrap();
    let (mut out, mut events) = (Vec::new(), Vec::new());
    render_until(&mut player, 3000, 480, &mut out, &mut events);
    player.set_speech(3000, true);
    render_until(&mut player, 8000, 480, &mut out, &mut events);
    player.set_speech(8000, false);
    render_until(&mut player, 12_000, 480, &mut out, &mut events);

    let level = |from_ms: u64, to_ms: u64| level_db(&out, 2, frame_at(from_ms), frame_at(to_ms));
    let before = level(2000, 3000);
    // Fully down from the end of the attack until speech ends.
    for start in (3200..8000).step_by(100) {
        let l = level(start, start + 100);
        assert!(
            (l - (before - 12.0)).abs() < 0.2,
            "{start} ms: {l:.2} vs {before:.2}"
        );
    }
    // Within the attack it is on its way down, not there yet and not sooner.
    let mid_attack = level(3090, 3110);
    assert!(
        mid_attack < before - 4.0 && mid_attack > before - 8.0,
        "{mid_attack:.2}"
    );
    // Half-way through the release it is half-way back; after it, back where it was.
    let mid_release = level(8490, 8510);
    assert!(
        mid_release > before - 8.0 && mid_release < before - 4.0,
        "{mid_release:.2}"
    );
    for start in (9000..12_000).step_by(100) {
        let l = level(start, start + 100);
        assert!(
            (l - before).abs() < 0.2,
            "{start} ms: {l:.2} vs {before:.2}"
        );
    }
    let (step, at) = max_step(&out, 2);
    assert!(step < STEP_BOUND, "step {step} at frame {at}");
}

#[test]
fn no_click_at_crossfades_skips_dwell_switches_volume_changes_ducking_and_prompts() {
    let dir = tempfile::tempdir().unwrap();
    let happy = mood_folder(dir.path(), "happy", &[220.0, 330.0, 440.0], 6.0);
    let sad = mood_folder(dir.path(), "sad", &[247.0, 294.0], 6.0);
    let mut config = config(&[("happy", &happy), ("sad", &sad)]);
    config.crossfade_ms = 800;
    config.skip_crossfade_ms = 150;
    config.min_dwell_ms = 500;
    config.long_dwell_ms = 2000;
    for channels in [1u16, 2] {
        let mut player = Player::new(config.clone(), RATE, channels).unwrap();
        let (mut out, mut events) = (Vec::new(), Vec::new());
        render_until(&mut player, 1000, 333, &mut out, &mut events);
        player.skip(1000);
        player.set_speech(1500, true);
        render_until(&mut player, 1700, 333, &mut out, &mut events);
        let beep: Vec<i16> = (0..1600)
            .map(|i| {
                (8000.0 * (2.0 * std::f64::consts::PI * 500.0 * i as f64 / 16000.0).sin()) as i16
            })
            .collect();
        player.play_prompt(&beep, 16_000);
        player.set_volume(0.3);
        render_until(&mut player, 2500, 333, &mut out, &mut events);
        player.set_speech(2500, false);
        player.set_mood(3000, "sad");
        render_until(&mut player, 9000, 333, &mut out, &mut events);
        player.set_volume(1.0);
        player.skip(9000);
        render_until(&mut player, 16_000, 333, &mut out, &mut events);

        // Every kind of change happened.
        let whys: Vec<String> = events
            .iter()
            .filter_map(|e| match e {
                TrackEvent::Skipped { why, .. } => Some(format!("{why:?}")),
                _ => None,
            })
            .collect();
        for kind in ["Manual", "Dwell", "EndOfTrack"] {
            assert!(
                whys.iter().any(|w| w == kind),
                "{kind} missing from {whys:?}"
            );
        }
        let (step, at) = max_step(&out, usize::from(channels));
        eprintln!("{channels} ch: largest sample step {step:.4} (bound {STEP_BOUND})");
        assert!(
            step < STEP_BOUND,
            "{channels} ch: step {step} at {} ms",
            at as u64 * 1000 / u64::from(RATE)
        );
        // And the music is really there (the bound is not met by silence).
        assert!(
            level_db(
                &out,
                usize::from(channels),
                0,
                out.len() / usize::from(channels)
            ) > -40.0
        );
    }
}

#[test]
fn a_hard_cut_would_break_the_step_bound() {
    // The bound above has teeth: the same tones switched without a fade jump past it.
    let dir = tempfile::tempdir().unwrap();
    let happy = mood_folder(dir.path(), "happy", &[220.0], 2.0);
    let mut config = config(&[("happy", &happy)]);
    config.crossfade_ms = 0;
    config.skip_crossfade_ms = 0;
    let mut player = Player::new(config, RATE, 1).unwrap();
    let (mut out, mut events) = (Vec::new(), Vec::new());
    render_until(&mut player, 1000, 480, &mut out, &mut events);
    let peak = out.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    assert!(peak > STEP_BOUND * 3.0, "peak {peak}");
}

fn sim_music() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../boards/sim/music")
}

#[test]
fn every_track_plays_within_1_lu_of_the_target() {
    // The simulated board's music (22.05 kHz mono WAV, different levels and timbres per mood)
    // and two sine tracks 23 dB apart, each played whole at 48 kHz stereo and measured at the
    // output.
    let dir = tempfile::tempdir().unwrap();
    let sines = dir.path().join("sines");
    std::fs::create_dir(&sines).unwrap();
    sine_wav(&sines.join("quiet.wav"), 300.0, 4.0, 44_100, 2, 0.05);
    sine_wav(&sines.join("loud.wav"), 300.0, 4.0, 22_050, 1, 0.7);
    let mut folders: Vec<std::path::PathBuf> = std::fs::read_dir(sim_music())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    folders.sort();
    assert_eq!(folders.len(), 7, "{folders:?}");
    folders.push(sines);
    let mut measured = Vec::new();
    for folder in folders {
        let mut config = config(&[("neutral", &folder)]);
        config.crossfade_ms = 0;
        config.skip_crossfade_ms = 0;
        config.no_repeat = 1;
        config.volume = 1.0;
        config.target_lufs = -20.0;
        let mut player = Player::new(config, RATE, 2).unwrap();
        let (mut out, mut events) = (Vec::new(), Vec::new());
        render_until(&mut player, 12_000, 1024, &mut out, &mut events);
        let starts = started(&events);
        assert!(starts.len() >= 3, "{starts:?}");
        for pair in starts.windows(2).take(2) {
            let (a, b) = (frame_at(pair[0].0), frame_at(pair[1].0));
            let lufs = integrated_loudness(&out[a * 2..b * 2], 2, RATE).unwrap();
            eprintln!("{}: {lufs:.2} LUFS", pair[0].1.display());
            measured.push((pair[0].1.clone(), lufs));
            assert!(
                (lufs + 20.0).abs() < 1.0,
                "{}: {lufs:.2} LUFS",
                pair[0].1.display()
            );
        }
    }
    assert!(measured.len() >= 16);
}

#[test]
fn the_loudness_cache_measures_each_file_once_and_again_when_it_changes() {
    let dir = tempfile::tempdir().unwrap();
    let happy = dir.path().join("happy");
    std::fs::create_dir(&happy).unwrap();
    let track = happy.join("only.wav");
    sine_wav(&track, 300.0, 3.0, 22_050, 1, 0.5);
    let cache = dir.path().join("state/loudness.json");
    let mut config = config(&[("happy", &happy)]);
    config.loudness_cache = Some(cache.clone());
    let gain_of = |events: &[TrackEvent]| {
        events
            .iter()
            .find_map(|e| match e {
                TrackEvent::Started { gain_db, .. } => Some(*gain_db),
                _ => None,
            })
            .unwrap()
    };
    let play = |config: &sentio_music::MusicConfig| {
        let mut player = Player::new(config.clone(), RATE, 2).unwrap();
        let (mut out, mut events) = (Vec::new(), Vec::new());
        render_until(&mut player, 1000, 1024, &mut out, &mut events);
        (player.loudness_measurements(), events)
    };
    let (measured, first) = play(&config);
    assert_eq!(measured, 1);
    assert!(cache.exists());
    let leftovers: Vec<_> = std::fs::read_dir(cache.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("loudness.json")]);
    // A new player (a restart) takes it from the cache.
    let (measured, second) = play(&config);
    assert_eq!(measured, 0);
    assert_eq!(gain_of(&first), gain_of(&second));
    // The file changes (12 dB quieter, another length): measured again.
    sine_wav(&track, 300.0, 3.5, 22_050, 1, 0.5 / 4.0);
    let (measured, third) = play(&config);
    assert_eq!(measured, 1);
    let change = gain_of(&third) - gain_of(&first);
    assert!((change - 12.04).abs() < 0.2, "{change}");
    // A damaged cache file is said and replaced, and the music plays.
    std::fs::write(&cache, "{ not json").unwrap();
    let (measured, fourth) = play(&config);
    assert_eq!(measured, 1);
    assert!(
        matches!(fourth[0], TrackEvent::CacheReset { .. }),
        "{fourth:?}"
    );
    assert!(
        std::fs::read_to_string(&cache)
            .unwrap()
            .contains("\"version\": 1")
    );
}

#[test]
fn volume_scales_the_output_and_i16_rendering_matches_f32() {
    let dir = tempfile::tempdir().unwrap();
    let happy = mood_folder(dir.path(), "happy", &[300.0], 5.0);
    let mut config = config(&[("happy", &happy)]);
    config.volume = 1.0;
    let mut a = Player::new(config.clone(), RATE, 2).unwrap();
    let mut b = Player::new(config, RATE, 2).unwrap();
    let mut f = vec![0.0f32; 2 * 4800];
    let mut i = vec![0i16; 2 * 4800];
    for _ in 0..10 {
        a.render(&mut f);
        b.render_i16(&mut i);
        for (x, y) in f.iter().zip(&i) {
            assert_eq!((x * 32767.0).round() as i16, *y);
        }
    }
    a.set_volume(0.5);
    b.set_volume(0.5);
    let (mut out, mut events) = (Vec::new(), Vec::new());
    render_until(&mut a, 1000, 480, &mut out, &mut events);
    let before = level_db(&f, 2, 0, 4800);
    let after = level_db(&out, 2, frame_at(100), frame_at(900));
    assert!((before - after - 6.02).abs() < 0.1, "{before} -> {after}");
}

#[test]
fn a_44_1_khz_stereo_file_plays_at_the_right_pitch_on_a_16_khz_mono_speaker() {
    let dir = tempfile::tempdir().unwrap();
    let happy = dir.path().join("happy");
    std::fs::create_dir(&happy).unwrap();
    sine_wav(&happy.join("a.wav"), 440.0, 3.0, 44_100, 2, 0.5);
    let config = config(&[("happy", &happy)]);
    let mut player = Player::new(config, 16_000, 1).unwrap();
    let mut out = vec![0.0f32; 16_000];
    player.render(&mut out);
    player.render(&mut out);
    let ups = out.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
    assert!((ups as i64 - 440).abs() <= 1, "{ups} cycles in 1 s");
}

#[test]
fn a_bad_output_format_is_refused_with_what_to_do() {
    let err = Player::new(sentio_music::MusicConfig::default(), 0, 2).unwrap_err();
    assert!(err.to_string().contains("0 Hz"), "{err}");
    let help = miette::Diagnostic::help(&err).map(|h| h.to_string());
    assert!(
        help.is_some_and(|h| h.contains("pass the speaker's rate")),
        "{err}"
    );
    let err = Player::new(sentio_music::MusicConfig::default(), 48_000, 0).unwrap_err();
    assert!(err.to_string().contains("1-8 channels"), "{err}");
}
