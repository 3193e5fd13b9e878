//! Golden-image checks shared by the screen tests.

use std::path::{Path, PathBuf};

use image::RgbImage;

/// Where the golden PNGs are.
pub fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Compares `actual` with the golden PNG `name`; on a mismatch writes the actual image and a
/// diff (differing pixels red over a dimmed copy of the golden image) and fails.
/// `SENTIO_BLESS=1` rewrites the golden files instead.
pub fn assert_golden(name: &str, actual: &RgbImage) {
    let golden_path = golden_dir().join(format!("{name}.png"));
    if std::env::var_os("SENTIO_BLESS").is_some() {
        std::fs::create_dir_all(golden_dir()).unwrap();
        actual.save(&golden_path).unwrap();
        eprintln!("blessed {}", golden_path.display());
        return;
    }
    let golden = image::open(&golden_path)
        .unwrap_or_else(|e| {
            panic!(
                "cannot open {}: {e} (create it with SENTIO_BLESS=1)",
                golden_path.display()
            )
        })
        .to_rgb8();
    let actual_path = golden_dir().join(format!("{name}.actual.png"));
    let diff_path = golden_dir().join(format!("{name}.diff.png"));
    if golden.dimensions() != actual.dimensions() {
        actual.save(&actual_path).unwrap();
        panic!(
            "{name}: size {:?} differs from golden {:?}; actual written to {}",
            actual.dimensions(),
            golden.dimensions(),
            actual_path.display()
        );
    }
    let mut diff = RgbImage::new(golden.width(), golden.height());
    let mut differing = 0usize;
    for (x, y, g) in golden.enumerate_pixels() {
        if actual.get_pixel(x, y) != g {
            differing += 1;
            diff.put_pixel(x, y, image::Rgb([255, 0, 0]));
        } else {
            diff.put_pixel(x, y, image::Rgb(g.0.map(|c| c / 3)));
        }
    }
    if differing > 0 {
        actual.save(&actual_path).unwrap();
        diff.save(&diff_path).unwrap();
        panic!(
            "{name}: {differing} pixels differ from {}; see {} and {}",
            golden_path.display(),
            actual_path.display(),
            diff_path.display()
        );
    }
    // A stale actual/diff from an earlier failure would mislead whoever looks next.
    let _ = std::fs::remove_file(actual_path);
    let _ = std::fs::remove_file(diff_path);
}
