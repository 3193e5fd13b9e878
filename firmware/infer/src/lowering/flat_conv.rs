//! A direct f32 convolution for stride-1 layers (the 2x2 and 3x3 convolutions of the emoji and
//! FER CNNs, their depthwise and pointwise convolutions, the SER model's 1-D convolutions over
//! time), which replaces tract's `Conv` (and the einsum tract makes of a 1x1 `Conv`) before
//! tract optimizes the plan.
//!
//! tract 0.23.9 lowers these to an im2col copy of the input (each value copied once per tap)
//! feeding its matmul kernel: for the emoji CNN's three 2x2 convolutions the copies alone took
//! 0.06 ms of its 0.28; a pointwise convolution with 16 input channels ran at 9 GMAC/s. Here no
//! copy is made: with stride 1 and the input zero-padded, output `(y, x)` of a channel reads
//! input `(y + ky, x + kx)`, which in a plane `Wp` values wide is the flat index
//! `q + ky·Wp + kx` for the output's flat index `q = y·Wp + x`. So over the flat index, every
//! tap is a contiguous run of the input, and a block of outputs is a sum of vectors loaded from
//! the input times weights broadcast from the filter: 8 output channels x 48 outputs held in 24
//! AVX-512 registers (8 x 8 in AVX2 registers otherwise) while the input channels and taps go
//! by. Computing over planes `Wp` wide produces `kw - 1` columns per row that are no output;
//! the stores skip them (a [`StorePlan`] of masked stores, made at plan time). A depthwise
//! convolution runs plane by plane the same way (64 outputs in 4 registers); with AVX-512 a
//! 3x3 one (Xception's) goes by pairs of output rows instead, each input vector loaded once
//! for both rows (per op 1.3-1.4x faster: its loads, not its FMAs, bound it). A pointwise
//! convolution over a small plane (Xception's 6x6 and 3x3 ones) would fill few of the 48
//! lanes: it runs with the output channels in the lanes instead (16 of them, one register per
//! position, up to 18 positions at a time).
//!
//! What follows a convolution in tract's decluttered graph is folded in when it can be: `Add`s
//! and `Mul`s by one constant per output channel (the conv's bias and a batch norm) into the
//! weights and bias, then a ReLU (`Max(x, 0)`) into the stores; and the `Downsample`s tract
//! puts before a strided 1x1 convolution into one strided read of the input.

use std::sync::Arc;

use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::Downsample;
use tract_onnx::tract_core::ops::binary::TypedBinOp;
use tract_onnx::tract_core::ops::cnn::Conv;
use tract_onnx::tract_core::ops::einsum::EinSum;

use super::{ConvGeometry, eval_f32, planned_shape, replace_nodes};

/// Output channels computed together (their weights broadcast, their sums in registers).
const CHANNELS: usize = 8;
/// Outputs of a block in the AVX-512 kernel: three vectors of 16.
#[cfg(target_arch = "x86_64")]
const AVX512_BLOCK: usize = 48;
/// Outputs of a block in the portable kernel: one AVX2 vector (or two NEON ones).
const PORTABLE_BLOCK: usize = 8;
/// The largest plane (OH·OW) of a pointwise convolution computed with the output channels in
/// the vector lanes: below it, planes fill few of the flat kernel's 48 lanes (a 3x3 plane 9,
/// a 6x6 one 36 of 48). Measured per op (one 1x1 conv alone against onnxruntime, as
/// tests/bench/bench_ops.py does; its table is in docs/benchmarks.md): 256 -> 256 channels over
/// 6x6 0.068 -> 0.047 ms (onnxruntime 0.037 in the same run); 128 -> 128 over 12x12 is faster
/// flat (0.036 ms against 0.042 in lanes).
const SMALL_PLANE: usize = 36;
/// Positions computed together by the channels-in-lanes kernel (one register each), largest
/// first.
#[cfg(target_arch = "x86_64")]
const POSITION_GROUPS: [usize; 9] = [18, 12, 9, 8, 6, 4, 3, 2, 1];

/// Geometry and packed weights of one stride-1 convolution, fixed at plan time.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FlatConv {
    /// [N, C_in, H, W].
    input: [usize; 4],
    /// The shapes of the input and the output in the plan (NCHW or CHW, or a pointwise
    /// convolution's einsum shapes), of [N, C_in, H, W] and [N, C_out, OH, OW] values.
    input_shape: TVec<usize>,
    output_shape: TVec<usize>,
    /// [C_out, OH, OW].
    output: [usize; 3],
    /// The kernel's size: [kh, kw].
    taps: [usize; 2],
    /// Zero padding: top, left, bottom, right.
    pad: [usize; 4],
    /// The weights by blocks of [`FlatConv::channel_block`] output channels:
    /// [C_out / block][C_in][kh][kw][block] (depthwise: [C][kh][kw]).
    packed: Arc<Tensor>,
    /// A pointwise convolution over a small plane (≤ [`SMALL_PLANE`] positions) with AVX-512,
    /// computed with the output channels in the vector lanes and one register per position:
    /// the lanes (output channels per vector), else `None`.
    channels_in_lanes: Option<usize>,
    /// [C_out] f32.
    bias: Arc<Tensor>,
    /// ReLU on the outputs (a `Max(conv, 0)` fused into the convolution).
    relu: bool,
    /// One filter per channel (groups = channels): `packed` is [C][kh][kw].
    depthwise: bool,
    /// A strided pointwise convolution: the input is [N·C_in, H, W] with every `sh`-th row and
    /// `sw`-th column read (tract's `Downsample`s before the convolution, folded in).
    subsample: Option<Subsample>,
    /// The kernel this CPU runs, and how it stores its vectors of outputs.
    kernel: Kernel,
    stores: Arc<StorePlan>,
}

