//! Framing: how a [`Header`] and a [`Message`] become bytes on the wire, and back.
//!
//! ```text
//! wire  = COBS( raw ) 0x00
//! raw   = postcard(Header) [postcard(Message) if kind == Data] CRC32_LE(previous bytes)
//! ```
//!
//! [`encode_frame`] / [`encode_control`] write one frame into a caller's buffer. A
//! [`FrameDecoder`] takes bytes as they come from the line, in slices of any size, and yields
//! one `Result<Frame, FrameError>` per 0x00-terminated frame. Whatever the input, it never
//! panics and never needs more memory than its fixed buffer: a bad frame becomes an error and
//! the decoder starts over at the next 0x00.

use core::fmt;

use serde::{Deserialize, Serialize};

use crate::cobs;
use crate::crc::crc32;
use crate::message::Message;

/// Default and largest frame this crate produces or accepts, in bytes on the wire including
/// the terminating 0x00. Every [`Message`] with every field at its maximum fits (tested), and
/// so does a [`Chunk`](crate::Chunk) of [`MAX_CHUNK`](crate::MAX_CHUNK) bytes.
pub const MAX_FRAME: usize = 1152;

/// Smallest `max_frame` a peer may announce: every message except `ModelList`, `Chunk` and
/// `InjectInput` fits in it whatever its contents, and a `ModelList` page with one entry does.
pub const MIN_FRAME: usize = 320;

/// Size of the CRC32 at the end of the raw frame.
pub const CRC_LEN: usize = 4;

/// Longest postcard encoding of a [`Header`]: seq (3) + ack (3) + kind (1) + flags (1).
pub const MAX_HEADER_LEN: usize = 8;

/// Shortest raw frame: a header of 4 bytes (all fields small) and the CRC.
pub const MIN_RAW_LEN: usize = 4 + CRC_LEN;

/// Bytes of a raw `Chunk` frame besides its data, at most: header (8) + discriminant (1) +
/// transfer id (5) + offset (10) + data length (3) + CRC (4).
pub const CHUNK_RAW_OVERHEAD: usize = MAX_HEADER_LEN + 1 + 5 + 10 + 3 + CRC_LEN;

/// Bytes of COBS overhead and terminator [`encode_frame`] reserves in an output buffer of
/// `capacity` bytes: the raw frame must fit in `capacity - frame_reserve(capacity)`.
pub const fn frame_reserve(capacity: usize) -> usize {
    1 + capacity / 254 + 1
}

/// The most data bytes a [`Chunk`](crate::Chunk) can carry so that [`encode_frame`] fits it in
/// `max_frame` bytes, whatever its header, transfer id and offset (0 if none fit). Capped at
/// [`MAX_CHUNK`](crate::MAX_CHUNK).
pub const fn max_chunk_for_frame(max_frame: usize) -> usize {
    let room = max_frame.saturating_sub(frame_reserve(max_frame) + CHUNK_RAW_OVERHEAD);
    if room > crate::MAX_CHUNK {
        crate::MAX_CHUNK
    } else {
        room
    }
}

/// What a frame is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FrameKind {
    /// Carries a [`Message`] and a sequence number; delivered exactly once, in order.
    Data,
    /// Acknowledges every data frame before `ack`; carries no message, `seq` unused (0).
    Ack,
    /// Like `Ack`, and asks the sender to resend from `ack` on at once (a gap or a corrupt
    /// frame was seen).
    Nak,
}

/// Bits of [`Header::flags`]. Unknown bits are kept and ignored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FrameFlags(u8);

impl FrameFlags {
    /// No flag.
    pub const EMPTY: Self = Self(0);
    /// This data frame is the first of a new sequence space: `seq` is the sender's initial
    /// sequence number. Set until that frame is acknowledged.
    pub const RESET: Self = Self(1 << 0);
    /// `ack` is valid. Set on every data frame once the sender has received a data frame
    /// itself; Ack and Nak frames always carry a valid `ack`.
    pub const ACK: Self = Self(1 << 1);

    /// The flags with exactly these bits.
    pub const fn from_bits_retain(bits: u8) -> Self {
        Self(bits)
    }

    /// The bits.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Both sets of flags.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

impl core::ops::BitOr for FrameFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        self.union(rhs)
    }
}

