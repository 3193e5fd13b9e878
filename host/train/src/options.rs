//! How to train: [`TrainOptions`] and the learning-rate [`LrSchedule`]. Knows no network.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::data::Augment;
use crate::error::{Error, Result};

/// How to train.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainOptions {
    /// Most epochs to run (early stopping may end sooner).
    pub epochs: usize,
    /// Examples per optimizer step.
    pub batch: usize,
    /// Adam's learning rate (the peak of the schedule).
    pub learning_rate: f64,
    /// How the learning rate moves over the run.
    pub schedule: LrSchedule,
    /// Random changes to each training example, new every epoch.
    pub augment: Augment,
    /// Stop after this many epochs without a better validation result; 0 never stops early.
    pub patience: usize,
    /// Seed of everything random (weights, batch order, augmentation, dropout).
    pub seed: u64,
    /// Where to write a checkpoint after every epoch; `None` writes none.
    pub checkpoint_dir: Option<PathBuf>,
    /// Continue from the checkpoint in `checkpoint_dir`.
    pub resume: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            epochs: 30,
            batch: 32,
            learning_rate: 1e-3,
            schedule: LrSchedule::Constant,
            augment: Augment::default(),
            patience: 6,
            seed: 42,
            checkpoint_dir: None,
            resume: false,
        }
    }
}

impl TrainOptions {
    /// The recipe of the image jobs (emoji, fer, anp): `epochs` of batch 32, Adam peaking at
    /// `learning_rate` after one epoch of linear warm-up and decaying (cosine) to 2% of it by the
    /// last epoch, training images mirrored half of the time and shifted by up to ±3 px, no early
    /// stopping (the schedule is sized to the run), seed 42.
    pub fn image_recipe(epochs: usize, learning_rate: f64) -> Self {
        Self {
            epochs,
            batch: 32,
            learning_rate,
            schedule: LrSchedule::WarmupCosine {
                warmup_epochs: 1,
                final_fraction: 0.02,
            },
            augment: Augment {
                mirror: true,
                max_shift: 3,
                ..Augment::default()
            },
            patience: 0,
            ..Self::default()
        }
    }

    /// The checks the training loop applies to its options.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.epochs == 0 || self.epochs > 100_000 {
            return Err(Error::option("epochs", "must be 1 to 100000"));
        }
        if self.batch == 0 || self.batch > 65_536 {
            return Err(Error::option("batch", "must be 1 to 65536"));
        }
        if !(self.learning_rate.is_finite()
            && self.learning_rate > 0.0
            && self.learning_rate < 10.0)
        {
            return Err(Error::option("lr", "must be a positive number below 10"));
        }
        if let LrSchedule::WarmupCosine {
            warmup_epochs,
            final_fraction,
        } = self.schedule
            && (warmup_epochs >= self.epochs || !(0.0..=1.0).contains(&final_fraction))
        {
            return Err(Error::option(
                "schedule",
                "the warm-up must be shorter than the run (give at least 2 epochs) and the final \
                 fraction in [0, 1]",
            ));
        }
        if self.augment.max_shift > 8 {
            return Err(Error::option(
                "augment",
                "shifts above 8 pixels are not supported",
            ));
        }
        if self.resume && self.checkpoint_dir.is_none() {
            return Err(Error::option(
                "resume",
                "needs a checkpoint directory (the --out of the run to continue)",
            ));
        }
        Ok(())
    }
}

/// The learning rate over a run, as a function of the position in it only, so a resumed run
/// steps exactly like an uninterrupted one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum LrSchedule {
    /// The same rate for every step.
    #[default]
    Constant,
    /// Linear warm-up from 0 over `warmup_epochs`, then a cosine decay to `final_fraction` of the
    /// peak at the last epoch. With a fixed budget of epochs this reaches a given accuracy in
    /// fewer epochs than a constant rate: large steps early, small ones to settle.
    WarmupCosine {
        /// Epochs of linear warm-up.
        warmup_epochs: usize,
        /// The rate at the end, as a fraction of the peak.
        final_fraction: f64,
    },
}

impl LrSchedule {
    /// The rate for step `batch` (0-based) of `batches` in `epoch` (1-based) of `epochs`.
    pub fn rate(
        &self,
        peak: f64,
        epoch: usize,
        batch: usize,
        batches: usize,
        epochs: usize,
    ) -> f64 {
        match *self {
            LrSchedule::Constant => peak,
            LrSchedule::WarmupCosine {
                warmup_epochs,
                final_fraction,
            } => {
                let batches = batches.max(1);
                let step = (epoch.saturating_sub(1) * batches + batch) as f64;
                let warmup = (warmup_epochs * batches) as f64;
                let total = (epochs * batches) as f64;
                if step < warmup {
                    peak * (step + 1.0) / warmup
                } else {
                    // The last step of the run gets exactly the final rate.
                    let t = ((step - warmup) / (total - warmup - 1.0).max(1.0)).min(1.0);
                    let cosine = 0.5 * (1.0 + (std::f64::consts::PI * t).cos());
                    peak * (final_fraction + (1.0 - final_fraction) * cosine)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LrSchedule;

    #[test]
    fn warmup_cosine_rises_to_the_peak_then_falls_to_the_final_fraction() {
        let schedule = LrSchedule::WarmupCosine {
            warmup_epochs: 1,
            final_fraction: 0.02,
        };
        let (batches, epochs) = (10, 5);
        let rates: Vec<f64> = (1..=epochs)
            .flat_map(|e| (0..batches).map(move |b| (e, b)))
            .map(|(e, b)| schedule.rate(2e-3, e, b, batches, epochs))
            .collect();
        // Warm-up: strictly rising, the last warm-up step at the peak.
        assert!(rates[..10].windows(2).all(|w| w[0] < w[1]), "{rates:?}");
        assert!((rates[9] - 2e-3).abs() < 1e-12);
        // Then never rising, ending near 2% of the peak.
        assert!(rates[10..].windows(2).all(|w| w[0] >= w[1]), "{rates:?}");
        let last = *rates.last().unwrap_or(&0.0);
        assert!((last - 4e-5).abs() < 2e-6, "{last}");
        assert_eq!(LrSchedule::Constant.rate(1e-3, 3, 4, 10, 5), 1e-3);
    }
}
