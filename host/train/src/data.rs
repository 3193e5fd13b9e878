//! Images held in memory as the network's input: gray, square, 0..1, with their labels.

use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::rng::Rng;
use crate::trainer::{Augment, Batches};

/// The rows (`per` values each) of `values` at `indices`, with their labels, in that order: a
/// subset or a batch of an example set.
pub(crate) fn gather(
    values: &[f32],
    labels: &[usize],
    per: usize,
    indices: &[usize],
) -> (Vec<f32>, Vec<usize>) {
    let mut rows = Vec::with_capacity(indices.len() * per);
    let mut picked = Vec::with_capacity(indices.len());
    for &i in indices {
        rows.extend_from_slice(&values[i * per..(i + 1) * per]);
        picked.push(labels[i]);
    }
    (rows, picked)
}

/// Examples per class, for `classes` classes (labels beyond are not counted).
pub fn class_counts(labels: &[usize], classes: usize) -> Vec<usize> {
    let mut counts = vec![0; classes];
    for &l in labels {
        if let Some(c) = counts.get_mut(l) {
            *c += 1;
        }
    }
    counts
}

/// Class indices as the label tensor of a batch.
pub(crate) fn label_tensor(labels: &[usize], device: &Device) -> Tensor<1, Int> {
    let n = labels.len();
    let labels: Vec<i64> = labels.iter().map(|&l| l as i64).collect();
    Tensor::from_data(TensorData::new(labels, [n]), device)
}

/// A set of square gray images (values in 0..1, row-major) with a class index each.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImageSet {
    /// Width and height of every image.
    pub side: usize,
    /// All pixels, image after image (`len() * side * side` values).
    pub pixels: Vec<f32>,
    /// The class of each image.
    pub labels: Vec<usize>,
}

impl ImageSet {
    /// An empty set of `side`x`side` images.
    pub fn new(side: usize) -> Self {
        Self {
            side,
            pixels: Vec::new(),
            labels: Vec::new(),
        }
    }

    /// Adds one image (`side * side` values). Returns `false` (and adds nothing) when the length
    /// is wrong.
    pub fn push(&mut self, pixels: &[f32], label: usize) -> bool {
        if pixels.len() != self.side * self.side {
            return false;
        }
        self.pixels.extend_from_slice(pixels);
        self.labels.push(label);
        true
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the set holds no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The pixels of image `i`.
    pub fn image(&self, i: usize) -> &[f32] {
        let n = self.side * self.side;
        &self.pixels[i * n..(i + 1) * n]
    }

    /// The images at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Self {
        let (pixels, labels) = gather(&self.pixels, &self.labels, self.side * self.side, indices);
        Self {
            side: self.side,
            pixels,
            labels,
        }
    }

    /// Images per class, for `classes` classes (labels beyond are not counted).
    pub fn class_counts(&self, classes: usize) -> Vec<usize> {
        class_counts(&self.labels, classes)
    }

    /// The images at `indices` as an input tensor `[n, 1, side, side]` and their labels.
    pub fn batch(&self, indices: &[usize], device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
        let (pixels, labels) = gather(&self.pixels, &self.labels, self.side * self.side, indices);
        let n = indices.len();
        (
            Tensor::from_data(
                TensorData::new(pixels, [n, 1, self.side, self.side]),
                device,
            ),
            label_tensor(&labels, device),
        )
    }

    /// Like [`ImageSet::batch`], each image changed by `augment` with draws from `rng`: mirrored
    /// half of the time, shifted by up to `max_shift` pixels with the edge pixels filling in.
    pub fn augmented_batch(
        &self,
        indices: &[usize],
        augment: &Augment,
        rng: &mut Rng,
        device: &Device,
    ) -> (Tensor<4>, Tensor<1, Int>) {
        let (n, side) = (indices.len(), self.side);
        let mut pixels = Vec::with_capacity(n * side * side);
        let mut labels = Vec::with_capacity(n);
        let span = 2 * augment.max_shift + 1;
        for &i in indices {
            let image = self.image(i);
            let mirror = augment.mirror && rng.below(2) == 1;
            let dx = rng.below(span) as isize - augment.max_shift as isize;
            let dy = rng.below(span) as isize - augment.max_shift as isize;
            let last = side as isize - 1;
            for y in 0..side as isize {
                let sy = (y - dy).clamp(0, last) as usize;
                for x in 0..side as isize {
                    let sx = (x - dx).clamp(0, last);
                    let sx = if mirror { last - sx } else { sx } as usize;
                    pixels.push(image[sy * side + sx]);
                }
            }
            labels.push(self.labels[i]);
        }
        (
            Tensor::from_data(TensorData::new(pixels, [n, 1, side, side]), device),
            label_tensor(&labels, device),
        )
    }

    /// A 64-bit fingerprint of the pixels and labels (FNV-1a), so a resumed run can tell it is
    /// given the data it started with.
    pub fn fingerprint(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |bytes: &[u8]| {
            for b in bytes {
                h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
            }
        };
        eat(&(self.side as u64).to_le_bytes());
        for l in &self.labels {
            eat(&(*l as u64).to_le_bytes());
        }
        for p in &self.pixels {
            eat(&p.to_bits().to_le_bytes());
        }
        h
    }
}

impl Batches for ImageSet {
    type Input = Tensor<4>;

    fn count(&self) -> usize {
        self.len()
    }

    fn targets(&self) -> &[usize] {
        &self.labels
    }

    fn batch(&self, indices: &[usize], device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
        ImageSet::batch(self, indices, device)
    }

    fn augmented_batch(
        &self,
        indices: &[usize],
        augment: &Augment,
        rng: &mut Rng,
        device: &Device,
    ) -> (Tensor<4>, Tensor<1, Int>) {
        ImageSet::augmented_batch(self, indices, augment, rng, device)
    }

    fn fingerprint(&self) -> u64 {
        ImageSet::fingerprint(self)
    }
}

#[cfg(test)]
mod tests {
    use super::ImageSet;
    use crate::rng::Rng;
    use crate::trainer::Augment;

    fn pixels(tensor: burn::tensor::Tensor<4>) -> Vec<f32> {
        tensor
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap_or_default()
    }

    #[test]
    fn augmented_batches_mirror_and_shift_within_bounds() {
        let device = burn::tensor::Device::flex();
        let side = 8;
        // One bright pixel at (x=3, y=4), away from the edges.
        let mut image = vec![0.0; side * side];
        image[4 * side + 3] = 1.0;
        let mut set = ImageSet::new(side);
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
            max_shift: 0,
        };
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..32 {
            let out = pixels(set.augmented_batch(&[0], &mirror, &mut rng, &device).0);
            seen.insert(out.iter().position(|p| *p == 1.0));
        }
        // Either where it was or mirrored to x = 4, nothing else.
        assert_eq!(seen, [Some(4 * side + 3), Some(4 * side + 4)].into());

        let shift = Augment {
            mirror: false,
            max_shift: 2,
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
}
