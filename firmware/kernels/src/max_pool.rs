//! An f32 max pool over channels-first planes (2-D, or 1-D over time as a single row), walked
//! row by row.
//!
//! Per output row: the elementwise max of the window's input rows (contiguous, so it
//! vectorizes), then the max over each window's columns of that row, tap by tap over the span
//! of outputs where the tap is in bounds, so the inner loop has no branch. Every max is
//! independent of the previous one: a running max per window would chain each `maxss` on the
//! last and run several times slower. Out-of-bounds (padded) taps are skipped, as ONNX MaxPool
//! specifies; a window with no tap in bounds yields `f32::MIN`, tract's value.
//!
//! Implementations: with AVX-512, the stride-2 pools of our models (2x2 unpadded, 3x3 padded 1)
//! run 16 outputs per vector: the rows' max over 32 columns, split into even and odd columns by
//! two permutes; with NEON the same pools run 8 outputs per step (two vectors of 4), the even
//! and odd columns split by `vld2q_f32` as they are loaded. AVX-512's other pools and AVX2+FMA
//! run the portable loops compiled for AVX2; NEON's other pools run the portable loops (which
//! the compiler vectorizes for NEON). Timings per op against onnxruntime are measured in
//! docs/benchmarks.md (tests/bench/bench_ops.py).

use crate::util::{check_isa, check_len, volume};
use crate::window::span;
use crate::{Isa, KernelError};

const KERNEL: &str = "max_pool";

/// The shape of one pool. A 1-D pool is a 2-D one over a single row: `input` [N, C, 1, W],
/// `output` [1, OW], `kernel` [1, k], `strides` [1, s], `pad_before` [0, p].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MaxPoolGeometry {
    /// [N, C, H, W].
    pub input: [usize; 4],
    /// [OH, OW]: the output is [N, C, OH, OW].
    pub output: [usize; 2],
    /// [kh, kw].
    pub kernel: [usize; 2],
    pub strides: [usize; 2],
    /// Padding before the first row and column (the padding after is what the output reaches
    /// past the input).
    pub pad_before: [usize; 2],
}

/// A max pool made once for one geometry and instruction set.
///
/// Contract of [`MaxPoolPlan::run`], shared by every implementation: `input` is [N, C, H, W]
/// and `output` [N, C, OH, OW], both row-major (else [`KernelError::Length`], nothing
/// written); every output value is written (the output need not be initialized), as the max
/// of the window's taps inside the input starting from `f32::MIN`
/// ([`crate::reference::max_pool`]): `f32::MIN` for a window with no tap inside, and a NaN
/// input is skipped (each max keeps the running value when the new one is NaN), as tract's
/// pool does. One exception, in the portable loops (AVX2 included; not AVX-512 or NEON, whose
/// stride-2 paths take this pool) for a 2x2 stride-2 unpadded pool, which take the max of each
/// window's four taps directly: there a NaN tap can win or hide the tap after it, and four taps
/// of -inf give -inf.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MaxPoolPlan {
    geometry: MaxPoolGeometry,
    isa: Isa,
}

impl MaxPoolPlan {
    /// The plan for `geometry` run with `isa`; refused when a size, kernel or stride is 0, a
    /// volume overflows, or this CPU cannot run `isa`.
    pub fn new(geometry: MaxPoolGeometry, isa: Isa) -> Result<Self, KernelError> {
        let [n, c, h, w] = geometry.input;
        let [oh, ow] = geometry.output;
        volume(KERNEL, "input", &geometry.input)?;
        volume(KERNEL, "output", &[n, c, oh, ow])?;
        volume(KERNEL, "kernel", &geometry.kernel)?;
        volume(KERNEL, "strides", &geometry.strides)?;
        // (the spans add the padding to the input's length)
        if h.checked_add(geometry.pad_before[0]).is_none()
            || w.checked_add(geometry.pad_before[1]).is_none()
        {
            return Err(KernelError::Geometry {
                kernel: KERNEL,
                reason: format!("padding {:?} overflows", geometry.pad_before),
            });
        }
        Ok(Self {
            geometry,
            isa: check_isa(KERNEL, isa)?,
        })
    }

    pub fn geometry(&self) -> &MaxPoolGeometry {
        &self.geometry
    }

