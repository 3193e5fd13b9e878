//! Shared by the integration tests: a device (`LinkServer<MemoryStore>`) stepped in the host's
//! own thread on a virtual clock, a transport wrapper that dies after N bytes, a recording
//! `Progress`, and bundles.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::rc::Rc;

use sentio_flash::{
    Clock, ConnectOptions, Connection, Error, FlashReport, ManualClock, Progress, Timeouts,
};
use sentio_link::{FrameDecoder, MAX_FRAME, Message};
use sentio_rng::SplitMix64;
use sentio_server::{LinkServer, MemoryStore, ServerConfig};

/// sentio-rng's SplitMix64 with the draws these campaigns have always made, so a seed still
/// replays the same campaign: a chance that draws nothing when it is 0, bounds by modulo, and a
/// byte per draw.
#[derive(Clone, Debug)]
pub struct Rng(SplitMix64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(SplitMix64::new(seed))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.0.chance(p)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.0.below_mod(n)
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.0.next_u64() as u8).collect()
    }
}

/// A bundle-like file of `size` bytes, different per `seed`.
pub fn bundle(size: usize, seed: u64) -> Vec<u8> {
    Rng::new(seed ^ 0xB0B).bytes(size)
}

pub struct SimInner {
    pub server: Option<LinkServer<MemoryStore>>,
    pub clock: ManualClock,
    pub config: ServerConfig,
    to_host: VecDeque<u8>,
    out: Vec<u8>,
    rng: Rng,
    /// Probability, per write from the host, that the device restarts in the middle of it.
    pub restart_chance: f64,
    pub restarts: usize,
    /// Virtual milliseconds a read that finds nothing waits.
    pub tick_ms: u64,
}

impl SimInner {
    pub fn server(&mut self) -> &mut LinkServer<MemoryStore> {
        self.server.as_mut().expect("a server")
    }

    fn pump(&mut self) {
        let now = self.clock.now_ms();
        let server = self.server.as_mut().expect("a server");
        while let Some(bytes) = server.poll_output(now, &mut self.out) {
            self.to_host.extend(bytes);
        }
    }

    /// A power cut: whatever was in flight is lost, the store stays, a new server starts with
    /// a new sequence space.
    pub fn restart(&mut self) {
        let store = self.server.take().expect("a server").into_store();
        let isn = self.rng.next_u64() as u16;
        let config = self.config.clone().with_initial_seq(isn);
        self.server = Some(LinkServer::new(config, store));
        self.to_host.clear();
        self.restarts += 1;
    }
}

/// A simulated device, shared: the host's `Connection` owns one clone as its transport, the
/// test keeps another to look at the store or push events.
#[derive(Clone)]
pub struct SimDevice(pub Rc<RefCell<SimInner>>);

impl SimDevice {
    pub fn new(store: MemoryStore) -> Self {
        Self::with_config(sim_config(), store)
    }

    pub fn with_config(config: ServerConfig, store: MemoryStore) -> Self {
        let clock = ManualClock::new();
        Self(Rc::new(RefCell::new(SimInner {
            server: Some(LinkServer::new(config.clone(), store)),
            clock,
            config,
            to_host: VecDeque::new(),
            out: vec![0; MAX_FRAME],
            rng: Rng::new(0x5EED),
            restart_chance: 0.0,
            restarts: 0,
            tick_ms: 5,
        })))
    }

    pub fn clock(&self) -> ManualClock {
        self.0.borrow().clock.clone()
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut SimInner) -> R) -> R {
        f(&mut self.0.borrow_mut())
    }

    pub fn store<R>(&self, f: impl FnOnce(&MemoryStore) -> R) -> R {
        self.with(|sim| f(sim.server().store()))
    }

    /// A connection to this device over the virtual clock.
    pub fn connect(&self, seed: u64) -> Result<Connection<SimDevice, ManualClock>, Error> {
        Connection::open_with_clock(self.clone(), sim_options(seed), self.clock())
    }

    /// A connection through another transport built over this device.
    pub fn connect_via<T: Read + Write>(
        &self,
        transport: T,
        seed: u64,
    ) -> Result<Connection<T, ManualClock>, Error> {
        Connection::open_with_clock(transport, sim_options(seed), self.clock())
    }
}

