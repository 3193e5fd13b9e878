//! A run's checkpoint: after every epoch the model, the optimizer, the best model so far and a
//! `state.json` naming them (written last, each file replaced atomically, so a crash at any point
//! leaves the previous checkpoint usable), and what `resume` checks before continuing from one.
//! Knows no network: models are burn modules, configs anything serializable.

use std::fs;
use std::path::Path;

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::data::Augment;
use crate::error::{Error, Result};
use crate::files;
use crate::options::{LrSchedule, TrainOptions};
use crate::progress::History;

/// The checkpoint's state file inside the checkpoint directory.
pub const STATE_FILE: &str = "state.json";
const STATE_FORMAT: u32 = 1;

/// What `state.json` holds: where the run is and what it was made with.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct State {
    format: u32,
    /// The last epoch completed.
    pub epoch: usize,
    seed: u64,
    batch: usize,
    learning_rate: f64,
    #[serde(default)]
    schedule: LrSchedule,
    #[serde(default)]
    augment: Augment,
    /// The network's config (a `CnnConfig`, `SerConfig`, ...), compared on resume.
    config: serde_json::Value,
    train_fingerprint: u64,
    val_fingerprint: u64,
    pub history: History,
    /// Best (validation figure, validation loss) so far.
    pub best: Option<(f32, f32)>,
    pub since_best: usize,
    model_file: String,
    optimizer_file: String,
    best_file: Option<String>,
}

/// The run a checkpoint belongs to: its options, network and data.
pub(crate) struct RunKey<'a> {
    pub options: &'a TrainOptions,
    pub config: serde_json::Value,
    pub train_fingerprint: u64,
    pub val_fingerprint: u64,
}

impl State {
    /// The state after `epoch` of the run `key`.
    pub fn new(
        key: &RunKey<'_>,
        epoch: usize,
        history: &History,
        best: Option<(f32, f32)>,
        since_best: usize,
    ) -> Self {
        let options = key.options;
        Self {
            format: STATE_FORMAT,
            epoch,
            seed: options.seed,
            batch: options.batch,
            learning_rate: options.learning_rate,
            schedule: options.schedule,
            augment: options.augment,
            config: key.config.clone(),
            train_fingerprint: key.train_fingerprint,
            val_fingerprint: key.val_fingerprint,
            history: history.clone(),
            best,
            since_best,
            model_file: format!("epoch-{epoch:04}.model.bpk"),
            optimizer_file: format!("epoch-{epoch:04}.optim.bpk"),
            best_file: history
                .best_epoch
                .map(|e| format!("best-epoch-{e:04}.model.bpk")),
        }
    }

    /// The state in `dir`.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(STATE_FILE);
        if !path.exists() {
            return Err(Error::checkpoint(
                dir,
                "there is no checkpoint to resume from (no state.json)",
            ));
        }
        let bytes = files::read(&path)?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::checkpoint(dir, format!("state.json is damaged: {e}")))
    }

    /// Checks that the state in `dir` was written by the run `key` of a network of `config`.
    pub fn check<C: PartialEq + DeserializeOwned>(
        &self,
        dir: &Path,
        key: &RunKey<'_>,
        config: &C,
    ) -> Result<()> {
        let options = key.options;
        let mismatch = |what: &str| {
            Error::checkpoint(
                dir,
                format!("it was made with a different {what} than this run's"),
            )
        };
        if self.format != STATE_FORMAT {
            return Err(Error::checkpoint(
                dir,
                format!(
                    "format {} is not the format {STATE_FORMAT} this version reads",
                    self.format
                ),
            ));
        }
        if self.seed != options.seed {
            return Err(mismatch("--seed"));
        }
        if self.batch != options.batch {
            return Err(mismatch("--batch"));
        }
        if self.learning_rate != options.learning_rate || self.schedule != options.schedule {
            return Err(mismatch("learning rate or schedule"));
        }
        if self.augment != options.augment {
            return Err(mismatch("augmentation"));
        }
        if serde_json::from_value::<C>(self.config.clone())
            .ok()
            .as_ref()
            != Some(config)
        {
            return Err(mismatch("network shape"));
        }
        if self.train_fingerprint != key.train_fingerprint
            || self.val_fingerprint != key.val_fingerprint
        {
            return Err(mismatch("dataset (or split)"));
        }
        Ok(())
    }

    /// `model` with the weights of the checkpoint's last epoch.
    pub fn load_model<M: Module>(&self, model: M, dir: &Path) -> Result<M> {
        load_model(model, &dir.join(&self.model_file), dir)
    }

    /// The checkpoint's best model, if it has one, loaded into a model from `fresh`.
    pub fn load_best<M: Module>(
        &self,
        fresh: impl FnOnce() -> Result<M>,
        dir: &Path,
    ) -> Result<Option<M>> {
        match &self.best_file {
            Some(file) => load_model(fresh()?, &dir.join(file), dir).map(Some),
            None => Ok(None),
        }
    }

    /// `optim` with the checkpoint's optimizer state.
    pub fn load_optimizer(&self, optim: ModuleOptimizer, dir: &Path) -> Result<ModuleOptimizer> {
        let bytes = files::read(&dir.join(&self.optimizer_file))?;
        optim
            .from_bytes(Bytes::from_bytes_vec(bytes))
            .map_err(|e| Error::checkpoint(dir, format!("optimizer state: {e}")))
    }

    /// Writes the checkpoint into `dir`: the model and optimizer, `new_best` when this epoch's
    /// model became the best, then the state naming them; older epochs' files are removed.
    pub fn write<M: Module>(
        &self,
        dir: &Path,
        model: &M,
        optim: &ModuleOptimizer,
        new_best: Option<&M>,
    ) -> Result<()> {
        files::create_dir(dir)?;
        files::write_bytes(&dir.join(&self.model_file), &record_bytes(model, dir)?)?;
        let optim_bytes = optim
            .into_bytes()
            .map_err(|e| Error::checkpoint(dir, format!("saving the optimizer: {e}")))?;
        files::write_bytes(&dir.join(&self.optimizer_file), &optim_bytes)?;
        if let (Some(best), Some(file)) = (new_best, &self.best_file) {
            files::write_bytes(&dir.join(file), &record_bytes(best, dir)?)?;
        }
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::checkpoint(dir, format!("serializing the state: {e}")))?;
        files::write_bytes(&dir.join(STATE_FILE), &json)?;
        // The state now names the new files: the older ones can go. A failure here only leaves
        // litter, so it is ignored.
        let keep = [
            Some(self.model_file.as_str()),
            Some(self.optimizer_file.as_str()),
            self.best_file.as_deref(),
            Some(STATE_FILE),
        ];
        if let Ok(entries) = fs::read_dir(dir) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name.ends_with(".bpk") && !keep.contains(&Some(name.as_ref())) {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        Ok(())
    }
}

fn load_model<M: Module>(model: M, path: &Path, dir: &Path) -> Result<M> {
    let bytes = files::read(path)?;
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes))
        .map_err(|e| Error::checkpoint(dir, format!("{}: {e}", path.display())))?;
    model
        .try_load_record(record)
        .map_err(|e| Error::checkpoint(dir, format!("{}: {e}", path.display())))
}

fn record_bytes<M: Module>(model: &M, dir: &Path) -> Result<Vec<u8>> {
    let bytes = model
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| Error::checkpoint(dir, format!("saving the model: {e}")))?;
    Ok(bytes.to_vec())
}
