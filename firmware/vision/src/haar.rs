//! Haar cascades evaluated in Rust from OpenCV's cascade XML (the format of
//! `haarcascade_frontalface_default.xml`): integral and squared-integral images, the scale
//! pyramid, stage thresholds, tilted features, and OpenCV's grouping of overlapping windows.
//!
//! The detector reproduces OpenCV 4.x's `CascadeClassifier::detectMultiScale` step by step, so
//! that the same image gives the same boxes:
//!
//! - the scales are `1, s, s², ...` (in `f64`, stored as `f32`) while the window (24 px times the
//!   scale, rounded) fits the image and `max_size`; scales whose window is under `min_size` are
//!   skipped;
//! - at each scale the gray image is resized to `round(W / f) x round(H / f)` with OpenCV's
//!   bit-exact bilinear resize (`INTER_LINEAR_EXACT`: 8-bit fixed-point weights, 16-bit rounding
//!   of the vertical pass; an exact halving averages 2x2 blocks as `INTER_AREA` does);
//! - integral and squared-integral images in 32-bit integers (the squares wrap as OpenCV's
//!   `CV_32S` buffer does; window differences stay exact), plus the tilted integral when a feature
//!   is tilted;
//! - windows every 2 pixels while the scale is under 2, every pixel above, and the next window of
//!   a row skipped when the first stage rejected this one;
//! - each window's variance over the window inset by one pixel (`normrect`), windows of nearly flat
//!   texture (`area / sqrt(area * Σx² - (Σx)²) >= 0.1`) rejected, feature values
//!   `Σ weight * rect sum` in `f32` times the inverse norm, stage sums in `f64` against the
//!   stage threshold minus 1e-5;
//! - `groupRectangles(minNeighbors, eps = 0.2)`: the partition by the similarity predicate, the
//!   mean rectangle of each class, classes of at most `minNeighbors` windows dropped, then a
//!   class nested in a stronger one dropped; finally the boxes clipped to the image.
//!
//! A box's score is the number of windows grouped into it (OpenCV's `numDetections`).
//!
//! The same arithmetic runs in another order to be faster than OpenCV on one thread (about
//! 0.6x its time, tests/bench/bench_faces.py): the norms and the first stage of a whole row of
//! windows in loops over contiguous slices that the compiler vectorizes (for 2-pixel steps the
//! integral's columns are split into an even and an odd plane), then the survivors 4 at a time
//! (a stump's offsets loaded once for the 4), feature sums in integers where that is exact
//! (integer weights, sums under 2^24 — as in every OpenCV face cascade), and 16-bit offsets into
//! padded buffers so the corner reads need no bounds checks. Every rounding step is OpenCV's, so
//! the boxes are the same (firmware/vision/tests/haar_conformance.rs).

use std::path::Path;

use crate::VisionError;
use crate::face::{FaceBox, FaceDetector, Pixels};

/// `detectMultiScale`'s parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HaarParams {
    /// Ratio between two scales of the pyramid (OpenCV's `scaleFactor`), > 1.
    pub scale_factor: f32,
    /// Windows a group needs to be kept (OpenCV's `minNeighbors`).
    pub min_neighbors: u32,
    /// Smallest face side in pixels (OpenCV's `minSize`, square).
    pub min_size: u32,
    /// Largest face side in pixels (0: the image).
    pub max_size: u32,
}

impl Default for HaarParams {
    fn default() -> Self {
        Self {
            scale_factor: 1.1,
            min_neighbors: 3,
            min_size: 24,
            max_size: 0,
        }
    }
}

/// One rectangle of a feature: `x y w h` in the window, and its weight.
#[derive(Clone, Copy, Debug, PartialEq)]
struct WeightedRect {
    x: i32,
    y: i32,
    w: i32,
    h: i32,
    weight: f32,
}

/// A Haar feature: 2 or 3 weighted rectangles, upright or tilted by 45°.
#[derive(Clone, Debug, PartialEq)]
struct Feature {
    rects: Vec<WeightedRect>,
    tilted: bool,
}

/// A node of a weak classifier's tree: `feature value < threshold` goes left. A child `> 0`
/// is another node of the tree, `<= 0` the leaf `-child`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Node {
    feature: usize,
    threshold: f32,
    left: i32,
    right: i32,
}

/// A weak classifier: its nodes and leaves (indices into the cascade's arrays).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Tree {
    first_node: usize,
    nodes: usize,
    first_leaf: usize,
}

/// A boosted stage: its trees and the threshold their sum must reach.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Stage {
    first_tree: usize,
    trees: usize,
    /// The file's threshold minus 1e-5, in `f32` as OpenCV stores it.
    threshold: f32,
}

/// A parsed cascade.
#[derive(Clone, Debug)]
pub struct Cascade {
    width: u32,
    height: u32,
    stages: Vec<Stage>,
    trees: Vec<Tree>,
    nodes: Vec<Node>,
    leaves: Vec<f32>,
    features: Vec<Feature>,
    tilted: bool,
}

impl Cascade {
    /// Reads a cascade file; errors name the file and what is wrong with it.
    pub fn from_file(path: &Path) -> Result<Self, VisionError> {
        let text = std::fs::read_to_string(path).map_err(|e| VisionError::Cascade {
            path: path.to_path_buf(),
            reason: format!("cannot read it ({e})"),
        })?;
        Self::parse(&text, path)
    }

    /// Parses the XML text of a cascade; `origin` names it in errors.
    pub fn parse(xml: &str, origin: &Path) -> Result<Self, VisionError> {
        parse_cascade(xml).map_err(|reason| VisionError::Cascade {
            path: origin.to_path_buf(),
            reason,
        })
    }

    /// The detection window (width, height) the cascade was trained on.
    pub fn window(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Number of boosted stages.
    pub fn stage_count(&self) -> usize {
        self.stages.len()
    }

    /// Number of weak classifiers over all stages.
    pub fn weak_count(&self) -> usize {
        self.trees.len()
    }

    /// Number of Haar features.
    pub fn feature_count(&self) -> usize {
        self.features.len()
    }

    /// Whether some feature is tilted by 45° (the detector then also builds the tilted integral).
    pub fn has_tilted_features(&self) -> bool {
        self.tilted
    }

    /// Whether every weak classifier is a single node (a stump), as in the frontal-face cascades.
    fn stump_based(&self) -> bool {
        self.trees.iter().all(|t| t.nodes == 1)
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// The element child of `node` named `name`.
fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

/// The element children of `node` (OpenCV's sequence items `<_>`).
fn items<'a, 'i>(node: roxmltree::Node<'a, 'i>) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
    node.children().filter(|c| c.is_element())
}

/// The text directly inside `node` (comments left out), trimmed.
fn text_of(node: roxmltree::Node<'_, '_>) -> String {
    let mut s = String::new();
    for c in node.children().filter(|c| c.is_text()) {
        if let Some(t) = c.text() {
            s.push_str(t);
            s.push(' ');
        }
    }
    s.trim().to_owned()
}

/// The required child `name` of `node`, described by `what` in the error.
fn need<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    name: &str,
    what: &str,
) -> Result<roxmltree::Node<'a, 'i>, String> {
    child(node, name).ok_or_else(|| format!("{what} has no <{name}>"))
}

fn parse_int(s: &str, what: &str) -> Result<i64, String> {
    let t = s.trim();
    t.parse::<i64>()
        .ok()
        .or_else(|| {
            // OpenCV writes integers in float fields sometimes ("1."); accept whole floats.
            t.parse::<f64>()
                .ok()
                .filter(|v| v.fract() == 0.0 && v.abs() < 1e15)
                .map(|v| v as i64)
        })
        .ok_or_else(|| format!("{what}: `{t}` is not an integer"))
}

/// A float as OpenCV reads it: parsed as `f64`, then narrowed to `f32`.
fn parse_f32(s: &str, what: &str) -> Result<f32, String> {
    let t = s.trim();
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v as f32),
        _ => Err(format!("{what}: `{t}` is not a finite number")),
    }
}

