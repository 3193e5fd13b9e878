//! The messages host and device exchange, one [`Message`] per data frame.
//!
//! Every type here is serialized with postcard (see `docs/protocol.md` for the bytes). Strings
//! and lists are heapless with their capacity in a `MAX_*` constant, so a message never
//! allocates and its largest encoding is known; a peer that sends a longer string or list gets
//! its frame refused as undecodable, it cannot overflow anything.
//!
//! The order of the variants of every enum is part of the wire format (postcard encodes a
//! variant as its index). Add new variants at the end only, and bump
//! [`PROTOCOL_VERSION`](crate::PROTOCOL_VERSION) whenever an encoding changes (see
//! [`crate::schema`]).

use core::fmt;

use heapless::{String, Vec};
use serde::{Deserialize, Serialize};

/// Longest model name, in bytes.
pub const MAX_NAME_LEN: usize = 32;
/// Longest model or firmware version string, in bytes.
pub const MAX_VERSION_LEN: usize = 16;
/// Longest board name, in bytes.
pub const MAX_BOARD_LEN: usize = 32;
/// Longest device serial number, in bytes.
pub const MAX_SERIAL_LEN: usize = 32;
/// Most data bytes in one [`Chunk`] or [`InjectInput`]. Devices may ask for less
/// ([`Limits::max_chunk`]).
pub const MAX_CHUNK: usize = 1024;
/// Most entries in one [`ModelList`] page.
pub const MAX_LISTED_MODELS: usize = 8;
/// Longest [`Event::topic`], in bytes.
pub const MAX_TOPIC_LEN: usize = 16;
/// Longest [`Event::label`], in bytes.
pub const MAX_LABEL_LEN: usize = 32;
/// Most values in one [`Event`].
pub const MAX_EVENT_VALUES: usize = 16;
/// Most entries in one [`Stats`] report.
pub const MAX_STATS: usize = 12;
/// Longest [`Stat::name`], in bytes.
pub const MAX_STAT_NAME_LEN: usize = 16;

/// A model name: 1 to [`MAX_NAME_LEN`] bytes of `A-Z a-z 0-9 . _ -`, starting with a letter or
/// a digit (so it is a safe file name on any store). Build one with [`model_name`].
pub type ModelName = String<MAX_NAME_LEN>;

/// A SHA-256 digest, in the order the hash function outputs it.
pub type Sha256 = [u8; 32];

/// Checks a model name against the rule of [`ModelName`].
pub fn validate_model_name(name: &str) -> Result<(), ErrorCode> {
    let bytes = name.as_bytes();
    let first_ok = bytes.first().is_some_and(u8::is_ascii_alphanumeric);
    let rest_ok = bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if first_ok && rest_ok && bytes.len() <= MAX_NAME_LEN {
        Ok(())
    } else {
        Err(ErrorCode::BadName)
    }
}

/// Builds a [`ModelName`], refusing names that break its rule with [`ErrorCode::BadName`].
pub fn model_name(name: &str) -> Result<ModelName, ErrorCode> {
    validate_model_name(name)?;
    ModelName::try_from(name).map_err(|_| ErrorCode::BadName)
}

/// Opening message of a session, host to device. Sent in the first frame of the host's
/// sequence space (flag [`FrameFlags::RESET`](crate::FrameFlags::RESET)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// The host's [`PROTOCOL_VERSION`](crate::PROTOCOL_VERSION).
    pub protocol_version: u16,
    /// Largest frame, in bytes on the wire with its 0x00, the host can receive.
    pub host_max_frame: u16,
    /// Chosen by the host, echoed in [`HelloReply::nonce`]: a reply to an older Hello is stale.
    pub nonce: u32,
}

