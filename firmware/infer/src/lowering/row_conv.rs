//! A direct 2-D f32 convolution for layers with few taps per output (at most 9 input values per
//! output: the first layer of a grayscale model, and depthwise convolutions up to 3x3) that
//! [`super::flat_conv`] does not take (strided ones, or fewer than 8 output channels), which
//! replaces tract's `Conv` before tract optimizes the plan.
//!
//! A first layer is a matrix product with k = 4 or 9. tract 0.23.9 lowers it to a lazy im2col
//! feeding a 40x2 matmul kernel that gathers a handful of values per two output columns:
//! 0.6-0.9 ms for the emoji CNN's 2x2 conv of 16 channels on 64x64, where onnxruntime takes
//! 0.04 ms. Here each output row is the bias plus, tap by tap, the weight times a contiguous
//! slice of an input row (stride 1) or a strided one: loops the compiler vectorizes, over an
//! output plane that stays in L1. Zero padding is the taps skipped outside the input. On x86_64
//! the loops are compiled a second time for AVX2 + FMA and that copy runs when the CPU has them
//! (the crate's baseline is SSE2).

use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::cnn::Conv;

use super::{ConvGeometry, eval_f32, planned_shape, replace_nodes, span};

/// Convolutions with at most this many taps per output (C_in/group·kh·kw) run as [`RowConv`].
pub const MAX_TAPS: usize = 9;

/// One convolution (its geometry and weights, fixed at plan time) run row by row.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RowConv(ConvGeometry);

impl RowConv {
    /// The replacement for `conv` (a node of a decluttered model with inputs `input`, its
    /// kernel and its bias), when it is a plain f32 NCHW 2-D convolution without dilation, at
    /// most [`MAX_TAPS`] taps per output, with constant weights over a known input shape.
    pub fn for_op(conv: &Conv, facts: &[&TypedFact]) -> Option<Self> {
        let g = ConvGeometry::of(conv, facts)?;
        let [_, c_in, _, _] = g.input;
        let [kh, kw] = g.kernel;
        if !g.two_d || c_in / g.group * kh * kw > MAX_TAPS {
            return None;
        }
        Some(Self(g))
    }

    /// The input shape in the plan's layout.
    fn input_shape(&self) -> TVec<usize> {
        let [n, c, h, w] = self.0.input;
        planned_shape(self.0.batch_axis, n, c, &[h, w])
    }

    /// The output shape in the plan's layout.
    fn output_shape(&self) -> TVec<usize> {
        let [c, h, w] = self.0.output;
        planned_shape(self.0.batch_axis, self.0.input[0], c, &[h, w])
    }

    /// Convolves `input` into `output` (both row-major, shapes from `self`), with the AVX2 +
    /// FMA copy of the loops when the CPU has them.
    fn convolve(&self, input: &[f32], weights: &[f32], bias: &[f32], output: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has the features the function is compiled for (checked above).
            unsafe { self.convolve_avx2_fma(input, weights, bias, output) };
            return;
        }
        // A fused multiply-add is one instruction on aarch64, a library call on an x86_64
        // without FMA.
        const HAS_FMA: bool = cfg!(any(target_arch = "aarch64", target_feature = "fma"));
        self.convolve_portable::<HAS_FMA>(input, weights, bias, output);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn convolve_avx2_fma(&self, input: &[f32], weights: &[f32], bias: &[f32], output: &mut [f32]) {
        self.convolve_portable::<true>(input, weights, bias, output);
    }

