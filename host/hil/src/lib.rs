//! Hardware-in-the-loop runs: a case file names inputs to stream into a device (an image for the
//! camera, a WAV clip for the microphone) and the events that must come out (expression, speech,
//! mood, emoji labels) within a deadline. [`run_cases`] flashes the bundles the file names, runs
//! every case in a session of its own over a [`Connection`], and returns one [`CaseResult`] per
//! case; [`junit_xml`] and [`summary`] report them. Nothing here prints or reads a clock other
//! than the connection's.
//!
//! ```toml
//! bundles = ["fer.bundle"]          # flashed first (an identical one is skipped)
//!
//! [[case]]
//! name = "a smiling face and a happy voice"
//! image = "faces/happy.jpg"         # PNG or JPEG, sent as it is
//! audio = "voice/happy.wav"         # any WAV: mixed to mono, resampled to 16 kHz
//! timeout_s = 15                    # default 10
//! expect = { expression = "happy", speech = "happy", mood = "happy" }
//! ```

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use std::io::{Read, Write};

use sentio_flash::{Connection, FlashOptions, FlashOutcome, Push};
pub use sentio_link::InputStream;
use sentio_link::{InjectInput, MAX_CHUNK};
use serde::Deserialize;

/// The rate the device's microphone input is sent at (the SER models' and the boards' rate).
pub const AUDIO_RATE: u32 = 16_000;

/// Why a case file cannot be run.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum HilError {
    #[error("cannot read {path}: {source}")]
    #[diagnostic(
        code(data::hil::read),
        help("check the path (relative paths are relative to the case file)")
    )]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid case file: {message}")]
    #[diagnostic(
        code(data::hil::parse),
        help("see `sentio hil run --help` for the format")
    )]
    Parse { path: PathBuf, message: String },
    #[error("case {case:?}: {problem}")]
    #[diagnostic(code(data::hil::case))]
    Case { case: String, problem: String },
    #[error("{path}: {source}")]
    #[diagnostic(code(data::hil::audio))]
    Audio {
        path: PathBuf,
        #[diagnostic_source]
        source: sentio_audio::AudioError,
    },
    #[error("{path} is not a valid bundle: {message}")]
    #[diagnostic(code(data::hil::bundle))]
    Bundle { path: PathBuf, message: String },
    #[error("the link failed: {0}")]
    #[diagnostic(code(data::hil::link))]
    Link(
        #[from]
        #[diagnostic_source]
        sentio_flash::Error,
    ),
}

/// What must come out of a case: each label given must be reported by the device.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub expression: Option<String>,
    pub speech: Option<String>,
    pub mood: Option<String>,
    pub emoji: Option<String>,
}

impl Expect {
    /// (link topic, label) pairs to see.
    fn wanted(&self) -> Vec<(&'static str, &str)> {
        [
            ("expression", &self.expression),
            ("speech", &self.speech),
            ("mood", &self.mood),
            ("emoji", &self.emoji),
        ]
        .into_iter()
        .filter_map(|(topic, label)| label.as_deref().map(|l| (topic, l)))
        .collect()
    }
}

/// One case of a case file.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    pub image: Option<PathBuf>,
    pub audio: Option<PathBuf>,
    #[serde(default = "default_timeout")]
    pub timeout_s: f64,
    #[serde(default)]
    pub expect: Expect,
}

fn default_timeout() -> f64 {
    10.0
}

/// A parsed case file; paths are resolved against its folder.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    #[serde(default)]
    pub bundles: Vec<PathBuf>,
    #[serde(rename = "case", default)]
    pub cases: Vec<Case>,
}

