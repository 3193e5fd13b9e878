//! Host and device end to end over a lossy simulated line: handshake, upload, interruption,
//! reconnection and resume, commit with verification, activation, and a second flash of the
//! same file that is skipped. A small model of what `sentio-flash` and `sentiod` do with this
//! crate (the "hash" is a stand-in: this crate has no SHA-256).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use sentio_link::*;

/// A stand-in for SHA-256, good enough to tell files apart in a test.
fn digest(data: &[u8]) -> Sha256 {
    let mut out = [0u8; 32];
    for (i, part) in out.chunks_mut(4).enumerate() {
        let mut crc = sentio_link::crc::Crc32::new();
        crc.update(&[i as u8]);
        crc.update(data);
        part.copy_from_slice(&crc.finish().to_le_bytes());
    }
    out
}

struct Staging(Vec<u8>);

impl ChunkSink for Staging {
    type Error = ();
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), ()> {
        assert_eq!(offset, self.0.len() as u64);
        self.0.extend_from_slice(data);
        Ok(())
    }
}

struct Partial {
    name: ModelName,
    sha256: Sha256,
    staging: Staging,
    download: DownloadState,
}

/// The device side: one model name, A/B slots, partial transfers kept for resuming.
struct MiniDevice {
    station: Station,
    version: u16,
    handshaken: bool,
    active: Option<(Sha256, Vec<u8>)>,
    previous: Option<(Sha256, Vec<u8>, bool)>,
    partial: Option<Partial>,
    next_transfer: u32,
    quota: u64,
    link_resets: usize,
}

impl MiniDevice {
    fn handle(&mut self, request: Message) -> Message {
        let refuse = |code| Message::Error { code };
        if let Message::Hello(hello) = &request {
            return match check_version(hello, self.version) {
                Err(code) => refuse(code),
                Ok(()) => {
                    self.handshaken = true;
                    Message::HelloReply(HelloReply {
                        protocol_version: self.version,
                        nonce: hello.nonce,
                        device: DeviceInfo {
                            board: "sim".try_into().unwrap(),
                            firmware_version: "0.1.0".try_into().unwrap(),
                            serial_number: "SIM-0001".try_into().unwrap(),
                            capabilities: Capabilities::MODELS | Capabilities::RESUME,
                            limits: Limits {
                                max_frame: 600,
                                max_chunk: 512,
                                window: 4,
                                store_quota_bytes: self.quota,
                            },
                        },
                    })
                }
            };
        }
        if !self.handshaken {
            return refuse(ErrorCode::HandshakeRequired);
        }
        match request {
            Message::Ping { nonce } => Message::Pong { nonce },
            Message::BeginTransfer(begin) => {
                if self
                    .active
                    .as_ref()
                    .is_some_and(|(sha, _)| *sha == begin.sha256)
                {
                    return Message::TransferSkipped;
                }
                if begin.size > self.quota {
                    return refuse(ErrorCode::QuotaExceeded {
                        needed: begin.size,
                        available: self.quota,
                    });
                }
                self.next_transfer += 1;
                let id = self.next_transfer;
                let keep = self
                    .partial
                    .take()
                    .filter(|p| p.name == begin.name && p.sha256 == begin.sha256);
                let staging = keep.map_or(Staging(Vec::new()), |p| p.staging);
                let resume = staging.0.len() as u64;
                self.partial = Some(Partial {
                    name: begin.name,
                    sha256: begin.sha256,
                    download: DownloadState::new(id, begin.size, resume),
                    staging,
                });
                Message::TransferAccepted {
                    transfer_id: id,
                    resume_offset: resume,
                }
            }
            Message::Chunk(chunk) => match &mut self.partial {
                Some(p) => p
                    .download
                    .on_chunk(&chunk, &mut p.staging)
                    .unwrap_or_else(|e| e.reply()),
                None => refuse(ErrorCode::UnknownTransfer),
            },
            Message::Commit { transfer_id } => {
                let Some(p) = &self.partial else {
                    return refuse(ErrorCode::UnknownTransfer);
                };
                if let Err(code) = p.download.check_commit(transfer_id) {
                    return refuse(code);
                }
                let p = self.partial.take().unwrap();
                if digest(&p.staging.0) != p.sha256 {
                    return refuse(ErrorCode::HashMismatch);
                }
                self.previous = Some((p.sha256, p.staging.0, true));
                Message::Committed { verified: true }
            }
            Message::Activate { .. } => match self.previous.take() {
                Some((sha, data, true)) => {
                    let old = self.active.replace((sha, data));
                    self.previous = old.map(|(s, d)| (s, d, true));
                    Message::Done
                }
                Some(unverified) => {
                    self.previous = Some(unverified);
                    refuse(ErrorCode::NotVerified)
                }
                None => refuse(ErrorCode::NothingToRollBack),
            },
            _ => refuse(ErrorCode::Unsupported),
        }
    }

