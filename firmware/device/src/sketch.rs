//! `--mode sketch`: a visitor shows the device how they feel by drawing an emoji, on a card held
//! up to the camera or on the touch panel. The device reads it with the emoji model, shows the
//! emoji (drawn) and its confidence, emits an `emoji` event when what it reads changes, and feeds
//! the emoji into the mood through the profile's emoji8 -> mood table. With an ANP tagger it
//! also captions the scene (`caption` events and a scrolling line).
//!
//! A camera reading must be the same on two looks in a row before it is shown (a card moving
//! into view blurs); a touch drawing is read once, when the pen has been up for the profile's
//! idle time, and stays on show a while before the camera takes over again.

use std::time::Duration;

use embedded_graphics::prelude::*;
use sentio_diagnostics::Diagnostic;
use sentio_hal::{Frame, Pointer, PointerEvent, StrokeCollector};
use sentio_mood::{Mood, MoodEngine};
use sentio_ui::{Palette, PreviewStats, SketchScreen, SketchState, SketchView};
use sentio_vision::sketch::{SketchModel, SketchReading};

use crate::caption::SceneCaptions;
use crate::events::Event;
use crate::pipeline::{Pipeline, StepInput, round3f};

/// The emoji model's name in the store and the profile (`--model emoji=PATH`).
pub const SKETCH_MODEL: &str = "emoji";

/// Frames between two looks for a card.
const READ_EVERY: u64 = 3;
/// Equal camera readings in a row before one is shown.
const STABLE_READS: u32 = 2;
/// How long a touch drawing's emoji stays on show before the camera is read again.
const TOUCH_HOLD: Duration = Duration::from_secs(8);

/// What the sketch pipeline is built from.
pub struct SketchSetup {
    pub model: Option<SketchModel>,
    pub pointer: Option<Box<dyn Pointer>>,
    /// Pen-up time that ends a touch drawing.
    pub idle: Duration,
    /// The fused mood, with the profile's `[mood]` (the emoji is its only input here).
    pub mood: Option<MoodEngine>,
    pub captions: Option<SceneCaptions>,
}

/// Where a reading came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Camera,
    Touch,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Camera => "camera",
            Source::Touch => "touch",
        }
    }
}

/// The reading on show.
#[derive(Clone, Debug, PartialEq)]
struct Shown {
    reading: SketchReading,
    source: Source,
    mood: Option<Mood>,
}

pub struct SketchPipeline {
    setup: SketchSetup,
    collector: StrokeCollector,
    events: Vec<PointerEvent>,
    shown: Option<Shown>,
    /// The last camera reading's key and how many looks in a row gave it.
    pending: Option<(String, u32)>,
    touch_until: Option<Duration>,
    pointer_failed: bool,
    model_failed: bool,
    screen: Option<SketchScreen>,
    sketch_time: Duration,
    caption_time: Duration,
    reads: u64,
    now: Duration,
}

/// `emoji/winking`, `no_card`, ...: equal keys are the same thing to show.
fn key(reading: &SketchReading) -> String {
    match reading {
        SketchReading::Emoji { label, .. } => format!("emoji/{label}"),
        other => other.kind().to_string(),
    }
}

impl SketchPipeline {
    pub fn new(setup: SketchSetup) -> Self {
        Self {
            collector: StrokeCollector::new(setup.idle),
            setup,
            events: Vec::new(),
            shown: None,
            pending: None,
            touch_until: None,
            pointer_failed: false,
            model_failed: false,
            screen: None,
            sketch_time: Duration::ZERO,
            caption_time: Duration::ZERO,
            reads: 0,
            now: Duration::ZERO,
        }
    }

    /// The emoji model running (`name@version`).
    pub fn model(&self) -> Option<&str> {
        self.setup.model.as_ref().map(|m| m.label.as_str())
    }

    fn read_touch(&mut self, input: &StepInput<'_>, emit: &mut dyn FnMut(Event)) {
        let Some(pointer) = self.setup.pointer.as_mut() else {
            return;
        };
        self.events.clear();
        if let Err(e) = pointer.poll(input.now, &mut self.events) {
            // Said once; a touch panel that comes back is read again.
            if !self.pointer_failed {
                emit(Event::device_error("pointer", &e));
            }
            self.pointer_failed = true;
            return;
        }
        self.pointer_failed = false;
        for event in &self.events {
            self.collector.push(event, input.now);
        }
        let Some(drawing) = self.collector.take_drawing(input.now) else {
            return;
        };
        let Some(model) = self.setup.model.as_mut() else {
            return;
        };
        let start = input.clock.now();
        let reading = model.read_strokes(&drawing);
        self.sketch_time += input.clock.now().saturating_sub(start);
        match reading {
            Ok(reading) => {
                self.touch_until = Some(input.now + TOUCH_HOLD);
                self.pending = None;
                self.show(reading, Source::Touch, input, emit);
            }
            Err(e) => self.model_error(&e, emit),
        }
    }

