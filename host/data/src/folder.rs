//! The on-disk layout every dataset of the project uses, and writing it safely.
//!
//! ```text
//! DIR/dataset.json          DatasetInfo: generator, label set, labels, image size, counts, seed
//! DIR/<label>/<stem>.png    8-bit grayscale PNG, one folder per label
//! ```
//!
//! Writers build the dataset in a hidden staging folder beside `DIR` and rename it into place
//! only when everything is written, so an interrupted or failed run never leaves a half dataset
//! under the name training would read.

use std::path::{Path, PathBuf};

use image::GrayImage;
use image::imageops::FilterType;
use serde::{Deserialize, Serialize};

use crate::DataError;

/// The `dataset.json` format version this crate writes and reads.
pub const INFO_VERSION: u32 = 1;

/// Name of the description file in a dataset folder.
pub const INFO_FILE: &str = "dataset.json";

/// Image file extensions [`ImageFolder::open`] picks up (lowercase).
pub const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg"];

/// What `dataset.json` says about a dataset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetInfo {
    /// Format version of this file ([`INFO_VERSION`]).
    pub version: u32,
    /// What made the dataset, e.g. `sentio-data 0.1.0 synth emoji`.
    pub generator: String,
    /// The label set's name (`emoji8`, `fer7`, ...), or `custom` for an imported folder whose
    /// folder names are not one of the known sets.
    pub label_set: String,
    /// The labels in class-index order (the folder names).
    pub labels: Vec<String>,
    /// `[width, height]` when every image has this size.
    pub image_size: Option<[u32; 2]>,
    /// Images per class, parallel to `labels`.
    pub per_class: Vec<usize>,
    /// The generator's seed (generated datasets only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The file or folder imported from (imported datasets only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Images per partition of the source (FER2013's `Usage`: Training, PublicTest,
    /// PrivateTest); the partition of an image is also the prefix of its file name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub usage: Vec<(String, usize)>,
    /// Rows or files of the source left out as malformed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skipped: usize,
    /// Sample rate of every WAV file, in Hz (audio sets only; 16000 for the sets this crate
    /// writes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<u32>,
    /// The file-name scheme each file's speaker is read from (audio sets only): `synth`,
    /// `ravdess`, `tess`, `cremad` or `savee` (see [`crate::AudioFolder`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_names: Option<String>,
    /// The speakers and their utterance counts (audio sets only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub speakers: Vec<SpeakerInfo>,
}

