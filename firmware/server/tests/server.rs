//! `LinkServer` driven directly, without threads or I/O: a minimal host (an `Endpoint` and a
//! decoder from sentio-link) sends requests, the server's output is decoded back. Covers the
//! rules a well-behaved host never triggers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sentio_link::*;
use sentio_server::{LinkServer, MemoryStore, ServerConfig, sha256};

struct Host {
    ep: Endpoint<Message, 16>,
    decoder: FrameDecoder,
    now: u64,
    max_frame: usize,
}

impl Host {
    fn new(isn: u16) -> Self {
        Self {
            ep: Endpoint::new(WindowConfig::for_line(921_600, MAX_FRAME, 8), isn),
            decoder: FrameDecoder::new(),
            now: 0,
            max_frame: MAX_FRAME,
        }
    }

    /// Sends `requests` and returns every message the server sends back.
    fn exchange(
        &mut self,
        server: &mut LinkServer<MemoryStore>,
        requests: &[Message],
    ) -> Vec<Message> {
        for r in requests {
            self.ep.push(r.clone()).unwrap();
        }
        let mut wire = Vec::new();
        let mut out = vec![0u8; MAX_FRAME];
        while let Some(t) = self.ep.poll_transmit(self.now).unwrap() {
            wire.extend_from_slice(encode_frame(&t.header, t.payload, &mut out).unwrap());
        }
        server.on_bytes(&wire, self.now);
        self.collect(server)
    }

    fn collect(&mut self, server: &mut LinkServer<MemoryStore>) -> Vec<Message> {
        let mut buf = vec![0u8; MAX_FRAME];
        let mut bytes = Vec::new();
        while let Some(b) = server.poll_output(self.now, &mut buf) {
            assert!(b.len() <= self.max_frame, "frame of {} bytes", b.len());
            bytes.extend_from_slice(b);
        }
        let mut delivered = Vec::new();
        let frames: Vec<_> = self.decoder.feed(&bytes).collect();
        for frame in frames {
            let frame = frame.unwrap();
            if let Verdict::Deliver { .. } = self.ep.on_frame(&frame.header, self.now) {
                delivered.push(frame.message.unwrap());
            }
        }
        // Acknowledge what arrived.
        if let Some(h) = self.ep.take_control() {
            let mut out = [0u8; 16];
            server.on_bytes(encode_control(&h, &mut out).unwrap(), self.now);
        }
        delivered
    }

    fn hello(&mut self, server: &mut LinkServer<MemoryStore>) -> DeviceInfo {
        let max = self.max_frame as u16;
        match self
            .exchange(
                server,
                &[Message::Hello(Hello {
                    protocol_version: PROTOCOL_VERSION,
                    host_max_frame: max,
                    nonce: 42,
                })],
            )
            .as_slice()
        {
            [Message::HelloReply(r)] => {
                assert_eq!(r.nonce, 42);
                r.device.clone()
            }
            other => panic!("{other:?}"),
        }
    }

    fn one(&mut self, server: &mut LinkServer<MemoryStore>, request: Message) -> Message {
        let mut replies = self.exchange(server, &[request]);
        assert_eq!(replies.len(), 1, "{replies:?}");
        replies.remove(0)
    }
}

fn server() -> LinkServer<MemoryStore> {
    LinkServer::new(
        ServerConfig::new("sim", "0.1.0", "SIM-1").with_initial_seq(1000),
        MemoryStore::new(1 << 20),
    )
}

fn begin(name: &str, data: &[u8]) -> Message {
    Message::BeginTransfer(BeginTransfer {
        name: model_name(name).unwrap(),
        size: data.len() as u64,
        sha256: sha256(data),
        signed: false,
        kind: TransferKind::Bundle,
    })
}

fn error(code: ErrorCode) -> Message {
    Message::Error { code }
}

fn accepted(reply: &Message) -> (u32, u64) {
    match reply {
        Message::TransferAccepted {
            transfer_id,
            resume_offset,
        } => (*transfer_id, *resume_offset),
        other => panic!("{other:?}"),
    }
}

fn chunk(id: u32, offset: u64, data: &[u8]) -> Message {
    Message::Chunk(Chunk::new(id, offset, data).unwrap())
}

