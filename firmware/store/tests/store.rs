//! The store's rules: transfers, verification, slots, quota, names, error codes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{bundle, flash, public_key, signed_bundle, signing_key};
use sentio_link::{
    BeginTransfer, Chunk, DownloadError, DownloadState, ErrorCode, Slot, TransferKind, model_name,
};
use sentio_models::{BundleError, bundle_sha256, sha256, sign};
use sentio_store::{
    Begin, FileKind, MemFs, STAGING, STAGING_META, Store, StoreConfig, StoreError, StoreFs,
};

fn open(fs: &MemFs, config: StoreConfig) -> Store<MemFs> {
    let (store, recovery) = Store::open(fs.clone(), config).unwrap();
    assert!(recovery.is_clean(), "{recovery}");
    store
}

fn plain() -> StoreConfig {
    StoreConfig::new(1 << 20).with_checkpoint_every(1000)
}

fn keyed() -> StoreConfig {
    plain().with_public_key(public_key())
}

fn begin<F: StoreFs>(store: &mut Store<F>, name: &str, bytes: &[u8]) -> Result<Begin, StoreError> {
    store.begin(
        name,
        bytes.len() as u64,
        bundle_sha256(bytes),
        true,
        TransferKind::Bundle,
    )
}

#[test]
fn flash_list_inspect_read() {
    let fs = MemFs::new();
    let mut store = open(&fs, plain());
    let v1 = bundle("fer", "1.0.0", 3000, 1);
    let p = flash(&mut store, "fer", &v1, 512);
    assert!(p.activated, "{p:?}");
    assert_eq!(p.resume_offset, Some(0));
    assert_eq!(store.read_active("fer").unwrap(), v1);
    let list = store.list();
    assert_eq!(list.len(), 1);
    let m = &list[0];
    assert_eq!(
        (
            m.name.as_str(),
            m.slot,
            m.version.as_str(),
            m.size,
            m.verified
        ),
        ("fer", Slot::Active, "1.0.0", v1.len() as u64, true)
    );
    assert_eq!(m.sha256, bundle_sha256(&v1));
    assert_eq!(m.kind, FileKind::Bundle);
    let info = m.to_model_info();
    assert_eq!(info.name, model_name("fer").unwrap());
    assert_eq!(info.version.as_str(), "1.0.0");
    assert!(info.verified);
    assert_eq!(fs.contents(&m.file).unwrap(), v1);
    // Nothing but the version and its record is left.
    let mut files = fs.list().unwrap();
    files.sort();
    assert_eq!(files, vec![m.file.clone(), "fer@slots".to_owned()]);
    assert_eq!(store.usage().stored, v1.len() as u64);
}

#[test]
fn identical_active_version_is_skipped() {
    let fs = MemFs::new();
    let mut store = open(&fs, plain());
    let v1 = bundle("fer", "1", 1000, 1);
    assert!(flash(&mut store, "fer", &v1, 300).activated);
    let ops = fs.ops();
    assert_eq!(begin(&mut store, "fer", &v1).unwrap(), Begin::Skip);
    assert_eq!(fs.ops(), ops, "a skip writes nothing");
    // Committed but not active is not skipped.
    let v2 = bundle("fer", "2", 1000, 2);
    let mut half = flash(&mut store, "fer", &v2, 300);
    assert!(half.activated);
    store.rollback("fer").unwrap();
    half = flash(&mut store, "fer", &v2, 300);
    assert!(!half.skipped, "v2 is only in the previous slot");
}