/// One speaker of an audio set, as `dataset.json` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpeakerInfo {
    /// The speaker id, as [`crate::AudioSample::speaker`] spells it (`synth-07`, `ravdess-12`).
    pub id: String,
    /// Utterances by this speaker.
    pub utterances: usize,
    /// How a generated speaker was made (espeak-ng voice, variant, pitch and rate baselines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl DatasetInfo {
    /// Read `DIR/dataset.json`; `Ok(None)` when there is none.
    pub fn read(dir: &Path) -> Result<Option<DatasetInfo>, DataError> {
        let path = dir.join(INFO_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(DataError::io("cannot read", &path)(e)),
        };
        let info: DatasetInfo =
            serde_json::from_str(&text).map_err(|e| DataError::BadManifest {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        if info.version != INFO_VERSION {
            return Err(DataError::BadManifest {
                path,
                reason: format!(
                    "format version {}, this build reads version {INFO_VERSION}",
                    info.version
                ),
            });
        }
        Ok(Some(info))
    }

    /// Write `DIR/dataset.json` (pretty-printed, so a person can read it).
    pub fn write(&self, dir: &Path) -> Result<(), DataError> {
        let path = dir.join(INFO_FILE);
        let json = serde_json::to_string_pretty(self).map_err(|e| DataError::BadManifest {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        std::fs::write(&path, json + "\n").map_err(DataError::io("cannot write", &path))
    }

    /// Total number of images.
    pub fn total(&self) -> usize {
        self.per_class.iter().sum()
    }
}

/// One image of an [`ImageFolder`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Sample {
    /// The image file.
    pub path: PathBuf,
    /// Its class index into [`ImageFolder::labels`].
    pub label: usize,
}

/// The `dataset.json` of the folder `root` (if any) and its labels in class-index order: the
/// label set named there when it names a known one (so a class without samples still has its
/// index), else the `labels` listed there, else the sorted names of the subfolders. A subfolder
/// that is not a label is an error when `dataset.json` lists the labels (it would otherwise be
/// silently left out). Shared by image and speech folders.
pub(crate) fn discover_labels(
    root: &Path,
) -> Result<(Option<DatasetInfo>, Vec<String>), DataError> {
    let info = DatasetInfo::read(root)?;
    let folders = subfolders(root)?;
    let labels: Vec<String> = match &info {
        Some(info) => match sentio_models::labels::by_name(&info.label_set) {
            Some(set) => set.labels.iter().map(|l| l.to_string()).collect(),
            None => info.labels.clone(),
        },
        None => folders.clone(),
    };
    if labels.is_empty() {
        return Err(DataError::NotADataset {
            path: root.to_path_buf(),
            reason: "no label folders".into(),
        });
    }
    if info.is_some()
        && let Some(stray) = folders.iter().find(|f| !labels.contains(f))
    {
        return Err(DataError::BadManifest {
            path: root.join(INFO_FILE),
            reason: format!(
                "folder `{stray}` is not one of the labels [{}]",
                labels.join(", ")
            ),
        });
    }
    Ok((info, labels))
}

/// A dataset in the `DIR/<label>/<stem>.png` layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageFolder {
    /// The dataset folder.
    pub root: PathBuf,
    /// The labels, in class-index order.
    pub labels: Vec<String>,
    /// Every image, sorted by path.
    pub samples: Vec<Sample>,
}

impl ImageFolder {
    /// Open a dataset folder.
    ///
    /// The labels are the label set named in `dataset.json` when it names a known one (so a
    /// class without images still has its index), else the `labels` listed there, else the
    /// sorted names of the subfolders. Images are the `.png`/`.jpg`/`.jpeg` files directly in
    /// each label's folder, sorted by path so the order (and so every split) is the same on
    /// every machine. A subfolder that is not a label is an error when `dataset.json` lists
    /// the labels (it would otherwise be silently left out).
    pub fn open(dir: impl AsRef<Path>) -> Result<ImageFolder, DataError> {
        let root = dir.as_ref().to_path_buf();
        let (_, labels) = discover_labels(&root)?;
        let mut samples = Vec::new();
        for (label, name) in labels.iter().enumerate() {
            let folder = root.join(name);
            if !folder.is_dir() {
                continue;
            }
            for path in image_files(&folder)? {
                samples.push(Sample { path, label });
            }
        }
        if samples.is_empty() {
            return Err(DataError::NotADataset {
                path: root,
                reason: "no .png/.jpg images in any label folder".into(),
            });
        }
        samples.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(ImageFolder {
            root,
            labels,
            samples,
        })
    }

    /// The class index of every sample, in sample order (what [`crate::split`] takes).
    pub fn targets(&self) -> Vec<usize> {
        self.samples.iter().map(|s| s.label).collect()
    }

    /// Images per class, parallel to `labels`.
    pub fn counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.labels.len()];
        for s in &self.samples {
            if let Some(c) = counts.get_mut(s.label) {
                *c += 1;
            }
        }
        counts
    }

    /// Sample `i` as gray pixels in `0..=1`, row-major, `width x height` (resized with a
    /// triangle filter when the file has another size; colour images are converted to gray).
    pub fn load_gray(&self, i: usize, width: u32, height: u32) -> Result<Vec<f32>, DataError> {
        let sample = self.samples.get(i).ok_or_else(|| DataError::NoSuchSample {
            root: self.root.clone(),
            index: i,
            len: self.samples.len(),
        })?;
        if width == 0 || height == 0 {
            return Err(DataError::BadArgument(format!(
                "image size {width}x{height}: both sides must be at least 1"
            )));
        }
        let gray = read_gray(&sample.path)?;
        Ok(gray_to_f32(&gray, width, height))
    }
}

/// The images of a folder a model is calibrated or evaluated on (`sentio quantize --calib DIR`):
/// an [`ImageFolder`] (`DIR/<label>/*.png`) or loose images directly in `DIR`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageDir {
    /// One subfolder per class.
    Labelled(ImageFolder),
    /// Images directly in the folder, without labels.
    Loose {
        /// The folder.
        root: PathBuf,
        /// Every image, sorted by path.
        images: Vec<PathBuf>,
    },
}