#[test]
fn requests_before_hello_and_wrong_direction_are_refused() {
    let mut s = server();
    let mut h = Host::new(7);
    // The first frame (RESET) is a Ping: a session, but no handshake.
    assert_eq!(
        h.one(&mut s, Message::Ping { nonce: 1 }),
        error(ErrorCode::HandshakeRequired)
    );
    let info = h.hello(&mut s);
    assert!(
        info.capabilities
            .contains(Capabilities::MODELS | Capabilities::RESUME)
    );
    assert_eq!(info.limits, Limits::full(1 << 20));
    assert_eq!(
        h.one(&mut s, Message::Ping { nonce: 9 }),
        Message::Pong { nonce: 9 }
    );
    assert_eq!(h.one(&mut s, Message::Done), error(ErrorCode::Unsupported));
    assert_eq!(
        h.one(&mut s, Message::TransferSkipped),
        error(ErrorCode::Unsupported)
    );
}

#[test]
fn another_protocol_version_is_told_both_versions() {
    let mut s = server();
    let mut h = Host::new(7);
    let reply = h.one(
        &mut s,
        Message::Hello(Hello {
            protocol_version: PROTOCOL_VERSION + 3,
            host_max_frame: MAX_FRAME as u16,
            nonce: 1,
        }),
    );
    assert_eq!(
        reply,
        error(ErrorCode::VersionMismatch {
            host: PROTOCOL_VERSION + 3,
            device: PROTOCOL_VERSION
        })
    );
    assert!(!s.is_connected());
}

#[test]
fn an_undecodable_message_is_acknowledged_and_answered_unsupported() {
    let mut s = server();
    let mut h = Host::new(7);
    h.hello(&mut s);
    // A data frame whose message index is beyond the known variants, with a good CRC.
    let seq = h.ep.tx.next_seq();
    let mut header = Header::data(seq);
    h.ep.rx.stamp(&mut header);
    let mut head = [0u8; MAX_HEADER_LEN];
    let mut raw = postcard::to_slice(&header, &mut head).unwrap().to_vec();
    raw.push(99); // no such message
    let crc = crc::crc32(&raw);
    raw.extend_from_slice(&crc.to_le_bytes());
    let mut wire = vec![0u8; 64];
    let n = cobs::encode(&raw, &mut wire).unwrap();
    wire.truncate(n);
    wire.push(0);
    s.on_bytes(&wire, 0);
    let mut buf = vec![0u8; MAX_FRAME];
    let mut bytes = vec![];
    while let Some(b) = s.poll_output(0, &mut buf) {
        bytes.extend_from_slice(b);
    }
    let replies: Vec<_> = h
        .decoder
        .feed(&bytes)
        .map(|f| f.unwrap())
        .filter_map(|f| f.message)
        .collect();
    assert_eq!(replies, [error(ErrorCode::Unsupported)]);
}

#[test]
fn transfer_rules_busy_out_of_order_abort_and_unknown_ids() {
    let mut s = server();
    let mut h = Host::new(7);
    h.hello(&mut s);
    let data = vec![7u8; 3000];
    let (id, resume) = accepted(&h.one(&mut s, begin("fer", &data)));
    assert_eq!(resume, 0);
    // Another name while this one is open: busy. Deleting the open one: busy.
    assert_eq!(h.one(&mut s, begin("ser", b"x")), error(ErrorCode::Busy));
    assert_eq!(
        h.one(
            &mut s,
            Message::DeleteModel {
                name: model_name("fer").unwrap()
            }
        ),
        error(ErrorCode::Busy)
    );
    assert_eq!(
        h.one(&mut s, chunk(id, 0, &data[..1000])),
        Message::ChunkAck {
            transfer_id: id,
            received: 1000
        }
    );
    assert_eq!(
        h.one(&mut s, chunk(id, 5, &data[..10])),
        error(ErrorCode::OutOfOrder { expected: 1000 })
    );
    assert_eq!(
        h.one(&mut s, chunk(id, 1000, &[7u8; 1024])),
        Message::ChunkAck {
            transfer_id: id,
            received: 2024
        }
    );
    assert_eq!(
        h.one(&mut s, chunk(id, 2024, &[7u8; 1000])),
        error(ErrorCode::BeyondEnd { size: 3000 })
    );
    assert_eq!(
        h.one(&mut s, chunk(id + 1, 2024, &[7u8; 10])),
        error(ErrorCode::UnknownTransfer)
    );
    assert_eq!(
        h.one(&mut s, Message::Commit { transfer_id: id }),
        error(ErrorCode::Incomplete {
            received: 2024,
            size: 3000
        })
    );
    assert_eq!(
        h.one(&mut s, Message::Abort { transfer_id: id }),
        Message::Done
    );
    assert_eq!(
        h.one(&mut s, Message::Abort { transfer_id: id }),
        error(ErrorCode::UnknownTransfer)
    );
    assert!(s.store().staged("fer").is_none());
    // After the abort, another name may go.
    accepted(&h.one(&mut s, begin("ser", b"x")));
}

