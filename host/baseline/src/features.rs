//! Feature vectors from gray images: raw [`pixels`] (area-downsampled) and a HOG-like descriptor
//! ([`hog`]); and from speech clips, the utterance summary of the device's per-frame features
//! ([`audio_folder`]).
//!
//! [`FeatureKind`] names an image feature with its parameters (so a report can say what was
//! used), and [`image_folder`] turns a whole [`ImageFolder`] into a [`Dataset`].

use image::GrayImage;
use image::imageops::{self, FilterType};
use sentio_audio::{FeatureConfig, FeatureExtractor, VadConfig, speech_span, utterance_summary};
use sentio_data::{AudioFolder, ImageFolder};
use serde::{Deserialize, Serialize};

use crate::{BaselineError, Dataset};

/// The image area-downsampled (each output pixel is the mean of the source area it covers,
/// partial pixels weighted by their overlap) to `side x side`, row-major, scaled to `0..=1`.
///
/// Length `side * side`. Upsampling (a `side` larger than the image) repeats pixels.
pub fn pixels(image: &GrayImage, side: u32) -> Result<Vec<f32>, BaselineError> {
    let (w, h) = image.dimensions();
    if side == 0 {
        return Err(BaselineError::bad_option(
            "pixels.side",
            side,
            "must be at least 1",
        ));
    }
    if w == 0 || h == 0 {
        return Err(BaselineError::ImageTooSmall {
            width: w,
            height: h,
            reason: "it has no pixels".into(),
        });
    }
    let xs = area_weights(w, side);
    let ys = area_weights(h, side);
    // Each output pixel covers (w / side) x (h / side) source pixels.
    let area = f64::from(w) / f64::from(side) * f64::from(h) / f64::from(side);
    let raw = image.as_raw();
    let mut out = Vec::with_capacity(side as usize * side as usize);
    for ry in &ys {
        for rx in &xs {
            let mut sum = 0.0f64;
            for &(sy, wy) in ry {
                let row = sy as usize * w as usize;
                for &(sx, wx) in rx {
                    sum += wy * wx * f64::from(raw[row + sx as usize]);
                }
            }
            out.push((sum / area / 255.0) as f32);
        }
    }
    Ok(out)
}

/// For each of `out` output pixels along an axis of `len` source pixels: the source pixels it
/// covers and by how much (in source pixels, 0..=1).
fn area_weights(len: u32, out: u32) -> Vec<Vec<(u32, f64)>> {
    let scale = f64::from(len) / f64::from(out);
    (0..out)
        .map(|o| {
            let a = f64::from(o) * scale;
            let b = (f64::from(o) + 1.0) * scale;
            let first = a.floor() as u32;
            let last = (b.ceil() as u32).min(len);
            (first..last)
                .filter_map(|p| {
                    let overlap = b.min(f64::from(p) + 1.0) - a.max(f64::from(p));
                    (overlap > 0.0).then_some((p, overlap))
                })
                .collect()
        })
        .collect()
}

/// Parameters of the HOG-like descriptor ([`hog`]).
///
/// The default (8 px cells, 9 bins, 2x2-cell blocks moved by one cell, clip 0.2) is Dalal and
/// Triggs' and scikit-image's; on a 64x64 image it gives 7 x 7 blocks x 36 = 1764 values, on a
/// 48x48 image 5 x 5 x 36 = 900.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HogConfig {
    /// Side of a cell in pixels.
    pub cell: u32,
    /// Orientation bins over 0..180 degrees (unsigned gradients).
    pub bins: usize,
    /// Side of a block in cells.
    pub block: u32,
    /// How many cells a block moves between neighbours.
    pub stride: u32,
    /// L2-Hys clip: after L2 normalization each value is clipped to this, then the block is
    /// normalized again.
    pub clip: f32,
}

impl Default for HogConfig {
    fn default() -> Self {
        HogConfig {
            cell: 8,
            bins: 9,
            block: 2,
            stride: 1,
            clip: 0.2,
        }
    }
}

