//! The device loop: capture a frame and its audio, hand them to a [`Pipeline`], draw, flush,
//! report the microphone level and per-stage timings; the start beep.
//!
//! The loop is the same for every pipeline ([`crate::pipeline`]): it owns the devices and the
//! timing, the pipeline owns what is computed and drawn.

use std::fmt::Debug;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sentio_hal::audio::rms_dbfs;
use sentio_hal::{Camera, Clock, Display, ErrorKind, HalError, Microphone, Speaker};
use sentio_ui::{Palette, PreviewStats};

use crate::beep::{BEEP_HZ, BEEP_MS, beep};
use crate::events::{Event, StopReason, round3};
use crate::pipeline::{Pipeline, StepInput};

/// How the loop runs.
#[derive(Clone, Debug)]
pub struct AppOptions {
    /// Stop after this many frames; `None` runs until stopped.
    pub max_frames: Option<u64>,
    /// How often throughput and timings are reported (clock time).
    pub stats_interval: Duration,
    /// A level event is sent when the level moved this many dB since the last one.
    pub level_step_db: f32,
    /// Play the start-up beep.
    pub beep: bool,
    /// Put the process's peak resident memory in the `stop` event (off in tests that compare
    /// events between runs).
    pub report_peak_rss: bool,
}

impl Default for AppOptions {
    fn default() -> Self {
        AppOptions {
            max_frames: None,
            stats_interval: Duration::from_secs(1),
            level_step_db: 6.0,
            beep: true,
            report_peak_rss: false,
        }
    }
}

/// Why the loop failed: which device, and the device's own error (which carries a help line).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum AppError {
    #[error("camera failed: {0}")]
    #[diagnostic(code(device::sentiod::camera))]
    Camera(
        #[source]
        #[diagnostic_source]
        HalError,
    ),
    #[error("microphone failed: {0}")]
    #[diagnostic(code(device::sentiod::microphone))]
    Microphone(
        #[source]
        #[diagnostic_source]
        HalError,
    ),
    #[error("speaker failed: {0}")]
    #[diagnostic(code(device::sentiod::speaker))]
    Speaker(
        #[source]
        #[diagnostic_source]
        HalError,
    ),
    #[error("display failed: {0}")]
    #[diagnostic(code(device::sentiod::display))]
    Display(
        #[source]
        #[diagnostic_source]
        HalError,
    ),
    #[error("drawing on the display failed: {0}")]
    #[diagnostic(code(device::sentiod::draw))]
    Draw(String),
}

/// What a finished run did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunSummary {
    pub frames: u64,
    pub reason: StopReason,
    pub elapsed: Duration,
    /// Frame-to-display time (frame captured to display flushed), median and 99th percentile
    /// over the run, to the histogram's 50 µs.
    pub frame_to_display_p50: Duration,
    pub frame_to_display_p99: Duration,
    /// How far the microphone's audio fell behind the clock at worst: the clock's time at a
    /// read minus the time of the last sample read, over the run (0 when it never lagged).
    /// A live microphone's buffer overflows, and drops audio, once this exceeds it.
    pub audio_lag_max: Duration,
}

/// Frame-to-display times in 50 µs buckets up to 1 s (slower frames count in the last bucket):
/// percentiles over a run of any length in fixed memory.
pub struct LatencyHistogram {
    buckets: Vec<u32>,
    count: u64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    const BUCKET: Duration = Duration::from_micros(50);

    /// Times recorded.
    pub fn count(&self) -> u64 {
        self.count
    }
    const BUCKETS: usize = 20_000;

    pub fn new() -> Self {
        Self {
            buckets: vec![0; Self::BUCKETS],
            count: 0,
        }
    }

    pub fn record(&mut self, d: Duration) {
        let i = (d.as_micros() / Self::BUCKET.as_micros()) as usize;
        if let Some(b) = self.buckets.get_mut(i.min(Self::BUCKETS - 1)) {
            *b += 1;
        }
        self.count += 1;
    }

