//! Host `Connection` against the real device code (`LinkServer<MemoryStore>`) in one process:
//! stepped in the same thread on a virtual clock (`SimDevice`), and once on a thread of its
//! own over an in-memory pipe with `serve`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{Read, Write};
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;
use sentio_flash::{
    ConnectOptions, Connection, Error, ErrorKind, FlashOptions, FlashOutcome, FlashSource, Push,
    pipe,
};
use sentio_link::{
    Capabilities, ErrorCode, Event, FrameDecoder, InjectInput, InputStream, MAX_FRAME, Message,
    PROTOCOL_VERSION, Slot, encode_frame,
};
use sentio_server::{LinkServer, MemoryStore, ServeExit, serve, sha256};

const QUOTA: u64 = 4 << 20;

fn flash(
    conn: &mut Connection<SimDevice, sentio_flash::ManualClock>,
    name: &str,
    data: &[u8],
) -> Result<sentio_flash::FlashReport, Error> {
    conn.flash(name, data, &FlashOptions::default(), ())
}

#[test]
fn handshake_gives_device_info_and_limits() {
    let sim = SimDevice::new(MemoryStore::new(QUOTA));
    let mut conn = sim.connect(1).unwrap();
    let info = conn.device_info().clone();
    assert_eq!(info.board.as_str(), "sim");
    assert_eq!(info.firmware_version.as_str(), "0.1.0");
    assert_eq!(info.serial_number.as_str(), "SIM-0001");
    assert!(info.capabilities.contains(
        Capabilities::MODELS | Capabilities::RESUME | Capabilities::EVENTS | Capabilities::STATS
    ));
    assert_eq!(info.limits.store_quota_bytes, QUOTA);
    let n = conn.negotiated();
    assert_eq!((n.max_frame, n.chunk_len, n.window), (MAX_FRAME, 1024, 8));
    conn.ping().unwrap();
    assert!(sim.with(|s| s.server().is_connected()));
}

/// Rewrites the host's `Hello` to claim another protocol version, as a newer host would send.
struct NewerHost<T> {
    inner: T,
    decoder: FrameDecoder,
}

impl<T: Write> Write for NewerHost<T> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for byte in buf {
            if *byte == 0 && self.decoder.buffered() == 0 {
                self.inner.write_all(&[0])?;
                continue;
            }
            for frame in self.decoder.feed(std::slice::from_ref(byte)).flatten() {
                let mut message = frame.message.clone().unwrap_or(Message::Done);
                if let Message::Hello(hello) = &mut message {
                    hello.protocol_version = PROTOCOL_VERSION + 1;
                }
                let mut out = [0u8; MAX_FRAME];
                match frame.message {
                    Some(_) => {
                        let wire = encode_frame(&frame.header, &message, &mut out).unwrap();
                        self.inner.write_all(wire)?;
                    }
                    None => {
                        let wire = sentio_link::encode_control(&frame.header, &mut out).unwrap();
                        self.inner.write_all(wire)?;
                    }
                }
            }
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<T: Read> Read for NewerHost<T> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf)
    }
}

#[test]
fn version_mismatch_names_both_versions_and_the_side_to_update() {
    let sim = SimDevice::new(MemoryStore::new(QUOTA));
    let host = NewerHost {
        inner: sim.clone(),
        decoder: FrameDecoder::new(),
    };
    let err = sim.connect_via(host, 2).unwrap_err();
    let newer = PROTOCOL_VERSION + 1;
    assert!(
        matches!(err, Error::VersionMismatch { host, device } if host == newer && device == PROTOCOL_VERSION),
        "{err:?}"
    );
    let text = format!("{err}; {}", err.help());
    assert!(text.contains(&format!("version {newer}")), "{text}");
    assert!(
        text.contains(&format!("version {PROTOCOL_VERSION}")),
        "{text}"
    );
    assert!(text.contains("update the device firmware"), "{text}");
}

