//! The seam between the device loop and what the device does with each frame.
//!
//! [`app::run`](crate::app::run) captures a frame and the audio since the last one, hands both to
//! a [`Pipeline`], lets it draw the screen, flushes the display and reports timings. The
//! pipelines: [`PreviewPipeline`] (camera preview, level meter) and [`FacePipeline`] (faces,
//! tracking and facial expression on top of the preview; the voice, mood and music stages plug
//! in beside it).

use std::time::Duration;

use embedded_graphics::prelude::*;
use sentio_hal::{Clock, Frame};
use sentio_infer::LoadOptions;
use sentio_ui::{FaceOverlay, Palette, PreviewScreen, PreviewStats};
use sentio_vision::VisionError;
use sentio_vision::face::{FaceBox, FaceDetector, Pixels, cut, downscale, face_crop};
use sentio_vision::track::{TrackChange, Tracker, TrackerConfig};

use crate::events::{Event, FaceState};
use crate::link::ModelRegistry;
use crate::models::ModelFile;
use sentio_vision::expression::ExpressionModel;

/// What a pipeline gets for one frame.
pub struct StepInput<'a> {
    pub frame: &'a Frame<'a>,
    /// The microphone's samples since the previous frame (mono, `sample_rate` Hz).
    pub audio: &'a [i16],
    pub sample_rate: u32,
    /// Frame number from 0, and its time since the loop started.
    pub index: u64,
    pub t_ms: f64,
    /// The frame's time on the camera's timeline (`index / fps`), which the audio follows
    /// exactly: the time base of the voice and the mood, the same at any pace.
    pub media_ms: u64,
    /// The clock's time now (the tracker's time base), and the clock to time stages with.
    pub now: Duration,
    pub clock: &'a dyn Clock,
}

/// One device app: looks at each frame (and its audio), reports what changed, draws the screen.
pub trait Pipeline {
    /// Processes one frame; events go to `emit`, on change only.
    fn step(&mut self, input: &StepInput<'_>, emit: &mut dyn FnMut(Event));

    /// Draws the screen for the frame just processed.
    fn draw<D>(
        &mut self,
        display: &mut D,
        frame: &Frame<'_>,
        status: &PreviewStats,
    ) -> Result<(), D::Error>
    where
        D: DrawTarget,
        D::Color: Palette;

    /// Time spent in each of the pipeline's own stages since the last call.
    fn take_stage_times(&mut self) -> Vec<(&'static str, Duration)> {
        Vec::new()
    }

    /// Figures over the whole run, for the `stop` event.
    fn stop_figures(&self) -> Vec<(&'static str, f64)> {
        Vec::new()
    }

    /// Fills `out` (interleaved, at the speaker's rate and channels) with what the speaker
    /// plays for the frame just processed; `false` when the pipeline plays nothing, and the
    /// speaker is then given nothing.
    fn sound(
        &mut self,
        _input: &StepInput<'_>,
        _out: &mut [i16],
        _emit: &mut dyn FnMut(Event),
    ) -> bool {
        false
    }

    /// Mixes a prompt sound (the start-up beep) into what [`Pipeline::sound`] plays; `false`
    /// when the pipeline has no mixer (the caller then writes it to the speaker itself).
    fn play_prompt(&mut self, _samples: &[i16], _sample_rate: u32) -> bool {
        false
    }
}

/// The camera preview, fitted to the panel, with the level meter and timings.
#[derive(Default)]
pub struct PreviewPipeline {
    screen: Option<PreviewScreen>,
}

/// The preview screen for this display and frame, made on the first draw.
fn screen_for<'s, D: DrawTarget>(
    screen: &'s mut Option<PreviewScreen>,
    display: &D,
    frame: &Frame<'_>,
) -> &'s mut PreviewScreen
where
    D::Color: Palette,
{
    screen.get_or_insert_with(|| {
        PreviewScreen::new(
            display.bounding_box().size,
            frame.width,
            frame.height,
            D::Color::LARGE,
        )
    })
}