impl FlatConv {
    /// The replacement for `conv` (a node of a decluttered model with inputs of `facts`), when
    /// it is an f32 1-D or 2-D convolution with stride 1, no dilation, no groups and a multiple
    /// of 8 output channels or a depthwise one, with constant weights over a known input shape.
    pub fn for_op(conv: &Conv, facts: &[&TypedFact]) -> Option<Self> {
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
        let conv = Self::new(
            g.input,
            g.batch_axis,
            g.output,
            g.kernel,
            pad,
            weights.as_slice::<f32>().ok()?,
            g.bias,
            depthwise,
            Kernel::here(),
        )?;
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
    pub fn for_pointwise(einsum: &EinSum, facts: &[&TypedFact]) -> Option<Self> {
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
        let bias = Arc::new(Tensor::zero::<f32>(&[c_out]).ok()?);
        let conv = Self::new(
            [1, c_in, 1, plane],
            true,
            [c_out, 1, plane],
            [1, 1],
            [0; 4],
            weights.as_slice::<f32>().ok()?,
            bias,
            false,
            Kernel::here(),
        )?;
        // (A plane under 16 positions that the channels-in-lanes kernel does not take (no
        // AVX-512, or output channels not a multiple of 16) is left to tract, as before it.)
        if plane < 16 && conv.channels_in_lanes.is_none() {
            return None;
        }
        Some(Self {
            input_shape: input_shape.into(),
            output_shape: output_shape.into(),
            ..conv
        })
    }

    /// This convolution followed by `y·scale + shift` per output channel (a following `Mul`
    /// and `Add` by constants, e.g. a batch norm), its weights and bias scaled.
    fn with_affine(&self, scale: &[f32], shift: &[f32]) -> TractResult<Self> {
        let c_out = self.output[0];
        ensure!(scale.len() == c_out && shift.len() == c_out);
        let mut packed = self.packed.as_ref().clone();
        {
            let mut view = packed.try_as_plain_ram_mut()?;
            let packed = view.as_slice_mut::<f32>()?;
            if self.depthwise {
                let taps = packed.len() / c_out;
                for (filter, s) in packed.chunks_exact_mut(taps).zip(scale) {
                    filter.iter_mut().for_each(|w| *w *= s);
                }
            } else {
                let lanes = self.channel_block();
                let per_block = packed.len() / (c_out / lanes);
                for (block, scale) in packed
                    .chunks_exact_mut(per_block)
                    .zip(scale.chunks_exact(lanes))
                {
                    for tap in block.chunks_exact_mut(lanes) {
                        tap.iter_mut().zip(scale).for_each(|(w, s)| *w *= s);
                    }
                }
            }
        }
        let bias: Vec<f32> = self
            .bias
            .try_as_plain_ram()?
            .as_slice::<f32>()?
            .iter()
            .zip(scale)
            .zip(shift)
            .map(|((b, s), t)| b.mul_add(*s, *t))
            .collect();
        Ok(Self {
            packed: Arc::new(packed),
            bias: Arc::new(Tensor::from_shape(&[c_out], &bias)?),
            ..self.clone()
        })
    }

    /// The convolution of `input` ([N, C_in, H, W], with the N axis if `batch_axis`) into
    /// `output` ([C_out, OH, OW]) by `weights` ([C_out, C_in, kh, kw] as `taps`, or
    /// [C, 1, kh, kw] when `depthwise`) plus `bias`, over the input zero-padded by `pad` (top,
    /// left, bottom, right), run by `kernel`. C_out is a multiple of 8, or C_in when
    /// `depthwise`.
    #[allow(clippy::too_many_arguments)]
    fn new(
        input: [usize; 4],
        batch_axis: bool,
        output: [usize; 3],
        taps: [usize; 2],
        pad: [usize; 4],
        weights: &[f32],
        bias: Arc<Tensor>,
        depthwise: bool,
        kernel: Kernel,
    ) -> Option<Self> {
        let [_, c_in, h, w] = input;
        let [c_out, oh, ow] = output;
        let [kh, kw] = taps;
        let [top, left, bottom, right] = pad;
        let per_output = if depthwise { kh * kw } else { c_in * kh * kw };
        let channels_fit = if depthwise {
            c_out == c_in
        } else {
            c_out.is_multiple_of(CHANNELS)
        };
        let channels_in_lanes = kernel.channel_lanes().filter(|lanes| {
            !depthwise
                && taps == [1, 1]
                && pad == [0; 4]
                && oh * ow <= SMALL_PLANE
                && c_out.is_multiple_of(*lanes)
        });
        if !channels_fit
            || weights.len() != c_out * per_output
            || bias.len() != c_out
            || oh == 0
            || ow == 0
            || (h + top + bottom).checked_sub(kh) != Some(oh - 1)
            || (w + left + right).checked_sub(kw) != Some(ow - 1)
        {
            return None;
        }
        let packed: Vec<f32> = if depthwise {
            // One filter per channel, as it is.
            weights.to_vec()
        } else {
            // Per block of channels, tap by tap, the block's weights side by side.
            let lanes = channels_in_lanes.unwrap_or(CHANNELS);
            (0..c_out / lanes)
                .flat_map(|block| (0..per_output).map(move |tap| (block, tap)))
                .flat_map(|(block, tap)| {
                    (0..lanes).map(move |r| weights[(block * lanes + r) * per_output + tap])
                })
                .collect()
        };
        let wp = w + left + right;
        let stores = StorePlan::new((oh - 1) * wp + ow, wp, ow, kernel.lanes());
        Some(Self {
            input,
            input_shape: planned_shape(batch_axis, input[0], c_in, &[h, w]),
            output_shape: planned_shape(batch_axis, input[0], c_out, &[oh, ow]),
            output,
            taps,
            pad,
            packed: Arc::new(Tensor::from_shape(&[packed.len()], &packed).ok()?),
            channels_in_lanes,
            bias,
            relu: false,
            depthwise,
            subsample: None,
            kernel,
            stores: Arc::new(stores),
        })
    }

    /// Output channels per block of `packed`: [`CHANNELS`], or the lanes when the channels
    /// are in the lanes, or 1 when depthwise (one filter per channel).
    fn channel_block(&self) -> usize {
        match (self.depthwise, self.channels_in_lanes) {
            (true, _) => 1,
            (false, Some(lanes)) => lanes,
            (false, None) => CHANNELS,
        }
    }

    /// The padded plane: [Hp, Wp].
    fn padded(&self) -> [usize; 2] {
        let [_, _, h, w] = self.input;
        let [top, left, bottom, right] = self.pad;
        [h + top + bottom, w + left + right]
    }

    /// Copies the H x W `plane` inside `padded_plane` (Hp x Wp, its border zero and left so).
    fn pad_plane(&self, plane: &[f32], padded_plane: &mut [f32]) {
        let [_, _, _, w] = self.input;
        let [_, wp] = self.padded();
        let [top, left, ..] = self.pad;
        let rows = plane
            .chunks_exact(w)
            .zip(padded_plane[top * wp..].chunks_exact_mut(wp));
        for (row, padded_row) in rows {
            padded_row[left..left + w].copy_from_slice(row);
        }
    }

    /// Convolves `input` into `output` (both row-major, shapes from `self`), ReLU applied when
    /// `self.relu`.
    fn convolve(&self, input: &[f32], packed: &[f32], bias: &[f32], output: &mut [f32]) {
        let subsampled;
        let input = match &self.subsample {
            Some(subsample) => {
                subsampled = subsample.gather(input);
                &subsampled[..]
            }
            None => input,
        };
        let [_, c_in, h, w] = self.input;
        let [c_out, oh, ow] = self.output;
        let [kh, kw] = self.taps;
        let [hp, wp] = self.padded();
        let padded_input = self.pad.iter().any(|p| *p > 0);
        let taps: Vec<usize> = (0..kh)
            .flat_map(|ky| (0..kw).map(move |kx| ky * wp + kx))
            .collect();
        if self.depthwise {
            self.convolve_depthwise(input, packed, bias, &taps, output);
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if self.channels_in_lanes.is_some() {
            self.convolve_channels_in_lanes(input, packed, bias, output);
            return;
        }
        let mut padded = if padded_input {
            vec![0.0f32; c_in * hp * wp]
        } else {
            Vec::new()
        };
        let images = input
            .chunks_exact(c_in * h * w)
            .zip(output.chunks_exact_mut(c_out * oh * ow));
        for (image, out_image) in images {
            let source: &[f32] = if padded_input {
                let planes = image
                    .chunks_exact(h * w)
                    .zip(padded.chunks_exact_mut(hp * wp));
                for (plane, padded_plane) in planes {
                    self.pad_plane(plane, padded_plane);
                }
                &padded
            } else {
                image
            };
            let blocks = packed
                .chunks_exact(c_in * taps.len() * CHANNELS)
                .zip(bias.chunks_exact(CHANNELS))
                .zip(out_image.chunks_exact_mut(CHANNELS * oh * ow));
            for ((weights, bias), out) in blocks {
                let block = Block {
                    source,
                    plane: hp * wp,
                    c_in,
                    taps: &taps,
                    weights,
                    bias,
                    output: [oh, ow],
                    len: (oh - 1) * wp + ow,
                    stores: &self.stores,
                    relu: self.relu,
                };
                run_blocks(&block, self.kernel, out);
            }
        }
    }

    /// [`FlatConv::convolve`] of a pointwise convolution over a small plane: per block of
    /// [`FlatConv::channel_block`] output channels, groups of positions (the last group moved back to end
    /// at the plane's end, so it may redo a few positions: the same values, written again).
    #[cfg(target_arch = "x86_64")]
    fn convolve_channels_in_lanes(
        &self,
        input: &[f32],
        packed: &[f32],
        bias: &[f32],
        output: &mut [f32],
    ) {
        let [_, c_in, ..] = self.input;
        let [c_out, oh, ow] = self.output;
        let plane = oh * ow;
        let lanes = self.channel_block();
        let group = position_group(plane);
        let images = input
            .chunks_exact(c_in * plane)
            .zip(output.chunks_exact_mut(c_out * plane));
        for (image, out_image) in images {
            let blocks = packed
                .chunks_exact(c_in * lanes)
                .zip(bias.chunks_exact(lanes))
                .zip(out_image.chunks_exact_mut(lanes * plane));
            for ((weights, bias), out) in blocks {
                let block = ChannelBlock {
                    source: image,
                    plane,
                    c_in,
                    weights,
                    bias,
                    relu: self.relu,
                };
                for start in (0..plane).step_by(group) {
                    block.positions(group, start.min(plane - group), out);
                }
            }
        }
    }

    /// [`FlatConv::convolve`] of a depthwise convolution: channel by channel, each plane
    /// (zero-padded) into its output plane.
    fn convolve_depthwise(
        &self,
        input: &[f32],
        packed: &[f32],
        bias: &[f32],
        taps: &[usize],
        output: &mut [f32],
    ) {
        let [_, _, h, w] = self.input;
        let [_, oh, ow] = self.output;
        let [hp, wp] = self.padded();
        #[cfg(target_arch = "x86_64")]
        if self.kernel == Kernel::Avx512 && self.taps == [3, 3] {
            self.convolve_depthwise_3x3(input, packed, bias, output);
            return;
        }
        let padded_input = self.pad.iter().any(|p| *p > 0);
        // One padded plane, reused: its border stays zero, its inside is overwritten.
        let mut padded = if padded_input {
            vec![0.0f32; hp * wp]
        } else {
            Vec::new()
        };
        let channels = input
            .chunks_exact(h * w)
            .zip(output.chunks_exact_mut(oh * ow))
            .zip(packed.chunks_exact(taps.len()).zip(bias).cycle());
        for ((plane, out_plane), (weights, bias)) in channels {
            let source: &[f32] = if padded_input {
                self.pad_plane(plane, &mut padded);
                &padded
            } else {
                plane
            };
            let block = PlaneBlock {
                source,
                taps,
                weights,
                bias: *bias,
                len: (oh - 1) * wp + ow,
                stores: &self.stores,
                relu: self.relu,
            };
            run_blocks(&block, self.kernel, out_plane);
        }
    }

    /// [`FlatConv::convolve_depthwise`] of a 3x3 depthwise convolution with AVX-512: by pairs
    /// of output rows, so each input vector loaded serves both rows (12 loads for 32 outputs
    /// instead of 9 for 16).
    #[cfg(target_arch = "x86_64")]
    fn convolve_depthwise_3x3(
        &self,
        input: &[f32],
        packed: &[f32],
        bias: &[f32],
        output: &mut [f32],
    ) {
        let [_, _, h, w] = self.input;
        let [_, oh, ow] = self.output;
        let [hp, wp] = self.padded();
        let blocks = ow.div_ceil(16);
        let vectors = blocks.min(3);
        // The padded plane, plus a zero row (an odd last output row is computed as a pair)
        // and the columns the last vectors read past the row end (computed, not stored).
        let mut padded = vec![0.0f32; (hp + 1) * wp + 16 * blocks.next_multiple_of(vectors) + 2];
        let channels = input
            .chunks_exact(h * w)
            .zip(output.chunks_exact_mut(oh * ow))
            .zip(packed.chunks_exact(9).zip(bias).cycle());
        for ((plane, out_plane), (weights, bias)) in channels {
            self.pad_plane(plane, &mut padded);
            let rows = Depthwise3x3 {
                padded: &padded,
                wp,
                weights,
                bias: *bias,
                output: [oh, ow],
                relu: self.relu,
            };
            // SAFETY: `Kernel::Avx512` is only chosen when the CPU has AVX-512 F; the bounds
            // are checked by `run_avx512`.
            unsafe {
                match vectors {
                    1 => rows.run_avx512::<1>(out_plane),
                    2 => rows.run_avx512::<2>(out_plane),
                    _ => rows.run_avx512::<3>(out_plane),
                }
            }
        }
    }
}

/// One plane of a 3x3 depthwise convolution over its zero-padded input, by pairs of rows.
#[cfg(target_arch = "x86_64")]
struct Depthwise3x3<'a> {
    /// The padded plane (Hp x Wp), then zeros: a row and the vectors' overhang.
    padded: &'a [f32],
    wp: usize,
    /// [3][3].
    weights: &'a [f32],
    bias: f32,
    /// [OH, OW] = [Hp - 2, Wp - 2].
    output: [usize; 2],
    relu: bool,
}

#[cfg(target_arch = "x86_64")]
impl Depthwise3x3<'_> {
    /// The plane into `out` ([OH, OW]): per pair of output rows, `V` vectors of 16 outputs of
    /// each at a time. Padded rows `oy..oy + 4` feed output rows `oy` (the first three) and
    /// `oy + 1` (the last three): each of the 4 x 3 loads serves one or two FMAs.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F. Reads stay in `padded` and writes in `out` (asserted).
    #[target_feature(enable = "avx512f")]
    unsafe fn run_avx512<const V: usize>(&self, out: &mut [f32]) {
        use std::arch::x86_64::*;
        let [oh, ow] = self.output;
        let wp = self.wp;
        let blocks = ow.div_ceil(16).next_multiple_of(V);
        // The furthest read: row oy + 3 for the last (possibly odd) oy, the last vector's
        // last lane at tap column 2.
        let last_pair = (oh - 1) & !1;
        assert!(ow + 2 == wp && self.weights.len() >= 9 && out.len() >= oh * ow);
        assert!(self.padded.len() >= (last_pair + 3) * wp + 16 * blocks + 2);
        let w: [__m512; 9] = std::array::from_fn(|t| _mm512_set1_ps(self.weights[t]));
        let bias = _mm512_set1_ps(self.bias);
        let zero = _mm512_setzero_ps();
        let store = |sum: __m512, row: usize, x0: usize, out: &mut [f32]| {
            let sum = if self.relu {
                _mm512_max_ps(sum, zero)
            } else {
                sum
            };
            let lanes = ow.saturating_sub(x0).min(16);
            let mask = ((1u32 << lanes) - 1) as __mmask16;
            // SAFETY: lanes `x0..x0 + lanes` of output row `row` are in `out`.
            unsafe { _mm512_mask_storeu_ps(out.as_mut_ptr().add(row * ow + x0), mask, sum) };
        };
        for oy in (0..oh).step_by(2) {
            for b0 in (0..blocks).step_by(V) {
                let mut top = [bias; V];
                let mut bottom = [bias; V];
                let base = self.padded.as_ptr().wrapping_add(oy * wp + 16 * b0);
                for i in 0..4 {
                    for kx in 0..3 {
                        for v in 0..V {
                            // SAFETY: in `padded` (asserted above).
                            let x = unsafe { _mm512_loadu_ps(base.add(i * wp + 16 * v + kx)) };
                            if i < 3 {
                                top[v] = _mm512_fmadd_ps(w[i * 3 + kx], x, top[v]);
                            }
                            if i > 0 {
                                bottom[v] = _mm512_fmadd_ps(w[(i - 1) * 3 + kx], x, bottom[v]);
                            }
                        }
                    }
                }
                for v in 0..V {
                    let x0 = 16 * (b0 + v);
                    if x0 < ow {
                        store(top[v], oy, x0, out);
                        if oy + 1 < oh {
                            store(bottom[v], oy + 1, x0, out);
                        }
                    }
                }
            }
        }
    }
}

