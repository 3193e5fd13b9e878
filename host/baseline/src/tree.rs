//! CART on histogram splits: the one tree behind the decision tree, the random forest,
//! AdaBoost and gradient boosting.
//!
//! - [`Binned`]: each training feature quantized into at most `max_bins` bins whose edges are
//!   midpoints between training values (all distinct values when there are few, quantiles
//!   otherwise). A split "bin <= t" is stored as the raw threshold "x <= cut[t]", so a grown
//!   [`Tree`] predicts on raw (unbinned) rows.
//! - [`Criterion`]: what a node accumulates per sample and how good a side is. [`Gini`]
//!   (classification with sample weights; the gain is the weighted Gini impurity decrease) and
//!   [`Newton`] (regression on gradients and hessians, XGBoost's gain and leaf value).
//! - [`grow`]: depth-first growth with per-split feature sampling (as scikit-learn's
//!   `max_features`: when none of the sampled features splits the node, more are tried).
//!
//! Deterministic: the only randomness is the caller's seeded [`Rng`], and ties go to the
//! first feature and threshold examined.

use sentio_data::rng::Rng;

/// Training features quantized per feature, column-major.
#[derive(Clone, Debug)]
pub(crate) struct Binned {
    n_rows: usize,
    bins: Vec<u8>,
    cuts: Vec<Vec<f32>>,
}

impl Binned {
    /// Quantize the row-major `x` (`n_rows` rows) into at most `max_bins` (2..=256) bins per
    /// feature.
    pub(crate) fn new(x: &[f32], n_rows: usize, n_features: usize, max_bins: usize) -> Binned {
        let max_bins = max_bins.clamp(2, 256);
        let mut bins = vec![0u8; n_rows * n_features];
        let mut cuts = Vec::with_capacity(n_features);
        let mut column = Vec::with_capacity(n_rows);
        for f in 0..n_features {
            column.clear();
            column.extend((0..n_rows).map(|i| x[i * n_features + f]));
            column.sort_unstable_by(f32::total_cmp);
            let c = feature_cuts(&column, max_bins);
            let out = &mut bins[f * n_rows..(f + 1) * n_rows];
            for (i, slot) in out.iter_mut().enumerate() {
                *slot = bin_of(&c, x[i * n_features + f]) as u8;
            }
            cuts.push(c);
        }
        Binned { n_rows, bins, cuts }
    }

    fn n_features(&self) -> usize {
        self.cuts.len()
    }

    fn column(&self, f: usize) -> &[u8] {
        &self.bins[f * self.n_rows..(f + 1) * self.n_rows]
    }
}

/// The bin of `x`: the number of cuts below it, so `x <= cuts[bin]`.
fn bin_of(cuts: &[f32], x: f32) -> usize {
    cuts.partition_point(|&c| c < x)
}

/// Cut points of one sorted column: midpoints between neighbouring distinct values, all of
/// them when there are at most `max_bins` distinct values, else at `max_bins` quantiles.
fn feature_cuts(sorted: &[f32], max_bins: usize) -> Vec<f32> {
    let n = sorted.len();
    let mut cuts: Vec<f32> = Vec::new();
    let push = |a: f32, b: f32, cuts: &mut Vec<f32>| {
        let mid = a + (b - a) / 2.0;
        // Adjacent floats can round the midpoint up to `b`; `a` then still separates them.
        let cut = if mid >= b { a } else { mid };
        if cuts.last().is_none_or(|&last| cut > last) {
            cuts.push(cut);
        }
    };
    let mut distinct = 1;
    for w in sorted.windows(2) {
        if w[1] > w[0] {
            distinct += 1;
        }
    }
    if n == 0 {
        return cuts;
    }
    if distinct <= max_bins {
        for w in sorted.windows(2) {
            if w[1] > w[0] {
                push(w[0], w[1], &mut cuts);
            }
        }
    } else {
        for q in 1..max_bins {
            let v = sorted[q * n / max_bins];
            let next = sorted.partition_point(|&s| s <= v);
            if next < n {
                push(v, sorted[next], &mut cuts);
            }
        }
    }
    cuts
}

