//! The store: staged transfers, verification, A/B slots, recovery.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{self, Read};

use sentio_link::{
    BeginTransfer, Capabilities, ChunkSink, ModelInfo, Slot, TransferKind, model_name,
    validate_model_name,
};
use sentio_models::{BundleError, SignaturePolicy, VerifyingKey, verify_reader};
use sha2::{Digest, Sha256};

use crate::error::StoreError;
use crate::fs::{DirFs, FsReader, StoreFs, read_all};
use crate::record::{
    self, EntryRecord, FileKind, FileRole, MAX_RECORD_LEN, RECORD_FORMAT, STAGING, STAGING_META,
    SlotsRecord, StagingRecord, TMP_SUFFIX, blob_file, record_file,
};

/// Checks a model name: the link's rule (1 to 32 bytes of `A-Z a-z 0-9 . _ -`, starting with a
/// letter or digit), and no `..` anywhere. Such a name is a safe file name.
pub fn validate_name(name: &str) -> Result<(), StoreError> {
    if validate_model_name(name).is_err() || name.contains("..") {
        return Err(StoreError::BadName {
            name: name.chars().take(64).collect(),
        });
    }
    Ok(())
}

/// How a store is set up.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// Most bytes of stored versions (both slots of every model) plus the transfer in progress.
    pub quota_bytes: u64,
    /// With a key, only bundles signed by it are taken (and bare model files never).
    pub public_key: Option<VerifyingKey>,
    /// During a transfer, make the received bytes durable (and resumable after a power cut)
    /// every this many bytes. Smaller loses less on a power cut and costs more fsyncs.
    pub checkpoint_every: u64,
}

impl StoreConfig {
    /// The default checkpoint interval: 64 KiB.
    pub const DEFAULT_CHECKPOINT_EVERY: u64 = 64 * 1024;

    /// A store of `quota_bytes`, without a key, with the default checkpoint interval.
    pub fn new(quota_bytes: u64) -> Self {
        Self {
            quota_bytes,
            public_key: None,
            checkpoint_every: Self::DEFAULT_CHECKPOINT_EVERY,
        }
    }

    /// Requires bundles signed by `key`.
    pub fn with_public_key(mut self, key: VerifyingKey) -> Self {
        self.public_key = Some(key);
        self
    }

    /// Sets the checkpoint interval (at least 1 byte).
    pub fn with_checkpoint_every(mut self, bytes: u64) -> Self {
        self.checkpoint_every = bytes.max(1);
        self
    }

    fn policy(&self) -> SignaturePolicy {
        if self.public_key.is_some() {
            SignaturePolicy::RequireSigned
        } else {
            SignaturePolicy::AllowUnsigned
        }
    }
}

/// One stored version.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    sha256: [u8; 32],
    size: u64,
    kind: FileKind,
    version: String,
    verified: bool,
}

impl Entry {
    fn record(&self) -> EntryRecord {
        EntryRecord {
            sha256: self.sha256,
            size: self.size,
            kind: self.kind,
            version: self.version.clone(),
        }
    }
}

/// The two slots of a model.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Slots {
    active: Option<Entry>,
    previous: Option<Entry>,
    /// `previous` is a committed upload waiting for activation (not the rollback target).
    pending: bool,
}

impl Slots {
    fn record(&self, name: &str) -> SlotsRecord {
        SlotsRecord {
            format: RECORD_FORMAT,
            name: name.to_owned(),
            active: self.active.as_ref().map(Entry::record),
            previous: self.previous.as_ref().map(Entry::record),
            pending: self.pending,
        }
    }

    fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.active.iter().chain(self.previous.iter())
    }
}

/// What [`Store::check_active`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckOutcome {
    /// The active version passed: it stays.
    Passed { version: String },
    /// It failed, and the previous version is active again.
    RolledBack {
        failed: String,
        restored: String,
        reason: String,
    },
    /// It failed and there is no verified previous version to go back to: it stays active
    /// (the device keeps whatever it runs instead, e.g. its built-in model).
    FailedNoPrevious { version: String, reason: String },
}

/// A stored version of a model, as [`Store::list`] and [`Store::inspect`] report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredModel {
    /// Model name.
    pub name: String,
    /// Which slot.
    pub slot: Slot,
    /// Version from the manifest (empty for a bare model file).
    pub version: String,
    /// SHA-256 of the stored file.
    pub sha256: [u8; 32],
    /// Size of the stored file.
    pub size: u64,
    /// Bundle or bare model.
    pub kind: FileKind,
    /// Whether it verified (hashes, and the signature when the store has a key) when it was
    /// committed or when the store was opened. Only a verified version can be activated.
    pub verified: bool,
    /// In the previous slot: a committed upload waiting for activation.
    pub pending: bool,
    /// Its file in the store directory (e.g. for [`DirFs::path`]).
    pub file: String,
}

impl StoredModel {
    /// The link's `ModelInfo` (the version cut to 16 bytes).
    pub fn to_model_info(&self) -> ModelInfo {
        let mut version = heapless::String::new();
        for c in self.version.chars() {
            if version.push(c).is_err() {
                break;
            }
        }
        ModelInfo {
            name: model_name(&self.name).unwrap_or_default(),
            version,
            sha256: self.sha256,
            size: self.size,
            slot: self.slot,
            verified: self.verified,
        }
    }
}

/// The answer to [`Store::begin`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Begin {
    /// The active version has this SHA-256: nothing to send (answer `TransferSkipped`).
    Skip,
    /// Send the file from `resume_offset` (answer `TransferAccepted`).
    Accept {
        /// Bytes the store already holds, durably, of this file.
        resume_offset: u64,
    },
}