    /// The instruction set the plan runs with.
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// Which loops run: for reports (`sentio bench --profile`).
    pub fn implementation(&self) -> &'static str {
        match self.isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 if self.takes_stride_2() => "avx512 stride-2 columns",
            Isa::Avx512 | Isa::Avx2Fma => "avx2 row pool",
            #[cfg(target_arch = "aarch64")]
            Isa::Neon if self.takes_stride_2() => "neon stride-2 pool",
            Isa::Neon => "portable row pool (neon baseline)",
            Isa::Portable => "portable row pool",
        }
    }

    /// Values of the input, N·C·H·W.
    pub fn input_len(&self) -> usize {
        self.geometry.input.iter().product()
    }

    /// Values of the output, N·C·OH·OW.
    pub fn output_len(&self) -> usize {
        let [n, c, ..] = self.geometry.input;
        let [oh, ow] = self.geometry.output;
        n * c * oh * ow
    }

    /// Pools every plane of `input` into `output` (the contract is on [`MaxPoolPlan`]).
    pub fn run(&self, input: &[f32], output: &mut [f32]) -> Result<(), KernelError> {
        check_len(KERNEL, "input", self.input_len(), input.len())?;
        check_len(KERNEL, "output", self.output_len(), output.len())?;
        match self.isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 if self.takes_stride_2() => {
                // SAFETY: `new` refuses an instruction set this CPU lacks.
                unsafe { self.run_stride_2_avx512(input, output) }
            }
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `new` refuses an instruction set this CPU lacks.
            Isa::Avx512 | Isa::Avx2Fma => unsafe { self.run_avx2(input, output) },
            #[cfg(target_arch = "aarch64")]
            Isa::Neon if self.takes_stride_2() => {
                // SAFETY: `new` refuses an instruction set this CPU lacks, so a plan holds
                // `Isa::Neon` only when the CPU has NEON.
                unsafe { self.run_stride_2_neon(input, output) }
            }
            Isa::Neon | Isa::Portable => self.run_portable(input, output),
            // (never: `new` refuses an instruction set this CPU lacks)
            #[cfg(not(target_arch = "x86_64"))]
            Isa::Avx512 | Isa::Avx2Fma => self.run_portable(input, output),
        }
        Ok(())
    }

    /// Whether the stride-2 paths ([`MaxPoolPlan::run_stride_2_avx512`],
    /// `MaxPoolPlan::run_stride_2_neon`) compute this pool: columns stride 2 with a window of
    /// columns `2x - 1 ..= 2x + 1` (3 wide, padded 1: Xception's) or `2x ..= 2x + 1` (2 wide,
    /// unpadded: a CNN block's), any rows.
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    fn takes_stride_2(&self) -> bool {
        let [_, sw] = self.geometry.strides;
        let [_, kw] = self.geometry.kernel;
        let [_, pl] = self.geometry.pad_before;
        sw == 2 && matches!((kw, pl), (2, 0) | (3, 1))
    }

    /// The pools [`MaxPoolPlan::takes_stride_2`] takes, 16 outputs of a row at a time:
    /// the max of the window's rows over the 32 columns they read (two vectors per row; the
    /// columns past the plane read as `f32::MIN`), split into even and odd columns, and the
    /// odd one shifted by one lane with the previous block's last odd column in lane 0 (the
    /// `2x - 1` column of a 3-wide window).
    ///
    /// A NaN input is skipped: each max keeps its second operand when the first is NaN, and
    /// every running max starts from `f32::MIN`.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F; `input` and `output` hold the pool's planes (checked by
    /// the chunking: only whole planes are read and written).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn run_stride_2_avx512(&self, input: &[f32], output: &mut [f32]) {
        use std::arch::x86_64::*;
        let [_, _, h, w] = self.geometry.input;
        let [oh, ow] = self.geometry.output;
        let [kh, kw] = self.geometry.kernel;
        let [sh, _] = self.geometry.strides;
        let [pt, _] = self.geometry.pad_before;
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

    /// The pools [`MaxPoolPlan::takes_stride_2`] takes, with NEON, 8 outputs of a row at a
    /// time (two vectors of 4), mirroring [`MaxPoolPlan::run_stride_2_avx512`]: per window row,
    /// two `vld2q_f32` load the 16 columns the 8 outputs read already split into even and odd
    /// columns, and the rows' max is kept per column; then each output is the max of its even
    /// and odd column, and for a 3-wide window also of the odd column before (the odd vector
    /// shifted by one lane, the previous block's last odd column in lane 0: `vextq_f32`).
    ///
    /// Bounds: a block whose 16 columns are all in the row loads them in place; the block at
    /// the row end loads from a stack copy of its columns inside the row, the rest `f32::MIN`
    /// (a block wholly past the row loads nothing), so a tap past the row end is `f32::MIN`,
    /// the value every running max starts from: skipped. Rows above and below the plane are
    /// not read (only the window's rows inside it are), and column -1 is the carry's initial
    /// `f32::MIN`. A window with no tap inside yields `f32::MIN`; a block of fewer than 8
    /// outputs is stored through a stack buffer.
    ///
    /// NaN, as in the AVX-512 path: a NaN input is skipped, quiet or signalling. The rows' max
    /// is a compare and select (`vcgtq_f32`, `vbslq_f32`: keep the running max unless the new
    /// value is greater, the portable `max`), not `vmaxq_f32`, which returns NaN when either
    /// operand is (and `vmaxnmq_f32` skips only quiet NaNs). Every running max starts from
    /// `f32::MIN`, so the rows' maxima hold no NaN and the column maxima after them are plain
    /// `vmaxq_f32`; taps of -inf give `f32::MIN`, as the definition does.
    #[cfg(target_arch = "aarch64")]
    #[target_feature(enable = "neon")]
    fn run_stride_2_neon(&self, input: &[f32], output: &mut [f32]) {
        use std::arch::aarch64::*;
        let [_, _, h, w] = self.geometry.input;
        let [oh, ow] = self.geometry.output;
        let [kh, kw] = self.geometry.kernel;
        let [sh, _] = self.geometry.strides;
        let [pt, _] = self.geometry.pad_before;
        let lowest = vdupq_n_f32(f32::MIN);
        // The running max of `m` and `v`, skipping a NaN `v` (the portable `max`).
        let max_skip_nan = |m: float32x4_t, v: float32x4_t| vbslq_f32(vcgtq_f32(v, m), v, m);
        let planes = input
            .chunks_exact(h * w)
            .zip(output.chunks_exact_mut(oh * ow));
        for (plane, out_plane) in planes {
            for (oy, out_row) in out_plane.chunks_exact_mut(ow).enumerate() {
                // The window's rows inside the plane.
                let first = (oy * sh).saturating_sub(pt).min(h);
                let end = (oy * sh + kh).saturating_sub(pt).min(h);
                let rows = &plane[first * w..end.max(first) * w];
                // The odd column before the block (column -1 is padding).
                let mut carry = lowest;
                for (block, out) in out_row.chunks_mut(8).enumerate() {
                    let column = 16 * block;
                    // Columns `column + 2i` and `column + 2i + 1` (evens[0], odds[0]) and
                    // `column + 8 + 2i`, `column + 8 + 2i + 1` (evens[1], odds[1]).
                    let mut evens = [lowest; 2];
                    let mut odds = [lowest; 2];
                    let mut accumulate = |columns: &[f32]| {
                        let p = columns[..16].as_ptr();
                        // SAFETY: `p` points at 16 values (the slice above).
                        let [a, b] = unsafe { [vld2q_f32(p), vld2q_f32(p.add(8))] };
                        evens = [max_skip_nan(evens[0], a.0), max_skip_nan(evens[1], b.0)];
                        odds = [max_skip_nan(odds[0], a.1), max_skip_nan(odds[1], b.1)];
                    };
                    if column + 16 <= w {
                        for row in rows.chunks_exact(w) {
                            accumulate(&row[column..column + 16]);
                        }
                    } else if column < w {
                        // The row's end: its last columns, then `f32::MIN`.
                        let mut tail = [f32::MIN; 16];
                        for row in rows.chunks_exact(w) {
                            let inside = &row[column..];
                            tail[..inside.len()].copy_from_slice(inside);
                            accumulate(&tail);
                        }
                    }
                    let mut m = [vmaxq_f32(evens[0], odds[0]), vmaxq_f32(evens[1], odds[1])];
                    if kw == 3 {
                        m[0] = vmaxq_f32(m[0], vextq_f32::<3>(carry, odds[0]));
                        m[1] = vmaxq_f32(m[1], vextq_f32::<3>(odds[0], odds[1]));
                        carry = odds[1];
                    }
                    if out.len() == 8 {
                        // SAFETY: `out` holds 8 values.
                        unsafe {
                            vst1q_f32(out.as_mut_ptr(), m[0]);
                            vst1q_f32(out.as_mut_ptr().add(4), m[1]);
                        }
                    } else {
                        let mut tail = [0.0f32; 8];
                        // SAFETY: `tail` holds 8 values.
                        unsafe {
                            vst1q_f32(tail.as_mut_ptr(), m[0]);
                            vst1q_f32(tail.as_mut_ptr().add(4), m[1]);
                        }
                        let n = out.len();
                        out.copy_from_slice(&tail[..n]);
                    }
                }
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn run_avx2(&self, input: &[f32], output: &mut [f32]) {
        self.run_portable(input, output);
    }

    #[inline(always)]
    fn run_portable(&self, input: &[f32], output: &mut [f32]) {
        let [_, _, h, w] = self.geometry.input;
        let [oh, ow] = self.geometry.output;
        let [kh, kw] = self.geometry.kernel;
        let [sh, sw] = self.geometry.strides;
        let [pt, pl] = self.geometry.pad_before;
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