    fn step(&mut self, line_in: &mut Line, line_out: &mut Line, now: u64) {
        let bytes = line_in.receive(now);
        for (message, new_session) in self.station.receive(&bytes, now) {
            if new_session {
                // A new host: drop replies meant for the old one, start our own sequence
                // space far from the old one.
                let isn = self.station.ep.tx.next_seq().wrapping_add(0x4000);
                self.station.ep.tx.reset(isn);
                self.station.outbox.clear();
                self.handshaken = false;
            }
            let reply = self.handle(message);
            self.station.outbox.push_back(reply);
        }
        if let Err(LinkError::Unresponsive { .. }) = self.station.transmit(line_out, now) {
            // The host is gone: forget the session (not the partial transfer) and wait for
            // the next Hello.
            let isn = self.station.ep.tx.next_seq().wrapping_add(0x4000);
            self.station.ep.tx.reset(isn);
            self.station.ep.rx.reset();
            self.station.outbox.clear();
            self.handshaken = false;
            self.link_resets += 1;
        }
    }
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Flashed,
    Skipped,
    Refused(ErrorCode),
}

enum Phase {
    Connect,
    Begin,
    Upload(UploadState),
    Commit,
    Activate,
    Finished(Outcome),
}

/// The host side: flashes one file, like `sentio flash` would.
struct MiniFlasher {
    station: Station,
    version: u16,
    nonce: u32,
    file: Vec<u8>,
    announced_sha: Sha256,
    phase: Phase,
    negotiated: Option<Negotiated>,
    chunk_bytes_sent: u64,
}

impl MiniFlasher {
    fn new(file: &[u8], isn: u16, nonce: u32) -> Self {
        let mut flasher = Self {
            station: Station::new(WindowConfig::for_line(921_600, MAX_FRAME, 8), isn),
            version: PROTOCOL_VERSION,
            nonce,
            file: file.to_vec(),
            announced_sha: digest(file),
            phase: Phase::Connect,
            negotiated: None,
            chunk_bytes_sent: 0,
        };
        flasher.station.outbox.push_back(Message::Hello(Hello {
            protocol_version: flasher.version,
            host_max_frame: MAX_FRAME as u16,
            nonce,
        }));
        flasher
    }

    fn request(&self) -> BeginTransfer {
        BeginTransfer {
            name: model_name("fer").unwrap(),
            size: self.file.len() as u64,
            sha256: self.announced_sha,
            signed: false,
            kind: TransferKind::Model,
        }
    }

