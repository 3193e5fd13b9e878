//! How each `ser8` emotion is spoken: espeak-ng's own controls (pitch, rate, amplitude, word
//! gap, SSML pitch range, breaks and emphasis, the closing punctuation) and the waveform effects
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

const NEUTRAL: Profile = Profile {
    pitch: 0.0,
    pitch_sd: 3.0,
    range: 100.0,
    range_sd: 12.0,
    rate: 1.0,
    rate_sd: 0.05,
    amplitude: 100.0,
    gap: (0, 1),
    pause: (0.05, 60, 150),
    emphasis: 0.0,
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
    // neutral
    NEUTRAL,
    // calm: a little lower, slower, narrow, soft and breathy, muffled
    Profile {
        pitch: -6.0,
        range: 70.0,
        rate: 0.88,
        amplitude: 80.0,
        gap: (1, 3),
        pause: (0.2, 100, 250),
        lowpass: 3800.0,
        breath: 0.06,
        tilt: -0.3,
        tract: 0.98,
        ..NEUTRAL
    },
    // happy: high, wide, quick, bright, exclaiming
    Profile {
        pitch: 24.0,
        pitch_sd: 4.0,
        range: 200.0,
        range_sd: 15.0,
        rate: 1.25,
        rate_sd: 0.06,
        amplitude: 120.0,
        gap: (0, 0),
        emphasis: 0.5,
        exclaim: 0.6,
        vibrato: (5.0, 0.4, 0.1),
        tilt: 0.8,
        tract: 1.08,
        ..NEUTRAL
    },
    // sad: low, flat, slow, pausing, soft, dull and breathy, a slow waver
    Profile {
        pitch: -20.0,
        range: 40.0,
        rate: 0.7,
        amplitude: 70.0,
        gap: (2, 5),
        pause: (0.5, 200, 500),
        tremolo: (3.0, 0.2),
        lowpass: 2000.0,
        tract: 0.94,
        breath: 0.05,
        tilt: -0.5,
        ..NEUTRAL
    },
    // angry: a little higher, wide, fast, loud, pressed and bright, emphatic
    Profile {
        pitch: 10.0,
        pitch_sd: 4.0,
        range: 150.0,
        range_sd: 25.0,
        rate: 1.12,
        rate_sd: 0.06,
        amplitude: 150.0,
        gap: (0, 1),
        emphasis: 0.7,
        exclaim: 0.8,
        tilt: 0.8,
        expand: 0.5,
        drive: 4.0,
        ..NEUTRAL
    },
    // fearful: high, tense (narrow-ish), fast, hesitant, trembling and jittery
    Profile {
        pitch: 26.0,
        pitch_sd: 4.0,
        range: 75.0,
        range_sd: 15.0,
        rate: 1.22,
        rate_sd: 0.07,
        amplitude: 90.0,
        pause: (0.5, 80, 250),
        tremolo: (7.5, 0.5),
        vibrato: (7.0, 0.7, 1.5),
        breath: 0.02,
        ..NEUTRAL
    },
    // disgust: low, slow, drawn out, rough and harsh
    Profile {
        pitch: -14.0,
        range: 110.0,
        range_sd: 20.0,
        rate: 0.8,
        amplitude: 100.0,
        gap: (1, 3),
        pause: (0.15, 100, 300),
        emphasis: 0.3,
        rough: 0.6,
        tilt: 0.2,
        tract: 0.95,
        ..NEUTRAL
    },
    // surprised: very high and very wide, rising or exclaiming end, a pause before the last word
    Profile {
        pitch: 30.0,
        pitch_sd: 4.0,
        range: 200.0,
        range_sd: 15.0,
        rate: 0.85,
        rate_sd: 0.07,
        amplitude: 120.0,
        pause: (0.6, 150, 400),
        exclaim: 0.4,
        question: 0.6,
        tilt: 0.3,
        tract: 1.03,
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
    let strength = if intensity >= 2 {
        rng.range(0.95, 1.3)
    } else {
        rng.range(0.7, 0.95)
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
        if emphasised == Some(k) {
            body.push_str(&format!(
                "<emphasis level=\"strong\">{}</emphasis>",
                escape(word)
            ));
        } else {
            body.push_str(&escape(word));
        }
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

    let vary = |x: f32, rng: &mut Rng| (strength * x * rng.range(0.7, 1.3)).max(0.0);
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
            p.lowpass / strength.max(0.5) * rng.range(0.8, 1.25)
        } else {
            0.0
        },
        breath: vary(p.breath, rng) + rng.range(0.0, 0.01),
        tilt: strength * p.tilt + rng.sym(0.15),
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
        // sad < disgust < surprised < calm < neutral < angry < fearful, happy
        for (lo, hi) in [(3, 6), (6, 7), (7, 1), (1, 0), (0, 4), (4, 5), (4, 2)] {
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
