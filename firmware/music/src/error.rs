use std::path::PathBuf;

/// Everything that can go wrong in this crate. Each message says what is wrong; its help line
/// says what to do about it.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum MusicError {
    /// A `[music]` setting outside its allowed range.
    #[error("invalid [music] {key} = {value}: allowed {allowed}")]
    #[diagnostic(
        code(data::music::invalid_config),
        help("fix the board profile or leave the key out for its default")
    )]
    InvalidConfig {
        key: &'static str,
        value: String,
        allowed: String,
    },

    /// An output format the player cannot render.
    #[error(
        "cannot render {rate} Hz with {channels} channels: allowed 8000-192000 Hz and 1-8 channels"
    )]
    #[diagnostic(
        code(data::music::invalid_output),
        help("pass the speaker's rate and channel count")
    )]
    InvalidOutput { rate: u32, channels: u16 },

    /// A file or folder could not be opened, read, written or renamed.
    #[error("cannot {action} {}: {source}", path.display())]
    #[diagnostic(
        code(data::music::io),
        help("check that the path exists and is readable")
    )]
    Io {
        /// What we were doing: "open", "read", "write", "rename to", "list".
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A track that is not OGG Vorbis, MP3, FLAC or WAV, or whose data is damaged.
    #[error(
        "cannot decode {}: {reason}; the file is damaged or not OGG Vorbis, MP3, FLAC or WAV",
        path.display()
    )]
    #[diagnostic(
        code(data::music::decode),
        help("re-export it or remove it from the folder")
    )]
    Decode { path: PathBuf, reason: String },

    /// The loudness cache file exists but cannot be read as one.
    #[error("loudness cache {} is unreadable ({reason})", path.display())]
    #[diagnostic(
        code(data::music::cache),
        help("delete it: it is rebuilt by measuring the tracks again")
    )]
    Cache { path: PathBuf, reason: String },
}