#[test]
fn slots_activate_rollback_delete() {
    let fs = MemFs::new();
    let mut store = open(&fs, plain());
    let (v1, v2, v3) = (
        bundle("ser", "1", 800, 1),
        bundle("ser", "2", 900, 2),
        bundle("ser", "3", 700, 3),
    );
    fn err<T: std::fmt::Debug>(r: Result<T, StoreError>) -> ErrorCode {
        r.unwrap_err().error_code()
    }
    assert_eq!(err(store.activate("ser")), ErrorCode::UnknownModel);
    assert_eq!(err(store.rollback("ser")), ErrorCode::UnknownModel);

    // First version: committed into the previous slot, nothing active yet.
    assert_eq!(
        begin(&mut store, "ser", &v1).unwrap(),
        Begin::Accept { resume_offset: 0 }
    );
    for (i, c) in v1.chunks(256).enumerate() {
        store.write_chunk(i as u64 * 256, c).unwrap();
    }
    let committed = store.commit("ser").unwrap();
    assert_eq!(
        (committed.slot, committed.pending, committed.verified),
        (Slot::Previous, true, true)
    );
    assert_eq!(
        err(store.inspect("ser", Slot::Active)),
        ErrorCode::UnknownModel
    );
    assert_eq!(err(store.read_active("ser")), ErrorCode::UnknownModel);
    assert_eq!(err(store.rollback("ser")), ErrorCode::NothingToRollBack);
    store.activate("ser").unwrap();
    assert_eq!(store.read_active("ser").unwrap(), v1);
    // Activating again changes nothing.
    store.activate("ser").unwrap();
    assert_eq!(store.read_active("ser").unwrap(), v1);
    assert_eq!(err(store.rollback("ser")), ErrorCode::NothingToRollBack);

    // Second version: pending in previous; the running one stays until activation.
    assert!(flash(&mut store, "ser", &v2, 256).activated);
    assert_eq!(store.read_active("ser").unwrap(), v2);
    let prev = store.inspect("ser", Slot::Previous).unwrap();
    assert_eq!((prev.version.as_str(), prev.pending), ("1", false));
    store.rollback("ser").unwrap();
    assert_eq!(store.read_active("ser").unwrap(), v1);
    store.rollback("ser").unwrap();
    assert_eq!(store.read_active("ser").unwrap(), v2);

    // Third version replaces the rollback target; while it is pending there is no rollback.
    assert_eq!(
        begin(&mut store, "ser", &v3).unwrap(),
        Begin::Accept { resume_offset: 0 }
    );
    store.write_chunk(0, &v3).unwrap();
    let p = store.commit("ser").unwrap();
    assert!(p.pending);
    assert_eq!(err(store.rollback("ser")), ErrorCode::NothingToRollBack);
    let v1_file = sentio_store::blob_file("ser", &bundle_sha256(&v1), FileKind::Bundle);
    assert!(
        fs.contents(&v1_file).is_none(),
        "the replaced version's file is gone"
    );
    store.activate("ser").unwrap();
    assert_eq!(store.read_active("ser").unwrap(), v3);
    store.rollback("ser").unwrap();
    assert_eq!(store.read_active("ser").unwrap(), v2);
    assert_eq!(store.list().len(), 2);

    store.delete("ser").unwrap();
    assert!(store.list().is_empty());
    assert!(fs.list().unwrap().is_empty(), "{:?}", fs.list());
    assert_eq!(err(store.delete("ser")), ErrorCode::UnknownModel);
}

#[test]
fn quota_is_checked_before_anything_is_written() {
    let fs = MemFs::new();
    let v1 = bundle("fer", "1", 3000, 1);
    let quota = 2 * v1.len() as u64 + 10;
    let mut store = open(&fs, StoreConfig::new(quota));
    assert!(flash(&mut store, "fer", &v1, 1024).activated);
    let big = bundle("ser", "1", 4000, 2);
    let ops = fs.ops();
    let e = begin(&mut store, "ser", &big).unwrap_err();
    let available = quota - v1.len() as u64;
    assert!(
        matches!(e, StoreError::QuotaExceeded { needed, available: a } if needed == big.len() as u64 && a == available),
        "{e:?}"
    );
    assert_eq!(
        e.error_code(),
        ErrorCode::QuotaExceeded {
            needed: big.len() as u64,
            available
        }
    );
    assert_eq!(fs.ops(), ops, "nothing written");
    assert!(store.transfer().is_none());
    // The name's previous slot counts as free: it is what the commit replaces.
    let v2 = bundle("fer", "2", 3000, 3);
    assert!(flash(&mut store, "fer", &v2, 1024).activated);
    let v3 = bundle("fer", "3", 3000, 4);
    assert!(flash(&mut store, "fer", &v3, 1024).activated);
    assert!(store.usage().stored <= quota);
    // Exactly the room left fits.
    let mut store = open(&MemFs::new(), StoreConfig::new(v1.len() as u64));
    assert!(flash(&mut store, "fer", &v1, 1024).activated);
}

