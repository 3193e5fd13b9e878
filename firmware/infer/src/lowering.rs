//! How Sentio lowers a model onto tract: its own kernels (the crate `sentio-kernels`, no
//! tract in it) for the ops where tract 0.23.9 is slow, and a measured choice of whose plan
//! runs. This module is the tract side: which of tract's ops each kernel takes, their weights
//! packed and what follows them folded in, and the tract `Op`s that call the kernels. Each is
//! checked against tract and onnxruntime by the conformance suite; the figures are in
//! docs/benchmarks.md (`sentio bench --profile` shows the time per node).
//!
//! - [`flat_conv`]: stride-1 convolutions (8k output channels, or depthwise) and the pointwise
//!   convolutions tract writes as einsums run as direct convolutions over the flat index of the
//!   (padded) input instead of tract's im2col copy and matmul; the batch norms and the ReLU that
//!   follow are folded into their weights and stores, the `Downsample`s before a strided
//!   pointwise convolution into its reads.
//! - [`row_conv`]: the other convolutions with at most 9 taps per output (a strided first layer
//!   of a grayscale model) run as direct row convolutions instead of tract's im2col + matmul.
//! - [`max_pool`]: max pools run row by row instead of tract's per-output walk.
//! - [`lstm`]: an LSTM runs as one op over the whole sequence instead of tract's `Scan`, which
//!   dispatches a nested plan per time step.
//! - [`plan`]: whose plan runs. Sentio's kernels were written and timed on x86_64 with AVX-512;
//!   on another CPU tract's own kernels (hand-written NEON on the boards) may be faster, so with
//!   [`KernelsMode::Auto`] (the device's default) both plans are built and timed at load and
//!   the faster is kept, the choice cached with the plan. Within Sentio's plan, a convolution
//!   left to tract whose output rows are at least 128 wide gets tract's direct spatial kernel,
//!   which is timed against tract's im2col + matmul path the same way.
//!
//! Only f32 ops are touched; quantized models keep tract's ops.

pub mod flat_conv;
pub mod lstm;
pub mod max_pool;
pub mod row_conv;

use std::time::Duration;

use sentio_kernels::Isa;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::ensure;
use tract_onnx::tract_core::knobs::KnobScope;
use tract_onnx::tract_core::ops::Op;
use tract_onnx::tract_core::ops::cnn::{Conv, KernelFormat, PaddingSpec};
use tract_onnx::tract_core::ops::nn::DataFormat;
use tract_onnx::tract_core::runtime::RunOptions;

/// What Sentio's lowering did to a plan, for reports (`sentio bench` prints it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lowering {
    /// Names of the convolutions run as [`row_conv::RowConv`].
    pub row_convs: Vec<String>,
    /// Names of the convolutions run as [`flat_conv::FlatConv`].
    pub flat_convs: Vec<String>,
    /// How many of tract's max pools run as [`max_pool::RowMaxPool`].
    pub max_pools: usize,
    /// Names of the LSTMs run as [`lstm::SeqLstm`].
    pub lstms: Vec<String>,
    /// The measured choice between tract's convolution lowerings, when the plan had one.
    pub conv_choice: Option<ConvChoice>,
    /// Whose plan runs, and why.
    pub plan: PlanChoice,
}

impl Lowering {
    /// Whether nothing was replaced or chosen.
    pub fn is_empty(&self) -> bool {
        self.row_convs.is_empty()
            && self.flat_convs.is_empty()
            && self.max_pools == 0
            && self.lstms.is_empty()
            && self.conv_choice.is_none()
    }
}

/// Whose kernels run a model (a profile's `runtime.kernels`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum KernelsMode {
    /// Sentio's plan and tract's own are both built and timed at load; the faster runs (the
    /// choice is cached with the plan when a [`crate::PlanCache`] is given).
    #[default]
    Auto,
    /// Sentio's kernels for the ops they take (tract's for the rest).
    Sentio,
    /// tract's own plan.
    Tract,
}

impl KernelsMode {
    pub fn name(self) -> &'static str {
        match self {
            KernelsMode::Auto => "auto",
            KernelsMode::Sentio => "sentio",
            KernelsMode::Tract => "tract",
        }
    }
}

