//! tract's `Conv` replaced, before tract optimizes the plan, by [`sentio_kernels::row_conv`] (a
//! direct convolution row by row) for layers with few taps per output (at most 9 input values
//! per output: the first layer of a grayscale model, and depthwise convolutions up to 3x3) that
//! [`super::flat_conv`] does not take (strided ones, or fewer than 8 output channels).
//!
//! A first layer is a matrix product with k = 4 or 9. tract 0.23.9 lowers it to a lazy im2col
//! feeding a 40x2 matmul kernel that gathers a handful of values per two output columns; the
//! row convolution's loops vectorize over an output plane that stays in L1. tract's time on
//! such a layer, against onnxruntime's, is in docs/benchmarks.md (the inference section);
//! `sentio bench MODEL --profile` times each node of a plan.

use sentio_kernels::row_conv::{RowConvGeometry, RowConvPlan};
use sentio_kernels::{Isa, KernelError};
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::cnn::Conv;

use super::{ConvGeometry, eval_f32, planned_shape, replace_nodes};

/// Convolutions with at most this many taps per output (C_in/group·kh·kw) run as [`RowConv`].
pub const MAX_TAPS: usize = 9;

/// One convolution as tract plans it, run by a [`RowConvPlan`] (its geometry, weights and
/// bias) made at plan time.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RowConv {
    /// Whether the tensors have the N axis (NCHW) or not (CHW: tract drops a batch of one).
    batch_axis: bool,
    plan: RowConvPlan,
}

impl RowConv {
    /// The replacement for `conv` (a node of a decluttered model with inputs `input`, its
    /// kernel and its bias), run with `isa`, when it is a plain f32 NCHW 2-D convolution
    /// without dilation, at most [`MAX_TAPS`] taps per output, with constant weights over a
    /// known input shape.
    pub fn for_op(conv: &Conv, facts: &[&TypedFact], isa: Isa) -> Option<Self> {
        let g = ConvGeometry::of(conv, facts)?;
        let [_, c_in, _, _] = g.input;
        let [kh, kw] = g.kernel;
        if !g.two_d || c_in / g.group * kh * kw > MAX_TAPS {
            return None;
        }
        let geometry = RowConvGeometry {
            input: g.input,
            output: g.output,
            kernel: g.kernel,
            strides: g.strides,
            pad_before: g.pad_before,
            group: g.group,
        };
        let weights = g.weights.try_as_plain_ram().ok()?;
        let bias = g.bias.try_as_plain_ram().ok()?;
        let plan = RowConvPlan::new(
            geometry,
            weights.as_slice::<f32>().ok()?,
            bias.as_slice::<f32>().ok()?,
            isa,
        )
        .ok()?;
        Some(Self {
            batch_axis: g.batch_axis,
            plan,
        })
    }

    /// The input shape in the plan's layout.
    fn input_shape(&self) -> TVec<usize> {
        let [n, c, h, w] = self.plan.geometry().input;
        planned_shape(self.batch_axis, n, c, &[h, w])
    }

    /// The output shape in the plan's layout.
    fn output_shape(&self) -> TVec<usize> {
        let [c, h, w] = self.plan.geometry().output;
        planned_shape(self.batch_axis, self.plan.geometry().input[0], c, &[h, w])
    }
}

impl Op for RowConv {
    fn name(&self) -> StaticName {
        "SentioRowConv".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        let g = self.plan.geometry();
        Ok(vec![format!(
            "kernel {:?} strides {:?} pad_before {:?}: {:?} -> {:?} ({})",
            g.kernel,
            g.strides,
            g.pad_before,
            g.input,
            g.output,
            self.plan.implementation()
        )])
    }

    op_as_typed_op!();
}

impl EvalOp for RowConv {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        eval_f32(
            "SentioRowConv",
            args_1!(inputs),
            &self.input_shape(),
            &self.output_shape(),
            |input, output| Ok(self.plan.run(input, output)?),
        )
    }
}

impl TypedOp for RowConv {
    fn output_facts(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(f32::fact(self.output_shape())))
    }

    as_op!();
}

/// Replaces every `Conv` of the decluttered `model` that [`RowConv::for_op`] takes with one run
/// with `isa`; returns their names. An error when this CPU cannot run `isa`.
pub fn replace_convs(model: &mut TypedModel, isa: Isa) -> TractResult<Vec<String>> {
    if !isa.is_available() {
        return Err(KernelError::IsaUnavailable {
            kernel: "row_conv",
            isa,
        }
        .into());
    }
    replace_nodes(model, |conv, facts| RowConv::for_op(conv, facts, isa))
}
