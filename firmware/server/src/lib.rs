//! The device side of the Sentio serial link: answers the host's requests over a model store.
//!
//! [`LinkServer`] is what `sentiod` runs next to its pipeline. It is a state machine with no I/O
//! of its own: the caller reads bytes from its serial device and passes them to
//! [`LinkServer::on_bytes`], writes what [`LinkServer::poll_output`] gives, and comes back by
//! [`LinkServer::next_deadline`]. [`serve`] is that loop over any `Read + Write` with a read
//! timeout, for a thread. Wire format, reliability and transfer rules come from `sentio-link`;
//! the store is behind the [`ModelStore`] trait, defined here because the server is what needs it
//! (the on-device `sentio-store` gets an adapter; [`MemoryStore`] is the in-memory version used
//! by tests on both sides).
//!
//! What this crate must not do: open ports, spawn threads, read clocks (the time is passed in,
//! except in [`serve`]), print, or panic on any byte received. It never activates a model the
//! store did not verify: activation is the store's, and both [`ModelStore`] and [`MemoryStore`]
//! say so.
//!
//! Every request of `docs/protocol.md` is handled. One convention beyond the document: a
//! `BeginTransfer` that comes right after the same `BeginTransfer` (same name and SHA-256) was
//! answered `TransferSkipped` is a *forced* upload (`sentio flash --force`) and is accepted,
//! since protocol version 1 has no flag for it.
//!
//! ```
//! use sentio_link::{encode_frame, Header, FrameFlags, Hello, Message, MAX_FRAME, PROTOCOL_VERSION};
//! use sentio_server::{LinkServer, MemoryStore, ServerConfig};
//!
//! let mut server = LinkServer::new(ServerConfig::new("sim", "0.1.0", "SIM-1"), MemoryStore::new(1 << 20));
//! let mut hello = Header::data(100);
//! hello.flags = FrameFlags::RESET;
//! let mut wire = [0u8; MAX_FRAME];
//! let msg = Message::Hello(Hello { protocol_version: PROTOCOL_VERSION, host_max_frame: MAX_FRAME as u16, nonce: 7 });
//! let bytes = encode_frame(&hello, &msg, &mut wire).unwrap().to_vec();
//! server.on_bytes(&bytes, 0);
//! let mut out = [0u8; MAX_FRAME];
//! assert_eq!(server.poll_output(0, &mut out), Some(&[0u8][..])); // the greeting 0x00
//! assert!(server.poll_output(0, &mut out).is_some());             // the HelloReply
//! assert!(server.is_connected());
//! ```

mod memory;
mod serve;
mod server;
mod store;
mod store_adapter;

pub use memory::{
    ActivationRecord, MemorySink, MemorySinkError, MemoryStore, Staged, Verifier, VersionReader,
    sha256,
};
pub use serve::{ServeExit, is_no_data, monotonic_ms, serve};
pub use server::{LinkServer, SERVER_WINDOW_CAPACITY, ServerConfig, ServerStats, truncated};
pub use store::{BeginDecision, BeginMode, ModelStore};
