//! Consistent Overhead Byte Stuffing: removes every 0x00 from a block of bytes so that 0x00 can
//! terminate frames on the wire.
//!
//! The encoding is the standard one (Cheshire & Baker, 1999): the output is a series of blocks,
//! each a code byte `c` (1..=255) followed by `c - 1` non-zero data bytes. A block with `c < 255`
//! stands for its data followed by one 0x00, except the last block of the frame, whose implied
//! 0x00 is dropped; a block with `c == 255` has no implied 0x00. An encoder emits a block as soon
//! as it has 254 data bytes, so `n` bytes encode to at most `n + n / 254 + 1` bytes.

/// Why a block of bytes is not valid COBS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CobsError {
    /// A 0x00 byte inside the encoded data (a code byte or a data byte).
    ZeroByte,
    /// A code byte promises more data bytes than the block holds.
    Truncated,
    /// The output buffer is too small for the encoded data.
    OutputTooSmall,
}

/// The largest encoded length (without the 0x00 terminator) of `n` raw bytes.
pub const fn max_encoded_len(n: usize) -> usize {
    n + n / 254 + 1
}

/// COBS-encodes `src` into `dst` (no terminator) and returns the encoded length.
pub fn encode(src: &[u8], dst: &mut [u8]) -> Result<usize, CobsError> {
    let mut code_pos = 0usize;
    let mut out = 1usize;
    let mut code = 1u8;
    // Every index below is checked by `get_mut`: a short `dst` is an error, never a panic.
    for &b in src {
        if b == 0 {
            *dst.get_mut(code_pos).ok_or(CobsError::OutputTooSmall)? = code;
            code_pos = out;
            out += 1;
            code = 1;
        } else {
            *dst.get_mut(out).ok_or(CobsError::OutputTooSmall)? = b;
            out += 1;
            code += 1;
            if code == 0xFF {
                *dst.get_mut(code_pos).ok_or(CobsError::OutputTooSmall)? = code;
                code_pos = out;
                out += 1;
                code = 1;
            }
        }
    }
    *dst.get_mut(code_pos).ok_or(CobsError::OutputTooSmall)? = code;
    Ok(out)
}

/// COBS-encodes, in place, the `len` raw bytes found at `buf[start..start + len]`, writing the
/// encoded bytes from `buf[0]` on, and returns the encoded length.
///
/// Safe (the writes never overtake the unread input) when `start >= 1 + len / 254`, that is
/// `start + len >= max_encoded_len(len)`; otherwise, or when the range is outside `buf`, it
/// returns [`CobsError::OutputTooSmall`] without touching `buf`.
pub fn encode_in_place(buf: &mut [u8], start: usize, len: usize) -> Result<usize, CobsError> {
    let end = start.checked_add(len).ok_or(CobsError::OutputTooSmall)?;
    if end > buf.len() || start < 1 + len / 254 {
        return Err(CobsError::OutputTooSmall);
    }
    let mut code_pos = 0usize;
    let mut out = 1usize;
    let mut code = 1u8;
    for i in start..end {
        // In range: i < end <= buf.len(). With k = i - start bytes read so far,
        // out = 1 + k + (blocks closed at 254 bytes) <= 1 + k + len / 254 <= start + k = i,
        // so writing at `out` or at `code_pos` (< out) never clobbers a byte not yet read.
        let b = buf[i];
        if b == 0 {
            buf[code_pos] = code;
            code_pos = out;
            out += 1;
            code = 1;
        } else {
            buf[out] = b;
            out += 1;
            code += 1;
            if code == 0xFF {
                buf[code_pos] = code;
                code_pos = out;
                out += 1;
                code = 1;
            }
        }
    }
    buf[code_pos] = code;
    Ok(out)
}

