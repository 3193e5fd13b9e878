//! The flat convolution's tract side: which of tract's stride-1 convolutions (the 2x2 and 3x3
//! ones of the emoji and FER CNNs, their depthwise and pointwise convolutions, the SER model's
//! 1-D convolutions over time) and of the einsums tract makes of a 1x1 `Conv` run as
//! [`sentio_kernels::flat_conv`] instead, before tract optimizes the plan, and what of the
//! graph around them folds in.
//!
//! tract 0.23.9 lowers these convolutions to an im2col copy of the input (each value copied
//! once per tap) feeding its matmul kernel; the flat convolution reads the padded input in
//! place (see the kernel's documentation, and docs/benchmarks.md for the figures).
//!
//! What follows a convolution in tract's decluttered graph is folded in when it can be: `Add`s
//! and `Mul`s by one constant per output channel (the conv's bias and a batch norm) into the
//! weights and bias, then a ReLU (`Max(x, 0)`) into the stores; and the `Downsample`s tract
//! puts before a strided 1x1 convolution into one strided read of the input.

use std::sync::Arc;

use sentio_kernels::Isa;
use sentio_kernels::flat_conv::FlatConvPlan;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::Downsample;
use tract_onnx::tract_core::ops::binary::TypedBinOp;
use tract_onnx::tract_core::ops::cnn::Conv;
use tract_onnx::tract_core::ops::einsum::EinSum;

use super::{ConvGeometry, eval_f32, planned_shape, replace_nodes};

/// One stride-1 convolution as a tract op: the planned kernel, and the shapes of its input and
/// output in the plan (NCHW or CHW, or a pointwise convolution's einsum shapes, of
/// [N, C_in, H, W] and [N, C_out, OH, OW] values).
#[derive(Clone, Debug, PartialEq)]
pub struct FlatConv {
    input_shape: TVec<usize>,
    output_shape: TVec<usize>,
    plan: Arc<FlatConvPlan>,
}

// (tract's ops compare with `Eq`; the weights are finite, `check::finite_weights` refused any
// NaN at load, so comparing them is an equivalence)
impl Eq for FlatConv {}

impl FlatConv {
    /// The replacement for `conv` (a node of a decluttered model with inputs of `facts`), when
    /// it is an f32 1-D or 2-D convolution with stride 1, no dilation, no groups and a multiple
    /// of 8 output channels or a depthwise one, with constant weights over a known input shape.
    pub fn for_op(conv: &Conv, facts: &[&TypedFact], isa: Isa) -> Option<Self> {
        let g = ConvGeometry::of(conv, facts)?;
        let [_, c_in, _, _] = g.input;
        let depthwise = g.group > 1 && g.group == c_in && g.group == g.output[0];
        if !(g.group == 1 || depthwise) || g.strides != [1, 1] {
            return None;
        }
        let weights = g.weights.try_as_plain_ram().ok()?;
        let pad = [
            g.pad_before[0],
            g.pad_before[1],
            g.pad_after[0],
            g.pad_after[1],
        ];
        let bias = g.bias.try_as_plain_ram().ok()?;
        let plan = FlatConvPlan::new(
            g.input,
            g.output,
            g.kernel,
            pad,
            weights.as_slice::<f32>().ok()?,
            bias.as_slice::<f32>().ok()?,
            depthwise,
            isa,
        )
        .ok()?;
        let conv = Self::planned(plan, g.batch_axis);
        if g.two_d {
            return Some(conv);
        }
        // A 1-D convolution keeps the plan's shapes: [N, C, T] (or [C, T]).
        let [n, c_in, _, w] = g.input;
        let [c_out, _, ow] = g.output;
        Some(Self {
            input_shape: planned_shape(g.batch_axis, n, c_in, &[w]),
            output_shape: planned_shape(g.batch_axis, n, c_out, &[ow]),
            ..conv
        })
    }

