//! How a clip, or the speech the device heard, becomes a speech model's input: one rule for the
//! trainer (`sentio train ser`), the evaluator (`sentio eval`, `sentio run`) and the device
//! (`sentiod`), recorded in the model's manifest and read back from it.
//!
//! 1. With `trim_silence`, the energy VAD ([`crate::vad`], default tuning) finds the speech and
//!    the clip is cut to the span from the start of its first speech segment to the end of its
//!    last (a clip where it finds none is kept whole). The device's streaming VAD finds the same
//!    segments on the same samples, so it hands [`SpeechInput::fit`] the same span.
//! 2. The speech is cut or zero-padded to the window of `(frames - 1) * hop_length` samples,
//!    which the extractor turns into exactly `frames` frames: a longer clip keeps its **middle**
//!    window, a shorter one is padded with digital silence **at the end**.
//! 3. The features of that window are computed in one `extract` call (the top-dB clip of the
//!    log-mel is relative to the window's loudest frame, the same on every path).

use std::ops::Range;

use sentio_models::Preprocessing;
use serde::{Deserialize, Serialize};

use crate::{AudioError, FeatureConfig, FeatureExtractor, FeatureMatrix, VadConfig, speech_span};

/// Where a clip's model window lies in it, in samples (see [`SpeechInput::place`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowPlace {
    /// The span the VAD kept (the whole clip without `trim_silence`).
    pub speech: Range<usize>,
    /// The clip samples in the window.
    pub clip: Range<usize>,
    /// Zeros appended after them to fill the window.
    pub padding: usize,
}

/// `kept` followed by `padding` zeros.
fn padded(kept: &[f32], padding: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(kept.len() + padding);
    out.extend_from_slice(kept);
    out.resize(kept.len() + padding, 0.0);
    out
}

/// The input rule of a speech model: its features, its frame count and whether silence is
/// trimmed first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpeechInput {
    /// The feature extractor's configuration.
    pub features: FeatureConfig,
    /// Frames per model input.
    pub frames: usize,
    /// Trim leading and trailing non-speech with the VAD first.
    pub trim_silence: bool,
}

impl SpeechInput {
    /// 300 frames (3 s) of the default features, silence trimmed: the zoo `ser` model's rule.
    pub fn ser8() -> Self {
        Self {
            features: FeatureConfig::default(),
            frames: 300,
            trim_silence: true,
        }
    }

    /// The rule a trained model's manifest records (`preprocessing.kind` = `audio_features`, the
    /// feature config under `extra.features`, `frames`, `extra.trim_silence` and the check value
    /// `extra.window_samples`), so evaluation and the device compute exactly what training did.
    pub fn from_manifest(preprocessing: &Preprocessing) -> Result<Self, AudioError> {
        let bad = |problem: String| AudioError::Manifest { problem };
        if preprocessing.kind != "audio_features" {
            return Err(bad(format!(
                "kind is `{}`, not `audio_features`: the model does not take speech features",
                preprocessing.kind
            )));
        }
        let features = preprocessing
            .extra
            .get("features")
            .ok_or_else(|| bad("no `features` (the feature configuration)".into()))?;
        let features: FeatureConfig = serde_json::from_value(features.clone())
            .map_err(|e| bad(format!("`features` is not a feature configuration: {e}")))?;
        features
            .validate()
            .map_err(|e| bad(format!("`features`: {e}")))?;
        let frames = preprocessing
            .frames
            .ok_or_else(|| bad("no `frames`".into()))? as usize;
        let trim_silence = match preprocessing.extra.get("trim_silence") {
            None => false,
            Some(v) => v
                .as_bool()
                .ok_or_else(|| bad(format!("`trim_silence` is {v}, not true or false")))?,
        };
        if frames == 0 {
            return Err(bad("`frames` is 0".into()));
        }
        let input = Self {
            features,
            frames,
            trim_silence,
        };
        if let Some(window) = preprocessing.extra.get("window_samples")
            && window.as_u64() != Some(input.window() as u64)
        {
            return Err(bad(format!(
                "`window_samples` is {window}, but {frames} frames of hop {} make {}",
                input.features.hop_length,
                input.window()
            )));
        }
        Ok(input)
    }