#[test]
fn bad_names_are_refused_before_anything_is_written() {
    let fs = MemFs::new();
    let mut store = open(&fs, plain());
    let b = bundle("fer", "1", 100, 1);
    for name in [
        "",
        "..",
        "../fer",
        "a/b",
        "a\\b",
        "fer..x",
        ".hidden",
        "-x",
        "fer\0",
        "ünï",
        &"a".repeat(33),
    ] {
        let e = begin(&mut store, name, &b).unwrap_err();
        assert_eq!(e.error_code(), ErrorCode::BadName, "{name:?}");
        assert_eq!(
            store.activate(name).unwrap_err().error_code(),
            ErrorCode::BadName
        );
        assert_eq!(
            store.delete(name).unwrap_err().error_code(),
            ErrorCode::BadName
        );
    }
    assert_eq!(fs.ops(), 0);
    assert!(sentio_store::validate_name("Fer-2.onnx").is_ok());
}

#[test]
fn a_bundle_under_another_name_is_refused() {
    let mut store = open(&MemFs::new(), plain());
    let p = flash(&mut store, "fer", &bundle("ser", "1", 500, 1), 256);
    assert_eq!(p.error, Some(ErrorCode::BadName));
    assert!(!p.committed);
    assert!(store.transfer().is_none());
}

#[test]
fn signatures_are_enforced_with_a_key() {
    let fs = MemFs::new();
    let mut store = open(&fs, keyed());
    assert!(store.requires_signature());
    let unsigned = bundle("fer", "1", 1000, 1);
    // Refused at begin when announced unsigned, and for bare model files.
    let e = store
        .begin("fer", 1000, [1; 32], false, TransferKind::Bundle)
        .unwrap_err();
    assert_eq!(e.error_code(), ErrorCode::UnsignedRefused);
    let e = store
        .begin("fer", 1000, [1; 32], true, TransferKind::Model)
        .unwrap_err();
    assert_eq!(e.error_code(), ErrorCode::UnsignedRefused);
    assert_eq!(fs.ops(), 0);
    // Announced signed but is not: refused at commit and discarded.
    let ops_before = fs.ops();
    let p = {
        assert!(matches!(
            begin(&mut store, "fer", &unsigned),
            Ok(Begin::Accept { .. })
        ));
        store.write_chunk(0, &unsigned).unwrap();
        store.commit("fer").unwrap_err()
    };
    assert!(fs.ops() > ops_before);
    assert!(
        matches!(p, StoreError::Bundle(BundleError::UnsignedRefused)),
        "{p:?}"
    );
    assert_eq!(p.error_code(), ErrorCode::UnsignedRefused);
    assert!(store.transfer().is_none());
    assert!(fs.contents(STAGING).is_none() && fs.contents(STAGING_META).is_none());
    // Signed with another key.
    let other = sign(&unsigned, &sentio_models::SigningKey::from_bytes(&[1; 32])).unwrap();
    assert_eq!(
        flash(&mut store, "fer", &other, 400).error,
        Some(ErrorCode::BadSignature)
    );
    // Altered after signing (the host announces the altered file's hash).
    let good = signed_bundle("fer", "1", 1000, 1);
    let mut altered = good.clone();
    altered[good.len() - 200] ^= 4;
    assert_eq!(
        flash(&mut store, "fer", &altered, 400).error,
        Some(ErrorCode::BadSignature)
    );
    // Signed with the right key.
    let p = flash(&mut store, "fer", &good, 400);
    assert!(p.activated, "{p:?}");
    assert!(store.inspect("fer", Slot::Active).unwrap().verified);
    assert!(store.list().iter().all(|m| m.verified));
    let _ = signing_key();
}