/// Decodes one COBS block sequence (without its 0x00 terminator) in place and returns the
/// decoded length; the decoded bytes are `buf[..len]`. Any input gives `Ok` or `Err`, never a
/// panic.
pub fn decode_in_place(buf: &mut [u8]) -> Result<usize, CobsError> {
    let len = buf.len();
    let mut read = 0usize;
    let mut write = 0usize;
    while let Some(&code) = buf.get(read) {
        if code == 0 {
            return Err(CobsError::ZeroByte);
        }
        read += 1;
        let end = read + usize::from(code) - 1;
        if end > len {
            return Err(CobsError::Truncated);
        }
        // write < read always holds (each block's code byte is consumed, not written), so
        // the copy moves bytes towards the start and never overtakes itself.
        while read < end {
            let b = buf.get(read).copied().ok_or(CobsError::Truncated)?;
            if b == 0 {
                return Err(CobsError::ZeroByte);
            }
            if let Some(slot) = buf.get_mut(write) {
                *slot = b;
            }
            write += 1;
            read += 1;
        }
        if code != 0xFF && read < len {
            if let Some(slot) = buf.get_mut(write) {
                *slot = 0;
            }
            write += 1;
        }
    }
    Ok(write)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn roundtrip(data: &[u8]) {
        let mut enc = [0u8; 1200];
        let n = encode(data, &mut enc).unwrap();
        assert!(n <= max_encoded_len(data.len()));
        assert!(!enc[..n].contains(&0), "{data:?} -> {:?}", &enc[..n]);

        // In place, at the tightest allowed start.
        let start = 1 + data.len() / 254;
        let mut inplace = [0xAAu8; 1200];
        inplace[start..start + data.len()].copy_from_slice(data);
        let m = encode_in_place(&mut inplace, start, data.len()).unwrap();
        assert_eq!(&inplace[..m], &enc[..n]);

        let d = decode_in_place(&mut enc[..n]).unwrap();
        assert_eq!(&enc[..d], data);
    }

    #[test]
    fn known_vectors() {
        let cases: &[(&[u8], &[u8])] = &[
            (&[], &[0x01]),
            (&[0x00], &[0x01, 0x01]),
            (&[0x00, 0x00], &[0x01, 0x01, 0x01]),
            (&[0x11, 0x22, 0x00, 0x33], &[0x03, 0x11, 0x22, 0x02, 0x33]),
            (&[0x11, 0x22, 0x33, 0x44], &[0x05, 0x11, 0x22, 0x33, 0x44]),
            (&[0x11, 0x00, 0x00, 0x00], &[0x02, 0x11, 0x01, 0x01, 0x01]),
        ];
        for (raw, encoded) in cases {
            let mut out = [0u8; 16];
            let n = encode(raw, &mut out).unwrap();
            assert_eq!(&out[..n], *encoded);
            roundtrip(raw);
        }
    }

    #[test]
    fn long_runs() {
        for len in [253usize, 254, 255, 508, 509, 1000] {
            let nonzero: std::vec::Vec<u8> = (0..len).map(|i| (i % 255) as u8 + 1).collect();
            roundtrip(&nonzero);
            let mixed: std::vec::Vec<u8> = (0..len).map(|i| (i % 7) as u8).collect();
            roundtrip(&mixed);
        }
    }

    #[test]
    fn invalid_input_is_an_error() {
        assert_eq!(
            decode_in_place(&mut [0x05, 0x11]),
            Err(CobsError::Truncated)
        );
        assert_eq!(decode_in_place(&mut [0x02, 0x00]), Err(CobsError::ZeroByte));
        assert_eq!(decode_in_place(&mut [0x00]), Err(CobsError::ZeroByte));
        assert_eq!(decode_in_place(&mut []), Ok(0));
    }

    #[test]
    fn in_place_refuses_unsafe_start() {
        let mut buf = [1u8; 600];
        assert_eq!(
            encode_in_place(&mut buf, 1, 300),
            Err(CobsError::OutputTooSmall)
        );
        assert_eq!(
            encode_in_place(&mut buf, 2, 599),
            Err(CobsError::OutputTooSmall)
        );
    }
}
