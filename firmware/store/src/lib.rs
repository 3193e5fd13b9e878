//! The on-device model store: where models flashed over the serial link land, get verified,
//! and wait in A/B slots.
//!
//! ```text
//! begin ─▶ write_chunk × n ─▶ commit (verify) ─▶ previous slot ─▶ activate ─▶ active slot
//!   │            │ every checkpoint_every bytes: fsync + record = resumable after a power cut
//!   └─ Skip when the active version has this SHA-256          rollback swaps the two slots
//! ```
//!
//! A transfer is written into a staging file. [`Store::commit`] makes it durable, reads it back
//! and verifies it (SHA-256 of the whole file against the announced one; for a bundle, its
//! structure, section hashes and, when the store has a public key, its ed25519 signature), and
//! only then renames it into place. [`Store::activate`] makes it the active version, the old one
//! becomes the rollback target. [`Store::open`] repairs what a power cut left and says what it
//! did ([`Recovery`]). The store implements `sentio_link::ChunkSink`, so the device's
//! `DownloadState::on_chunk` writes straight into it, and every [`StoreError`] maps to the
//! link's `ErrorCode` ([`StoreError::error_code`]).
//!
//! The device's link server drives a transfer like this (`sentio flash` on the other end):
//!
//! ```
//! use sentio_link::{Chunk, DownloadState, TransferKind};
//! use sentio_models::bundle_sha256;
//! use sentio_store::{Begin, MemFs, Store, StoreConfig};
//!
//! let (mut store, recovery) = Store::open(MemFs::new(), StoreConfig::new(1 << 20))?;
//! assert!(recovery.is_clean()); // the device logs `recovery` otherwise
//! # let file = sentio_models::Bundle::pack(&sentio_models::Manifest::new("fer", "1",
//! #     sentio_models::Task::Fer, sentio_models::LabelSpec::new("x", &["a"]),
//! #     sentio_models::InputSpec { shape: vec![1], dtype: sentio_models::DType::F32,
//! #     preprocessing: sentio_models::Preprocessing::none(), extra: Default::default() },
//! #     sentio_models::Precision::F32), b"model", None)?;
//! // BeginTransfer { name: "fer", size, sha256, signed, kind }
//! let Begin::Accept { resume_offset } =
//!     store.begin("fer", file.len() as u64, bundle_sha256(&file), false, TransferKind::Bundle)?
//! else {
//!     unreachable!("Begin::Skip: answer TransferSkipped")
//! };
//! let mut download = DownloadState::new(1, file.len() as u64, resume_offset);
//! for (i, piece) in file.chunks(1024).enumerate() {
//!     let chunk = Chunk::new(1, (i * 1024) as u64, piece).unwrap();
//!     // Answer with the ChunkAck, or Error { code } (a store error is `Storage`).
//!     let _reply = download.on_chunk(&chunk, &mut store.sink("fer")?);
//! }
//! download.check_commit(1)?; // Commit { transfer_id: 1 }
//! let committed = store.commit("fer")?; // answer Committed { verified: true }
//! assert!(committed.verified);
//! store.activate("fer")?; // Activate { name }: answer Done
//! assert_eq!(store.read_active("fer")?, file);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # On disk
//!
//! One flat directory ([`StoreFs`]; [`DirFs`] on a real disk, [`MemFs`] in tests):
//!
//! | file | what |
//! | --- | --- |
//! | `<name>@<sha256 hex>.bundle` (or `.model`) | a stored version, never modified after its rename into place |
//! | `<name>@slots` | the slot record: active and previous version (SHA-256, size, kind, version), `pending` |
//! | `staging.part` | the transfer in progress |
//! | `staging.meta` | what it is (name, size, SHA-256, kind) and how many bytes were fsynced |
//! | `*.tmp` | a record being written; only a crash leaves one |
//!
//! Records are one JSON line plus a SHA-256 line, always written as `x.tmp`, fsynced, renamed
//! over `x`. Model names never contain `@`, so names never collide.
//!
//! # Why a power cut at any byte leaves a verified model
//!
//! The active version is whatever the durable slot record names, and the record only ever names
//! files that were verified and durable before the record was written:
//!
//! 1. *Commit*: `fsync(staging.part)`, read back and verify, `rename(staging.part → blob)`,
//!    `remove(staging.meta)`, `fsync_dir` — the blob is durable under its final name; then the
//!    new record (`tmp`, `fsync`, `rename`, `fsync_dir`) puts it in the previous slot. A cut
//!    before the record's rename is durable leaves the old record: the new blob is an orphan,
//!    removed at the next open.
//! 2. *Activate / rollback*: only the record changes, by an atomic rename made durable by
//!    `fsync_dir`: the old record or the new one survives, both name durable, verified files.
//! 3. *Delete*: the record goes first (`remove`, `fsync_dir`), then the files.
//! 4. *Transfer*: chunks go into `staging.part` only. A checkpoint is `fsync(staging.part)`,
//!    then the record of the byte count (`tmp`, `fsync`, `rename`); so the record never counts
//!    a byte that was not durable, and the resume offset after a cut is at most the bytes that
//!    survived (a lost rename just leaves an older, smaller count). A new transfer makes its
//!    staging names durable (`fsync_dir`) before writing its first byte, so no record of an
//!    older transfer can describe the new bytes.
//! 5. *Open*: removes `*.tmp`, re-verifies every slot's file (a missing or damaged file empties
//!    its slot; a lost active version falls back to the previous one if that verifies), removes
//!    orphans, and truncates `staging.part` to the recorded durable count.
//!
//! What this crate must not do: activate, or hand to the device to run, a version that did not
//! verify; trust a byte of `staging.part` that was not fsynced; panic on any file or link input;
//! print (it returns a [`Recovery`] report and errors; the device logs them).

mod error;
mod fs;
mod memfs;
mod record;
mod store;

pub use error::{StoreError, bundle_error_code};
pub use fs::{DirFs, FsReader, StoreFs};
pub use memfs::MemFs;
pub use record::{FileKind, STAGING, STAGING_META, blob_file, record_file};
pub use store::{
    Begin, CheckOutcome, Recovery, RecoveryEvent, StagingSink, Store, StoreConfig, StoredModel,
    TransferStatus, Usage, validate_name,
};
