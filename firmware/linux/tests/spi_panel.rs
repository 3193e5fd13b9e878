//! SpiPanel against a fake SPI bus: the bytes mipidsi sends are fed to a small emulation of a
//! MIPI DCS controller (CASET, RASET, RAMWR, MADCTL, COLMOD, INVON), and the picture it ends up
//! showing must equal what was drawn, pixel for pixel.
#![cfg(feature = "spi-display")]

mod common;
use common::shown;

use std::cell::RefCell;
use std::convert::Infallible;
use std::rc::Rc;

use embedded_graphics::pixelcolor::{Rgb565, RgbColor};
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{PrimitiveStyle, Rectangle};
use embedded_hal::delay::DelayNs;
use embedded_hal::digital::{ErrorType as PinErrorType, OutputPin};
use embedded_hal::spi::{ErrorType as SpiErrorType, Operation, SpiDevice};
use sentio_hal::{Display, ErrorKind};
use sentio_linux::spi_panel::SPI_CHUNK;
use sentio_linux::{PanelConfig, PanelModel, SpiPanel};

/// Everything that happened on the wires, in order.
#[derive(Default)]
struct Wire {
    dc_high: bool,
    /// (D/C level, bytes of one SPI write)
    writes: Vec<(bool, Vec<u8>)>,
    /// (pin, level) for the reset and backlight pins
    pins: Vec<(&'static str, bool)>,
}

type Shared = Rc<RefCell<Wire>>;

struct FakeSpi(Shared);

impl SpiErrorType for FakeSpi {
    type Error = Infallible;
}

impl SpiDevice for FakeSpi {
    fn transaction(&mut self, operations: &mut [Operation<'_, u8>]) -> Result<(), Infallible> {
        let mut wire = self.0.borrow_mut();
        for op in operations {
            match op {
                Operation::Write(bytes) => {
                    let dc = wire.dc_high;
                    wire.writes.push((dc, bytes.to_vec()));
                }
                Operation::DelayNs(_) => {}
                other => panic!("a display only writes, got {other:?}"),
            }
        }
        Ok(())
    }
}

struct FakeDc(Shared);

impl PinErrorType for FakeDc {
    type Error = Infallible;
}

impl OutputPin for FakeDc {
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.0.borrow_mut().dc_high = false;
        Ok(())
    }
    fn set_high(&mut self) -> Result<(), Infallible> {
        self.0.borrow_mut().dc_high = true;
        Ok(())
    }
}

struct FakePin(Shared, &'static str);

impl PinErrorType for FakePin {
    type Error = Infallible;
}

impl OutputPin for FakePin {
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.0.borrow_mut().pins.push((self.1, false));
        Ok(())
    }
    fn set_high(&mut self) -> Result<(), Infallible> {
        self.0.borrow_mut().pins.push((self.1, true));
        Ok(())
    }
}

struct NoDelay;

impl DelayNs for NoDelay {
    fn delay_ns(&mut self, _ns: u32) {}
}

/// A MIPI DCS controller with a 240x320 RGB565 memory (ST7789 and ILI9341 both are).
///
/// Addressing follows the datasheets' MADCTL: the window is set in the host's (x, y); with MV
/// the two are exchanged, then MX mirrors the memory column and MY the memory row.
struct Controller {
    mem: Vec<Option<u16>>,
    madctl: u8,
    colmod: u8,
    inverted: bool,
    awake: bool,
    display_on: bool,
    caset: (u16, u16),
    raset: (u16, u16),
    cmd: Option<u8>,
    params: Vec<u8>,
    x: u16,
    y: u16,
    half_pixel: Option<u8>,
    commands: Vec<u8>,
    pixel_bytes: usize,
}

const MEM_W: usize = 240;
const MEM_H: usize = 320;

impl Controller {
    fn new() -> Self {
        Controller {
            mem: vec![None; MEM_W * MEM_H],
            madctl: 0,
            colmod: 0,
            inverted: false,
            awake: false,
            display_on: false,
            caset: (0, MEM_W as u16 - 1),
            raset: (0, MEM_H as u16 - 1),
            cmd: None,
            params: Vec::new(),
            x: 0,
            y: 0,
            half_pixel: None,
            commands: Vec::new(),
            pixel_bytes: 0,
        }
    }

