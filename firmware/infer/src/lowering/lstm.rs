//! A whole-sequence f32 LSTM that replaces tract's `Scan` over an LSTM cell.
//!
//! tract 0.23.9 imports an ONNX LSTM as a `Scan` whose body is one step: the recurrent matmul
//! `Ht-1·Rᵀ`, the adds of the input projection (which tract hoists out of the loop as one big
//! matmul) and the bias, and its fused `LstmEpilogue`. The Scan runs that body as a nested plan
//! once per time step, where the arithmetic of a step for the SER CNN-LSTM is a 64x256
//! matrix-vector product (16 k multiply-adds); the dispatch per step is measured in
//! docs/benchmarks.md (the inference section, tests/bench/bench_inference.py). onnxruntime runs
//! its LSTM as one op. [`SeqLstm`] does the same: it is matched on the body's structure (not on
//! names) and runs each step with [`sentio_kernels::lstm::LstmCell`], which holds `R`
//! transposed and packed and applies the cell with its own sigmoid and tanh (within 3e-7 of the
//! exact ones; tract's are rational approximations of the same accuracy). It has no state
//! between runs (each run starts from the op's initial h and c inputs, as the ONNX LSTM does),
//! so a plan with it is not stateful.

use std::sync::Arc;

use sentio_kernels::lstm::LstmCell;
use sentio_kernels::{Isa, KernelError};
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::binary::TypedBinOp;
use tract_onnx::tract_core::ops::change_axes::AxisOp;
use tract_onnx::tract_core::ops::einsum::EinSum;
use tract_onnx::tract_core::ops::lstm_cell::LstmEpilogue;
use tract_onnx::tract_core::ops::scan::{InputMapping, Scan};

/// Where step `t`'s `width` values sit in a tensor of `shape` whose `axis` is time: the dims
/// before the axis (`outer` blocks) and after it (`inner` values) keep their row-major order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct TimeLayout {
    shape: TVec<usize>,
    axis: usize,
    /// Step `i` reads (or writes) time index `steps - 1 - i` (a backward LSTM).
    reverse: bool,
}

impl TimeLayout {
    fn steps(&self) -> usize {
        self.shape[self.axis]
    }

    fn inner(&self) -> usize {
        self.shape[self.axis + 1..].iter().product()
    }

    /// The time index step `i` works on.
    fn time(&self, i: usize) -> usize {
        if self.reverse {
            self.steps() - 1 - i
        } else {
            i
        }
    }

    /// Copies time index `t` of `tensor` (laid out as `self`) into `step`.
    fn gather(&self, tensor: &[f32], t: usize, step: &mut [f32]) {
        let (steps, inner) = (self.steps(), self.inner());
        for (o, chunk) in step.chunks_exact_mut(inner).enumerate() {
            chunk.copy_from_slice(&tensor[(o * steps + t) * inner..][..inner]);
        }
    }

    /// Copies `step` into time index `t` of `tensor` (laid out as `self`).
    fn scatter(&self, step: &[f32], t: usize, tensor: &mut [f32]) {
        let (steps, inner) = (self.steps(), self.inner());
        for (o, chunk) in step.chunks_exact(inner).enumerate() {
            tensor[(o * steps + t) * inner..][..inner].copy_from_slice(chunk);
        }
    }
}

/// The hidden state `H` or the cell state `C`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Cell {
    H,
    C,
}

/// One output of the op, in the Scan's output order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum LstmOutput {
    /// The state after the last step, [B, H] in a shape of that volume.
    Last(Cell, TVec<usize>),
    /// The state after every step, along a time axis.
    Sequence(Cell, TimeLayout),
}

/// A forward or backward LSTM over a whole sequence: inputs are the input projection
/// `Xt·Wᵀ` for every step (without bias), the initial hidden state and the initial cell state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SeqLstm {
    hidden: usize,
    batch: usize,
    /// Layout of the input projection: [B, 4H] per time step.
    x: TimeLayout,
    /// Shapes of the initial h and c inputs, B·H values each.
    state_shapes: [TVec<usize>; 2],
    /// The step: `Rᵀ` ([H, 4H], gate order i, o, f, c) packed, and the instruction set.
    cell: LstmCell,
    /// Sum of the biases: [B, 4H] f32.
    bias: Arc<Tensor>,
    outputs: Vec<LstmOutput>,
}

