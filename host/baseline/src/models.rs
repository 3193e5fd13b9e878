//! The tree models: decision tree, random forest, AdaBoost (SAMME) and gradient boosting
//! (softmax), all on [`crate::tree`]'s CART, with their options.

use sentio_data::rng::{Rng, derive_seed};
use serde::{Deserialize, Serialize};

use crate::BaselineError;
use crate::svm::LinearSvm;
use crate::tree::{Binned, Gini, Newton, Tree, TreeParams, grow};

/// The training rows (row-major, standardized) and what every fitter needs.
#[derive(Clone, Copy)]
pub(crate) struct Train<'a> {
    pub(crate) x: &'a [f32],
    pub(crate) d: usize,
    pub(crate) y: &'a [usize],
    pub(crate) classes: usize,
    pub(crate) seed: u64,
    pub(crate) threads: usize,
}

impl Train<'_> {
    pub(crate) fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.d..(i + 1) * self.d]
    }
}

/// Index of the largest value (the first on ties).
pub(crate) fn argmax(v: impl IntoIterator<Item = f64>) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (i, x) in v.into_iter().enumerate() {
        if x > best.1 {
            best = (i, x);
        }
    }
    best.0
}

/// How many features a split examines.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaxFeatures {
    /// All of them.
    All,
    /// `round(sqrt(features))` (scikit-learn's forest default).
    Sqrt,
    /// `round(log2(features))`.
    Log2,
    /// `round(fraction x features)`.
    Fraction(f64),
}

impl MaxFeatures {
    pub(crate) fn count(&self, d: usize) -> usize {
        let n = match *self {
            MaxFeatures::All => d,
            MaxFeatures::Sqrt => (d as f64).sqrt().round() as usize,
            MaxFeatures::Log2 => (d as f64).log2().round() as usize,
            MaxFeatures::Fraction(f) => (f * d as f64).round() as usize,
        };
        n.clamp(1, d.max(1))
    }

    fn check(&self, name: &'static str) -> Result<(), BaselineError> {
        match *self {
            MaxFeatures::Fraction(f) if !(f > 0.0 && f <= 1.0) => Err(BaselineError::bad_option(
                name,
                f,
                "a fraction must be in (0, 1]",
            )),
            _ => Ok(()),
        }
    }
}

fn check_depth(name: &'static str, depth: Option<usize>) -> Result<(), BaselineError> {
    match depth {
        Some(0) => Err(BaselineError::bad_option(
            name,
            0,
            "must be at least 1 (or none)",
        )),
        _ => Ok(()),
    }
}

fn check_count(name: &'static str, n: usize) -> Result<(), BaselineError> {
    if n == 0 {
        Err(BaselineError::bad_option(name, n, "must be at least 1"))
    } else {
        Ok(())
    }
}

/// A single CART classification tree (Gini).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TreeOptions {
    /// Deepest level; `None` grows until the leaves are pure.
    pub max_depth: Option<usize>,
    /// A node with fewer samples is not split.
    pub min_samples_split: usize,
    /// Each leaf keeps at least this many samples.
    pub min_samples_leaf: usize,
}

impl Default for TreeOptions {
    fn default() -> Self {
        TreeOptions {
            max_depth: None,
            min_samples_split: 2,
            min_samples_leaf: 1,
        }
    }
}

impl TreeOptions {
    pub(crate) fn check(&self) -> Result<(), BaselineError> {
        check_depth("tree.max_depth", self.max_depth)?;
        check_count("tree.min_samples_leaf", self.min_samples_leaf)
    }
}

/// A random forest: bootstrapped trees with a random subset of features per split, voting
/// with their leaves' class probabilities.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ForestOptions {
    /// Number of trees.
    pub trees: usize,
    /// Deepest level of each tree; `None` for pure leaves.
    pub max_depth: Option<usize>,
    /// Each leaf keeps at least this many distinct samples.
    pub min_samples_leaf: usize,
    /// Features examined per split.
    pub max_features: MaxFeatures,
    /// Draw each tree's samples with replacement (else every tree sees every sample).
    pub bootstrap: bool,
}

