//! An f32 max pool over channels-first planes (2-D, or 1-D over time as a single row) that
//! replaces tract's `OptMaxPool` in optimized plans.
//!
//! tract 0.23.9 walks a strided pool one output at a time with bounds checks per tap (its fast
//! path covers 2x2 windows with stride 1 only): 0.13-0.24 ms for the emoji CNN's first 2x2/2
//! pool over 16x63x63, where onnxruntime takes 0.03 ms. This one walks each output row tap by
//! tap over the span of outputs where the tap is in bounds, so the inner loop has no branch.
//! Out-of-bounds (padded) taps are skipped, as ONNX MaxPool specifies; a window with no tap in
//! bounds yields `f32::MIN`, tract's value.
//!
//! With AVX-512, the stride-2 pools of our models (2x2 unpadded, 3x3 padded 1) run 16 outputs
//! per vector: the rows' max over 32 columns, split into even and odd columns by two
//! permutes. Measured per op (`sentio bench`, one pool alone, against onnxruntime in the same
//! script, as tests/bench/bench_ops.py does; its table is in docs/benchmarks.md): 3x3/2 over
//! 32x48x48 0.042 -> 0.020 ms (onnxruntime 0.022), over 128x12x12 0.025 -> 0.010 ms (0.017).

use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::cnn::{OptMaxPool, PoolSpec};
use tract_onnx::tract_core::ops::nn::DataFormat;

use super::{channels_first, eval_f32, planned_shape, replace_nodes, span};

/// Geometry of one pool, fixed at plan time.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RowMaxPool {
    /// [N, C, H, W].
    input: [usize; 4],
    /// Whether the tensors have the N axis (NCHW) or not (CHW: tract drops a batch of one).
    batch_axis: bool,
    /// Two spatial axes, or one (a 1-D pool, run as a 2-D one over a single row).
    two_d: bool,
    /// [OH, OW].
    output: [usize; 2],
    kernel: [usize; 2],
    strides: [usize; 2],
    /// Padding before the first row and column.
    pad_before: [usize; 2],
}

impl RowMaxPool {
    /// The replacement for `pool`, when it is an f32 1-D or 2-D pool over channels-first data
    /// (NCHW, or CHW when tract dropped a batch of one) without dilation or index output, over a
    /// known input shape; else `None` (tract's op stays).
    pub fn for_op(pool: &OptMaxPool, input: &TypedFact) -> Option<Self> {
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
        Some(Self {
            input: [n, c, h, w],
            batch_axis,
            two_d: rank == 2,
            output: pair(&|i| padding[i].convoluted, 1),
            kernel: pair(&|i| spec.kernel_shape[i], 1),
            strides: pair(&|i| strides[i], 1),
            pad_before: pair(&|i| padding[i].pad_before, 0),
        })
    }

    /// The shape of a tensor of `hw` planes in the plan's layout (NCHW or CHW, one spatial axis
    /// or two).
    fn shape(&self, [h, w]: [usize; 2]) -> TVec<usize> {
        let [n, c, ..] = self.input;
        let spatial: &[usize] = if self.two_d { &[h, w] } else { &[w] };
        planned_shape(self.batch_axis, n, c, spatial)
    }