#[test]
fn a_new_session_keeps_the_staged_bytes_for_resuming_and_forgets_the_ids() {
    let mut s = server();
    let mut h = Host::new(7);
    h.hello(&mut s);
    let data: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
    let (id, _) = accepted(&h.one(&mut s, begin("fer", &data)));
    let replies = h.exchange(
        &mut s,
        &[
            chunk(id, 0, &data[..1024]),
            chunk(id, 1024, &data[1024..2048]),
        ],
    );
    assert_eq!(replies.len(), 2);

    // A new host process: new session.
    let mut h2 = Host::new(7 + 0x4000);
    h2.hello(&mut s);
    assert_eq!(
        h2.one(&mut s, chunk(id, 2048, &data[2048..3072])),
        error(ErrorCode::UnknownTransfer)
    );
    let (id2, resume) = accepted(&h2.one(&mut s, begin("fer", &data)));
    assert_ne!(id2, id);
    assert_eq!(resume, 2048);
    let mut offset = resume as usize;
    while offset < data.len() {
        let end = (offset + 1024).min(data.len());
        h2.one(&mut s, chunk(id2, offset as u64, &data[offset..end]));
        offset = end;
    }
    assert_eq!(
        h2.one(&mut s, Message::Commit { transfer_id: id2 }),
        Message::Committed { verified: true }
    );
    // Committed but not active: a begin of the same file resumes at its end (nothing to send).
    let (_, resume) = accepted(&h2.one(&mut s, begin("fer", &data)));
    assert_eq!(resume, 5000);
    h2.one(
        &mut s,
        Message::Abort {
            transfer_id: id2 + 1,
        },
    );
    assert_eq!(
        h2.one(
            &mut s,
            Message::Activate {
                name: model_name("fer").unwrap()
            }
        ),
        Message::Done
    );
    assert_eq!(
        s.take_activations()
            .map(|n| n.to_string())
            .collect::<Vec<_>>(),
        ["fer"]
    );
    // Now identical: skipped; asked again right away: forced.
    assert_eq!(
        h2.one(&mut s, begin("fer", &data)),
        Message::TransferSkipped
    );
    let (_, resume) = accepted(&h2.one(&mut s, begin("fer", &data)));
    assert_eq!(resume, 0);
    // A skip followed by something else, then the same begin: skipped again.
    h2.one(&mut s, Message::Abort { transfer_id: 0 });
    assert_eq!(
        h2.one(&mut s, begin("fer", &data)),
        Message::TransferSkipped
    );
    h2.one(&mut s, Message::Ping { nonce: 0 });
    assert_eq!(
        h2.one(&mut s, begin("fer", &data)),
        Message::TransferSkipped
    );
}

#[test]
fn the_device_forgets_a_silent_host_and_answers_the_next_hello() {
    let mut s = server();
    let mut h = Host::new(7);
    h.hello(&mut s);
    // The host sends a ping and never acknowledges the reply.
    h.ep.push(Message::Ping { nonce: 3 }).unwrap();
    let mut out = vec![0u8; MAX_FRAME];
    let t = h.ep.poll_transmit(0).unwrap().unwrap();
    let wire = encode_frame(&t.header, t.payload, &mut out)
        .unwrap()
        .to_vec();
    s.on_bytes(&wire, 0);
    let mut buf = vec![0u8; MAX_FRAME];
    let mut now = 0;
    while s.stats().sessions_dropped == 0 {
        while s.poll_output(now, &mut buf).is_some() {}
        now = s.next_deadline().unwrap_or(now).max(now + 1);
        assert!(now < 60_000, "the server never gave up");
    }
    assert!(!s.is_connected());
    assert_eq!(s.next_deadline(), None);
    // Frames of the old session are dropped; a new Hello works.
    let mut h2 = Host::new(9000);
    h2.now = now;
    h2.hello(&mut s);
}