    #[inline(always)]
    fn convolve_portable<const FMA: bool>(
        &self,
        input: &[f32],
        weights: &[f32],
        bias: &[f32],
        output: &mut [f32],
    ) {
        let [_, c_in, h, w] = self.0.input;
        let [c_out, oh, ow] = self.0.output;
        let [kh, kw] = self.0.kernel;
        let [sh, sw] = self.0.strides;
        let [pt, pl] = self.0.pad_before;
        let in_per_group = c_in / self.0.group;
        let out_per_group = c_out / self.0.group;
        let images = input
            .chunks_exact(c_in * h * w)
            .zip(output.chunks_exact_mut(c_out * oh * ow));
        for (image, out_image) in images {
            let out_planes = out_image.chunks_exact_mut(oh * ow);
            let filters = weights.chunks_exact(in_per_group * kh * kw);
            for (co, ((out_plane, taps), b)) in out_planes.zip(filters).zip(bias).enumerate() {
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

impl Op for RowConv {
    fn name(&self) -> StaticName {
        "SentioRowConv".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!(
            "kernel {:?} strides {:?} pad_before {:?}: {:?} -> {:?}",
            self.0.kernel, self.0.strides, self.0.pad_before, self.0.input, self.0.output
        )])
    }

    op_as_typed_op!();
}

impl EvalOp for RowConv {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let weights = self.0.weights.try_as_plain_ram()?;
        let bias = self.0.bias.try_as_plain_ram()?;
        eval_f32(
            "SentioRowConv",
            args_1!(inputs),
            &self.input_shape(),
            &self.output_shape(),
            |input, output| {
                self.convolve(
                    input,
                    weights.as_slice::<f32>()?,
                    bias.as_slice::<f32>()?,
                    output,
                );
                Ok(())
            },
        )
    }
}

impl TypedOp for RowConv {
    fn output_facts(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(f32::fact(self.output_shape())))
    }

    as_op!();
}

/// Replaces every `Conv` of the decluttered `model` that [`RowConv::for_op`] takes; returns
/// their names.
pub fn replace_convs(model: &mut TypedModel) -> TractResult<Vec<String>> {
    replace_nodes(model, RowConv::for_op)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::lowering::reference;

    #[test]
    fn row_conv_equals_the_definition_for_kernels_strides_and_padding() {
        // (n, c_in, h, w, c_out, group, kernel, strides, pad_before, output hw)
        let cases = [
            (1, 1, 64, 64, 16, 1, [2, 2], [1, 1], [0, 0], [63, 63]),
            (1, 1, 48, 48, 16, 1, [3, 3], [1, 1], [1, 1], [48, 48]),
            (2, 2, 9, 11, 3, 1, [2, 2], [2, 2], [1, 0], [5, 5]),
            (1, 1, 5, 7, 4, 1, [3, 1], [1, 2], [1, 0], [5, 4]),
            // Depthwise 3x3, and two groups of two channels with two outputs each.
            (1, 8, 12, 12, 8, 8, [3, 3], [1, 1], [1, 1], [12, 12]),
            (1, 4, 6, 6, 4, 2, [2, 2], [1, 1], [0, 0], [5, 5]),
        ];
        for (n, c_in, h, w, c_out, group, kernel, strides, pad_before, [oh, ow]) in cases {
            let taps = c_out * c_in / group * kernel[0] * kernel[1];
            let weights: Vec<f32> = (0..taps)
                .map(|i| ((i * 37) % 17) as f32 / 8.0 - 1.0)
                .collect();
            let bias: Vec<f32> = (0..c_out).map(|i| i as f32 * 0.25 - 0.5).collect();
            // (pad_after: what the last output's window reaches past the input)
            let pad_after = [0, 1].map(|i| {
                let reach: usize = ([oh, ow][i] - 1) * strides[i] + kernel[i];
                reach.saturating_sub([h, w][i] + pad_before[i])
            });
            let conv = RowConv(ConvGeometry {
                input: [n, c_in, h, w],
                batch_axis: true,
                two_d: true,
                output: [c_out, oh, ow],
                kernel,
                strides,
                pad_before,
                pad_after,
                group,
                weights: Arc::new(
                    Tensor::from_shape(&[c_out, c_in / group, kernel[0], kernel[1]], &weights)
                        .unwrap(),
                ),
                bias: Arc::new(Tensor::from_shape(&[c_out], &bias).unwrap()),
            });
            let input: Vec<f32> = (0..n * c_in * h * w)
                .map(|i| ((i * 7919) % 1009) as f32 / 500.0 - 1.0)
                .collect();
            let mut out = vec![f32::NAN; n * c_out * oh * ow];
            conv.convolve(&input, &weights, &bias, &mut out);
            let expected = reference::conv(
                &input,
                conv.0.input,
                &weights,
                &bias,
                conv.0.output,
                conv.0.kernel,
                conv.0.strides,
                conv.0.pad_before,
                conv.0.group,
            );
            let worst = out
                .iter()
                .zip(&expected)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(worst < 1e-5, "{h}x{w} {kernel:?}/{strides:?}: {worst}");
        }
    }
}
