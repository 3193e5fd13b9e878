//! MFCCs: the orthonormal DCT-II of the dB log-mel frame, as `librosa.feature.mfcc` (which calls
//! `scipy.fft.dct(type=2, norm="ortho")` and keeps the first `n_mfcc` coefficients, no lifter).

//!
//! The products are f32 (8 lanes at a time, see [`crate::kernels::dot`]) except c0, the scaled
//! sum of the frame, the largest coefficient (~-800 for a quiet frame), which is summed in f64.

use std::f64::consts::PI;

use crate::kernels::{dot, sum_f64};

/// A DCT-II matrix truncated to its first `n_out` rows, built once (in f64, stored as f32).
#[derive(Clone, Debug)]
pub struct Dct2 {
    n_in: usize,
    /// Row-major [n_out, n_in].
    basis: Vec<f32>,
}

impl Dct2 {
    /// `y[k] = s_k * sum_n x[n] cos(pi k (2n + 1) / (2 n_in))`, `s_0 = sqrt(1/n_in)`,
    /// `s_k = sqrt(2/n_in)`: the orthonormal scaling, so the full transform preserves energy.
    pub fn new(n_in: usize, n_out: usize) -> Self {
        let n = n_in as f64;
        let basis = (0..n_out)
            .flat_map(|k| {
                let scale = if k == 0 {
                    (1.0 / n).sqrt()
                } else {
                    (2.0 / n).sqrt()
                };
                (0..n_in).map(move |i| {
                    (scale * (PI * k as f64 * (2 * i + 1) as f64 / (2.0 * n)).cos()) as f32
                })
            })
            .collect();
        Dct2 { n_in, basis }
    }

    pub fn apply(&self, input: &[f32], output: &mut [f32]) {
        let rows = self.basis.chunks_exact(self.n_in);
        for (k, (out, row)) in output.iter_mut().zip(rows).enumerate() {
            *out = if k == 0 {
                ((1.0 / self.n_in as f64).sqrt() * sum_f64(&input[..self.n_in])) as f32
            } else {
                dot(row, input)
            };
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
            let back: f32 = (0..n).map(|k| dct.basis[k * n + i] * y[k]).sum();
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
