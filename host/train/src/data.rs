//! Examples held in memory as a network's input, with their labels: one type, [`Examples`],
//! for every network, parameterised by what one example is ([`Shape`]: an [`Image`] or a
//! feature [`Sequence`]) and by what its label is ([`Labels`]: a class index each, or the
//! tagger's 0/1 vector). It gathers batches, varies training examples ([`Augment`]) and
//! fingerprints a set for resuming. Knows no network.

use std::fmt::Debug;

use burn::tensor::{Device, Int, Tensor, TensorData};
use image::GrayImage;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::rng::Rng;

/// What one example is: its layout, how a batch of them becomes the network's input, and how
/// a training example is varied.
pub trait Shape: Clone + Debug + PartialEq {
    /// A batch as the network's input (`Tensor<4>` for images, `Tensor<3>` for sequences).
    type Input;
    /// Values per example.
    fn size(&self) -> usize;
    /// The dimensions of one example (the network's input is `[batch, dims...]`).
    fn dims(&self) -> Vec<usize>;
    /// `n` examples (`values`, example after example) as a batch.
    fn input(&self, values: Vec<f32>, n: usize, device: &Device) -> Self::Input;
    /// Appends `example`, changed by `augment` with draws from `rng`, to `out`.
    fn augment(&self, example: &[f32], augment: &Augment, rng: &mut Rng, out: &mut Vec<f32>);
    /// The layout in words, for messages (`16x16 gray images`).
    fn describe(&self) -> String;
    /// Feeds the layout to a fingerprint.
    fn fingerprint(&self, fp: &mut Fingerprint);
    /// `example` as a gray picture for contact sheets, when it is one.
    fn picture(&self, _example: &[f32]) -> Option<GrayImage> {
        None
    }
}

/// Square images, planar (`channels` planes of `side * side` row-major values), values in 0..1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Image {
    /// Color planes: 1 for gray, 3 for RGB.
    pub channels: usize,
    /// Width and height in pixels.
    pub side: usize,
}

impl Image {
    /// Gray images of `side`x`side`.
    pub fn gray(side: usize) -> Self {
        Self { channels: 1, side }
    }

    /// RGB images of `side`x`side`.
    pub fn rgb(side: usize) -> Self {
        Self { channels: 3, side }
    }
}

impl Shape for Image {
    type Input = Tensor<4>;

    fn size(&self) -> usize {
        self.channels * self.side * self.side
    }

    fn dims(&self) -> Vec<usize> {
        vec![self.channels, self.side, self.side]
    }

    fn input(&self, values: Vec<f32>, n: usize, device: &Device) -> Tensor<4> {
        let shape = [n, self.channels, self.side, self.side];
        Tensor::from_data(TensorData::new(values, shape), device)
    }

    /// Mirrored half of the time (when `augment.mirror`) and shifted by up to
    /// `augment.max_shift` pixels in x and y, the edge pixels filling in; the same mirror and
    /// shift for every plane. The draws: mirror (only when mirroring), then x, then y.
    fn augment(&self, example: &[f32], augment: &Augment, rng: &mut Rng, out: &mut Vec<f32>) {
        let side = self.side;
        let span = 2 * augment.max_shift + 1;
        let mirror = augment.mirror && rng.below(2) == 1;
        let dx = rng.below(span) as isize - augment.max_shift as isize;
        let dy = rng.below(span) as isize - augment.max_shift as isize;
        let last = side as isize - 1;
        for plane in example.chunks(side * side) {
            for y in 0..side as isize {
                let sy = (y - dy).clamp(0, last) as usize;
                let row = &plane[sy * side..(sy + 1) * side];
                for x in 0..side as isize {
                    let sx = (x - dx).clamp(0, last);
                    let sx = if mirror { last - sx } else { sx } as usize;
                    out.push(row[sx]);
                }
            }
        }
    }

    fn describe(&self) -> String {
        let kind = match self.channels {
            1 => "gray".to_owned(),
            3 => "RGB".to_owned(),
            c => format!("{c}-channel"),
        };
        format!("{0}x{0} {kind} images", self.side)
    }

    /// The side (and the channels when not gray: a gray set's fingerprint is the one of the
    /// image sets before they had channels).
    fn fingerprint(&self, fp: &mut Fingerprint) {
        fp.number(self.side);
        if self.channels != 1 {
            fp.number(self.channels);
        }
    }

