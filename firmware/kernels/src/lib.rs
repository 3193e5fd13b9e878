//! Sentio's f32 kernels, with no inference framework under them: each is a plan made once
//! (geometry, packed weights, the instruction set it runs with) and a function from an input
//! slice to an output slice, with one contract that every implementation meets and a scalar
//! definition in [`reference`](mod@reference) that the property tests hold each implementation to.
//!
//! Which implementation runs is an [`Isa`], chosen once per plan: the best this CPU has
//! ([`Isa::detected`]) or a lower one on request ([`Isa::capped`]), so a benchmark on one
//! machine can time what a board without AVX-512 runs. sentio-infer matches tract's ops to
//! these kernels, packs and folds their weights, and times the result against tract's own plan.
//! The figures are in docs/benchmarks.md, with the commands that make them.

pub mod error;
pub mod flat_conv;
pub mod isa;
pub mod lstm;
pub mod max_pool;
pub mod reference;
pub mod row_conv;
mod util;
mod window;

pub use error::KernelError;
pub use isa::Isa;
