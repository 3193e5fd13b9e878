//! How each `ser8` emotion is spoken: espeak-ng's own controls (pitch, rate, amplitude, word
//! gap, SSML pitch range, breaks, emphasis, pitch accents and the last word's rise or fall, the
//! closing punctuation) and the waveform effects
//! after it, each drawn per utterance around the emotion's value so classes overlap as acted
//! speech does. `docs/datasets.md` has the table.

use super::voices::Speaker;
use crate::rng::Rng;

/// One emotion's settings: values are the means at full (strong) intensity, moved towards
/// neutral for normal intensity and for less expressive speakers, then spread by the `*_sd`
/// standard deviations.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Profile {
    /// Offset on espeak-ng's 0-99 pitch scale (`-p`, neutral 50).
    pub pitch: f32,
    pub pitch_sd: f32,
    /// Pitch range, percent of the voice's own (SSML `<prosody range>`).
    pub range: f32,
    pub range_sd: f32,
    /// Speaking-rate factor (`-s`, neutral 165 words/min).
    pub rate: f32,
    pub rate_sd: f32,
    /// Amplitude (`-a`, neutral 100).
    pub amplitude: f32,
    /// Extra gap between words, in 10 ms units (`-g`), uniform in this range.
    pub gap: (u32, u32),
    /// Chance of pauses (SSML `<break>`) between words, and their length in ms.
    pub pause: (f32, u32, u32),
    /// Chance of one word in `<emphasis level="strong">`.
    pub emphasis: f32,
    /// Pitch accents: the chance that a word is raised by SSML `<prosody pitch>`, and by how
    /// much (percent). espeak-ng caps `<prosody range>` at 200%, so wide-range emotions get
    /// their excursions from accents.
    pub accents: (f32, f32),
    /// The last word's pitch change (percent): + a rising end, - final lowering.
    pub final_pitch: f32,
    /// Chances of ending with `!` and with `?` (else `.`): espeak-ng's sentence intonation.
    pub exclaim: f32,
    pub question: f32,
    /// Tremolo (Hz, depth) and vibrato + jitter (Hz, ms, ms).
    pub tremolo: (f32, f32),
    pub vibrato: (f32, f32, f32),
    /// Low-pass cutoff (Hz), or 0 for none.
    pub lowpass: f32,
    /// Breath noise level.
    pub breath: f32,
    /// Spectral tilt (+ bright, - dull).
    pub tilt: f32,
    /// Loudness expansion exponent and soft-clip drive.
    pub expand: f32,
    pub drive: f32,
    /// Roughness: amplitude modulation at 30-70 Hz, depth.
    pub rough: f32,
    /// Vocal-tract scale: the waveform played this much faster (formants, pitch and tempo up
    /// together; a smile raises the formants, a slack, sad voice lowers them).
    pub tract: f32,
}

// Why the values are what they are. The classifier that has to tell the emotions apart never
// knows the speaker, and the speakers differ far more in absolute pitch (male and female
// variants), timbre and level than one emotion does from its neighbour. So every emotion is
// given a signature in cues that are relative to the speaker and survive the level
// augmentation: pitch range (SSML range is a percentage of the voice's own), tempo (a factor
// of the speaker's rate), pauses (the voiced share), spectral tilt and breath noise (vocal
// effort and phonation type: loud, pressed voice has a flatter, brighter spectrum; soft,
// breathy voice a steeper one with aspiration noise; Sundberg & Nordenberg 2006), and
// perturbation (tremor, jitter, roughness). Absolute pitch moves too, as in the literature,
// but is not relied on. `amplitude` (espeak's `-a`) is kept for plausibility, but the random
// peak level written afterwards removes it: loudness reaches the features only through tilt,
// dynamics and clipping, the form a real recording at an unknown gain has it in.
//
// The acoustic profiles follow Scherer (2003, "Vocal communication of emotion", table 2) and
// Banse & Scherer (1996), with Juslin & Laukka (2003) for the direction of each cue.

const NEUTRAL: Profile = Profile {
    pitch: 0.0,
    pitch_sd: 2.0,
    range: 100.0,
    range_sd: 8.0,
    rate: 1.0,
    rate_sd: 0.04,
    amplitude: 100.0,
    gap: (0, 1),
    pause: (0.05, 60, 150),
    emphasis: 0.0,
    accents: (0.0, 0.0),
    // Declaratives end with a small final lowering; the other emotions override it.
    final_pitch: -8.0,
    exclaim: 0.0,
    question: 0.0,
    tremolo: (0.0, 0.0),
    vibrato: (0.0, 0.0, 0.0),
    lowpass: 0.0,
    breath: 0.0,
    tilt: 0.0,
    expand: 0.0,
    drive: 0.0,
    rough: 0.0,
    tract: 1.0,
};

