//! `MoodEngine`: face + voice + sketch readings in, one mood out. Deterministic: the time is an
//! argument (`t_ms` on the device's clock), there is no clock or I/O here.
//!
//! Per update at time `t`, for each modality with a latest reading taken at `r`:
//!
//! ```text
//! freshness  = max(0, 1 - (t - r) / stale_ms)
//! confidence = top score of the reading, or 0 if it is below min_confidence
//! weight     = configured weight * confidence * freshness
//! fused      = sum(weight * projected scores) / sum(weight)   (idle mood one-hot if the sum is 0)
//! smoothed  += (1 - exp(-dt / smoothing_ms)) * (fused - smoothed)   (dt since the last update)
//! ```
//!
//! The mood becomes the smoothed argmax only when its smoothed score is at least `hysteresis`
//! above the current mood's and `min_dwell_ms` has passed since the last change.

use crate::error::MoodError;
use crate::{Modality, Mood, MoodConfig, MoodTable};

/// One modality's part in a [`MoodUpdate`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Contribution {
    /// The weight it had in the fusion: configured weight x confidence x freshness.
    pub weight: f32,
    /// Its share of the total weight, 0 to 1 (0 for every modality when none counts).
    pub share: f32,
    /// The latest reading's top score, or 0 if that is below `min_confidence` (or never seen).
    pub confidence: f32,
    /// 1 for a reading taken now, falling linearly to 0 at the modality's `*_stale_ms`.
    pub freshness: f32,
    /// Milliseconds since the latest reading; `None` if the modality was never seen.
    pub age_ms: Option<u64>,
    /// The mood the latest reading points to (its projected argmax); `None` if never seen.
    pub mood: Option<Mood>,
}

/// What one [`MoodEngine::update`] decided.
#[derive(Clone, Debug, PartialEq)]
pub struct MoodUpdate {
    /// The time passed to `update`.
    pub t_ms: u64,
    /// The current mood (after this update).
    pub mood: Mood,
    /// True only on the update that changed the mood.
    pub changed: bool,
    /// The mood before, when `changed`.
    pub previous: Option<Mood>,
    /// True when no modality counted, so the fusion's target was the idle mood.
    pub idle: bool,
    /// This update's fused scores, in [`Mood`] order.
    pub fused: [f32; Mood::COUNT],
    /// The smoothed scores the decision was made on, in [`Mood`] order.
    pub smoothed: [f32; Mood::COUNT],
    /// Each modality's part, indexed by [`Modality::index`].
    pub contributions: [Contribution; Modality::COUNT],
}