    /// Writes this rule into `preprocessing` the way [`SpeechInput::from_manifest`] reads it.
    pub fn record(&self, preprocessing: &mut Preprocessing) {
        preprocessing.kind = "audio_features".into();
        preprocessing.frames = Some(self.frames as u32);
        if let Ok(features) = serde_json::to_value(&self.features) {
            preprocessing.extra.insert("features".into(), features);
        }
        preprocessing
            .extra
            .insert("trim_silence".into(), self.trim_silence.into());
        preprocessing
            .extra
            .insert("window_samples".into(), (self.window() as u64).into());
    }

    /// Samples in one model window.
    pub fn window(&self) -> usize {
        self.frames.saturating_sub(1) * self.features.hop_length
    }

    /// The part of `samples` that is kept before the window is cut (the VAD's speech span, or
    /// everything).
    pub fn speech_span(&self, samples: &[f32]) -> Result<Range<usize>, AudioError> {
        if !self.trim_silence {
            return Ok(0..samples.len());
        }
        speech_span(samples, self.features.sample_rate, &VadConfig::default())
    }

    /// The samples of `speech` (already trimmed) that make the model window: its middle
    /// `window()` samples, or all of them when it is shorter (then followed by `padding` zeros).
    fn fit_range(&self, speech_len: usize) -> (Range<usize>, usize) {
        let n = self.window();
        if speech_len >= n {
            let start = (speech_len - n) / 2;
            (start..start + n, 0)
        } else {
            (0..speech_len, n - speech_len)
        }
    }

    /// The model window of `speech` (already trimmed): its middle `window()` samples, or the
    /// samples followed by zeros.
    pub fn fit(&self, speech: &[f32]) -> Vec<f32> {
        let (kept, padding) = self.fit_range(speech.len());
        padded(&speech[kept], padding)
    }

    /// Where the model window of a whole clip lies in it (what [`SpeechInput::window_of`] cuts).
    pub fn place(&self, samples: &[f32]) -> Result<WindowPlace, AudioError> {
        let speech = self.speech_span(samples)?;
        let (kept, padding) = self.fit_range(speech.len());
        Ok(WindowPlace {
            clip: speech.start + kept.start..speech.start + kept.end,
            speech,
            padding,
        })
    }

    /// The model window of a whole clip: trimmed, then [`SpeechInput::fit`].
    pub fn window_of(&self, samples: &[f32]) -> Result<Vec<f32>, AudioError> {
        self.window_and_place(samples).map(|(window, _)| window)
    }

    /// [`SpeechInput::window_of`] and where that window lies in the clip (one VAD run).
    pub fn window_and_place(&self, samples: &[f32]) -> Result<(Vec<f32>, WindowPlace), AudioError> {
        let place = self.place(samples)?;
        // The VAD's span, and so `clip`, lies within the samples.
        let window = padded(&samples[place.clip.clone()], place.padding);
        Ok((window, place))
    }

    /// The `frames x dims` features of a model window (see [`SpeechInput::fit`]), computed by
    /// `extractor`, which must have been made from `self.features`.
    pub fn window_features(
        &self,
        window: &[f32],
        extractor: &mut FeatureExtractor,
        out: &mut FeatureMatrix,
    ) -> Result<(), AudioError> {
        if extractor.config() != &self.features {
            return Err(AudioError::InvalidConfig {
                config: "FeatureConfig",
                field: "(whole)",
                problem: "differs from the model's: the extractor was made for another model"
                    .into(),
            });
        }
        extractor.extract_into(window, out);
        fit_frames(out, self.frames);
        Ok(())
    }

    /// The `frames x dims` features of a whole clip (mono, at the config's rate): trimmed, cut
    /// to the window, extracted.
    pub fn features(
        &self,
        samples: &[f32],
        extractor: &mut FeatureExtractor,
    ) -> Result<FeatureMatrix, AudioError> {
        let window = self.window_of(samples)?;
        let mut m = FeatureMatrix::default();
        self.window_features(&window, extractor, &mut m)?;
        Ok(m)
    }
}

