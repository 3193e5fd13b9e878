//! NumPy `.npy` files: the way people hand a tensor to `sentio run` and a calibration set to
//! `sentio quantize`.
//!
//! Reads format versions 1.0, 2.0 and 3.0, C order, little-endian (or byte-sized) elements:
//! `<f4` as is, and `<f8`, `|u1`, `|i1`, `<i4`, `<i8` converted to f32. Writes version 1.0
//! `<f4` (2.0 when the header does not fit 1.0's 16-bit length). Fortran order, big-endian and
//! structured dtypes are refused with an error saying how to convert the file.
//!
//! The format (numpy's `numpy/lib/format.py`): the magic `\x93NUMPY`, a major and minor version
//! byte, the header length (u16 LE in 1.0, u32 LE in 2.0/3.0), the header (a Python dict literal
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`, padded with spaces and a
//! final newline so the data starts 64-byte aligned; latin-1 in 1.0/2.0, UTF-8 in 3.0), then the
//! data.

// Why our own reader and not npyz (0.9.1) or ndarray-npy (0.10), measured on this workspace's
// 2-core machine:
// - npyz adds 12 crates the workspace does not have (py_literal and the pest parser generator
//   stack, psm + stacker with a cc build script, ar_archive_writer, a second `object`), 68 s of
//   compile units and 72 s wall for a cold `cargo build -j2`; ndarray-npy pulls the same
//   py_literal/pest stack plus ndarray, which nothing else here uses.
// - Its errors are io::Errors without the file or what to do: a truncated header and data cut
//   short are both "failed to fill whole buffer"; a file cut inside the magic, an empty file and
//   a PNG are all "magic not found for NPY file". Keeping `TruncatedHeader`, `BadMagic`,
//   `DataTooShort` and their help lines (sentio's tests check them) would mean matching those
//   message strings.
// - It reads only the exact dtype asked for ("cannot read type f32 with type-string '<f8'"), so
//   the f8/u1/i1/i4/i8 conversions stay ours; it accepts Fortran order and trailing bytes
//   silently, so those checks stay ours too. What would go is the 170-line header parser below.
// It would add big-endian input, which this reader refuses with a line saying how to convert.

use std::path::{Path, PathBuf};

/// The bytes every `.npy` file starts with.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Longest header accepted (numpy itself refuses headers over 10 000 bytes by default).
const MAX_HEADER_LEN: usize = 1 << 20;

/// Alignment of the data's start (numpy writes 64 since 1.14; readers accept any).
const ALIGN: usize = 64;

/// An array read from (or to be written to) an `.npy` file, as f32 in C order.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// Dimensions (empty for a scalar).
    pub shape: Vec<usize>,
    /// The values, row-major.
    pub data: Vec<f32>,
}

impl Array {
    /// Number of elements the shape holds (1 for a scalar).
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the array holds no element.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The `n` sub-arrays along the first axis (e.g. the samples of an `[N, ...]` calibration
    /// set), each `len / N` values. A scalar or 1-D array gives one value per row.
    pub fn rows(&self) -> impl Iterator<Item = &[f32]> {
        let n = self.shape.first().copied().unwrap_or(1).max(1);
        let row = self.data.len() / n;
        self.data.chunks(row.max(1)).take(n)
    }
}

/// Element type of an `.npy` file (the `descr` field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    /// `<f4`
    F32,
    /// `<f8`
    F64,
    /// `|u1`
    U8,
    /// `|i1`
    I8,
    /// `<i4`
    I32,
    /// `<i8`
    I64,
}

impl Dtype {
    fn parse(descr: &str) -> Option<Self> {
        // Byte-sized types have no byte order: numpy writes `|`, some writers `<` or `=`.
        Some(match descr {
            "<f4" => Self::F32,
            "<f8" => Self::F64,
            "|u1" | "<u1" | "=u1" | "u1" => Self::U8,
            "|i1" | "<i1" | "=i1" | "i1" => Self::I8,
            "<i4" => Self::I32,
            "<i8" => Self::I64,
            _ => return None,
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Self::U8 | Self::I8 => 1,
            Self::F32 | Self::I32 => 4,
            Self::F64 | Self::I64 => 8,
        }
    }

    fn to_f32(self, b: &[u8]) -> f32 {
        // `b` is exactly `size()` bytes (it comes from `chunks_exact`).
        let mut w = [0u8; 8];
        w[..b.len()].copy_from_slice(b);
        match self {
            Self::F32 => f32::from_le_bytes([w[0], w[1], w[2], w[3]]),
            Self::F64 => f64::from_le_bytes(w) as f32,
            Self::U8 => f32::from(w[0]),
            Self::I8 => f32::from(w[0] as i8),
            Self::I32 => i32::from_le_bytes([w[0], w[1], w[2], w[3]]) as f32,
            Self::I64 => i64::from_le_bytes(w) as f32,
        }
    }
}

/// Why an `.npy` file could not be read or written. Each names the file.
#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    /// The file could not be read or written.
    #[error("{}: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file does not start with `\x93NUMPY`.
    #[error("{}: not a .npy file (it does not start with \\x93NUMPY)", file.display())]
    BadMagic {
        /// The file.
        file: PathBuf,
    },
    /// A format version other than 1.0, 2.0, 3.0.
    #[error("{}: .npy format version {major}.{minor} is not supported (1.0, 2.0, 3.0 are)", file.display())]
    UnsupportedVersion {
        /// The file.
        file: PathBuf,
        /// Major version byte.
        major: u8,
        /// Minor version byte.
        minor: u8,
    },
    /// The file ends inside its preamble or header.
    #[error("{}: truncated header: {detail}", file.display())]
    TruncatedHeader {
        /// The file.
        file: PathBuf,
        /// What was expected.
        detail: String,
    },
    /// The header is not the dict numpy writes.
    #[error("{}: bad header {header:?}: {detail}", file.display())]
    BadHeader {
        /// The file.
        file: PathBuf,
        /// The header text (lossy).
        header: String,
        /// What is wrong.
        detail: String,
    },
    /// An element type this reader does not convert.
    #[error("{}: unsupported dtype {descr}", file.display())]
    UnsupportedDtype {
        /// The file.
        file: PathBuf,
        /// The header's `descr`, as written.
        descr: String,
    },
    /// The array is stored column-major.
    #[error("{}: the array is in Fortran (column-major) order; only C order is read", file.display())]
    FortranOrder {
        /// The file.
        file: PathBuf,
    },
    /// The data holds fewer bytes than the shape needs.
    #[error(
        "{}: data is shorter than the shape: shape {shape:?} of {descr} needs {expected} bytes, the file has {got}",
        file.display()
    )]
    DataTooShort {
        /// The file.
        file: PathBuf,
        /// The shape.
        shape: Vec<usize>,
        /// The dtype.
        descr: String,
        /// Bytes needed.
        expected: usize,
        /// Bytes present.
        got: usize,
    },
    /// The data holds more bytes than the shape needs.
    #[error(
        "{}: {extra} bytes after the data of shape {shape:?} ({descr})",
        file.display()
    )]
    TrailingData {
        /// The file.
        file: PathBuf,
        /// The shape.
        shape: Vec<usize>,
        /// The dtype.
        descr: String,
        /// Bytes after the end of the array.
        extra: usize,
    },
    /// A shape whose element count does not match the data given to write.
    #[error("{}: cannot write {len} values as shape {shape:?}", file.display())]
    ShapeLength {
        /// The file.
        file: PathBuf,
        /// The shape.
        shape: Vec<usize>,
        /// Values given.
        len: usize,
    },
}

impl miette::Diagnostic for NpyError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        // The first segment is the kind of failure, which picks the binaries' exit code.
        let code = match self {
            Self::Io { .. } => "data::npy::io",
            Self::BadMagic { .. } => "data::npy::bad_magic",
            Self::UnsupportedVersion { .. } => "data::npy::unsupported_version",
            Self::TruncatedHeader { .. } => "data::npy::truncated_header",
            Self::BadHeader { .. } => "data::npy::bad_header",
            Self::UnsupportedDtype { .. } => "data::npy::unsupported_dtype",
            Self::FortranOrder { .. } => "data::npy::fortran_order",
            Self::DataTooShort { .. } => "data::npy::data_too_short",
            Self::TrailingData { .. } => "data::npy::trailing_data",
            Self::ShapeLength { .. } => "data::npy::shape_length",
        };
        Some(Box::new(code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(self.help())
            .filter(|h| !h.is_empty())
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display + 'a>)
    }
}

impl NpyError {
    /// The file the error is about.
    pub fn file(&self) -> &Path {
        match self {
            Self::Io { file, .. }
            | Self::BadMagic { file }
            | Self::UnsupportedVersion { file, .. }
            | Self::TruncatedHeader { file, .. }
            | Self::BadHeader { file, .. }
            | Self::UnsupportedDtype { file, .. }
            | Self::FortranOrder { file }
            | Self::DataTooShort { file, .. }
            | Self::TrailingData { file, .. }
            | Self::ShapeLength { file, .. } => file,
        }
    }

    /// One line telling the user what to do.
    pub fn help(&self) -> String {
        const SAVE: &str = "np.save(path, np.ascontiguousarray(a, dtype='<f4'))";
        match self {
            Self::Io { .. } => "check the path and the file's permissions".into(),
            Self::BadMagic { .. } => {
                format!("write the array with numpy: {SAVE} (not np.savez, text or pickle)")
            }
            Self::UnsupportedVersion { .. } => format!("write the file again with {SAVE}"),
            Self::TruncatedHeader { .. } | Self::DataTooShort { .. } => {
                format!("the file was cut short; write it again with {SAVE}")
            }
            Self::BadHeader { .. } | Self::TrailingData { .. } => {
                format!("the file was not written by numpy's np.save; write it again with {SAVE}")
            }
            Self::UnsupportedDtype { .. } => format!(
                "convert it to little-endian float32 (f4, f8, u1, i1, i4, i8 are read): {SAVE}"
            ),
            Self::FortranOrder { .. } => format!("convert it to C order: {SAVE}"),
            Self::ShapeLength { .. } => {
                "the shape's product must equal the number of values".into()
            }
        }
    }
}

/// Reads an `.npy` file as f32.
pub fn read(path: impl AsRef<Path>) -> Result<Array, NpyError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| NpyError::Io {
        file: path.to_owned(),
        source,
    })?;
    parse(&bytes, path)
}

/// Parses the bytes of an `.npy` file; `file` names it in errors.
pub fn parse(bytes: &[u8], file: &Path) -> Result<Array, NpyError> {
    let file = || file.to_owned();
    let truncated = |detail: String| NpyError::TruncatedHeader {
        file: file(),
        detail,
    };
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        // A file shorter than the magic that is a prefix of it was cut short, not foreign.
        if bytes.len() < MAGIC.len() && !bytes.is_empty() && MAGIC.starts_with(bytes) {
            return Err(truncated(format!(
                "{} bytes, the magic alone is 6",
                bytes.len()
            )));
        }
        return Err(NpyError::BadMagic { file: file() });
    }
    let (Some(&major), Some(&minor)) = (bytes.get(6), bytes.get(7)) else {
        return Err(truncated("the file ends before the version bytes".into()));
    };
    let (len_size, utf8) = match (major, minor) {
        (1, 0) => (2, false),
        (2, 0) => (4, false),
        (3, 0) => (4, true),
        _ => {
            return Err(NpyError::UnsupportedVersion {
                file: file(),
                major,
                minor,
            });
        }
    };
    let Some(len_bytes) = bytes.get(8..8 + len_size) else {
        return Err(truncated("the file ends before the header length".into()));
    };
    let header_len = len_bytes
        .iter()
        .rev()
        .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
    let header_start = 8 + len_size;
    if header_len > MAX_HEADER_LEN {
        return Err(NpyError::BadHeader {
            file: file(),
            header: String::new(),
            detail: format!("header length {header_len} is implausible"),
        });
    }
    let Some(header_bytes) = bytes.get(header_start..header_start + header_len) else {
        return Err(truncated(format!(
            "the header is {header_len} bytes but the file ends after {}",
            bytes.len().saturating_sub(header_start)
        )));
    };
    let header = if utf8 {
        String::from_utf8_lossy(header_bytes).into_owned()
    } else {
        header_bytes.iter().map(|b| char::from(*b)).collect()
    };
    let fields = header::parse(&header).map_err(|detail| NpyError::BadHeader {
        file: file(),
        header: header.trim_end().to_owned(),
        detail,
    })?;
    let dtype = Dtype::parse(&fields.descr).ok_or_else(|| NpyError::UnsupportedDtype {
        file: file(),
        descr: describe_dtype(&fields.descr),
    })?;
    if fields.fortran_order && fields.shape.iter().filter(|d| **d > 1).count() > 1 {
        return Err(NpyError::FortranOrder { file: file() });
    }
    let count = fields
        .shape
        .iter()
        .try_fold(1usize, |acc, d| acc.checked_mul(*d))
        .and_then(|n| n.checked_mul(dtype.size()).map(|b| (n, b)));
    let Some((_, expected)) = count else {
        return Err(NpyError::BadHeader {
            file: file(),
            header: header.trim_end().to_owned(),
            detail: format!("shape {:?} overflows", fields.shape),
        });
    };
    let data = &bytes[header_start + header_len..];
    if data.len() < expected {
        return Err(NpyError::DataTooShort {
            file: file(),
            shape: fields.shape,
            descr: fields.descr,
            expected,
            got: data.len(),
        });
    }
    if data.len() > expected {
        return Err(NpyError::TrailingData {
            file: file(),
            shape: fields.shape,
            descr: fields.descr,
            extra: data.len() - expected,
        });
    }
    let values = data
        .chunks_exact(dtype.size())
        .map(|b| dtype.to_f32(b))
        .collect();
    Ok(Array {
        shape: fields.shape,
        data: values,
    })
}

/// The dtype as written, with a word on why it is refused when that is not obvious.
fn describe_dtype(descr: &str) -> String {
    if descr.starts_with('>') {
        format!("{descr} (big-endian)")
    } else if descr.starts_with('[') {
        format!("{descr} (a structured array)")
    } else {
        descr.to_owned()
    }
}

/// The bytes of an `.npy` file (little-endian f32, C order) holding `data` as `shape`.
pub fn to_bytes(shape: &[usize], data: &[f32]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape_text = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_text}, }}");
    // Version 1.0 unless the header's length does not fit its u16.
    let v1_total = (MAGIC.len() + 2 + 2 + dict.len() + 1).next_multiple_of(ALIGN);
    let (version, len_size) = if v1_total - MAGIC.len() - 4 <= usize::from(u16::MAX) {
        (1u8, 2)
    } else {
        (2u8, 4)
    };
    let preamble = MAGIC.len() + 2 + len_size;
    let total = (preamble + dict.len() + 1).next_multiple_of(ALIGN);
    let header_len = total - preamble;
    let mut out = Vec::with_capacity(total + 4 * data.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[version, 0]);
    if len_size == 2 {
        out.extend_from_slice(&(header_len as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(header_len as u32).to_le_bytes());
    }
    out.extend_from_slice(dict.as_bytes());
    out.resize(total - 1, b' ');
    out.push(b'\n');
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Writes `data` as an `.npy` file of `shape` (little-endian f32), atomically: an interrupted
/// write leaves the old file (`sentio_files::write_bytes_atomically`).
pub fn write(path: impl AsRef<Path>, shape: &[usize], data: &[f32]) -> Result<(), NpyError> {
    let path = path.as_ref();
    if shape.iter().product::<usize>() != data.len() {
        return Err(NpyError::ShapeLength {
            file: path.to_owned(),
            shape: shape.to_vec(),
            len: data.len(),
        });
    }
    sentio_files::write_bytes_atomically(path, &to_bytes(shape, data)).map_err(|source| {
        NpyError::Io {
            file: path.to_owned(),
            source,
        }
    })
}

/// The header dict: a small parser for the Python literal numpy writes (and nothing more).
mod header {
    pub(super) struct Fields {
        pub descr: String,
        pub fortran_order: bool,
        pub shape: Vec<usize>,
    }

    enum Value {
        Str(String),
        Bool(bool),
        Tuple(Vec<usize>),
        /// A list (structured dtypes); its text, for the error.
        List(String),
    }

    struct Cursor<'a> {
        text: &'a str,
        pos: usize,
    }

    impl Cursor<'_> {
        fn skip_space(&mut self) {
            while let Some(c) = self.peek() {
                if !c.is_whitespace() {
                    break;
                }
                self.pos += c.len_utf8();
            }
        }

        fn peek(&self) -> Option<char> {
            self.text[self.pos..].chars().next()
        }

        fn eat(&mut self, c: char) -> bool {
            self.skip_space();
            if self.peek() == Some(c) {
                self.pos += c.len_utf8();
                true
            } else {
                false
            }
        }

        fn expect(&mut self, c: char) -> Result<(), String> {
            if self.eat(c) {
                Ok(())
            } else {
                Err(format!("expected `{c}` at offset {}", self.pos))
            }
        }

        fn string(&mut self) -> Result<String, String> {
            self.skip_space();
            let quote = match self.peek() {
                Some(q @ ('\'' | '"')) => q,
                _ => return Err(format!("expected a quoted string at offset {}", self.pos)),
            };
            self.pos += 1;
            let rest = &self.text[self.pos..];
            let end = rest
                .find(quote)
                .ok_or_else(|| "unterminated string".to_owned())?;
            self.pos += end + 1;
            Ok(rest[..end].to_owned())
        }

        fn value(&mut self) -> Result<Value, String> {
            self.skip_space();
            match self.peek() {
                Some('\'' | '"') => self.string().map(Value::Str),
                Some('(') => {
                    self.pos += 1;
                    let mut dims = Vec::new();
                    loop {
                        if self.eat(')') {
                            break;
                        }
                        self.skip_space();
                        let digits: String = self.text[self.pos..]
                            .chars()
                            .take_while(char::is_ascii_digit)
                            .collect();
                        if digits.is_empty() {
                            return Err(format!(
                                "expected a dimension at offset {} of the shape",
                                self.pos
                            ));
                        }
                        self.pos += digits.len();
                        // Python 2 era files may write `3L`.
                        self.eat('L');
                        dims.push(
                            digits
                                .parse()
                                .map_err(|_| format!("dimension {digits} is too large"))?,
                        );
                        if !self.eat(',') {
                            self.expect(')')?;
                            break;
                        }
                    }
                    Ok(Value::Tuple(dims))
                }
                Some('[') => {
                    let start = self.pos;
                    let mut depth = 0usize;
                    for (i, c) in self.text[start..].char_indices() {
                        match c {
                            '[' => depth += 1,
                            ']' => {
                                depth -= 1;
                                if depth == 0 {
                                    self.pos = start + i + 1;
                                    return Ok(Value::List(self.text[start..self.pos].to_owned()));
                                }
                            }
                            _ => {}
                        }
                    }
                    Err("unterminated list".into())
                }
                _ => {
                    for (word, v) in [("True", true), ("False", false)] {
                        if self.text[self.pos..].starts_with(word) {
                            self.pos += word.len();
                            return Ok(Value::Bool(v));
                        }
                    }
                    Err(format!("unexpected value at offset {}", self.pos))
                }
            }
        }
    }

    pub(super) fn parse(text: &str) -> Result<Fields, String> {
        let mut c = Cursor { text, pos: 0 };
        c.expect('{')?;
        let (mut descr, mut fortran_order, mut shape) = (None, None, None);
        loop {
            if c.eat('}') {
                break;
            }
            let key = c.string()?;
            c.expect(':')?;
            let value = c.value()?;
            match (key.as_str(), value) {
                ("descr", Value::Str(s)) => descr = Some(s),
                ("descr", Value::List(s)) => descr = Some(s),
                ("fortran_order", Value::Bool(b)) => fortran_order = Some(b),
                ("shape", Value::Tuple(t)) => shape = Some(t),
                ("descr" | "fortran_order" | "shape", _) => {
                    return Err(format!("`{key}` has a value of the wrong type"));
                }
                // Unknown keys: numpy refuses them; so do we, rather than guess.
                _ => return Err(format!("unknown key `{key}`")),
            }
            if !c.eat(',') {
                c.expect('}')?;
                break;
            }
        }
        c.skip_space();
        if c.pos != text.len() {
            return Err(format!("text after the dict at offset {}", c.pos));
        }
        Ok(Fields {
            descr: descr.ok_or("no `descr` key")?,
            fortran_order: fortran_order.ok_or("no `fortran_order` key")?,
            shape: shape.ok_or("no `shape` key")?,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn file() -> &'static Path {
        Path::new("x.npy")
    }

    /// An `.npy` file built by hand per the format spec: version, raw header text, data.
    fn npy(version: (u8, u8), header: &str, data: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[version.0, version.1]);
        let len_size = if version.0 == 1 { 2 } else { 4 };
        let unpadded = MAGIC.len() + 2 + len_size + header.len() + 1;
        let padded = unpadded.next_multiple_of(64);
        let mut text = header.to_owned();
        text.push_str(&" ".repeat(padded - unpadded));
        text.push('\n');
        if len_size == 2 {
            out.extend_from_slice(&(text.len() as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&(text.len() as u32).to_le_bytes());
        }
        out.extend_from_slice(text.as_bytes());
        out.extend_from_slice(data);
        out
    }

    fn header(descr: &str, shape: &str) -> String {
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}")
    }

    #[test]
    fn reads_f32_in_every_version() {
        let data: Vec<u8> = [1.5f32, -2.0, 3.25, 0.0, 7.0, 8.5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        for version in [(1, 0), (2, 0), (3, 0)] {
            let a = parse(&npy(version, &header("<f4", "(2, 3)"), &data), file()).unwrap();
            assert_eq!(a.shape, vec![2, 3]);
            assert_eq!(a.data, vec![1.5, -2.0, 3.25, 0.0, 7.0, 8.5]);
            assert_eq!(a.rows().count(), 2);
            assert_eq!(a.rows().nth(1).unwrap(), &[0.0, 7.0, 8.5]);
        }
    }

    #[test]
    fn converts_other_dtypes_to_f32() {
        let f8: Vec<u8> = [0.5f64, -1e3]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let i8s: Vec<u8> = [-3i64, 1 << 20]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let i4: Vec<u8> = [-7i32, 9].iter().flat_map(|v| v.to_le_bytes()).collect();
        let cases: [(&str, Vec<u8>, [f32; 2]); 5] = [
            ("<f8", f8, [0.5, -1000.0]),
            ("|u1", vec![0, 255], [0.0, 255.0]),
            ("|i1", vec![0x80, 0x7f], [-128.0, 127.0]),
            ("<i4", i4, [-7.0, 9.0]),
            ("<i8", i8s, [-3.0, 1048576.0]),
        ];
        for (descr, bytes, want) in cases {
            let a = parse(&npy((1, 0), &header(descr, "(2,)"), &bytes), file()).unwrap();
            assert_eq!(a.shape, vec![2], "{descr}");
            assert_eq!(a.data, want, "{descr}");
        }
    }

    #[test]
    fn reads_scalars_empty_arrays_and_double_quotes() {
        let a = parse(
            &npy((1, 0), &header("<f4", "()"), &4.0f32.to_le_bytes()),
            file(),
        )
        .unwrap();
        assert_eq!((a.shape.clone(), a.data), (vec![], vec![4.0]));
        let a = parse(&npy((1, 0), &header("<f4", "(0, 5)"), &[]), file()).unwrap();
        assert_eq!(a.shape, vec![0, 5]);
        assert!(a.is_empty());
        let h = r#"{"descr": "<f4", "shape": (1,), "fortran_order": False}"#;
        let a = parse(&npy((1, 0), h, &1.0f32.to_le_bytes()), file()).unwrap();
        assert_eq!(a.data, vec![1.0]);
    }

    #[test]
    fn refuses_bad_magic() {
        let mut bytes = npy((1, 0), &header("<f4", "(1,)"), &[0; 4]);
        bytes[1] = b'X';
        let e = parse(&bytes, Path::new("cal.npy")).unwrap_err();
        assert!(matches!(e, NpyError::BadMagic { .. }), "{e}");
        assert!(e.to_string().starts_with("cal.npy: not a .npy file"), "{e}");
        assert!(e.help().contains("np.save"));
        assert!(matches!(parse(b"", file()), Err(NpyError::BadMagic { .. })));
        assert!(matches!(
            parse(b"PK\x03\x04 a zip, i.e. np.savez", file()),
            Err(NpyError::BadMagic { .. })
        ));
    }

    #[test]
    fn refuses_truncated_headers() {
        let full = npy((1, 0), &header("<f4", "(1,)"), &[0; 4]);
        for cut in [3, 6, 7, 9, 20, full.len() - 5] {
            let e = parse(&full[..cut], file()).unwrap_err();
            assert!(matches!(e, NpyError::TruncatedHeader { .. }), "{cut}: {e}");
            assert!(e.to_string().contains("truncated header"), "{e}");
        }
    }

    #[test]
    fn refuses_unsupported_versions_and_dtypes() {
        let e = parse(&npy((4, 0), &header("<f4", "(1,)"), &[0; 4]), file()).unwrap_err();
        assert!(
            matches!(e, NpyError::UnsupportedVersion { major: 4, .. }),
            "{e}"
        );
        for (descr, shown) in [
            (">f4", ">f4 (big-endian)"),
            ("<c8", "<c8"),
            ("<U5", "<U5"),
            ("|O", "|O"),
        ] {
            let e = parse(&npy((1, 0), &header(descr, "(1,)"), &[0; 8]), file()).unwrap_err();
            assert!(
                matches!(e, NpyError::UnsupportedDtype { .. }),
                "{descr}: {e}"
            );
            assert!(
                e.to_string()
                    .ends_with(&format!("unsupported dtype {shown}")),
                "{e}"
            );
        }
        let structured = "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }";
        let e = parse(&npy((1, 0), structured, &[0; 4]), file()).unwrap_err();
        assert!(e.to_string().contains("structured"), "{e}");
    }

    #[test]
    fn refuses_fortran_order_but_not_for_vectors() {
        let h = "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }";
        let e = parse(&npy((1, 0), h, &[0; 16]), file()).unwrap_err();
        assert!(matches!(e, NpyError::FortranOrder { .. }), "{e}");
        assert!(e.help().contains("C order"));
        // A vector is the same bytes in either order.
        let h = "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }";
        assert_eq!(
            parse(&npy((1, 0), h, &[0; 8]), file()).unwrap().shape,
            vec![1, 2]
        );
    }

    #[test]
    fn refuses_data_shorter_or_longer_than_the_shape() {
        let e = parse(&npy((1, 0), &header("<f4", "(2, 3)"), &[0; 20]), file()).unwrap_err();
        match &e {
            NpyError::DataTooShort { expected, got, .. } => assert_eq!((*expected, *got), (24, 20)),
            other => panic!("{other}"),
        }
        assert!(
            e.to_string().contains("data is shorter than the shape"),
            "{e}"
        );
        let e = parse(&npy((1, 0), &header("<f4", "(1,)"), &[0; 6]), file()).unwrap_err();
        assert!(matches!(e, NpyError::TrailingData { extra: 2, .. }), "{e}");
    }

    #[test]
    fn refuses_malformed_headers() {
        for h in [
            "not a dict",
            "{'descr': '<f4', 'shape': (1,), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (a,), }",
            "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} extra",
            "{'descr': '<f4",
        ] {
            let e = parse(&npy((1, 0), h, &[0; 4]), file()).unwrap_err();
            assert!(matches!(e, NpyError::BadHeader { .. }), "{h}: {e}");
        }
        let huge = "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999, 99999999999), }";
        let e = parse(&npy((1, 0), huge, &[]), file()).unwrap_err();
        assert!(e.to_string().contains("overflows"), "{e}");
    }

    #[test]
    fn writes_what_numpy_writes() {
        // numpy 1.x/2.x: `np.save(f, np.array([[1, 2, 3]], dtype='<f4'))` gives exactly this.
        let bytes = to_bytes(&[1, 3], &[1.0, 2.0, 3.0]);
        let mut want = b"\x93NUMPY\x01\x00\x76\x00".to_vec();
        let dict = b"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }";
        want.extend_from_slice(dict);
        want.resize(127, b' ');
        want.push(b'\n');
        for v in [1.0f32, 2.0, 3.0] {
            want.extend_from_slice(&v.to_le_bytes());
        }
        assert_eq!(bytes, want);
        assert!(to_bytes(&[4], &[0.0; 4]).windows(6).any(|w| w == b"(4,), "));
    }

    #[test]
    fn write_and_read_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.npy");
        write(&path, &[2, 2], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        let a = read(&path).unwrap();
        assert_eq!((a.shape, a.data), (vec![2, 2], vec![1.0, 2.0, 3.0, 4.0]));
        let e = write(&path, &[3], &[1.0]).unwrap_err();
        assert!(matches!(e, NpyError::ShapeLength { .. }));
        assert_eq!(read(&path).unwrap().data, vec![1.0, 2.0, 3.0, 4.0]);
        // A rewrite replaces the file whole and leaves no temporary file beside it.
        write(&path, &[1], &[5.0]).unwrap();
        assert_eq!(read(&path).unwrap().data, vec![5.0]);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "{names:?}");
        let e = read(dir.path().join("missing.npy")).unwrap_err();
        assert!(matches!(e, NpyError::Io { .. }) && e.file().ends_with("missing.npy"));
    }

    /// Files written by numpy itself, when python3 and numpy are installed (skipped otherwise).
    #[test]
    fn reads_files_written_by_numpy() {
        let dir = tempfile::tempdir().unwrap();
        let script = r#"
import sys, numpy as np
d = sys.argv[1]
a = np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 4 - 2
np.save(d + '/f4.npy', a.astype('<f4'))
np.save(d + '/f8.npy', a)
np.save(d + '/u1.npy', np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
np.save(d + '/i8.npy', np.arange(24, dtype=np.int64).reshape(2, 3, 4) - 12)
np.save(d + '/fortran.npy', np.asfortranarray(a.astype('<f4')))
np.lib.format.write_array(open(d + '/v2.npy', 'wb'), a.astype('<f4'), version=(2, 0))
np.lib.format.write_array(open(d + '/v3.npy', 'wb'), a.astype('<f4'), version=(3, 0))
"#;
        let run = std::process::Command::new("python3")
            .args(["-c", script])
            .arg(dir.path())
            .output();
        match run {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                eprintln!(
                    "skipped: python3 with numpy is not available ({})",
                    String::from_utf8_lossy(&out.stderr)
                        .lines()
                        .last()
                        .unwrap_or("")
                );
                return;
            }
            Err(e) => {
                eprintln!("skipped: python3 is not available ({e})");
                return;
            }
        }
        let want: Vec<f32> = (0..24).map(|i| i as f32 / 4.0 - 2.0).collect();
        for name in ["f4", "f8", "v2", "v3"] {
            let a = read(dir.path().join(format!("{name}.npy"))).unwrap();
            assert_eq!(a.shape, vec![2, 3, 4], "{name}");
            assert_eq!(a.data, want, "{name}");
        }
        let u1 = read(dir.path().join("u1.npy")).unwrap();
        assert_eq!(u1.data, (0..24).map(|i| i as f32).collect::<Vec<_>>());
        let i8s = read(dir.path().join("i8.npy")).unwrap();
        assert_eq!(i8s.data[0], -12.0);
        let e = read(dir.path().join("fortran.npy")).unwrap_err();
        assert!(matches!(e, NpyError::FortranOrder { .. }), "{e}");
        // And numpy reads what we write.
        let ours = dir.path().join("ours.npy");
        write(&ours, &[2, 3, 4], &want).unwrap();
        let check = std::process::Command::new("python3")
            .args([
                "-c",
                "import sys, numpy as np; a = np.load(sys.argv[1]); \
                 assert a.dtype == np.float32 and a.shape == (2, 3, 4), a; \
                 assert (a.ravel() == np.arange(24) / 4 - 2).all()",
            ])
            .arg(&ours)
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stderr)
        );
    }

    proptest! {
        #[test]
        fn round_trips(
            shape in proptest::collection::vec(0usize..6, 0..5),
            seed in any::<u64>(),
        ) {
            let n: usize = shape.iter().product();
            let mut rng = crate::onnx::SplitMix64::new(seed);
            // Any bit pattern, NaNs included: the file must carry the bits unchanged.
            let data: Vec<f32> = (0..n).map(|_| f32::from_bits(rng.next_u64() as u32)).collect();
            let bytes = to_bytes(&shape, &data);
            prop_assert_eq!(bytes.len() % 64, (4 * n) % 64);
            let back = parse(&bytes, file()).unwrap();
            prop_assert_eq!(&back.shape, &shape);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            prop_assert_eq!(bits(&back.data), bits(&data));
        }

        #[test]
        fn never_panics_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse(&bytes, file());
            let mut with_magic = MAGIC.to_vec();
            with_magic.extend_from_slice(&bytes);
            let _ = parse(&with_magic, file());
        }
    }
}