#[test]
fn no_device_is_no_answer_with_help() {
    // A transport where nothing ever answers.
    struct Silent;
    impl Read for Silent {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::TimedOut.into())
        }
    }
    impl Write for Silent {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut options = ConnectOptions::new("/dev/ttyUSB0", 921_600);
    options.timeouts.handshake = Some(Duration::from_millis(30));
    options.timeouts.retransmit = Some(Duration::from_millis(10));
    let err = Connection::open(Silent, options).unwrap_err();
    assert_eq!(
        format!("{err}; {}", err.help()),
        "no device answered on /dev/ttyUSB0 at 921600 baud; check the cable, that sentiod runs with --serial on the board, or try --baud 115200"
    );
}

#[test]
fn flash_verify_activate_then_skip_then_force() {
    let sim = SimDevice::new(MemoryStore::new(QUOTA));
    let data = bundle(100_000, 1);
    let mut conn = sim.connect(3).unwrap();

    let report = flash(&mut conn, "fer", &data).unwrap();
    assert_eq!(report.outcome, FlashOutcome::Flashed);
    assert_eq!(report.size, data.len() as u64);
    assert_eq!(report.sha256, sha256(&data));
    assert_eq!((report.resumed_from, report.bytes_sent), (0, 100_000));
    assert!(report.verified && report.activated);
    sim.store(|s| assert_eq!(s.bytes("fer", Slot::Active), Some(&data[..])));
    let activated: Vec<_> = sim.with(|s| s.server().take_activations().collect());
    assert_eq!(activated.len(), 1);
    assert_eq!(activated[0].as_str(), "fer");

    // Identical: nothing is sent.
    let mut progress = Recorder::default();
    let skipped = conn
        .flash(
            "fer",
            data.as_slice(),
            &FlashOptions::default(),
            &mut progress,
        )
        .unwrap();
    assert_eq!(skipped.outcome, FlashOutcome::Skipped);
    assert_eq!(skipped.bytes_sent, 0);
    assert!(skipped.verified);
    assert!(progress.begins.is_empty());
    assert!(progress.messages.iter().any(|m| m.contains("skipped")));

    // --force sends it all again, and the same bytes end up active.
    let options = FlashOptions {
        force: true,
        ..FlashOptions::default()
    };
    let forced = conn.flash("fer", data.as_slice(), &options, ()).unwrap();
    assert_eq!(forced.outcome, FlashOutcome::Flashed);
    assert_eq!(forced.bytes_sent, data.len() as u64);
    sim.store(|s| {
        assert_eq!(s.bytes("fer", Slot::Active), Some(&data[..]));
        assert_eq!(s.bytes("fer", Slot::Previous), Some(&data[..]));
        assert_eq!(s.activations().len(), 2);
    });
}

#[test]
fn commit_without_activate_then_activate_list_inspect_rollback_delete() {
    let sim = SimDevice::new(MemoryStore::new(QUOTA));
    let mut conn = sim.connect(4).unwrap();
    let v1 = bundle(5000, 11);
    let v2 = bundle(7000, 12);
    flash(&mut conn, "fer", &v1).unwrap();
    let staged_only = FlashOptions {
        activate: false,
        ..FlashOptions::default()
    };
    let report = conn.flash("fer", v2.as_slice(), &staged_only, ()).unwrap();
    assert!(!report.activated && report.verified);
    let previous = conn.inspect("fer", Slot::Previous).unwrap();
    assert_eq!((previous.sha256, previous.size), (sha256(&v2), 7000));
    assert_eq!(
        conn.inspect("fer", Slot::Active).unwrap().sha256,
        sha256(&v1)
    );
    // A fresh commit is not a version to roll back to.
    assert!(matches!(
        conn.rollback("fer"),
        Err(Error::Device {
            code: ErrorCode::NothingToRollBack,
            ..
        })
    ));
    conn.activate("fer").unwrap();
    assert_eq!(
        conn.inspect("fer", Slot::Active).unwrap().sha256,
        sha256(&v2)
    );
    conn.rollback("fer").unwrap();
    assert_eq!(
        conn.inspect("fer", Slot::Active).unwrap().sha256,
        sha256(&v1)
    );

    flash(&mut conn, "ser", &bundle(3000, 13)).unwrap();
    let list = conn.list_models().unwrap();
    let entries: Vec<_> = list
        .iter()
        .map(|m| (m.name.as_str().to_owned(), m.slot))
        .collect();
    assert_eq!(
        entries,
        [
            ("fer".to_owned(), Slot::Active),
            ("fer".to_owned(), Slot::Previous),
            ("ser".to_owned(), Slot::Active)
        ]
    );
    conn.delete("ser").unwrap();
    assert!(matches!(
        conn.inspect("ser", Slot::Active),
        Err(Error::UnknownModel { ref name }) if name == "ser"
    ));
    assert!(matches!(
        conn.delete("ser"),
        Err(Error::UnknownModel { .. })
    ));
    assert!(matches!(
        conn.activate("nope"),
        Err(Error::UnknownModel { .. })
    ));
    assert!(matches!(
        conn.inspect("../x", Slot::Active),
        Err(Error::BadName { .. })
    ));
    let deleted: Vec<_> = sim.with(|s| s.server().take_deletions().collect());
    assert_eq!(deleted.len(), 1);
}

