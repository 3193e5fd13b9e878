//! A deterministic parallel map over scoped std threads: item `i`'s result depends only on
//! `i`, so the output is the same for any number of threads.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `(0..n).map(f)` on up to `threads` threads, results in index order.
pub(crate) fn map<T: Send>(n: usize, threads: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = threads.clamp(1, n.max(1));
    if threads == 1 {
        return (0..n).map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut parts: Vec<(usize, T)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            break done;
                        }
                        done.push((i, f(i)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(done) => done,
                // A panic in `f` is a bug: pass it on unchanged.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    parts.sort_by_key(|(i, _)| *i);
    parts.into_iter().map(|(_, t)| t).collect()
}

/// The number of threads to use when the caller says 0: the machine's parallelism.
pub(crate) fn threads(requested: usize) -> usize {
    if requested > 0 {
        requested
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_keep_their_order() {
        let one = super::map(100, 1, |i| i * i);
        let four = super::map(100, 4, |i| i * i);
        assert_eq!(one, four);
        assert_eq!(four[7], 49);
        assert!(super::map(0, 4, |i| i).is_empty());
    }
}