/// The first part of every frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Header {
    /// Sequence number of a data frame (wraps from 65535 to 0); 0 in Ack and Nak frames.
    pub seq: u16,
    /// Cumulative acknowledgement: the sequence number of the next data frame the sender of
    /// this frame expects, i.e. every data frame before it arrived. Valid in Ack and Nak
    /// frames, and in data frames with [`FrameFlags::ACK`].
    pub ack: u16,
    /// What the frame is.
    pub kind: FrameKind,
    /// See [`FrameFlags`].
    pub flags: FrameFlags,
}

impl Header {
    /// A data frame header with no acknowledgement yet (see
    /// [`ReceiverWindow::stamp`](crate::ReceiverWindow::stamp)).
    pub const fn data(seq: u16) -> Self {
        Self {
            seq,
            ack: 0,
            kind: FrameKind::Data,
            flags: FrameFlags::EMPTY,
        }
    }

    /// An Ack frame header acknowledging every data frame before `ack`.
    pub const fn ack(ack: u16) -> Self {
        Self {
            seq: 0,
            ack,
            kind: FrameKind::Ack,
            flags: FrameFlags::ACK,
        }
    }

    /// A Nak frame header: every frame before `expected` arrived, resend from `expected`.
    pub const fn nak(expected: u16) -> Self {
        Self {
            seq: 0,
            ack: expected,
            kind: FrameKind::Nak,
            flags: FrameFlags::ACK,
        }
    }

    /// Whether `ack` carries an acknowledgement.
    pub const fn has_ack(&self) -> bool {
        !matches!(self.kind, FrameKind::Data) || self.flags.contains(FrameFlags::ACK)
    }
}

/// A decoded frame. `message` is `Some` exactly when `header.kind` is [`FrameKind::Data`].
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    /// The header.
    pub header: Header,
    /// The message of a data frame.
    pub message: Option<Message>,
}

/// Why a frame could not be encoded or decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// Encoding: the output buffer is too small for this frame.
    BufferTooSmall,
    /// Encoding: [`encode_frame`] needs a `Data` header, [`encode_control`] an `Ack` or `Nak`.
    KindMismatch,
    /// Encoding: postcard refused the message (not expected with this crate's types).
    Serialize,
    /// Decoding: more bytes than the decoder's buffer before a 0x00; the rest of the frame is
    /// skipped.
    Oversize,
    /// Decoding: not valid COBS.
    Cobs,
    /// Decoding: shorter than a header and a CRC.
    TooShort,
    /// Decoding: the CRC32 does not match (line noise, a lost byte, a frame cut short).
    BadCrc,
    /// Decoding: intact (good CRC) but the header does not decode, or an Ack/Nak carries bytes
    /// after its header.
    Malformed,
    /// Decoding: intact, with a valid data header, but the message does not decode (a message
    /// from another protocol version, or a bug). The link layer should still accept `header`
    /// (so the peer does not resend it forever) and answer `Error { Unsupported }`.
    BadMessage {
        /// The frame's header.
        header: Header,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferTooSmall => f.write_str("frame does not fit in the output buffer"),
            Self::KindMismatch => f.write_str("frame kind does not match the encoder used"),
            Self::Serialize => f.write_str("message could not be serialized"),
            Self::Oversize => f.write_str("frame longer than the receive buffer"),
            Self::Cobs => f.write_str("invalid COBS encoding"),
            Self::TooShort => f.write_str("frame too short"),
            Self::BadCrc => f.write_str("frame CRC mismatch"),
            Self::Malformed => f.write_str("malformed frame header"),
            Self::BadMessage { header } => {
                write!(f, "undecodable message in data frame {}", header.seq)
            }
        }
    }
}

impl core::error::Error for FrameError {}

/// Encodes a data frame carrying `message` into `out` and returns the bytes to write, the
/// final 0x00 included.
///
/// `header.kind` must be [`FrameKind::Data`]. An `out` of the peer's `max_frame` bytes makes a
/// frame the peer can receive: `BufferTooSmall` means the message is too big for it. The
/// encoder works in place and reserves [`frame_reserve`] bytes, so it may refuse a frame that
/// would fill `out` to the last byte or two.
pub fn encode_frame<'a>(
    header: &Header,
    message: &Message,
    out: &'a mut [u8],
) -> Result<&'a [u8], FrameError> {
    if header.kind != FrameKind::Data {
        return Err(FrameError::KindMismatch);
    }
    encode_raw(header, Some(message), out)
}

