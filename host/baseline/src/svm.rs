//! A multiclass linear SVM: one-vs-rest, each class an L2-regularized squared-hinge (L2-loss)
//! SVM solved in the dual by coordinate descent (Hsieh et al., ICML 2008; LIBLINEAR's default
//! solver, which scikit-learn's `LinearSVC` wraps). The bias is an extra constant feature 1
//! (regularized, as in LIBLINEAR).

use sentio_data::rng::{Rng, derive_seed};
use serde::{Deserialize, Serialize};

use crate::BaselineError;
use crate::models::Train;

/// Hyper-parameters of the linear SVM.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SvmOptions {
    /// Inverse regularization strength (LIBLINEAR's and scikit-learn's `C`).
    pub c: f64,
    /// Stop when the projected gradient's spread (max - min over an epoch) is below this
    /// (LIBLINEAR's `eps`, default 0.1).
    pub tolerance: f64,
    /// Passes over the data at most, per class.
    pub max_epochs: usize,
}

impl Default for SvmOptions {
    fn default() -> Self {
        SvmOptions {
            c: 0.1,
            tolerance: 0.1,
            max_epochs: 1000,
        }
    }
}

impl SvmOptions {
    pub(crate) fn check(&self) -> Result<(), BaselineError> {
        if !(self.c > 0.0 && self.c.is_finite()) {
            return Err(BaselineError::bad_option(
                "svm.c",
                self.c,
                "must be above 0",
            ));
        }
        if !(self.tolerance > 0.0 && self.tolerance.is_finite()) {
            return Err(BaselineError::bad_option(
                "svm.tolerance",
                self.tolerance,
                "must be above 0",
            ));
        }
        if self.max_epochs == 0 {
            return Err(BaselineError::bad_option(
                "svm.max_epochs",
                self.max_epochs,
                "must be at least 1",
            ));
        }
        Ok(())
    }
}

/// One weight vector (features then bias) per class.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LinearSvm {
    d: usize,
    w: Vec<Vec<f64>>,
    /// Classes whose solver stopped at `max_epochs` before reaching the tolerance.
    pub(crate) unconverged: usize,
}

impl LinearSvm {
    /// The decision value of each class.
    pub(crate) fn decision(&self, x: &[f32]) -> Vec<f64> {
        self.w
            .iter()
            .map(|w| dot(&w[..self.d], x) + w[self.d])
            .collect()
    }
}

fn dot(w: &[f64], x: &[f32]) -> f64 {
    w.iter().zip(x).map(|(w, &x)| w * f64::from(x)).sum()
}

/// Fit one-vs-rest. Class `c`'s solver visits the samples in an order drawn from
/// `derive_seed(seed, [c])`.
pub(crate) fn fit(
    train: &Train,
    options: &SvmOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> LinearSvm {
    let Train {
        x,
        d,
        y,
        classes,
        seed,
        threads,
        ..
    } = *train;
    let sq_norms: Vec<f64> = x
        .chunks(d)
        .map(|r| r.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() + 1.0)
        .collect();
    let mut w = Vec::with_capacity(classes);
    let mut unconverged = 0;
    // Classes in batches of `threads`, so progress is reported as they finish.
    let mut done = 0;
    while done < classes {
        let batch = threads.min(classes - done);
        let fitted = crate::par::map(batch, threads, |j| {
            let class = done + j;
            binary(
                x,
                d,
                &sq_norms,
                y,
                class,
                options,
                derive_seed(seed, &[class as u64]),
            )
        });
        for (wc, converged) in fitted {
            w.push(wc);
            unconverged += usize::from(!converged);
        }
        done += batch;
        progress(done, classes);
    }
    LinearSvm { d, w, unconverged }
}

/// Dual coordinate descent for class `class` against the rest; returns the weights (bias last)
/// and whether the tolerance was reached.
fn binary(
    x: &[f32],
    d: usize,
    sq_norms: &[f64],
    y: &[usize],
    class: usize,
    options: &SvmOptions,
    seed: u64,
) -> (Vec<f64>, bool) {
    let n = y.len();
    let diag = 1.0 / (2.0 * options.c);
    let mut w = vec![0.0f64; d + 1];
    let mut alpha = vec![0.0f64; n];
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = Rng::new(seed);
    for _ in 0..options.max_epochs {
        rng.shuffle(&mut order);
        let (mut pg_max, mut pg_min) = (f64::NEG_INFINITY, f64::INFINITY);
        for &i in &order {
            let row = &x[i * d..(i + 1) * d];
            let yi = if y[i] == class { 1.0 } else { -1.0 };
            let g = yi * (dot(&w[..d], row) + w[d]) - 1.0 + diag * alpha[i];
            let pg = if alpha[i] == 0.0 { g.min(0.0) } else { g };
            pg_max = pg_max.max(pg);
            pg_min = pg_min.min(pg);
            if pg != 0.0 {
                let old = alpha[i];
                alpha[i] = (old - g / (sq_norms[i] + diag)).max(0.0);
                let step = (alpha[i] - old) * yi;
                for (wj, &xj) in w[..d].iter_mut().zip(row) {
                    *wj += step * f64::from(xj);
                }
                w[d] += step;
            }
        }
        if pg_max - pg_min <= options.tolerance {
            return (w, true);
        }
    }
    (w, false)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn separates_a_line() {
        // Class 1 iff x0 + x1 > 0, with a margin.
        let mut rng = Rng::new(3);
        let mut x = Vec::new();
        let mut y = Vec::new();
        while y.len() < 200 {
            let (a, b) = (rng.unit() * 4.0 - 2.0, rng.unit() * 4.0 - 2.0);
            if (a + b).abs() < 0.2 {
                continue;
            }
            x.extend([a, b]);
            y.push(usize::from(a + b > 0.0));
        }
        let options = SvmOptions {
            c: 10.0,
            ..SvmOptions::default()
        };
        let train = Train {
            x: &x,
            d: 2,
            y: &y,
            classes: 2,
            seed: 1,
            threads: 2,
        };
        let svm = fit(&train, &options, &mut |_, _| {});
        assert_eq!(svm.unconverged, 0);
        let correct = (0..200)
            .filter(|&i| {
                let s = svm.decision(&x[i * 2..i * 2 + 2]);
                usize::from(s[1] > s[0]) == y[i]
            })
            .count();
        assert_eq!(correct, 200);
        // The class-1 weights point along (1, 1).
        let w = &svm.w[1];
        assert!(
            w[0] > 0.0 && w[1] > 0.0 && (w[0] / w[1] - 1.0).abs() < 0.3,
            "{w:?}"
        );
    }
}