impl ImageDir {
    /// Open `dir` for a model whose labels (its manifest's, in class-index order) are `labels`.
    ///
    /// The subfolders holding images (`.png`/`.jpg`/`.jpeg`) are the classes: each must be one
    /// of `labels`, which become the folder's labels, or without `labels` their sorted names
    /// are. `dataset.json` is not read (the model's labels are what counts). A folder with no
    /// such subfolder is loose images, and one with no image at all is an error. Hidden files
    /// and folders are left out.
    pub fn open(dir: impl AsRef<Path>, labels: Option<&[String]>) -> Result<ImageDir, DataError> {
        let root = dir.as_ref().to_path_buf();
        let mut folders = Vec::new();
        for name in subfolders(&root)? {
            let images = image_files(&root.join(&name))?;
            if !images.is_empty() {
                folders.push((name, images));
            }
        }
        if folders.is_empty() {
            let images = image_files(&root)?;
            if images.is_empty() {
                return Err(DataError::NotADataset {
                    path: root,
                    reason: "no images (.png, .jpg, .jpeg) in it or in its sub-folders".into(),
                });
            }
            return Ok(ImageDir::Loose { root, images });
        }
        let labels: Vec<String> = match labels {
            Some(labels) => {
                if let Some((stray, _)) = folders.iter().find(|(name, _)| !labels.contains(name)) {
                    return Err(DataError::UnknownLabel {
                        path: root,
                        folder: stray.clone(),
                        labels: labels.to_vec(),
                    });
                }
                labels.to_vec()
            }
            None => folders.iter().map(|(name, _)| name.clone()).collect(),
        };
        let mut samples = Vec::new();
        for (name, images) in folders {
            if let Some(label) = labels.iter().position(|l| *l == name) {
                samples.extend(images.into_iter().map(|path| Sample { path, label }));
            }
        }
        samples.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(ImageDir::Labelled(ImageFolder {
            root,
            labels,
            samples,
        }))
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        match self {
            ImageDir::Labelled(folder) => &folder.root,
            ImageDir::Loose { root, .. } => root,
        }
    }

    /// Every image, sorted by path.
    pub fn paths(&self) -> Vec<&Path> {
        match self {
            ImageDir::Labelled(folder) => folder.samples.iter().map(|s| s.path.as_path()).collect(),
            ImageDir::Loose { images, .. } => images.iter().map(PathBuf::as_path).collect(),
        }
    }

    /// The labelled folder, when it is one.
    pub fn labelled(&self) -> Option<&ImageFolder> {
        match self {
            ImageDir::Labelled(folder) => Some(folder),
            ImageDir::Loose { .. } => None,
        }
    }
}

/// Decode any image `image` reads (the format guessed from its bytes).
pub(crate) fn read_image(path: &Path) -> Result<image::DynamicImage, DataError> {
    let reader = image::ImageReader::open(path)
        .map_err(DataError::io("cannot read", path))?
        .with_guessed_format()
        .map_err(DataError::io("cannot read", path))?;
    reader.decode().map_err(DataError::image(path))
}

/// Decode any image `image` reads and convert it to 8-bit gray.
pub(crate) fn read_gray(path: &Path) -> Result<GrayImage, DataError> {
    Ok(read_image(path)?.to_luma8())
}

/// Pixels scaled to `0..=1`, resized with a triangle filter to `width x height` if needed.
pub fn gray_to_f32(image: &GrayImage, width: u32, height: u32) -> Vec<f32> {
    let scaled;
    let image = if image.dimensions() == (width, height) {
        image
    } else {
        scaled = image::imageops::resize(image, width, height, FilterType::Triangle);
        &scaled
    };
    image
        .as_raw()
        .iter()
        .map(|&p| f32::from(p) / 255.0)
        .collect()
}

