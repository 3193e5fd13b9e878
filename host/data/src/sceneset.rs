//! Multi-label image sets (the kiosk scenes of `sentio data synth scenes`): an image can show
//! several labels at once, so the one-folder-per-label layout of [`crate::ImageFolder`] cannot
//! hold them.
//!
//! ```text
//! DIR/dataset.json          DatasetInfo: generator, label set (anp32), labels, image size,
//!                           per_class = images showing each label, seed
//! DIR/labels.jsonl          one line per image, in order:
//!                           {"image":"images/scene-00000.png","labels":["blue_sky","lonely_person"]}
//! DIR/images/<stem>.png     8-bit RGB PNG
//! ```
//!
//! `dataset.json` is optional when reading (without it the labels are `anp32`'s); `labels.jsonl`
//! is required. Paths in it are relative to `DIR` and must stay inside it.

use std::path::{Component, Path, PathBuf};

use image::RgbImage;
use image::imageops::FilterType;
use serde::{Deserialize, Serialize};

use crate::DataError;
use crate::folder::DatasetInfo;

/// Name of the label file of a scene set.
pub const LABELS_FILE: &str = "labels.jsonl";

/// The folder (inside the set) the generator writes the images to.
pub const SCENE_IMAGES_DIR: &str = "images";

/// One line of `labels.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct SceneRecord {
    /// The image, relative to the set's folder.
    pub(crate) image: String,
    /// The labels it shows, by name.
    pub(crate) labels: Vec<String>,
}

/// One image of a [`SceneSet`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SceneSample {
    /// The image file.
    pub path: PathBuf,
    /// The labels it shows, as indices into [`SceneSet::labels`], ascending.
    pub labels: Vec<usize>,
}

/// A multi-label image set in the `DIR/labels.jsonl` + `DIR/images/` layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SceneSet {
    /// The set's folder.
    pub root: PathBuf,
    /// The label set's name (`anp32`).
    pub label_set: String,
    /// The labels, in index (model output) order.
    pub labels: Vec<String>,
    /// Every image, in the order of `labels.jsonl`.
    pub samples: Vec<SceneSample>,
}