fn int_child(node: roxmltree::Node<'_, '_>, name: &str, what: &str) -> Result<i64, String> {
    let n = need(node, name, what)?;
    parse_int(&text_of(n), &format!("{what} <{name}>"))
}

fn parse_cascade(xml: &str) -> Result<Cascade, String> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| {
        format!("not well-formed XML ({e}); the file may be truncated or not a cascade at all")
    })?;
    let storage = doc.root_element();
    if storage.tag_name().name() != "opencv_storage" {
        return Err(format!(
            "not an OpenCV storage file (the root element is <{}>, not <opencv_storage>)",
            storage.tag_name().name()
        ));
    }
    let root = items(storage)
        .next()
        .ok_or("the file holds no cascade (<opencv_storage> is empty)")?;
    let Some(stage_type) = child(root, "stageType") else {
        if child(root, "size").is_some() && child(root, "stages").is_some() {
            return Err(format!(
                "<{}> is a cascade in OpenCV 1.x's old format (<size>, <trees>), which this \
                 detector does not read; use the new-format files of OpenCV 2.4+ (opencv-data's)",
                root.tag_name().name()
            ));
        }
        return Err(format!(
            "<{}> is not a cascade (no <stageType>)",
            root.tag_name().name()
        ));
    };
    let st = text_of(stage_type);
    if st != "BOOST" {
        return Err(format!("stageType is `{st}`; only BOOST cascades exist"));
    }
    let ft = text_of(need(root, "featureType", "the cascade")?);
    if ft != "HAAR" {
        return Err(format!(
            "featureType is `{ft}`; this detector evaluates HAAR cascades only"
        ));
    }
    let width = int_child(root, "width", "the cascade")?;
    let height = int_child(root, "height", "the cascade")?;
    if !(3..=4096).contains(&width) || !(3..=4096).contains(&height) {
        return Err(format!(
            "the window is {width}x{height}; it must be at least 3x3 (and at most 4096)"
        ));
    }
    let fparams = need(root, "featureParams", "the cascade")?;
    if let Some(n) = child(fparams, "maxCatCount") {
        let cats = parse_int(&text_of(n), "featureParams <maxCatCount>")?;
        if cats != 0 {
            return Err(format!(
                "maxCatCount is {cats}: categorical features belong to LBP cascades, not HAAR"
            ));
        }
    }

    let stages_node = need(root, "stages", "the cascade")?;
    let mut stages = Vec::new();
    let mut trees = Vec::new();
    let mut nodes = Vec::new();
    let mut leaves = Vec::new();
    for (si, stage) in items(stages_node).enumerate() {
        let what = format!("stage {si}");
        let threshold = parse_f32(
            &text_of(need(stage, "stageThreshold", &what)?),
            &format!("{what} <stageThreshold>"),
        )?;
        let weak = need(stage, "weakClassifiers", &what)?;
        let first_tree = trees.len();
        for (wi, w) in items(weak).enumerate() {
            let what = format!("stage {si}, weak classifier {wi}");
            let inner = text_of(need(w, "internalNodes", &what)?);
            let leaf_text = text_of(need(w, "leafValues", &what)?);
            let inner: Vec<&str> = inner.split_whitespace().collect();
            let leaf_vals: Vec<&str> = leaf_text.split_whitespace().collect();
            if inner.is_empty() || !inner.len().is_multiple_of(4) {
                return Err(format!(
                    "{what}: <internalNodes> holds {} numbers; it needs 4 per node (left right \
                     feature threshold)",
                    inner.len()
                ));
            }
            let n_nodes = inner.len() / 4;
            if leaf_vals.len() != n_nodes + 1 {
                return Err(format!(
                    "{what}: {n_nodes} node(s) need {} leaf values, <leafValues> holds {}",
                    n_nodes + 1,
                    leaf_vals.len()
                ));
            }
            let first_node = nodes.len();
            for (ni, q) in inner.chunks_exact(4).enumerate() {
                let what = format!("{what}, node {ni}");
                let left = parse_int(q[0], &what)?;
                let right = parse_int(q[1], &what)?;
                let feature = parse_int(q[2], &what)?;
                let threshold = parse_f32(q[3], &what)?;
                for c in [left, right] {
                    let ok = if c > 0 {
                        (c as usize) < n_nodes && c as usize > ni
                    } else {
                        c.unsigned_abs() as usize <= n_nodes
                    };
                    if !ok {
                        return Err(format!(
                            "{what}: child {c} points outside the tree ({n_nodes} node(s), \
                             {} leaves)",
                            n_nodes + 1
                        ));
                    }
                }
                if feature < 0 {
                    return Err(format!("{what}: feature index {feature} is negative"));
                }
                nodes.push(Node {
                    feature: feature as usize,
                    threshold,
                    left: left as i32,
                    right: right as i32,
                });
            }
            let first_leaf = leaves.len();
            for (li, l) in leaf_vals.iter().enumerate() {
                leaves.push(parse_f32(l, &format!("{what}, leaf {li}"))?);
            }
            trees.push(Tree {
                first_node,
                nodes: n_nodes,
                first_leaf,
            });
        }
        let n_trees = trees.len() - first_tree;
        if n_trees == 0 {
            return Err(format!("{what} has no weak classifiers"));
        }
        if let Some(m) = child(stage, "maxWeakCount") {
            let declared = parse_int(&text_of(m), &format!("{what} <maxWeakCount>"))?;
            if declared != n_trees as i64 {
                return Err(format!(
                    "{what} declares {declared} weak classifiers (<maxWeakCount>) but holds \
                     {n_trees}"
                ));
            }
        }
        stages.push(Stage {
            first_tree,
            trees: n_trees,
            threshold: threshold - 1e-5f32,
        });
    }
    if stages.is_empty() {
        return Err("<stages> holds no stage".into());
    }
    if let Some(n) = child(root, "stageNum") {
        let declared = parse_int(&text_of(n), "<stageNum>")?;
        if declared != stages.len() as i64 {
            return Err(format!(
                "<stageNum> says {declared} stages but <stages> holds {}",
                stages.len()
            ));
        }
    }

    let features_node = need(root, "features", "the cascade")?;
    let mut features = Vec::new();
    for (fi, f) in items(features_node).enumerate() {
        let what = format!("feature {fi}");
        let rects_node = need(f, "rects", &what)?;
        let tilted = match child(f, "tilted") {
            Some(t) => parse_int(&text_of(t), &format!("{what} <tilted>"))? != 0,
            None => false,
        };
        let mut rects = Vec::new();
        for (ri, r) in items(rects_node).enumerate() {
            let what = format!("{what}, rect {ri}");
            let t = text_of(r);
            let v: Vec<&str> = t.split_whitespace().collect();
            if v.len() != 5 {
                return Err(format!(
                    "{what}: `{t}` has {} numbers; a rect is `x y w h weight`",
                    v.len()
                ));
            }
            let mut xywh = [0i32; 4];
            for (k, s) in v[..4].iter().enumerate() {
                let n = parse_int(s, &what)?;
                xywh[k] = i32::try_from(n).map_err(|_| format!("{what}: {n} is out of range"))?;
            }
            let [x, y, w, h] = xywh;
            let weight = parse_f32(v[4], &what)?;
            let (wi, hi) = (width as i32, height as i32);
            let inside = if tilted {
                w >= 0 && h >= 0 && x - h >= 0 && x + w <= wi && y >= 0 && y + w + h <= hi
            } else {
                w >= 0 && h >= 0 && x >= 0 && y >= 0 && x + w <= wi && y + h <= hi
            };
            if !inside {
                return Err(format!(
                    "{what}: the {}rectangle {x} {y} {w} {h} does not fit the {width}x{height} \
                     window",
                    if tilted { "tilted " } else { "" }
                ));
            }
            rects.push(WeightedRect { x, y, w, h, weight });
        }
        if rects.is_empty() || rects.len() > 3 {
            return Err(format!(
                "{what} has {} rectangles; a Haar feature has 1 to 3",
                rects.len()
            ));
        }
        features.push(Feature { rects, tilted });
    }
    if let Some(bad) = nodes.iter().find(|n| n.feature >= features.len()) {
        return Err(format!(
            "a node uses feature {} but <features> holds {}",
            bad.feature,
            features.len()
        ));
    }
    let tilted = features.iter().any(|f| f.tilted);
    Ok(Cascade {
        width: width as u32,
        height: height as u32,
        stages,
        trees,
        nodes,
        leaves,
        features,
        tilted,
    })
}

