//! SSD1306 monochrome OLEDs (128x64, 128x32) on I2C, through ssd1306 in buffered graphics
//! mode.
//!
//! Drawing goes into ssd1306's 1-bit buffer ([`OledPanel`] is an embedded-graphics
//! `DrawTarget<Color = BinaryColor>`); [`sentio_hal::Display::flush`] sends the part that changed
//! since the last flush.

use std::convert::Infallible;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use embedded_graphics::Pixel;
use embedded_graphics::draw_target::DrawTarget;
use embedded_graphics::geometry::{OriginDimensions, Size};
use embedded_graphics::pixelcolor::BinaryColor;
use embedded_hal::i2c::{
    ErrorKind as I2cErrorKind, ErrorType, I2c, NoAcknowledgeSource, Operation,
};
use linux_embedded_hal::I2cdev;
use sentio_hal::{ErrorKind, HalError};
use ssd1306::mode::BufferedGraphicsMode;
use ssd1306::prelude::*;
use ssd1306::{I2CDisplayInterface, Ssd1306};

use crate::linux_errors::node_error;

/// The panel sizes supported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OledSize {
    W128H64,
    W128H32,
}

impl OledSize {
    /// The size for a native (unrotated) `width` x `height`, if it is one we drive.
    pub fn from_dims(width: u32, height: u32) -> Option<Self> {
        match (width, height) {
            (128, 64) => Some(OledSize::W128H64),
            (128, 32) => Some(OledSize::W128H32),
            _ => None,
        }
    }
}

/// The last I2C error, kept because display-interface turns every bus error into a bare
/// `BusWriteError`.
#[derive(Clone, Debug)]
struct BusFault {
    kind: I2cErrorKind,
    text: String,
}

/// Wraps the bus to remember the last error.
struct CapturingI2c<I2C> {
    inner: I2C,
    fault: Arc<Mutex<Option<BusFault>>>,
}

impl<I2C: I2c> ErrorType for CapturingI2c<I2C> {
    type Error = I2C::Error;
}

impl<I2C: I2c> I2c for CapturingI2c<I2C> {
    fn transaction(
        &mut self,
        address: u8,
        operations: &mut [Operation<'_>],
    ) -> Result<(), I2C::Error> {
        self.inner
            .transaction(address, operations)
            .inspect_err(|e| {
                use embedded_hal::i2c::Error;
                let fault = BusFault {
                    kind: e.kind(),
                    text: format!("{e:?}"),
                };
                *self.fault.lock().unwrap_or_else(PoisonError::into_inner) = Some(fault);
            })
    }
}

type Oled<I2C, S> = Ssd1306<I2CInterface<CapturingI2c<I2C>>, S, BufferedGraphicsMode<S>>;

// Boxed: the drivers hold their 512- or 1024-byte buffers inline.
enum Inner<I2C: I2c> {
    H64(Box<Oled<I2C, DisplaySize128x64>>),
    H32(Box<Oled<I2C, DisplaySize128x32>>),
}

/// Runs `$body` with `$d` bound to the ssd1306 driver, whatever its size.
macro_rules! with_driver {
    ($inner:expr, $d:ident => $body:expr) => {
        match $inner {
            Inner::H64($d) => $body,
            Inner::H32($d) => $body,
        }
    };
}

/// An SSD1306 OLED on any embedded-hal I2C bus. Drawing never fails (it only touches memory);
/// [`sentio_hal::Display::flush`] does the I/O.
pub struct OledPanel<I2C: I2c> {
    inner: Inner<I2C>,
    fault: Arc<Mutex<Option<BusFault>>>,
    device: String,
    address: u8,
}

impl<I2C: I2c> OledPanel<I2C> {
    /// Initialises the panel at `address` (0x3C on most modules, 0x3D with the address jumper)
    /// and clears it. `width` x `height` is the panel's size, 128x64 or 128x32, given natively
    /// or as drawn (64x128 at 90 degrees works too); `rotation_degrees` (0, 90, 180, 270,
    /// clockwise) turns the picture, so at 90 and 270 the drawing area is 64x128 (or 32x128).
    pub fn new(
        i2c: I2C,
        address: u8,
        width: u32,
        height: u32,
        rotation_degrees: u16,
    ) -> Result<Self, HalError> {
        let device = format!("display SSD1306 at I2C address {address:#04x}");
        Self::new_named(device, i2c, address, width, height, rotation_degrees)
    }