    fn on_message(&mut self, message: Message) {
        let phase = std::mem::replace(&mut self.phase, Phase::Finished(Outcome::Flashed));
        self.phase = match (phase, message) {
            (Phase::Connect, Message::HelloReply(reply)) => {
                assert_eq!(reply.nonce, self.nonce, "a reply to this session's Hello");
                self.negotiated = reply.device.limits.negotiate();
                let n = self.negotiated.unwrap();
                assert_eq!(n.chunk_len, 512);
                assert_eq!(n.window, 4);
                self.station
                    .outbox
                    .push_back(Message::BeginTransfer(self.request()));
                Phase::Begin
            }
            (Phase::Begin, reply) => {
                let n = self.negotiated.unwrap();
                match UploadState::from_reply(&self.request(), &reply, n.chunk_len, n.window) {
                    Ok(BeginOutcome::Skipped) => Phase::Finished(Outcome::Skipped),
                    Ok(BeginOutcome::Upload(up)) => self.pump(up),
                    Err(UploadError::Device(code)) => Phase::Finished(Outcome::Refused(code)),
                    Err(e) => panic!("{e}"),
                }
            }
            (Phase::Upload(mut up), reply) => {
                up.on_reply(&reply).unwrap();
                self.pump(up)
            }
            (Phase::Commit, Message::Committed { verified }) => {
                assert!(verified);
                self.station.outbox.push_back(Message::Activate {
                    name: model_name("fer").unwrap(),
                });
                Phase::Activate
            }
            (Phase::Activate, Message::Done) => Phase::Finished(Outcome::Flashed),
            (_, Message::Error { code }) => Phase::Finished(Outcome::Refused(code)),
            (_, other) => panic!("unexpected {other:?}"),
        };
    }

    fn pump(&mut self, mut up: UploadState) -> Phase {
        while let Some(plan) = up.next_chunk() {
            let chunk = up.chunk_message(plan, &self.file).unwrap();
            self.station.outbox.push_back(chunk);
            self.chunk_bytes_sent += plan.len as u64;
        }
        if up.is_complete() {
            self.station.outbox.push_back(up.commit_message());
            Phase::Commit
        } else {
            Phase::Upload(up)
        }
    }

    fn step(&mut self, line_in: &mut Line, line_out: &mut Line, now: u64) {
        let bytes = line_in.receive(now);
        for (message, _) in self.station.receive(&bytes, now) {
            self.on_message(message);
        }
        self.station.transmit(line_out, now).unwrap();
    }

    fn outcome(&self) -> Option<&Outcome> {
        match &self.phase {
            Phase::Finished(outcome) => Some(outcome),
            _ => None,
        }
    }
}

struct Bench {
    device: MiniDevice,
    to_device: Line,
    to_host: Line,
    now: u64,
}

impl Bench {
    fn new(faults: Faults, seed: u64) -> Self {
        Self {
            device: MiniDevice {
                station: Station::new(WindowConfig::for_line(921_600, MAX_FRAME, 4), 777),
                version: PROTOCOL_VERSION,
                handshaken: false,
                active: None,
                previous: None,
                partial: None,
                next_transfer: 0,
                quota: 1 << 20,
                link_resets: 0,
            },
            to_device: Line::new(faults, 2, seed),
            to_host: Line::new(faults, 2, !seed),
            now: 0,
        }
    }

    /// Runs `flasher` until it finishes, or until `stop_after_bytes` chunk bytes were sent
    /// (the host dies).
    fn run(&mut self, flasher: &mut MiniFlasher, stop_after_bytes: Option<u64>) {
        for _ in 0..200_000 {
            flasher.step(&mut self.to_host, &mut self.to_device, self.now);
            self.device
                .step(&mut self.to_device, &mut self.to_host, self.now);
            self.now += 1;
            if flasher.outcome().is_some()
                || stop_after_bytes.is_some_and(|b| flasher.chunk_bytes_sent >= b)
            {
                return;
            }
        }
        panic!("the flasher did not finish");
    }
}

fn faults() -> Faults {
    Faults {
        drop: 0.05,
        duplicate: 0.05,
        reorder: 0.05,
        reorder_ms: 10,
        corrupt: 0.03,
        truncate: 0.02,
    }
}

