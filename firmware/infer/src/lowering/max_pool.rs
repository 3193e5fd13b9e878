//! tract's `OptMaxPool` in optimized plans replaced by [`sentio_kernels::max_pool`], which
//! walks each output row tap by tap over the span of outputs where the tap is in bounds (and
//! takes the stride-2 pools 16 outputs per vector with AVX-512).
//!
//! tract 0.23.9 walks a strided pool one output at a time with bounds checks per tap (its fast
//! path covers 2x2 windows with stride 1 only). Sentio's pool is timed per op against
//! onnxruntime in docs/benchmarks.md (tests/bench/bench_ops.py), and against tract's per node of
//! the emoji CNN there (`sentio bench --profile`).

use sentio_kernels::max_pool::{MaxPoolGeometry, MaxPoolPlan};
use sentio_kernels::{Isa, KernelError};
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::cnn::{OptMaxPool, PoolSpec};
use tract_onnx::tract_core::ops::nn::DataFormat;

use super::{channels_first, eval_f32, planned_shape, replace_nodes};

/// One pool as tract plans it, run by a [`MaxPoolPlan`] made at plan time.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RowMaxPool {
    /// Whether the tensors have the N axis (NCHW) or not (CHW: tract drops a batch of one).
    batch_axis: bool,
    /// Two spatial axes, or one (a 1-D pool, run as a 2-D one over a single row).
    two_d: bool,
    plan: MaxPoolPlan,
}

impl RowMaxPool {
    /// The replacement for `pool`, run with `isa`, when it is an f32 1-D or 2-D pool over
    /// channels-first data (NCHW, or CHW when tract dropped a batch of one) without dilation or
    /// index output, over a known input shape; else `None` (tract's op stays).
    pub fn for_op(pool: &OptMaxPool, input: &TypedFact, isa: Isa) -> Option<Self> {
        let spec: &PoolSpec = &pool.pool_spec;
        let rank = spec.kernel_shape.len();
        if pool.with_index_outputs.is_some()
            || input.datum_type != f32::datum_type()
            || !(1..=2).contains(&rank)
            || spec.dilations().iter().any(|d| *d != 1)
            // (tract refuses these before; a zero would divide by zero in the spans)
            || spec.strides().contains(&0)
            || spec.kernel_shape.contains(&0)
        {
            return None;
        }
        let batch_axis = spec.data_format == DataFormat::NCHW;
        let (n, c, spatial) = channels_first(spec.data_format, input.shape.as_concrete()?)?;
        if spatial.len() != rank {
            return None;
        }
        let padding = spec.computed_padding(spatial);
        let strides = spec.strides();
        // A 1-D pool is a 2-D one over a single row.
        let pair = |f: &dyn Fn(usize) -> usize, one: usize| {
            if rank == 2 { [f(0), f(1)] } else { [one, f(0)] }
        };
        let [h, w] = pair(&|i| spatial[i], 1);
        let geometry = MaxPoolGeometry {
            input: [n, c, h, w],
            output: pair(&|i| padding[i].convoluted, 1),
            kernel: pair(&|i| spec.kernel_shape[i], 1),
            strides: pair(&|i| strides[i], 1),
            pad_before: pair(&|i| padding[i].pad_before, 0),
        };
        Some(Self {
            batch_axis,
            two_d: rank == 2,
            plan: MaxPoolPlan::new(geometry, isa).ok()?,
        })
    }

    /// The shape of a tensor of `hw` planes in the plan's layout (NCHW or CHW, one spatial axis
    /// or two).
    fn shape(&self, [h, w]: [usize; 2]) -> TVec<usize> {
        let [n, c, ..] = self.plan.geometry().input;
        let spatial: &[usize] = if self.two_d { &[h, w] } else { &[w] };
        planned_shape(self.batch_axis, n, c, spatial)
    }
}

impl Op for RowMaxPool {
    fn name(&self) -> StaticName {
        "SentioRowMaxPool".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        let g = self.plan.geometry();
        Ok(vec![format!(
            "kernel {:?} strides {:?} pad_before {:?} -> {:?} ({})",
            g.kernel,
            g.strides,
            g.pad_before,
            g.output,
            self.plan.implementation()
        )])
    }

    op_as_typed_op!();
}

impl EvalOp for RowMaxPool {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let g = self.plan.geometry();
        let [_, _, h, w] = g.input;
        eval_f32(
            "SentioRowMaxPool",
            args_1!(inputs),
            &self.shape([h, w]),
            &self.shape(g.output),
            |input, output| Ok(self.plan.run(input, output)?),
        )
    }
}

impl TypedOp for RowMaxPool {
    fn output_facts(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(f32::fact(self.shape(self.plan.geometry().output))))
    }

    as_op!();
}

/// Replaces every `OptMaxPool` of `model` that [`RowMaxPool::for_op`] takes with one run with
/// `isa`; returns their names. An error when this CPU cannot run `isa`.
pub fn replace_max_pools(model: &mut TypedModel, isa: Isa) -> TractResult<Vec<String>> {
    if !isa.is_available() {
        return Err(KernelError::IsaUnavailable {
            kernel: "max_pool",
            isa,
        }
        .into());
    }
    replace_nodes(model, |pool: &OptMaxPool, facts| {
        RowMaxPool::for_op(pool, facts.first()?, isa)
    })
}
