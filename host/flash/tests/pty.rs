//! The same flash over a real pseudo-terminal pair: the device (`serve` over the pty master)
//! on a thread, the host through `serial::open_port` on the pty's slave path, like the CLI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{bundle, sim_config};
use sentio_flash::{ConnectOptions, Connection, FlashOptions, FlashOutcome, serial};
use sentio_link::Slot;
use sentio_server::{LinkServer, MemoryStore, serve};
use serialport::{SerialPort, TTYPort};

#[test]
fn flash_end_to_end_over_a_pty_pair() {
    let (mut master, slave) = TTYPort::pair().expect("a pseudo-terminal pair");
    let path = slave.name().expect("the slave's path");
    master.set_timeout(Duration::from_millis(10)).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stop_device = Arc::clone(&stop);
    let device = std::thread::spawn(move || {
        let mut server = LinkServer::new(sim_config(), MemoryStore::new(4 << 20));
        serve(&mut server, &mut master, |_| {
            if stop_device.load(Ordering::SeqCst) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
        server
    });

    // The host opens the pty by path, as `sentio flash --port` would open /dev/ttyUSB0.
    let port = serial::open_port(&path, 921_600).unwrap();
    drop(slave);
    let mut conn = Connection::open(port, ConnectOptions::new(&path, 921_600)).unwrap();
    assert_eq!(conn.device_info().board.as_str(), "sim");
    let data = bundle(300_000, 77);
    let report = conn
        .flash("fer", data.as_slice(), &FlashOptions::default(), ())
        .unwrap();
    assert_eq!(report.outcome, FlashOutcome::Flashed);
    assert!(report.verified && report.activated);
    let again = conn
        .flash("fer", data.as_slice(), &FlashOptions::default(), ())
        .unwrap();
    assert_eq!(again.outcome, FlashOutcome::Skipped);
    conn.ping().unwrap();
    drop(conn);

    stop.store(true, Ordering::SeqCst);
    let server = device.join().unwrap();
    assert_eq!(server.store().bytes("fer", Slot::Active), Some(&data[..]));
    assert_eq!(server.store().activations().len(), 1);
}
