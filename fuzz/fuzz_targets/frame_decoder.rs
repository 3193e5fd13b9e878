//! Any byte stream from the serial line into the streaming frame decoder: it must never panic,
//! and every frame it accepts must survive a re-encode and decode unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentio_link::{FrameDecoder, MAX_FRAME, decode_frame, encode_control, encode_frame};

fuzz_target!(|data: &[u8]| {
    // Split the input at its first byte so the decoder also sees the stream in two pieces.
    let split = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    let mut decoder: FrameDecoder = FrameDecoder::new();
    let mut out = [0u8; MAX_FRAME];
    for piece in [&data[..split], &data[split..]] {
        for frame in decoder.feed(piece) {
            let Ok(frame) = frame else { continue };
            let wire = match &frame.message {
                Some(m) => encode_frame(&frame.header, m, &mut out),
                None => encode_control(&frame.header, &mut out),
            };
            let Ok(wire) = wire else { continue };
            let wire = wire.to_vec();
            let mut again = wire[..wire.len() - 1].to_vec();
            let decoded = decode_frame(&mut again).expect("a frame we encoded decodes");
            assert_eq!(decoded.header, frame.header);
            // Compare wire bytes, not values: a decoded f32 may be NaN, and NaN != NaN.
            let mut out2 = [0u8; MAX_FRAME];
            let wire2 = match &decoded.message {
                Some(m) => encode_frame(&decoded.header, m, &mut out2),
                None => encode_control(&decoded.header, &mut out2),
            }
            .expect("re-encodes");
            assert_eq!(&wire[..], wire2);
        }
    }
});
