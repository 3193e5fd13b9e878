//! ST7789 and ILI9341 colour panels on SPI, through mipidsi, behind an in-memory RGB565
//! framebuffer.
//!
//! Drawing goes into the framebuffer ([`SpiPanel`] is an embedded-graphics `DrawTarget`);
//! [`sentio_hal::Display::flush`] sends the whole frame to the panel in one `set_pixels` call
//! over the full area. Sizes are the size the drawing code sees, after rotation: a 320x240
//! ILI9341 is the 240x320 controller turned by 90 or 270 degrees.

use std::convert::Infallible;
use std::path::Path;

use embedded_graphics::Pixel;
use embedded_graphics::draw_target::DrawTarget;
use embedded_graphics::geometry::{Dimensions, OriginDimensions, Size};
use embedded_graphics::pixelcolor::{Rgb565, RgbColor};
use embedded_graphics::primitives::Rectangle;
use embedded_hal::delay::DelayNs;
use embedded_hal::digital::{ErrorType, OutputPin};
use embedded_hal::spi::SpiDevice;
use linux_embedded_hal::gpio_cdev::LineRequestFlags;
use linux_embedded_hal::spidev::{SpiModeFlags, SpidevOptions};
use linux_embedded_hal::{CdevPin, Delay, SpidevDevice};
use mipidsi::interface::{Interface, InterfaceKind};
use mipidsi::models::{ILI9341Rgb565, ST7789};
use mipidsi::options::{ColorInversion, ColorOrder, Orientation, Rotation};
use mipidsi::{Builder, InitError};
use sentio_hal::{ErrorKind, HalError};

use crate::linux_errors::{digital_error, node_error, request_line};

/// Bytes per SPI transfer when streaming pixels. The kernel's spidev refuses transfers larger
/// than its `bufsiz` module parameter, 4096 bytes by default.
pub const SPI_CHUNK: usize = 4096;

/// The display controller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PanelModel {
    /// Sitronix ST7789 (240x240 and 240x320 IPS modules).
    St7789,
    /// Ilitek ILI9341 (240x320 TFT modules, usually used as 320x240 landscape).
    Ili9341,
}

impl PanelModel {
    /// Parses the names board profiles use: "st7789", "ili9341" (any case).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "st7789" => Some(PanelModel::St7789),
            "ili9341" => Some(PanelModel::Ili9341),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PanelModel::St7789 => "ST7789",
            PanelModel::Ili9341 => "ILI9341",
        }
    }

    /// The controller's memory size in its native (portrait) orientation.
    pub fn native_size(self) -> (u16, u16) {
        match self {
            PanelModel::St7789 => <ST7789 as mipidsi::models::Model>::FRAMEBUFFER_SIZE,
            PanelModel::Ili9341 => <ILI9341Rgb565 as mipidsi::models::Model>::FRAMEBUFFER_SIZE,
        }
    }
}

/// How a panel is built and mounted. [`PanelConfig::new`] fills in what most modules of each
/// model need; change the public fields for the odd ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PanelConfig {
    pub model: PanelModel,
    /// Width the drawing code sees, after rotation.
    pub width: u16,
    /// Height the drawing code sees, after rotation.
    pub height: u16,
    /// Clockwise rotation of the picture: 0, 90, 180 or 270.
    pub rotation_degrees: u16,
    /// Where the visible glass starts in controller memory, in the native orientation (for
    /// example (52, 40) for 135x240 ST7789 modules). (0, 0) for 240x240 and 240x320 modules.
    pub offset: (u16, u16),
    /// Send INVON. ST7789 IPS modules show a negative without it; ILI9341 modules do not want it.
    pub invert_colors: bool,
    /// The glass has blue and red swapped (MADCTL BGR bit), as on most ILI9341 modules.
    pub bgr: bool,
    /// SPI clock mode 0..=3. Mode 0 works for modules with a CS pin; ST7789 modules without CS
    /// usually need mode 3.
    pub spi_mode: u8,
    /// How errors name the panel.
    pub device_name: String,
}

impl PanelConfig {
    pub fn new(model: PanelModel, width: u16, height: u16, rotation_degrees: u16) -> Self {
        PanelConfig {
            model,
            width,
            height,
            rotation_degrees,
            offset: (0, 0),
            invert_colors: model == PanelModel::St7789,
            bgr: model == PanelModel::Ili9341,
            spi_mode: 0,
            device_name: format!("display {} {width}x{height}", model.name()),
        }
    }

