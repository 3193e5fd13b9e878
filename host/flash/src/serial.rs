//! Serial ports: open one as a transport, list the ones this machine has.
//!
//! Built on `serialport` without its `libudev` feature, so it stays pure Rust. On Linux that
//! build scans `/sys/class/tty` itself and still reads USB vendor/product ids, serial number,
//! manufacturer and product from sysfs; ports whose bus it does not recognise are left out
//! (pseudo-terminals are never listed, but open fine by path).

use std::io::{self, Read, Write};
use std::path::Path;
use std::time::Duration;

use serialport::{SerialPort, SerialPortType};

use crate::error::{Error, Result};

/// Read timeout of an opened port: short, so that retransmit timers are checked often; a read
/// returns as soon as any byte arrives.
pub const READ_TIMEOUT: Duration = Duration::from_millis(20);

/// An open serial port, 8N1, no flow control, raw; reads time out after [`READ_TIMEOUT`] with
/// `ErrorKind::TimedOut`.
pub struct SerialTransport {
    port: Box<dyn SerialPort>,
    path: String,
    baud: u32,
}

impl std::fmt::Debug for SerialTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SerialTransport")
            .field("path", &self.path)
            .field("baud", &self.baud)
            .finish()
    }
}

impl SerialTransport {
    /// The path it was opened with.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The baud rate set.
    pub fn baud(&self) -> u32 {
        self.baud
    }

    /// Changes the read timeout.
    pub fn set_timeout(&mut self, timeout: Duration) -> Result<()> {
        self.port
            .set_timeout(timeout)
            .map_err(|e| open_error(&self.path, e))
    }

    /// The port itself, for settings this type does not cover.
    pub fn port_mut(&mut self) -> &mut dyn SerialPort {
        self.port.as_mut()
    }
}

impl Read for SerialTransport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.port.read(buf)
    }
}

impl Write for SerialTransport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.port.write(buf)
    }

    /// Nothing is buffered in user space; unlike the port's own `flush` this does not wait
    /// for the bytes to leave the UART.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Opens `path` at `baud` for a [`Connection`](crate::Connection), and drops whatever the port
/// had buffered from before.
pub fn open_port(path: &str, baud: u32) -> Result<SerialTransport> {
    let port = serialport::new(path, baud)
        .data_bits(serialport::DataBits::Eight)
        .parity(serialport::Parity::None)
        .stop_bits(serialport::StopBits::One)
        .flow_control(serialport::FlowControl::None)
        .timeout(READ_TIMEOUT)
        .open()
        .map_err(|e| open_error(path, e))?;
    // Stale input is noise to the decoder at best; an error here changes nothing.
    let _ = port.clear(serialport::ClearBuffer::Input);
    Ok(SerialTransport {
        port,
        path: path.into(),
        baud,
    })
}

fn open_error(path: &str, e: serialport::Error) -> Error {
    use serialport::ErrorKind as K;
    match e.kind() {
        K::Io(io::ErrorKind::NotFound) => Error::PortNotFound { port: path.into() },
        K::NoDevice if !Path::new(path).exists() => Error::PortNotFound { port: path.into() },
        K::Io(io::ErrorKind::PermissionDenied) => Error::PermissionDenied { port: path.into() },
        K::NoDevice => Error::PortOpen {
            port: path.into(),
            detail: format!("{} (is another program using it?)", e.description),
        },
        _ => Error::PortOpen {
            port: path.into(),
            detail: e.description,
        },
    }
}

/// What a port is attached to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortKind {
    /// A USB serial adapter or a board's USB CDC port.
    Usb(UsbInfo),
    /// A PCI serial card.
    Pci,
    /// A Bluetooth RFCOMM port.
    Bluetooth,
    /// A built-in UART or anything else.
    Other,
}

/// What the OS says about a USB port.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UsbInfo {
    /// Vendor id.
    pub vid: u16,
    /// Product id.
    pub pid: u16,
    /// Serial number, if the device has one.
    pub serial_number: Option<String>,
    /// Manufacturer string.
    pub manufacturer: Option<String>,
    /// Product string.
    pub product: Option<String>,
}

/// A serial port found on this machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortInfo {
    /// Path to open (`/dev/ttyUSB0`).
    pub path: String,
    /// What it is.
    pub kind: PortKind,
}

