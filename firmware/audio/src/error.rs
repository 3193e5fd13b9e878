use std::path::PathBuf;

/// Everything that can go wrong in this crate. Each message says what is wrong; its help line
/// says what to do about it.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum AudioError {
    /// The file could not be opened, read, written or renamed.
    #[error("cannot {action} {}: {source}", path.display())]
    #[diagnostic(
        code(data::audio::io),
        help("check that the path exists and is accessible")
    )]
    Io {
        /// What we were doing: "open", "read", "write", "rename to".
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The bytes are not a RIFF/WAVE file at all (an MP3, an OGG, a text file, a truncated header).
    #[error("{} is not a WAV file ({reason})", path.display())]
    #[diagnostic(
        code(data::audio::not_wav),
        help("convert it with `sox in.mp3 -r 16000 -c 1 out.wav`")
    )]
    NotWav { path: PathBuf, reason: String },

    /// A WAV file whose encoding we do not decode (A-law, 64-bit float, 12-bit PCM, ...).
    #[error("{}: unsupported WAV format: {detail}", path.display())]
    #[diagnostic(
        code(data::audio::unsupported_format),
        help("convert it to 16-bit PCM with `sox in.wav -r 16000 -c 1 -b 16 out.wav`")
    )]
    UnsupportedFormat { path: PathBuf, detail: String },

    /// The header is fine but the sample data is damaged or cut short.
    #[error("{}: the sample data is damaged ({reason})", path.display())]
    #[diagnostic(
        code(data::audio::corrupt_data),
        help("the file is probably truncated: export or record it again")
    )]
    CorruptData { path: PathBuf, reason: String },

    /// A float WAV holds NaN or an infinity: the file is whole, but what wrote it was wrong.
    #[error(
        "{}: sample {index} is {value}, and a float WAV must hold finite samples",
        path.display()
    )]
    #[diagnostic(
        code(data::audio::non_finite_sample),
        help(
            "the program that wrote it computed NaN or infinity: fix it there, or export the audio again as 16-bit PCM"
        )
    )]
    NonFiniteSample {
        path: PathBuf,
        index: usize,
        value: f32,
    },

    /// A sample rate of 0 Hz was passed where a real rate is needed.
    #[error("sample rate of 0 Hz for {what}")]
    #[diagnostic(
        code(data::audio::zero_sample_rate),
        help("pass the rate the samples were recorded at (e.g. 16000)")
    )]
    ZeroSampleRate { what: String },

    /// A [`crate::FeatureConfig`] (or [`crate::VadConfig`]) whose values cannot work together.
    #[error("invalid {config}: {field} {problem}")]
    #[diagnostic(
        code(data::audio::invalid_config),
        help("fix it or start from {config}::default()")
    )]
    InvalidConfig {
        config: &'static str,
        field: &'static str,
        problem: String,
    },

    /// A model manifest whose speech input rule cannot be read or does not add up.
    #[error("the model's manifest does not describe its speech input: {problem}")]
    #[diagnostic(
        code(data::audio::manifest),
        help(
            "give the manifest that training wrote beside the model (`sentio train ser` records it)"
        )
    )]
    Manifest { problem: String },
}
