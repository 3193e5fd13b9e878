//! What can go wrong in the store, and the link error code for each.

use std::io;

use sentio_link::ErrorCode;
use sentio_models::BundleError;

/// Why a store operation failed. Each says what happened, its help line what to do; [`error_code`]
/// gives the [`ErrorCode`] to answer the host with.
///
/// [`error_code`]: StoreError::error_code
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum StoreError {
    /// The model name breaks the naming rule.
    #[error("invalid model name {name:?}")]
    #[diagnostic(
        code(device::store::bad_name),
        help(
            "use 1 to 32 characters of A-Z a-z 0-9 . _ - starting with a letter or digit, without \"..\""
        )
    )]
    BadName {
        /// The name given.
        name: String,
    },
    /// The file does not fit in the store's quota.
    #[error("not enough room in the model store: {needed} bytes needed, {available} bytes free")]
    #[diagnostic(
        code(device::store::quota_exceeded),
        help("delete a model or flash a smaller one")
    )]
    QuotaExceeded {
        /// Bytes the transfer needs.
        needed: u64,
        /// Bytes free, counting what the transfer would replace (the name's previous slot and
        /// any partial transfer) as free.
        available: u64,
    },
    /// The store has a public key and the file is not a signed bundle.
    #[error("this device only takes signed bundles")]
    #[diagnostic(
        code(device::store::unsigned_refused),
        help("sign the bundle and flash it again")
    )]
    UnsignedRefused,
    /// No transfer is open (never begun, committed, aborted, or replaced by another).
    #[error("no transfer in progress")]
    #[diagnostic(code(device::store::no_transfer), help("begin the transfer again"))]
    NoTransfer,
    /// A chunk not at the end of what was received.
    #[error("chunk at offset {offset}, but the store has {expected} bytes")]
    #[diagnostic(code(device::store::out_of_order), help("resend from {expected}"))]
    OutOfOrder {
        /// Where the chunk was to go.
        offset: u64,
        /// The bytes the store has.
        expected: u64,
    },
    /// A chunk past the announced size.
    #[error("chunk goes past the announced size of {size} bytes")]
    #[diagnostic(code(device::store::beyond_end), help("flash the file again"))]
    BeyondEnd {
        /// The announced size.
        size: u64,
    },
    /// Commit before every byte arrived.
    #[error("transfer incomplete: {received} of {size} bytes received")]
    #[diagnostic(code(device::store::incomplete), help("send the rest, then commit"))]
    Incomplete {
        /// Bytes received.
        received: u64,
        /// Announced size.
        size: u64,
    },
    /// The received file's SHA-256 is not the announced one. The file was discarded.
    #[error(
        "SHA-256 of the received file is {actual}, not the announced {expected}; the file was damaged on the way and was discarded"
    )]
    #[diagnostic(code(device::store::hash_mismatch), help("flash it again"))]
    HashMismatch {
        /// Announced, hex.
        expected: String,
        /// Computed, hex.
        actual: String,
    },
    /// The received bundle failed verification. The file was discarded.
    #[error("the received bundle was refused and discarded: {0}")]
    #[diagnostic(code(device::store::bundle))]
    Bundle(
        #[source]
        #[diagnostic_source]
        BundleError,
    ),
    /// The bundle's manifest names another model than the transfer.
    #[error("the bundle holds model {manifest:?} but was sent as {name:?}")]
    #[diagnostic(
        code(device::store::name_mismatch),
        help("flash it under its own name")
    )]
    NameMismatch {
        /// The transfer's name.
        name: String,
        /// The manifest's name.
        manifest: String,
    },
    /// No model by that name.
    #[error("no model {name:?} in the store")]
    #[diagnostic(
        code(device::store::unknown_model),
        help("list the models to see the names")
    )]
    UnknownModel {
        /// The name given.
        name: String,
    },
    /// Rollback with no previous version.
    #[error("model {name:?} has no previous version to roll back to")]
    #[diagnostic(code(device::store::nothing_to_roll_back))]
    NothingToRollBack {
        /// The name given.
        name: String,
    },
    /// Activation (or loading) of a version that did not verify.
    #[error(
        "model {name:?}: the version in that slot did not verify (unsigned or signed with another key?)"
    )]
    #[diagnostic(code(device::store::not_verified), help("flash a signed bundle"))]
    NotVerified {
        /// The name given.
        name: String,
    },
    /// The storage failed.
    #[error("model store: {op} {file}: {source}")]
    #[diagnostic(
        code(device::store::io),
        help("check the disk or SD card (the operation may be retried)")
    )]
    Io {
        /// What the store was doing.
        op: &'static str,
        /// The file, inside the store directory.
        file: String,
        /// What failed.
        #[source]
        source: io::Error,
    },
}

impl StoreError {
    pub(crate) fn io(op: &'static str, file: &str) -> impl FnOnce(io::Error) -> Self {
        let file = file.to_owned();
        move |source| Self::Io { op, file, source }
    }

    /// The error code to answer the host with.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            Self::BadName { .. } | Self::NameMismatch { .. } => ErrorCode::BadName,
            Self::QuotaExceeded { needed, available } => ErrorCode::QuotaExceeded {
                needed: *needed,
                available: *available,
            },
            Self::UnsignedRefused => ErrorCode::UnsignedRefused,
            Self::NoTransfer => ErrorCode::UnknownTransfer,
            Self::OutOfOrder { expected, .. } => ErrorCode::OutOfOrder {
                expected: *expected,
            },
            Self::BeyondEnd { size } => ErrorCode::BeyondEnd { size: *size },
            Self::Incomplete { received, size } => ErrorCode::Incomplete {
                received: *received,
                size: *size,
            },
            Self::HashMismatch { .. } => ErrorCode::HashMismatch,
            Self::Bundle(e) => bundle_error_code(e),
            Self::UnknownModel { .. } => ErrorCode::UnknownModel,
            Self::NothingToRollBack { .. } => ErrorCode::NothingToRollBack,
            Self::NotVerified { .. } => ErrorCode::NotVerified,
            Self::Io { .. } => ErrorCode::Storage,
        }
    }
}

/// The link code for a refused bundle: signature problems as such; a format or manifest this
/// firmware cannot read as `Unsupported`; read failures as `Storage`; every kind of damage as
/// `HashMismatch`.
pub fn bundle_error_code(e: &BundleError) -> ErrorCode {
    match e {
        BundleError::BadSignature | BundleError::UnknownKey { .. } => ErrorCode::BadSignature,
        BundleError::UnsignedRefused | BundleError::KeyRequired => ErrorCode::UnsignedRefused,
        BundleError::UnsupportedVersion { .. } | BundleError::Manifest(_) => ErrorCode::Unsupported,
        BundleError::Io(_) => ErrorCode::Storage,
        BundleError::Truncated { .. }
        | BundleError::BadMagic
        | BundleError::Layout(_)
        | BundleError::HashMismatch { .. }
        | BundleError::ManifestMismatch { .. } => ErrorCode::HashMismatch,
    }
}