impl MoodUpdate {
    /// The part `modality` played.
    pub fn contribution(&self, modality: Modality) -> &Contribution {
        &self.contributions[modality.index()]
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Reading {
    t_ms: u64,
    projected: [f32; Mood::COUNT],
    top: f32,
}

/// The fusion state machine (see the module documentation for the formula).
#[derive(Clone, Debug, PartialEq)]
pub struct MoodEngine {
    config: MoodConfig,
    idle: Mood,
    tables: [MoodTable; Modality::COUNT],
    readings: [Option<Reading>; Modality::COUNT],
    smoothed: [f32; Mood::COUNT],
    mood: Mood,
    last_update: Option<u64>,
    last_change: Option<u64>,
}

impl MoodEngine {
    /// An engine for a face model with `face_labels`, a voice model with `voice_labels` and a
    /// sketch model with `emoji_labels` (each as its manifest lists them, in output order; pass
    /// the built-in set's labels, e.g. `sentio_models::SER8.labels`, for a model the device
    /// does not have). Checks `config` and builds each table from the built-in one of its set
    /// (`fer7`, `ser8`, `emoji8`) with the config's overrides.
    pub fn new<F: AsRef<str>, V: AsRef<str>, E: AsRef<str>>(
        config: &MoodConfig,
        face_labels: &[F],
        voice_labels: &[V],
        emoji_labels: &[E],
    ) -> Result<MoodEngine, MoodError> {
        config.validate()?;
        let face = config.table(Modality::Face, face_labels)?;
        let voice = config.table(Modality::Voice, voice_labels)?;
        let emoji = config.table(Modality::Emoji, emoji_labels)?;
        MoodEngine::with_tables(config, face, voice, emoji)
    }

    /// An engine for models with exactly the built-in label sets (`fer7`, `ser8`, `emoji8`).
    pub fn with_builtin_labels(config: &MoodConfig) -> Result<MoodEngine, MoodError> {
        MoodEngine::new(
            config,
            sentio_models::FER7.labels,
            sentio_models::SER8.labels,
            sentio_models::EMOJI8.labels,
        )
    }

    /// An engine with tables built by the caller (the config's overrides are checked but not
    /// applied to them).
    pub fn with_tables(
        config: &MoodConfig,
        face: MoodTable,
        voice: MoodTable,
        emoji: MoodTable,
    ) -> Result<MoodEngine, MoodError> {
        config.validate()?;
        let idle = config.idle()?;
        Ok(MoodEngine {
            config: config.clone(),
            idle,
            tables: [face, voice, emoji],
            readings: [None; Modality::COUNT],
            smoothed: one_hot(idle),
            mood: idle,
            last_update: None,
            last_change: None,
        })
    }

    /// Replaces the table of `modality` with one for a model with `labels` (after a model swap)
    /// and forgets that modality's latest reading. On an error nothing changes.
    pub fn set_labels<L: AsRef<str>>(
        &mut self,
        modality: Modality,
        labels: &[L],
    ) -> Result<(), MoodError> {
        let table = self.config.table(modality, labels)?;
        self.tables[modality.index()] = table;
        self.readings[modality.index()] = None;
        Ok(())
    }

    /// A face reading taken at `t_ms`: the expression model's scores, in its label order.
    pub fn observe_face(&mut self, t_ms: u64, scores: &[f32]) -> Result<(), MoodError> {
        self.observe(Modality::Face, t_ms, scores)
    }

    /// A voice reading taken at `t_ms`: the speech model's scores, in its label order.
    pub fn observe_voice(&mut self, t_ms: u64, scores: &[f32]) -> Result<(), MoodError> {
        self.observe(Modality::Voice, t_ms, scores)
    }

    /// A sketch reading taken at `t_ms`: the emoji model's scores, in its label order.
    pub fn observe_emoji(&mut self, t_ms: u64, scores: &[f32]) -> Result<(), MoodError> {
        self.observe(Modality::Emoji, t_ms, scores)
    }

    /// A reading of `modality` taken at `t_ms`. It replaces that modality's previous reading
    /// (the latest call wins). Scores of the wrong length, NaN, infinite, negative or above 1
    /// are refused and nothing changes.
    pub fn observe(
        &mut self,
        modality: Modality,
        t_ms: u64,
        scores: &[f32],
    ) -> Result<(), MoodError> {
        let table = &self.tables[modality.index()];
        let source = format!("{modality} scores ({} model)", table.set());
        table.check_scores(&source, scores)?;
        let top = scores.iter().copied().fold(0.0f32, f32::max);
        self.readings[modality.index()] = Some(Reading {
            t_ms,
            projected: table.project_unchecked(scores),
            top,
        });
        Ok(())
    }

    /// Fuses, smooths and decides at `t_ms`; call it once per frame. Time going backwards is
    /// treated as no time passing.
    pub fn update(&mut self, t_ms: u64) -> MoodUpdate {
        let dt = self.last_update.map_or(0, |last| t_ms.saturating_sub(last));
        let min_confidence = self.config.min_confidence;

        let mut contributions = [Contribution::default(); Modality::COUNT];
        let mut total = 0.0f32;
        let mut sum = [0.0f32; Mood::COUNT];
        for modality in Modality::ALL {
            let Some(reading) = &self.readings[modality.index()] else {
                continue;
            };
            let age = t_ms.saturating_sub(reading.t_ms);
            let freshness = freshness(age, self.config.stale_ms(modality));
            let confidence = if reading.top >= min_confidence {
                reading.top
            } else {
                0.0
            };
            let weight = self.config.weight(modality) * confidence * freshness;
            for (s, p) in sum.iter_mut().zip(&reading.projected) {
                *s += weight * p;
            }
            total += weight;
            contributions[modality.index()] = Contribution {
                weight,
                share: 0.0,
                confidence,
                freshness,
                age_ms: Some(age),
                mood: Some(argmax(&reading.projected, None)),
            };
        }

        let idle = total <= 0.0;
        let fused = if idle {
            one_hot(self.idle)
        } else {
            for c in &mut contributions {
                c.share = c.weight / total;
            }
            sum.map(|s| s / total)
        };

        if self.config.smoothing_ms == 0 {
            self.smoothed = fused;
        } else {
            let alpha = (1.0 - (-(dt as f64) / self.config.smoothing_ms as f64).exp()) as f32;
            for (s, f) in self.smoothed.iter_mut().zip(&fused) {
                *s += alpha * (f - *s);
            }
        }

        let current = self.mood;
        let best = argmax(&self.smoothed, Some(current));
        let lead = self.smoothed[best.index()] - self.smoothed[current.index()];
        let dwelt = self
            .last_change
            .is_none_or(|c| t_ms.saturating_sub(c) >= self.config.min_dwell_ms);
        let changed = best != current && lead >= self.config.hysteresis && dwelt;
        if changed {
            self.mood = best;
            self.last_change = Some(t_ms);
        }
        self.last_update = Some(self.last_update.map_or(t_ms, |last| last.max(t_ms)));

        MoodUpdate {
            t_ms,
            mood: self.mood,
            changed,
            previous: changed.then_some(current),
            idle,
            fused,
            smoothed: self.smoothed,
            contributions,
        }
    }

    /// The current mood.
    pub fn mood(&self) -> Mood {
        self.mood
    }

    /// The smoothed scores as of the last update, in [`Mood`] order.
    pub fn smoothed(&self) -> &[f32; Mood::COUNT] {
        &self.smoothed
    }

    /// When the mood last changed (`None` before the first change).
    pub fn last_change_ms(&self) -> Option<u64> {
        self.last_change
    }

    /// The settings the engine runs with.
    pub fn config(&self) -> &MoodConfig {
        &self.config
    }

    /// The table `modality`'s scores go through.
    pub fn table(&self, modality: Modality) -> &MoodTable {
        &self.tables[modality.index()]
    }
}

/// 1 at age 0, falling linearly to 0 at `stale_ms` (and 0 beyond).
fn freshness(age_ms: u64, stale_ms: u64) -> f32 {
    if age_ms >= stale_ms {
        0.0
    } else {
        (1.0 - age_ms as f64 / stale_ms as f64) as f32
    }
}

fn one_hot(mood: Mood) -> [f32; Mood::COUNT] {
    let mut out = [0.0; Mood::COUNT];
    out[mood.index()] = 1.0;
    out
}

/// The mood with the highest score; ties go to `prefer`, then to the lower index.
fn argmax(scores: &[f32; Mood::COUNT], prefer: Option<Mood>) -> Mood {
    let mut best = prefer.unwrap_or(Mood::Neutral);
    for mood in Mood::ALL {
        if scores[mood.index()] > scores[best.index()] {
            best = mood;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentio_models::{FER7, SER8};

    const EPS: f32 = 1e-5;

    /// fer7 scores with `p` on `label` and the rest spread evenly over the others.
    fn face(label: &str, p: f32) -> Vec<f32> {
        spread(FER7.labels, label, p)
    }

    /// ser8 scores with `p` on `label` and the rest spread evenly over the others.
    fn voice(label: &str, p: f32) -> Vec<f32> {
        spread(SER8.labels, label, p)
    }

    fn spread(labels: &[&str], label: &str, p: f32) -> Vec<f32> {
        let rest = (1.0 - p) / (labels.len() - 1) as f32;
        labels
            .iter()
            .map(|l| if *l == label { p } else { rest })
            .collect()
    }

    /// Scores from (label, score) pairs, 0 elsewhere.
    fn scores(labels: &[&str], pairs: &[(&str, f32)]) -> Vec<f32> {
        labels
            .iter()
            .map(|l| pairs.iter().find(|(k, _)| k == l).map_or(0.0, |(_, v)| *v))
            .collect()
    }

    fn engine(config: &MoodConfig) -> MoodEngine {
        MoodEngine::with_builtin_labels(config).expect("valid config")
    }

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < EPS
    }

    #[test]
    fn starts_idle_with_no_change_event() {
        let mut e = engine(&MoodConfig::default());
        assert_eq!(e.mood(), Mood::Neutral);
        let u = e.update(0);
        assert_eq!(u.mood, Mood::Neutral);
        assert!(!u.changed && u.previous.is_none() && u.idle);
        assert_eq!(u.fused, one_hot(Mood::Neutral));
        assert_eq!(u.contributions, [Contribution::default(); 3]);
        let u = e.update(10_000);
        assert!(!u.changed);

        let calm = MoodConfig {
            idle_mood: "calm".into(),
            ..MoodConfig::default()
        };
        let mut e = engine(&calm);
        assert_eq!(e.mood(), Mood::Calm);
        assert!(!e.update(0).changed);
    }

    #[test]
    fn a_stale_face_drops_out_and_the_voice_alone_decides() {
        let mut e = engine(&MoodConfig::default());
        e.observe_face(0, &face("happy", 0.9)).expect("ok");
        let mut last = None;
        for t in (0..=3000).step_by(500) {
            e.observe_voice(t, &voice("sad", 0.8)).expect("ok");
            let u = e.update(t);
            let f = *u.contribution(Modality::Face);
            let v = *u.contribution(Modality::Voice);
            assert_eq!(f.age_ms, Some(t));
            assert_eq!(v.age_ms, Some(0));
            assert!(close(v.weight, 0.8) && close(v.freshness, 1.0));
            let want_fresh = (1.0 - t as f32 / 2000.0).max(0.0);
            assert!(close(f.freshness, want_fresh), "t={t}: {f:?}");
            assert!(close(f.weight, 0.9 * want_fresh), "t={t}: {f:?}");
            assert!(close(f.share + v.share, 1.0));
            last = Some(u);
        }
        // From 2000 ms on the face is stale: weight 0, the fused scores are the voice's own.
        let u = last.expect("ran");
        assert_eq!(u.contribution(Modality::Face).weight, 0.0);
        assert_eq!(u.contribution(Modality::Face).mood, Some(Mood::Happy));
        let want = MoodTable::ser8().project(&voice("sad", 0.8)).expect("ok");
        for (a, b) in u.fused.iter().zip(want) {
            assert!(close(*a, b), "{:?} vs {want:?}", u.fused);
        }
    }

    #[test]
    fn a_silent_voice_drops_out_after_voice_stale_ms() {
        let mut e = engine(&MoodConfig::default());
        e.observe_voice(0, &voice("angry", 0.7)).expect("ok");
        for t in (0..=7000).step_by(1000) {
            e.observe_face(t, &face("happy", 0.9)).expect("ok");
            let u = e.update(t);
            let v = u.contribution(Modality::Voice);
            let want = (1.0 - t as f32 / 6000.0).max(0.0);
            assert!(close(v.freshness, want), "t={t}: {v:?}");
            assert!(close(v.weight, 0.7 * want), "t={t}: {v:?}");
            if t >= 6000 {
                assert_eq!(v.weight, 0.0);
                assert_eq!(v.share, 0.0);
                assert!(close(u.contribution(Modality::Face).share, 1.0));
                // fer7 angry and disgust both count for angry.
                assert!(close(u.fused[Mood::Angry.index()], 2.0 * (1.0 - 0.9) / 6.0));
            }
        }
    }

    /// Drives the engine from `from` to `to` (exclusive) every 100 ms with the face showing
    /// `label` at `p`, and returns the times the mood changed.
    fn show_face(e: &mut MoodEngine, from: u64, to: u64, label: &str, p: f32) -> Vec<(u64, Mood)> {
        let mut changes = Vec::new();
        for t in (from..to).step_by(100) {
            e.observe_face(t, &face(label, p)).expect("ok");
            let u = e.update(t);
            if u.changed {
                changes.push((t, u.mood));
            }
        }
        changes
    }

    #[test]
    fn a_lasting_change_takes_effect_after_the_dwell() {
        let config = MoodConfig {
            smoothing_ms: 0,
            ..MoodConfig::default()
        };
        let mut e = engine(&config);
        // The first change needs no dwell (nothing was changed before).
        assert_eq!(show_face(&mut e, 0, 1000, "happy", 0.9), [(0, Mood::Happy)]);
        assert_eq!(e.last_change_ms(), Some(0));
        // Sad from 1000 ms on: held back until 3000 ms after the change to happy.
        let changes = show_face(&mut e, 1000, 6000, "sad", 0.9);
        assert_eq!(changes, [(3000, Mood::Sad)]);
        // With the default smoothing the change also comes, at least a dwell after the last.
        let mut e = engine(&MoodConfig::default());
        let first = show_face(&mut e, 0, 5000, "happy", 0.9);
        assert_eq!(first.len(), 1, "{first:?}");
        let (t_happy, _) = first[0];
        assert!(t_happy > 0, "smoothing delays the first change");
        let changes = show_face(&mut e, 5000, 15_000, "angry", 0.9);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].1, Mood::Angry);
        assert!(changes[0].0 >= 5000 && changes[0].0 - t_happy >= 3000);
    }

    #[test]
    fn a_flicker_shorter_than_the_dwell_never_changes_the_mood() {
        let mut e = engine(&MoodConfig::default());
        // Happy until the mood changes to it.
        let mut t = 0;
        while e.mood() != Mood::Happy {
            assert!(show_face(&mut e, t, t + 100, "happy", 0.9).len() <= 1);
            t += 100;
            assert!(t < 5000, "never turned happy");
        }
        assert_eq!(e.last_change_ms(), Some(t - 100));
        // Right after the change: 1.5 s of surprise (half the dwell), then happy again.
        assert!(show_face(&mut e, t, t + 1500, "surprise", 0.95).is_empty());
        // Surprise did lead by more than the hysteresis: only the dwell held the mood.
        let lead = e.smoothed()[Mood::Surprised.index()] - e.smoothed()[Mood::Happy.index()];
        assert!(lead > 0.1, "lead {lead}");
        assert!(show_face(&mut e, t + 1500, t + 20_000, "happy", 0.9).is_empty());
        assert_eq!(e.mood(), Mood::Happy);
        // Long after the dwell, a 1 s flicker is still too short to overcome the smoothing and
        // the hysteresis (it needs about smoothing_ms * ln(2 / (1 - hysteresis)) = 1.2 s).
        let t = t + 20_000;
        assert!(show_face(&mut e, t, t + 1000, "sad", 0.95).is_empty());
        assert!(show_face(&mut e, t + 1000, t + 10_000, "happy", 0.9).is_empty());

        // The same flicker with no smoothing and no dwell does change it: the dwell held it.
        let config = MoodConfig {
            smoothing_ms: 0,
            min_dwell_ms: 0,
            ..MoodConfig::default()
        };
        let mut e = engine(&config);
        show_face(&mut e, 0, 1000, "happy", 0.9);
        assert_eq!(
            show_face(&mut e, 1000, 1500, "surprise", 0.95),
            [(1000, Mood::Surprised)]
        );
    }

    #[test]
    fn hysteresis_holds_a_near_tie() {
        let config = MoodConfig {
            smoothing_ms: 0,
            ..MoodConfig::default()
        };
        let mut e = engine(&config);
        show_face(&mut e, 0, 4000, "sad", 0.9);
        assert_eq!(e.mood(), Mood::Sad);
        // Happy leads by 0.06 < 0.1: sad stays, however long it lasts.
        let near = scores(
            FER7.labels,
            &[("happy", 0.48), ("sad", 0.42), ("neutral", 0.1)],
        );
        for t in (4000..20_000).step_by(100) {
            e.observe_face(t, &near).expect("ok");
            let u = e.update(t);
            assert!(!u.changed && u.mood == Mood::Sad, "t={t}");
            assert!(close(u.smoothed[Mood::Happy.index()], 0.48));
        }
        // A lead of 0.22 wins at once (the dwell is long over).
        let clear = scores(
            FER7.labels,
            &[("happy", 0.56), ("sad", 0.34), ("neutral", 0.1)],
        );
        e.observe_face(20_000, &clear).expect("ok");
        let u = e.update(20_000);
        assert!(u.changed);
        assert_eq!((u.mood, u.previous), (Mood::Happy, Some(Mood::Sad)));
        // With hysteresis 0 the near tie would have switched.
        let config = MoodConfig {
            smoothing_ms: 0,
            hysteresis: 0.0,
            ..MoodConfig::default()
        };
        let mut e = engine(&config);
        show_face(&mut e, 0, 4000, "sad", 0.9);
        e.observe_face(4000, &near).expect("ok");
        assert_eq!(e.update(4000).mood, Mood::Happy);
    }

    #[test]
    fn smoothing_follows_the_time_constant_and_is_deterministic() {
        let happy = scores(FER7.labels, &[("happy", 1.0)]);
        let run = |step: u64| {
            let mut e = engine(&MoodConfig::default());
            let mut t = 0;
            let mut u = e.update(0);
            while t < 1500 {
                t += step;
                e.observe_face(t, &happy).expect("ok");
                u = e.update(t);
            }
            u
        };
        let one = run(1500);
        // One time constant: 1 - 1/e of the way from neutral to happy.
        let a = 1.0 - (-1.0f32).exp();
        assert!(
            close(one.smoothed[Mood::Happy.index()], a),
            "{:?}",
            one.smoothed
        );
        assert!(close(one.smoothed[Mood::Neutral.index()], 1.0 - a));
        assert!(close(one.smoothed.iter().sum::<f32>(), 1.0));
        // Ten steps of 150 ms land at the same place, and a rerun gives the same bits.
        let ten = run(150);
        for (x, y) in one.smoothed.iter().zip(&ten.smoothed) {
            assert!(close(*x, *y), "{:?} vs {:?}", one.smoothed, ten.smoothed);
        }
        assert_eq!(run(150), ten);
        // The first update has no previous one: dt = 0, nothing moves.
        let mut e = engine(&MoodConfig::default());
        e.observe_face(0, &happy).expect("ok");
        let u = e.update(0);
        assert_eq!(u.smoothed, one_hot(Mood::Neutral));
        assert_eq!(u.fused, one_hot(Mood::Happy));
        // Time going backwards moves nothing either.
        let u = e.update(1000);
        let back = e.update(500);
        assert_eq!(back.smoothed, u.smoothed);
    }

    #[test]
    fn with_no_evidence_the_mood_relaxes_to_idle() {
        let mut e = engine(&MoodConfig::default());
        e.observe_face(0, &face("angry", 0.9)).expect("ok");
        let mut angry_at = None;
        let mut neutral_at = None;
        for t in (0..30_000).step_by(100) {
            let u = e.update(t);
            if u.changed && u.mood == Mood::Angry {
                angry_at = Some(t);
            }
            if u.changed && u.mood == Mood::Neutral {
                neutral_at = Some(t);
            }
            if t >= 2000 {
                assert!(u.idle, "t={t}");
                assert_eq!(u.fused, one_hot(Mood::Neutral));
            }
        }
        let (angry_at, neutral_at) = (angry_at.expect("angry"), neutral_at.expect("relaxed"));
        assert!(neutral_at - angry_at >= 3000);
        assert_eq!(e.mood(), Mood::Neutral);
        assert!(e.smoothed()[Mood::Neutral.index()] > 0.999);

        // It relaxes to the configured idle mood.
        let calm = MoodConfig {
            idle_mood: "calm".into(),
            ..MoodConfig::default()
        };
        let mut e = engine(&calm);
        e.observe_face(0, &face("angry", 0.9)).expect("ok");
        for t in (0..30_000).step_by(100) {
            e.update(t);
        }
        assert_eq!(e.mood(), Mood::Calm);
    }

    #[test]
    fn agreeing_and_disagreeing_modalities_are_weighted_by_confidence() {
        let config = MoodConfig {
            smoothing_ms: 0,
            min_dwell_ms: 0,
            ..MoodConfig::default()
        };
        // Disagreeing: a confident happy face (0.9) and a less sure sad voice (0.6).
        let mut e = engine(&config);
        e.observe_face(0, &scores(FER7.labels, &[("happy", 0.9), ("neutral", 0.1)]))
            .expect("ok");
        e.observe_voice(0, &scores(SER8.labels, &[("sad", 0.6), ("neutral", 0.4)]))
            .expect("ok");
        let u = e.update(0);
        let (f, v) = (
            u.contribution(Modality::Face),
            u.contribution(Modality::Voice),
        );
        assert!(close(f.weight, 0.9) && close(v.weight, 0.6));
        assert!(close(f.share, 0.6) && close(v.share, 0.4));
        assert_eq!((f.mood, v.mood), (Some(Mood::Happy), Some(Mood::Sad)));
        assert!(close(u.fused[Mood::Happy.index()], 0.9 * 0.9 / 1.5));
        assert!(close(u.fused[Mood::Sad.index()], 0.6 * 0.6 / 1.5));
        assert!(close(
            u.fused[Mood::Neutral.index()],
            (0.9 * 0.1 + 0.6 * 0.4) / 1.5
        ));
        assert_eq!(u.mood, Mood::Happy);

        // The confidences swapped: the voice wins.
        let mut e = engine(&config);
        e.observe_face(0, &scores(FER7.labels, &[("happy", 0.6), ("neutral", 0.4)]))
            .expect("ok");
        e.observe_voice(0, &scores(SER8.labels, &[("sad", 0.9), ("neutral", 0.1)]))
            .expect("ok");
        assert_eq!(e.update(0).mood, Mood::Sad);

        // Agreeing: both happy, the fused happy score is the weighted mean of theirs.
        let mut e = engine(&config);
        e.observe_face(0, &face("happy", 0.9)).expect("ok");
        e.observe_voice(0, &voice("happy", 0.6)).expect("ok");
        let u = e.update(0);
        assert!(close(
            u.fused[Mood::Happy.index()],
            (0.9 * 0.9 + 0.6 * 0.6) / 1.5
        ));
        assert_eq!(u.mood, Mood::Happy);

        // The configured weights scale the confidences: a voice weight of 3 turns the first case.
        let heavy_voice = MoodConfig {
            voice_weight: 3.0,
            ..config.clone()
        };
        let mut e = engine(&heavy_voice);
        e.observe_face(0, &scores(FER7.labels, &[("happy", 0.9), ("neutral", 0.1)]))
            .expect("ok");
        e.observe_voice(0, &scores(SER8.labels, &[("sad", 0.6), ("neutral", 0.4)]))
            .expect("ok");
        assert_eq!(e.update(0).mood, Mood::Sad);

        // A reading below min_confidence counts for nothing.
        let mut e = engine(&config);
        e.observe_face(0, &face("happy", 0.9)).expect("ok");
        e.observe_voice(0, &voice("sad", 0.25)).expect("ok");
        let u = e.update(0);
        let v = u.contribution(Modality::Voice);
        assert_eq!((v.confidence, v.weight, v.share), (0.0, 0.0, 0.0));
        assert_eq!(v.age_ms, Some(0));
        assert!(close(u.contribution(Modality::Face).share, 1.0));
    }

    #[test]
    fn bad_scores_are_refused_and_change_nothing() {
        let mut e = engine(&MoodConfig::default());
        e.observe_face(0, &face("happy", 0.9)).expect("ok");
        e.update(0);
        e.update(500);
        let before = e.clone();

        let err = e.observe_face(600, &[0.5; 8]).expect_err("8 for fer7");
        assert_eq!(
            err.to_string(),
            "face scores (fer7 model): 8 scores for 7 labels (angry, disgust, fear, happy, sad, surprise, neutral)"
        );
        assert_eq!(
            crate::error::help(&err),
            "pass the model's whole output, in the order of its manifest's labels"
        );
        let mut nan = voice("sad", 0.9);
        nan[2] = f32::NAN;
        let err = e.observe_voice(600, &nan).expect_err("NaN");
        assert!(
            err.to_string().starts_with(
                "voice scores (ser8 model): score 2 (happy) is NaN; scores must be probabilities"
            ),
            "{err}"
        );
        assert!(e.observe_emoji(600, &[]).is_err());
        assert!(e.observe_emoji(600, &[-1.0; 8]).is_err());
        assert_eq!(e, before);
        // And the next update behaves as if the bad readings never came.
        let mut twin = before.clone();
        assert_eq!(e.update(700), twin.update(700));
    }

    #[test]
    fn tables_follow_the_models_labels_and_the_overrides() {
        let mut config = MoodConfig::default();
        config.ser8.insert("calm".into(), "neutral".into());
        // A face model with a subset of fer7 in its own order.
        let face_labels = ["happy", "sad", "neutral"];
        let mut e = MoodEngine::new(
            &config,
            &face_labels,
            SER8.labels,
            sentio_models::EMOJI8.labels,
        )
        .expect("valid");
        assert_eq!(e.table(Modality::Face).labels(), face_labels);
        assert_eq!(
            e.table(Modality::Voice).mood_of("calm"),
            Some(Mood::Neutral)
        );
        e.observe_face(0, &[0.1, 0.8, 0.1]).expect("3 scores");
        assert!(e.observe_face(0, &face("sad", 0.8)).is_err());
        // An emoji reading counts like any other.
        e.observe_emoji(0, &spread(sentio_models::EMOJI8.labels, "frowning", 0.9))
            .expect("ok");
        let u = e.update(0);
        assert_eq!(u.contribution(Modality::Emoji).mood, Some(Mood::Sad));

        // An override for a label the face model lacks is refused at construction.
        let mut bad = MoodConfig::default();
        bad.fer7.insert("fear".into(), "sad".into());
        let err = MoodEngine::new(
            &bad,
            &face_labels,
            SER8.labels,
            sentio_models::EMOJI8.labels,
        )
        .expect_err("no fear label");
        assert!(matches!(err, MoodError::UnknownLabel { ref label, .. } if label == "fear"));
        // A label with no mood is refused.
        let err = MoodEngine::new(
            &config,
            &["happy", "bored"],
            SER8.labels,
            sentio_models::EMOJI8.labels,
        )
        .expect_err("bored");
        assert!(
            err.to_string()
                .contains("label \"bored\" of the fer7 model maps to no mood")
        );
        // A bad config is refused.
        let err = MoodEngine::with_builtin_labels(&MoodConfig {
            hysteresis: 0.7,
            ..MoodConfig::default()
        })
        .expect_err("range");
        assert!(matches!(
            err,
            MoodError::OutOfRange {
                key: "hysteresis",
                ..
            }
        ));

        // A model swap: new labels, the old reading is forgotten; a bad swap changes nothing.
        let snapshot = e.clone();
        assert!(e.set_labels(Modality::Face, &["happy", "bored"]).is_err());
        assert_eq!(e, snapshot);
        e.set_labels(Modality::Face, FER7.labels).expect("ok");
        assert_eq!(e.update(0).contribution(Modality::Face).age_ms, None);
        e.observe_face(0, &face("sad", 0.8)).expect("7 scores now");
    }
}
