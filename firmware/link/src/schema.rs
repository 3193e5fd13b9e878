//! The protocol version and a fingerprint of the wire encoding that guards it.
//!
//! [`PROTOCOL_VERSION`] goes in [`Hello`] and
//! [`HelloReply`]; host and device must have the same one. A test encodes one
//! sample of every message (every field at its maximum, so a wider integer or a longer list
//! changes the bytes), every [`ErrorCode`] and every header kind, hashes the bytes with CRC32,
//! and compares the result with [`SCHEMA_HASH`]. If it fails, you changed the wire format:
//!
//! 1. bump [`PROTOCOL_VERSION`] by one (never reuse a number);
//! 2. set [`SCHEMA_HASH`] to the value the test prints;
//! 3. update `docs/protocol.md` (message table, examples) and say what changed in its history.
//!
//! Appending a message variant, adding a field, reordering variants or fields, changing a
//! field's type or a `MAX_*` capacity all change the fingerprint. Renaming does not (postcard
//! does not encode names). Never change the frozen bytes listed in `docs/protocol.md`: the
//! header, `Hello`, and `Error { VersionMismatch }`, which every version must decode to report a
//! mismatch.

use heapless::{String, Vec};
use serde::Serialize;

use crate::crc::Crc32;
use crate::frame::{FrameFlags, FrameKind, Header, MAX_FRAME};
use crate::message::*;

/// The version of the protocol this crate speaks.
pub const PROTOCOL_VERSION: u16 = 1;

/// CRC32 of the encodings of the samples of [`sample`], [`error_samples`] and
/// [`header_samples`]; see the module documentation.
pub const SCHEMA_HASH: u32 = 0x7978_D8E6;

/// Number of [`Message`] variants.
pub const MESSAGE_VARIANTS: usize = Message::VARIANT_NAMES.len();

fn filled<const N: usize>(c: char) -> String<N> {
    let mut s = String::new();
    while s.push(c).is_ok() {}
    s
}

fn full_vec<T: Clone, const N: usize>(value: T) -> Vec<T, N> {
    let mut v = Vec::new();
    while v.push(value.clone()).is_ok() {}
    v
}

fn model_info() -> ModelInfo {
    ModelInfo {
        name: filled('z'),
        version: filled('9'),
        sha256: [0xFF; 32],
        size: u64::MAX,
        slot: Slot::Previous,
        verified: true,
    }
}

/// The sample of the [`Message`] variant with discriminant `discriminant` (every field at its
/// largest encoding), or `None` past the last variant.
pub fn sample(discriminant: usize) -> Option<Message> {
    let name: ModelName = filled('z');
    Some(match discriminant {
        0 => Message::Hello(Hello {
            protocol_version: u16::MAX,
            host_max_frame: u16::MAX,
            nonce: u32::MAX,
        }),
        1 => Message::HelloReply(HelloReply {
            protocol_version: u16::MAX,
            nonce: u32::MAX,
            device: DeviceInfo {
                board: filled('b'),
                firmware_version: filled('f'),
                serial_number: filled('s'),
                capabilities: Capabilities::from_bits_retain(u32::MAX),
                limits: Limits {
                    max_frame: u16::MAX,
                    max_chunk: u16::MAX,
                    window: u16::MAX,
                    store_quota_bytes: u64::MAX,
                },
            },
        }),
        2 => Message::Error {
            code: ErrorCode::Incomplete {
                received: u64::MAX,
                size: u64::MAX,
            },
        },
        3 => Message::Done,
        4 => Message::Ping { nonce: u32::MAX },
        5 => Message::Pong { nonce: u32::MAX },
        6 => Message::ListModels { start: u16::MAX },
        7 => Message::ModelList(ModelList {
            start: u16::MAX,
            total: u16::MAX,
            models: full_vec(model_info()),
        }),
        8 => Message::InspectModel {
            name,
            slot: Slot::Previous,
        },
        9 => Message::ModelInfo(model_info()),
        10 => Message::DeleteModel { name },
        11 => Message::Activate { name },
        12 => Message::Rollback { name },
        13 => Message::BeginTransfer(BeginTransfer {
            name,
            size: u64::MAX,
            sha256: [0xFF; 32],
            signed: true,
            kind: TransferKind::Bundle,
        }),
        14 => Message::TransferAccepted {
            transfer_id: u32::MAX,
            resume_offset: u64::MAX,
        },
        15 => Message::TransferSkipped,
        16 => Message::Chunk(Chunk {
            transfer_id: u32::MAX,
            offset: u64::MAX,
            data: full_vec(0xFF),
        }),
        17 => Message::ChunkAck {
            transfer_id: u32::MAX,
            received: u64::MAX,
        },
        18 => Message::Commit {
            transfer_id: u32::MAX,
        },
        19 => Message::Committed { verified: true },
        20 => Message::Abort {
            transfer_id: u32::MAX,
        },
        21 => Message::Reboot,
        22 => Message::SubscribeEvents {
            events: true,
            stats: true,
        },
        23 => Message::Event(Event {
            at_ms: u64::MAX,
            topic: filled('t'),
            label: filled('l'),
            values: full_vec(f32::MAX),
        }),
        24 => Message::Stats(Stats {
            at_ms: u64::MAX,
            entries: full_vec(Stat {
                name: filled('n'),
                value: f32::MAX,
            }),
        }),
        25 => Message::InjectInput(InjectInput {
            stream: InputStream::Audio,
            seq: u32::MAX,
            last: true,
            data: full_vec(0xFF),
        }),
        _ => return None,
    })
}

