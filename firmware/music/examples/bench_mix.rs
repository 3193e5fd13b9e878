//! Decode + mix cost of the player as a share of one core, at 48 kHz stereo, while two tracks
//! crossfade (44.1 kHz stereo sources, so both are resampled).
//!
//!     cargo run --release -p sentio-music --example bench_mix [-- SECONDS]
//!
//! Pairs: OGG Vorbis + MP3, FLAC + FLAC, WAV + WAV (the fixtures in tests/fixtures; the WAV is
//! the FLAC decoded). The crossfade is 8 s on 10 s tracks, so two tracks sound most of the
//! time; only blocks rendered with two tracks sounding are counted. Loudness is measured (and
//! cached in memory) during an untimed first minute. Wall time per 1024-frame block, so a
//! busy machine reads high. Then the cost of measuring each fixture's loudness once.

use std::path::Path;
use std::time::Instant;

use sentio_music::decode::TrackSource;
use sentio_music::{MusicConfig, Player};

const RATE: u32 = 48_000;
const BLOCK: usize = 1024;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(120);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let dir = std::env::temp_dir().join(format!("sentio-bench-mix-{}", std::process::id()));
    let pairs: [(&str, [&str; 2]); 3] = [
        ("ogg+mp3", ["song.ogg", "song.mp3"]),
        ("flac+flac", ["song.flac", "song.flac"]),
        ("wav+wav", ["song.wav", "song.wav"]),
    ];
    println!("{seconds} s of audio per pair at {RATE} Hz stereo, {BLOCK}-frame blocks");
    for (label, files) in pairs {
        let folder = dir.join(label);
        std::fs::create_dir_all(&folder)?;
        for (i, name) in files.iter().enumerate() {
            let target = folder.join(format!("{i}_{name}"));
            if *name == "song.wav" {
                write_wav(&fixtures.join("song.flac"), &target)?;
            } else {
                std::fs::copy(fixtures.join(name), &target)?;
            }
        }
        let mut config = MusicConfig {
            fallback_mood: "happy".into(),
            crossfade_ms: 8000,
            skip_crossfade_ms: 500,
            no_repeat: 1,
            ..MusicConfig::default()
        };
        config.folders.insert("happy".into(), folder.clone());
        let mut player = Player::new(config, RATE, 2)?;
        let mut buf = vec![0.0f32; BLOCK * 2];
        // Untimed: loudness measurement of both files, first start.
        for _ in 0..(60 * RATE as usize / BLOCK) {
            player.render(&mut buf);
        }
        let (mut busy, mut frames, mut all_busy, mut all_frames) = (0.0f64, 0usize, 0.0f64, 0usize);
        let mut worst = 0.0f64;
        for _ in 0..(seconds as usize * RATE as usize / BLOCK) {
            let before = player.voices();
            let start = Instant::now();
            player.render(&mut buf);
            let took = start.elapsed().as_secs_f64();
            all_busy += took;
            all_frames += BLOCK;
            if before == 2 && player.voices() == 2 {
                busy += took;
                frames += BLOCK;
                worst = worst.max(took);
            }
        }
        let _ = player.take_events();
        let share = busy / (frames as f64 / f64::from(RATE));
        let all_share = all_busy / (all_frames as f64 / f64::from(RATE));
        println!(
            "{label:>10}: crossfading {:.2}% of one core ({:.1} s of audio counted), all blocks {:.2}%, slowest crossfade block {:.2} ms of {:.2} ms",
            100.0 * share,
            frames as f64 / f64::from(RATE),
            100.0 * all_share,
            1000.0 * worst,
            1000.0 * BLOCK as f64 / f64::from(RATE),
        );
    }
    // The loudness measurement a track's first start costs (a whole decode plus EBU R128).
    for name in ["song.ogg", "song.mp3", "song.flac"] {
        let start = Instant::now();
        let lufs = sentio_music::loudness::measure_file(&fixtures.join(name), 2)?;
        let took = start.elapsed().as_secs_f64();
        println!(
            "{name:>10}: loudness measured in {:.1} ms for 10 s of audio ({:.2}% of its duration), {:.2} LUFS",
            1000.0 * took,
            100.0 * took / 10.0,
            lufs.unwrap_or(f64::NEG_INFINITY)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Decodes `flac` at its own rate and writes it as 16-bit WAV.
fn write_wav(flac: &Path, wav: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut source = TrackSource::open(flac, None, 2)?;
    let mut samples = Vec::new();
    while source.decode_more(&mut samples)? {}
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: source.rate(),
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(wav, spec)?;
    for x in samples {
        writer.write_sample((x * 32767.0).round() as i16)?;
    }
    writer.finalize()?;
    Ok(())
}
