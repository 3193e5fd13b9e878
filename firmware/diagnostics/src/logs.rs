//! The `tracing` subscriber both binaries install: logs on stderr, filtered by `RUST_LOG` or
//! by `-v`/`-q`.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// How much to log when `RUST_LOG` is unset: the count of `-v` minus the count of `-q`, added to
/// the binary's default level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verbosity {
    /// The level with neither flag: 0 = warn (the host tool), 1 = info (the device daemon).
    pub default: i8,
    /// `-v` given this many times.
    pub verbose: u8,
    /// `-q` given this many times.
    pub quiet: u8,
}

impl Verbosity {
    /// The filter directive: `off`, `error`, `warn`, `info`, `debug` or `trace`.
    pub fn directive(self) -> &'static str {
        let level = i16::from(self.default) + i16::from(self.verbose) - i16::from(self.quiet);
        match level {
            i16::MIN..=-2 => "off",
            -1 => "error",
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        }
    }
}

/// Installs the subscriber for this process. `RUST_LOG` (e.g. `RUST_LOG=debug` or
/// `RUST_LOG=sentio_server=trace`) overrides `verbosity`; a malformed `RUST_LOG` falls back to
/// `verbosity` with a warning rather than failing the program. Under systemd (`JOURNAL_STREAM`
/// set) lines have no timestamp or colour; on a terminal they are coloured.
pub fn init_logs(verbosity: Verbosity) {
    let fallback = verbosity.directive();
    let (filter, bad_rust_log) = match std::env::var("RUST_LOG") {
        Ok(text) if !text.trim().is_empty() => match EnvFilter::try_new(&text) {
            Ok(filter) => (filter, None),
            Err(e) => (EnvFilter::new(fallback), Some(format!("{text:?}: {e}"))),
        },
        _ => (EnvFilter::new(fallback), None),
    };
    let journald = std::env::var_os("JOURNAL_STREAM").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none());
    // A second install (tests calling main twice) keeps the first subscriber.
    let installed = if journald {
        builder.without_time().try_init().is_ok()
    } else {
        builder.try_init().is_ok()
    };
    if installed && let Some(why) = bad_rust_log {
        tracing::warn!("RUST_LOG ignored, it is not a filter ({why}); logging at {fallback}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_move_the_level_from_the_default() {
        let v = |default, verbose, quiet| {
            Verbosity {
                default,
                verbose,
                quiet,
            }
            .directive()
        };
        assert_eq!(v(0, 0, 0), "warn");
        assert_eq!(v(0, 1, 0), "info");
        assert_eq!(v(0, 2, 0), "debug");
        assert_eq!(v(0, 5, 0), "trace");
        assert_eq!(v(1, 0, 0), "info");
        assert_eq!(v(1, 0, 1), "warn");
        assert_eq!(v(0, 0, 1), "error");
        assert_eq!(v(0, 0, 2), "off");
        assert_eq!(v(1, 1, 1), "info");
    }
}
