//! The bytes on the wire, pinned: the schema fingerprint that forces a protocol version bump,
//! the variant order of the message table in docs/protocol.md, the frozen handshake bytes,
//! and the example frames the document shows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use sentio_link::*;

#[test]
fn schema_fingerprint_is_pinned() {
    let actual = schema::fingerprint();
    assert_eq!(
        (PROTOCOL_VERSION, actual),
        (PROTOCOL_VERSION, SCHEMA_HASH),
        "\nThe wire encoding changed (fingerprint is now {actual:#010x}).\n\
         Bump PROTOCOL_VERSION, set SCHEMA_HASH = {actual:#010x} in src/schema.rs, and update \
         docs/protocol.md (message table, examples, history).\n"
    );
}

/// `sample(i)` is variant `i`, postcard writes `i` as the message's first byte, and
/// `VARIANT_NAMES` (the table in docs/protocol.md) follows the same order.
#[test]
fn message_discriminants_follow_the_table() {
    for (i, name) in Message::VARIANT_NAMES.iter().enumerate() {
        let message = schema::sample(i).unwrap();
        assert_eq!(message.discriminant() as usize, i);
        assert_eq!(message.name(), *name);
        let mut buf = [0u8; MAX_FRAME];
        let bytes = postcard::to_slice(&message, &mut buf).unwrap();
        assert_eq!(bytes[0] as usize, i, "{name}");
    }
    assert!(schema::sample(Message::VARIANT_NAMES.len()).is_none());
    for (i, code) in schema::error_samples().iter().enumerate() {
        assert_eq!(schema::error_discriminant(code) as usize, i);
        let mut buf = [0u8; 64];
        assert_eq!(postcard::to_slice(code, &mut buf).unwrap()[0] as usize, i);
    }
}

/// The bytes every protocol version must keep, so that any host and any device can tell each
/// other their versions: the header, `Hello`, and `Error { VersionMismatch }`.
#[test]
fn frozen_handshake_bytes() {
    let mut buf = [0u8; 64];
    let hello = Message::Hello(Hello {
        protocol_version: 1,
        host_max_frame: 1152,
        nonce: 0xDEAD_BEEF,
    });
    assert_eq!(
        postcard::to_slice(&hello, &mut buf).unwrap(),
        &[0x00, 0x01, 0x80, 0x09, 0xEF, 0xFD, 0xB6, 0xF5, 0x0D]
    );
    let mismatch = Message::Error {
        code: ErrorCode::VersionMismatch { host: 2, device: 1 },
    };
    assert_eq!(
        postcard::to_slice(&mismatch, &mut buf).unwrap(),
        &[0x02, 0x00, 0x02, 0x01]
    );
    let header = Header {
        seq: 300,
        ack: 5,
        kind: FrameKind::Data,
        flags: FrameFlags::ACK,
    };
    assert_eq!(
        postcard::to_slice(&header, &mut buf).unwrap(),
        &[0xAC, 0x02, 0x05, 0x00, 0x02]
    );
}

#[test]
fn version_mismatch_names_both_versions() {
    let hello = Hello {
        protocol_version: 7,
        host_max_frame: MAX_FRAME as u16,
        nonce: 1,
    };
    let code = check_version(&hello, 3).unwrap_err();
    assert_eq!(code, ErrorCode::VersionMismatch { host: 7, device: 3 });
    let text = code.to_string();
    assert!(text.contains("host speaks version 7"), "{text}");
    assert!(text.contains("device speaks version 3"), "{text}");
    assert!(!code.help().is_empty());
    assert_eq!(check_version(&hello, 7), Ok(()));

    // And it survives the wire.
    let wire = encode(&Header::data(0), &Message::Error { code });
    let mut decoder: FrameDecoder = FrameDecoder::new();
    let frame = decoder.feed(&wire).next().unwrap().unwrap();
    assert_eq!(frame.message, Some(Message::Error { code }));
}

#[test]
fn every_error_code_explains_itself() {
    for code in schema::error_samples() {
        assert!(!code.to_string().is_empty());
        assert!(code.help().len() > 10, "{code:?}");
    }
}

