//! Every message variant survives `encode_frame` + `FrameDecoder`, whatever its contents and
//! however the bytes are split when they arrive.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use sentio_link::*;

fn check_roundtrip(header: &Header, message: &Message, cuts: &[usize]) -> Result<(), String> {
    let mut out = [0u8; MAX_FRAME];
    let wire = encode_frame(header, message, &mut out).map_err(|e| format!("encode: {e}"))?;
    if wire.len() > MAX_FRAME {
        return Err(format!("{} bytes > MAX_FRAME", wire.len()));
    }
    let (last, body) = wire.split_last().unwrap();
    if *last != 0 || body.contains(&0) {
        return Err("0x00 must appear only as the terminator".into());
    }
    let expected = Frame {
        header: *header,
        message: Some(message.clone()),
    };

    let mut decoder: FrameDecoder = FrameDecoder::new();
    let results = feed_in_pieces(&mut decoder, wire, cuts);
    if results != vec![Ok(expected.clone())] {
        return Err(format!("decoder gave {results:?}"));
    }
    if decoder.buffered() != 0 {
        return Err("decoder kept bytes after the terminator".into());
    }

    let mut copy = body.to_vec();
    if decode_frame(&mut copy) != Ok(expected) {
        return Err("decode_frame disagrees with the decoder".into());
    }
    Ok(())
}

/// One proptest run per variant (256 cases each), so a failure names its variant, and a check
/// that the strategies cover every variant of `Message`, in discriminant order.
#[test]
fn every_message_variant_roundtrips_through_frames() {
    let strategies = message_strategies();
    assert_eq!(strategies.len(), Message::VARIANT_NAMES.len());
    for (index, (name, strategy)) in strategies.into_iter().enumerate() {
        assert_eq!(Message::VARIANT_NAMES[index], name);
        let mut runner = TestRunner::new(config(256));
        let input = (
            strategy,
            data_header(),
            proptest::collection::vec(any::<usize>(), 0..6),
        );
        runner
            .run(&input, |(message, header, cuts)| {
                prop_assert_eq!(message.discriminant() as usize, index);
                prop_assert_eq!(message.name(), name);
                check_roundtrip(&header, &message, &cuts).map_err(TestCaseError::fail)
            })
            .unwrap_or_else(|e| panic!("variant {name}: {e}"));
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Several frames back to back, fed in arbitrary pieces, come out in order.
    #[test]
    fn streams_of_frames_decode_in_order(
        frames in proptest::collection::vec((data_header(), any_message()), 1..8),
        cuts in proptest::collection::vec(any::<usize>(), 0..20),
    ) {
        let mut wire = Vec::new();
        for (h, m) in &frames {
            wire.extend(encode(h, m));
        }
        let mut decoder: FrameDecoder = FrameDecoder::new();
        let got = feed_in_pieces(&mut decoder, &wire, &cuts);
        let want: Vec<_> = frames
            .into_iter()
            .map(|(header, m)| Ok(Frame { header, message: Some(m) }))
            .collect();
        prop_assert_eq!(got, want);
    }

    /// Ack and Nak frames carry only their header.
    #[test]
    fn control_frames_roundtrip(
        ack in any::<u16>(),
        seq in any::<u16>(),
        nak in any::<bool>(),
        flags in any::<u8>(),
    ) {
        let mut header = if nak { Header::nak(ack) } else { Header::ack(ack) };
        header.flags = FrameFlags::from_bits_retain(flags);
        header.seq = seq;
        let mut out = [0u8; 14];
        let wire = encode_control(&header, &mut out).unwrap().to_vec();
        prop_assert!(wire.len() <= 14);
        let mut decoder: FrameDecoder = FrameDecoder::new();
        let got: Vec<_> = decoder.feed(&wire).collect();
        prop_assert_eq!(got, vec![Ok(Frame { header, message: None })]);
    }

    /// `encode_frame` into a buffer of any size either fits the frame in it or says
    /// `BufferTooSmall`; never a panic, never a frame longer than the buffer.
    #[test]
    fn encoding_into_any_buffer_size(message in any_message(), header in data_header(), cap in 0usize..1300) {
        let mut out = vec![0u8; cap];
        match encode_frame(&header, &message, &mut out) {
            Ok(wire) => {
                prop_assert!(wire.len() <= cap);
                let wire = wire.to_vec();
                let mut decoder: FrameDecoder = FrameDecoder::new();
                let got: Vec<_> = decoder.feed(&wire).collect();
                prop_assert_eq!(got, vec![Ok(Frame { header, message: Some(message) })]);
            }
            Err(e) => prop_assert_eq!(e, FrameError::BufferTooSmall),
        }
    }
}

/// The largest possible message of every variant, with the largest header, fits in
/// `MAX_FRAME`: no legal message is ever too big to send.
#[test]
fn largest_messages_fit_in_max_frame() {
    let header = schema::header_samples()[0];
    for d in 0..schema::MESSAGE_VARIANTS {
        let message = schema::sample(d).unwrap();
        let wire = encode(&header, &message);
        assert!(
            wire.len() <= MAX_FRAME,
            "{}: {}",
            message.name(),
            wire.len()
        );
        println!("{:>16}: {:4} bytes on the wire", message.name(), wire.len());
    }
}

/// Every message but the three that hold lists of data (ModelList, Chunk, InjectInput) fits
/// in `MIN_FRAME`, so a device may announce a frame limit that small.
#[test]
fn small_messages_fit_in_min_frame() {
    let header = schema::header_samples()[0];
    let mut out = [0u8; MIN_FRAME];
    for d in 0..schema::MESSAGE_VARIANTS {
        let message = schema::sample(d).unwrap();
        let r = encode_frame(&header, &message, &mut out).map(|w| w.len());
        match message {
            Message::ModelList(_) | Message::Chunk(_) | Message::InjectInput(_) => {}
            _ => assert!(r.is_ok(), "{}: {r:?}", message.name()),
        }
    }
    // A page of one entry fits too.
    let Some(Message::ModelList(mut list)) = schema::sample(7) else {
        unreachable!()
    };
    list.models.truncate(1);
    encode_frame(&header, &Message::ModelList(list), &mut out).unwrap();
}

/// `max_chunk_for_frame(f)` data bytes always fit in an `f`-byte frame, with the worst header,
/// transfer id and offset, for every frame size a device may announce.
#[test]
fn max_chunk_for_frame_is_tight_enough() {
    let header = schema::header_samples()[0];
    for max_frame in MIN_FRAME..=MAX_FRAME {
        let len = max_chunk_for_frame(max_frame);
        assert!(len > 0);
        let chunk = Chunk::new(u32::MAX, u64::MAX, &vec![0xA5; len]).unwrap();
        let mut out = vec![0u8; max_frame];
        let wire = encode_frame(&header, &Message::Chunk(chunk), &mut out)
            .unwrap_or_else(|e| panic!("max_frame {max_frame}, chunk {len}: {e}"));
        assert!(wire.len() <= max_frame);
    }
    assert_eq!(max_chunk_for_frame(MAX_FRAME), MAX_CHUNK);
}
