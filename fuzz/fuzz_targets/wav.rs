//! Any bytes as a WAV file (`--mic FILE.wav`, `sentio features`, the speech datasets): the
//! decoder must not panic, what it accepts is finite, and resampling it to the speech models'
//! 16 kHz (what every caller does next) must not panic either.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use sentio_audio::decode_wav;

fuzz_target!(|data: &[u8]| {
    match decode_wav(data, Path::new("fuzz.wav")) {
        Ok(audio) => {
            assert!(audio.sample_rate > 0);
            assert!(audio.samples.iter().all(|x| x.is_finite()));
            // Keep an exec short: at most 1 s of output (a 1 Hz header is legal, and would
            // otherwise turn 1000 samples into 16 million).
            let out_len = audio.samples.len() as u64 * 16_000 / u64::from(audio.sample_rate);
            if out_len <= 16_000 {
                let _ = audio.resampled(16_000);
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
