//! The files a run reads and writes. Every file is replaced atomically through `sentio-files`
//! (a temporary file beside it, synced and renamed into place), so a crash leaves the old file
//! or the new one, never half of one; failures become this crate's [`Error`] with the path.

use std::io::Cursor;
use std::path::Path;

use image::{ImageFormat, RgbImage};

use crate::error::{Error, Result};

/// Creates `dir` and its parents.
pub fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("creating directory", dir, e))
}

/// Reads the whole of `path`.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io("reading", path, e))
}

/// Replaces `path` with `bytes`.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    sentio_files::write_bytes_atomically(path, bytes).map_err(|e| Error::io("writing", path, e))
}

/// Replaces `path` with `image` as PNG.
pub fn write_png(path: &Path, image: &RgbImage) -> Result<()> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
        .map_err(|source| Error::Image {
            path: path.to_path_buf(),
            source,
        })?;
    write_bytes(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_the_file_and_a_missing_folder_is_an_io_error() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("creating", "tmp", e))?;
        let path = dir.path().join("a.png");
        write_bytes(&path, b"old")?;
        write_png(&path, &RgbImage::new(3, 2))?;
        let back = image::load_from_memory(&read(&path)?).map_err(|source| Error::Image {
            path: path.clone(),
            source,
        })?;
        assert_eq!((back.width(), back.height()), (3, 2));
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .map_err(|e| Error::io("reading", dir.path(), e))?
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, ["a.png"]);
        let err = write_bytes(&dir.path().join("absent").join("x"), b"x").err();
        assert!(
            matches!(
                &err,
                Some(Error::Io {
                    action: "writing",
                    ..
                })
            ),
            "{err:?}"
        );
        Ok(())
    }
}