    fn rotation(&self) -> Result<Rotation, HalError> {
        match self.rotation_degrees {
            0 => Ok(Rotation::Deg0),
            90 => Ok(Rotation::Deg90),
            180 => Ok(Rotation::Deg180),
            270 => Ok(Rotation::Deg270),
            other => Err(HalError::new(
                ErrorKind::Unsupported,
                &self.device_name,
                format!("rotation {other} degrees is not supported"),
            )
            .with_help("set the display rotation in the board profile to 0, 90, 180 or 270")),
        }
    }

    /// The visible size in the controller's native orientation.
    fn native_visible_size(&self) -> (u16, u16) {
        if self.rotation_degrees.is_multiple_of(180) {
            (self.width, self.height)
        } else {
            (self.height, self.width)
        }
    }

    /// Checks the geometry before any device is touched.
    pub fn validate(&self) -> Result<(), HalError> {
        self.rotation()?;
        let (nw, nh) = self.native_visible_size();
        let (mw, mh) = self.model.native_size();
        let fits = nw > 0
            && nh > 0
            && u32::from(nw) + u32::from(self.offset.0) <= u32::from(mw)
            && u32::from(nh) + u32::from(self.offset.1) <= u32::from(mh);
        if !fits {
            let model = self.model.name();
            let mut help = format!(
                "the {model} has {mw}x{mh} pixels in its native portrait orientation; the size \
                 (after rotation) plus the offset must fit in it"
            );
            if self.width > self.height && self.rotation_degrees.is_multiple_of(180) {
                help.push_str(&format!(
                    "; a {}x{} landscape panel needs rotation 90 or 270",
                    self.width, self.height
                ));
            }
            return Err(HalError::new(
                ErrorKind::Unsupported,
                &self.device_name,
                format!(
                    "{}x{} at rotation {} with offset {:?} does not fit the controller",
                    self.width, self.height, self.rotation_degrees, self.offset
                ),
            )
            .with_help(help));
        }
        if self.spi_mode > 3 {
            return Err(HalError::new(
                ErrorKind::Unsupported,
                &self.device_name,
                format!("SPI mode {} does not exist", self.spi_mode),
            )
            .with_help("use SPI mode 0 (or 3 for modules without a CS pin)"));
        }
        Ok(())
    }
}

/// The SPI + D/C transport mipidsi talks through. Owns its transfer buffer (mipidsi's own
/// `SpiInterface` borrows one) and reports errors as [`HalError`]s.
struct DcsBus<SPI, DC> {
    spi: SPI,
    dc: DC,
    buf: Vec<u8>,
    device: String,
}

impl<SPI: SpiDevice, DC: OutputPin> DcsBus<SPI, DC> {
    fn spi_write(&mut self, bytes: &[u8]) -> Result<(), HalError> {
        self.spi
            .write(bytes)
            .map_err(|e| spi_error(&self.device, &e))
    }

    fn dc(&mut self, data: bool) -> Result<(), HalError> {
        let r = if data {
            self.dc.set_high()
        } else {
            self.dc.set_low()
        };
        r.map_err(|e| digital_error(&self.device, "cannot drive the D/C pin", &e))
    }

    fn flush_buf(&mut self, len: usize) -> Result<(), HalError> {
        if len > 0 {
            let buf = std::mem::take(&mut self.buf);
            let r = self.spi_write(&buf[..len]);
            self.buf = buf;
            r?;
        }
        Ok(())
    }
}

fn spi_error<E: embedded_hal::spi::Error>(device: &str, e: &E) -> HalError {
    HalError::new(ErrorKind::Io, device, format!("SPI transfer failed: {e:?}")).with_help(
        "check the wiring and lower the SPI speed in the board profile; transfers must fit \
         spidev's bufsiz (4096 bytes by default)",
    )
}

impl<SPI: SpiDevice, DC: OutputPin> Interface for DcsBus<SPI, DC> {
    type Word = u8;
    type Error = HalError;

    const KIND: InterfaceKind = InterfaceKind::Serial4Line;

    fn send_command(&mut self, command: u8, args: &[u8]) -> Result<(), HalError> {
        self.dc(false)?;
        self.spi_write(&[command])?;
        self.dc(true)?;
        if !args.is_empty() {
            self.spi_write(args)?;
        }
        Ok(())
    }