    fn picture(&self, example: &[f32]) -> Option<GrayImage> {
        if self.channels != 1 {
            return None;
        }
        let bytes = example
            .iter()
            .map(|v| (v * 255.0).round().clamp(0.0, 255.0) as u8);
        GrayImage::from_raw(self.side as u32, self.side as u32, bytes.collect())
    }
}

/// Fixed-size feature sequences: `frames` rows of `dims` values, frame after frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sequence {
    /// Frames of every example.
    pub frames: usize,
    /// Values per frame.
    pub dims: usize,
}

impl Shape for Sequence {
    type Input = Tensor<3>;

    fn size(&self) -> usize {
        self.frames * self.dims
    }

    fn dims(&self) -> Vec<usize> {
        vec![self.frames, self.dims]
    }

    fn input(&self, values: Vec<f32>, n: usize, device: &Device) -> Tensor<3> {
        Tensor::from_data(TensorData::new(values, [n, self.frames, self.dims]), device)
    }

    /// Masked by `augment.masking` (mirroring and shifting are for images and do not apply).
    fn augment(&self, example: &[f32], augment: &Augment, rng: &mut Rng, out: &mut Vec<f32>) {
        let start = out.len();
        out.extend_from_slice(example);
        augment
            .masking
            .apply(&mut out[start..], self.frames, self.dims, rng);
    }

    fn describe(&self) -> String {
        format!("{}x{} (frames x dims)", self.frames, self.dims)
    }

    fn fingerprint(&self, fp: &mut Fingerprint) {
        fp.number(self.frames);
        fp.number(self.dims);
    }
}

/// Random changes to training examples, drawn from the run's seed and the epoch, so a resumed
/// run sees the same examples: mirror and shift for images, masking for sequences.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Augment {
    /// Mirror left-right half of the time (for classes that a mirror does not change).
    pub mirror: bool,
    /// Shift by up to this many pixels in x and y (the border value fills the gap).
    pub max_shift: usize,
    /// SpecAugment-style masking of sequences (absent from the checkpoints and manifests of
    /// runs without it).
    #[serde(default, skip_serializing_if = "Masking::is_identity")]
    pub masking: Masking,
}

impl Augment {
    /// Whether it changes anything.
    pub fn is_identity(&self) -> bool {
        !self.mirror && self.max_shift == 0 && self.masking.is_identity()
    }
}

/// SpecAugment-style masking of training sequences (Park et al. 2019): each example of a
/// training batch gets `time_masks` spans of up to `max_time` frames and `feature_masks` spans
/// of up to `max_features` dimensions replaced by the example's own mean of each dimension (a
/// neutral value in raw feature units).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Masking {
    /// Time masks per example.
    pub time_masks: usize,
    /// Longest time mask, frames.
    pub max_time: usize,
    /// Feature masks per example.
    pub feature_masks: usize,
    /// Widest feature mask, dimensions.
    pub max_features: usize,
}

impl Masking {
    /// Whether it changes anything.
    pub fn is_identity(&self) -> bool {
        (self.time_masks == 0 || self.max_time == 0)
            && (self.feature_masks == 0 || self.max_features == 0)
    }

    /// Masks `x` (`frames x dims`, row-major) in place with draws from `rng`.
    pub fn apply(&self, x: &mut [f32], frames: usize, dims: usize, rng: &mut Rng) {
        if self.is_identity() || frames == 0 || dims == 0 || x.len() != frames * dims {
            return;
        }
        let mut mean = vec![0.0f32; dims];
        for row in x.chunks_exact(dims) {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += v;
            }
        }
        for m in &mut mean {
            *m /= frames as f32;
        }
        for _ in 0..self.time_masks {
            let len = rng.below(self.max_time.min(frames) + 1);
            let start = rng.below(frames - len + 1);
            for row in x.chunks_exact_mut(dims).skip(start).take(len) {
                row.copy_from_slice(&mean);
            }
        }
        for _ in 0..self.feature_masks {
            let len = rng.below(self.max_features.min(dims) + 1);
            let start = rng.below(dims - len + 1);
            for row in x.chunks_exact_mut(dims) {
                row[start..start + len].copy_from_slice(&mean[start..start + len]);
            }
        }
    }
}

