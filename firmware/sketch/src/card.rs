//! Finding the drawn card in a camera frame.
//!
//! A visitor holds a light card with a drawing on it up to the camera. On a frame shrunk to
//! about [`WORK_WIDTH`] pixels: thresholds from Otsu's level up to the brightest pixels
//! ([`LEVELS`] of them) separate light from dark; at each, every light connected
//! region (ink strokes on the card are holes, filled row by row) gets a quadrilateral from its
//! convex hull (the hull's diameter as one diagonal, the hull points farthest from it on either
//! side as the other two corners); a region is card-like when it fills its quadrilateral
//! ([`MIN_FILL`]) and is neither tiny nor the whole frame. At the level where the largest
//! card-like region is largest, that region is the card, unless another one is nearly as large
//! ([`SECOND_CARD`]): then the visitor holds two.

use image::{GrayImage, RgbImage};

use crate::{Normalized, SketchError, normalize_drawing, warp_quad};

/// Threshold levels tried between Otsu's and the 97th percentile of brightness.
const LEVELS: u32 = 6;
/// Width the frame is shrunk to before the search (the corners are scaled back).
const WORK_WIDTH: u32 = 160;
/// A card-like region covers at least this share of its quadrilateral.
const MIN_FILL: f32 = 0.88;
/// ... and this share of the frame.
const MIN_AREA: f32 = 0.02;
/// ... and at most this share (a lit wall is not a card).
const MAX_AREA: f32 = 0.9;
/// A second card-like region at least this share of the largest makes two cards.
const SECOND_CARD: f32 = 0.4;
/// The flattened card's longer side, in pixels.
const CARD_PIXELS: f32 = 128.0;
/// What is cut from each edge of the flattened card (its border, the background at the corners).
const CARD_INSET: f32 = 0.06;

/// A quadrilateral in frame pixels: top-left, top-right, bottom-right, bottom-left.
pub type Quad = [[f32; 2]; 4];

/// A card found in a frame.
#[derive(Clone, Debug, PartialEq)]
pub struct FoundCard {
    pub corners: Quad,
    /// The card's drawing, normalized for the emoji CNN (or blank).
    pub drawing: Normalized,
}

/// What the search saw.
#[derive(Clone, Debug, PartialEq)]
pub enum CardSearch {
    Card(FoundCard),
    /// No light quadrilateral large enough.
    NoCard,
    /// Two card-like regions of about the same size: which one is meant is not clear.
    TwoCards([Quad; 2]),
}

