//! The figures a multi-label tagger is judged by, as pure functions of the scores and the true
//! label sets:
//!
//! - **top-1 precision**: the fraction of images whose highest-scored label is one they show;
//! - **top-k recall**: the mean over images of `|top-k ∩ true| / min(k, |true|)` (1 when the
//!   k best guesses cover as many true labels as they can);
//! - **average precision** of a label: the area under its precision-recall curve over the
//!   images ranked by its score (scikit-learn's `average_precision_score`: tied scores form one
//!   step); **mAP** is its mean over the labels with at least one positive image;
//! - per label at a threshold: precision, recall, F1, support.

use serde::{Deserialize, Serialize};

/// Per-label figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabelFigures {
    /// The label.
    pub label: String,
    /// Of the images scored at or above the threshold for it, the fraction that show it.
    pub precision: f32,
    /// Of the images that show it, the fraction scored at or above the threshold.
    pub recall: f32,
    /// Harmonic mean of precision and recall.
    pub f1: f32,
    /// Average precision over the ranking of all images by its score.
    pub average_precision: f32,
    /// Images that show it.
    pub support: usize,
}

/// A tagger's figures on a labelled set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaggerFigures {
    /// Images evaluated.
    pub images: usize,
    /// Fraction of images whose highest-scored label is one of theirs.
    pub top1_precision: f32,
    /// Mean of `|top-5 ∩ true| / min(5, |true|)` over the images with a label.
    pub top5_recall: f32,
    /// Mean average precision over the labels with a positive image.
    pub mean_average_precision: f32,
    /// The threshold of the per-label precision/recall/F1.
    pub threshold: f32,
    /// Mean F1 over the labels with a positive image, at the threshold.
    pub macro_f1: f32,
    /// Per label, in output order.
    pub per_label: Vec<LabelFigures>,
}

impl TaggerFigures {
    /// Figures of `scores[i]` (one per label, in the order of `labels`) against `truth[i]` (the
    /// indices of the labels image `i` shows), with per-label figures at `threshold`.
    pub fn new(
        labels: &[String],
        scores: &[Vec<f32>],
        truth: &[Vec<usize>],
        threshold: f32,
    ) -> TaggerFigures {
        let per_label: Vec<LabelFigures> = labels
            .iter()
            .enumerate()
            .map(|(l, label)| {
                let column: Vec<f32> = scores
                    .iter()
                    .map(|s| s.get(l).copied().unwrap_or(0.0))
                    .collect();
                let positive: Vec<bool> = truth.iter().map(|t| t.contains(&l)).collect();
                let (precision, recall, f1) = at_threshold(&column, &positive, threshold);
                LabelFigures {
                    label: label.clone(),
                    precision,
                    recall,
                    f1,
                    average_precision: average_precision(&column, &positive),
                    support: positive.iter().filter(|p| **p).count(),
                }
            })
            .collect();
        let present: Vec<&LabelFigures> = per_label.iter().filter(|f| f.support > 0).collect();
        let mean = |f: fn(&LabelFigures) -> f32| {
            present.iter().map(|x| f(x)).sum::<f32>() / present.len().max(1) as f32
        };
        TaggerFigures {
            images: scores.len(),
            top1_precision: top1_precision(scores, truth),
            top5_recall: top_k_recall(scores, truth, 5),
            mean_average_precision: mean(|f| f.average_precision),
            threshold,
            macro_f1: mean(|f| f.f1),
            per_label,
        }
    }
}

/// Label indices ordered by descending score (ties by index, so the order is deterministic).
pub fn ranking(scores: &[f32]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order
}

/// Fraction of images whose highest-scored label is in their true set (0 for no images).
pub fn top1_precision(scores: &[Vec<f32>], truth: &[Vec<usize>]) -> f32 {
    let hits = scores
        .iter()
        .zip(truth)
        .filter(|(s, t)| ranking(s).first().is_some_and(|best| t.contains(best)))
        .count();
    hits as f32 / scores.len().max(1) as f32
}

/// Mean over the images with at least one true label of `|top-k ∩ true| / min(k, |true|)`.
pub fn top_k_recall(scores: &[Vec<f32>], truth: &[Vec<usize>], k: usize) -> f32 {
    let mut sum = 0.0;
    let mut counted = 0;
    for (s, t) in scores.iter().zip(truth) {
        if t.is_empty() || k == 0 {
            continue;
        }
        let top = ranking(s);
        let hits = top.iter().take(k).filter(|l| t.contains(l)).count();
        sum += hits as f32 / k.min(t.len()) as f32;
        counted += 1;
    }
    sum / counted.max(1) as f32
}

