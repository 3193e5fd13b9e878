//! Real Linux drivers for Sentio's hardware traits ([`sentio_hal::Camera`],
//! [`sentio_hal::Microphone`], [`sentio_hal::Speaker`], [`sentio_hal::Display`],
//! [`sentio_hal::Pointer`]) and for buttons.
//!
//! Each driver sits behind its own cargo feature, and every feature is off by default, so the
//! default workspace build needs no system library. What the crate must not do: depend on
//! `sentio-boards` (constructors take plain paths, sizes and pin numbers, and the device binary
//! maps the board profile onto them), print, or panic on anything a device sends.
//!
//! | feature | what | system packages (Debian/Raspberry Pi OS) |
//! | --- | --- | --- |
//! | `v4l` | `V4lCamera`: V4L2 webcam, YUYV or MJPEG, delivered as RGB888 | `libclang-dev` (bindgen) |
//! | `alsa` | `AlsaMicrophone`, `AlsaSpeaker`: S16 mono at a fixed rate | `libasound2-dev`, `pkg-config` |
//! | `spi-display` | `SpiPanel`: ST7789 / ILI9341 over spidev + GPIO (mipidsi) | none |
//! | `i2c-display` | `OledPanel`: SSD1306 128x64 / 128x32 over i2c-dev | none |
//! | `gpio` | `Button` (debounced), `Backlight` over the GPIO character device | none |
//! | `evdev` | `EvdevPointer`: touch panel or pen on `/dev/input/event*` | none |
//! | `full` | all of the above | all of the above |
//!
//! At run time the drivers need the kernel interfaces: `/dev/video*` (uvcvideo), an ALSA card,
//! `/dev/spidev*` (`dtparam=spi=on` on a Pi), `/dev/i2c-*` (`dtparam=i2c_arm=on`) and
//! `/dev/gpiochip*`, `/dev/input/event*`, and a user in the `video`, `audio`, `spi`, `i2c`,
//! `gpio` and `input` groups.
//!
//! Without any feature the crate still holds the pure parts, so they are tested everywhere: the
//! pixel conversions in [`convert`] (YUYV and MJPEG to RGB888), the button [`Debouncer`] and the
//! touch [`TouchDecoder`] (raw input events to pointer events).
//! Every error is a [`sentio_hal::HalError`] naming the device and what went wrong, with a help
//! line (its miette diagnostic help) saying what to do.

pub mod button;
pub mod convert;
pub mod pointer;

#[cfg(feature = "alsa")]
pub mod audio;
#[cfg(feature = "v4l")]
pub mod camera;
#[cfg(feature = "i2c-display")]
pub mod oled;
#[cfg(feature = "spi-display")]
pub mod spi_panel;

#[cfg(any(
    feature = "spi-display",
    feature = "i2c-display",
    feature = "gpio",
    feature = "evdev"
))]
mod linux_errors;

#[cfg(feature = "alsa")]
pub use audio::{AlsaMicrophone, AlsaSpeaker};
#[cfg(feature = "gpio")]
pub use button::{Backlight, Button, DEFAULT_DEBOUNCE, open_cdev_backlight, open_cdev_button};
pub use button::{ButtonEvent, Debouncer};
#[cfg(feature = "v4l")]
pub use camera::{SizePolicy, SourceFormat, V4lCamera};
#[cfg(feature = "i2c-display")]
pub use oled::{OledPanel, OledSize, open_i2cdev};
#[cfg(feature = "evdev")]
pub use pointer::EvdevPointer;
pub use pointer::{Axes, AxisRange, Contact, Snapshot, TouchDecoder, TouchLayout};
#[cfg(feature = "spi-display")]
pub use spi_panel::{
    LinuxSpiPanel, NoPin, PanelConfig, PanelModel, SpiPanel, open_spidev, open_spidev_with,
};
