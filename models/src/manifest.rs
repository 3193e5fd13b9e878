//! The model manifest: what a model is, what it expects as input and how it was made.
//!
//! A manifest is JSON (see `docs/bundle.md` for every field). It travels inside a bundle, next
//! to the model it describes, and is what lets training and inference preprocess identically.
//!
//! **Forward compatibility.** Fields this version does not know are accepted and *kept*: they
//! land in the `extra` map of the struct they appear in (the manifest itself, `labels`, `input`,
//! `input.preprocessing`) and are written back when the manifest is serialized, so an older tool
//! that repacks a newer manifest loses nothing. Unknown *values* of the open string fields
//! (`task`, `preprocessing.kind`) are accepted too; unknown values of `precision` and
//! `input.dtype` are errors, since a device could not run such a model anyway.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest model name, in bytes.
pub const MAX_NAME_LEN: usize = 32;
/// Longest version string, in bytes (the link's `ModelInfo::version` holds 16).
pub const MAX_VERSION_LEN: usize = 16;
/// Most labels in a label set.
pub const MAX_LABELS: usize = 1024;
/// Most dimensions in an input shape.
pub const MAX_RANK: usize = 8;

/// Free-form figures (training data summary, evaluation results): any JSON values by name.
pub type Figures = BTreeMap<String, Value>;

/// Why a manifest was refused.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ManifestError {
    /// Not JSON, or a field has the wrong type or is missing.
    #[error("manifest is not valid: {0}")]
    #[diagnostic(
        code(data::models::json),
        help("fix the JSON; docs/bundle.md lists the fields")
    )]
    Json(#[from] serde_json::Error),
    /// A field's value breaks a rule.
    #[error("manifest field `{field}` is invalid: {reason}")]
    #[diagnostic(code(data::models::invalid))]
    Invalid {
        /// The field, as a JSON path (`name`, `input.shape`, ...).
        field: &'static str,
        /// What is wrong and what is allowed.
        reason: String,
    },
}

impl ManifestError {
    fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

/// What the model does. Serialized as a lowercase string; strings other than the known ones are
/// kept as [`Task::Other`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Task {
    /// Facial expression recognition (`"fer"`).
    Fer,
    /// Speech emotion recognition (`"ser"`).
    Ser,
    /// Hand-drawn emoji classification (`"emoji"`).
    Emoji,
    /// Adjective-noun pair captioning (`"anp"`).
    Anp,
    /// Anything else a user trained (`"custom"`).
    Custom,
    /// A task named by a newer tool.
    Other(String),
}

impl Task {
    /// The string written in the manifest.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Fer => "fer",
            Self::Ser => "ser",
            Self::Emoji => "emoji",
            Self::Anp => "anp",
            Self::Custom => "custom",
            Self::Other(s) => s,
        }
    }
}

impl From<String> for Task {
    fn from(s: String) -> Self {
        match s.as_str() {
            "fer" => Self::Fer,
            "ser" => Self::Ser,
            "emoji" => Self::Emoji,
            "anp" => Self::Anp,
            "custom" => Self::Custom,
            _ => Self::Other(s),
        }
    }
}

impl From<Task> for String {
    fn from(t: Task) -> Self {
        match t {
            Task::Other(s) => s,
            known => known.as_str().to_owned(),
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Numeric precision of the model's weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 32-bit float.
    F32,
    /// 8-bit integer (quantized).
    Int8,
}

/// Element type of the model's input tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    /// 32-bit float.
    F32,
    /// Unsigned byte.
    U8,
    /// Signed byte.
    I8,
    /// 16-bit signed integer.
    I16,
    /// 32-bit signed integer.
    I32,
    /// 64-bit signed integer.
    I64,
}

/// The label set the model's outputs are in, in output order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabelSpec {
    /// Name of the label set (`emoji8`, `fer7`, `ser8`, or a custom name).
    pub set: String,
    /// The labels, one per output, in output order.
    pub labels: Vec<String>,
    /// Fields of a newer format, kept as they are.
    #[serde(flatten)]
    pub extra: Figures,
}

impl LabelSpec {
    /// A label set named `set` with `labels`.
    pub fn new(set: &str, labels: &[&str]) -> Self {
        Self {
            set: set.to_owned(),
            labels: labels.iter().map(|l| (*l).to_owned()).collect(),
            extra: Figures::new(),
        }
    }

    /// Whether the labels are exactly `set`'s, in its order (the set's name is not compared:
    /// a third-party manifest may call them anything).
    pub fn are(&self, set: &crate::LabelSet) -> bool {
        self.labels
            .iter()
            .map(String::as_str)
            .eq(set.labels.iter().copied())
    }
}

