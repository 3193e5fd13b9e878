//! Captions of the scene in sketch mode: every couple of seconds the ANP tagger scores the
//! camera picture, the face detector counts the people, and `sentio-caption` forces the top
//! adjective-noun pairs into a sentence with the drawn emoji's mood as the person's adjective.
//! A new sentence is a `caption` event and scrolls along the bottom of the screen.

use std::time::Duration;

use sentio_caption::{CaptionInput, Captioner};
use sentio_hal::{Frame, PixelFormat};
use sentio_models::ANP32;
use sentio_mood::Mood;
use sentio_vision::anp::{AnpTagger, top_k};
use sentio_vision::face::{FaceDetector, Pixels};

use crate::events::Event;
use crate::pipeline::{StepInput, round3f};

/// The ANP tagger's name in the store and the profile (`--model anp=PATH`).
pub const ANP_MODEL: &str = "anp";

/// Pairs reported with each caption.
const REPORTED: usize = 5;

pub struct SceneCaptions {
    tagger: AnpTagger,
    detector: Option<Box<dyn FaceDetector>>,
    captioner: Captioner,
    /// Frames between two captions.
    every: u64,
    shown: Option<(String, Duration)>,
    failed: bool,
}

impl SceneCaptions {
    /// Captions every `every` frames (at least 1); without a detector the scene is taken to
    /// hold one person (the visitor showing the drawing).
    pub fn new(tagger: AnpTagger, detector: Option<Box<dyn FaceDetector>>, every: u64) -> Self {
        Self {
            tagger,
            detector,
            captioner: Captioner::default(),
            every: every.max(1),
            shown: None,
            failed: false,
        }
    }

    /// The caption on show and how long it has been.
    pub fn shown(&self, now: Duration) -> Option<(&str, Duration)> {
        self.shown
            .as_ref()
            .map(|(text, since)| (text.as_str(), now.saturating_sub(*since)))
    }

    pub fn step(&mut self, input: &StepInput<'_>, mood: Option<Mood>, emit: &mut dyn FnMut(Event)) {
        if !input.index.is_multiple_of(self.every) {
            return;
        }
        let frame = input.frame;
        let Some(picture) = frame_rgb(frame) else {
            return;
        };
        let scores = match self.tagger.scores(&picture) {
            Ok(scores) => scores,
            Err(e) => {
                if !self.failed {
                    emit(Event::device_error("ANP tagger", &e));
                }
                self.failed = true;
                return;
            }
        };
        self.failed = false;
        let faces = match &mut self.detector {
            Some(detector) => Pixels::new(frame.width, frame.height, 3, picture.as_raw())
                .ok()
                .and_then(|pixels| detector.detect(&pixels).ok())
                .map_or(1, |found| found.len()),
            None => 1,
        };
        let ranked = top_k(&scores, ANP32.len());
        let caption = self.captioner.caption(&CaptionInput {
            faces,
            mood: mood.map(|m| m.as_str()),
            anps: &ranked,
        });
        if self
            .shown
            .as_ref()
            .is_some_and(|(text, _)| *text == caption.text)
        {
            return;
        }
        let label = |i: usize| ANP32.labels.get(i).copied().unwrap_or("?").to_string();
        emit(Event::Caption {
            frame: input.index,
            t_ms: input.t_ms,
            text: caption.text.clone(),
            faces,
            anps: ranked
                .iter()
                .take(REPORTED)
                .map(|&(i, s)| (label(i), round3f(s)))
                .collect(),
            forced: caption.forced.iter().map(|&i| label(i)).collect(),
            model: self.tagger.label.clone(),
        });
        self.shown = Some((caption.text, input.now));
    }
}

/// The frame as an RGB image (gray frames are spread over the three channels).
pub(crate) fn frame_rgb(frame: &Frame<'_>) -> Option<image::RgbImage> {
    let data = match frame.pixel_format {
        PixelFormat::Rgb888 => frame.data.to_vec(),
        PixelFormat::Gray8 => frame.data.iter().flat_map(|&v| [v, v, v]).collect(),
    };
    image::RgbImage::from_raw(frame.width, frame.height, data)
}
