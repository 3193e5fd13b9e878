//! `ProfileError`: one problem with a profile, located in its file, with the allowed values and a
//! help line. Also the translation of the TOML parser's and serde's errors into that form.

use std::fmt::{self, Write as _};
use std::io;
use std::ops::Range;

use toml::de::{DeTable, DeValue};

/// What kind of problem a [`ProfileError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The profile file could not be read.
    Io,
    /// The text is not valid TOML (including duplicate keys).
    Syntax,
    /// A key or table the schema does not have.
    UnknownKey,
    /// A required key or table is absent.
    MissingKey,
    /// A value of the wrong TOML type (a string where an integer belongs, ...).
    WrongType,
    /// A value of the right type that is not allowed (out of range, unknown name, ...).
    BadValue,
    /// Values that are fine alone but contradict each other (pin used twice, a stray table, ...).
    Conflict,
    /// `load` was given a name that is neither a built-in board nor a path.
    UnknownBoard,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Io => "io",
            ErrorKind::Syntax => "syntax",
            ErrorKind::UnknownKey => "unknown key",
            ErrorKind::MissingKey => "missing key",
            ErrorKind::WrongType => "wrong type",
            ErrorKind::BadValue => "bad value",
            ErrorKind::Conflict => "conflict",
            ErrorKind::UnknownBoard => "unknown board",
        })
    }
}

/// A board profile that could not be loaded.
///
/// Displays as
///
/// ```text
/// boards/profiles/x.toml:14:10: display.driver: unknown driver "st7735"
///   allowed: st7789, ili9341, ssd1306, sim-rgb565, sim-mono, none
/// ```
///
/// and its help line (`help: did you mean "st7789"?`) is its [`miette::Diagnostic::help`].
///
/// Line and column are 1-based; the column counts characters.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.render())]
pub struct ProfileError(Box<Details>);

#[derive(Debug)]
struct Details {
    kind: ErrorKind,
    file: Option<String>,
    position: Option<(usize, usize)>,
    key: Option<String>,
    message: String,
    allowed: Vec<String>,
    help: Option<String>,
    io: Option<io::Error>,
    /// The profile text and the offending span, for a renderer that draws the line (miette's
    /// graphical report on a terminal underlines it).
    snippet: Option<(miette::NamedSource<String>, miette::SourceSpan)>,
}