/// The device's answer to a [`Hello`] it accepts. A version mismatch is answered with
/// [`Message::Error`] carrying [`ErrorCode::VersionMismatch`] instead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelloReply {
    /// The device's [`PROTOCOL_VERSION`](crate::PROTOCOL_VERSION) (equal to the host's).
    pub protocol_version: u16,
    /// [`Hello::nonce`] of the Hello this answers.
    pub nonce: u32,
    /// Who the device is and what it can do.
    pub device: DeviceInfo,
}

/// Identity, features and limits of a device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// Board profile name, e.g. `rpi4`, `jetson-nano`, `sim`.
    pub board: String<MAX_BOARD_LEN>,
    /// Version of `sentiod`.
    pub firmware_version: String<MAX_VERSION_LEN>,
    /// Unique per board (CPU serial, MAC address, ...).
    pub serial_number: String<MAX_SERIAL_LEN>,
    /// What the device implements.
    pub capabilities: Capabilities,
    /// What the device can take.
    pub limits: Limits,
}

/// A set of optional features of a device, as bits of a `u32` (unknown bits are kept, so a
/// newer device's bits survive a round trip through an older host).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Capabilities(u32);

impl Capabilities {
    /// No capability.
    pub const NONE: Self = Self(0);
    /// A model store: list, inspect, transfer, activate, roll back, delete.
    pub const MODELS: Self = Self(1 << 0);
    /// Pushes [`Event`]s when subscribed.
    pub const EVENTS: Self = Self(1 << 1);
    /// Pushes [`Stats`] when subscribed.
    pub const STATS: Self = Self(1 << 2);
    /// Accepts [`InjectInput`] (hardware-in-the-loop).
    pub const INPUT_INJECTION: Self = Self(1 << 3);
    /// Checks bundle signatures (has a public key configured).
    pub const SIGNATURES: Self = Self(1 << 4);
    /// Keeps partial transfers and resumes them ([`Message::TransferAccepted`] may carry a
    /// non-zero `resume_offset`).
    pub const RESUME: Self = Self(1 << 5);

    /// The set with exactly these bits, known or not.
    pub const fn from_bits_retain(bits: u32) -> Self {
        Self(bits)
    }

    /// The bits of the set.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether every capability of `other` is in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Both sets together.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

impl core::ops::BitOr for Capabilities {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        self.union(rhs)
    }
}

/// What a device can take; the host must stay within these (see
/// [`Limits::negotiate`](crate::Limits::negotiate)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest frame, in bytes on the wire with its 0x00, the device can receive.
    pub max_frame: u16,
    /// Most data bytes per [`Chunk`].
    pub max_chunk: u16,
    /// Most data frames (and chunks) the host may have unacknowledged.
    pub window: u16,
    /// Bytes the model store can hold in total.
    pub store_quota_bytes: u64,
}

/// One of the two slots a model name has in the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Slot {
    /// The version the device runs.
    Active,
    /// The other slot: the version before the active one (the target of [`Message::Rollback`]),
    /// or a committed upload waiting for [`Message::Activate`].
    Previous,
}

/// One stored model version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Model name (the key in the store).
    pub name: ModelName,
    /// Version from the model's manifest.
    pub version: String<MAX_VERSION_LEN>,
    /// SHA-256 of the stored file.
    pub sha256: Sha256,
    /// Size of the stored file in bytes.
    pub size: u64,
    /// Which slot this is.
    pub slot: Slot,
    /// Whether the device checked the hash (and the signature, when it has a key) after
    /// writing. Only verified versions can be active.
    pub verified: bool,
}

/// A page of the store's contents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelList {
    /// Index of `models[0]` in the device's list (the `start` of the request).
    pub start: u16,
    /// Entries in the whole list: ask again with `start + models.len()` while it is below this.
    pub total: u16,
    /// One entry per stored (name, slot). A device puts in as many as fit in the host's frame.
    pub models: Vec<ModelInfo, MAX_LISTED_MODELS>,
}