/// The positions the channels-in-lanes kernel computes together over a plane of `plane`: the
/// fewest lanes computed (the last group may overlap the one before), counting each group's
/// pass over the weights as 2 more; of equals, the larger group.
#[cfg(target_arch = "x86_64")]
fn position_group(plane: usize) -> usize {
    POSITION_GROUPS
        .into_iter()
        .filter(|n| *n <= plane)
        .min_by_key(|n| plane.div_ceil(*n) * (n + 2))
        .unwrap_or(1)
}

/// A block of output channels of a pointwise convolution over a small plane, the channels in
/// the vector lanes: for each input channel, one vector of the block's weights times each
/// position's input value (broadcast) into that position's register. AVX-512 only: the 8
/// outputs of the other kernels' flat blocks waste few lanes on small planes.
#[cfg(target_arch = "x86_64")]
struct ChannelBlock<'a> {
    /// The image: [C_in][plane].
    source: &'a [f32],
    plane: usize,
    c_in: usize,
    /// [C_in][lanes].
    weights: &'a [f32],
    /// [lanes].
    bias: &'a [f32],
    relu: bool,
}

#[cfg(target_arch = "x86_64")]
impl ChannelBlock<'_> {
    /// Positions `first..first + group` of the block's 16 channels into `out` (the block's
    /// planes). Only called for a [`Kernel::Avx512`] plan, so on a CPU with AVX-512 F.
    fn positions(&self, group: usize, first: usize, out: &mut [f32]) {
        assert!(first + group <= self.plane && out.len() >= 16 * self.plane);
        assert!(self.source.len() >= self.c_in * self.plane);
        assert!(self.weights.len() >= self.c_in * 16 && self.bias.len() == 16);
        // SAFETY: a channels-in-lanes plan has `Kernel::Avx512`, which `Kernel::here` only
        // picks when the CPU has AVX-512 F; the bounds are checked above.
        unsafe {
            match group {
                18 => self.positions_avx512::<18>(first, out),
                12 => self.positions_avx512::<12>(first, out),
                9 => self.positions_avx512::<9>(first, out),
                8 => self.positions_avx512::<8>(first, out),
                6 => self.positions_avx512::<6>(first, out),
                4 => self.positions_avx512::<4>(first, out),
                3 => self.positions_avx512::<3>(first, out),
                2 => self.positions_avx512::<2>(first, out),
                _ => self.positions_avx512::<1>(first, out),
            }
        }
    }

    /// Positions `first..first + N` of the block's 16 channels: N registers of 16 sums, each
    /// scattered to its position of the 16 planes.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F; `first + N <= plane`, `source` holds C_in planes,
    /// `weights` C_in x 16 values, `bias` 16 and `out` 16 planes (checked by
    /// [`ChannelBlock::positions`]).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn positions_avx512<const N: usize>(&self, first: usize, out: &mut [f32]) {
        use std::arch::x86_64::*;
        // SAFETY (all the loads and stores): in bounds, see the function's doc.
        let bias = unsafe { _mm512_loadu_ps(self.bias.as_ptr()) };
        let mut sums = [bias; N];
        let mut x = self.source.as_ptr().wrapping_add(first);
        let mut w = self.weights.as_ptr();
        for _ in 0..self.c_in {
            let weights = unsafe { _mm512_loadu_ps(w) };
            for (j, sum) in sums.iter_mut().enumerate() {
                *sum = _mm512_fmadd_ps(weights, _mm512_set1_ps(unsafe { *x.add(j) }), *sum);
            }
            x = x.wrapping_add(self.plane);
            w = w.wrapping_add(16);
        }
        let planes = _mm512_mullo_epi32(
            _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
            _mm512_set1_epi32(self.plane as i32),
        );
        let zero = _mm512_setzero_ps();
        for (j, sum) in sums.iter().enumerate() {
            let sum = if self.relu {
                _mm512_max_ps(*sum, zero)
            } else {
                *sum
            };
            let at = out.as_mut_ptr().wrapping_add(first + j);
            unsafe { _mm512_i32scatter_ps::<4>(at, planes, sum) };
        }
    }
}