    fn send_pixels<const N: usize>(
        &mut self,
        pixels: impl IntoIterator<Item = [u8; N]>,
    ) -> Result<(), HalError> {
        let mut len = 0;
        for pixel in pixels {
            if len + N > self.buf.len() {
                self.flush_buf(len)?;
                len = 0;
            }
            self.buf[len..len + N].copy_from_slice(&pixel);
            len += N;
        }
        self.flush_buf(len)
    }

    fn send_repeated_pixel<const N: usize>(
        &mut self,
        pixel: [u8; N],
        count: u32,
    ) -> Result<(), HalError> {
        self.send_pixels((0..count).map(|_| pixel))
    }
}

/// A reset line that may not be wired. mipidsi pulses it when present; when absent we send
/// the DCS soft reset ourselves before handing the bus to mipidsi.
struct ResetLine<RST>(Option<RST>);

impl<RST: OutputPin> ErrorType for ResetLine<RST> {
    type Error = RST::Error;
}

impl<RST: OutputPin> OutputPin for ResetLine<RST> {
    fn set_low(&mut self) -> Result<(), RST::Error> {
        self.0.as_mut().map_or(Ok(()), |p| p.set_low())
    }
    fn set_high(&mut self) -> Result<(), RST::Error> {
        self.0.as_mut().map_or(Ok(()), |p| p.set_high())
    }
}

/// An output pin that is not connected, for panels without a backlight or reset line.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoPin;

impl ErrorType for NoPin {
    type Error = Infallible;
}