impl Pipeline for PreviewPipeline {
    fn step(&mut self, _input: &StepInput<'_>, _emit: &mut dyn FnMut(Event)) {}

    fn draw<D>(
        &mut self,
        display: &mut D,
        frame: &Frame<'_>,
        status: &PreviewStats,
    ) -> Result<(), D::Error>
    where
        D: DrawTarget,
        D::Color: Palette,
    {
        screen_for(&mut self.screen, display, frame).draw(display, frame, status)
    }
}

/// Per-stage totals of the face pipeline.
#[derive(Default, Clone, Copy)]
struct FaceTimes {
    detect: Duration,
    track: Duration,
    crop: Duration,
    fer: Duration,
}

/// How the face pipeline is set up.
pub struct FaceSetup {
    /// The detector, or none (a refused cascade or model: the pipeline still tracks nothing
    /// and says so at start).
    pub detector: Option<Box<dyn FaceDetector>>,
    /// The detector sees the frame shrunk by this integer factor.
    pub downscale: u32,
    pub tracker: TrackerConfig,
    /// The expression model at start, if one loaded.
    pub expression: Option<ExpressionModel>,
    /// The models the host flashes; the active `fer` replaces the expression model.
    pub registry: Option<ModelRegistry>,
    /// How flashed models load (threads, runtime plan).
    pub load_options: LoadOptions,
}

/// The name of the expression model in the store and the profile.
pub const EXPRESSION_MODEL: &str = "fer";

/// Faces on the camera preview: detect (every few frames, on a shrunk frame), track the largest
/// face, crop it as the expression model's manifest says and read its expression.
pub struct FacePipeline {
    setup: FaceSetup,
    tracker: Tracker,
    /// The store bundle's SHA-256 last tried, so a refused one is not tried every frame.
    tried: Option<[u8; 32]>,
    /// The tracked face's last expression: (track, model, label, score).
    expression: Option<(u64, String, String, f32)>,
    screen: Option<PreviewScreen>,
    times: FaceTimes,
    detector_failed: bool,
    /// The last face crop and the scores read from it, kept in memory only until the next one
    /// (tests compare them with `sentio run`; nothing writes them anywhere).
    last_reading: Option<(image::RgbImage, Vec<f32>)>,
    /// The last search near the face found nothing: the next one covers the whole frame.
    search_whole_frame: bool,
    /// The expression model read the face during the last step.
    fresh: bool,
}

impl FacePipeline {
    pub fn new(setup: FaceSetup) -> Self {
        let tried = setup
            .registry
            .as_ref()
            .and_then(|r| r.get(EXPRESSION_MODEL))
            .map(|m| m.sha256);
        Self {
            tracker: Tracker::new(setup.tracker),
            setup,
            tried,
            expression: None,
            screen: None,
            times: FaceTimes::default(),
            detector_failed: false,
            last_reading: None,
            search_whole_frame: false,
            fresh: false,
        }
    }

    /// The last face crop the expression model read, and its fer7 scores.
    pub fn last_reading(&self) -> Option<(&image::RgbImage, &[f32])> {
        self.last_reading.as_ref().map(|(c, s)| (c, s.as_slice()))
    }

    /// The scores (fer7 order) the expression model read during the last step, if it ran.
    pub fn fresh_scores(&self) -> Option<&[f32]> {
        self.last_reading
            .as_ref()
            .filter(|_| self.fresh)
            .map(|(_, s)| s.as_slice())
    }

    /// The followed face's last expression: its top label and score.
    pub fn expression(&self) -> Option<(&str, f32)> {
        self.expression
            .as_ref()
            .map(|(_, _, label, score)| (label.as_str(), *score))
    }

    /// The face being followed.
    pub fn track(&self) -> Option<&sentio_vision::track::Track> {
        self.tracker.current()
    }

