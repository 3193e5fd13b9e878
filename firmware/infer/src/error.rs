//! Typed errors: each names the model, and where it applies the node and operator, and has a
//! [`help`](Error::help) line saying what to do about it.

use std::path::PathBuf;

/// What kind of failure an [`Error`] is (stable, for matching in callers and tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The model file could not be read.
    Io,
    /// The model file is empty.
    Empty,
    /// The bytes are not an ONNX protobuf (truncated, corrupted, not ONNX at all).
    Corrupt,
    /// The protobuf has no graph.
    NoGraph,
    /// A node's operator is not implemented by tract.
    UnsupportedOperator,
    /// A tensor stored in the file has an element type tract cannot load from raw bytes
    /// (string, complex, bfloat16, ...).
    UnsupportedTensorType,
    /// A weight holds NaN or infinity.
    NonFiniteWeights,
    /// The graph has no input (other than initializers).
    NoInput,
    /// A graph output names a value that no node, input or initializer produces.
    UndefinedOutput,
    /// The graph has more than one input.
    TooManyInputs,
    /// The input is not f32.
    UnsupportedInputType,
    /// The input shape is unusable (zero-size dimension, symbolic and not given).
    InvalidShape,
    /// The input shape differs from the manifest's (or the explicit one).
    ShapeMismatch,
    /// The manifest's label count differs from the model's output size.
    LabelMismatch,
    /// tract rejected the model while typing or optimizing it.
    Optimize,
    /// The smoke run after loading failed or produced NaN/infinity.
    SmokeRun,
    /// A `run` got an input of the wrong length.
    InputLength,
    /// tract failed while running the model.
    Run,
    /// Calibration or quantization could not be done (empty calibration set, no layer with an
    /// int8 form, an input the model rejects).
    Calibration,
    /// The int8 model written by [`quantize`](crate::quantize::quantize) does not load.
    QuantizedLoad,
}