/// A plan a model can run with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PlanKind {
    /// Sentio's kernels, the convolutions left to tract lowered as tract picks.
    Sentio,
    /// Sentio's kernels, the convolutions left to tract as im2col + matmul (built only when
    /// tract picked its direct spatial kernel for some).
    SentioIm2col,
    /// tract's own plan.
    Tract,
}

impl PlanKind {
    pub fn name(self) -> &'static str {
        match self {
            PlanKind::Sentio => "sentio",
            PlanKind::SentioIm2col => "sentio+im2col",
            PlanKind::Tract => "tract",
        }
    }

    pub(crate) fn parse(name: &str) -> Option<Self> {
        [PlanKind::Sentio, PlanKind::SentioIm2col, PlanKind::Tract]
            .into_iter()
            .find(|k| k.name() == name)
    }

    /// Whether the plan has Sentio's kernels.
    pub fn is_sentio(self) -> bool {
        self != PlanKind::Tract
    }
}

/// Why a plan runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ChoiceReason {
    /// The mode asked for it (`runtime.kernels = "sentio"` or `"tract"`), or there was nothing
    /// to choose between.
    #[default]
    Asked,
    /// Timed at this load: the fastest of the candidates.
    Measured,
    /// Timed at an earlier load on this CPU with this runtime (the cached choice).
    Cached,
    /// Sentio's kernels take none of the model's ops (an int8 model, or ops they do not
    /// cover): its plan is tract's, nothing to time.
    NothingToReplace,
}

impl ChoiceReason {
    /// The reason as reports and events spell it: `asked`, `measured`, `cached`,
    /// `nothing_to_replace`.
    pub fn name(&self) -> &'static str {
        match self {
            ChoiceReason::Asked => "asked",
            ChoiceReason::Measured => "measured",
            ChoiceReason::Cached => "cached",
            ChoiceReason::NothingToReplace => "nothing_to_replace",
        }
    }
}

/// Whose plan runs, why, and what each candidate measured (median of the timed runs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanChoice {
    pub chosen: PlanKind,
    pub reason: ChoiceReason,
    pub mode: KernelsMode,
    /// Sentio's kernels' instruction set (whether or not its plan was chosen).
    pub isa: Isa,
    pub times: Vec<(PlanKind, Duration)>,
}

impl Default for PlanChoice {
    fn default() -> Self {
        Self {
            chosen: PlanKind::Sentio,
            reason: ChoiceReason::Asked,
            mode: KernelsMode::Sentio,
            isa: Isa::detected(),
            times: Vec::new(),
        }
    }
}

impl std::fmt::Display for PlanChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} plan", self.chosen.name())?;
        if self.chosen.is_sentio() {
            write!(f, " (Sentio's kernels: {})", self.isa)?;
        }
        let why = match self.reason {
            ChoiceReason::Asked => format!("runtime.kernels = \"{}\"", self.mode.name()),
            ChoiceReason::Measured => "the fastest, timed at this load".to_string(),
            ChoiceReason::Cached => "the fastest, timed at an earlier load (cached)".to_string(),
            ChoiceReason::NothingToReplace => "Sentio's kernels take none of its ops".to_string(),
        };
        write!(f, ": {why}")?;
        if !self.times.is_empty() {
            let times: Vec<String> = self
                .times
                .iter()
                .map(|(k, t)| format!("{} {:.3} ms", k.name(), t.as_secs_f64() * 1e3))
                .collect();
            write!(f, " [{}]", times.join(", "))?;
        }
        Ok(())
    }
}

/// The fastest of `times` (per candidate, its median); of equals, the one listed first (so
/// Sentio's plan, listed first, wins a tie). `None` when there is no candidate.
pub fn fastest(times: &[(PlanKind, Duration)]) -> Option<PlanKind> {
    let mut best: Option<(PlanKind, Duration)> = None;
    for (kind, time) in times {
        if best.is_none_or(|(_, t)| *time < t) {
            best = Some((*kind, *time));
        }
    }
    best.map(|(kind, _)| kind)
}

/// The batch, channels and spatial dims of a channels-first `shape` as tract plans it in
/// `format`: NCHW, or CHW when tract dropped a batch of one (batch 1). `None` for another
/// layout.
fn channels_first(format: DataFormat, shape: &[usize]) -> Option<(usize, usize, &[usize])> {
    match (format, shape) {
        (DataFormat::NCHW, [n, c, spatial @ ..]) => Some((*n, *c, spatial)),
        (DataFormat::CHW, [c, spatial @ ..]) => Some((1, *c, spatial)),
        _ => None,
    }
}