impl ProfileError {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ProfileError(Box::new(Details {
            kind,
            file: None,
            position: None,
            key: None,
            message: message.into(),
            allowed: Vec::new(),
            help: None,
            io: None,
            snippet: None,
        }))
    }

    pub(crate) fn io(path: &str, error: io::Error) -> Self {
        let mut e = ProfileError::new(ErrorKind::Io, format!("cannot read board profile: {error}"));
        e.0.file = Some(path.to_owned());
        e.0.io = Some(error);
        e
    }

    /// Places the error at `span` of the profile text.
    pub(crate) fn at(mut self, src: &Source<'_>, span: Range<usize>) -> Self {
        self.0.file = Some(src.label.to_owned());
        self.0.position = Some(src.position(span.start));
        let start = span.start.min(src.text.len());
        let len = span.end.clamp(start, src.text.len()) - start;
        self.0.snippet = Some((
            miette::NamedSource::new(src.label, src.text.to_owned()),
            (start, len).into(),
        ));
        self
    }

    /// Names the profile without a position (the problem belongs to the whole file).
    pub(crate) fn in_file(mut self, src: &Source<'_>) -> Self {
        self.0.file = Some(src.label.to_owned());
        self
    }

    pub(crate) fn key(mut self, key: impl Into<String>) -> Self {
        self.0.key = Some(key.into());
        self
    }

    pub(crate) fn allowed<I>(mut self, allowed: I) -> Self
    where
        I: IntoIterator,
        I::Item: ToString,
    {
        self.0.allowed = allowed.into_iter().map(|a| a.to_string()).collect();
        self
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> Self {
        self.0.help = Some(help.into());
        self
    }

    /// What kind of problem this is.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The profile file (or `boards/profiles/NAME.toml` for a built-in profile).
    pub fn file(&self) -> Option<&str> {
        self.0.file.as_deref()
    }

    /// 1-based line of the offending text.
    pub fn line(&self) -> Option<usize> {
        self.0.position.map(|(line, _)| line)
    }

    /// 1-based column (in characters) of the offending text.
    pub fn column(&self) -> Option<usize> {
        self.0.position.map(|(_, column)| column)
    }

    /// The dotted key, e.g. `display.spi.dc` or `models.load[2]`.
    pub fn key_path(&self) -> Option<&str> {
        self.0.key.as_deref()
    }

    /// What is wrong, without location, allowed values or help.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The values (or keys) that would have been accepted; empty when there is no short list.
    pub fn allowed_values(&self) -> &[String] {
        &self.0.allowed
    }

    /// A hint on how to fix it.
    pub fn help_text(&self) -> Option<&str> {
        self.0.help.as_deref()
    }

    /// The underlying I/O error of an [`ErrorKind::Io`] error.
    pub fn io_error(&self) -> Option<&io::Error> {
        self.0.io.as_ref()
    }

    fn render(&self) -> String {
        let mut out = String::new();
        match (&self.0.file, self.0.position) {
            (Some(file), Some((line, column))) => {
                let _ = write!(out, "{file}:{line}:{column}: ");
            }
            (Some(file), None) => {
                let _ = write!(out, "{file}: ");
            }
            _ => {}
        }
        if let Some(key) = &self.0.key {
            let _ = write!(out, "{key}: ");
        }
        out.push_str(&self.0.message);
        if !self.0.allowed.is_empty() {
            let _ = write!(out, "\n  allowed: {}", self.0.allowed.join(", "));
        }
        out
    }
}

/// Every profile problem is a data error (exit code 4); the help line is the fix, drawn by the
/// binaries' one renderer after the location, message and allowed values.
impl miette::Diagnostic for ProfileError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        let kind = match self.0.kind {
            ErrorKind::Io => "io",
            ErrorKind::Syntax => "syntax",
            ErrorKind::UnknownKey => "unknown_key",
            ErrorKind::MissingKey => "missing_key",
            ErrorKind::WrongType => "wrong_type",
            ErrorKind::BadValue => "bad_value",
            ErrorKind::Conflict => "conflict",
            ErrorKind::UnknownBoard => "unknown_board",
        };
        Some(Box::new(format!("data::boards::{kind}")))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.0
            .help
            .as_deref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display + 'a>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.0
            .snippet
            .as_ref()
            .map(|(text, _)| text as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let (_, span) = self.0.snippet.as_ref()?;
        let label = self.0.key.clone().unwrap_or_else(|| "here".to_owned());
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_with_span(Some(label), *span),
        )))
    }
}

/// The profile text being checked and how to name it in messages.
pub(crate) struct Source<'a> {
    pub text: &'a str,
    pub label: &'a str,
}

impl Source<'_> {
    /// 1-based (line, column) of byte offset `offset`; the column counts characters.
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = self.text.as_bytes().get(..offset).unwrap_or_default();
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        let column = match self.text.get(line_start..offset) {
            Some(s) => s.chars().count() + 1,
            None => offset - line_start + 1,
        };
        (line, column)
    }

    /// The text of `span`, if it is valid.
    pub(crate) fn slice(&self, span: &Range<usize>) -> Option<&str> {
        self.text.get(span.clone())
    }
}

/// Formats a dotted key path: `["models", "[1]"]` becomes `models[1]`.
pub(crate) fn join_path(parts: &[String]) -> String {
    let mut out = String::new();
    for part in parts {
        if !out.is_empty() && !part.starts_with('[') {
            out.push('.');
        }
        out.push_str(part);
    }
    out
}

