//! The small filesystem the store is built on: one flat directory of files.
//!
//! The trait names exactly what the store's crash-safety argument relies on, so that it can be
//! checked against an adversarial model of durability ([`MemFs`](crate::MemFs)) as well as run
//! on a real disk ([`DirFs`]).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// A flat directory of files, with the durability rules of a POSIX filesystem.
///
/// `file` is always a bare file name (no separators). Durability, which the store relies on and
/// [`MemFs`](crate::MemFs) enforces in tests:
///
/// - bytes written (and truncations) are durable only after [`fsync`](Self::fsync) of that file;
///   before that, a power cut may keep none, some or all of them, or garbage in their place;
/// - creating, renaming and removing names are durable only after [`fsync_dir`](Self::fsync_dir);
///   before that, a power cut may undo any suffix of them (they are never reordered);
/// - [`rename`](Self::rename) replaces its target atomically: the name points at the old file
///   or the new one, never at nothing and never at a mix.
pub trait StoreFs {
    /// Names of the files in the directory, in no particular order.
    fn list(&self) -> io::Result<Vec<String>>;
    /// Length of `file`, or `None` if it does not exist.
    fn len(&self, file: &str) -> io::Result<Option<u64>>;
    /// Reads into `buf` from `offset`; returns the bytes read (0 at the end).
    fn read_at(&self, file: &str, offset: u64, buf: &mut [u8]) -> io::Result<usize>;
    /// Creates `file` empty, replacing one that exists.
    fn create(&mut self, file: &str) -> io::Result<()>;
    /// Writes `data` at `offset` of an existing `file` (extending it if needed).
    fn write_at(&mut self, file: &str, offset: u64, data: &[u8]) -> io::Result<()>;
    /// Cuts or extends `file` to `len` bytes.
    fn truncate(&mut self, file: &str, len: u64) -> io::Result<()>;
    /// Makes the contents of `file` durable.
    fn fsync(&mut self, file: &str) -> io::Result<()>;
    /// Renames `from` to `to`, atomically replacing `to`.
    fn rename(&mut self, from: &str, to: &str) -> io::Result<()>;
    /// Removes `file` (an error of kind `NotFound` if it does not exist).
    fn remove(&mut self, file: &str) -> io::Result<()>;
    /// Makes every create, rename and remove so far durable.
    fn fsync_dir(&mut self) -> io::Result<()>;
}

/// A [`Read`] over one file of a [`StoreFs`], from the start.
pub struct FsReader<'a, F: ?Sized> {
    fs: &'a F,
    file: &'a str,
    pos: u64,
}

impl<'a, F: StoreFs + ?Sized> FsReader<'a, F> {
    /// Reads `file` of `fs` from the start.
    pub fn new(fs: &'a F, file: &'a str) -> Self {
        Self { fs, file, pos: 0 }
    }
}

impl<F: StoreFs + ?Sized> Read for FsReader<'_, F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.fs.read_at(self.file, self.pos, buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// Reads a whole file of at most `limit` bytes.
pub(crate) fn read_all<F: StoreFs + ?Sized>(fs: &F, file: &str, limit: u64) -> io::Result<Vec<u8>> {
    let Some(len) = fs.len(file)? else {
        return Err(io::ErrorKind::NotFound.into());
    };
    if len > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{file} is {len} bytes, more than the {limit} expected"),
        ));
    }
    let mut out = Vec::new();
    FsReader::new(fs, file).take(limit).read_to_end(&mut out)?;
    Ok(out)
}

/// A [`StoreFs`] on a real directory.
#[derive(Clone, Debug)]
pub struct DirFs {
    root: PathBuf,
}

impl DirFs {
    /// The directory `root`, created (with its parents) if missing.
    pub fn new(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(&root)?;
        Ok(Self { root })
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Full path of `file`.
    pub fn path(&self, file: &str) -> PathBuf {
        self.root.join(file)
    }

    fn open_write(&self, file: &str) -> io::Result<File> {
        OpenOptions::new().write(true).open(self.path(file))
    }
}

impl StoreFs for DirFs {
    fn list(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&self.root)? {
            let entry = entry?;
            if entry.file_type()?.is_file()
                && let Ok(name) = entry.file_name().into_string()
            {
                names.push(name);
            }
        }
        Ok(names)
    }

    fn len(&self, file: &str) -> io::Result<Option<u64>> {
        match std::fs::metadata(self.path(file)) {
            Ok(meta) => Ok(Some(meta.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn read_at(&self, file: &str, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let mut f = File::open(self.path(file))?;
        f.seek(SeekFrom::Start(offset))?;
        loop {
            match f.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => return other,
            }
        }
    }

    fn create(&mut self, file: &str) -> io::Result<()> {
        File::create(self.path(file)).map(drop)
    }

    fn write_at(&mut self, file: &str, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut f = self.open_write(file)?;
        f.seek(SeekFrom::Start(offset))?;
        f.write_all(data)
    }

    fn truncate(&mut self, file: &str, len: u64) -> io::Result<()> {
        self.open_write(file)?.set_len(len)
    }

    fn fsync(&mut self, file: &str) -> io::Result<()> {
        self.open_write(file)?.sync_all()
    }

    fn rename(&mut self, from: &str, to: &str) -> io::Result<()> {
        std::fs::rename(self.path(from), self.path(to))
    }

    fn remove(&mut self, file: &str) -> io::Result<()> {
        std::fs::remove_file(self.path(file))
    }

    fn fsync_dir(&mut self) -> io::Result<()> {
        File::open(&self.root)?.sync_all()
    }
}
