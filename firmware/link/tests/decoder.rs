//! The frame decoder against hostile input: garbage, cut frames, flipped bits, oversize
//! frames. It must never panic, never hand out a frame that was not sent, and decode the next
//! good frame after any damage.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use proptest::prelude::*;
use sentio_link::*;

/// Every `Ok` result must be one of the frames actually sent.
fn only_sent_frames(results: &[Result<Frame, FrameError>], sent: &[Frame]) -> bool {
    results
        .iter()
        .all(|r| r.as_ref().map_or(true, |f| sent.contains(f)))
}

fn frame(seq: u16, message: Message) -> (Frame, Vec<u8>) {
    let header = Header::data(seq);
    let wire = encode(&header, &message);
    (
        Frame {
            header,
            message: Some(message),
        },
        wire,
    )
}

proptest! {
    #![proptest_config(config(512))]

    /// Random bytes, fed in random pieces to a full-size, a tiny and a zero-size decoder: no
    /// panic. Then, in the full-size one, a good frame after a 0x00 decodes, and the frame
    /// after it decodes even without that 0x00 (the first may merge with the garbage).
    #[test]
    fn garbage_never_panics_and_the_next_frame_decodes(
        garbage in proptest::collection::vec(any::<u8>(), 0..3000),
        cuts in proptest::collection::vec(any::<usize>(), 0..10),
        m1 in any_message(),
        m2 in any_message(),
        separate in any::<bool>(),
    ) {
        let mut big: FrameDecoder = FrameDecoder::new();
        let mut tiny: FrameDecoder<8> = FrameDecoder::new();
        let mut empty: FrameDecoder<0> = FrameDecoder::new();
        let _ = feed_in_pieces(&mut big, &garbage, &cuts);
        let _ = feed_in_pieces(&mut tiny, &garbage, &cuts);
        let _ = feed_in_pieces(&mut empty, &garbage, &cuts);

        let (f1, w1) = frame(1, m1);
        let (f2, w2) = frame(2, m2);
        let mut tail = Vec::new();
        if separate {
            tail.push(0);
        }
        tail.extend(&w1);
        tail.extend(&w2);
        let results: Vec<_> = big.feed(&tail).collect();
        prop_assert!(only_sent_frames(&results, &[f1.clone(), f2.clone()]));
        if separate {
            // The 0x00 may first end the garbage's last partial frame (one error).
            prop_assert!(results.len() <= 3);
            prop_assert_eq!(&results[results.len() - 2..], &[Ok(f1), Ok(f2)]);
        } else {
            prop_assert_eq!(results.last(), Some(&Ok(f2)));
        }
    }

    /// Garbage that happens to be COBS with a valid CRC is rare; this makes it common, by
    /// framing random bytes properly: the decoder reports a typed error or a frame, and never
    /// panics on what the postcard decoder sees.
    #[test]
    fn random_payloads_with_valid_crc_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..1200)) {
        let mut with_crc = raw.clone();
        with_crc.extend(sentio_link::crc::crc32(&raw).to_le_bytes());
        let mut wire = vec![0u8; cobs::max_encoded_len(with_crc.len()) + 1];
        let n = cobs::encode(&with_crc, &mut wire).unwrap();
        wire.truncate(n);
        wire.push(0);
        let mut decoder: FrameDecoder = FrameDecoder::new();
        let results: Vec<_> = decoder.feed(&wire).collect();
        prop_assert_eq!(results.len(), 1);
        if let Ok(frame) = &results[0] {
            prop_assert_eq!(frame.message.is_some(), frame.header.kind == FrameKind::Data);
        }
    }

    /// A frame with 1 to 4 flipped bits, then two good frames: the damaged frame is reported
    /// as an error (or, if the flip hit its terminator, merges with the next frame), nothing
    /// unsent is ever handed out, and the last frame always decodes.
    #[test]
    fn bit_flipped_frames_are_rejected_and_the_stream_recovers(
        m0 in any_message(),
        m1 in any_message(),
        m2 in any_message(),
        flips in proptest::collection::vec(any::<usize>(), 1..5),
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        let (f0, mut w0) = frame(0, m0);
        let original = w0.clone();
        for bit in &flips {
            let bit = bit % (w0.len() * 8);
            w0[bit / 8] ^= 1 << (bit % 8);
        }
        let (f1, w1) = frame(1, m1);
        let (f2, w2) = frame(2, m2);
        let stream: Vec<u8> = w0.iter().chain(&w1).chain(&w2).copied().collect();
        let mut decoder: FrameDecoder = FrameDecoder::new();
        let results = feed_in_pieces(&mut decoder, &stream, &cuts);
        let damaged = w0 != original;
        if damaged {
            prop_assert!(!results.contains(&Ok(f0.clone())));
        }
        prop_assert!(only_sent_frames(&results, &[f0, f1, f2.clone()]));
        prop_assert_eq!(results.last(), Some(&Ok(f2)));
    }

    /// A frame cut anywhere (its tail and terminator lost), then two good frames: the cut frame
    /// and the one it merges with are lost, the last one decodes, nothing unsent comes out.
    #[test]
    fn truncated_frames_are_rejected_and_the_stream_recovers(
        m0 in any_message(),
        m1 in any_message(),
        m2 in any_message(),
        keep in any::<usize>(),
    ) {
        let (f0, w0) = frame(0, m0);
        let keep = keep % w0.len();
        let (f1, w1) = frame(1, m1);
        let (f2, w2) = frame(2, m2);
        let stream: Vec<u8> = w0[..keep].iter().chain(&w1).chain(&w2).copied().collect();
        let mut decoder: FrameDecoder = FrameDecoder::new();
        let results: Vec<_> = decoder.feed(&stream).collect();
        prop_assert!(!results.contains(&Ok(f0.clone())));
        prop_assert!(only_sent_frames(&results, &[f0, f1, f2.clone()]));
        prop_assert_eq!(results.last(), Some(&Ok(f2)));
    }
}