/// An error of this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// See [`ErrorKind::Io`].
    #[error("model `{model}`: cannot read {}: {source}", path.display())]
    Io {
        /// The model.
        model: String,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// See [`ErrorKind::Empty`].
    #[error("model `{model}`: the model file is empty (0 bytes)")]
    Empty {
        /// The model.
        model: String,
    },
    /// See [`ErrorKind::Corrupt`].
    #[error("model `{model}`: not a valid ONNX file ({len} bytes): {detail}")]
    Corrupt {
        /// The model.
        model: String,
        /// File size.
        len: usize,
        /// The protobuf decoder's message.
        detail: String,
    },
    /// See [`ErrorKind::NoGraph`].
    #[error("model `{model}`: the ONNX file holds no graph")]
    NoGraph {
        /// The model.
        model: String,
    },
    /// See [`ErrorKind::UnsupportedTensorType`].
    #[error(
        "model `{model}`: tensor `{tensor}` is stored as raw bytes of type {dtype}, which cannot be loaded"
    )]
    UnsupportedTensorType {
        /// The model.
        model: String,
        /// The tensor (an initializer, or the node holding it).
        tensor: String,
        /// The ONNX element type.
        dtype: String,
    },
    /// See [`ErrorKind::UndefinedOutput`].
    #[error(
        "model `{model}`: graph output `{output}` is written by no node and is no input or initializer"
    )]
    UndefinedOutput {
        /// The model.
        model: String,
        /// The output's name.
        output: String,
    },
    /// See [`ErrorKind::UnsupportedOperator`].
    #[error(
        "model `{model}`: node `{node}` uses operator `{op}`{} which tract does not support",
        if domain.is_empty() { String::new() } else { format!(" (domain `{domain}`)") }
    )]
    UnsupportedOperator {
        /// The model.
        model: String,
        /// The node's name.
        node: String,
        /// The operator.
        op: String,
        /// The operator's domain (empty for the default `ai.onnx`).
        domain: String,
    },
    /// See [`ErrorKind::NonFiniteWeights`].
    #[error(
        "model `{model}`: weight `{tensor}` holds {value} at index {index} ({count} non-finite values in all)"
    )]
    NonFiniteWeights {
        /// The model.
        model: String,
        /// The initializer (or Constant node) holding it.
        tensor: String,
        /// Flat index of the first bad value.
        index: usize,
        /// The first bad value.
        value: f32,
        /// How many non-finite values the tensor holds.
        count: usize,
    },
    /// See [`ErrorKind::NoInput`].
    #[error("model `{model}`: the graph has no input")]
    NoInput {
        /// The model.
        model: String,
    },
    /// See [`ErrorKind::TooManyInputs`].
    #[error("model `{model}`: the graph has {} inputs ({}); sentio-infer runs single-input models", inputs.len(), inputs.join(", "))]
    TooManyInputs {
        /// The model.
        model: String,
        /// The inputs' names.
        inputs: Vec<String>,
    },
    /// See [`ErrorKind::UnsupportedInputType`].
    #[error("model `{model}`: input `{input}` is {dtype}, not f32")]
    UnsupportedInputType {
        /// The model.
        model: String,
        /// The input's name.
        input: String,
        /// The input's element type.
        dtype: String,
    },
    /// See [`ErrorKind::InvalidShape`].
    #[error("model `{model}`: input `{input}` shape {shape}: {reason}")]
    InvalidShape {
        /// The model.
        model: String,
        /// The input's name.
        input: String,
        /// The shape, as written.
        shape: String,
        /// What is wrong.
        reason: String,
    },
    /// See [`ErrorKind::ShapeMismatch`].
    #[error(
        "model `{model}`: input `{input}` has shape {model_shape} in the model but {expected:?} in the {source_name}"
    )]
    ShapeMismatch {
        /// The model.
        model: String,
        /// The input's name.
        input: String,
        /// The shape the model declares.
        model_shape: String,
        /// The shape asked for.
        expected: Vec<usize>,
        /// Where the asked-for shape came from (`manifest` or `explicit shape`).
        source_name: &'static str,
    },
    /// See [`ErrorKind::LabelMismatch`].
    #[error(
        "model `{model}`: the manifest has {labels} labels but output `{output}` has {classes} classes (shape {shape:?})"
    )]
    LabelMismatch {
        /// The model.
        model: String,
        /// Label count in the manifest.
        labels: usize,
        /// The output's name.
        output: String,
        /// Size of the output's last axis.
        classes: usize,
        /// The output's shape.
        shape: Vec<usize>,
    },
    /// See [`ErrorKind::Optimize`].
    #[error("model `{model}`: tract could not {stage} the model: {detail}")]
    Optimize {
        /// The model.
        model: String,
        /// `parse`, `type` or `optimize`.
        stage: &'static str,
        /// tract's error chain (it names the node and operator).
        detail: String,
    },
    /// See [`ErrorKind::SmokeRun`].
    #[error("model `{model}`: the smoke run after loading failed: {detail}")]
    SmokeRun {
        /// The model.
        model: String,
        /// What went wrong.
        detail: String,
    },
    /// See [`ErrorKind::InputLength`].
    #[error("model `{model}`: input has {got} values but shape {shape:?} needs {expected}")]
    InputLength {
        /// The model.
        model: String,
        /// Values needed.
        expected: usize,
        /// Values given.
        got: usize,
        /// The input shape.
        shape: Vec<usize>,
    },
    /// See [`ErrorKind::Calibration`].
    #[error("model `{model}`: cannot quantize: {detail}")]
    Calibration {
        /// The model.
        model: String,
        /// What went wrong.
        detail: String,
    },
    /// See [`ErrorKind::QuantizedLoad`].
    #[error("model `{model}`: the quantized model does not load: {source}")]
    QuantizedLoad {
        /// The f32 model it was quantized from.
        model: String,
        /// Why it does not load.
        source: Box<Error>,
    },
    /// See [`ErrorKind::Run`].
    #[error("model `{model}`: inference failed: {detail}")]
    Run {
        /// The model.
        model: String,
        /// tract's error chain.
        detail: String,
    },
}