/// The labels of a set of examples: what a batch's targets are and how they are counted.
pub trait Labels: Clone + Debug + PartialEq {
    /// A batch's targets (`Tensor<1, Int>` of class indices, ...).
    type Target;
    /// Number of examples labelled.
    fn count(&self) -> usize;
    /// The labels at `indices`, in that order.
    fn subset(&self, indices: &[usize]) -> Self;
    /// The labels at `indices` as a batch's targets.
    fn target(&self, indices: &[usize], device: &Device) -> Self::Target;
    /// What makes them unfit for a network of `classes` outputs, if anything (`what` names
    /// the set).
    fn misfit(&self, what: &str, classes: usize) -> Option<String>;
    /// Examples showing each of the first `classes` labels.
    fn counts(&self, classes: usize) -> Vec<usize>;
    /// Feeds the labels to a fingerprint.
    fn fingerprint(&self, fp: &mut Fingerprint);
}

/// A class index per example.
impl Labels for Vec<usize> {
    type Target = Tensor<1, Int>;

    fn count(&self) -> usize {
        self.len()
    }

    fn subset(&self, indices: &[usize]) -> Self {
        indices.iter().map(|&i| self[i]).collect()
    }

    fn target(&self, indices: &[usize], device: &Device) -> Tensor<1, Int> {
        let labels: Vec<i64> = indices.iter().map(|&i| self[i] as i64).collect();
        Tensor::from_data(TensorData::new(labels, [indices.len()]), device)
    }

    fn misfit(&self, what: &str, classes: usize) -> Option<String> {
        let bad = self.iter().find(|l| **l >= classes)?;
        Some(format!(
            "the {what} set has label {bad}, the network has {classes} classes"
        ))
    }

    fn counts(&self, classes: usize) -> Vec<usize> {
        let mut counts = vec![0; classes];
        for &l in self {
            if let Some(c) = counts.get_mut(l) {
                *c += 1;
            }
        }
        counts
    }

    fn fingerprint(&self, fp: &mut Fingerprint) {
        for &l in self {
            fp.number(l);
        }
    }
}

/// A 64-bit FNV-1a fingerprint, so a resumed run can tell it is given the data it started with.
#[derive(Clone, Copy, Debug)]
pub struct Fingerprint(u64);

impl Default for Fingerprint {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fingerprint {
    /// Feeds `bytes`.
    pub fn bytes(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// Feeds `n` as 8 little-endian bytes.
    pub fn number(&mut self, n: usize) {
        self.bytes(&(n as u64).to_le_bytes());
    }

    /// Feeds the bits of `values`.
    pub fn floats(&mut self, values: &[f32]) {
        for v in values {
            self.bytes(&v.to_bits().to_le_bytes());
        }
    }

    /// The fingerprint so far.
    pub fn value(&self) -> u64 {
        self.0
    }
}

/// Examples of one [`Shape`] (`values`, example after example) with their [`Labels`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Examples<S, L> {
    /// What every example is.
    pub shape: S,
    /// All values, example after example (`len() * shape.size()`).
    pub values: Vec<f32>,
    /// The label of each example.
    pub labels: L,
}

/// Square gray (or RGB) images with a class each.
pub type ImageSet = Examples<Image, Vec<usize>>;
/// Feature sequences with a class each.
pub type SequenceSet = Examples<Sequence, Vec<usize>>;

impl<S: Shape, L: Labels + Default> Examples<S, L> {
    /// An empty set of examples of `shape`.
    pub fn new(shape: S) -> Self {
        Self::with_labels(shape, L::default())
    }
}

impl<S: Shape> Examples<S, Vec<usize>> {
    /// Adds one example (`shape.size()` values) of class `label`. Returns `false` (and adds
    /// nothing) when the length is wrong.
    pub fn push(&mut self, values: &[f32], label: usize) -> bool {
        if values.len() != self.shape.size() {
            return false;
        }
        self.values.extend_from_slice(values);
        self.labels.push(label);
        true
    }
}

impl<S: Shape, L: Labels> Examples<S, L> {
    /// An empty set of examples of `shape`, to be labelled like `labels` (which holds none).
    pub fn with_labels(shape: S, labels: L) -> Self {
        Self {
            shape,
            values: Vec::new(),
            labels,
        }
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.count()
    }

    /// Whether the set holds no example.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values of example `i`. Panics if `i >= len()`, like slice indexing.
    pub fn example(&self, i: usize) -> &[f32] {
        let n = self.shape.size();
        &self.values[i * n..(i + 1) * n]
    }

    /// The examples at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Self {
        let mut values = Vec::with_capacity(indices.len() * self.shape.size());
        for &i in indices {
            values.extend_from_slice(self.example(i));
        }
        Self {
            shape: self.shape.clone(),
            values,
            labels: self.labels.subset(indices),
        }
    }

    /// Examples showing each of the first `classes` labels.
    pub fn counts(&self, classes: usize) -> Vec<usize> {
        self.labels.counts(classes)
    }

