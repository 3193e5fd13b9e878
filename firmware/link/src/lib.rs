//! The serial link between the Sentio host tool and a Sentio device, as pure code.
//!
//! Both ends build on this crate, so they cannot drift apart: the [`Message`]s they exchange,
//! how a message becomes bytes on the wire ([`encode_frame`], [`FrameDecoder`]: postcard, a
//! CRC32, COBS, a 0x00 terminator), how frames are made reliable ([`SenderWindow`],
//! [`ReceiverWindow`], [`Endpoint`]: go-back-N with cumulative acks, Naks and retransmit
//! timeouts), and how a file is uploaded in resumable chunks ([`UploadState`] on the host,
//! [`DownloadState`] on the device). `docs/protocol.md` describes the same byte by byte, for
//! a client in another language.
//!
//! What this crate must not do: I/O, clocks, allocation, or panicking on any byte received.
//! Time is a `u64` of milliseconds passed in by the caller; buffers are the caller's or fixed
//! (heapless); it is `no_std` and builds for `thumbv7em-none-eabihf`. The serial port, the
//! model store and the user interface live in `sentio-flash` (host) and `sentiod` (device).
//!
//! A session, from the host's side:
//!
//! 1. `Endpoint::new(WindowConfig::for_line(baud, MAX_FRAME, DEFAULT_WINDOW), isn)`, push
//!    `Message::Hello(Hello { protocol_version: PROTOCOL_VERSION, host_max_frame, nonce })`.
//! 2. The device answers `HelloReply` (same nonce) with its [`DeviceInfo`], or
//!    `Error { code: VersionMismatch { host, device } }`. [`Limits::negotiate`] gives the frame
//!    size, chunk length and window to use.
//! 3. Requests, one reply each, in order; e.g. `BeginTransfer` then chunks driven by
//!    [`UploadState`], `Commit`, `Activate`.
#![cfg_attr(not(test), no_std)]
#![warn(missing_docs)]

pub mod cobs;
pub mod crc;
pub mod frame;
mod limits;
pub mod message;
pub mod schema;
pub mod transfer;
pub mod window;

pub use frame::{
    CHUNK_RAW_OVERHEAD, CRC_LEN, Frame, FrameDecoder, FrameError, FrameFlags, FrameKind, Frames,
    Header, MAX_FRAME, MAX_HEADER_LEN, MIN_FRAME, decode_frame, encode_control, encode_frame,
    frame_reserve, max_chunk_for_frame,
};
pub use limits::Negotiated;
pub use message::{
    BeginTransfer, Capabilities, Chunk, DeviceInfo, Direction, ErrorCode, Event, Hello, HelloReply,
    InjectInput, InputStream, Limits, MAX_BOARD_LEN, MAX_CHUNK, MAX_EVENT_VALUES, MAX_LABEL_LEN,
    MAX_LISTED_MODELS, MAX_NAME_LEN, MAX_SERIAL_LEN, MAX_STAT_NAME_LEN, MAX_STATS, MAX_TOPIC_LEN,
    MAX_VERSION_LEN, Message, ModelInfo, ModelList, ModelName, Sha256, Slot, Stat, Stats,
    TransferKind, check_version, model_name, validate_model_name,
};
pub use schema::{PROTOCOL_VERSION, SCHEMA_HASH};
pub use transfer::{
    BeginOutcome, ChunkPlan, ChunkSink, DownloadError, DownloadState, UploadError, UploadState,
};
pub use window::{
    AckOutcome, DEFAULT_WINDOW, Endpoint, LinkError, MAX_WINDOW, ReceiverWindow, SenderWindow,
    Transmit, Verdict, WindowConfig,
};