/// The profiles in `ser8` order.
pub(crate) const PROFILES: [Profile; 8] = [
    // neutral: the speaker's own modal voice, the reference every other class moves away from.
    NEUTRAL,
    // calm (relaxed contentment): lower effort than neutral. Slightly lower and narrower pitch,
    // slower with longer word gaps, a steeper spectral slope and breathy (lax) phonation —
    // Scherer's "relaxed" voice. It differs from neutral in rate, range, tilt and breath, and
    // from sad (below) in keeping a moderate range, fewer pauses and no muffling.
    Profile {
        pitch: -5.0,
        range: 65.0,
        rate: 0.85,
        amplitude: 75.0,
        gap: (1, 3),
        pause: (0.25, 120, 300),
        breath: 0.14,
        tilt: -0.45,
        tract: 0.99,
        ..NEUTRAL
    },
    // happy (elation): high mean f0 and the widest range, fast-ish, bright (raised effort),
    // formants raised by the smile (Tartter 1980), exclaiming.
    Profile {
        pitch: 24.0,
        pitch_sd: 3.0,
        range: 200.0,
        range_sd: 10.0,
        rate: 1.25,
        rate_sd: 0.04,
        amplitude: 130.0,
        gap: (0, 0),
        emphasis: 0.6,
        exclaim: 0.7,
        vibrato: (5.0, 0.3, 0.1),
        tilt: 0.9,
        tract: 1.08,
        accents: (0.5, 40.0),
        ..NEUTRAL
    },
    // sad: low f0, very narrow (monotone) range, the slowest, long pauses, low intensity and a
    // dark spectrum (strong high-frequency loss), lax and slightly breathy, a slow waver; the
    // vocal tract slackens (formants down).
    Profile {
        pitch: -16.0,
        range: 35.0,
        range_sd: 6.0,
        rate: 0.68,
        amplitude: 65.0,
        gap: (3, 6),
        pause: (0.6, 250, 600),
        tremolo: (3.0, 0.15),
        lowpass: 1800.0,
        tract: 0.94,
        breath: 0.04,
        tilt: -0.7,
        final_pitch: -20.0,
        ..NEUTRAL
    },
    // angry (hot anger): high intensity (here as a flat, bright spectrum and pressed, clipped
    // peaks), raised f0 with a wide range, fast, emphatic, exclaiming.
    Profile {
        pitch: 10.0,
        pitch_sd: 3.0,
        range: 160.0,
        range_sd: 15.0,
        rate: 1.15,
        rate_sd: 0.04,
        amplitude: 160.0,
        gap: (0, 1),
        emphasis: 0.8,
        exclaim: 0.9,
        tilt: 1.0,
        expand: 0.6,
        drive: 5.0,
        accents: (0.25, 25.0),
        final_pitch: -10.0,
        ..NEUTRAL
    },
    // fearful (panic fear): high f0 but a narrow, tense range, the fastest tempo, short
    // hesitations, and an irregular voice: tremor at 7-9 Hz, fast pitch jitter and breath.
    // The narrow range and the perturbation set it apart from happy (wide, smooth), the
    // tempo and pitch from neutral.
    Profile {
        pitch: 26.0,
        pitch_sd: 3.0,
        range: 60.0,
        range_sd: 10.0,
        rate: 1.3,
        rate_sd: 0.05,
        amplitude: 90.0,
        pause: (0.6, 80, 200),
        tremolo: (8.0, 0.45),
        vibrato: (7.0, 0.8, 2.0),
        breath: 0.08,
        tilt: 0.2,
        ..NEUTRAL
    },
    // disgust: low f0, slow and drawn out, a falling end, creaky/rough phonation (modelled as
    // 30-70 Hz amplitude modulation) and a pharyngealised, lowered tract.
    Profile {
        pitch: -12.0,
        range: 90.0,
        range_sd: 12.0,
        rate: 0.76,
        amplitude: 95.0,
        gap: (1, 3),
        pause: (0.3, 150, 350),
        emphasis: 0.4,
        rough: 0.75,
        tilt: -0.1,
        tract: 0.93,
        final_pitch: -25.0,
        ..NEUTRAL
    },
    // surprised: very high f0 and the widest range with a rising end (question intonation on
    // most), a pause before the last word, moderate tempo, slightly bright.
    Profile {
        pitch: 32.0,
        pitch_sd: 3.0,
        range: 200.0,
        range_sd: 10.0,
        rate: 0.95,
        rate_sd: 0.04,
        amplitude: 120.0,
        pause: (0.6, 150, 350),
        exclaim: 0.2,
        question: 0.8,
        tilt: 0.3,
        tract: 1.04,
        final_pitch: 90.0,
        ..NEUTRAL
    },
];

