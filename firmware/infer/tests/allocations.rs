//! Counts heap allocations per `run` with a counting global allocator (its own test binary, so
//! the counter sees only this test): the input tensor is not re-allocated on the hot path.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use sentio_infer::{LoadOptions, Model, conformance};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn per_run(model: &mut Model, input: &[f32], runs: u64) -> (u64, u64) {
    model.run(input).unwrap();
    let (a0, b0) = (
        ALLOCS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    );
    for _ in 0..runs {
        model.run(input).unwrap();
    }
    let (a1, b1) = (
        ALLOCS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    );
    ((a1 - a0) / runs, (b1 - b0) / runs)
}

#[test]
fn the_input_tensor_is_not_allocated_per_run() {
    for name in ["mini_cnn", "conv", "lstm"] {
        let case = conformance::cases()
            .into_iter()
            .find(|c| c.name == name)
            .unwrap();
        let mut model = Model::load(&case.model, &LoadOptions::new()).unwrap();
        let (allocs, bytes) = per_run(&mut model, &case.input, 100);
        let input_bytes = (case.input.len() * 4) as u64;
        println!(
            "{name}: {allocs} allocations, {bytes} bytes per run (input {input_bytes} bytes, \
             outputs {} bytes); input re-allocations: {}",
            model
                .output_shapes()
                .iter()
                .map(|s| s.iter().product::<usize>() * 4)
                .sum::<usize>(),
            model.input_allocations()
        );
        assert_eq!(model.input_allocations(), 0, "{name}");
    }
}
