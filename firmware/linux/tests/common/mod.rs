//! What the driver tests share.
#![allow(dead_code)]

use sentio_hal::HalError;

/// A driver error's text and, on the next line, what its help says (the binaries' renderer
/// draws the two; the tests look for words in either).
pub fn shown(e: &HalError) -> String {
    format!("{e}\n{}", e.help_text().unwrap_or_default())
}
