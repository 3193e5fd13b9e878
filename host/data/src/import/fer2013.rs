//! FER2013 (`fer2013.csv`, also `icml_face_data.csv`): one face per row.
//!
//! ```text
//! emotion,pixels,Usage
//! 0,70 80 82 ... (2304 values 0..255, 48x48 row-major),Training
//! ```
//!
//! `emotion` 0..6 is already `fer7`'s order (0 angry, 1 disgust, 2 fear, 3 happy, 4 sad,
//! 5 surprise, 6 neutral). `Usage` is `Training`, `PublicTest` or `PrivateTest`; it is kept as
//! the prefix of each image's name (`<label>/<usage>-<line>.png`, usage lowercased) and counted
//! in `dataset.json`. The columns may come in any order and their names may carry spaces
//! (icml_face_data.csv has ` Usage`, ` pixels`); `Usage` may be missing, then images are named
//! `row-<line>.png`.

use std::io::{BufRead, BufReader};
use std::path::Path;

use image::GrayImage;
use sentio_models::labels::FER7;

use super::{BadRows, ImportReport, SkippedRow};
use crate::DataError;
use crate::folder::{DatasetInfo, INFO_VERSION, Staging, save_png};

/// FER2013's `Usage` values, in the order the file has them.
pub const FER2013_USAGES: [&str; 3] = ["Training", "PublicTest", "PrivateTest"];

const SIDE: u32 = 48;
const PIXELS: usize = (SIDE * SIDE) as usize;

/// The `Usage` of an image imported by [`fer2013`], from its file name (`None` for other
/// names).
pub fn fer2013_usage(path: &Path) -> Option<&'static str> {
    let stem = path.file_stem()?.to_str()?;
    let prefix = stem.split('-').next()?;
    FER2013_USAGES
        .iter()
        .copied()
        .find(|u| u.eq_ignore_ascii_case(prefix))
}

/// One parsed row.
struct Row {
    emotion: usize,
    image: GrayImage,
    usage: Option<&'static str>,
}

