//! An in-memory [`StoreFs`] that models durability honestly and cuts the power on request.
//!
//! Every file keeps two states: what the running system sees, and what would survive a power cut
//! (the state at its last `fsync`). The directory likewise: the names as they are, and the names
//! as of the last `fsync_dir`, plus the list of create/rename/remove operations since.
//!
//! [`MemFs::power_cut`] replaces the running state with one that a real disk could have left:
//! for each file, its last synced contents plus a random prefix of the writes since (each of
//! which may land whole, torn to a prefix, or as zeros: the length made it to disk, the data did
//! not); for the directory, its last synced names plus a random prefix of the name operations
//! since. [`MemFs::crash_at_op`] arms a power cut at a given mutating operation: a write there
//! lands only partly, any other operation does not happen, and every later operation fails, as
//! the device is dead; then the test calls `power_cut` to "reboot".
//!
//! A `MemFs` is a handle: clones share the same disk, so a test keeps one while the store owns
//! another.

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use sentio_rng::SplitMix64;

use crate::fs::StoreFs;

/// sentio-rng's SplitMix64 with the two draws that pick crash outcomes (so a seed still gives
/// the same power cut).
#[derive(Clone, Debug)]
struct Rng(SplitMix64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(SplitMix64::new(seed))
    }

    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..=max`.
    fn upto(&mut self, max: usize) -> usize {
        self.0.below_mod(max as u64 + 1) as usize
    }

    /// A prefix length of `0..=len`: none, all, or anything between, a third of the time each.
    fn prefix(&mut self, len: usize) -> usize {
        match self.next() % 3 {
            0 => 0,
            1 => len,
            _ => self.upto(len),
        }
    }
}

#[derive(Clone, Debug)]
enum DataOp {
    Write { offset: u64, data: Vec<u8> },
    Truncate { len: u64 },
}

#[derive(Clone, Debug, Default)]
struct Inode {
    data: Vec<u8>,
    durable: Vec<u8>,
    pending: Vec<DataOp>,
}

fn apply(data: &mut Vec<u8>, op: &DataOp) {
    match op {
        DataOp::Write {
            offset,
            data: bytes,
        } => {
            let start = usize::try_from(*offset).unwrap_or(usize::MAX);
            let end = start.saturating_add(bytes.len());
            if data.len() < end {
                data.resize(end, 0);
            }
            if let Some(dst) = data.get_mut(start..end) {
                dst.copy_from_slice(bytes);
            }
        }
        DataOp::Truncate { len } => data.resize(usize::try_from(*len).unwrap_or(usize::MAX), 0),
    }
}

#[derive(Clone, Debug)]
enum DirOp {
    Link { name: String, inode: usize },
    Unlink { name: String },
    Rename { from: String, to: String },
}

fn apply_dir(dir: &mut BTreeMap<String, usize>, op: &DirOp) {
    match op {
        DirOp::Link { name, inode } => {
            dir.insert(name.clone(), *inode);
        }
        DirOp::Unlink { name } => {
            dir.remove(name);
        }
        DirOp::Rename { from, to } => {
            if let Some(inode) = dir.remove(from) {
                dir.insert(to.clone(), inode);
            }
        }
    }
}

#[derive(Debug, Default)]
struct State {
    inodes: Vec<Inode>,
    dir: BTreeMap<String, usize>,
    durable_dir: BTreeMap<String, usize>,
    pending_dir: Vec<DirOp>,
    ops: u64,
    crash_at: Option<(u64, u64)>,
    fail_at: Option<u64>,
    down: bool,
    power_cuts: u64,
}

impl State {
    /// Counts a mutating operation; says whether it may run, and for a write cut by the power,
    /// how many of its bytes land.
    fn begin_op(&mut self, write_len: usize) -> io::Result<Option<usize>> {
        if self.down {
            return Err(io::Error::other("power cut: the device is off"));
        }
        let op = self.ops;
        self.ops += 1;
        if self.fail_at == Some(op) {
            self.fail_at = None;
            return Err(io::Error::other("injected I/O error"));
        }
        if let Some((at, seed)) = self.crash_at
            && at == op
        {
            self.down = true;
            return Ok(Some(Rng::new(seed).prefix(write_len)));
        }
        Ok(None)
    }

    fn inode(&self, file: &str) -> io::Result<usize> {
        self.dir
            .get(file)
            .copied()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{file}: no such file")))
    }

    fn check_up(&self) -> io::Result<()> {
        if self.down {
            Err(io::Error::other("power cut: the device is off"))
        } else {
            Ok(())
        }
    }

    fn data_op(&mut self, file: &str, op: DataOp) -> io::Result<()> {
        let inode = self.inode(file)?;
        if let Some(node) = self.inodes.get_mut(inode) {
            apply(&mut node.data, &op);
            node.pending.push(op);
        }
        Ok(())
    }

    fn dir_op(&mut self, op: DirOp) {
        apply_dir(&mut self.dir, &op);
        self.pending_dir.push(op);
    }
}

/// The in-memory filesystem with power cuts (see the module documentation).
#[derive(Clone, Debug, Default)]
pub struct MemFs {
    state: Arc<Mutex<State>>,
}

impl MemFs {
    /// An empty disk.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Mutating operations so far (create, write, truncate, fsync, rename, remove, fsync_dir).
    pub fn ops(&self) -> u64 {
        self.lock().ops
    }

    /// Power cuts so far.
    pub fn power_cuts(&self) -> u64 {
        self.lock().power_cuts
    }

    /// Arms a power cut at mutating operation number `op` (counted by [`ops`](Self::ops)): a
    /// write there lands only partly (how much is drawn from `seed`), any other operation does
    /// not happen, and every operation after fails. Call [`power_cut`](Self::power_cut) to
    /// reboot.
    pub fn crash_at_op(&self, op: u64, seed: u64) {
        self.lock().crash_at = Some((op, seed));
    }

    /// Makes mutating operation number `op` fail once with an I/O error, without effect.
    pub fn fail_at_op(&self, op: u64) {
        self.lock().fail_at = Some(op);
    }

    /// Whether an armed power cut has happened and the disk is off.
    pub fn is_down(&self) -> bool {
        self.lock().down
    }

    /// Cuts the power now (or completes the one that happened) and reboots: what was not made
    /// durable survives only as far as the choices drawn from `seed` allow.
    pub fn power_cut(&self, seed: u64) {
        let mut rng = Rng::new(seed ^ 0xA5A5_5A5A_0F0F_F0F0);
        let mut st = self.lock();
        for node in &mut st.inodes {
            let keep = rng.prefix(node.pending.len());
            let mut survived = std::mem::take(&mut node.durable);
            for (i, op) in node.pending.iter().take(keep).enumerate() {
                match op {
                    DataOp::Write { offset, data } => {
                        let bytes = match rng.next() % 6 {
                            // The length reached the disk, the data did not.
                            0 => vec![0; data.len()],
                            // The last write that landed was torn.
                            1 if i + 1 == keep => data[..rng.upto(data.len())].to_vec(),
                            _ => data.clone(),
                        };
                        apply(
                            &mut survived,
                            &DataOp::Write {
                                offset: *offset,
                                data: bytes,
                            },
                        );
                    }
                    truncate => apply(&mut survived, truncate),
                }
            }
            node.data = survived.clone();
            node.durable = survived;
            node.pending.clear();
        }
        let keep = rng.prefix(st.pending_dir.len());
        let mut dir = st.durable_dir.clone();
        for op in st.pending_dir.iter().take(keep) {
            apply_dir(&mut dir, op);
        }
        st.dir = dir.clone();
        st.durable_dir = dir;
        st.pending_dir.clear();
        st.crash_at = None;
        st.down = false;
        st.power_cuts += 1;
    }

    /// The current contents of `file`, if it exists (for tests to look at).
    pub fn contents(&self, file: &str) -> Option<Vec<u8>> {
        let st = self.lock();
        let inode = *st.dir.get(file)?;
        st.inodes.get(inode).map(|n| n.data.clone())
    }

    /// Replaces the contents of `file` behind the store's back, durably (for tests that damage
    /// a disk).
    pub fn set_contents(&self, file: &str, data: &[u8]) {
        let mut st = self.lock();
        let inode = match st.dir.get(file) {
            Some(inode) => *inode,
            None => {
                st.inodes.push(Inode::default());
                let inode = st.inodes.len() - 1;
                st.dir.insert(file.to_owned(), inode);
                st.durable_dir.insert(file.to_owned(), inode);
                inode
            }
        };
        if let Some(node) = st.inodes.get_mut(inode) {
            node.data = data.to_vec();
            node.durable = data.to_vec();
            node.pending.clear();
        }
    }

    /// Removes `file` behind the store's back, durably.
    pub fn delete(&self, file: &str) {
        let mut st = self.lock();
        st.dir.remove(file);
        st.durable_dir.remove(file);
        st.pending_dir.retain(|op| match op {
            DirOp::Link { name, .. } => name != file,
            DirOp::Unlink { .. } => true,
            DirOp::Rename { from, to } => from != file && to != file,
        });
    }
}

impl StoreFs for MemFs {
    fn list(&self) -> io::Result<Vec<String>> {
        let st = self.lock();
        st.check_up()?;
        Ok(st.dir.keys().cloned().collect())
    }

    fn len(&self, file: &str) -> io::Result<Option<u64>> {
        let st = self.lock();
        st.check_up()?;
        Ok(st
            .dir
            .get(file)
            .and_then(|i| st.inodes.get(*i))
            .map(|n| n.data.len() as u64))
    }

    fn read_at(&self, file: &str, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let st = self.lock();
        st.check_up()?;
        let inode = st.inode(file)?;
        let data = st
            .inodes
            .get(inode)
            .map(|n| &n.data[..])
            .unwrap_or_default();
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let n = buf.len().min(data.len() - start);
        buf[..n].copy_from_slice(&data[start..start + n]);
        Ok(n)
    }

    fn create(&mut self, file: &str) -> io::Result<()> {
        let mut st = self.lock();
        if st.begin_op(0)?.is_some() {
            return Err(io::Error::other("power cut"));
        }
        st.inodes.push(Inode::default());
        let inode = st.inodes.len() - 1;
        st.dir_op(DirOp::Link {
            name: file.to_owned(),
            inode,
        });
        Ok(())
    }

    fn write_at(&mut self, file: &str, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut st = self.lock();
        if let Some(landed) = st.begin_op(data.len())? {
            // The power went in the middle of this write: only a prefix reached the cache.
            st.data_op(
                file,
                DataOp::Write {
                    offset,
                    data: data[..landed].to_vec(),
                },
            )?;
            return Err(io::Error::other("power cut during write"));
        }
        st.data_op(
            file,
            DataOp::Write {
                offset,
                data: data.to_vec(),
            },
        )
    }

    fn truncate(&mut self, file: &str, len: u64) -> io::Result<()> {
        let mut st = self.lock();
        if st.begin_op(0)?.is_some() {
            return Err(io::Error::other("power cut"));
        }
        st.data_op(file, DataOp::Truncate { len })
    }

    fn fsync(&mut self, file: &str) -> io::Result<()> {
        let mut st = self.lock();
        if st.begin_op(0)?.is_some() {
            return Err(io::Error::other("power cut"));
        }
        let inode = st.inode(file)?;
        if let Some(node) = st.inodes.get_mut(inode) {
            node.durable = node.data.clone();
            node.pending.clear();
        }
        Ok(())
    }

    fn rename(&mut self, from: &str, to: &str) -> io::Result<()> {
        let mut st = self.lock();
        if st.begin_op(0)?.is_some() {
            return Err(io::Error::other("power cut"));
        }
        st.inode(from)?;
        st.dir_op(DirOp::Rename {
            from: from.to_owned(),
            to: to.to_owned(),
        });
        Ok(())
    }

    fn remove(&mut self, file: &str) -> io::Result<()> {
        let mut st = self.lock();
        if st.begin_op(0)?.is_some() {
            return Err(io::Error::other("power cut"));
        }
        st.inode(file)?;
        st.dir_op(DirOp::Unlink {
            name: file.to_owned(),
        });
        Ok(())
    }

    fn fsync_dir(&mut self) -> io::Result<()> {
        let mut st = self.lock();
        if st.begin_op(0)?.is_some() {
            return Err(io::Error::other("power cut"));
        }
        st.durable_dir = st.dir.clone();
        st.pending_dir.clear();
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn synced_data_and_names_survive() {
        let mut fs = MemFs::new();
        fs.create("a").unwrap();
        fs.write_at("a", 0, b"hello").unwrap();
        fs.fsync("a").unwrap();
        fs.fsync_dir().unwrap();
        for seed in 0..50 {
            fs.power_cut(seed);
            assert_eq!(fs.contents("a").unwrap(), b"hello");
        }
    }

    #[test]
    fn unsynced_changes_may_vanish() {
        let mut outcomes = std::collections::BTreeSet::new();
        for seed in 0..200 {
            let mut fs = MemFs::new();
            fs.create("a").unwrap();
            fs.write_at("a", 0, b"old").unwrap();
            fs.fsync("a").unwrap();
            fs.fsync_dir().unwrap();
            fs.write_at("a", 0, b"new!").unwrap();
            fs.create("b").unwrap();
            fs.rename("b", "a").unwrap();
            fs.power_cut(seed);
            outcomes.insert(fs.contents("a"));
            assert!(fs.contents("b").is_none() || fs.contents("a").is_some());
        }
        // Old, new, torn, zeroed and the empty renamed file are all possible.
        assert!(outcomes.contains(&Some(b"old".to_vec())));
        assert!(outcomes.contains(&Some(b"new!".to_vec())));
        assert!(outcomes.contains(&Some(Vec::new())));
        assert!(outcomes.len() >= 4, "{outcomes:?}");
    }

    #[test]
    fn armed_crash_stops_everything() {
        let mut fs = MemFs::new();
        fs.create("a").unwrap();
        fs.crash_at_op(fs.ops() + 1, 7);
        fs.write_at("a", 0, b"x").unwrap();
        assert!(fs.write_at("a", 1, b"yyyy").is_err());
        assert!(fs.is_down());
        assert!(fs.fsync("a").is_err());
        assert!(fs.list().is_err());
        fs.power_cut(1);
        assert!(!fs.is_down());
        assert!(fs.list().is_ok());
    }
}