#[test]
fn list_pages_through_more_than_one_frame() {
    let sim = SimDevice::new(MemoryStore::new(QUOTA));
    let mut conn = sim.connect(5).unwrap();
    for i in 0..6 {
        let name = format!("model-{i}");
        flash(&mut conn, &name, &bundle(300, i)).unwrap();
        flash(&mut conn, &name, &bundle(300, 100 + i)).unwrap();
    }
    let list = conn.list_models().unwrap();
    assert_eq!(list.len(), 12);
    assert!(list.iter().all(|m| m.verified));
}

#[test]
fn resume_after_the_host_dies_loses_at_most_one_window() {
    let sim = SimDevice::new(MemoryStore::new(QUOTA));
    let data = bundle(200_000, 7);
    for cut_at in [20_000usize, 77_777, 150_001] {
        let mut transport = CutAfter::new(sim.clone(), cut_at);
        let mut progress = Recorder::default();
        let result = {
            let mut conn = sim.connect_via(&mut transport, cut_at as u64).unwrap();
            let name = format!("m{cut_at}");
            conn.flash(
                &name,
                data.as_slice(),
                &FlashOptions::default(),
                &mut progress,
            )
        };
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Disconnected, "{err}");
        let confirmed = progress.advances.last().copied().unwrap_or(0);
        let sent = transport.chunk_end;

        let mut conn = sim.connect(cut_at as u64 + 1).unwrap();
        let mut again = Recorder::default();
        let name = format!("m{cut_at}");
        let report = conn
            .flash(&name, data.as_slice(), &FlashOptions::default(), &mut again)
            .unwrap();
        let window_bytes = 8 * 1024;
        assert!(report.resumed_from >= confirmed, "{report:?} {confirmed}");
        assert!(report.resumed_from <= sent);
        assert!(
            sent - report.resumed_from <= window_bytes,
            "lost {} bytes (sent {sent}, resumed from {})",
            sent - report.resumed_from,
            report.resumed_from
        );
        assert_eq!(report.bytes_sent, data.len() as u64 - report.resumed_from);
        assert!(again.messages.iter().any(|m| m.contains("resuming")));
        assert_eq!(again.advances.first(), Some(&report.resumed_from));
        sim.store(|s| assert_eq!(s.bytes(&name, Slot::Active), Some(&data[..])));
    }
}

