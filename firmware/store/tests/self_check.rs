//! The commit point of an update: a model that fails the device's self-check after activation
//! is rolled back, and a power cut at any operation between the activation and the rollback
//! still ends with the good model active once the device starts again and checks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{flash, public_key, signed_bundle};
use sentio_store::{CheckOutcome, MemFs, Store, StoreConfig};

const NAME: &str = "fer";

fn config() -> StoreConfig {
    StoreConfig::new(1 << 20).with_public_key(public_key())
}

/// The self-check of these tests: the bad bundle's bytes are recognised by its size (the
/// device loads and runs the model instead).
fn check_for(bad: &[u8]) -> impl Fn(&[u8]) -> Result<(), String> + '_ {
    move |bytes: &[u8]| {
        if bytes == bad {
            Err("the model does not load: not an ONNX graph".into())
        } else {
            Ok(())
        }
    }
}

#[test]
fn a_model_that_fails_its_self_check_is_rolled_back_and_a_good_one_kept() {
    let (good, bad) = (
        signed_bundle(NAME, "1.0.0", 4000, 1),
        signed_bundle(NAME, "2.0.0", 3000, 2),
    );
    let (mut store, _) = Store::open(MemFs::new(), config()).unwrap();
    assert!(flash(&mut store, NAME, &good, 512).activated);
    assert_eq!(
        store.check_active(NAME, check_for(&bad)).unwrap(),
        CheckOutcome::Passed {
            version: "1.0.0".into()
        }
    );
    assert!(flash(&mut store, NAME, &bad, 512).activated);
    assert_eq!(
        store.check_active(NAME, check_for(&bad)).unwrap(),
        CheckOutcome::RolledBack {
            failed: "2.0.0".into(),
            restored: "1.0.0".into(),
            reason: "the model does not load: not an ONNX graph".into(),
        }
    );
    assert_eq!(store.read_active(NAME).unwrap(), good);

    // A first model that fails has nothing to go back to: it is said, and stays.
    let (mut fresh, _) = Store::open(MemFs::new(), config()).unwrap();
    assert!(flash(&mut fresh, NAME, &bad, 512).activated);
    assert!(matches!(
        fresh.check_active(NAME, check_for(&bad)).unwrap(),
        CheckOutcome::FailedNoPrevious { .. }
    ));
}

#[test]
fn a_power_cut_at_any_step_of_activate_check_rollback_ends_with_the_good_model_after_restart() {
    let (good, bad) = (
        signed_bundle(NAME, "1.0.0", 4000, 1),
        signed_bundle(NAME, "2.0.0", 3000, 2),
    );
    // The good model installed and active; the bad one uploaded, committed, not yet active.
    let installed = || {
        let fs = MemFs::new();
        let (mut store, _) = Store::open(fs.clone(), config()).unwrap();
        assert!(flash(&mut store, NAME, &good, 512).activated);
        fs
    };
    // The whole sequence: flash (with its activation), then the self-check and its rollback.
    let sequence = |store: &mut Store<MemFs>| {
        let activated = flash(store, NAME, &bad, 512).activated;
        if activated {
            let _ = store.check_active(NAME, check_for(&bad));
        }
    };
    let ops = {
        let fs = installed();
        let (mut store, _) = Store::open(fs.clone(), config()).unwrap();
        let before = fs.ops();
        sequence(&mut store);
        fs.ops() - before
    };
    assert!(ops > 5, "{ops}");
    let (mut cut, mut rolled_back_at_start) = (0, 0);
    for at in 0..ops {
        for seed in 0..3 {
            let fs = installed();
            let (mut store, _) = Store::open(fs.clone(), config()).unwrap();
            fs.crash_at_op(fs.ops() + at, seed);
            sequence(&mut store);
            drop(store);
            cut += u32::from(fs.is_down());
            fs.power_cut(seed.wrapping_add(at * 7));
            // The device starts: the store recovers, then every active model is checked.
            let what = format!("cut at op {at} of {ops}, seed {seed}");
            let (mut store, _) = Store::open(fs.clone(), config())
                .unwrap_or_else(|e| panic!("{what}: the store does not open: {e}"));
            match store.check_active(NAME, check_for(&bad)) {
                Ok(CheckOutcome::Passed { version }) => assert_eq!(version, "1.0.0", "{what}"),
                Ok(CheckOutcome::RolledBack { restored, .. }) => {
                    assert_eq!(restored, "1.0.0", "{what}");
                    rolled_back_at_start += 1;
                }
                other => panic!("{what}: {other:?}"),
            }
            assert_eq!(store.read_active(NAME).unwrap(), good, "{what}");
        }
    }
    // The cuts landed both before the activation and between it and the rollback.
    assert!(
        cut > 0 && rolled_back_at_start > 0,
        "{cut} {rolled_back_at_start}"
    );
}