/// What a transfer carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TransferKind {
    /// A bare model file (ONNX).
    Model,
    /// A bundle: manifest + model (+ calibration set), optionally signed.
    Bundle,
}

/// Request to upload a file into the store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeginTransfer {
    /// Model name to store it under.
    pub name: ModelName,
    /// Total size in bytes.
    pub size: u64,
    /// SHA-256 of the whole file: the key for skipping and resuming, checked at commit.
    pub sha256: Sha256,
    /// Whether the file carries a signature.
    pub signed: bool,
    /// What the file is.
    pub kind: TransferKind,
}

/// A piece of an upload: `data` belongs at byte `offset` of the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    /// From [`Message::TransferAccepted`].
    pub transfer_id: u32,
    /// Where `data` starts in the file; must equal the bytes the device has so far.
    pub offset: u64,
    /// Up to the negotiated chunk length (at most [`MAX_CHUNK`]).
    pub data: Vec<u8, MAX_CHUNK>,
}

impl Chunk {
    /// A chunk holding a copy of `data`, or `None` when `data` is longer than [`MAX_CHUNK`].
    pub fn new(transfer_id: u32, offset: u64, data: &[u8]) -> Option<Self> {
        Some(Self {
            transfer_id,
            offset,
            data: Vec::from_slice(data).ok()?,
        })
    }
}

/// Something the device noticed, pushed to a subscribed host. Generic on purpose:
/// `topic = "mood", label = "happy", values = fused scores`;
/// `topic = "track", label = track title`; `topic = "model", label = "fer:loaded"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Device uptime in milliseconds.
    pub at_ms: u64,
    /// What kind of event (`mood`, `track`, `model`, ...).
    pub topic: String<MAX_TOPIC_LEN>,
    /// The new state.
    pub label: String<MAX_LABEL_LEN>,
    /// Numbers that go with it (scores, confidence, ...), in an order fixed per topic.
    pub values: Vec<f32, MAX_EVENT_VALUES>,
}

/// One named figure of a [`Stats`] report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    /// E.g. `fps`, `face_ms`, `fer_ms`, `ser_ms`, `display_ms`.
    pub name: String<MAX_STAT_NAME_LEN>,
    /// The value, in the unit its name says.
    pub value: f32,
}

/// Periodic figures (throughput, per-stage timings), pushed to a subscribed host.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Device uptime in milliseconds.
    pub at_ms: u64,
    /// The figures.
    pub entries: Vec<Stat, MAX_STATS>,
}

/// Which input of the pipeline an [`InjectInput`] feeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InputStream {
    /// Camera frames.
    Camera,
    /// Microphone samples.
    Audio,
}

/// A piece of recorded input for hardware-in-the-loop tests (reserved: the format of `data`
/// per stream is defined with the HIL runner).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InjectInput {
    /// The input it replaces.
    pub stream: InputStream,
    /// Counts pieces of one stream from 0, so the device can spot a missing one.
    pub seq: u32,
    /// The last piece of a camera frame or audio clip.
    pub last: bool,
    /// The bytes.
    pub data: Vec<u8, MAX_CHUNK>,
}