/// Encodes an Ack or Nak frame (header only) into `out` and returns the bytes to write, the
/// final 0x00 included. 14 bytes are always enough.
pub fn encode_control<'a>(header: &Header, out: &'a mut [u8]) -> Result<&'a [u8], FrameError> {
    if header.kind == FrameKind::Data {
        return Err(FrameError::KindMismatch);
    }
    encode_raw(header, None, out)
}

fn ser_error(e: postcard::Error) -> FrameError {
    match e {
        postcard::Error::SerializeBufferFull => FrameError::BufferTooSmall,
        _ => FrameError::Serialize,
    }
}

fn encode_raw<'a>(
    header: &Header,
    message: Option<&Message>,
    out: &'a mut [u8],
) -> Result<&'a [u8], FrameError> {
    // Layout while encoding: the raw frame is serialized at out[start..], then COBS-encoded in
    // place towards out[0]; `start` is enough COBS overhead for any raw frame that fits.
    let capacity = out.len();
    let start = capacity / 254 + 1;
    let body_end = capacity
        .checked_sub(CRC_LEN + 1)
        .filter(|&end| end > start)
        .ok_or(FrameError::BufferTooSmall)?;
    let body = out
        .get_mut(start..body_end)
        .ok_or(FrameError::BufferTooSmall)?;
    let header_len = postcard::to_slice(header, body).map_err(ser_error)?.len();
    let message_len = match message {
        Some(m) => {
            let rest = body
                .get_mut(header_len..)
                .ok_or(FrameError::BufferTooSmall)?;
            postcard::to_slice(m, rest).map_err(ser_error)?.len()
        }
        None => 0,
    };
    let len = header_len + message_len;
    let crc = crc32(body.get(..len).ok_or(FrameError::BufferTooSmall)?);
    let crc_at = start + len;
    out.get_mut(crc_at..crc_at + CRC_LEN)
        .ok_or(FrameError::BufferTooSmall)?
        .copy_from_slice(&crc.to_le_bytes());
    let encoded =
        cobs::encode_in_place(out, start, len + CRC_LEN).map_err(|_| FrameError::BufferTooSmall)?;
    *out.get_mut(encoded).ok_or(FrameError::BufferTooSmall)? = 0;
    out.get(..=encoded).ok_or(FrameError::BufferTooSmall)
}

/// Decodes one frame from its COBS bytes (without the 0x00 terminator), in place: `encoded`
/// is overwritten. Any input gives `Ok` or `Err`, never a panic.
pub fn decode_frame(encoded: &mut [u8]) -> Result<Frame, FrameError> {
    let len = cobs::decode_in_place(encoded).map_err(|_| FrameError::Cobs)?;
    let raw = encoded.get(..len).ok_or(FrameError::Cobs)?;
    if raw.len() < MIN_RAW_LEN {
        return Err(FrameError::TooShort);
    }
    let (body, crc_bytes) = raw.split_at(raw.len() - CRC_LEN);
    let mut crc = [0u8; CRC_LEN];
    crc.copy_from_slice(crc_bytes);
    if crc32(body) != u32::from_le_bytes(crc) {
        return Err(FrameError::BadCrc);
    }
    let (header, rest) =
        postcard::take_from_bytes::<Header>(body).map_err(|_| FrameError::Malformed)?;
    match header.kind {
        FrameKind::Data => match postcard::take_from_bytes::<Message>(rest) {
            Ok((message, [])) => Ok(Frame {
                header,
                message: Some(message),
            }),
            _ => Err(FrameError::BadMessage { header }),
        },
        FrameKind::Ack | FrameKind::Nak if rest.is_empty() => Ok(Frame {
            header,
            message: None,
        }),
        FrameKind::Ack | FrameKind::Nak => Err(FrameError::Malformed),
    }
}

/// Splits a byte stream into frames and decodes them, with a fixed buffer of `N` bytes (the
/// longest frame it takes, terminator excluded; the default fits [`MAX_FRAME`]).
///
/// ```
/// use sentio_link::{encode_frame, FrameDecoder, Header, Message, MAX_FRAME};
///
/// let mut out = [0u8; MAX_FRAME];
/// let wire = encode_frame(&Header::data(7), &Message::Ping { nonce: 42 }, &mut out).unwrap();
///
/// let mut decoder: FrameDecoder = FrameDecoder::new();
/// let mut frames = decoder.feed(wire);
/// let frame = frames.next().unwrap().unwrap();
/// assert_eq!(frame.header.seq, 7);
/// assert_eq!(frame.message, Some(Message::Ping { nonce: 42 }));
/// assert!(frames.next().is_none());
/// ```
#[derive(Clone, Debug)]
pub struct FrameDecoder<const N: usize = { MAX_FRAME - 1 }> {
    buf: [u8; N],
    len: usize,
    skipping: bool,
}

