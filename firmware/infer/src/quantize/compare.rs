//! `sentio quantize` as one call: calibrate, quantize, load the int8 model and compare it with
//! the f32 one (top-1 accuracy on a labelled set, p50 latency), telling a progress callback
//! where it is. Nothing here prints or reads files: the caller turns images or arrays into
//! input tensors and draws the progress.

use std::time::Duration;

use super::{Observer, Quantized, calibrate, quantize};
use crate::bench;
use crate::error::{Error, Result};
use crate::model::{LoadOptions, Model};
use crate::precision::Precision;

/// Options for [`calibrate`] of a loaded model: its name and resolved input shape, but no
/// labels. (calibrate makes every tensor a graph output, the input first, and [`LoadOptions`]
/// checks the labels against the first output, so a manifest's labels would fail there.)
pub fn calibration_options(model: &Model) -> LoadOptions {
    LoadOptions::new()
        .name(model.name())
        .shape(model.input_shape())
}

/// The int8 form of `f32_model` (loaded from the ONNX bytes `bytes`), calibrated on `inputs`.
pub fn quantize_model(
    f32_model: &Model,
    bytes: &[u8],
    inputs: &[Vec<f32>],
    observer: Observer,
) -> Result<Quantized> {
    let calibration = calibrate(bytes, &calibration_options(f32_model), inputs, observer)?;
    quantize(bytes, f32_model.name(), &calibration)
}

/// Inputs with their class indices, to measure top-1 accuracy on.
#[derive(Clone, Copy, Debug)]
pub struct LabelledInputs<'a> {
    /// The input tensors.
    pub inputs: &'a [Vec<f32>],
    /// The class index of each input (as many as inputs).
    pub labels: &'a [usize],
}

/// Top-1 accuracy of `model` on `set`; `done(n)` is called after each of the `n` inputs.
pub fn accuracy(
    model: &mut Model,
    set: LabelledInputs<'_>,
    done: &mut dyn FnMut(usize),
) -> Result<f64> {
    if set.inputs.len() != set.labels.len() {
        return Err(Error::Calibration {
            model: model.name().to_owned(),
            detail: format!(
                "{} evaluation inputs but {} labels",
                set.inputs.len(),
                set.labels.len()
            ),
        });
    }
    let mut correct = 0usize;
    for (i, (x, label)) in set.inputs.iter().zip(set.labels).enumerate() {
        let out = model.run(x)?;
        if out.top_k(1).first().is_some_and(|p| p.index == *label) {
            correct += 1;
        }
        done(i + 1);
    }
    Ok(correct as f64 / set.inputs.len().max(1) as f64)
}

/// Where [`quantize_and_compare`] is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum QuantizeProgress {
    /// Calibration on `inputs` inputs began (one long step).
    Calibrating {
        /// Calibration inputs.
        inputs: usize,
        /// The observer choosing the ranges.
        observer: Observer,
    },
    /// Calibration is done; the int8 model is being written and loaded.
    Quantizing,
    /// `done` of `total` labelled inputs ran through the `precision` model (first with
    /// `done` 0).
    Evaluating {
        /// [`Precision::F32`] or [`Precision::Int8`].
        precision: Precision,
        /// Inputs run.
        done: usize,
        /// Inputs in all.
        total: usize,
    },
    /// Both models are being timed.
    Timing,
}

/// Top-1 accuracy of the f32 and the int8 model on one labelled set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Accuracy {
    /// Labelled inputs.
    pub inputs: usize,
    /// The f32 model's top-1 accuracy, in [0, 1].
    pub f32_top1: f64,
    /// The int8 model's.
    pub int8_top1: f64,
}

impl Accuracy {
    /// int8 minus f32, in percentage points.
    pub fn change_points(&self) -> f64 {
        (self.int8_top1 - self.f32_top1) * 100.0
    }
}

/// What [`quantize_and_compare`] made and measured.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// The int8 model and its report.
    pub quantized: Quantized,
    /// How many calibration inputs were run.
    pub calibration_inputs: usize,
    /// Accuracy of both models, when a labelled set was given.
    pub accuracy: Option<Accuracy>,
    /// p50 latency of the f32 model ([`bench::quick_p50`], 1 thread as loaded).
    pub f32_p50: Duration,
    /// p50 latency of the int8 model.
    pub int8_p50: Duration,
}

impl Comparison {
    /// int8 latency over f32 latency (below 1: int8 is faster).
    pub fn latency_ratio(&self) -> f64 {
        self.int8_p50.as_secs_f64() / self.f32_p50.as_secs_f64().max(1e-12)
    }
}

/// Quantizes `f32_model` (loaded from the ONNX bytes `bytes` with `options`) from the
/// `calibration` inputs, loads the int8 model with the same `options`, and compares the two:
/// top-1 accuracy on `eval` (when given) and p50 latency.
pub fn quantize_and_compare(
    f32_model: &mut Model,
    bytes: &[u8],
    options: &LoadOptions,
    calibration: &[Vec<f32>],
    observer: Observer,
    eval: Option<LabelledInputs<'_>>,
    progress: &mut dyn FnMut(QuantizeProgress),
) -> Result<Comparison> {
    progress(QuantizeProgress::Calibrating {
        inputs: calibration.len(),
        observer,
    });
    let calibrated = calibrate(
        bytes,
        &calibration_options(f32_model),
        calibration,
        observer,
    )?;
    progress(QuantizeProgress::Quantizing);
    let quantized = quantize(bytes, f32_model.name(), &calibrated)?;
    let mut int8_model =
        Model::load(&quantized.model, options).map_err(|e| Error::QuantizedLoad {
            model: f32_model.name().to_owned(),
            source: Box::new(e),
        })?;
    let accuracy = match eval {
        Some(set) => {
            let total = set.inputs.len();
            let mut top1 = |model: &mut Model, precision| {
                let mut tell = |done| {
                    progress(QuantizeProgress::Evaluating {
                        precision,
                        done,
                        total,
                    })
                };
                tell(0);
                accuracy(model, set, &mut tell)
            };
            let f32_top1 = top1(f32_model, Precision::F32)?;
            let int8_top1 = top1(&mut int8_model, Precision::Int8)?;
            Some(Accuracy {
                inputs: total,
                f32_top1,
                int8_top1,
            })
        }
        None => None,
    };
    progress(QuantizeProgress::Timing);
    let f32_p50 = bench::quick_p50(f32_model)?;
    let int8_p50 = bench::quick_p50(&mut int8_model)?;
    Ok(Comparison {
        quantized,
        calibration_inputs: calibrated.samples(),
        accuracy,
        f32_p50,
        int8_p50,
    })
}