/// Everything a host must be able to explain to a user when the device refuses a request.
///
/// [`ErrorCode::VersionMismatch`] is variant 0 forever, so every version of the protocol can
/// decode it (see `docs/protocol.md`, "Frozen bytes").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorCode {
    /// Host and device speak different protocol versions.
    VersionMismatch {
        /// The host's version (from [`Hello`]).
        host: u16,
        /// The device's version.
        device: u16,
    },
    /// A request before the session's [`Hello`].
    HandshakeRequired,
    /// A message the device does not understand, cannot receive (a device-to-host message),
    /// or has no capability for.
    Unsupported,
    /// Another transfer is in progress, or the store is busy.
    Busy,
    /// The store has no room for the file.
    QuotaExceeded {
        /// Bytes the transfer needs.
        needed: u64,
        /// Bytes the store has free (after dropping what it may drop).
        available: u64,
    },
    /// The model name breaks the [`ModelName`] rule.
    BadName,
    /// No model by that name in the store.
    UnknownModel,
    /// The file's SHA-256 is not the one announced in [`BeginTransfer`].
    HashMismatch,
    /// The bundle's signature does not verify against the device's key.
    BadSignature,
    /// The device has a public key and the bundle is not signed.
    UnsignedRefused,
    /// A chunk did not start where the device expected.
    OutOfOrder {
        /// The offset the device expected (the bytes it has).
        expected: u64,
    },
    /// A chunk would go past the announced size.
    BeyondEnd {
        /// The announced size.
        size: u64,
    },
    /// Commit before every byte arrived.
    Incomplete {
        /// Bytes the device has.
        received: u64,
        /// Announced size.
        size: u64,
    },
    /// No transfer with that id (never begun, aborted, or lost to a reboot).
    UnknownTransfer,
    /// Activate of a version that was not verified.
    NotVerified,
    /// Rollback with nothing in the previous slot.
    NothingToRollBack,
    /// A frame bigger than the device's [`Limits::max_frame`].
    FrameTooLarge,
    /// The device could not write or read its storage.
    Storage,
    /// A bug or an unexpected state on the device.
    Internal,
}

impl ErrorCode {
    /// A hint for the user, one sentence, to print under the error.
    pub const fn help(&self) -> &'static str {
        match self {
            Self::VersionMismatch { .. } => {
                "update the older side so that host tool and device firmware speak the same protocol version"
            }
            Self::HandshakeRequired => "reconnect: the device restarted or lost the session",
            Self::Unsupported => {
                "the device firmware does not support this; check `sentio info` for its capabilities"
            }
            Self::Busy => "wait for the other transfer to finish, or abort it",
            Self::QuotaExceeded { .. } => {
                "delete models you do not need (`sentio` can list them) or flash a smaller model"
            }
            Self::BadName => {
                "use 1 to 32 characters of A-Z a-z 0-9 . _ - starting with a letter or digit"
            }
            Self::UnknownModel => "list the device's models to see the names it has",
            Self::HashMismatch => "the file was corrupted on the way; flash it again",
            Self::BadSignature => {
                "the bundle was altered or signed with another key; re-pack and sign it"
            }
            Self::UnsignedRefused => "this device only takes signed bundles; sign it first",
            Self::OutOfOrder { .. } => "the transfer lost its place; flashing again resumes it",
            Self::BeyondEnd { .. } => "the host sent more bytes than announced; flash it again",
            Self::Incomplete { .. } => "the transfer was cut short; flashing again resumes it",
            Self::UnknownTransfer => {
                "the device forgot the transfer (reboot or abort); flash it again"
            }
            Self::NotVerified => "only a verified model can be activated; flash it again",
            Self::NothingToRollBack => "there is no previous version of this model on the device",
            Self::FrameTooLarge => {
                "the host ignored the device's frame limit; update the host tool"
            }
            Self::Storage => "the device's storage failed; check its disk or SD card",
            Self::Internal => "the device hit an internal error; its log says more",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::VersionMismatch { host, device } => write!(
                f,
                "protocol version mismatch: host speaks version {host}, device speaks version {device}"
            ),
            Self::HandshakeRequired => f.write_str("the device expected a handshake first"),
            Self::Unsupported => f.write_str("the device does not support this request"),
            Self::Busy => f.write_str("the device is busy"),
            Self::QuotaExceeded { needed, available } => write!(
                f,
                "not enough room on the device: {needed} bytes needed, {available} bytes free"
            ),
            Self::BadName => f.write_str("invalid model name"),
            Self::UnknownModel => f.write_str("no model by that name on the device"),
            Self::HashMismatch => f.write_str("SHA-256 of the received file does not match"),
            Self::BadSignature => f.write_str("bad bundle signature"),
            Self::UnsignedRefused => f.write_str("the device refuses unsigned bundles"),
            Self::OutOfOrder { expected } => {
                write!(f, "chunk out of order: device expected offset {expected}")
            }
            Self::BeyondEnd { size } => {
                write!(f, "chunk goes past the announced size of {size} bytes")
            }
            Self::Incomplete { received, size } => {
                write!(
                    f,
                    "transfer incomplete: {received} of {size} bytes received"
                )
            }
            Self::UnknownTransfer => f.write_str("unknown transfer"),
            Self::NotVerified => f.write_str("model not verified"),
            Self::NothingToRollBack => f.write_str("no previous version to roll back to"),
            Self::FrameTooLarge => f.write_str("frame too large for the device"),
            Self::Storage => f.write_str("storage error on the device"),
            Self::Internal => f.write_str("internal error on the device"),
        }
    }
}