// ---------------------------------------------------------------------------------------------
// Image operations, as OpenCV computes them

/// `cvRound` of a `f64`: nearest, ties to even.
#[inline]
fn cv_round(v: f64) -> i64 {
    v.round_ties_even() as i64
}

/// `cvRound` of a `f32`.
#[inline]
fn cv_round_f32(v: f32) -> i64 {
    v.round_ties_even() as i64
}

/// One axis of OpenCV's bit-exact bilinear resize: per output index, the source index and its
/// weight (of 256) for the next source sample, and the output range `[lo, hi)` interpolated
/// (before it: the first sample; from `hi` on: the last).
struct Axis {
    ofs: Vec<usize>,
    w1: Vec<u16>,
    lo: usize,
    hi: usize,
}

fn resize_axis(src: usize, dst: usize) -> Axis {
    let inv_scale = dst as f64 / src as f64;
    let scale = 1.0 / inv_scale;
    let mut ofs = vec![0usize; dst];
    let mut w1 = vec![0u16; dst];
    let (mut lo, mut hi) = (0usize, dst);
    for v in 0..dst {
        let fval = scale * (v as f64 + 0.5) - 0.5;
        let ival = fval.floor();
        if ival >= 0.0 && src > 1 {
            let i = ival as usize;
            if i < src - 1 {
                ofs[v] = i;
                let frac = fval - ival;
                w1[v] = (frac * 256.0).round_ties_even().clamp(0.0, 256.0) as u16;
            } else {
                ofs[v] = src - 1;
                hi = hi.min(v);
            }
        } else {
            lo = lo.max(v + 1);
        }
    }
    Axis { ofs, w1, lo, hi }
}

/// One source row through the horizontal pass: 8.8 fixed point.
fn hline(row: &[u8], ax: &Axis, out: &mut [u16]) {
    let first = u16::from(row[0]) << 8;
    let last_src = ax.ofs.last().map_or(0, |&o| o.min(row.len() - 1));
    let last = u16::from(row[last_src]) << 8;
    let lo = ax.lo.min(out.len());
    let hi = ax.hi.max(lo).min(out.len());
    for o in &mut out[..lo] {
        *o = first;
    }
    for (i, o) in out.iter_mut().enumerate().take(hi).skip(lo) {
        let s = ax.ofs[i];
        let w1 = ax.w1[i];
        let w0 = 256 - w1;
        *o = w0 * u16::from(row[s]) + w1 * u16::from(row[s + 1]);
    }
    for o in &mut out[hi..] {
        *o = last;
    }
}

/// `cv::resize(src, dst, (dw, dh), INTER_LINEAR_EXACT)` for one 8-bit channel.
fn resize_exact(src: &[u8], sw: usize, sh: usize, dst: &mut Vec<u8>, dw: usize, dh: usize) {
    dst.clear();
    dst.resize(dw * dh, 0);
    if sw == dw && sh == dh {
        dst.copy_from_slice(&src[..sw * sh]);
        return;
    }
    if dw * 2 == sw && dh * 2 == sh {
        // cv::resize takes an exact halving to INTER_AREA: the mean of each 2x2 block, rounded.
        for y in 0..dh {
            let (r0, r1) = (&src[2 * y * sw..], &src[(2 * y + 1) * sw..]);
            for x in 0..dw {
                let s = u32::from(r0[2 * x])
                    + u32::from(r0[2 * x + 1])
                    + u32::from(r1[2 * x])
                    + u32::from(r1[2 * x + 1]);
                dst[y * dw + x] = ((s + 2) >> 2) as u8;
            }
        }
        return;
    }
    let ax = resize_axis(sw, dw);
    let ay = resize_axis(sh, dh);
    let mut h0 = vec![0u16; dw];
    let mut h1 = vec![0u16; dw];
    // The source rows currently in h0 / h1 (usize::MAX: none).
    let (mut r0, mut r1) = (usize::MAX, usize::MAX);
    for y in 0..dh {
        let out = &mut dst[y * dw..(y + 1) * dw];
        if y < ay.lo || y >= ay.hi {
            let r = if y < ay.lo { 0 } else { sh - 1 };
            if r0 != r {
                hline(&src[r * sw..(r + 1) * sw], &ax, &mut h0);
                r0 = r;
            }
            for (o, &v) in out.iter_mut().zip(&h0) {
                *o = ((u32::from(v) + 128) >> 8) as u8;
            }
            continue;
        }
        let iy = ay.ofs[y];
        if r0 != iy {
            if r1 == iy {
                std::mem::swap(&mut h0, &mut h1);
                r0 = iy;
                r1 = usize::MAX;
            } else {
                hline(&src[iy * sw..(iy + 1) * sw], &ax, &mut h0);
                r0 = iy;
            }
        }
        if r1 != iy + 1 {
            hline(&src[(iy + 1) * sw..(iy + 2) * sw], &ax, &mut h1);
            r1 = iy + 1;
        }
        let w1 = u32::from(ay.w1[y]);
        let w0 = 256 - w1;
        for ((o, &a), &b) in out.iter_mut().zip(&h0).zip(&h1) {
            let v = w0 * u32::from(a) + w1 * u32::from(b);
            *o = ((v + (1 << 15)) >> 16).min(255) as u8;
        }
    }
}

/// Integral and squared integral (wrapping 32-bit, as OpenCV's `CV_32S` buffers) of a
/// `w x h` image into `(h + 1)` rows of `stride >= w + 1` values.
fn integrals(img: &[u8], w: usize, h: usize, stride: usize, sum: &mut [i32], sq: &mut [i32]) {
    sum[..stride].fill(0);
    sq[..stride].fill(0);
    for y in 0..h {
        let row = &img[y * w..(y + 1) * w];
        let (prev, cur) = sum.split_at_mut((y + 1) * stride);
        let prev = &prev[y * stride..y * stride + w + 1];
        let cur = &mut cur[..w + 1];
        let (qprev, qcur) = sq.split_at_mut((y + 1) * stride);
        let qprev = &qprev[y * stride..y * stride + w + 1];
        let qcur = &mut qcur[..w + 1];
        cur[0] = 0;
        qcur[0] = 0;
        let (mut s, mut q) = (0i32, 0i32);
        for x in 0..w {
            let v = i32::from(row[x]);
            s += v;
            q = q.wrapping_add(v * v);
            cur[x + 1] = prev[x + 1].wrapping_add(s);
            qcur[x + 1] = qprev[x + 1].wrapping_add(q);
        }
    }
}

