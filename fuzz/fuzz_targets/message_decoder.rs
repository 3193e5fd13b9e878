//! Arbitrary bytes as the body of a frame with a valid CRC and COBS, so every input reaches the
//! header and message decoders (postcard) instead of stopping at the CRC check.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentio_link::{MAX_FRAME, cobs, crc::crc32, decode_frame, encode_frame};

fuzz_target!(|body: &[u8]| {
    if body.len() + 4 > MAX_FRAME - 8 {
        return;
    }
    let mut raw = body.to_vec();
    raw.extend_from_slice(&crc32(body).to_le_bytes());
    let mut encoded = vec![0u8; raw.len() + raw.len() / 254 + 2];
    let Ok(n) = cobs::encode(&raw, &mut encoded) else { return };
    encoded.truncate(n);
    if let Ok(frame) = decode_frame(&mut encoded) {
        if let Some(message) = frame.message {
            // Compare wire bytes, not values: a decoded f32 may be NaN, and NaN != NaN.
            let mut out = [0u8; MAX_FRAME];
            let wire = encode_frame(&frame.header, &message, &mut out).expect("re-encodes").to_vec();
            let mut again = wire[..wire.len() - 1].to_vec();
            let decoded = decode_frame(&mut again).expect("decodes again");
            let message = decoded.message.expect("still a data frame");
            let mut out2 = [0u8; MAX_FRAME];
            let wire2 = encode_frame(&decoded.header, &message, &mut out2).expect("re-encodes again");
            assert_eq!(wire, wire2);
        }
    }
});