impl OutputPin for NoPin {
    fn set_low(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
    fn set_high(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

type Bus<SPI, DC> = DcsBus<SPI, DC>;

enum Driver<SPI: SpiDevice, DC: OutputPin, RST: OutputPin> {
    St7789(mipidsi::Display<Bus<SPI, DC>, ST7789, ResetLine<RST>>),
    Ili9341(mipidsi::Display<Bus<SPI, DC>, ILI9341Rgb565, ResetLine<RST>>),
}

/// A colour SPI panel with an RGB565 framebuffer.
///
/// Generic over the embedded-hal SPI device, the D/C, reset and backlight pins; use
/// [`open_spidev`] on Linux, or [`SpiPanel::new`] with any other implementation (tests use
/// fakes). Drawing never fails (it only touches memory); [`sentio_hal::Display::flush`] does
/// the I/O.
pub struct SpiPanel<SPI, DC, RST = NoPin, BL = NoPin>
where
    SPI: SpiDevice,
    DC: OutputPin,
    RST: OutputPin,
    BL: OutputPin,
{
    driver: Driver<SPI, DC, RST>,
    backlight: Option<BL>,
    framebuffer: Vec<Rgb565>,
    width: u16,
    height: u16,
    device: String,
}

fn init_error<P: embedded_hal::digital::Error>(
    device: &str,
    err: InitError<HalError, P>,
) -> HalError {
    match err {
        InitError::Interface(e) => e,
        InitError::ResetPin(e) => digital_error(device, "cannot drive the reset pin", &e),
        InitError::InvalidConfiguration(c) => HalError::new(
            ErrorKind::Unsupported,
            device,
            format!("mipidsi refused the configuration: {c:?}"),
        )
        .with_help("check the display size, rotation and offset in the board profile"),
    }
}

impl<SPI, DC, RST, BL> SpiPanel<SPI, DC, RST, BL>
where
    SPI: SpiDevice,
    DC: OutputPin,
    RST: OutputPin,
    BL: OutputPin,
{
    /// Resets and initialises the controller, clears the screen to black and switches the
    /// backlight on.
    pub fn new(
        spi: SPI,
        dc: DC,
        reset: Option<RST>,
        backlight: Option<BL>,
        delay: &mut impl DelayNs,
        config: &PanelConfig,
    ) -> Result<Self, HalError> {
        config.validate()?;
        let device = config.device_name.clone();
        let rotation = config.rotation()?;
        let (nw, nh) = config.native_visible_size();
        let mut bus = DcsBus {
            spi,
            dc,
            buf: vec![0; SPI_CHUNK],
            device: device.clone(),
        };
        if reset.is_none() {
            // DCS soft reset; both controllers want 5 ms before the next command, and 120 ms
            // before sleep-out, which the init sequences wait for themselves.
            bus.send_command(0x01, &[])?;
            delay.delay_ms(10);
        }
        let orientation = Orientation::new().rotate(rotation);
        let inversion = if config.invert_colors {
            ColorInversion::Inverted
        } else {
            ColorInversion::Normal
        };
        let order = if config.bgr {
            ColorOrder::Bgr
        } else {
            ColorOrder::Rgb
        };
        let reset = ResetLine(reset);
        let driver = match config.model {
            PanelModel::St7789 => Driver::St7789(
                Builder::new(ST7789, bus)
                    .display_size(nw, nh)
                    .display_offset(config.offset.0, config.offset.1)
                    .orientation(orientation)
                    .invert_colors(inversion)
                    .color_order(order)
                    .reset_pin(reset)
                    .init(delay)
                    .map_err(|e| init_error(&device, e))?,
            ),
            PanelModel::Ili9341 => Driver::Ili9341(
                Builder::new(ILI9341Rgb565, bus)
                    .display_size(nw, nh)
                    .display_offset(config.offset.0, config.offset.1)
                    .orientation(orientation)
                    .invert_colors(inversion)
                    .color_order(order)
                    .reset_pin(reset)
                    .init(delay)
                    .map_err(|e| init_error(&device, e))?,
            ),
        };
        let mut panel = SpiPanel {
            driver,
            backlight,
            framebuffer: vec![
                Rgb565::BLACK;
                usize::from(config.width) * usize::from(config.height)
            ],
            width: config.width,
            height: config.height,
            device,
        };
        sentio_hal::Display::flush(&mut panel)?;
        panel.set_backlight(true)?;
        Ok(panel)
    }

    /// Switches the backlight (when one is wired; active high).
    pub fn set_backlight(&mut self, on: bool) -> Result<(), HalError> {
        if let Some(bl) = self.backlight.as_mut() {
            let r = if on { bl.set_high() } else { bl.set_low() };
            r.map_err(|e| digital_error(&self.device, "cannot drive the backlight pin", &e))?;
        }
        Ok(())
    }

    /// The framebuffer, row by row (what the next flush sends).
    pub fn framebuffer(&self) -> &[Rgb565] {
        &self.framebuffer
    }

    fn index(&self, x: i32, y: i32) -> Option<usize> {
        let (x, y) = (usize::try_from(x).ok()?, usize::try_from(y).ok()?);
        let (w, h) = (usize::from(self.width), usize::from(self.height));
        (x < w && y < h).then_some(y * w + x)
    }
}

impl<SPI, DC, RST, BL> OriginDimensions for SpiPanel<SPI, DC, RST, BL>
where
    SPI: SpiDevice,
    DC: OutputPin,
    RST: OutputPin,
    BL: OutputPin,
{
    fn size(&self) -> Size {
        Size::new(u32::from(self.width), u32::from(self.height))
    }
}

impl<SPI, DC, RST, BL> DrawTarget for SpiPanel<SPI, DC, RST, BL>
where
    SPI: SpiDevice,
    DC: OutputPin,
    RST: OutputPin,
    BL: OutputPin,
{
    type Color = Rgb565;
    type Error = Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Infallible>
    where
        I: IntoIterator<Item = Pixel<Rgb565>>,
    {
        for Pixel(p, color) in pixels {
            if let Some(i) = self.index(p.x, p.y) {
                self.framebuffer[i] = color;
            }
        }
        Ok(())
    }

    fn fill_solid(&mut self, area: &Rectangle, color: Rgb565) -> Result<(), Infallible> {
        let area = area.intersection(&self.bounding_box());
        let Some(bottom_right) = area.bottom_right() else {
            return Ok(());
        };
        let w = usize::from(self.width);
        let (x0, x1) = (area.top_left.x as usize, bottom_right.x as usize);
        for y in area.top_left.y as usize..=bottom_right.y as usize {
            self.framebuffer[y * w + x0..=y * w + x1].fill(color);
        }
        Ok(())
    }

    fn clear(&mut self, color: Rgb565) -> Result<(), Infallible> {
        self.framebuffer.fill(color);
        Ok(())
    }
}

impl<SPI, DC, RST, BL> sentio_hal::Display for SpiPanel<SPI, DC, RST, BL>
where
    SPI: SpiDevice,
    DC: OutputPin,
    RST: OutputPin,
    BL: OutputPin,
{
    fn flush(&mut self) -> Result<(), HalError> {
        let (ex, ey) = (self.width - 1, self.height - 1);
        let pixels = self.framebuffer.iter().copied();
        match &mut self.driver {
            Driver::St7789(d) => d.set_pixels(0, 0, ex, ey, pixels),
            Driver::Ili9341(d) => d.set_pixels(0, 0, ex, ey, pixels),
        }
    }
}

/// An [`SpiPanel`] on Linux spidev with GPIO character-device pins.
pub type LinuxSpiPanel = SpiPanel<SpidevDevice, CdevPin, CdevPin, CdevPin>;

/// Opens a panel on `spi_path` (`/dev/spidev0.0`) at `speed_hz`, with D/C, reset and backlight
/// on lines of `gpio_chip_path` (`/dev/gpiochip0`; line numbers are BCM GPIO numbers on a
/// Raspberry Pi), using the defaults of [`PanelConfig::new`]. `width` x `height` is the size
/// after `rotation_degrees` (clockwise).
#[allow(clippy::too_many_arguments)] // one plain parameter per board-profile field, on purpose
pub fn open_spidev(
    spi_path: impl AsRef<Path>,
    speed_hz: u32,
    gpio_chip_path: impl AsRef<Path>,
    dc: u32,
    reset: Option<u32>,
    backlight: Option<u32>,
    model: PanelModel,
    width: u16,
    height: u16,
    rotation_degrees: u16,
) -> Result<LinuxSpiPanel, HalError> {
    let mut config = PanelConfig::new(model, width, height, rotation_degrees);
    config.device_name = format!(
        "display {} ({} {width}x{height})",
        spi_path.as_ref().display(),
        model.name()
    );
    open_spidev_with(
        spi_path,
        speed_hz,
        gpio_chip_path,
        dc,
        reset,
        backlight,
        &config,
    )
}

/// [`open_spidev`] with a full [`PanelConfig`] (offsets, colour order, inversion, SPI mode).
pub fn open_spidev_with(
    spi_path: impl AsRef<Path>,
    speed_hz: u32,
    gpio_chip_path: impl AsRef<Path>,
    dc: u32,
    reset: Option<u32>,
    backlight: Option<u32>,
    config: &PanelConfig,
) -> Result<LinuxSpiPanel, HalError> {
    config.validate()?;
    let spi_path = spi_path.as_ref();
    let chip = gpio_chip_path.as_ref();
    let device = config.device_name.as_str();
    if speed_hz == 0 {
        return Err(
            HalError::new(ErrorKind::Unsupported, device, "SPI speed 0 Hz").with_help(
                "set the SPI speed in the board profile (for example 40000000 for 40 MHz)",
            ),
        );
    }
    let enable_hint = format!(
        "no SPI device node at {}: enable SPI (`dtparam=spi=on` in /boot/firmware/config.txt on \
         a Raspberry Pi, then reboot); `ls /dev/spidev*` lists the nodes that exist",
        spi_path.display()
    );
    let mut spi = SpidevDevice::open(spi_path).map_err(|e| {
        node_error(
            device,
            "cannot open the SPI device",
            into_io(e),
            &enable_hint,
            "spi",
        )
    })?;
    let mode = match config.spi_mode {
        1 => SpiModeFlags::SPI_MODE_1,
        2 => SpiModeFlags::SPI_MODE_2,
        3 => SpiModeFlags::SPI_MODE_3,
        _ => SpiModeFlags::SPI_MODE_0,
    };
    let options = SpidevOptions::new()
        .bits_per_word(8)
        .max_speed_hz(speed_hz)
        .mode(mode)
        .build();
    spi.configure(&options).map_err(|e| {
        HalError::io(device, "cannot configure the SPI device", e).with_help(
            "the SPI controller refused the mode or speed: check the board profile's SPI speed",
        )
    })?;
    let (dc, _) = request_line(chip, dc, LineRequestFlags::OUTPUT, 0, "display D/C")?;
    let reset = reset
        .map(|line| request_line(chip, line, LineRequestFlags::OUTPUT, 1, "display reset"))
        .transpose()?
        .map(|(pin, _)| pin);
    let backlight = backlight
        .map(|line| request_line(chip, line, LineRequestFlags::OUTPUT, 0, "display backlight"))
        .transpose()?
        .map(|(pin, _)| pin);
    SpiPanel::new(spi, dc, reset, backlight, &mut Delay, config)
}

fn into_io(e: linux_embedded_hal::SPIError) -> std::io::Error {
    let inner = e.inner();
    match inner.raw_os_error() {
        Some(code) => std::io::Error::from_raw_os_error(code),
        None => std::io::Error::new(inner.kind(), inner.to_string()),
    }
}