    /// Pools every plane of `input` into `output` (both row-major, shapes from `self`).
    ///
    /// Per output row: the elementwise max of the window's input rows (contiguous, so it
    /// vectorizes), then the max over each window's columns of that row, tap by tap over the
    /// outputs where the tap is in bounds. Every max is independent of the previous one: a
    /// running max per window would chain each `maxss` on the last and run several times
    /// slower. On x86_64 with AVX2 the same loops run compiled for it.
    fn pool(&self, input: &[f32], output: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") && self.takes_stride_2_avx512() {
            // SAFETY: the CPU has the feature the function is compiled for (checked above).
            unsafe { self.pool_stride_2_avx512(input, output) };
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has the feature the function is compiled for (checked above).
            unsafe { self.pool_avx2(input, output) };
            return;
        }
        self.pool_portable(input, output);
    }

    /// Whether [`RowMaxPool::pool_stride_2_avx512`] computes this pool: columns stride 2 with
    /// a window of columns `2x - 1 ..= 2x + 1` (3 wide, padded 1: Xception's) or
    /// `2x ..= 2x + 1` (2 wide, unpadded: a CNN block's), any rows.
    #[cfg(target_arch = "x86_64")]
    fn takes_stride_2_avx512(&self) -> bool {
        let [_, sw] = self.strides;
        let [_, kw] = self.kernel;
        let [_, pl] = self.pad_before;
        sw == 2 && matches!((kw, pl), (2, 0) | (3, 1))
    }

    /// The pools [`RowMaxPool::takes_stride_2_avx512`] takes, 16 outputs of a row at a time:
    /// the max of the window's rows over the 32 columns they read (two vectors per row; the
    /// columns past the plane read as `f32::MIN`), split into even and odd columns, and the
    /// odd one shifted by one lane with the previous block's last odd column in lane 0 (the
    /// `2x - 1` column of a 3-wide window).
    ///
    /// A NaN input is skipped, as tract's pool skips it: each max keeps its second operand
    /// when the first is NaN, and every running max starts from `f32::MIN`.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F; `input` and `output` hold the pool's planes (checked by
    /// the chunking: only whole planes are read and written).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn pool_stride_2_avx512(&self, input: &[f32], output: &mut [f32]) {
        use std::arch::x86_64::*;
        let [_, _, h, w] = self.input;
        let [oh, ow] = self.output;
        let [kh, kw] = self.kernel;
        let [sh, _] = self.strides;
        let [pt, _] = self.pad_before;
        let lowest = _mm512_set1_ps(f32::MIN);
        let even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        let odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        let planes = input
            .chunks_exact(h * w)
            .zip(output.chunks_exact_mut(oh * ow));
        for (plane, out_plane) in planes {
            for (oy, out_row) in out_plane.chunks_exact_mut(ow).enumerate() {
                // The window's rows inside the plane.
                let first = (oy * sh).saturating_sub(pt).min(h);
                let end = (oy * sh + kh).saturating_sub(pt).min(h);
                let rows = &plane[first * w..end.max(first) * w];
                let mut carry = lowest;
                for (block, out) in out_row.chunks_mut(16).enumerate() {
                    let column = 32 * block;
                    let masks = [column, column + 16]
                        .map(|c| ((1u32 << w.saturating_sub(c).min(16)) - 1) as __mmask16);
                    let mut low = lowest;
                    let mut high = lowest;
                    for row in rows.chunks_exact(w) {
                        let p = row.as_ptr().wrapping_add(column);
                        // SAFETY: only the lanes of columns inside the row are read.
                        unsafe {
                            low = _mm512_max_ps(_mm512_mask_loadu_ps(lowest, masks[0], p), low);
                            high = _mm512_max_ps(
                                _mm512_mask_loadu_ps(lowest, masks[1], p.wrapping_add(16)),
                                high,
                            );
                        }
                    }
                    let evens = _mm512_permutex2var_ps(low, even, high);
                    let odds = _mm512_permutex2var_ps(low, odd, high);
                    let mut m = _mm512_max_ps(odds, evens);
                    if kw == 3 {
                        let before = _mm512_castsi512_ps(_mm512_alignr_epi32::<15>(
                            _mm512_castps_si512(odds),
                            _mm512_castps_si512(carry),
                        ));
                        m = _mm512_max_ps(before, m);
                        carry = odds;
                    }
                    let mask = ((1u32 << out.len()) - 1) as __mmask16;
                    // SAFETY: `out` holds the masked-in lanes.
                    unsafe { _mm512_mask_storeu_ps(out.as_mut_ptr(), mask, m) };
                }
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn pool_avx2(&self, input: &[f32], output: &mut [f32]) {
        self.pool_portable(input, output);
    }

    #[inline(always)]
    fn pool_portable(&self, input: &[f32], output: &mut [f32]) {
        let [_, _, h, w] = self.input;
        let [oh, ow] = self.output;
        let [kh, kw] = self.kernel;
        let [sh, sw] = self.strides;
        let [pt, pl] = self.pad_before;
        let mut rows = vec![f32::MIN; w];
        let planes = input
            .chunks_exact(h * w)
            .zip(output.chunks_exact_mut(oh * ow));
        // The 2x2 stride-2 pool without padding of a CNN block: straight from the two input
        // rows to the output row.
        if [kh, kw, sh, sw, pt, pl] == [2, 2, 2, 2, 0, 0] && 2 * oh <= h && 2 * ow <= w {
            for (plane, out_plane) in planes {
                let row_pairs = plane.chunks_exact(2 * w);
                for (out_row, rows) in out_plane.chunks_exact_mut(ow).zip(row_pairs) {
                    let (top, bottom) = rows.split_at(w);
                    let windows = top.chunks_exact(2).zip(bottom.chunks_exact(2));
                    for (o, (t, b)) in out_row.iter_mut().zip(windows) {
                        *o = max(max(t[0], t[1]), max(b[0], b[1]));
                    }
                }
            }
            return;
        }
        for (plane, out_plane) in planes {
            for (oy, out_row) in out_plane.chunks_exact_mut(ow).enumerate() {
                rows.fill(f32::MIN);
                for iy in (0..kh).filter_map(|ky| (oy * sh + ky).checked_sub(pt)) {
                    if let Some(row) = plane.get(iy * w..(iy + 1) * w) {
                        for (m, v) in rows.iter_mut().zip(row) {
                            *m = max(*m, *v);
                        }
                    }
                }
                if kw == 2 && sw == 2 && pl == 0 && 2 * ow <= w {
                    for (o, pair) in out_row.iter_mut().zip(rows.chunks_exact(2)) {
                        *o = max(pair[0], pair[1]);
                    }
                    continue;
                }
                // 3 wide, stride 2, padded 1 on the left (Xception's pools): output x reads
                // columns 2x - 1, 2x, 2x + 1, i.e. both of pair x and the second of pair x - 1.
                if kw == 3 && sw == 2 && pl == 1 && ow >= 1 && 2 * (ow - 1) < w {
                    out_row[0] = if w > 1 {
                        max(rows[0], rows[1])
                    } else {
                        rows[0]
                    };
                    let pairs = rows.chunks_exact(2);
                    let full = pairs.len().min(ow);
                    if full > 1 {
                        let windows = pairs.clone().skip(1).zip(pairs);
                        for (o, (pair, previous)) in out_row[1..full].iter_mut().zip(windows) {
                            *o = max(max(pair[0], pair[1]), previous[1]);
                        }
                    }
                    // An odd width: the last window is columns w - 2 and w - 1.
                    if ow > full && ow > 1 {
                        out_row[ow - 1] = max(rows[w - 2], rows[w - 1]);
                    }
                    continue;
                }
                out_row.fill(f32::MIN);
                for kx in 0..kw {
                    let xs = span(w, ow, kx, sw, pl);
                    if xs.is_empty() {
                        continue;
                    }
                    let first = xs.start * sw + kx - pl;
                    let outs = &mut out_row[xs];
                    if sw == 1 {
                        for (o, v) in outs.iter_mut().zip(&rows[first..]) {
                            *o = max(*o, *v);
                        }
                    } else {
                        for (o, v) in outs.iter_mut().zip(rows[first..].iter().step_by(sw)) {
                            *o = max(*o, *v);
                        }
                    }
                }
            }
        }
    }
}

/// The larger of two values; a NaN `b` is skipped, as tract's pool skips it.
#[inline(always)]
fn max(a: f32, b: f32) -> f32 {
    if b > a { b } else { a }
}

impl Op for RowMaxPool {
    fn name(&self) -> StaticName {
        "SentioRowMaxPool".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!(
            "kernel {:?} strides {:?} pad_before {:?} -> {:?}",
            self.kernel, self.strides, self.pad_before, self.output
        )])
    }

    op_as_typed_op!();
}

