//! Stroke files: recorded pen input for the simulated touch panel and for tests of sketch mode.
//!
//! ```json
//! {"format": "sentio-strokes", "version": 1, "width": 240, "height": 240,
//!  "strokes": [[[12.0, 40.5, 0.0], [14.0, 41.0, 16.0]], [[60.0, 40.0, 600.0]]]}
//! ```
//!
//! Each point is `[x, y, t_ms]`: panel coordinates (0 <= x < width, 0 <= y < height; x right, y
//! down) and milliseconds from the file's start, never decreasing over the whole file. The pen is
//! down from a stroke's first point to its last. A pause with the pen up of at least the device's
//! idle time (`pointer.idle_ms`, 1.5 s by default) ends a drawing, so one file can hold many.
//!
//! Everything in a file is checked when it is read; a problem is a [`HalError`] of kind
//! [`ErrorKind::InvalidData`] that says what is wrong and where (stroke i, point j, counted from 0).

// The content comes from outside: a bad file is an error, never a panic.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::pointer::Stroke;
use crate::{ErrorKind, HalError};

/// The `format` every stroke file names.
pub const STROKE_FORMAT: &str = "sentio-strokes";
/// The `version` this build reads and writes.
pub const STROKE_VERSION: u64 = 1;
/// The largest width or height of a stroke file.
pub const MAX_STROKE_EXTENT: u32 = 8192;

const KEYS: [&str; 5] = ["format", "version", "width", "height", "strokes"];

const HELP: &str = "a stroke file is JSON: {\"format\": \"sentio-strokes\", \"version\": 1, \
    \"width\": 240, \"height\": 240, \"strokes\": [[[x, y, t_ms], ...], ...]} with \
    0 <= x < width, 0 <= y < height and t_ms the milliseconds from the start, never decreasing; \
    StrokeFile::from_drawings(...).write(path) makes one";

/// A stroke file in memory: the panel size and every stroke's points as `[x, y, t_ms]`.
#[derive(Clone, Debug, PartialEq)]
pub struct StrokeFile {
    pub width: u32,
    pub height: u32,
    pub strokes: Vec<Vec<[f32; 3]>>,
}

