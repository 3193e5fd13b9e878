//! The host side of the Sentio serial link: connect to a device, look at its model store,
//! flash model bundles, follow its events.
//!
//! [`Connection`] does the I/O over any `T: Read + Write` — a serial port
//! ([`serial::open_port`]), a pseudo-terminal, an in-memory [`pipe`] — whose reads time out
//! (`ErrorKind::TimedOut`, as serial ports do). Everything on the wire (messages, framing,
//! windows, transfer state machines) comes from `sentio-link`, which the device side
//! (`sentio-server`) uses too, so the two cannot drift apart.
//!
//! What this crate must not do: print, or know about terminals. Progress goes through the
//! [`Progress`] trait (the `sentio` CLI draws it with indicatif); every failure is an [`Error`]
//! with a [`help`](Error::help) line to show under it. No panics on any byte received.
//!
//! ```no_run
//! use sentio_flash::{serial, ConnectOptions, Connection, FlashOptions};
//!
//! # fn main() -> Result<(), sentio_flash::Error> {
//! let port = serial::open_port("/dev/ttyUSB0", 921_600)?;
//! let mut device = Connection::open(port, ConnectOptions::new("/dev/ttyUSB0", 921_600))?;
//! let bundle = std::fs::read("fer.bundle").map_err(sentio_flash::Error::Source)?;
//! let report = device.flash("fer", bundle.as_slice(), &FlashOptions::default(), ())?;
//! assert!(report.verified);
//! # Ok(()) }
//! ```
//!
//! Test helpers live here too, so that other crates' tests can use them: [`pipe::duplex`],
//! [`fault::Faulty`] (seeded fault injection), [`throttle::LineRate`] (a writer at a serial
//! line's speed) and [`ManualClock`].

mod clock;
mod connection;
mod error;
pub mod fault;
mod flash;
pub mod pipe;
mod progress;
pub mod serial;
pub mod throttle;

pub use clock::{Clock, ManualClock, SystemClock};
pub use connection::{ConnectOptions, Connection, Push, Timeouts};
pub use error::{Error, ErrorKind, Result};
pub use flash::{FlashOptions, FlashOutcome, FlashReport, FlashSource, ReaderSource, hash_source};
pub use progress::Progress;