/// Every `strides[0]`-th row and `strides[1]`-th column of `planes` planes of `[h, w]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Subsample {
    planes: usize,
    hw: [usize; 2],
    strides: [usize; 2],
}

impl Subsample {
    /// The rows and columns kept: `ceil(h / sh)` x `ceil(w / sw)`.
    fn kept(&self) -> [usize; 2] {
        let ([h, w], [sh, sw]) = (self.hw, self.strides);
        [h.div_ceil(sh), w.div_ceil(sw)]
    }

    fn gather(&self, input: &[f32]) -> Vec<f32> {
        let ([h, w], [sh, sw]) = (self.hw, self.strides);
        let [kh, kw] = self.kept();
        let mut out = Vec::with_capacity(self.planes * kh * kw);
        for plane in input.chunks_exact(h * w).take(self.planes) {
            for row in plane.chunks_exact(w).step_by(sh) {
                out.extend(row.iter().step_by(sw));
            }
        }
        out
    }
}

/// How each vector of `lanes` flat outputs is stored: each run of its lanes that are outputs
/// (`x < ow`) goes to `offset + lane` of the output plane. The same for every channel and
/// image, so made once at plan time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
struct StorePlan {
    /// (lanes of the run as a bit mask, the output index of lane 0 if it were in the run).
    runs: Vec<(u16, isize)>,
    /// Vector `v`'s runs are `runs[starts[v]..starts[v + 1]]`.
    starts: Vec<usize>,
}

