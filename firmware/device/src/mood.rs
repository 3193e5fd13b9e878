//! The mood pipeline: faces and their expression (the [`FacePipeline`]), the voice and its
//! emotion ([`crate::voice`]), fused into one mood by `sentio_mood`, drawn on the mood screen.
//!
//! Time for the voice and the mood is the frame's time on the camera's timeline
//! ([`StepInput::media_ms`]), which the microphone's samples follow exactly, so a run is the
//! same at real-time and at fast pace.

use std::time::Duration;

use embedded_graphics::prelude::*;
use sentio_hal::Frame;
use sentio_models::{FER7, SER8};
use sentio_mood::{Modality, Mood, MoodConfig, MoodEngine, MoodError, MoodUpdate};
use sentio_ui::{MoodScreen, MoodView, Palette, PreviewStats};

use crate::app::LatencyHistogram;
use crate::events::{Contribution, Event, Refusal};
use crate::link::ModelRegistry;
use crate::models::ModelFile;
use crate::music::{Music, MusicSetup};
use crate::pipeline::{FacePipeline, Pipeline, StepInput, round3f};
use crate::voice::{Listener, ListenerConfig, SpeechModel};

/// The name of the speech model in the store and the profile.
pub const SPEECH_MODEL: &str = "ser";

/// Per-stage totals of the voice and the fusion.
#[derive(Default, Clone, Copy)]
struct VoiceTimes {
    listen: Duration,
    features: Duration,
    ser: Duration,
    fuse: Duration,
}

/// How the mood pipeline is set up.
pub struct MoodSetup {
    pub faces: FacePipeline,
    /// The speech model at start, if one loaded.
    pub speech: Option<SpeechModel>,
    pub listener: ListenerConfig,
    pub mood: MoodConfig,
    /// The models the host flashes; the active `ser` replaces the speech model.
    pub registry: Option<ModelRegistry>,
    pub load_options: sentio_infer::LoadOptions,
    /// The consent button: with one, the device starts paused (no camera, no microphone) and
    /// each press starts or stops sensing.
    pub consent: Option<Box<dyn sentio_hal::PushButton>>,
    /// Debugging only (`--debug-audio DIR`): write every window the speech model hears here as
    /// a WAV. Off by default: no audio leaves the ring otherwise.
    pub debug_audio: Option<std::path::PathBuf>,
    /// Mood music, when the profile has `[music]`.
    pub music: Option<MusicSetup>,
}

/// Faces and voice into one mood on the mood screen.
pub struct MoodPipeline {
    faces: FacePipeline,
    speech: Option<SpeechModel>,
    listener_config: ListenerConfig,
    listener: Option<Listener>,
    engine: MoodEngine,
    registry: Option<ModelRegistry>,
    load_options: sentio_infer::LoadOptions,
    /// The store bundle's SHA-256 last tried for `ser`.
    tried: Option<[u8; 32]>,
    sensing: bool,
    consent: Option<Box<dyn sentio_hal::PushButton>>,
    screen: Option<MoodScreen>,
    last: Option<MoodUpdate>,
    times: VoiceTimes,
    /// Per window: from its last sample's arrival (the frame's audio read) to its scores.
    window_latency: LatencyHistogram,
    debug_audio: Option<std::path::PathBuf>,
    music: Option<Music>,
    /// The music's setup until the first frame builds the player (so that a `[mood]` error
    /// handing the setup back does not lose it).
    music_setup: Option<MusicSetup>,
}

impl MoodPipeline {
    /// Builds the fusion for the models at hand; a `[mood]` table that does not fit a model's
    /// labels is an error (the caller reports it and runs with the defaults).
    pub fn new(setup: MoodSetup) -> Result<Self, MoodError> {
        Self::new_or_back(setup).map_err(|failed| failed.1)
    }