/// The shape of `n` x `c` planes of `spatial` dims in the plan's layout (with the N axis when
/// `batch_axis`, as [`channels_first`] found it).
fn planned_shape(batch_axis: bool, n: usize, c: usize, spatial: &[usize]) -> TVec<usize> {
    let mut shape: TVec<usize> = if batch_axis { tvec![n, c] } else { tvec![c] };
    shape.extend_from_slice(spatial);
    shape
}

/// Evaluates one of Sentio's single-input f32 ops: checks `input` has the shape the op was
/// planned for, and runs `kernel` from its values into an output of `output_shape`, which
/// `kernel` must write in full: it is not zeroed first (for the emoji CNN's first conv,
/// zeroing its output was a measurable share of the op). Debug builds, the tests', fill it with
/// NaN instead, so an output a kernel leaves unwritten fails the comparisons with tract and
/// onnxruntime.
fn eval_f32(
    op: &str,
    input: TValue,
    input_shape: &[usize],
    output_shape: &[usize],
    kernel: impl FnOnce(&[f32], &mut [f32]) -> TractResult<()>,
) -> TractResult<TVec<TValue>> {
    ensure!(
        input.shape() == input_shape,
        "{op} planned for {input_shape:?}, got {:?}",
        input.shape()
    );
    let mut output = if cfg!(debug_assertions) {
        Tensor::from_shape(output_shape, &vec![f32::NAN; output_shape.iter().product()])?
    } else {
        // SAFETY: f32 has no invalid bit pattern, and every kernel writes every output value
        // before anything reads it (the contract above, checked in debug builds).
        unsafe { Tensor::uninitialized::<f32>(output_shape)? }
    };
    {
        let input = input.try_as_plain_ram()?;
        let mut out = output.try_as_plain_ram_mut()?;
        kernel(input.as_slice::<f32>()?, out.as_slice_mut::<f32>()?)?;
    }
    Ok(tvec!(output.into_tvalue()))
}

/// Replaces, in plan order, every node of `model` whose op is an `O` that `pick` (given the op
/// and the node's input facts) turns into one of Sentio's ops, wired to the node's first input
/// only (the others are constants the new op holds). Returns the replaced nodes' names.
fn replace_nodes<O: Op, K: TypedOp>(
    model: &mut TypedModel,
    pick: impl Fn(&O, &[&TypedFact]) -> Option<K>,
) -> TractResult<Vec<String>> {
    let mut replaced = Vec::new();
    for id in model.eval_order()? {
        let node = model.node(id);
        let Some(op) = node.op_as::<O>() else {
            continue;
        };
        let Some(new_op) = pick(op, &model.node_input_facts(id)?) else {
            continue;
        };
        let name = node.name.clone();
        let patch = TypedModelPatch::replace_single_op(model, node, &node.inputs[..1], new_op)?;
        patch.apply(model)?;
        replaced.push(name);
    }
    Ok(replaced)
}

/// What Sentio's convolution kernels need to know of one of tract's `Conv` nodes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct ConvGeometry {
    /// [N, C_in, H, W].
    input: [usize; 4],
    /// Whether the tensors have the N axis (NCHW) or not (CHW: tract drops a batch of one).
    batch_axis: bool,
    /// Two spatial axes, or one (a 1-D convolution, seen as a 2-D one over a single row).
    two_d: bool,
    /// [C_out, OH, OW].
    output: [usize; 3],
    kernel: [usize; 2],
    strides: [usize; 2],
    /// Padding before the first row and column, and after the last.
    pad_before: [usize; 2],
    pad_after: [usize; 2],
    group: usize,
    /// [C_out, C_in / group, kh, kw] f32.
    weights: Arc<Tensor>,
    /// [C_out] f32.
    bias: Arc<Tensor>,
}