impl Default for ForestOptions {
    fn default() -> Self {
        ForestOptions {
            trees: 200,
            max_depth: None,
            min_samples_leaf: 1,
            max_features: MaxFeatures::Sqrt,
            bootstrap: true,
        }
    }
}

impl ForestOptions {
    pub(crate) fn check(&self) -> Result<(), BaselineError> {
        check_count("forest.trees", self.trees)?;
        check_depth("forest.max_depth", self.max_depth)?;
        check_count("forest.min_samples_leaf", self.min_samples_leaf)?;
        self.max_features.check("forest.max_features")
    }
}

/// AdaBoost with the SAMME multiclass rule on shallow trees.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdaBoostOptions {
    /// Boosting rounds at most (it stops early on a perfect tree, or on one no better than
    /// chance).
    pub rounds: usize,
    /// Depth of each tree (1 = stumps).
    pub max_depth: usize,
    /// Shrinks each tree's vote.
    pub learning_rate: f64,
}

impl Default for AdaBoostOptions {
    fn default() -> Self {
        AdaBoostOptions {
            rounds: 200,
            max_depth: 3,
            learning_rate: 0.5,
        }
    }
}

impl AdaBoostOptions {
    pub(crate) fn check(&self) -> Result<(), BaselineError> {
        check_count("adaboost.rounds", self.rounds)?;
        check_count("adaboost.max_depth", self.max_depth)?;
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(BaselineError::bad_option(
                "adaboost.learning_rate",
                self.learning_rate,
                "must be above 0",
            ));
        }
        Ok(())
    }
}

/// Gradient boosting with the softmax (multinomial deviance) loss: each round fits one
/// regression tree per class to the loss's gradients, with Newton leaf values
/// `-G / (H + lambda)` shrunk by the learning rate.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BoostingOptions {
    /// Rounds (each adds one tree per class).
    pub rounds: usize,
    /// Shrinks each tree.
    pub learning_rate: f64,
    /// Depth of each tree.
    pub max_depth: usize,
    /// L2 regularization of the leaf values.
    pub lambda: f64,
    /// Each side of a split keeps at least this much hessian.
    pub min_child_weight: f64,
    /// Fraction of the training samples each round's trees see (drawn without replacement).
    pub subsample: f64,
    /// Features examined per split.
    pub max_features: MaxFeatures,
}

impl Default for BoostingOptions {
    fn default() -> Self {
        BoostingOptions {
            rounds: 100,
            learning_rate: 0.2,
            max_depth: 3,
            lambda: 1.0,
            min_child_weight: 1.0,
            subsample: 0.8,
            max_features: MaxFeatures::Fraction(0.25),
        }
    }
}

impl BoostingOptions {
    pub(crate) fn check(&self) -> Result<(), BaselineError> {
        check_count("boosting.rounds", self.rounds)?;
        check_count("boosting.max_depth", self.max_depth)?;
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(BaselineError::bad_option(
                "boosting.learning_rate",
                self.learning_rate,
                "must be above 0",
            ));
        }
        if !(self.lambda >= 0.0 && self.lambda.is_finite()) {
            return Err(BaselineError::bad_option(
                "boosting.lambda",
                self.lambda,
                "must be 0 or more",
            ));
        }
        if !(self.min_child_weight >= 0.0 && self.min_child_weight.is_finite()) {
            return Err(BaselineError::bad_option(
                "boosting.min_child_weight",
                self.min_child_weight,
                "must be 0 or more",
            ));
        }
        if !(self.subsample > 0.0 && self.subsample <= 1.0) {
            return Err(BaselineError::bad_option(
                "boosting.subsample",
                self.subsample,
                "must be in (0, 1]",
            ));
        }
        self.max_features.check("boosting.max_features")
    }
}