impl StorePlan {
    /// The plan for flat outputs `0..len` of planes `wp` wide whose first `ow` columns are
    /// outputs.
    fn new(len: usize, wp: usize, ow: usize, lanes: usize) -> Self {
        let mut plan = Self::default();
        let (mut y, mut x) = (0usize, 0usize);
        for start in (0..len).step_by(lanes) {
            plan.starts.push(plan.runs.len());
            let mut previous_was_output = false;
            for lane in 0..lanes.min(len - start) {
                let is_output = x < ow;
                if is_output && !previous_was_output {
                    plan.runs.push((0, (y * ow + x) as isize - lane as isize));
                }
                if let (true, Some(run)) = (is_output, plan.runs.last_mut()) {
                    run.0 |= 1 << lane;
                }
                previous_was_output = is_output;
                x += 1;
                if x == wp {
                    (x, y) = (0, y + 1);
                }
            }
        }
        plan.starts.push(plan.runs.len());
        plan
    }

    /// The runs of vector `v` (none past the end).
    #[inline(always)]
    fn runs(&self, v: usize) -> &[(u16, isize)] {
        match (self.starts.get(v), self.starts.get(v + 1)) {
            (Some(start), Some(end)) => &self.runs[*start..*end],
            _ => &[],
        }
    }
}

/// Writes the lanes of `sums` that each run of `runs` holds to `offset + lane` of `out`
/// (ReLU'd when `relu`): the portable kernels' stores.
#[inline(always)]
fn store_runs(sums: &[f32; PORTABLE_BLOCK], runs: &[(u16, isize)], relu: bool, out: &mut [f32]) {
    for (mask, offset) in runs {
        for (lane, s) in sums.iter().enumerate() {
            if mask & (1 << lane) != 0 {
                out[(offset + lane as isize) as usize] = if relu { s.max(0.0) } else { *s };
            }
        }
    }
}

/// The lanes of vector `v` (16 outputs each) of a block whose first `n` outputs are valid.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn lane_mask(n: usize, v: usize) -> std::arch::x86_64::__mmask16 {
    let valid = n.saturating_sub(v * 16).min(16);
    ((1u32 << valid) - 1) as std::arch::x86_64::__mmask16
}

/// Which copy of the loops runs, picked at plan time from what the CPU has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kernel {
    #[cfg(target_arch = "x86_64")]
    Avx512,
    #[cfg(target_arch = "x86_64")]
    Avx2Fma,
    Portable,
}

impl Kernel {
    fn here() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Self::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Self::Avx2Fma;
            }
        }
        Self::Portable
    }

    /// Output channels per vector of the channels-in-lanes kernel, if this kernel has one.
    fn channel_lanes(self) -> Option<usize> {
        match self {
            #[cfg(target_arch = "x86_64")]
            Self::Avx512 => Some(16),
            _ => None,
        }
    }

    /// Flat outputs per vector (and per vector of the [`StorePlan`]).
    fn lanes(self) -> usize {
        match self {
            #[cfg(target_arch = "x86_64")]
            Self::Avx512 => 16,
            _ => PORTABLE_BLOCK,
        }
    }
}

/// A unit of work of the flat convolution (8 channels of an image, or one depthwise plane) as
/// blocks of flat outputs, each computed by the AVX-512 kernel or the portable loops.
trait FlatBlocks {
    /// Outputs per call of [`FlatBlocks::outputs_avx512`].
    #[cfg(target_arch = "x86_64")]
    const AVX512_OUTPUTS: usize;

    /// Flat outputs to compute: `0..len`.
    fn len(&self) -> usize;

    /// Outputs `q..q + n` (n <= [`PORTABLE_BLOCK`]) with the portable loops.
    fn outputs_portable(&self, q: usize, n: usize, out: &mut [f32]);

    /// Outputs `q..q + n` (n <= `AVX512_OUTPUTS`) with AVX-512.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F.
    #[cfg(target_arch = "x86_64")]
    unsafe fn outputs_avx512(&self, q: usize, n: usize, out: &mut [f32]);
}

/// Writes all of `blocks`' outputs into `out` with `kernel`.
fn run_blocks<B: FlatBlocks>(blocks: &B, kernel: Kernel, out: &mut [f32]) {
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512 => {
            let len = blocks.len();
            for q in (0..len).step_by(B::AVX512_OUTPUTS) {
                let n = (len - q).min(B::AVX512_OUTPUTS);
                // SAFETY: `Kernel::here` saw AVX-512 F; `outputs_avx512` reads and writes only
                // in bounds (see each).
                unsafe { blocks.outputs_avx512(q, n, out) };
            }
        }
        // SAFETY: `Kernel::here` saw the features the function is compiled for.
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2Fma => unsafe { run_portable_avx2_fma(blocks, out) },
        Kernel::Portable => run_portable(blocks, out),
    }
}

/// [`run_portable`] compiled for AVX2 + FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn run_portable_avx2_fma<B: FlatBlocks>(blocks: &B, out: &mut [f32]) {
    run_portable(blocks, out);
}

