//! The flat convolution: a direct f32 convolution with stride 1 (dense with a multiple of 8
//! output channels, depthwise, or pointwise) over the flat index of the zero-padded input.
//!
//! With stride 1 and the input zero-padded, output `(y, x)` of a channel reads input
//! `(y + ky, x + kx)`, which in a plane `Wp` values wide is the flat index `q + ky·Wp + kx` for
//! the output's flat index `q = y·Wp + x`. So over the flat index every tap is a contiguous run
//! of the input, and a block of outputs is a sum of vectors loaded from the input times
//! weights broadcast from the filter, with no im2col copy: 8 output channels x 48 outputs held
//! in 24 AVX-512 registers (8 x 8 in AVX2 or NEON registers otherwise) while the input
//! channels and taps go by. Computing over planes `Wp` wide produces `kw - 1` columns per row
//! that are no output; the stores skip them (a `StorePlan` of masked stores, made at plan
//! time). A depthwise convolution runs plane by plane the same way; a 3x3 one goes by pairs of
//! output rows (AVX-512 and NEON), each input vector loaded once for both rows: its loads, not
//! its multiply-adds, bound it. A pointwise convolution over a small plane would fill few of
//! the 48 lanes: with AVX-512 it runs with the output channels in the lanes instead (16 of
//! them, one register per position, up to 18 positions at a time).
//!
//! The figures behind these choices are in docs/benchmarks.md ("Single ops", made by
//! tests/bench/bench_ops.py).

use crate::util::{check_isa, check_len};
use crate::{Isa, KernelError};

const KERNEL: &str = "flat conv";

/// Output channels computed together (their weights broadcast, their sums in registers).
const CHANNELS: usize = 8;
/// Outputs of a block in the AVX-512 kernel: three vectors of 16.
#[cfg(target_arch = "x86_64")]
const AVX512_BLOCK: usize = 48;
/// Outputs of a block in the portable and NEON kernels: one AVX2 vector, or two NEON ones.
const PORTABLE_BLOCK: usize = 8;
/// The largest plane (OH·OW) of a pointwise convolution computed with the output channels in
/// the vector lanes: below it, planes fill few of the flat kernel's 48 lanes (a 3x3 plane 9,
/// a 6x6 one 36 of 48). Chosen by timing single ops (docs/benchmarks.md, "Single ops").
const SMALL_PLANE: usize = 36;
/// Positions computed together by the channels-in-lanes kernel (one register each), largest
/// first.
#[cfg(target_arch = "x86_64")]
const POSITION_GROUPS: [usize; 9] = [18, 12, 9, 8, 6, 4, 3, 2, 1];

/// One stride-1 convolution, planned: geometry, weights packed for the kernel, the stores, and
/// the instruction set it runs with.
///
/// Contract of [`FlatConvPlan::run`]: `input` holds [N, C_in, H, W] values (or, with a
/// subsample, the planes before it), `output` [N, C_out, OH, OW]; every output is written (the
/// output need not be initialized); the result is the convolution by definition
/// ([`crate::reference::conv`]) plus bias, then ReLU when asked, to within f32 rounding.
#[derive(Clone, Debug, PartialEq)]
pub struct FlatConvPlan {
    /// [N, C_in, H, W].
    input: [usize; 4],
    /// [C_out, OH, OW].
    output: [usize; 3],
    /// The kernel's size: [kh, kw].
    taps: [usize; 2],
    /// Zero padding: top, left, bottom, right.
    pad: [usize; 4],
    /// The weights by blocks of [`FlatConvPlan::channel_block`] output channels:
    /// [C_out / block][C_in][kh][kw][block] (depthwise: [C][kh][kw]).
    packed: Vec<f32>,
    /// A pointwise convolution over a small plane (≤ [`SMALL_PLANE`] positions) with AVX-512,
    /// computed with the output channels in the vector lanes and one register per position:
    /// the lanes (output channels per vector), else `None`.
    channels_in_lanes: Option<usize>,
    /// [C_out].
    bias: Vec<f32>,
    /// ReLU on the outputs.
    relu: bool,
    /// One filter per channel (groups = channels): `packed` is [C][kh][kw].
    depthwise: bool,
    /// A strided pointwise convolution: the input is planes of [H, W] with every `sh`-th row
    /// and `sw`-th column read.
    subsample: Option<Subsample>,
    /// The implementation that runs, and how it stores its vectors of outputs.
    isa: Isa,
    stores: StorePlan,
}

