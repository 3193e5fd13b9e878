//! [`MemoryStore`]: the [`ModelStore`] rules over in-memory buffers, for tests on both sides of
//! the link (and for a device without storage).

use std::collections::BTreeMap;
use std::fmt;

use heapless::String;
use sentio_link::{
    BeginTransfer, Capabilities, ChunkSink, ErrorCode, MAX_VERSION_LEN, ModelInfo, ModelName,
    Sha256, Slot, TransferKind, validate_model_name,
};
use sha2::Digest;

use crate::store::{BeginDecision, BeginMode, ModelStore};

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> Sha256 {
    sha2::Sha256::digest(data).into()
}

/// Checks a committed file beyond its SHA-256 (a bundle signature, a manifest); returns the
/// [`ErrorCode`] to refuse it with.
pub type Verifier = Box<dyn Fn(&[u8], &Staged) -> Result<(), ErrorCode> + Send>;

/// Reads the version string to report for a stored file (from its manifest).
pub type VersionReader = fn(&[u8]) -> String<MAX_VERSION_LEN>;

/// An upload being received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Staged {
    /// Announced SHA-256.
    pub sha256: Sha256,
    /// Announced size.
    pub size: u64,
    /// Announced kind.
    pub kind: TransferKind,
    /// Whether the host said the file is signed.
    pub signed: bool,
    /// Bytes received so far.
    pub data: Vec<u8>,
}

/// A stored version.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Stored {
    sha256: Sha256,
    data: Vec<u8>,
    verified: bool,
    version: String<MAX_VERSION_LEN>,
    /// It was the active version once (so a rollback may return to it).
    was_active: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Slots {
    active: Option<Stored>,
    previous: Option<Stored>,
}

impl Slots {
    fn get(&self, slot: Slot) -> Option<&Stored> {
        match slot {
            Slot::Active => self.active.as_ref(),
            Slot::Previous => self.previous.as_ref(),
        }
    }

    /// `Previous` is a committed upload waiting for activation (it was never active), or the
    /// only version there is.
    fn pending(&self) -> bool {
        self.previous
            .as_ref()
            .is_some_and(|p| !p.was_active || self.active.is_none())
    }

    fn bytes(&self) -> u64 {
        [&self.active, &self.previous]
            .into_iter()
            .flatten()
            .map(|s| s.data.len() as u64)
            .sum()
    }
}

/// One activation, as recorded by [`MemoryStore::activations`]: the SHA-256 of the bytes that
/// became active, computed from the bytes at that moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivationRecord {
    /// Model name.
    pub name: ModelName,
    /// SHA-256 of the bytes made active.
    pub sha256_of_bytes: Sha256,
}

/// A [`ModelStore`] in memory with the semantics of the real one: per-name staging kept across
/// sessions for resuming, commit verifies SHA-256 (and an optional [`Verifier`]), two slots per
/// name, a quota, name validation. Activation re-hashes the bytes and refuses a mismatch, and
/// every activation is logged ([`MemoryStore::activations`]) so tests can prove nothing
/// unverified ever ran.
pub struct MemoryStore {
    quota: u64,
    resume: bool,
    require_signed: bool,
    models: BTreeMap<ModelName, Slots>,
    staging: BTreeMap<ModelName, Staged>,
    verifier: Option<Verifier>,
    version_reader: Option<VersionReader>,
    failing_writes: usize,
    activations: Vec<ActivationRecord>,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("quota", &self.quota)
            .field("resume", &self.resume)
            .field("require_signed", &self.require_signed)
            .field("models", &self.models.keys().collect::<Vec<_>>())
            .field("staging", &self.staging.keys().collect::<Vec<_>>())
            .field("activations", &self.activations.len())
            .finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// An empty store of `quota_bytes` that keeps partial uploads and takes unsigned files.
    pub fn new(quota_bytes: u64) -> Self {
        Self {
            quota: quota_bytes,
            resume: true,
            require_signed: false,
            models: BTreeMap::new(),
            staging: BTreeMap::new(),
            verifier: None,
            version_reader: None,
            failing_writes: 0,
            activations: Vec::new(),
        }
    }

