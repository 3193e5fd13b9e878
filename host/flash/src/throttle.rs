//! [`LineRate`]: a writer that takes as long as a serial line would, for benchmarks over
//! pseudo-terminals (which ignore the baud rate).

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

/// Passes writes to `T` no faster than a UART at `baud` sends them: 10 bits per byte (8N1).
///
/// Bytes go out in pieces of at most [`LineRate::PIECE`]; each piece is handed on when its last
/// bit would have left the line, so the other end receives them about when it would on real
/// hardware. The line counts as busy without a break while the writer comes back within
/// [`LineRate::SLACK`] of the end of the previous piece (the driver's buffer of a real UART
/// hides that much scheduling delay). Reads pass through untouched.
#[derive(Debug)]
pub struct LineRate<T> {
    inner: T,
    baud: u32,
    busy_until: Option<Instant>,
    bytes: u64,
}

impl<T> LineRate<T> {
    /// Most bytes handed on at once.
    pub const PIECE: usize = 64;
    /// Scheduling delay that does not count as the line idling.
    pub const SLACK: Duration = Duration::from_millis(2);

    /// Wraps `inner` as a line of `baud` bits/s.
    pub fn new(inner: T, baud: u32) -> Self {
        Self {
            inner,
            baud: baud.max(1),
            busy_until: None,
            bytes: 0,
        }
    }

    /// The line speed.
    pub fn baud(&self) -> u32 {
        self.baud
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.bytes
    }

    /// Time one byte takes on the line.
    pub fn byte_time(&self) -> Duration {
        Duration::from_nanos(10_000_000_000 / u64::from(self.baud))
    }

    /// The wrapped transport.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the transport.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: Write> Write for LineRate<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(Self::PIECE);
        let Some(piece) = buf.get(..n) else {
            return Ok(0);
        };
        if n == 0 {
            return Ok(0);
        }
        let now = Instant::now();
        let start = match self.busy_until {
            Some(t) if t + Self::SLACK >= now => t,
            _ => now,
        };
        let end = start + self.byte_time() * n as u32;
        let wait = end.saturating_duration_since(Instant::now());
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
        self.inner.write_all(piece)?;
        self.busy_until = Some(end);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<T: Read> Read for LineRate<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_ten_bits_per_byte() -> io::Result<()> {
        let mut line = LineRate::new(Vec::new(), 115_200);
        let start = Instant::now();
        line.write_all(&[0x55; 1152])?;
        let took = start.elapsed();
        // 1152 bytes * 10 bits / 115200 = 100 ms.
        assert!(took >= Duration::from_millis(99), "{took:?}");
        assert!(took < Duration::from_millis(200), "{took:?}");
        assert_eq!(line.into_inner().len(), 1152);
        Ok(())
    }
}