impl PortInfo {
    /// One line for `sentio devices`: path, then `USB 2e8a:000a Raspberry Pi Pico (serial E66…)`.
    pub fn describe(&self) -> String {
        match &self.kind {
            PortKind::Usb(usb) => {
                let mut line = format!("{}  USB {:04x}:{:04x}", self.path, usb.vid, usb.pid);
                for text in [&usb.manufacturer, &usb.product].into_iter().flatten() {
                    line.push(' ');
                    line.push_str(text);
                }
                if let Some(serial) = &usb.serial_number {
                    line.push_str(&format!(" (serial {serial})"));
                }
                line
            }
            PortKind::Pci => format!("{}  PCI", self.path),
            PortKind::Bluetooth => format!("{}  Bluetooth", self.path),
            PortKind::Other => format!("{}  built-in", self.path),
        }
    }
}

/// Which port to use when the user named none, as espflash and cargo-espflash decide: the only
/// USB serial port; several are for the user to choose from; none is an error that says so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortChoice {
    /// Exactly one USB serial port: a board's gadget or adapter.
    Only(PortInfo),
    /// Several USB serial ports: ask (on a terminal) or make the user pass `--port`.
    Several(Vec<PortInfo>),
    /// No USB serial port (built-in UARTs are never picked on their own).
    None,
}

/// The choice among `ports` (from [`list_ports`]) when no port was given.
pub fn choose_port(ports: &[PortInfo]) -> PortChoice {
    let usb: Vec<PortInfo> = ports
        .iter()
        .filter(|p| matches!(p.kind, PortKind::Usb(_)))
        .cloned()
        .collect();
    match usb.len() {
        0 => PortChoice::None,
        1 => usb
            .into_iter()
            .next()
            .map_or(PortChoice::None, PortChoice::Only),
        _ => PortChoice::Several(usb),
    }
}

/// The serial ports of this machine, USB ones with their ids, sorted by path.
pub fn list_ports() -> Result<Vec<PortInfo>> {
    // serialport panics when /sys/class/tty is missing (some containers): nothing to list then.
    if cfg!(target_os = "linux") && !Path::new("/sys/class/tty").is_dir() {
        return Ok(Vec::new());
    }
    let ports = serialport::available_ports().map_err(|e| Error::Io {
        port: "(listing ports)".into(),
        source: io::Error::other(e.description),
    })?;
    let mut out: Vec<PortInfo> = ports
        .into_iter()
        .map(|p| PortInfo {
            path: p.port_name,
            kind: match p.port_type {
                SerialPortType::UsbPort(usb) => PortKind::Usb(UsbInfo {
                    vid: usb.vid,
                    pid: usb.pid,
                    serial_number: usb.serial_number,
                    manufacturer: usb.manufacturer,
                    product: usb.product,
                }),
                SerialPortType::PciPort => PortKind::Pci,
                SerialPortType::BluetoothPort => PortKind::Bluetooth,
                SerialPortType::Unknown => PortKind::Other,
            },
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_port_is_port_not_found() {
        match open_port("/dev/does-not-exist-sentio", 115_200) {
            Err(e) => {
                assert!(matches!(e, Error::PortNotFound { .. }), "{e:?}");
                assert!(e.help().contains("sentio devices"));
            }
            Ok(_) => unreachable!("opened a port that does not exist"),
        }
    }

    #[test]
    fn listing_works_here() {
        // No serial hardware on CI; listing must still succeed.
        assert!(list_ports().is_ok());
    }

    #[test]
    fn describe_usb() {
        let p = PortInfo {
            path: "/dev/ttyACM0".into(),
            kind: PortKind::Usb(UsbInfo {
                vid: 0x2e8a,
                pid: 0x000a,
                serial_number: Some("E661".into()),
                manufacturer: Some("Raspberry Pi".into()),
                product: Some("Pico".into()),
            }),
        };
        assert_eq!(
            p.describe(),
            "/dev/ttyACM0  USB 2e8a:000a Raspberry Pi Pico (serial E661)"
        );
    }
}

#[cfg(test)]
mod choice_tests {
    use super::*;

    fn port(path: &str, usb: bool) -> PortInfo {
        PortInfo {
            path: path.into(),
            kind: if usb {
                PortKind::Usb(UsbInfo {
                    vid: 0x1d6b,
                    pid: 0x0104,
                    serial_number: None,
                    manufacturer: None,
                    product: None,
                })
            } else {
                PortKind::Other
            },
        }
    }

    #[test]
    fn the_only_usb_port_is_chosen_and_built_in_uarts_never_are() {
        let only = port("/dev/ttyACM0", true);
        assert_eq!(
            choose_port(&[port("/dev/ttyS0", false), only.clone()]),
            PortChoice::Only(only)
        );
        assert_eq!(choose_port(&[port("/dev/ttyS0", false)]), PortChoice::None);
        assert_eq!(choose_port(&[]), PortChoice::None);
        let two = [port("/dev/ttyACM0", true), port("/dev/ttyUSB0", true)];
        assert_eq!(choose_port(&two), PortChoice::Several(two.to_vec()));
    }
}