    /// The expression model running now (`name@version`).
    pub fn expression_model(&self) -> Option<&str> {
        self.setup.expression.as_ref().map(|m| m.label.as_str())
    }

    /// Loads a newly activated `fer` from the store; a refused one leaves the running model.
    fn poll_store(&mut self, emit: &mut dyn FnMut(Event)) {
        let Some(loaded) = self
            .setup
            .registry
            .as_ref()
            .and_then(|r| r.get(EXPRESSION_MODEL))
        else {
            return;
        };
        if self.tried == Some(loaded.sha256) {
            return;
        }
        self.tried = Some(loaded.sha256);
        let origin = format!("store:{EXPRESSION_MODEL}@{}", loaded.version);
        let loaded = ModelFile::from_bundle(&loaded.bundle, origin.clone())
            .and_then(|file| file.expression(&self.setup.load_options));
        match loaded {
            Ok(model) => {
                tracing::info!(model = %model.label, %origin, "expression model swapped in from the store");
                emit(Event::active("expression", &model));
                self.setup.expression = Some(model);
                // The next reading is the new model's, reported even if the label is the same.
                self.expression = None;
            }
            Err(e) => {
                tracing::warn!(%origin, error = %e, "new expression model refused; the running one stays");
                emit(
                    Event::refused("expression", &origin, &e)
                        .keeping(self.expression_model().map(str::to_string)),
                )
            }
        }
    }
}

impl Pipeline for FacePipeline {
    fn step(&mut self, input: &StepInput<'_>, emit: &mut dyn FnMut(Event)) {
        self.fresh = false;
        self.poll_store(emit);
        let clock = input.clock;
        let frame = input.frame;
        let Ok(pixels) = Pixels::new(
            frame.width,
            frame.height,
            frame.pixel_format.bytes_per_pixel(),
            frame.data,
        ) else {
            return;
        };

        let t0 = clock.now();
        let mut detections = None;
        if self.tracker.wants_detection()
            && let Some(detector) = self.setup.detector.as_mut()
        {
            let factor = self.setup.downscale.max(1);
            // Near the followed face: a region around it, and only face sizes close to its own.
            // Without a track (or after the region came up empty): the whole frame.
            let near = self
                .tracker
                .current()
                .filter(|_| !self.search_whole_frame)
                .map(|t| t.face.clone());
            let searched_near = near.is_some();
            let found = match near {
                Some(face) => search_near(detector.as_mut(), &pixels, &face, factor),
                None => search_frame(detector.as_mut(), &pixels, factor),
            };
            match found {
                Ok(faces) => {
                    self.search_whole_frame = searched_near && faces.is_empty();
                    detections = Some(faces);
                }
                Err(e) => {
                    if !self.detector_failed {
                        self.detector_failed = true;
                        emit(Event::refused("face detector", detector.name(), &e));
                    }
                }
            }
        }
        let t1 = clock.now();
        let detected = detections.is_some();
        for change in self.tracker.update(input.now, detections.as_deref()) {
            let (track, state, face) = match change {
                TrackChange::Started(t) => (t.id, FaceState::Started, t.face),
                TrackChange::Lost { id, face, .. } => {
                    self.expression = None;
                    (id, FaceState::Lost, face)
                }
            };
            emit(Event::Face {
                frame: input.index,
                t_ms: input.t_ms,
                track,
                state,
                x: round1(face.x),
                y: round1(face.y),
                w: round1(face.w),
                h: round1(face.h),
                score: round3f(face.score),
                // Named only when a track starts or ends, not on every frame.
                detector: self
                    .setup
                    .detector
                    .as_ref()
                    .map(|d| d.name().to_string())
                    .unwrap_or_default(),
            });
        }
        let t2 = clock.now();
        self.times.detect += t1 - t0;
        self.times.track += t2 - t1;

        // A fresh box from the detector: read the expression.
        let (Some(track), Some(model)) = (self.tracker.current(), self.setup.expression.as_mut())
        else {
            return;
        };
        if !detected {
            return;
        }
        let crop = face_crop(&pixels, &track.face, model.margin);
        let t3 = clock.now();
        let scores = model.scores(&crop);
        let t4 = clock.now();
        self.times.crop += t3 - t2;
        self.times.fer += t4 - t3;
        let scores = match scores {
            Ok(s) => s,
            Err(e) => {
                emit(Event::refused("expression", &model.origin, &e));
                self.setup.expression = None;
                return;
            }
        };
        let Some((top, score)) = sentio_vision::expression::top_label(&scores) else {
            return;
        };
        let id = track.id;
        let changed = self
            .expression
            .as_ref()
            .is_none_or(|(t, m, l, _)| *t != id || *m != model.label || l != top);
        if changed {
            emit(Event::Expression {
                frame: input.index,
                t_ms: input.t_ms,
                track: id,
                model: model.label.clone(),
                label: top.to_string(),
                score: round3f(score),
                scores: sentio_models::FER7
                    .labels
                    .iter()
                    .zip(&scores)
                    .map(|(l, s)| ((*l).to_string(), round3f(*s)))
                    .collect(),
            });
        }
        self.expression = Some((id, model.label.clone(), top.to_string(), score));
        self.last_reading = Some((crop, scores));
        self.fresh = true;
    }