#[test]
fn oversize_frames_are_reported_once_then_skipped() {
    let mut decoder: FrameDecoder = FrameDecoder::new();
    let mut stream = vec![0x55u8; 5000];
    stream.push(0);
    let (f, w) = frame(9, Message::Done);
    stream.extend(&w);
    let results: Vec<_> = decoder.feed(&stream).collect();
    assert_eq!(results, vec![Err(FrameError::Oversize), Ok(f)]);
}

#[test]
fn a_small_decoder_refuses_big_frames_and_takes_small_ones() {
    let mut decoder: FrameDecoder<64> = FrameDecoder::new();
    let (_, big) = frame(1, Message::Chunk(Chunk::new(1, 0, &[7; 500]).unwrap()));
    let (small, w) = frame(2, Message::Ping { nonce: 5 });
    let stream: Vec<u8> = big.iter().chain(&w).copied().collect();
    let results: Vec<_> = decoder.feed(&stream).collect();
    assert_eq!(results, vec![Err(FrameError::Oversize), Ok(small)]);
}

#[test]
fn a_frame_exactly_the_size_of_the_buffer_fits() {
    let (f, w) = frame(3, Message::Chunk(Chunk::new(1, 0, &[9; 40]).unwrap()));
    let encoded_len = w.len() - 1;
    let mut exact: FrameDecoder<64> = FrameDecoder::new();
    assert!(encoded_len <= 64);
    let mut padded = w.clone();
    // Grow the chunk until the encoded frame is exactly 64 bytes.
    let mut data = 40;
    while padded.len() - 1 < 64 {
        data += 1;
        padded = frame(3, Message::Chunk(Chunk::new(1, 0, &vec![9; data]).unwrap())).1;
    }
    assert_eq!(padded.len() - 1, 64);
    let results: Vec<_> = exact.feed(&padded).collect();
    assert!(matches!(results.as_slice(), [Ok(_)]), "{results:?}");
    assert_eq!(exact.feed(&w).collect::<Vec<_>>(), vec![Ok(f)]);
}

