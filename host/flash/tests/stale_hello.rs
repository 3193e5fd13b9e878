//! Regression test for a host bug found by the power-cut campaign (`campaign_store.rs`, seed 39595 at
//! `SENTIO_CAMPAIGN_SCALE=3`): a copy of the host's `Hello` that reaches the device after it
//! restarted (a line duplicate, or a frame held back) makes the new device incarnation start a
//! session and answer with a `HelloReply`. The host notices the new session (`session_lost`),
//! but still queues that `HelloReply` as an ordinary reply, and `next_reply` hands it out before
//! it checks `session_lost`: the flash fails with `Error::Protocol` ("HelloReply in reply to
//! BeginTransfer"), which is not retried and whose help says to update host and firmware,
//! instead of `Error::SessionLost`, a link failure that `sentio flash` retries and resumes.
//!
//! Fixed: `Connection::on_bytes` drops what a new session delivers once the host has
//! handshaken, so the flash fails with `SessionLost` and is retried.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::rc::Rc;

use common::*;
use sentio_flash::{ErrorKind, FlashOptions};
use sentio_link::{FrameDecoder, Message};
use sentio_server::MemoryStore;

/// Passes everything through and keeps the bytes of the first frame that is a `Hello`.
struct Tap {
    inner: SimDevice,
    decoder: FrameDecoder,
    frame: Vec<u8>,
    hello: Rc<RefCell<Option<Vec<u8>>>>,
}

impl Write for Tap {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        for &byte in buf {
            self.frame.push(byte);
            if let Some(Ok(frame)) = self.decoder.push(byte)
                && matches!(frame.message, Some(Message::Hello(_)))
            {
                self.hello
                    .borrow_mut()
                    .get_or_insert_with(|| self.frame.clone());
            }
            if byte == 0 {
                self.frame.clear();
            }
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Read for Tap {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

#[test]
fn a_stale_hello_answered_after_a_restart_is_a_lost_session_not_a_protocol_error() {
    let sim = SimDevice::new(MemoryStore::new(1 << 20));
    let hello = Rc::new(RefCell::new(None));
    let tap = Tap {
        inner: sim.clone(),
        decoder: FrameDecoder::new(),
        frame: Vec::new(),
        hello: Rc::clone(&hello),
    };
    let mut conn = sim.connect_via(tap, 77).unwrap();
    let stale = hello.borrow().clone().expect("the handshake sent a Hello");
    // The device restarts; a copy of the session's Hello reaches the new incarnation (a line
    // duplicate, or a frame held back), which starts a session and answers it.
    sim.with(|s| s.restart());
    sim.clone().write_all(&stale).unwrap();

    let data = bundle(5000, 1);
    let err = conn
        .flash("fer", data.as_slice(), &FlashOptions::default(), ())
        .unwrap_err();
    // Today: Error::Protocol { "HelloReply in reply to BeginTransfer" }.
    assert_eq!(err.kind(), ErrorKind::SessionLost, "{err}");
    assert!(err.kind().is_link_failure());
}
