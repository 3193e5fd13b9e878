//! OledPanel against a fake I2C bus: the writes ssd1306 sends (control byte 0x00 = commands,
//! 0x40 = data) are fed to an emulation of the SSD1306's page-addressed memory, and the 1-bit
//! picture it shows must equal what was drawn.
#![cfg(feature = "i2c-display")]

mod common;
use common::shown;

use std::sync::{Arc, Mutex};

use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{Circle, PrimitiveStyle, Rectangle};
use embedded_hal::i2c::{self, ErrorType, I2c, NoAcknowledgeSource, Operation};
use sentio_hal::{Display, ErrorKind};
use sentio_linux::OledPanel;

#[derive(Debug, Clone, Copy)]
struct FakeError(i2c::ErrorKind);

impl i2c::Error for FakeError {
    fn kind(&self) -> i2c::ErrorKind {
        self.0
    }
}

/// One I2C write: (address, bytes).
type Write = (u8, Vec<u8>);

/// Records every write; can be told to NACK.
#[derive(Clone, Default)]
struct FakeI2c {
    writes: Arc<Mutex<Vec<Write>>>,
    nack: bool,
}

impl ErrorType for FakeI2c {
    type Error = FakeError;
}

impl I2c for FakeI2c {
    fn transaction(&mut self, address: u8, ops: &mut [Operation<'_>]) -> Result<(), FakeError> {
        if self.nack {
            return Err(FakeError(i2c::ErrorKind::NoAcknowledge(
                NoAcknowledgeSource::Address,
            )));
        }
        for op in ops {
            match op {
                Operation::Write(bytes) => {
                    self.writes.lock().unwrap().push((address, bytes.to_vec()));
                }
                Operation::Read(_) => panic!("the SSD1306 driver never reads"),
            }
        }
        Ok(())
    }
}

/// The SSD1306 as far as drawing goes: 128 columns x 8 pages of 8 rows, horizontal addressing,
/// segment remap (A0/A1) and COM scan direction (C0/C8).
struct Ssd1306Emu {
    ram: [[u8; 128]; 8],
    mux: usize,
    seg_remap: bool,
    com_reverse: bool,
    horizontal: bool,
    cols: (usize, usize),
    pages: (usize, usize),
    col: usize,
    page: usize,
    on: bool,
    inverted: bool,
    data_bytes: usize,
}

impl Ssd1306Emu {
    fn new() -> Self {
        Ssd1306Emu {
            // Power-on memory is random: start from a pattern a missed write would show.
            ram: [[0xA5; 128]; 8],
            mux: 64,
            seg_remap: false,
            com_reverse: false,
            horizontal: false,
            cols: (0, 127),
            pages: (0, 7),
            col: 0,
            page: 0,
            on: false,
            inverted: false,
            data_bytes: 0,
        }
    }

    fn feed(&mut self, writes: &[Write], address: u8) {
        for (addr, bytes) in writes {
            assert_eq!(*addr, address);
            match bytes.split_first() {
                Some((0x00, cmds)) => self.commands(cmds),
                Some((0x40, data)) => data.iter().for_each(|&b| self.data(b)),
                other => panic!("bad control byte in {other:?}"),
            }
        }
    }

    fn commands(&mut self, cmds: &[u8]) {
        let mut it = cmds.iter().copied();
        while let Some(c) = it.next() {
            let mut arg = || it.next().expect("command argument missing");
            match c {
                0xAE => self.on = false,
                0xAF => self.on = true,
                0xA6 => self.inverted = false,
                0xA7 => self.inverted = true,
                0xA4 | 0xA5 | 0x2E => {}
                0xA0 => self.seg_remap = false,
                0xA1 => self.seg_remap = true,
                0xC0 => self.com_reverse = false,
                0xC8 => self.com_reverse = true,
                0xA8 => self.mux = usize::from(arg()) + 1,
                0xD3 => assert_eq!(arg(), 0, "display offset"),
                0x40 => {} // start line 0
                0x41..=0x7F => panic!("start line {} not modelled", c - 0x40),
                0xD5 | 0x8D | 0xDA | 0x81 | 0xD9 | 0xDB => {
                    arg();
                }
                0x20 => self.horizontal = arg() == 0,
                0x21 => {
                    self.cols = (usize::from(arg()), usize::from(arg()));
                    self.col = self.cols.0;
                }
                0x22 => {
                    self.pages = (usize::from(arg()), usize::from(arg()));
                    self.page = self.pages.0;
                }
                other => panic!("command {other:#04x} not modelled"),
            }
        }
    }

