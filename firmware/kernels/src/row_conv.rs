//! A direct 2-D f32 convolution run row by row, for layers with few taps per output (the first
//! layer of a grayscale model, depthwise convolutions up to 3x3, strided ones included).
//!
//! Each output row is the bias plus, tap by tap, the weight times a contiguous slice of an
//! input row (stride 1) or a strided one: loops the compiler vectorizes, over an output plane
//! that stays in L1. Zero padding is the taps skipped outside the input. Each tap is a pass over
//! the output plane, so the cost grows with the taps per output (C_in/group·kh·kw); sentio-infer
//! gives it the convolutions with at most 9.
//!
//! Implementations: AVX-512 and AVX2+FMA run the portable loops compiled for AVX2 + FMA (fused
//! multiply-adds, 8 lanes); NEON and portable run them for the target's baseline, with fused
//! multiply-adds where the baseline has them (aarch64; on x86_64 a fused multiply-add without
//! FMA would be a library call, so the portable copy there multiplies and adds). Where it
//! stands against tract and onnxruntime: docs/benchmarks.md (the inference section;
//! `sentio bench MODEL --profile` times each node).

use std::hash::{Hash, Hasher};

use crate::util::{check_isa, check_len, hash_bits, same_bits, volume};
use crate::window::span;
use crate::{Isa, KernelError};

const KERNEL: &str = "row_conv";

/// The shape of one convolution. A 1-D convolution is a 2-D one over a single row (H = OH =
/// kh = 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RowConvGeometry {
    /// [N, C_in, H, W].
    pub input: [usize; 4],
    /// [C_out, OH, OW]: the output is [N, C_out, OH, OW].
    pub output: [usize; 3],
    /// [kh, kw].
    pub kernel: [usize; 2],
    pub strides: [usize; 2],
    /// Zero padding before the first row and column (the padding after is what the output
    /// reaches past the input).
    pub pad_before: [usize; 2],
    /// Channel groups: C_in and C_out are multiples of it (C_in for a depthwise convolution).
    pub group: usize,
}

/// A convolution made once for one geometry, its weights and bias, and an instruction set.
///
/// Contract of [`RowConvPlan::run`], shared by every implementation: `input` is
/// [N, C_in, H, W] and `output` [N, C_out, OH, OW], both row-major (else
/// [`KernelError::Length`], nothing written); every output value is written (the output need
/// not be initialized), as the bias plus the sum over the window's taps inside the input of
/// weight times input ([`crate::reference::conv`]), summed tap by tap in the order of the
/// weights (input channel, row, column), fused or not as the implementation says above.
#[derive(Clone)]
pub struct RowConvPlan {
    geometry: RowConvGeometry,
    /// [C_out, C_in / group, kh, kw].
    weights: Vec<f32>,
    /// [C_out].
    bias: Vec<f32>,
    isa: Isa,
}

impl RowConvPlan {
    /// The plan for `geometry` with `weights` `[C_out, C_in / group, kh, kw]` and `bias`
    /// `[C_out]` (both copied), run with `isa`; refused when a size, kernel, stride or the group
    /// is 0, the group does not divide both channel counts, a volume overflows, the weights or
    /// the bias have another length, or this CPU cannot run `isa`.
    pub fn new(
        geometry: RowConvGeometry,
        weights: &[f32],
        bias: &[f32],
        isa: Isa,
    ) -> Result<Self, KernelError> {
        let RowConvGeometry {
            input: [n, c_in, h, w],
            output: [c_out, oh, ow],
            kernel: [kh, kw],
            group,
            pad_before,
            ..
        } = geometry;
        volume(KERNEL, "input", &geometry.input)?;
        volume(KERNEL, "output", &[n, c_out, oh, ow])?;
        volume(KERNEL, "strides", &geometry.strides)?;
        if group == 0 || !c_in.is_multiple_of(group) || !c_out.is_multiple_of(group) {
            return Err(KernelError::Geometry {
                kernel: KERNEL,
                reason: format!(
                    "group {group} does not divide {c_in} input and {c_out} output channels"
                ),
            });
        }
        if h.checked_add(pad_before[0]).is_none() || w.checked_add(pad_before[1]).is_none() {
            return Err(KernelError::Geometry {
                kernel: KERNEL,
                reason: format!("padding {pad_before:?} overflows"),
            });
        }
        let taps = volume(KERNEL, "weights", &[c_out, c_in / group, kh, kw])?;
        check_len(KERNEL, "weights", taps, weights.len())?;
        check_len(KERNEL, "bias", c_out, bias.len())?;
        Ok(Self {
            geometry,
            weights: weights.to_vec(),
            bias: bias.to_vec(),
            isa: check_isa(KERNEL, isa)?,
        })
    }

    pub fn geometry(&self) -> &RowConvGeometry {
        &self.geometry
    }

