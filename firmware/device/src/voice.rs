//! The voice: the microphone's samples in a ring, the voice-activity rule the trainer uses, and
//! the speech-emotion model on windows cut as its manifest says.
//!
//! The [`Listener`] feeds every sample to the streaming VAD (`sentio_audio::Vad`, default
//! tuning: the same detector `SpeechInput::speech_span` runs over a clip). Speech segments less
//! than [`ListenerConfig::utterance_gap_ms`] apart form one utterance, as `speech_span` joins
//! all the segments of a clip. While an utterance goes on, every `hop_ms` the model hears its
//! last window (an *interim* result); when it ends, the model hears the utterance cut by the
//! manifest's rule (`SpeechInput::fit`: the middle window, or the utterance padded at the end)
//! — for a clip holding one utterance, exactly what `sentio run` and `sentio eval` compute.
//!
//! Samples live only in the ring (a few seconds, overwritten as it goes); nothing here writes or
//! sends audio.

use std::collections::VecDeque;
use std::ops::Range;

use sentio_audio::{FeatureExtractor, FeatureMatrix, SpeechInput, Vad, VadConfig, resample};
use sentio_infer::{LoadOptions, Model, PlanChoice};
use sentio_models::{Manifest, SER8, Task};
use sentio_vision::role::{LabelRule, Role, RoleError};

/// Why a model cannot be the speech model. Each names the model and says what to do.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SpeechModelError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Role(#[from] RoleError),
    #[error("{origin}: {source}")]
    #[diagnostic(code(data::sentiod::input))]
    Input {
        origin: String,
        #[diagnostic_source]
        source: sentio_audio::AudioError,
    },
    #[error(
        "{origin}: the model takes {model:?} but its manifest's features make {manifest:?} ({frames} frames x {dims} features)"
    )]
    #[diagnostic(
        code(data::sentiod::input_shape),
        help("the manifest is not this model's; give the manifest training wrote beside it")
    )]
    InputShape {
        origin: String,
        model: Vec<usize>,
        manifest: Vec<usize>,
        frames: usize,
        dims: usize,
    },
}

/// The speech model's role: task `ser`, speech-emotion labels (read by name, so any of the ser8
/// labels in any order), an input the manifest's feature config makes (checked in
/// [`SpeechModel::load`]).
pub const ROLE: Role = Role {
    name: "the speech model",
    task: Task::Ser,
    labels: LabelRule::AnyOf(&SER8),
    labels_help: "fix the manifest's labels (`sentio manifest init MODEL --labels ser8`)",
    input: "[1, frames, features] as its manifest's feature config makes",
    input_help: "the manifest is not this model's; give the manifest training wrote beside it",
};

/// A loaded speech-emotion model with its input rule and feature extractor.
pub struct SpeechModel {
    model: Model,
    /// `name@version`.
    pub label: String,
    /// Where it came from (a path, `store:ser@1.0.0`).
    pub origin: String,
    /// How audio becomes its input (from the manifest).
    pub input: SpeechInput,
    /// Its labels in output order.
    pub labels: Vec<String>,
    extractor: FeatureExtractor,
    features: FeatureMatrix,
}

