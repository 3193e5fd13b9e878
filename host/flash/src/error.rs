//! [`Error`]: everything that can go wrong talking to a device, each with a `help` line.

use std::fmt;
use std::io;

use sentio_link::ErrorCode;

/// Result of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in words a user can act on: print `error` and then [`Error::help`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Nothing answered the handshake.
    #[error("no device answered on {port} at {baud} baud")]
    NoAnswer {
        /// Port name.
        port: String,
        /// Baud rate used.
        baud: u32,
        /// Handshakes tried.
        attempts: u8,
    },
    /// The device answered before, then stopped acknowledging.
    #[error("the device on {port} stopped answering")]
    DeviceStopped {
        /// Port name.
        port: String,
    },
    /// The device started a new session on its own: it restarted.
    #[error("the device on {port} restarted during the session")]
    SessionLost {
        /// Port name.
        port: String,
    },
    /// The transport reported end of file or a broken pipe.
    #[error("the connection on {port} was closed")]
    Disconnected {
        /// Port name.
        port: String,
    },
    /// Another I/O error on the transport.
    #[error("I/O error on {port}: {source}")]
    Io {
        /// Port name.
        port: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// No such serial port.
    #[error("serial port {port} not found")]
    PortNotFound {
        /// Port name.
        port: String,
    },
    /// The port exists and may not be opened by this user.
    #[error("permission denied opening {port}")]
    PermissionDenied {
        /// Port name.
        port: String,
    },
    /// The port could not be opened for another reason (busy, not a tty, bad baud rate).
    #[error("could not open serial port {port}: {detail}")]
    PortOpen {
        /// Port name.
        port: String,
        /// What the OS said.
        detail: String,
    },
    /// Host and device speak different protocol versions.
    #[error(
        "protocol version mismatch: this host tool speaks version {host}, the device speaks version {device}"
    )]
    VersionMismatch {
        /// This crate's protocol version.
        host: u16,
        /// The device's.
        device: u16,
    },
    /// The device is in the middle of another transfer or store operation.
    #[error("the device is busy with another transfer")]
    Busy,
    /// No room in the device's store.
    #[error("not enough room on the device: {needed} bytes needed, {available} bytes free")]
    Quota {
        /// Bytes the file needs.
        needed: u64,
        /// Bytes free.
        available: u64,
    },
    /// The device checked the bundle's signature and it is wrong.
    #[error("the device rejected the bundle's signature")]
    BadSignature,
    /// The device has a public key and the bundle is not signed.
    #[error("the device only accepts signed bundles and this one is not signed")]
    UnsignedRefused,
    /// No such model on the device.
    #[error("no model `{name}` on the device")]
    UnknownModel {
        /// The name asked for.
        name: String,
    },
    /// The model name breaks the naming rule.
    #[error("invalid model name `{name}`")]
    BadName {
        /// The name given.
        name: String,
    },
    /// The device received a file whose SHA-256 is not the announced one, and discarded it.
    #[error("the device received a file that does not match its SHA-256 and discarded it")]
    HashMismatch,
    /// After flashing, the device reports another file than the one sent.
    #[error("verification failed for `{name}`: the device holds {actual}, expected {expected}")]
    VerifyFailed {
        /// Model name.
        name: String,
        /// SHA-256 sent (hex).
        expected: String,
        /// SHA-256 the device reports (hex), or what else is wrong.
        actual: String,
    },
    /// The new version was activated, then the device went back to another one: its
    /// self-check of the new model failed (the model does not load or run there).
    #[error(
        "`{name}` was activated, then the device rolled it back to {running}: the new version failed the device's self-check"
    )]
    RolledBack {
        /// Model name.
        name: String,
        /// SHA-256 and size of what runs now.
        running: String,
    },
    /// The device refused a request for another reason.
    #[error("the device refused {request}: {code}")]
    Device {
        /// The request's message name.
        request: &'static str,
        /// The device's error code.
        code: ErrorCode,
    },
    /// The device sent something the protocol does not allow here.
    #[error("the device broke the protocol: {detail}")]
    Protocol {
        /// What happened.
        detail: String,
    },
    /// The link worked but no reply came in time.
    #[error("no reply to {request} within {timeout_ms} ms")]
    Timeout {
        /// The request's message name.
        request: &'static str,
        /// The time waited.
        timeout_ms: u64,
    },
    /// Reading the file to flash failed.
    #[error("could not read the file to flash: {0}")]
    Source(#[source] io::Error),
}