    /// Whether partial uploads are kept for resuming (default true). Without it every
    /// `begin` starts from 0 and the store does not announce [`Capabilities::RESUME`].
    pub fn with_resume(mut self, resume: bool) -> Self {
        self.resume = resume;
        self
    }

    /// Refuse uploads the host does not announce as signed ([`ErrorCode::UnsignedRefused`]),
    /// and announce [`Capabilities::SIGNATURES`], like a device with a public key.
    pub fn require_signed(mut self, require: bool) -> Self {
        self.require_signed = require;
        self
    }

    /// Runs `verifier` at commit after the SHA-256 check (e.g. a signature check).
    pub fn with_verifier(mut self, verifier: Verifier) -> Self {
        self.verifier = Some(verifier);
        self
    }

    /// Reports versions read from the stored bytes by `reader` (default: empty).
    pub fn with_version_reader(mut self, reader: VersionReader) -> Self {
        self.version_reader = Some(reader);
        self
    }

    /// Makes the next `n` chunk writes fail (the device answers `Storage`).
    pub fn fail_next_writes(&mut self, n: usize) {
        self.failing_writes = n;
    }

    /// Bytes of the `slot` version of `name`.
    pub fn bytes(&self, name: &str, slot: Slot) -> Option<&[u8]> {
        let key = ModelName::try_from(name).ok()?;
        self.models
            .get(&key)?
            .get(slot)
            .map(|stored| stored.data.as_slice())
    }

    /// Bytes staged for `name` (an upload in progress or interrupted).
    pub fn staged(&self, name: &str) -> Option<&Staged> {
        let key = ModelName::try_from(name).ok()?;
        self.staging.get(&key)
    }

    /// Every activation so far, in order.
    pub fn activations(&self) -> &[ActivationRecord] {
        &self.activations
    }

    /// Bytes held in slots and staging.
    pub fn used_bytes(&self) -> u64 {
        let slots: u64 = self.models.values().map(Slots::bytes).sum();
        let staged: u64 = self.staging.values().map(|s| s.size).sum();
        slots + staged
    }

    fn info(name: &ModelName, slot: Slot, stored: &Stored) -> ModelInfo {
        ModelInfo {
            name: name.clone(),
            version: stored.version.clone(),
            sha256: stored.sha256,
            size: stored.data.len() as u64,
            slot,
            verified: stored.verified,
        }
    }

    fn check_name(name: &ModelName) -> Result<(), ErrorCode> {
        validate_model_name(name.as_str())
    }

    /// Bytes free for an upload of `name`: the quota less everything stored, except what a
    /// commit of `name` replaces (its `Previous` slot and its own staging).
    fn available_for(&self, name: &ModelName) -> u64 {
        let replaced = self
            .models
            .get(name)
            .and_then(|s| s.previous.as_ref())
            .map_or(0, |p| p.data.len() as u64)
            + self.staging.get(name).map_or(0, |s| s.size);
        self.quota
            .saturating_sub(self.used_bytes().saturating_sub(replaced))
    }

    /// Makes `Previous` active and the active version `Previous`, after checking that
    /// `Previous` verified and its bytes still match their hash; returns the SHA-256 of the
    /// bytes made active.
    fn swap_in_previous(slots: &mut Slots) -> Result<Sha256, ErrorCode> {
        let previous = slots.previous.as_ref().ok_or(ErrorCode::UnknownModel)?;
        // Never activate what was not verified, nor bytes that no longer match their hash.
        let actual = sha256(&previous.data);
        if !previous.verified || actual != previous.sha256 {
            return Err(ErrorCode::NotVerified);
        }
        let mut new_active = slots.previous.take().ok_or(ErrorCode::Internal)?;
        new_active.was_active = true;
        slots.previous = slots.active.take();
        slots.active = Some(new_active);
        Ok(actual)
    }
}