#[test]
fn flash_interrupt_resume_verify_activate_then_skip() {
    for seed in 0..6u64 {
        let file: Vec<u8> = (0..20_000u32)
            .map(|i| (i * 31 + seed as u32) as u8)
            .collect();
        let mut bench = Bench::new(faults(), seed);

        // First attempt: the host dies after 8 KiB of chunks.
        let mut first = MiniFlasher::new(&file, 100, 1);
        bench.run(&mut first, Some(8 * 1024));
        assert!(first.outcome().is_none());
        // Nobody answers the device for a while: replies it could not deliver make it give
        // the session up (with nothing to send, it just waits).
        let mut silent = Line::new(Faults::default(), 1, 0);
        for _ in 0..10_000 {
            let now = bench.now;
            bench.device.step(&mut bench.to_device, &mut silent, now);
            bench.now += 1;
        }
        assert!(bench.device.station.ep.tx.is_idle());
        assert!(bench.device.link_resets <= 1);

        // A new host process: new session, same file. The device offers to resume.
        let mut second = MiniFlasher::new(&file, 100u16.wrapping_add(0x4000), 2);
        bench.run(&mut second, None);
        assert_eq!(second.outcome(), Some(&Outcome::Flashed), "seed {seed}");
        assert!(
            second.chunk_bytes_sent < file.len() as u64,
            "the second attempt resumed ({} bytes sent)",
            second.chunk_bytes_sent
        );
        let (sha, data) = bench.device.active.as_ref().unwrap();
        assert_eq!(data, &file);
        assert_eq!(*sha, digest(&file));

        // Flashing the same file again sends nothing.
        let mut third = MiniFlasher::new(&file, 9, 3);
        bench.run(&mut third, None);
        assert_eq!(third.outcome(), Some(&Outcome::Skipped));
        assert_eq!(third.chunk_bytes_sent, 0);
    }
}

#[test]
fn a_host_of_another_version_is_told_both_versions() {
    let mut bench = Bench::new(faults(), 11);
    let mut flasher = MiniFlasher::new(&[1, 2, 3], 5, 4);
    flasher.station.outbox.clear();
    flasher.version = PROTOCOL_VERSION + 1;
    flasher.station.outbox.push_back(Message::Hello(Hello {
        protocol_version: PROTOCOL_VERSION + 1,
        host_max_frame: MAX_FRAME as u16,
        nonce: 4,
    }));
    bench.run(&mut flasher, None);
    let Some(Outcome::Refused(code)) = flasher.outcome() else {
        panic!()
    };
    assert_eq!(
        *code,
        ErrorCode::VersionMismatch {
            host: PROTOCOL_VERSION + 1,
            device: PROTOCOL_VERSION
        }
    );
    let text = code.to_string();
    assert!(text.contains(&format!("version {}", PROTOCOL_VERSION + 1)));
    assert!(text.contains(&format!("version {PROTOCOL_VERSION}")));
}

#[test]
fn a_file_too_big_for_the_store_is_refused_with_sizes() {
    let mut bench = Bench::new(Faults::default(), 12);
    bench.device.quota = 1000;
    let mut flasher = MiniFlasher::new(&[0; 5000], 1, 5);
    bench.run(&mut flasher, None);
    assert_eq!(
        flasher.outcome(),
        Some(&Outcome::Refused(ErrorCode::QuotaExceeded {
            needed: 5000,
            available: 1000
        }))
    );
}

#[test]
fn a_corrupted_file_is_never_activated() {
    let mut bench = Bench::new(faults(), 13);
    let mut flasher = MiniFlasher::new(&[5; 3000], 1, 6);
    // The bytes sent differ from the file the hash was announced for.
    flasher.file[100] = 6;
    bench.run(&mut flasher, None);
    assert_eq!(
        flasher.outcome(),
        Some(&Outcome::Refused(ErrorCode::HashMismatch))
    );
    assert!(bench.device.active.is_none());
}