impl std::fmt::Debug for SpeechModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpeechModel")
            .field("label", &self.label)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl SpeechModel {
    /// Checks the manifest (task, labels, the input rule against the model's input shape),
    /// loads the model with a smoke run and checks its output size.
    pub fn load(
        manifest: &Manifest,
        onnx: &[u8],
        origin: &str,
        options: &LoadOptions,
    ) -> Result<Self, SpeechModelError> {
        let origin_s = || origin.to_string();
        ROLE.check_manifest(manifest, origin)?;
        let labels = manifest.labels.labels.clone();
        let input =
            SpeechInput::from_manifest(&manifest.input.preprocessing).map_err(|source| {
                SpeechModelError::Input {
                    origin: origin_s(),
                    source,
                }
            })?;
        let dims = input.features.dims();
        let wanted = vec![1, input.frames, dims];
        if manifest.input.shape != wanted {
            return Err(SpeechModelError::InputShape {
                origin: origin_s(),
                model: manifest.input.shape.clone(),
                manifest: wanted,
                frames: input.frames,
                dims,
            });
        }
        let model = Model::load(onnx, &options.clone().manifest(manifest).smoke_run(true))
            .map_err(|source| RoleError::infer(origin, source))?;
        if model.input_shape() != wanted.as_slice() {
            return Err(SpeechModelError::InputShape {
                origin: origin_s(),
                model: model.input_shape().to_vec(),
                manifest: wanted,
                frames: input.frames,
                dims,
            });
        }
        ROLE.check_outputs(&model, manifest, origin)?;
        let extractor = FeatureExtractor::new(input.features.clone()).map_err(|source| {
            SpeechModelError::Input {
                origin: origin_s(),
                source,
            }
        })?;
        Ok(Self {
            model,
            label: format!("{}@{}", manifest.name, manifest.version),
            origin: origin_s(),
            input,
            labels,
            extractor,
            features: FeatureMatrix::default(),
        })
    }

    /// Whose kernels run the model and why (measured at load).
    pub fn plan(&self) -> &PlanChoice {
        &self.model.lowering().plan
    }

    /// The sample rate the model's features are computed at.
    pub fn sample_rate(&self) -> u32 {
        self.input.features.sample_rate
    }

    /// The features of a model window (exactly `input.window()` samples at the model's rate).
    pub fn features(&mut self, window: &[f32]) -> Result<&FeatureMatrix, SpeechModelError> {
        self.input
            .window_features(window, &mut self.extractor, &mut self.features)
            .map_err(|source| SpeechModelError::Input {
                origin: self.origin.clone(),
                source,
            })?;
        Ok(&self.features)
    }

    /// Runs the model on the features last computed by [`SpeechModel::features`].
    pub fn run_features(&mut self) -> Result<Vec<f32>, SpeechModelError> {
        self.model
            .run_first(&self.features.data)
            .map_err(|source| RoleError::infer(&self.origin, source).into())
    }

    /// Scores (in `labels` order) of a model window.
    pub fn scores(&mut self, window: &[f32]) -> Result<Vec<f32>, SpeechModelError> {
        self.features(window)?;
        self.run_features()
    }
}

/// How the listener cuts windows.
#[derive(Clone, Debug, PartialEq)]
pub struct ListenerConfig {
    /// Segments closer than this belong to one utterance, ms.
    pub utterance_gap_ms: u32,
    /// While an utterance goes on, the model hears its latest window this often, ms.
    pub hop_ms: u32,
    /// The first interim window waits for this much speech, ms.
    pub min_interim_ms: u32,
    /// Seconds of audio the ring keeps (at least the model's window; longer utterances keep
    /// their latest part).
    pub ring_secs: f32,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        Self {
            utterance_gap_ms: 800,
            hop_ms: 1000,
            min_interim_ms: 1000,
            ring_secs: 8.0,
        }
    }
}

/// A window the model should hear: its samples' span (sample positions since the microphone
/// started, at the microphone's rate) and whether the utterance has ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpeechWindow {
    pub span: Range<u64>,
    /// The utterance ended: this is its one window by the manifest's rule.
    pub last: bool,
}

/// Speech segments joined into one utterance.
#[derive(Clone, Copy, Debug)]
struct Utterance {
    /// First sample (exact once `heard`).
    start: u64,
    /// End of its last closed segment.
    end: u64,
    /// A segment of it has closed (the VAD kept it: not a click).
    heard: bool,
}

/// The microphone's recent samples and the speech in them.
pub struct Listener {
    rate: u32,
    config: ListenerConfig,
    ring: VecDeque<f32>,
    capacity: usize,
    /// Position of `ring[0]` since the microphone started.
    ring_start: u64,
    vad: Vad,
    segments: Vec<Range<u64>>,
    /// The utterance being heard.
    utterance: Option<Utterance>,
    /// Where the next interim window is due.
    next_interim: u64,
    /// Reused for the chunk being pushed and for the samples of a window.
    scratch: Vec<f32>,
}

