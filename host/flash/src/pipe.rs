//! [`duplex`]: an in-memory full-duplex byte pipe that behaves like a serial port: reads wait
//! up to a timeout and then fail with `ErrorKind::TimedOut`.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
struct State {
    bytes: VecDeque<u8>,
    writer_gone: bool,
    reader_gone: bool,
}

#[derive(Debug, Default)]
struct Channel {
    state: Mutex<State>,
    ready: Condvar,
}

/// One end of a [`duplex`] pipe. Dropping it closes both directions: the other end reads
/// what is left, then `Ok(0)`; its writes fail with `BrokenPipe`.
#[derive(Debug)]
pub struct PipeEnd {
    rx: Arc<Channel>,
    tx: Arc<Channel>,
    timeout: Duration,
}

/// Two connected ends; whatever one writes, the other reads. Reads wait up to `timeout`.
pub fn duplex(timeout: Duration) -> (PipeEnd, PipeEnd) {
    let a = Arc::new(Channel::default());
    let b = Arc::new(Channel::default());
    (
        PipeEnd {
            rx: Arc::clone(&a),
            tx: Arc::clone(&b),
            timeout,
        },
        PipeEnd {
            rx: b,
            tx: a,
            timeout,
        },
    )
}

impl PipeEnd {
    /// Changes the read timeout.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }
}

impl Read for PipeEnd {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let deadline = Instant::now() + self.timeout;
        let mut state = self.rx.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if !state.bytes.is_empty() {
                let n = buf.len().min(state.bytes.len());
                for (slot, byte) in buf.iter_mut().zip(state.bytes.drain(..n)) {
                    *slot = byte;
                }
                return Ok(n);
            }
            if state.writer_gone {
                return Ok(0);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::ErrorKind::TimedOut.into());
            }
            state = self
                .rx
                .ready
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

impl Write for PipeEnd {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut state = self.tx.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.reader_gone {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        state.bytes.extend(buf);
        self.tx.ready.notify_all();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        let mut rx = self.rx.state.lock().unwrap_or_else(PoisonError::into_inner);
        rx.reader_gone = true;
        drop(rx);
        let mut tx = self.tx.state.lock().unwrap_or_else(PoisonError::into_inner);
        tx.writer_gone = true;
        self.tx.ready.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_serial_port() -> io::Result<()> {
        let (mut a, mut b) = duplex(Duration::from_millis(10));
        let mut buf = [0u8; 8];
        assert_eq!(
            a.read(&mut buf).map_err(|e| e.kind()),
            Err(io::ErrorKind::TimedOut)
        );
        b.write_all(b"hello")?;
        assert_eq!(a.read(&mut buf)?, 5);
        assert_eq!(&buf[..5], b"hello");
        a.write_all(b"x")?;
        drop(a);
        assert_eq!(b.read(&mut buf)?, 1);
        assert_eq!(b.read(&mut buf)?, 0);
        assert_eq!(
            b.write(b"y").map_err(|e| e.kind()),
            Err(io::ErrorKind::BrokenPipe)
        );
        Ok(())
    }
}