    fn draw<D>(
        &mut self,
        display: &mut D,
        frame: &Frame<'_>,
        status: &PreviewStats,
    ) -> Result<(), D::Error>
    where
        D: DrawTarget,
        D::Color: Palette,
    {
        let screen = screen_for(&mut self.screen, display, frame);
        screen.draw(display, frame, status)?;
        if let Some(track) = self.tracker.current() {
            let f = &track.face;
            let overlay = FaceOverlay {
                x: f.x,
                y: f.y,
                w: f.w,
                h: f.h,
                label: self
                    .expression
                    .as_ref()
                    .map(|(_, _, label, score)| (label.as_str(), *score)),
            };
            screen.draw_face(display, frame.width, frame.height, &overlay)?;
        }
        Ok(())
    }

    fn take_stage_times(&mut self) -> Vec<(&'static str, Duration)> {
        let t = std::mem::take(&mut self.times);
        vec![
            ("detect_ms", t.detect),
            ("track_ms", t.track),
            ("crop_ms", t.crop),
            ("fer_ms", t.fer),
        ]
    }
}

/// The faces in the whole frame, shrunk by `factor` for the detector.
fn search_frame(
    detector: &mut dyn FaceDetector,
    pixels: &Pixels<'_>,
    factor: u32,
) -> Result<Vec<FaceBox>, VisionError> {
    if factor <= 1 {
        return detector.detect(pixels);
    }
    let (small, w, h) = downscale(pixels, factor);
    let faces = detector.detect(&Pixels::new(w, h, pixels.channels, &small)?)?;
    Ok(faces.iter().map(|f| f.scaled(factor as f32)).collect())
}

/// How far around the followed face the tracker looks, in face sides on each side.
const SEARCH_MARGIN: f32 = 0.5;
/// The sizes it accepts there, relative to the followed face.
const SEARCH_SIZES: (f32, f32) = (0.6, 1.6);

/// The faces near `face` (camera pixels): the region `SEARCH_MARGIN` sides around it, shrunk
/// by `factor`, searched for faces of 0.6 to 1.6 times its size. A Haar cascade then evaluates
/// a few scales over a small area instead of the whole pyramid over the frame.
fn search_near(
    detector: &mut dyn FaceDetector,
    pixels: &Pixels<'_>,
    face: &FaceBox,
    factor: u32,
) -> Result<Vec<FaceBox>, VisionError> {
    let side = face.w.max(face.h);
    let pad = side * SEARCH_MARGIN;
    let (region, [x0, y0, w, h]) = cut(
        pixels,
        [
            face.x - pad,
            face.y - pad,
            face.w + 2.0 * pad,
            face.h + 2.0 * pad,
        ],
    );
    if w == 0 || h == 0 {
        return Ok(Vec::new());
    }
    let region = Pixels::new(w, h, pixels.channels, &region)?;
    let f = factor.max(1);
    let (small, sw, sh) = if f > 1 {
        downscale(&region, f)
    } else {
        (region.data.to_vec(), w, h)
    };
    if sw == 0 || sh == 0 {
        return Ok(Vec::new());
    }
    let min_side = (side * SEARCH_SIZES.0 / f as f32).floor() as u32;
    let max_side = (side * SEARCH_SIZES.1 / f as f32).ceil() as u32;
    let faces = detector.detect_sized(
        &Pixels::new(sw, sh, pixels.channels, &small)?,
        min_side,
        max_side,
    )?;
    Ok(faces
        .iter()
        .map(|found| {
            let mut moved = found.scaled(f as f32);
            moved.x += x0 as f32;
            moved.y += y0 as f32;
            for k in &mut moved.keypoints {
                k[0] += x0 as f32;
                k[1] += y0 as f32;
            }
            moved
        })
        .collect())
}

fn round1(x: f32) -> f32 {
    (x * 10.0).round() / 10.0
}

/// Rounds a score to 3 decimals, as every event reports them.
pub(crate) fn round3f(x: f32) -> f32 {
    (x * 1000.0).round() / 1000.0
}

/// The device's pipelines, chosen by `--mode`.
pub enum DevicePipeline {
    Preview(PreviewPipeline),
    Faces(Box<FacePipeline>),
    Mood(Box<crate::mood::MoodPipeline>),
    Sketch(Box<crate::sketch::SketchPipeline>),
}

impl Pipeline for DevicePipeline {
    fn step(&mut self, input: &StepInput<'_>, emit: &mut dyn FnMut(Event)) {
        match self {
            Self::Preview(p) => p.step(input, emit),
            Self::Faces(p) => p.step(input, emit),
            Self::Mood(p) => p.step(input, emit),
            Self::Sketch(p) => p.step(input, emit),
        }
    }

