//! [`Faulty`]: a transport wrapper that mistreats frames, seeded, for fault-injection tests.
//!
//! It splits each direction at the 0x00 terminators and, per frame, may flip a bit, drop a
//! byte, drop the frame, duplicate it, hold it back until the next frame (reordering), or cut
//! the connection (every later call fails with `BrokenPipe`). The same seed gives the same
//! faults for the same traffic.

use std::collections::VecDeque;
use std::io::{self, Read, Write};

use sentio_rng::SplitMix64;

/// Probabilities, per frame, of each fault.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Faults {
    /// One random bit flipped (the terminator included: then two frames merge).
    pub bit_flip: f64,
    /// One random byte removed.
    pub drop_byte: f64,
    /// The whole frame lost.
    pub drop_frame: f64,
    /// The frame delivered twice.
    pub duplicate: f64,
    /// The frame held back and delivered after the next one (or when the line goes quiet).
    pub reorder: f64,
    /// The connection cut: this and every later read or write fails with `BrokenPipe`.
    pub disconnect: f64,
}

impl Faults {
    /// No faults.
    pub const NONE: Self = Self {
        bit_flip: 0.0,
        drop_byte: 0.0,
        drop_frame: 0.0,
        duplicate: 0.0,
        reorder: 0.0,
        disconnect: 0.0,
    };
}

/// What a [`Faulty`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultStats {
    /// Non-empty frames that passed through, both directions.
    pub frames: u64,
    /// Bits flipped.
    pub bit_flips: u64,
    /// Bytes removed.
    pub bytes_dropped: u64,
    /// Frames lost.
    pub frames_dropped: u64,
    /// Frames duplicated.
    pub duplicated: u64,
    /// Frames held back.
    pub reordered: u64,
    /// Connections cut (0 or 1 per wrapper).
    pub disconnects: u64,
}

impl FaultStats {
    /// Adds `other` to `self`.
    pub fn add(&mut self, other: &Self) {
        self.frames += other.frames;
        self.bit_flips += other.bit_flips;
        self.bytes_dropped += other.bytes_dropped;
        self.frames_dropped += other.frames_dropped;
        self.duplicated += other.duplicated;
        self.reordered += other.reordered;
        self.disconnects += other.disconnects;
    }
}

/// sentio-rng's SplitMix64 with the two draws the faults have always made, so a seed replays
/// the same faults: a chance that draws nothing when it is 0 (a fault that is off leaves the
/// stream as it was), and a position by modulo.
#[derive(Clone, Debug)]
struct Rng(SplitMix64);

impl Rng {
    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.0.chance(p)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0.below_mod(n as u64) as usize
    }
}

#[derive(Debug, Default)]
struct Direction {
    partial: Vec<u8>,
    held: Option<Vec<u8>>,
}

/// Wraps a transport and injects [`Faults`] into what is written to it (`outgoing`) and what
/// is read from it (`incoming`).
#[derive(Debug)]
pub struct Faulty<T> {
    inner: T,
    outgoing: Faults,
    incoming: Faults,
    rng: Rng,
    out: Direction,
    inn: Direction,
    ready: VecDeque<u8>,
    dead: bool,
    stats: FaultStats,
}

impl<T> Faulty<T> {
    /// `inner` with the given faults, driven by `seed`.
    pub fn new(inner: T, outgoing: Faults, incoming: Faults, seed: u64) -> Self {
        Self {
            inner,
            outgoing,
            incoming,
            rng: Rng(SplitMix64::new(seed)),
            out: Direction::default(),
            inn: Direction::default(),
            ready: VecDeque::new(),
            dead: false,
            stats: FaultStats::default(),
        }
    }

    /// What was done so far.
    pub fn stats(&self) -> FaultStats {
        self.stats
    }

    /// Whether the connection was cut.
    pub fn is_disconnected(&self) -> bool {
        self.dead
    }

    /// The wrapped transport.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the transport.
    pub fn into_inner(self) -> T {
        self.inner
    }

    fn cut() -> io::Error {
        io::Error::new(
            io::ErrorKind::BrokenPipe,
            "connection cut by fault injection",
        )
    }