/// How raw input (a camera frame, audio) becomes the model's input tensor. An open struct: `kind`
/// names the method and the optional fields are its parameters; a field a method does not use is
/// left out of the JSON.
///
/// Known kinds: `"none"` (the tensor is fed as is), `"gray48"` (face crop resized to 48x48 gray,
/// scaled by `scale`, then `mean`/`std` normalized), `"mfcc"` (audio resampled to `sample_rate`,
/// `n_mfcc` coefficients from `n_fft`-point frames every `hop_length` samples over `n_mels`
/// mel bands, `frames` frames per window).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Preprocessing {
    /// Method name.
    pub kind: String,
    /// Image width in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Image height in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Face crops: the fraction of the detected face box's width and height added on each
    /// side before cropping (0.0 crops the box as the detector gave it; FER2013-style crops
    /// with some forehead and chin want ~0.1-0.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin: Option<f32>,
    /// Factor applied to raw values first (e.g. 1/255 for bytes to 0..1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<f32>,
    /// Per-channel mean subtracted after scaling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<Vec<f32>>,
    /// Per-channel standard deviation divided by after the mean.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub std: Option<Vec<f32>>,
    /// Audio sample rate in Hz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<u32>,
    /// Number of MFCC coefficients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_mfcc: Option<u32>,
    /// FFT size in samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_fft: Option<u32>,
    /// Hop between frames in samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hop_length: Option<u32>,
    /// Number of mel bands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_mels: Option<u32>,
    /// Frames per input window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frames: Option<u32>,
    /// Parameters of a newer format, kept as they are.
    #[serde(flatten)]
    pub extra: Figures,
}

impl Preprocessing {
    /// The tensor is fed as is.
    pub fn none() -> Self {
        Self {
            kind: "none".into(),
            ..Self::default()
        }
    }

    /// 48x48 grayscale face crop, bytes scaled to 0..1.
    pub fn gray48() -> Self {
        Self {
            kind: "gray48".into(),
            width: Some(48),
            height: Some(48),
            scale: Some(1.0 / 255.0),
            ..Self::default()
        }
    }

    /// MFCC features at `sample_rate` Hz, `n_mfcc` coefficients.
    pub fn mfcc(sample_rate: u32, n_mfcc: u32) -> Self {
        Self {
            kind: "mfcc".into(),
            sample_rate: Some(sample_rate),
            n_mfcc: Some(n_mfcc),
            ..Self::default()
        }
    }

    fn validate(&self) -> Result<(), ManifestError> {
        const FIELD: &str = "input.preprocessing";
        if self.kind.is_empty() {
            return Err(ManifestError::invalid(
                FIELD,
                "`kind` is empty; use \"none\", \"gray48\", \"mfcc\" or a custom method name",
            ));
        }
        let positive = [
            ("width", self.width),
            ("height", self.height),
            ("sample_rate", self.sample_rate),
            ("n_mfcc", self.n_mfcc),
            ("n_fft", self.n_fft),
            ("hop_length", self.hop_length),
            ("n_mels", self.n_mels),
            ("frames", self.frames),
        ];
        for (name, value) in positive {
            if value == Some(0) {
                return Err(ManifestError::invalid(
                    FIELD,
                    format!("`{name}` is 0; it must be positive or left out"),
                ));
            }
        }
        if self.kind == "mfcc" && (self.sample_rate.is_none() || self.n_mfcc.is_none()) {
            return Err(ManifestError::invalid(
                FIELD,
                "kind \"mfcc\" needs `sample_rate` and `n_mfcc`",
            ));
        }
        if let Some(margin) = self.margin
            && !(0.0..=2.0).contains(&margin)
        {
            return Err(ManifestError::invalid(
                FIELD,
                format!(
                    "`margin` is {margin}; it must be between 0.0 and 2.0 (a fraction of the face box)"
                ),
            ));
        }
        if let Some(std) = &self.std
            && std.iter().any(|s| !s.is_finite() || *s == 0.0)
        {
            return Err(ManifestError::invalid(
                FIELD,
                "`std` must be finite and non-zero",
            ));
        }
        Ok(())
    }
}

/// The model's input tensor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    /// Dimensions, e.g. `[1, 1, 48, 48]`; every one at least 1.
    pub shape: Vec<usize>,
    /// Element type.
    pub dtype: DType,
    /// How raw input becomes this tensor.
    pub preprocessing: Preprocessing,
    /// Fields of a newer format, kept as they are.
    #[serde(flatten)]
    pub extra: Figures,
}

