//! On a real directory: restarts (drop and reopen the store), and what `open` repairs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::{bundle, flash, public_key};
use sentio_link::{ErrorCode, Slot, TransferKind};
use sentio_models::bundle_sha256;
use sentio_store::{
    Begin, DirFs, FileKind, Recovery, RecoveryEvent, STAGING, STAGING_META, Store, StoreConfig,
    blob_file, record_file,
};

fn config() -> StoreConfig {
    StoreConfig::new(1 << 20).with_checkpoint_every(1000)
}

fn open(dir: &Path) -> (Store<DirFs>, Recovery) {
    Store::open_dir(dir, config()).unwrap()
}

fn begin(store: &mut Store<DirFs>, bytes: &[u8]) -> Begin {
    store
        .begin(
            "fer",
            bytes.len() as u64,
            bundle_sha256(bytes),
            false,
            TransferKind::Bundle,
        )
        .unwrap()
}

fn file_of(bytes: &[u8]) -> String {
    blob_file("fer", &bundle_sha256(bytes), FileKind::Bundle)
}

/// `fer` with v1 then v2 flashed: v2 active, v1 previous.
fn two_versions(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    let (v1, v2) = (bundle("fer", "1", 2500, 1), bundle("fer", "2", 2600, 2));
    let (mut store, _) = open(dir);
    assert!(flash(&mut store, "fer", &v1, 700).activated);
    assert!(flash(&mut store, "fer", &v2, 700).activated);
    (v1, v2)
}

#[test]
fn partial_transfer_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let b = bundle("fer", "1", 5000, 3);
    {
        let (mut store, _) = open(dir.path());
        assert_eq!(begin(&mut store, &b), Begin::Accept { resume_offset: 0 });
        for at in (0..3500).step_by(500) {
            store.write_chunk(at as u64, &b[at..at + 500]).unwrap();
        }
        let t = store.transfer().unwrap();
        assert_eq!((t.received, t.durable), (3500, 3000));
    }
    let (mut store, recovery) = open(dir.path());
    assert_eq!(
        recovery.events,
        vec![RecoveryEvent::StagingKept {
            name: "fer".into(),
            sha256: bundle_sha256(&b),
            bytes: 3000,
            size: b.len() as u64
        }]
    );
    assert!(recovery.is_clean());
    assert_eq!(
        std::fs::metadata(dir.path().join(STAGING)).unwrap().len(),
        3000,
        "bytes past the durable count are cut"
    );
    let p = flash(&mut store, "fer", &b, 512);
    assert_eq!(p.resume_offset, Some(3000));
    assert!(p.activated);
    assert_eq!(store.read_active("fer").unwrap(), b);
    drop(store);
    let (store, recovery) = open(dir.path());
    assert!(recovery.events.is_empty(), "{recovery}");
    assert_eq!(store.read_active("fer").unwrap(), b);
}

#[test]
fn a_staging_record_claiming_more_than_exists_is_lowered() {
    let dir = tempfile::tempdir().unwrap();
    let b = bundle("fer", "1", 5000, 3);
    {
        let (mut store, _) = open(dir.path());
        begin(&mut store, &b);
        store.write_chunk(0, &b[..3000]).unwrap();
        assert_eq!(store.transfer().unwrap().durable, 3000);
    }
    let part = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.path().join(STAGING))
        .unwrap();
    part.set_len(1234).unwrap();
    drop(part);
    let (mut store, recovery) = open(dir.path());
    assert!(
        recovery.events.contains(&RecoveryEvent::StagingTruncated {
            name: "fer".into(),
            claimed: 3000,
            kept: 1234
        }),
        "{recovery}"
    );
    assert!(!recovery.is_clean());
    assert_eq!(store.transfer().unwrap().received, 1234);
    assert_eq!(
        begin(&mut store, &b),
        Begin::Accept {
            resume_offset: 1234
        }
    );
    let p = flash(&mut store, "fer", &b, 512);
    assert!(p.activated, "{p:?}");
    assert_eq!(store.read_active("fer").unwrap(), b);
    // The lowered count was recorded: the next boot agrees.
    drop(store);
    assert!(open(dir.path()).1.events.is_empty());
}

