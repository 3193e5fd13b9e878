//! What the driver tests share.
#![allow(dead_code)]

use sentio_hal::HalError;

/// A driver error as the binaries show it (plain): its text, then its help line.
pub fn shown(e: &HalError) -> String {
    match e.help_text() {
        Some(help) => format!("{e}\n  help: {help}"),
        None => e.to_string(),
    }
}