    /// The replacement for an `einsum` (with inputs of `facts`) that is a pointwise
    /// convolution, as tract writes a 1x1 `Conv` (`NIHW,OI->OHW` and the like): a constant f32
    /// [O, I] weight times an input whose axes are, but for axes of size 1, I then the spatial
    /// ones, into an output whose axes are O then the same spatial ones; O a multiple of 8.
    pub fn for_pointwise(einsum: &EinSum, facts: &[&TypedFact], isa: Isa) -> Option<Self> {
        let [input, weights] = facts else {
            return None;
        };
        if einsum.q_params.is_some()
            || einsum.operating_dt != f32::datum_type()
            || input.datum_type != f32::datum_type()
        {
            return None;
        }
        let weights = weights.konst.clone()?;
        let &[c_out, c_in] = weights.shape() else {
            return None;
        };
        let input_shape = input.shape.as_concrete()?;
        let output = einsum.output_facts(facts).ok()?;
        let output_shape = output.first()?.shape.as_concrete()?;
        // The axes of input 0 and of the output in order, without those of size 1; each as
        // (its place in the weight, its place in the output or in input 0).
        let mut in_axes: Vec<(Option<usize>, Option<usize>, usize)> = Vec::new();
        let mut out_axes: Vec<(Option<usize>, Option<usize>, usize)> = Vec::new();
        for axis in einsum.axes.iter_all_axes() {
            let (a, b, out) = (
                axis.inputs.first()?,
                axis.inputs.get(1)?,
                axis.outputs.first()?,
            );
            let (a, b, out) = (a.first().copied(), b.first().copied(), out.first().copied());
            if let Some(pa) = a
                && input_shape.get(pa) != Some(&1)
            {
                in_axes.push((b, out, pa));
            }
            if let Some(po) = out
                && output_shape.get(po) != Some(&1)
            {
                out_axes.push((b, a, po));
            }
        }
        in_axes.sort_by_key(|(_, _, p)| *p);
        out_axes.sort_by_key(|(_, _, p)| *p);
        // Input: I (weight axis 1, not in the output), then spatial axes (not in the weight,
        // in the output); output: O (weight axis 0, not in input 0), then the same spatial
        // axes in the same order.
        let (Some((Some(1), None, _)), Some((Some(0), None, _))) =
            (in_axes.first(), out_axes.first())
        else {
            return None;
        };
        let spatial_in: Vec<usize> = in_axes[1..]
            .iter()
            .map(|(b, out, _)| if b.is_none() { *out } else { None })
            .collect::<Option<_>>()?;
        let spatial_out: Vec<usize> = out_axes[1..].iter().map(|(_, _, p)| *p).collect();
        if spatial_in != spatial_out || out_axes[1..].iter().any(|(b, _, _)| b.is_some()) {
            return None;
        }
        let plane: usize = spatial_out.iter().map(|p| output_shape[*p]).product();
        // (A dense layer is a pointwise convolution over one position: left to tract's matmul,
        // which streams the weights the same way.)
        if plane < 2
            || input_shape.iter().product::<usize>() != c_in * plane
            || output_shape.iter().product::<usize>() != c_out * plane
        {
            return None;
        }
        let weights = weights.try_as_plain_ram().ok()?;
        let plan = FlatConvPlan::new(
            [1, c_in, 1, plane],
            [c_out, 1, plane],
            [1, 1],
            [0; 4],
            weights.as_slice::<f32>().ok()?,
            &vec![0.0; c_out],
            false,
            isa,
        )
        .ok()?;
        // (A plane under 16 positions that the channels-in-lanes kernel does not take (no
        // AVX-512, or output channels not a multiple of 16) is left to tract, as before it.)
        if plane < 16 && !plan.has_channels_in_lanes() {
            return None;
        }
        Some(Self {
            input_shape: input_shape.into(),
            output_shape: output_shape.into(),
            plan: Arc::new(plan),
        })
    }

    /// The op for `plan`, its input and output in the plan's shapes (NCHW, or CHW when
    /// `batch_axis` is false).
    fn planned(plan: FlatConvPlan, batch_axis: bool) -> Self {
        let [n, c_in, h, w] = plan.input();
        let [c_out, oh, ow] = plan.output();
        Self {
            input_shape: planned_shape(batch_axis, n, c_in, &[h, w]),
            output_shape: planned_shape(batch_axis, n, c_out, &[oh, ow]),
            plan: Arc::new(plan),
        }
    }

    /// The planned kernel.
    pub fn plan(&self) -> &FlatConvPlan {
        &self.plan
    }
}

