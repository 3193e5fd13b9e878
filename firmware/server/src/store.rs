//! What the link server needs from a model store, defined here on the consumer's side.
//!
//! The real on-device store (`sentio-store`) gets a thin adapter to this trait; [`MemoryStore`]
//! (crate::MemoryStore) implements the same rules in memory for tests.
//!
//! Rules every implementation keeps (the server relies on them, `docs/protocol.md` promises them
//! to hosts):
//!
//! - Each model name has two slots, [`Slot::Active`] (what the device runs) and
//!   [`Slot::Previous`]. An upload is staged apart from both; [`ModelStore::commit`] verifies the
//!   staged bytes against the announced SHA-256 (and the signature, for a store with a key) and
//!   only then puts them, verified, in `Previous`.
//! - [`ModelStore::activate`] never makes an unverified version active.
//! - Staged bytes survive the end of a session (and, for a store on disk, a restart):
//!   [`ModelStore::begin`] for the same name and SHA-256 offers them back as `resume_offset`.
//! - A failed write changes nothing ([`sentio_link::ChunkSink`] contract).

use sentio_link::{BeginTransfer, Capabilities, ChunkSink, ErrorCode, ModelInfo, ModelName, Slot};

/// How [`ModelStore::begin`] treats an upload of the file that is already active.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeginMode {
    /// Answer [`BeginDecision::Skip`] when the active version of the name has this SHA-256
    /// (the protocol's normal rule).
    SkipIfActive,
    /// Accept the upload anyway: the host insisted (see the crate docs on forced flashing).
    Force,
}

/// A store's answer to a [`BeginTransfer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeginDecision {
    /// The active version already has this SHA-256: nothing to send.
    Skip,
    /// Staging is ready; the store already holds the first `resume_offset` bytes of this same
    /// file (0 for a new upload, never more than its size).
    Accept {
        /// Bytes already staged.
        resume_offset: u64,
    },
}

/// The operations the link server performs on the device's model store. Every failure is the
/// [`ErrorCode`] to send the host.
pub trait ModelStore {
    /// Where the chunks of an open upload go (a staging file, a buffer). Its errors are
    /// answered [`ErrorCode::Storage`]; a failed write must change nothing.
    type Sink<'a>: ChunkSink
    where
        Self: 'a;

    /// What the store adds to the device's capabilities: [`Capabilities::RESUME`] when it
    /// keeps partial uploads, [`Capabilities::SIGNATURES`] when it has a public key.
    fn capabilities(&self) -> Capabilities;

    /// Total bytes the store can hold (announced in `Limits::store_quota_bytes`).
    fn quota_bytes(&self) -> u64;

    /// Opens (or reopens, to resume) the staging of an upload: checks the name
    /// ([`ErrorCode::BadName`]), the signature requirement ([`ErrorCode::UnsignedRefused`]),
    /// room ([`ErrorCode::QuotaExceeded`]), and in [`BeginMode::SkipIfActive`] whether the active
    /// version already has `request.sha256`. A staging of the same name with another SHA-256 is
    /// discarded.
    fn begin(
        &mut self,
        request: &BeginTransfer,
        mode: BeginMode,
    ) -> Result<BeginDecision, ErrorCode>;

    /// The sink of the open staging of `name` ([`ErrorCode::UnknownTransfer`] if there is none).
    fn sink(&mut self, name: &ModelName) -> Result<Self::Sink<'_>, ErrorCode>;

    /// Verifies the complete staging of `name` (SHA-256, and signature for a store with a key)
    /// and stores it, verified, in the `Previous` slot. On a verification failure
    /// ([`ErrorCode::HashMismatch`], [`ErrorCode::BadSignature`], [`ErrorCode::UnsignedRefused`])
    /// the staging is discarded; on [`ErrorCode::Storage`] it is kept so the commit may be retried.
    /// Returns the new `Previous` entry.
    fn commit(&mut self, name: &ModelName) -> Result<ModelInfo, ErrorCode>;

    /// Discards the staging of `name` and its bytes.
    fn abort(&mut self, name: &ModelName) -> Result<(), ErrorCode>;

    /// Makes a committed upload waiting in `Previous` active; the active one becomes `Previous`.
    /// With nothing waiting it changes nothing and succeeds when the active version is verified
    /// (so an `Activate` after `TransferSkipped` is harmless). [`ErrorCode::UnknownModel`] for an
    /// unknown name, [`ErrorCode::NotVerified`] when the version to run is not verified.
    fn activate(&mut self, name: &ModelName) -> Result<(), ErrorCode>;

    /// Makes the version that was active before the current one active again.
    /// [`ErrorCode::NothingToRollBack`] when `Previous` is empty or was never active.
    fn rollback(&mut self, name: &ModelName) -> Result<(), ErrorCode>;

    /// Removes both slots of `name` and any staging.
    fn delete(&mut self, name: &ModelName) -> Result<(), ErrorCode>;

    /// Every stored (name, slot), in a stable order (by name, `Active` before `Previous`) so
    /// that a host can page through it.
    fn list(&self) -> Result<Vec<ModelInfo>, ErrorCode>;

    /// One stored version ([`ErrorCode::UnknownModel`] when that slot is empty).
    fn inspect(&self, name: &ModelName, slot: Slot) -> Result<ModelInfo, ErrorCode>;
}
