//! Which pairs a caption is forced to say: the rules of the crate docs' "Which pairs are forced".

use sentio_models::{ANPS, Anp, AnpCategory};

/// Pairs that describe scenes that cannot both be true; the lower-scored one is dropped. (Pairs
/// sharing a noun, an adjective, the window's view or the subject clash by the general rules.)
pub(crate) const CONTRADICTIONS: [(&str, &str); 6] = [
    // A sunny room needs the sun out.
    ("sunny_room", "cloudy_sky"),
    ("sunny_room", "stormy_sky"),
    ("sunny_room", "rainy_window"),
    ("sunny_room", "starry_night"),
    // The hall is the place: there is no room to describe.
    ("empty_hall", "sunny_room"),
    ("empty_hall", "dark_room"),
];

/// Whether `anp` is the pair labelled `label` (`adjective_noun`).
pub(crate) fn is(anp: &Anp, label: &str) -> bool {
    label.split_once('_') == Some((anp.adjective, anp.noun))
}

/// Whether `a` and `b` cannot both be said in one caption.
pub(crate) fn clash(a: &Anp, b: &Anp) -> bool {
    use AnpCategory::{Crowd, Sky};
    a.noun == b.noun
        // A repeated adjective ("a blue shirt ... a blue sky") reads as a mistake.
        || a.adjective == b.adjective
        // The window shows one view; the scene has one subject.
        || (a.category == Sky && b.category == Sky)
        || (a.category == Crowd && b.category == Crowd)
        || CONTRADICTIONS
            .iter()
            .any(|&(x, y)| (is(a, x) && is(b, y)) || (is(a, y) && is(b, x)))
}

/// Whether `anp` can be said of a scene where `faces` faces were seen. The face count comes from
/// the face detector, which counts; the pairs only say how the scene looks, so a pair that
/// contradicts the count is not said.
pub(crate) fn fits(anp: &Anp, faces: usize) -> bool {
    match (anp.category, anp.noun) {
        (AnpCategory::Face, _) | (AnpCategory::Colour, "shirt") => faces >= 1,
        (AnpCategory::Crowd, "person") => faces == 1,
        (AnpCategory::Crowd, "group") => (2..=4).contains(&faces),
        (AnpCategory::Crowd, "queue") => faces >= 2,
        (AnpCategory::Crowd, "crowd") => faces >= 5,
        (AnpCategory::Crowd, "hall") => faces == 0,
        // A subject the template has no wording for.
        (AnpCategory::Crowd, _) => false,
        _ => true,
    }
}

/// The pairs to force, highest score first: each pair at or above `min_score`, in order of
/// score (ties: lower index first), unless it does not fit the face count or clashes with a pair
/// already taken; at most `top_k`. Indices outside [`ANPS`] and scores that are not numbers are
/// ignored.
pub(crate) fn select(
    anps: &[(usize, f32)],
    faces: usize,
    top_k: usize,
    min_score: f32,
) -> Vec<usize> {
    let mut candidates: Vec<(usize, f32)> = anps
        .iter()
        .copied()
        .filter(|&(i, score)| i < ANPS.len() && score >= min_score)
        .collect();
    candidates.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut forced: Vec<usize> = Vec::with_capacity(top_k.min(ANPS.len()));
    for (i, _) in candidates {
        if forced.len() >= top_k {
            break;
        }
        let anp = &ANPS[i];
        if fits(anp, faces) && !forced.iter().any(|&f| clash(&ANPS[f], anp)) {
            forced.push(i);
        }
    }
    forced
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentio_models::anp::by_label;

    fn idx(label: &str) -> usize {
        sentio_models::ANP32.index_of(label).unwrap()
    }

    #[test]
    fn contradictions_name_real_pairs() {
        for (a, b) in CONTRADICTIONS {
            assert!(by_label(a).is_some(), "{a}");
            assert!(by_label(b).is_some(), "{b}");
        }
    }

    #[test]
    fn every_crowd_pair_fits_some_face_count() {
        for anp in ANPS.iter().filter(|a| a.category == AnpCategory::Crowd) {
            assert!((0..10).any(|n| fits(anp, n)), "{anp:?}");
        }
    }

    #[test]
    fn the_higher_of_two_clashing_pairs_wins() {
        let s = select(
            &[(idx("cloudy_sky"), 0.7), (idx("blue_sky"), 0.8)],
            1,
            3,
            0.5,
        );
        assert_eq!(s, [idx("blue_sky")]);
        let s = select(
            &[(idx("dark_room"), 0.9), (idx("sunny_room"), 0.95)],
            1,
            3,
            0.5,
        );
        assert_eq!(s, [idx("sunny_room")]);
        // A pair that does not fit does not block a lower one that does.
        let s = select(
            &[(idx("lonely_person"), 0.9), (idx("small_group"), 0.6)],
            3,
            3,
            0.5,
        );
        assert_eq!(s, [idx("small_group")]);
    }

    #[test]
    fn threshold_top_k_and_bad_input() {
        let anps = [
            (idx("warm_light"), 0.5),
            (idx("green_plant"), 0.49),
            (99, 1.0),
            (idx("pink_flowers"), f32::NAN),
            (idx("red_shirt"), 0.6),
            (idx("red_shirt"), 0.9),
        ];
        assert_eq!(
            select(&anps, 1, 3, 0.5),
            [idx("red_shirt"), idx("warm_light")]
        );
        assert_eq!(select(&anps, 1, 1, 0.5), [idx("red_shirt")]);
        assert_eq!(select(&anps, 0, 3, 0.5), [idx("warm_light")]);
        assert!(select(&anps, 1, 0, 0.5).is_empty());
        assert!(select(&anps, 1, 3, f32::NAN).is_empty());
    }
}