#[test]
fn events_only_when_subscribed_and_the_window_is_at_most_half_full() {
    let mut s = server();
    let mut h = Host::new(7);
    h.hello(&mut s);
    let event = Event {
        at_ms: 1,
        topic: "mood".try_into().unwrap(),
        label: "calm".try_into().unwrap(),
        values: heapless::Vec::new(),
    };
    let stats = Stats {
        at_ms: 1,
        entries: heapless::Vec::new(),
    };
    assert!(!s.push_event(event.clone()));
    assert_eq!(
        h.one(
            &mut s,
            Message::SubscribeEvents {
                events: true,
                stats: false
            }
        ),
        Message::Done
    );
    assert!(!s.push_stats(stats.clone()));
    // Window 8: up to 4 in use, a fifth is refused until the host acknowledges.
    let pushed = (0..10).filter(|_| s.push_event(event.clone())).count();
    assert_eq!(pushed, 5);
    let got = h.collect(&mut s);
    assert_eq!(got.len(), 5);
    assert!(s.push_event(event));
    assert_eq!(s.stats().pushes_dropped, 7);
}

#[test]
fn model_lists_fit_the_hosts_frames() {
    let mut s = server();
    let mut h = Host::new(7);
    h.max_frame = MIN_FRAME;
    h.hello(&mut s);
    for i in 0..5 {
        let data = vec![i as u8; 10];
        let name = format!("model-with-a-long-name-{i:08}");
        let (id, _) = accepted(&h.one(&mut s, begin(&name, &data)));
        h.one(&mut s, chunk(id, 0, &data));
        h.one(&mut s, Message::Commit { transfer_id: id });
        h.one(
            &mut s,
            Message::Activate {
                name: model_name(&name).unwrap(),
            },
        );
    }
    let mut all = vec![];
    loop {
        let start = all.len() as u16;
        match h.one(&mut s, Message::ListModels { start }) {
            Message::ModelList(page) => {
                assert_eq!(page.total, 5);
                assert!(!page.models.is_empty() && page.models.len() < 5);
                all.extend(page.models);
                if all.len() == 5 {
                    break;
                }
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(all.iter().all(|m| m.slot == Slot::Active && m.verified));
}

#[test]
fn reboot_is_requested_once_the_done_is_acknowledged_and_inputs_are_queued() {
    let mut config = ServerConfig::new("sim", "0.1.0", "SIM-1");
    config.max_pending_inputs = 1;
    let mut s = LinkServer::new(config, MemoryStore::new(1000));
    let mut h = Host::new(7);
    h.hello(&mut s);
    let input = InjectInput {
        stream: InputStream::Camera,
        seq: 0,
        last: false,
        data: heapless::Vec::from_slice(&[1, 2]).unwrap(),
    };
    assert_eq!(
        h.one(&mut s, Message::InjectInput(input.clone())),
        Message::Done
    );
    assert_eq!(
        h.one(&mut s, Message::InjectInput(input.clone())),
        error(ErrorCode::Busy)
    );
    assert_eq!(s.take_inputs().collect::<Vec<_>>(), [input]);
    // Before the host acknowledges the Done: no reboot yet.
    h.ep.push(Message::Reboot).unwrap();
    let mut out = vec![0u8; MAX_FRAME];
    let t = h.ep.poll_transmit(0).unwrap().unwrap();
    let wire = encode_frame(&t.header, t.payload, &mut out)
        .unwrap()
        .to_vec();
    s.on_bytes(&wire, 0);
    let mut buf = vec![0u8; MAX_FRAME];
    while s.poll_output(0, &mut buf).is_some() {}
    assert!(!s.reboot_requested());
    s.on_bytes(
        encode_control(
            &Header::ack(h.ep.rx.expected().unwrap() + 1),
            &mut [0u8; 16],
        )
        .unwrap(),
        0,
    );
    while s.poll_output(0, &mut buf).is_some() {}
    assert!(s.reboot_requested());
}

#[test]
fn events_not_offered_by_the_app_are_unsupported() {
    let mut config = ServerConfig::new("sim", "0.1.0", "SIM-1");
    config.capabilities = Capabilities::NONE;
    let mut s = LinkServer::new(config, MemoryStore::new(1000));
    let mut h = Host::new(7);
    let info = h.hello(&mut s);
    assert!(!info.capabilities.contains(Capabilities::EVENTS));
    assert_eq!(
        h.one(
            &mut s,
            Message::SubscribeEvents {
                events: true,
                stats: false
            }
        ),
        error(ErrorCode::Unsupported)
    );
    assert_eq!(
        h.one(
            &mut s,
            Message::InjectInput(InjectInput {
                stream: InputStream::Audio,
                seq: 0,
                last: true,
                data: heapless::Vec::new()
            })
        ),
        error(ErrorCode::Unsupported)
    );
}