#[test]
fn leftover_files_are_cleaned() {
    let dir = tempfile::tempdir().unwrap();
    let (_, v2) = two_versions(dir.path());
    let orphan = bundle("fer", "9", 100, 9);
    let orphan_file = file_of(&orphan);
    for (file, bytes) in [
        ("fer@slots.tmp", &b"{half"[..]),
        ("staging.meta.tmp", b"x"),
        (orphan_file.as_str(), &orphan[..]),
        ("notes.txt", b"mine"),
        (STAGING, b"data without a record"),
    ] {
        std::fs::write(dir.path().join(file), bytes).unwrap();
    }
    let (store, recovery) = open(dir.path());
    let events = &recovery.events;
    for file in ["fer@slots.tmp", "staging.meta.tmp"] {
        assert!(events.contains(&RecoveryEvent::TempFileRemoved { file: file.into() }));
        assert!(!dir.path().join(file).exists());
    }
    assert!(events.contains(&RecoveryEvent::OrphanRemoved {
        file: orphan_file.clone()
    }));
    assert!(!dir.path().join(&orphan_file).exists());
    assert!(events.contains(&RecoveryEvent::UnknownFile {
        file: "notes.txt".into()
    }));
    assert!(
        dir.path().join("notes.txt").exists(),
        "not the store's: left alone"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, RecoveryEvent::StagingDiscarded { .. }))
    );
    assert!(!dir.path().join(STAGING).exists());
    assert_eq!(store.read_active("fer").unwrap(), v2);
    let log = recovery.to_string();
    assert!(
        log.lines().count() >= 5 && log.contains("notes.txt"),
        "{log}"
    );
}

#[test]
fn a_staging_record_without_data_is_discarded() {
    let dir = tempfile::tempdir().unwrap();
    let b = bundle("fer", "1", 3000, 3);
    {
        let (mut store, _) = open(dir.path());
        begin(&mut store, &b);
        store.write_chunk(0, &b[..1500]).unwrap();
    }
    std::fs::remove_file(dir.path().join(STAGING)).unwrap();
    let (mut store, recovery) = open(dir.path());
    assert!(matches!(
        recovery.events[..],
        [RecoveryEvent::StagingDiscarded { .. }]
    ));
    assert!(!dir.path().join(STAGING_META).exists());
    assert_eq!(begin(&mut store, &b), Begin::Accept { resume_offset: 0 });
}

#[test]
fn a_missing_active_file_falls_back_to_the_previous_version() {
    let dir = tempfile::tempdir().unwrap();
    let (v1, v2) = two_versions(dir.path());
    std::fs::remove_file(dir.path().join(file_of(&v2))).unwrap();
    let (mut store, recovery) = open(dir.path());
    assert!(
        recovery.events.iter().any(|e| matches!(
            e,
            RecoveryEvent::SlotDropped { slot: Slot::Active, reason, .. } if reason.contains("missing")
        )),
        "{recovery}"
    );
    assert!(recovery.events.contains(&RecoveryEvent::FellBack {
        name: "fer".into(),
        sha256: bundle_sha256(&v1)
    }));
    assert_eq!(store.read_active("fer").unwrap(), v1);
    assert_eq!(
        store.rollback("fer").unwrap_err().error_code(),
        ErrorCode::NothingToRollBack
    );
    // The repair was recorded: the next boot is clean.
    drop(store);
    let (store, recovery) = open(dir.path());
    assert!(recovery.events.is_empty(), "{recovery}");
    assert_eq!(store.read_active("fer").unwrap(), v1);
}

#[test]
fn a_damaged_active_file_falls_back_and_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let (v1, v2) = two_versions(dir.path());
    let path = dir.path().join(file_of(&v2));
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[1000] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    let (store, recovery) = open(dir.path());
    assert!(
        recovery.events.iter().any(|e| matches!(
            e,
            RecoveryEvent::SlotDropped { slot: Slot::Active, reason, .. } if reason.contains("damaged")
        )),
        "{recovery}"
    );
    assert!(
        recovery
            .events
            .iter()
            .any(|e| matches!(e, RecoveryEvent::FellBack { .. }))
    );
    assert!(!path.exists());
    assert_eq!(store.read_active("fer").unwrap(), v1);
}

