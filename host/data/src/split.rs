//! Deterministic train/validation/test splits.
//!
//! Both functions use only integer arithmetic on the fractions' rounded counts and the crate's
//! own PRNG ([`crate::rng`]), so a seed gives the same split on every run, platform and build.
//! Each part is returned sorted ascending.

use std::collections::BTreeMap;

use crate::rng::{Rng, derive_seed};

/// Indices of the samples in each part.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Split {
    /// Training samples.
    pub train: Vec<usize>,
    /// Validation samples (model selection, early stopping).
    pub val: Vec<usize>,
    /// Test samples (reported figures only).
    pub test: Vec<usize>,
}

/// Clamp the fractions to `0..=1` (NaN counts as 0) and scale them down if they add up to more
/// than 1, so any input gives a usable split.
fn fractions(val: f32, test: f32) -> (f64, f64) {
    let clean = |f: f32| {
        if f.is_nan() {
            0.0
        } else {
            f64::from(f.clamp(0.0, 1.0))
        }
    };
    let (v, t) = (clean(val), clean(test));
    if v + t > 1.0 {
        (v / (v + t), t / (v + t))
    } else {
        (v, t)
    }
}

/// How many of `n` go to validation and test: the rounded fractions, at least one each when
/// the class has 3 or more (and the fraction is not 0), and always at least one for training.
fn part_sizes(n: usize, val: f64, test: f64) -> (usize, usize) {
    let mut n_val = (n as f64 * val).round() as usize;
    let mut n_test = (n as f64 * test).round() as usize;
    if n >= 3 {
        if val > 0.0 {
            n_val = n_val.max(1);
        }
        if test > 0.0 {
            n_test = n_test.max(1);
        }
    }
    let keep_for_train = usize::from(n > 0);
    while n_val + n_test + keep_for_train > n {
        let floor = |x: usize, f: f64| if n >= 3 && f > 0.0 { x > 1 } else { x > 0 };
        if n_test >= n_val && floor(n_test, test) {
            n_test -= 1;
        } else if floor(n_val, val) {
            n_val -= 1;
        } else if n_test > 0 {
            n_test -= 1;
        } else if n_val > 0 {
            n_val -= 1;
        } else {
            break;
        }
    }
    (n_val, n_test)
}

/// A stratified split: within each class, the samples are shuffled (a seeded stream per class)
/// and the first `round(n * test)` go to test, the next `round(n * val)` to validation, the
/// rest to training. Every class with 3 or more samples appears in each part whose fraction is
/// above 0; a class of 1 or 2 goes to training first.
///
/// `labels[i]` is the class of sample `i`.
pub fn stratified(labels: &[usize], val: f32, test: f32, seed: u64) -> Split {
    let (val, test) = fractions(val, test);
    let mut by_class: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, &label) in labels.iter().enumerate() {
        by_class.entry(label).or_default().push(i);
    }
    let mut split = Split::default();
    for (class, mut members) in by_class {
        Rng::new(derive_seed(seed, &[class as u64])).shuffle(&mut members);
        let (n_val, n_test) = part_sizes(members.len(), val, test);
        split.test.extend_from_slice(&members[..n_test]);
        split
            .val
            .extend_from_slice(&members[n_test..n_test + n_val]);
        split.train.extend_from_slice(&members[n_test + n_val..]);
    }
    split.train.sort_unstable();
    split.val.sort_unstable();
    split.test.sort_unstable();
    split
}