    /// The examples at `indices`, in that order, as the network's input and their targets.
    pub fn batch(&self, indices: &[usize], device: &Device) -> (S::Input, L::Target) {
        let mut values = Vec::with_capacity(indices.len() * self.shape.size());
        for &i in indices {
            values.extend_from_slice(self.example(i));
        }
        self.tensors(values, indices, device)
    }

    /// Like [`Examples::batch`], each example changed by `augment` with draws from `rng`,
    /// example after example in batch order.
    pub fn augmented_batch(
        &self,
        indices: &[usize],
        augment: &Augment,
        rng: &mut Rng,
        device: &Device,
    ) -> (S::Input, L::Target) {
        let mut values = Vec::with_capacity(indices.len() * self.shape.size());
        for &i in indices {
            self.shape
                .augment(self.example(i), augment, rng, &mut values);
        }
        self.tensors(values, indices, device)
    }

    fn tensors(
        &self,
        values: Vec<f32>,
        indices: &[usize],
        device: &Device,
    ) -> (S::Input, L::Target) {
        (
            self.shape.input(values, indices.len(), device),
            self.labels.target(indices, device),
        )
    }

    /// A 64-bit fingerprint of the layout, the labels and the values.
    pub fn fingerprint(&self) -> u64 {
        let mut fp = Fingerprint::default();
        self.shape.fingerprint(&mut fp);
        self.labels.fingerprint(&mut fp);
        fp.floats(&self.values);
        fp.value()
    }