/// espeak-ng's default speaking rate, words per minute.
const BASE_RATE: f32 = 165.0;

/// Everything one utterance is made with.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Rendition {
    /// `-p`, 0..=99.
    pub pitch: u32,
    /// `-s`, words per minute.
    pub rate: u32,
    /// `-a`, 0..=200.
    pub amplitude: u32,
    /// `-g`, 10 ms units.
    pub gap: u32,
    /// The SSML document (`-m`).
    pub ssml: String,
    pub tremolo: (f32, f32),
    pub vibrato: (f32, f32, f32),
    pub lowpass: f32,
    pub breath: f32,
    pub tilt: f32,
    pub expand: f32,
    pub drive: f32,
    pub rough: (f32, f32),
    pub tract: f32,
}

/// Escape text for SSML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Draw the rendition of `sentence` in emotion `class` at `intensity` (1 normal, 2 strong) by
/// `speaker`.
pub(crate) fn render(
    class: usize,
    intensity: u8,
    speaker: &Speaker,
    sentence: &str,
    rng: &mut Rng,
) -> Rendition {
    let p = PROFILES.get(class).copied().unwrap_or(NEUTRAL);
    let n = NEUTRAL;
    // How far towards the emotion's values this utterance goes.
    // The spread is kept small: wider draws made weak renditions of one emotion land on
    // neutral or on a neighbour (e.g. a weak happy as neutral), a confusion acted corpora do
    // have but which the per-utterance spreads below already provide.
    let strength = if intensity >= 2 {
        rng.range(1.05, 1.2)
    } else {
        rng.range(0.85, 1.0)
    } * speaker.expressiveness;
    let towards = |neutral: f32, emotion: f32| neutral + strength * (emotion - neutral);

    let pitch = 50.0 + speaker.pitch + towards(n.pitch, p.pitch) + p.pitch_sd * rng.normal();
    let range = (speaker.range * (towards(n.range, p.range) + p.range_sd * rng.normal()))
        .clamp(20.0, 200.0);
    let rate = BASE_RATE * speaker.rate * (towards(n.rate, p.rate) + p.rate_sd * rng.normal());
    let amplitude = towards(n.amplitude, p.amplitude) * rng.range(0.9, 1.1);
    let gap = p.gap.0 + rng.below(u64::from(p.gap.1 - p.gap.0) + 1) as u32;

    // The words, with pauses and emphasis.
    let words: Vec<&str> = sentence.split_whitespace().collect();
    let emphasised = if words.len() > 1 && rng.chance(p.emphasis) {
        Some(rng.index(words.len()))
    } else {
        None
    };
    let mut body = String::new();
    for (k, word) in words.iter().enumerate() {
        if k > 0 {
            // Surprise pauses before the last word; the others anywhere.
            let here = if class == 7 {
                k + 1 == words.len()
            } else {
                true
            };
            let chance = if class == 7 {
                p.pause.0
            } else {
                p.pause.0 / (words.len() as f32 - 1.0).max(1.0) * 1.5
            };
            if here && rng.chance(chance) {
                let ms = p.pause.1 + rng.below(u64::from(p.pause.2 - p.pause.1) + 1) as u32;
                body.push_str(&format!("<break time=\"{ms}ms\"/> "));
            } else {
                body.push(' ');
            }
        }
        let mut shift = 0.0;
        if k + 1 == words.len() && words.len() > 1 {
            shift += strength * p.final_pitch * rng.range(0.85, 1.15);
        } else if p.accents.0 > 0.0 && rng.chance(p.accents.0) {
            shift += strength * p.accents.1 * rng.range(0.7, 1.3);
        }
        let mut word = escape(word);
        if emphasised == Some(k) {
            word = format!("<emphasis level=\"strong\">{word}</emphasis>");
        }
        if shift.abs() >= 1.0 {
            word = format!(
                "<prosody pitch=\"{:+}%\">{word}</prosody>",
                shift.round() as i32
            );
        }
        body.push_str(&word);
    }
    let roll = rng.unit();
    let end = if roll < p.question {
        "?"
    } else if roll < p.question + p.exclaim {
        "!"
    } else {
        "."
    };
    let ssml = format!(
        "<speak><prosody range=\"{}%\">{body}{end}</prosody></speak>",
        range.round() as u32
    );

    let vary = |x: f32, rng: &mut Rng| (strength * x * rng.range(0.85, 1.15)).max(0.0);
    Rendition {
        pitch: pitch.round().clamp(0.0, 99.0) as u32,
        rate: rate.round().clamp(80.0, 450.0) as u32,
        amplitude: amplitude.round().clamp(10.0, 200.0) as u32,
        gap,
        ssml,
        tremolo: (p.tremolo.0 * rng.range(0.8, 1.25), vary(p.tremolo.1, rng)),
        vibrato: (
            p.vibrato.0 * rng.range(0.8, 1.25),
            vary(p.vibrato.1, rng),
            vary(p.vibrato.2, rng) + rng.range(0.0, 0.1),
        ),
        lowpass: if p.lowpass > 0.0 {
            p.lowpass / strength.max(0.5) * rng.range(0.9, 1.1)
        } else {
            0.0
        },
        breath: vary(p.breath, rng) + rng.range(0.0, 0.01),
        tilt: strength * p.tilt + rng.sym(0.1),
        expand: vary(p.expand, rng),
        drive: vary(p.drive, rng),
        rough: (rng.range(30.0, 70.0), vary(p.rough, rng)),
        tract: towards(n.tract, p.tract) * (1.0 + rng.sym(0.01)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::voices::speakers;
    use super::*;

    fn mean_of(class: usize, f: impl Fn(&Rendition) -> f32) -> f32 {
        let speakers = speakers(8);
        let mut total = 0.0;
        for i in 0..400 {
            let mut rng = Rng::new(i);
            let r = render(
                class,
                1 + (i % 2) as u8,
                &speakers[(i % 8) as usize],
                "Kids are talking by the door",
                &mut rng,
            );
            total += f(&r);
        }
        total / 400.0
    }

    #[test]
    fn emotions_move_pitch_and_rate_the_right_way() {
        let pitch: Vec<f32> = (0..8).map(|c| mean_of(c, |r| r.pitch as f32)).collect();
        let rate: Vec<f32> = (0..8).map(|c| mean_of(c, |r| r.rate as f32)).collect();
        // sad < disgust < calm < neutral < angry < happy < fearful < surprised
        for (lo, hi) in [(3, 6), (6, 1), (1, 0), (0, 4), (4, 2), (2, 5), (5, 7)] {
            assert!(pitch[lo] < pitch[hi], "pitch {lo} {hi}: {pitch:?}");
        }
        // sad < disgust < calm < surprised < neutral < angry < happy < fearful
        for (lo, hi) in [(3, 6), (6, 1), (1, 7), (7, 0), (0, 4), (4, 2), (2, 5)] {
            assert!(rate[lo] < rate[hi], "rate {lo} {hi}: {rate:?}");
        }
    }

    #[test]
    fn utterances_vary_and_classes_overlap() {
        let speaker = &speakers(1)[0];
        let happy: Vec<u32> = (0..50)
            .map(|i| render(2, 2, speaker, "a b c", &mut Rng::new(i)).pitch)
            .collect();
        let fearful: Vec<u32> = (0..50)
            .map(|i| render(5, 1, speaker, "a b c", &mut Rng::new(100 + i)).pitch)
            .collect();
        let distinct: std::collections::BTreeSet<_> = happy.iter().collect();
        assert!(distinct.len() > 5, "{happy:?}");
        let (hmax, fmin) = (happy.iter().max().unwrap(), fearful.iter().min().unwrap());
        assert!(hmax > fmin, "happy and fearful pitches overlap");
    }

    #[test]
    fn surprise_ends_high_and_sadness_falls() {
        let speaker = &speakers(1)[0];
        let last_shift = |class: usize, seed: u64| -> i32 {
            let r = render(
                class,
                1,
                speaker,
                "The train leaves at seven",
                &mut Rng::new(seed),
            );
            let tail = r.ssml.rsplit("<prosody pitch=\"").next().unwrap();
            assert!(tail.contains("seven"), "{}", r.ssml);
            tail.split('%').next().unwrap().parse().unwrap()
        };
        for seed in 0..20 {
            assert!(last_shift(7, seed) >= 50, "surprised");
            assert!(last_shift(3, seed) <= -10, "sad");
            assert!((-14..=-4).contains(&last_shift(0, seed)), "neutral");
        }
    }

    #[test]
    fn ssml_is_well_formed() {
        let speaker = &speakers(1)[0];
        for i in 0..200 {
            let r = render(
                (i % 8) as usize,
                2,
                speaker,
                "Tom & Jerry <3",
                &mut Rng::new(i),
            );
            assert!(r.ssml.starts_with("<speak><prosody range=\""), "{}", r.ssml);
            assert!(r.ssml.ends_with("</prosody></speak>"));
            assert!(
                r.ssml.contains("&amp;") && r.ssml.contains("&lt;3"),
                "{}",
                r.ssml
            );
            assert!(
                !r.ssml.contains(" & ") && !r.ssml.contains("<3"),
                "{}",
                r.ssml
            );
            assert_eq!(r.ssml.matches('<').count(), r.ssml.matches('>').count());
            assert!(r.pitch <= 99 && (80..=450).contains(&r.rate));
        }
    }
}