/// OpenCV's tilted integral: `T(X, Y) = Σ image(x, y)` over `y < Y, |x - X + 1| <= Y - y - 1`,
/// for `0 <= X <= w`, `0 <= Y <= h`, into rows of `stride` values.
fn tilted_integral(img: &[u8], w: usize, h: usize, stride: usize, out: &mut [i32]) {
    // The recurrence T(X,Y) = T(X-1,Y-1) + T(X+1,Y-1) - T(X,Y-2) + I(X-1,Y-1) + I(X-1,Y-2)
    // reaches columns left of 0 and right of w: run it on columns padded by h + 1 each side.
    let pad = h + 1;
    let pw = w + 1 + 2 * pad;
    let px = |x: i64, y: i64| -> i32 {
        if x >= 0 && (x as usize) < w && y >= 0 && (y as usize) < h {
            i32::from(img[y as usize * w + x as usize])
        } else {
            0
        }
    };
    let mut t = vec![0i32; (h + 1) * pw];
    for yy in 1..=h {
        for c in 1..pw - 1 {
            let x = c as i64 - pad as i64;
            let y = yy as i64;
            let mut v = t[(yy - 1) * pw + c - 1]
                + t[(yy - 1) * pw + c + 1]
                + px(x - 1, y - 1)
                + px(x - 1, y - 2);
            if yy >= 2 {
                v -= t[(yy - 2) * pw + c];
            }
            t[yy * pw + c] = v;
        }
    }
    for yy in 0..=h {
        let src = &t[yy * pw + pad..yy * pw + pad + w + 1];
        out[yy * stride..yy * stride + w + 1].copy_from_slice(src);
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/// A feature with its corners as offsets into one integral buffer of a given stride (tilted
/// features point into the tilted buffer, placed after the upright one). A 2-rect feature gets a
/// third rect of weight 0 on the first one's corners, so every feature sums three rects.
#[derive(Clone, Copy, Debug)]
struct OptFeature {
    ofs: [[u32; 4]; 3],
    weight: [f32; 3],
}

/// A stump with its feature inlined, for the stump-based cascades (all of OpenCV's face ones).
#[derive(Clone, Copy, Debug)]
struct OptStump {
    f: OptFeature,
    /// The weights as integers, when [`Prepared::int_weights`].
    iweight: [i32; 3],
    threshold: f32,
    /// The leaves as `f64` bits (the stage sum is a `f64`): left, right.
    leaves: [u64; 2],
}

impl OptStump {
    /// The leaf for feature value `v`: left when `v < threshold`, picked without a branch (the
    /// comparison is a coin toss for the predictor).
    #[inline(always)]
    fn leaf(&self, v: f32) -> f64 {
        let [l, r] = self.leaves;
        let mask = 0u64.wrapping_sub(u64::from(v < self.threshold));
        f64::from_bits(r ^ ((l ^ r) & mask))
    }
}

/// Whether `Σ weight * rect sum` of a feature is exact in `i32` and equal to OpenCV's `f32`
/// arithmetic: integer weights, and every partial sum under 2^24 (where `f32` holds integers
/// exactly) for any 8-bit image.
fn integer_exact(f: &Feature) -> bool {
    let mut bound = 0f64;
    for r in &f.rects {
        if r.weight.fract() != 0.0 || r.weight.abs() > 1024.0 {
            return false;
        }
        bound += f64::from(r.weight.abs()) * f64::from(r.w) * f64::from(r.h) * 255.0;
    }
    bound < f64::from(1u32 << 24)
}

fn opt_feature(f: &Feature, stride: usize, tilted_base: usize) -> OptFeature {
    let mut ofs = [[0u32; 4]; 3];
    let mut weight = [0f32; 3];
    for k in 0..3 {
        let (r, wgt) = match f.rects.get(k) {
            Some(r) => (*r, r.weight),
            None => (f.rects[0], 0.0),
        };
        let at = |x: i32, y: i32, base: usize| (base + y as usize * stride + x as usize) as u32;
        ofs[k] = if f.tilted {
            [
                at(r.x, r.y, tilted_base),
                at(r.x - r.h, r.y + r.h, tilted_base),
                at(r.x + r.w, r.y + r.w, tilted_base),
                at(r.x + r.w - r.h, r.y + r.w + r.h, tilted_base),
            ]
        } else {
            [
                at(r.x, r.y, 0),
                at(r.x + r.w, r.y, 0),
                at(r.x, r.y + r.h, 0),
                at(r.x + r.w, r.y + r.h, 0),
            ]
        };
        weight[k] = wgt;
    }
    OptFeature { ofs, weight }
}

/// Windows evaluated together by [`stage_passes_group`].
const GROUP: usize = 4;

/// Whether each of a few windows passes one stage (for the stages after the first, where few
/// windows are left): each window's sum in the stumps' order, as OpenCV adds it. A stump's
/// offsets and weights are loaded once for the group, and the group's sums are independent.
#[inline(always)]
fn stage_passes_group<P: Plane>(
    stumps: &[OptStump],
    int_weights: bool,
    wins: [P; GROUP],
    invs: [f32; GROUP],
    thr: f64,
) -> [bool; GROUP] {
    let mut sums = [0f64; GROUP];
    for st in stumps {
        let [a, b, c] = &st.f.ofs;
        for j in 0..GROUP {
            let w = wins[j];
            let v = if int_weights {
                let [w0, w1, w2] = st.iweight;
                (w0 * w.rect(a) + w1 * w.rect(b) + w2 * w.rect(c)) as f32 * invs[j]
            } else {
                calc(&st.f, w) * invs[j]
            };
            sums[j] += st.leaf(v);
        }
    }
    sums.map(|s| s >= thr)
}

/// Length of a window's view of an integral buffer on the fast path: offsets are `u16`, so
/// indexing a `[i32; WIN]` needs no bounds check. The buffers carry `WIN` values of padding.
const WIN: usize = 1 << 16;

/// Read access to an integral buffer from a window's top-left corner.
trait Plane: Copy {
    fn at(self, o: u32) -> i32;

    /// A rectangle's sum from its four corner offsets (wrapping, as OpenCV's `int` sums).
    #[inline(always)]
    fn rect(self, o: &[u32; 4]) -> i32 {
        self.at(o[0])
            .wrapping_sub(self.at(o[1]))
            .wrapping_sub(self.at(o[2]))
            .wrapping_add(self.at(o[3]))
    }
}

/// The fast view: every offset is below `WIN` (checked when the cascade is laid out).
impl Plane for &[i32; WIN] {
    #[inline(always)]
    fn at(self, o: u32) -> i32 {
        self[usize::from(o as u16)]
    }
}

/// The general view (tilted features, very wide images): bounds-checked.
#[derive(Clone, Copy)]
struct Checked<'a>(&'a [i32]);

impl Plane for Checked<'_> {
    #[inline(always)]
    fn at(self, o: u32) -> i32 {
        self.0[o as usize]
    }
}

/// `Σ weight * rect sum` in `f32`, as `HaarEvaluator::OptFeature::calc`.
#[inline(always)]
fn calc<P: Plane>(f: &OptFeature, w: P) -> f32 {
    let r = f.weight[0] * w.rect(&f.ofs[0]) as f32 + f.weight[1] * w.rect(&f.ofs[1]) as f32;
    r + f.weight[2] * w.rect(&f.ofs[2]) as f32
}

/// The cascade laid out for one stride of the integral buffers.
struct Prepared {
    stride: usize,
    stumps: Vec<OptStump>,
    /// (stump range end, threshold) per stage, for stump cascades.
    stage_ends: Vec<(usize, f32)>,
    /// Per feature, for tree cascades.
    features: Vec<OptFeature>,
    /// Offsets of the normalization rectangle's corners.
    norm: [u32; 4],
    norm_area: f64,
    /// Every feature's value is exact in integers (see [`integer_exact`]).
    int_weights: bool,
    /// Every offset (features and norm) is below [`WIN`] and no feature is tilted: the fast path.
    fast: bool,
}