    fn draw<D>(
        &mut self,
        display: &mut D,
        frame: &Frame<'_>,
        status: &PreviewStats,
    ) -> Result<(), D::Error>
    where
        D: DrawTarget,
        D::Color: Palette,
    {
        match self {
            Self::Preview(p) => p.draw(display, frame, status),
            Self::Faces(p) => p.draw(display, frame, status),
            Self::Mood(p) => p.draw(display, frame, status),
            Self::Sketch(p) => p.draw(display, frame, status),
        }
    }

    fn take_stage_times(&mut self) -> Vec<(&'static str, Duration)> {
        match self {
            Self::Preview(p) => p.take_stage_times(),
            Self::Faces(p) => p.take_stage_times(),
            Self::Mood(p) => p.take_stage_times(),
            Self::Sketch(p) => p.take_stage_times(),
        }
    }

    fn stop_figures(&self) -> Vec<(&'static str, f64)> {
        match self {
            Self::Preview(p) => p.stop_figures(),
            Self::Faces(p) => p.stop_figures(),
            Self::Mood(p) => p.stop_figures(),
            Self::Sketch(p) => p.stop_figures(),
        }
    }

    fn sound(
        &mut self,
        input: &StepInput<'_>,
        out: &mut [i16],
        emit: &mut dyn FnMut(Event),
    ) -> bool {
        match self {
            Self::Mood(p) => p.sound(input, out, emit),
            Self::Preview(_) | Self::Faces(_) | Self::Sketch(_) => false,
        }
    }

    fn play_prompt(&mut self, samples: &[i16], sample_rate: u32) -> bool {
        match self {
            Self::Mood(p) => p.play_prompt(samples, sample_rate),
            Self::Preview(_) | Self::Faces(_) | Self::Sketch(_) => false,
        }
    }
}