    /// Applies faults to one complete frame (terminator included); returns what to pass on,
    /// or `Err` when the connection is cut.
    fn mistreat(
        rng: &mut Rng,
        stats: &mut FaultStats,
        faults: &Faults,
        held: &mut Option<Vec<u8>>,
        mut frame: Vec<u8>,
    ) -> Result<Vec<Vec<u8>>, ()> {
        if frame.len() <= 1 {
            return Ok(vec![frame]);
        }
        stats.frames += 1;
        if rng.chance(faults.disconnect) {
            stats.disconnects += 1;
            return Err(());
        }
        let mut pass = Vec::new();
        let mut just_held = false;
        if rng.chance(faults.drop_frame) {
            stats.frames_dropped += 1;
        } else {
            if rng.chance(faults.bit_flip) {
                let bit = rng.below(frame.len() * 8);
                if let Some(byte) = frame.get_mut(bit / 8) {
                    *byte ^= 1 << (bit % 8);
                    stats.bit_flips += 1;
                }
            }
            if rng.chance(faults.drop_byte) {
                let at = rng.below(frame.len());
                frame.remove(at);
                stats.bytes_dropped += 1;
            }
            let copies = if rng.chance(faults.duplicate) {
                stats.duplicated += 1;
                2
            } else {
                1
            };
            if held.is_none() && rng.chance(faults.reorder) {
                stats.reordered += 1;
                if copies == 2 {
                    pass.push(frame.clone());
                }
                *held = Some(frame);
                just_held = true;
            } else {
                for _ in 1..copies {
                    pass.push(frame.clone());
                }
                pass.push(frame);
            }
        }
        if let Some(late) = held.take_if(|_| !just_held) {
            pass.push(late);
        }
        Ok(pass)
    }
}

impl<T: Write> Write for Faulty<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.dead {
            return Err(Self::cut());
        }
        for &byte in buf {
            self.out.partial.push(byte);
            if byte != 0 {
                continue;
            }
            let frame = std::mem::take(&mut self.out.partial);
            match Self::mistreat(
                &mut self.rng,
                &mut self.stats,
                &self.outgoing,
                &mut self.out.held,
                frame,
            ) {
                Ok(pass) => {
                    for bytes in pass {
                        self.inner.write_all(&bytes)?;
                    }
                }
                Err(()) => {
                    self.dead = true;
                    return Err(Self::cut());
                }
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.dead {
            return Err(Self::cut());
        }
        self.inner.flush()
    }
}

impl<T: Read + Write> Read for Faulty<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut tmp = [0u8; 1024];
        loop {
            if self.dead {
                return Err(Self::cut());
            }
            if !self.ready.is_empty() {
                let n = buf.len().min(self.ready.len());
                for (slot, byte) in buf.iter_mut().zip(self.ready.drain(..n)) {
                    *slot = byte;
                }
                return Ok(n);
            }
            match self.inner.read(&mut tmp) {
                Ok(0) => return Ok(0),
                Ok(n) => {
                    for &byte in tmp.get(..n).unwrap_or_default() {
                        self.inn.partial.push(byte);
                        if byte != 0 {
                            continue;
                        }
                        let frame = std::mem::take(&mut self.inn.partial);
                        match Self::mistreat(
                            &mut self.rng,
                            &mut self.stats,
                            &self.incoming,
                            &mut self.inn.held,
                            frame,
                        ) {
                            Ok(pass) => self.ready.extend(pass.into_iter().flatten()),
                            Err(()) => {
                                self.dead = true;
                                return Err(Self::cut());
                            }
                        }
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                    ) =>
                {
                    // The line went quiet: frames held back arrive late now.
                    if let Some(late) = self.out.held.take() {
                        self.inner.write_all(&late)?;
                    }
                    match self.inn.held.take() {
                        Some(late) => self.ready.extend(late),
                        None => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_faults_is_transparent_and_faults_are_seeded() -> io::Result<()> {
        let frames: Vec<u8> = (1..=50u8).flat_map(|i| [i, i, i, 0]).collect();
        let mut clean = Faulty::new(Vec::new(), Faults::NONE, Faults::NONE, 1);
        clean.write_all(&frames)?;
        assert_eq!(clean.get_mut(), &frames);
        let faults = Faults {
            bit_flip: 0.2,
            drop_byte: 0.2,
            drop_frame: 0.2,
            duplicate: 0.2,
            reorder: 0.2,
            disconnect: 0.0,
        };
        let run = |seed| -> io::Result<(Vec<u8>, FaultStats)> {
            let mut f = Faulty::new(Vec::new(), faults, Faults::NONE, seed);
            f.write_all(&frames)?;
            let stats = f.stats();
            Ok((f.into_inner(), stats))
        };
        let (a, stats) = run(7)?;
        assert_eq!(run(7)?.0, a);
        assert_ne!(a, frames);
        assert!(stats.frames_dropped > 0 && stats.duplicated > 0 && stats.reordered > 0);
        assert!(stats.bit_flips > 0 && stats.bytes_dropped > 0);
        let mut cut = Faulty::new(
            Vec::new(),
            Faults {
                disconnect: 1.0,
                ..Faults::NONE
            },
            Faults::NONE,
            1,
        );
        assert_eq!(
            cut.write(&frames).map_err(|e| e.kind()),
            Err(io::ErrorKind::BrokenPipe)
        );
        assert!(cut.is_disconnected());
        Ok(())
    }
}