/// An outlet of the Scan body, followed back through axis insertions and removals (which keep
/// the order of the values).
fn unit_axis_source(body: &TypedModel, mut outlet: OutletId) -> OutletId {
    while let Some(AxisOp::Add(_) | AxisOp::Rm(_)) = body.node(outlet.node).op_as::<AxisOp>() {
        outlet = body.node(outlet.node).inputs[0];
    }
    outlet
}

/// Whether `einsum` multiplies a [M, K] matrix by an f32 weight of [N, K] (`Some(true)`, the
/// `mk,nk->mn` tract writes for `Ht-1·Rᵀ`) or of [K, N] (`Some(false)`); the first operand may
/// carry extra axes of size 1 (`amk,nk->mn`, of shape `a_shape`), which sum nothing.
fn matmul_layout(einsum: &EinSum, a_shape: &[usize]) -> Option<bool> {
    if einsum.q_params.is_some() || einsum.operating_dt != f32::datum_type() {
        return None;
    }
    let (mut m, mut n, mut k) = (None, None, None);
    for axis in einsum.axes.iter_all_axes() {
        let (a, b, out) = (
            axis.inputs.first()?,
            axis.inputs.get(1)?,
            axis.outputs.first()?,
        );
        match (a.as_slice(), b.as_slice(), out.as_slice()) {
            (&[pa], &[], &[0]) => m = Some(pa),
            (&[], &[pb], &[1]) => n = Some(pb),
            (&[pa], &[pb], &[]) => k = Some((pa, pb)),
            (&[pa], &[], &[]) if a_shape.get(pa) == Some(&1) => {}
            _ => return None,
        }
    }
    let ((m, n), (ka, kb)) = ((m?, n?), k?);
    (m < ka && einsum.axes.rank(InOut::Out(0)) == 2).then_some(kb > n)
}

/// The leaves of the tree of f32 `Add`s that computes `outlet`, at most `limit` of them.
fn add_leaves(body: &TypedModel, outlet: OutletId, limit: usize) -> Option<Vec<OutletId>> {
    let node = body.node(outlet.node);
    match node.op_as::<TypedBinOp>() {
        Some(TypedBinOp(op, None)) if op.name() == "Add" => {
            let mut leaves = add_leaves(body, node.inputs[0], limit)?;
            leaves.extend(add_leaves(body, node.inputs[1], limit - leaves.len())?);
            Some(leaves)
        }
        _ if limit == 0 => None,
        _ => Some(vec![outlet]),
    }
}

fn f32_values(tensor: &Tensor) -> Option<Vec<f32>> {
    if tensor.datum_type() != f32::datum_type() {
        return None;
    }
    Some(
        tensor
            .try_as_plain_ram()
            .ok()?
            .as_slice::<f32>()
            .ok()?
            .to_vec(),
    )
}