    fn feed(&mut self, writes: &[(bool, Vec<u8>)]) {
        for (dc_high, bytes) in writes {
            for &b in bytes {
                if *dc_high {
                    self.data(b);
                } else {
                    self.command(b);
                }
            }
        }
    }

    fn command(&mut self, c: u8) {
        assert!(
            self.half_pixel.is_none(),
            "command {c:#04x} in the middle of a pixel"
        );
        self.cmd = Some(c);
        self.params.clear();
        self.commands.push(c);
        match c {
            0x01 => {
                let mem = std::mem::take(&mut self.mem);
                *self = Controller {
                    mem,
                    commands: std::mem::take(&mut self.commands),
                    ..Controller::new()
                };
            }
            0x11 => self.awake = true,
            0x20 => self.inverted = false,
            0x21 => self.inverted = true,
            0x29 => self.display_on = true,
            0x2C => {
                self.x = self.caset.0;
                self.y = self.raset.0;
            }
            _ => {}
        }
    }

    fn data(&mut self, b: u8) {
        let Some(cmd) = self.cmd else {
            panic!("data byte {b:#04x} before any command");
        };
        match cmd {
            0x2A | 0x2B => {
                self.params.push(b);
                if self.params.len() == 4 {
                    let p = &self.params;
                    let range = (
                        u16::from_be_bytes([p[0], p[1]]),
                        u16::from_be_bytes([p[2], p[3]]),
                    );
                    assert!(range.0 <= range.1, "empty window {range:?}");
                    if cmd == 0x2A {
                        self.caset = range;
                    } else {
                        self.raset = range;
                    }
                }
            }
            0x36 => self.madctl = b,
            0x3A => self.colmod = b,
            0x2C => match self.half_pixel.take() {
                None => self.half_pixel = Some(b),
                Some(hi) => self.pixel(u16::from_be_bytes([hi, b])),
            },
            _ => self.params.push(b),
        }
    }

    fn pixel(&mut self, value: u16) {
        assert_eq!(self.colmod & 0x07, 0x05, "pixels sent before COLMOD 16 bit");
        self.pixel_bytes += 2;
        let (mv, mx, my) = (
            self.madctl & 0x20 != 0,
            self.madctl & 0x40 != 0,
            self.madctl & 0x80 != 0,
        );
        let (x, y) = (usize::from(self.x), usize::from(self.y));
        let (mut col, mut row) = if mv { (y, x) } else { (x, y) };
        assert!(
            col < MEM_W && row < MEM_H,
            "write outside memory at {x},{y}"
        );
        if mx {
            col = MEM_W - 1 - col;
        }
        if my {
            row = MEM_H - 1 - row;
        }
        self.mem[row * MEM_W + col] = Some(value);
        self.x += 1;
        if self.x > self.caset.1 {
            self.x = self.caset.0;
            self.y += 1;
            if self.y > self.raset.1 {
                self.y = self.raset.0;
            }
        }
    }

    /// The picture as drawn: the visible part of memory (`native` size at `offset`, in the
    /// controller's portrait orientation) turned back by the clockwise `rotation`.
    fn picture(&self, native: (usize, usize), offset: (usize, usize), rotation: u16) -> Vec<u16> {
        let (nw, nh) = native;
        let (w, h) = if rotation.is_multiple_of(180) {
            (nw, nh)
        } else {
            (nh, nw)
        };
        let mut out = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                // Where the content's (x, y) lands on the glass after a clockwise rotation.
                let (c, r) = match rotation {
                    0 => (x, y),
                    90 => (nw - 1 - y, x),
                    180 => (nw - 1 - x, nh - 1 - y),
                    270 => (y, nh - 1 - x),
                    _ => unreachable!(),
                };
                let cell = self.mem[(offset.1 + r) * MEM_W + offset.0 + c];
                out.push(cell.unwrap_or_else(|| panic!("pixel ({x},{y}) was never written")));
            }
        }
        out
    }
}

fn raw(c: Rgb565) -> u16 {
    c.into_storage()
}

/// A colour that differs between neighbours and between mirrored/transposed positions.
fn pattern(x: u32, y: u32) -> Rgb565 {
    Rgb565::new(
        (x % 32) as u8,
        ((x / 32 + 7 * y) % 64) as u8,
        ((y + 3 * x / 7) % 32) as u8,
    )
}