impl core::error::Error for ErrorCode {}

/// Which way a message travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Sent by the host; the device answers each with exactly one reply.
    HostToDevice,
    /// Sent by the device: replies, in request order, and pushes ([`Message::Event`],
    /// [`Message::Stats`]).
    DeviceToHost,
}

/// One message: the body of a data frame.
///
/// Requests (host to device) are answered with exactly one reply each, in the order of the
/// requests; the reliable link keeps that order, so a host matches replies to requests by
/// counting. [`Message::Event`] and [`Message::Stats`] are pushed between replies.
///
/// The variant order is the wire discriminant; see [`Message::VARIANT_NAMES`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Message {
    /// Host opens a session. Reply: `HelloReply`, or `Error { VersionMismatch }`.
    Hello(Hello),
    /// Device accepts the session.
    HelloReply(HelloReply),
    /// Device refuses a request.
    Error {
        /// Why.
        code: ErrorCode,
    },
    /// The device did what was asked, for requests with no other answer (delete, activate,
    /// rollback, abort, reboot, subscribe, inject).
    Done,
    /// Liveness check. Reply: `Pong` with the same nonce.
    Ping {
        /// Any value.
        nonce: u32,
    },
    /// Reply to `Ping`.
    Pong {
        /// The ping's nonce.
        nonce: u32,
    },
    /// List the store, from entry `start`. Reply: `ModelList`.
    ListModels {
        /// Index of the first entry wanted.
        start: u16,
    },
    /// A page of the store.
    ModelList(ModelList),
    /// Describe one stored version. Reply: `ModelInfo`, or `Error { UnknownModel }`.
    InspectModel {
        /// Model name.
        name: ModelName,
        /// Which of its versions.
        slot: Slot,
    },
    /// Reply to `InspectModel`.
    ModelInfo(ModelInfo),
    /// Remove both versions of a model. Reply: `Done`.
    DeleteModel {
        /// Model name.
        name: ModelName,
    },
    /// Make the verified version in the `Previous` slot (a fresh commit) the active one; the
    /// formerly active version becomes `Previous`. Reply: `Done`, or `Error { NotVerified }`.
    Activate {
        /// Model name.
        name: ModelName,
    },
    /// Swap back to the previous version. Reply: `Done`, or `Error { NothingToRollBack }`.
    Rollback {
        /// Model name.
        name: ModelName,
    },
    /// Start (or resume) an upload. Reply: `TransferAccepted`, `TransferSkipped`, or an error.
    BeginTransfer(BeginTransfer),
    /// The device takes the upload; send chunks from `resume_offset`.
    TransferAccepted {
        /// Names the transfer in `Chunk`, `Commit`, `Abort`.
        transfer_id: u32,
        /// Bytes the device already has (from an interrupted transfer of the same sha256).
        resume_offset: u64,
    },
    /// The device already runs a verified file with this sha256: nothing to send.
    TransferSkipped,
    /// Upload data. Reply: `ChunkAck`, or an error (`OutOfOrder`, `BeyondEnd`, ...).
    Chunk(Chunk),
    /// The device stored the chunk.
    ChunkAck {
        /// The chunk's transfer.
        transfer_id: u32,
        /// Bytes of the file the device now has, i.e. the offset of the next chunk.
        received: u64,
    },
    /// Every byte is sent: verify and store. Reply: `Committed`, or an error (`HashMismatch`,
    /// `BadSignature`, `UnsignedRefused`, `Incomplete`).
    Commit {
        /// The transfer.
        transfer_id: u32,
    },
    /// The file is stored in the `Previous` slot of its name; `Activate` makes it active.
    Committed {
        /// Whether the device verified it (always true for a device that follows the rules;
        /// kept explicit for the host's report).
        verified: bool,
    },
    /// Give up a transfer and drop what was received. Reply: `Done`.
    Abort {
        /// The transfer.
        transfer_id: u32,
    },
    /// Restart the device after replying `Done`.
    Reboot,
    /// Choose which pushes the device sends. Reply: `Done`.
    SubscribeEvents {
        /// Send `Event`s.
        events: bool,
        /// Send `Stats`.
        stats: bool,
    },
    /// Pushed by the device when subscribed.
    Event(Event),
    /// Pushed by the device when subscribed.
    Stats(Stats),
    /// Hardware-in-the-loop input (reserved). Reply: `Done`.
    InjectInput(InjectInput),
}