impl Prepared {
    fn new(c: &Cascade, stride: usize, tilted_base: usize) -> Self {
        let features: Vec<OptFeature> = c
            .features
            .iter()
            .map(|f| opt_feature(f, stride, tilted_base))
            .collect();
        let mut stumps = Vec::new();
        let mut stage_ends = Vec::new();
        if c.stump_based() {
            for s in &c.stages {
                for t in &c.trees[s.first_tree..s.first_tree + s.trees] {
                    let n = c.nodes[t.first_node];
                    let f = features[n.feature];
                    stumps.push(OptStump {
                        f,
                        iweight: f.weight.map(|w| w as i32),
                        threshold: n.threshold,
                        leaves: [
                            f64::from(c.leaves[t.first_leaf]).to_bits(),
                            f64::from(c.leaves[t.first_leaf + 1]).to_bits(),
                        ],
                    });
                }
                stage_ends.push((stumps.len(), s.threshold));
            }
        }
        let (w, h) = (c.width as usize, c.height as usize);
        let at = |x: usize, y: usize| (y * stride + x) as u32;
        let norm = [at(1, 1), at(w - 1, 1), at(1, h - 1), at(w - 1, h - 1)];
        let max_ofs = features
            .iter()
            .flat_map(|f| f.ofs.iter().flatten())
            .chain(&norm)
            .copied()
            .max()
            .unwrap_or(0);
        Self {
            int_weights: c.features.iter().all(integer_exact),
            fast: !c.tilted && (max_ofs as usize) < WIN,
            stride,
            stumps,
            stage_ends,
            features,
            norm,
            norm_area: ((w - 2) * (h - 2)) as f64,
        }
    }
}

/// `HaarEvaluator::setWindow`: the inverse norm of a window (its standard deviation over the
/// inset `normrect`, times the area), or `None` for a window too flat to normalize. `sum` and
/// `sq` view the integral and squared integral from the window's corner.
#[inline(always)]
fn norm_inv<P: Plane>(p: &Prepared, sum: P, sq: P) -> Option<f32> {
    let valsum = sum.rect(&p.norm);
    let valsq = sq.rect(&p.norm) as u32;
    let area = p.norm_area;
    let nf = area * f64::from(valsq) - f64::from(valsum) * f64::from(valsum);
    if nf <= 0.0 {
        return None;
    }
    let inv = (1.0 / nf.sqrt()) as f32;
    (area * f64::from(inv) < 0.1).then_some(inv)
}

/// One stage of stumps over many windows at once (stump by stump, so a stump's offsets and
/// weights stay in registers and the windows' sums are independent): `sums[k]` is the stage sum
/// of window `wins[k]`, added in the stumps' order as OpenCV does.
fn stage_sums<P: Plane>(
    stumps: &[OptStump],
    int_weights: bool,
    wins: &[P],
    invs: &[f32],
    sums: &mut [f64],
) {
    sums.fill(0.0);
    for st in stumps {
        let [a, b, c] = &st.f.ofs;
        if int_weights {
            // Exact in i32 and equal to OpenCV's f32 sum (integer_exact).
            let [w0, w1, w2] = st.iweight;
            for ((&w, &inv), sum) in wins.iter().zip(invs).zip(sums.iter_mut()) {
                let r = w0 * w.rect(a) + w1 * w.rect(b) + w2 * w.rect(c);
                *sum += st.leaf(r as f32 * inv);
            }
        } else {
            for ((&w, &inv), sum) in wins.iter().zip(invs).zip(sums.iter_mut()) {
                *sum += st.leaf(calc(&st.f, w) * inv);
            }
        }
    }
}

/// A first-stage stump for [`DenseRow`]: its 12 corners as (plane, offset), weights, threshold
/// and leaves.
#[derive(Clone, Copy, Debug)]
struct DenseStump {
    corners: [(usize, usize); 12],
    weight: [f32; 3],
    threshold: f32,
    leaves: [f64; 2],
}

/// The norms and the first stage of a whole row of windows at once, on integrals laid out so
/// that the windows' corners are contiguous: with windows 2 pixels apart the columns are split
/// into an even and an odd plane. Those loops run over contiguous slices, which the compiler
/// vectorizes; the arithmetic is [`norm_inv`]'s and [`calc`]'s, value for value.
struct DenseRow {
    /// The stumps of the first [`DENSE_STAGES`] stages, and where each stage ends.
    stumps: Vec<DenseStump>,
    stage_ends: Vec<usize>,
    norm: [(usize, usize); 4],
    norm_area: f64,
    /// Values per row of the planes.
    pstride: usize,
    /// Sum even, sum odd, squares even, squares odd (step 2 only).
    split: [Vec<i32>; 4],
    step: usize,
    invs: Vec<f32>,
    /// Per dense stage, the windows' sums.
    sums: Vec<Vec<f64>>,
}

/// Stages computed for every window of a row by [`DenseRow`]: the first (9 stumps in the
/// frontal-face cascade, which rejects about half the windows). Measured on the conformance
/// fixtures: computing the second stage for every window too costs more than it saves.
const DENSE_STAGES: usize = 1;

impl DenseRow {
    /// For a stump cascade on the fast path (upright features), `None` otherwise.
    fn new(c: &Cascade, p: &Prepared) -> Option<Self> {
        if !p.fast || p.stumps.is_empty() {
            return None;
        }
        let stage_ends: Vec<usize> = p
            .stage_ends
            .iter()
            .take(DENSE_STAGES)
            .map(|&(e, _)| e)
            .collect();
        let first_end = *stage_ends.last()?;
        let mut stumps = Vec::new();
        let mut ti = 0;
        for s in &c.stages {
            for t in &c.trees[s.first_tree..s.first_tree + s.trees] {
                if ti < first_end {
                    let n = c.nodes[t.first_node];
                    let f = c.features.get(n.feature)?;
                    let mut corners = [(0usize, 0usize); 12];
                    let mut weight = [0f32; 3];
                    for k in 0..3 {
                        let (r, w) = match f.rects.get(k) {
                            Some(r) => (*r, r.weight),
                            None => (f.rects[0], 0.0),
                        };
                        let (x0, y0) = (r.x as usize, r.y as usize);
                        let (x1, y1) = ((r.x + r.w) as usize, (r.y + r.h) as usize);
                        // Raw (x, y); mapped to planes per step in `prepare`.
                        corners[4 * k..4 * k + 4].copy_from_slice(&[
                            (x0, y0),
                            (x1, y0),
                            (x0, y1),
                            (x1, y1),
                        ]);
                        weight[k] = w;
                    }
                    stumps.push(DenseStump {
                        corners,
                        weight,
                        threshold: n.threshold,
                        leaves: [
                            f64::from(c.leaves[t.first_leaf]),
                            f64::from(c.leaves[t.first_leaf + 1]),
                        ],
                    });
                }
                ti += 1;
            }
        }
        let (w, h) = (c.width as usize, c.height as usize);
        Some(Self {
            sums: vec![Vec::new(); stage_ends.len()],
            stumps,
            stage_ends,
            norm: [(1, 1), (w - 1, 1), (1, h - 1), (w - 1, h - 1)],
            norm_area: p.norm_area,
            pstride: 0,
            split: Default::default(),
            step: 1,
            invs: Vec::new(),
        })
    }

    /// Lays out one scale's integrals (`sum`, `sq`: `rows` rows of `stride` values) for windows
    /// `step` pixels apart.
    fn prepare(&mut self, sum: &[i32], sq: &[i32], stride: usize, rows: usize, step: usize) {
        self.step = step;
        if step == 1 {
            self.pstride = stride;
            return;
        }
        let hs = stride / 2 + 1;
        self.pstride = hs;
        for (plane, (src, odd)) in self
            .split
            .iter_mut()
            .zip([(sum, 0), (sum, 1), (sq, 0), (sq, 1)])
        {
            plane.clear();
            plane.resize(rows * hs, 0);
            for r in 0..rows {
                let row = &src[r * stride..(r + 1) * stride];
                let dst = &mut plane[r * hs..(r + 1) * hs];
                for (d, v) in dst.iter_mut().zip(row.iter().skip(odd).step_by(2)) {
                    *d = *v;
                }
            }
        }
    }