/// The [`ChunkSink`] of a [`MemoryStore`] staging.
#[derive(Debug)]
pub struct MemorySink<'a> {
    staged: &'a mut Staged,
    failing_writes: &'a mut usize,
}

/// Why a [`MemorySink`] write failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemorySinkError {
    /// A failure asked for with [`MemoryStore::fail_next_writes`].
    Injected,
    /// Not at the end of the staged bytes, or past the announced size.
    Offset,
}

impl ChunkSink for MemorySink<'_> {
    type Error = MemorySinkError;

    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), Self::Error> {
        if *self.failing_writes > 0 {
            *self.failing_writes -= 1;
            return Err(MemorySinkError::Injected);
        }
        let len = self.staged.data.len() as u64;
        if offset != len || len + data.len() as u64 > self.staged.size {
            return Err(MemorySinkError::Offset);
        }
        self.staged.data.extend_from_slice(data);
        Ok(())
    }
}

impl ModelStore for MemoryStore {
    type Sink<'a> = MemorySink<'a>;

    fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::NONE;
        if self.resume {
            caps = caps | Capabilities::RESUME;
        }
        if self.require_signed {
            caps = caps | Capabilities::SIGNATURES;
        }
        caps
    }

    fn quota_bytes(&self) -> u64 {
        self.quota
    }

    fn begin(
        &mut self,
        request: &BeginTransfer,
        mode: BeginMode,
    ) -> Result<BeginDecision, ErrorCode> {
        let name = &request.name;
        Self::check_name(name)?;
        if self.require_signed && !request.signed {
            return Err(ErrorCode::UnsignedRefused);
        }
        let slots = self.models.get(name);
        let active = slots.and_then(|s| s.active.as_ref());
        if mode == BeginMode::SkipIfActive
            && active.is_some_and(|a| a.verified && a.sha256 == request.sha256)
        {
            return Ok(BeginDecision::Skip);
        }
        let available = self.available_for(name);
        if request.size > available {
            return Err(ErrorCode::QuotaExceeded {
                needed: request.size,
                available,
            });
        }
        // Resume a staging of this very file; or, when the committed-but-not-activated version
        // is this file, offer all of it (the host then only commits).
        let kept = self
            .staging
            .remove(name)
            .filter(|s| self.resume && s.sha256 == request.sha256 && s.size == request.size);
        let previous_same = slots
            .and_then(|s| s.previous.as_ref())
            .filter(|p| {
                self.resume
                    && p.verified
                    && p.sha256 == request.sha256
                    && p.data.len() as u64 == request.size
            })
            .map(|p| p.data.clone());
        let data = match (kept, previous_same) {
            (Some(kept), _) => kept.data,
            (None, Some(data)) => data,
            (None, None) => Vec::new(),
        };
        let resume_offset = data.len() as u64;
        self.staging.insert(
            name.clone(),
            Staged {
                sha256: request.sha256,
                size: request.size,
                kind: request.kind,
                signed: request.signed,
                data,
            },
        );
        Ok(BeginDecision::Accept { resume_offset })
    }

    fn sink(&mut self, name: &ModelName) -> Result<Self::Sink<'_>, ErrorCode> {
        let staged = self
            .staging
            .get_mut(name)
            .ok_or(ErrorCode::UnknownTransfer)?;
        Ok(MemorySink {
            staged,
            failing_writes: &mut self.failing_writes,
        })
    }

    fn commit(&mut self, name: &ModelName) -> Result<ModelInfo, ErrorCode> {
        let staged = self.staging.get(name).ok_or(ErrorCode::UnknownTransfer)?;
        if staged.data.len() as u64 != staged.size {
            return Err(ErrorCode::Incomplete {
                received: staged.data.len() as u64,
                size: staged.size,
            });
        }
        let staged = self
            .staging
            .remove(name)
            .ok_or(ErrorCode::UnknownTransfer)?;
        if sha256(&staged.data) != staged.sha256 {
            return Err(ErrorCode::HashMismatch);
        }
        if let Some(verify) = &self.verifier {
            verify(&staged.data, &staged)?;
        }
        let version = self
            .version_reader
            .map(|read| read(&staged.data))
            .unwrap_or_default();
        let stored = Stored {
            sha256: staged.sha256,
            data: staged.data,
            verified: true,
            version,
            was_active: false,
        };
        let info = Self::info(name, Slot::Previous, &stored);
        self.models.entry(name.clone()).or_default().previous = Some(stored);
        Ok(info)
    }

    fn abort(&mut self, name: &ModelName) -> Result<(), ErrorCode> {
        self.staging
            .remove(name)
            .map(drop)
            .ok_or(ErrorCode::UnknownTransfer)
    }

    /// Like the real store: the committed upload waiting in `Previous` becomes active and the
    /// active version becomes `Previous` (the rollback target). With nothing waiting, nothing
    /// changes: `Ok` if the active version is verified (it is already active), else
    /// [`ErrorCode::NotVerified`].
    fn activate(&mut self, name: &ModelName) -> Result<(), ErrorCode> {
        Self::check_name(name)?;
        let slots = self.models.get_mut(name).ok_or(ErrorCode::UnknownModel)?;
        if !slots.pending() {
            // Already active: a no-op, as long as what runs is verified and intact.
            return match &slots.active {
                Some(active) if active.verified && sha256(&active.data) == active.sha256 => Ok(()),
                Some(_) => Err(ErrorCode::NotVerified),
                None => Err(ErrorCode::UnknownModel),
            };
        }
        let actual = Self::swap_in_previous(slots)?;
        self.activations.push(ActivationRecord {
            name: name.clone(),
            sha256_of_bytes: actual,
        });
        Ok(())
    }

    fn rollback(&mut self, name: &ModelName) -> Result<(), ErrorCode> {
        Self::check_name(name)?;
        let slots = self.models.get_mut(name).ok_or(ErrorCode::UnknownModel)?;
        // A fresh commit (pending) is not a version to roll back to.
        if slots.previous.is_none() || slots.pending() {
            return Err(ErrorCode::NothingToRollBack);
        }
        let actual = Self::swap_in_previous(slots)?;
        self.activations.push(ActivationRecord {
            name: name.clone(),
            sha256_of_bytes: actual,
        });
        Ok(())
    }

    /// Like the real store: only a name with a stored version is known; its staging goes
    /// with it. A name with nothing but a staging is [`ErrorCode::UnknownModel`] (abort the
    /// transfer instead), and its staging is kept.
    fn delete(&mut self, name: &ModelName) -> Result<(), ErrorCode> {
        Self::check_name(name)?;
        self.models.remove(name).ok_or(ErrorCode::UnknownModel)?;
        self.staging.remove(name);
        Ok(())
    }

    fn list(&self) -> Result<Vec<ModelInfo>, ErrorCode> {
        let mut out = Vec::new();
        for (name, slots) in &self.models {
            for slot in [Slot::Active, Slot::Previous] {
                if let Some(stored) = slots.get(slot) {
                    out.push(Self::info(name, slot, stored));
                }
            }
        }
        Ok(out)
    }

    fn inspect(&self, name: &ModelName, slot: Slot) -> Result<ModelInfo, ErrorCode> {
        Self::check_name(name)?;
        self.models
            .get(name)
            .and_then(|s| s.get(slot))
            .map(|stored| Self::info(name, slot, stored))
            .ok_or(ErrorCode::UnknownModel)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use sentio_link::model_name;

    fn begin(name: &str, data: &[u8]) -> BeginTransfer {
        BeginTransfer {
            name: model_name(name).unwrap(),
            size: data.len() as u64,
            sha256: sha256(data),
            signed: false,
            kind: TransferKind::Bundle,
        }
    }

    fn upload(store: &mut MemoryStore, name: &str, data: &[u8]) -> Result<(), ErrorCode> {
        let req = begin(name, data);
        match store.begin(&req, BeginMode::SkipIfActive)? {
            BeginDecision::Skip => return Ok(()),
            BeginDecision::Accept { resume_offset } => {
                let mut sink = store.sink(&req.name)?;
                sink.write_at(resume_offset, &data[resume_offset as usize..])
                    .map_err(|_| ErrorCode::Storage)?;
            }
        }
        store.commit(&req.name)?;
        store.activate(&req.name)
    }

    #[test]
    fn slots_activate_rollback_delete() {
        let mut store = MemoryStore::new(1000);
        let fer = model_name("fer").unwrap();
        upload(&mut store, "fer", b"one").unwrap();
        assert_eq!(store.bytes("fer", Slot::Active), Some(&b"one"[..]));
        assert_eq!(store.rollback(&fer), Err(ErrorCode::NothingToRollBack));
        upload(&mut store, "fer", b"two").unwrap();
        assert_eq!(store.bytes("fer", Slot::Previous), Some(&b"one"[..]));
        store.rollback(&fer).unwrap();
        assert_eq!(store.bytes("fer", Slot::Active), Some(&b"one"[..]));
        assert_eq!(store.list().unwrap().len(), 2);
        // A fresh commit replaces Previous: there is nothing to roll back to any more.
        let req = begin("fer", b"three");
        store.begin(&req, BeginMode::SkipIfActive).unwrap();
        store.sink(&fer).unwrap().write_at(0, b"three").unwrap();
        store.commit(&fer).unwrap();
        assert_eq!(store.rollback(&fer), Err(ErrorCode::NothingToRollBack));
        store.delete(&fer).unwrap();
        assert_eq!(store.delete(&fer), Err(ErrorCode::UnknownModel));
        assert_eq!(
            store.inspect(&fer, Slot::Active),
            Err(ErrorCode::UnknownModel)
        );
        assert_eq!(store.activations().len(), 3);
    }

    #[test]
    fn activate_with_nothing_pending_and_delete_of_a_bare_staging_as_the_real_store() {
        let mut store = MemoryStore::new(1000);
        let fer = model_name("fer").unwrap();
        upload(&mut store, "fer", b"one").unwrap();
        upload(&mut store, "fer", b"two").unwrap();
        assert_eq!(store.activations().len(), 2);
        // Nothing pending: activating again keeps what runs (no swap back to "one").
        store.activate(&fer).unwrap();
        store.activate(&fer).unwrap();
        assert_eq!(store.bytes("fer", Slot::Active), Some(&b"two"[..]));
        assert_eq!(store.bytes("fer", Slot::Previous), Some(&b"one"[..]));
        assert_eq!(store.activations().len(), 2);
        // After a rollback, too: activate does not undo it.
        store.rollback(&fer).unwrap();
        store.activate(&fer).unwrap();
        assert_eq!(store.bytes("fer", Slot::Active), Some(&b"one"[..]));
        assert_eq!(store.activations().len(), 3);
        // A commit is pending until activated, once.
        let req = begin("fer", b"three");
        store.begin(&req, BeginMode::SkipIfActive).unwrap();
        store.sink(&fer).unwrap().write_at(0, b"three").unwrap();
        store.commit(&fer).unwrap();
        store.activate(&fer).unwrap();
        store.activate(&fer).unwrap();
        assert_eq!(store.bytes("fer", Slot::Active), Some(&b"three"[..]));
        assert_eq!(store.bytes("fer", Slot::Previous), Some(&b"one"[..]));
        assert_eq!(store.activations().len(), 4);

        // A name with only a staging is not a model: delete refuses and keeps the staging.
        let ser = model_name("ser").unwrap();
        store
            .begin(&begin("ser", b"12345"), BeginMode::SkipIfActive)
            .unwrap();
        store.sink(&ser).unwrap().write_at(0, b"12").unwrap();
        assert_eq!(store.delete(&ser), Err(ErrorCode::UnknownModel));
        assert_eq!(store.staged("ser").unwrap().data, b"12");
        assert_eq!(store.activate(&ser), Err(ErrorCode::UnknownModel));
        // Deleting a model takes its staging with it.
        store
            .begin(&begin("fer", b"four"), BeginMode::SkipIfActive)
            .unwrap();
        store.delete(&fer).unwrap();
        assert!(store.staged("fer").is_none());
        assert_eq!(store.activate(&fer), Err(ErrorCode::UnknownModel));
    }

    #[test]
    fn begin_rules() {
        let mut store = MemoryStore::new(10);
        upload(&mut store, "a", b"12345").unwrap();
        assert_eq!(
            store.begin(&begin("a", b"12345"), BeginMode::SkipIfActive),
            Ok(BeginDecision::Skip)
        );
        assert_eq!(
            store.begin(&begin("a", b"12345"), BeginMode::Force),
            Ok(BeginDecision::Accept { resume_offset: 0 })
        );
        // The staging counts against the quota until it is aborted.
        assert_eq!(
            store.begin(&begin("b", b"123456"), BeginMode::SkipIfActive),
            Err(ErrorCode::QuotaExceeded {
                needed: 6,
                available: 0
            })
        );
        store.abort(&model_name("a").unwrap()).unwrap();
        assert_eq!(
            store.begin(&begin("b", b"123456"), BeginMode::SkipIfActive),
            Err(ErrorCode::QuotaExceeded {
                needed: 6,
                available: 5
            })
        );
        let mut bad = begin("b", b"1");
        bad.name = ModelName::try_from("../etc").unwrap();
        assert_eq!(
            store.begin(&bad, BeginMode::SkipIfActive),
            Err(ErrorCode::BadName)
        );
        let mut signed_store = MemoryStore::new(10).require_signed(true);
        assert_eq!(
            signed_store.begin(&begin("a", b"1"), BeginMode::SkipIfActive),
            Err(ErrorCode::UnsignedRefused)
        );
    }

    #[test]
    fn resume_and_hash_check() {
        let mut store = MemoryStore::new(100);
        let data = b"0123456789";
        let req = begin("m", data);
        store.begin(&req, BeginMode::SkipIfActive).unwrap();
        store
            .sink(&req.name)
            .unwrap()
            .write_at(0, &data[..4])
            .unwrap();
        assert_eq!(
            store.begin(&req, BeginMode::SkipIfActive),
            Ok(BeginDecision::Accept { resume_offset: 4 })
        );
        store.fail_next_writes(1);
        assert!(
            store
                .sink(&req.name)
                .unwrap()
                .write_at(4, &data[4..])
                .is_err()
        );
        assert_eq!(store.staged("m").unwrap().data.len(), 4);
        // The staged bytes differ from the announced file: commit refuses and discards them.
        store
            .sink(&req.name)
            .unwrap()
            .write_at(4, b"xxxxxx")
            .unwrap();
        assert_eq!(store.commit(&req.name), Err(ErrorCode::HashMismatch));
        assert!(store.staged("m").is_none());
        assert_eq!(store.activate(&req.name), Err(ErrorCode::UnknownModel));
        assert!(store.activations().is_empty());
        // Another file under the same name starts over.
        store.begin(&req, BeginMode::SkipIfActive).unwrap();
        store.sink(&req.name).unwrap().write_at(0, b"01").unwrap();
        assert_eq!(
            store.begin(&begin("m", b"other file"), BeginMode::SkipIfActive),
            Ok(BeginDecision::Accept { resume_offset: 0 })
        );
    }
}