impl HogConfig {
    /// Blocks along an axis of `len` pixels (the pixels past the last whole cell are unused).
    fn blocks(&self, len: u32) -> Option<u32> {
        let cells = len / self.cell;
        (cells >= self.block).then(|| (cells - self.block) / self.stride + 1)
    }

    fn check(&self) -> Result<(), BaselineError> {
        if self.cell == 0 {
            return Err(BaselineError::bad_option(
                "hog.cell",
                self.cell,
                "must be at least 1",
            ));
        }
        if self.bins == 0 || self.bins > 180 {
            return Err(BaselineError::bad_option(
                "hog.bins",
                self.bins,
                "must be 1..=180",
            ));
        }
        if self.block == 0 {
            return Err(BaselineError::bad_option(
                "hog.block",
                self.block,
                "must be at least 1",
            ));
        }
        if self.stride == 0 {
            return Err(BaselineError::bad_option(
                "hog.stride",
                self.stride,
                "must be at least 1",
            ));
        }
        if !(self.clip > 0.0 && self.clip.is_finite()) {
            return Err(BaselineError::bad_option(
                "hog.clip",
                self.clip,
                "must be above 0",
            ));
        }
        Ok(())
    }

    /// Length of the descriptor of a `width x height` image:
    /// `blocks_x * blocks_y * block * block * bins`, where
    /// `blocks_x = (width / cell - block) / stride + 1` (and likewise for y).
    pub fn len(&self, width: u32, height: u32) -> Result<usize, BaselineError> {
        self.check()?;
        match (self.blocks(width), self.blocks(height)) {
            (Some(bx), Some(by)) => {
                Ok(bx as usize * by as usize * (self.block as usize).pow(2) * self.bins)
            }
            _ => Err(BaselineError::ImageTooSmall {
                width,
                height,
                reason: format!(
                    "a HOG block needs {0}x{0} pixels ({1}x{1} cells of {2} px)",
                    self.block.saturating_mul(self.cell),
                    self.block,
                    self.cell
                ),
            }),
        }
    }
}

/// A HOG-like descriptor of a gray image.
///
/// 1. Gradients with the centred kernel `[-1, 0, 1]` in x and y on pixels scaled to `0..=1`
///    (edge pixels repeated at the border); y points down the image.
/// 2. Each pixel votes its gradient magnitude into a histogram of its cell: the unsigned
///    orientation `atan2(dy, dx)` mod 180 degrees is linearly interpolated between the two
///    nearest of `bins` bins whose centres are at `b * 180 / bins` degrees (so bin 0 holds
///    horizontal gradients, i.e. vertical edges; the last bin wraps around to bin 0). No
///    spatial interpolation between cells.
/// 3. Blocks of `block x block` cells, every `stride` cells, concatenate their cells'
///    histograms (cell rows top to bottom, left to right) and are normalized with L2-Hys:
///    `v / sqrt(|v|^2 + 1e-10)`, clipped at `clip`, normalized again.
/// 4. The blocks, row by row, make the descriptor; its length is [`HogConfig::len`].
pub fn hog(image: &GrayImage, config: &HogConfig) -> Result<Vec<f32>, BaselineError> {
    let (w, h) = image.dimensions();
    let len = config.len(w, h)?;
    let cell = config.cell as usize;
    let bins = config.bins;
    let (cells_x, cells_y) = ((w / config.cell) as usize, (h / config.cell) as usize);
    let (w, h) = (w as usize, h as usize);
    let raw = image.as_raw();
    let px = |x: usize, y: usize| f32::from(raw[y * w + x]) / 255.0;
    let bin_width = 180.0 / bins as f32;

    // Cell histograms, cell (cx, cy) at (cy * cells_x + cx) * bins.
    let mut cells = vec![0.0f32; cells_x * cells_y * bins];
    for y in 0..cells_y * cell {
        for x in 0..cells_x * cell {
            let dx = px((x + 1).min(w - 1), y) - px(x.saturating_sub(1), y);
            let dy = px(x, (y + 1).min(h - 1)) - px(x, y.saturating_sub(1));
            let magnitude = (dx * dx + dy * dy).sqrt();
            if magnitude == 0.0 {
                continue;
            }
            let mut angle = dy.atan2(dx).to_degrees();
            if angle < 0.0 {
                angle += 180.0;
            }
            if angle >= 180.0 {
                angle -= 180.0;
            }
            let position = angle / bin_width;
            let lo = position.floor();
            let frac = position - lo;
            let lo = (lo as usize) % bins;
            let hi = (lo + 1) % bins;
            let base = ((y / cell) * cells_x + x / cell) * bins;
            cells[base + lo] += magnitude * (1.0 - frac);
            cells[base + hi] += magnitude * frac;
        }
    }

    let block = config.block as usize;
    let stride = config.stride as usize;
    let blocks_x = (cells_x - block) / stride + 1;
    let blocks_y = (cells_y - block) / stride + 1;
    let mut out = Vec::with_capacity(len);
    let mut v = Vec::with_capacity(block * block * bins);
    for by in 0..blocks_y {
        for bx in 0..blocks_x {
            v.clear();
            for cy in by * stride..by * stride + block {
                for cx in bx * stride..bx * stride + block {
                    let base = (cy * cells_x + cx) * bins;
                    v.extend_from_slice(&cells[base..base + bins]);
                }
            }
            l2_hys(&mut v, config.clip);
            out.extend_from_slice(&v);
        }
    }
    Ok(out)
}