    /// The norms and first-stage sums of the `n` windows of row `y` (`sum`, `sq`: the scale's
    /// integrals, used as they are for step 1). `None` when a slice would leave the planes.
    fn row(&mut self, sum: &[i32], sq: &[i32], y: usize, n: usize) -> Option<FirstStage<'_>> {
        let step = self.step;
        let ps = self.pstride;
        let planes: [&[i32]; 4] = if step == 1 {
            [sum, sum, sq, sq]
        } else {
            [
                &self.split[0],
                &self.split[1],
                &self.split[2],
                &self.split[3],
            ]
        };
        let at = |plane: usize, (cx, cy): (usize, usize)| -> Option<&[i32]> {
            let (par, col) = if step == 1 {
                (0, cx)
            } else {
                (cx & 1, cx >> 1)
            };
            let o = (y + cy) * ps + col;
            planes[plane + par].get(o..o + n)
        };
        self.invs.clear();
        self.invs.resize(n, f32::NAN);
        let [n0, n1, n2, n3] = self.norm;
        let (s0, s1, s2, s3) = (at(0, n0)?, at(0, n1)?, at(0, n2)?, at(0, n3)?);
        let (q0, q1, q2, q3) = (at(2, n0)?, at(2, n1)?, at(2, n2)?, at(2, n3)?);
        let area = self.norm_area;
        for k in 0..n {
            let valsum = s0[k]
                .wrapping_sub(s1[k])
                .wrapping_sub(s2[k])
                .wrapping_add(s3[k]);
            let valsq = q0[k]
                .wrapping_sub(q1[k])
                .wrapping_sub(q2[k])
                .wrapping_add(q3[k]) as u32;
            let nf = area * f64::from(valsq) - f64::from(valsum) * f64::from(valsum);
            let inv = (1.0 / nf.sqrt()) as f32;
            let ok = nf > 0.0 && area * f64::from(inv) < 0.1;
            self.invs[k] = if ok { inv } else { f32::NAN };
        }
        let mut start = 0;
        for (&end, sums) in self.stage_ends.iter().zip(self.sums.iter_mut()) {
            sums.clear();
            sums.resize(n, 0.0);
            for st in &self.stumps[start..end] {
                let c = |i: usize| at(0, st.corners[i]);
                let (a0, a1, a2, a3) = (c(0)?, c(1)?, c(2)?, c(3)?);
                let (b0, b1, b2, b3) = (c(4)?, c(5)?, c(6)?, c(7)?);
                let (c0, c1, c2, c3) = (c(8)?, c(9)?, c(10)?, c(11)?);
                let [w0, w1, w2] = st.weight;
                let [l, r] = st.leaves;
                let invs = &self.invs[..n];
                let sums = &mut sums[..n];
                for k in 0..n {
                    let ra = a0[k]
                        .wrapping_sub(a1[k])
                        .wrapping_sub(a2[k])
                        .wrapping_add(a3[k]);
                    let rb = b0[k]
                        .wrapping_sub(b1[k])
                        .wrapping_sub(b2[k])
                        .wrapping_add(b3[k]);
                    let rc = c0[k]
                        .wrapping_sub(c1[k])
                        .wrapping_sub(c2[k])
                        .wrapping_add(c3[k]);
                    let v = (w0 * ra as f32 + w1 * rb as f32 + w2 * rc as f32) * invs[k];
                    sums[k] += if v < st.threshold { l } else { r };
                }
            }
            start = end;
        }
        Some(FirstStage {
            invs: &self.invs,
            sums: &self.sums,
        })
    }
}

/// The first stages and the norms of a row of windows computed together (see [`DenseRow`]):
/// per window of the row, its inverse norm (NaN: too flat) and its sums of those stages.
struct FirstStage<'a> {
    invs: &'a [f32],
    /// Per stage computed, the windows' sums.
    sums: &'a [Vec<f64>],
}

/// The windows of one row (columns `0, step, 2 step, ...` under `work_w`) that pass every stage
/// of a stump cascade, as OpenCV's scan finds them: a window rejected by the first stage makes
/// the scan skip the next one. `view(k)` gives the integral and squared integral from column
/// `k`; `first`, when given, the first stage already computed. Their columns go to `passed`, in
/// order.
fn row_stumps<P: Plane>(
    p: &Prepared,
    view: impl Fn(usize) -> Option<(P, P)>,
    work_w: usize,
    step: usize,
    first: Option<FirstStage<'_>>,
    passed: &mut Vec<usize>,
) {
    passed.clear();
    let n = work_w.div_ceil(step);
    let (mut xs, mut wins, mut invs) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let Some(&(first_end, thr0)) = p.stage_ends.first() else {
        return;
    };
    let thr0 = f64::from(thr0);
    let mut done = 1;
    if let Some(f) = first {
        let Some(s0) = f.sums.first() else {
            return;
        };
        done = f.sums.len();
        // The scan visits x = 0, step, 2 step, ... and jumps over the window after one the
        // first stage rejected (a flat window, -1 in OpenCV, does not count).
        let mut k = 0;
        while k < n.min(f.invs.len()).min(s0.len()) {
            let inv = f.invs[k];
            if inv.is_nan() {
                k += 1;
                continue;
            }
            if s0[k] < thr0 {
                k += 2;
                continue;
            }
            let later = f.sums[1..]
                .iter()
                .zip(&p.stage_ends[1..])
                .all(|(sums, &(_, thr))| sums.get(k).is_some_and(|&v| v >= f64::from(thr)));
            if later && let Some((sum, _)) = view(k * step) {
                xs.push(k * step);
                wins.push(sum);
                invs.push(inv);
            }
            k += 1;
        }
    } else {
        for x in (0..work_w).step_by(step) {
            if let Some((sum, sq)) = view(x)
                && let Some(inv) = norm_inv(p, sum, sq)
            {
                xs.push(x);
                wins.push(sum);
                invs.push(inv);
            }
        }
        let mut sums = vec![0f64; xs.len()];
        stage_sums(
            &p.stumps[..first_end],
            p.int_weights,
            &wins,
            &invs,
            &mut sums,
        );
        let mut keep = vec![false; xs.len()];
        let (mut x, mut k) = (0, 0);
        while x < work_w {
            while k < xs.len() && xs[k] < x {
                k += 1;
            }
            if k < xs.len() && xs[k] == x {
                if sums[k] < thr0 {
                    x += step;
                } else {
                    keep[k] = true;
                }
            }
            x += step;
        }
        let mut m = 0;
        for k in 0..xs.len() {
            if keep[k] {
                xs[m] = xs[k];
                wins[m] = wins[k];
                invs[m] = invs[k];
                m += 1;
            }
        }
        xs.truncate(m);
        wins.truncate(m);
        invs.truncate(m);
    }
    let mut start = p.stage_ends[done - 1].0;
    for &(end, thr) in &p.stage_ends[done..] {
        if xs.is_empty() {
            return;
        }
        let thr = f64::from(thr);
        let stumps = &p.stumps[start..end];
        let mut m = 0;
        let len = xs.len();
        for k0 in (0..len).step_by(GROUP) {
            // A group of windows (the last one padded with copies of its first window).
            let idx: [usize; GROUP] =
                std::array::from_fn(|j| if k0 + j < len { k0 + j } else { k0 });
            let pass = stage_passes_group(
                stumps,
                p.int_weights,
                idx.map(|k| wins[k]),
                idx.map(|k| invs[k]),
                thr,
            );
            for (j, &k) in idx.iter().enumerate() {
                if k0 + j < len && pass[j] {
                    xs[m] = xs[k];
                    wins[m] = wins[k];
                    invs[m] = invs[k];
                    m += 1;
                }
            }
        }
        xs.truncate(m);
        wins.truncate(m);
        invs.truncate(m);
        start = end;
    }
    passed.extend_from_slice(&xs);
}