/// The transfer in progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferStatus {
    /// Model name.
    pub name: String,
    /// Announced size.
    pub size: u64,
    /// Announced SHA-256.
    pub sha256: [u8; 32],
    /// Bundle or bare model.
    pub kind: FileKind,
    /// Bytes written.
    pub received: u64,
    /// Bytes made durable (a resume after a power cut starts here).
    pub durable: u64,
}

/// How full the store is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    /// The quota.
    pub quota: u64,
    /// Bytes of stored versions.
    pub stored: u64,
    /// Announced size of the transfer in progress.
    pub staging: u64,
}

/// What [`Store::open`] found and repaired. The device logs it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// One entry per finding, in the order found.
    pub events: Vec<RecoveryEvent>,
}

impl Recovery {
    /// Nothing was wrong (a kept partial transfer is not wrong).
    pub fn is_clean(&self) -> bool {
        self.events
            .iter()
            .all(|e| matches!(e, RecoveryEvent::StagingKept { .. }))
    }
}

impl fmt::Display for Recovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.events.is_empty() {
            return f.write_str("model store: clean");
        }
        for (i, event) in self.events.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "model store: {event}")?;
        }
        Ok(())
    }
}

/// One finding of [`Store::open`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecoveryEvent {
    /// A temporary file left by a crash was removed.
    TempFileRemoved {
        /// The file.
        file: String,
    },
    /// A stored file no slot refers to (a commit cut short, a replaced version) was removed.
    OrphanRemoved {
        /// The file.
        file: String,
    },
    /// A slot named a missing or damaged file; the slot was emptied (and the file removed).
    SlotDropped {
        /// Model name.
        name: String,
        /// The slot.
        slot: Slot,
        /// The version's SHA-256.
        sha256: [u8; 32],
        /// What was wrong.
        reason: String,
    },
    /// A slot's file is intact but does not pass the store's policy (e.g. a key was configured
    /// and it is unsigned): kept, marked not verified, cannot be activated.
    SlotNotVerified {
        /// Model name.
        name: String,
        /// The slot.
        slot: Slot,
        /// Why.
        reason: String,
    },
    /// The active version was lost or did not verify; the previous one, which verifies, is
    /// active now.
    FellBack {
        /// Model name.
        name: String,
        /// SHA-256 of the version now active.
        sha256: [u8; 32],
    },
    /// A slot record was unreadable; it was rebuilt from the model's files that verify.
    RecordRebuilt {
        /// Model name.
        name: String,
        /// What was wrong with it.
        reason: String,
    },
    /// Neither slot of a model survived; the model is gone.
    ModelLost {
        /// Model name.
        name: String,
    },
    /// A partial transfer is kept: a `begin` of the same name and SHA-256 resumes at `bytes`.
    StagingKept {
        /// Model name.
        name: String,
        /// The file's SHA-256.
        sha256: [u8; 32],
        /// Bytes kept (the resume offset).
        bytes: u64,
        /// Announced size.
        size: u64,
    },
    /// The staging record claimed more durable bytes than the staging file has; the offset
    /// was lowered to what exists.
    StagingTruncated {
        /// Model name.
        name: String,
        /// Bytes the record claimed.
        claimed: u64,
        /// Bytes kept.
        kept: u64,
    },
    /// A partial transfer could not be resumed and was removed.
    StagingDiscarded {
        /// Why.
        reason: String,
    },
    /// A file that is not the store's; left alone.
    UnknownFile {
        /// The file.
        file: String,
    },
}

impl fmt::Display for RecoveryEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slot = |s: &Slot| match s {
            Slot::Active => "active",
            Slot::Previous => "previous",
        };
        let short = |sha: &[u8; 32]| hex::encode(&sha[..6]);
        match self {
            Self::TempFileRemoved { file } => write!(f, "removed leftover temporary file {file}"),
            Self::OrphanRemoved { file } => write!(f, "removed unreferenced file {file}"),
            Self::SlotDropped {
                name,
                slot: s,
                sha256,
                reason,
            } => write!(
                f,
                "{name}: {} slot ({}) dropped: {reason}",
                slot(s),
                short(sha256)
            ),
            Self::SlotNotVerified {
                name,
                slot: s,
                reason,
            } => write!(f, "{name}: {} slot does not verify: {reason}", slot(s)),
            Self::FellBack { name, sha256 } => write!(
                f,
                "{name}: fell back to the previous version ({}), now active",
                short(sha256)
            ),
            Self::RecordRebuilt { name, reason } => {
                write!(f, "{name}: slot record rebuilt ({reason})")
            }
            Self::ModelLost { name } => write!(f, "{name}: no version survived; model removed"),
            Self::StagingKept {
                name, bytes, size, ..
            } => write!(
                f,
                "partial transfer of {name} kept: {bytes} of {size} bytes, resumable"
            ),
            Self::StagingTruncated {
                name,
                claimed,
                kept,
            } => write!(
                f,
                "partial transfer of {name}: record claimed {claimed} bytes, {kept} exist; resuming from {kept}"
            ),
            Self::StagingDiscarded { reason } => {
                write!(f, "partial transfer discarded: {reason}")
            }
            Self::UnknownFile { file } => write!(f, "unknown file {file} left alone"),
        }
    }
}

/// The transfer in progress.
#[derive(Clone, Debug)]
struct Staging {
    name: String,
    size: u64,
    sha256: [u8; 32],
    kind: FileKind,
    signed: bool,
    /// Bytes written to `staging.part`.
    written: u64,
    /// Bytes fsynced and recorded in `staging.meta`.
    durable: u64,
}