/// Errors that box this one (to stay small in every `Result`) can name it as their
/// `#[diagnostic_source]`, so its code and help line reach the report.
impl std::borrow::Borrow<dyn miette::Diagnostic> for Box<Error> {
    fn borrow(&self) -> &(dyn miette::Diagnostic + 'static) {
        self.as_ref()
    }
}

impl miette::Diagnostic for Error {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        // The first segment is the kind of failure, which picks the binaries' exit code.
        let code = match self {
            Self::Io { .. } => "data::infer::io",
            Self::Empty { .. } => "data::infer::empty",
            Self::Corrupt { .. } => "data::infer::corrupt",
            Self::NoGraph { .. } => "data::infer::no_graph",
            Self::UnsupportedTensorType { .. } => "data::infer::unsupported_tensor_type",
            Self::UndefinedOutput { .. } => "data::infer::undefined_output",
            Self::UnsupportedOperator { .. } => "data::infer::unsupported_operator",
            Self::NonFiniteWeights { .. } => "data::infer::non_finite_weights",
            Self::NoInput { .. } => "data::infer::no_input",
            Self::TooManyInputs { .. } => "data::infer::too_many_inputs",
            Self::UnsupportedInputType { .. } => "data::infer::unsupported_input_type",
            Self::InvalidShape { .. } => "data::infer::invalid_shape",
            Self::ShapeMismatch { .. } => "data::infer::shape_mismatch",
            Self::LabelMismatch { .. } => "data::infer::label_mismatch",
            Self::Optimize { .. } => "data::infer::optimize",
            Self::SmokeRun { .. } => "data::infer::smoke_run",
            Self::InputLength { .. } => "data::infer::input_length",
            Self::Calibration { .. } => "data::infer::calibration",
            Self::Run { .. } => "data::infer::run",
            Self::QuantizedLoad { .. } => "data::infer::quantized_load",
        };
        Some(Box::new(code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(self.help())
            .filter(|h| !h.is_empty())
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display + 'a>)
    }
}

impl Error {
    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Io { .. } => ErrorKind::Io,
            Self::Empty { .. } => ErrorKind::Empty,
            Self::Corrupt { .. } => ErrorKind::Corrupt,
            Self::NoGraph { .. } => ErrorKind::NoGraph,
            Self::UndefinedOutput { .. } => ErrorKind::UndefinedOutput,
            Self::UnsupportedTensorType { .. } => ErrorKind::UnsupportedTensorType,
            Self::UnsupportedOperator { .. } => ErrorKind::UnsupportedOperator,
            Self::NonFiniteWeights { .. } => ErrorKind::NonFiniteWeights,
            Self::NoInput { .. } => ErrorKind::NoInput,
            Self::TooManyInputs { .. } => ErrorKind::TooManyInputs,
            Self::UnsupportedInputType { .. } => ErrorKind::UnsupportedInputType,
            Self::InvalidShape { .. } => ErrorKind::InvalidShape,
            Self::ShapeMismatch { .. } => ErrorKind::ShapeMismatch,
            Self::LabelMismatch { .. } => ErrorKind::LabelMismatch,
            Self::Optimize { .. } => ErrorKind::Optimize,
            Self::SmokeRun { .. } => ErrorKind::SmokeRun,
            Self::InputLength { .. } => ErrorKind::InputLength,
            Self::Run { .. } => ErrorKind::Run,
            Self::Calibration { .. } => ErrorKind::Calibration,
            Self::QuantizedLoad { .. } => ErrorKind::QuantizedLoad,
        }
    }

    /// The model the error is about.
    pub fn model(&self) -> &str {
        match self {
            Self::Io { model, .. }
            | Self::Empty { model }
            | Self::Corrupt { model, .. }
            | Self::NoGraph { model }
            | Self::UndefinedOutput { model, .. }
            | Self::UnsupportedTensorType { model, .. }
            | Self::UnsupportedOperator { model, .. }
            | Self::NonFiniteWeights { model, .. }
            | Self::NoInput { model }
            | Self::TooManyInputs { model, .. }
            | Self::UnsupportedInputType { model, .. }
            | Self::InvalidShape { model, .. }
            | Self::ShapeMismatch { model, .. }
            | Self::LabelMismatch { model, .. }
            | Self::Optimize { model, .. }
            | Self::SmokeRun { model, .. }
            | Self::InputLength { model, .. }
            | Self::Run { model, .. }
            | Self::Calibration { model, .. }
            | Self::QuantizedLoad { model, .. } => model,
        }
    }

    /// One line telling the user what to do.
    pub fn help(&self) -> String {
        match self {
            Self::Io { .. } => "check the path and the file's permissions".into(),
            Self::Empty { .. } => {
                "the file was probably not written completely; copy or flash it again".into()
            }
            Self::Corrupt { .. } => "the file is truncated or is not ONNX; re-export the model, \
                 or compare its sha256 with the manifest's"
                .into(),
            Self::NoGraph { .. } => "re-export the model: an ONNX file needs a graph".into(),
            Self::UnsupportedTensorType { .. } => {
                "weights must be numbers or booleans (f32, f16, f64, integers, bool); \
                 re-export the model, or compare its sha256 with the manifest's"
                    .into()
            }
            Self::UndefinedOutput { .. } => {
                "the graph is damaged or was edited by hand; re-export the model (onnx.checker \
                 finds such graphs)"
                    .into()
            }
            Self::UnsupportedOperator { op, domain, .. } => {
                if domain.is_empty() || domain == "ai.onnx" {
                    format!(
                        "re-export without `{op}` (replace it with supported ops) or use an opset \
                         tract supports (9-18)"
                    )
                } else {
                    format!(
                        "`{domain}` operators come from vendor tools (e.g. onnxruntime's \
                         quantizer); export with standard-domain ops only"
                    )
                }
            }
            Self::NonFiniteWeights { .. } => {
                "training diverged or the file is corrupted; retrain or re-export the model".into()
            }
            Self::NoInput { .. } => {
                "the graph must declare exactly one non-initializer input".into()
            }
            Self::TooManyInputs { .. } => {
                "fold the extra inputs into initializers or export a single-input model".into()
            }
            Self::UnsupportedInputType { .. } => {
                "export the model with a float32 input (int8 inputs come with quantization)".into()
            }
            Self::InvalidShape { .. } => {
                "give the input shape in the manifest (`input.shape`) or explicitly (--shape), \
                 every dimension at least 1"
                    .into()
            }
            Self::ShapeMismatch { source_name, .. } => format!(
                "the {source_name} and the model disagree: fix the {source_name} or re-export \
                 the model for that input size"
            ),
            Self::LabelMismatch { .. } => {
                "the manifest's label set must have one label per output class".into()
            }
            Self::Optimize { .. } => {
                "the node named above is the one tract rejected; check its attributes and input \
                 shapes (run the model with onnxruntime to compare)"
                    .into()
            }
            Self::SmokeRun { .. } => {
                "the model loads but cannot run on a zero input; check it with onnxruntime".into()
            }
            Self::InputLength { .. } => {
                "preprocess the input to the model's input shape (see the manifest)".into()
            }
            Self::Run { .. } => "this is likely a tract bug; report it with the model file".into(),
            Self::Calibration { .. } => {
                "give calibration inputs the model accepts (a few hundred typical inputs, \
                 preprocessed as in the manifest), or keep the model in f32"
                    .into()
            }
            Self::QuantizedLoad { .. } => {
                "the quantizer wrote a model tract cannot load; keep the model in f32 and \
                 report this with the f32 model file"
                    .into()
            }
        }
    }
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_names_its_model_and_has_help() {
        let e = Error::UnsupportedOperator {
            model: "fer".into(),
            node: "qgemm_3".into(),
            op: "QGemm".into(),
            domain: "com.microsoft".into(),
        };
        assert_eq!(e.kind(), ErrorKind::UnsupportedOperator);
        assert_eq!(e.model(), "fer");
        let text = e.to_string();
        assert!(
            text.contains("`qgemm_3`") && text.contains("`QGemm`"),
            "{text}"
        );
        assert!(e.help().contains("standard-domain"));
    }
}
