//! Power cuts at every operation of a flash: after a reboot the device always has a verified
//! model, the old or the new one, byte for byte, and a resume never offers bytes that did not
//! survive.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Progress, flash, public_key, signed_bundle};
use sentio_link::Slot;
use sentio_models::{BundleView, SignaturePolicy, Verified, bundle_sha256, verify};
use sentio_rng::SplitMix64;
use sentio_store::{MemFs, STAGING, Store, StoreConfig};

const NAME: &str = "fer";

fn config(checkpoint_every: u64) -> StoreConfig {
    StoreConfig::new(1 << 20)
        .with_public_key(public_key())
        .with_checkpoint_every(checkpoint_every)
}

/// What the runs of a test went through, so that a test that never cuts or never resumes fails.
#[derive(Debug, Default)]
struct Seen {
    crashed: u32,
    old_active: u32,
    new_active: u32,
    resumed: u32,
}

impl Seen {
    fn assert_covers_everything(&self) {
        assert!(
            self.crashed > 0 && self.old_active > 0 && self.new_active > 0 && self.resumed > 0,
            "{self:?}"
        );
    }
}

struct Case {
    old: Vec<u8>,
    new: Vec<u8>,
    chunk: usize,
    checkpoint_every: u64,
}

impl Case {
    /// A disk where `old` is installed and active.
    fn installed(&self) -> MemFs {
        let fs = MemFs::new();
        let (mut store, _) = Store::open(fs.clone(), config(self.checkpoint_every)).unwrap();
        assert!(flash(&mut store, NAME, &self.old, self.chunk).activated);
        fs
    }

    /// How many operations flashing `new` over `old` takes.
    fn operations(&self) -> u64 {
        let fs = self.installed();
        let (mut store, _) = Store::open(fs.clone(), config(self.checkpoint_every)).unwrap();
        let before = fs.ops();
        assert!(flash(&mut store, NAME, &self.new, self.chunk).activated);
        fs.ops() - before
    }

    /// Flashes `new` with a power cut armed at operation `at` of the flash, reboots with the
    /// survival choices of `seed`, checks the store, then finishes the flash.
    fn run(&self, at: u64, seed: u64, seen: &mut Seen) {
        let fs = self.installed();
        let (mut store, _) = Store::open(fs.clone(), config(self.checkpoint_every)).unwrap();
        fs.crash_at_op(fs.ops() + at, seed);
        let progress = flash(&mut store, NAME, &self.new, self.chunk);
        drop(store);
        seen.crashed += u32::from(fs.is_down());
        fs.power_cut(seed.wrapping_mul(0x9E37_79B9).wrapping_add(at));
        self.check_after_reboot(
            &fs,
            &progress,
            &format!("cut at op {at}, seed {seed}"),
            seen,
        );
    }

    fn check_after_reboot(&self, fs: &MemFs, progress: &Progress, what: &str, seen: &mut Seen) {
        let (mut store, recovery) = Store::open(fs.clone(), config(self.checkpoint_every))
            .unwrap_or_else(|e| panic!("{what}: the store does not open: {e}"));
        let active = store
            .read_active(NAME)
            .unwrap_or_else(|e| panic!("{what}: no verified active model: {e}\n{recovery}"));
        assert!(
            active == self.old || active == self.new,
            "{what}: the active model is neither the old nor the new one\n{recovery}"
        );
        if active == self.old {
            seen.old_active += 1;
        } else {
            seen.new_active += 1;
        }
        let view = BundleView::parse(&active).unwrap();
        assert!(matches!(
            verify(&view, Some(&public_key()), SignaturePolicy::RequireSigned),
            Ok(Verified::Signed { .. })
        ));
        assert!(store.inspect(NAME, Slot::Active).unwrap().verified);
        for m in store.list() {
            assert!(m.verified, "{what}: unverified {m:?}");
            let bytes = fs.contents(&m.file).unwrap();
            assert_eq!(bundle_sha256(&bytes), m.sha256, "{what}: {m:?}");
        }
        // What was acknowledged survived.
        if progress.activated {
            assert_eq!(
                active, self.new,
                "{what}: an acknowledged activation was lost"
            );
        } else if progress.committed {
            let new_sha = bundle_sha256(&self.new);
            assert!(
                store.list().iter().any(|m| m.sha256 == new_sha),
                "{what}: an acknowledged commit was lost"
            );
        }
        // A resume offers only bytes that are really there, and completes to the right file.
        let kept = store.transfer();
        if let Some(t) = &kept
            && t.sha256 == bundle_sha256(&self.new)
        {
            let staged = fs.contents(STAGING).unwrap_or_default();
            let offset = t.received as usize;
            assert!(offset <= staged.len(), "{what}: resume beyond the file");
            assert_eq!(
                staged[..offset],
                self.new[..offset],
                "{what}: resume offset {offset} covers bytes that did not survive"
            );
        }
        let resumed = flash(&mut store, NAME, &self.new, self.chunk);
        assert!(
            resumed.activated || resumed.skipped,
            "{what}: could not finish: {resumed:?}"
        );
        if let (Some(t), Some(offset)) = (&kept, resumed.resume_offset)
            && t.sha256 == bundle_sha256(&self.new)
        {
            assert_eq!(offset, t.received, "{what}: begin offered another offset");
            if offset > 0 {
                seen.resumed += 1;
            }
        }
        assert_eq!(store.read_active(NAME).unwrap(), self.new, "{what}");
        // And a clean reboot after that finds nothing to repair.
        drop(store);
        let (_, recovery) = Store::open(fs.clone(), config(self.checkpoint_every)).unwrap();
        assert!(recovery.is_clean(), "{what}: {recovery}");
    }
}

