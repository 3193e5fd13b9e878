//! Resamples a WAV with sentio-audio's resampler and writes a 32-bit float WAV (no 16-bit
//! rounding, so a comparison with another resampler sees the filter, not the quantization):
//!
//!     cargo run --example resample_wav -- IN.wav OUT.wav RATE
//!
//! Used by `tests/bench/resampler_vs_soxr.py`. Channels are averaged (as `read_wav` does).
//! Prints the time `resample` took on stderr.

use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output, rate] = args.as_slice() else {
        eprintln!("usage: resample_wav IN.wav OUT.wav RATE");
        return ExitCode::FAILURE;
    };
    let Ok(rate) = rate.parse::<u32>() else {
        eprintln!("RATE `{rate}` is not a sample rate in Hz (e.g. 16000)");
        return ExitCode::FAILURE;
    };
    let audio = match sentio_audio::read_wav(input) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let start = Instant::now();
    let out = sentio_audio::resample(&audio.samples, audio.sample_rate, rate);
    let took = start.elapsed();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let written = hound::WavWriter::create(output, spec).and_then(|mut w| {
        for &s in &out {
            w.write_sample(s)?;
        }
        w.finalize()
    });
    if let Err(e) = written {
        eprintln!("cannot write {output}: {e}");
        return ExitCode::FAILURE;
    }
    eprintln!(
        "resampled {} samples at {} Hz to {} at {rate} Hz in {:.3} ms",
        audio.samples.len(),
        audio.sample_rate,
        out.len(),
        took.as_secs_f64() * 1e3
    );
    ExitCode::SUCCESS
}
