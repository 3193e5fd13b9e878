//! systemd's notify protocol, std only: `READY=1` once the device is up (the `start` event),
//! `WATCHDOG=1` with every `stats` event (once per stats window, 1 s, from the frame loop), and
//! `STOPPING=1` with `stop`. So `Type=notify` and `WatchdogSec=` in `sentiod.service` see a frame
//! loop that really runs: a loop stuck in a camera read stops the pings and systemd restarts it.
//!
//! A datagram to the unix socket named by `NOTIFY_SOCKET` (a path, or `@name` for the abstract
//! namespace). Without the variable (not started by systemd) nothing is sent; a failed send is
//! ignored, since the device must not stop because its supervisor went away.

use std::os::unix::net::UnixDatagram;

use sentiod::events::Event;

/// The notification an event stands for, if any.
pub fn message_for(event: &Event) -> Option<&'static str> {
    match event {
        Event::Start { .. } => Some("READY=1"),
        Event::Stats { .. } => Some("WATCHDOG=1"),
        Event::Stop { .. } => Some("STOPPING=1"),
        _ => None,
    }
}

/// Sends the event's notification to `$NOTIFY_SOCKET`, if the event has one and the variable is set.
pub fn notify_event(event: &Event) {
    if let (Some(message), Some(socket)) = (message_for(event), std::env::var_os("NOTIFY_SOCKET")) {
        let _ = send(&socket.to_string_lossy(), message);
    }
}

/// Sends one notification datagram to the socket `path` (`@name`: abstract namespace).
pub fn send(path: &str, message: &str) -> std::io::Result<()> {
    let socket = UnixDatagram::unbound()?;
    match path.strip_prefix('@') {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt as _;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
            socket.send_to_addr(message.as_bytes(), &addr)?;
        }
        None => {
            socket.send_to(message.as_bytes(), path)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receive(socket: &UnixDatagram) -> String {
        let mut buf = [0u8; 64];
        let n = socket.recv(&mut buf).unwrap();
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn sends_to_a_path_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let listener = UnixDatagram::bind(&path).unwrap();
        send(path.to_str().unwrap(), "READY=1").unwrap();
        send(path.to_str().unwrap(), "WATCHDOG=1").unwrap();
        assert_eq!(receive(&listener), "READY=1");
        assert_eq!(receive(&listener), "WATCHDOG=1");
    }

    #[test]
    fn sends_to_an_abstract_socket() {
        use std::os::linux::net::SocketAddrExt as _;
        let name = format!("sentiod-notify-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let listener = UnixDatagram::bind_addr(&addr).unwrap();
        send(&format!("@{name}"), "STOPPING=1").unwrap();
        assert_eq!(receive(&listener), "STOPPING=1");
    }

    #[test]
    fn a_missing_socket_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        assert!(send(dir.path().join("absent").to_str().unwrap(), "READY=1").is_err());
    }

    #[test]
    fn other_events_send_nothing() {
        let beep = Event::Beep {
            freq_hz: 880,
            duration_ms: 100,
        };
        assert_eq!(message_for(&beep), None);
        assert_eq!(message_for(&Event::MicEnded { frame: 3 }), None);
    }
}