/// Small transfer: every single operation index, three survival draws each.
#[test]
fn power_cut_at_every_operation() {
    let case = Case {
        old: signed_bundle(NAME, "1.0.0", 1500, 1),
        new: signed_bundle(NAME, "1.1.0", 1700, 2),
        chunk: 256,
        checkpoint_every: 512,
    };
    let ops = case.operations();
    assert!(ops > 30, "{ops} operations");
    let mut seen = Seen::default();
    for at in 0..=ops {
        for seed in 0..3 {
            case.run(at, seed, &mut seen);
        }
    }
    seen.assert_covers_everything();
    assert!(seen.crashed >= 3 * ops as u32, "{seen:?}");
}

/// Bigger transfer: 150 seeded random points.
#[test]
fn power_cut_at_random_points() {
    let case = Case {
        old: signed_bundle(NAME, "2.0.0", 30_000, 3),
        new: signed_bundle(NAME, "2.1.0", 40_000, 4),
        chunk: 1024,
        checkpoint_every: 4096,
    };
    let ops = case.operations();
    let mut rng = SplitMix64::new(0x5EED);
    let mut seen = Seen::default();
    for i in 0..150 {
        let at = rng.below_mod(ops + 1);
        case.run(at, i, &mut seen);
    }
    seen.assert_covers_everything();
    assert!(seen.crashed >= 140, "{seen:?}");
}

/// Cut after cut: each boot resumes the interrupted flash and is cut again, 200 times over a
/// sequence of updates; the device always boots into a verified model.
#[test]
fn repeated_power_cuts_during_resumes() {
    let versions: Vec<Vec<u8>> = (0..4u8)
        .map(|i| signed_bundle(NAME, &format!("3.{i}"), 6000 + 700 * i as usize, 10 + i))
        .collect();
    let fs = MemFs::new();
    let cfg = || config(1024);
    {
        let (mut store, _) = Store::open(fs.clone(), cfg()).unwrap();
        assert!(flash(&mut store, NAME, &versions[0], 512).activated);
    }
    let mut target = 1;
    let mut cuts = 0;
    let mut rng = SplitMix64::new(0xC0FF_EE00);
    let mut finished_updates = 0;
    while cuts < 200 {
        let (mut store, recovery) = Store::open(fs.clone(), cfg())
            .unwrap_or_else(|e| panic!("boot after {cuts} cuts: {e}"));
        let active = store
            .read_active(NAME)
            .unwrap_or_else(|e| panic!("boot after {cuts} cuts: {e}\n{recovery}"));
        assert!(
            versions.contains(&active),
            "boot after {cuts} cuts: unknown active model"
        );
        if active == versions[target] {
            finished_updates += 1;
            target = (target + 1) % versions.len();
        }
        let draw = rng.next_u64();
        let at = (draw >> 33) % 60;
        fs.crash_at_op(fs.ops() + at, draw);
        let _ = flash(&mut store, NAME, &versions[target], 512);
        drop(store);
        fs.power_cut(draw >> 7);
        cuts += 1;
    }
    assert_eq!(fs.power_cuts(), 200);
    assert!(
        finished_updates >= 3,
        "only {finished_updates} updates got through"
    );
}