/// Draws the test scene through the DrawTarget API and returns what it should look like.
fn draw_scene<D>(panel: &mut D) -> Vec<u16>
where
    D: DrawTarget<Color = Rgb565, Error = Infallible> + OriginDimensions,
{
    let size = panel.size();
    let (w, h) = (size.width, size.height);
    let mut expected: Vec<u16> = Vec::with_capacity((w * h) as usize);
    for y in 0..h {
        for x in 0..w {
            expected.push(raw(pattern(x, y)));
        }
    }
    // fill_contiguous over the whole area.
    let colors = (0..h).flat_map(|y| (0..w).map(move |x| pattern(x, y)));
    panel
        .fill_contiguous(&Rectangle::new(Point::zero(), size), colors)
        .unwrap();
    // fill_solid with an area hanging over the bottom-right corner.
    Rectangle::new(Point::new(w as i32 - 20, h as i32 - 10), Size::new(50, 50))
        .into_styled(PrimitiveStyle::with_fill(Rgb565::RED))
        .draw(panel)
        .unwrap();
    for y in h - 10..h {
        for x in w - 20..w {
            expected[(y * w + x) as usize] = raw(Rgb565::RED);
        }
    }
    // Single pixels in the corners, and some off the panel that must be ignored.
    let marks = [
        (0, 0, Rgb565::WHITE),
        (w as i32 - 1, 0, Rgb565::GREEN),
        (0, h as i32 - 1, Rgb565::BLUE),
        (3, 1, Rgb565::YELLOW),
    ];
    let off = [(-1, 0), (0, -1), (w as i32, 5), (5, h as i32)];
    panel
        .draw_iter(
            marks
                .iter()
                .map(|&(x, y, c)| Pixel(Point::new(x, y), c))
                .chain(
                    off.iter()
                        .map(|&(x, y)| Pixel(Point::new(x, y), Rgb565::CYAN)),
                ),
        )
        .unwrap();
    for (x, y, c) in marks {
        expected[(y as u32 * w + x as u32) as usize] = raw(c);
    }
    expected
}

struct Case {
    model: PanelModel,
    width: u16,
    height: u16,
    rotation: u16,
}

