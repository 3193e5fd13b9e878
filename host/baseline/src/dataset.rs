//! [`Dataset`] (a checked feature matrix with labels), the [`TrainTest`] split the caller gives,
//! and [`Standardizer`] (fitted on the training part only).

use serde::{Deserialize, Serialize};

use crate::BaselineError;

/// Feature rows with their classes. Built through [`Dataset::new`] or [`Dataset::from_rows`],
/// which check it: at least one sample, every row the same length, every value finite, every
/// class below `labels.len()`.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    x: Vec<f32>,
    n_features: usize,
    y: Vec<usize>,
    labels: Vec<String>,
}

impl Dataset {
    /// A dataset from a row-major matrix `x` of `y.len()` rows of `n_features` values.
    pub fn new(
        x: Vec<f32>,
        n_features: usize,
        y: Vec<usize>,
        labels: Vec<String>,
    ) -> Result<Dataset, BaselineError> {
        if y.is_empty() {
            return Err(BaselineError::Empty {
                what: "the dataset",
            });
        }
        if n_features == 0 {
            return Err(BaselineError::Empty {
                what: "the feature vector",
            });
        }
        if labels.is_empty() {
            return Err(BaselineError::Empty {
                what: "the label list",
            });
        }
        if x.len() != y.len() * n_features {
            return Err(BaselineError::Mismatch {
                what: format!(
                    "feature values for {} samples of {n_features} features",
                    y.len()
                ),
                expected: y.len() * n_features,
                found: x.len(),
            });
        }
        if let Some((row, &class)) = y.iter().enumerate().find(|(_, c)| **c >= labels.len()) {
            return Err(BaselineError::LabelOutOfRange {
                row,
                class,
                classes: labels.len(),
            });
        }
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            return Err(BaselineError::NonFinite {
                row: i / n_features,
                column: i % n_features,
                value: x[i],
            });
        }
        Ok(Dataset {
            x,
            n_features,
            y,
            labels,
        })
    }

    /// A dataset from one `Vec<f32>` per sample (e.g. per-utterance speech features).
    pub fn from_rows(
        rows: Vec<Vec<f32>>,
        y: Vec<usize>,
        labels: Vec<String>,
    ) -> Result<Dataset, BaselineError> {
        if rows.len() != y.len() {
            return Err(BaselineError::Mismatch {
                what: "labels for the feature rows".into(),
                expected: rows.len(),
                found: y.len(),
            });
        }
        let n_features = rows.first().map_or(0, Vec::len);
        if let Some((row, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != n_features) {
            return Err(BaselineError::Mismatch {
                what: format!("features in row {row} (row 0 has {n_features})"),
                expected: n_features,
                found: r.len(),
            });
        }
        Dataset::new(rows.concat(), n_features, y, labels)
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Always false: a dataset has at least one sample.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Features per sample.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Number of classes (`labels().len()`).
    pub fn n_classes(&self) -> usize {
        self.labels.len()
    }

    /// Sample `i`'s features. Panics if `i >= len()`, as slice indexing does.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.n_features..(i + 1) * self.n_features]
    }

    /// The class of every sample.
    pub fn targets(&self) -> &[usize] {
        &self.y
    }

    /// The labels, in class-index order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The row-major feature matrix.
    pub fn matrix(&self) -> &[f32] {
        &self.x
    }
}

/// Which samples train the models and which measure them. Give the test part of
/// `sentio_data::split::stratified` (images) or `by_group` (speech, by speaker); validation
/// samples are not used (the baselines are not tuned on them).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainTest {
    /// Training samples.
    pub train: Vec<usize>,
    /// Test samples.
    pub test: Vec<usize>,
}

impl From<&sentio_data::split::Split> for TrainTest {
    /// The training and test parts (the validation part is left out).
    fn from(split: &sentio_data::split::Split) -> Self {
        TrainTest {
            train: split.train.clone(),
            test: split.test.clone(),
        }
    }
}

impl TrainTest {
    /// Check the split against a dataset of `len` samples: both parts non-empty, every index
    /// in range, no sample in both.
    pub fn check(&self, len: usize) -> Result<(), BaselineError> {
        if self.train.is_empty() {
            return Err(BaselineError::Empty {
                what: "the training part",
            });
        }
        if self.test.is_empty() {
            return Err(BaselineError::Empty {
                what: "the test part",
            });
        }
        let mut in_train = vec![false; len];
        for (part, indices) in [("train", &self.train), ("test", &self.test)] {
            check_indices(part, indices, len)?;
            for &i in indices {
                if part == "train" {
                    in_train[i] = true;
                } else if in_train[i] {
                    return Err(BaselineError::Overlap { index: i });
                }
            }
        }
        Ok(())
    }
}

/// Per-feature mean and standard deviation, fitted on the training rows only and then applied
/// to every row. A constant feature (standard deviation below 1e-12) is only centred.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    /// Mean of each feature.
    pub mean: Vec<f32>,
    /// `1 / standard deviation` of each feature (1 for constant features).
    pub inv_std: Vec<f32>,
}