/// What a tree optimizes: per-sample statistics summed into `width` slots per histogram bin.
pub(crate) trait Criterion: Sync {
    /// Slots per bin.
    fn width(&self) -> usize;
    /// Add sample `row`'s statistics to `slot`.
    fn add(&self, row: usize, slot: &mut [f64]);
    /// The quality of one side; a split's gain is `score(left) + score(right) - score(node)`.
    fn score(&self, acc: &[f64]) -> f64;
    /// The weight of one side (sample weight, or hessian), for `min_child_weight`.
    fn weight(&self, acc: &[f64]) -> f64;
    /// True when the node cannot be improved (one class only).
    fn is_pure(&self, acc: &[f64]) -> bool;
    /// The leaf's value(s), `leaf_width()` of them.
    fn leaf(&self, acc: &[f64], out: &mut Vec<f32>);
    /// Values per leaf.
    fn leaf_width(&self) -> usize;
}

/// Classification by weighted Gini impurity; leaves hold the class distribution.
pub(crate) struct Gini<'a> {
    pub(crate) y: &'a [usize],
    pub(crate) w: &'a [f64],
    pub(crate) classes: usize,
}

impl Criterion for Gini<'_> {
    fn width(&self) -> usize {
        self.classes
    }
    #[inline]
    fn add(&self, row: usize, slot: &mut [f64]) {
        slot[self.y[row]] += self.w[row];
    }
    fn score(&self, acc: &[f64]) -> f64 {
        // W * gini = W - sum_k w_k^2 / W, so the impurity decrease is the growth of
        // sum_k w_k^2 / W.
        let total: f64 = acc.iter().sum();
        if total <= 0.0 {
            0.0
        } else {
            acc.iter().map(|a| a * a).sum::<f64>() / total
        }
    }
    fn weight(&self, acc: &[f64]) -> f64 {
        acc.iter().sum()
    }
    fn is_pure(&self, acc: &[f64]) -> bool {
        acc.iter().filter(|&&a| a > 0.0).count() <= 1
    }
    fn leaf(&self, acc: &[f64], out: &mut Vec<f32>) {
        let total: f64 = acc.iter().sum();
        out.extend(
            acc.iter()
                .map(|&a| if total > 0.0 { (a / total) as f32 } else { 0.0 }),
        );
    }
    fn leaf_width(&self) -> usize {
        self.classes
    }
}

/// Regression on first and second derivatives of a loss (one boosting step): the gain of a
/// side is `G^2 / (H + lambda)`, its leaf value `-G / (H + lambda)`.
pub(crate) struct Newton<'a> {
    pub(crate) g: &'a [f64],
    pub(crate) h: &'a [f64],
    pub(crate) lambda: f64,
}

impl Criterion for Newton<'_> {
    fn width(&self) -> usize {
        2
    }
    #[inline]
    fn add(&self, row: usize, slot: &mut [f64]) {
        slot[0] += self.g[row];
        slot[1] += self.h[row];
    }
    fn score(&self, acc: &[f64]) -> f64 {
        acc[0] * acc[0] / (acc[1] + self.lambda)
    }
    fn weight(&self, acc: &[f64]) -> f64 {
        acc[1]
    }
    fn is_pure(&self, _acc: &[f64]) -> bool {
        false
    }
    fn leaf(&self, acc: &[f64], out: &mut Vec<f32>) {
        out.push((-acc[0] / (acc[1] + self.lambda)) as f32);
    }
    fn leaf_width(&self) -> usize {
        1
    }
}

/// Limits on a tree's growth.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TreeParams {
    /// Deepest level (the root is depth 0); `usize::MAX` for none.
    pub(crate) max_depth: usize,
    /// A node with fewer samples is a leaf.
    pub(crate) min_samples_split: usize,
    /// Each side of a split keeps at least this many samples.
    pub(crate) min_samples_leaf: usize,
    /// Each side of a split keeps at least this much [`Criterion::weight`].
    pub(crate) min_child_weight: f64,
    /// Features examined per split (at least; more when none of them splits).
    pub(crate) max_features: usize,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Node {
    Split {
        feature: u32,
        threshold: f32,
        left: u32,
        right: u32,
    },
    /// Offset of the leaf's values in [`Tree::values`].
    Leaf(u32),
}

/// A grown tree; predicts on raw feature rows.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Tree {
    nodes: Vec<Node>,
    values: Vec<f32>,
    width: usize,
}

impl Tree {
    /// The values of the leaf `x` falls into.
    pub(crate) fn leaf(&self, x: &[f32]) -> &[f32] {
        let mut i = 0;
        loop {
            match self.nodes[i] {
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => {
                    i = if x[feature as usize] <= threshold {
                        left as usize
                    } else {
                        right as usize
                    };
                }
                Node::Leaf(offset) => {
                    let o = offset as usize;
                    return &self.values[o..o + self.width];
                }
            }
        }
    }