/// Per-window result as `runAt` (for cascades of trees): 1 passed every stage, `-k` rejected
/// by stage k (0 = the first: the next window of the row is skipped), `-1` also for a window too
/// flat to normalize.
fn run_window(c: &Cascade, p: &Prepared, buf: &[i32], sq_base: usize, base: usize) -> i32 {
    let (Some(win), Some(sq)) = (buf.get(base..), buf.get(sq_base + base..)) else {
        return -1;
    };
    let win = Checked(win);
    let Some(inv) = norm_inv(p, win, Checked(sq)) else {
        return -1;
    };
    for (si, st) in c.stages.iter().enumerate() {
        let mut sum = 0f64;
        for t in &c.trees[st.first_tree..st.first_tree + st.trees] {
            let mut idx: i32 = 0;
            loop {
                let node = &c.nodes[t.first_node + idx as usize];
                let v = f64::from(calc(&p.features[node.feature], win) * inv);
                idx = if v < f64::from(node.threshold) {
                    node.left
                } else {
                    node.right
                };
                if idx <= 0 {
                    break;
                }
            }
            sum += f64::from(c.leaves[t.first_leaf + (-idx) as usize]);
        }
        if sum < f64::from(st.threshold) {
            return -(si as i32);
        }
    }
    1
}

/// An integer rectangle, as OpenCV's `cv::Rect`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rect {
    x: i32,
    y: i32,
    w: i32,
    h: i32,
}

/// `cv::SimilarRects(eps)`.
fn similar(a: &Rect, b: &Rect, eps: f64) -> bool {
    let delta = eps * f64::from(a.w.min(b.w) + a.h.min(b.h)) * 0.5;
    f64::from((a.x - b.x).abs()) <= delta
        && f64::from((a.y - b.y).abs()) <= delta
        && f64::from((a.x + a.w - b.x - b.w).abs()) <= delta
        && f64::from((a.y + a.h - b.y - b.h).abs()) <= delta
}

/// `cv::partition` with [`similar`]: a class label per rectangle, numbered by first appearance.
fn partition(rects: &[Rect], eps: f64) -> (Vec<usize>, usize) {
    let n = rects.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for i in 0..n {
        for j in i + 1..n {
            if similar(&rects[i], &rects[j], eps) {
                let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                if a != b {
                    parent[a.max(b)] = a.min(b);
                }
            }
        }
    }
    let mut label_of_root = vec![usize::MAX; n];
    let mut labels = vec![0; n];
    let mut classes = 0;
    for (i, label) in labels.iter_mut().enumerate() {
        let r = find(&mut parent, i);
        if label_of_root[r] == usize::MAX {
            label_of_root[r] = classes;
            classes += 1;
        }
        *label = label_of_root[r];
    }
    (labels, classes)
}

/// `cv::groupRectangles(rects, weights, group_threshold, eps)`: the kept rectangles and their
/// window counts.
fn group_rectangles(rects: &[Rect], group_threshold: i32, eps: f64) -> Vec<(Rect, i32)> {
    if group_threshold <= 0 || rects.is_empty() {
        return rects.iter().map(|r| (*r, 1)).collect();
    }
    let (labels, n) = partition(rects, eps);
    let mut acc = vec![(0i64, 0i64, 0i64, 0i64); n];
    let mut counts = vec![0i32; n];
    for (r, &l) in rects.iter().zip(&labels) {
        let a = &mut acc[l];
        a.0 += i64::from(r.x);
        a.1 += i64::from(r.y);
        a.2 += i64::from(r.w);
        a.3 += i64::from(r.h);
        counts[l] += 1;
    }
    let mean: Vec<Rect> = acc
        .iter()
        .zip(&counts)
        .map(|(a, &c)| {
            // OpenCV: `saturate_cast<int>(sum * (1.f / count))`, in f32.
            let s = 1.0f32 / c as f32;
            let m = |v: i64| cv_round_f32(v as i32 as f32 * s) as i32;
            Rect {
                x: m(a.0),
                y: m(a.1),
                w: m(a.2),
                h: m(a.3),
            }
        })
        .collect();
    let mut out = Vec::new();
    for i in 0..n {
        let r1 = mean[i];
        let n1 = counts[i];
        if n1 <= group_threshold {
            continue;
        }
        let nested = (0..n).any(|j| {
            let n2 = counts[j];
            if j == i || n2 <= group_threshold {
                return false;
            }
            let r2 = mean[j];
            let dx = cv_round(f64::from(r2.w) * eps) as i32;
            let dy = cv_round(f64::from(r2.h) * eps) as i32;
            r1.x >= r2.x - dx
                && r1.y >= r2.y - dy
                && r1.x + r1.w <= r2.x + r2.w + dx
                && r1.y + r1.h <= r2.y + r2.h + dy
                && (n2 > n1.max(3) || n1 < 3)
        });
        if !nested {
            out.push((r1, n1));
        }
    }
    out
}

/// `f32` to the `f64` a person typing it meant (1.1f32 -> 1.1, not 1.100000023841858), so the
/// scale pyramid is OpenCV's for `scaleFactor = 1.1`.
fn decimal_f64(v: f32) -> f64 {
    v.to_string().parse::<f64>().unwrap_or(f64::from(v))
}

/// Window candidates over the pyramid (before grouping), in OpenCV's order.
fn candidates(c: &Cascade, gray: &[u8], w: usize, h: usize, params: &HaarParams) -> Vec<Rect> {
    let (ww, wh) = (c.width as f64, c.height as f64);
    let (max_w, max_h) = if params.max_size == 0 {
        (w as i64, h as i64)
    } else {
        (i64::from(params.max_size), i64::from(params.max_size))
    };
    let min = i64::from(params.min_size);
    let sf = decimal_f64(params.scale_factor);
    let mut scales: Vec<f32> = Vec::new();
    if sf > 1.0 {
        let mut factor = 1.0f64;
        loop {
            let (win_w, win_h) = (cv_round(ww * factor), cv_round(wh * factor));
            if win_w > max_w || win_h > max_h || win_w > w as i64 || win_h > h as i64 {
                break;
            }
            if win_w >= min && win_h >= min {
                scales.push(factor as f32);
            }
            factor *= sf;
        }
    }
    let mut out = Vec::new();
    let Some(&s0) = scales.first() else {
        return out;
    };
    let size_at = |s: f32| {
        (
            cv_round_f32(w as f32 / s).max(1) as usize,
            cv_round_f32(h as f32 / s).max(1) as usize,
        )
    };
    let (w0, h0) = size_at(s0);
    let stride = w0 + 1;
    let plane = (h0 + 1) * stride;
    // One buffer: sum, squared sum, tilted sum, each `plane` values of the common stride.
    let planes = if c.tilted { 3 } else { 2 };
    let mut buf = vec![0i32; plane * planes + WIN];
    let prepared = Prepared::new(c, stride, 2 * plane);
    debug_assert_eq!(prepared.stride, stride);
    let mut scaled = Vec::new();
    let (cw, ch) = (c.width as usize, c.height as usize);
    let stumps = !prepared.stumps.is_empty();
    let mut passed = Vec::new();
    let mut dense = DenseRow::new(c, &prepared);
    for &s in &scales {
        let (sw, sh) = size_at(s);
        resize_exact(gray, w, h, &mut scaled, sw, sh);
        {
            let (sum, rest) = buf.split_at_mut(plane);
            let (sq, tilt) = rest.split_at_mut(plane);
            integrals(&scaled, sw, sh, stride, sum, sq);
            if c.tilted {
                tilted_integral(&scaled, sw, sh, stride, tilt);
            }
        }
        let ystep = if s >= 2.0 { 1 } else { 2 };
        if let Some(d) = dense.as_mut() {
            d.prepare(&buf[..plane], &buf[plane..2 * plane], stride, sh + 1, ystep);
        }
        // getWorkingSize: (szi - window), szi = size + 1.
        let work_w = (sw + 1).saturating_sub(cw);
        let work_h = (sh + 1).saturating_sub(ch);
        let win_w = cv_round_f32(c.width as f32 * s) as i32;
        let win_h = cv_round_f32(c.height as f32 * s) as i32;
        let push = |out: &mut Vec<Rect>, x: usize, y: usize| {
            out.push(Rect {
                x: cv_round_f32(x as f32 * s) as i32,
                y: cv_round_f32(y as f32 * s) as i32,
                w: win_w,
                h: win_h,
            })
        };
        // setWindow also refuses a window touching the integral's last column or row, which
        // the working size already leaves out.
        for y in (0..work_h).step_by(ystep) {
            if stumps {
                let row = y * stride;
                let b = &buf;
                if prepared.fast {
                    let view = |x: usize| -> Option<(&[i32; WIN], &[i32; WIN])> {
                        let at = |o: usize| b.get(o..o + WIN)?.try_into().ok();
                        Some((at(row + x)?, at(plane + row + x)?))
                    };
                    let first = dense.as_mut().and_then(|d| {
                        d.row(&b[..plane], &b[plane..2 * plane], y, work_w.div_ceil(ystep))
                    });
                    row_stumps(&prepared, view, work_w, ystep, first, &mut passed);
                } else {
                    let view = |x: usize| {
                        Some((
                            Checked(b.get(row + x..)?),
                            Checked(b.get(plane + row + x..)?),
                        ))
                    };
                    row_stumps(&prepared, view, work_w, ystep, None, &mut passed);
                }
                for &x in &passed {
                    push(&mut out, x, y);
                }
                continue;
            }
            let mut x = 0;
            while x < work_w {
                let r = run_window(c, &prepared, &buf, plane, y * stride + x);
                if r > 0 {
                    push(&mut out, x, y);
                }
                if r == 0 {
                    x += ystep;
                }
                x += ystep;
            }
        }
    }
    out
}