/// A model manifest (see the module documentation and `docs/bundle.md`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Model name: `[a-z0-9][a-z0-9_-]{0,31}` (also its name in a device's store).
    pub name: String,
    /// Version, semver-ish: 1 to 16 characters of `0-9 A-Z a-z . + - _`, starting with a letter
    /// or digit (e.g. `1.2.0`, `2024.06.1-int8`).
    pub version: String,
    /// What the model does.
    pub task: Task,
    /// Output labels.
    pub labels: LabelSpec,
    /// Input tensor and preprocessing.
    pub input: InputSpec,
    /// Weight precision.
    pub precision: Precision,
    /// SHA-256 of the model file, hex (64 lowercase digits). Filled in by
    /// [`Bundle::pack`](crate::Bundle::pack); all zeros when left out of the JSON.
    #[serde(default, with = "hex_digest")]
    pub model_sha256: [u8; 32],
    /// Size of the model file in bytes. Filled in by [`Bundle::pack`](crate::Bundle::pack).
    #[serde(default)]
    pub model_size: u64,
    /// Training data summary (dataset, sizes, seed, epochs, ...), free-form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<Figures>,
    /// Evaluation figures (accuracy, per-class F1, ...), free-form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval: Option<Figures>,
    /// Fields of a newer format, kept as they are and written back.
    #[serde(flatten)]
    pub extra: Figures,
}

impl Manifest {
    /// A manifest with the required fields; `model_sha256` and `model_size` are filled in by
    /// [`Bundle::pack`](crate::Bundle::pack).
    pub fn new(
        name: &str,
        version: &str,
        task: Task,
        labels: LabelSpec,
        input: InputSpec,
        precision: Precision,
    ) -> Self {
        Self {
            name: name.to_owned(),
            version: version.to_owned(),
            task,
            labels,
            input,
            precision,
            model_sha256: [0; 32],
            model_size: 0,
            training: None,
            eval: None,
            extra: Figures::new(),
        }
    }

