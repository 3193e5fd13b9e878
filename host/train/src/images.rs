//! A classifier's job on an image folder (`emoji`, `fer`): the folder loaded as gray images
//! (one sub-folder per label, matched by name), split stratified and seeded with the job's
//! seed, then the shared [`crate::job`] tail.

use std::path::Path;

use sentio_data::ImageFolder;

use crate::data::{Image, ImageSet};
use crate::error::{Error, Result};
use crate::job::{
    self, ClassAssessment, Data, Deployable, Job, Report, Split, image_preprocessing,
};
use crate::progress::TrainProgress;
use crate::trainer::{CrossEntropy, Trainable};

/// Loads the image folder at `dir` (one sub-folder per label of `job.labels`), splits it and
/// runs the job on it; what the folder's `dataset.json` says about the data joins the manifest.
pub fn run_on_folder<M>(
    job: &Job<M::Config>,
    dir: &Path,
    progress: &mut dyn TrainProgress,
) -> Result<Report>
where
    M: Deployable<Assessment = ClassAssessment>
        + Trainable<Shape = Image, Objective = CrossEntropy>,
{
    let labels: Vec<&str> = job.labels.iter().map(String::as_str).collect();
    let side = M::shape(&job.network).side;
    let data = load_image_folder(dir, side, &job.label_set, &labels, progress)?;
    let images = &data.examples;
    let split = sentio_data::split::stratified(
        &images.labels,
        job.val_fraction,
        job.test_fraction,
        job.train.seed,
    );
    if split.train.is_empty() || split.val.is_empty() {
        return Err(Error::Dataset {
            path: dir.to_path_buf(),
            reason: format!(
                "{} images are too few to split into training and validation sets",
                images.len()
            ),
        });
    }
    let split = Split::new(split, "stratified");
    job::run::<M>(job, &data, &split, progress).map(Report::new)
}

/// Loads every image of the folder at `dir` as `side`x`side` gray, with class indices in the
/// order of `labels`, the labels of the set called `set` (folder labels are matched by name),
/// with the files they came from and a summary of the dataset for the manifest.
pub fn load_image_folder(
    dir: &Path,
    side: usize,
    set: &str,
    labels: &[&str],
    progress: &mut dyn TrainProgress,
) -> Result<Data<Image, Vec<usize>>> {
    let folder = ImageFolder::open(dir)?;
    let bad = |reason: String| Error::Dataset {
        path: dir.to_path_buf(),
        reason,
    };
    let mut to_set = Vec::with_capacity(folder.labels.len());
    for label in &folder.labels {
        match labels.iter().position(|l| l == label) {
            Some(i) => to_set.push(i),
            None => {
                return Err(bad(format!(
                    "label folder `{label}` is not in the {set} label set [{}]",
                    labels.join(", ")
                )));
            }
        }
    }
    progress.stage(&format!(
        "loading {} images from {}",
        folder.samples.len(),
        dir.display()
    ));
    let mut images = ImageSet::new(Image::gray(side));
    images.values.reserve(folder.samples.len() * side * side);
    for (i, sample) in folder.samples.iter().enumerate() {
        let pixels = folder.load_gray(i, side as u32, side as u32)?;
        let Some(&label) = to_set.get(sample.label) else {
            return Err(bad(format!(
                "{} has label index {} but the folder has {} labels",
                sample.path.display(),
                sample.label,
                to_set.len()
            )));
        };
        if !images.push(&pixels, label) {
            return Err(bad(format!(
                "{} did not load as {side}x{side}",
                sample.path.display()
            )));
        }
    }
    let counts = images.counts(labels.len());
    if let Some(missing) = counts.iter().position(|c| *c == 0) {
        return Err(bad(format!(
            "class `{}` has no images (every class of {set} needs some)",
            labels[missing]
        )));
    }
    let summary = crate::job::dataset_figures(dir);
    Ok(Data {
        examples: images,
        sources: folder.samples.iter().map(|s| s.path.clone()).collect(),
        summary,
        preprocessing: image_preprocessing("gray", side),
        unit: "images",
    })
}