/// Import a FER2013 CSV into `out`. Malformed rows (wrong pixel count, a value that is not a
/// number in 0..255, an emotion outside 0..6, an unknown usage, missing columns) are reported
/// with their line numbers; `policy` says whether they stop the import or are skipped.
pub fn fer2013(csv: &Path, out: &Path, policy: BadRows) -> Result<ImportReport, DataError> {
    let file = std::fs::File::open(csv).map_err(DataError::io("cannot read", csv))?;
    let mut lines = BufReader::new(file).lines();
    let header = match lines.next() {
        Some(line) => line.map_err(DataError::io("cannot read", csv))?,
        None => {
            return Err(DataError::NotADataset {
                path: csv.to_path_buf(),
                reason: "the file is empty".into(),
            });
        }
    };
    let columns: Vec<String> = header
        .trim_start_matches('\u{feff}')
        .split(',')
        .map(|c| c.trim().trim_matches('"').to_ascii_lowercase())
        .collect();
    let find = |name: &'static str| columns.iter().position(|c| c == name);
    let missing = |column| DataError::BadHeader {
        path: csv.to_path_buf(),
        found: header.clone(),
        column,
    };
    let emotion_col = find("emotion").ok_or_else(|| missing("emotion"))?;
    let pixels_col = find("pixels").ok_or_else(|| missing("pixels"))?;
    let usage_col = find("usage");

    let staging = Staging::begin(out)?;
    let labels: Vec<String> = FER7.labels.iter().map(|l| l.to_string()).collect();
    staging.make_label_dirs(&labels)?;
    let mut per_class = vec![0usize; labels.len()];
    let mut usage_counts = [0usize; 3];
    let mut skipped = Vec::new();
    let mut imported = 0;
    for (i, line) in lines.enumerate() {
        let line_no = i + 2;
        let line = line.map_err(DataError::io("cannot read", csv))?;
        if line.trim().is_empty() {
            continue;
        }
        let row = match parse_row(&line, emotion_col, pixels_col, usage_col) {
            Ok(row) => row,
            Err(reason) => match policy {
                BadRows::Fail => {
                    return Err(DataError::BadRow {
                        path: csv.to_path_buf(),
                        line: Some(line_no),
                        reason,
                    });
                }
                BadRows::Skip => {
                    skipped.push(SkippedRow {
                        path: csv.to_path_buf(),
                        line: Some(line_no),
                        reason,
                    });
                    continue;
                }
            },
        };
        let label = &labels[row.emotion];
        let prefix = row.usage.map_or("row".to_string(), str::to_ascii_lowercase);
        let path = staging
            .path()
            .join(label)
            .join(format!("{prefix}-{line_no:06}.png"));
        save_png(&row.image, &path)?;
        per_class[row.emotion] += 1;
        if let Some(u) = row.usage
            && let Some(k) = FER2013_USAGES.iter().position(|x| *x == u)
        {
            usage_counts[k] += 1;
        }
        imported += 1;
    }
    if imported == 0 {
        return Err(DataError::NotADataset {
            path: csv.to_path_buf(),
            reason: format!("no valid rows ({} malformed)", skipped.len()),
        });
    }
    let info = DatasetInfo {
        version: INFO_VERSION,
        generator: format!("sentio-data {} import fer2013", env!("CARGO_PKG_VERSION")),
        label_set: FER7.name.to_string(),
        labels,
        image_size: Some([SIDE, SIDE]),
        per_class,
        seed: None,
        source: Some(csv.display().to_string()),
        usage: FER2013_USAGES
            .iter()
            .zip(usage_counts)
            .filter(|(_, n)| *n > 0)
            .map(|(u, n)| (u.to_string(), n))
            .collect(),
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

/// Parse one data row, or say what is wrong with it.
fn parse_row(
    line: &str,
    emotion_col: usize,
    pixels_col: usize,
    usage_col: Option<usize>,
) -> Result<Row, String> {
    let fields: Vec<&str> = line
        .split(',')
        .map(|f| f.trim().trim_matches('"'))
        .collect();
    let needed = emotion_col.max(pixels_col).max(usage_col.unwrap_or(0)) + 1;
    if fields.len() < needed {
        return Err(format!(
            "{} fields, {needed} expected (emotion,pixels,Usage)",
            fields.len()
        ));
    }
    let emotion_text = fields[emotion_col];
    let emotion: usize = emotion_text
        .parse()
        .map_err(|_| format!("emotion `{emotion_text}` is not a number"))?;
    if emotion >= FER7.labels.len() {
        return Err(format!("emotion {emotion} is out of range 0..6"));
    }
    let usage = match usage_col {
        None => None,
        Some(col) => {
            let text = fields[col];
            Some(
                FER2013_USAGES
                    .iter()
                    .copied()
                    .find(|u| *u == text)
                    .ok_or_else(|| {
                        format!("usage `{text}` is not one of {}", FER2013_USAGES.join(", "))
                    })?,
            )
        }
    };
    let mut pixels = Vec::with_capacity(PIXELS);
    for (k, value) in fields[pixels_col].split_ascii_whitespace().enumerate() {
        let v: u8 = value
            .parse()
            .map_err(|_| format!("pixel {} `{value}` is not a number in 0..255", k + 1))?;
        pixels.push(v);
    }
    if pixels.len() != PIXELS {
        return Err(format!(
            "{} pixel values, {PIXELS} (48x48) expected",
            pixels.len()
        ));
    }
    let image = GrayImage::from_raw(SIDE, SIDE, pixels)
        .ok_or_else(|| "pixel buffer does not make a 48x48 image".to_string())?;
    Ok(Row {
        emotion,
        image,
        usage,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn pixels(n: usize) -> String {
        (0..n)
            .map(|i| (i % 256).to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn a_good_row_parses() {
        let row = parse_row(&format!("3,{},PublicTest", pixels(2304)), 0, 1, Some(2)).unwrap();
        assert_eq!(row.emotion, 3);
        assert_eq!(row.usage, Some("PublicTest"));
        assert_eq!(row.image.get_pixel(1, 0).0, [1]);
        assert_eq!(row.image.get_pixel(0, 1).0, [48]);
    }

    #[test]
    fn bad_rows_say_why() {
        let check = |line: String, want: &str| {
            let err = parse_row(&line, 0, 1, Some(2)).err().unwrap();
            assert!(err.contains(want), "{err}");
        };
        check(format!("3,{},Training", pixels(2303)), "2303 pixel values");
        check(format!("7,{},Training", pixels(2304)), "out of range");
        check(format!("x,{},Training", pixels(2304)), "not a number");
        check(
            format!("1,{} 256,Training", pixels(2303)),
            "pixel 2304 `256`",
        );
        check(
            format!("1,{},Validation", pixels(2304)),
            "usage `Validation`",
        );
        check("1".to_string(), "1 fields");
    }

    #[test]
    fn usage_comes_back_from_the_name() {
        assert_eq!(
            fer2013_usage(Path::new("x/angry/privatetest-000012.png")),
            Some("PrivateTest")
        );
        assert_eq!(fer2013_usage(Path::new("row-000012.png")), None);
    }
}