/// Find the card in a camera picture and normalize its drawing.
pub fn find_card(picture: &RgbImage) -> Result<CardSearch, SketchError> {
    let (w, h) = picture.dimensions();
    if w < 32 || h < 32 {
        return Err(SketchError::TooSmall {
            what: "the camera frame",
            width: w,
            height: h,
            min: 32,
            help: "check the camera's size in the board profile",
        });
    }
    // The search looks at "whiteness" (the smallest of R, G, B): paper is bright in every
    // channel, a coloured poster or a lit skin tone is not. Ink strokes are closed away (a max
    // then a min over 5x5): the drawing must not cut the card into pieces at the brighter levels.
    let factor = w.div_ceil(WORK_WIDTH).max(1);
    let small = close(&shrink_whiteness(picture, factor), 2);
    let (sw, sh) = (small.width() as usize, small.height() as usize);
    // Paper is the brightest thing in view, but a light wall or poster next to the card merges
    // with it at Otsu's level: the search climbs from there to the brightest pixels and keeps
    // the level where the largest card-like region is largest.
    let otsu_level = otsu(small.as_raw());
    let mut sorted = small.as_raw().to_vec();
    sorted.sort_unstable();
    let top = sorted
        .get(sorted.len() * 97 / 100)
        .copied()
        .unwrap_or(255)
        .max(otsu_level);
    let mut cards: Vec<(f32, Quad)> = Vec::new();
    for step in 0..LEVELS {
        let level = otsu_level as u32 + (top - otsu_level) as u32 * step / LEVELS;
        let light: Vec<bool> = small
            .as_raw()
            .iter()
            .map(|&p| u32::from(p) > level)
            .collect();
        let mut found: Vec<(f32, Quad)> = regions(&light, sw, sh)
            .into_iter()
            .filter_map(|region| card_like(&region, sw, sh))
            .collect();
        found.sort_by(|a, b| b.0.total_cmp(&a.0));
        if found.first().map(|c| c.0) > cards.first().map(|c| c.0) {
            cards = found;
        }
    }
    let to_frame = |q: Quad| q.map(|[x, y]| [x * factor as f32, y * factor as f32]);
    let (largest, quad) = match cards.first() {
        None => return Ok(CardSearch::NoCard),
        Some(&(area, quad)) => (area, to_frame(quad)),
    };
    if let Some(&(area, other)) = cards.get(1)
        && area >= SECOND_CARD * largest
    {
        return Ok(CardSearch::TwoCards([quad, to_frame(other)]));
    }
    let side = |a: [f32; 2], b: [f32; 2]| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
    let across = (side(quad[0], quad[1]) + side(quad[3], quad[2])) / 2.0;
    let down = (side(quad[0], quad[3]) + side(quad[1], quad[2])) / 2.0;
    let scale = CARD_PIXELS / across.max(down).max(1.0);
    let (cw, ch) = (
        (across * scale).round().max(16.0) as u32,
        (down * scale).round().max(16.0) as u32,
    );
    // Luma for the drawing, of the card's bounding box only (with a margin for the filter).
    let x0 = quad
        .iter()
        .map(|p| p[0])
        .fold(f32::MAX, f32::min)
        .floor()
        .max(0.0) as u32;
    let y0 = quad
        .iter()
        .map(|p| p[1])
        .fold(f32::MAX, f32::min)
        .floor()
        .max(0.0) as u32;
    let x1 = (quad.iter().map(|p| p[0]).fold(0.0, f32::max).ceil() as u32 + 2).min(w);
    let y1 = (quad.iter().map(|p| p[1]).fold(0.0, f32::max).ceil() as u32 + 2).min(h);
    let x0 = x0.saturating_sub(2).min(x1.saturating_sub(1));
    let y0 = y0.saturating_sub(2).min(y1.saturating_sub(1));
    let region = GrayImage::from_fn(x1 - x0, y1 - y0, |x, y| {
        let [r, g, b] = picture.get_pixel(x0 + x, y0 + y).0;
        image::Luma([luma(r, g, b)])
    });
    let in_region = quad.map(|[x, y]| [x - x0 as f32, y - y0 as f32]);
    let Some(flat) = warp_quad(&region, in_region, cw, ch, CARD_INSET) else {
        return Ok(CardSearch::NoCard);
    };
    Ok(CardSearch::Card(FoundCard {
        corners: quad,
        drawing: normalize_drawing(&flat)?,
    }))
}

/// BT.601 luma, as the device's face pipeline computes it.
fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b) + 500) / 1000) as u8
}

/// Grey closing: the maximum over a `(2r+1)^2` window, then the minimum.
fn close(image: &GrayImage, r: u32) -> GrayImage {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let values: Vec<f32> = image.as_raw().iter().map(|&v| f32::from(v)).collect();
    let max = crate::normalize::extreme_filter(&values, w, h, r as usize, f32::max);
    let closed = crate::normalize::extreme_filter(&max, w, h, r as usize, f32::min);
    // Maxima and minima of whole numbers are whole numbers: the cast is exact.
    let bytes = closed.iter().map(|&v| v as u8).collect();
    GrayImage::from_raw(image.width(), image.height(), bytes).unwrap_or_else(|| image.clone())
}

/// The whiteness (smallest of R, G, B) of `picture`, area-averaged by `factor` both ways.
fn shrink_whiteness(picture: &RgbImage, factor: u32) -> GrayImage {
    let (w, h) = (picture.width() / factor, picture.height() / factor);
    GrayImage::from_fn(w, h, |x, y| {
        let mut sum = 0u32;
        for dy in 0..factor {
            for dx in 0..factor {
                let [r, g, b] = picture.get_pixel(x * factor + dx, y * factor + dy).0;
                sum += u32::from(r.min(g).min(b));
            }
        }
        image::Luma([(sum / (factor * factor)) as u8])
    })
}

/// Otsu's threshold of 8-bit values: the level that best splits them into two classes.
fn otsu(values: &[u8]) -> u8 {
    let mut histogram = [0u64; 256];
    for &v in values {
        histogram[usize::from(v)] += 1;
    }
    let total = values.len() as f64;
    let sum_all: f64 = histogram
        .iter()
        .enumerate()
        .map(|(i, &n)| i as f64 * n as f64)
        .sum();
    let (mut weight_low, mut sum_low) = (0.0, 0.0);
    let (mut best, mut best_level) = (-1.0, 128u8);
    for (level, &n) in histogram.iter().enumerate() {
        weight_low += n as f64;
        sum_low += level as f64 * n as f64;
        let weight_high = total - weight_low;
        if weight_low == 0.0 || weight_high == 0.0 {
            continue;
        }
        let (mean_low, mean_high) = (sum_low / weight_low, (sum_all - sum_low) / weight_high);
        let between = weight_low * weight_high * (mean_low - mean_high).powi(2);
        if between > best {
            best = between;
            best_level = level as u8;
        }
    }
    best_level
}