impl Staging {
    fn record(&self, durable: u64) -> StagingRecord {
        StagingRecord {
            format: RECORD_FORMAT,
            name: self.name.clone(),
            size: self.size,
            sha256: self.sha256,
            kind: self.kind,
            signed: self.signed,
            durable,
        }
    }
}

/// Stored version files found on open, by model name: (file, SHA-256, kind).
type BlobsByName = BTreeMap<String, Vec<(String, [u8; 32], FileKind)>>;

/// The result of checking a stored or staged file.
enum Check {
    /// Intact and acceptable.
    Good {
        version: String,
        manifest_name: Option<String>,
    },
    /// The wrong bytes, or not a valid bundle.
    Damaged {
        reason: String,
        sha256: [u8; 32],
        error: Option<BundleError>,
    },
    /// Intact, but refused by the policy (signature).
    Refused(BundleError),
}

/// A reader that hashes and counts what passes through.
struct Tee<R> {
    inner: R,
    hasher: Sha256,
    len: u64,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n.min(buf.len())]);
        self.len += n as u64;
        Ok(n)
    }
}

/// The on-device model store (see the crate documentation for the layout and the
/// crash-safety argument).
pub struct Store<F: StoreFs> {
    fs: F,
    config: StoreConfig,
    models: BTreeMap<String, Slots>,
    staging: Option<Staging>,
}

impl<F: StoreFs> fmt::Debug for Store<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("models", &self.models)
            .field("staging", &self.staging)
            .finish_non_exhaustive()
    }
}

impl Store<DirFs> {
    /// Opens (creating it if needed) the store in the directory `root`.
    pub fn open_dir(
        root: impl Into<std::path::PathBuf>,
        config: StoreConfig,
    ) -> Result<(Self, Recovery), StoreError> {
        let root = root.into();
        let fs = DirFs::new(&root).map_err(StoreError::io("create", &root.to_string_lossy()))?;
        Self::open(fs, config)
    }
}

impl<F: StoreFs> Store<F> {
    /// Opens the store on `fs`, repairing what a crash left (see [`Recovery`]): removes
    /// temporary files, checks every stored version (re-hashing it and verifying bundles under
    /// the configured key), drops slots whose file is missing or damaged and falls back to the
    /// other slot when the active one is lost, removes files no slot refers to, and keeps a
    /// partial transfer at the bytes that are really there.
    ///
    /// Fails only when the storage itself fails.
    pub fn open(fs: F, config: StoreConfig) -> Result<(Self, Recovery), StoreError> {
        let mut store = Self {
            fs,
            config,
            models: BTreeMap::new(),
            staging: None,
        };
        let recovery = store.recover()?;
        Ok((store, recovery))
    }

    /// The configuration.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// The filesystem.
    pub fn fs(&self) -> &F {
        &self.fs
    }

    /// Gives the filesystem back.
    pub fn into_fs(self) -> F {
        self.fs
    }

    /// Whether the store takes only signed bundles (capability `SIGNATURES`).
    pub fn requires_signature(&self) -> bool {
        self.config.public_key.is_some()
    }

    /// What the store adds to the device's capabilities: `MODELS`, `RESUME`, and `SIGNATURES`
    /// when it has a public key.
    pub fn capabilities(&self) -> Capabilities {
        let base = Capabilities::MODELS | Capabilities::RESUME;
        if self.requires_signature() {
            base | Capabilities::SIGNATURES
        } else {
            base
        }
    }

    // ---- transfers ----------------------------------------------------------------------

    /// Starts (or resumes) receiving a file of `size` bytes hashing to `sha256` for model
    /// `name`. In order: the name is checked; if the *active* version is this file (and
    /// verified), the answer is [`Begin::Skip`]; a store with a key refuses bare model files
    /// and unsigned bundles; the size is checked against the quota, counting the name's previous
    /// slot (which the commit replaces) and any partial transfer (which this one replaces) as
    /// free. Nothing is written before all checks pass.
    ///
    /// If the partial transfer kept is of the same name, size, SHA-256 and kind, it is resumed:
    /// its bytes are made durable and their count is the resume offset. Otherwise it is
    /// discarded and a new one starts at 0.
    pub fn begin(
        &mut self,
        name: &str,
        size: u64,
        sha256: [u8; 32],
        signed: bool,
        kind: TransferKind,
    ) -> Result<Begin, StoreError> {
        self.start(name, size, sha256, signed, FileKind::from(kind), false)
    }

    /// [`begin`](Self::begin) with the fields of a link `BeginTransfer`. With `force`, the
    /// transfer is accepted even when the active version is this very file (`sentio flash
    /// --force`); it is then committed and activated like any other.
    pub fn begin_transfer(
        &mut self,
        request: &BeginTransfer,
        force: bool,
    ) -> Result<Begin, StoreError> {
        self.start(
            request.name.as_str(),
            request.size,
            request.sha256,
            request.signed,
            FileKind::from(request.kind),
            force,
        )
    }