impl StrokeFile {
    /// Reads and checks a stroke file.
    pub fn read(path: impl AsRef<Path>) -> Result<StrokeFile, HalError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| {
            HalError::io(device(path), "cannot read the stroke file", e).with_help(
                "check the path (a board profile's pointer.strokes is relative to its folder)",
            )
        })?;
        StrokeFile::parse(&bytes, &path.display().to_string())
    }

    /// Parses and checks stroke-file bytes; `name` (usually the path) names them in errors.
    pub fn parse(bytes: &[u8], name: &str) -> Result<StrokeFile, HalError> {
        let bad = |message: String| invalid(name, message);
        if let Some(kind) = image_kind(bytes) {
            return Err(bad(format!("this is a {kind} image, not a stroke file")));
        }
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| bad(format!("not JSON: {e}")).with_source(e))?;
        let Value::Object(top) = value else {
            return Err(bad(format!(
                "the top level is {}, not an object",
                describe(&value)
            )));
        };
        if let Some(key) = top.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(bad(format!(
                "unknown key {key:?} (the keys are {})",
                KEYS.join(", ")
            )));
        }
        let get = |key: &str| top.get(key).ok_or_else(|| bad(format!("no {key:?} key")));

        match get("format")? {
            Value::String(f) if f == STROKE_FORMAT => {}
            other => {
                return Err(bad(format!(
                    "\"format\" is {}, not \"{STROKE_FORMAT}\"",
                    describe(other)
                )));
            }
        }
        match get("version")? {
            Value::Number(n) if n.as_u64() == Some(STROKE_VERSION) => {}
            Value::Number(n) => {
                return Err(bad(format!(
                    "version {n} is not supported (this build reads version {STROKE_VERSION})"
                )));
            }
            other => {
                return Err(bad(format!(
                    "\"version\" is {}, not a number",
                    describe(other)
                )));
            }
        }
        let side = |key: &str| -> Result<u32, HalError> {
            let value = get(key)?;
            match (value, value.as_u64().and_then(|n| u32::try_from(n).ok())) {
                (_, Some(n)) if (1..=MAX_STROKE_EXTENT).contains(&n) => Ok(n),
                (Value::Number(n), _) => Err(bad(format!(
                    "{key} {n} is out of range (a whole number of pixels, 1 to {MAX_STROKE_EXTENT})"
                ))),
                _ => Err(bad(format!("{key:?} is {}, not a number", describe(value)))),
            }
        };
        let width = side("width")?;
        let height = side("height")?;

        let strokes_value = get("strokes")?;
        let Value::Array(raw_strokes) = strokes_value else {
            return Err(bad(format!(
                "\"strokes\" is {}, not a list of strokes",
                describe(strokes_value)
            )));
        };
        let mut strokes = Vec::with_capacity(raw_strokes.len());
        for (i, raw_stroke) in raw_strokes.iter().enumerate() {
            let Value::Array(raw_points) = raw_stroke else {
                return Err(bad(format!(
                    "stroke {i} (strokes[{i}]) is {}, not a list of points",
                    describe(raw_stroke)
                )));
            };
            let mut points = Vec::with_capacity(raw_points.len());
            for (j, raw_point) in raw_points.iter().enumerate() {
                let point = match raw_point {
                    Value::Array(xyt) => match xyt.as_slice() {
                        [x, y, t] => match (x.as_f64(), y.as_f64(), t.as_f64()) {
                            // JSON has no NaN or infinity; a number beyond f32 becomes infinite
                            // here and is caught by the checks below.
                            (Some(x), Some(y), Some(t)) => Some([x as f32, y as f32, t as f32]),
                            _ => None,
                        },
                        _ => None,
                    },
                    _ => None,
                };
                let Some(point) = point else {
                    return Err(bad(format!(
                        "stroke {i}, point {j} (strokes[{i}][{j}]) is {}, not 3 numbers [x, y, t_ms]",
                        describe(raw_point)
                    )));
                };
                points.push(point);
            }
            strokes.push(points);
        }
        let file = StrokeFile {
            width,
            height,
            strokes,
        };
        file.check().map_err(bad)?;
        Ok(file)
    }

    /// The file as JSON text, one stroke per line. Refuses a file that [`StrokeFile::parse`]
    /// would refuse, so nothing unreadable is ever written.
    pub fn to_json(&self) -> Result<String, HalError> {
        self.check()
            .map_err(|message| invalid("(to be written)", message))?;
        let mut out = format!(
            "{{\"format\": \"{STROKE_FORMAT}\", \"version\": {STROKE_VERSION}, \"width\": {}, \"height\": {},\n \"strokes\": [",
            self.width, self.height
        );
        for (i, stroke) in self.strokes.iter().enumerate() {
            let line = serde_json::to_string(stroke).map_err(|e| {
                invalid("(to be written)", format!("cannot encode stroke {i}: {e}"))
            })?;
            out.push_str(if i == 0 { "\n  " } else { ",\n  " });
            out.push_str(&line);
        }
        out.push_str("\n]}\n");
        Ok(out)
    }

    /// Writes the file; it appears whole or not at all ([`sentio_files::write_bytes_atomically`]),
    /// so a power cut never leaves half a file.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<(), HalError> {
        let path = path.as_ref();
        let json = self.to_json().map_err(|e| {
            HalError::new(e.kind(), device(path), e.message().to_owned()).with_help(HELP)
        })?;
        sentio_files::write_bytes_atomically(path, json.as_bytes()).map_err(|e| {
            HalError::io(device(path), "cannot write the stroke file", e)
                .with_help("check that the folder exists and is writable")
        })
    }

    /// A file holding `drawings` one after the other, with times made up as follows: the first
    /// stroke starts at 0 ms; each stroke's points are spread evenly over `stroke_ms` (the first
    /// at its start, the last `stroke_ms` later; a one-point stroke takes no time); within a
    /// drawing the pen is up for `stroke_ms` before the next stroke; between two drawings it is
    /// up for `gap_ms`. Replayed to a [`crate::StrokeCollector`] whose idle time is longer than
    /// `stroke_ms` and at most `gap_ms` (e.g. 300 and 2000 for the device's 1.5 s), it gives back
    /// `drawings`. Empty drawings are skipped.
    pub fn from_drawings(
        width: u32,
        height: u32,
        drawings: &[Vec<Stroke>],
        stroke_ms: u32,
        gap_ms: u32,
    ) -> Result<StrokeFile, HalError> {
        const NAME: &str = "(made from drawings)";
        if gap_ms <= stroke_ms {
            return Err(invalid(
                NAME,
                format!(
                    "gap_ms {gap_ms} is not longer than stroke_ms {stroke_ms}, so the drawings could not be told apart"
                ),
            ));
        }
        let mut strokes = Vec::new();
        // When the pen went up last; `first` until a stroke has been placed.
        let mut t = 0.0f64;
        let mut first = true;
        for drawing in drawings.iter().filter(|d| !d.is_empty()) {
            if !first {
                t += f64::from(gap_ms) - f64::from(stroke_ms);
            }
            for stroke in drawing {
                if !first {
                    t += f64::from(stroke_ms);
                }
                first = false;
                let steps = stroke.len().saturating_sub(1).max(1) as f64;
                let start = t;
                let points: Vec<[f32; 3]> = stroke
                    .iter()
                    .enumerate()
                    .map(|(k, [x, y])| {
                        let at = start + f64::from(stroke_ms) * k as f64 / steps;
                        [*x, *y, at as f32]
                    })
                    .collect();
                if stroke.len() > 1 {
                    t = start + f64::from(stroke_ms);
                }
                strokes.push(points);
            }
        }
        let file = StrokeFile {
            width,
            height,
            strokes,
        };
        file.check().map_err(|message| invalid(NAME, message))?;
        Ok(file)
    }

    /// The drawings of the file: strokes split wherever the pen was up for at least `idle`
    /// (from one stroke's last point to the next one's first), times dropped.
    pub fn drawings(&self, idle: Duration) -> Vec<Vec<Stroke>> {
        let idle_ms = idle.as_nanos() as f64 / 1e6;
        let mut drawings: Vec<Vec<Stroke>> = Vec::new();
        let mut last_t: Option<f32> = None;
        for stroke in &self.strokes {
            let (Some(first), Some(last)) = (stroke.first(), stroke.last()) else {
                continue;
            };
            let new_drawing = match last_t {
                None => true,
                Some(prev) => f64::from(first[2]) - f64::from(prev) >= idle_ms,
            };
            let points: Stroke = stroke.iter().map(|[x, y, _]| [*x, *y]).collect();
            match drawings.last_mut() {
                Some(drawing) if !new_drawing => drawing.push(points),
                _ => drawings.push(vec![points]),
            }
            last_t = Some(last[2]);
        }
        drawings
    }

    /// The time of the last point.
    pub fn duration(&self) -> Duration {
        let last = self
            .strokes
            .iter()
            .filter_map(|s| s.last())
            .map(|p| p[2])
            .fold(0.0f32, f32::max);
        Duration::from_secs_f64(f64::from(last.max(0.0)) / 1000.0)
    }

    /// Everything but the JSON shape: sizes, at least one stroke, no empty stroke, every point
    /// finite and inside the panel, times not negative and never decreasing.
    fn check(&self) -> Result<(), String> {
        for (key, side) in [("width", self.width), ("height", self.height)] {
            if !(1..=MAX_STROKE_EXTENT).contains(&side) {
                return Err(format!(
                    "{key} {side} is out of range (a whole number of pixels, 1 to {MAX_STROKE_EXTENT})"
                ));
            }
        }
        if self.strokes.is_empty() {
            return Err("no strokes: \"strokes\" is empty".to_owned());
        }
        let (w, h) = (self.width as f32, self.height as f32);
        let mut previous: Option<f32> = None;
        for (i, stroke) in self.strokes.iter().enumerate() {
            if stroke.is_empty() {
                return Err(format!("stroke {i} (strokes[{i}]) has no points"));
            }
            for (j, &[x, y, t]) in stroke.iter().enumerate() {
                let at = format!("stroke {i}, point {j} (strokes[{i}][{j}])");
                for (name, v) in [("x", x), ("y", y), ("t_ms", t)] {
                    if !v.is_finite() {
                        return Err(format!("{at}: {name} {v} is not a finite number"));
                    }
                }
                if !(0.0..w).contains(&x) {
                    return Err(format!(
                        "{at}: x {x} is outside 0..{} (the width)",
                        self.width
                    ));
                }
                if !(0.0..h).contains(&y) {
                    return Err(format!(
                        "{at}: y {y} is outside 0..{} (the height)",
                        self.height
                    ));
                }
                if t < 0.0 {
                    return Err(format!("{at}: time {t} ms is negative"));
                }
                if let Some(p) = previous
                    && t < p
                {
                    return Err(format!(
                        "{at}: time {t} ms is before the previous point's {p} ms (times count from the file's start and never decrease)"
                    ));
                }
                previous = Some(t);
            }
        }
        Ok(())
    }
}