    fn data(&mut self, b: u8) {
        assert!(self.horizontal, "data in page addressing mode");
        self.ram[self.page][self.col] = b;
        self.data_bytes += 1;
        self.col += 1;
        if self.col > self.cols.1 {
            self.col = self.cols.0;
            self.page += 1;
            if self.page > self.pages.1 {
                self.page = self.pages.0;
            }
        }
    }

    fn ram_pixel(&self, col: usize, row: usize) -> bool {
        self.ram[row / 8][col] >> (row % 8) & 1 == 1
    }

    /// The picture on the glass, as the module is mounted (A1 + C8 shows memory upright, the
    /// orientation ssd1306 calls Rotate0), turned back by the clockwise rotation.
    fn picture(&self, rotation: u16) -> Vec<bool> {
        let (gw, gh) = (128, self.mux);
        let glass = |vx: usize, vy: usize| {
            let col = if self.seg_remap { vx } else { 127 - vx };
            let row = if self.com_reverse { vy } else { gh - 1 - vy };
            self.ram_pixel(col, row) != self.inverted
        };
        let (w, h) = if rotation.is_multiple_of(180) {
            (gw, gh)
        } else {
            (gh, gw)
        };
        let mut out = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                let (c, r) = match rotation {
                    0 => (x, y),
                    90 => (gw - 1 - y, x),
                    180 => (gw - 1 - x, gh - 1 - y),
                    270 => (y, gh - 1 - x),
                    _ => unreachable!(),
                };
                out.push(glass(c, r));
            }
        }
        out
    }
}

/// Draws an asymmetric scene; returns the expected bits.
fn draw_scene(panel: &mut OledPanel<FakeI2c>) -> Vec<bool> {
    let Size { width, height } = panel.size();
    let (w, h) = (width as i32, height as i32);
    let mut expected = vec![false; (w * h) as usize];
    let mut set = |x: i32, y: i32, on: bool| {
        if (0..w).contains(&x) && (0..h).contains(&y) {
            expected[(y * w + x) as usize] = on;
        }
    };
    // A pattern that changes under any mirror or transpose.
    let pattern = |x: i32, y: i32| (x * 7 + y * 3) % 5 == 0 || x == 2 * y;
    panel
        .draw_iter((0..h).flat_map(|y| {
            (0..w).map(move |x| Pixel(Point::new(x, y), BinaryColor::from(pattern(x, y))))
        }))
        .unwrap();
    for y in 0..h {
        for x in 0..w {
            set(x, y, pattern(x, y));
        }
    }
    Rectangle::new(Point::new(w - 9, 2), Size::new(20, 5))
        .into_styled(PrimitiveStyle::with_fill(BinaryColor::On))
        .draw(panel)
        .unwrap();
    for y in 2..7 {
        for x in w - 9..w {
            set(x, y, true);
        }
    }
    Rectangle::new(Point::new(1, h - 4), Size::new(6, 4))
        .into_styled(PrimitiveStyle::with_fill(BinaryColor::Off))
        .draw(panel)
        .unwrap();
    for y in h - 4..h {
        for x in 1..7 {
            set(x, y, false);
        }
    }
    expected
}