impl SceneSet {
    /// Open a scene set: read `dataset.json` (if any) for the label set, then every line of
    /// `labels.jsonl`, checking that each names an existing image inside the folder and only
    /// labels of the set. Images are not decoded here ([`SceneSet::load_rgb`] does).
    pub fn open(dir: impl AsRef<Path>) -> Result<SceneSet, DataError> {
        let root = dir.as_ref().to_path_buf();
        let info = DatasetInfo::read(&root)?;
        let (label_set, labels) = match &info {
            Some(info) => match sentio_models::labels::by_name(&info.label_set) {
                Some(set) => (set.name.to_owned(), owned(set.labels)),
                None => (info.label_set.clone(), info.labels.clone()),
            },
            None => (
                sentio_models::ANP32.name.to_owned(),
                owned(sentio_models::ANP32.labels),
            ),
        };
        let path = root.join(LABELS_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(DataError::BadLabels {
                    path,
                    line: None,
                    reason: "there is no label file: this folder is not a scene set".into(),
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                return Err(DataError::BadLabels {
                    path,
                    line: None,
                    reason: "the label file is not UTF-8 text".into(),
                });
            }
            Err(e) => return Err(DataError::io("cannot read", &path)(e)),
        };
        let mut samples = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let bad = |reason: String| DataError::BadLabels {
                path: path.clone(),
                line: Some(n + 1),
                reason,
            };
            let record: SceneRecord = serde_json::from_str(line).map_err(|e| {
                bad(format!(
                    "not a JSON object {{\"image\": \"...\", \"labels\": [...]}}: {e}"
                ))
            })?;
            if !stays_inside(Path::new(&record.image)) {
                return Err(bad(format!(
                    "image path `{}` must be relative to the set's folder and stay inside it",
                    record.image
                )));
            }
            let image = root.join(&record.image);
            if !image.is_file() {
                return Err(bad(format!("image `{}` does not exist", record.image)));
            }
            let mut indices = Vec::with_capacity(record.labels.len());
            for name in &record.labels {
                let Some(index) = labels.iter().position(|l| l == name) else {
                    return Err(bad(format!(
                        "unknown label `{name}`; the {label_set} labels are: {}",
                        labels.join(", ")
                    )));
                };
                if indices.contains(&index) {
                    return Err(bad(format!("label `{name}` is listed twice")));
                }
                indices.push(index);
            }
            indices.sort_unstable();
            samples.push(SceneSample {
                path: image,
                labels: indices,
            });
        }
        if samples.is_empty() {
            return Err(DataError::BadLabels {
                path,
                line: None,
                reason: "the label file lists no image".into(),
            });
        }
        Ok(SceneSet {
            root,
            label_set,
            labels,
            samples,
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether the set has no image (never true for an opened set).
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Images showing each label, parallel to `labels`.
    pub fn counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.labels.len()];
        for sample in &self.samples {
            for &l in &sample.labels {
                if let Some(c) = counts.get_mut(l) {
                    *c += 1;
                }
            }
        }
        counts
    }

    /// The labels of image `i` as a 0/1 vector over `labels` (a multi-label target).
    pub fn multi_hot(&self, i: usize) -> Result<Vec<f32>, DataError> {
        let sample = self.sample(i)?;
        let mut target = vec![0.0; self.labels.len()];
        for &l in &sample.labels {
            if let Some(t) = target.get_mut(l) {
                *t = 1.0;
            }
        }
        Ok(target)
    }

    /// Image `i` as RGB values in `0..=1`, planar (all red, then green, then blue: the
    /// `[3, height, width]` layout of a network's input), resized with a triangle filter when
    /// the file has another size.
    pub fn load_rgb(&self, i: usize, width: u32, height: u32) -> Result<Vec<f32>, DataError> {
        let sample = self.sample(i)?;
        if width == 0 || height == 0 {
            return Err(DataError::BadArgument(format!(
                "image size {width}x{height}: both sides must be at least 1"
            )));
        }
        let image = read_rgb(&sample.path)?;
        Ok(rgb_to_planar(&image, width, height))
    }

    fn sample(&self, i: usize) -> Result<&SceneSample, DataError> {
        self.samples.get(i).ok_or_else(|| DataError::NoSuchSample {
            root: self.root.clone(),
            index: i,
            len: self.samples.len(),
        })
    }
}

fn owned(labels: &[&str]) -> Vec<String> {
    labels.iter().map(|l| (*l).to_owned()).collect()
}

/// Whether `path` is relative and never climbs out of its folder.
fn stays_inside(path: &Path) -> bool {
    !path.as_os_str().is_empty() && path.components().all(|c| matches!(c, Component::Normal(_)))
}

/// Decode any image `image` reads, as 8-bit RGB.
fn read_rgb(path: &Path) -> Result<RgbImage, DataError> {
    Ok(crate::folder::read_image(path)?.to_rgb8())
}

/// Planar RGB in `0..=1` (`[3, height, width]`), resized with a triangle filter if needed.
pub fn rgb_to_planar(image: &RgbImage, width: u32, height: u32) -> Vec<f32> {
    let scaled;
    let image = if image.dimensions() == (width, height) {
        image
    } else {
        scaled = image::imageops::resize(image, width, height, FilterType::Triangle);
        &scaled
    };
    let plane = (width * height) as usize;
    let mut out = vec![0.0; 3 * plane];
    for (i, px) in image.pixels().enumerate() {
        for (k, &v) in px.0.iter().enumerate() {
            out[k * plane + i] = f32::from(v) / 255.0;
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn paths_must_stay_inside_the_set() {
        assert!(stays_inside(Path::new("images/a.png")));
        assert!(stays_inside(Path::new("a.png")));
        assert!(!stays_inside(Path::new("../a.png")));
        assert!(!stays_inside(Path::new("/etc/passwd")));
        assert!(!stays_inside(Path::new("images/../../a.png")));
        assert!(!stays_inside(Path::new("")));
    }

    #[test]
    fn planar_layout_puts_each_channel_in_its_own_plane() {
        let mut image = RgbImage::new(2, 1);
        image.put_pixel(0, 0, image::Rgb([255, 0, 51]));
        image.put_pixel(1, 0, image::Rgb([0, 255, 102]));
        let planar = rgb_to_planar(&image, 2, 1);
        assert_eq!(planar, vec![1.0, 0.0, 0.0, 1.0, 0.2, 0.4]);
    }
}
