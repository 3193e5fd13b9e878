//! Random sequences of store operations, with restarts, against a model of the slot rules.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::bundle;
use proptest::prelude::*;
use sentio_link::{ErrorCode, Slot};
use sentio_store::{MemFs, Store, StoreConfig};

const NAMES: [&str; 2] = ["fer", "ser"];

#[derive(Clone, Debug)]
enum Op {
    /// Begin, chunks, commit (no activation).
    Upload {
        name: usize,
        version: usize,
    },
    Activate(usize),
    Rollback(usize),
    Delete(usize),
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..2usize, 0..3usize).prop_map(|(name, version)| Op::Upload { name, version }),
        3 => (0..2usize).prop_map(Op::Activate),
        2 => (0..2usize).prop_map(Op::Rollback),
        1 => (0..2usize).prop_map(Op::Delete),
        1 => Just(Op::Restart),
    ]
}

/// The slot rules in a few lines: (active, previous, pending) per name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Slots {
    active: Option<usize>,
    previous: Option<usize>,
    pending: bool,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn store_follows_the_slot_rules(ops in proptest::collection::vec(op(), 1..25)) {
        let files: Vec<Vec<Vec<u8>>> = NAMES
            .iter()
            .enumerate()
            .map(|(n, name)| {
                (0..3)
                    .map(|v| bundle(name, &format!("{v}"), 300 + 50 * v, (n * 3 + v) as u8))
                    .collect()
            })
            .collect();
        let fs = MemFs::new();
        let config = || StoreConfig::new(1 << 20).with_checkpoint_every(128);
        let (mut store, _) = Store::open(fs.clone(), config()).unwrap();
        let mut model: BTreeMap<usize, Slots> = BTreeMap::new();
        for op in ops {
            match op {
                Op::Upload { name, version } => {
                    let p = flash_without_activation(&mut store, NAMES[name], &files[name][version]);
                    let slots = model.entry(name).or_default();
                    if slots.active == Some(version) {
                        prop_assert!(p.skipped);
                    } else {
                        prop_assert!(p.committed, "{p:?}");
                        slots.previous = Some(version);
                        slots.pending = true;
                    }
                }
                Op::Activate(name) => {
                    let result = store.activate(NAMES[name]).map(|_| ());
                    match model.get_mut(&name) {
                        None => prop_assert_eq!(code(result), Some(ErrorCode::UnknownModel)),
                        Some(slots) => {
                            prop_assert!(result.is_ok());
                            if slots.pending || slots.active.is_none() {
                                std::mem::swap(&mut slots.active, &mut slots.previous);
                                slots.pending = false;
                            }
                        }
                    }
                }
                Op::Rollback(name) => {
                    let result = store.rollback(NAMES[name]).map(|_| ());
                    match model.get_mut(&name) {
                        None => prop_assert_eq!(code(result), Some(ErrorCode::UnknownModel)),
                        Some(slots) if slots.pending || slots.previous.is_none() => {
                            prop_assert_eq!(code(result), Some(ErrorCode::NothingToRollBack));
                        }
                        Some(slots) => {
                            prop_assert!(result.is_ok());
                            std::mem::swap(&mut slots.active, &mut slots.previous);
                        }
                    }
                }
                Op::Delete(name) => {
                    let result = store.delete(NAMES[name]);
                    if model.remove(&name).is_some() {
                        prop_assert!(result.is_ok());
                    } else {
                        prop_assert_eq!(code(result), Some(ErrorCode::UnknownModel));
                    }
                }
                Op::Restart => {
                    drop(store);
                    let (reopened, recovery) = Store::open(fs.clone(), config()).unwrap();
                    prop_assert!(recovery.is_clean(), "{}", recovery);
                    store = reopened;
                }
            }
            // The store agrees with the model, slot by slot, byte for byte.
            for (n, name) in NAMES.iter().enumerate() {
                let slots = model.get(&n).copied().unwrap_or_default();
                for (slot, want) in [(Slot::Active, slots.active), (Slot::Previous, slots.previous)] {
                    match (store.inspect(name, slot), want) {
                        (Ok(m), Some(v)) => {
                            prop_assert_eq!(&fs.contents(&m.file).unwrap(), &files[n][v]);
                            prop_assert!(m.verified);
                            prop_assert_eq!(m.pending, slot == Slot::Previous && slots.pending);
                        }
                        (Err(_), None) => {}
                        (got, want) => prop_assert!(false, "{name} {slot:?}: {got:?} vs {want:?}"),
                    }
                }
            }
            // On disk: a record per model and the files its slots name, nothing else.
            let mut expected: Vec<String> = Vec::new();
            for (n, name) in NAMES.iter().enumerate() {
                if model.contains_key(&n) {
                    expected.push(sentio_store::record_file(name));
                    for slot in [Slot::Active, Slot::Previous] {
                        if let Ok(m) = store.inspect(name, slot) {
                            expected.push(m.file);
                        }
                    }
                }
            }
            expected.sort();
            let mut on_disk = sentio_store::StoreFs::list(&fs).unwrap();
            on_disk.retain(|f| f != sentio_store::STAGING && f != sentio_store::STAGING_META);
            on_disk.sort();
            prop_assert_eq!(on_disk, expected);
        }
    }
}

fn code<T>(result: Result<T, sentio_store::StoreError>) -> Option<ErrorCode> {
    result.err().map(|e| e.error_code())
}

/// Begin, chunks through the store's sink, commit: a flash without the activation.
fn flash_without_activation(
    store: &mut Store<MemFs>,
    name: &str,
    bytes: &[u8],
) -> common::Progress {
    use sentio_link::{ChunkSink, TransferKind};
    use sentio_models::bundle_sha256;
    let mut progress = common::Progress::default();
    match store
        .begin(
            name,
            bytes.len() as u64,
            bundle_sha256(bytes),
            false,
            TransferKind::Bundle,
        )
        .unwrap()
    {
        sentio_store::Begin::Skip => progress.skipped = true,
        sentio_store::Begin::Accept { resume_offset } => {
            let mut sink = store.sink(name).unwrap();
            for (i, chunk) in bytes[resume_offset as usize..].chunks(100).enumerate() {
                sink.write_at(resume_offset + i as u64 * 100, chunk)
                    .unwrap();
            }
            store.commit(name).unwrap();
            progress.committed = true;
        }
    }
    progress
}