impl Op for FlatConv {
    fn name(&self) -> StaticName {
        "SentioFlatConv".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        let plan = &self.plan;
        Ok(vec![format!(
            "{}kernel {:?} pad {:?}: {:?} -> {:?}{}{} ({})",
            if plan.is_depthwise() {
                "depthwise "
            } else {
                ""
            },
            plan.taps(),
            plan.pad(),
            plan.input(),
            plan.output(),
            if plan.is_subsampled() {
                ", strided read"
            } else {
                ""
            },
            if plan.has_relu() { ", ReLU" } else { "" },
            plan.implementation(),
        )])
    }

    op_as_typed_op!();
}

impl EvalOp for FlatConv {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        eval_f32(
            "SentioFlatConv",
            args_1!(inputs),
            &self.input_shape,
            &self.output_shape,
            |input, output| Ok(self.plan.run(input, output)?),
        )
    }
}

impl TypedOp for FlatConv {
    fn output_facts(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(f32::fact(self.output_shape.clone())))
    }

    as_op!();
}

/// Replaces every `Conv` of the decluttered `model` that [`FlatConv::for_op`] takes and every
/// pointwise convolution tract wrote as an einsum that [`FlatConv::for_pointwise`] takes, with
/// the per-channel `Add`s and `Mul`s by constants (bias, batch norm) and the ReLU that follow
/// them folded in; returns their names.
pub fn replace_convs(model: &mut TypedModel, isa: Isa) -> TractResult<Vec<String>> {
    let mut replaced = replace_nodes(model, |op, facts| FlatConv::for_op(op, facts, isa))?;
    replaced.extend(replace_nodes(model, |op, facts| {
        FlatConv::for_pointwise(op, facts, isa)
    })?);
    fold_downsamples(model)?;
    for id in model.eval_order()? {
        let node = model.node(id);
        let Some(conv) = node.op_as::<FlatConv>() else {
            continue;
        };
        // Follow the chain of nodes that fold into the convolution, then replace it whole.
        let mut fused = conv.plan.as_ref().clone();
        let mut chain = vec![id];
        while let Some(next) = model.single_succ(chain[chain.len() - 1])? {
            let output = OutletId::new(chain[chain.len() - 1], 0);
            if fused.has_relu() {
                break;
            } else if is_relu_of(model, next, output) {
                fused = fused.with_relu(true);
            } else if let Some(affine) = channel_affine(model, next, output, conv)
                .and_then(|(scale, shift)| fused.with_affine(&scale, &shift))
            {
                fused = affine;
            } else {
                break;
            }
            chain.push(next.id);
        }
        let fused = FlatConv {
            plan: Arc::new(fused),
            ..conv.clone()
        };
        if chain.len() > 1 {
            let mut patch = TypedModelPatch::default();
            let input = patch.tap_model(model, node.inputs[0])?;
            let wire = patch.wire_node(&node.name, fused, &[input])?[0];
            patch.shunt_outside(model, OutletId::new(chain[chain.len() - 1], 0), wire)?;
            for id in chain {
                patch.obliterate(id)?;
            }
            patch.apply(model)?;
        }
    }
    Ok(replaced)
}

/// Folds the `Downsample`s of rows and columns that tract puts before a strided pointwise
/// convolution into the [`FlatConv`] that follows them (one strided gather instead of two
/// copies).
fn fold_downsamples(model: &mut TypedModel) -> TractResult<()> {
    for id in model.eval_order()? {
        let node = model.node(id);
        let Some(conv) = node.op_as::<FlatConv>() else {
            continue;
        };
        let plan = conv.plan();
        if plan.is_depthwise()
            || plan.taps() != [1, 1]
            || plan.pad() != [0; 4]
            || plan.is_subsampled()
        {
            continue;
        }
        // Back through the downsamples that feed only this chain.
        let mut strides = [1usize, 1];
        let mut chain = Vec::new();
        let mut source = node.inputs[0];
        loop {
            let prev = model.node(source.node);
            let Some(down) = prev.op_as::<Downsample>() else {
                break;
            };
            let rank = model.outlet_fact(prev.inputs[0])?.rank();
            let slot = down.axis.checked_sub(rank.saturating_sub(2));
            let (Some(slot @ 0..=1), true, 0, Some(_)) = (
                slot,
                down.stride > 0,
                down.modulo,
                model.single_succ(prev.id)?,
            ) else {
                break;
            };
            strides[slot] *= down.stride as usize;
            chain.push(prev.id);
            source = prev.inputs[0];
        }
        if chain.is_empty() {
            continue;
        }
        let shape: TVec<usize> = match model.outlet_fact(source)?.shape.as_concrete() {
            Some(shape) if shape.len() >= 2 => shape.into(),
            _ => continue,
        };
        let (planes, hw) = shape.split_at(shape.len() - 2);
        let Ok(subsampled) =
            plan.clone()
                .with_subsample(planes.iter().product(), [hw[0], hw[1]], strides)
        else {
            continue;
        };
        let folded = FlatConv {
            input_shape: shape.clone(),
            output_shape: conv.output_shape.clone(),
            plan: Arc::new(subsampled),
        };
        let mut patch = TypedModelPatch::default();
        let input = patch.tap_model(model, source)?;
        let wire = patch.wire_node(&node.name, folded, &[input])?[0];
        patch.shunt_outside(model, OutletId::new(id, 0), wire)?;
        patch.obliterate(id)?;
        for id in chain {
            patch.obliterate(id)?;
        }
        patch.apply(model)?;
    }
    Ok(())
}

