//! f32 or int8, chosen at load time as the board profile says (`runtime.precision`): `f32`,
//! `int8`, or `auto`, which measures both on this CPU and keeps the faster one whose accuracy
//! check passed. The fastest precision depends on the CPU: tract's int8 kernels are fast on
//! ARMv8.2 (SDOT) and slow on x86_64 AVX2 (NOTES.md), so only a measurement on the board knows.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::model::{LoadOptions, Model};
use crate::quantize::{Observer, calibrate, is_quantized, quantize};

/// What the board profile asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Precision {
    /// 32-bit float.
    #[default]
    F32,
    /// int8 (a quantized model, or the f32 model quantized at load from its calibration set).
    Int8,
    /// Whichever of the two is faster here and passes the accuracy check.
    Auto,
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::F32 => "f32",
            Self::Int8 => "int8",
            Self::Auto => "auto",
        })
    }
}

impl FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "f32" => Ok(Self::F32),
            "int8" => Ok(Self::Int8),
            "auto" => Ok(Self::Auto),
            other => Err(format!(
                "unknown precision `{other}` (expected f32, int8 or auto)"
            )),
        }
    }
}

/// How `auto` decides.
#[derive(Clone, Debug, PartialEq)]
pub struct AutoPolicy {
    /// Share of the check inputs on which int8 must give f32's top-1 class (default 0.99).
    pub min_agreement: f64,
    /// Timed runs per precision (after 3 warm-up runs); the median is compared.
    pub bench_runs: usize,
    /// Observer used when the int8 model is made at load.
    pub observer: Observer,
}

impl Default for AutoPolicy {
    fn default() -> Self {
        Self {
            min_agreement: 0.99,
            bench_runs: 20,
            observer: Observer::MinMax,
        }
    }
}

/// What was loaded and why.
#[derive(Clone, Debug, PartialEq)]
pub struct PrecisionChoice {
    /// What was asked for.
    pub asked: Precision,
    /// What runs: [`Precision::F32`] or [`Precision::Int8`].
    pub chosen: Precision,
    /// Median f32 latency, when measured.
    pub f32_latency: Option<Duration>,
    /// Median int8 latency, when measured.
    pub int8_latency: Option<Duration>,
    /// Share of check inputs where int8's top-1 equals f32's, when checked.
    pub agreement: Option<f64>,
    /// The int8 model was quantized at load (not shipped).
    pub quantized_at_load: bool,
    /// One line for logs and events.
    pub reason: String,
}

/// Loads `f32_model` at `precision`.
///
/// `int8_model` is a shipped quantized model (e.g. from `sentio quantize`); without one, int8 is
/// made here from `check_inputs` (the bundle's calibration set), which `auto` also uses for the
/// accuracy check and the timing.
pub fn load_with_precision(
    f32_model: &[u8],
    int8_model: Option<&[u8]>,
    check_inputs: &[Vec<f32>],
    options: &LoadOptions,
    precision: Precision,
    policy: &AutoPolicy,
) -> Result<(Model, PrecisionChoice)> {
    let mut choice = PrecisionChoice {
        asked: precision,
        chosen: Precision::F32,
        f32_latency: None,
        int8_latency: None,
        agreement: None,
        quantized_at_load: false,
        reason: String::new(),
    };
    if precision == Precision::F32 {
        choice.reason = "f32 as the board profile asks".into();
        return Ok((Model::load(f32_model, options)?, choice));
    }
    let int8_bytes = match int8_model {
        Some(bytes) if is_quantized(bytes) => Some(bytes.to_vec()),
        Some(_) => {
            return Err(Error::Calibration {
                model: options.model_name(),
                detail: "the int8 model given holds no quantized op".into(),
            });
        }
        None if !check_inputs.is_empty() => {
            let calibration = calibrate(f32_model, options, check_inputs, policy.observer)?;
            choice.quantized_at_load = true;
            Some(quantize(f32_model, &options.model_name(), &calibration)?.model)
        }
        None => None,
    };
    if precision == Precision::Int8 {
        let Some(bytes) = int8_bytes else {
            return Err(Error::Calibration {
                model: options.model_name(),
                detail: "int8 needs an int8 model (sentio quantize) or a calibration set in the \
                         bundle"
                    .into(),
            });
        };
        choice.chosen = Precision::Int8;
        choice.reason = "int8 as the board profile asks".into();
        return Ok((Model::load(&bytes, options)?, choice));
    }
    // auto
    let mut f32 = Model::load(f32_model, options)?;
    let Some(bytes) = int8_bytes else {
        choice.reason = "auto: f32 (no int8 model and no calibration set to make one)".into();
        return Ok((f32, choice));
    };
    let mut int8 = Model::load(&bytes, options)?;
    if check_inputs.is_empty() {
        choice.reason = "auto: f32 (no check inputs to verify the int8 model's accuracy)".into();
        return Ok((f32, choice));
    }
    let mut same = 0usize;
    for x in check_inputs {
        let a = f32.run(x)?.top_k(1).first().map(|p| p.index);
        let b = int8.run(x)?.top_k(1).first().map(|p| p.index);
        same += usize::from(a == b);
    }
    let agreement = same as f64 / check_inputs.len() as f64;
    choice.agreement = Some(agreement);
    let probe = &check_inputs[0];
    let f32_latency = median_latency(&mut f32, probe, policy.bench_runs)?;
    let int8_latency = median_latency(&mut int8, probe, policy.bench_runs)?;
    choice.f32_latency = Some(f32_latency);
    choice.int8_latency = Some(int8_latency);
    let timing = format!(
        "f32 {:.3} ms, int8 {:.3} ms, top-1 agreement {:.1}%",
        ms(f32_latency),
        ms(int8_latency),
        100.0 * agreement
    );
    if agreement < policy.min_agreement {
        choice.reason = format!(
            "auto: f32 (int8 failed the accuracy check: {timing} < {:.1}%)",
            100.0 * policy.min_agreement
        );
        return Ok((f32, choice));
    }
    if int8_latency < f32_latency {
        choice.chosen = Precision::Int8;
        choice.reason = format!("auto: int8 is faster here ({timing})");
        Ok((int8, choice))
    } else {
        choice.reason = format!("auto: f32 is faster here ({timing})");
        Ok((f32, choice))
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Median wall time of `runs` inferences on `input`, after 3 warm-up runs (through the one
/// timing loop, [`crate::bench::time`]).
pub fn median_latency(model: &mut Model, input: &[f32], runs: usize) -> Result<Duration> {
    let latencies = crate::bench::time(|| model.run(input), 3, crate::bench::Budget::Runs(runs))?;
    Ok(latencies.p50())
}