#[test]
fn a_damaged_previous_file_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let (v1, v2) = two_versions(dir.path());
    let path = dir.path().join(file_of(&v1));
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
    let (mut store, recovery) = open(dir.path());
    assert!(matches!(
        &recovery.events[..],
        [RecoveryEvent::SlotDropped {
            slot: Slot::Previous,
            ..
        }]
    ));
    assert_eq!(store.read_active("fer").unwrap(), v2);
    assert_eq!(
        store.rollback("fer").unwrap_err().error_code(),
        ErrorCode::NothingToRollBack
    );
}

#[test]
fn a_model_whose_versions_are_all_gone_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let (v1, v2) = two_versions(dir.path());
    for v in [&v1, &v2] {
        std::fs::remove_file(dir.path().join(file_of(v))).unwrap();
    }
    let (store, recovery) = open(dir.path());
    assert!(
        recovery
            .events
            .contains(&RecoveryEvent::ModelLost { name: "fer".into() })
    );
    assert!(store.list().is_empty());
    assert!(!dir.path().join(record_file("fer")).exists());
}

#[test]
fn an_unreadable_slot_record_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let (v1, v2) = two_versions(dir.path());
    std::fs::write(dir.path().join(record_file("fer")), b"{\"format\":1,\"na").unwrap();
    let (store, recovery) = open(dir.path());
    assert!(
        recovery
            .events
            .iter()
            .any(|e| matches!(e, RecoveryEvent::RecordRebuilt { .. })),
        "{recovery}"
    );
    let active = store.read_active("fer").unwrap();
    assert!(active == v1 || active == v2);
    assert_eq!(store.list().len(), 2);
    assert!(store.list().iter().all(|m| m.verified && !m.pending));
}

#[test]
fn a_key_configured_later_makes_unsigned_models_unverified() {
    let dir = tempfile::tempdir().unwrap();
    let (_, v2) = two_versions(dir.path());
    let keyed = config().with_public_key(public_key());
    let (mut store, recovery) = Store::open_dir(dir.path(), keyed).unwrap();
    assert_eq!(
        recovery
            .events
            .iter()
            .filter(|e| matches!(e, RecoveryEvent::SlotNotVerified { .. }))
            .count(),
        2,
        "{recovery}"
    );
    // Kept, but never handed out to run or activated.
    assert!(dir.path().join(file_of(&v2)).exists());
    assert!(!store.inspect("fer", Slot::Active).unwrap().verified);
    assert_eq!(
        store.read_active("fer").unwrap_err().error_code(),
        ErrorCode::NotVerified
    );
    assert_eq!(
        store.activate("fer").unwrap_err().error_code(),
        ErrorCode::NotVerified
    );
    assert_eq!(
        store.rollback("fer").unwrap_err().error_code(),
        ErrorCode::NotVerified
    );
    // The same file is not skipped: it must come again, signed.
    assert_eq!(
        store
            .begin(
                "fer",
                v2.len() as u64,
                bundle_sha256(&v2),
                false,
                TransferKind::Bundle
            )
            .unwrap_err()
            .error_code(),
        ErrorCode::UnsignedRefused
    );
    let signed = common::signed_bundle("fer", "3", 1000, 5);
    assert!(flash(&mut store, "fer", &signed, 512).activated);
    assert_eq!(store.read_active("fer").unwrap(), signed);
}

#[test]
fn a_committed_version_waits_for_activation_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let b = bundle("fer", "1", 1000, 1);
    {
        let (mut store, _) = open(dir.path());
        begin(&mut store, &b);
        store.write_chunk(0, &b).unwrap();
        store.commit("fer").unwrap();
    }
    let (mut store, recovery) = open(dir.path());
    assert!(recovery.events.is_empty(), "{recovery}");
    assert!(store.inspect("fer", Slot::Previous).unwrap().pending);
    assert!(store.inspect("fer", Slot::Active).is_err());
    store.activate("fer").unwrap();
    assert_eq!(store.read_active("fer").unwrap(), b);
}