    fn start(
        &mut self,
        name: &str,
        size: u64,
        sha256: [u8; 32],
        signed: bool,
        kind: FileKind,
        force: bool,
    ) -> Result<Begin, StoreError> {
        validate_name(name)?;
        if !force
            && let Some(active) = self.models.get(name).and_then(|s| s.active.as_ref())
            && active.sha256 == sha256
            && active.verified
        {
            return Ok(Begin::Skip);
        }
        if self.config.public_key.is_some() && (kind == FileKind::Model || !signed) {
            return Err(StoreError::UnsignedRefused);
        }
        let available = self
            .config
            .quota_bytes
            .saturating_sub(self.stored_bytes_excluding(name));
        if size > available {
            return Err(StoreError::QuotaExceeded {
                needed: size,
                available,
            });
        }
        if let Some(st) = &self.staging
            && st.name == name
            && st.size == size
            && st.sha256 == sha256
            && st.kind == kind
        {
            let resume_offset = self.checkpoint()?;
            if let Some(st) = &mut self.staging {
                st.signed = signed;
            }
            return Ok(Begin::Accept { resume_offset });
        }
        self.discard_staging(false)?;
        let staging = Staging {
            name: name.to_owned(),
            size,
            sha256,
            kind,
            signed,
            written: 0,
            durable: 0,
        };
        self.fs
            .create(STAGING)
            .map_err(StoreError::io("create", STAGING))?;
        self.write_replace(STAGING_META, &record::encode(&staging.record(0)))?;
        // The new staging names must be durable before any byte of the new file is written,
        // so that no record of an older transfer can ever describe them.
        self.sync_dir()?;
        self.staging = Some(staging);
        Ok(Begin::Accept { resume_offset: 0 })
    }