/// A fitted model of any kind.
pub(crate) enum Fitted {
    Tree(Tree),
    Forest(Vec<Tree>),
    AdaBoost(Vec<(Tree, f64)>),
    Boosting(Boosted),
    Svm(LinearSvm),
}

impl Fitted {
    pub(crate) fn predict(&self, x: &[f32], classes: usize) -> usize {
        match self {
            Fitted::Tree(t) => argmax(t.leaf(x).iter().map(|&p| f64::from(p))),
            Fitted::Forest(trees) => {
                let mut votes = vec![0.0f64; classes];
                for t in trees {
                    for (v, &p) in votes.iter_mut().zip(t.leaf(x)) {
                        *v += f64::from(p);
                    }
                }
                argmax(votes)
            }
            Fitted::AdaBoost(trees) => {
                let mut votes = vec![0.0f64; classes];
                for (t, alpha) in trees {
                    votes[argmax(t.leaf(x).iter().map(|&p| f64::from(p)))] += alpha;
                }
                argmax(votes)
            }
            Fitted::Boosting(b) => argmax(b.scores(x)),
            Fitted::Svm(s) => argmax(s.decision(x)),
        }
    }
}

fn depth(d: Option<usize>) -> usize {
    d.unwrap_or(usize::MAX)
}

/// A single tree on all training samples and all features.
pub(crate) fn fit_tree(train: &Train, binned: &Binned, options: &TreeOptions) -> Tree {
    let w = vec![1.0; train.y.len()];
    let gini = Gini {
        y: train.y,
        w: &w,
        classes: train.classes,
    };
    let params = TreeParams {
        max_depth: depth(options.max_depth),
        min_samples_split: options.min_samples_split,
        min_samples_leaf: options.min_samples_leaf,
        min_child_weight: 0.0,
        max_features: usize::MAX,
    };
    let mut rows: Vec<u32> = (0..train.y.len() as u32).collect();
    grow(binned, &gini, &mut rows, &params, &mut Rng::new(train.seed))
}

