//! The trainer's own random numbers: [`sentio_rng::SplitMix64`].
//!
//! Weight initialisation, dropout masks and batch order all come from here, never from burn's
//! backend RNG: burn's flex backend keeps one global generator per process, so two trainings in
//! one process (parallel tests, a GUI) would draw from each other's stream and lose
//! reproducibility. Every stream is derived from `(seed, purpose, epoch)` ([`Rng::derive`]), so a
//! run resumed at epoch `k` draws exactly what an uninterrupted run draws from epoch `k` on.
//! sentio-rng pins its first outputs: the trained accuracies depend on them.

pub use sentio_rng::SplitMix64 as Rng;
