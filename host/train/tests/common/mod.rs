//! Small generated image sets for the tests.

#![allow(dead_code)]

use sentio_train::rng::Rng;
use sentio_train::{CnnConfig, EpochRecord, Image, ImageSet, TrainProgress};

/// `per_class` images of `side`x`side` in 3 classes — a horizontal bar, a vertical bar, a
/// diagonal — at jittered positions, with noise.
pub fn bars(side: usize, per_class: usize, seed: u64) -> ImageSet {
    let mut rng = Rng::new(seed);
    let mut set = ImageSet::new(Image::gray(side));
    for i in 0..per_class * 3 {
        let class = i % 3;
        let mut img: Vec<f32> = (0..side * side).map(|_| rng.uniform(0.0, 0.25)).collect();
        let at = 2 + rng.below(side - 4);
        for k in 1..side - 1 {
            let (x, y) = match class {
                0 => (k, at),
                1 => (at, k),
                _ => (k, (k + at) % side),
            };
            img[y * side + x] = 1.0;
        }
        set.push(&img, class);
    }
    set
}

/// A tiny CNN for `bars` (16x16, 3 classes).
pub fn tiny() -> CnnConfig {
    CnnConfig {
        side: 16,
        classes: 3,
        filters: vec![4, 8],
        dropout: 0.25,
        invert: false,
    }
}

/// Indices `0..n` split 80/20 into train and validation, interleaved so both hold every class.
pub fn split(n: usize) -> (Vec<usize>, Vec<usize>) {
    (0..n).partition(|i| i % 5 != 4)
}

/// Progress that stops the run once this many epochs have ended (as Ctrl-C does).
pub struct StopAfter(pub usize);

impl TrainProgress for StopAfter {
    fn epoch_end(&mut self, _record: &EpochRecord) {
        self.0 = self.0.saturating_sub(1);
    }
    fn should_stop(&mut self) -> bool {
        self.0 == 0
    }
}