#[test]
fn damaged_transfers_are_discarded() {
    let fs = MemFs::new();
    let mut store = open(&fs, plain());
    let v1 = bundle("fer", "1", 2000, 1);
    // The host announces one hash, the bytes hash to another.
    store
        .begin("fer", v1.len() as u64, [9; 32], false, TransferKind::Bundle)
        .unwrap();
    store.write_chunk(0, &v1).unwrap();
    let e = store.commit("fer").unwrap_err();
    assert!(matches!(e, StoreError::HashMismatch { .. }), "{e}");
    assert_eq!(e.error_code(), ErrorCode::HashMismatch);
    let help = miette::Diagnostic::help(&e).map(|h| h.to_string());
    assert!(help.is_some_and(|h| h.contains("flash it again")), "{e}");
    assert_eq!(
        store.commit("fer").unwrap_err().error_code(),
        ErrorCode::UnknownTransfer
    );
    // Not a bundle at all, with the right hash.
    let junk = vec![7u8; 500];
    let e = store
        .begin("fer", 500, sha256(&junk), false, TransferKind::Bundle)
        .and_then(|_| store.write_chunk(0, &junk))
        .and_then(|()| store.commit("fer"))
        .unwrap_err();
    assert_eq!(e.error_code(), ErrorCode::HashMismatch, "{e}");
    // A new begin starts from 0.
    assert_eq!(flash(&mut store, "fer", &v1, 512).resume_offset, Some(0));
    assert!(store.list().iter().all(|m| m.verified));
}

#[test]
fn bare_model_files_without_a_key() {
    let mut store = open(&MemFs::new(), plain());
    let onnx = b"\x08\x07 pretend onnx".repeat(50);
    store
        .begin(
            "fer.onnx",
            onnx.len() as u64,
            sha256(&onnx),
            false,
            TransferKind::Model,
        )
        .unwrap();
    store.write_chunk(0, &onnx).unwrap();
    let m = store.commit("fer.onnx").unwrap();
    assert_eq!(
        (m.kind, m.version.as_str(), m.verified),
        (FileKind::Model, "", true)
    );
    store.activate("fer.onnx").unwrap();
    assert_eq!(store.read_active("fer.onnx").unwrap(), onnx);
}

#[test]
fn chunks_must_follow_each_other() {
    let mut store = open(&MemFs::new(), plain());
    let b = bundle("fer", "1", 1000, 1);
    assert_eq!(
        store.write_chunk(0, b"x").unwrap_err().error_code(),
        ErrorCode::UnknownTransfer
    );
    begin(&mut store, "fer", &b).unwrap();
    store.write_chunk(0, &b[..100]).unwrap();
    let e = store.write_chunk(50, &b[50..60]).unwrap_err();
    assert_eq!(e.error_code(), ErrorCode::OutOfOrder { expected: 100 });
    let e = store.write_chunk(100, &vec![0; b.len()]).unwrap_err();
    assert_eq!(
        e.error_code(),
        ErrorCode::BeyondEnd {
            size: b.len() as u64
        }
    );
    let e = store.commit("fer").unwrap_err();
    assert_eq!(
        e.error_code(),
        ErrorCode::Incomplete {
            received: 100,
            size: b.len() as u64
        }
    );
    // The transfer is intact after all these refusals.
    store.write_chunk(100, &b[100..]).unwrap();
    store.commit("fer").unwrap();
}