/// Average precision of one label: `scores[i]` its score on image `i`, `positive[i]` whether
/// image `i` shows it. Images are taken in descending score, tied scores together; each step
/// adds `(recall gained) * (precision there)`. 0 when no image is positive.
pub fn average_precision(scores: &[f32], positive: &[bool]) -> f32 {
    let total = positive.iter().filter(|p| **p).count();
    if total == 0 {
        return 0.0;
    }
    let mut order: Vec<usize> = (0..scores.len().min(positive.len())).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut true_pos, mut seen, mut ap) = (0usize, 0usize, 0.0f64);
    let mut i = 0;
    while i < order.len() {
        // One step per distinct score.
        let score = scores[order[i]];
        let mut gained = 0;
        while i < order.len() && scores[order[i]] == score {
            if positive[order[i]] {
                gained += 1;
            }
            seen += 1;
            i += 1;
        }
        true_pos += gained;
        if gained > 0 {
            ap += gained as f64 / total as f64 * true_pos as f64 / seen as f64;
        }
    }
    ap as f32
}

/// Precision, recall and F1 of "score >= threshold" against `positive` (0 where undefined).
pub fn at_threshold(scores: &[f32], positive: &[bool], threshold: f32) -> (f32, f32, f32) {
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    for (s, p) in scores.iter().zip(positive) {
        match (*s >= threshold, *p) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            (false, false) => {}
        }
    }
    let ratio = |a: usize, b: usize| if b > 0 { a as f32 / b as f32 } else { 0.0 };
    let (precision, recall) = (ratio(tp, tp + fp), ratio(tp, tp + fn_));
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    (precision, recall, f1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top1_and_top_k() {
        let scores = vec![vec![0.9, 0.1, 0.5], vec![0.2, 0.3, 0.1]];
        let truth = vec![vec![0, 2], vec![0]];
        assert_eq!(top1_precision(&scores, &truth), 0.5);
        // Image 0: top-2 = {0, 2}, both true -> 1. Image 1: top-2 = {1, 0} -> 1 of min(2, 1).
        assert_eq!(top_k_recall(&scores, &truth, 2), 1.0);
        // Top-1: image 0 gets 1/1, image 1 gets 0/1.
        assert_eq!(top_k_recall(&scores, &truth, 1), 0.5);
        assert_eq!(ranking(&[0.5, 0.5, 0.7]), vec![2, 0, 1]);
    }

    #[test]
    fn average_precision_matches_scikit_learn() {
        // sklearn.metrics.average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.8333
        let ap = average_precision(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]);
        assert!((ap - 0.833_333).abs() < 1e-5, "{ap}");
        // A perfect ranking gives 1, ties count as one step:
        // average_precision_score([1, 0, 1], [0.5, 0.5, 0.2]) = 0.5*0.5 + 0.5*(2/3) = 0.5833
        assert_eq!(average_precision(&[0.9, 0.1], &[true, false]), 1.0);
        let tied = average_precision(&[0.5, 0.5, 0.2], &[true, false, true]);
        assert!((tied - 0.583_333).abs() < 1e-5, "{tied}");
        assert_eq!(average_precision(&[0.3], &[false]), 0.0);
    }

    #[test]
    fn threshold_figures_and_the_summary() {
        let (p, r, f) = at_threshold(&[0.9, 0.6, 0.2, 0.7], &[true, false, true, true], 0.5);
        assert!((p - 2.0 / 3.0).abs() < 1e-6 && (r - 2.0 / 3.0).abs() < 1e-6);
        assert!((f - 2.0 / 3.0).abs() < 1e-6);
        let labels = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let figures = TaggerFigures::new(
            &labels,
            &[vec![0.9, 0.2, 0.1], vec![0.1, 0.8, 0.3]],
            &[vec![0], vec![1]],
            0.5,
        );
        assert_eq!(figures.images, 2);
        assert_eq!(figures.top1_precision, 1.0);
        assert_eq!(figures.mean_average_precision, 1.0);
        // Label c has no positive image: left out of the means, support 0.
        assert_eq!(figures.per_label[2].support, 0);
        assert_eq!(figures.macro_f1, 1.0);
    }
}
