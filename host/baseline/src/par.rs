//! A deterministic parallel map on rayon: item `i`'s result depends only on `i` and rayon's
//! indexed `collect` keeps index order, so the output is the same for any number of threads.

use rayon::prelude::*;

/// `(0..n).map(f)` on up to `threads` threads, results in index order.
///
/// The threads are a pool of this call's own (the caller's `--threads`, not rayon's global
/// pool). Should the system refuse to start them, the map runs on this thread: same results,
/// only slower. A panic in `f` is a bug and is passed on unchanged.
pub(crate) fn map<T: Send>(n: usize, threads: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = threads.clamp(1, n.max(1));
    if threads > 1
        && let Ok(pool) = rayon::ThreadPoolBuilder::new().num_threads(threads).build()
    {
        return pool.install(|| (0..n).into_par_iter().map(&f).collect());
    }
    (0..n).map(f).collect()
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

    #[test]
    fn runs_on_the_threads_asked_for() {
        let counts = super::map(64, 3, |_| rayon::current_num_threads());
        assert!(counts.iter().all(|&c| c == 3), "{counts:?}");
    }
}
