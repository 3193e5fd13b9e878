//! Shared by the integration tests: proptest strategies for every message, a seeded RNG, and a
//! simulated serial line that drops, duplicates, reorders, truncates and corrupts frames.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;

use proptest::collection::vec;
use proptest::prelude::*;
use sentio_link::*;
use sentio_rng::SplitMix64;

// ---------------------------------------------------------------- strategies

/// Proptest settings for these tests: `cases` cases, no regression files.
pub fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

pub fn hstring<const N: usize>() -> impl Strategy<Value = heapless::String<N>> {
    vec(any::<char>(), 0..=N).prop_map(|chars| {
        let mut s = heapless::String::new();
        for c in chars {
            if s.push(c).is_err() {
                break;
            }
        }
        s
    })
}

pub fn hvec<T: Clone + std::fmt::Debug, const N: usize>(
    element: impl Strategy<Value = T>,
) -> impl Strategy<Value = heapless::Vec<T, N>> {
    vec(element, 0..=N).prop_map(|v| heapless::Vec::from_slice(&v).unwrap())
}

pub fn name() -> impl Strategy<Value = ModelName> {
    "[a-zA-Z0-9][a-zA-Z0-9._-]{0,31}".prop_map(|s| model_name(&s).unwrap())
}

/// Finite floats (NaN != NaN would break equality, not the codec).
pub fn finite() -> impl Strategy<Value = f32> {
    any::<f32>().prop_filter("finite", |x| x.is_finite())
}

pub fn error_code() -> impl Strategy<Value = ErrorCode> {
    prop_oneof![
        (any::<u16>(), any::<u16>())
            .prop_map(|(host, device)| ErrorCode::VersionMismatch { host, device }),
        Just(ErrorCode::HandshakeRequired),
        Just(ErrorCode::Unsupported),
        Just(ErrorCode::Busy),
        (any::<u64>(), any::<u64>())
            .prop_map(|(needed, available)| ErrorCode::QuotaExceeded { needed, available }),
        Just(ErrorCode::BadName),
        Just(ErrorCode::UnknownModel),
        Just(ErrorCode::HashMismatch),
        Just(ErrorCode::BadSignature),
        Just(ErrorCode::UnsignedRefused),
        any::<u64>().prop_map(|expected| ErrorCode::OutOfOrder { expected }),
        any::<u64>().prop_map(|size| ErrorCode::BeyondEnd { size }),
        (any::<u64>(), any::<u64>())
            .prop_map(|(received, size)| ErrorCode::Incomplete { received, size }),
        Just(ErrorCode::UnknownTransfer),
        Just(ErrorCode::NotVerified),
        Just(ErrorCode::NothingToRollBack),
        Just(ErrorCode::FrameTooLarge),
        Just(ErrorCode::Storage),
        Just(ErrorCode::Internal),
    ]
}

pub fn slot() -> impl Strategy<Value = Slot> {
    prop_oneof![Just(Slot::Active), Just(Slot::Previous)]
}

pub fn model_info() -> impl Strategy<Value = ModelInfo> {
    (
        name(),
        hstring(),
        any::<[u8; 32]>(),
        any::<u64>(),
        slot(),
        any::<bool>(),
    )
        .prop_map(|(name, version, sha256, size, slot, verified)| ModelInfo {
            name,
            version,
            sha256,
            size,
            slot,
            verified,
        })
}

pub fn limits() -> impl Strategy<Value = Limits> {
    (any::<u16>(), any::<u16>(), any::<u16>(), any::<u64>()).prop_map(
        |(max_frame, max_chunk, window, store_quota_bytes)| Limits {
            max_frame,
            max_chunk,
            window,
            store_quota_bytes,
        },
    )
}