pub fn sim_config() -> ServerConfig {
    ServerConfig::new("sim", "0.1.0", "SIM-0001").for_line(921_600)
}

pub fn sim_options(seed: u64) -> ConnectOptions {
    let mut options = ConnectOptions::new("sim", 921_600).with_seed(seed);
    options.timeouts = Timeouts::default();
    options
}

impl Write for SimDevice {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut sim = self.0.borrow_mut();
        let now = sim.clock.now_ms();
        let restart_chance = sim.restart_chance;
        if sim.rng.chance(restart_chance) {
            // The device dies somewhere in the middle of these bytes.
            let cut = sim.rng.below(buf.len() as u64 + 1) as usize;
            sim.server().on_bytes(&buf[..cut], now);
            sim.restart();
        } else {
            sim.server().on_bytes(buf, now);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for SimDevice {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut sim = self.0.borrow_mut();
        sim.pump();
        if sim.to_host.is_empty() {
            let tick = sim.tick_ms;
            sim.clock.advance(tick);
            sim.pump();
        }
        if sim.to_host.is_empty() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        let n = buf.len().min(sim.to_host.len());
        for (slot, byte) in buf.iter_mut().zip(sim.to_host.drain(..n)) {
            *slot = byte;
        }
        Ok(n)
    }
}

/// A transport that fails with `BrokenPipe` once `limit` bytes were written through it (the
/// host process dying), and records the chunks it let through.
pub struct CutAfter<T> {
    pub inner: T,
    pub limit: usize,
    pub written: usize,
    decoder: FrameDecoder,
    /// End offset of the furthest chunk that got through whole.
    pub chunk_end: u64,
}

impl<T> CutAfter<T> {
    pub fn new(inner: T, limit: usize) -> Self {
        Self {
            inner,
            limit,
            written: 0,
            decoder: FrameDecoder::new(),
            chunk_end: 0,
        }
    }
}

impl<T: Write> Write for CutAfter<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written >= self.limit {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        let n = buf.len().min(self.limit - self.written);
        self.inner.write_all(&buf[..n])?;
        self.written += n;
        for frame in self.decoder.feed(&buf[..n]).flatten() {
            if let Some(Message::Chunk(chunk)) = frame.message {
                self.chunk_end = self.chunk_end.max(chunk.offset + chunk.data.len() as u64);
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<T: Read> Read for CutAfter<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.written >= self.limit {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        self.inner.read(buf)
    }
}

/// Records every progress call.
#[derive(Debug, Default)]
pub struct Recorder {
    pub begins: Vec<(String, u64)>,
    pub advances: Vec<u64>,
    pub messages: Vec<String>,
    pub finished: Option<Result<FlashReport, String>>,
}

impl Progress for Recorder {
    fn begin(&mut self, name: &str, total_bytes: u64) {
        self.begins.push((name.into(), total_bytes));
    }
    fn advance(&mut self, bytes_done: u64) {
        self.advances.push(bytes_done);
    }
    fn message(&mut self, text: &str) {
        self.messages.push(text.into());
    }
    fn finish(&mut self, outcome: Result<&FlashReport, &Error>) {
        self.finished = Some(outcome.cloned().map_err(|e| e.to_string()));
    }
}

/// A host whose file changes after it was hashed: once the whole file has been read (to hash
/// it), the first byte of every later read is flipped, so the device must refuse the upload
/// with `HashMismatch`.
pub struct Lying {
    pub data: Vec<u8>,
    pub hashed: bool,
}

impl sentio_flash::FlashSource for Lying {
    fn size(&mut self) -> io::Result<u64> {
        Ok(self.data.len() as u64)
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let start = offset as usize;
        buf.copy_from_slice(&self.data[start..start + buf.len()]);
        if let Some(b) = buf.first_mut().filter(|_| self.hashed) {
            *b ^= 0x5A;
        }
        if start + buf.len() == self.data.len() {
            self.hashed = true;
        }
        Ok(())
    }
}
