//! How Sentio lowers a model onto tract: ops of its own where tract 0.23.9 is slow, and a
//! measured choice between two of tract's own lowerings. Each is measured in
//! docs/benchmarks.md (`sentio bench --profile` shows the time per node) and checked against
//! onnxruntime by the conformance suite.
//!
//! - [`flat_conv`]: stride-1 convolutions (8k output channels, or depthwise) and the pointwise
//!   convolutions tract writes as einsums run as direct convolutions over the flat index of the
//!   (padded) input, 8 channels x 48 outputs in AVX-512 registers, instead of tract's im2col
//!   copy and matmul; the batch norms and the ReLU that follow are folded into their weights
//!   and stores, the `Downsample`s before a strided pointwise convolution into its reads.
//! - [`row_conv`]: the other convolutions with at most 9 taps per output (a strided first layer
//!   of a grayscale model) run as direct row convolutions instead of tract's im2col + 40x2
//!   matmul kernel.
//! - [`max_pool`]: max pools run row by row instead of tract's per-output walk.
//! - [`lstm`]: an LSTM runs as one op over the whole sequence instead of tract's `Scan`, which
//!   dispatches a nested plan per time step.
//! - [`optimize_measured`]: for a convolution left to tract whose output rows are at least 128
//!   wide, tract picks its direct spatial kernel, which here (x86_64, AVX-512) ran at half the
//!   speed of its im2col + matmul path; on an ARM board it may win. So both plans are built and
//!   timed at load, and the faster is kept.
//!
//! Only f32 ops are touched; quantized models keep tract's ops.

pub mod flat_conv;
pub mod lstm;
pub mod max_pool;
pub mod row_conv;

use std::time::{Duration, Instant};

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
/// zeroing its 254 KB output took a tenth of the op). Debug builds, the tests', fill it with
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

/// Convolutions and LSTMs replaced (see [`flat_conv`], [`row_conv`], [`lstm`]), tract's
/// optimization, then the max pools replaced (see [`max_pool`]); returns the plan and what was
/// replaced.
pub fn optimize(mut decluttered: TypedModel) -> TractResult<(TypedModel, Lowering)> {
    // Stride-1 convolutions with 8k output channels first (even a first layer with 4 taps runs
    // faster with its 8 channels at a time), then the strided and depthwise ones.
    let flat_convs = flat_conv::replace_convs(&mut decluttered, sentio_kernels::Isa::detected())?;
    let row_convs = row_conv::replace_convs(&mut decluttered, sentio_kernels::Isa::detected())?;
    let lstms = lstm::replace_lstms(&mut decluttered, sentio_kernels::Isa::detected())?;
    let mut model = decluttered.into_optimized()?;
    let max_pools = max_pool::replace_max_pools(&mut model, sentio_kernels::Isa::detected())?.len();
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
        },
    ))
}

/// [`optimize`]; when tract lowered some convolution to its direct spatial kernel, also
/// optimizes with that kernel off, times both plans on a zero input of `input_shape` and keeps
/// the faster. Returns the plan and what was replaced and chosen.
pub fn optimize_measured(
    decluttered: TypedModel,
    input_shape: &[usize],
    run_options: &RunOptions,
) -> TractResult<(TypedModel, Lowering)> {
    let (direct, lowering) = optimize(decluttered.clone())?;
    if !direct
        .nodes()
        .iter()
        .any(|n| n.op.name() == "DirectSpatialConv")
    {
        return Ok((direct, lowering));
    }
    let scope = KnobScope::new([NO_DIRECT_SPATIAL])?;
    let (im2col, im2col_lowering) = scope.enter(|| optimize(decluttered))?;
    let input = TValue::from_const(Arc::new(Tensor::zero::<f32>(input_shape)?));
    let plans = [
        direct.clone().into_runnable_with_options(run_options)?,
        im2col.clone().into_runnable_with_options(run_options)?,
    ];
    let mut times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    for round in 0..WARMUP_RUNS + TIMED_ROUNDS {
        for (plan, times) in plans.iter().zip(times.iter_mut()) {
            // A fresh state per run: a recurrent op must not carry its state into the next.
            let mut state = plan.spawn()?;
            let start = Instant::now();
            state.run(tvec![input.clone()])?;
            if round >= WARMUP_RUNS {
                times.push(start.elapsed());
            }
        }
    }
    let [direct_time, im2col_time] = times.map(|mut t| {
        t.sort();
        t[t.len() / 2]
    });
    let choice = ConvChoice {
        direct_spatial: direct_time <= im2col_time,
        direct_spatial_time: direct_time,
        im2col_time,
    };
    let (plan, lowering) = if choice.direct_spatial {
        (direct, lowering)
    } else {
        (im2col, im2col_lowering)
    };
    Ok((
        plan,
        Lowering {
            conv_choice: Some(choice),
            ..lowering
        },
    ))
}