/// Levenshtein distance, for "did you mean" hints on short names.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest of `candidates` to `word`, if it is close enough to be a likely typo.
pub(crate) fn closest<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let lower = word.to_ascii_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&lower, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Translates an error of the TOML parser into a [`ProfileError`] of kind `Syntax`.
pub(crate) fn syntax_error(err: &toml::de::Error, src: &Source<'_>) -> ProfileError {
    let message = err
        .message()
        .lines()
        .next()
        .unwrap_or("invalid TOML")
        .trim();
    let span = err.span().unwrap_or(0..0);
    let (message, help) = if message == "duplicate key" {
        let key = src.slice(&span).unwrap_or("?");
        (
            format!("duplicate key `{key}`"),
            "each key may appear once per table, and each [table] header once per file",
        )
    } else {
        (
            format!("invalid TOML: {message}"),
            "check quotes, brackets and `key = value` syntax at this spot",
        )
    };
    ProfileError::new(ErrorKind::Syntax, message)
        .at(src, span)
        .help(help)
}

/// Translates a serde error raised while mapping the parsed document onto the schema
/// (unknown key, missing key, wrong type) into a [`ProfileError`].
pub(crate) fn schema_error(err: &toml::de::Error, src: &Source<'_>) -> ProfileError {
    let message = err.message().lines().next().unwrap_or_default().trim();
    let span = err.span();
    let path = span
        .as_ref()
        .map(|s| key_path_at(src.text, s))
        .unwrap_or_default();
    let located = |e: ProfileError| match &span {
        Some(s) => e.at(src, s.clone()),
        None => e.in_file(src),
    };

    if let Some(rest) = message.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or_default();
        let allowed = backticked(rest.split_once("expected").map_or("", |(_, e)| e));
        let key = if path.is_empty() {
            name.to_owned()
        } else {
            join_path(&path)
        };
        let parent = key.rsplit_once('.').map(|(p, _)| p);
        let what = match parent {
            Some(p) => format!("unknown key `{name}` in [{p}]"),
            None => format!("unknown table or key `{name}`"),
        };
        let help = match closest(name, allowed.iter().map(String::as_str)) {
            Some(close) => format!("did you mean `{close}`?"),
            None => "remove it; docs/boards.md lists every key of the schema".to_owned(),
        };
        return located(ProfileError::new(ErrorKind::UnknownKey, what))
            .key(key)
            .allowed(allowed)
            .help(help);
    }

    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or_default();
        if path.is_empty() {
            // A top-level table is missing: there is no place in the file to point at.
            return ProfileError::new(ErrorKind::MissingKey, format!("missing table [{name}]"))
                .in_file(src)
                .key(name)
                .help(format!(
                    "add a [{name}] table; docs/boards.md lists its keys"
                ));
        }
        let table = join_path(&path);
        let key = format!("{table}.{name}");
        let help = match example_for(&key) {
            Some(example) => format!("add `{example}` to [{table}]"),
            None => format!("add `{name} = ...` to [{table}]; see docs/boards.md"),
        };
        return located(ProfileError::new(
            ErrorKind::MissingKey,
            format!("missing key `{name}` in [{table}]"),
        ))
        .key(key)
        .help(help);
    }

    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let (found, expected) = rest.rsplit_once(", expected ").unwrap_or((rest, "?"));
        let key = join_path(&path);
        if found.ends_with(" as i128") {
            let e = ProfileError::new(ErrorKind::BadValue, "integer is far too large")
                .help("see the allowed range in docs/boards.md");
            return located(e).key(key);
        }
        let expected = describe_expected(expected);
        let found_desc = describe_found(found);
        let help = type_help(&key, &expected, found);
        let e = ProfileError::new(
            ErrorKind::WrongType,
            format!("expected {expected}, found {found_desc}"),
        )
        .help(help);
        return located(e).key(key);
    }

    let mut e = located(ProfileError::new(ErrorKind::WrongType, message.to_owned()));
    if !path.is_empty() {
        e = e.key(join_path(&path));
    }
    e
}