/// One strategy per `Message` variant, in discriminant order, with its variant name.
pub fn message_strategies() -> Vec<(&'static str, BoxedStrategy<Message>)> {
    vec![
        (
            "Hello",
            (any::<u16>(), any::<u16>(), any::<u32>())
                .prop_map(|(protocol_version, host_max_frame, nonce)| {
                    Message::Hello(Hello {
                        protocol_version,
                        host_max_frame,
                        nonce,
                    })
                })
                .boxed(),
        ),
        (
            "HelloReply",
            (
                any::<u16>(),
                any::<u32>(),
                hstring(),
                hstring(),
                hstring(),
                any::<u32>(),
                limits(),
            )
                .prop_map(|(v, nonce, board, fw, serial, caps, limits)| {
                    Message::HelloReply(HelloReply {
                        protocol_version: v,
                        nonce,
                        device: DeviceInfo {
                            board,
                            firmware_version: fw,
                            serial_number: serial,
                            capabilities: Capabilities::from_bits_retain(caps),
                            limits,
                        },
                    })
                })
                .boxed(),
        ),
        (
            "Error",
            error_code()
                .prop_map(|code| Message::Error { code })
                .boxed(),
        ),
        ("Done", Just(Message::Done).boxed()),
        (
            "Ping",
            any::<u32>()
                .prop_map(|nonce| Message::Ping { nonce })
                .boxed(),
        ),
        (
            "Pong",
            any::<u32>()
                .prop_map(|nonce| Message::Pong { nonce })
                .boxed(),
        ),
        (
            "ListModels",
            any::<u16>()
                .prop_map(|start| Message::ListModels { start })
                .boxed(),
        ),
        (
            "ModelList",
            (any::<u16>(), any::<u16>(), hvec(model_info()))
                .prop_map(|(start, total, models)| {
                    Message::ModelList(ModelList {
                        start,
                        total,
                        models,
                    })
                })
                .boxed(),
        ),
        (
            "InspectModel",
            (name(), slot())
                .prop_map(|(name, slot)| Message::InspectModel { name, slot })
                .boxed(),
        ),
        (
            "ModelInfo",
            model_info().prop_map(Message::ModelInfo).boxed(),
        ),
        (
            "DeleteModel",
            name()
                .prop_map(|name| Message::DeleteModel { name })
                .boxed(),
        ),
        (
            "Activate",
            name().prop_map(|name| Message::Activate { name }).boxed(),
        ),
        (
            "Rollback",
            name().prop_map(|name| Message::Rollback { name }).boxed(),
        ),
        (
            "BeginTransfer",
            (
                name(),
                any::<u64>(),
                any::<[u8; 32]>(),
                any::<bool>(),
                prop_oneof![Just(TransferKind::Model), Just(TransferKind::Bundle)],
            )
                .prop_map(|(name, size, sha256, signed, kind)| {
                    Message::BeginTransfer(BeginTransfer {
                        name,
                        size,
                        sha256,
                        signed,
                        kind,
                    })
                })
                .boxed(),
        ),
        (
            "TransferAccepted",
            (any::<u32>(), any::<u64>())
                .prop_map(|(transfer_id, resume_offset)| Message::TransferAccepted {
                    transfer_id,
                    resume_offset,
                })
                .boxed(),
        ),
        ("TransferSkipped", Just(Message::TransferSkipped).boxed()),
        (
            "Chunk",
            (any::<u32>(), any::<u64>(), hvec(any::<u8>()))
                .prop_map(|(transfer_id, offset, data)| {
                    Message::Chunk(Chunk {
                        transfer_id,
                        offset,
                        data,
                    })
                })
                .boxed(),
        ),
        (
            "ChunkAck",
            (any::<u32>(), any::<u64>())
                .prop_map(|(transfer_id, received)| Message::ChunkAck {
                    transfer_id,
                    received,
                })
                .boxed(),
        ),
        (
            "Commit",
            any::<u32>()
                .prop_map(|transfer_id| Message::Commit { transfer_id })
                .boxed(),
        ),
        (
            "Committed",
            any::<bool>()
                .prop_map(|verified| Message::Committed { verified })
                .boxed(),
        ),
        (
            "Abort",
            any::<u32>()
                .prop_map(|transfer_id| Message::Abort { transfer_id })
                .boxed(),
        ),
        ("Reboot", Just(Message::Reboot).boxed()),
        (
            "SubscribeEvents",
            (any::<bool>(), any::<bool>())
                .prop_map(|(events, stats)| Message::SubscribeEvents { events, stats })
                .boxed(),
        ),
        (
            "Event",
            (any::<u64>(), hstring(), hstring(), hvec(finite()))
                .prop_map(|(at_ms, topic, label, values)| {
                    Message::Event(Event {
                        at_ms,
                        topic,
                        label,
                        values,
                    })
                })
                .boxed(),
        ),
        (
            "Stats",
            (
                any::<u64>(),
                hvec((hstring(), finite()).prop_map(|(name, value)| Stat { name, value })),
            )
                .prop_map(|(at_ms, entries)| Message::Stats(Stats { at_ms, entries }))
                .boxed(),
        ),
        (
            "InjectInput",
            (
                prop_oneof![Just(InputStream::Camera), Just(InputStream::Audio)],
                any::<u32>(),
                any::<bool>(),
                hvec(any::<u8>()),
            )
                .prop_map(|(stream, seq, last, data)| {
                    Message::InjectInput(InjectInput {
                        stream,
                        seq,
                        last,
                        data,
                    })
                })
                .boxed(),
        ),
    ]
}

