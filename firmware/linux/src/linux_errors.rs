//! Turning the errors of linux-embedded-hal (spidev, i2c-dev, GPIO character device) and of
//! input event devices into [`HalError`]s that say what to do.

use sentio_hal::HalError;

/// An embedded-hal pin error met while using a pin.
#[cfg(any(feature = "spi-display", feature = "gpio"))]
pub(crate) fn digital_error<E: embedded_hal::digital::Error>(
    device: &str,
    context: &str,
    e: &E,
) -> HalError {
    HalError::new(
        sentio_hal::ErrorKind::Io,
        device,
        format!("{context}: {e:?}"),
    )
    .with_help(
        "check that no other program or kernel driver took the line (`gpioinfo` shows the owner)",
    )
}

#[cfg(any(feature = "spi-display", feature = "gpio"))]
pub(crate) use gpio::request_line;

#[cfg(any(feature = "spi-display", feature = "gpio"))]
mod gpio {
    use std::path::Path;

    use linux_embedded_hal::CdevPin;
    use linux_embedded_hal::gpio_cdev::{Chip, LineRequestFlags, errors::Error as GpioError};
    use sentio_hal::{ErrorKind, HalError};

    /// The label our lines carry in `gpioinfo`.
    const CONSUMER: &str = "sentio";

    fn classify(e: &GpioError) -> ErrorKind {
        if let Some(io) =
            std::error::Error::source(e).and_then(|s| s.downcast_ref::<std::io::Error>())
        {
            return ErrorKind::from_io(io.kind());
        }
        // Ioctl failures carry a nix errno that gpio-cdev does not expose as a type we can match;
        // its text starts with the errno name ("EBUSY: Device or resource busy").
        let text = e.to_string();
        if text.contains("EBUSY") {
            ErrorKind::Busy
        } else if text.contains("EACCES") || text.contains("EPERM") {
            ErrorKind::PermissionDenied
        } else if text.contains("ENOENT") || text.contains("ENODEV") {
            ErrorKind::NotFound
        } else if text.contains("ENOTTY") || text.contains("EINVAL") {
            ErrorKind::Unsupported
        } else {
            ErrorKind::Io
        }
    }

    fn gpio_error(device: &str, context: &str, e: GpioError) -> HalError {
        let kind = classify(&e);
        let help = match kind {
            ErrorKind::NotFound => {
                "list GPIO chips with `gpiodetect` (package gpiod) and check the chip path in the \
                 board profile"
            }
            ErrorKind::PermissionDenied => {
                "add the user to the `gpio` group (or grant it access to /dev/gpiochip*)"
            }
            ErrorKind::Busy => {
                "another program or a kernel driver holds this line: `gpioinfo` shows its owner"
            }
            ErrorKind::Unsupported => {
                "this is not a GPIO character device: `gpiodetect` lists them"
            }
            _ => {
                "check the chip path and line number in the board profile (`gpioinfo` lists lines)"
            }
        };
        HalError::new(kind, device, format!("{context}: {e}"))
            .with_help(help)
            .with_source(e)
    }

    /// Requests one line of a GPIO chip and returns it with the name errors should use.
    pub(crate) fn request_line(
        chip_path: &Path,
        line: u32,
        flags: LineRequestFlags,
        default: u8,
        role: &str,
    ) -> Result<(CdevPin, String), HalError> {
        let name = format!("{role} {} line {line}", chip_path.display());
        let mut chip =
            Chip::new(chip_path).map_err(|e| gpio_error(&name, "cannot open the GPIO chip", e))?;
        let lines = chip.num_lines();
        if line >= lines {
            return Err(HalError::new(
                ErrorKind::Unsupported,
                &name,
                format!(
                    "the chip has {lines} lines (0..={})",
                    lines.saturating_sub(1)
                ),
            )
            .with_help(
                "line numbers are the chip's offsets (BCM GPIO numbers on a Raspberry Pi), not \
                 header pin numbers; `gpioinfo` lists them",
            ));
        }
        let handle = chip
            .get_line(line)
            .and_then(|l| l.request(flags, default, CONSUMER))
            .map_err(|e| gpio_error(&name, "cannot request the line", e))?;
        let pin = CdevPin::new(handle).map_err(|e| gpio_error(&name, "cannot use the line", e))?;
        Ok((pin, name))
    }
}

/// An error opening or using a Linux device node (spidev, i2c-dev, input event devices), with
/// help for the common causes.
#[cfg(any(feature = "spi-display", feature = "i2c-display", feature = "evdev"))]
pub(crate) fn node_error(
    device: &str,
    context: &str,
    err: std::io::Error,
    enable_hint: &str,
    group: &str,
) -> HalError {
    use sentio_hal::ErrorKind;
    let help = match ErrorKind::from_io(err.kind()) {
        ErrorKind::NotFound => enable_hint.to_string(),
        ErrorKind::PermissionDenied => {
            format!("add the user to the `{group}` group (then log in again)")
        }
        ErrorKind::Busy => "another program or a kernel driver is using the device".to_string(),
        _ => format!("check the wiring and the device path; {enable_hint}"),
    };
    HalError::io(device, context, err).with_help(help)
}