    fn new_named(
        device: String,
        i2c: I2C,
        address: u8,
        width: u32,
        height: u32,
        rotation_degrees: u16,
    ) -> Result<Self, HalError> {
        // The size may be given native (128x64) or as drawn after a quarter turn (64x128): the
        // supported sizes are not square, so either reading is unambiguous.
        let size = OledSize::from_dims(width, height)
            .or_else(|| {
                (rotation_degrees % 180 == 90)
                    .then(|| OledSize::from_dims(height, width))
                    .flatten()
            })
            .ok_or_else(|| {
                HalError::new(
                    ErrorKind::Unsupported,
                    &device,
                    format!(
                        "size {width}x{height} at rotation {rotation_degrees} is not supported"
                    ),
                )
                .with_help("SSD1306 panels are 128x64 or 128x32")
            })?;
        let rotation = match rotation_degrees {
            0 => DisplayRotation::Rotate0,
            90 => DisplayRotation::Rotate90,
            180 => DisplayRotation::Rotate180,
            270 => DisplayRotation::Rotate270,
            other => {
                return Err(HalError::new(
                    ErrorKind::Unsupported,
                    &device,
                    format!("rotation {other} degrees is not supported"),
                )
                .with_help("set the display rotation in the board profile to 0, 90, 180 or 270"));
            }
        };
        let fault = Arc::new(Mutex::new(None));
        let bus = CapturingI2c {
            inner: i2c,
            fault: Arc::clone(&fault),
        };
        let interface = I2CDisplayInterface::new_custom_address(bus, address);
        let inner = match size {
            OledSize::W128H64 => Inner::H64(Box::new(
                Ssd1306::new(interface, DisplaySize128x64, rotation).into_buffered_graphics_mode(),
            )),
            OledSize::W128H32 => Inner::H32(Box::new(
                Ssd1306::new(interface, DisplaySize128x32, rotation).into_buffered_graphics_mode(),
            )),
        };
        let mut panel = OledPanel {
            inner,
            fault,
            device,
            address,
        };
        let result = with_driver!(&mut panel.inner, d => d.init());
        result.map_err(|e| panel.bus_error("cannot initialise the panel", e))?;
        // init() cleared the buffer and marked it all dirty: this blanks the screen.
        sentio_hal::Display::flush(&mut panel)?;
        Ok(panel)
    }

    fn bus_error(&self, context: &str, e: impl std::fmt::Debug) -> HalError {
        let addr = self.address;
        let fault = self
            .fault
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match fault {
            Some(BusFault {
                kind:
                    I2cErrorKind::NoAcknowledge(
                        NoAcknowledgeSource::Address | NoAcknowledgeSource::Unknown,
                    ),
                text,
            }) => HalError::new(
                ErrorKind::NotFound,
                &self.device,
                format!("{context}: no device acknowledged address {addr:#04x} ({text})"),
            )
            .with_help(
                "check wiring and power; `i2cdetect -y 1` lists the addresses that answer \
                 (SSD1306 modules use 0x3c, or 0x3d with the address jumper)",
            ),
            Some(BusFault { text, .. }) => HalError::new(
                ErrorKind::Io,
                &self.device,
                format!("{context}: I2C write failed: {text}"),
            )
            .with_help(
                "check the wiring and pull-ups; if `i2cdetect` shows UU at this address a kernel \
                 driver owns it (remove its dtoverlay)",
            ),
            None => HalError::new(ErrorKind::Io, &self.device, format!("{context}: {e:?}"))
                .with_help("check the wiring and the I2C address in the board profile"),
        }
    }
}

impl<I2C: I2c> OriginDimensions for OledPanel<I2C> {
    fn size(&self) -> Size {
        let (w, h) = with_driver!(&self.inner, d => d.dimensions());
        Size::new(u32::from(w), u32::from(h))
    }
}

impl<I2C: I2c> DrawTarget for OledPanel<I2C> {
    type Color = BinaryColor;
    type Error = Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Infallible>
    where
        I: IntoIterator<Item = Pixel<BinaryColor>>,
    {
        // Buffered mode only writes memory; its draw_iter cannot fail.
        let _ = with_driver!(&mut self.inner, d => d.draw_iter(pixels));
        Ok(())
    }

    fn clear(&mut self, color: BinaryColor) -> Result<(), Infallible> {
        let _ = with_driver!(&mut self.inner, d => d.clear(color));
        Ok(())
    }
}

impl<I2C: I2c> sentio_hal::Display for OledPanel<I2C> {
    fn flush(&mut self) -> Result<(), HalError> {
        let result = with_driver!(&mut self.inner, d => d.flush());
        result.map_err(|e| self.bus_error("cannot send the frame", e))
    }
}

/// Opens an SSD1306 on the I2C bus at `path` (`/dev/i2c-1`); see [`OledPanel::new`].
pub fn open_i2cdev(
    path: impl AsRef<Path>,
    address: u8,
    width: u32,
    height: u32,
    rotation_degrees: u16,
) -> Result<OledPanel<I2cdev>, HalError> {
    let path = path.as_ref();
    let device = format!("display {} (SSD1306 at {address:#04x})", path.display());
    let i2c = I2cdev::new(path).map_err(|e| {
        let hint = format!(
            "no I2C bus at {}: enable I2C (`dtparam=i2c_arm=on` in /boot/firmware/config.txt on a \
             Raspberry Pi, then reboot); `ls /dev/i2c-*` lists the buses that exist",
            path.display()
        );
        node_error(
            &device,
            "cannot open the I2C bus",
            std::io::Error::from(e),
            &hint,
            "i2c",
        )
    })?;
    OledPanel::new_named(device, i2c, address, width, height, rotation_degrees)
}
