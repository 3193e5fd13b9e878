//! Helpers shared by the store's tests: bundles, keys, and a flash driven the way the device's
//! link server drives it (`DownloadState` writing into the store as its `ChunkSink`).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sentio_link::{Chunk, DownloadState, ErrorCode, Message, TransferKind};
use sentio_models::{
    Bundle, DType, Figures, InputSpec, LabelSpec, Manifest, Precision, Preprocessing, SigningKey,
    Task, VerifyingKey, bundle_sha256, sign,
};
use sentio_store::{Begin, Store, StoreFs};

pub fn signing_key() -> SigningKey {
    SigningKey::from_bytes(&[42; 32])
}

pub fn public_key() -> VerifyingKey {
    signing_key().verifying_key()
}

pub fn manifest(name: &str, version: &str) -> Manifest {
    Manifest::new(
        name,
        version,
        Task::Emoji,
        LabelSpec::new(
            "emoji8",
            &["slightly_smiling", "heart_eyes", "neutral", "angry"],
        ),
        InputSpec {
            shape: vec![1, 1, 48, 48],
            dtype: DType::F32,
            preprocessing: Preprocessing::gray48(),
            extra: Figures::new(),
        },
        Precision::F32,
    )
}

/// An unsigned bundle of model `name` with a `len`-byte model made from `seed`.
pub fn bundle(name: &str, version: &str, len: usize, seed: u8) -> Vec<u8> {
    let model: Vec<u8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(29).wrapping_add(seed))
        .collect();
    Bundle::pack(&manifest(name, version), &model, None).unwrap()
}

/// The same, signed with [`signing_key`].
pub fn signed_bundle(name: &str, version: &str, len: usize, seed: u8) -> Vec<u8> {
    sign(&bundle(name, version, len, seed), &signing_key()).unwrap()
}

/// How far a flash got.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub skipped: bool,
    pub resume_offset: Option<u64>,
    pub committed: bool,
    pub activated: bool,
    pub error: Option<ErrorCode>,
}

/// Begin, chunks through `DownloadState` into the store, commit, activate — as `sentio flash`
/// and the device's link server do it. Stops at the first error.
pub fn flash<F: StoreFs>(
    store: &mut Store<F>,
    name: &str,
    bytes: &[u8],
    chunk_len: usize,
) -> Progress {
    let mut progress = Progress::default();
    let signed = bytes.len() >= 80 && &bytes[bytes.len() - 80..bytes.len() - 72] == b"SNTSIG01";
    let begin = store.begin(
        name,
        bytes.len() as u64,
        bundle_sha256(bytes),
        signed,
        TransferKind::Bundle,
    );
    let resume = match begin {
        Ok(Begin::Skip) => {
            progress.skipped = true;
            return progress;
        }
        Ok(Begin::Accept { resume_offset }) => resume_offset,
        Err(e) => {
            progress.error = Some(e.error_code());
            return progress;
        }
    };
    progress.resume_offset = Some(resume);
    let mut download = DownloadState::new(7, bytes.len() as u64, resume);
    while !download.is_complete() {
        let at = download.received() as usize;
        let end = (at + chunk_len).min(bytes.len());
        let chunk = Chunk::new(7, at as u64, &bytes[at..end]).unwrap();
        let mut sink = match store.sink(name) {
            Ok(sink) => sink,
            Err(e) => {
                progress.error = Some(e.error_code());
                return progress;
            }
        };
        match download.on_chunk(&chunk, &mut sink) {
            Ok(Message::ChunkAck { received, .. }) => assert_eq!(received, end as u64),
            Ok(other) => panic!("unexpected reply {other:?}"),
            Err(e) => {
                progress.error = Some(e.code());
                return progress;
            }
        }
    }
    download.check_commit(7).unwrap();
    if let Err(e) = store.commit(name) {
        progress.error = Some(e.error_code());
        return progress;
    }
    progress.committed = true;
    if let Err(e) = store.activate(name) {
        progress.error = Some(e.error_code());
        return progress;
    }
    progress.activated = true;
    progress
}
