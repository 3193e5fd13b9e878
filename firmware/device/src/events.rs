//! Events the device reports, one JSON object per line: what a monitor, a test rig or a person
//! watching stdout sees. Sent when something changes, not for every frame.

use std::collections::BTreeMap;

use sentio_diagnostics::Diagnostic;
use sentio_infer::PlanChoice;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The device is up: what it runs on.
    Start {
        board: String,
        camera: String,
        width: u32,
        height: u32,
        fps: u32,
        microphone: String,
        sample_rate: u32,
        display: String,
        display_width: u32,
        display_height: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        display_out: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        speaker_out: Option<String>,
    },
    /// The start-up beep went to the speaker.
    Beep { freq_hz: u32, duration_ms: u32 },
    /// The microphone level moved by at least the reporting step since the last report.
    Level { frame: u64, t_ms: f64, dbfs: f32 },
    /// Throughput and per-stage timings over the last window.
    Stats {
        frame: u64,
        t_ms: f64,
        fps: f32,
        capture_ms: f32,
        audio_ms: f32,
        draw_ms: f32,
        flush_ms: f32,
        /// The slowest frame of the window, all stages.
        max_frame_ms: f32,
        /// The pipeline's own stages (`detect_ms`, `track_ms`, `crop_ms`, `fer_ms`), mean
        /// milliseconds per frame over the window.
        #[serde(flatten)]
        stages: BTreeMap<String, f32>,
    },
    /// A face track started (a new face is followed) or was lost (not seen for 2 s).
    Face {
        frame: u64,
        t_ms: f64,
        track: u64,
        state: FaceState,
        /// The face's box in camera pixels (where it was last seen, for `lost`).
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        /// The detector's confidence (BlazeFace: probability; Haar: grouped windows).
        score: f32,
        detector: String,
    },
    /// The expression of the tracked face changed (top label), or the model reading it did.
    Expression {
        frame: u64,
        t_ms: f64,
        track: u64,
        /// `name@version` of the expression model.
        model: String,
        label: String,
        score: f32,
        /// Every fer7 label's score.
        scores: BTreeMap<String, f32>,
    },
    /// The speech model heard a window: every `hop` while someone speaks (`last: false`, the
    /// latest window of the utterance) and once when the utterance ends (`last: true`, cut by
    /// the model's manifest rule, as `sentio run` cuts a clip). Times are ms since the
    /// microphone started.
    Speech {
        frame: u64,
        t_ms: f64,
        start_ms: u64,
        end_ms: u64,
        last: bool,
        /// `name@version` of the speech model.
        model: String,
        label: String,
        score: f32,
        /// Every label's score (ser8).
        scores: BTreeMap<String, f32>,
    },
    /// Sensing (camera and microphone) started or stopped: the consent button was pressed.
    Sensing {
        frame: u64,
        t_ms: f64,
        on: bool,
        by: String,
    },
    /// The music player started, left or ended a track, or fell back to another mood's music.
    Track(TrackInfo),
    /// The self-check of an activated model (at activation, and for every model at start): it
    /// passed, or it failed and the previous version is active again, or it failed with
    /// nothing to go back to.
    ModelSelfCheck {
        name: String,
        version: String,
        /// `passed`, `rolled_back` or `failed_no_previous`.
        outcome: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        restored: Option<String>,
        /// Why it failed: `reason`, and the error's `code` and `help` when it has them.
        #[serde(flatten, skip_serializing_if = "Option::is_none")]
        why: Option<Refusal>,
    },
    /// Input injection (hardware-in-the-loop) started or ended: while active, what the host
    /// streams over the link replaces the camera and the microphone.
    Injection { active: bool, reason: String },
    /// A whole injected image or audio clip arrived.
    Injected {
        stream: String,
        pieces: u32,
        bytes: u64,
        detail: String,
    },
    /// A volume button changed the music's volume (0..1).
    Volume { frame: u64, t_ms: f64, volume: f32 },
    /// The fused mood changed.
    Mood {
        frame: u64,
        t_ms: f64,
        mood: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        previous: Option<String>,
        /// The new mood's smoothed score.
        score: f32,
        /// This frame's fused scores and the smoothed ones the decision was made on.
        fused: BTreeMap<String, f32>,
        smoothed: BTreeMap<String, f32>,
        /// Each modality's part in the fusion (`face`, `voice`, `emoji`).
        contributions: BTreeMap<String, Contribution>,
    },
    /// The pipeline runs this model for `role` from now on (at start, or after a flash), with
    /// the kernels its load chose.
    ModelActive {
        role: String,
        model: String,
        origin: String,
        plan: KernelPlan,
    },
    /// A model or detector was refused; the pipeline keeps what it had (`keeps`, if anything).
    ModelRefused {
        role: String,
        origin: String,
        /// `reason`, and the error's `code` and `help` line when it has them.
        #[serde(flatten)]
        why: Refusal,
        #[serde(skip_serializing_if = "Option::is_none")]
        keeps: Option<String>,
    },
    /// A microphone that plays a file reached its end; the meter shows silence from here on.
    MicEnded { frame: u64 },
    /// Sketch mode: what the device reads in the drawing shown to it changed (`state`: `emoji`
    /// with its label, score and the mood it maps to; `no_card`, `two_cards` or `blank`).
    Emoji {
        frame: u64,
        t_ms: f64,
        /// `camera` (a card held up) or `touch` (drawn on the panel).
        source: String,
        state: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        label: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        score: Option<f32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        mood: Option<String>,
        /// `name@version` of the emoji model.
        model: String,
    },
    /// Sketch mode: the scene's caption changed. `anps` are the adjective-noun pairs the tagger
    /// scored highest (label, score), `forced` the ones the caption says.
    Caption {
        frame: u64,
        t_ms: f64,
        text: String,
        faces: usize,
        anps: Vec<(String, f32)>,
        forced: Vec<String>,
        /// `name@version` of the ANP tagger.
        model: String,
    },
    /// A device or model failed while running; the device runs on without it until it works
    /// again (said once per failure).
    DeviceError {
        device: String,
        message: String,
        /// The error's code and what to do, when it has them.
        #[serde(skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        help: Option<String>,
    },
    /// The device loop ended.
    Stop {
        frames: u64,
        reason: StopReason,
        elapsed_ms: f64,
        /// Frame-to-display time (frame captured to display flushed) over the run, median and
        /// 99th percentile (50 µs resolution).
        frame_to_display_p50_ms: f64,
        frame_to_display_p99_ms: f64,
        /// The process's peak resident memory (Linux VmHWM), when the options ask for it.
        #[serde(skip_serializing_if = "Option::is_none")]
        peak_rss_mib: Option<f64>,
        /// How far the audio read fell behind the clock at worst (see `RunSummary`).
        audio_lag_max_ms: f64,
        /// The pipeline's own figures over the run (the mood pipeline: speech windows heard,
        /// window-to-result latency p50/p99).
        #[serde(flatten)]
        figures: BTreeMap<String, f64>,
    },
    /// The serial link serves the host at `path` (a pseudo-terminal's path for `--serial pty`).
    Link { path: String, baud: u32 },
    /// A verified model from the store is loaded into the running device (at start, or after
    /// the host activated or rolled it back).
    ModelLoaded {
        name: String,
        version: String,
        sha256: String,
        bytes: u64,
    },
    /// A model was deleted or lost its verified active version.
    ModelUnloaded { name: String },
    /// Opening the model store found and repaired something (an interrupted transfer, a
    /// damaged file); `report` says what.
    StoreRecovery { report: String },
    /// The host asked for a reboot: the link started a fresh session over the same store.
    LinkReboot {},
    /// The serial device failed; the link retries.
    LinkError { message: String },
}