/// All `` `name` `` words in serde's "expected one of `a`, `b`" text.
fn backticked(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn describe_expected(expected: &str) -> String {
    let e = expected.trim();
    match e {
        "i8" | "i16" | "i32" | "i64" | "i128" | "u8" | "u16" | "u32" | "u64" | "u128"
        | "an integer" => "an integer".to_owned(),
        "f32" | "f64" | "a float" => "a number".to_owned(),
        "a string" | "a borrowed string" => "a string".to_owned(),
        "a sequence" => "an array".to_owned(),
        "a boolean" => "true or false".to_owned(),
        _ if e.starts_with("struct ") || e == "a map" => "a table".to_owned(),
        _ => e.to_owned(),
    }
}

fn describe_found(found: &str) -> String {
    let f = found.trim();
    let value = |prefix: &str| f.strip_prefix(prefix).map(|v| v.trim_matches('`'));
    if let Some(v) = f.strip_prefix("string ") {
        format!("a string ({v})")
    } else if let Some(v) = value("integer ") {
        format!("an integer ({v})")
    } else if let Some(v) = value("floating point ") {
        format!("a float ({v})")
    } else if let Some(v) = value("boolean ") {
        format!("a boolean ({v})")
    } else if f == "sequence" {
        "an array".to_owned()
    } else if f == "map" {
        "a table".to_owned()
    } else {
        f.to_owned()
    }
}

fn type_help(dotted: &str, expected: &str, found: &str) -> String {
    // `models.load[1]` is an item of `models.load`: the example is for the whole key.
    let dotted = dotted.split('[').next().unwrap_or(dotted);
    let key = dotted.rsplit('.').next().unwrap_or(dotted);
    let example = example_for(dotted);
    match expected {
        "an integer" => {
            let quoted_number = found
                .strip_prefix("string \"")
                .and_then(|s| s.strip_suffix('"'))
                .map(str::trim)
                .filter(|n| n.parse::<i64>().is_ok());
            match (quoted_number, example) {
                (Some(n), _) => format!("write the number without quotes: `{key} = {n}`"),
                (None, Some(e)) => format!("write a whole number, e.g. `{e}`"),
                (None, None) => format!("write a whole number, e.g. `{key} = 4`"),
            }
        }
        "a number" => {
            let quoted_number = found
                .strip_prefix("string \"")
                .and_then(|s| s.strip_suffix('"'))
                .map(str::trim)
                .filter(|n| n.parse::<f64>().is_ok());
            match (quoted_number, example) {
                (Some(n), _) => format!("write the number without quotes: `{key} = {n}`"),
                (None, Some(e)) => format!("write a number, e.g. `{e}`"),
                (None, None) => format!("write a number, e.g. `{key} = 1.0`"),
            }
        }
        "a string" => match example {
            Some(e) => format!("put the value in double quotes, e.g. `{e}`"),
            None => format!("put the value in double quotes, e.g. `{key} = \"...\"`"),
        },
        "an array" => match example {
            Some(e) => format!("write a list in brackets, e.g. `{e}`"),
            None => format!("write a list in brackets, e.g. `{key} = [\"a\", \"b\"]`"),
        },
        "a table" => format!("write it as a table: a `[{dotted}]` header followed by its keys"),
        _ => "see docs/boards.md for the schema".to_owned(),
    }
}

/// An example line for a key, used in "missing key" help.
pub(crate) fn example_for(key: &str) -> Option<&'static str> {
    Some(match key {
        "board.name" => "name = \"myboard\"",
        "board.description" => "description = \"what this board is\"",
        "cpu.arch" => "arch = \"aarch64\"",
        "cpu.cores" => "cores = 4",
        "cpu.features" => "features = [\"neon\"]",
        "camera.driver" => "driver = \"v4l\"",
        "camera.device" => "device = \"/dev/video0\"",
        "camera.width" => "width = 640",
        "camera.height" => "height = 480",
        "camera.fps" => "fps = 30",
        "camera.pixel_format" => "pixel_format = \"yuyv\"",
        "audio.driver" => "driver = \"alsa\"",
        "audio.capture" => "capture = \"plughw:1,0\"",
        "audio.playback" => "playback = \"plughw:0,0\"",
        "audio.rate" => "rate = 16000",
        "display.driver" => "driver = \"st7789\"",
        "display.width" => "width = 240",
        "display.height" => "height = 240",
        "display.spi.device" => "device = \"/dev/spidev0.0\"",
        "display.spi.speed_hz" => "speed_hz = 40000000",
        "display.spi.gpio_chip" => "gpio_chip = \"/dev/gpiochip0\"",
        "display.spi.dc" => "dc = 25",
        "display.spi.reset" => "reset = 27",
        "display.i2c.device" => "device = \"/dev/i2c-1\"",
        "display.i2c.address" => "address = 0x3c",
        "gpio.chip" => "chip = \"/dev/gpiochip0\"",
        "gpio.button" => "button = 17",
        "gpio.next" => "next = 22",
        "gpio.volume_up" => "volume_up = 23",
        "gpio.volume_down" => "volume_down = 24",
        "serial.device" => "device = \"/dev/ttyGS0\"",
        "serial.baud" => "baud = 921600",
        "runtime.threads" => "threads = 4",
        "runtime.precision" => "precision = \"f32\"",
        "runtime.kernels" => "kernels = \"auto\"",
        "models.load" => "load = [\"fer\", \"ser\"]",
        "faces.scale_factor" => "scale_factor = 1.1",
        "faces.min_neighbors" => "min_neighbors = 3",
        "faces.min_size" => "min_size = 24",
        "faces.detect_every" => "detect_every = 3",
        "faces.downscale" => "downscale = 2",
        "mood.face_weight" => "face_weight = 1.0",
        "mood.voice_weight" => "voice_weight = 1.0",
        "mood.emoji_weight" => "emoji_weight = 1.0",
        "mood.face_stale_ms" => "face_stale_ms = 2000",
        "mood.voice_stale_ms" => "voice_stale_ms = 6000",
        "mood.emoji_stale_ms" => "emoji_stale_ms = 5000",
        "mood.smoothing_ms" => "smoothing_ms = 1500",
        "mood.hysteresis" => "hysteresis = 0.1",
        "mood.min_dwell_ms" => "min_dwell_ms = 3000",
        "mood.min_confidence" => "min_confidence = 0.3",
        "mood.idle_mood" => "idle_mood = \"neutral\"",
        "music.folders" => "folders = { happy = \"/var/lib/sentio/music/happy\" }",
        "music.fallback_mood" => "fallback_mood = \"neutral\"",
        "music.crossfade_ms" => "crossfade_ms = 3000",
        "music.skip_crossfade_ms" => "skip_crossfade_ms = 500",
        "music.min_dwell_ms" => "min_dwell_ms = 2000",
        "music.long_dwell_ms" => "long_dwell_ms = 60000",
        "music.no_repeat" => "no_repeat = 3",
        "music.seed" => "seed = 7",
        "music.duck_depth_db" => "duck_depth_db = 12.0",
        "music.duck_attack_ms" => "duck_attack_ms = 150",
        "music.duck_release_ms" => "duck_release_ms = 800",
        "music.target_lufs" => "target_lufs = -18.0",
        "music.max_gain_db" => "max_gain_db = 12.0",
        "music.volume" => "volume = 0.8",
        "music.loudness_cache" => "loudness_cache = \"/var/lib/sentio/loudness.json\"",
        "pointer.driver" => "driver = \"evdev\"",
        "pointer.strokes" => "strokes = \"sim/strokes.json\"",
        "pointer.device" => "device = \"/dev/input/event0\"",
        "pointer.idle_ms" => "idle_ms = 1500",
        _ => return None,
    })
}