/// A split by group (speaker, voice, ...): all samples of a group go to the same part, so the
/// test part holds only groups never seen in training, and is as stratified as whole groups
/// allow.
///
/// The groups are shuffled (seeded); with 3 or more groups the first goes to test and the
/// second to validation (when their fraction is above 0), so each part has at least one. Then,
/// like a draft, the part furthest behind its target size (`fraction x samples`; training on
/// ties) takes the remaining group that best fills its per-class shortfall (`fraction x class
/// size` minus what it has), counting samples beyond the shortfall against the group; ties go
/// to the earlier group in the seeded order.
///
/// `groups[i]` is the group of sample `i`; a sample past the end of `groups` is its own group.
pub fn by_group(labels: &[usize], groups: &[String], val: f32, test: f32, seed: u64) -> Split {
    let (val, test) = fractions(val, test);
    // Group name -> members; samples without a group get a key no real name can have.
    let mut members: BTreeMap<(bool, &str, usize), Vec<usize>> = BTreeMap::new();
    for i in 0..labels.len() {
        let key = match groups.get(i) {
            Some(g) => (false, g.as_str(), 0),
            None => (true, "", i),
        };
        members.entry(key).or_default().push(i);
    }
    let mut rest: Vec<Vec<usize>> = members.into_values().collect();
    Rng::new(derive_seed(seed, &[0x6750])).shuffle(&mut rest);

    let classes = labels.iter().copied().max().map_or(0, |m| m + 1);
    let mut class_total = vec![0usize; classes];
    for &l in labels {
        class_total[l] += 1;
    }
    // Parts: 0 train, 1 val, 2 test.
    let fraction = [(1.0 - val - test).max(0.0), val, test];
    let mut have = [vec![0usize; classes], vec![0; classes], vec![0; classes]];
    let mut assigned: [Vec<usize>; 3] = Default::default();
    let mut take = |part: usize, group: Vec<usize>, have: &mut [Vec<usize>; 3]| {
        for &i in &group {
            have[part][labels[i]] += 1;
        }
        assigned[part].extend(group);
    };

    if rest.len() >= 3 {
        for part in [2, 1] {
            if fraction[part] > 0.0 {
                let group = rest.remove(0);
                take(part, group, &mut have);
            }
        }
    }
    let total = labels.len() as f64;
    while !rest.is_empty() {
        let progress = |part: usize, have: &[Vec<usize>; 3]| {
            have[part].iter().sum::<usize>() as f64 / (fraction[part] * total)
        };
        let mut part = None;
        for p in [0, 1, 2] {
            if fraction[p] > 0.0
                && part.is_none_or(|best| progress(p, &have) < progress(best, &have))
            {
                part = Some(p);
            }
        }
        let part = part.unwrap_or(0);
        let score = |group: &[usize]| -> f64 {
            let mut histogram = vec![0usize; classes];
            for &i in group {
                histogram[labels[i]] += 1;
            }
            let fill: f64 = (0..classes)
                .map(|c| {
                    let short =
                        (fraction[part] * class_total[c] as f64 - have[part][c] as f64).max(0.0);
                    (histogram[c] as f64).min(short)
                })
                .sum();
            fill - (group.len() as f64 - fill)
        };
        let mut best = 0;
        let mut best_score = f64::NEG_INFINITY;
        for (g, group) in rest.iter().enumerate() {
            let s = score(group);
            if s > best_score {
                best = g;
                best_score = s;
            }
        }
        let group = rest.remove(best);
        take(part, group, &mut have);
    }
    let [mut train, mut val, mut test] = assigned;
    train.sort_unstable();
    val.sort_unstable();
    test.sort_unstable();
    Split { train, val, test }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn part_sizes_round_and_keep_every_part() {
        assert_eq!(part_sizes(100, 0.1, 0.2), (10, 20));
        assert_eq!(part_sizes(3, 0.1, 0.1), (1, 1));
        assert_eq!(part_sizes(3, 0.0, 0.1), (0, 1));
        assert_eq!(part_sizes(2, 0.1, 0.1), (0, 0));
        assert_eq!(part_sizes(2, 0.5, 0.5), (1, 0));
        assert_eq!(part_sizes(1, 0.5, 0.5), (0, 0));
        assert_eq!(part_sizes(0, 0.5, 0.5), (0, 0));
        assert_eq!(part_sizes(10, 0.5, 0.5), (5, 4));
    }

    #[test]
    fn fractions_are_sanitized() {
        assert_eq!(fractions(f32::NAN, -1.0), (0.0, 0.0));
        assert_eq!(fractions(0.75, 0.75), (0.5, 0.5));
        assert_eq!(fractions(2.0, 0.0), (1.0, 0.0));
    }

    #[test]
    fn stratified_keeps_class_proportions() {
        let labels: Vec<usize> = (0..1000).map(|i| i % 4).collect();
        let s = stratified(&labels, 0.1, 0.2, 7);
        assert_eq!((s.train.len(), s.val.len(), s.test.len()), (700, 100, 200));
        for class in 0..4 {
            assert_eq!(s.test.iter().filter(|&&i| labels[i] == class).count(), 50);
        }
    }

    #[test]
    fn the_split_is_pinned() {
        // A change here changes every reported figure: it must be deliberate.
        let labels = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
        let s = stratified(&labels, 0.25, 0.25, 1);
        assert_eq!(s, stratified(&labels, 0.25, 0.25, 1));
        assert_eq!(s.val.len() + s.test.len(), 6);
        assert_ne!(s, stratified(&labels, 0.25, 0.25, 2));
    }

    #[test]
    fn groups_stay_whole() {
        let labels: Vec<usize> = (0..240).map(|i| i % 8).collect();
        let groups: Vec<String> = (0..240).map(|i| format!("actor{}", i / 10)).collect();
        let s = by_group(&labels, &groups, 0.125, 0.125, 3);
        assert_eq!(s.test.len(), 30);
        assert_eq!(s.val.len(), 30);
        for part in [&s.train, &s.val, &s.test] {
            for class in 0..8 {
                assert!(part.iter().any(|&i| labels[i] == class));
            }
        }
    }
}