/// OpenCV's `detectMultiScale` on a gray image (`width * height` bytes, row-major): the boxes
/// with their window counts as scores, in OpenCV's order.
pub fn detect_gray(
    cascade: &Cascade,
    gray: &[u8],
    width: u32,
    height: u32,
    params: &HaarParams,
) -> Vec<FaceBox> {
    let (w, h) = (width as usize, height as usize);
    if w == 0 || h == 0 || gray.len() < w * h {
        return Vec::new();
    }
    let cands = candidates(cascade, gray, w, h, params);
    let threshold = i32::try_from(params.min_neighbors).unwrap_or(i32::MAX);
    group_rectangles(&cands, threshold, 0.2)
        .into_iter()
        .filter_map(|(r, n)| {
            // clipObjects: the intersection with the image, dropped when empty.
            let (x0, y0) = (r.x.max(0), r.y.max(0));
            let x1 = (r.x + r.w).min(w as i32);
            let y1 = (r.y + r.h).min(h as i32);
            (x1 > x0 && y1 > y0).then(|| {
                FaceBox::new(
                    x0 as f32,
                    y0 as f32,
                    (x1 - x0) as f32,
                    (y1 - y0) as f32,
                    n as f32,
                )
            })
        })
        .collect()
}

/// A [`FaceDetector`] running a [`Cascade`] with [`HaarParams`].
#[derive(Clone, Debug)]
pub struct HaarDetector {
    pub cascade: Cascade,
    pub params: HaarParams,
}

impl HaarDetector {
    pub fn new(cascade: Cascade, params: HaarParams) -> Self {
        Self { cascade, params }
    }
}

impl FaceDetector for HaarDetector {
    fn name(&self) -> &str {
        "haar"
    }

    /// OpenCV's boxes for the image (its gray by [`crate::face::gray_bt601`]), the most
    /// windows first (ties keep OpenCV's order).
    fn detect(&mut self, image: &Pixels<'_>) -> Result<Vec<FaceBox>, VisionError> {
        let gray;
        let data: &[u8] = if image.channels == 1 {
            image.data
        } else {
            gray = image.to_gray();
            &gray
        };
        let mut found = detect_gray(&self.cascade, data, image.width, image.height, &self.params);
        found.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(found)
    }

    /// Only the pyramid's scales whose window side lies in `min_side..=max_side` are searched.
    fn detect_sized(
        &mut self,
        image: &Pixels<'_>,
        min_side: u32,
        max_side: u32,
    ) -> Result<Vec<FaceBox>, VisionError> {
        let all = self.params;
        self.params.min_size = all.min_size.max(min_side);
        self.params.max_size = match all.max_size {
            0 => max_side,
            m => m.min(max_side),
        };
        let found = self.detect(image);
        self.params = all;
        found
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn tilted_integral_matches_its_definition() {
        let (w, h) = (7usize, 5usize);
        let img: Vec<u8> = (0..w * h).map(|i| (i * 37 % 251) as u8).collect();
        let stride = w + 3;
        let mut t = vec![0i32; (h + 1) * stride];
        tilted_integral(&img, w, h, stride, &mut t);
        for yy in 0..=h as i64 {
            for xx in 0..=w as i64 {
                let mut want = 0i32;
                for y in 0..yy {
                    for x in 0..w as i64 {
                        if (x - xx + 1).abs() < yy - y {
                            want += i32::from(img[y as usize * w + x as usize]);
                        }
                    }
                }
                assert_eq!(t[yy as usize * stride + xx as usize], want, "({xx}, {yy})");
            }
        }
    }

    #[test]
    fn integrals_sum_rectangles() {
        let (w, h) = (5usize, 4usize);
        let img: Vec<u8> = (0..w * h).map(|i| (i * 53 % 256) as u8).collect();
        let stride = w + 2;
        let mut s = vec![0; (h + 1) * stride];
        let mut q = vec![0; (h + 1) * stride];
        integrals(&img, w, h, stride, &mut s, &mut q);
        let at = |b: &[i32], x: usize, y: usize| b[y * stride + x];
        let want: i32 = (1..4)
            .flat_map(|y| (2..5).map(move |x| (x, y)))
            .map(|(x, y)| i32::from(img[y * w + x]))
            .sum();
        assert_eq!(
            at(&s, 5, 4) - at(&s, 2, 4) - at(&s, 5, 1) + at(&s, 2, 1),
            want
        );
        let want_q: i32 = img.iter().map(|&v| i32::from(v) * i32::from(v)).sum();
        assert_eq!(at(&q, 5, 4), want_q);
    }

    #[test]
    fn resize_is_bilinear_with_fixed_point_weights() {
        // 4 -> 2 is an exact halving: 2x2 means.
        let src = [
            0u8, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150,
        ];
        let mut dst = Vec::new();
        resize_exact(&src, 4, 4, &mut dst, 2, 2);
        assert_eq!(dst, vec![25, 45, 105, 125]);
        // 4 -> 3: source positions 0.1667, 1.5, 2.8333 (the last clamps to the edge).
        let row = [0u8, 100, 200, 250];
        resize_exact(&row, 4, 1, &mut dst, 3, 1);
        // 0.1667*256 = 42.67 -> 43: (213*0 + 43*100 + 128) >> 8 = 17 (rounded at the end).
        assert_eq!(dst, vec![17, 150, 242]);
    }

    #[test]
    fn grouping_averages_and_drops_small_groups() {
        let r = |x, y, w| Rect { x, y, w, h: w };
        let rects = [
            r(10, 10, 30),
            r(11, 10, 30),
            r(10, 12, 31),
            r(12, 11, 30),
            r(100, 100, 30),
        ];
        let g = group_rectangles(&rects, 3, 0.2);
        assert_eq!(g, vec![(r(11, 11, 30), 4)]);
        // A threshold of 0 keeps every window, each alone.
        assert_eq!(group_rectangles(&rects, 0, 0.2).len(), 5);
    }

    #[test]
    fn decimal_scale_factor() {
        assert_eq!(decimal_f64(1.1), 1.1f64);
        assert_eq!(decimal_f64(1.25), 1.25f64);
    }
}
