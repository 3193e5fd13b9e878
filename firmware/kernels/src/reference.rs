//! The kernels' definitions, one output at a time with no cleverness: what the property tests
//! hold every implementation to (and sentio-infer's tests, the ops built on the kernels).

/// The 2-D convolution by definition: `input` [N, C_in, H, W], `weights`
/// [C_out, C_in / group, kh, kw], `bias` [C_out], zero padding before `pad_before` (and after
/// as far as the output reaches); returns [N, C_out, OH, OW].
#[allow(clippy::too_many_arguments)]
pub fn conv(
    input: &[f32],
    [n, c_in, h, w]: [usize; 4],
    weights: &[f32],
    bias: &[f32],
    [c_out, oh, ow]: [usize; 3],
    [kh, kw]: [usize; 2],
    strides: [usize; 2],
    pad_before: [usize; 2],
    group: usize,
) -> Vec<f32> {
    let (in_per_group, out_per_group) = (c_in / group, c_out / group);
    let mut out = Vec::with_capacity(n * c_out * oh * ow);
    for img in 0..n {
        for co in 0..c_out {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = bias[co];
                    for cg in 0..in_per_group {
                        let ci = co / out_per_group * in_per_group + cg;
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let iy = (oy * strides[0] + ky) as isize - pad_before[0] as isize;
                                let ix = (ox * strides[1] + kx) as isize - pad_before[1] as isize;
                                if (0..h as isize).contains(&iy) && (0..w as isize).contains(&ix) {
                                    let v = input
                                        [((img * c_in + ci) * h + iy as usize) * w + ix as usize];
                                    acc +=
                                        weights[((co * in_per_group + cg) * kh + ky) * kw + kx] * v;
                                }
                            }
                        }
                    }
                    out.push(acc);
                }
            }
        }
    }
    out
}
