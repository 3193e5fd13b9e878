//! [`Progress`]: how a flash reports what it does, for a CLI to draw (the library never prints).

use crate::error::Error;
use crate::flash::FlashReport;

/// Receives the progress of a [`Connection::flash`](crate::Connection::flash). Every method
/// has an empty default; `()` is the progress that shows nothing.
pub trait Progress {
    /// The upload of `name` starts: `total_bytes` in all. Not called when the device already
    /// has the file (skipped).
    fn begin(&mut self, name: &str, total_bytes: u64) {
        let _ = (name, total_bytes);
    }

    /// The device confirmed `bytes_done` bytes of the file (including those it had from an
    /// interrupted transfer). Never decreases.
    fn advance(&mut self, bytes_done: u64) {
        let _ = bytes_done;
    }

    /// A step worth a line: "resuming at byte N", "verifying", "activating"...
    fn message(&mut self, text: &str) {
        let _ = text;
    }

    /// The flash ended.
    fn finish(&mut self, outcome: Result<&FlashReport, &Error>) {
        let _ = outcome;
    }
}

impl Progress for () {}

impl<P: Progress + ?Sized> Progress for &mut P {
    fn begin(&mut self, name: &str, total_bytes: u64) {
        (**self).begin(name, total_bytes);
    }
    fn advance(&mut self, bytes_done: u64) {
        (**self).advance(bytes_done);
    }
    fn message(&mut self, text: &str) {
        (**self).message(text);
    }
    fn finish(&mut self, outcome: Result<&FlashReport, &Error>) {
        (**self).finish(outcome);
    }
}