    /// Parses and validates a manifest.
    pub fn from_json(json: &str) -> Result<Self, ManifestError> {
        let manifest: Self = serde_json::from_str(json)?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// Parses and validates a manifest from bytes (must be UTF-8 JSON).
    pub fn from_slice(json: &[u8]) -> Result<Self, ManifestError> {
        let manifest: Self = serde_json::from_slice(json)?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// Compact JSON, as stored in a bundle.
    pub fn to_json(&self) -> Result<String, ManifestError> {
        Ok(serde_json::to_string(self)?)
    }

    /// Indented JSON, for people.
    pub fn to_json_pretty(&self) -> Result<String, ManifestError> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    /// Checks every rule of the fields (the JSON types were checked by parsing).
    pub fn validate(&self) -> Result<(), ManifestError> {
        validate_name(&self.name)?;
        validate_version(&self.version)?;
        if self.task.as_str().is_empty() {
            return Err(ManifestError::invalid("task", "empty; use e.g. \"fer\""));
        }
        if self.labels.set.is_empty() {
            return Err(ManifestError::invalid(
                "labels.set",
                "empty; name the label set (e.g. \"fer7\")",
            ));
        }
        let labels = &self.labels.labels;
        if labels.is_empty() || labels.len() > MAX_LABELS {
            return Err(ManifestError::invalid(
                "labels.labels",
                format!("has {} labels; 1 to {MAX_LABELS} allowed", labels.len()),
            ));
        }
        for (i, label) in labels.iter().enumerate() {
            if label.is_empty() {
                return Err(ManifestError::invalid(
                    "labels.labels",
                    format!("label {i} is empty"),
                ));
            }
            if labels[..i].contains(label) {
                return Err(ManifestError::invalid(
                    "labels.labels",
                    format!("label {label:?} appears twice"),
                ));
            }
        }
        let shape = &self.input.shape;
        if shape.is_empty() || shape.len() > MAX_RANK || shape.contains(&0) {
            return Err(ManifestError::invalid(
                "input.shape",
                format!("{shape:?}: 1 to {MAX_RANK} dimensions, each at least 1"),
            ));
        }
        self.input.preprocessing.validate()
    }
}

/// Checks a model name: `[a-z0-9][a-z0-9_-]{0,31}`. Such a name is also a valid link
/// `ModelName` and a safe file name.
pub fn validate_name(name: &str) -> Result<(), ManifestError> {
    let bytes = name.as_bytes();
    let first = bytes
        .first()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let rest = bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-'));
    if first && rest && bytes.len() <= MAX_NAME_LEN {
        Ok(())
    } else {
        Err(ManifestError::invalid(
            "name",
            format!(
                "{name:?}: use 1 to {MAX_NAME_LEN} characters of a-z 0-9 _ -, starting with a letter or digit"
            ),
        ))
    }
}

/// Checks a version string (see [`Manifest::version`]).
pub fn validate_version(version: &str) -> Result<(), ManifestError> {
    let bytes = version.as_bytes();
    let first = bytes.first().is_some_and(u8::is_ascii_alphanumeric);
    let rest = bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-' | b'_'));
    if first && rest && bytes.len() <= MAX_VERSION_LEN {
        Ok(())
    } else {
        Err(ManifestError::invalid(
            "version",
            format!(
                "{version:?}: use 1 to {MAX_VERSION_LEN} characters of 0-9 A-Z a-z . + - _, starting with a letter or digit (e.g. \"1.2.0\")"
            ),
        ))
    }
}

/// Serde for a SHA-256 as 64 hex digits.
mod hex_digest {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(digest: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(digest))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(&text, &mut out)
            .map_err(|e| D::Error::custom(format!("model_sha256 must be 64 hex digits: {e}")))?;
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> Manifest {
        Manifest::new(
            "fer",
            "1.0.0",
            Task::Fer,
            LabelSpec::new(
                "fer7",
                &[
                    "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral",
                ],
            ),
            InputSpec {
                shape: vec![1, 1, 48, 48],
                dtype: DType::F32,
                preprocessing: Preprocessing::gray48(),
                extra: Figures::new(),
            },
            Precision::F32,
        )
    }

    #[test]
    fn names() {
        for ok in ["fer", "0emoji", "ser_v2-int8", &"a".repeat(32)] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Fer",
            "_x",
            "-x",
            "a.b",
            "a/b",
            "..",
            "a b",
            "é",
            &"a".repeat(33),
        ] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn versions() {
        for ok in ["1", "1.2.3", "v2", "2024.06.1-int8", "1.0.0+build"] {
            assert!(validate_version(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".1", "1 2", "1/2", "12345678901234567"] {
            assert!(validate_version(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn json_round_trip_keeps_unknown_fields() {
        let mut m = sample();
        m.training = Some(Figures::from([("epochs".into(), Value::from(30))]));
        let mut json: Value = serde_json::from_str(&m.to_json().unwrap()).unwrap();
        json["future_field"] = Value::from("kept");
        json["input"]["layout"] = Value::from("nchw");
        json["input"]["preprocessing"]["crop"] = Value::from(0.9);
        json["task"] = Value::from("pose");
        let text = json.to_string();
        let parsed = Manifest::from_json(&text).unwrap();
        assert_eq!(parsed.extra["future_field"], "kept");
        assert_eq!(parsed.input.extra["layout"], "nchw");
        assert_eq!(parsed.input.preprocessing.extra["crop"], 0.9);
        assert_eq!(parsed.task, Task::Other("pose".into()));
        let again: Value = serde_json::from_str(&parsed.to_json().unwrap()).unwrap();
        assert_eq!(again, json);
    }

    #[test]
    fn invalid_fields_are_named() {
        type Change = fn(&mut Manifest);
        let cases: [(&str, Change); 6] = [
            ("name", |m| m.name = "Bad/Name".into()),
            ("version", |m| m.version = String::new()),
            ("labels.labels", |m| m.labels.labels.push("happy".into())),
            ("labels.labels", |m| m.labels.labels.clear()),
            ("input.shape", |m| m.input.shape = vec![1, 0]),
            ("input.preprocessing", |m| {
                m.input.preprocessing = Preprocessing {
                    kind: "mfcc".into(),
                    ..Preprocessing::default()
                }
            }),
        ];
        for (field, change) in cases {
            let mut m = sample();
            change(&mut m);
            match m.validate() {
                Err(ManifestError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => unreachable!("{field}: {other:?}"),
            }
        }
        assert!(matches!(
            Manifest::from_json("{\"name\": \"x\"}"),
            Err(ManifestError::Json(_))
        ));
        assert!(matches!(
            Manifest::from_json(&sample().to_json().unwrap().replace("\"f32\"", "\"f16\"")),
            Err(ManifestError::Json(_))
        ));
    }

    #[test]
    fn sha_is_hex() {
        let mut m = sample();
        m.model_sha256 = [0xab; 32];
        let json = m.to_json().unwrap();
        assert!(json.contains(&"ab".repeat(32)));
        assert_eq!(Manifest::from_json(&json).unwrap().model_sha256, [0xab; 32]);
        let bad = json.replace(&"ab".repeat(32), "xyz");
        assert!(Manifest::from_json(&bad).is_err());
    }
}