/// Cuts `m` to its first `frames` rows or pads it with zero rows to `frames` (a guard: the
/// window of [`SpeechInput::window`] samples already gives exactly `frames`).
pub fn fit_frames(m: &mut FeatureMatrix, frames: usize) {
    m.data.resize(frames * m.dims, 0.0);
    m.frames = frames;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Faint white noise, uniform in -1e-3..1e-3.
    fn faint_noise(n: usize, rng: &mut sentio_rng::SplitMix64) -> Vec<f32> {
        (0..n).map(|_| rng.uniform(-1e-3, 1e-3)).collect()
    }

    #[test]
    fn windows_are_cut_in_the_middle_or_padded_at_the_end() -> Result<(), AudioError> {
        let input = SpeechInput {
            features: FeatureConfig::default(),
            frames: 11,
            trim_silence: false,
        };
        assert_eq!(input.window(), 1600);
        let long: Vec<f32> = (0..2000).map(|i| i as f32).collect();
        let w = input.window_of(&long)?;
        assert_eq!((w[0], w[1599]), (200.0, 1799.0));
        let place = input.place(&long)?;
        assert_eq!(w, long[place.clip.clone()]);
        assert_eq!(
            (place.speech, place.clip, place.padding),
            (0..2000, 200..1800, 0)
        );
        let short = vec![0.5f32; 100];
        let w = input.window_of(&short)?;
        assert_eq!(w.len(), 1600);
        assert_eq!((w[99], w[100]), (0.5, 0.0));
        let place = input.place(&short)?;
        assert_eq!(
            (place.speech, place.clip, place.padding),
            (0..100, 0..100, 1500)
        );
        let mut ex = FeatureExtractor::new(input.features.clone())?;
        let m = input.features(&long, &mut ex)?;
        assert_eq!((m.frames, m.dims, m.data.len()), (11, 117, 11 * 117));
        Ok(())
    }

    #[test]
    fn silence_is_trimmed_before_the_window_is_cut() -> Result<(), AudioError> {
        let sr = 16_000usize;
        // 1 s of faint noise, 0.5 s of a loud tone, 1 s of faint noise.
        let mut seed = sentio_rng::SplitMix64::new(3);
        let mut clip = faint_noise(sr, &mut seed);
        clip.extend((0..sr / 2).map(|i| 0.5 * (i as f32 * 0.2).sin()));
        clip.extend(faint_noise(sr, &mut seed));
        let input = SpeechInput::ser8();
        let span = input.speech_span(&clip)?;
        assert!(span.start.abs_diff(sr) < sr / 20, "{span:?}");
        assert!(span.end.abs_diff(sr * 3 / 2) < sr / 3, "{span:?}");
        let w = input.window_of(&clip)?;
        assert_eq!(w.len(), input.window());
        // The window is the speech span, then zeros: `place` says the same.
        let place = input.place(&clip)?;
        assert_eq!((&place.speech, &place.clip), (&span, &span));
        assert_eq!(place.padding, input.window() - span.len());
        assert_eq!(w[..span.len()], clip[span.clone()]);
        // The tone comes first, then the padding.
        assert!(w[..sr / 4].iter().any(|v| v.abs() > 0.4));
        assert!(w[w.len() - 1000..].iter().all(|v| *v == 0.0));
        Ok(())
    }

    #[test]
    fn an_extractor_of_another_config_is_refused() -> Result<(), AudioError> {
        let input = SpeechInput::ser8();
        let other = FeatureConfig {
            n_mfcc: 20,
            ..FeatureConfig::default()
        };
        let mut ex = FeatureExtractor::new(other)?;
        assert!(input.features(&[0.0; 100], &mut ex).is_err());
        Ok(())
    }

    #[test]
    fn the_input_rule_comes_back_from_the_manifest_and_bad_ones_are_named() {
        let input = SpeechInput::ser8();
        let recorded = |input: &SpeechInput| {
            let mut p = Preprocessing::default();
            input.record(&mut p);
            p
        };
        assert_eq!(
            SpeechInput::from_manifest(&recorded(&input)).ok(),
            Some(input.clone())
        );

        let err = |p: &Preprocessing| match SpeechInput::from_manifest(p) {
            Ok(_) => String::from("accepted"),
            Err(e) => e.to_string(),
        };
        assert!(err(&Preprocessing::gray48()).contains("not `audio_features`"));
        let mut p = recorded(&input);
        p.extra.remove("features");
        assert!(err(&p).contains("no `features`"));
        let mut p = recorded(&input);
        p.frames = None;
        assert!(err(&p).contains("no `frames`"));
        let mut p = recorded(&input);
        p.extra.insert("trim_silence".into(), "yes".into());
        assert!(err(&p).contains("not true or false"));
        // A window that does not match frames x hop: the manifest is not this rule's.
        let mut p = recorded(&input);
        p.frames = Some(200);
        assert!(err(&p).contains("`window_samples`"), "{}", err(&p));
    }
}
