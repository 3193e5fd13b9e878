//! Accuracy and F1 of predictions against the truth.

/// Fraction of `pred` equal to `truth` (0 when empty).
pub fn accuracy(truth: &[usize], pred: &[usize]) -> f64 {
    if truth.is_empty() {
        return 0.0;
    }
    let right = truth.iter().zip(pred).filter(|(t, p)| t == p).count();
    right as f64 / truth.len() as f64
}

/// F1 of each of `classes` classes (0 for a class never true nor predicted) and the macro
/// average over the classes that occur in `truth` or `pred` (scikit-learn's `f1_score(...,
/// average="macro")`, with 0 where precision or recall is undefined).
pub fn f1(truth: &[usize], pred: &[usize], classes: usize) -> (Vec<f64>, f64) {
    let mut tp = vec![0usize; classes];
    let mut n_true = vec![0usize; classes];
    let mut n_pred = vec![0usize; classes];
    for (&t, &p) in truth.iter().zip(pred) {
        if t < classes {
            n_true[t] += 1;
        }
        if p < classes {
            n_pred[p] += 1;
        }
        if t == p && t < classes {
            tp[t] += 1;
        }
    }
    let per_class: Vec<f64> = (0..classes)
        .map(|c| {
            let denominator = n_true[c] + n_pred[c];
            if denominator == 0 {
                0.0
            } else {
                2.0 * tp[c] as f64 / denominator as f64
            }
        })
        .collect();
    let present: Vec<usize> = (0..classes)
        .filter(|&c| n_true[c] + n_pred[c] > 0)
        .collect();
    let macro_f1 = if present.is_empty() {
        0.0
    } else {
        present.iter().map(|&c| per_class[c]).sum::<f64>() / present.len() as f64
    };
    (per_class, macro_f1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f1_matches_hand_computation() {
        // truth 0 0 1 1 2, pred 0 1 1 1 0:
        // class 0: tp 1, 2 true, 2 predicted -> 0.5; class 1: tp 2, 2 true, 3 pred -> 0.8;
        // class 2: tp 0 -> 0. Class 3 never occurs and is left out of the macro average.
        let (per, m) = f1(&[0, 0, 1, 1, 2], &[0, 1, 1, 1, 0], 4);
        assert_eq!(per, vec![0.5, 0.8, 0.0, 0.0]);
        assert!((m - 1.3 / 3.0).abs() < 1e-12);
        assert_eq!(accuracy(&[0, 0, 1, 1, 2], &[0, 1, 1, 1, 0]), 0.6);
        assert_eq!(f1(&[1, 2], &[1, 2], 3).1, 1.0);
    }
}