fn check(width: u32, height: u32, rotation: u16) {
    let label = format!("{width}x{height} rotation {rotation}");
    let bus = FakeI2c::default();
    let mut panel = OledPanel::new(bus.clone(), 0x3C, width, height, rotation)
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    let (w, h) = if rotation.is_multiple_of(180) {
        (width, height)
    } else {
        (height, width)
    };
    assert_eq!(panel.size(), Size::new(w, h), "{label}");

    let mut emu = Ssd1306Emu::new();
    emu.feed(&bus.writes.lock().unwrap(), 0x3C);
    assert!(emu.on && !emu.inverted, "{label}");
    assert_eq!(emu.mux, height as usize, "{label}");
    assert_eq!(
        emu.picture(rotation),
        vec![false; (w * h) as usize],
        "{label}: not cleared"
    );

    let expected = draw_scene(&mut panel);
    bus.writes.lock().unwrap().clear();
    panel.flush().unwrap();
    emu.feed(&bus.writes.lock().unwrap(), 0x3C);
    assert_eq!(emu.picture(rotation), expected, "{label}: full frame");

    // A small change sends only the dirty part, and the picture still matches.
    let mut expected = expected;
    Circle::new(Point::new(10, 12), 9)
        .into_styled(PrimitiveStyle::with_fill(BinaryColor::On))
        .draw(&mut panel)
        .unwrap();
    for p in Circle::new(Point::new(10, 12), 9)
        .into_styled(PrimitiveStyle::with_fill(BinaryColor::On))
        .pixels()
    {
        expected[(p.0.y as u32 * w + p.0.x as u32) as usize] = true;
    }
    bus.writes.lock().unwrap().clear();
    emu.data_bytes = 0;
    panel.flush().unwrap();
    emu.feed(&bus.writes.lock().unwrap(), 0x3C);
    assert!(
        emu.data_bytes < (width * height / 8) as usize,
        "{label}: partial flush sent {} bytes",
        emu.data_bytes
    );
    assert_eq!(
        emu.picture(rotation),
        expected,
        "{label}: after partial flush"
    );
}

#[test]
fn ssd1306_128x64_all_rotations() {
    for rotation in [0, 90, 180, 270] {
        check(128, 64, rotation);
    }
}

#[test]
fn ssd1306_128x32_rotations() {
    for rotation in [0, 90, 180, 270] {
        check(128, 32, rotation);
    }
}

#[test]
fn clear_and_data_control_bytes() {
    // Every write is either commands (0x00) or data (0x40), and all go to the given address.
    let bus = FakeI2c::default();
    let mut panel = OledPanel::new(bus.clone(), 0x3D, 128, 64, 0).unwrap();
    panel.clear(BinaryColor::On).unwrap();
    panel.flush().unwrap();
    let writes = bus.writes.lock().unwrap();
    assert!(
        writes
            .iter()
            .all(|(a, b)| *a == 0x3D && matches!(b[0], 0x00 | 0x40))
    );
    let mut emu = Ssd1306Emu::new();
    emu.feed(&writes, 0x3D);
    assert!(emu.picture(0).iter().all(|&on| on));
}

#[test]
fn no_answer_on_the_bus_is_a_clear_error() {
    let bus = FakeI2c {
        nack: true,
        ..FakeI2c::default()
    };
    let err = match OledPanel::new(bus, 0x3C, 128, 64, 0) {
        Ok(_) => panic!("a bus that never acknowledges gave a panel"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let text = shown(&err);
    assert!(
        text.contains("0x3c") && text.contains("i2cdetect"),
        "{text}"
    );
}

#[test]
fn unsupported_size_and_rotation_are_refused() {
    let err = OledPanel::new(FakeI2c::default(), 0x3C, 96, 16, 0)
        .err()
        .unwrap();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    let err = OledPanel::new(FakeI2c::default(), 0x3C, 128, 64, 45)
        .err()
        .unwrap();
    assert!(shown(&err).contains("0, 90, 180 or 270"), "{err}");
    // 64x128 is the drawn size of a 128x64 panel turned a quarter, but not at rotation 0.
    let panel = OledPanel::new(FakeI2c::default(), 0x3C, 64, 128, 270).unwrap();
    assert_eq!(panel.size(), Size::new(64, 128));
    assert!(OledPanel::new(FakeI2c::default(), 0x3C, 64, 128, 0).is_err());
}

#[test]
fn missing_i2c_bus_is_a_clear_error() {
    let err = match sentio_linux::open_i2cdev("/dev/i2c-sentio-missing", 0x3C, 128, 64, 0) {
        Ok(_) => panic!("opened a bus that does not exist"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let text = shown(&err);
    assert!(text.contains("/dev/i2c-sentio-missing"), "{text}");
    assert!(text.contains("dtparam=i2c_arm=on"), "{text}");
}