#[inline(always)]
fn run_portable<B: FlatBlocks>(blocks: &B, out: &mut [f32]) {
    let len = blocks.len();
    for q in (0..len).step_by(PORTABLE_BLOCK) {
        blocks.outputs_portable(q, (len - q).min(PORTABLE_BLOCK), out);
    }
}

/// [`CHANNELS`] output channels of one image, over the flat outputs `q = y·wp + x` (those with
/// `x >= ow` are computed and not stored).
struct Block<'a> {
    /// The (padded) input image: `c_in` planes of `plane` values.
    source: &'a [f32],
    plane: usize,
    c_in: usize,
    /// Offset of each tap from the output's flat index.
    taps: &'a [usize],
    /// [C_in][taps][CHANNELS].
    weights: &'a [f32],
    /// [CHANNELS].
    bias: &'a [f32],
    /// [OH, OW].
    output: [usize; 2],
    /// Flat outputs computed: up to the last real output, `(OH - 1)·wp + OW`.
    len: usize,
    /// How each vector of flat outputs is stored (for the kernel's lanes).
    stores: &'a StorePlan,
    relu: bool,
}

impl FlatBlocks for Block<'_> {
    #[cfg(target_arch = "x86_64")]
    const AVX512_OUTPUTS: usize = AVX512_BLOCK;

    fn len(&self) -> usize {
        self.len
    }

    /// Outputs `q..q + n` (n <= [`PORTABLE_BLOCK`]) of the block's channels.
    #[inline(always)]
    fn outputs_portable(&self, q: usize, n: usize, out: &mut [f32]) {
        let mut sums = [[0.0f32; PORTABLE_BLOCK]; CHANNELS];
        for (sum, b) in sums.iter_mut().zip(self.bias) {
            *sum = [*b; PORTABLE_BLOCK];
        }
        let mut weights = self.weights.chunks_exact(CHANNELS);
        for plane in self.source.chunks_exact(self.plane).take(self.c_in) {
            for (offset, w) in self.taps.iter().zip(weights.by_ref()) {
                let mut x = [0.0f32; PORTABLE_BLOCK];
                x[..n].copy_from_slice(&plane[q + offset..][..n]);
                for (sum, w) in sums.iter_mut().zip(w) {
                    for (s, x) in sum.iter_mut().zip(&x) {
                        *s = w.mul_add(*x, *s);
                    }
                }
            }
        }
        let plane = self.output[0] * self.output[1];
        let runs = self.stores.runs(q / PORTABLE_BLOCK);
        for (sum, out) in sums.iter().zip(out.chunks_exact_mut(plane)) {
            store_runs(sum, runs, self.relu, out);
        }
    }

    /// Outputs `q..q + n` (n <= [`AVX512_BLOCK`]) of the block's channels: 8 x 3 vectors of 16
    /// sums in registers; the lanes past `n` are masked off in every load, and each vector is
    /// stored run by run of the lanes that are outputs (`x < ow`).
    ///
    /// # Safety
    /// The CPU must have AVX-512 F. Reads stay in `source`: the furthest is flat input
    /// `len - 1 + taps.last()` of the last plane, inside it since `len - 1` is the last output
    /// and the last tap reads that output's bottom-right input. Writes stay in `out` (8 planes
    /// of OH x OW): each stored lane is an output, where the [`StorePlan`] puts it.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn outputs_avx512(&self, q: usize, n: usize, out: &mut [f32]) {
        use std::arch::x86_64::*;
        let plane = self.output[0] * self.output[1];
        debug_assert!(q + n <= self.len && q.is_multiple_of(16));
        debug_assert!(out.len() >= CHANNELS * plane);
        debug_assert!(self.weights.len() >= self.c_in * self.taps.len() * CHANNELS);
        let masks = [lane_mask(n, 0), lane_mask(n, 1), lane_mask(n, 2)];
        let mut sums = [[_mm512_setzero_ps(); 3]; CHANNELS];
        for (sum, b) in sums.iter_mut().zip(self.bias) {
            *sum = [_mm512_set1_ps(*b); 3];
        }
        // (looked up before the loop: no call may come between the sums and their stores)
        let first = q / 16;
        let stores = [
            self.stores.runs(first),
            self.stores.runs(first + 1),
            self.stores.runs(first + 2),
        ];
        let one_run = |runs: &[(u16, isize)]| match runs {
            [run] => Some(*run),
            _ => None,
        };
        let single = [one_run(stores[0]), one_run(stores[1]), one_run(stores[2])];
        let mut w = self.weights.as_ptr();
        for ci in 0..self.c_in {
            let base = self.source.as_ptr().wrapping_add(ci * self.plane + q);
            for offset in self.taps {
                let p = base.wrapping_add(*offset);
                // SAFETY: masked lanes are not read (no fault past the end); valid lanes are
                // in bounds (see the function's doc).
                let x = unsafe {
                    [
                        _mm512_maskz_loadu_ps(masks[0], p),
                        _mm512_maskz_loadu_ps(masks[1], p.wrapping_add(16)),
                        _mm512_maskz_loadu_ps(masks[2], p.wrapping_add(32)),
                    ]
                };
                for (r, sum) in sums.iter_mut().enumerate() {
                    // SAFETY: `w` walks the block's weights, c_in * taps * 8 of them.
                    let wr = _mm512_set1_ps(unsafe { *w.add(r) });
                    for (s, x) in sum.iter_mut().zip(&x) {
                        *s = _mm512_fmadd_ps(wr, *x, *s);
                    }
                }
                w = w.wrapping_add(CHANNELS);
            }
        }
        // A vector whose outputs are one run (most: it does not span a row end) is stored
        // straight from its register. The others go through memory once: stored with constant
        // indices (so the loop above keeps the sums in registers), then reloaded for the
        // stores of their runs, whose count varies.
        let zero = _mm512_setzero_ps();
        let mut tile = [[0.0f32; 16]; 3 * CHANNELS];
        for (r, sum) in sums.iter().enumerate() {
            let o = out.as_mut_ptr().wrapping_add(r * plane);
            for (v, s) in sum.iter().enumerate() {
                let s = if self.relu {
                    _mm512_max_ps(*s, zero)
                } else {
                    *s
                };
                match single[v] {
                    // SAFETY: only the run's lanes are written, each to an output of the
                    // plane (see `StorePlan`).
                    Some((mask, offset)) => unsafe {
                        _mm512_mask_storeu_ps(o.wrapping_offset(offset), mask, s)
                    },
                    // SAFETY: a row of `tile` holds 16 values.
                    None => unsafe { _mm512_storeu_ps(tile[r * 3 + v].as_mut_ptr(), s) },
                }
            }
        }
        for (v, runs) in stores.iter().enumerate() {
            if single[v].is_some() {
                continue;
            }
            for r in 0..CHANNELS {
                let o = out.as_mut_ptr().wrapping_add(r * plane);
                // SAFETY: a row of `tile` holds 16 values.
                let s = unsafe { _mm512_loadu_ps(tile[r * 3 + v].as_ptr()) };
                for (mask, offset) in *runs {
                    // SAFETY: as above.
                    unsafe { _mm512_mask_storeu_ps(o.wrapping_offset(*offset), *mask, s) };
                }
            }
        }
    }
}