impl CaseFile {
    /// Reads and checks `path`: every case has a name, something to expect and a positive
    /// timeout; every file it names exists.
    pub fn load(path: &Path) -> Result<CaseFile, HilError> {
        let text = std::fs::read_to_string(path).map_err(|source| HilError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, base).map_err(|message| HilError::Parse {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses case-file text whose relative paths are relative to `base`.
    pub fn parse(text: &str, base: &Path) -> Result<CaseFile, String> {
        let mut file: CaseFile = toml::from_str(text).map_err(|e| e.to_string())?;
        if file.cases.is_empty() {
            return Err("no [[case]]: add at least one".into());
        }
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        file.bundles.iter_mut().for_each(resolve);
        for case in &mut file.cases {
            if case.name.trim().is_empty() {
                return Err("a case without a name".into());
            }
            if case.expect.wanted().is_empty() {
                return Err(format!(
                    "case {:?} expects nothing: add expect = {{ expression = \"happy\" }} (or \
                     speech, mood, emoji)",
                    case.name
                ));
            }
            if !(case.timeout_s > 0.0 && case.timeout_s.is_finite()) {
                return Err(format!(
                    "case {:?}: timeout_s must be a positive number of seconds",
                    case.name
                ));
            }
            if case.image.is_none() && case.audio.is_none() {
                return Err(format!(
                    "case {:?} has no input: give image = \"...\" and/or audio = \"...\"",
                    case.name
                ));
            }
            case.image.iter_mut().for_each(resolve);
            case.audio.iter_mut().for_each(resolve);
            for p in case.image.iter().chain(&case.audio) {
                if !p.is_file() {
                    return Err(format!(
                        "case {:?}: {} does not exist",
                        case.name,
                        p.display()
                    ));
                }
            }
        }
        Ok(file)
    }
}

/// How a case ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Passed,
    /// What was expected and what came out instead.
    Failed {
        expected: String,
        got: String,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct CaseResult {
    pub name: String,
    pub seconds: f64,
    pub outcome: Outcome,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.outcome == Outcome::Passed
    }
}

/// What [`run_cases`] reports as it goes (the CLI draws it).
pub trait Progress {
    fn bundle(&mut self, _path: &Path, _outcome: FlashOutcome) {}
    fn case_started(&mut self, _case: &Case) {}
    fn case_done(&mut self, _result: &CaseResult) {}
}

impl Progress for () {}

/// Streams `bytes` (an image file, or 16-bit PCM at [`AUDIO_RATE`]) into the device as
/// `stream`, in pieces numbered from 0.
pub fn inject<T: Read + Write>(
    connection: &mut Connection<T>,
    stream: InputStream,
    bytes: &[u8],
) -> Result<(), HilError> {
    for input in pieces(stream, bytes) {
        connection.inject_input(input)?;
    }
    Ok(())
}

/// `bytes` as pieces of `stream`, numbered from 0.
fn pieces(stream: InputStream, bytes: &[u8]) -> Vec<InjectInput> {
    let count = bytes.len().div_ceil(MAX_CHUNK).max(1);
    (0..count)
        .map(|i| {
            let piece = bytes.get(i * MAX_CHUNK..bytes.len().min((i + 1) * MAX_CHUNK));
            let mut data = heapless::Vec::new();
            // A piece is at most MAX_CHUNK bytes by construction, so it always fits.
            let _ = data.extend_from_slice(piece.unwrap_or(&[]));
            InjectInput {
                stream,
                seq: i as u32,
                last: i + 1 == count,
                data,
            }
        })
        .collect()
}

/// The WAV at `path` as 16 kHz mono 16-bit little-endian PCM, as the device takes it.
pub fn audio_pcm(path: &Path) -> Result<Vec<u8>, HilError> {
    let audio = sentio_audio::read_wav(path).map_err(|source| HilError::Audio {
        path: path.to_path_buf(),
        source,
    })?;
    let samples = sentio_audio::resample(&audio.samples, audio.sample_rate, AUDIO_RATE);
    Ok(samples
        .iter()
        .flat_map(|&x| ((x * 32768.0).round().clamp(-32768.0, 32767.0) as i16).to_le_bytes())
        .collect())
}

/// Flashes the file's bundles, then runs each case in a session of its own (a new session ends
/// the previous case's injection): its image and audio are streamed, and the device's events
/// are read until every expected label was reported or the case's time is up. The connection
/// is reopened for each case over the same transport.
pub fn run_cases<T: Read + Write>(
    mut connection: Connection<T>,
    file: &CaseFile,
    progress: &mut dyn Progress,
) -> Result<Vec<CaseResult>, HilError> {
    for path in &file.bundles {
        let bytes = std::fs::read(path).map_err(|source| HilError::Read {
            path: path.clone(),
            source,
        })?;
        let name = sentio_models::BundleView::parse(&bytes)
            .map_err(|e| HilError::Bundle {
                path: path.clone(),
                message: e.to_string(),
            })?
            .manifest()
            .name
            .clone();
        let report = connection.flash(&name, bytes.as_slice(), &FlashOptions::default(), ())?;
        progress.bundle(path, report.outcome);
    }
    let mut results = Vec::new();
    // The device reports expressions, moods and emoji only when they change: the last label
    // seen of each still holds.
    let mut state = State::default();
    for case in &file.cases {
        progress.case_started(case);
        let options = connection.options().clone();
        let transport = connection.close()?;
        connection = Connection::open(transport, options)?;
        connection.subscribe(true, false)?;
        let start = Instant::now();
        if let Some(image) = &case.image {
            let bytes = std::fs::read(image).map_err(|source| HilError::Read {
                path: image.clone(),
                source,
            })?;
            inject(&mut connection, InputStream::Camera, &bytes)?;
        }
        if let Some(audio) = &case.audio {
            inject(&mut connection, InputStream::Audio, &audio_pcm(audio)?)?;
        }
        let result = watch(&mut connection, case, start, &mut state)?;
        progress.case_done(&result);
        results.push(result);
    }
    Ok(results)
}

/// The last label the device reported per topic that it reports on change only.
#[derive(Default)]
struct State {
    labels: Vec<(String, String)>,
}

impl State {
    /// Topics the device reports only when their label changes.
    const ON_CHANGE: [&'static str; 3] = ["expression", "mood", "emoji"];

    fn get(&self, topic: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(t, _)| t == topic)
            .map(|(_, l)| l.as_str())
    }

    fn set(&mut self, topic: &str, label: &str) {
        if !Self::ON_CHANGE.contains(&topic) {
            return;
        }
        match self.labels.iter_mut().find(|(t, _)| t == topic) {
            Some(entry) => entry.1 = label.to_string(),
            None => self.labels.push((topic.to_string(), label.to_string())),
        }
    }
}

/// How long a case waits before a label that was already holding counts: long enough for the
/// device to take in the new input and report a change if there is one.
const SETTLE: Duration = Duration::from_secs(2);

/// Reads events until `case`'s expectations are met or its time is up.
fn watch<T: Read + Write>(
    connection: &mut Connection<T>,
    case: &Case,
    start: Instant,
    state: &mut State,
) -> Result<CaseResult, HilError> {
    let wanted = case.expect.wanted();
    let mut seen: Vec<(String, String)> = Vec::new();
    let timeout = Duration::from_secs_f64(case.timeout_s);
    let deadline = start + timeout;
    let settle = start + SETTLE.min(timeout);
    let met = |seen: &[(String, String)], state: &State| {
        wanted.iter().all(|(topic, label)| {
            seen.iter().any(|(t, l)| t == topic && l == label)
                || (Instant::now() >= settle && state.get(topic) == Some(*label))
        })
    };
    while !met(&seen, state) && Instant::now() < deadline {
        let wait = deadline
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(100));
        if let Some(Push::Event(event)) = connection.next_event(wait)? {
            let (topic, label) = (event.topic.to_string(), event.label.to_string());
            state.set(&topic, &label);
            if wanted.iter().any(|(t, _)| *t == topic) {
                seen.push((topic, label));
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let outcome = if met(&seen, state) {
        Outcome::Passed
    } else {
        let expected = wanted
            .iter()
            .map(|(t, l)| format!("{t} {l}"))
            .collect::<Vec<_>>()
            .join(", ");
        let got = wanted
            .iter()
            .map(|(topic, _)| {
                let labels: Vec<&str> = seen
                    .iter()
                    .filter(|(t, _)| t == topic)
                    .map(|(_, l)| l.as_str())
                    .collect();
                match (labels.is_empty(), state.get(topic)) {
                    (false, _) => format!("{topic} {}", labels.join(" / ")),
                    (true, Some(held)) => format!("{topic} {held} (unchanged)"),
                    (true, None) => format!("no {topic} event"),
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        Outcome::Failed {
            expected: format!("{expected} within {} s", case.timeout_s),
            got,
        }
    };
    Ok(CaseResult {
        name: case.name.clone(),
        seconds,
        outcome,
    })
}

fn xml_escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".into(),
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '"' => "&quot;".into(),
            '\'' => "&apos;".into(),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => " ".into(),
            c => c.to_string(),
        })
        .collect()
}

/// A JUnit XML report of `results` as one test suite named `suite` (the board's port).
pub fn junit_xml(suite: &str, results: &[CaseResult]) -> String {
    let failures = results.iter().filter(|r| !r.passed()).count();
    let total: f64 = results.iter().map(|r| r.seconds).sum();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites tests=\"{}\" failures=\"{failures}\" time=\"{total:.3}\">",
        results.len()
    );
    let _ = writeln!(
        xml,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"{total:.3}\">",
        xml_escape(suite),
        results.len()
    );
    for r in results {
        let _ = write!(
            xml,
            "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
            xml_escape(suite),
            xml_escape(&r.name),
            r.seconds
        );
        match &r.outcome {
            Outcome::Passed => xml.push_str("/>\n"),
            Outcome::Failed { expected, got } => {
                let message = format!("expected {expected}; got {got}");
                let _ = writeln!(
                    xml,
                    ">\n      <failure message=\"{}\" type=\"expectation\">{}</failure>\n    </testcase>",
                    xml_escape(&message),
                    xml_escape(&message)
                );
            }
        }
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

/// A plain-text table of `results` for a terminal.
pub fn summary(board: &str, results: &[CaseResult]) -> String {
    let width = results
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut text = format!("{board}\n");
    for r in results {
        let verdict = match &r.outcome {
            Outcome::Passed => "pass".to_string(),
            Outcome::Failed { expected, got } => format!("FAIL  expected {expected}; got {got}"),
        };
        let _ = writeln!(
            text,
            "  {:<width$}  {:>6.2} s  {verdict}",
            r.name, r.seconds
        );
    }
    let passed = results.iter().filter(|r| r.passed()).count();
    let _ = writeln!(text, "  {passed} of {} passed", results.len());
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_file_is_checked_and_its_paths_resolved() {
        let dir = std::env::temp_dir().join(format!("sentio-hil-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        std::fs::write(dir.join("face.png"), b"png").ok();
        let ok = CaseFile::parse(
            "[[case]]\nname = \"a\"\nimage = \"face.png\"\nexpect = { expression = \"happy\" }\n",
            &dir,
        );
        let file = ok.as_ref().map_err(String::as_str);
        assert_eq!(
            file.map(|f| (f.cases[0].image.clone(), f.cases[0].timeout_s)),
            Ok((Some(dir.join("face.png")), 10.0))
        );
        for (text, says) in [
            ("", "no [[case]]"),
            (
                "[[case]]\nname = \"a\"\nimage = \"face.png\"\n",
                "expects nothing",
            ),
            (
                "[[case]]\nname = \"a\"\nexpect = { mood = \"happy\" }\n",
                "has no input",
            ),
            (
                "[[case]]\nname = \"a\"\nimage = \"gone.png\"\nexpect = { mood = \"happy\" }\n",
                "does not exist",
            ),
            (
                "[[case]]\nname = \"a\"\nimage = \"face.png\"\nexpect = { mod = \"happy\" }\n",
                "unknown field",
            ),
        ] {
            let err = CaseFile::parse(text, &dir).err().unwrap_or_default();
            assert!(err.contains(says), "{text:?}: {err}");
        }
    }

    #[test]
    fn pieces_are_numbered_and_the_last_marked() {
        let bytes = vec![7u8; 2 * MAX_CHUNK + 5];
        let p = pieces(InputStream::Camera, &bytes);
        assert_eq!(p.len(), 3);
        assert_eq!(
            p.iter()
                .map(|i| (i.seq, i.last, i.data.len()))
                .collect::<Vec<_>>(),
            [(0, false, MAX_CHUNK), (1, false, MAX_CHUNK), (2, true, 5)]
        );
    }

    #[test]
    fn the_junit_report_escapes_and_lists_failures() {
        let results = [
            CaseResult {
                name: "smile <1>".into(),
                seconds: 1.5,
                outcome: Outcome::Passed,
            },
            CaseResult {
                name: "frown".into(),
                seconds: 10.0,
                outcome: Outcome::Failed {
                    expected: "expression sad within 10 s".into(),
                    got: "expression happy".into(),
                },
            },
        ];
        let xml = junit_xml("/dev/ttyACM0", &results);
        assert!(
            xml.contains("name=\"smile &lt;1&gt;\" time=\"1.500\"/>"),
            "{xml}"
        );
        assert!(xml.contains("failures=\"1\""));
        assert!(xml.contains("expected expression sad within 10 s; got expression happy"));
        let text = summary("/dev/ttyACM0", &results);
        assert!(text.contains("1 of 2 passed"), "{text}");
    }
}
