//! A procedural speech-emotion dataset for `ser8`, spoken by espeak-ng.
//!
//! Each utterance is one of the built-in neutral sentences, said by one of up to
//! [`MAX_SPEAKERS`] generated speakers (an espeak-ng voice and variant with its own pitch, rate,
//! range and expressiveness baselines) in one of the 8 emotions at normal or strong intensity.
//! The emotion is carried by espeak-ng's controls (pitch, rate, amplitude, word gap, SSML pitch
//! range, pauses, emphasis, pitch accents, the last word's rise or fall, the closing
//! punctuation) and by effects on the waveform (tremolo, jitter, breathiness, muffling,
//! harshness, emphasis), every one drawn per utterance around the emotion's value, so classes
//! overlap at the edges as acted speech does (`prosody.rs` gives the literature behind each
//! value). Then augmentation: silence around
//! it, a synthetic room on some, noise at a random SNR on most, and a random level.
//!
//! Layout: `DIR/<label>/03-01-EE-II-SS-RR-AA.wav` (RAVDESS's naming: emotion, intensity,
//! statement, repetition, actor = speaker number) as 16 kHz mono 16-bit WAV, and
//! `DIR/dataset.json`. Utterance `i` of class `c` is drawn from `derive_seed(seed, [c, i])` and
//! is said by speaker `i mod speakers`: the same options give byte-identical files (espeak-ng
//! is deterministic), and a bigger `per_class` contains the smaller set.

mod effects;
mod prosody;
mod voices;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use sentio_models::labels::SER8;

use crate::folder::{DatasetInfo, INFO_VERSION, SpeakerInfo, Staging};
use crate::rng::{Rng, derive_seed};
use crate::{DataError, DatasetSummary};

pub use voices::{MAX_SPEAKERS, Speaker, speakers};

/// The sample rate of the generated files.
pub const SAMPLE_RATE: u32 = 16_000;
/// Utterances per class when the caller does not say.
pub const DEFAULT_PER_CLASS: usize = 320;
/// Speakers when the caller does not say.
pub const DEFAULT_SPEAKERS: usize = 40;

/// Augmentation applied after the emotion's own effects.
#[derive(Clone, Debug, PartialEq)]
pub struct Augmentation {
    /// Chance that an utterance gets additive noise.
    pub noise: f32,
    /// Its signal-to-noise ratio, uniform in this range (dB); white or pink, half each.
    pub snr_db: (f32, f32),
    /// Chance that an utterance is played in a synthetic room.
    pub reverb: f32,
    /// The room's RT60, uniform in this range (seconds).
    pub rt60: (f32, f32),
    /// The peak level of the written file, uniform in this range (0..1 full scale).
    pub peak: (f32, f32),
}

impl Default for Augmentation {
    fn default() -> Self {
        Augmentation {
            noise: 0.7,
            snr_db: (15.0, 40.0),
            reverb: 0.25,
            rt60: (0.1, 0.6),
            peak: (0.25, 0.95),
        }
    }
}

impl Augmentation {
    /// No noise, no room, full level: the emotion's own sound only.
    pub fn none() -> Self {
        Augmentation {
            noise: 0.0,
            snr_db: (100.0, 100.0),
            reverb: 0.0,
            rt60: (0.1, 0.1),
            peak: (0.9, 0.9),
        }
    }
}

/// What to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct SpeechOptions {
    /// Utterances per class ([`DEFAULT_PER_CLASS`]).
    pub per_class: usize,
    /// The seed everything is drawn from.
    pub seed: u64,
    /// How many speakers, 1..=[`MAX_SPEAKERS`] ([`DEFAULT_SPEAKERS`]).
    pub speakers: usize,
    /// espeak-ng processes run at once; 0 = one per CPU core.
    pub threads: usize,
    /// The espeak-ng program (`espeak-ng`, found on `PATH`).
    pub espeak: PathBuf,
    /// Noise, room and level.
    pub augmentation: Augmentation,
}

impl Default for SpeechOptions {
    fn default() -> Self {
        SpeechOptions {
            per_class: DEFAULT_PER_CLASS,
            seed: 0,
            speakers: DEFAULT_SPEAKERS,
            threads: 0,
            espeak: PathBuf::from("espeak-ng"),
            augmentation: Augmentation::default(),
        }
    }
}

