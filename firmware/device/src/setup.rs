//! Building the pipelines from the board profile and the command line: the face detector, the
//! models, and what to say when one of them cannot be used.

use std::path::{Path, PathBuf};

use sentio_boards::{BoardProfile, FaceDetectorKind};
use sentio_vision::blazeface::{BlazeFace, BlazeFaceParams};
use sentio_vision::face::FaceDetector;
use sentio_vision::haar::{Cascade, HaarDetector, HaarParams};
use sentio_vision::track::TrackerConfig;

use crate::events::{Event, Refusal, RunningModel};
use crate::link::ModelRegistry;
use crate::models::{ModelFile, device_load_options, startup_path};
use crate::mood::{MoodPipeline, MoodSetup, SPEECH_MODEL};
use crate::pipeline::{EXPRESSION_MODEL, FacePipeline, FaceSetup};
use crate::voice::ListenerConfig;
use sentio_vision::expression::ExpressionModel;

/// What the command line changes about the face pipeline.
#[derive(Clone, Debug, Default)]
pub struct FaceOptions {
    /// `--detector`.
    pub detector: Option<FaceDetectorKind>,
    /// `--cascade FILE`.
    pub cascade: Option<PathBuf>,
    /// `--model NAME=PATH`, in the order given (the last one of a name wins).
    pub models: Vec<(String, PathBuf)>,
    /// `--debug-audio DIR`: the speech windows as WAV files (debugging only).
    pub debug_audio: Option<PathBuf>,
}

/// The detector the profile (or `--detector`) asks for.
pub fn open_detector(
    profile: &BoardProfile,
    options: &FaceOptions,
) -> Result<Box<dyn FaceDetector>, (String, Refusal)> {
    let faces = &profile.faces;
    match options.detector.unwrap_or(faces.detector) {
        FaceDetectorKind::Haar => {
            let path = options
                .cascade
                .clone()
                .unwrap_or_else(|| profile.resolve(&faces.cascade));
            let cascade = Cascade::from_file(&path)
                .map_err(|e| (path.display().to_string(), Refusal::of(&e)))?;
            let params = HaarParams {
                scale_factor: faces.scale_factor,
                min_neighbors: faces.min_neighbors,
                min_size: faces.min_size,
                max_size: 0,
            };
            Ok(Box::new(HaarDetector::new(cascade, params)))
        }
        FaceDetectorKind::Blazeface => {
            let path = startup_path(&options.models, DETECTOR_MODEL)
                .unwrap_or_else(|| profile.resolve(&faces.model));
            let load = device_load_options(&profile.runtime);
            BlazeFace::load(&path, BlazeFaceParams::default(), &load)
                .map(|d| Box::new(d) as Box<dyn FaceDetector>)
                .map_err(|e| (path.display().to_string(), Refusal::of(&e)))
        }
    }
}

/// The face pipeline for `profile`: detector, tracker and expression model, each from the
/// command line, the store or the profile. What cannot be used is reported as a
/// `model_refused` event and left out; the device runs on with the rest.
pub fn face_pipeline(
    profile: &BoardProfile,
    options: &FaceOptions,
    registry: Option<ModelRegistry>,
    emit: &mut dyn FnMut(Event),
) -> FacePipeline {
    let detector = match open_detector(profile, options) {
        Ok(d) => Some(d),
        Err((origin, why)) => {
            emit(Event::refused_for("face detector", &origin, why));
            None
        }
    };
    let load_options = device_load_options(&profile.runtime);
    let expression = expression_at_start(profile, options, registry.as_ref(), &load_options, emit);
    let faces = &profile.faces;
    FacePipeline::new(FaceSetup {
        detector,
        downscale: faces.downscale,
        tracker: TrackerConfig {
            detect_every: faces.detect_every,
            ..TrackerConfig::default()
        },
        expression,
        registry,
        load_options,
    })
}

