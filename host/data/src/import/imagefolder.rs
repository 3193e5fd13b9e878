//! Any folder of images in the `SRC/<label>/...` layout (the layout of torchvision's
//! `ImageFolder` and of most Kaggle image sets), in any format `image` reads, converted to
//! 8-bit gray PNGs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sentio_models::labels;

use super::{BadRows, ImportReport, SkippedRow};
use crate::DataError;
use crate::folder::{DatasetInfo, INFO_VERSION, Staging, read_gray, save_png};

/// Import `src/<label>/**/<file>` into `out/<label>/<stem>.png` (gray).
///
/// The labels are the subfolder names. When they are all labels of one image label set
/// (`fer7`, else `emoji8`), the dataset uses that set and its order, so the class indices match
/// the project's models; otherwise the sorted folder names are the labels and the label set is
/// `custom`. Images keep their size (`dataset.json` records it when all agree); hidden files
/// are ignored, and a file that does not decode as an image is a bad row under `policy`.
pub fn imagefolder(src: &Path, out: &Path, policy: BadRows) -> Result<ImportReport, DataError> {
    let mut folders = Vec::new();
    for entry in std::fs::read_dir(src).map_err(DataError::io("cannot read", src))? {
        let path = entry.map_err(DataError::io("cannot read", src))?.path();
        let name = file_name(&path);
        if path.is_dir() && !name.starts_with('.') {
            folders.push(name);
        }
    }
    folders.sort();
    if folders.is_empty() {
        return Err(DataError::NotADataset {
            path: src.to_path_buf(),
            reason: "no label subfolders".into(),
        });
    }
    // Image label sets only, FER first: folders that fit both (only `angry` and `neutral`
    // are in both) are more likely photographs of faces than drawings.
    let known = [&labels::FER7, &labels::EMOJI8]
        .into_iter()
        .find(|set| folders.iter().all(|f| set.index_of(f).is_some()));
    let (label_set, label_names): (String, Vec<String>) = match known {
        Some(set) => (
            set.name.to_string(),
            set.labels.iter().map(|l| l.to_string()).collect(),
        ),
        None => ("custom".to_string(), folders.clone()),
    };

    let staging = Staging::begin(out)?;
    staging.make_label_dirs(&label_names)?;
    let mut per_class = vec![0usize; label_names.len()];
    let mut sizes = BTreeSet::new();
    let mut skipped = Vec::new();
    let mut imported = 0;
    for folder in &folders {
        let Some(class) = label_names.iter().position(|l| l == folder) else {
            continue;
        };
        let mut files = Vec::new();
        collect_files(&src.join(folder), &mut files)?;
        files.sort();
        let mut used = BTreeSet::new();
        for file in files {
            let image = match read_gray(&file) {
                Ok(image) => image,
                Err(e) => {
                    let reason = match &e {
                        DataError::Image { source, .. } => source.to_string(),
                        DataError::Io { source, .. } => source.to_string(),
                        other => other.to_string(),
                    };
                    match policy {
                        BadRows::Fail => {
                            return Err(DataError::BadRow {
                                path: file,
                                line: None,
                                reason,
                            });
                        }
                        BadRows::Skip => {
                            skipped.push(SkippedRow {
                                path: file,
                                line: None,
                                reason,
                            });
                            continue;
                        }
                    }
                }
            };
            // Files in subfolders or with the same stem (a.jpg, a.png) must not overwrite
            // each other.
            let stem = unique_stem(&src.join(folder), &file, &mut used);
            let path = staging.path().join(folder).join(format!("{stem}.png"));
            save_png(&image, &path)?;
            sizes.insert(image.dimensions());
            per_class[class] += 1;
            imported += 1;
        }
    }
    if imported == 0 {
        return Err(DataError::NotADataset {
            path: src.to_path_buf(),
            reason: format!("no readable images ({} unreadable)", skipped.len()),
        });
    }
    let image_size = match sizes.iter().collect::<Vec<_>>()[..] {
        [(w, h)] => Some([*w, *h]),
        _ => None,
    };
    let info = DatasetInfo {
        version: INFO_VERSION,
        generator: format!(
            "sentio-data {} import imagefolder",
            env!("CARGO_PKG_VERSION")
        ),
        label_set,
        labels: label_names,
        image_size,
        per_class,
        seed: None,
        source: Some(src.display().to_string()),
        usage: Vec::new(),
        skipped: skipped.len(),
        sample_rate: None,
        file_names: None,
        speakers: Vec::new(),
    };
    let root = staging.finish(&info)?;
    Ok(ImportReport {
        root,
        info,
        imported,
        skipped,
    })
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Every non-hidden file under `dir`, recursively.
fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), DataError> {
    for entry in std::fs::read_dir(dir).map_err(DataError::io("cannot read", dir))? {
        let path = entry.map_err(DataError::io("cannot read", dir))?.path();
        if file_name(&path).starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect_files(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// The file's path below its label folder, with `/` as `_` and without extension; made unique
/// with a `-2`, `-3`, ... suffix.
fn unique_stem(base: &Path, file: &Path, used: &mut BTreeSet<String>) -> String {
    let relative = file.strip_prefix(base).unwrap_or(file).with_extension("");
    let stem: String = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("_");
    let mut candidate = stem.clone();
    let mut n = 2;
    while !used.insert(candidate.clone()) {
        candidate = format!("{stem}-{n}");
        n += 1;
    }
    candidate
}
