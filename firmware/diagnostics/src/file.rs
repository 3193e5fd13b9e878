//! Failures to read or write a file the user named, as data diagnostics with a help line.

use std::io;

use miette::Diagnostic;

/// A file the binary was told to read or write could not be: `cannot read model.onnx: No such
/// file or directory (os error 2)`, with what to do for the common causes.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {source}")]
pub struct FileError {
    what: String,
    #[source]
    source: io::Error,
}

impl Diagnostic for FileError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        let kind = match self.source.kind() {
            io::ErrorKind::NotFound => "not_found",
            io::ErrorKind::PermissionDenied => "permission_denied",
            io::ErrorKind::AlreadyExists => "exists",
            _ => "io",
        };
        Some(Box::new(format!("data::file::{kind}")))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        let help = match self.source.kind() {
            io::ErrorKind::NotFound => {
                "check the path (relative paths start in the current folder)"
            }
            io::ErrorKind::PermissionDenied => "check the file's and its folder's permissions",
            io::ErrorKind::AlreadyExists => "choose another path, or remove the old one first",
            io::ErrorKind::StorageFull => "free some disk space and run it again",
            _ => return None,
        };
        Some(Box::new(help))
    }
}

/// `.file_context(|| format!("cannot read {}", path.display()))` on an I/O result: a
/// [`FileError`] report (exit code 4) instead of an uncoded I/O error.
pub trait FileContext<T> {
    /// Names what was being done to which file.
    fn file_context(self, what: impl FnOnce() -> String) -> miette::Result<T>;
}

impl<T> FileContext<T> for Result<T, io::Error> {
    fn file_context(self, what: impl FnOnce() -> String) -> miette::Result<T> {
        self.map_err(|source| {
            miette::Report::new(FileError {
                what: what(),
                source,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ExitKind, Style, exit_kind, render};

    #[test]
    fn a_missing_file_is_a_data_failure_with_a_help_line() {
        let read = std::fs::read("/nonexistent/sentio/model.onnx")
            .file_context(|| "cannot read /nonexistent/sentio/model.onnx".into());
        let Err(report) = read else { return };
        assert_eq!(exit_kind(&report), ExitKind::Data);
        assert_eq!(
            render("sentio", &report, Style::Plain),
            "sentio: error[data::file::not_found]: cannot read /nonexistent/sentio/model.onnx: \
             No such file or directory (os error 2)\n  help: check the path (relative paths \
             start in the current folder)"
        );
    }
}