/// Sorted names of the non-hidden subfolders of `dir`.
pub(crate) fn subfolders(dir: &Path) -> Result<Vec<String>, DataError> {
    let entries = std::fs::read_dir(dir).map_err(DataError::io("cannot read", dir))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(DataError::io("cannot read", dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && entry.path().is_dir() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Sorted image files directly in `dir`.
fn image_files(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let entries = std::fs::read_dir(dir).map_err(DataError::io("cannot read", dir))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(DataError::io("cannot read", dir))?.path();
        let is_image = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if is_image && !hidden && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// A dataset being written: a hidden staging folder beside the destination, renamed into place
/// by [`Staging::finish`]. Dropped unfinished, it deletes itself and the destination is as it
/// was.
pub(crate) struct Staging {
    dir: tempfile::TempDir,
    out: PathBuf,
}

impl Staging {
    /// Refuses a destination that exists and is not an empty directory, before any work.
    pub(crate) fn begin(out: &Path) -> Result<Staging, DataError> {
        if out.exists() {
            let empty_dir = std::fs::read_dir(out)
                .map(|mut entries| entries.next().is_none())
                .unwrap_or(false);
            if !empty_dir {
                return Err(DataError::OutputExists {
                    path: out.to_path_buf(),
                });
            }
        }
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(DataError::io("cannot create", &parent))?;
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "dataset".into());
        let dir = tempfile::Builder::new()
            .prefix(&format!(".{name}.partial-"))
            .tempdir_in(&parent)
            .map_err(DataError::io("cannot create a staging folder in", &parent))?;
        Ok(Staging {
            dir,
            out: out.to_path_buf(),
        })
    }

    /// The staging folder to write into.
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Create the label folders.
    pub(crate) fn make_label_dirs(&self, labels: &[String]) -> Result<(), DataError> {
        for label in labels {
            let dir = self.path().join(label);
            std::fs::create_dir_all(&dir).map_err(DataError::io("cannot create", &dir))?;
        }
        Ok(())
    }

    /// Write `info` and move the dataset to its destination.
    pub(crate) fn finish(self, info: &DatasetInfo) -> Result<PathBuf, DataError> {
        info.write(self.path())?;
        if self.out.exists() {
            // Checked empty in `begin`; a directory that filled up since then makes this fail.
            std::fs::remove_dir(&self.out).map_err(DataError::io("cannot replace", &self.out))?;
        }
        std::fs::rename(self.dir.path(), &self.out).map_err(DataError::io(
            "cannot move the finished dataset to",
            &self.out,
        ))?;
        // The folder now lives under its final name; nothing is left to clean up.
        let _ = self.dir.keep();
        Ok(self.out)
    }
}

/// Save an 8-bit gray image as PNG.
pub(crate) fn save_png<P: image::PixelWithColorType>(
    image: &image::ImageBuffer<P, Vec<P::Subpixel>>,
    path: &Path,
) -> Result<(), DataError>
where
    [P::Subpixel]: image::EncodableLayout,
{
    image
        .save_with_format(path, image::ImageFormat::Png)
        .map_err(DataError::image(path))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn png(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        GrayImage::from_pixel(2, 2, image::Luma([7]))
            .save(path)
            .unwrap();
    }

    fn names(root: &Path, paths: &[&Path]) -> Vec<String> {
        paths
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().display().to_string())
            .collect()
    }

    #[test]
    fn an_image_dir_takes_the_model_labels_or_the_sorted_folders() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        png(&root.join("sad/b.png"));
        png(&root.join("happy/a.jpg"));
        png(&root.join("happy/.hidden.png"));
        std::fs::create_dir_all(root.join("empty")).unwrap();
        std::fs::write(root.join("sad/notes.txt"), "no image").unwrap();

        let dir = ImageDir::open(root, None).unwrap();
        let folder = dir.labelled().unwrap();
        assert_eq!(folder.labels, ["happy", "sad"]);
        assert_eq!(folder.targets(), [0, 1]);
        assert_eq!(names(root, &dir.paths()), ["happy/a.jpg", "sad/b.png"]);

        // The model's labels give the class indices; one without images keeps its index.
        let labels: Vec<String> = ["sad", "neutral", "happy"].map(String::from).to_vec();
        let dir = ImageDir::open(root, Some(&labels)).unwrap();
        let folder = dir.labelled().unwrap();
        assert_eq!(folder.labels, labels);
        assert_eq!(folder.targets(), [2, 0]);
        assert_eq!(dir.root(), root);

        // A folder that is not a label is refused (an empty one is not a class).
        let err = ImageDir::open(root, Some(&labels[..2])).unwrap_err();
        assert!(
            err.to_string()
                .contains("folder `happy` is not one of the manifest's labels (sad, neutral)"),
            "{err}"
        );
        assert!(!err.help().is_empty());
    }

    #[test]
    fn an_image_dir_without_class_folders_is_loose_images_or_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("empty")).unwrap();
        let err = ImageDir::open(root, None).unwrap_err();
        assert!(err.to_string().contains("no images"), "{err}");

        png(&root.join("b.PNG"));
        png(&root.join("a.png"));
        let dir = ImageDir::open(root, Some(&["x".to_owned()])).unwrap();
        assert!(dir.labelled().is_none());
        assert_eq!(names(root, &dir.paths()), ["a.png", "b.PNG"]);
    }
}