#[test]
fn storage_errors_are_retryable() {
    let fs = MemFs::new();
    let mut store = open(&fs, plain().with_checkpoint_every(300));
    let b = bundle("fer", "1", 2000, 1);
    let request = BeginTransfer {
        name: model_name("fer").unwrap(),
        size: b.len() as u64,
        sha256: bundle_sha256(&b),
        signed: false,
        kind: TransferKind::Bundle,
    };
    let Begin::Accept { resume_offset } = store.begin_transfer(&request, false).unwrap() else {
        panic!("skip")
    };
    let mut download = DownloadState::new(1, b.len() as u64, resume_offset);
    let mut failures = 0;
    let mut next_failure = fs.ops() + 1;
    for _round in 0..1000 {
        if download.is_complete() {
            break;
        }
        let at = download.received() as usize;
        let chunk = Chunk::new(1, at as u64, &b[at..(at + 128).min(b.len())]).unwrap();
        if failures < 8 {
            fs.fail_at_op(next_failure);
        }
        match download.on_chunk(&chunk, &mut store) {
            Ok(_) => {}
            Err(e @ DownloadError::Sink(_)) => {
                assert_eq!(e.code(), ErrorCode::Storage);
                failures += 1;
                // Fail a different operation next time: a write, an fsync, a rename...
                next_failure = fs.ops() + 2 + failures;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(download.is_complete());
    assert!(failures > 3, "{failures}");
    fs.fail_at_op(fs.ops());
    let e = store.commit("fer").unwrap_err();
    assert_eq!(e.error_code(), ErrorCode::Storage);
    let help = miette::Diagnostic::help(&e).map(|h| h.to_string());
    assert!(help.is_some_and(|h| h.contains("retried")), "{e}");
    store.commit("fer").unwrap();
    store.activate("fer").unwrap();
    assert_eq!(store.read_active("fer").unwrap(), b);
}

#[test]
fn resume_and_replace_in_one_session() {
    let fs = MemFs::new();
    let mut store = open(&fs, plain().with_checkpoint_every(1 << 20));
    let a = bundle("fer", "1", 3000, 1);
    begin(&mut store, "fer", &a).unwrap();
    store.write_chunk(0, &a[..1234]).unwrap();
    assert_eq!(store.transfer().unwrap().durable, 0);
    // The link went down; the host begins again: the bytes are made durable and offered.
    assert_eq!(
        begin(&mut store, "fer", &a).unwrap(),
        Begin::Accept {
            resume_offset: 1234
        }
    );
    assert_eq!(store.transfer().unwrap().durable, 1234);
    // Another file replaces the partial one.
    let b = bundle("ser", "1", 500, 2);
    assert_eq!(
        begin(&mut store, "ser", &b).unwrap(),
        Begin::Accept { resume_offset: 0 }
    );
    assert_eq!(
        begin(&mut store, "fer", &a).unwrap(),
        Begin::Accept { resume_offset: 0 }
    );
    store.abort("fer").unwrap();
    assert!(store.transfer().is_none());
    assert_eq!(
        store.abort("fer").unwrap_err().error_code(),
        ErrorCode::UnknownTransfer
    );
    assert!(fs.list().unwrap().is_empty());
}

#[test]
fn error_codes_and_messages() {
    let io = StoreError::Io {
        op: "write",
        file: STAGING.into(),
        source: std::io::Error::other("disk full"),
    };
    let cases = [
        (
            StoreError::BadName { name: "..".into() },
            ErrorCode::BadName,
        ),
        (StoreError::UnsignedRefused, ErrorCode::UnsignedRefused),
        (StoreError::NoTransfer, ErrorCode::UnknownTransfer),
        (
            StoreError::UnknownModel { name: "x".into() },
            ErrorCode::UnknownModel,
        ),
        (
            StoreError::NothingToRollBack { name: "x".into() },
            ErrorCode::NothingToRollBack,
        ),
        (
            StoreError::NotVerified { name: "x".into() },
            ErrorCode::NotVerified,
        ),
        (
            StoreError::Bundle(BundleError::BadSignature),
            ErrorCode::BadSignature,
        ),
        (
            StoreError::Bundle(BundleError::UnsupportedVersion { version: 9 }),
            ErrorCode::Unsupported,
        ),
        (
            StoreError::Bundle(BundleError::BadMagic),
            ErrorCode::HashMismatch,
        ),
        (io, ErrorCode::Storage),
    ];
    for (e, code) in cases {
        assert_eq!(e.error_code(), code, "{e}");
        assert!(e.to_string().len() > 20);
    }
}

#[test]
fn forced_transfer_of_the_active_file() {
    let fs = MemFs::new();
    let mut store = open(&fs, plain());
    let v1 = bundle("fer", "1", 1500, 1);
    assert!(flash(&mut store, "fer", &v1, 512).activated);
    let request = BeginTransfer {
        name: model_name("fer").unwrap(),
        size: v1.len() as u64,
        sha256: bundle_sha256(&v1),
        signed: false,
        kind: TransferKind::Bundle,
    };
    assert_eq!(store.begin_transfer(&request, false).unwrap(), Begin::Skip);
    assert_eq!(
        store.begin_transfer(&request, true).unwrap(),
        Begin::Accept { resume_offset: 0 }
    );
    // Only the open transfer's own name gets a sink, a commit or an abort.
    assert_eq!(
        store.sink("ser").err().map(|e| e.error_code()),
        Some(ErrorCode::UnknownTransfer)
    );
    use sentio_link::ChunkSink;
    store.sink("fer").unwrap().write_at(0, &v1).unwrap();
    assert_eq!(
        store.commit("ser").unwrap_err().error_code(),
        ErrorCode::UnknownTransfer
    );
    assert_eq!(
        store.abort("ser").unwrap_err().error_code(),
        ErrorCode::UnknownTransfer
    );
    store.commit("fer").unwrap();
    store.activate("fer").unwrap();
    assert_eq!(store.read_active("fer").unwrap(), v1);
    store.rollback("fer").unwrap();
    assert_eq!(store.read_active("fer").unwrap(), v1);
    // Both slots share one file; replacing one keeps the other's.
    let v2 = bundle("fer", "2", 1500, 2);
    assert!(flash(&mut store, "fer", &v2, 512).activated);
    store.rollback("fer").unwrap();
    assert_eq!(store.read_active("fer").unwrap(), v1);
    drop(store);
    let store = open(&fs, plain());
    assert_eq!(store.read_active("fer").unwrap(), v1);
}

#[test]
fn capabilities() {
    use sentio_link::Capabilities;
    let store = open(&MemFs::new(), plain());
    assert_eq!(
        store.capabilities(),
        Capabilities::MODELS | Capabilities::RESUME
    );
    let store = open(&MemFs::new(), keyed());
    assert!(store.capabilities().contains(Capabilities::SIGNATURES));
}

#[test]
fn a_commit_can_be_retried_after_a_storage_error_at_any_step() {
    let v1 = bundle("fer", "1", 1200, 1);
    let v2 = bundle("fer", "2", 1300, 2);
    let mut failed = 0;
    for k in 0..16 {
        let fs = MemFs::new();
        let mut store = open(&fs, plain());
        assert!(flash(&mut store, "fer", &v1, 512).activated);
        begin(&mut store, "fer", &v2).unwrap();
        store.write_chunk(0, &v2).unwrap();
        fs.fail_at_op(fs.ops() + k);
        if let Err(e) = store.commit("fer") {
            assert_eq!(e.error_code(), ErrorCode::Storage, "step {k}: {e}");
            failed += 1;
            store.commit("fer").unwrap();
        }
        fs.fail_at_op(u64::MAX); // disarmed, if the commit took fewer steps
        store.activate("fer").unwrap();
        assert_eq!(store.read_active("fer").unwrap(), v2, "step {k}");
        store.rollback("fer").unwrap();
        assert_eq!(store.read_active("fer").unwrap(), v1, "step {k}");
        drop(store);
        // (A failed removal of `staging.meta` leaves it to be cleaned by this open.)
        let (store, _) = Store::open(fs.clone(), plain()).unwrap();
        assert_eq!(store.read_active("fer").unwrap(), v1, "step {k}");
        assert_eq!(store.list().len(), 2);
    }
    assert!(failed >= 8, "{failed}");
}