    /// The upper edge of the bucket holding the `q` quantile (0 for no frames).
    pub fn quantile(&self, q: f64) -> Duration {
        let rank = ((self.count as f64 * q).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += u64::from(*n);
            if seen >= rank {
                return Self::BUCKET * (i as u32 + 1);
            }
        }
        Duration::ZERO
    }
}

/// The devices the loop drives.
pub struct Devices<'a, Cam, Mic, Spk, Disp> {
    pub camera: &'a mut Cam,
    pub microphone: &'a mut Mic,
    pub speaker: &'a mut Spk,
    pub display: &'a mut Disp,
}

/// Per-stage time accumulated over a stats window.
#[derive(Default, Clone, Copy)]
struct StageTotals {
    capture: Duration,
    audio: Duration,
    draw: Duration,
    flush: Duration,
    slowest_frame: Duration,
}

fn ms(d: Duration) -> f32 {
    d.as_secs_f32() * 1000.0
}

/// Runs until `max_frames` frames were shown or `stop` is set, reporting through `emit`.
///
/// The speaker is drained and the last frame is on the display whenever this returns `Ok`,
/// including after a stop request; on a device error it still drains the speaker before
/// returning the error.
pub fn run<Cam, Mic, Spk, Disp, Clk, P>(
    devices: Devices<'_, Cam, Mic, Spk, Disp>,
    clock: &Clk,
    options: &AppOptions,
    stop: &AtomicBool,
    pipeline: &mut P,
    emit: &mut dyn FnMut(Event),
) -> Result<RunSummary, AppError>
where
    P: Pipeline,
    Cam: Camera,
    Mic: Microphone,
    Spk: Speaker,
    Disp: Display,
    Disp::Color: Palette,
    Disp::Error: Debug,
    Clk: Clock + ?Sized,
{
    let Devices {
        camera,
        microphone,
        speaker,
        display,
    } = devices;
    let result = run_loop(
        camera, microphone, speaker, display, clock, options, stop, pipeline, emit,
    );
    // Drain even when the loop failed, so nothing queued for the speaker is lost.
    let drained = speaker.drain().map_err(AppError::Speaker);
    let summary = result?;
    drained?;
    emit(Event::Stop {
        frames: summary.frames,
        reason: summary.reason,
        elapsed_ms: round3(summary.elapsed.as_secs_f64() * 1000.0),
        frame_to_display_p50_ms: round3(summary.frame_to_display_p50.as_secs_f64() * 1000.0),
        frame_to_display_p99_ms: round3(summary.frame_to_display_p99.as_secs_f64() * 1000.0),
        peak_rss_mib: options.report_peak_rss.then(peak_rss_mib).flatten(),
        audio_lag_max_ms: round3(summary.audio_lag_max.as_secs_f64() * 1000.0),
        figures: pipeline
            .stop_figures()
            .into_iter()
            .map(|(name, value)| (name.to_string(), round3(value)))
            .collect(),
    });
    Ok(summary)
}

