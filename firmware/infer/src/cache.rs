//! The optimized-plan cache: a restart with an unchanged model skips ONNX parsing, shape
//! analysis and decluttering by loading the decluttered, shape-fixed model tract made last time
//! (as an NNEF archive). Entries are keyed by the model's sha256, the input shape and the
//! runtime version, so a new model, a new shape or a new tract never reads a stale plan.
//!
//! tract's final `into_optimized` step (kernel selection, which depends on this CPU) still runs
//! at every load: NNEF stores the portable decluttered graph, not CPU-specific kernels.
//! The cache is best effort: a missing, unreadable or corrupt entry is a miss (and is
//! overwritten), never an error that stops a model from loading.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sentio_kernels::Isa;

use tract_nnef::framework::Nnef;
use tract_onnx::WithOnnx;
use tract_onnx::prelude::*;

use crate::lowering::{PlanChoice, PlanKind};

/// The tract release this crate is built against (tract exposes no version constant). A test
/// checks it against the workspace's Cargo.lock, so a tract upgrade that forgets it fails.
pub const TRACT_VERSION: &str = "0.23.9";

/// Names the runtime in every key: a new tract (or a new Sentio) never reads an old entry. (The
/// cache holds tract's decluttered plan, before Sentio's lowering, so a change to
/// [`crate::lowering`] needs no new key.)
pub const RUNTIME_VERSION: &str = concat!("tract-0.23.9+sentio-", env!("CARGO_PKG_VERSION"));

/// What the cache did for one load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheStatus {
    /// No cache was configured.
    Disabled,
    /// The plan came from the cache.
    Hit,
    /// The plan was built and stored.
    Stored,
    /// The plan was built; storing it failed (the reason), the model runs all the same.
    StoreFailed(String),
}

/// A directory of cached plans.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanCache {
    dir: PathBuf,
}

fn nnef() -> &'static Nnef {
    static NNEF: std::sync::OnceLock<Nnef> = std::sync::OnceLock::new();
    NNEF.get_or_init(|| tract_nnef::nnef().with_onnx())
}

impl PlanCache {
    /// Plans are kept in `dir` (created when the first plan is stored).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file a plan for this model and input shape is kept in.
    pub fn entry(&self, sha256: &[u8; 32], input_shape: &[usize]) -> PathBuf {
        let shape: Vec<String> = input_shape.iter().map(usize::to_string).collect();
        self.dir.join(format!(
            "{}-{}-{RUNTIME_VERSION}.nnef.tar",
            hex::encode(sha256),
            shape.join("x")
        ))
    }

    /// The cached decluttered model, if there is a readable one.
    pub(crate) fn load(&self, sha256: &[u8; 32], input_shape: &[usize]) -> Option<TypedModel> {
        let path = self.entry(sha256, input_shape);
        let mut file = std::fs::File::open(path).ok()?;
        // Read back, the plan is as tract wrote it to NNEF (an LSTM's weights outside its loop
        // body, casts between ops): decluttered again it has the form of a fresh plan, the one
        // Sentio's lowering matches.
        nnef()
            .model_for_read(&mut file)
            .ok()?
            .into_decluttered()
            .ok()
    }

    /// Stores `model` atomically (a temporary file renamed into place), so a power cut leaves
    /// the old entry or the new one, never half a file.
    pub(crate) fn store(
        &self,
        sha256: &[u8; 32],
        input_shape: &[usize],
        model: &TypedModel,
    ) -> Result<(), String> {
        let path = self.entry(sha256, input_shape);
        write_atomically(&path, |file| {
            nnef()
                .write_to_tar_with_config(model, &mut *file, false, true)
                .map(|_| ())
                .map_err(|e| format!("tract cannot write this plan as NNEF: {e:#}"))
        })
    }