/// L2 normalization, clip at `clip`, L2 normalization again.
fn l2_hys(v: &mut [f32], clip: f32) {
    l2_normalize(v);
    for value in v.iter_mut() {
        *value = value.min(clip);
    }
    l2_normalize(v);
}

fn l2_normalize(v: &mut [f32]) {
    let norm = (v.iter().map(|x| x * x).sum::<f32>() + 1e-10).sqrt();
    for x in v {
        *x /= norm;
    }
}

/// Which features to compute from an image.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    /// [`pixels`] at `side x side`.
    Pixels {
        /// Output side in pixels.
        side: u32,
    },
    /// [`hog`] of the image resized (triangle filter) to `side x side` when it has another size.
    Hog {
        /// Side the image is brought to first, so every image gives the same length.
        side: u32,
        /// Cells, bins, blocks.
        config: HogConfig,
    },
}

impl FeatureKind {
    /// HOG with the default [`HogConfig`] on `side x side` images.
    pub fn hog(side: u32) -> FeatureKind {
        FeatureKind::Hog {
            side,
            config: HogConfig::default(),
        }
    }

    /// Length of the feature vector.
    pub fn n_features(&self) -> Result<usize, BaselineError> {
        match self {
            FeatureKind::Pixels { side } if *side > 0 => Ok((*side as usize).pow(2)),
            FeatureKind::Pixels { side } => Err(BaselineError::bad_option(
                "pixels.side",
                side,
                "must be at least 1",
            )),
            FeatureKind::Hog { side, config } => config.len(*side, *side),
        }
    }

    /// The feature vector of one image.
    pub fn extract(&self, image: &GrayImage) -> Result<Vec<f32>, BaselineError> {
        match self {
            FeatureKind::Pixels { side } => pixels(image, *side),
            FeatureKind::Hog { side, config } => {
                if *side == 0 {
                    return Err(BaselineError::bad_option(
                        "hog.side",
                        side,
                        "must be at least 1",
                    ));
                }
                if image.dimensions() == (*side, *side) {
                    hog(image, config)
                } else {
                    hog(
                        &imageops::resize(image, *side, *side, FilterType::Triangle),
                        config,
                    )
                }
            }
        }
    }

    /// A short description for reports, e.g. `HOG 64x64, 8 px cells, 9 bins, 2x2 blocks (1764)`.
    pub fn describe(&self) -> String {
        let len = self
            .n_features()
            .map_or_else(|_| "?".into(), |n| n.to_string());
        match self {
            FeatureKind::Pixels { side } => format!("pixels {side}x{side} ({len})"),
            FeatureKind::Hog { side, config } => format!(
                "HOG {side}x{side}, {} px cells, {} bins, {}x{} blocks, stride {} ({len})",
                config.cell, config.bins, config.block, config.block, config.stride
            ),
        }
    }
}