    /// Checks that the set (the `what` set) is not empty and holds finite examples of `shape`
    /// labelled for a network of `classes` outputs.
    pub fn check(&self, what: &str, shape: &S, classes: usize) -> Result<()> {
        let bad = |reason: String| Err(Error::option("data", reason));
        if self.is_empty() {
            return bad(format!("the {what} set is empty"));
        }
        if self.shape.dims() != shape.dims() {
            return bad(format!(
                "the {what} examples are {}, the network takes {}",
                self.shape.describe(),
                shape.describe()
            ));
        }
        if self.values.len() != self.len() * self.shape.size() {
            return bad(format!(
                "the {what} set's value count does not match its labels"
            ));
        }
        if let Some(reason) = self.labels.misfit(what, classes) {
            return bad(reason);
        }
        if let Some(i) = self.values.iter().position(|v| !v.is_finite()) {
            return bad(format!(
                "the {what} set has a non-finite value (example {})",
                i / self.shape.size().max(1)
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pixels(tensor: Tensor<4>) -> Vec<f32> {
        tensor
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap_or_default()
    }

    #[test]
    fn augmented_batches_mirror_and_shift_within_bounds() {
        let device = Device::flex();
        let side = 8;
        // One bright pixel at (x=3, y=4), away from the edges.
        let mut image = vec![0.0; side * side];
        image[4 * side + 3] = 1.0;
        let mut set = ImageSet::new(Image::gray(side));
        assert!(set.push(&image, 3));

        let none = Augment::default();
        let mut rng = Rng::new(1);
        let (plain, labels) = set.augmented_batch(&[0], &none, &mut rng, &device);
        assert_eq!(pixels(plain), image);
        assert_eq!(
            labels
                .into_data()
                .convert::<i64>()
                .try_to_vec::<i64>()
                .unwrap_or_default(),
            [3]
        );

        let mirror = Augment {
            mirror: true,
            ..Augment::default()
        };
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..32 {
            let out = pixels(set.augmented_batch(&[0], &mirror, &mut rng, &device).0);
            seen.insert(out.iter().position(|p| *p == 1.0));
        }
        // Either where it was or mirrored to x = 4, nothing else.
        assert_eq!(seen, [Some(4 * side + 3), Some(4 * side + 4)].into());

        let shift = Augment {
            max_shift: 2,
            ..Augment::default()
        };
        let mut offsets = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let out = pixels(set.augmented_batch(&[0], &shift, &mut rng, &device).0);
            assert_eq!(out.iter().filter(|p| **p == 1.0).count(), 1);
            let at = out.iter().position(|p| *p == 1.0).unwrap_or(0);
            let (x, y) = ((at % side) as isize, (at / side) as isize);
            assert!((x - 3).abs() <= 2 && (y - 4).abs() <= 2, "({x}, {y})");
            offsets.insert((x, y));
        }
        // All 25 shifts turn up in 200 draws.
        assert_eq!(offsets.len(), 25, "{offsets:?}");
    }

    #[test]
    fn a_mirrored_rgb_image_mirrors_every_plane() {
        let device = Device::flex();
        let side = 4;
        let mut set = ImageSet::new(Image::rgb(side));
        let mut image = vec![0.0; 3 * side * side];
        // A bright pixel at (x=0, y=1) in the red plane and at (x=1, y=2) in the blue one.
        image[side] = 1.0;
        image[2 * side * side + 2 * side + 1] = 1.0;
        assert!(set.push(&image, 0));
        assert!(!set.push(&image[1..], 0));
        let mirror = Augment {
            mirror: true,
            ..Augment::default()
        };
        let mut rng = Rng::new(3);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..16 {
            let px = pixels(set.augmented_batch(&[0], &mirror, &mut rng, &device).0);
            let bright: Vec<usize> = (0..px.len()).filter(|&i| px[i] == 1.0).collect();
            seen.insert(bright);
        }
        let plain = vec![side, 2 * side * side + 2 * side + 1];
        let mirrored = vec![side + 3, 2 * side * side + 2 * side + 2];
        assert_eq!(seen, [plain, mirrored].into_iter().collect());
    }

    #[test]
    fn a_gray_fingerprint_is_the_one_of_before_channels() {
        // side, then each label, then each value (as the image sets fingerprinted before).
        let mut set = ImageSet::new(Image::gray(2));
        assert!(set.push(&[0.0, 0.5, 1.0, 0.25], 1));
        let mut fp = Fingerprint::default();
        fp.number(2);
        fp.number(1);
        fp.floats(&[0.0, 0.5, 1.0, 0.25]);
        assert_eq!(set.fingerprint(), fp.value());
        let mut other = set.clone();
        other.labels[0] = 0;
        assert_ne!(other.fingerprint(), set.fingerprint());
    }

    #[test]
    fn masking_replaces_spans_by_the_example_mean() {
        // Column d alternates d*10 and d*10+1 over the frames: its mean d*10+0.5 is no value
        // it holds, so every masked value shows.
        let (frames, dims) = (20, 6);
        let x: Vec<f32> = (0..frames * dims)
            .map(|i| ((i % dims) * 10 + (i / dims) % 2) as f32)
            .collect();
        let m = Masking {
            time_masks: 1,
            max_time: 5,
            feature_masks: 1,
            max_features: 2,
        };
        let mut rng = Rng::new(4);
        let (mut most_rows, mut most_cols) = (0, 0);
        for _ in 0..50 {
            let mut y = x.clone();
            m.apply(&mut y, frames, dims, &mut rng);
            for (i, (a, b)) in y.iter().zip(&x).enumerate() {
                let mean = ((i % dims) * 10) as f32 + 0.5;
                assert!(a == b || *a == mean, "value {i}: {a}");
            }
            let changed = |t: usize, d: usize| y[t * dims + d] != x[t * dims + d];
            let rows = (0..frames)
                .filter(|&t| (0..dims).all(|d| changed(t, d)))
                .count();
            let cols = (0..dims)
                .filter(|&d| (0..frames).all(|t| changed(t, d)))
                .count();
            assert!(rows <= 5 && cols <= 2, "{rows} rows, {cols} columns");
            most_rows = most_rows.max(rows);
            most_cols = most_cols.max(cols);
        }
        assert_eq!((most_rows, most_cols), (5, 2));
        let mut y = x.clone();
        Masking::default().apply(&mut y, frames, dims, &mut rng);
        assert_eq!(y, x);
    }

    #[test]
    fn sets_are_checked_against_the_network() {
        let mut set = SequenceSet::new(Sequence { frames: 2, dims: 2 });
        assert!(set.push(&[1.0, 5.0, 3.0, 5.0], 0));
        assert!(set.push(&[1.0, 5.0, 3.0, 5.0], 2));
        assert!(!set.push(&[1.0], 1));
        assert_eq!(set.counts(3), vec![1, 0, 1]);
        let shape = set.shape;
        assert!(set.check("training", &shape, 3).is_ok());
        let message = |r: Result<()>| r.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message(set.check("training", &shape, 2)).contains("label 2"));
        let wide = Sequence { frames: 2, dims: 3 };
        assert!(message(set.check("training", &wide, 3)).contains("frames x dims"));
        set.values[1] = f32::NAN;
        assert!(message(set.check("training", &shape, 3)).contains("non-finite"));
        assert!(message(set.subset(&[]).check("validation", &shape, 3)).contains("empty"));
    }
}