#[test]
fn quota_refusal_says_how_much() {
    let sim = SimDevice::new(MemoryStore::new(10_000));
    let mut conn = sim.connect(6).unwrap();
    let err = flash(&mut conn, "big", &bundle(25_000, 1)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Quota {
                needed: 25_000,
                available: 10_000
            }
        ),
        "{err:?}"
    );
    assert!(err.help().contains("delete a model"));
    // The connection is still usable.
    flash(&mut conn, "small", &bundle(6_000, 2)).unwrap();
    let err = flash(&mut conn, "other", &bundle(6_000, 3)).unwrap_err();
    assert!(matches!(
        err,
        Error::Quota {
            needed: 6_000,
            available: 4_000
        }
    ));
}

#[test]
fn progress_is_monotonic_and_complete() {
    let sim = SimDevice::new(MemoryStore::new(QUOTA));
    let mut conn = sim.connect(7).unwrap();
    let data = bundle(65_536 + 17, 9);
    let mut progress = Recorder::default();
    conn.flash(
        "emoji",
        data.as_slice(),
        &FlashOptions::default(),
        &mut progress,
    )
    .unwrap();
    assert_eq!(progress.begins, [("emoji".to_owned(), data.len() as u64)]);
    assert!(
        progress.advances.windows(2).all(|w| w[0] < w[1]),
        "{:?}",
        progress.advances
    );
    assert_eq!(progress.advances.last(), Some(&(data.len() as u64)));
    assert!(progress.advances.len() >= 65);
    let report = progress.finished.unwrap().unwrap();
    assert!(report.verified);
    assert!(progress.messages.iter().any(|m| m == "activating"));
}

#[test]
fn signatures_unsigned_refused_and_bad_signature() {
    let store = MemoryStore::new(QUOTA)
        .require_signed(true)
        .with_verifier(Box::new(|data, _| {
            if data.ends_with(b"GOOD-SIG") {
                Ok(())
            } else {
                Err(ErrorCode::BadSignature)
            }
        }));
    let sim = SimDevice::new(store);
    let mut conn = sim.connect(8).unwrap();
    assert!(
        conn.device_info()
            .capabilities
            .contains(Capabilities::SIGNATURES)
    );
    let mut data = bundle(4000, 1);
    let err = flash(&mut conn, "fer", &data).unwrap_err();
    assert!(matches!(err, Error::UnsignedRefused), "{err:?}");
    assert!(err.help().contains("sentio bundle pack --key"));
    let signed = FlashOptions {
        signed: true,
        ..FlashOptions::default()
    };
    let err = conn.flash("fer", data.as_slice(), &signed, ()).unwrap_err();
    assert!(matches!(err, Error::BadSignature), "{err:?}");
    assert!(err.help().contains("sentio bundle pack --key"));
    data.extend_from_slice(b"GOOD-SIG");
    conn.flash("fer", data.as_slice(), &signed, ()).unwrap();
    sim.store(|s| assert_eq!(s.activations().len(), 1));
}

/// A file that changes between hashing and sending (or a host that lies about the hash).
struct ChangingSource {
    data: Vec<u8>,
    hashed: bool,
}

impl FlashSource for ChangingSource {
    fn size(&mut self) -> std::io::Result<u64> {
        Ok(self.data.len() as u64)
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let start = offset as usize;
        buf.copy_from_slice(&self.data[start..start + buf.len()]);
        if self.hashed {
            buf[0] ^= 0xFF;
        }
        if start + buf.len() == self.data.len() {
            self.hashed = true;
        }
        Ok(())
    }
}

#[test]
fn bytes_that_do_not_match_the_hash_are_never_activated() {
    let sim = SimDevice::new(MemoryStore::new(QUOTA));
    let mut conn = sim.connect(9).unwrap();
    let source = ChangingSource {
        data: bundle(9000, 4),
        hashed: false,
    };
    let err = conn
        .flash("fer", source, &FlashOptions::default(), ())
        .unwrap_err();
    assert!(matches!(err, Error::HashMismatch), "{err:?}");
    sim.store(|s| {
        assert!(s.activations().is_empty());
        assert!(s.bytes("fer", Slot::Previous).is_none());
        assert!(
            s.staged("fer").is_none(),
            "a failed commit discards the file"
        );
    });
}