/// The index of `code`'s variant (its postcard discriminant).
pub const fn error_discriminant(code: &ErrorCode) -> u8 {
    match code {
        ErrorCode::VersionMismatch { .. } => 0,
        ErrorCode::HandshakeRequired => 1,
        ErrorCode::Unsupported => 2,
        ErrorCode::Busy => 3,
        ErrorCode::QuotaExceeded { .. } => 4,
        ErrorCode::BadName => 5,
        ErrorCode::UnknownModel => 6,
        ErrorCode::HashMismatch => 7,
        ErrorCode::BadSignature => 8,
        ErrorCode::UnsignedRefused => 9,
        ErrorCode::OutOfOrder { .. } => 10,
        ErrorCode::BeyondEnd { .. } => 11,
        ErrorCode::Incomplete { .. } => 12,
        ErrorCode::UnknownTransfer => 13,
        ErrorCode::NotVerified => 14,
        ErrorCode::NothingToRollBack => 15,
        ErrorCode::FrameTooLarge => 16,
        ErrorCode::Storage => 17,
        ErrorCode::Internal => 18,
    }
}

/// One of every [`ErrorCode`], in discriminant order, fields at their maximum.
pub const fn error_samples() -> [ErrorCode; 19] {
    [
        ErrorCode::VersionMismatch {
            host: u16::MAX,
            device: u16::MAX,
        },
        ErrorCode::HandshakeRequired,
        ErrorCode::Unsupported,
        ErrorCode::Busy,
        ErrorCode::QuotaExceeded {
            needed: u64::MAX,
            available: u64::MAX,
        },
        ErrorCode::BadName,
        ErrorCode::UnknownModel,
        ErrorCode::HashMismatch,
        ErrorCode::BadSignature,
        ErrorCode::UnsignedRefused,
        ErrorCode::OutOfOrder { expected: u64::MAX },
        ErrorCode::BeyondEnd { size: u64::MAX },
        ErrorCode::Incomplete {
            received: u64::MAX,
            size: u64::MAX,
        },
        ErrorCode::UnknownTransfer,
        ErrorCode::NotVerified,
        ErrorCode::NothingToRollBack,
        ErrorCode::FrameTooLarge,
        ErrorCode::Storage,
        ErrorCode::Internal,
    ]
}

/// One header of each kind, fields at their maximum.
pub const fn header_samples() -> [Header; 3] {
    let flags = FrameFlags::from_bits_retain(u8::MAX);
    [
        Header {
            seq: u16::MAX,
            ack: u16::MAX,
            kind: FrameKind::Data,
            flags,
        },
        Header {
            seq: u16::MAX,
            ack: u16::MAX,
            kind: FrameKind::Ack,
            flags,
        },
        Header {
            seq: u16::MAX,
            ack: u16::MAX,
            kind: FrameKind::Nak,
            flags,
        },
    ]
}

fn add<T: Serialize>(crc: &mut Crc32, buf: &mut [u8], value: &T) {
    match postcard::to_slice(value, buf) {
        Ok(bytes) => {
            crc.update(&(bytes.len() as u32).to_le_bytes());
            crc.update(bytes);
        }
        Err(_) => crc.update(b"unencodable"),
    }
}

/// Computes the fingerprint [`SCHEMA_HASH`] pins.
pub fn fingerprint() -> u32 {
    let mut crc = Crc32::new();
    let mut buf = [0u8; MAX_FRAME];
    for header in header_samples() {
        add(&mut crc, &mut buf, &header);
    }
    for discriminant in 0..MESSAGE_VARIANTS {
        if let Some(message) = sample(discriminant) {
            add(&mut crc, &mut buf, &message);
        }
    }
    for code in error_samples() {
        add(&mut crc, &mut buf, &code);
    }
    for slot in [Slot::Active, Slot::Previous] {
        add(&mut crc, &mut buf, &slot);
    }
    for kind in [TransferKind::Model, TransferKind::Bundle] {
        add(&mut crc, &mut buf, &kind);
    }
    for stream in [InputStream::Camera, InputStream::Audio] {
        add(&mut crc, &mut buf, &stream);
    }
    crc.finish()
}
