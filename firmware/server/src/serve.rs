//! [`serve`]: a blocking I/O loop around a [`LinkServer`] for a thread of its own.

use std::io::{self, ErrorKind, Read, Write};
use std::ops::ControlFlow;
use std::sync::OnceLock;
use std::time::Instant;

use sentio_link::MAX_FRAME;

use crate::server::LinkServer;
use crate::store::ModelStore;

/// Milliseconds since the first call in this process: the clock [`serve`] gives the server.
pub fn monotonic_ms() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Why [`serve`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServeExit {
    /// The host asked for a reboot and its `Done` went out: restart the device.
    Reboot,
    /// The `tick` callback asked to stop.
    Stopped,
    /// The transport reported end of file or a hang-up (the other side closed it). A device
    /// on a pseudo-terminal serves again when the next host opens it.
    Disconnected,
}

/// How many times in a row a write may time out before [`serve`] gives up on the transport.
const WRITE_RETRIES: usize = 50;

/// Runs `server` over `transport` until the host asks for a reboot, `tick` breaks, or the
/// transport fails.
///
/// `transport` must have a read timeout (a serial port does): a read that finds no data
/// returns `ErrorKind::TimedOut` or `WouldBlock`, and the loop goes round, so retransmissions
/// happen and `tick` runs at least once per timeout. `tick` is where the application meets the
/// server: push events and stats, take activations and injected input.
pub fn serve<T, S, F>(
    server: &mut LinkServer<S>,
    transport: &mut T,
    mut tick: F,
) -> io::Result<ServeExit>
where
    T: Read + Write + ?Sized,
    S: ModelStore,
    F: FnMut(&mut LinkServer<S>) -> ControlFlow<()>,
{
    let mut rx = vec![0u8; 2048];
    let mut tx = vec![0u8; MAX_FRAME];
    loop {
        let now = monotonic_ms();
        let mut wrote = false;
        while let Some(bytes) = server.poll_output(now, &mut tx) {
            match write_all(transport, bytes) {
                Err(e) if is_hangup(&e) => return Ok(ServeExit::Disconnected),
                other => other?,
            }
            wrote = true;
        }
        if wrote {
            transport.flush()?;
        }
        if server.reboot_requested() {
            return Ok(ServeExit::Reboot);
        }
        if tick(server).is_break() {
            return Ok(ServeExit::Stopped);
        }
        match transport.read(&mut rx) {
            Ok(0) => return Ok(ServeExit::Disconnected),
            Ok(n) => {
                if let Some(bytes) = rx.get(..n) {
                    server.on_bytes(bytes, monotonic_ms());
                }
            }
            Err(e) if is_no_data(&e) => {}
            Err(e) if is_hangup(&e) => return Ok(ServeExit::Disconnected),
            Err(e) => return Err(e),
        }
    }
}

/// Whether an error means the other side hung up (a pseudo-terminal's last opener closed it,
/// a USB gadget was unplugged).
fn is_hangup(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::BrokenPipe | ErrorKind::ConnectionReset | ErrorKind::UnexpectedEof
    )
}

/// Whether a read error only means "nothing arrived within the timeout".
pub fn is_no_data(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::TimedOut | ErrorKind::WouldBlock | ErrorKind::Interrupted
    )
}

fn write_all<T: Write + ?Sized>(transport: &mut T, mut bytes: &[u8]) -> io::Result<()> {
    let mut stalls = 0;
    while !bytes.is_empty() {
        match transport.write(bytes) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => {
                bytes = bytes.get(n..).unwrap_or_default();
                stalls = 0;
            }
            Err(e) if is_no_data(&e) && stalls < WRITE_RETRIES => stalls += 1,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