    /// Multiply every leaf value by `factor` (a boosting learning rate).
    pub(crate) fn scale(&mut self, factor: f32) {
        for v in &mut self.values {
            *v *= factor;
        }
    }

    /// Number of leaves.
    #[cfg(test)]
    pub(crate) fn leaves(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| matches!(n, Node::Leaf(_)))
            .count()
    }
}

/// Grow a tree on the training rows `rows` (indices into `binned`'s rows; reordered in place).
pub(crate) fn grow<C: Criterion>(
    binned: &Binned,
    criterion: &C,
    rows: &mut [u32],
    params: &TreeParams,
    rng: &mut Rng,
) -> Tree {
    let width = criterion.width();
    let n_features = binned.n_features();
    let max_features = params.max_features.clamp(1, n_features.max(1));
    let mut tree = Tree {
        nodes: vec![Node::Leaf(0)],
        values: Vec::new(),
        width: criterion.leaf_width(),
    };
    let mut hist = vec![0.0f64; 256 * width];
    let mut counts = vec![0u32; 256];
    let mut total = vec![0.0f64; width];
    let mut left = vec![0.0f64; width];
    let mut right = vec![0.0f64; width];
    let mut order: Vec<u32> = (0..n_features as u32).collect();
    let min_leaf = params.min_samples_leaf.max(1);
    // (node, start, end, depth)
    let mut stack = vec![(0usize, 0usize, rows.len(), 0usize)];
    while let Some((node, start, end, depth)) = stack.pop() {
        let part = &mut rows[start..end];
        total.iter_mut().for_each(|t| *t = 0.0);
        for &r in part.iter() {
            criterion.add(r as usize, &mut total);
        }
        let n = part.len();
        let mut best: Option<(usize, usize, f64)> = None;
        if depth < params.max_depth
            && n >= params.min_samples_split.max(2)
            && n >= 2 * min_leaf
            && !criterion.is_pure(&total)
        {
            let parent = criterion.score(&total);
            let min_gain = 1e-12 * (1.0 + parent.abs());
            for j in 0..n_features {
                if j >= max_features && best.is_some() {
                    break;
                }
                let f = if max_features < n_features {
                    let pick = j + rng.index(n_features - j);
                    order.swap(j, pick);
                    order[j] as usize
                } else {
                    j
                };
                let n_bins = binned.cuts[f].len() + 1;
                if n_bins < 2 {
                    continue;
                }
                let hist = &mut hist[..n_bins * width];
                let counts = &mut counts[..n_bins];
                hist.iter_mut().for_each(|h| *h = 0.0);
                counts.iter_mut().for_each(|c| *c = 0);
                let column = binned.column(f);
                for &r in part.iter() {
                    let b = column[r as usize] as usize;
                    criterion.add(r as usize, &mut hist[b * width..(b + 1) * width]);
                    counts[b] += 1;
                }
                left.iter_mut().for_each(|l| *l = 0.0);
                let mut n_left = 0usize;
                for t in 0..n_bins - 1 {
                    n_left += counts[t] as usize;
                    for (l, h) in left.iter_mut().zip(&hist[t * width..(t + 1) * width]) {
                        *l += h;
                    }
                    if counts[t] == 0 || n_left < min_leaf {
                        continue;
                    }
                    if n - n_left < min_leaf {
                        break;
                    }
                    for ((r, t), l) in right.iter_mut().zip(&total).zip(&left) {
                        *r = t - l;
                    }
                    if criterion.weight(&left) < params.min_child_weight
                        || criterion.weight(&right) < params.min_child_weight
                    {
                        continue;
                    }
                    let gain = criterion.score(&left) + criterion.score(&right) - parent;
                    if gain > min_gain && best.is_none_or(|(_, _, g)| gain > g) {
                        best = Some((f, t, gain));
                    }
                }
            }
        }
        match best {
            Some((f, t, _)) => {
                let column = binned.column(f);
                // Partition: rows with bin <= t first.
                let mut i = 0;
                let mut k = part.len();
                while i < k {
                    if column[part[i] as usize] as usize <= t {
                        i += 1;
                    } else {
                        k -= 1;
                        part.swap(i, k);
                    }
                }
                let l = tree.nodes.len();
                tree.nodes.push(Node::Leaf(0));
                tree.nodes.push(Node::Leaf(0));
                tree.nodes[node] = Node::Split {
                    feature: f as u32,
                    threshold: binned.cuts[f][t],
                    left: l as u32,
                    right: l as u32 + 1,
                };
                stack.push((l + 1, start + i, end, depth + 1));
                stack.push((l, start, start + i, depth + 1));
            }
            None => {
                tree.nodes[node] = Node::Leaf(tree.values.len() as u32);
                criterion.leaf(&total, &mut tree.values);
            }
        }
    }
    tree
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn params(max_depth: usize) -> TreeParams {
        TreeParams {
            max_depth,
            min_samples_split: 2,
            min_samples_leaf: 1,
            min_child_weight: 0.0,
            max_features: usize::MAX,
        }
    }

    #[test]
    fn cuts_separate_distinct_values() {
        assert_eq!(feature_cuts(&[1.0, 1.0, 2.0, 4.0], 8), vec![1.5, 3.0]);
        assert!(feature_cuts(&[5.0; 10], 8).is_empty());
        let many: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        let c = feature_cuts(&many, 16);
        assert_eq!(c.len(), 15);
        assert!(c.windows(2).all(|w| w[0] < w[1]));
        // Every bin gets about the same number of values.
        let mut per_bin = [0usize; 16];
        for v in &many {
            per_bin[bin_of(&c, *v)] += 1;
        }
        assert!(
            per_bin.iter().all(|&n| (55..=70).contains(&n)),
            "{per_bin:?}"
        );
        // Binning agrees with the raw thresholds.
        for v in &many {
            let b = bin_of(&c, *v);
            if b < c.len() {
                assert!(*v <= c[b]);
            }
            if b > 0 {
                assert!(*v > c[b - 1]);
            }
        }
    }

    #[test]
    fn a_tree_fits_xor_exactly() {
        // XOR of two features: no single split helps, two levels solve it.
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..40 {
            let (a, b) = ((i % 2) as f32, ((i / 2) % 2) as f32);
            x.extend([a + 0.01 * i as f32, b]);
            y.push((a as usize) ^ (b as usize));
        }
        let binned = Binned::new(&x, 40, 2, 64);
        let w = vec![1.0; 40];
        let gini = Gini {
            y: &y,
            w: &w,
            classes: 2,
        };
        let mut rows: Vec<u32> = (0..40).collect();
        let tree = grow(
            &binned,
            &gini,
            &mut rows,
            &params(usize::MAX),
            &mut Rng::new(1),
        );
        for i in 0..40 {
            let p = tree.leaf(&x[i * 2..i * 2 + 2]);
            assert_eq!(p[y[i]], 1.0, "sample {i}");
        }
        // A stump cannot.
        let mut rows: Vec<u32> = (0..40).collect();
        let stump = grow(&binned, &gini, &mut rows, &params(1), &mut Rng::new(1));
        assert!(stump.leaves() <= 2);
    }

    #[test]
    fn sample_weights_move_the_split() {
        // One feature, classes 0 0 1 1 0 at x = 0..5. With equal weights the best single
        // split is x <= 1.5; weighting the last sample heavily makes x <= 3.5 better.
        let x = [0.0, 1.0, 2.0, 3.0, 4.0];
        let y = [0, 0, 1, 1, 0];
        let binned = Binned::new(&x, 5, 1, 64);
        let split_at = |w: &[f64]| {
            let gini = Gini {
                y: &y,
                w,
                classes: 2,
            };
            let mut rows: Vec<u32> = (0..5).collect();
            let t = grow(&binned, &gini, &mut rows, &params(1), &mut Rng::new(0));
            match t.nodes[0] {
                Node::Split { threshold, .. } => threshold,
                Node::Leaf(_) => panic!("no split"),
            }
        };
        assert_eq!(split_at(&[1.0; 5]), 1.5);
        assert_eq!(split_at(&[1.0, 1.0, 1.0, 1.0, 10.0]), 3.5);
    }

    #[test]
    fn newton_leaves_are_newton_steps() {
        // Gradients -1 on the left half, +1 on the right: a stump with leaves -G/(H + lambda).
        let x: Vec<f32> = (0..10).map(|i| i as f32).collect();
        let g: Vec<f64> = (0..10).map(|i| if i < 5 { -1.0 } else { 1.0 }).collect();
        let h = vec![1.0; 10];
        let binned = Binned::new(&x, 10, 1, 64);
        let newton = Newton {
            g: &g,
            h: &h,
            lambda: 1.0,
        };
        let mut rows: Vec<u32> = (0..10).collect();
        let t = grow(&binned, &newton, &mut rows, &params(1), &mut Rng::new(0));
        assert!((t.leaf(&[0.0])[0] - 5.0 / 6.0).abs() < 1e-6);
        assert!((t.leaf(&[9.0])[0] + 5.0 / 6.0).abs() < 1e-6);
    }
}