/// The dotted path of the key whose name or value sits exactly at `span` (the deepest one, as
/// an implicit parent table can share its child's header span). Empty when nothing matches,
/// which is how errors about the document root show up.
fn key_path_at(text: &str, span: &Range<usize>) -> Vec<String> {
    let Ok(root) = DeTable::parse(text) else {
        return Vec::new();
    };
    let mut best = Vec::new();
    let mut path = Vec::new();
    search_table(root.get_ref(), span, &mut path, &mut best);
    best
}

fn search_table(
    table: &DeTable<'_>,
    span: &Range<usize>,
    path: &mut Vec<String>,
    best: &mut Vec<String>,
) {
    for (key, value) in table.iter() {
        path.push(key.get_ref().to_string());
        if (key.span() == *span || value.span() == *span) && path.len() > best.len() {
            *best = path.clone();
        }
        search_value(value.get_ref(), span, path, best);
        path.pop();
    }
}

fn search_value(
    value: &DeValue<'_>,
    span: &Range<usize>,
    path: &mut Vec<String>,
    best: &mut Vec<String>,
) {
    match value {
        DeValue::Table(table) => search_table(table, span, path, best),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(format!("[{i}]"));
                if item.span() == *span && path.len() > best.len() {
                    *best = path.clone();
                }
                search_value(item.get_ref(), span, path, best);
                path.pop();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str) -> Source<'_> {
        Source {
            text,
            label: "t.toml",
        }
    }

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let s = src("a = 1\nbé = \"x\"\n");
        assert_eq!(s.position(0), (1, 1));
        assert_eq!(s.position(4), (1, 5));
        assert_eq!(s.position(6), (2, 1));
        // "bé = " is 6 bytes but 5 characters; the value starts in column 6.
        assert_eq!(s.position(12), (2, 6));
        assert_eq!(s.position(999), (3, 1));
    }

    #[test]
    fn paths_join_with_dots_and_brackets() {
        let parts = ["models".to_owned(), "load".to_owned(), "[2]".to_owned()];
        assert_eq!(join_path(&parts), "models.load[2]");
        assert_eq!(join_path(&[]), "");
    }

    #[test]
    fn typo_suggestions() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(
            closest("pixelformat", ["driver", "pixel_format"]),
            Some("pixel_format")
        );
        assert_eq!(closest("zzz", ["driver", "device"]), None);
        assert_eq!(closest("RPI4", ["rpi4", "rpi5"]), Some("rpi4"));
    }

    #[test]
    fn key_path_finds_keys_values_and_array_items() {
        let text = "[a]\nx = 1\n[b.c]\ny = [\"p\", 3]\n";
        let at = |needle: &str, nth: usize| {
            let start = text
                .match_indices(needle)
                .nth(nth)
                .map(|(i, _)| i)
                .unwrap_or(0);
            start..start + needle.len()
        };
        assert_eq!(key_path_at(text, &at("x", 0)), ["a", "x"]);
        assert_eq!(key_path_at(text, &at("1", 0)), ["a", "x"]);
        assert_eq!(key_path_at(text, &at("[b.c]", 0)), ["b", "c"]);
        assert_eq!(key_path_at(text, &at("3", 0)), ["b", "c", "y", "[1]"]);
        assert!(key_path_at(text, &(0..0)).is_empty());
    }

    #[test]
    fn display_puts_everything_in_order_and_the_help_is_the_diagnostic_s() {
        let s = src("[display]\ndriver = \"st7735\"\n");
        let e = ProfileError::new(ErrorKind::BadValue, "unknown driver \"st7735\"")
            .at(&s, 19..27)
            .key("display.driver")
            .allowed(["st7789", "none"])
            .help("pick one");
        assert_eq!(
            e.to_string(),
            "t.toml:2:10: display.driver: unknown driver \"st7735\"\n  allowed: st7789, none"
        );
        let help = miette::Diagnostic::help(&e).map(|h| h.to_string());
        assert_eq!(help.as_deref(), Some("pick one"));
        let code = miette::Diagnostic::code(&e).map(|c| c.to_string());
        assert_eq!(code.as_deref(), Some("data::boards::bad_value"));
        assert_eq!(e.kind(), ErrorKind::BadValue);
        assert_eq!((e.line(), e.column()), (Some(2), Some(10)));
    }
}
