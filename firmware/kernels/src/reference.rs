//! The kernels' definitions, one output at a time with no cleverness: what the property tests
//! hold every implementation to (and sentio-infer's tests, the ops built on the kernels).

/// The 2-D convolution by definition: `input` `[N, C_in, H, W]`, `weights`
/// `[C_out, C_in / group, kh, kw]`, `bias` `[C_out]`, zero padding before `pad_before` (and after
/// as far as the output reaches); returns `[N, C_out, OH, OW]`.
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

/// The 2-D max pool by definition: `input` [N, C, H, W]; output [N, C, OH, OW], each value the
/// max of its window's taps inside the input (padded taps are skipped), starting from
/// `f32::MIN`, so a window with no tap inside yields `f32::MIN`; a NaN input never wins.
pub fn max_pool(
    input: &[f32],
    [n, c, h, w]: [usize; 4],
    [oh, ow]: [usize; 2],
    [kh, kw]: [usize; 2],
    strides: [usize; 2],
    pad_before: [usize; 2],
) -> Vec<f32> {
    let mut out = Vec::with_capacity(n * c * oh * ow);
    for plane in 0..n * c {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut m = f32::MIN;
                for ky in 0..kh {
                    for kx in 0..kw {
                        let iy = (oy * strides[0] + ky) as isize - pad_before[0] as isize;
                        let ix = (ox * strides[1] + kx) as isize - pad_before[1] as isize;
                        if (0..h as isize).contains(&iy) && (0..w as isize).contains(&ix) {
                            let v = input[(plane * h + iy as usize) * w + ix as usize];
                            if v > m {
                                m = v;
                            }
                        }
                    }
                }
                out.push(m);
            }
        }
    }
    out
}

/// One step of ONNX's LSTM cell (no peepholes, default activations) for one sequence, by
/// definition in f64: `x` (4H) is `Xt·Wᵀ`, `bias` (4H) `Wb + Rb`, `r` ONNX's recurrent weight R
/// ([4H, H] row-major, gates in ONNX's order i, o, f, c), `h` and `c` (H each) the previous
/// states. Returns the new `(h, c)`:
/// `gates = x + bias + h·Rᵀ`, `Ct = σ(f)·Ct-1 + σ(i)·tanh(g)`, `Ht = σ(o)·tanh(Ct)`.
pub fn lstm_step(x: &[f32], bias: &[f32], r: &[f32], h: &[f32], c: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let hidden = h.len();
    let gate = |j: usize| -> f64 {
        let recurrent: f64 = (0..hidden)
            .map(|k| h[k] as f64 * r[j * hidden + k] as f64)
            .sum();
        x[j] as f64 + bias[j] as f64 + recurrent
    };
    let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
    let (mut h_new, mut c_new) = (Vec::with_capacity(hidden), Vec::with_capacity(hidden));
    for (u, c_prev) in c.iter().enumerate() {
        let i = sigmoid(gate(u));
        let o = sigmoid(gate(hidden + u));
        let f = sigmoid(gate(2 * hidden + u));
        let g = gate(3 * hidden + u).tanh();
        let c_t = f * *c_prev as f64 + i * g;
        c_new.push(c_t as f32);
        h_new.push((o * c_t.tanh()) as f32);
    }
    (h_new, c_new)
}