/// Every image of `folder` as a row of `kind` features, with the folder's labels.
/// `progress(done, total)` is called after each image.
pub fn image_folder(
    folder: &ImageFolder,
    kind: &FeatureKind,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Dataset, BaselineError> {
    let n_features = kind.n_features()?;
    let total = folder.samples.len();
    let mut x = Vec::with_capacity(total * n_features);
    let mut y = Vec::with_capacity(total);
    for (i, sample) in folder.samples.iter().enumerate() {
        let image = image::open(&sample.path)
            .map_err(|source| BaselineError::Image {
                path: sample.path.clone(),
                source,
            })?
            .to_luma8();
        x.extend(kind.extract(&image)?);
        y.push(sample.label);
        progress(i + 1, total);
    }
    Dataset::new(x, n_features, y, folder.labels.clone())
}

/// Every clip of `folder` as one row: the mean and standard deviation over the clip's speech of
/// each per-frame feature of `config` (sentio-audio's extractor, the one the SER model and the
/// device use: MFCC, ZCR, chroma, log-mel), `2 * config.dims()` values. With `trim_silence`
/// the VAD's speech span is summarized (as the SER model's input is cut), else the whole clip.
/// `progress(done, total)` is called after each clip.
pub fn audio_folder(
    folder: &AudioFolder,
    config: &FeatureConfig,
    trim_silence: bool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Dataset, BaselineError> {
    let audio_error = |path: &std::path::Path, e: sentio_audio::AudioError| BaselineError::Audio {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut extractor =
        FeatureExtractor::new(config.clone()).map_err(|e| audio_error(&folder.root, e))?;
    let total = folder.samples.len();
    let mut rows = Vec::with_capacity(total);
    let mut y = Vec::with_capacity(total);
    for (i, sample) in folder.samples.iter().enumerate() {
        let samples = folder.load(i)?;
        let span = if trim_silence {
            speech_span(&samples, config.sample_rate, &VadConfig::default())
                .map_err(|e| audio_error(&sample.path, e))?
        } else {
            0..samples.len()
        };
        let speech = samples.get(span).unwrap_or(&samples);
        let frames = extractor.extract(speech);
        if frames.frames == 0 {
            return Err(BaselineError::Audio {
                path: sample.path.clone(),
                reason: format!(
                    "{} samples of speech are shorter than one analysis frame",
                    speech.len()
                ),
            });
        }
        rows.push(utterance_summary(&frames));
        y.push(sample.label);
        progress(i + 1, total);
    }
    Dataset::from_rows(rows, y, folder.labels.clone())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn image(w: u32, h: u32, f: impl Fn(u32, u32) -> u8) -> GrayImage {
        GrayImage::from_fn(w, h, |x, y| image::Luma([f(x, y)]))
    }

    #[test]
    fn pixels_average_areas() {
        // 4x4 with a bright top-left quarter -> 2x2 with one bright pixel.
        let img = image(4, 4, |x, y| if x < 2 && y < 2 { 255 } else { 0 });
        assert_eq!(pixels(&img, 2).unwrap(), vec![1.0, 0.0, 0.0, 0.0]);
        // Non-integer ratio: 3 -> 2 averages 1.5 pixels each: (1 x 255 + 0.5 x 0) / 1.5; the
        // single row is stretched over both output rows.
        let img = image(3, 1, |x, _| if x == 0 { 255 } else { 0 });
        let p = pixels(&img, 2).unwrap();
        assert_eq!(p.len(), 4);
        assert!((p[0] - 1.0 / 1.5).abs() < 1e-6, "{p:?}");
        assert!(p[1].abs() < 1e-6 && p[2] == p[0] && p[3] == p[1], "{p:?}");
        // Mean brightness is preserved.
        let img = image(64, 64, |x, y| ((x * 7 + y * 3) % 256) as u8);
        let mean_in: f32 = img
            .as_raw()
            .iter()
            .map(|&p| f32::from(p) / 255.0)
            .sum::<f32>()
            / 4096.0;
        let p = pixels(&img, 24).unwrap();
        let mean_out: f32 = p.iter().sum::<f32>() / p.len() as f32;
        assert!((mean_in - mean_out).abs() < 1e-4);
        assert!(pixels(&img, 0).is_err());
        assert!(pixels(&GrayImage::new(0, 0), 4).is_err());
    }

    #[test]
    fn hog_length_matches_the_config() {
        let c = HogConfig::default();
        assert_eq!(c.len(64, 64).unwrap(), 1764);
        assert_eq!(c.len(48, 48).unwrap(), 900);
        let img = image(64, 48, |x, y| (x * y % 256) as u8);
        assert_eq!(hog(&img, &c).unwrap().len(), c.len(64, 48).unwrap());
        assert!(matches!(
            hog(&image(15, 64, |_, _| 0), &c),
            Err(BaselineError::ImageTooSmall { .. })
        ));
        let bad = HogConfig { cell: 0, ..c };
        assert!(matches!(
            bad.len(64, 64),
            Err(BaselineError::BadOption { .. })
        ));
    }

    /// Sum of each orientation bin over the whole descriptor.
    fn bin_totals(d: &[f32], bins: usize) -> Vec<f32> {
        let mut t = vec![0.0; bins];
        for (i, v) in d.iter().enumerate() {
            t[i % bins] += v;
        }
        t
    }

    #[test]
    fn a_vertical_edge_votes_into_bin_0() {
        let img = image(32, 32, |x, _| if x < 13 { 20 } else { 230 });
        let d = hog(&img, &HogConfig::default()).unwrap();
        let t = bin_totals(&d, 9);
        let total: f32 = t.iter().sum();
        assert!(t[0] / total > 0.99, "{t:?}");
    }

    #[test]
    fn orientations_interpolate_between_bins() {
        // A horizontal edge: gradient at 90 degrees, halfway between bins 4 (80) and 5 (100).
        let img = image(32, 32, |_, y| if y < 13 { 20 } else { 230 });
        let t = bin_totals(&hog(&img, &HogConfig::default()).unwrap(), 9);
        let total: f32 = t.iter().sum();
        assert!((t[4] / total - 0.5).abs() < 0.01, "{t:?}");
        assert!((t[5] / total - 0.5).abs() < 0.01, "{t:?}");
        // A 45 degree edge (bright below the anti-diagonal): gradient at 45 degrees, between
        // bins 2 (40) and 3 (60), closer to bin 2.
        let img = image(32, 32, |x, y| if x + y < 32 { 20 } else { 230 });
        let t = bin_totals(&hog(&img, &HogConfig::default()).unwrap(), 9);
        let (best, _) = t
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap();
        assert_eq!(best, 2, "{t:?}");
        assert!(t[3] > 0.0 && t[2] > t[3], "{t:?}");
    }

    #[test]
    fn blocks_are_l2_hys_normalized() {
        let img = image(32, 32, |x, y| ((x * 37 + y * 91) % 256) as u8);
        let c = HogConfig::default();
        let d = hog(&img, &c).unwrap();
        for block in d.chunks(36) {
            let norm: f32 = block.iter().map(|v| v * v).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-3, "{norm}");
        }
        // [3, 4] -> [0.6, 0.8] -> clipped at 0.5 -> [0.5, 0.5] -> [0.707, 0.707].
        let mut v = [3.0, 4.0, 0.0];
        l2_hys(&mut v, 0.5);
        let r = std::f32::consts::FRAC_1_SQRT_2;
        assert!(
            (v[0] - r).abs() < 1e-5 && (v[1] - r).abs() < 1e-5 && v[2] == 0.0,
            "{v:?}"
        );
        // A flat image has no gradients: all zeros, no NaN.
        let flat = hog(&image(32, 32, |_, _| 128), &c).unwrap();
        assert!(flat.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn feature_kinds_resize_and_describe() {
        let img = image(40, 40, |x, _| if x < 20 { 0 } else { 255 });
        let kind = FeatureKind::hog(64);
        assert_eq!(kind.extract(&img).unwrap().len(), 1764);
        assert!(kind.describe().contains("1764"));
        let kind = FeatureKind::Pixels { side: 10 };
        assert_eq!(kind.extract(&img).unwrap().len(), 100);
        assert!(FeatureKind::Pixels { side: 0 }.n_features().is_err());
    }
}