/// One modality's part in a mood decision.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Contribution {
    /// Configured weight x confidence x freshness.
    pub weight: f32,
    /// Its share of the total weight.
    pub share: f32,
    /// The latest reading's top score (0 below the profile's `min_confidence`).
    pub confidence: f32,
    /// 1 for a reading taken now, 0 once stale.
    pub freshness: f32,
    /// Milliseconds since its latest reading (absent: never seen).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_ms: Option<u64>,
    /// The mood its latest reading points to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mood: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaceState {
    Started,
    Lost,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The requested number of frames was shown.
    FrameLimit,
    /// SIGINT or SIGTERM.
    Signal,
}

/// Whose kernels run an active model and why: sentio-infer's choice at load, by measurement on
/// this CPU (or from the plan cache), so a board's log says whether Sentio's NEON kernels or
/// tract's run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KernelPlan {
    /// `sentio`, `sentio+im2col` or `tract`.
    pub chosen: &'static str,
    /// `measured`, `cached`, `asked` (the profile's `runtime.kernels`) or `nothing_to_replace`.
    pub reason: &'static str,
    /// The instruction set of Sentio's kernels on this CPU (`avx512`, `neon`, `portable`, ...).
    pub isa: &'static str,
    /// What each candidate measured at load (median), ms; empty when nothing was timed.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub times_ms: BTreeMap<&'static str, f64>,
}

