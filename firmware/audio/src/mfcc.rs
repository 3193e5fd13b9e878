//! MFCCs: the orthonormal DCT-II of the dB log-mel frame, as `librosa.feature.mfcc` (which calls
//! `scipy.fft.dct(type=2, norm="ortho")` and keeps the first `n_mfcc` coefficients, no lifter).
//!
//! The products are f32, laid out so the loop is a vectorizable `y += x[n] * column_n` over the
//! outputs (no horizontal sums), except c0, the scaled sum of the frame and the largest
//! coefficient (~-800 for a quiet frame), which is summed in f64.

use std::f64::consts::PI;

use crate::kernels::sum_f64;

/// A DCT-II matrix truncated to its first `n_out` rows, built once (in f64, stored as f32).
#[derive(Clone, Debug)]
pub struct Dct2 {
    n_in: usize,
    n_out: usize,
    /// Column-major: [n_in, n_out], entry (n, k) = basis function k at input n.
    basis_t: Vec<f32>,
}

impl Dct2 {
    /// `y[k] = s_k * sum_n x[n] cos(pi k (2n + 1) / (2 n_in))`, `s_0 = sqrt(1/n_in)`,
    /// `s_k = sqrt(2/n_in)`: the orthonormal scaling, so the full transform preserves energy.
    pub fn new(n_in: usize, n_out: usize) -> Self {
        let n = n_in as f64;
        let basis_t = (0..n_in)
            .flat_map(|i| {
                (0..n_out).map(move |k| {
                    let scale = if k == 0 {
                        (1.0 / n).sqrt()
                    } else {
                        (2.0 / n).sqrt()
                    };
                    (scale * (PI * k as f64 * (2 * i + 1) as f64 / (2.0 * n)).cos()) as f32
                })
            })
            .collect();
        Dct2 {
            n_in,
            n_out,
            basis_t,
        }
    }

    /// The first `n_out` coefficients of `input` (`n_in` values) into `output` (`n_out` values).
    #[inline(always)]
    pub fn apply(&self, input: &[f32], output: &mut [f32]) {
        let output = &mut output[..self.n_out];
        output.fill(0.0);
        for (&x, column) in input.iter().zip(self.basis_t.chunks_exact(self.n_out)) {
            for (y, &b) in output.iter_mut().zip(column) {
                *y += x * b;
            }
        }
        if let Some(c0) = output.first_mut() {
            *c0 = ((1.0 / self.n_in as f64).sqrt() * sum_f64(&input[..self.n_in])) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_orthonormal_dct_preserves_energy_and_inverts_by_transpose() {
        let n = 16;
        let x: Vec<f32> = (0..n).map(|i| ((i * 7) % 5) as f32 - 1.5).collect();
        let dct = Dct2::new(n, n);
        let mut y = vec![0.0; n];
        dct.apply(&x, &mut y);
        let energy = |v: &[f32]| v.iter().map(|&a| f64::from(a * a)).sum::<f64>();
        assert!((energy(&x) - energy(&y)).abs() < 1e-5);
        // Orthonormal: x = B^T y.
        for (i, &xi) in x.iter().enumerate() {
            let back: f32 = (0..n).map(|k| dct.basis_t[i * n + k] * y[k]).sum();
            assert!((back - xi).abs() < 1e-5);
        }
    }

    #[test]
    fn a_constant_frame_has_only_a_c0_coefficient() {
        // The silence case: every log-mel value at the floor gives c0 = floor * sqrt(n), rest 0.
        let dct = Dct2::new(40, 13);
        let mut y = vec![0.0; 13];
        dct.apply(&[-80.0; 40], &mut y);
        assert!((y[0] + 80.0 * 40f32.sqrt()).abs() < 1e-4);
        assert!(y[1..].iter().all(|c| c.abs() < 1e-4), "{y:?}");
    }
}