impl Message {
    /// Names of the variants in wire order: `VARIANT_NAMES[i]` is the variant whose postcard
    /// discriminant is `i`.
    pub const VARIANT_NAMES: [&'static str; 26] = [
        "Hello",
        "HelloReply",
        "Error",
        "Done",
        "Ping",
        "Pong",
        "ListModels",
        "ModelList",
        "InspectModel",
        "ModelInfo",
        "DeleteModel",
        "Activate",
        "Rollback",
        "BeginTransfer",
        "TransferAccepted",
        "TransferSkipped",
        "Chunk",
        "ChunkAck",
        "Commit",
        "Committed",
        "Abort",
        "Reboot",
        "SubscribeEvents",
        "Event",
        "Stats",
        "InjectInput",
    ];

    /// The postcard discriminant of this variant (its index in [`Message::VARIANT_NAMES`]).
    pub const fn discriminant(&self) -> u8 {
        match self {
            Self::Hello(_) => 0,
            Self::HelloReply(_) => 1,
            Self::Error { .. } => 2,
            Self::Done => 3,
            Self::Ping { .. } => 4,
            Self::Pong { .. } => 5,
            Self::ListModels { .. } => 6,
            Self::ModelList(_) => 7,
            Self::InspectModel { .. } => 8,
            Self::ModelInfo(_) => 9,
            Self::DeleteModel { .. } => 10,
            Self::Activate { .. } => 11,
            Self::Rollback { .. } => 12,
            Self::BeginTransfer(_) => 13,
            Self::TransferAccepted { .. } => 14,
            Self::TransferSkipped => 15,
            Self::Chunk(_) => 16,
            Self::ChunkAck { .. } => 17,
            Self::Commit { .. } => 18,
            Self::Committed { .. } => 19,
            Self::Abort { .. } => 20,
            Self::Reboot => 21,
            Self::SubscribeEvents { .. } => 22,
            Self::Event(_) => 23,
            Self::Stats(_) => 24,
            Self::InjectInput(_) => 25,
        }
    }