impl Listener {
    /// A listener for a microphone at `rate` Hz whose model takes `window_secs` of audio.
    pub fn new(
        rate: u32,
        window_secs: f32,
        config: ListenerConfig,
    ) -> Result<Self, sentio_audio::AudioError> {
        let vad = Vad::new(&VadConfig::default(), rate)?;
        let secs = config.ring_secs.max(window_secs * 1.5 + 1.0);
        let capacity = (secs * rate as f32).ceil() as usize;
        Ok(Self {
            rate,
            config,
            ring: VecDeque::with_capacity(capacity),
            capacity,
            ring_start: 0,
            vad,
            segments: Vec::new(),
            utterance: None,
            next_interim: 0,
            scratch: Vec::new(),
        })
    }

    /// Whether the voice-activity detector hears speech now (the music ducks under it).
    pub fn hears_speech(&self) -> bool {
        self.vad.in_speech()
    }

    /// Samples pushed so far.
    pub fn position(&self) -> u64 {
        self.ring_start + self.ring.len() as u64
    }

    fn ms(&self, ms: u32) -> u64 {
        u64::from(ms) * u64::from(self.rate) / 1000
    }

    /// Feeds the microphone's samples; appends the windows now due to `windows`.
    pub fn push(&mut self, samples: &[i16], windows: &mut Vec<SpeechWindow>) {
        // f32 in -1..1, as the clip path reads a WAV: the VAD hears the chunk, the ring keeps it.
        self.scratch.clear();
        self.scratch
            .extend(samples.iter().map(|&s| f32::from(s) / 32768.0));
        let mut closed = std::mem::take(&mut self.segments);
        self.vad.push(&self.scratch, &mut closed);
        for &x in &self.scratch {
            if self.ring.len() == self.capacity {
                self.ring.pop_front();
                self.ring_start += 1;
            }
            self.ring.push_back(x);
        }
        let now = self.position();
        for segment in closed.drain(..) {
            match &mut self.utterance {
                Some(u) if u.heard => u.end = segment.end,
                // The first closed segment gives the utterance its true start.
                _ => {
                    self.utterance = Some(Utterance {
                        start: segment.start,
                        end: segment.end,
                        heard: true,
                    });
                }
            }
        }
        self.segments = closed;

        if self.vad.in_speech() && self.utterance.is_none() {
            // Speech began (its exact start is known when the segment closes): interim windows
            // are due from `min_interim_ms` on.
            self.utterance = Some(Utterance {
                start: now.saturating_sub(self.ms(VadConfig::default().min_speech_ms)),
                end: now,
                heard: false,
            });
            self.next_interim = now + self.ms(self.config.min_interim_ms);
        }
        let Some(u) = self.utterance else {
            return;
        };
        if !self.vad.in_speech() {
            if !u.heard {
                // The open segment was dropped (shorter than the VAD's minimum speech).
                self.utterance = None;
                return;
            }
            if now >= u.end + self.ms(self.config.utterance_gap_ms) {
                windows.push(SpeechWindow {
                    span: u.start.max(self.ring_start)..u.end,
                    last: true,
                });
                self.utterance = None;
                return;
            }
        }
        if now >= self.next_interim {
            windows.push(SpeechWindow {
                span: u.start.max(self.ring_start)..now,
                last: false,
            });
            self.next_interim = now + self.ms(self.config.hop_ms);
        }
    }

    /// The samples of `span` that the ring still holds (f32, -1..1).
    pub fn samples(&mut self, span: &Range<u64>) -> &[f32] {
        let from = span.start.max(self.ring_start) - self.ring_start;
        let to = (span.end.min(self.position()) - self.ring_start).max(from);
        self.scratch.clear();
        self.scratch
            .extend(self.ring.range(from as usize..to as usize).copied());
        &self.scratch
    }

    /// The model window for `window`: the utterance cut by the manifest's rule (last) or its
    /// latest `input.window()` samples (interim), resampled to the model's rate first.
    pub fn model_window(&mut self, window: &SpeechWindow, input: &SpeechInput) -> Vec<f32> {
        let rate = self.rate;
        let model_rate = input.features.sample_rate;
        let speech = self.samples(&window.span);
        let speech = if rate == model_rate {
            std::borrow::Cow::Borrowed(speech)
        } else {
            std::borrow::Cow::Owned(resample(speech, rate, model_rate))
        };
        if window.last {
            input.fit(&speech)
        } else {
            let n = input.window();
            input.fit(&speech[speech.len().saturating_sub(n)..])
        }
    }
}
