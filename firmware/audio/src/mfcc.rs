//! MFCCs: the orthonormal DCT-II of the dB log-mel frame, as `librosa.feature.mfcc` (which calls
//! `scipy.fft.dct(type=2, norm="ortho")` and keeps the first `n_mfcc` coefficients, no lifter).

use std::f64::consts::PI;

/// A DCT-II matrix truncated to its first `n_out` rows, built once.
#[derive(Clone, Debug)]
pub struct Dct2 {
    n_in: usize,
    /// Row-major [n_out, n_in].
    basis: Vec<f64>,
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
                (0..n_in)
                    .map(move |i| scale * (PI * k as f64 * (2 * i + 1) as f64 / (2.0 * n)).cos())
            })
            .collect();
        Dct2 { n_in, basis }
    }

    pub fn apply(&self, input: &[f64], output: &mut [f64]) {
        for (out, row) in output.iter_mut().zip(self.basis.chunks_exact(self.n_in)) {
            *out = row.iter().zip(input).map(|(b, x)| b * x).sum();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_orthonormal_dct_preserves_energy_and_inverts_by_transpose() {
        let n = 16;
        let x: Vec<f64> = (0..n).map(|i| ((i * 7) % 5) as f64 - 1.5).collect();
        let dct = Dct2::new(n, n);
        let mut y = vec![0.0; n];
        dct.apply(&x, &mut y);
        let energy = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>();
        assert!((energy(&x) - energy(&y)).abs() < 1e-9);
        // Orthonormal: x = B^T y.
        for (i, &xi) in x.iter().enumerate() {
            let back: f64 = (0..n).map(|k| dct.basis[k * n + i] * y[k]).sum();
            assert!((back - xi).abs() < 1e-12);
        }
    }

    #[test]
    fn a_constant_frame_has_only_a_c0_coefficient() {
        // The silence case: every log-mel value at the floor gives c0 = floor * sqrt(n), rest 0.
        let dct = Dct2::new(40, 13);
        let mut y = vec![0.0; 13];
        dct.apply(&[-80.0; 40], &mut y);
        assert!((y[0] + 80.0 * 40f64.sqrt()).abs() < 1e-9);
        assert!(y[1..].iter().all(|c| c.abs() < 1e-9), "{y:?}");
    }
}