impl FlatConvPlan {
    /// The convolution of [N, C_in, H, W] inputs into [N, C_out, OH, OW] outputs by `weights`
    /// ([C_out, C_in, kh, kw], or [C, 1, kh, kw] when `depthwise`) plus `bias`, over the input
    /// zero-padded by `pad` (top, left, bottom, right), with stride 1, run with `isa` (which
    /// this CPU must have). C_out is a multiple of 8, or C_in when `depthwise`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        input: [usize; 4],
        output: [usize; 3],
        taps: [usize; 2],
        pad: [usize; 4],
        weights: &[f32],
        bias: &[f32],
        depthwise: bool,
        isa: Isa,
    ) -> Result<Self, KernelError> {
        let [_, c_in, h, w] = input;
        let [c_out, oh, ow] = output;
        let [kh, kw] = taps;
        let [top, left, bottom, right] = pad;
        let isa = check_isa(KERNEL, isa)?;
        let geometry = |reason: String| KernelError::Geometry {
            kernel: KERNEL,
            reason,
        };
        let per_output = if depthwise { kh * kw } else { c_in * kh * kw };
        let channels_fit = if depthwise {
            c_out == c_in
        } else {
            c_out.is_multiple_of(CHANNELS)
        };
        if !channels_fit || c_out == 0 {
            return Err(geometry(format!(
                "{c_out} output channels over {c_in} input channels: it takes a multiple of 8 \
                 output channels, or a depthwise convolution (as many as the input)"
            )));
        }
        check_len(KERNEL, "weights", c_out * per_output, weights.len())?;
        check_len(KERNEL, "bias", c_out, bias.len())?;
        if oh == 0
            || ow == 0
            || kh == 0
            || kw == 0
            || (h + top + bottom).checked_sub(kh) != Some(oh - 1)
            || (w + left + right).checked_sub(kw) != Some(ow - 1)
        {
            return Err(geometry(format!(
                "output {output:?} does not follow from input {input:?}, kernel {taps:?} and \
                 padding {pad:?} with stride 1"
            )));
        }
        let channels_in_lanes = channel_lanes(isa).filter(|lanes| {
            !depthwise
                && taps == [1, 1]
                && pad == [0; 4]
                && oh * ow <= SMALL_PLANE
                && c_out.is_multiple_of(*lanes)
        });
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
        let stores = StorePlan::new((oh - 1) * wp + ow, wp, ow, store_lanes(isa));
        Ok(Self {
            input,
            output,
            taps,
            pad,
            packed,
            channels_in_lanes,
            bias: bias.to_vec(),
            relu: false,
            depthwise,
            subsample: None,
            isa,
            stores,
        })
    }

    /// This convolution followed by `y·scale + shift` per output channel (a batch norm, or
    /// the `Mul` and `Add` by constants that follow it), its weights and bias scaled.
    /// `None` unless both have one value per output channel.
    pub fn with_affine(&self, scale: &[f32], shift: &[f32]) -> Option<Self> {
        let c_out = self.output[0];
        if scale.len() != c_out || shift.len() != c_out {
            return None;
        }
        let mut packed = self.packed.clone();
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
        let bias = self
            .bias
            .iter()
            .zip(scale)
            .zip(shift)
            .map(|((b, s), t)| b.mul_add(*s, *t))
            .collect();
        Some(Self {
            packed,
            bias,
            ..self.clone()
        })
    }

    /// This convolution with a ReLU on its outputs (or without).
    pub fn with_relu(self, relu: bool) -> Self {
        Self { relu, ..self }
    }

    /// This pointwise convolution reading every `strides[0]`-th row and `strides[1]`-th
    /// column of `planes` planes of `hw` (the `Downsample`s before a strided 1x1 convolution,
    /// folded into its reads): the kept rows and columns must be the planned input.
    pub fn with_subsample(
        self,
        planes: usize,
        hw: [usize; 2],
        strides: [usize; 2],
    ) -> Result<Self, KernelError> {
        let subsample = Subsample {
            planes,
            hw,
            strides,
        };
        let [n, c_in, h, w] = self.input;
        let [kh, kw] = subsample.kept();
        let plane_fits = kh * kw == h * w;
        if self.depthwise
            || self.taps != [1, 1]
            || self.pad != [0; 4]
            || strides.contains(&0)
            || planes != n * c_in
            || !plane_fits
        {
            return Err(KernelError::Geometry {
                kernel: KERNEL,
                reason: format!(
                    "a subsample of {planes} planes {hw:?} by {strides:?} does not make the \
                     planned input {:?} of a pointwise convolution",
                    self.input
                ),
            });
        }
        Ok(Self {
            subsample: Some(subsample),
            ..self
        })
    }

    /// [N, C_in, H, W].
    pub fn input(&self) -> [usize; 4] {
        self.input
    }

    /// Values `run` reads: the input's, or the planes before the subsample.
    pub fn input_len(&self) -> usize {
        match &self.subsample {
            Some(s) => s.planes * s.hw[0] * s.hw[1],
            None => self.input.iter().product(),
        }
    }

    /// [C_out, OH, OW].
    pub fn output(&self) -> [usize; 3] {
        self.output
    }

    /// Values `run` writes: N x C_out x OH x OW.
    pub fn output_len(&self) -> usize {
        self.input[0] * self.output.iter().product::<usize>()
    }

    /// [kh, kw].
    pub fn taps(&self) -> [usize; 2] {
        self.taps
    }

    /// Zero padding: top, left, bottom, right.
    pub fn pad(&self) -> [usize; 4] {
        self.pad
    }

    pub fn is_depthwise(&self) -> bool {
        self.depthwise
    }

    pub fn has_relu(&self) -> bool {
        self.relu
    }

    pub fn is_subsampled(&self) -> bool {
        self.subsample.is_some()
    }

    /// Whether a pointwise convolution runs with its output channels in the vector lanes.
    pub fn has_channels_in_lanes(&self) -> bool {
        self.channels_in_lanes.is_some()
    }

    /// The instruction set it runs with.
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// Which loops run: for reports (`sentio bench --profile`).
    pub fn implementation(&self) -> &'static str {
        match (self.isa, self.depthwise, self.channels_in_lanes.is_some()) {
            (Isa::Avx512, true, _) if self.taps == [3, 3] => "avx512 3x3 row pairs",
            (Isa::Neon, true, _) if self.taps == [3, 3] => "neon 3x3 row pairs",
            (Isa::Avx512, true, _) => "avx512 depthwise 4x16",
            (Isa::Avx512, false, true) => "avx512 channels in lanes",
            (Isa::Avx512, false, false) => "avx512 8x48",
            (Isa::Neon, false, _) => "neon 8x8",
            (Isa::Neon, true, _) => "portable depthwise (neon baseline)",
            (Isa::Avx2Fma, true, _) => "avx2+fma depthwise 4x8",
            (Isa::Avx2Fma, false, _) => "avx2+fma 8x8",
            (Isa::Portable, _, _) => "portable",
        }
    }

    /// The convolution of `input` into `output` (see the type's contract); an error, with
    /// nothing written, when they do not hold [`FlatConvPlan::input_len`] and
    /// [`FlatConvPlan::output_len`] values.
    pub fn run(&self, input: &[f32], output: &mut [f32]) -> Result<(), KernelError> {
        check_len(KERNEL, "input", self.input_len(), input.len())?;
        check_len(KERNEL, "output", self.output_len(), output.len())?;
        self.convolve(input, &self.packed, &self.bias, output);
        Ok(())
    }

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
                run_blocks(&block, self.isa, out);
            }
        }
    }

    /// [`FlatConvPlan::convolve`] of a pointwise convolution over a small plane: per block of
    /// [`FlatConvPlan::channel_block`] output channels, groups of positions (the last group moved back to end
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

    /// [`FlatConvPlan::convolve`] of a depthwise convolution: channel by channel, each plane
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
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        if matches!(self.isa, Isa::Avx512 | Isa::Neon) && self.taps == [3, 3] {
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
            run_blocks(&block, self.isa, out_plane);
        }
    }

    /// [`FlatConvPlan::convolve_depthwise`] of a 3x3 depthwise convolution with AVX-512 or
    /// NEON: by pairs of output rows, so each input vector loaded serves both rows (12 loads
    /// for 2 vectors of outputs instead of 9 for 1).
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
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
        // AVX-512: up to 3 vectors of 16 columns at a time; NEON: 16 columns (4 vectors).
        let vectors = if self.isa == Isa::Avx512 {
            blocks.min(3)
        } else {
            1
        };
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
            // SAFETY: `Isa::Neon` is only planned when the CPU has NEON.
            #[cfg(target_arch = "aarch64")]
            unsafe {
                rows.run_neon(out_plane)
            };
            // SAFETY: `Isa::Avx512` is only planned when the CPU has AVX-512 F; the bounds
            // are checked by `run_avx512`.
            #[cfg(target_arch = "x86_64")]
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
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
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