/// The expression model to start with: `--model fer=PATH`, else the store's active `fer`, else
/// the shipped one in the profile's `models.dir`. The first that loads is used; each one
/// refused is reported.
fn expression_at_start(
    profile: &BoardProfile,
    options: &FaceOptions,
    registry: Option<&ModelRegistry>,
    load_options: &sentio_infer::LoadOptions,
    emit: &mut dyn FnMut(Event),
) -> Option<ExpressionModel> {
    model_at_start(
        profile,
        options,
        registry,
        EXPRESSION_MODEL,
        "expression",
        |file| file.expression(load_options),
        emit,
    )
}

/// The first of `--model NAME=PATH`, the store's active `NAME` and the shipped `NAME` that
/// `load` accepts; each one refused is reported as `model_refused`, the one used as
/// `model_active`.
#[allow(clippy::too_many_arguments)]
fn model_at_start<M: RunningModel>(
    profile: &BoardProfile,
    options: &FaceOptions,
    registry: Option<&ModelRegistry>,
    name: &str,
    role: &str,
    load: impl Fn(ModelFile) -> Result<M, crate::models::ModelError>,
    emit: &mut dyn FnMut(Event),
) -> Option<M> {
    // Each source with where it is, read only when the ones before it were refused.
    type Read<'a> = Box<dyn FnOnce() -> Result<ModelFile, crate::models::ModelError> + 'a>;
    let mut sources: Vec<(String, Read<'_>)> = Vec::new();
    if let Some(path) = startup_path(&options.models, name) {
        sources.push((
            path.display().to_string(),
            Box::new(move || ModelFile::read(&path)),
        ));
    }
    if let Some(stored) = registry.and_then(|r| r.get(name)) {
        let origin = format!("store:{name}@{}", stored.version);
        let named = origin.clone();
        sources.push((
            origin,
            Box::new(move || ModelFile::from_bundle(&stored.bundle, named)),
        ));
    }
    if let Some(dir) = &profile.models.dir {
        let dir = profile.resolve(dir);
        let shipped = name.to_string();
        sources.push((
            dir.join(name).join("model.onnx").display().to_string(),
            Box::new(move || ModelFile::shipped(&dir, &shipped)),
        ));
    }
    for (origin, read) in sources {
        match read().and_then(&load) {
            Ok(model) => {
                let active = Event::active(role, &model);
                tracing::info!(role, model = model.label(), origin = model.origin(), plan = %model.plan(), "pipeline: model loaded");
                emit(active);
                return Some(model);
            }
            Err(e) => {
                tracing::warn!(role, %origin, error = %e, "pipeline: model refused; trying the next source");
                emit(Event::refused(role, &origin, &e))
            }
        }
    }
    None
}

/// The mood pipeline for `profile`: the face pipeline, the speech model (`--model ser=PATH`,
/// the store's `ser`, or the shipped one) and the fusion with the profile's `[mood]`. A speech
/// model whose labels the `[mood]` tables cannot map is refused; the pipeline runs on the
/// face alone.
pub fn mood_pipeline(
    profile: &BoardProfile,
    options: &FaceOptions,
    registry: Option<ModelRegistry>,
    consent: Option<Box<dyn sentio_hal::PushButton>>,
    music: Option<crate::music::MusicSetup>,
    emit: &mut dyn FnMut(Event),
) -> MoodPipeline {
    let faces = face_pipeline(profile, options, registry.clone(), emit);
    let load_options = device_load_options(&profile.runtime);
    let speech = model_at_start(
        profile,
        options,
        registry.as_ref(),
        SPEECH_MODEL,
        "speech",
        |file| file.speech(&load_options),
        emit,
    );
    // A refusal hands the setup back (the faces move into each attempt): the next attempt
    // runs without the speech model, and the last with the default [mood], which the built-in
    // tables always fit (the profile's was checked against them when it loaded).
    let mut attempt = MoodSetup {
        faces,
        speech,
        listener: ListenerConfig::default(),
        mood: profile.mood.clone(),
        registry: registry.clone(),
        load_options: load_options.clone(),
        consent,
        debug_audio: options.debug_audio.clone(),
        music,
    };
    loop {
        let origin = attempt.speech.as_ref().map(|m| m.origin.clone());
        match MoodPipeline::new_or_back(attempt) {
            Ok(pipeline) => return pipeline,
            Err(failed) => {
                let (mut back, e) = *failed;
                let role = if back.speech.is_some() {
                    "speech"
                } else {
                    "mood"
                };
                let origin = origin.unwrap_or_else(|| "profile [mood]".into());
                emit(Event::refused(role, &origin, &e));
                if back.speech.is_none() {
                    back.mood = sentio_mood::MoodConfig::default();
                }
                back.speech = None;
                attempt = back;
            }
        }
    }
}

/// Frames between two captions of the scene in sketch mode.
const CAPTION_EVERY: u64 = 30;

/// The sketch pipeline for `profile`: the emoji model (`--model emoji=PATH`, the store's
/// `emoji`, or the shipped one) at the profile's precision, the pen input, the mood with the
/// profile's `[mood]`, and captions when an ANP tagger loads. What cannot be used is reported
/// and left out; without an emoji model the screen says so and nothing is read.
pub fn sketch_pipeline(
    profile: &BoardProfile,
    options: &FaceOptions,
    registry: Option<ModelRegistry>,
    pointer: Option<Box<dyn sentio_hal::Pointer>>,
    emit: &mut dyn FnMut(Event),
) -> crate::sketch::SketchPipeline {
    let load_options = device_load_options(&profile.runtime);
    let precision = match profile.runtime.precision {
        sentio_boards::Precision::F32 => sentio_infer::Precision::F32,
        sentio_boards::Precision::Int8 => sentio_infer::Precision::Int8,
        sentio_boards::Precision::Auto => sentio_infer::Precision::Auto,
    };
    let model = model_at_start(
        profile,
        options,
        registry.as_ref(),
        crate::sketch::SKETCH_MODEL,
        "emoji",
        |file| file.sketch(&load_options, precision),
        emit,
    );
    let tagger = model_at_start(
        profile,
        options,
        registry.as_ref(),
        crate::caption::ANP_MODEL,
        "anp",
        |file| file.anp(&load_options),
        emit,
    );
    // Captions count faces with the profile's detector when it opens; without one they speak
    // of one person.
    let captions = tagger.map(|tagger| {
        let detector = open_detector(profile, options).ok();
        crate::caption::SceneCaptions::new(tagger, detector, CAPTION_EVERY)
    });
    let mood = match sentio_mood::MoodEngine::new(
        &profile.mood,
        sentio_models::FER7.labels,
        sentio_models::SER8.labels,
        sentio_models::EMOJI8.labels,
    ) {
        Ok(engine) => Some(engine),
        Err(e) => {
            emit(Event::refused("mood", "profile [mood]", &e));
            None
        }
    };
    crate::sketch::SketchPipeline::new(crate::sketch::SketchSetup {
        model,
        pointer,
        idle: profile.pointer.idle(),
        mood,
        captions,
    })
}

/// Parses `NAME=PATH` (`--model`).
/// The face detector's name for `--model NAME=PATH` (BlazeFace).
pub const DETECTOR_MODEL: &str = "blazeface";

/// The names `--model NAME=PATH` takes: the expression and speech models, the BlazeFace face
/// detector, and sketch mode's emoji model and ANP tagger.
pub const STARTUP_MODEL_NAMES: [&str; 5] = [
    crate::pipeline::EXPRESSION_MODEL,
    crate::mood::SPEECH_MODEL,
    DETECTOR_MODEL,
    crate::sketch::SKETCH_MODEL,
    crate::caption::ANP_MODEL,
];

pub fn parse_model_arg(text: &str) -> Result<(String, PathBuf), String> {
    let (name, path) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not NAME=PATH (e.g. fer=models/zoo/fer/model.onnx)"))?;
    if name.is_empty() || path.is_empty() {
        return Err(format!("{text:?}: both NAME and PATH are needed"));
    }
    // A misspelt name would otherwise be ignored and the shipped model used without a word.
    if !STARTUP_MODEL_NAMES.contains(&name) {
        return Err(format!(
            "{name:?} is not a model sentiod runs; NAME is one of {}",
            STARTUP_MODEL_NAMES.join(", ")
        ));
    }
    Ok((name.to_string(), Path::new(path).to_path_buf()))
}