    /// The instruction set the plan runs with.
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// Which loops run: for reports (`sentio bench --profile`).
    pub fn implementation(&self) -> &'static str {
        match self.isa {
            Isa::Avx512 | Isa::Avx2Fma => "avx2+fma row conv",
            Isa::Neon => "portable row conv (neon baseline)",
            Isa::Portable => "portable row conv",
        }
    }

    /// Values of the input, N·C_in·H·W.
    pub fn input_len(&self) -> usize {
        self.geometry.input.iter().product()
    }

    /// Values of the output, N·C_out·OH·OW.
    pub fn output_len(&self) -> usize {
        self.geometry.input[0] * self.geometry.output.iter().product::<usize>()
    }

    /// Convolves `input` into `output` (the contract is on [`RowConvPlan`]).
    pub fn run(&self, input: &[f32], output: &mut [f32]) -> Result<(), KernelError> {
        check_len(KERNEL, "input", self.input_len(), input.len())?;
        check_len(KERNEL, "output", self.output_len(), output.len())?;
        // A fused multiply-add is one instruction on aarch64, a library call on an x86_64
        // without FMA.
        const BASELINE_FMA: bool = cfg!(any(target_arch = "aarch64", target_feature = "fma"));
        match self.isa {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `new` refuses an instruction set this CPU lacks.
            Isa::Avx512 | Isa::Avx2Fma => unsafe { self.run_avx2_fma(input, output) },
            Isa::Neon | Isa::Portable => self.run_portable::<BASELINE_FMA>(input, output),
            // (never: `new` refuses an instruction set this CPU lacks)
            #[cfg(not(target_arch = "x86_64"))]
            Isa::Avx512 | Isa::Avx2Fma => self.run_portable::<BASELINE_FMA>(input, output),
        }
        Ok(())
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn run_avx2_fma(&self, input: &[f32], output: &mut [f32]) {
        self.run_portable::<true>(input, output);
    }

    #[inline(always)]
    fn run_portable<const FMA: bool>(&self, input: &[f32], output: &mut [f32]) {
        let [_, c_in, h, w] = self.geometry.input;
        let [c_out, oh, ow] = self.geometry.output;
        let [kh, kw] = self.geometry.kernel;
        let [sh, sw] = self.geometry.strides;
        let [pt, pl] = self.geometry.pad_before;
        let in_per_group = c_in / self.geometry.group;
        let out_per_group = c_out / self.geometry.group;
        let images = input
            .chunks_exact(c_in * h * w)
            .zip(output.chunks_exact_mut(c_out * oh * ow));
        for (image, out_image) in images {
            let out_planes = out_image.chunks_exact_mut(oh * ow);
            let filters = self.weights.chunks_exact(in_per_group * kh * kw);
            for (co, ((out_plane, taps), b)) in out_planes.zip(filters).zip(&self.bias).enumerate()
            {
                out_plane.fill(*b);
                let group_input = &image[co / out_per_group * in_per_group * h * w..];
                for (ci, plane) in group_input
                    .chunks_exact(h * w)
                    .take(in_per_group)
                    .enumerate()
                {
                    for ky in 0..kh {
                        let ys = span(h, oh, ky, sh, pt);
                        for kx in 0..kw {
                            let xs = span(w, ow, kx, sw, pl);
                            if xs.is_empty() {
                                continue;
                            }
                            let weight = taps[(ci * kh + ky) * kw + kx];
                            for oy in ys.clone() {
                                let row = &plane[(oy * sh + ky - pt) * w..][..w];
                                let first = xs.start * sw + kx - pl;
                                let outs = &mut out_plane[oy * ow..][xs.clone()];
                                if sw == 1 {
                                    for (o, v) in outs.iter_mut().zip(&row[first..]) {
                                        *o = madd::<FMA>(weight, *v, *o);
                                    }
                                } else {
                                    let taps = row[first..].iter().step_by(sw);
                                    for (o, v) in outs.iter_mut().zip(taps) {
                                        *o = madd::<FMA>(weight, *v, *o);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `w * v + o`, fused when `FMA`.
#[inline(always)]
fn madd<const FMA: bool>(w: f32, v: f32, o: f32) -> f32 {
    if FMA { w.mul_add(v, o) } else { o + w * v }
}

/// Bits of the weights and bias, so two plans are equal (and hash alike) when they compute the
/// same function bit for bit (a NaN weight equals itself).
impl PartialEq for RowConvPlan {
    fn eq(&self, other: &Self) -> bool {
        self.geometry == other.geometry
            && self.isa == other.isa
            && same_bits(&self.weights, &other.weights)
            && same_bits(&self.bias, &other.bias)
    }
}

impl Eq for RowConvPlan {}

impl Hash for RowConvPlan {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.geometry.hash(state);
        self.isa.hash(state);
        hash_bits(&self.weights, state);
        hash_bits(&self.bias, state);
    }
}

/// The geometry and instruction set (the weights are not printed).
impl std::fmt::Debug for RowConvPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowConvPlan")
            .field("geometry", &self.geometry)
            .field("weights", &format_args!("[{} f32]", self.weights.len()))
            .field("bias", &format_args!("[{} f32]", self.bias.len()))
            .field("isa", &self.isa)
            .finish()
    }
}