    /// [`MoodPipeline::new`], handing the setup back on an error (so the caller can retry
    /// without the model that failed).
    pub fn new_or_back(setup: MoodSetup) -> Result<Self, Box<(MoodSetup, MoodError)>> {
        let voice_labels: Vec<String> = match &setup.speech {
            Some(m) => m.labels.clone(),
            None => SER8.labels.iter().map(|l| l.to_string()).collect(),
        };
        let engine = match MoodEngine::new(
            &setup.mood,
            FER7.labels,
            &voice_labels,
            sentio_models::EMOJI8.labels,
        ) {
            Ok(engine) => engine,
            Err(e) => return Err(Box::new((setup, e))),
        };
        let tried = setup
            .registry
            .as_ref()
            .and_then(|r| r.get(SPEECH_MODEL))
            .map(|m| m.sha256);
        Ok(Self {
            faces: setup.faces,
            speech: setup.speech,
            listener_config: setup.listener,
            listener: None,
            engine,
            registry: setup.registry,
            load_options: setup.load_options,
            tried,
            sensing: setup.consent.is_none(),
            consent: setup.consent,
            screen: None,
            last: None,
            times: VoiceTimes::default(),
            window_latency: LatencyHistogram::new(),
            debug_audio: setup.debug_audio,
            music: None,
            music_setup: setup.music,
        })
    }

    /// The current mood.
    pub fn mood(&self) -> Mood {
        self.engine.mood()
    }

    /// The face pipeline inside.
    pub fn faces(&self) -> &FacePipeline {
        &self.faces
    }

    /// The speech model running now (`name@version`).
    pub fn speech_model(&self) -> Option<&str> {
        self.speech.as_ref().map(|m| m.label.as_str())
    }

    /// Loads a newly activated `ser` from the store; a refused one leaves the running model.
    fn poll_store(&mut self, emit: &mut dyn FnMut(Event)) {
        let Some(stored) = self.registry.as_ref().and_then(|r| r.get(SPEECH_MODEL)) else {
            return;
        };
        if self.tried == Some(stored.sha256) {
            return;
        }
        self.tried = Some(stored.sha256);
        let origin = format!("store:{SPEECH_MODEL}@{}", stored.version);
        let loaded = ModelFile::from_bundle(&stored.bundle, origin.clone())
            .and_then(|file| file.speech(&self.load_options))
            .map_err(|e| Refusal::of(&e))
            .and_then(|model| {
                // The fusion must map the new model's labels before it is swapped in.
                self.engine
                    .set_labels(Modality::Voice, &model.labels)
                    .map(|()| model)
                    .map_err(|e| Refusal::of(&e))
            });
        match loaded {
            Ok(model) => {
                tracing::info!(model = %model.label, %origin, "speech model swapped in from the store");
                emit(Event::active("speech", &model));
                self.speech = Some(model);
                // The ring and the VAD stay: the new model hears the next window.
            }
            Err(why) => {
                tracing::warn!(%origin, reason = %why.reason, "new speech model refused; the running one stays");
                emit(
                    Event::refused_for("speech", &origin, why)
                        .keeping(self.speech_model().map(str::to_string)),
                )
            }
        }
    }

    /// A press of the consent button starts or stops sensing. Stopping drops the audio ring
    /// (nothing heard before the pause survives it) and the face and voice fade out of the mood.
    fn poll_consent(&mut self, input: &StepInput<'_>, emit: &mut dyn FnMut(Event)) {
        let Some(button) = self.consent.as_mut() else {
            return;
        };
        match button.pressed(input.now) {
            Ok(false) => {}
            Ok(true) => {
                self.sensing = !self.sensing;
                if !self.sensing {
                    self.listener = None;
                }
                emit(Event::Sensing {
                    frame: input.index,
                    t_ms: input.t_ms,
                    on: self.sensing,
                    by: "consent button".into(),
                });
            }
            Err(e) => {
                // A button that cannot be read cannot give consent: stay paused, say so once.
                self.consent = None;
                self.sensing = false;
                self.listener = None;
                emit(
                    Event::refused("consent button", "gpio", &e)
                        .keeping(Some("sensing paused".into())),
                );
            }
        }
    }