impl From<&PlanChoice> for KernelPlan {
    fn from(plan: &PlanChoice) -> Self {
        KernelPlan {
            chosen: plan.chosen.name(),
            reason: plan.reason.name(),
            isa: plan.isa.name(),
            times_ms: plan
                .times
                .iter()
                .map(|(kind, t)| (kind.name(), round3(t.as_secs_f64() * 1e3)))
                .collect(),
        }
    }
}

/// Why something was refused, as `model_refused` says it: the error's message with its causes,
/// its code (`data::model::wrong_task`) and the help line that says what to do.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Refusal {
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Refusal {
    /// What `error` says: its message and causes, its code and its help line.
    pub fn of(error: &dyn Diagnostic) -> Refusal {
        Refusal {
            reason: sentio_diagnostics::message_of(error),
            code: sentio_diagnostics::code_of(error),
            help: sentio_diagnostics::help_of(error),
        }
    }

    /// A reason this crate gives in words (no error value behind it).
    pub fn said(reason: impl Into<String>) -> Refusal {
        Refusal {
            reason: reason.into(),
            code: None,
            help: None,
        }
    }
}

impl Event {
    /// `model_active` for `role`: `model` runs from now on.
    pub fn active(role: &str, model: &dyn RunningModel) -> Event {
        Event::ModelActive {
            role: role.into(),
            model: model.label().into(),
            origin: model.origin().into(),
            plan: model.plan().into(),
        }
    }

    /// `model_refused` for `role` from `origin` because of `error`, with nothing kept in its
    /// place.
    pub fn refused(role: &str, origin: &str, error: &dyn Diagnostic) -> Event {
        Event::refused_for(role, origin, Refusal::of(error))
    }

    /// `model_refused` for `role` from `origin`, `why`, with nothing kept in its place.
    pub fn refused_for(role: &str, origin: &str, why: Refusal) -> Event {
        Event::ModelRefused {
            role: role.into(),
            origin: origin.into(),
            why,
            keeps: None,
        }
    }

    /// `device_error` for `device`: `error`'s message and causes, its code and its help line.
    pub fn device_error(device: &str, error: &dyn Diagnostic) -> Event {
        let why = Refusal::of(error);
        Event::DeviceError {
            device: device.into(),
            message: why.reason,
            code: why.code,
            help: why.help,
        }
    }

    /// A `model_refused` event that says what the pipeline keeps in the refused one's place.
    pub fn keeping(self, kept: Option<String>) -> Event {
        match self {
            Event::ModelRefused {
                role, origin, why, ..
            } => Event::ModelRefused {
                role,
                origin,
                why,
                keeps: kept,
            },
            other => other,
        }
    }

