//! Property tests of the splits: deterministic, disjoint, covering, stratified, and by group
//! never sharing a group between parts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use sentio_data::split::{Split, by_group, stratified};

fn all(split: &Split) -> Vec<usize> {
    let mut v: Vec<usize> = split
        .train
        .iter()
        .chain(&split.val)
        .chain(&split.test)
        .copied()
        .collect();
    v.sort_unstable();
    v
}

fn disjoint_and_covering(split: &Split, n: usize) {
    assert_eq!(all(split), (0..n).collect::<Vec<_>>());
    for part in [&split.train, &split.val, &split.test] {
        assert!(part.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
    }
}

proptest! {
    #[test]
    fn stratified_is_a_deterministic_partition(
        labels in prop::collection::vec(0usize..6, 0..300),
        val in 0.0f32..0.4,
        test in 0.0f32..0.4,
        seed in any::<u64>(),
    ) {
        let s = stratified(&labels, val, test, seed);
        prop_assert_eq!(&s, &stratified(&labels, val, test, seed));
        disjoint_and_covering(&s, labels.len());
        let mut per_class: BTreeMap<usize, usize> = BTreeMap::new();
        for &l in &labels {
            *per_class.entry(l).or_default() += 1;
        }
        for (&class, &n) in &per_class {
            let count = |part: &[usize]| part.iter().filter(|&&i| labels[i] == class).count();
            prop_assert!(count(&s.train) >= 1, "class {} has no training sample", class);
            if n >= 3 {
                if val > 0.0 { prop_assert!(count(&s.val) >= 1); }
                if test > 0.0 { prop_assert!(count(&s.test) >= 1); }
            }
            // Within rounding (and the at-least-one rule) of the asked fraction.
            let want = (n as f32 * test).round();
            prop_assert!((count(&s.test) as f32 - want).abs() <= 1.0);
        }
    }

    #[test]
    fn stratified_ignores_bad_fractions(
        labels in prop::collection::vec(0usize..3, 1..50),
        val in prop_oneof![Just(f32::NAN), Just(-1.0f32), Just(5.0f32), 0.0f32..1.0],
        test in prop_oneof![Just(f32::NAN), Just(-1.0f32), Just(5.0f32), 0.0f32..1.0],
    ) {
        let s = stratified(&labels, val, test, 1);
        disjoint_and_covering(&s, labels.len());
    }

    #[test]
    fn by_group_never_puts_a_group_in_two_parts(
        samples in prop::collection::vec((0usize..5, 0usize..12), 0..300),
        val in 0.0f32..0.4,
        test in 0.0f32..0.4,
        seed in any::<u64>(),
    ) {
        let labels: Vec<usize> = samples.iter().map(|s| s.0).collect();
        let groups: Vec<String> = samples.iter().map(|s| format!("speaker{}", s.1)).collect();
        let s = by_group(&labels, &groups, val, test, seed);
        prop_assert_eq!(&s, &by_group(&labels, &groups, val, test, seed));
        disjoint_and_covering(&s, labels.len());
        let groups_of = |part: &[usize]| part.iter().map(|&i| groups[i].clone()).collect::<BTreeSet<_>>();
        let (train, v, t) = (groups_of(&s.train), groups_of(&s.val), groups_of(&s.test));
        prop_assert!(train.is_disjoint(&v));
        prop_assert!(train.is_disjoint(&t));
        prop_assert!(v.is_disjoint(&t));
        let distinct: BTreeSet<&String> = groups.iter().collect();
        if distinct.len() >= 3 {
            if val > 0.0 { prop_assert!(!v.is_empty()); }
            if test > 0.0 { prop_assert!(!t.is_empty()); }
            prop_assert!(!train.is_empty());
        }
    }
}

#[test]
fn by_group_keeps_the_sizes_near_the_fractions() {
    // 24 speakers x 8 emotions x 4 takes, like RAVDESS.
    let mut labels = Vec::new();
    let mut groups = Vec::new();
    for actor in 0..24 {
        for emotion in 0..8 {
            for _ in 0..4 {
                labels.push(emotion);
                groups.push(format!("ravdess-{actor:02}"));
            }
        }
    }
    for seed in 0..20 {
        let s = by_group(&labels, &groups, 0.125, 0.125, seed);
        // Whole speakers of 32 samples each: 3 speakers = 96 per part.
        assert_eq!((s.val.len(), s.test.len()), (96, 96), "seed {seed}");
    }
    let a = by_group(&labels, &groups, 0.125, 0.125, 1);
    let b = by_group(&labels, &groups, 0.125, 0.125, 2);
    assert_ne!(a, b, "the seed chooses the speakers");
}

#[test]
fn by_group_with_missing_groups_treats_each_sample_as_its_own() {
    let labels = vec![0; 10];
    let groups: Vec<String> = vec!["a".into(); 4];
    let s = by_group(&labels, &groups, 0.2, 0.2, 0);
    disjoint_and_covering(&s, 10);
    let part_of_a: BTreeSet<usize> = (0..4)
        .map(|i| usize::from(s.val.contains(&i)) + 2 * usize::from(s.test.contains(&i)))
        .collect();
    assert_eq!(part_of_a.len(), 1);
}