    /// Feeds this frame's audio to the listener and runs the speech model on the windows due.
    fn listen(&mut self, input: &StepInput<'_>, emit: &mut dyn FnMut(Event)) {
        let clock = input.clock;
        let t0 = clock.now();
        let Some(model) = self.speech.as_mut() else {
            return;
        };
        if self.listener.is_none() {
            let window_secs = model.input.window() as f32 / model.sample_rate().max(1) as f32;
            match Listener::new(input.sample_rate, window_secs, self.listener_config.clone()) {
                Ok(l) => self.listener = Some(l),
                Err(e) => {
                    let mut why = Refusal::of(&e);
                    why.reason = format!("the microphone cannot feed it: {}", why.reason);
                    emit(Event::refused_for("speech", &model.origin, why));
                    self.speech = None;
                    return;
                }
            }
        }
        let Some(listener) = self.listener.as_mut() else {
            return;
        };
        let mut due = Vec::new();
        listener.push(input.audio, &mut due);
        let t1 = clock.now();
        self.times.listen += t1 - t0;
        let rate = u64::from(input.sample_rate.max(1));
        for window in due {
            let samples = listener.model_window(&window, &model.input);
            let t2 = clock.now();
            let features = model.features(&samples).map(|_| ());
            let t3 = clock.now();
            let scores = features.and_then(|()| model.run_features());
            let t4 = clock.now();
            self.times.features += t3 - t2;
            self.times.ser += t4 - t3;
            let scores = match scores {
                Ok(s) => s,
                Err(e) => {
                    emit(Event::refused("speech", &model.origin, &e));
                    self.speech = None;
                    return;
                }
            };
            let Some((top, score)) = top(&model.labels, &scores) else {
                continue;
            };
            let end_ms = window.span.end * 1000 / rate;
            emit(Event::Speech {
                frame: input.index,
                t_ms: input.t_ms,
                start_ms: window.span.start * 1000 / rate,
                end_ms,
                last: window.last,
                model: model.label.clone(),
                label: top,
                score: round3f(score),
                scores: model
                    .labels
                    .iter()
                    .zip(&scores)
                    .map(|(l, s)| (l.clone(), round3f(*s)))
                    .collect(),
            });
            if let Err(e) = self.engine.observe_voice(input.media_ms, &scores) {
                emit(Event::refused("speech", &model.origin, &e));
            }
            // The window's last sample came with this frame's audio, read at `input.now`.
            self.window_latency
                .record(clock.now().saturating_sub(input.now));
            if let Some(dir) = &self.debug_audio {
                let kind = if window.last { "last" } else { "interim" };
                let path = dir.join(format!(
                    "speech_{:08}_{:08}_{kind}.wav",
                    window.span.start * 1000 / rate,
                    end_ms
                ));
                if let Err(e) = sentio_audio::write_wav(&path, &samples, model.sample_rate()) {
                    emit(Event::refused(
                        "debug audio",
                        &path.display().to_string(),
                        &e,
                    ));
                    self.debug_audio = None;
                }
            }
        }
    }

    /// Builds the player from its setup once; one that cannot start is reported and the
    /// device runs without music.
    fn start_music(&mut self, emit: &mut dyn FnMut(Event)) {
        let Some(setup) = self.music_setup.take() else {
            return;
        };
        match Music::new(setup) {
            Ok(music) => self.music = Some(music),
            Err(e) => emit(Event::refused("music", "profile [music]", &e)),
        }
    }

    /// Tells the music the mood and whether someone is speaking.
    fn cue_music(&mut self, input: &StepInput<'_>, emit: &mut dyn FnMut(Event)) {
        self.start_music(emit);
        let speaking = self.sensing && self.listener.as_ref().is_some_and(Listener::hears_speech);
        let mood = self.engine.mood();
        if let Some(music) = self.music.as_mut() {
            music.cue(input, mood, speaking, emit);
        }
    }

    fn fuse(&mut self, input: &StepInput<'_>, emit: &mut dyn FnMut(Event)) {
        let t0 = input.clock.now();
        if let Some(scores) = self.faces.fresh_scores()
            && let Err(e) = self.engine.observe_face(input.media_ms, scores)
        {
            emit(Event::refused(
                "expression",
                self.faces.expression_model().unwrap_or(""),
                &e,
            ));
        }
        let update = self.engine.update(input.media_ms);
        if update.changed {
            emit(mood_event(input, &update));
        }
        self.last = Some(update);
        self.times.fuse += input.clock.now() - t0;
    }
}

/// The top label of `scores` and its score.
fn top(labels: &[String], scores: &[f32]) -> Option<(String, f32)> {
    scores
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .and_then(|(i, s)| labels.get(i).map(|l| (l.clone(), *s)))
}

