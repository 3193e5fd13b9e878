//! What the profile tests share.

/// A profile error as the binaries show it (plain): its text, then its help line.
pub fn shown(e: &sentio_boards::ProfileError) -> String {
    match miette::Diagnostic::help(e) {
        Some(help) => format!("{e}\n  help: {help}"),
        None => e.to_string(),
    }
}
