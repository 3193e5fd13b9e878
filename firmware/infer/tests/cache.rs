//! The optimized-plan cache: stored on first load, read on the next, keyed by sha256 + input
//! shape + runtime version, and never in the way when it is missing, corrupt or unwritable.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sentio_infer::conformance::{CALIBRATION_SAMPLES, calibration_set, cases};
use sentio_infer::quantize::{Observer, calibrate, quantize};
use sentio_infer::{CacheStatus, LoadOptions, Model, PlanCache, RUNTIME_VERSION, TRACT_VERSION};

fn case(name: &str) -> sentio_infer::conformance::Case {
    cases().into_iter().find(|c| c.name == name).unwrap()
}

/// The runtime version in cache keys and benchmark output names the tract that is really linked:
/// the one Cargo.lock resolved.
#[test]
fn runtime_version_names_the_locked_tract() {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock"))
        .expect("the workspace's Cargo.lock");
    let locked = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"tract-onnx\"\n"))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
        .map(|v| v.trim_matches('"').to_string())
        .expect("tract-onnx in Cargo.lock");
    assert_eq!(
        TRACT_VERSION, locked,
        "update TRACT_VERSION and RUNTIME_VERSION in cache.rs"
    );
    assert!(
        RUNTIME_VERSION.starts_with(&format!("tract-{TRACT_VERSION}+sentio-")),
        "{RUNTIME_VERSION}"
    );
}

#[test]
fn second_load_reads_the_plan_and_runs_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let cache = PlanCache::new(dir.path().join("plans"));
    // A CNN and a recurrent model (tract's Scan) round-trip through NNEF.
    let mini = case("mini_cnn");
    let lstm = case("lstm");
    for (name, bytes, input) in [
        ("mini_cnn", &mini.model, &mini.input),
        ("lstm", &lstm.model, &lstm.input),
    ] {
        let options = LoadOptions::new().name(name).cache(cache.clone());
        let mut first = Model::load(bytes, &options).unwrap();
        assert_eq!(first.cache_status(), &CacheStatus::Stored, "{name}");
        let mut second = Model::load(bytes, &options).unwrap();
        assert_eq!(second.cache_status(), &CacheStatus::Hit, "{name}");
        let a = first.run(input).unwrap();
        let b = second.run(input).unwrap();
        for (x, y) in a.tensors.iter().zip(&b.tensors) {
            assert_eq!(x.name, y.name);
            assert_eq!(x.data, y.data, "{name}: cached plan computes differently");
        }
        let entry = cache.entry(&first.sha256(), first.input_shape());
        assert!(entry.is_file(), "{}", entry.display());
        let file = entry.file_name().unwrap().to_string_lossy().into_owned();
        assert!(file.contains(&hex::encode(first.sha256())) && file.contains(RUNTIME_VERSION));
    }
}

#[test]
fn another_input_shape_is_another_entry() {
    let dir = tempfile::tempdir().unwrap();
    let cache = PlanCache::new(dir.path());
    let conv = case("conv");
    let a = Model::load(&conv.model, &LoadOptions::new().cache(cache.clone())).unwrap();
    assert_ne!(
        cache.entry(&a.sha256(), &[1, 3, 16, 16]),
        cache.entry(&a.sha256(), &[1, 3, 32, 32])
    );
}

#[test]
fn a_corrupt_entry_is_a_miss_and_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let cache = PlanCache::new(dir.path());
    let conv = case("conv");
    let options = LoadOptions::new().cache(cache.clone());
    let model = Model::load(&conv.model, &options).unwrap();
    let entry = cache.entry(&model.sha256(), model.input_shape());
    let reference = {
        let mut m = model;
        m.run(&conv.input).unwrap().tensors.remove(0).data
    };
    for garbage in [&b""[..], b"not a tar archive", &[0u8; 1024][..]] {
        std::fs::write(&entry, garbage).unwrap();
        let mut m = Model::load(&conv.model, &options).unwrap();
        assert_eq!(m.cache_status(), &CacheStatus::Stored);
        assert_eq!(
            m.run(&conv.input).unwrap().tensors.remove(0).data,
            reference
        );
    }
    // Truncating a good entry is a miss too.
    let good = std::fs::read(&entry).unwrap();
    std::fs::write(&entry, &good[..good.len() / 2]).unwrap();
    let m = Model::load(&conv.model, &options).unwrap();
    assert_eq!(m.cache_status(), &CacheStatus::Stored);
}

#[test]
fn an_unwritable_cache_does_not_stop_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"a file where the cache directory should be").unwrap();
    let conv = case("conv");
    let mut m = Model::load(
        &conv.model,
        &LoadOptions::new().cache(PlanCache::new(blocker.join("plans"))),
    )
    .unwrap();
    let CacheStatus::StoreFailed(reason) = m.cache_status().clone() else {
        panic!("{:?}", m.cache_status());
    };
    assert!(reason.contains("not-a-dir"), "{reason}");
    m.run(&conv.input).unwrap();
    // No stray temporary files either.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

/// tract 0.23.9 has no NNEF serializer for the ONNX QuantizeLinear op, so int8 plans are not
/// cached: the load says why and the model runs as usual.
#[test]
fn int8_plans_are_not_cached_and_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let mini = case("mini_cnn");
    let calibration = calibrate(
        &mini.model,
        &LoadOptions::new(),
        &calibration_set(&mini, CALIBRATION_SAMPLES),
        Observer::MinMax,
    )
    .unwrap();
    let int8 = quantize(&mini.model, "mini_cnn", &calibration)
        .unwrap()
        .model;
    let options = LoadOptions::new().cache(PlanCache::new(dir.path()));
    let mut m = Model::load(&int8, &options).unwrap();
    let CacheStatus::StoreFailed(reason) = m.cache_status().clone() else {
        panic!("{:?}", m.cache_status());
    };
    assert!(reason.contains("QuantizeLinear"), "{reason}");
    m.run(&mini.input).unwrap();
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no partial entry left"
    );
}