/// When `node` is `input·v` or `input + v` for a constant `v` that is one value per output
/// channel of `conv` (or one value), of `input`'s shape: the (scale, shift) it applies per
/// channel.
fn channel_affine(
    model: &TypedModel,
    node: &TypedNode,
    input: OutletId,
    conv: &FlatConv,
) -> Option<(Vec<f32>, Vec<f32>)> {
    let TypedBinOp(op, None) = node.op_as::<TypedBinOp>()? else {
        return None;
    };
    let [a, b] = node.inputs[..] else {
        return None;
    };
    let other = match (a == input, b == input) {
        (true, false) => b,
        (false, true) => a,
        _ => return None,
    };
    let out_shape = model
        .outlet_fact(node.id.into())
        .ok()?
        .shape
        .as_concrete()?;
    if out_shape != &*conv.output_shape {
        return None;
    }
    let konst = model.outlet_fact(other).ok()?.konst.clone()?;
    if konst.datum_type() != f32::datum_type() {
        return None;
    }
    let values = konst
        .try_as_plain_ram()
        .ok()?
        .as_slice::<f32>()
        .ok()?
        .to_vec();
    let c_out = conv.plan.output()[0];
    let per_channel = match values.len() {
        1 => vec![values[0]; c_out],
        n if n == c_out => {
            // The one axis of the constant that is not 1 must be the output's channel axis:
            // the one whose dims before it multiply to the batch (N) and after it to a plane.
            let rank = out_shape.len();
            let shape = konst.shape();
            if shape.len() > rank {
                return None;
            }
            let offset = rank - shape.len();
            let axis = offset + shape.iter().position(|d| *d == c_out)?;
            let before: usize = out_shape[..axis].iter().product();
            let after: usize = out_shape[axis + 1..].iter().product();
            let [n, ..] = conv.plan.input();
            let [_, oh, ow] = conv.plan.output();
            if before != n || after != oh * ow || out_shape[axis] != c_out {
                return None;
            }
            values
        }
        _ => return None,
    };
    match op.name() {
        "Add" => Some((vec![1.0; c_out], per_channel)),
        "Mul" => Some((per_channel, vec![0.0; c_out])),
        _ => None,
    }
}

/// Whether `node` is `Max(input, 0)` (how tract writes a ReLU), of `input`'s shape.
fn is_relu_of(model: &TypedModel, node: &TypedNode, input: OutletId) -> bool {
    let Some(TypedBinOp(op, None)) = node.op_as::<TypedBinOp>() else {
        return false;
    };
    let [a, b] = node.inputs[..] else {
        return false;
    };
    let other = match (a == input, b == input) {
        (true, false) => b,
        (false, true) => a,
        _ => return false,
    };
    let zero = model.outlet_fact(other).ok().and_then(|f| f.konst.clone());
    let zero = zero.is_some_and(|z| {
        z.len() == 1
            && z.datum_type() == f32::datum_type()
            && z.cast_to_scalar::<f32>().is_ok_and(|v| v == 0.0)
    });
    let same_shape = match (model.outlet_fact(input), model.outlet_fact(node.id.into())) {
        (Ok(i), Ok(o)) => i.shape == o.shape,
        _ => false,
    };
    op.name() == "Max" && zero && same_shape
}