impl ConvGeometry {
    /// The geometry of `conv` (a node of a decluttered model with inputs of `facts`: the
    /// input, the kernel and the bias), when it is a plain f32 1-D or 2-D convolution over
    /// channels-first data (NCHW, or CHW when tract dropped a batch of one) without dilation,
    /// with constant weights and bias over a known input shape.
    fn of(conv: &Conv, facts: &[&TypedFact]) -> Option<Self> {
        let spec = &conv.pool_spec;
        let [input, kernel, bias] = facts else {
            return None;
        };
        let group = conv.group;
        if conv.q_params.is_some()
            || group == 0
            || conv.kernel_fmt != KernelFormat::OIHW
            || input.datum_type != f32::datum_type()
            || !(1..=2).contains(&spec.kernel_shape.len())
            || spec.dilations().iter().any(|d| *d != 1)
            // (tract refuses these before; a zero would divide by zero in the spans)
            || spec.strides().contains(&0)
            || spec.kernel_shape.contains(&0)
            || matches!(spec.padding, PaddingSpec::SameLower)
        {
            return None;
        }
        let (n, c_in, spatial) = channels_first(spec.data_format, input.shape.as_concrete()?)?;
        if spatial.len() != spec.kernel_shape.len() {
            return None;
        }
        // A 1-D convolution (over time) is a 2-D one over a single row.
        let two_d = spatial.len() == 2;
        let pair = |v: &[usize], one: usize| if two_d { [v[0], v[1]] } else { [one, v[0]] };
        let [h, w] = pair(spatial, 1);
        let [kh, kw] = pair(&spec.kernel_shape, 1);
        let c_out = spec.output_channels;
        if !c_in.is_multiple_of(group) || !c_out.is_multiple_of(group) {
            return None;
        }
        let weights = kernel.konst.clone()?;
        let weights_shape: &[usize] = if two_d {
            &[c_out, c_in / group, kh, kw]
        } else {
            &[c_out, c_in / group, kw]
        };
        if weights.datum_type() != f32::datum_type() || weights.shape() != weights_shape {
            return None;
        }
        let bias = bias.konst.clone()?;
        let bias = bias
            .try_as_plain_ram()
            .ok()?
            .as_slice::<f32>()
            .ok()?
            .to_vec();
        let bias = match bias.len() {
            1 => vec![bias[0]; c_out],
            len if len == c_out => bias,
            _ => return None,
        };
        let bias = Tensor::from_shape(&[c_out], &bias).ok()?;
        let padding = spec.computed_padding(spatial);
        let strides = spec.strides();
        let convoluted: Vec<usize> = padding.iter().map(|p| p.convoluted).collect();
        let before: Vec<usize> = padding.iter().map(|p| p.pad_before).collect();
        let after: Vec<usize> = padding.iter().map(|p| p.pad_after).collect();
        let [oh, ow] = pair(&convoluted, 1);
        Some(Self {
            input: [n, c_in, h, w],
            batch_axis: spec.data_format == DataFormat::NCHW,
            two_d,
            output: [c_out, oh, ow],
            kernel: [kh, kw],
            strides: pair(&strides, 1),
            pad_before: pair(&before, 0),
            pad_after: pair(&after, 0),
            group,
            weights,
            bias: Arc::new(bias),
        })
    }
}

/// Which of tract's convolution lowerings a plan runs, and what each measured at load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvChoice {
    /// Whether the plan kept tract's direct spatial convolutions (else: im2col + matmul).
    pub direct_spatial: bool,
    /// Median run time of the plan with direct spatial convolutions.
    pub direct_spatial_time: Duration,
    /// Median run time of the plan with im2col + matmul instead.
    pub im2col_time: Duration,
}

impl std::fmt::Display for ConvChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        write!(
            f,
            "{} (measured at load: direct spatial {:.3} ms, im2col {:.3} ms)",
            if self.direct_spatial {
                "direct spatial convolutions"
            } else {
                "im2col + matmul convolutions"
            },
            ms(self.direct_spatial_time),
            ms(self.im2col_time)
        )
    }
}

/// The tract knob that turns the direct spatial convolution off while a model is optimized.
const NO_DIRECT_SPATIAL: (&str, &str) = ("TRACT_DISABLE_DIRECT_SPATIAL", "true");
/// Untimed runs of each candidate plan, then timed rounds (one run of each per round,
/// alternating, so a burst of load on the machine hits both alike).
const WARMUP_RUNS: usize = 3;
const TIMED_ROUNDS: usize = 15;