    /// The [`ChunkSink`] of the open transfer of `name` ([`StoreError::NoTransfer`] if the open
    /// transfer, if any, is of another name). The store itself is also a `ChunkSink`, for the
    /// open transfer whatever its name.
    pub fn sink(&mut self, name: &str) -> Result<StagingSink<'_, F>, StoreError> {
        self.open_transfer(name)?;
        Ok(StagingSink { store: self })
    }

    fn open_transfer(&self, name: &str) -> Result<&Staging, StoreError> {
        self.staging
            .as_ref()
            .filter(|st| st.name == name)
            .ok_or(StoreError::NoTransfer)
    }

    /// The transfer in progress, if any (also one kept from before a restart).
    pub fn transfer(&self) -> Option<TransferStatus> {
        self.staging.as_ref().map(|st| TransferStatus {
            name: st.name.clone(),
            size: st.size,
            sha256: st.sha256,
            kind: st.kind,
            received: st.written,
            durable: st.durable,
        })
    }

    /// Writes `data` at `offset` of the transfer in progress; `offset` must be the bytes
    /// received so far. Every [`StoreConfig::checkpoint_every`] bytes, the data is made durable
    /// ([`checkpoint`](Self::checkpoint)). On an error nothing is counted: the chunk may be
    /// sent again.
    pub fn write_chunk(&mut self, offset: u64, data: &[u8]) -> Result<(), StoreError> {
        let every = self.config.checkpoint_every;
        let st = self.staging.as_mut().ok_or(StoreError::NoTransfer)?;
        if offset != st.written {
            return Err(StoreError::OutOfOrder {
                offset,
                expected: st.written,
            });
        }
        let end = offset.checked_add(data.len() as u64);
        if end.is_none_or(|end| end > st.size) {
            return Err(StoreError::BeyondEnd { size: st.size });
        }
        self.fs
            .write_at(STAGING, offset, data)
            .map_err(StoreError::io("write", STAGING))?;
        st.written = offset + data.len() as u64;
        if st.written - st.durable >= every
            && let Err(e) = self.checkpoint()
        {
            if let Some(st) = &mut self.staging {
                st.written = offset;
            }
            return Err(e);
        }
        Ok(())
    }

    /// Makes every byte received so far durable: fsyncs the staging file, then records the
    /// count. Returns the durable count (the resume offset a restart would report).
    pub fn checkpoint(&mut self) -> Result<u64, StoreError> {
        let st = self.staging.as_ref().ok_or(StoreError::NoTransfer)?;
        let written = st.written;
        if st.durable == written {
            return Ok(written);
        }
        let meta = record::encode(&st.record(written));
        self.fs
            .fsync(STAGING)
            .map_err(StoreError::io("fsync", STAGING))?;
        // No directory fsync: if this rename is lost, the older record (fewer bytes) stands.
        self.write_replace(STAGING_META, &meta)?;
        if let Some(st) = &mut self.staging {
            st.durable = written;
        }
        Ok(written)
    }

    /// Finishes the transfer: makes the file durable, reads it back and verifies it (SHA-256
    /// of the whole file against the announced one; for a bundle, its structure, section
    /// hashes, that its manifest names this model, and the signature under the store's key),
    /// then moves it into the name's previous slot, pending activation.
    ///
    /// A file that fails verification is discarded (a new `begin` starts from 0); a storage
    /// error leaves the transfer as it was, to commit again.
    pub fn commit(&mut self, name: &str) -> Result<StoredModel, StoreError> {
        let st = self.open_transfer(name)?.clone();
        if st.written != st.size {
            return Err(StoreError::Incomplete {
                received: st.written,
                size: st.size,
            });
        }
        let file = blob_file(&st.name, &st.sha256, st.kind);
        // A retry after a storage error past the rename finds the file already in place.
        let renamed = self
            .fs
            .len(STAGING)
            .map_err(StoreError::io("stat", STAGING))?
            .is_none()
            && self
                .fs
                .len(&file)
                .map_err(StoreError::io("stat", &file))?
                .is_some();
        let source = if renamed { file.as_str() } else { STAGING };
        if !renamed {
            self.fs
                .fsync(STAGING)
                .map_err(StoreError::io("fsync", STAGING))?;
        }
        let refused = match self.check(source, &st.sha256, st.kind)? {
            Check::Good {
                version,
                manifest_name,
            } => match manifest_name {
                Some(manifest) if manifest != st.name => StoreError::NameMismatch {
                    name: st.name,
                    manifest,
                },
                _ => return self.install(st, &file, renamed, version),
            },
            Check::Damaged { sha256, error, .. } => match error {
                Some(e) if sha256 == st.sha256 => StoreError::Bundle(e),
                _ => StoreError::HashMismatch {
                    expected: hex::encode(st.sha256),
                    actual: hex::encode(sha256),
                },
            },
            Check::Refused(e) => StoreError::Bundle(e),
        };
        if renamed {
            let _ = self.fs.remove(&file);
        }
        self.discard_staging(true)?;
        Err(refused)
    }

    /// The second half of [`commit`](Self::commit), for a verified file: into place, durably,
    /// then into the previous slot.
    fn install(
        &mut self,
        st: Staging,
        file: &str,
        renamed: bool,
        version: String,
    ) -> Result<StoredModel, StoreError> {
        if !renamed {
            self.fs
                .rename(STAGING, file)
                .map_err(StoreError::io("rename", STAGING))?;
        }
        // A leftover record without its data file is discarded at the next open.
        let _ = self.fs.remove(STAGING_META);
        // The version's name is durable before any record refers to it.
        self.sync_dir()?;
        let mut slots = self.models.get(&st.name).cloned().unwrap_or_default();
        let replaced = slots.previous.take();
        slots.previous = Some(Entry {
            sha256: st.sha256,
            size: st.size,
            kind: st.kind,
            version,
            verified: true,
        });
        slots.pending = true;
        self.save_slots(&st.name, &slots)?;
        self.staging = None;
        self.models.insert(st.name.clone(), slots);
        if let Some(old) = replaced {
            self.remove_if_unreferenced(&st.name, &old);
        }
        self.inspect(&st.name, Slot::Previous)
    }

    /// Drops the transfer of `name` in progress and its data.
    pub fn abort(&mut self, name: &str) -> Result<(), StoreError> {
        self.open_transfer(name)?;
        self.discard_staging(true)
    }

    // ---- slots ----------------------------------------------------------------------------

    /// Makes the committed version of `name` active; the active one becomes previous (the
    /// rollback target). With nothing pending and a verified active version, does nothing (it
    /// is already active). Never activates a version that did not verify.
    pub fn activate(&mut self, name: &str) -> Result<StoredModel, StoreError> {
        let mut slots = self.slots(name)?.clone();
        let waiting = slots.pending || (slots.active.is_none() && slots.previous.is_some());
        if waiting {
            if !slots.previous.as_ref().is_some_and(|e| e.verified) {
                return Err(StoreError::NotVerified { name: name.into() });
            }
            std::mem::swap(&mut slots.active, &mut slots.previous);
            slots.pending = false;
            self.save_slots(name, &slots)?;
            self.models.insert(name.to_owned(), slots);
        } else if !slots.active.as_ref().is_some_and(|e| e.verified) {
            return Err(StoreError::NotVerified { name: name.into() });
        }
        self.inspect(name, Slot::Active)
    }

    /// Makes the version that was active before the current one active again (they swap).
    pub fn rollback(&mut self, name: &str) -> Result<StoredModel, StoreError> {
        let mut slots = self.slots(name)?.clone();
        if slots.pending || slots.previous.is_none() {
            return Err(StoreError::NothingToRollBack { name: name.into() });
        }
        if !slots.previous.as_ref().is_some_and(|e| e.verified) {
            return Err(StoreError::NotVerified { name: name.into() });
        }
        std::mem::swap(&mut slots.active, &mut slots.previous);
        self.save_slots(name, &slots)?;
        self.models.insert(name.to_owned(), slots);
        self.inspect(name, Slot::Active)
    }

    /// The update's commit point, as A/B updaters have it: runs `check` (the device's self-check:
    /// load the model, run it once) on the active version of `name`; when it fails, makes the
    /// previous version active again. Called after every activation and for every model when
    /// the device starts, so a power cut anywhere between an activation and its rollback ends
    /// with the rollback done at the next start.
    pub fn check_active(
        &mut self,
        name: &str,
        check: impl FnOnce(&[u8]) -> Result<(), String>,
    ) -> Result<CheckOutcome, StoreError> {
        let active = self.inspect(name, Slot::Active)?;
        let bytes = self.read_active(name)?;
        let Err(reason) = check(&bytes) else {
            return Ok(CheckOutcome::Passed {
                version: active.version,
            });
        };
        let slots = self.slots(name)?;
        let can_roll_back = !slots.pending && slots.previous.as_ref().is_some_and(|e| e.verified);
        if !can_roll_back {
            return Ok(CheckOutcome::FailedNoPrevious {
                version: active.version,
                reason,
            });
        }
        let restored = self.rollback(name)?;
        Ok(CheckOutcome::RolledBack {
            failed: active.version,
            restored: restored.version,
            reason,
        })
    }

    /// Removes both slots of `name` (and a partial transfer of it).
    pub fn delete(&mut self, name: &str) -> Result<(), StoreError> {
        let slots = self.slots(name)?.clone();
        let file = record_file(name);
        self.fs
            .remove(&file)
            .map_err(StoreError::io("remove", &file))?;
        self.sync_dir()?;
        self.models.remove(name);
        for entry in slots.entries() {
            let _ = self.fs.remove(&blob_file(name, &entry.sha256, entry.kind));
        }
        if self.staging.as_ref().is_some_and(|st| st.name == name) {
            self.discard_staging(false)?;
        }
        Ok(())
    }

    // ---- queries --------------------------------------------------------------------------

    /// Every stored version: one entry per (name, slot), by name, active first.
    pub fn list(&self) -> Vec<StoredModel> {
        let mut out = Vec::new();
        for (name, slots) in &self.models {
            for (slot, entry) in [
                (Slot::Active, &slots.active),
                (Slot::Previous, &slots.previous),
            ] {
                if let Some(entry) = entry {
                    out.push(stored(name, slot, entry, slots.pending));
                }
            }
        }
        out
    }

    /// The version of `name` in `slot`.
    pub fn inspect(&self, name: &str, slot: Slot) -> Result<StoredModel, StoreError> {
        let slots = self.slots(name)?;
        let entry = match slot {
            Slot::Active => &slots.active,
            Slot::Previous => &slots.previous,
        };
        entry
            .as_ref()
            .map(|e| stored(name, slot, e, slots.pending))
            .ok_or_else(|| StoreError::UnknownModel { name: name.into() })
    }

    /// The bytes of the active version of `name`, if it verified (what the device runs).
    pub fn read_active(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        let model = self.inspect(name, Slot::Active)?;
        if !model.verified {
            return Err(StoreError::NotVerified { name: name.into() });
        }
        read_all(&self.fs, &model.file, model.size).map_err(StoreError::io("read", &model.file))
    }

    /// Bytes in use and the quota.
    pub fn usage(&self) -> Usage {
        Usage {
            quota: self.config.quota_bytes,
            stored: self.stored_bytes_excluding(""),
            staging: self.staging.as_ref().map_or(0, |s| s.size),
        }
    }

    // ---- internals ------------------------------------------------------------------------

    fn slots(&self, name: &str) -> Result<&Slots, StoreError> {
        validate_name(name)?;
        self.models
            .get(name)
            .ok_or_else(|| StoreError::UnknownModel { name: name.into() })
    }

    /// Bytes of every stored version except the previous slot of `name`.
    fn stored_bytes_excluding(&self, name: &str) -> u64 {
        self.models
            .iter()
            .flat_map(|(n, s)| {
                let previous = if n == name { None } else { s.previous.as_ref() };
                s.active.iter().chain(previous)
            })
            .map(|e| e.size)
            .fold(0u64, u64::saturating_add)
    }

    fn sync_dir(&mut self) -> Result<(), StoreError> {
        self.fs
            .fsync_dir()
            .map_err(StoreError::io("fsync directory", "."))
    }

    /// Writes `bytes` to `file` through a temporary file: create, write, fsync, rename. The
    /// rename is durable at the next directory fsync.
    fn write_replace(&mut self, file: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let tmp = format!("{file}{TMP_SUFFIX}");
        self.fs
            .create(&tmp)
            .map_err(StoreError::io("create", &tmp))?;
        self.fs
            .write_at(&tmp, 0, bytes)
            .map_err(StoreError::io("write", &tmp))?;
        self.fs.fsync(&tmp).map_err(StoreError::io("fsync", &tmp))?;
        self.fs
            .rename(&tmp, file)
            .map_err(StoreError::io("rename", &tmp))
    }

    /// Durably replaces the slot record of `name` (or removes it when both slots are empty).
    fn save_slots(&mut self, name: &str, slots: &Slots) -> Result<(), StoreError> {
        let file = record_file(name);
        if slots.active.is_none() && slots.previous.is_none() {
            match self.fs.remove(&file) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(StoreError::io("remove", &file)(e));
                }
                _ => {}
            }
        } else {
            self.write_replace(&file, &record::encode(&slots.record(name)))?;
        }
        self.sync_dir()
    }

    /// Removes the file of `entry` unless a slot still refers to it. A failure only leaves an
    /// orphan, removed at the next open.
    fn remove_if_unreferenced(&mut self, name: &str, entry: &Entry) {
        let referenced = self.models.get(name).is_some_and(|s| {
            s.entries()
                .any(|e| e.sha256 == entry.sha256 && e.kind == entry.kind)
        });
        if !referenced {
            let _ = self.fs.remove(&blob_file(name, &entry.sha256, entry.kind));
        }
    }

    /// Forgets the transfer in progress and removes its files; with `sync`, durably.
    fn discard_staging(&mut self, sync: bool) -> Result<(), StoreError> {
        self.staging = None;
        for file in [STAGING_META, STAGING] {
            match self.fs.remove(file) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(StoreError::io("remove", file)(e));
                }
                _ => {}
            }
        }
        if sync { self.sync_dir() } else { Ok(()) }
    }

    /// Checks `file`: its SHA-256 against `sha256`, and for a bundle its verification under
    /// the store's key. One read pass.
    fn check(&self, file: &str, sha256: &[u8; 32], kind: FileKind) -> Result<Check, StoreError> {
        let mut tee = Tee {
            inner: FsReader::new(&self.fs, file),
            hasher: Sha256::new(),
            len: 0,
        };
        let verified = match kind {
            FileKind::Bundle => Some(verify_reader(
                &mut tee,
                self.config.public_key.as_ref(),
                self.config.policy(),
            )),
            FileKind::Model => None,
        };
        // Hash the rest too (a bundle refused early), so the file's hash is always known.
        io::copy(&mut tee, &mut io::sink()).map_err(StoreError::io("read", file))?;
        let actual: [u8; 32] = tee.hasher.finalize().into();
        if let Some(Err(BundleError::Io(e))) = verified {
            return Err(StoreError::io("read", file)(e));
        }
        if actual != *sha256 {
            return Ok(Check::Damaged {
                reason: "SHA-256 mismatch".into(),
                sha256: actual,
                error: None,
            });
        }
        match verified {
            None if self.config.public_key.is_some() => {
                Ok(Check::Refused(BundleError::UnsignedRefused))
            }
            None => Ok(Check::Good {
                version: String::new(),
                manifest_name: None,
            }),
            Some(Ok(v)) => Ok(Check::Good {
                version: v.manifest.version,
                manifest_name: Some(v.manifest.name),
            }),
            Some(Err(
                e @ (BundleError::BadSignature
                | BundleError::UnknownKey { .. }
                | BundleError::UnsignedRefused
                | BundleError::KeyRequired),
            )) => Ok(Check::Refused(e)),
            Some(Err(e)) => Ok(Check::Damaged {
                reason: e.to_string(),
                sha256: actual,
                error: Some(e),
            }),
        }
    }

    /// Checks a slot entry of `name` on open: verified, kept unverified, or dropped.
    fn check_entry(
        &mut self,
        name: &str,
        slot: Slot,
        entry: Option<EntryRecord>,
        report: &mut Recovery,
    ) -> Result<Option<Entry>, StoreError> {
        let Some(rec) = entry else {
            return Ok(None);
        };
        let file = blob_file(name, &rec.sha256, rec.kind);
        let dropped = |reason: String, report: &mut Recovery| {
            report.events.push(RecoveryEvent::SlotDropped {
                name: name.into(),
                slot,
                sha256: rec.sha256,
                reason,
            });
            Ok(None)
        };
        let len = self.fs.len(&file).map_err(StoreError::io("stat", &file))?;
        match len {
            None => return dropped("its file is missing".into(), report),
            Some(len) if len != rec.size => {
                let _ = self.fs.remove(&file);
                return dropped(
                    format!("its file has {len} bytes, {} expected", rec.size),
                    report,
                );
            }
            Some(_) => {}
        }
        let mut entry = Entry {
            sha256: rec.sha256,
            size: rec.size,
            kind: rec.kind,
            version: rec.version.clone(),
            verified: false,
        };
        match self.check(&file, &rec.sha256, rec.kind)? {
            Check::Good { .. } => entry.verified = true,
            Check::Refused(e) => report.events.push(RecoveryEvent::SlotNotVerified {
                name: name.into(),
                slot,
                reason: e.to_string(),
            }),
            Check::Damaged { reason, .. } => {
                let _ = self.fs.remove(&file);
                return dropped(format!("its file is damaged ({reason})"), report);
            }
        }
        Ok(Some(entry))
    }

    /// The work of [`open`](Self::open).
    fn recover(&mut self) -> Result<Recovery, StoreError> {
        let mut report = Recovery::default();
        let files = self.fs.list().map_err(StoreError::io("list", "."))?;
        let mut records = BTreeSet::new();
        let mut blobs: BlobsByName = BTreeMap::new();
        let (mut has_staging, mut has_meta) = (false, false);
        let mut changed = false;
        for file in files {
            match record::classify(&file) {
                FileRole::Temp => {
                    self.fs
                        .remove(&file)
                        .map_err(StoreError::io("remove", &file))?;
                    changed = true;
                    report.events.push(RecoveryEvent::TempFileRemoved { file });
                }
                FileRole::Record(name) => {
                    records.insert(name);
                }
                FileRole::Blob { name, sha256, kind } => {
                    blobs.entry(name).or_default().push((file, sha256, kind));
                }
                FileRole::Staging => has_staging = true,
                FileRole::StagingMeta => has_meta = true,
                FileRole::Other => report.events.push(RecoveryEvent::UnknownFile { file }),
            }
        }

        for name in &records {
            let file = record_file(name);
            let decoded = read_all(&self.fs, &file, MAX_RECORD_LEN)
                .map_err(|e| e.to_string())
                .and_then(|bytes| record::decode::<SlotsRecord>(&bytes))
                .and_then(|rec| {
                    if rec.name == *name {
                        Ok(rec)
                    } else {
                        Err(format!("it names model {:?}", rec.name))
                    }
                });
            let (mut slots, mut dirty) = match decoded {
                Ok(rec) => {
                    let had_active = rec.active.is_some();
                    let had_previous = rec.previous.is_some();
                    let active = self.check_entry(name, Slot::Active, rec.active, &mut report)?;
                    let previous =
                        self.check_entry(name, Slot::Previous, rec.previous, &mut report)?;
                    let mut dirty =
                        active.is_some() != had_active || previous.is_some() != had_previous;
                    let mut slots = Slots {
                        active,
                        previous,
                        pending: rec.pending,
                    };
                    let active_ok = slots.active.as_ref().is_some_and(|e| e.verified);
                    let previous_ok = slots.previous.as_ref().is_some_and(|e| e.verified);
                    if had_active && !active_ok && previous_ok {
                        std::mem::swap(&mut slots.active, &mut slots.previous);
                        slots.pending = false;
                        dirty = true;
                        if let Some(e) = &slots.active {
                            report.events.push(RecoveryEvent::FellBack {
                                name: name.clone(),
                                sha256: e.sha256,
                            });
                        }
                    }
                    (slots, dirty)
                }
                Err(reason) => (self.rebuild(name, reason, &blobs, &mut report)?, true),
            };
            if slots.previous.is_none() && slots.pending {
                slots.pending = false;
                dirty = true;
            }
            if slots.active.is_none() && slots.previous.is_none() {
                report
                    .events
                    .push(RecoveryEvent::ModelLost { name: name.clone() });
            } else {
                self.models.insert(name.clone(), slots.clone());
            }
            if dirty {
                self.save_slots(name, &slots)?;
            }
        }

        for (name, files) in &blobs {
            for (file, sha256, kind) in files {
                let referenced = self
                    .models
                    .get(name)
                    .is_some_and(|s| s.entries().any(|e| e.sha256 == *sha256 && e.kind == *kind));
                if !referenced && self.fs.len(file).ok().flatten().is_some() {
                    self.fs
                        .remove(file)
                        .map_err(StoreError::io("remove", file))?;
                    changed = true;
                    report
                        .events
                        .push(RecoveryEvent::OrphanRemoved { file: file.clone() });
                }
            }
        }

        changed |= self.recover_staging(has_staging, has_meta, &mut report)?;
        if changed {
            self.sync_dir()?;
        }
        Ok(report)
    }

    /// Rebuilds the slots of `name` from its files when its record is unreadable: the files
    /// that check out, active first (which of two was active cannot be known; neither is
    /// pending).
    fn rebuild(
        &mut self,
        name: &str,
        reason: String,
        blobs: &BlobsByName,
        report: &mut Recovery,
    ) -> Result<Slots, StoreError> {
        report.events.push(RecoveryEvent::RecordRebuilt {
            name: name.into(),
            reason,
        });
        let mut found = Vec::new();
        for (file, sha256, kind) in blobs.get(name).map(Vec::as_slice).unwrap_or_default() {
            let Some(size) = self.fs.len(file).map_err(StoreError::io("stat", file))? else {
                continue;
            };
            match self.check(file, sha256, *kind)? {
                Check::Good { version, .. } => found.push(Entry {
                    sha256: *sha256,
                    size,
                    kind: *kind,
                    version,
                    verified: true,
                }),
                Check::Refused(_) => found.push(Entry {
                    sha256: *sha256,
                    size,
                    kind: *kind,
                    version: String::new(),
                    verified: false,
                }),
                Check::Damaged { .. } => {}
            }
        }
        found.sort_by_key(|e| !e.verified);
        let mut found = found.into_iter();
        Ok(Slots {
            active: found.next(),
            previous: found.next(),
            pending: false,
        })
    }

    /// Keeps a partial transfer at the bytes that exist and were recorded durable, or removes
    /// it. Returns whether names changed.
    fn recover_staging(
        &mut self,
        has_staging: bool,
        has_meta: bool,
        report: &mut Recovery,
    ) -> Result<bool, StoreError> {
        if !has_staging && !has_meta {
            return Ok(false);
        }
        let meta = if has_meta {
            read_all(&self.fs, STAGING_META, MAX_RECORD_LEN)
                .map_err(|e| e.to_string())
                .and_then(|b| record::decode::<StagingRecord>(&b))
                .and_then(|m| {
                    validate_name(&m.name)
                        .map(|()| m)
                        .map_err(|e| e.to_string())
                })
        } else {
            Err("its record is missing".into())
        };
        let meta = match (meta, has_staging) {
            (Ok(meta), true) => meta,
            (Ok(_), false) => {
                self.discard_staging(false)?;
                report.events.push(RecoveryEvent::StagingDiscarded {
                    reason: "its data file is missing".into(),
                });
                return Ok(true);
            }
            (Err(reason), _) => {
                self.discard_staging(false)?;
                report
                    .events
                    .push(RecoveryEvent::StagingDiscarded { reason });
                return Ok(true);
            }
        };
        let len = self
            .fs
            .len(STAGING)
            .map_err(StoreError::io("stat", STAGING))?
            .unwrap_or(0);
        let kept = meta.durable.min(len).min(meta.size);
        if len != kept {
            self.fs
                .truncate(STAGING, kept)
                .map_err(StoreError::io("truncate", STAGING))?;
        }
        let staging = Staging {
            name: meta.name.clone(),
            size: meta.size,
            sha256: meta.sha256,
            kind: meta.kind,
            signed: meta.signed,
            written: kept,
            durable: kept,
        };
        if kept < meta.durable {
            report.events.push(RecoveryEvent::StagingTruncated {
                name: meta.name.clone(),
                claimed: meta.durable,
                kept,
            });
            self.fs
                .fsync(STAGING)
                .map_err(StoreError::io("fsync", STAGING))?;
            self.write_replace(STAGING_META, &record::encode(&staging.record(kept)))?;
        }
        report.events.push(RecoveryEvent::StagingKept {
            name: meta.name,
            sha256: meta.sha256,
            bytes: kept,
            size: meta.size,
        });
        self.staging = Some(staging);
        Ok(kept < meta.durable)
    }
}

fn stored(name: &str, slot: Slot, entry: &Entry, pending: bool) -> StoredModel {
    StoredModel {
        name: name.to_owned(),
        slot,
        version: entry.version.clone(),
        sha256: entry.sha256,
        size: entry.size,
        kind: entry.kind,
        verified: entry.verified,
        pending: pending && slot == Slot::Previous,
        file: blob_file(name, &entry.sha256, entry.kind),
    }
}

/// The store is where a device's `DownloadState` writes accepted chunks:
/// `download.on_chunk(&chunk, &mut store)` writes into the open transfer.
impl<F: StoreFs> ChunkSink for Store<F> {
    type Error = StoreError;

    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), StoreError> {
        self.write_chunk(offset, data)
    }
}

/// The staging writer of one open transfer ([`Store::sink`]): a [`ChunkSink`] that writes into
/// it.
pub struct StagingSink<'a, F: StoreFs> {
    store: &'a mut Store<F>,
}

impl<F: StoreFs> ChunkSink for StagingSink<'_, F> {
    type Error = StoreError;

    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), StoreError> {
        self.store.write_chunk(offset, data)
    }
}