/// One light region: per row, the leftmost and rightmost pixel (holes and bays filled).
struct Region {
    rows: Vec<(usize, usize, usize)>,
}

/// The 4-connected light regions of a mask.
fn regions(light: &[bool], w: usize, h: usize) -> Vec<Region> {
    let mut label = vec![usize::MAX; w * h];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if !light[start] || label[start] != usize::MAX {
            continue;
        }
        let id = out.len();
        let mut spans: Vec<Option<(usize, usize)>> = vec![None; h];
        label[start] = id;
        stack.push(start);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            let span = spans[y].get_or_insert((x, x));
            *span = (span.0.min(x), span.1.max(x));
            let mut visit = |j: usize| {
                if light[j] && label[j] == usize::MAX {
                    label[j] = id;
                    stack.push(j);
                }
            };
            if x > 0 {
                visit(i - 1);
            }
            if x + 1 < w {
                visit(i + 1);
            }
            if y > 0 {
                visit(i - w);
            }
            if y + 1 < h {
                visit(i + w);
            }
        }
        let rows = spans
            .iter()
            .enumerate()
            .filter_map(|(y, s)| s.map(|(a, b)| (y, a, b)))
            .collect();
        out.push(Region { rows });
    }
    out
}

/// The region's quadrilateral and area when it looks like a card.
fn card_like(region: &Region, w: usize, h: usize) -> Option<(f32, Quad)> {
    let area: f32 = region
        .rows
        .iter()
        .map(|&(_, a, b)| (b - a + 1) as f32)
        .sum();
    let frame = (w * h) as f32;
    if area < MIN_AREA * frame || area > MAX_AREA * frame {
        return None;
    }
    // Pixel corners of each row's ends, so the hull encloses whole pixels.
    let mut points = Vec::with_capacity(region.rows.len() * 4);
    for &(y, a, b) in &region.rows {
        let (y0, y1) = (y as f32, y as f32 + 1.0);
        points.extend([
            [a as f32, y0],
            [a as f32, y1],
            [b as f32 + 1.0, y0],
            [b as f32 + 1.0, y1],
        ]);
    }
    let hull = convex_hull(points);
    let quad = quad_of_hull(&hull)?;
    let quad_area = polygon_area(&quad);
    (quad_area > 0.0 && area / quad_area >= MIN_FILL && area / quad_area <= 1.0 / MIN_FILL)
        .then_some((area, quad))
}