/// Convolutions and LSTMs replaced (see [`flat_conv`], [`row_conv`], [`lstm`]) by Sentio's
/// kernels running with `isa`, tract's optimization, then the max pools replaced (see
/// [`max_pool`]); returns the plan and what was replaced.
pub fn optimize(mut decluttered: TypedModel, isa: Isa) -> TractResult<(TypedModel, Lowering)> {
    // Stride-1 convolutions with 8k output channels first (even a first layer with 4 taps runs
    // faster with its 8 channels at a time), then the strided and depthwise ones.
    let flat_convs = flat_conv::replace_convs(&mut decluttered, isa)?;
    let row_convs = row_conv::replace_convs(&mut decluttered, isa)?;
    let lstms = lstm::replace_lstms(&mut decluttered, isa)?;
    let mut model = decluttered.into_optimized()?;
    let max_pools = max_pool::replace_max_pools(&mut model, isa)?.len();
    // (drops the nodes the replacements left unused)
    model.compact()?;
    Ok((
        model,
        Lowering {
            row_convs,
            flat_convs,
            max_pools,
            lstms,
            conv_choice: None,
            plan: PlanChoice {
                isa,
                ..PlanChoice::default()
            },
        },
    ))
}

/// What [`plan`] is asked for.
#[derive(Clone, Debug)]
pub struct PlanRequest<'a> {
    /// The input shape the candidates are timed with (on zeros).
    pub input_shape: &'a [usize],
    pub run_options: &'a RunOptions,
    pub mode: KernelsMode,
    /// The instruction set Sentio's kernels run with.
    pub isa: Isa,
    /// The plan an earlier load on this CPU measured fastest ([`KernelsMode::Auto`] only).
    pub cached: Option<(PlanKind, Vec<(PlanKind, Duration)>)>,
}

/// The plan `request.mode` asks for. With [`KernelsMode::Auto`], Sentio's plan and tract's own
/// are built and timed on a zero input, and the faster is kept (unless `request.cached` says
/// which won before); with Sentio's kernels, when tract lowered some convolution it kept to
/// its direct spatial kernel (which on x86_64 ran at half the speed of its im2col + matmul
/// path; on an ARM board it may win), a plan with that kernel off is a candidate too.
pub fn plan(
    decluttered: TypedModel,
    request: &PlanRequest<'_>,
) -> TractResult<(TypedModel, Lowering)> {
    let isa = request.isa;
    let choice = |chosen, reason, times| PlanChoice {
        chosen,
        reason,
        mode: request.mode,
        isa,
        times,
    };
    let build = |kind: PlanKind, model: TypedModel| -> TractResult<(TypedModel, Lowering)> {
        match kind {
            PlanKind::Sentio => optimize(model, isa),
            PlanKind::SentioIm2col => {
                KnobScope::new([NO_DIRECT_SPATIAL])?.enter(|| optimize(model, isa))
            }
            PlanKind::Tract => Ok((model.into_optimized()?, Lowering::default())),
        }
    };
    if request.mode == KernelsMode::Tract {
        let (model, lowering) = build(PlanKind::Tract, decluttered)?;
        return Ok((
            model,
            Lowering {
                plan: choice(PlanKind::Tract, ChoiceReason::Asked, Vec::new()),
                ..lowering
            },
        ));
    }
    if let (KernelsMode::Auto, Some((kind, times))) = (request.mode, &request.cached) {
        let (model, lowering) = build(*kind, decluttered)?;
        return Ok((
            model,
            Lowering {
                plan: choice(*kind, ChoiceReason::Cached, times.clone()),
                ..lowering
            },
        ));
    }
    let mut candidates = vec![(
        PlanKind::Sentio,
        build(PlanKind::Sentio, decluttered.clone())?,
    )];
    let direct_spatial = candidates[0]
        .1
        .0
        .nodes()
        .iter()
        .any(|n| n.op.name() == "DirectSpatialConv");
    if candidates[0].1.1.is_empty() && !direct_spatial {
        // Nothing replaced: the plan is tract's own.
        let (_, (model, lowering)) = candidates.remove(0);
        return Ok((
            model,
            Lowering {
                plan: choice(PlanKind::Tract, ChoiceReason::NothingToReplace, Vec::new()),
                ..lowering
            },
        ));
    }
    if direct_spatial {
        let im2col = build(PlanKind::SentioIm2col, decluttered.clone())?;
        candidates.push((PlanKind::SentioIm2col, im2col));
    }
    if request.mode == KernelsMode::Auto {
        candidates.push((PlanKind::Tract, build(PlanKind::Tract, decluttered)?));
    }
    if candidates.len() == 1 {
        let (kind, (model, lowering)) = candidates.remove(0);
        return Ok((
            model,
            Lowering {
                plan: choice(kind, ChoiceReason::Asked, Vec::new()),
                ..lowering
            },
        ));
    }
    let plans: Vec<(PlanKind, &TypedModel)> =
        candidates.iter().map(|(kind, (m, _))| (*kind, m)).collect();
    let times = time_plans(&plans, request.input_shape, request.run_options)?;
    let chosen = fastest(&times).unwrap_or(PlanKind::Sentio);
    let time_of = |kind| times.iter().find(|(k, _)| *k == kind).map(|(_, t)| *t);
    let conv_choice = match (time_of(PlanKind::Sentio), time_of(PlanKind::SentioIm2col)) {
        (Some(direct), Some(im2col)) => Some(ConvChoice {
            direct_spatial: direct <= im2col,
            direct_spatial_time: direct,
            im2col_time: im2col,
        }),
        _ => None,
    };
    let Some((_, (model, lowering))) = candidates.into_iter().find(|(k, _)| *k == chosen) else {
        tract_onnx::tract_core::internal::bail!("the chosen plan {} was not built", chosen.name())
    };
    Ok((
        model,
        Lowering {
            conv_choice,
            plan: choice(chosen, ChoiceReason::Measured, times),
            ..lowering
        },
    ))
}

