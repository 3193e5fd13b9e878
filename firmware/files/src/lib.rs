//! One way to replace a file: [`write_atomically`].
//!
//! The new contents go to a temporary file in the same folder, which is synced, renamed over the
//! target and followed by a sync of the folder, so after a power cut the path holds the old file
//! or the new one, never half of one, and the rename itself is on disk. When writing fails the
//! temporary file is removed and the old file is untouched.
//!
//! This crate does no other I/O and knows nothing of what is written; callers wrap the
//! `io::Error` in their own typed error with the path.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

/// Replaces `path` with what `write` writes into the file it is handed.
///
/// The folder must exist. A `write` that fails leaves `path` as it was and no temporary file
/// behind; its error is returned as it is.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // A dot and the target's name, so a leftover from a killed process is recognisable and
    // hidden; tempfile adds random letters so two writers never share one.
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    if let Some(permissions) = permissions_for(path) {
        builder.permissions(permissions);
    }
    let mut tmp = builder.tempfile_in(dir)?;
    write(tmp.as_file_mut())?;
    tmp.as_file_mut().flush()?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_folder(dir)
}

/// [`write_atomically`] for contents already in memory.
pub fn write_bytes_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomically(path, |file| file.write_all(bytes))
}

/// The mode the new file gets: a replaced file keeps its own (a private file stays private);
/// a new one gets what `File::create` gives, 0666 less the umask (0644 usually). tempfile's
/// default, 0600, would hide display frames, models and reports from every other user.
fn permissions_for(path: &Path) -> Option<std::fs::Permissions> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Some(meta.permissions()),
        _ => new_file_permissions(),
    }
}

#[cfg(unix)]
fn new_file_permissions() -> Option<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    // open(2) applies the umask to this, as it does for `File::create`.
    Some(std::fs::Permissions::from_mode(0o666))
}

/// Elsewhere tempfile's default is a plain writable file.
#[cfg(not(unix))]
fn new_file_permissions() -> Option<std::fs::Permissions> {
    None
}

/// Makes the rename durable: on Linux a rename is in the folder's data, not the file's.
#[cfg(unix)]
fn sync_folder(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Other systems cannot open a folder as a file; their rename is as durable as they make it.
#[cfg(not(unix))]
fn sync_folder(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn replaces_the_file_and_leaves_nothing_else() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("model.onnx");
        std::fs::write(&path, b"old")?;
        write_bytes_atomically(&path, b"new contents")?;
        assert_eq!(std::fs::read(&path)?, b"new contents");
        assert_eq!(entries(dir.path()), ["model.onnx"]);
        Ok(())
    }

    #[test]
    fn a_failing_writer_keeps_the_old_file_and_removes_its_temporary() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("curves.png");
        std::fs::write(&path, b"old")?;
        let result = write_atomically(&path, |file| {
            file.write_all(b"half of the")?;
            Err(io::Error::other("encoder failed"))
        });
        let err = result.err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("encoder failed"));
        assert_eq!(std::fs::read(&path)?, b"old");
        assert_eq!(entries(dir.path()), ["curves.png"]);
        Ok(())
    }

    /// A new file gets `File::create`'s mode (0666 less the umask), not tempfile's 0600; a
    /// replaced file keeps its own.
    #[cfg(unix)]
    #[test]
    fn new_files_get_the_usual_mode_and_replaced_files_keep_theirs() -> io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        let mode = |p: &Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777);
        let plain = dir.path().join("plain.txt");
        std::fs::write(&plain, b"x")?;
        let fresh = dir.path().join("frame.png");
        write_bytes_atomically(&fresh, b"png")?;
        assert_eq!(mode(&fresh)?, mode(&plain)?);
        let private = dir.path().join("private.json");
        std::fs::write(&private, b"old")?;
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600))?;
        write_bytes_atomically(&private, b"new")?;
        assert_eq!(mode(&private)?, 0o600);
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o644))?;
        write_bytes_atomically(&private, b"newer")?;
        assert_eq!(mode(&private)?, 0o644);
        Ok(())
    }

    #[test]
    fn a_missing_folder_is_an_error_and_creates_nothing() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("absent").join("x.bin");
        let err = write_bytes_atomically(&path, b"x").err();
        assert_eq!(err.map(|e| e.kind()), Some(io::ErrorKind::NotFound));
        assert!(entries(dir.path()).is_empty());
        Ok(())
    }
}