/// The example frames of docs/protocol.md, byte for byte. Run with `--nocapture` to print
/// them.
#[test]
fn example_frames_in_the_protocol_document() {
    let mut hello_header = Header::data(0x1234);
    hello_header.flags = FrameFlags::RESET;
    let examples: [(&str, Vec<u8>, &str); 4] = [
        (
            "Hello, first frame of the host (seq 0x1234, RESET)",
            encode(
                &hello_header,
                &Message::Hello(Hello {
                    protocol_version: 1,
                    host_max_frame: 1152,
                    nonce: 0xDEAD_BEEF,
                }),
            ),
            "03 b4 24 01 02 01 0d 01 80 09 ef fd b6 f5 0d e0 d9 25 17 00",
        ),
        (
            "Ack of everything before seq 0x1235",
            encode_ctl(&Header::ack(0x1235)),
            "01 09 b5 24 01 02 e4 f7 df 24 00",
        ),
        (
            "ChunkAck, device seq 1, ack 0x1236",
            encode(
                &Header {
                    seq: 1,
                    ack: 0x1236,
                    kind: FrameKind::Data,
                    flags: FrameFlags::ACK,
                },
                &Message::ChunkAck {
                    transfer_id: 1,
                    received: 1024,
                },
            ),
            "04 01 b6 24 0a 02 11 01 80 08 96 db e6 7c 00",
        ),
        (
            "Chunk of 4 bytes 00 01 02 03 at offset 0",
            encode(
                &Header {
                    seq: 0x1236,
                    ack: 2,
                    kind: FrameKind::Data,
                    flags: FrameFlags::ACK,
                },
                &Message::Chunk(Chunk::new(1, 0, &[0, 1, 2, 3]).unwrap()),
            ),
            "04 b6 24 02 04 02 10 01 02 04 08 01 02 03 f7 e5 9e e0 00",
        ),
    ];
    for (what, wire, pinned) in &examples {
        println!("{what}:\n  {}", hex(wire));
        assert_eq!(hex(wire), *pinned, "{what}");
    }
}

/// docs/protocol.md states the version, the fingerprint, the message and error tables in
/// discriminant order, and the example frames: it must agree with the code.
#[test]
fn protocol_document_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/protocol.md");
    let doc = std::fs::read_to_string(path).unwrap();
    assert!(doc.contains(&format!("Protocol version: **{PROTOCOL_VERSION}**")));
    assert!(doc.contains(&format!("`0x{SCHEMA_HASH:08X}`")));
    for (i, name) in Message::VARIANT_NAMES.iter().enumerate() {
        let row = format!("| {i} | `{name}` |");
        assert!(doc.contains(&row), "docs/protocol.md lacks the row {row}");
    }
    for (i, code) in schema::error_samples().iter().enumerate() {
        let debug = format!("{code:?}");
        let name = debug.split([' ', '{']).next().unwrap();
        let row = format!("| {i} | `{name}` |");
        assert!(doc.contains(&row), "docs/protocol.md lacks the row {row}");
    }
    for hex in [
        "03 b4 24 01 02 01 0d 01 80 09 ef fd b6 f5 0d e0 d9 25 17 00",
        "01 09 b5 24 01 02 e4 f7 df 24 00",
        "04 01 b6 24 0a 02 11 01 80 08 96 db e6 7c 00",
        "04 b6 24 02 04 02 10 01 02 04 08 01 02 03 f7 e5 9e e0 00",
    ] {
        assert!(
            doc.contains(hex),
            "docs/protocol.md lacks the example {hex}"
        );
    }
    for (name, value) in [
        ("MAX_FRAME", MAX_FRAME),
        ("MIN_FRAME", MIN_FRAME),
        ("MAX_CHUNK", MAX_CHUNK),
        ("DEFAULT_WINDOW", DEFAULT_WINDOW as usize),
        ("MAX_WINDOW", MAX_WINDOW as usize),
        ("MAX_NAME_LEN", MAX_NAME_LEN),
        ("MAX_VERSION_LEN", MAX_VERSION_LEN),
        ("MAX_LISTED_MODELS", MAX_LISTED_MODELS),
    ] {
        let row = format!("| `{name}` | {value} |");
        assert!(doc.contains(&row), "docs/protocol.md lacks the row {row}");
    }
}