impl Standardizer {
    /// Fit on the rows `indices` of `data` (at least one, all in range).
    pub fn fit(data: &Dataset, indices: &[usize]) -> Result<Standardizer, BaselineError> {
        if indices.is_empty() {
            return Err(BaselineError::Empty {
                what: "the training part",
            });
        }
        check_indices("train", indices, data.len())?;
        let d = data.n_features();
        let mut sum = vec![0.0f64; d];
        let mut sum_sq = vec![0.0f64; d];
        for &i in indices {
            for (j, &v) in data.row(i).iter().enumerate() {
                sum[j] += f64::from(v);
                sum_sq[j] += f64::from(v) * f64::from(v);
            }
        }
        let n = indices.len().max(1) as f64;
        let mut mean = Vec::with_capacity(d);
        let mut inv_std = Vec::with_capacity(d);
        for j in 0..d {
            let m = sum[j] / n;
            let var = (sum_sq[j] / n - m * m).max(0.0);
            mean.push(m as f32);
            inv_std.push(if var.sqrt() < 1e-12 {
                1.0
            } else {
                (1.0 / var.sqrt()) as f32
            });
        }
        Ok(Standardizer { mean, inv_std })
    }

    /// The rows `indices` of `data`, standardized, as a row-major matrix. `data` must have as
    /// many features as the dataset this was fitted on.
    pub fn transform(&self, data: &Dataset, indices: &[usize]) -> Result<Vec<f32>, BaselineError> {
        if data.n_features() != self.mean.len() {
            return Err(BaselineError::Mismatch {
                what: "features of the dataset to standardize".into(),
                expected: self.mean.len(),
                found: data.n_features(),
            });
        }
        check_indices("test", indices, data.len())?;
        let mut out = Vec::with_capacity(indices.len() * data.n_features());
        for &i in indices {
            out.extend(
                data.row(i)
                    .iter()
                    .zip(self.mean.iter().zip(&self.inv_std))
                    .map(|(&v, (&m, &s))| (v - m) * s),
            );
        }
        Ok(out)
    }
}

fn check_indices(part: &'static str, indices: &[usize], len: usize) -> Result<(), BaselineError> {
    match indices.iter().find(|&&i| i >= len) {
        Some(&index) => Err(BaselineError::IndexOutOfRange { part, index, len }),
        None => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn labels(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("c{i}")).collect()
    }

    #[test]
    fn bad_datasets_are_refused() {
        assert!(matches!(
            Dataset::new(vec![], 2, vec![], labels(2)),
            Err(BaselineError::Empty { .. })
        ));
        assert!(matches!(
            Dataset::new(vec![1.0; 5], 2, vec![0, 1, 0], labels(2)),
            Err(BaselineError::Mismatch {
                expected: 6,
                found: 5,
                ..
            })
        ));
        assert!(matches!(
            Dataset::new(vec![1.0; 4], 2, vec![0, 2], labels(2)),
            Err(BaselineError::LabelOutOfRange {
                row: 1,
                class: 2,
                ..
            })
        ));
        assert!(matches!(
            Dataset::new(vec![1.0, 2.0, f32::NAN, 0.0], 2, vec![0, 1], labels(2)),
            Err(BaselineError::NonFinite {
                row: 1,
                column: 0,
                ..
            })
        ));
        assert!(matches!(
            Dataset::from_rows(vec![vec![1.0, 2.0], vec![1.0]], vec![0, 1], labels(2)),
            Err(BaselineError::Mismatch {
                expected: 2,
                found: 1,
                ..
            })
        ));
        assert!(matches!(
            Dataset::from_rows(vec![vec![1.0]], vec![0, 1], labels(2)),
            Err(BaselineError::Mismatch { .. })
        ));
        let d = Dataset::from_rows(vec![vec![1.0, 2.0], vec![3.0, 4.0]], vec![0, 1], labels(2))
            .unwrap();
        assert_eq!(d.row(1), &[3.0, 4.0]);
        assert_eq!((d.len(), d.n_features(), d.n_classes()), (2, 2, 2));
    }

    #[test]
    fn bad_splits_are_refused() {
        let ok = TrainTest {
            train: vec![0, 1],
            test: vec![2],
        };
        assert!(ok.check(3).is_ok());
        assert!(matches!(
            ok.check(2),
            Err(BaselineError::IndexOutOfRange {
                part: "test",
                index: 2,
                ..
            })
        ));
        let overlap = TrainTest {
            train: vec![0, 1],
            test: vec![1],
        };
        assert!(matches!(
            overlap.check(3),
            Err(BaselineError::Overlap { index: 1 })
        ));
        let empty = TrainTest {
            train: vec![],
            test: vec![1],
        };
        assert!(matches!(empty.check(3), Err(BaselineError::Empty { .. })));
    }

    #[test]
    fn standardizer_uses_the_training_rows_only() {
        let d = Dataset::from_rows(
            vec![vec![1.0, 5.0], vec![3.0, 5.0], vec![100.0, 5.0]],
            vec![0, 1, 0],
            labels(2),
        )
        .unwrap();
        let s = Standardizer::fit(&d, &[0, 1]).unwrap();
        assert_eq!(s.mean, vec![2.0, 5.0]);
        assert_eq!(s.inv_std, vec![1.0, 1.0]);
        assert_eq!(
            s.transform(&d, &[0, 2]).unwrap(),
            vec![-1.0, 0.0, 98.0, 0.0]
        );
        assert!(matches!(
            s.transform(&d, &[3]),
            Err(BaselineError::IndexOutOfRange { index: 3, .. })
        ));
        assert!(Standardizer::fit(&d, &[]).is_err());
        let other = Dataset::from_rows(vec![vec![1.0]], vec![0], labels(2)).unwrap();
        assert!(matches!(
            s.transform(&other, &[0]),
            Err(BaselineError::Mismatch { .. })
        ));
    }
}