impl<const N: usize> FrameDecoder<N> {
    /// An empty decoder.
    pub const fn new() -> Self {
        Self {
            buf: [0; N],
            len: 0,
            skipping: false,
        }
    }

    /// Forgets any partial frame.
    pub fn reset(&mut self) {
        self.len = 0;
        self.skipping = false;
    }

    /// Bytes of a partial frame held.
    pub const fn buffered(&self) -> usize {
        self.len
    }

    /// Takes one byte; returns a frame, or an error, when `byte` ends one.
    ///
    /// Empty frames (0x00 right after 0x00) are skipped silently: a sender may send a 0x00
    /// first to end whatever noise the receiver has buffered. An oversize frame is reported
    /// once, when the buffer overflows; its remaining bytes up to the next 0x00 are dropped.
    pub fn push(&mut self, byte: u8) -> Option<Result<Frame, FrameError>> {
        if byte == 0 {
            let len = self.len;
            let skipped = self.skipping;
            self.reset();
            if skipped || len == 0 {
                return None;
            }
            return Some(match self.buf.get_mut(..len) {
                Some(encoded) => decode_frame(encoded),
                None => Err(FrameError::Oversize),
            });
        }
        if self.skipping {
            return None;
        }
        match self.buf.get_mut(self.len) {
            Some(slot) => {
                *slot = byte;
                self.len += 1;
                None
            }
            None => {
                self.len = 0;
                self.skipping = true;
                Some(Err(FrameError::Oversize))
            }
        }
    }

    /// Takes a slice of bytes; iterate the result to get every frame it completes.
    ///
    /// Bytes are consumed only as the iterator advances: drive it to `None` (a `for` loop
    /// does), or hand [`Frames::remaining`] back to `feed` later.
    pub fn feed<'d, 'a>(&'d mut self, bytes: &'a [u8]) -> Frames<'d, 'a, N> {
        Frames {
            decoder: self,
            input: bytes,
        }
    }
}

impl<const N: usize> Default for FrameDecoder<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// The frames completed by a slice given to [`FrameDecoder::feed`].
#[derive(Debug)]
pub struct Frames<'d, 'a, const N: usize> {
    decoder: &'d mut FrameDecoder<N>,
    input: &'a [u8],
}

impl<'a, const N: usize> Frames<'_, 'a, N> {
    /// Bytes not consumed yet.
    pub fn remaining(&self) -> &'a [u8] {
        self.input
    }
}

impl<const N: usize> Iterator for Frames<'_, '_, N> {
    type Item = Result<Frame, FrameError>;

    fn next(&mut self) -> Option<Self::Item> {
        while let Some((&byte, rest)) = self.input.split_first() {
            self.input = rest;
            if let Some(result) = self.decoder.push(byte) {
                return Some(result);
            }
        }
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn control_frames() {
        let mut out = [0u8; 12];
        let wire = encode_control(&Header::nak(0xFFFF), &mut out).unwrap();
        assert_eq!(*wire.last().unwrap(), 0);
        let mut d: FrameDecoder = FrameDecoder::new();
        let frame = d.push_all(wire).unwrap();
        assert_eq!(frame.header, Header::nak(0xFFFF));
        assert_eq!(frame.message, None);
    }

    #[test]
    fn kind_mismatch() {
        let mut out = [0u8; 64];
        assert_eq!(
            encode_frame(&Header::ack(1), &Message::Done, &mut out),
            Err(FrameError::KindMismatch)
        );
        assert_eq!(
            encode_control(&Header::data(1), &mut out),
            Err(FrameError::KindMismatch)
        );
    }

    #[test]
    fn small_buffers_are_errors() {
        for cap in 0..12 {
            let mut out = std::vec![0u8; cap];
            let r = encode_frame(&Header::data(1), &Message::Done, &mut out);
            if let Ok(wire) = r {
                assert!(wire.len() <= cap);
            } else {
                assert_eq!(r, Err(FrameError::BufferTooSmall));
            }
        }
    }

    impl<const N: usize> FrameDecoder<N> {
        fn push_all(&mut self, bytes: &[u8]) -> Option<Frame> {
            let mut last = None;
            for r in self.feed(bytes) {
                last = Some(r.unwrap());
            }
            last
        }
    }
}