fn device(path: &Path) -> String {
    format!("strokes {}", path.display())
}

fn invalid(name: &str, message: String) -> HalError {
    HalError::new(ErrorKind::InvalidData, format!("strokes {name}"), message).with_help(HELP)
}

/// Names the image format when `bytes` start like a PNG or JPEG file (a renamed image is a
/// likelier mistake than broken JSON).
fn image_kind(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("PNG")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("JPEG")
    } else {
        None
    }
}

/// A JSON value for a message: its type, and the value itself when it is short.
fn describe(value: &Value) -> String {
    let text = value.to_string();
    let kind = match value {
        Value::Null => return "null".to_owned(),
        Value::Bool(_) => "a boolean",
        Value::Number(_) => return text,
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    if text.chars().count() <= 40 {
        format!("{kind} {text}")
    } else {
        kind.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"format": "sentio-strokes", "version": 1, "width": 240, "height": 200,
        "strokes": [[[10, 20, 0], [11.5, 21, 16]], [[100, 199.5, 600]]]}"#;

    /// `GOOD` with one piece of text replaced (which must occur exactly once).
    fn edit(from: &str, to: &str) -> String {
        assert_eq!(GOOD.matches(from).count(), 1, "{from:?}");
        GOOD.replacen(from, to, 1)
    }

    #[track_caller]
    fn refused(bytes: &[u8], parts: &[&str]) -> HalError {
        let err = match StrokeFile::parse(bytes, "t.json") {
            Ok(f) => panic!("accepted: {f:?}"),
            Err(e) => e,
        };
        let text = err.to_string();
        assert_eq!(err.kind(), ErrorKind::InvalidData, "{text}");
        assert_eq!(err.device(), "strokes t.json", "{text}");
        assert!(
            err.help_text()
                .is_some_and(|h| h.contains("sentio-strokes")),
            "{text}"
        );
        for part in parts {
            assert!(err.message().contains(part), "{part:?} not in {text}");
        }
        err
    }

    #[test]
    fn a_good_file_parses() {
        let f = StrokeFile::parse(GOOD.as_bytes(), "t.json").expect("valid");
        assert_eq!((f.width, f.height), (240, 200));
        assert_eq!(
            f.strokes,
            vec![
                vec![[10.0, 20.0, 0.0], [11.5, 21.0, 16.0]],
                vec![[100.0, 199.5, 600.0]]
            ]
        );
        assert_eq!(f.duration(), Duration::from_millis(600));
    }

    #[test]
    fn not_json() {
        refused(b"", &["not JSON", "EOF"]);
        refused(b"{\"format\": ", &["not JSON", "line 1"]);
        refused(b"strokes: []", &["not JSON", "line 1 column 1"]);
    }

    #[test]
    fn images_are_named() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend([0u8; 32]);
        refused(&png, &["PNG image, not a stroke file"]);
        refused(&[0xff, 0xd8, 0xff, 0xe0, 0, 16], &["JPEG image"]);
    }

    #[test]
    fn the_top_level_and_its_keys() {
        refused(
            b"[1, 2]",
            &["the top level is an array [1,2], not an object"],
        );
        refused(
            edit("\"height\"", "\"hieght\"").as_bytes(),
            &[
                "unknown key \"hieght\"",
                "format, version, width, height, strokes",
            ],
        );
        refused(
            edit("\"format\": \"sentio-strokes\", ", "").as_bytes(),
            &["no \"format\" key"],
        );
    }

    #[test]
    fn wrong_format_or_version() {
        refused(
            edit("sentio-strokes", "sentio-strokez").as_bytes(),
            &["\"format\" is a string \"sentio-strokez\", not \"sentio-strokes\""],
        );
        refused(
            edit("\"version\": 1", "\"version\": 2").as_bytes(),
            &["version 2 is not supported (this build reads version 1)"],
        );
        refused(
            edit("\"version\": 1", "\"version\": \"1\"").as_bytes(),
            &["\"version\" is a string \"1\", not a number"],
        );
    }

    #[test]
    fn sizes_out_of_range() {
        refused(
            edit("\"width\": 240", "\"width\": 0").as_bytes(),
            &["width 0 is out of range", "1 to 8192"],
        );
        refused(
            edit("\"height\": 200", "\"height\": 8193").as_bytes(),
            &["height 8193 is out of range"],
        );
        refused(
            edit("\"width\": 240", "\"width\": 240.5").as_bytes(),
            &["width 240.5 is out of range"],
        );
        refused(
            edit("\"width\": 240", "\"width\": -1").as_bytes(),
            &["width -1 is out of range"],
        );
        refused(
            edit("\"width\": 240", "\"width\": \"240\"").as_bytes(),
            &["\"width\" is a string \"240\", not a number"],
        );
    }

    #[test]
    fn no_strokes_and_empty_strokes() {
        let start = GOOD.find("[[[").expect("strokes");
        let no_strokes = format!("{}[]}}", &GOOD[..start]);
        refused(no_strokes.as_bytes(), &["no strokes"]);
        refused(
            edit("[[100, 199.5, 600]]", "[]").as_bytes(),
            &["stroke 1 (strokes[1]) has no points"],
        );
        refused(
            edit("[[100, 199.5, 600]]", "{}").as_bytes(),
            &["stroke 1 (strokes[1]) is an object {}, not a list of points"],
        );
        let strokes_not_a_list = format!("{}\"none\"}}", &GOOD[..start]);
        refused(
            strokes_not_a_list.as_bytes(),
            &["\"strokes\" is a string \"none\", not a list of strokes"],
        );
    }

    #[test]
    fn points_that_are_not_three_numbers() {
        refused(
            edit("[11.5, 21, 16]", "[11.5, 21]").as_bytes(),
            &[
                "stroke 0, point 1 (strokes[0][1]) is an array [11.5,21], not 3 numbers [x, y, t_ms]",
            ],
        );
        refused(
            edit("[11.5, 21, 16]", "[11.5, 21, 16, 0]").as_bytes(),
            &["stroke 0, point 1 (strokes[0][1])", "not 3 numbers"],
        );
        refused(
            edit("[11.5, 21, 16]", "[11.5, \"21\", 16]").as_bytes(),
            &["stroke 0, point 1", "not 3 numbers"],
        );
        refused(
            edit("[11.5, 21, 16]", "null").as_bytes(),
            &["stroke 0, point 1 (strokes[0][1]) is null, not 3 numbers"],
        );
    }

    #[test]
    fn points_outside_the_panel_or_not_finite() {
        refused(
            edit("[100, 199.5, 600]", "[240, 10, 600]").as_bytes(),
            &["stroke 1, point 0 (strokes[1][0]): x 240 is outside 0..240 (the width)"],
        );
        refused(
            edit("[100, 199.5, 600]", "[-0.5, 10, 600]").as_bytes(),
            &["stroke 1, point 0 (strokes[1][0]): x -0.5 is outside 0..240"],
        );
        refused(
            edit("[100, 199.5, 600]", "[1, 200, 600]").as_bytes(),
            &["y 200 is outside 0..200 (the height)"],
        );
        // Too large for f32: infinite once read.
        refused(
            edit("[100, 199.5, 600]", "[1, 2, 1e300]").as_bytes(),
            &["stroke 1, point 0 (strokes[1][0]): t_ms inf is not a finite number"],
        );
        // JSON itself has no NaN or infinity.
        refused(
            edit("[100, 199.5, 600]", "[NaN, 2, 3]").as_bytes(),
            &["not JSON"],
        );
        // Written from memory, NaN is refused too.
        let mut f = StrokeFile::parse(GOOD.as_bytes(), "t.json").expect("valid");
        f.strokes[0][0][1] = f32::NAN;
        let err = f.to_json().expect_err("NaN");
        assert!(
            err.message()
                .contains("strokes[0][0]): y NaN is not a finite number"),
            "{err}"
        );
    }

    #[test]
    fn times_that_decrease_or_are_negative() {
        refused(
            edit("[100, 199.5, 600]", "[100, 199.5, 15]").as_bytes(),
            &["stroke 1, point 0 (strokes[1][0]): time 15 ms is before the previous point's 16 ms"],
        );
        refused(
            edit("[10, 20, 0]", "[10, 20, -1]").as_bytes(),
            &["stroke 0, point 0 (strokes[0][0]): time -1 ms is negative"],
        );
        // Equal times are fine (two points in one report).
        StrokeFile::parse(
            edit("[100, 199.5, 600]", "[100, 199.5, 16]").as_bytes(),
            "t",
        )
        .expect("equal times");
    }

    #[test]
    fn round_trip_through_a_real_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("heart.json");
        let f = StrokeFile {
            width: 240,
            height: 320,
            strokes: vec![
                vec![
                    [0.0, 0.0, 0.0],
                    [239.99, 319.5, 1.25],
                    [0.1, 1.0 / 3.0, 7.0],
                ],
                vec![[120.0, 160.0, 2000.0]],
            ],
        };
        f.write(&path).expect("write");
        assert_eq!(StrokeFile::read(&path).expect("read"), f);
        // Nothing else was left in the folder.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["heart.json"]);
        // One stroke per line, so files diff well.
        let text = std::fs::read_to_string(&path).expect("text");
        assert_eq!(text.lines().count(), 5, "{text}");
        // Writing again replaces the file.
        let g = StrokeFile {
            strokes: vec![vec![[1.0, 2.0, 3.0]]],
            ..f
        };
        g.write(&path).expect("rewrite");
        assert_eq!(StrokeFile::read(&path).expect("read"), g);
    }

    #[test]
    fn read_and_write_errors_name_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("nope.json");
        let err = StrokeFile::read(&missing).expect_err("missing");
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.device().ends_with("nope.json"), "{err}");
        assert!(err.help_text().is_some(), "{err}");

        let png = dir.path().join("face.json");
        std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").expect("write");
        let err = StrokeFile::read(&png).expect_err("png");
        assert_eq!(err.device(), format!("strokes {}", png.display()));
        assert!(err.message().contains("PNG image"), "{err}");

        let f = StrokeFile {
            width: 10,
            height: 10,
            strokes: vec![vec![[1.0, 1.0, 0.0]]],
        };
        let err = f
            .write(dir.path().join("no/such/folder/x.json"))
            .expect_err("no folder");
        assert_eq!(err.kind(), ErrorKind::NotFound);
        let empty = StrokeFile {
            strokes: vec![],
            ..f
        };
        let err = empty
            .write(dir.path().join("empty.json"))
            .expect_err("empty");
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        assert!(err.message().contains("no strokes"), "{err}");
        assert!(!dir.path().join("empty.json").exists());
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        /// Any valid file: sizes, points inside, times never decreasing.
        fn valid_file() -> impl Strategy<Value = StrokeFile> {
            (1u32..=600, 1u32..=600).prop_flat_map(|(w, h)| {
                let point = (0.0..(w as f32), 0.0..(h as f32), 0.0f32..50.0);
                let stroke = prop::collection::vec(point, 1..20);
                prop::collection::vec(stroke, 1..6).prop_map(move |strokes| {
                    // Time steps accumulate so times never decrease across the file.
                    let mut t = 0.0f32;
                    let strokes = strokes
                        .into_iter()
                        .map(|s| {
                            s.into_iter()
                                .map(|(x, y, dt)| {
                                    t += dt;
                                    [
                                        x.min((w as f32).next_down()),
                                        y.min((h as f32).next_down()),
                                        t,
                                    ]
                                })
                                .collect()
                        })
                        .collect();
                    StrokeFile {
                        width: w,
                        height: h,
                        strokes,
                    }
                })
            })
        }

        proptest! {
            #[test]
            fn written_files_read_back_the_same(file in valid_file()) {
                let json = file.to_json().expect("valid files encode");
                let back = StrokeFile::parse(json.as_bytes(), "p.json").expect("and decode");
                prop_assert_eq!(back, file);
            }

            #[test]
            fn arbitrary_bytes_are_an_error_not_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
                if let Err(e) = StrokeFile::parse(&bytes, "p.json") {
                    prop_assert_eq!(e.kind(), ErrorKind::InvalidData);
                }
            }

            #[test]
            fn damaged_files_are_an_error_not_a_panic(
                file in valid_file(),
                at in any::<prop::sample::Index>(),
                byte in prop::sample::select(b"[]{},:\"0-.e9 x".to_vec()),
            ) {
                let mut json = file.to_json().expect("valid").into_bytes();
                let i = at.index(json.len());
                json[i] = byte;
                if let Err(e) = StrokeFile::parse(&json, "p.json") {
                    prop_assert_eq!(e.kind(), ErrorKind::InvalidData);
                    prop_assert!(!e.message().is_empty());
                }
            }
        }
    }

    #[test]
    fn from_drawings_assigns_times_as_documented() {
        let drawings = vec![
            vec![vec![[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]], vec![[4.0, 4.0]]],
            vec![],
            vec![vec![[5.0, 5.0], [6.0, 6.0]]],
        ];
        let f = StrokeFile::from_drawings(10, 10, &drawings, 300, 2000).expect("valid");
        assert_eq!(
            f.strokes,
            vec![
                vec![[1.0, 1.0, 0.0], [2.0, 2.0, 150.0], [3.0, 3.0, 300.0]],
                // pen up for stroke_ms within a drawing
                vec![[4.0, 4.0, 600.0]],
                // pen up for gap_ms between drawings
                vec![[5.0, 5.0, 2600.0], [6.0, 6.0, 2900.0]],
            ]
        );
        let non_empty: Vec<_> = drawings.into_iter().filter(|d| !d.is_empty()).collect();
        assert_eq!(f.drawings(Duration::from_millis(1500)), non_empty);
        assert_eq!(f.drawings(Duration::from_millis(301)).len(), 2);
        assert_eq!(f.drawings(Duration::from_millis(300)).len(), 3);
        assert_eq!(f.drawings(Duration::from_millis(2001)).len(), 1);

        let err = StrokeFile::from_drawings(10, 10, &non_empty, 300, 300).expect_err("gap");
        assert!(
            err.message()
                .contains("gap_ms 300 is not longer than stroke_ms 300"),
            "{err}"
        );
        let err = StrokeFile::from_drawings(10, 10, &[vec![vec![[10.0, 1.0]]]], 300, 2000)
            .expect_err("outside");
        assert!(err.message().contains("x 10 is outside 0..10"), "{err}");
        let err = StrokeFile::from_drawings(10, 10, &[vec![vec![]]], 300, 2000).expect_err("empty");
        assert!(
            err.message()
                .contains("stroke 0 (strokes[0]) has no points"),
            "{err}"
        );
    }
}
