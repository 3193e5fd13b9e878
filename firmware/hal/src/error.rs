use std::fmt;

/// What kind of failure a [`HalError`] is, so callers can react without matching on text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The device node, file or folder does not exist.
    NotFound,
    /// The device exists but we may not open it.
    PermissionDenied,
    /// Another process holds the device.
    Busy,
    /// The device cannot do what was asked (size, rate, pixel format, ...).
    Unsupported,
    /// A file or a buffer from the device holds data we cannot decode.
    InvalidData,
    /// Samples were lost because the reader or writer was too slow (an ALSA xrun).
    Overrun,
    /// The device went away while in use.
    Disconnected,
    /// A finite source (a WAV file that does not loop) has nothing more to give.
    EndOfStream,
    /// Any other I/O failure.
    Io,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not found",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::Busy => "busy",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::InvalidData => "invalid data",
            ErrorKind::Overrun => "overrun",
            ErrorKind::Disconnected => "disconnected",
            ErrorKind::EndOfStream => "end of stream",
            ErrorKind::Io => "i/o error",
        }
    }

    /// Maps an `std::io::ErrorKind` to ours.
    pub fn from_io(kind: std::io::ErrorKind) -> Self {
        use std::io::ErrorKind as Io;
        match kind {
            Io::NotFound => ErrorKind::NotFound,
            Io::PermissionDenied => ErrorKind::PermissionDenied,
            Io::ResourceBusy => ErrorKind::Busy,
            Io::InvalidData | Io::InvalidInput | Io::UnexpectedEof => ErrorKind::InvalidData,
            Io::Unsupported => ErrorKind::Unsupported,
            _ => ErrorKind::Io,
        }
    }
}

impl ErrorKind {
    /// The last segment of a [`HalError`]'s diagnostic code, e.g. `device::hal::not_found`.
    pub fn code_name(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::Busy => "busy",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::InvalidData => "invalid_data",
            ErrorKind::Overrun => "overrun",
            ErrorKind::Disconnected => "disconnected",
            ErrorKind::EndOfStream => "end_of_stream",
            ErrorKind::Io => "io",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from a device: which device, what went wrong, and what the user can do about it.
///
/// Its `Display` is one sentence, e.g. `camera /dev/video0: not found (no such device)`; what to
/// do (`check the cable, or list cameras with v4l2-ctl --list-devices`) is its miette help,
/// which the binaries' renderer prints after it.
#[derive(Debug, thiserror::Error)]
pub struct HalError {
    kind: ErrorKind,
    device: String,
    message: String,
    help: Option<String>,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl HalError {
    /// `device` names the device as the user knows it ("camera /dev/video0", "wav boards/sim/a.wav").
    pub fn new(kind: ErrorKind, device: impl Into<String>, message: impl Into<String>) -> Self {
        HalError {
            kind,
            device: device.into(),
            message: message.into(),
            help: None,
            source: None,
        }
    }

    /// An error from an `std::io::Error`, keeping it as the source.
    pub fn io(device: impl Into<String>, context: &str, err: std::io::Error) -> Self {
        let kind = ErrorKind::from_io(err.kind());
        HalError::new(kind, device, format!("{context}: {err}")).with_source(err)
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn device(&self) -> &str {
        &self.device
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn help_text(&self) -> Option<&str> {
        self.help.as_deref()
    }
}

impl fmt::Display for HalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.device, self.message, self.kind)
    }
}

/// Every hardware failure is a device failure (exit code 3); the help line names the fix.
impl miette::Diagnostic for HalError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("device::hal::{}", self.kind.code_name())))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_deref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_device_and_kind_and_the_diagnostic_carries_code_and_help() {
        use miette::Diagnostic as _;
        let err = HalError::new(ErrorKind::NotFound, "camera /dev/video9", "cannot open")
            .with_help("check the cable");
        assert_eq!(
            err.to_string(),
            "camera /dev/video9: cannot open (not found)"
        );
        let code = err.code().map(|c| c.to_string());
        assert_eq!(code.as_deref(), Some("device::hal::not_found"));
        let help = miette::Diagnostic::help(&err).map(|h| h.to_string());
        assert_eq!(help.as_deref(), Some("check the cable"));
        assert_eq!(err.kind(), ErrorKind::NotFound);
    }

    #[test]
    fn io_errors_keep_their_kind_and_source() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "nope");
        let err = HalError::io("speaker out.wav", "cannot create", io);
        assert_eq!(err.kind(), ErrorKind::PermissionDenied);
        assert!(std::error::Error::source(&err).is_some());
    }
}