impl EvalOp for RowMaxPool {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let [_, _, h, w] = self.input;
        eval_f32(
            "SentioRowMaxPool",
            args_1!(inputs),
            &self.shape([h, w]),
            &self.shape(self.output),
            |input, output| {
                self.pool(input, output);
                Ok(())
            },
        )
    }
}

impl TypedOp for RowMaxPool {
    fn output_facts(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(f32::fact(self.shape(self.output))))
    }

    as_op!();
}

/// Replaces every `OptMaxPool` of `model` that [`RowMaxPool::for_op`] takes; returns their
/// names.
pub fn replace_max_pools(model: &mut TypedModel) -> TractResult<Vec<String>> {
    replace_nodes(model, |pool: &OptMaxPool, facts| {
        RowMaxPool::for_op(pool, facts.first()?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pool by definition, one output at a time.
    fn reference(p: &RowMaxPool, input: &[f32]) -> Vec<f32> {
        let [n, c, h, w] = p.input;
        let [oh, ow] = p.output;
        let mut out = Vec::new();
        for plane in 0..n * c {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut m = f32::MIN;
                    for ky in 0..p.kernel[0] {
                        for kx in 0..p.kernel[1] {
                            let iy = (oy * p.strides[0] + ky) as isize - p.pad_before[0] as isize;
                            let ix = (ox * p.strides[1] + kx) as isize - p.pad_before[1] as isize;
                            if (0..h as isize).contains(&iy) && (0..w as isize).contains(&ix) {
                                m = m.max(input[plane * h * w + iy as usize * w + ix as usize]);
                            }
                        }
                    }
                    out.push(m);
                }
            }
        }
        out
    }

    #[test]
    fn row_pool_equals_the_definition_for_kernels_strides_and_padding() {
        // (h, w, kernel, strides, pad_before, output)
        let cases = [
            (63, 63, [2, 2], [2, 2], [0, 0], [31, 31]),
            (64, 64, [2, 2], [2, 2], [0, 0], [32, 32]),
            (7, 7, [2, 2], [2, 2], [0, 0], [3, 3]),
            (6, 6, [2, 2], [2, 2], [1, 1], [4, 4]),
            (48, 48, [3, 3], [2, 2], [1, 1], [24, 24]),
            (7, 7, [3, 3], [2, 2], [1, 1], [4, 4]),
            (3, 3, [3, 3], [2, 2], [1, 1], [2, 2]),
            (1, 1, [3, 3], [2, 2], [1, 1], [1, 1]),
            (5, 2, [3, 3], [2, 2], [1, 1], [3, 1]),
            (48, 48, [3, 3], [2, 2], [1, 1], [24, 24]),
            (7, 9, [3, 2], [1, 3], [1, 0], [7, 3]),
            (1, 128, [1, 2], [1, 2], [0, 0], [1, 64]),
            (5, 5, [5, 5], [1, 1], [2, 2], [5, 5]),
            // Rows of several 16-output blocks, odd widths, and stride 1 over the rows.
            (5, 67, [3, 3], [2, 2], [1, 1], [3, 34]),
            (4, 33, [2, 2], [2, 2], [0, 0], [2, 16]),
            (9, 40, [3, 3], [1, 2], [1, 1], [9, 20]),
            (2, 2, [3, 3], [2, 2], [1, 1], [1, 1]),
        ];
        for (h, w, kernel, strides, pad_before, output) in cases {
            let pool = RowMaxPool {
                input: [1, 3, h, w],
                batch_axis: true,
                two_d: true,
                output,
                kernel,
                strides,
                pad_before,
            };
            let input: Vec<f32> = (0..3 * h * w)
                .map(|i| ((i * 7919) % 1009) as f32 - 500.0)
                .collect();
            let expected = reference(&pool, &input);
            for run in pool_kernels_of_this_cpu(&pool) {
                // (NaN: a value the pool leaves unwritten fails the comparison)
                let mut out = vec![f32::NAN; 3 * output[0] * output[1]];
                run(&pool, &input, &mut out);
                assert_eq!(out, expected, "{h}x{w} {kernel:?}/{strides:?}");
            }
        }
    }

    type PoolKernel = fn(&RowMaxPool, &[f32], &mut [f32]);

    /// Every copy of the pool's loops this CPU runs for `pool`.
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut, unused_variables))]
    fn pool_kernels_of_this_cpu(pool: &RowMaxPool) -> Vec<PoolKernel> {
        let mut kernels: Vec<PoolKernel> = vec![|p, i, o| p.pool_portable(i, o)];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2 (checked above).
                kernels.push(|p, i, o| unsafe { p.pool_avx2(i, o) });
            }
            if std::arch::is_x86_feature_detected!("avx512f") && pool.takes_stride_2_avx512() {
                // SAFETY: the CPU has AVX-512 F (checked above).
                kernels.push(|p, i, o| unsafe { p.pool_stride_2_avx512(i, o) });
            }
        }
        kernels
    }

    #[test]
    fn a_nan_input_is_skipped_by_every_kernel() {
        let pool = RowMaxPool {
            input: [1, 1, 4, 40],
            batch_axis: true,
            two_d: true,
            output: [2, 20],
            kernel: [3, 3],
            strides: [2, 2],
            pad_before: [1, 1],
        };
        let mut input: Vec<f32> = (0..160).map(|i| i as f32).collect();
        input[41] = f32::NAN;
        input[0] = f32::NAN;
        let expected = reference(&pool, &input);
        // (the reference's f32::max skips NaN too; the window of output 0 still has values)
        assert!(expected.iter().all(|v| !v.is_nan()));
        for run in pool_kernels_of_this_cpu(&pool) {
            let mut out = vec![f32::NAN; 40];
            run(&pool, &input, &mut out);
            assert_eq!(out, expected);
        }
    }

    #[test]
    fn span_keeps_the_taps_inside_the_row() {
        // w = 5, 3 taps, stride 2, pad 1: outputs 0..3 read x = 2o + k - 1.
        assert_eq!(span(5, 3, 0, 2, 1), 1..3);
        assert_eq!(span(5, 3, 1, 2, 1), 0..3);
        assert_eq!(span(5, 3, 2, 2, 1), 0..2);
        // A tap entirely in the padding of a 1-wide row.
        assert_eq!(span(1, 1, 2, 1, 1), 0..0);
    }
}