#[cfg(target_arch = "aarch64")]
impl Depthwise3x3<'_> {
    /// The plane into `out` ([OH, OW]): per pair of output rows, 16 columns (4 vectors of 4)
    /// of each at a time; padded rows `oy..oy + 4` feed output rows `oy` (the first three)
    /// and `oy + 1` (the last three), so each of the 4 x 3 x 4 loads serves one or two
    /// multiply-adds. 8 sums, 9 weights and 4 inputs: 21 of the 32 NEON registers.
    #[target_feature(enable = "neon")]
    fn run_neon(&self, out: &mut [f32]) {
        use std::arch::aarch64::*;
        let [oh, ow] = self.output;
        let wp = self.wp;
        let blocks = ow.div_ceil(16);
        let last_pair = (oh - 1) & !1;
        // The furthest read: row last_pair + 3, the last block's last vector at tap column 2.
        assert!(ow + 2 == wp && self.weights.len() >= 9 && out.len() >= oh * ow);
        assert!(self.padded.len() >= (last_pair + 3) * wp + 16 * blocks + 2);
        let w: [float32x4_t; 9] = std::array::from_fn(|t| vdupq_n_f32(self.weights[t]));
        let bias = vdupq_n_f32(self.bias);
        let zero = vdupq_n_f32(0.0);
        let store = |sum: float32x4_t, row: usize, x0: usize, out: &mut [f32]| {
            let sum = if self.relu { vmaxq_f32(sum, zero) } else { sum };
            let lanes = ow.saturating_sub(x0).min(4);
            let at = row * ow + x0;
            if lanes == 4 {
                // SAFETY: outputs `at..at + 4` are in row `row` of `out` (x0 + 4 <= ow).
                unsafe { vst1q_f32(out[at..at + 4].as_mut_ptr(), sum) };
            } else {
                let mut tail = [0.0f32; 4];
                // SAFETY: `tail` holds 4 values.
                unsafe { vst1q_f32(tail.as_mut_ptr(), sum) };
                out[at..at + lanes].copy_from_slice(&tail[..lanes]);
            }
        };
        for oy in (0..oh).step_by(2) {
            for block in 0..blocks {
                let mut top = [bias; 4];
                let mut bottom = [bias; 4];
                let base = self.padded.as_ptr().wrapping_add(oy * wp + 16 * block);
                for i in 0..4 {
                    for kx in 0..3 {
                        for v in 0..4 {
                            // SAFETY: in `padded` (asserted above).
                            let x = unsafe { vld1q_f32(base.add(i * wp + 4 * v + kx)) };
                            if i < 3 {
                                top[v] = vfmaq_f32(top[v], w[i * 3 + kx], x);
                            }
                            if i > 0 {
                                bottom[v] = vfmaq_f32(bottom[v], w[(i - 1) * 3 + kx], x);
                            }
                        }
                    }
                }
                for v in 0..4 {
                    let x0 = 16 * block + 4 * v;
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
    /// planes). Only called for a [`Isa::Avx512`] plan, so on a CPU with AVX-512 F.
    fn positions(&self, group: usize, first: usize, out: &mut [f32]) {
        assert!(first + group <= self.plane && out.len() >= 16 * self.plane);
        assert!(self.source.len() >= self.c_in * self.plane);
        assert!(self.weights.len() >= self.c_in * 16 && self.bias.len() == 16);
        // SAFETY: a channels-in-lanes plan has `Isa::Avx512`, which `FlatConvPlan::new` only
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

/// An AVX2 load mask of the first `n` (at most 8) lanes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn avx2_mask(n: usize) -> std::arch::x86_64::__m256i {
    use std::arch::x86_64::*;
    // SAFETY: SSE2/AVX set and compare intrinsics on values, no memory; only called from
    // functions compiled with AVX2.
    unsafe {
        _mm256_cmpgt_epi32(
            _mm256_set1_epi32(n.min(8) as i32),
            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
        )
    }
}

/// The lanes of vector `v` (16 outputs each) of a block whose first `n` outputs are valid.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn lane_mask(n: usize, v: usize) -> std::arch::x86_64::__mmask16 {
    let valid = n.saturating_sub(v * 16).min(16);
    ((1u32 << valid) - 1) as std::arch::x86_64::__mmask16
}

/// Output channels per vector of the channels-in-lanes kernel, if `isa` has one.
fn channel_lanes(isa: Isa) -> Option<usize> {
    match isa {
        Isa::Avx512 => Some(16),
        _ => None,
    }
}

/// Flat outputs per vector of `isa`'s kernel (and per vector of the [`StorePlan`]).
fn store_lanes(isa: Isa) -> usize {
    match isa {
        Isa::Avx512 => 16,
        _ => PORTABLE_BLOCK,
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

    /// Outputs per call of [`FlatBlocks::outputs_avx2`] (a multiple of [`PORTABLE_BLOCK`]).
    #[cfg(target_arch = "x86_64")]
    const AVX2_OUTPUTS: usize;

    /// Outputs `q..q + n` (n <= `AVX2_OUTPUTS`) with AVX2 and FMA.
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    unsafe fn outputs_avx2(&self, q: usize, n: usize, out: &mut [f32]);

    /// Outputs `q..q + n` (n <= [`PORTABLE_BLOCK`]) with NEON (the portable loops unless the
    /// unit has NEON loops of its own).
    #[cfg(target_arch = "aarch64")]
    #[inline(always)]
    fn outputs_neon(&self, q: usize, n: usize, out: &mut [f32]) {
        self.outputs_portable(q, n, out);
    }
}

/// `w·x + s` for the portable loops: fused where the target always has a fused multiply-add
/// (aarch64; x86_64 built with `fma`), else a multiply and an add. (`f32::mul_add` on an x86_64
/// target without `fma` is a library call per value, which made these loops 0.3 GMAC/s.)
#[inline(always)]
fn multiply_add(w: f32, x: f32, s: f32) -> f32 {
    if cfg!(any(target_arch = "aarch64", target_feature = "fma")) {
        w.mul_add(x, s)
    } else {
        w * x + s
    }
}

/// Up to [`PORTABLE_BLOCK`] values, zero-filled past the slice's end: a full block is a
/// fixed-size copy the compiler keeps in registers, not a call to `memcpy` per tap.
#[inline(always)]
fn load_block(values: &[f32]) -> [f32; PORTABLE_BLOCK] {
    match <&[f32; PORTABLE_BLOCK]>::try_from(values) {
        Ok(full) => *full,
        Err(_) => {
            let mut x = [0.0f32; PORTABLE_BLOCK];
            let n = values.len().min(PORTABLE_BLOCK);
            x[..n].copy_from_slice(&values[..n]);
            x
        }
    }
}

/// Writes all of `blocks`' outputs into `out` with `isa`'s loops.
fn run_blocks<B: FlatBlocks>(blocks: &B, isa: Isa, out: &mut [f32]) {
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => {
            let len = blocks.len();
            for q in (0..len).step_by(B::AVX512_OUTPUTS) {
                let n = (len - q).min(B::AVX512_OUTPUTS);
                // SAFETY: `FlatConvPlan::new` only takes an available Isa, so the CPU has
                // AVX-512 F; `outputs_avx512` reads and writes only in bounds (see each).
                unsafe { blocks.outputs_avx512(q, n, out) };
            }
        }
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2Fma => {
            let len = blocks.len();
            for q in (0..len).step_by(B::AVX2_OUTPUTS) {
                let n = (len - q).min(B::AVX2_OUTPUTS);
                // SAFETY: `FlatConvPlan::new` only takes an available Isa, so the CPU has AVX2
                // and FMA; `outputs_avx2` reads and writes only in bounds (see each).
                unsafe { blocks.outputs_avx2(q, n, out) };
            }
        }
        #[cfg(target_arch = "aarch64")]
        Isa::Neon => {
            let len = blocks.len();
            for q in (0..len).step_by(PORTABLE_BLOCK) {
                blocks.outputs_neon(q, (len - q).min(PORTABLE_BLOCK), out);
            }
        }
        // (Portable; the other architecture's sets never pass `FlatConvPlan::new`)
        _ => run_portable(blocks, out),
    }
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
    #[cfg(target_arch = "x86_64")]
    const AVX2_OUTPUTS: usize = PORTABLE_BLOCK;

    /// Outputs `q..q + n` (n <= 8) of the block's 8 channels: 8 vectors of 8 sums, the lanes
    /// past `n` masked off in every load, each tap's 8 weights broadcast one by one.
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA. Reads stay in `source` (as the AVX-512 kernel's); writes
    /// go through the [`StorePlan`]'s runs.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn outputs_avx2(&self, q: usize, n: usize, out: &mut [f32]) {
        use std::arch::x86_64::*;
        debug_assert!(q + n <= self.len && n <= PORTABLE_BLOCK);
        debug_assert!(self.weights.len() >= self.c_in * self.taps.len() * CHANNELS);
        let mask = avx2_mask(n);
        let mut sums = [_mm256_setzero_ps(); CHANNELS];
        for (sum, b) in sums.iter_mut().zip(self.bias) {
            *sum = _mm256_set1_ps(*b);
        }
        let mut w = self.weights.as_ptr();
        for ci in 0..self.c_in {
            let base = self.source.as_ptr().wrapping_add(ci * self.plane + q);
            for offset in self.taps {
                // SAFETY: masked lanes are not read; valid lanes are in bounds.
                let x = unsafe { _mm256_maskload_ps(base.wrapping_add(*offset), mask) };
                for (r, sum) in sums.iter_mut().enumerate() {
                    // SAFETY: `w` walks the block's weights, c_in * taps * 8 of them.
                    let wr = _mm256_broadcast_ss(unsafe { &*w.add(r) });
                    *sum = _mm256_fmadd_ps(wr, x, *sum);
                }
                w = w.wrapping_add(CHANNELS);
            }
        }
        let plane = self.output[0] * self.output[1];
        let runs = self.stores.runs(q / PORTABLE_BLOCK);
        for (sum, out) in sums.iter().zip(out.chunks_exact_mut(plane)) {
            let mut values = [0.0f32; PORTABLE_BLOCK];
            // SAFETY: `values` holds 8 values.
            unsafe { _mm256_storeu_ps(values.as_mut_ptr(), *sum) };
            store_runs(&values, runs, self.relu, out);
        }
    }

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
                let x = load_block(&plane[q + offset..][..n]);
                for (sum, w) in sums.iter_mut().zip(w) {
                    for (s, x) in sum.iter_mut().zip(&x) {
                        *s = multiply_add(*w, *x, *s);
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

    /// Outputs `q..q + n` (n <= [`PORTABLE_BLOCK`]) of the block's channels with NEON: 8
    /// channels x 2 vectors of 4 sums, the 8 weights of a tap in 2 vectors, one
    /// multiply-add by lane per channel and vector. A block short of 8 outputs (the plane's
    /// end) runs the portable loops.
    #[cfg(target_arch = "aarch64")]
    #[inline(always)]
    fn outputs_neon(&self, q: usize, n: usize, out: &mut [f32]) {
        // SAFETY: `Isa::Neon` is only planned when the CPU has NEON.
        unsafe { self.outputs_neon_8x8(q, n, out) }
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

impl Block<'_> {
    /// [`FlatBlocks::outputs_neon`] of a block.
    #[cfg(target_arch = "aarch64")]
    #[target_feature(enable = "neon")]
    fn outputs_neon_8x8(&self, q: usize, n: usize, out: &mut [f32]) {
        use std::arch::aarch64::*;
        if n < PORTABLE_BLOCK {
            self.outputs_portable(q, n, out);
            return;
        }
        let mut sums = [[vdupq_n_f32(0.0); 2]; CHANNELS];
        for (sum, b) in sums.iter_mut().zip(self.bias) {
            *sum = [vdupq_n_f32(*b); 2];
        }
        let mut weights = self.weights.chunks_exact(CHANNELS);
        for plane in self.source.chunks_exact(self.plane).take(self.c_in) {
            for (offset, w) in self.taps.iter().zip(weights.by_ref()) {
                let x = &plane[q + offset..][..PORTABLE_BLOCK];
                // SAFETY: `x` and `w` hold 8 values each.
                let (x0, x1, w0, w1) = unsafe {
                    (
                        vld1q_f32(x.as_ptr()),
                        vld1q_f32(x.as_ptr().add(4)),
                        vld1q_f32(w.as_ptr()),
                        vld1q_f32(w.as_ptr().add(4)),
                    )
                };
                macro_rules! fma_lanes {
                    ($w:ident, $($r:literal => $lane:literal),*) => {$(
                        sums[$r][0] = vfmaq_laneq_f32::<$lane>(sums[$r][0], x0, $w);
                        sums[$r][1] = vfmaq_laneq_f32::<$lane>(sums[$r][1], x1, $w);
                    )*};
                }
                fma_lanes!(w0, 0 => 0, 1 => 1, 2 => 2, 3 => 3);
                fma_lanes!(w1, 4 => 0, 5 => 1, 6 => 2, 7 => 3);
            }
        }
        let plane = self.output[0] * self.output[1];
        let runs = self.stores.runs(q / PORTABLE_BLOCK);
        for (sum, out) in sums.iter().zip(out.chunks_exact_mut(plane)) {
            let mut values = [0.0f32; PORTABLE_BLOCK];
            // SAFETY: `values` holds 8 values.
            unsafe {
                vst1q_f32(values.as_mut_ptr(), sum[0]);
                vst1q_f32(values.as_mut_ptr().add(4), sum[1]);
            }
            store_runs(&values, runs, self.relu, out);
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
    #[cfg(target_arch = "x86_64")]
    const AVX2_OUTPUTS: usize = 4 * PORTABLE_BLOCK;

    /// Outputs `q..q + n` (n <= 32) of the plane: 4 vectors of 8 sums, the lanes past `n`
    /// masked off in every load, each vector stored run by run.
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA. Reads stay in `source` and writes in `out` (as the
    /// AVX-512 kernel's).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn outputs_avx2(&self, q: usize, n: usize, out: &mut [f32]) {
        use std::arch::x86_64::*;
        debug_assert!(q + n <= self.len && q.is_multiple_of(PORTABLE_BLOCK));
        let masks = [0, 1, 2, 3].map(|v| avx2_mask(n.saturating_sub(8 * v)));
        let mut sums = [_mm256_set1_ps(self.bias); 4];
        let base = self.source.as_ptr().wrapping_add(q);
        for (offset, w) in self.taps.iter().zip(self.weights) {
            let p = base.wrapping_add(*offset);
            let w = _mm256_set1_ps(*w);
            for (v, (s, mask)) in sums.iter_mut().zip(masks).enumerate() {
                // SAFETY: masked lanes are not read; valid lanes are in bounds.
                let x = unsafe { _mm256_maskload_ps(p.wrapping_add(8 * v), mask) };
                *s = _mm256_fmadd_ps(w, x, *s);
            }
        }
        for (v, s) in sums.iter().enumerate() {
            if 8 * v >= n {
                break;
            }
            let mut values = [0.0f32; PORTABLE_BLOCK];
            // SAFETY: `values` holds 8 values.
            unsafe { _mm256_storeu_ps(values.as_mut_ptr(), *s) };
            store_runs(
                &values,
                self.stores.runs(q / PORTABLE_BLOCK + v),
                self.relu,
                out,
            );
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    /// Outputs `q..q + n` (n <= [`PORTABLE_BLOCK`]) of the plane.
    #[inline(always)]
    fn outputs_portable(&self, q: usize, n: usize, out: &mut [f32]) {
        let mut sums = [self.bias; PORTABLE_BLOCK];
        for (offset, w) in self.taps.iter().zip(self.weights) {
            let x = load_block(&self.source[q + offset..][..n]);
            for (s, x) in sums.iter_mut().zip(&x) {
                *s = multiply_add(*w, *x, *s);
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let bias = [0.0f32; 8];
        let weights = vec![0.0f32; 8 * 2 * 9];
        let make = |output: [usize; 3], c_out_weights: usize| {
            FlatConvPlan::new(
                [1, 2, 5, 5],
                output,
                [3, 3],
                [0; 4],
                &weights[..c_out_weights * 18],
                &bias[..output[0].min(8)],
                false,
                Isa::Portable,
            )
        };
        assert!(make([8, 3, 3], 8).is_ok());
        assert!(matches!(
            make([8, 4, 3], 8),
            Err(KernelError::Geometry { .. })
        ));
        assert!(matches!(
            make([6, 3, 3], 6),
            Err(KernelError::Geometry { .. })
        ));
        assert!(matches!(
            make([8, 3, 3], 7),
            Err(KernelError::Length {
                slice: "weights",
                ..
            })
        ));
        let unavailable = Isa::ALL.into_iter().find(|isa| !isa.is_available());
        if let Some(isa) = unavailable {
            let plan = FlatConvPlan::new(
                [1, 2, 5, 5],
                [8, 3, 3],
                [3, 3],
                [0; 4],
                &weights,
                &bias,
                false,
                isa,
            );
            assert_eq!(
                plan,
                Err(KernelError::IsaUnavailable {
                    kernel: KERNEL,
                    isa
                })
            );
            // A run with the wrong lengths is refused, and writes nothing.
            let plan = make([8, 3, 3], 8).unwrap_or_else(|e| unreachable!("{e}"));
            let mut out = vec![7.0f32; 8 * 9 - 1];
            assert!(matches!(
                plan.run(&[0.0; 50], &mut out),
                Err(KernelError::Length {
                    slice: "output",
                    ..
                })
            ));
            assert!(out.iter().all(|v| *v == 7.0));
        }
    }
}