/// Andrew's monotone chain; counter-clockwise in a y-down frame is clockwise on screen.
fn convex_hull(mut points: Vec<[f32; 2]>) -> Vec<[f32; 2]> {
    points.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    points.dedup();
    if points.len() < 3 {
        return points;
    }
    let cross = |o: [f32; 2], a: [f32; 2], b: [f32; 2]| {
        (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    };
    let mut hull: Vec<[f32; 2]> = Vec::with_capacity(points.len() * 2);
    for pass in 0..2 {
        let start = hull.len();
        let ordered: Box<dyn Iterator<Item = &[f32; 2]>> = if pass == 0 {
            Box::new(points.iter())
        } else {
            Box::new(points.iter().rev())
        };
        for &p in ordered {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0
            {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    hull
}

/// Four corners of a convex hull: its diameter's ends and the points farthest from that
/// diagonal on either side, ordered top-left, top-right, bottom-right, bottom-left.
fn quad_of_hull(hull: &[[f32; 2]]) -> Option<Quad> {
    if hull.len() < 4 {
        return None;
    }
    let dist2 = |a: [f32; 2], b: [f32; 2]| (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2);
    let (mut a, mut c, mut best) = (hull[0], hull[0], 0.0);
    for (i, &p) in hull.iter().enumerate() {
        for &q in &hull[i + 1..] {
            let d = dist2(p, q);
            if d > best {
                (a, c, best) = (p, q, d);
            }
        }
    }
    let side = |p: [f32; 2]| (c[0] - a[0]) * (p[1] - a[1]) - (c[1] - a[1]) * (p[0] - a[0]);
    let b = *hull.iter().max_by(|p, q| side(**p).total_cmp(&side(**q)))?;
    let d = *hull.iter().min_by(|p, q| side(**p).total_cmp(&side(**q)))?;
    if side(b) <= 0.0 || side(d) >= 0.0 {
        return None;
    }
    let mut corners = [a, b, c, d];
    // Order by angle around the centre, starting from the corner nearest the top-left.
    let (cx, cy) = (
        corners.iter().map(|p| p[0]).sum::<f32>() / 4.0,
        corners.iter().map(|p| p[1]).sum::<f32>() / 4.0,
    );
    corners.sort_by(|p, q| {
        (p[1] - cy)
            .atan2(p[0] - cx)
            .total_cmp(&(q[1] - cy).atan2(q[0] - cx))
    });
    // atan2 in a y-down frame goes clockwise on screen from the left: rotate so that the
    // top-left (smallest x + y) comes first.
    let first = (0..4).min_by(|&i, &j| {
        (corners[i][0] + corners[i][1]).total_cmp(&(corners[j][0] + corners[j][1]))
    })?;
    corners.rotate_left(first);
    Some(corners)
}

fn polygon_area(points: &[[f32; 2]]) -> f32 {
    let n = points.len();
    let twice: f32 = (0..n)
        .map(|i| {
            let (p, q) = (points[i], points[(i + 1) % n]);
            p[0] * q[1] - q[0] * p[1]
        })
        .sum();
    twice.abs() / 2.0
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::raster::{Canvas, arc, pt};

    /// A dark frame with light quadrilaterals, each with a ring drawn on it when `ink`.
    fn frame(cards: &[(Quad, bool)]) -> RgbImage {
        let mut canvas = Canvas::new(320, 240, 0.25);
        for (quad, ink) in cards {
            let polygon: Vec<_> = quad.iter().map(|p| pt(p[0], p[1])).collect();
            canvas.fill(&polygon, 0.9, 1.0);
            if *ink {
                let cx = quad.iter().map(|p| p[0]).sum::<f32>() / 4.0;
                let cy = quad.iter().map(|p| p[1]).sum::<f32>() / 4.0;
                let ring = arc(pt(cx, cy), 20.0, 20.0, 0.0, std::f32::consts::TAU, 48);
                canvas.stroke_even(&ring, 2.5, 0.05, 1.0);
            }
        }
        image::DynamicImage::ImageLuma8(canvas.to_image()).to_rgb8()
    }

    const TILTED: Quad = [[100.0, 50.0], [230.0, 70.0], [215.0, 200.0], [90.0, 185.0]];

    #[test]
    fn a_tilted_card_is_found_with_its_corners() {
        let found = match find_card(&frame(&[(TILTED, true)])).unwrap() {
            CardSearch::Card(card) => card,
            other => panic!("{other:?}"),
        };
        for (got, want) in found.corners.iter().zip(&TILTED) {
            assert!(
                (got[0] - want[0]).abs() <= 4.0 && (got[1] - want[1]).abs() <= 4.0,
                "{:?} vs {TILTED:?}",
                found.corners
            );
        }
        let image = found.drawing.image().unwrap();
        // The ring is centred in the normalized drawing: ink near the edge of the middle row.
        let row: Vec<u8> = (0..64).map(|x| image.get_pixel(x, 32).0[0]).collect();
        assert!(
            row[..10].iter().any(|&p| p < 100) && row[54..].iter().any(|&p| p < 100),
            "{row:?}"
        );
        assert_eq!(row[32], 255);
    }

    #[test]
    fn no_card_two_cards_and_a_blank_card_are_results() {
        assert_eq!(find_card(&frame(&[])).unwrap(), CardSearch::NoCard);
        let left = [[20.0, 40.0], [140.0, 40.0], [140.0, 200.0], [20.0, 200.0]];
        let right = [[170.0, 50.0], [300.0, 50.0], [300.0, 210.0], [170.0, 210.0]];
        assert!(matches!(
            find_card(&frame(&[(left, true), (right, true)])).unwrap(),
            CardSearch::TwoCards(_)
        ));
        match find_card(&frame(&[(TILTED, false)])).unwrap() {
            CardSearch::Card(card) => assert_eq!(card.drawing, Normalized::Blank),
            other => panic!("{other:?}"),
        }
        // A light blob that is not a quadrilateral is no card.
        let mut canvas = Canvas::new(320, 240, 0.2);
        canvas.fill(
            &crate::raster::ellipse(pt(160.0, 120.0), 70.0, 50.0, 64),
            0.9,
            1.0,
        );
        let blob = image::DynamicImage::ImageLuma8(canvas.to_image()).to_rgb8();
        assert_eq!(find_card(&blob).unwrap(), CardSearch::NoCard);
    }

    #[test]
    fn a_small_second_light_patch_does_not_make_two_cards() {
        let patch = [[10.0, 10.0], [40.0, 10.0], [40.0, 35.0], [10.0, 35.0]];
        assert!(matches!(
            find_card(&frame(&[(TILTED, true), (patch, false)])).unwrap(),
            CardSearch::Card(_)
        ));
    }
}
