//! One renderer for every error a person reads, and the exit code that goes with it.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::process::ExitCode;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, Report};

/// What kind of failure ended the program; each has its own exit code, documented in the README.
///
/// A diagnostic's kind is the first segment of its code: `usage::...`, `device::...` or
/// `data::...`. A failure without a code (an unexpected OS error, a bug) is [`ExitKind::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// Something else went wrong: exit code 1.
    Other,
    /// The command line was wrong (a bad flag, a value out of range, options that conflict):
    /// exit code 2, as clap uses for its own parse errors.
    Usage,
    /// A device, the serial link or a piece of hardware failed or refused: exit code 3.
    Device,
    /// A file, dataset, model or manifest is missing or not what it must be: exit code 4.
    Data,
}

impl ExitKind {
    /// The process exit status.
    pub const fn code(self) -> u8 {
        match self {
            Self::Other => 1,
            Self::Usage => 2,
            Self::Device => 3,
            Self::Data => 4,
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        match code.split("::").next()? {
            "usage" => Some(Self::Usage),
            "device" => Some(Self::Device),
            "data" => Some(Self::Data),
            _ => None,
        }
    }
}

/// How a report is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Plain text, for pipes, logs and journald: the message with its causes on one line, then
    /// the help line.
    Plain,
    /// miette's graphical report with colours, for a person at a terminal.
    Terminal,
}

impl Style {
    /// [`Style::Terminal`] when stderr is a terminal and `NO_COLOR` is unset.
    pub fn for_stderr() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        if std::io::stderr().is_terminal() && !no_color {
            Self::Terminal
        } else {
            Self::Plain
        }
    }
}

/// The diagnostics of `error`, outermost first: each one's `diagnostic_source`, or failing that
/// its `source` when that is the next wrapped diagnostic (miette's `wrap_err` hands both over).
fn diagnostics(error: &dyn Diagnostic) -> Vec<&dyn Diagnostic> {
    let mut out: Vec<&dyn Diagnostic> = vec![error];
    while let Some(next) = out.last().and_then(|d| d.diagnostic_source()) {
        out.push(next);
    }
    out
}

/// The code of `error`, or of the first diagnostic it wraps that has one.
pub fn code_of(error: &dyn Diagnostic) -> Option<String> {
    diagnostics(error)
        .iter()
        .find_map(|d| d.code().map(|c| c.to_string()))
}

/// The help line of `error`, or of the first diagnostic it wraps that has one: what an event
/// that carries an error (sentiod's `model_refused`) says beside the message.
pub fn help_of(error: &dyn Diagnostic) -> Option<String> {
    diagnostics(error)
        .iter()
        .find_map(|d| d.help().map(|h| h.to_string()))
}

/// The message and its causes on one line; a cause the text already quotes is left out.
pub fn message_of(error: &dyn Diagnostic) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        let said = next.to_string();
        if !text.contains(&said) {
            let _ = write!(text, ": {said}");
        }
        cause = next.source();
    }
    text
}

/// The kind of failure `report` is, from its (or a wrapped diagnostic's) code.
pub fn exit_kind(report: &Report) -> ExitKind {
    code_of(report.as_ref())
        .as_deref()
        .and_then(ExitKind::from_code)
        .unwrap_or(ExitKind::Other)
}

/// `report` as text, drawn once: `program` names the binary (`sentio`, `sentiod`).
pub fn render(program: &str, report: &Report, style: Style) -> String {
    match style {
        Style::Plain => render_plain(program, report),
        Style::Terminal => {
            let mut text = format!("{program}: error\n");
            let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode());
            if handler.render_report(&mut text, report.as_ref()).is_err() {
                return render_plain(program, report);
            }
            text
        }
    }
}

/// The message and its causes on one line (a cause the message already quotes is left out),
/// then the help line: what a pipe, a log or a test sees.
fn render_plain(program: &str, report: &Report) -> String {
    let error: &dyn Diagnostic = report.as_ref();
    let head = match code_of(error) {
        Some(code) => format!("{program}: error[{code}]: "),
        None => format!("{program}: error: "),
    };
    let mut out = head + &message_of(error);
    if let Some(help) = help_of(error) {
        let _ = write!(out, "\n  help: {help}");
    }
    out
}

/// Prints `report` on stderr in the style stderr calls for and returns the exit code of its
/// kind: the one way both binaries end on an error.
pub fn report(program: &str, report: &Report) -> ExitCode {
    eprintln!("{}", render(program, report, Style::for_stderr()));
    ExitCode::from(exit_kind(report).code())
}

#[cfg(test)]
mod tests {
    use super::*;
    use miette::{WrapErr, miette};

    #[derive(Debug)]
    struct NotOnnx;

    impl std::fmt::Display for NotOnnx {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("model.onnx: not a valid ONNX file")
        }
    }
    impl std::error::Error for NotOnnx {}
    impl Diagnostic for NotOnnx {
        fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
            Some(Box::new("data::infer::not_onnx"))
        }
        fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
            Some(Box::new("export it again"))
        }
    }

    #[test]
    fn plain_reports_carry_the_code_causes_and_help_once() {
        let report = Err::<(), _>(NotOnnx)
            .wrap_err("cannot load the expression model")
            .err();
        let Some(report) = report else { return };
        assert_eq!(
            render("sentio", &report, Style::Plain),
            "sentio: error[data::infer::not_onnx]: cannot load the expression model: \
             model.onnx: not a valid ONNX file\n  help: export it again"
        );
        assert_eq!(exit_kind(&report), ExitKind::Data);
    }

    #[test]
    fn an_error_without_a_code_is_other() {
        let report = miette!("something broke");
        assert_eq!(
            render("sentiod", &report, Style::Plain),
            "sentiod: error: something broke"
        );
        assert_eq!(exit_kind(&report).code(), 1);
        let usage = miette!(
            code = "usage::cli::conflict",
            help = "drop one",
            "two options"
        );
        assert_eq!(exit_kind(&usage).code(), 2);
        assert_eq!(
            render("sentio", &usage, Style::Plain),
            "sentio: error[usage::cli::conflict]: two options\n  help: drop one"
        );
    }

    #[test]
    fn the_terminal_report_shows_the_help_once() {
        let report = Report::new(NotOnnx);
        let text = render("sentio", &report, Style::Terminal);
        assert_eq!(text.matches("export it again").count(), 1, "{text}");
        assert!(text.contains("data::infer::not_onnx"), "{text}");
    }
}
