use std::path::PathBuf;

/// Everything that can go wrong in this crate. Each message ends with what to do about it.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum MusicError {
    /// A `[music]` setting outside its allowed range.
    #[error(
        "invalid [music] {key} = {value}: allowed {allowed}; fix the board profile or leave the key out for its default"
    )]
    #[diagnostic(code(data::music::invalid_config))]
    InvalidConfig {
        key: &'static str,
        value: String,
        allowed: String,
    },

    /// An output format the player cannot render.
    #[error(
        "cannot render {rate} Hz with {channels} channels: allowed 8000-192000 Hz and 1-8 channels; pass the speaker's rate and channel count"
    )]
    #[diagnostic(code(data::music::invalid_output))]
    InvalidOutput { rate: u32, channels: u16 },

    /// A file or folder could not be opened, read, written or renamed.
    #[error("cannot {action} {}: {source}; check that the path exists and is readable", path.display())]
    #[diagnostic(code(data::music::io))]
    Io {
        /// What we were doing: "open", "read", "write", "rename to", "list".
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A track that is not OGG Vorbis, MP3, FLAC or WAV, or whose data is damaged.
    #[error(
        "cannot decode {}: {reason}; the file is damaged or not OGG Vorbis, MP3, FLAC or WAV: re-export it or remove it from the folder",
        path.display()
    )]
    #[diagnostic(code(data::music::decode))]
    Decode { path: PathBuf, reason: String },

    /// The loudness cache file exists but cannot be read as one.
    #[error(
        "loudness cache {} is unreadable ({reason}); delete it: it is rebuilt by measuring the tracks again",
        path.display()
    )]
    #[diagnostic(code(data::music::cache))]
    Cache { path: PathBuf, reason: String },
}