/// Tree `t` of the forest is drawn (bootstrap and features) from `derive_seed(seed, [t])`,
/// so the forest is the same for any number of threads.
pub(crate) fn fit_forest(
    train: &Train,
    binned: &Binned,
    options: &ForestOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Vec<Tree> {
    let n = train.y.len();
    let params = TreeParams {
        max_depth: depth(options.max_depth),
        min_samples_split: 2,
        min_samples_leaf: options.min_samples_leaf,
        min_child_weight: 0.0,
        max_features: options.max_features.count(train.d),
    };
    let one = |t: usize| {
        let mut rng = Rng::new(derive_seed(train.seed, &[t as u64]));
        let mut w = vec![0.0f64; n];
        if options.bootstrap {
            for _ in 0..n {
                w[rng.index(n)] += 1.0;
            }
        } else {
            w.iter_mut().for_each(|w| *w = 1.0);
        }
        let mut rows: Vec<u32> = (0..n as u32).filter(|&i| w[i as usize] > 0.0).collect();
        let gini = Gini {
            y: train.y,
            w: &w,
            classes: train.classes,
        };
        grow(binned, &gini, &mut rows, &params, &mut rng)
    };
    let mut trees = Vec::with_capacity(options.trees);
    let batch = train.threads * 4;
    while trees.len() < options.trees {
        let start = trees.len();
        let count = batch.min(options.trees - start);
        trees.extend(crate::par::map(count, train.threads, |j| one(start + j)));
        progress(trees.len(), options.trees);
    }
    trees
}

/// SAMME (Zhu et al. 2009): each round fits a tree to the weighted samples; its weighted error
/// `err` gives it the vote `alpha = learning_rate x (ln((1 - err) / err) + ln(K - 1))`, and the
/// samples it gets wrong are re-weighted by `exp(alpha)`. Stops early on a tree with no error
/// (kept, with the vote of error 1e-10) or one no better than chance (`err >= 1 - 1/K`,
/// dropped). Returns the trees and the note to report when it stopped early.
pub(crate) fn fit_adaboost(
    train: &Train,
    binned: &Binned,
    options: &AdaBoostOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> (Vec<(Tree, f64)>, Option<String>) {
    let n = train.y.len();
    let k = train.classes as f64;
    let mut w = vec![1.0 / n as f64; n];
    let params = TreeParams {
        max_depth: options.max_depth,
        min_samples_split: 2,
        min_samples_leaf: 1,
        min_child_weight: 0.0,
        max_features: usize::MAX,
    };
    let mut trees = Vec::new();
    let mut note = None;
    let mut rng = Rng::new(train.seed);
    for round in 0..options.rounds {
        let gini = Gini {
            y: train.y,
            w: &w,
            classes: train.classes,
        };
        let mut rows: Vec<u32> = (0..n as u32).collect();
        let tree = grow(binned, &gini, &mut rows, &params, &mut rng);
        let wrong: Vec<bool> = (0..n)
            .map(|i| argmax(tree.leaf(train.row(i)).iter().map(|&p| f64::from(p))) != train.y[i])
            .collect();
        let total: f64 = w.iter().sum();
        let err: f64 = w
            .iter()
            .zip(&wrong)
            .filter(|(_, wr)| **wr)
            .map(|(w, _)| w)
            .sum::<f64>()
            / total;
        if err >= 1.0 - 1.0 / k {
            note = Some(format!(
                "stopped after {round} rounds: tree {} was no better than chance \
                 (weighted error {err:.3})",
                round + 1
            ));
            break;
        }
        let clamped = err.max(1e-10);
        let alpha = options.learning_rate * (((1.0 - clamped) / clamped).ln() + (k - 1.0).ln());
        trees.push((tree, alpha));
        progress(round + 1, options.rounds);
        if err <= 0.0 {
            note = Some(format!(
                "stopped after {} rounds: a tree classified every training sample",
                round + 1
            ));
            break;
        }
        let boost = alpha.exp();
        for (wi, &wr) in w.iter_mut().zip(&wrong) {
            if wr {
                *wi *= boost;
            }
        }
        let total: f64 = w.iter().sum();
        w.iter_mut().for_each(|wi| *wi /= total);
    }
    (trees, note)
}

/// A softmax gradient-boosted ensemble.
#[derive(Clone, Debug)]
pub(crate) struct Boosted {
    init: Vec<f64>,
    /// Per round, one tree per class.
    rounds: Vec<Vec<Tree>>,
    /// Mean training cross-entropy before each round, and after the last.
    pub(crate) loss: Vec<f64>,
}

impl Boosted {
    pub(crate) fn scores(&self, x: &[f32]) -> Vec<f64> {
        let mut s = self.init.clone();
        for trees in &self.rounds {
            for (s, t) in s.iter_mut().zip(trees) {
                *s += f64::from(t.leaf(x)[0]);
            }
        }
        s
    }
}

/// Softmax of `scores` into `p`; returns `-ln p[label]`.
fn softmax(scores: &[f64], label: usize, p: &mut [f64]) -> f64 {
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for (p, &s) in p.iter_mut().zip(scores) {
        *p = (s - max).exp();
        sum += *p;
    }
    p.iter_mut().for_each(|p| *p /= sum);
    -(p[label].max(1e-300)).ln()
}

/// Round `r`'s subsample and class `c`'s tree are drawn from `derive_seed(seed, [r])` and
/// `derive_seed(seed, [r, c])`, so the model is the same for any number of threads.
pub(crate) fn fit_boosting(
    train: &Train,
    binned: &Binned,
    options: &BoostingOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Boosted {
    let n = train.y.len();
    let k = train.classes;
    let mut counts = vec![0usize; k];
    for &c in train.y {
        counts[c] += 1;
    }
    let init: Vec<f64> = counts
        .iter()
        .map(|&c| (c as f64 / n as f64).max(1e-12).ln())
        .collect();
    let mut f: Vec<f64> = (0..n).flat_map(|_| init.iter().copied()).collect();
    let mut p = vec![0.0f64; n * k];
    let params = TreeParams {
        max_depth: options.max_depth,
        min_samples_split: 2,
        min_samples_leaf: 1,
        min_child_weight: options.min_child_weight,
        max_features: options.max_features.count(train.d),
    };
    // LightGBM's hessian scale for the softmax: K / (K - 1).
    let factor = if k > 1 {
        k as f64 / (k as f64 - 1.0)
    } else {
        1.0
    };
    let n_sub = ((options.subsample * n as f64).round() as usize).clamp(1, n);
    let mut model = Boosted {
        init: init.clone(),
        rounds: Vec::with_capacity(options.rounds),
        loss: Vec::with_capacity(options.rounds + 1),
    };
    let mean_loss = |f: &[f64], p: &mut [f64]| {
        let mut loss = 0.0;
        for i in 0..n {
            loss += softmax(
                &f[i * k..(i + 1) * k],
                train.y[i],
                &mut p[i * k..(i + 1) * k],
            );
        }
        loss / n as f64
    };
    for round in 0..options.rounds {
        model.loss.push(mean_loss(&f, &mut p));
        let mut sample: Vec<u32> = (0..n as u32).collect();
        if n_sub < n {
            Rng::new(derive_seed(train.seed, &[round as u64])).shuffle(&mut sample);
            sample.truncate(n_sub);
            sample.sort_unstable();
        }
        let p = &p;
        let trees = crate::par::map(k, train.threads, |c| {
            let mut g = vec![0.0f64; n];
            let mut h = vec![0.0f64; n];
            for i in 0..n {
                let pi = p[i * k + c];
                g[i] = pi - if train.y[i] == c { 1.0 } else { 0.0 };
                h[i] = (factor * pi * (1.0 - pi)).max(1e-12);
            }
            let newton = Newton {
                g: &g,
                h: &h,
                lambda: options.lambda,
            };
            let mut rows = sample.clone();
            let mut rng = Rng::new(derive_seed(train.seed, &[round as u64, c as u64]));
            let mut tree = grow(binned, &newton, &mut rows, &params, &mut rng);
            tree.scale(options.learning_rate as f32);
            tree
        });
        for i in 0..n {
            for (c, t) in trees.iter().enumerate() {
                f[i * k + c] += f64::from(t.leaf(train.row(i))[0]);
            }
        }
        model.rounds.push(trees);
        progress(round + 1, options.rounds);
    }
    model.loss.push(mean_loss(&f, &mut p));
    model
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// Three noisy classes along one feature, plus two noise features.
    fn problem(n: usize) -> (Vec<f32>, Vec<usize>) {
        let mut rng = Rng::new(11);
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..n {
            let c = i % 3;
            x.extend([c as f32 + rng.normal() * 0.4, rng.normal(), rng.normal()]);
            y.push(c);
        }
        (x, y)
    }

    fn train<'a>(x: &'a [f32], y: &'a [usize], seed: u64, threads: usize) -> Train<'a> {
        Train {
            x,
            d: 3,
            y,
            classes: 3,
            seed,
            threads,
        }
    }

    #[test]
    fn boosting_loss_falls() {
        let (x, y) = problem(300);
        let t = train(&x, &y, 1, 2);
        let binned = Binned::new(&x, 300, 3, 64);
        let options = BoostingOptions {
            rounds: 30,
            ..BoostingOptions::default()
        };
        let mut steps = 0;
        let model = fit_boosting(&t, &binned, &options, &mut |_, _| steps += 1);
        assert_eq!(steps, 30);
        assert_eq!(model.loss.len(), 31);
        // Starts at the prior's cross-entropy, ln 3 for balanced classes.
        assert!(
            (model.loss[0] - 3f64.ln()).abs() < 1e-9,
            "{}",
            model.loss[0]
        );
        // Newton steps with shrinkage on a convex loss: every round lowers it (subsampling
        // makes that not a theorem, so allow a hair), and by a lot overall.
        for w in model.loss.windows(2) {
            assert!(w[1] < w[0] + 1e-3, "{:?}", model.loss);
        }
        assert!(model.loss[30] < 0.5 * model.loss[0], "{:?}", model.loss);
    }

    #[test]
    fn forests_are_seeded() {
        let (x, y) = problem(150);
        let binned = Binned::new(&x, 150, 3, 64);
        let options = ForestOptions {
            trees: 10,
            ..ForestOptions::default()
        };
        let fit = |seed, threads| {
            fit_forest(
                &train(&x, &y, seed, threads),
                &binned,
                &options,
                &mut |_, _| {},
            )
        };
        let a = fit(1, 1);
        assert_eq!(a, fit(1, 3));
        assert_ne!(a, fit(2, 1));
    }

    #[test]
    fn adaboost_stops_on_a_perfect_tree() {
        // Separable by one split: the first stump is perfect.
        let x: Vec<f32> = (0..20).flat_map(|i| [i as f32, 0.0, 0.0]).collect();
        let y: Vec<usize> = (0..20).map(|i| usize::from(i >= 10)).collect();
        let binned = Binned::new(&x, 20, 3, 64);
        let options = AdaBoostOptions {
            rounds: 10,
            max_depth: 1,
            learning_rate: 1.0,
        };
        let mut t = train(&x, &y, 0, 1);
        t.classes = 2;
        let (trees, note) = fit_adaboost(&t, &binned, &options, &mut |_, _| {});
        assert_eq!(trees.len(), 1);
        assert!(note.unwrap().contains("every training sample"));
        assert!(trees[0].1 > 10.0);
    }

    #[test]
    fn samme_votes_weigh_trees_by_alpha() {
        // x = 0..10, classes 0 0 0 0 0 1 1 1 1 0: the best stump (x <= 4.5) errs on x = 9
        // only, so err = 0.1 and alpha = ln(0.9 / 0.1) + ln(K - 1) = ln 9.
        let x: Vec<f32> = (0..10).flat_map(|i| [i as f32, 0.0, 0.0]).collect();
        let y = vec![0, 0, 0, 0, 0, 1, 1, 1, 1, 0];
        let binned = Binned::new(&x, 10, 3, 64);
        let mut t = train(&x, &y, 0, 1);
        t.classes = 2;
        let options = AdaBoostOptions {
            rounds: 1,
            max_depth: 1,
            learning_rate: 1.0,
        };
        let (trees, _) = fit_adaboost(&t, &binned, &options, &mut |_, _| {});
        assert!((trees[0].1 - 9f64.ln()).abs() < 1e-9, "{}", trees[0].1);
        // Two trees that disagree at x = 7: the larger vote wins.
        let says_one = trees[0].0.clone();
        let zeros = vec![0; 10];
        let t0 = Train { y: &zeros, ..t };
        let says_zero = fit_tree(&t0, &binned, &TreeOptions::default());
        let at7 = [7.0, 0.0, 0.0];
        let a = Fitted::AdaBoost(vec![(says_one.clone(), 2.0), (says_zero.clone(), 1.0)]);
        let b = Fitted::AdaBoost(vec![(says_one, 1.0), (says_zero, 2.0)]);
        assert_eq!(a.predict(&at7, 2), 1);
        assert_eq!(b.predict(&at7, 2), 0);
    }

    #[test]
    fn max_features_counts() {
        assert_eq!(MaxFeatures::Sqrt.count(1764), 42);
        assert_eq!(MaxFeatures::Log2.count(1024), 10);
        assert_eq!(MaxFeatures::Fraction(0.25).count(1764), 441);
        assert_eq!(MaxFeatures::All.count(7), 7);
        assert_eq!(MaxFeatures::Fraction(0.0001).count(7), 1);
        assert!(MaxFeatures::Fraction(1.5).check("x").is_err());
    }
}