impl SeqLstm {
    /// The replacement for `scan` (a node of a decluttered model with inputs of `facts` and
    /// outputs of `output_facts`) when its body is one step of an f32 LSTM with a constant
    /// recurrent weight and constant biases and no peepholes: `Ht-1·Rᵀ` plus a scanned input plus
    /// constants into tract's `LstmEpilogue`; its steps run with `isa`. Returns the op and the
    /// indices of the scan's inputs it reads: the scanned input projection, the initial h and
    /// the initial c.
    pub fn for_scan(
        scan: &Scan,
        facts: &[&TypedFact],
        output_facts: &[&TypedFact],
        isa: Isa,
    ) -> Option<(Self, [usize; 3])> {
        let body = &scan.body;
        if scan.skip != 0 || scan.external_state || facts.len() != scan.input_mapping.len() {
            return None;
        }
        let mut cells = body.nodes().iter().filter(|n| n.op_is::<LstmEpilogue>());
        let (cell, None) = (cells.next()?, cells.next()) else {
            return None;
        };
        let hidden = cell.op_as::<LstmEpilogue>()?.hidden;
        let body_inputs = body.input_outlets().ok()?;
        let input_of = |outlet: OutletId| {
            let outlet = unit_axis_source(body, outlet);
            body_inputs.iter().position(|i| *i == outlet)
        };

        // c_prev: a state input.
        let c_slot = input_of(cell.inputs[1])?;
        let preact = body.outlet_fact(cell.inputs[0]).ok()?;
        let c_prev = body.outlet_fact(cell.inputs[1]).ok()?;
        let (&[batch, four_h], &[c_batch, c_hidden]) =
            (preact.shape.as_concrete()?, c_prev.shape.as_concrete()?)
        else {
            return None;
        };
        if four_h != 4 * hidden
            || (c_batch, c_hidden) != (batch, hidden)
            || preact.datum_type != f32::datum_type()
            || c_prev.datum_type != f32::datum_type()
        {
            return None;
        }

        // preact = x + h·Rᵀ + constants.
        let mut x_slot = None;
        let mut h_slot_and_r_t = None;
        let mut bias = vec![0.0f32; batch * four_h];
        for leaf in add_leaves(body, cell.inputs[0], 8)? {
            let fact = body.outlet_fact(leaf).ok()?;
            if let Some(konst) = &fact.konst {
                let values = f32_values(konst)?;
                if konst.shape().last() != Some(&four_h) {
                    return None;
                }
                match values.len() {
                    n if n == four_h => bias
                        .chunks_exact_mut(four_h)
                        .for_each(|row| row.iter_mut().zip(&values).for_each(|(b, v)| *b += v)),
                    n if n == batch * four_h => {
                        bias.iter_mut().zip(&values).for_each(|(b, v)| *b += v)
                    }
                    _ => return None,
                }
            } else if let Some(einsum) = body.node(leaf.node).op_as::<EinSum>() {
                let node = body.node(leaf.node);
                let r = body.outlet_fact(node.inputs[1]).ok()?.konst.clone()?;
                let values = f32_values(&r)?;
                let a_shape = body.outlet_fact(node.inputs[0]).ok()?.shape.as_concrete()?;
                let transposed = matmul_layout(einsum, a_shape)?;
                let r_t = if transposed && r.shape() == [four_h, hidden] {
                    // R is [4H, H]: transpose to [H, 4H].
                    let mut r_t = vec![0.0f32; hidden * four_h];
                    for (n, row) in values.chunks_exact(hidden).enumerate() {
                        for (k, v) in row.iter().enumerate() {
                            r_t[k * four_h + n] = *v;
                        }
                    }
                    r_t
                } else if !transposed && r.shape() == [hidden, four_h] {
                    values
                } else {
                    return None;
                };
                if h_slot_and_r_t.is_some() {
                    return None;
                }
                h_slot_and_r_t = Some((input_of(node.inputs[0])?, r_t));
            } else if x_slot.is_none() && fact.shape.as_concrete()? == [batch, four_h] {
                x_slot = Some(input_of(leaf)?);
            } else {
                return None;
            }
        }
        let (x_slot, (h_slot, r_t)) = (x_slot?, h_slot_and_r_t?);

        let mapping = &scan.input_mapping;
        let (InputMapping::Scan(info), InputMapping::State, InputMapping::State) = (
            mapping.get(x_slot)?,
            mapping.get(h_slot)?,
            mapping.get(c_slot)?,
        ) else {
            return None;
        };
        if mapping.len() != 3 || info.chunk.unsigned_abs() != 1 || h_slot == c_slot {
            return None;
        }
        let x_shape: TVec<usize> = facts[x_slot].shape.as_concrete()?.into();
        let x = TimeLayout {
            axis: info.axis,
            reverse: info.chunk < 0,
            shape: x_shape,
        };
        let steps = *x.shape.get(x.axis)?;
        if steps == 0 || x.shape.iter().product::<usize>() != steps * batch * four_h {
            return None;
        }
        let state_shape = |slot: usize| -> Option<TVec<usize>> {
            let shape: TVec<usize> = facts[slot].shape.as_concrete()?.into();
            (facts[slot].datum_type == f32::datum_type()
                && shape.iter().product::<usize>() == batch * hidden)
                .then_some(shape)
        };
        let state_shapes = [state_shape(h_slot)?, state_shape(c_slot)?];

        // The k-th state output feeds the k-th state input at the next step.
        let state_inputs: Vec<usize> = (0..mapping.len())
            .filter(|i| mapping[*i].is_state())
            .collect();
        let body_outputs = body.output_outlets().ok()?;
        if body_outputs.len() != scan.output_mapping.len() {
            return None;
        }
        let mut outputs: Vec<(usize, LstmOutput)> = Vec::new();
        let mut states = 0;
        for (body_output, out) in body_outputs.iter().zip(&scan.output_mapping) {
            let source = unit_axis_source(body, *body_output);
            if source.node != cell.id {
                return None;
            }
            let which = if source.slot == 0 { Cell::H } else { Cell::C };
            if out.state {
                let feeds = *state_inputs.get(states)?;
                states += 1;
                if feeds != if which == Cell::H { h_slot } else { c_slot } {
                    return None;
                }
            }
            let body_shape: TVec<usize> = body
                .outlet_fact(*body_output)
                .ok()?
                .shape
                .as_concrete()?
                .into();
            if let Some(slot) = out.last_value_slot {
                outputs.push((slot, LstmOutput::Last(which, body_shape.clone())));
            }
            if let Some((slot, info)) = out.scan {
                let mut shape = body_shape;
                if info.chunk.unsigned_abs() != 1
                    || *shape.get(info.axis)? != 1
                    || out
                        .full_dim_hint
                        .as_ref()
                        .is_some_and(|d| d.to_usize().ok() != Some(steps))
                {
                    return None;
                }
                shape[info.axis] = steps;
                let layout = TimeLayout {
                    shape,
                    axis: info.axis,
                    reverse: info.chunk < 0,
                };
                outputs.push((slot, LstmOutput::Sequence(which, layout)));
            }
        }
        if states != state_inputs.len() {
            return None;
        }
        outputs.sort_by_key(|(slot, _)| *slot);
        if outputs.len() != output_facts.len()
            || outputs.iter().enumerate().any(|(i, (slot, _))| *slot != i)
        {
            return None;
        }
        let outputs: Vec<LstmOutput> = outputs.into_iter().map(|(_, o)| o).collect();
        let op = Self {
            hidden,
            batch,
            x,
            state_shapes,
            cell: LstmCell::new(hidden, &r_t, isa).ok()?,
            bias: Arc::new(Tensor::from_shape(&[batch, four_h], &bias).ok()?),
            outputs,
        };
        // The op must give the Scan's outputs exactly.
        let same = op
            .output_shapes()
            .iter()
            .zip(output_facts)
            .all(|(shape, fact)| {
                fact.datum_type == f32::datum_type() && fact.shape.as_concrete() == Some(&shape[..])
            });
        same.then_some((op, [x_slot, h_slot, c_slot]))
    }