#[allow(clippy::too_many_arguments)]
fn run_loop<Cam, Mic, Spk, Disp, Clk, P>(
    camera: &mut Cam,
    microphone: &mut Mic,
    speaker: &mut Spk,
    display: &mut Disp,
    clock: &Clk,
    options: &AppOptions,
    stop: &AtomicBool,
    pipeline: &mut P,
    emit: &mut dyn FnMut(Event),
) -> Result<RunSummary, AppError>
where
    P: Pipeline,
    Cam: Camera,
    Mic: Microphone,
    Spk: Speaker,
    Disp: Display,
    Disp::Color: Palette,
    Disp::Error: Debug,
    Clk: Clock + ?Sized,
{
    let start = clock.now();
    let format = camera.format();
    let clock_dyn: &dyn Clock = &clock;
    let mut stage_totals: Vec<(&'static str, Duration)> = Vec::new();
    let mut latency = LatencyHistogram::new();

    let speaker_rate = speaker.sample_rate();
    let speaker_channels = usize::from(speaker.channels().max(1));
    if options.beep {
        // Through the pipeline's mixer when it plays music, so the two never fight.
        let tone = beep(speaker_rate);
        if !pipeline.play_prompt(&tone, speaker_rate) {
            speaker.write(&tone).map_err(AppError::Speaker)?;
        }
        emit(Event::Beep {
            freq_hz: BEEP_HZ,
            duration_ms: BEEP_MS,
        });
    }

    let rate = u64::from(microphone.sample_rate());
    let fps = u64::from(format.fps.max(1));
    // The largest per-frame chunk: ceil(rate / fps).
    let mut audio = vec![0i16; rate.div_ceil(fps) as usize];
    // What the speaker plays for each frame's interval, on the same timeline.
    let speaker_rate = u64::from(speaker_rate);
    let mut sound = vec![0i16; speaker_rate.div_ceil(fps) as usize * speaker_channels];
    let mut mic_ended = false;
    let mut audio_lag_max = Duration::ZERO;
    let mut last_level: Option<f32> = None;
    tracing::debug!(
        width = format.width,
        height = format.height,
        fps,
        mic_rate = rate,
        speaker_rate,
        "pipeline: started"
    );

    let mut stats = PreviewStats::default();
    let mut totals = StageTotals::default();
    let mut window_start = start;
    let mut window_frames = 0u64;
    let mut frames = 0u64;

    let reason = loop {
        if options.max_frames.is_some_and(|max| frames >= max) {
            break StopReason::FrameLimit;
        }
        if stop.load(Ordering::Relaxed) {
            break StopReason::Signal;
        }
        let t0 = clock.now();
        let frame = camera.next_frame().map_err(AppError::Camera)?;
        let t1 = clock.now();

        // The audio that arrived with this frame: the interval that ends at the frame's time
        // (frame 0 has none), so a real-time microphone never makes the frame wait for audio
        // that is still to come; exact over time (rate need not divide by fps).
        let want = match frames {
            0 => {
                // No audio belongs to the first frame, but the microphone's time starts with it
                // (a simulated microphone paces from its first read).
                microphone.read(&mut []).map_err(AppError::Microphone)?;
                0
            }
            n => (n * rate / fps - (n - 1) * rate / fps) as usize,
        };
        let got = if mic_ended {
            0
        } else {
            read_full(microphone, &mut audio[..want]).map_err(AppError::Microphone)?
        };
        if got < want && !mic_ended {
            mic_ended = true;
            emit(Event::MicEnded { frame: frames });
        }
        let level = rms_dbfs(&audio[..got]);
        let t2 = clock.now();
        // The audio read so far ends at this frame's time on the camera's timeline.
        let media_time = Duration::from_micros(frames * 1_000_000 / fps);
        let audio_lag = (t2 - start).saturating_sub(media_time);
        if audio_lag > audio_lag_max + Duration::from_millis(100) {
            // A live microphone's buffer drops audio once this lag exceeds it.
            tracing::debug!(
                frame = frames,
                lag_ms = audio_lag.as_millis() as u64,
                "pipeline: the microphone's audio lags the clock more than before"
            );
        }
        audio_lag_max = audio_lag_max.max(audio_lag);

        let input = StepInput {
            frame: &frame,
            audio: &audio[..got],
            sample_rate: microphone.sample_rate(),
            index: frames,
            t_ms: round3((t2 - start).as_secs_f64() * 1000.0),
            media_ms: media_time.as_millis() as u64,
            now: t2,
            clock: clock_dyn,
        };
        pipeline.step(&input, emit);
        // The speaker's samples for the same interval as the microphone's (none for frame 0).
        let sound_due = match frames {
            0 => 0,
            n => (n * speaker_rate / fps - (n - 1) * speaker_rate / fps) as usize,
        } * speaker_channels;
        let out = &mut sound[..sound_due];
        if sound_due > 0 && pipeline.sound(&input, out, emit) {
            speaker.write(out).map_err(AppError::Speaker)?;
        }
        let t_pipeline = clock.now();

        stats.frame = frames;
        stats.level_dbfs = level;
        pipeline
            .draw(display, &frame, &stats)
            .map_err(|e| AppError::Draw(format!("{e:?}")))?;
        let t3 = clock.now();
        display.flush().map_err(AppError::Display)?;
        let t4 = clock.now();

        if last_level.is_none_or(|last| (level - last).abs() >= options.level_step_db) {
            last_level = Some(level);
            emit(Event::Level {
                frame: frames,
                t_ms: round3((t4 - start).as_secs_f64() * 1000.0),
                dbfs: (level * 10.0).round() / 10.0,
            });
        }

        totals.capture += t1 - t0;
        totals.audio += t2 - t1;
        totals.draw += t3 - t_pipeline;
        for (name, spent) in pipeline.take_stage_times() {
            match stage_totals.iter_mut().find(|(n, _)| *n == name) {
                Some((_, total)) => *total += spent,
                None => stage_totals.push((name, spent)),
            }
        }
        totals.flush += t4 - t3;
        totals.slowest_frame = totals.slowest_frame.max(t4 - t0);
        latency.record(t4 - t1);
        frames += 1;
        window_frames += 1;

        let window = t4 - window_start;
        if window >= options.stats_interval && window > Duration::ZERO {
            let n = window_frames as f32;
            stats.fps = window_frames as f32 / window.as_secs_f32();
            stats.capture_ms = ms(totals.capture) / n;
            stats.audio_ms = ms(totals.audio) / n;
            stats.draw_ms = ms(totals.draw) / n;
            stats.flush_ms = ms(totals.flush) / n;
            emit(Event::Stats {
                frame: frames - 1,
                t_ms: round3((t4 - start).as_secs_f64() * 1000.0),
                fps: round2(stats.fps),
                capture_ms: round2(stats.capture_ms),
                audio_ms: round2(stats.audio_ms),
                draw_ms: round2(stats.draw_ms),
                flush_ms: round2(stats.flush_ms),
                max_frame_ms: round2(ms(totals.slowest_frame)),
                stages: stage_totals
                    .drain(..)
                    .map(|(name, total)| (name.to_string(), round2(ms(total) / n)))
                    .collect(),
            });
            totals = StageTotals::default();
            window_start = t4;
            window_frames = 0;
        }
    };
    tracing::debug!(frames, ?reason, "pipeline: stopped");
    Ok(RunSummary {
        frames,
        reason,
        elapsed: clock.now() - start,
        frame_to_display_p50: if frames > 0 {
            latency.quantile(0.5)
        } else {
            Duration::ZERO
        },
        frame_to_display_p99: if frames > 0 {
            latency.quantile(0.99)
        } else {
            Duration::ZERO
        },
        audio_lag_max,
    })
}

/// Peak resident memory of this process, from /proc/self/status (Linux only).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some((kib / 1024.0 * 10.0).round() / 10.0)
}

fn round2(x: f32) -> f32 {
    (x * 100.0).round() / 100.0
}

/// Reads until `buf` is full or the microphone ends; returns how many samples were read.
fn read_full<M: Microphone + ?Sized>(mic: &mut M, buf: &mut [i16]) -> Result<usize, HalError> {
    let mut filled = 0;
    while filled < buf.len() {
        match mic.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::EndOfStream => break,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_percentiles_come_from_the_histogram() {
        let mut h = LatencyHistogram::new();
        for us in 1..=100u64 {
            h.record(Duration::from_micros(us * 100));
        }
        // 100 frames of 0.1 .. 10 ms: the median is 5 ms, the 99th 9.9 ms (bucket upper edges).
        assert_eq!(h.quantile(0.5), Duration::from_micros(5050));
        assert_eq!(h.quantile(0.99), Duration::from_micros(9950));
        h.record(Duration::from_secs(5));
        assert_eq!(h.quantile(1.0), Duration::from_secs(1));
    }
}