fn run_case(case: &Case, with_reset: bool) {
    let wire: Shared = Rc::default();
    let config = PanelConfig::new(case.model, case.width, case.height, case.rotation);
    let reset = with_reset.then(|| FakePin(wire.clone(), "reset"));
    let mut panel = SpiPanel::new(
        FakeSpi(wire.clone()),
        FakeDc(wire.clone()),
        reset,
        Some(FakePin(wire.clone(), "backlight")),
        &mut NoDelay,
        &config,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let label = format!(
        "{:?} {}x{} rotation {}",
        case.model, case.width, case.height, case.rotation
    );
    assert_eq!(
        panel.size(),
        Size::new(u32::from(case.width), u32::from(case.height)),
        "{label}"
    );

    // Reset: a pulse on the pin, or the DCS soft reset as the very first command.
    let mut ctl = Controller::new();
    {
        let w = wire.borrow();
        if with_reset {
            assert_eq!(
                &w.pins[..2],
                &[("reset", false), ("reset", true)],
                "{label}"
            );
        } else {
            assert_eq!(w.writes.first(), Some(&(false, vec![0x01])), "{label}");
        }
        // The backlight comes on last, after the screen was cleared.
        assert_eq!(w.pins.last(), Some(&("backlight", true)), "{label}");
        ctl.feed(&w.writes);
    }
    assert!(ctl.awake && ctl.display_on, "{label}: not woken up");
    assert_eq!(ctl.inverted, config.invert_colors, "{label}");
    assert_eq!(ctl.madctl & 0x08 != 0, config.bgr, "{label}: BGR bit");
    let native = if case.rotation.is_multiple_of(180) {
        (usize::from(case.width), usize::from(case.height))
    } else {
        (usize::from(case.height), usize::from(case.width))
    };
    let black = vec![0u16; usize::from(case.width) * usize::from(case.height)];
    assert_eq!(
        ctl.picture(native, (0, 0), case.rotation),
        black,
        "{label}: not cleared"
    );

    // Draw, flush, and look at what the controller shows.
    wire.borrow_mut().writes.clear();
    let expected = draw_scene(&mut panel);
    assert_eq!(
        panel
            .framebuffer()
            .iter()
            .map(|&c| raw(c))
            .collect::<Vec<_>>(),
        expected,
        "{label}: framebuffer"
    );
    panel.flush().unwrap();
    let before = ctl.commands.len();
    let writes = std::mem::take(&mut wire.borrow_mut().writes);
    ctl.feed(&writes);
    // One window over the full area, one memory write.
    assert_eq!(&ctl.commands[before..], &[0x2A, 0x2B, 0x2C], "{label}");
    let (w, h) = (case.width, case.height);
    assert_eq!(
        ctl.pixel_bytes,
        2 * 2 * usize::from(w) * usize::from(h),
        "{label}"
    );
    assert!(
        writes.iter().all(|(_, b)| b.len() <= SPI_CHUNK),
        "{label}: a transfer exceeds spidev's buffer"
    );
    let shown = ctl.picture(native, (0, 0), case.rotation);
    if shown != expected {
        let first = shown
            .iter()
            .zip(&expected)
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        let (x, y) = (first % usize::from(w), first / usize::from(w));
        panic!(
            "{label}: first difference at ({x},{y}): shown {:#06x}, drawn {:#06x}",
            shown[first], expected[first]
        );
    }
}

#[test]
fn st7789_240x240_all_rotations() {
    for rotation in [0, 90, 180, 270] {
        let case = Case {
            model: PanelModel::St7789,
            width: 240,
            height: 240,
            rotation,
        };
        run_case(&case, rotation.is_multiple_of(180));
    }
}

#[test]
fn st7789_240x320_portrait_and_landscape() {
    run_case(
        &Case {
            model: PanelModel::St7789,
            width: 240,
            height: 320,
            rotation: 0,
        },
        true,
    );
    run_case(
        &Case {
            model: PanelModel::St7789,
            width: 320,
            height: 240,
            rotation: 90,
        },
        false,
    );
}

#[test]
fn ili9341_320x240_landscape_both_ways_and_portrait() {
    for rotation in [90, 270] {
        let case = Case {
            model: PanelModel::Ili9341,
            width: 320,
            height: 240,
            rotation,
        };
        run_case(&case, true);
    }
    run_case(
        &Case {
            model: PanelModel::Ili9341,
            width: 240,
            height: 320,
            rotation: 180,
        },
        false,
    );
}

#[test]
fn st7789_with_offset_lands_in_the_right_memory() {
    // A 135x240 module: the glass starts at column 52, row 40 of the controller memory.
    let wire: Shared = Rc::default();
    let mut config = PanelConfig::new(PanelModel::St7789, 240, 135, 90);
    config.offset = (52, 40);
    let mut panel = SpiPanel::new(
        FakeSpi(wire.clone()),
        FakeDc(wire.clone()),
        None::<FakePin>,
        None::<FakePin>,
        &mut NoDelay,
        &config,
    )
    .unwrap();
    let expected = draw_scene(&mut panel);
    panel.flush().unwrap();
    let mut ctl = Controller::new();
    ctl.feed(&wire.borrow().writes);
    assert_eq!(ctl.picture((135, 240), (52, 40), 90), expected);
}

#[test]
fn impossible_geometry_is_refused_before_any_io() {
    let wire: Shared = Rc::default();
    let config = PanelConfig::new(PanelModel::Ili9341, 320, 240, 0);
    let err = match SpiPanel::new(
        FakeSpi(wire.clone()),
        FakeDc(wire.clone()),
        None::<FakePin>,
        None::<FakePin>,
        &mut NoDelay,
        &config,
    ) {
        Ok(_) => panic!("a 320x240 ILI9341 at rotation 0 cannot exist"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(shown(&err).contains("rotation 90 or 270"), "{err}");
    assert!(wire.borrow().writes.is_empty());

    let config = PanelConfig::new(PanelModel::St7789, 240, 240, 45);
    let err = config.validate().unwrap_err();
    assert!(shown(&err).contains("0, 90, 180 or 270"), "{err}");
}

#[test]
fn missing_spidev_is_a_clear_error() {
    let err = match sentio_linux::open_spidev(
        "/dev/spidev-sentio-missing",
        40_000_000,
        "/dev/gpiochip0",
        25,
        Some(27),
        Some(24),
        PanelModel::St7789,
        240,
        240,
        0,
    ) {
        Ok(_) => panic!("opened a SPI device that does not exist"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let text = shown(&err);
    assert!(text.contains("/dev/spidev-sentio-missing"), "{text}");
    assert!(text.contains("dtparam=spi=on"), "{text}");
}