pub fn any_message() -> BoxedStrategy<Message> {
    let all: Vec<BoxedStrategy<Message>> =
        message_strategies().into_iter().map(|(_, s)| s).collect();
    proptest::strategy::Union::new(all).boxed()
}

/// Data frame headers with any field values (flags include unknown bits).
pub fn data_header() -> impl Strategy<Value = Header> {
    (any::<u16>(), any::<u16>(), any::<u8>()).prop_map(|(seq, ack, flags)| Header {
        seq,
        ack,
        kind: FrameKind::Data,
        flags: FrameFlags::from_bits_retain(flags),
    })
}

// ---------------------------------------------------------------- helpers

pub fn encode(header: &Header, message: &Message) -> Vec<u8> {
    let mut out = [0u8; MAX_FRAME];
    encode_frame(header, message, &mut out).unwrap().to_vec()
}

pub fn encode_ctl(header: &Header) -> Vec<u8> {
    let mut out = [0u8; 16];
    encode_control(header, &mut out).unwrap().to_vec()
}

/// Feeds `bytes` to `decoder` cut at the given positions (any values; taken modulo the
/// length) and collects every result.
pub fn feed_in_pieces<const N: usize>(
    decoder: &mut FrameDecoder<N>,
    bytes: &[u8],
    cuts: &[usize],
) -> Vec<Result<Frame, FrameError>> {
    let mut positions: Vec<usize> = cuts
        .iter()
        .map(|c| c % (bytes.len() + 1))
        .chain([0, bytes.len()])
        .collect();
    positions.sort_unstable();
    positions.dedup();
    let mut results = Vec::new();
    for w in positions.windows(2) {
        results.extend(decoder.feed(&bytes[w[0]..w[1]]));
    }
    results
}

pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// sentio-rng's SplitMix64 with the draws these simulations were tuned with: bounds by modulo
/// and a chance that always draws, so each seed replays the same line.
#[derive(Clone, Debug)]
pub struct SimRng(SplitMix64);

impl SimRng {
    pub fn new(seed: u64) -> Self {
        Self(SplitMix64::new(seed))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0.below_mod(n)
    }

    /// True with probability p.
    pub fn chance(&mut self, p: f64) -> bool {
        self.0.chance(p)
    }
}

// ---------------------------------------------------------------- simulated line

/// How a simulated line mistreats frames (probabilities per frame).
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    pub drop: f64,
    pub duplicate: f64,
    /// Delivered up to `reorder_ms` late, so later frames overtake it.
    pub reorder: f64,
    pub reorder_ms: u64,
    /// One random bit flipped.
    pub corrupt: f64,
    /// Its tail (terminator included) lost, so it merges with the next frame.
    pub truncate: f64,
}

/// One direction of a simulated serial line: frames arrive `latency_ms` after they are sent,
/// mistreated according to `faults`.
pub struct Line {
    pub faults: Faults,
    pub latency_ms: u64,
    rng: SimRng,
    in_flight: Vec<(u64, u64, Vec<u8>)>,
    order: u64,
}