#[test]
fn empty_frames_are_ignored() {
    let (f, w) = frame(4, Message::Reboot);
    let mut stream = vec![0, 0, 0];
    stream.extend(&w);
    stream.extend([0, 0]);
    let mut decoder: FrameDecoder = FrameDecoder::new();
    assert_eq!(decoder.feed(&stream).collect::<Vec<_>>(), vec![Ok(f)]);
}

/// Builds a wire frame from raw bytes (CRC appended unless `crc` says otherwise).
fn wire_from_raw(raw: &[u8], crc: Option<u32>) -> Vec<u8> {
    let mut with_crc = raw.to_vec();
    with_crc.extend(
        crc.unwrap_or_else(|| sentio_link::crc::crc32(raw))
            .to_le_bytes(),
    );
    let mut wire = vec![0u8; cobs::max_encoded_len(with_crc.len())];
    let n = cobs::encode(&with_crc, &mut wire).unwrap();
    wire.truncate(n);
    wire.push(0);
    wire
}

#[test]
fn each_kind_of_damage_has_its_error() {
    let decode = |wire: &[u8]| {
        let mut d: FrameDecoder = FrameDecoder::new();
        d.feed(wire).collect::<Vec<_>>()
    };
    // Too short: 3 raw bytes.
    assert_eq!(decode(&[0x04, 1, 2, 3, 0]), vec![Err(FrameError::TooShort)]);
    // Bad COBS: a code byte pointing past the end.
    assert_eq!(decode(&[0x09, 1, 2, 0]), vec![Err(FrameError::Cobs)]);
    // Bad CRC.
    let header = [1u8, 0, 0, 0]; // seq 1, ack 0, Data, no flags
    let mut raw = header.to_vec();
    raw.extend([3]); // Done
    assert!(matches!(decode(&wire_from_raw(&raw, None))[..], [Ok(_)]));
    assert_eq!(
        decode(&wire_from_raw(&raw, Some(0xDEAD_BEEF))),
        vec![Err(FrameError::BadCrc)]
    );
    // Good CRC, unknown frame kind 7: malformed header.
    assert_eq!(
        decode(&wire_from_raw(&[1, 0, 7, 0, 3], None)),
        vec![Err(FrameError::Malformed)]
    );
    // Good CRC, a seq varint that never ends.
    assert_eq!(
        decode(&wire_from_raw(&[0xFF, 0xFF, 0xFF, 0xFF, 0xFF], None)),
        vec![Err(FrameError::Malformed)]
    );
    // Good CRC and header, unknown message 200: the header is reported so the link can
    // acknowledge the frame and answer `Unsupported`.
    let mut raw = header.to_vec();
    raw.extend([0xC8, 0x01]);
    assert_eq!(
        decode(&wire_from_raw(&raw, None)),
        vec![Err(FrameError::BadMessage {
            header: Header::data(1)
        })]
    );
    // Good CRC and message, then trailing bytes.
    let mut raw = header.to_vec();
    raw.extend([3, 0xAA]);
    assert_eq!(
        decode(&wire_from_raw(&raw, None)),
        vec![Err(FrameError::BadMessage {
            header: Header::data(1)
        })]
    );
    // A string longer than its capacity (a 33-byte model name).
    let mut raw = header.to_vec();
    raw.extend([10, 33]);
    raw.extend([b'a'; 33]);
    assert!(matches!(
        decode(&wire_from_raw(&raw, None))[..],
        [Err(FrameError::BadMessage { .. })]
    ));
    // Invalid UTF-8 in a string.
    let mut raw = header.to_vec();
    raw.extend([10, 2, 0xC3, 0x28]);
    assert!(matches!(
        decode(&wire_from_raw(&raw, None))[..],
        [Err(FrameError::BadMessage { .. })]
    ));
    // An Ack with bytes after its header.
    assert_eq!(
        decode(&wire_from_raw(&[0, 5, 1, 2, 3], None)),
        vec![Err(FrameError::Malformed)]
    );
}