#[test]
fn storage_failure_ends_the_flash_and_the_connection_stays_usable() {
    let sim = SimDevice::new(MemoryStore::new(QUOTA));
    let mut conn = sim.connect(10).unwrap();
    let data = bundle(30_000, 5);
    // Fail a write in the middle of the first window.
    sim.with(|s| s.server().store_mut().fail_next_writes(1));
    let err = flash(&mut conn, "fer", &data).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Device {
                code: ErrorCode::Storage,
                ..
            }
        ),
        "{err:?}"
    );
    conn.ping().unwrap();
    let report = flash(&mut conn, "fer", &data).unwrap();
    assert!(report.verified);
    sim.store(|s| assert_eq!(s.bytes("fer", Slot::Active), Some(&data[..])));
}

#[test]
fn events_reboot_and_injected_input_reach_the_application() {
    let sim = SimDevice::new(MemoryStore::new(QUOTA));
    let mut conn = sim.connect(11).unwrap();
    // Not subscribed: dropped.
    let event = Event {
        at_ms: 5,
        topic: "mood".try_into().unwrap(),
        label: "happy".try_into().unwrap(),
        values: heapless::Vec::from_slice(&[0.9, 0.1]).unwrap(),
    };
    assert!(!sim.with(|s| s.server().push_event(event.clone())));
    conn.subscribe(true, false).unwrap();
    assert!(sim.with(|s| s.server().push_event(event.clone())));
    assert_eq!(
        conn.next_event(Duration::from_millis(100)).unwrap(),
        Some(Push::Event(event.clone()))
    );
    assert_eq!(conn.next_event(Duration::from_millis(50)).unwrap(), None);
    // Events pushed while a flash runs are set aside, not taken for replies.
    for _ in 0..3 {
        sim.with(|s| s.server().push_event(event.clone()));
    }
    flash(&mut conn, "fer", &bundle(20_000, 6)).unwrap();
    assert!(matches!(
        conn.next_event(Duration::from_millis(10)).unwrap(),
        Some(Push::Event(_))
    ));

    let input = InjectInput {
        stream: InputStream::Audio,
        seq: 0,
        last: true,
        data: heapless::Vec::from_slice(&[1, 2, 3]).unwrap(),
    };
    conn.inject_input(input.clone()).unwrap();
    let got: Vec<_> = sim.with(|s| s.server().take_inputs().collect());
    assert_eq!(got, [input]);

    assert!(!sim.with(|s| s.server().reboot_requested()));
    conn.reboot().unwrap();
    // The device reboots once it knows the host has its answer.
    let mut buf = [0u8; 64];
    let mut transport = conn.close().unwrap();
    let _ = transport.read(&mut buf);
    assert!(sim.with(|s| s.server().reboot_requested()));
}

#[test]
fn flash_over_a_pipe_with_the_server_on_its_own_thread() {
    let (host_end, device_end) = pipe::duplex(Duration::from_millis(10));
    let stop = Arc::new(AtomicBool::new(false));
    let stop_device = Arc::clone(&stop);
    let device = std::thread::spawn(move || {
        let mut device_end = device_end;
        let mut server = LinkServer::new(sim_config(), MemoryStore::new(QUOTA));
        let exit = serve(&mut server, &mut device_end, |_| {
            if stop_device.load(Ordering::SeqCst) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
        (exit, server)
    });
    let data = bundle(150_000, 21);
    let mut conn = Connection::open(host_end, ConnectOptions::new("pipe", 921_600)).unwrap();
    let report = conn
        .flash("fer", data.as_slice(), &FlashOptions::default(), ())
        .unwrap();
    assert!(report.verified && report.activated);
    assert_eq!(conn.list_models().unwrap().len(), 1);
    drop(conn);
    stop.store(true, Ordering::SeqCst);
    let (exit, server) = device.join().unwrap();
    assert!(matches!(exit, ServeExit::Stopped | ServeExit::Disconnected));
    assert_eq!(server.store().bytes("fer", Slot::Active), Some(&data[..]));
}