pub(crate) fn mood_event(input: &StepInput<'_>, update: &MoodUpdate) -> Event {
    let per_mood = |scores: &[f32; Mood::COUNT]| {
        Mood::ALL
            .iter()
            .map(|m| (m.as_str().to_string(), round3f(scores[m.index()])))
            .collect()
    };
    Event::Mood {
        frame: input.index,
        t_ms: input.t_ms,
        mood: update.mood.as_str().to_string(),
        previous: update.previous.map(|m| m.as_str().to_string()),
        score: round3f(update.smoothed[update.mood.index()]),
        fused: per_mood(&update.fused),
        smoothed: per_mood(&update.smoothed),
        contributions: Modality::ALL
            .iter()
            .map(|m| {
                let c = update.contribution(*m);
                (
                    m.as_str().to_string(),
                    Contribution {
                        weight: round3f(c.weight),
                        share: round3f(c.share),
                        confidence: round3f(c.confidence),
                        freshness: round3f(c.freshness),
                        age_ms: c.age_ms,
                        mood: c.mood.map(|m| m.as_str().to_string()),
                    },
                )
            })
            .collect(),
    }
}

impl Pipeline for MoodPipeline {
    fn step(&mut self, input: &StepInput<'_>, emit: &mut dyn FnMut(Event)) {
        self.poll_store(emit);
        self.poll_consent(input, emit);
        if self.sensing {
            self.faces.step(input, emit);
            self.listen(input, emit);
        }
        self.fuse(input, emit);
        self.cue_music(input, emit);
    }

    fn sound(
        &mut self,
        input: &StepInput<'_>,
        out: &mut [i16],
        emit: &mut dyn FnMut(Event),
    ) -> bool {
        self.start_music(emit);
        match self.music.as_mut() {
            Some(music) => {
                music.render(input, out, emit);
                true
            }
            None => false,
        }
    }

    fn play_prompt(&mut self, samples: &[i16], sample_rate: u32) -> bool {
        // The beep comes before the first frame: the player starts here if it can.
        self.start_music(&mut |_| {});
        match self.music.as_mut() {
            Some(music) => {
                music.prompt(samples, sample_rate);
                true
            }
            None => false,
        }
    }

    fn draw<D>(
        &mut self,
        display: &mut D,
        _frame: &Frame<'_>,
        status: &PreviewStats,
    ) -> Result<(), D::Error>
    where
        D: DrawTarget,
        D::Color: Palette,
    {
        let screen = self
            .screen
            .get_or_insert_with(|| MoodScreen::new(display.bounding_box().size, D::Color::LARGE));
        let update = self.last.as_ref();
        let share = |m: Modality| {
            update
                .map(|u| u.contribution(m))
                .filter(|c| c.age_ms.is_some() && c.freshness > 0.0)
                .map(|c| c.confidence * c.freshness)
        };
        let mood = update.filter(|u| !u.idle).map(|u| u.mood);
        let view = MoodView {
            mood,
            confidence: update.map_or(0.0, |u| u.smoothed[u.mood.index()]),
            face: share(Modality::Face),
            voice: share(Modality::Voice),
            track: self.music.as_ref().and_then(Music::title),
            camera_on: self.sensing,
            mic_on: self.sensing && self.speech.is_some(),
            fps: status.fps,
        };
        screen.draw(display, &view)
    }

    fn stop_figures(&self) -> Vec<(&'static str, f64)> {
        let h = &self.window_latency;
        if h.count() == 0 {
            return vec![("speech_windows", 0.0)];
        }
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        vec![
            ("speech_windows", h.count() as f64),
            ("window_to_result_p50_ms", ms(h.quantile(0.5))),
            ("window_to_result_p99_ms", ms(h.quantile(0.99))),
        ]
    }

    fn take_stage_times(&mut self) -> Vec<(&'static str, Duration)> {
        let mut stages = self.faces.take_stage_times();
        let t = std::mem::take(&mut self.times);
        stages.extend([
            ("listen_ms", t.listen),
            ("features_ms", t.features),
            ("ser_ms", t.ser),
            ("fuse_ms", t.fuse),
        ]);
        if let Some(music) = self.music.as_mut() {
            stages.push(("music_ms", music.take_time()));
        }
        stages
    }
}