    fn output_shapes(&self) -> Vec<TVec<usize>> {
        self.outputs
            .iter()
            .map(|o| match o {
                LstmOutput::Last(_, shape) => shape.clone(),
                LstmOutput::Sequence(_, layout) => layout.shape.clone(),
            })
            .collect()
    }

    /// Runs the sequence: `x` the input projection laid out as `self.x`, `h` and `c` the
    /// initial states (updated in place to the last ones), each step's states given to
    /// `emit(step, h, c)`.
    fn run(
        &self,
        x: &[f32],
        h: &mut [f32],
        c: &mut [f32],
        mut emit: impl FnMut(usize, &[f32], &[f32]),
    ) -> TractResult<()> {
        let (hidden, four_h) = (self.hidden, 4 * self.hidden);
        let bias = self.bias.try_as_plain_ram()?;
        let bias = bias.as_slice::<f32>()?;
        let mut preact = vec![0.0f32; self.batch * four_h];
        for step in 0..self.x.steps() {
            let t = self.x.time(step);
            self.x.gather(x, t, &mut preact);
            for (((gates, bias), h), c) in preact
                .chunks_exact_mut(four_h)
                .zip(bias.chunks_exact(four_h))
                .zip(h.chunks_exact_mut(hidden))
                .zip(c.chunks_exact_mut(hidden))
            {
                self.cell.step(gates, bias, h, c)?;
            }
            emit(t, h, c);
        }
        Ok(())
    }
}

impl Op for SeqLstm {
    fn name(&self) -> StaticName {
        "SentioSeqLstm".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!(
            "hidden {} batch {} steps {}{} ({})",
            self.hidden,
            self.batch,
            self.x.steps(),
            if self.x.reverse { " backward" } else { "" },
            self.cell.implementation()
        )])
    }

    op_as_typed_op!();
}