    fn read_camera(&mut self, input: &StepInput<'_>, emit: &mut dyn FnMut(Event)) {
        if self.touch_until.is_some_and(|until| input.now < until)
            || !input.index.is_multiple_of(READ_EVERY)
        {
            return;
        }
        let Some(model) = self.setup.model.as_mut() else {
            return;
        };
        let start = input.clock.now();
        let reading = crate::caption::frame_rgb(input.frame).map(|rgb| model.read_frame(&rgb));
        self.sketch_time += input.clock.now().saturating_sub(start);
        self.reads += 1;
        let reading = match reading {
            Some(Ok(reading)) => reading,
            Some(Err(e)) => return self.model_error(&e, emit),
            None => return,
        };
        let k = key(&reading);
        let count = match &self.pending {
            Some((pending, n)) if *pending == k => n + 1,
            _ => 1,
        };
        self.pending = Some((k, count));
        if count >= STABLE_READS {
            self.show(reading, Source::Camera, input, emit);
        }
    }

    fn model_error(&mut self, error: &dyn Diagnostic, emit: &mut dyn FnMut(Event)) {
        if !self.model_failed {
            emit(Event::device_error("emoji model", error));
        }
        self.model_failed = true;
    }

    /// Shows `reading`; a change of what is shown is an `emoji` event, and an emoji feeds the
    /// mood.
    fn show(
        &mut self,
        reading: SketchReading,
        source: Source,
        input: &StepInput<'_>,
        emit: &mut dyn FnMut(Event),
    ) {
        self.model_failed = false;
        let changed = self
            .shown
            .as_ref()
            .is_none_or(|s| key(&s.reading) != key(&reading) || s.source != source);
        let mut mood = None;
        if let (SketchReading::Emoji { index, scores, .. }, Some(engine)) =
            (&reading, &mut self.setup.mood)
            && engine.observe_emoji(input.media_ms, scores).is_ok()
        {
            mood = engine
                .table(sentio_mood::Modality::Emoji)
                .moods()
                .get(*index)
                .copied();
        }
        if changed {
            let (label, score) = match &reading {
                SketchReading::Emoji { label, score, .. } => {
                    (Some((*label).to_string()), Some(round3f(*score)))
                }
                _ => (None, None),
            };
            emit(Event::Emoji {
                frame: input.index,
                t_ms: input.t_ms,
                source: source.as_str().into(),
                state: reading.kind().into(),
                label,
                score,
                mood: mood.map(|m| m.as_str().to_string()),
                model: self.model().unwrap_or_default().to_string(),
            });
        }
        self.shown = Some(Shown {
            reading,
            source,
            mood,
        });
    }
}

impl Pipeline for SketchPipeline {
    fn step(&mut self, input: &StepInput<'_>, emit: &mut dyn FnMut(Event)) {
        self.now = input.now;
        self.read_touch(input, emit);
        self.read_camera(input, emit);
        if let Some(engine) = self.setup.mood.as_mut() {
            let update = engine.update(input.media_ms);
            if update.changed {
                emit(crate::mood::mood_event(input, &update));
            }
        }
        if let Some(captions) = self.setup.captions.as_mut() {
            let start = input.clock.now();
            let mood = self.shown.as_ref().and_then(|s| s.mood);
            captions.step(input, mood, emit);
            self.caption_time += input.clock.now().saturating_sub(start);
        }
    }

    fn draw<D>(
        &mut self,
        display: &mut D,
        _frame: &Frame<'_>,
        _status: &PreviewStats,
    ) -> Result<(), D::Error>
    where
        D: DrawTarget,
        D::Color: Palette,
    {
        let screen = self
            .screen
            .get_or_insert_with(|| SketchScreen::new(display.bounding_box().size, D::Color::LARGE));
        let state = match &self.shown {
            None => SketchState::Waiting,
            Some(shown) => match &shown.reading {
                SketchReading::Emoji {
                    index,
                    label,
                    score,
                    ..
                } => SketchState::Emoji {
                    index: *index,
                    label,
                    score: *score,
                    mood: shown.mood,
                },
                SketchReading::NoCard => SketchState::NoCard,
                SketchReading::TwoCards => SketchState::TwoCards,
                SketchReading::Blank => SketchState::Blank,
            },
        };
        let caption = self.setup.captions.as_ref().and_then(|c| c.shown(self.now));
        screen.draw(
            display,
            &SketchView {
                state,
                touch: self.setup.pointer.is_some() && self.setup.model.is_some(),
                caption,
            },
        )
    }

    fn take_stage_times(&mut self) -> Vec<(&'static str, Duration)> {
        let times = vec![
            ("sketch_ms", self.sketch_time),
            ("caption_ms", self.caption_time),
        ];
        self.sketch_time = Duration::ZERO;
        self.caption_time = Duration::ZERO;
        times
    }

    fn stop_figures(&self) -> Vec<(&'static str, f64)> {
        vec![("card_reads", self.reads as f64)]
    }
}