    /// The file the measured plan choice for this model, input shape and machine is kept in:
    /// keyed by the model's sha256, the shape, the runtime version and `machine` (the CPU's
    /// features, the kernels' instruction set, tract's, the thread count and the running
    /// binary's build: `machine_key`).
    pub fn choice_entry(&self, sha256: &[u8; 32], input_shape: &[usize], machine: &str) -> PathBuf {
        let shape: Vec<String> = input_shape.iter().map(usize::to_string).collect();
        let machine = hex::encode(&sentio_models::sha256(machine.as_bytes())[..8]);
        self.dir.join(format!(
            "{}-{}-{RUNTIME_VERSION}-{machine}.plan-choice",
            hex::encode(sha256),
            shape.join("x")
        ))
    }

    /// The cached plan choice (the plan, and what each candidate measured), if there is a
    /// readable one.
    pub(crate) fn load_choice(
        &self,
        sha256: &[u8; 32],
        input_shape: &[usize],
        machine: &str,
    ) -> Option<(PlanKind, Vec<(PlanKind, Duration)>)> {
        let text = std::fs::read_to_string(self.choice_entry(sha256, input_shape, machine)).ok()?;
        let mut lines = text.lines();
        let chosen = PlanKind::parse(lines.next()?.strip_prefix("chosen ")?)?;
        let mut times = Vec::new();
        for line in lines {
            let (kind, ns) = line.split_once(' ')?;
            times.push((
                PlanKind::parse(kind)?,
                Duration::from_nanos(ns.parse().ok()?),
            ));
        }
        times
            .iter()
            .any(|(k, _)| *k == chosen)
            .then_some((chosen, times))
    }

    /// Stores a measured plan choice atomically (best effort, like the plans).
    pub(crate) fn store_choice(
        &self,
        sha256: &[u8; 32],
        input_shape: &[usize],
        machine: &str,
        choice: &PlanChoice,
    ) -> Result<(), String> {
        let mut text = format!("chosen {}\n", choice.chosen.name());
        for (kind, time) in &choice.times {
            text.push_str(&format!("{} {}\n", kind.name(), time.as_nanos()));
        }
        write_atomically(&self.choice_entry(sha256, input_shape, machine), |file| {
            use std::io::Write;
            file.write_all(text.as_bytes())
                .map_err(|e| format!("cannot write the plan choice: {e}"))
        })
    }
}

/// What a measured plan choice depends on besides the model and the runtime: this CPU's
/// features, the instruction set Sentio's kernels run with, the one tract is told to use
/// (`TRACT_CPU_ISA`), the thread count and the build of the running binary ([`build_key`]).
pub fn machine_key(isa: Isa, threads: usize) -> String {
    format!(
        "{}|sentio={isa}|tract={}|threads={threads}|build={}",
        sentio_kernels::isa::cpu_features(),
        std::env::var("TRACT_CPU_ISA").unwrap_or_default(),
        build_key()
    )
}

/// The running binary's size and modification time. The runtime version names releases only:
/// a rebuild with faster kernels under the same version (a development board, a package rebuilt
/// without a version bump) would otherwise keep the timings of the old kernels. A new binary
/// times its plans again once. Computed once per process; `unknown` where the OS cannot say.
pub fn build_key() -> &'static str {
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        let meta = std::env::current_exe().and_then(std::fs::metadata);
        match meta {
            Ok(meta) => {
                let modified = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                format!("{}@{modified}", meta.len())
            }
            Err(_) => "unknown".to_owned(),
        }
    })
}

/// Writes `path` whole or not at all ([`sentio_files::write_atomically`]: a power cut leaves the
/// old file or the new one, and a failing `write` leaves no temporary file), creating its folder
/// first. `write`'s own message is returned as it is.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> Result<(), String>,
) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut failed = None;
    sentio_files::write_atomically(path, |file| {
        write(file).map_err(|message| {
            failed = Some(message);
            std::io::Error::other("the writer failed")
        })
    })
    .map_err(|e| failed.unwrap_or_else(|| format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machine_key_names_the_running_build() {
        let size = std::env::current_exe()
            .and_then(std::fs::metadata)
            .map(|m| m.len())
            .unwrap_or_default();
        let key = machine_key(Isa::Portable, 1);
        assert!(key.contains(&format!("|build={size}@")), "{key}");
        assert_eq!(key, machine_key(Isa::Portable, 1));
        assert_ne!(key, machine_key(Isa::Portable, 2));
    }
}