impl EvalOp for SeqLstm {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let (x, h0, c0) = args_3!(inputs);
        ensure!(
            x.shape() == &*self.x.shape
                && h0.shape() == &*self.state_shapes[0]
                && c0.shape() == &*self.state_shapes[1],
            "SentioSeqLstm planned for {:?}, {:?}, {:?}; got {:?}, {:?}, {:?}",
            self.x.shape,
            self.state_shapes[0],
            self.state_shapes[1],
            x.shape(),
            h0.shape(),
            c0.shape()
        );
        let x = x.try_as_plain_ram()?;
        let mut h = h0.try_as_plain_ram()?.as_slice::<f32>()?.to_vec();
        let mut c = c0.try_as_plain_ram()?.as_slice::<f32>()?.to_vec();
        let mut outputs: Vec<Tensor> = self
            .output_shapes()
            .iter()
            .map(|shape| Tensor::zero::<f32>(shape))
            .collect::<TractResult<_>>()?;
        let mut views = Vec::new();
        for (output, tensor) in self.outputs.iter().zip(outputs.iter_mut()) {
            if let LstmOutput::Sequence(which, layout) = output {
                views.push((*which, layout, tensor.try_as_plain_ram_mut()?));
            }
        }
        let mut sequences = views
            .iter_mut()
            .map(|(which, layout, view)| Ok((*which, *layout, view.as_slice_mut::<f32>()?)))
            .collect::<TractResult<Vec<_>>>()?;
        self.run(x.as_slice::<f32>()?, &mut h, &mut c, |t, h, c| {
            for (which, layout, values) in sequences.iter_mut() {
                layout.scatter(if *which == Cell::H { h } else { c }, t, values);
            }
        })?;
        drop(sequences);
        drop(views);
        for (output, tensor) in self.outputs.iter().zip(outputs.iter_mut()) {
            if let LstmOutput::Last(which, _) = output {
                let mut tensor = tensor.try_as_plain_ram_mut()?;
                tensor
                    .as_slice_mut::<f32>()?
                    .copy_from_slice(if *which == Cell::H { &h } else { &c });
            }
        }
        Ok(outputs.into_iter().map(Tensor::into_tvalue).collect())
    }
}

impl TypedOp for SeqLstm {
    fn output_facts(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(self.output_shapes().into_iter().map(f32::fact).collect())
    }

    as_op!();
}

/// Replaces every `Scan` of the decluttered `model` that [`SeqLstm::for_scan`] takes with one
/// whose steps run with `isa`; returns their names. An error when this CPU cannot run `isa`.
pub fn replace_lstms(model: &mut TypedModel, isa: Isa) -> TractResult<Vec<String>> {
    if !isa.is_available() {
        return Err(KernelError::IsaUnavailable {
            kernel: "lstm",
            isa,
        }
        .into());
    }
    let mut replaced = Vec::new();
    for id in model.eval_order()? {
        let node = model.node(id);
        let Some(scan) = node.op_as::<Scan>() else {
            continue;
        };
        let (inputs, outputs) = model.node_facts(id)?;
        let Some((op, [x, h, c])) = SeqLstm::for_scan(scan, &inputs, &outputs, isa) else {
            continue;
        };
        let name = node.name.clone();
        let wires = [node.inputs[x], node.inputs[h], node.inputs[c]];
        drop((inputs, outputs));
        let patch = TypedModelPatch::replace_single_op(model, node, &wires, op)?;
        patch.apply(model)?;
        replaced.push(name);
    }
    Ok(replaced)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn time_layouts_read_and_write_the_step_they_name() {
        // [B=2, T=3, W=2]: time on axis 1, each step is 2 blocks of 2 values.
        let layout = TimeLayout {
            shape: tvec![2, 3, 2],
            axis: 1,
            reverse: true,
        };
        let tensor: Vec<f32> = (0..12).map(|i| i as f32).collect();
        let mut step = [0.0; 4];
        assert_eq!(layout.time(0), 2);
        layout.gather(&tensor, layout.time(0), &mut step);
        assert_eq!(step, [4.0, 5.0, 10.0, 11.0]);
        let mut out = vec![0.0; 12];
        layout.scatter(&step, 1, &mut out);
        assert_eq!(out[2..4], [4.0, 5.0]);
        assert_eq!(out[8..10], [10.0, 11.0]);
    }
}