impl Line {
    pub fn new(faults: Faults, latency_ms: u64, seed: u64) -> Self {
        Self {
            faults,
            latency_ms,
            rng: SimRng::new(seed),
            in_flight: Vec::new(),
            order: 0,
        }
    }

    pub fn send(&mut self, now: u64, frame: &[u8]) {
        let f = self.faults;
        if self.rng.chance(f.drop) {
            return;
        }
        let copies = if self.rng.chance(f.duplicate) { 2 } else { 1 };
        for _ in 0..copies {
            let mut bytes = frame.to_vec();
            if self.rng.chance(f.corrupt) {
                let bit = self.rng.below(bytes.len() as u64 * 8);
                bytes[(bit / 8) as usize] ^= 1 << (bit % 8);
            }
            if self.rng.chance(f.truncate) {
                let keep = self.rng.below(bytes.len() as u64) as usize;
                bytes.truncate(keep);
            }
            let mut at = now + self.latency_ms;
            if f.reorder_ms > 0 && self.rng.chance(f.reorder) {
                at += 1 + self.rng.below(f.reorder_ms);
            }
            self.order += 1;
            self.in_flight.push((at, self.order, bytes));
        }
    }

    /// Bytes arriving by `now`, in arrival order.
    pub fn receive(&mut self, now: u64) -> Vec<u8> {
        self.in_flight.sort_by_key(|(at, order, _)| (*at, *order));
        let due = self.in_flight.partition_point(|(at, _, _)| *at <= now);
        self.in_flight
            .drain(..due)
            .flat_map(|(_, _, bytes)| bytes)
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.in_flight.is_empty()
    }
}

/// One end of a simulated link: an `Endpoint`, a decoder, and what it delivered.
pub struct Station {
    pub ep: Endpoint<Message, 16>,
    pub decoder: FrameDecoder,
    pub delivered: Vec<Message>,
    pub new_sessions: usize,
    pub errors: usize,
    pub frames_sent: usize,
    pub outbox: VecDeque<Message>,
}

impl Station {
    pub fn new(config: WindowConfig, initial_seq: u16) -> Self {
        Self {
            ep: Endpoint::new(config, initial_seq),
            decoder: FrameDecoder::new(),
            delivered: Vec::new(),
            new_sessions: 0,
            errors: 0,
            frames_sent: 0,
            outbox: VecDeque::new(),
        }
    }

    /// Takes the bytes that arrived; returns the messages delivered by them, each with
    /// whether it opened a new session.
    pub fn receive(&mut self, bytes: &[u8], now: u64) -> Vec<(Message, bool)> {
        let mut out = Vec::new();
        let mut headers = Vec::new();
        for result in self.decoder.feed(bytes) {
            match result {
                Ok(frame) => headers.push((frame.header, frame.message)),
                Err(FrameError::BadMessage { header }) => headers.push((header, None)),
                Err(_) => {
                    self.errors += 1;
                    self.ep.on_corrupt();
                }
            }
        }
        for (header, message) in headers {
            if let Verdict::Deliver { new_session } = self.ep.on_frame(&header, now) {
                if new_session {
                    self.new_sessions += 1;
                }
                let message = message.expect("the simulated peer sends only decodable messages");
                self.delivered.push(message.clone());
                out.push((message, new_session));
            }
        }
        out
    }

    /// Pushes what the window takes from the outbox, then writes every due frame to `line`.
    pub fn transmit(&mut self, line: &mut Line, now: u64) -> Result<(), LinkError> {
        while self.ep.can_push() {
            let Some(m) = self.outbox.pop_front() else {
                break;
            };
            self.ep.push(m).unwrap();
        }
        let mut out = [0u8; MAX_FRAME];
        while let Some(t) = self.ep.poll_transmit(now)? {
            let wire = encode_frame(&t.header, t.payload, &mut out).unwrap();
            line.send(now, wire);
            self.frames_sent += 1;
        }
        if let Some(h) = self.ep.take_control() {
            line.send(now, &encode_ctl(&h));
        }
        Ok(())
    }

    pub fn is_idle(&self) -> bool {
        self.outbox.is_empty() && self.ep.tx.is_idle()
    }
}