/// One planned utterance: who says what, and its file name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Utterance {
    /// `ser8` class.
    pub class: usize,
    /// Index within the class.
    pub index: usize,
    /// 1 normal, 2 strong (neutral is always 1, as in RAVDESS).
    pub intensity: u8,
    /// Statement number (1-based).
    pub statement: usize,
    /// Repetition of this statement by this speaker in this class (1-based).
    pub repetition: usize,
    /// Speaker number (1-based).
    pub speaker: usize,
    /// The seed of its prosody, effects and augmentation.
    pub seed: u64,
}

impl Utterance {
    /// `03-01-EE-II-SS-RR-AA`, RAVDESS's naming (audio-only, speech).
    pub fn stem(&self) -> String {
        format!(
            "03-01-{:02}-{:02}-{:02}-{:02}-{:02}",
            self.class + 1,
            self.intensity,
            self.statement,
            self.repetition,
            self.speaker
        )
    }

    /// The sentence said.
    pub fn text(&self) -> &'static str {
        voices::sentence(self.statement)
    }
}

/// Utterance `index` of class `class`: speaker `index mod speakers`; that speaker's `k`-th
/// utterance in the class says statement `k + offset` of its language (the offset drawn per
/// class and speaker), repeated when the statements run out.
pub fn plan(options: &SpeechOptions, class: usize, index: usize) -> Result<Utterance, DataError> {
    check(options)?;
    let all = speakers(options.speakers);
    let speaker = &all[index % all.len()];
    let k = index / all.len();
    let statements = voices::statements(speaker.lang);
    let offset = derive_seed(options.seed, &[class as u64, 1000 + speaker.number as u64])
        % statements.len() as u64;
    let slot = (k + offset as usize) % statements.len();
    let repetition = k / statements.len() + 1;
    if repetition > 99 {
        return Err(DataError::BadArgument(format!(
            "utterance {index} of class {class} would be repetition {repetition} of a sentence \
             (the file names allow 99): use fewer utterances per class or more speakers"
        )));
    }
    let seed = derive_seed(options.seed, &[class as u64, index as u64]);
    let mut rng = Rng::new(seed);
    let intensity = if class == 0 || rng.chance(0.5) { 1 } else { 2 };
    Ok(Utterance {
        class,
        index,
        intensity,
        statement: statements[slot],
        repetition,
        speaker: speaker.number,
        seed,
    })
}

fn check(options: &SpeechOptions) -> Result<(), DataError> {
    if options.per_class == 0 {
        return Err(DataError::BadArgument(
            "--per-class must be at least 1".into(),
        ));
    }
    if options.speakers == 0 || options.speakers > MAX_SPEAKERS {
        return Err(DataError::BadArgument(format!(
            "{} speakers asked; the generator has 1 to {MAX_SPEAKERS}",
            options.speakers
        )));
    }
    let a = &options.augmentation;
    let bad_range = |r: (f32, f32)| !(r.0.is_finite() && r.1.is_finite() && r.0 <= r.1);
    if bad_range(a.snr_db)
        || bad_range(a.rt60)
        || bad_range(a.peak)
        || a.peak.0 <= 0.0
        || a.peak.1 > 1.0
        || a.rt60.0 < 0.0
    {
        return Err(DataError::BadArgument(format!(
            "augmentation {a:?}: ranges must be lo <= hi, peak within 0..1, rt60 >= 0"
        )));
    }
    Ok(())
}