impl miette::Diagnostic for Error {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        // The first segment is the kind of failure, which picks the binaries' exit code.
        let code = match self {
            Self::NoAnswer { .. } => "device::flash::no_answer",
            Self::DeviceStopped { .. } => "device::flash::device_stopped",
            Self::SessionLost { .. } => "device::flash::session_lost",
            Self::Disconnected { .. } => "device::flash::disconnected",
            Self::Io { .. } => "device::flash::io",
            Self::PortNotFound { .. } => "device::flash::port_not_found",
            Self::PermissionDenied { .. } => "device::flash::permission_denied",
            Self::PortOpen { .. } => "device::flash::port_open",
            Self::VersionMismatch { .. } => "device::flash::version_mismatch",
            Self::Busy { .. } => "device::flash::busy",
            Self::Quota { .. } => "device::flash::quota",
            Self::BadSignature { .. } => "device::flash::bad_signature",
            Self::UnsignedRefused { .. } => "device::flash::unsigned_refused",
            Self::UnknownModel { .. } => "device::flash::unknown_model",
            Self::BadName { .. } => "device::flash::bad_name",
            Self::HashMismatch { .. } => "device::flash::hash_mismatch",
            Self::VerifyFailed { .. } => "device::flash::verify_failed",
            Self::RolledBack { .. } => "device::flash::rolled_back",
            Self::Device { .. } => "device::flash::device",
            Self::Protocol { .. } => "device::flash::protocol",
            Self::Timeout { .. } => "device::flash::timeout",
            Self::Source { .. } => "data::flash::source",
        };
        Some(Box::new(code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(self.help())
            .filter(|h| !h.is_empty())
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display + 'a>)
    }
}

/// The kind of an [`Error`], for counting and matching without the details.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum ErrorKind {
    NoAnswer,
    DeviceStopped,
    SessionLost,
    Disconnected,
    Io,
    PortNotFound,
    PermissionDenied,
    PortOpen,
    VersionMismatch,
    Busy,
    Quota,
    BadSignature,
    UnsignedRefused,
    UnknownModel,
    BadName,
    HashMismatch,
    VerifyFailed,
    RolledBack,
    Device,
    Protocol,
    Timeout,
    Source,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl ErrorKind {
    /// Whether the link itself failed (the line, the port, the device stopped or restarted),
    /// as opposed to the device refusing: connecting again and repeating the operation may
    /// succeed, and a flash resumes where it stopped.
    pub const fn is_link_failure(self) -> bool {
        matches!(
            self,
            Self::NoAnswer
                | Self::DeviceStopped
                | Self::SessionLost
                | Self::Disconnected
                | Self::Io
                | Self::Timeout
        )
    }
}

impl Error {
    /// The kind, without details.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NoAnswer { .. } => ErrorKind::NoAnswer,
            Self::DeviceStopped { .. } => ErrorKind::DeviceStopped,
            Self::SessionLost { .. } => ErrorKind::SessionLost,
            Self::Disconnected { .. } => ErrorKind::Disconnected,
            Self::Io { .. } => ErrorKind::Io,
            Self::PortNotFound { .. } => ErrorKind::PortNotFound,
            Self::PermissionDenied { .. } => ErrorKind::PermissionDenied,
            Self::PortOpen { .. } => ErrorKind::PortOpen,
            Self::VersionMismatch { .. } => ErrorKind::VersionMismatch,
            Self::Busy => ErrorKind::Busy,
            Self::Quota { .. } => ErrorKind::Quota,
            Self::BadSignature => ErrorKind::BadSignature,
            Self::UnsignedRefused => ErrorKind::UnsignedRefused,
            Self::UnknownModel { .. } => ErrorKind::UnknownModel,
            Self::BadName { .. } => ErrorKind::BadName,
            Self::HashMismatch => ErrorKind::HashMismatch,
            Self::VerifyFailed { .. } => ErrorKind::VerifyFailed,
            Self::RolledBack { .. } => ErrorKind::RolledBack,
            Self::Device { .. } => ErrorKind::Device,
            Self::Protocol { .. } => ErrorKind::Protocol,
            Self::Timeout { .. } => ErrorKind::Timeout,
            Self::Source(_) => ErrorKind::Source,
        }
    }

    /// One sentence telling the user what to do about it.
    pub fn help(&self) -> String {
        match self {
            Self::NoAnswer { baud, .. } => {
                let other = if *baud == 115_200 { 921_600 } else { 115_200 };
                format!(
                    "check the cable, that sentiod runs with --serial on the board, or try --baud {other}"
                )
            }
            Self::DeviceStopped { .. } => {
                "the line or the device failed mid-session; check the cable and run the command again (a flash resumes where it stopped)".into()
            }
            Self::SessionLost { .. } => {
                "the device restarted (power, crash or watchdog); run the command again (a flash resumes where it stopped)".into()
            }
            Self::Disconnected { .. } => {
                "the port went away (USB unplugged?); reconnect and run the command again".into()
            }
            Self::Io { .. } => "check the cable and the port, then try again".into(),
            Self::PortNotFound { .. } => {
                "`sentio devices` lists the serial ports this machine has; check the cable".into()
            }
            Self::PermissionDenied { .. } => {
                "add yourself to the dialout group (`sudo usermod -aG dialout $USER`, then log in again)".into()
            }
            Self::PortOpen { .. } => {
                "close any other program using the port (a serial monitor, another sentio) and try again".into()
            }
            Self::VersionMismatch { host, device } => {
                if host < device {
                    format!(
                        "update the host tool: this sentio speaks protocol {host}, the device's sentiod speaks {device}"
                    )
                } else {
                    format!(
                        "update the device firmware: its sentiod speaks protocol {device}, this sentio speaks {host}"
                    )
                }
            }
            Self::Busy => "wait for the other transfer to finish, or reconnect to end it".into(),
            Self::Quota { needed, available } => format!(
                "delete a model the device no longer needs to free {} bytes, or flash a smaller (int8-quantized) model",
                needed.saturating_sub(*available)
            ),
            Self::BadSignature => {
                "the bundle was altered or signed with another key; re-pack it with `sentio bundle pack --key KEY` using the key the device trusts".into()
            }
            Self::UnsignedRefused => {
                "sign the bundle with `sentio bundle pack --key KEY` (the device has a public key configured)".into()
            }
            Self::UnknownModel { .. } => {
                "list the device's models with `sentio info --port PORT`".into()
            }
            Self::BadName { .. } => ErrorCode::BadName.help().into(),
            Self::HashMismatch => {
                "the file was damaged on the way or changed while flashing; flash it again".into()
            }
            Self::VerifyFailed { .. } => {
                "the device's store may be failing; flash again with --force and check its storage".into()
            }
            Self::RolledBack { .. } => {
                "the model does not load or run on the device: its `model_self_check` event says why (`sentio monitor`, or the device's log); check it with `sentio run` and flash a fixed version".into()
            }
            Self::Device { code, .. } => code.help().into(),
            Self::Protocol { .. } => {
                "host tool and device firmware disagree; update both to the same release and report this".into()
            }
            Self::Timeout { .. } => {
                "the device is alive but did not answer; check its log, or reboot it".into()
            }
            Self::Source(_) => "check that the bundle file exists and is readable".into(),
        }
    }

    /// The error for a device's refusal `code` of `request`.
    pub fn from_code(request: &'static str, code: ErrorCode, name: &str) -> Self {
        match code {
            ErrorCode::VersionMismatch { host, device } => Self::VersionMismatch { host, device },
            ErrorCode::Busy => Self::Busy,
            ErrorCode::QuotaExceeded { needed, available } => Self::Quota { needed, available },
            ErrorCode::BadSignature => Self::BadSignature,
            ErrorCode::UnsignedRefused => Self::UnsignedRefused,
            ErrorCode::UnknownModel => Self::UnknownModel { name: name.into() },
            ErrorCode::BadName => Self::BadName { name: name.into() },
            ErrorCode::HashMismatch => Self::HashMismatch,
            code => Self::Device { request, code },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_lines_say_what_to_do() {
        let e = Error::NoAnswer {
            port: "/dev/ttyUSB0".into(),
            baud: 921_600,
            attempts: 3,
        };
        assert_eq!(
            format!("{e}; {}", e.help()),
            "no device answered on /dev/ttyUSB0 at 921600 baud; check the cable, that sentiod runs with --serial on the board, or try --baud 115200"
        );
        let e = Error::VersionMismatch { host: 1, device: 2 };
        assert!(e.to_string().contains("version 1") && e.to_string().contains("version 2"));
        assert!(e.help().starts_with("update the host tool"));
        let e = Error::VersionMismatch { host: 3, device: 2 };
        assert!(e.help().starts_with("update the device firmware"));
        let e = Error::from_code(
            "BeginTransfer",
            ErrorCode::QuotaExceeded {
                needed: 5000,
                available: 1000,
            },
            "fer",
        );
        assert_eq!(
            e.to_string(),
            "not enough room on the device: 5000 bytes needed, 1000 bytes free"
        );
        assert!(e.help().contains("free 4000 bytes"));
        assert!(
            Error::UnsignedRefused
                .help()
                .contains("sentio bundle pack --key")
        );
        assert!(
            Error::BadSignature
                .help()
                .contains("sentio bundle pack --key")
        );
        let e = Error::PermissionDenied {
            port: "/dev/ttyACM0".into(),
        };
        assert!(e.help().contains("dialout"));
        assert_eq!(Error::Busy.kind(), ErrorKind::Busy);
        assert!(ErrorKind::DeviceStopped.is_link_failure());
        assert!(!ErrorKind::HashMismatch.is_link_failure());
    }
}