    /// The variant's name, for logs (equal to `VARIANT_NAMES[self.discriminant()]`).
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Hello(_) => "Hello",
            Self::HelloReply(_) => "HelloReply",
            Self::Error { .. } => "Error",
            Self::Done => "Done",
            Self::Ping { .. } => "Ping",
            Self::Pong { .. } => "Pong",
            Self::ListModels { .. } => "ListModels",
            Self::ModelList(_) => "ModelList",
            Self::InspectModel { .. } => "InspectModel",
            Self::ModelInfo(_) => "ModelInfo",
            Self::DeleteModel { .. } => "DeleteModel",
            Self::Activate { .. } => "Activate",
            Self::Rollback { .. } => "Rollback",
            Self::BeginTransfer(_) => "BeginTransfer",
            Self::TransferAccepted { .. } => "TransferAccepted",
            Self::TransferSkipped => "TransferSkipped",
            Self::Chunk(_) => "Chunk",
            Self::ChunkAck { .. } => "ChunkAck",
            Self::Commit { .. } => "Commit",
            Self::Committed { .. } => "Committed",
            Self::Abort { .. } => "Abort",
            Self::Reboot => "Reboot",
            Self::SubscribeEvents { .. } => "SubscribeEvents",
            Self::Event(_) => "Event",
            Self::Stats(_) => "Stats",
            Self::InjectInput(_) => "InjectInput",
        }
    }

    /// Which way this message travels; a device answers a device-to-host message with
    /// `Error { Unsupported }`.
    pub const fn direction(&self) -> Direction {
        match self {
            Self::Hello(_)
            | Self::Ping { .. }
            | Self::ListModels { .. }
            | Self::InspectModel { .. }
            | Self::DeleteModel { .. }
            | Self::Activate { .. }
            | Self::Rollback { .. }
            | Self::BeginTransfer(_)
            | Self::Chunk(_)
            | Self::Commit { .. }
            | Self::Abort { .. }
            | Self::Reboot
            | Self::SubscribeEvents { .. }
            | Self::InjectInput(_) => Direction::HostToDevice,
            Self::HelloReply(_)
            | Self::Error { .. }
            | Self::Done
            | Self::Pong { .. }
            | Self::ModelList(_)
            | Self::ModelInfo(_)
            | Self::TransferAccepted { .. }
            | Self::TransferSkipped
            | Self::ChunkAck { .. }
            | Self::Committed { .. }
            | Self::Event(_)
            | Self::Stats(_) => Direction::DeviceToHost,
        }
    }
}

/// The answer a device gives to a [`Hello`]: `Ok` to go on with a [`HelloReply`], or the
/// [`ErrorCode::VersionMismatch`] to send back, carrying both versions.
pub const fn check_version(hello: &Hello, device_version: u16) -> Result<(), ErrorCode> {
    if hello.protocol_version == device_version {
        Ok(())
    } else {
        Err(ErrorCode::VersionMismatch {
            host: hello.protocol_version,
            device: device_version,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(validate_model_name("fer").is_ok());
        assert!(validate_model_name("fer-int8_v2.onnx").is_ok());
        assert!(validate_model_name("0emoji").is_ok());
        assert!(validate_model_name("").is_err());
        assert!(validate_model_name(".hidden").is_err());
        assert!(validate_model_name("a/b").is_err());
        assert!(validate_model_name("ünï").is_err());
        assert!(validate_model_name(&"a".repeat(32)).is_ok());
        assert!(validate_model_name(&"a".repeat(33)).is_err());
        assert_eq!(model_name("ok").unwrap().as_str(), "ok");
    }

    #[test]
    fn capabilities() {
        let c = Capabilities::MODELS | Capabilities::RESUME;
        assert!(c.contains(Capabilities::MODELS));
        assert!(!c.contains(Capabilities::EVENTS));
        assert!(c.contains(Capabilities::NONE));
        assert_eq!(Capabilities::from_bits_retain(c.bits()), c);
    }

    #[test]
    fn names_follow_discriminants() {
        assert_eq!(Message::Done.name(), "Done");
        assert_eq!(
            Message::InjectInput(InjectInput {
                stream: InputStream::Audio,
                seq: 0,
                last: false,
                data: Vec::new()
            })
            .name(),
            "InjectInput"
        );
    }
}