/// One output plane of a depthwise convolution, over the flat outputs of its one input plane.
struct PlaneBlock<'a> {
    /// The (padded) input plane.
    source: &'a [f32],
    /// Offset of each tap from the output's flat index.
    taps: &'a [usize],
    /// One weight per tap.
    weights: &'a [f32],
    bias: f32,
    /// Flat outputs computed: `(OH - 1)·wp + OW`.
    len: usize,
    stores: &'a StorePlan,
    relu: bool,
}

/// Outputs of a block of the AVX-512 depthwise kernel: four vectors of 16.
#[cfg(target_arch = "x86_64")]
const PLANE_BLOCK: usize = 64;

impl FlatBlocks for PlaneBlock<'_> {
    #[cfg(target_arch = "x86_64")]
    const AVX512_OUTPUTS: usize = PLANE_BLOCK;

    fn len(&self) -> usize {
        self.len
    }

    /// Outputs `q..q + n` (n <= [`PORTABLE_BLOCK`]) of the plane.
    #[inline(always)]
    fn outputs_portable(&self, q: usize, n: usize, out: &mut [f32]) {
        let mut sums = [self.bias; PORTABLE_BLOCK];
        for (offset, w) in self.taps.iter().zip(self.weights) {
            let mut x = [0.0f32; PORTABLE_BLOCK];
            x[..n].copy_from_slice(&self.source[q + offset..][..n]);
            for (s, x) in sums.iter_mut().zip(&x) {
                *s = w.mul_add(*x, *s);
            }
        }
        store_runs(&sums, self.stores.runs(q / PORTABLE_BLOCK), self.relu, out);
    }

    /// Outputs `q..q + n` (n <= 64) of the plane: 4 vectors of 16 sums in registers, the lanes
    /// past `n` masked off in every load, each vector stored run by run.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F. Reads stay in `source` (the last output's last tap is the
    /// plane's last value) and writes in `out` (each stored lane is an output, where the
    /// [`StorePlan`] puts it).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn outputs_avx512(&self, q: usize, n: usize, out: &mut [f32]) {
        use std::arch::x86_64::*;
        debug_assert!(q + n <= self.len && q.is_multiple_of(16));
        let masks = [0, 1, 2, 3].map(|v| lane_mask(n, v));
        let mut sums = [_mm512_set1_ps(self.bias); 4];
        let base = self.source.as_ptr().wrapping_add(q);
        for (offset, w) in self.taps.iter().zip(self.weights) {
            let p = base.wrapping_add(*offset);
            let w = _mm512_set1_ps(*w);
            for (v, (s, mask)) in sums.iter_mut().zip(masks).enumerate() {
                // SAFETY: masked lanes are not read; valid lanes are in bounds (see above).
                let x = unsafe { _mm512_maskz_loadu_ps(mask, p.wrapping_add(16 * v)) };
                *s = _mm512_fmadd_ps(w, x, *s);
            }
        }
        let zero = _mm512_setzero_ps();
        for (v, s) in sums.iter().enumerate() {
            let s = if self.relu {
                _mm512_max_ps(*s, zero)
            } else {
                *s
            };
            for (mask, offset) in self.stores.runs(q / 16 + v) {
                // SAFETY: only the run's lanes are written, each to an output of the plane.
                unsafe {
                    _mm512_mask_storeu_ps(out.as_mut_ptr().wrapping_offset(*offset), *mask, s)
                };
            }
        }
    }
}

impl Op for FlatConv {
    fn name(&self) -> StaticName {
        "SentioFlatConv".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!(
            "{}kernel {:?} pad {:?}: {:?} -> {:?}{}",
            match (self.depthwise, self.channels_in_lanes) {
                (true, _) => "depthwise ",
                (false, Some(_)) => "channels in lanes, ",
                (false, None) => "",
            },
            self.taps,
            self.pad,
            self.input,
            self.output,
            if self.relu { ", ReLU" } else { "" }
        )])
    }

    op_as_typed_op!();
}