    /// The event as one line of JSON (no trailing newline).
    pub fn to_json(&self) -> String {
        // Serialising plain structs of numbers and strings cannot fail.
        serde_json::to_string(self)
            .unwrap_or_else(|e| format!("{{\"event\":\"error\",\"message\":\"{e}\"}}"))
    }
}

/// A model a pipeline runs, as `model_active` names it.
pub trait RunningModel {
    /// `name@version`.
    fn label(&self) -> &str;
    /// Where it came from (a path, `store:fer@1.0.0`).
    fn origin(&self) -> &str;
    /// Whose kernels run it and why.
    fn plan(&self) -> &PlanChoice;
}

macro_rules! running_model {
    ($($model:ty),*) => {$(
        impl RunningModel for $model {
            fn label(&self) -> &str {
                &self.label
            }
            fn origin(&self) -> &str {
                &self.origin
            }
            fn plan(&self) -> &PlanChoice {
                <$model>::plan(self)
            }
        }
    )*};
}

running_model!(
    sentio_vision::picture::PictureModel,
    sentio_vision::sketch::SketchModel,
    crate::voice::SpeechModel
);

/// Rounds to 3 decimals so events stay short and stable to compare.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_in_events_carry_their_code_and_help() {
        let error = sentio_music::MusicError::InvalidOutput {
            rate: 0,
            channels: 2,
        };
        assert_eq!(
            Event::device_error("speaker", &error).to_json(),
            r#"{"event":"device_error","device":"speaker","message":"cannot render 0 Hz with 2 channels: allowed 8000-192000 Hz and 1-8 channels","code":"data::music::invalid_output","help":"pass the speaker's rate and channel count"}"#
        );
        assert_eq!(
            Event::refused("music", "profile [music]", &error)
                .keeping(Some("silence".into()))
                .to_json(),
            r#"{"event":"model_refused","role":"music","origin":"profile [music]","reason":"cannot render 0 Hz with 2 channels: allowed 8000-192000 Hz and 1-8 channels","code":"data::music::invalid_output","help":"pass the speaker's rate and channel count","keeps":"silence"}"#
        );
        // A reason in words has neither.
        assert_eq!(
            Event::refused_for("injected camera", "link", Refusal::said("too big")).to_json(),
            r#"{"event":"model_refused","role":"injected camera","origin":"link","reason":"too big"}"#
        );
    }

    #[test]
    fn events_serialise_with_their_tag() {
        let e = Event::Level {
            frame: 3,
            t_ms: 200.0,
            dbfs: -20.5,
        };
        assert_eq!(
            e.to_json(),
            r#"{"event":"level","frame":3,"t_ms":200.0,"dbfs":-20.5}"#
        );
        let e = Event::Stop {
            frames: 9,
            reason: StopReason::Signal,
            elapsed_ms: 1.5,
            frame_to_display_p50_ms: 0.25,
            frame_to_display_p99_ms: 2.0,
            peak_rss_mib: None,
            audio_lag_max_ms: 0.0,
            figures: [("speech_windows".to_string(), 3.0)].into(),
        };
        assert_eq!(
            e.to_json(),
            r#"{"event":"stop","frames":9,"reason":"signal","elapsed_ms":1.5,"frame_to_display_p50_ms":0.25,"frame_to_display_p99_ms":2.0,"audio_lag_max_ms":0.0,"speech_windows":3.0}"#
        );
    }
}

/// A `track` event: what the music player did. `t_ms` is on the speaker's clock (the media time
/// of the run).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TrackInfo {
    pub frame: u64,
    pub t_ms: u64,
    /// `started`, `skipped`, `ended`, `fallback`, `nothing_to_play` or `cache_reset`.
    pub action: String,
    /// The file's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub track: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mood: Option<String>,
    /// Why a track was left: `end_of_track`, `dwell` (a new mood held long enough to switch
    /// mid-track), `manual` (the next-track button) or `decode_error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// A `decode_error`'s message and what to do about the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Loudness normalization applied to a started track, dB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gain_db: Option<f32>,
}
