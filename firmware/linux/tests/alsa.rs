//! ALSA drivers against real alsa-lib, with no sound card: an ALSA configuration (loaded
//! through ALSA_CONFIG_PATH) defines `file` PCMs on top of `null`, so playback lands byte-exact
//! in a file and capture is fed from one.
#![cfg(feature = "alsa")]

mod common;
use common::shown;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sentio_hal::{ErrorKind, Microphone, Speaker};
use sentio_linux::{AlsaMicrophone, AlsaSpeaker};

const CONFIG: &str = r#"
pcm.sentio_out {
    @args [ FILE ]
    @args.FILE { type string }
    type file
    slave.pcm { type null }
    file $FILE
    format raw
    truncate true
}
pcm.sentio_in {
    @args [ FILE ]
    @args.FILE { type string }
    type file
    slave.pcm { type null }
    file "/dev/null"
    infile $FILE
    format raw
}
"#;

/// A scratch directory holding the ALSA configuration, set up once per test process before any
/// ALSA call (alsa-lib reads ALSA_CONFIG_PATH when it first loads its configuration).
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // Cargo's scratch directory for integration tests, reused run after run.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sentio-linux-alsa");
        std::fs::create_dir_all(&dir).unwrap();
        let conf = dir.join("asound.conf");
        std::fs::write(&conf, CONFIG).unwrap();
        // SAFETY: runs once, inside OnceLock initialisation, before any test in this binary
        // touches ALSA or reads the environment; the other tests block on the OnceLock until
        // it is done.
        unsafe { std::env::set_var("ALSA_CONFIG_PATH", &conf) };
        dir
    })
}

fn samples(n: usize) -> Vec<i16> {
    let mut s: Vec<i16> = (0..n)
        .map(|i| (12000.0 * (i as f32 * 2.0 * std::f32::consts::PI * 440.0 / 16000.0).sin()) as i16)
        .collect();
    // Extremes and byte-order sentinels.
    s[..4].copy_from_slice(&[i16::MIN, i16::MAX, 0x0102, -2]);
    s
}

fn le_bytes(s: &[i16]) -> Vec<u8> {
    s.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn speaker_plays_byte_exact_and_drains() {
    let out = scratch().join("speaker.raw");
    let name = format!("sentio_out:FILE=\"{}\"", out.display());
    let mut speaker = AlsaSpeaker::open(&name, 16_000).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(speaker.sample_rate(), 16_000);
    let (period, buffer) = speaker.period_and_buffer_frames();
    assert_eq!(period, 320, "20 ms periods at 16 kHz");
    assert!(buffer >= 4 * period, "buffer {buffer} frames");

    let s = samples(16_000 + 123);
    // Odd-sized writes, as the music player produces them.
    for chunk in s.chunks(1000) {
        speaker.write(chunk).unwrap();
    }
    speaker.drain().unwrap();
    // Writing after a drain works (the PCM was prepared again).
    speaker.write(&s[..500]).unwrap();
    speaker.drain().unwrap();
    assert_eq!(speaker.xruns(), 0);
    drop(speaker);

    let mut want = le_bytes(&s);
    want.extend(le_bytes(&s[..500]));
    let got = std::fs::read(&out).unwrap();
    assert_eq!(got.len(), want.len());
    assert!(got == want, "played bytes differ from the samples written");
}

#[test]
fn dropping_the_speaker_plays_out_what_was_queued() {
    let out = scratch().join("dropped.raw");
    let name = format!("sentio_out:FILE=\"{}\"", out.display());
    let s = samples(5000);
    {
        let mut speaker = AlsaSpeaker::open(&name, 16_000).unwrap();
        speaker.write(&s).unwrap();
    }
    assert_eq!(std::fs::read(&out).unwrap(), le_bytes(&s));
}

#[test]
fn microphone_reads_what_the_device_captures() {
    let input = scratch().join("mic.raw");
    let s = samples(8000);
    std::fs::write(&input, le_bytes(&s)).unwrap();
    let name = format!("sentio_in:FILE=\"{}\"", input.display());
    let mut mic = AlsaMicrophone::open(&name, 16_000).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(mic.sample_rate(), 16_000);
    let (period, buffer) = mic.period_and_buffer_frames();
    assert_eq!(period, 320);
    assert!(buffer >= 8 * period, "capture buffer {buffer} frames");

    let mut got = Vec::new();
    let mut buf = [0i16; 256];
    while got.len() < s.len() {
        let n = mic.read(&mut buf).unwrap();
        assert!(n > 0, "a live microphone never ends");
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(&got[..s.len()], &s[..]);
    assert_eq!(mic.xruns(), 0);
}

#[test]
fn missing_devices_are_clear_errors() {
    scratch();
    let err = match AlsaMicrophone::open("sentio_no_such_pcm", 16_000) {
        Ok(_) => panic!("opened a PCM that does not exist"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let text = shown(&err);
    assert!(text.contains("microphone sentio_no_such_pcm"), "{text}");
    assert!(text.contains("arecord -L"), "{text}");

    let err = match AlsaSpeaker::open("hw:42,0", 16_000) {
        Ok(_) => panic!("opened a card that does not exist"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(shown(&err).contains("aplay -L"), "{err}");

    let err = match AlsaSpeaker::open("bad\0name", 16_000) {
        Ok(_) => panic!("a NUL in the name was accepted"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), ErrorKind::InvalidData);
}
