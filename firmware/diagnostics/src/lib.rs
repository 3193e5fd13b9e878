//! How Sentio's binaries speak to a person: errors and logs.
//!
//! - [`report`] renders an error once, on stderr, and returns the exit code for its kind. Every
//!   library error is a miette [`Diagnostic`] with a code and a help line; the code's first
//!   segment is its kind (`usage::`, `device::`, `data::`), which picks the exit code
//!   ([`ExitKind`]). On a terminal the report is miette's coloured graphical one; piped (or with
//!   `NO_COLOR`) it is plain text: `sentio: error[data::infer::not_onnx]: ...` then `  help: ...`.
//! - [`init_logs`] installs the `tracing` subscriber: logs go to stderr (stdout is for results
//!   and JSON events), `RUST_LOG` wins over `-v`/`-q`, and under systemd the lines carry no
//!   timestamps or colours because journald adds its own.
//!
//! Libraries never print or install anything: they derive `Diagnostic` and emit `tracing` events.

mod file;
mod logs;
mod render;

pub use file::{FileContext, FileError};

pub use ::miette;
pub use ::miette::{Diagnostic, IntoDiagnostic, Report, Result, WrapErr, bail};
pub use logs::{Verbosity, init_logs};
pub use render::{ExitKind, Style, code_of, exit_kind, help_of, message_of, render, report};