/// The median run time of each plan on a zero input of `input_shape`: untimed runs, then
/// timed rounds with one run of each plan per round, so a burst of load on the machine hits
/// all alike (see [`crate::bench::time_rounds`]).
fn time_plans(
    plans: &[(PlanKind, &TypedModel)],
    input_shape: &[usize],
    run_options: &RunOptions,
) -> TractResult<Vec<(PlanKind, Duration)>> {
    let input = TValue::from_const(Arc::new(Tensor::zero::<f32>(input_shape)?));
    let runnable = plans
        .iter()
        .map(|(_, m)| (*m).clone().into_runnable_with_options(run_options))
        .collect::<TractResult<Vec<_>>>()?;
    let latencies = crate::bench::time_rounds(
        runnable.len(),
        WARMUP_RUNS,
        TIMED_ROUNDS,
        // A fresh state per run: a recurrent op must not carry its state into the next.
        |i| match runnable.get(i) {
            Some(plan) => plan.spawn(),
            None => tract_onnx::tract_core::internal::bail!("no plan {i}"),
        },
        |_, mut state| state.run(tvec![input.clone()]).map(drop),
    )?;
    Ok(plans
        .iter()
        .zip(latencies)
        .map(|((kind, _), t)| (*kind, t.p50()))
        .collect())
}

#[cfg(test)]
mod choice_tests {
    use super::*;

    fn ms(v: f64) -> Duration {
        Duration::from_secs_f64(v / 1e3)
    }

    #[test]
    fn auto_keeps_the_faster_of_sentio_and_tract() {
        use PlanKind::*;
        // (Sentio's median, tract's median, the plan kept): Sentio faster, tract faster (as a
        // board whose portable loops lose to tract's NEON kernels), a tie (Sentio's, listed
        // first, stays).
        for (sentio, tract, kept) in [
            (0.112, 1.036, Sentio),
            (0.500, 2.133, Sentio),
            (1.300, 0.900, Tract),
            (0.240, 0.239, Tract),
            (0.800, 0.800, Sentio),
        ] {
            let times = [(Sentio, ms(sentio)), (Tract, ms(tract))];
            assert_eq!(fastest(&times), Some(kept), "{times:?}");
        }
        // Three candidates (Sentio's plan with tract's direct spatial convs off as well).
        let times = [(Sentio, ms(1.0)), (SentioIm2col, ms(0.7)), (Tract, ms(0.9))];
        assert_eq!(fastest(&times), Some(SentioIm2col));
        assert_eq!(fastest(&[]), None);
    }

    #[test]
    fn a_choice_reads_as_what_ran_and_why() {
        let choice = PlanChoice {
            chosen: PlanKind::Tract,
            reason: ChoiceReason::Measured,
            mode: KernelsMode::Auto,
            isa: Isa::Portable,
            times: vec![(PlanKind::Sentio, ms(1.3)), (PlanKind::Tract, ms(0.9))],
        };
        assert_eq!(
            choice.to_string(),
            "tract plan: the fastest, timed at this load [sentio 1.300 ms, tract 0.900 ms]"
        );
    }
}