impl EvalOp for FlatConv {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let packed = self.packed.try_as_plain_ram()?;
        let bias = self.bias.try_as_plain_ram()?;
        eval_f32(
            "SentioFlatConv",
            args_1!(inputs),
            &self.input_shape,
            &self.output_shape,
            |input, output| {
                self.convolve(
                    input,
                    packed.as_slice::<f32>()?,
                    bias.as_slice::<f32>()?,
                    output,
                );
                Ok(())
            },
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
pub fn replace_convs(model: &mut TypedModel) -> TractResult<Vec<String>> {
    let mut replaced = replace_nodes(model, FlatConv::for_op)?;
    replaced.extend(replace_nodes(model, FlatConv::for_pointwise)?);
    fold_downsamples(model)?;
    for id in model.eval_order()? {
        let node = model.node(id);
        let Some(conv) = node.op_as::<FlatConv>() else {
            continue;
        };
        // Follow the chain of nodes that fold into the convolution, then replace it whole.
        let mut fused = conv.clone();
        let mut chain = vec![id];
        while let Some(next) = model.single_succ(chain[chain.len() - 1])? {
            let output = OutletId::new(chain[chain.len() - 1], 0);
            if fused.relu {
                break;
            } else if is_relu_of(model, next, output) {
                fused.relu = true;
            } else if let Some((scale, shift)) = channel_affine(model, next, output, &fused) {
                fused = fused.with_affine(&scale, &shift)?;
            } else {
                break;
            }
            chain.push(next.id);
        }
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
        if conv.depthwise || conv.taps != [1, 1] || conv.pad != [0; 4] || conv.subsample.is_some() {
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
        let subsample = Subsample {
            planes: planes.iter().product(),
            hw: [hw[0], hw[1]],
            strides,
        };
        let [n, c_in, _, plane] = conv.input;
        let [kh, kw] = subsample.kept();
        if subsample.planes != n * c_in || kh * kw != plane {
            continue;
        }
        let folded = FlatConv {
            input_shape: shape.clone(),
            subsample: Some(subsample),
            ..conv.clone()
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
    let c_out = conv.output[0];
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
            let [n, ..] = conv.input;
            let [_, oh, ow] = conv.output;
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::lowering::reference;

    #[test]
    fn flat_conv_equals_the_definition_with_every_kernel_of_this_cpu() {
        // (n, c_in, h, w, c_out, kernel, pad top/left/bottom/right)
        let cases = [
            (1, 1, 64, 64, 16, [2, 2], [0, 0, 0, 0]),
            (1, 16, 31, 31, 32, [2, 2], [0, 0, 0, 0]),
            (2, 3, 9, 11, 8, [3, 3], [1, 1, 1, 1]),
            (1, 5, 7, 6, 16, [3, 2], [2, 0, 1, 1]),
            // A plane 2 wide: 8 runs of one output per vector of 16.
            (1, 2, 5, 2, 8, [1, 1], [0, 0, 0, 1]),
            // 1-D over time as 1 x k, padded: the SER model's convs.
            (1, 40, 1, 130, 64, [1, 5], [0, 2, 0, 2]),
            // Pointwise: flat (12x12), channels in lanes on AVX-512 (6x6, 3x3, 2x5, a batch;
            // 24 output channels stay flat).
            (1, 24, 12, 12, 32, [1, 1], [0, 0, 0, 0]),
            (1, 24, 6, 6, 32, [1, 1], [0, 0, 0, 0]),
            (1, 128, 3, 3, 64, [1, 1], [0, 0, 0, 0]),
            (2, 7, 2, 5, 16, [1, 1], [0, 0, 0, 0]),
            (1, 9, 5, 5, 24, [1, 1], [0, 0, 0, 0]),
        ];
        // Depthwise: (n, channels, h, w, kernel, pad)
        let depthwise = [
            (1, 32, 48, 48, [3, 3], [1, 1, 1, 1]),
            (2, 3, 7, 5, [3, 3], [1, 1, 1, 1]),
            (1, 4, 6, 9, [2, 3], [0, 2, 1, 0]),
            // 3x3 by row pairs: rows of 5 blocks of 16 (3 vectors at a time), an odd row
            // count, uneven padding, a 2x2 plane.
            (1, 2, 4, 70, [3, 3], [0, 2, 1, 0]),
            (1, 3, 2, 2, [3, 3], [1, 1, 1, 1]),
            (1, 2, 9, 20, [3, 3], [1, 1, 1, 1]),
            (1, 5, 1, 40, [1, 5], [0, 2, 0, 2]),
        ];
        let cases = cases
            .into_iter()
            .map(|(n, c_in, h, w, c_out, k, pad)| (n, c_in, h, w, c_out, 1, k, pad))
            .chain(
                depthwise
                    .into_iter()
                    .map(|(n, c, h, w, k, pad)| (n, c, h, w, c, c, k, pad)),
            );
        // (the portable loops, and on x86_64 the SIMD kernels this CPU has)
        #[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))]
        let mut kernels = vec![Kernel::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                kernels.push(Kernel::Avx512);
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                kernels.push(Kernel::Avx2Fma);
            }
        }
        for (n, c_in, h, w, c_out, group, [kh, kw], pad) in cases {
            let [top, left, bottom, right] = pad;
            let (oh, ow) = (h + top + bottom + 1 - kh, w + left + right + 1 - kw);
            let weights: Vec<f32> = (0..c_out * c_in / group * kh * kw)
                .map(|i| ((i * 37) % 17) as f32 / 8.0 - 1.0)
                .collect();
            let bias: Vec<f32> = (0..c_out).map(|i| i as f32 * 0.25 - 0.5).collect();
            let input: Vec<f32> = (0..n * c_in * h * w)
                .map(|i| ((i * 7919) % 1009) as f32 / 500.0 - 1.0)
                .collect();
            let expected = reference::conv(
                &input,
                [n, c_in, h, w],
                &weights,
                &bias,
                [c_out, oh, ow],
                [kh, kw],
                [1, 1],
                [top, left],
                group,
            );
            for kernel in &kernels {
                for relu in [false, true] {
                    let conv = FlatConv {
                        relu,
                        ..FlatConv::new(
                            [n, c_in, h, w],
                            true,
                            [c_out, oh, ow],
                            [kh, kw],
                            pad,
                            &weights,
                            Arc::new(Tensor::from_shape(&[c_out], &bias).unwrap()),
                            group > 1,
                            *kernel,
                        )
                        .unwrap()
                    };
                    let mut out = vec![f32::NAN; n * c_out * oh * ow];
                    let packed = conv.packed.try_as_plain_ram().unwrap();
                    conv.convolve(&input, packed.as_slice().unwrap(), &bias, &mut out);
                    let worst = out
                        .iter()
                        .zip(&expected)
                        .map(|(a, b)| (a - if relu { b.max(0.0) } else { *b }).abs())
                        .fold(0.0f32, f32::max);
                    assert!(
                        worst < 1e-4,
                        "{kernel:?} relu {relu} {c_in}x{h}x{w} -> {c_out} / {group} {kh}x{kw} \
                         {pad:?}: {worst}"
                    );
                }
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn position_groups_cover_small_planes_with_few_wasted_lanes() {
        // (plane, group): 6x6 in two passes of 18, 3x3 in one of 9, 5x5 in three of 9 (the
        // last overlapping), 2x5 in two overlapping passes of 6.
        for (plane, group) in [(36, 18), (9, 9), (25, 9), (10, 6), (16, 8), (2, 2), (1, 1)] {
            assert_eq!(position_group(plane), group, "plane {plane}");
        }
    }

    #[test]
    fn a_subsample_keeps_every_other_row_and_column() {
        let sub = Subsample {
            planes: 2,
            hw: [3, 5],
            strides: [2, 2],
        };
        assert_eq!(sub.kept(), [2, 3]);
        let input: Vec<f32> = (0..30).map(|i| i as f32).collect();
        let expected = [
            0.0, 2.0, 4.0, 10.0, 12.0, 14.0, 15.0, 17.0, 19.0, 25.0, 27.0, 29.0,
        ];
        assert_eq!(sub.gather(&input), expected);
    }

    #[test]
    fn geometry_that_does_not_add_up_is_refused() {
        let bias = Arc::new(Tensor::from_shape(&[8], &[0.0f32; 8]).unwrap());
        let weights = vec![0.0f32; 8 * 2 * 9];
        let make = |output: [usize; 3], c_out_weights: usize| {
            FlatConv::new(
                [1, 2, 5, 5],
                true,
                output,
                [3, 3],
                [0; 4],
                &weights[..c_out_weights * 18],
                bias.clone(),
                false,
                Kernel::Portable,
            )
        };
        assert!(make([8, 3, 3], 8).is_some());
        assert!(make([8, 4, 3], 8).is_none(), "wrong output height");
        assert!(make([6, 3, 3], 6).is_none(), "not a multiple of 8 channels");
        assert!(make([8, 3, 3], 7).is_none(), "weights for 7 channels");
    }
}