/// Check that espeak-ng runs and has every voice and variant of the speakers used.
fn check_espeak(options: &SpeechOptions, speakers: &[Speaker]) -> Result<(), DataError> {
    let list = |arg: &str| -> Result<String, DataError> {
        let output = Command::new(&options.espeak)
            .arg(arg)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| missing_or(options, e, "(listing voices)", arg))?;
        if !output.status.success() {
            return Err(DataError::Synthesis {
                voice: arg.to_string(),
                text: "(listing voices)".into(),
                reason: failure(&output),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let voices = list("--voices")?;
    let variants = list("--voices=variant")?;
    let words = |text: &str| -> Vec<String> {
        text.lines()
            .skip(1)
            .flat_map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            .collect()
    };
    let (voices, variants) = (words(&voices), words(&variants));
    for speaker in speakers {
        let has_voice = voices.iter().any(|w| w == speaker.voice);
        let has_variant = variants
            .iter()
            .any(|w| w == &format!("!v/{}", speaker.variant));
        if !has_voice || !has_variant {
            return Err(DataError::Synthesis {
                voice: speaker.espeak_voice(),
                text: voices::sentence(voices::statements(speaker.lang)[0]).into(),
                reason: format!(
                    "this espeak-ng does not list the {} `{}`",
                    if has_voice { "variant" } else { "voice" },
                    if has_voice {
                        speaker.variant
                    } else {
                        speaker.voice
                    }
                ),
            });
        }
    }
    Ok(())
}

/// `ProgramMissing` when the program is not there, else a synthesis error.
fn missing_or(options: &SpeechOptions, e: std::io::Error, text: &str, voice: &str) -> DataError {
    if e.kind() == std::io::ErrorKind::NotFound {
        DataError::ProgramMissing {
            program: options.espeak.display().to_string(),
            package: "espeak-ng",
        }
    } else {
        DataError::Synthesis {
            voice: voice.into(),
            text: text.into(),
            reason: format!("cannot run {}: {e}", options.espeak.display()),
        }
    }
}

fn failure(output: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stderr = stderr.trim();
    if stderr.is_empty() {
        format!("{}", output.status)
    } else {
        format!("{}: {stderr}", output.status)
    }
}

/// Speak one planned utterance and return it at [`SAMPLE_RATE`], effects and augmentation
/// applied. `scratch` is a folder for espeak-ng's output file.
fn speak(
    options: &SpeechOptions,
    speakers: &[Speaker],
    u: &Utterance,
    scratch: &Path,
) -> Result<Vec<f32>, DataError> {
    let speaker = speakers
        .get(u.speaker.wrapping_sub(1))
        .ok_or_else(|| DataError::BadArgument(format!("no speaker {}", u.speaker)))?;
    // Skip the draw `plan` may have used for the intensity; the rest follows from here.
    let mut rng = Rng::new(u.seed);
    let _ = rng.next_u64();
    let r = prosody::render(u.class, u.intensity, speaker, u.text(), &mut rng);
    let wav = scratch.join(format!("{}-{}.wav", u.class, u.index));
    let voice = speaker.espeak_voice();
    let output = Command::new(&options.espeak)
        .args(["-m", "-v", &voice])
        .args(["-p", &r.pitch.to_string(), "-s", &r.rate.to_string()])
        .args(["-a", &r.amplitude.to_string(), "-g", &r.gap.to_string()])
        .arg("-w")
        .arg(&wav)
        .arg(&r.ssml)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| missing_or(options, e, &r.ssml, &voice))?;
    let failed = |reason: String| DataError::Synthesis {
        voice: voice.clone(),
        text: u.text().to_string(),
        reason: format!("{reason} (SSML given: {})", r.ssml),
    };
    if !output.status.success() {
        return Err(failed(failure(&output)));
    }
    let audio = sentio_audio::read_wav(&wav).map_err(|e| failed(e.to_string()))?;
    let _ = std::fs::remove_file(&wav);
    if audio.samples.is_empty() {
        return Err(failed("it wrote no audio".into()));
    }
    // To 16 kHz, the vocal-tract scale folded in: read as if recorded `tract` times faster.
    let from = (audio.sample_rate as f32 * r.tract).round().max(1.0) as u32;
    let mut x = sentio_audio::resample(&audio.samples, from, SAMPLE_RATE);
    let fs = SAMPLE_RATE;

    // The emotion's sound.
    if r.vibrato.1 > 0.0 || r.vibrato.2 > 0.0 {
        x = effects::vibrato(&x, fs, r.vibrato.0, r.vibrato.1, r.vibrato.2, &mut rng);
    }
    if r.tremolo.1 > 0.0 {
        let phase = rng.range(0.0, std::f32::consts::TAU);
        effects::tremolo(&mut x, fs, r.tremolo.0, r.tremolo.1, phase);
    }
    if r.rough.1 > 0.0 {
        let phase = rng.range(0.0, std::f32::consts::TAU);
        effects::tremolo(&mut x, fs, r.rough.0, r.rough.1, phase);
    }
    if r.lowpass > 0.0 {
        effects::lowpass(&mut x, fs, r.lowpass);
    }
    effects::tilt(&mut x, fs, r.tilt);
    effects::emphasis(&mut x, fs, r.expand, r.drive);
    effects::breath(&mut x, fs, r.breath, &mut rng);

    // Augmentation: silence around it, a room, the level, noise.
    let a = &options.augmentation;
    let lead = (rng.range(0.05, 0.3) * fs as f32) as usize;
    let tail = (rng.range(0.05, 0.3) * fs as f32) as usize;
    let mut padded = vec![0.0f32; lead];
    padded.extend_from_slice(&x);
    padded.resize(padded.len() + tail, 0.0);
    x = padded;
    let reverb = rng.chance(a.reverb);
    let rt60 = rng.range(a.rt60.0, a.rt60.1);
    let drr = rng.range(-3.0, 8.0);
    if reverb {
        let taps = effects::room(fs, rt60, drr, &mut rng);
        x = effects::convolve_taps(&x, &taps);
    }
    effects::normalize_peak(&mut x, rng.range(a.peak.0, a.peak.1));
    let noisy = rng.chance(a.noise);
    let snr = rng.range(a.snr_db.0, a.snr_db.1);
    let pink = rng.chance(0.5);
    if noisy {
        effects::add_noise(&mut x, snr, pink, &mut rng);
    }
    x.iter_mut().for_each(|s| *s = s.clamp(-1.0, 1.0));
    Ok(x)
}

/// Utterance `index` of class `class` as it would be written: [`SAMPLE_RATE`] mono samples.
pub fn synthesize(
    options: &SpeechOptions,
    class: usize,
    index: usize,
) -> Result<Vec<f32>, DataError> {
    let u = plan(options, class, index)?;
    let all = speakers(options.speakers);
    check_espeak(options, &all)?;
    let scratch = tempfile::tempdir().map_err(DataError::io("cannot create", "a temp folder"))?;
    speak(options, &all, &u, scratch.path())
}

/// Write `options.per_class` utterances of each `ser8` class to `out`
/// (`out/<label>/03-01-EE-II-SS-RR-AA.wav` and `out/dataset.json`). `progress(done, total)` is
/// called after each file. `out` must not exist or be empty; it appears only when complete.
///
/// Fails with [`DataError::ProgramMissing`] when espeak-ng is not installed, and with
/// [`DataError::Synthesis`] (naming the voice and the text) when it fails or lacks a voice.
pub fn generate(
    out: &Path,
    options: &SpeechOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<DatasetSummary, DataError> {
    check(options)?;
    let all = speakers(options.speakers);
    let labels: Vec<String> = SER8.labels.iter().map(|l| l.to_string()).collect();
    let mut jobs = Vec::with_capacity(options.per_class * labels.len());
    for class in 0..labels.len() {
        for index in 0..options.per_class {
            jobs.push(plan(options, class, index)?);
        }
    }
    check_espeak(options, &all)?;
    let staging = Staging::begin(out)?;
    staging.make_label_dirs(&labels)?;
    let scratch = tempfile::tempdir().map_err(DataError::io("cannot create", "a temp folder"))?;
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    }
    .min(jobs.len());

    let total = jobs.len();
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let mut first_error = None;
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<Result<(), DataError>>();
        for _ in 0..threads {
            let tx = tx.clone();
            let (jobs, next, stop, all) = (&jobs, &next, &stop, &all);
            let (root, scratch) = (staging.path(), scratch.path());
            let labels = &labels;
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let Some(u) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) else {
                        break;
                    };
                    let result = speak(options, all, u, scratch).and_then(|samples| {
                        let path = root
                            .join(&labels[u.class])
                            .join(format!("{}.wav", u.stem()));
                        sentio_audio::write_wav(&path, &samples, SAMPLE_RATE)
                            .map_err(DataError::audio(&path))
                    });
                    let failed = result.is_err();
                    if tx.send(result).is_err() || failed {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut done = 0;
        for result in rx {
            match result {
                Ok(()) => {
                    done += 1;
                    progress(done, total);
                }
                Err(e) => {
                    stop.store(true, Ordering::Relaxed);
                    first_error.get_or_insert(e);
                }
            }
        }
    });
    if let Some(e) = first_error {
        return Err(e);
    }

    let mut per_speaker = vec![0usize; all.len()];
    for u in &jobs {
        if let Some(n) = per_speaker.get_mut(u.speaker - 1) {
            *n += 1;
        }
    }
    let info = DatasetInfo {
        version: INFO_VERSION,
        generator: format!("sentio-data {} synth speech", env!("CARGO_PKG_VERSION")),
        label_set: SER8.name.to_string(),
        labels: labels.clone(),
        image_size: None,
        per_class: vec![options.per_class; labels.len()],
        seed: Some(options.seed),
        source: None,
        usage: Vec::new(),
        skipped: 0,
        sample_rate: Some(SAMPLE_RATE),
        file_names: Some("synth".into()),
        speakers: all
            .iter()
            .zip(per_speaker)
            .filter(|(_, n)| *n > 0)
            .map(|(s, utterances)| SpeakerInfo {
                id: format!("synth-{:02}", s.number),
                utterances,
                voice: Some(s.describe()),
            })
            .collect(),
    };
    let root = staging.finish(&info)?;
    Ok(DatasetSummary { root, info })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn plans_have_unique_parsable_names_and_balanced_speakers() {
        let options = SpeechOptions {
            per_class: 240,
            speakers: 24,
            ..SpeechOptions::default()
        };
        let mut stems = BTreeSet::new();
        let mut per_speaker = vec![0usize; 24];
        for class in 0..8 {
            for index in 0..240 {
                let u = plan(&options, class, index).unwrap();
                let (label, speaker) = crate::import::ravdess_label(&u.stem()).unwrap();
                assert_eq!(label, class);
                assert_eq!(speaker, format!("ravdess-{:02}", u.speaker));
                assert!(stems.insert((class, u.stem())), "{}", u.stem());
                assert!(!u.text().is_empty());
                assert!(class != 0 || u.intensity == 1);
                per_speaker[u.speaker - 1] += 1;
            }
        }
        assert_eq!(per_speaker, vec![80; 24]);
        let strong = (0..240)
            .filter(|&i| plan(&options, 4, i).unwrap().intensity == 2)
            .count();
        assert!((80..160).contains(&strong), "{strong}");
    }

    #[test]
    fn a_plan_depends_on_seed_class_and_index_only() {
        let small = SpeechOptions {
            per_class: 5,
            ..SpeechOptions::default()
        };
        let big = SpeechOptions {
            per_class: 500,
            ..SpeechOptions::default()
        };
        assert_eq!(plan(&small, 3, 4).unwrap(), plan(&big, 3, 4).unwrap());
        let other = SpeechOptions {
            seed: 1,
            ..small.clone()
        };
        assert_ne!(
            plan(&small, 3, 4).unwrap().seed,
            plan(&other, 3, 4).unwrap().seed
        );
    }

    #[test]
    fn bad_options_are_refused() {
        for options in [
            SpeechOptions {
                per_class: 0,
                ..SpeechOptions::default()
            },
            SpeechOptions {
                speakers: 41,
                ..SpeechOptions::default()
            },
            SpeechOptions {
                augmentation: Augmentation {
                    snr_db: (30.0, 10.0),
                    ..Augmentation::default()
                },
                ..SpeechOptions::default()
            },
        ] {
            assert!(matches!(
                plan(&options, 0, 0),
                Err(DataError::BadArgument(_))
            ));
        }
        // Speaker 4 speaks German (5 sentences): 99 repetitions at most.
        let options = SpeechOptions {
            speakers: 4,
            ..SpeechOptions::default()
        };
        assert!(plan(&options, 1, 3 + 4 * 494).is_ok());
        let e = plan(&options, 1, 3 + 4 * 495).unwrap_err();
        assert!(e.to_string().contains("repetition 100"), "{e}");
    }
}
