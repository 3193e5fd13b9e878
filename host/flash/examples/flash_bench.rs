//! Flashing throughput over a real pseudo-terminal pair, with both directions throttled to a
//! serial line's speed (`LineRate`: 10 bits per byte) or unthrottled, and the cost of a resume.
//!
//! ```text
//! cargo run --release -p sentio-flash --example flash_bench [-- SIZE_KIB]
//! ```
//!
//! For each speed: a clean flash of a 256 KiB bundle (bytes/s of file data and % of the line
//! rate), then a flash cut when half the bundle was written, a reconnect, and the resumed flash:
//! bytes re-sent, handshake time, and how much longer interrupted + resumed took than clean.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{self, Read, Write};
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sentio_flash::throttle::LineRate;
use sentio_flash::{ConnectOptions, Connection, FlashOptions, serial};
use sentio_server::{LinkServer, MemoryStore, ServerConfig, serve};
use serialport::{SerialPort, TTYPort};

/// A transport either throttled to a baud rate or not.
enum Line<T> {
    Throttled(LineRate<T>),
    Free(T),
}

impl<T: Read + Write> Read for Line<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Throttled(t) => t.read(buf),
            Self::Free(t) => t.read(buf),
        }
    }
}

impl<T: Read + Write> Write for Line<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Throttled(t) => t.write(buf),
            Self::Free(t) => t.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Throttled(t) => t.flush(),
            Self::Free(t) => t.flush(),
        }
    }
}

fn line<T>(inner: T, baud: Option<u32>) -> Line<T> {
    match baud {
        Some(b) => Line::Throttled(LineRate::new(inner, b)),
        None => Line::Free(inner),
    }
}

/// Fails with `BrokenPipe` once `limit` bytes went through: the host process dying.
struct Cut<T> {
    inner: T,
    limit: usize,
    written: usize,
}

impl<T: Write> Write for Cut<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written >= self.limit {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        let n = buf.len().min(self.limit - self.written);
        let n = self.inner.write(&buf[..n])?;
        self.written += n;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<T: Read> Read for Cut<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

struct Device {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<LinkServer<MemoryStore>>,
    path: String,
}

fn start_device(baud: Option<u32>) -> Device {
    let (mut master, slave) = TTYPort::pair().expect("a pseudo-terminal pair");
    let path = slave.name().expect("slave path");
    // Keep the slave open until the host has it, so the master never sees a hang-up.
    master.set_timeout(Duration::from_millis(5)).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stop_device = Arc::clone(&stop);
    let thread = std::thread::spawn(move || {
        let _slave = slave;
        let config = ServerConfig::new("bench", "0.1.0", "PTY").for_line(baud.unwrap_or(921_600));
        let mut server = LinkServer::new(config, MemoryStore::new(64 << 20));
        let mut transport = line(master, baud);
        loop {
            serve(&mut server, &mut transport, |_| {
                if stop_device.load(Ordering::SeqCst) {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap();
            if stop_device.load(Ordering::SeqCst) {
                return server;
            }
        }
    });
    Device { stop, thread, path }
}

fn bundle(size: usize) -> Vec<u8> {
    let mut x = 0x1234_5678_u32;
    (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn main() {
    let kib: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(256);
    let data = bundle(kib * 1024);
    println!(
        "flash_bench: {kib} KiB bundle over a pty pair, both directions throttled to the baud rate (10 bits/byte)"
    );
    println!(
        "{:>9} {:>10} {:>11} {:>8} {:>9} | {:>10} {:>9} {:>11} {:>10}",
        "baud",
        "clean s",
        "bytes/s",
        "% line",
        "window",
        "resent B",
        "hs ms",
        "resumed s",
        "resume +s"
    );
    for baud in [Some(115_200), Some(921_600), None] {
        let device = start_device(baud);
        let nominal = baud.unwrap_or(921_600);
        let options = ConnectOptions::new(&device.path, nominal);

        // Clean flash.
        let port = serial::open_port(&device.path, nominal).unwrap();
        let mut conn = Connection::open(line(port, baud), options.clone()).unwrap();
        let window = conn.negotiated().window;
        let start = Instant::now();
        let report = conn
            .flash("clean", data.as_slice(), &FlashOptions::default(), ())
            .unwrap();
        let clean = start.elapsed();
        assert!(report.verified && report.activated);
        drop(conn);

        // Interrupted at half, then resumed on a new connection.
        let port = serial::open_port(&device.path, nominal).unwrap();
        let cut = Cut {
            inner: line(port, baud),
            limit: data.len() / 2,
            written: 0,
        };
        let start = Instant::now();
        let mut conn = Connection::open(cut, options.clone()).unwrap();
        let err = conn
            .flash("resumed", data.as_slice(), &FlashOptions::default(), ())
            .unwrap_err();
        let first = start.elapsed();
        let written = conn.close().map(|c| c.written).unwrap_or(data.len() / 2);
        assert!(err.kind().is_link_failure(), "{err}");
        let start = Instant::now();
        let port = serial::open_port(&device.path, nominal).unwrap();
        let mut conn = Connection::open(line(port, baud), options.clone()).unwrap();
        let handshake = start.elapsed();
        let report = conn
            .flash("resumed", data.as_slice(), &FlashOptions::default(), ())
            .unwrap();
        let second = start.elapsed();
        drop(conn);
        // Chunk bytes the first attempt wrote, less framing (1060 wire bytes per 1024).
        let sent_before = (written as u64 * 1024 / 1060).min(data.len() as u64);
        let resent = sent_before.saturating_sub(report.resumed_from);
        let extra = (first + second).as_secs_f64() - clean.as_secs_f64();

        let rate = data.len() as f64 / clean.as_secs_f64();
        let percent = baud.map_or("-".to_string(), |b| {
            format!("{:.1}", 100.0 * rate / (f64::from(b) / 10.0))
        });
        println!(
            "{:>9} {:>10.3} {:>11.0} {:>8} {:>9} | {:>10} {:>9.1} {:>11.3} {:>10.3}",
            baud.map_or("none".to_string(), |b| b.to_string()),
            clean.as_secs_f64(),
            rate,
            percent,
            window,
            resent,
            handshake.as_secs_f64() * 1000.0,
            second.as_secs_f64(),
            extra
        );

        device.stop.store(true, Ordering::SeqCst);
        let server = device.thread.join().unwrap();
        assert_eq!(
            server.store().bytes("resumed", sentio_link::Slot::Active),
            Some(&data[..])
        );
    }
    println!(
        "clean: connect excluded; % line = file bytes/s over baud/10. resent: file bytes sent twice. \
         hs: reconnect + handshake. resume +s: (interrupted + resumed) - clean."
    );
}
