use std::path::{Path, PathBuf};

use embedded_graphics::Pixel;
use embedded_graphics::draw_target::DrawTarget;
use embedded_graphics::geometry::{Dimensions, OriginDimensions, Size};
use embedded_graphics::primitives::Rectangle;
use image::RgbImage;

use crate::color::ToRgb888;
use crate::{Display, ErrorKind, HalError};

/// Where and how often a [`SimDisplay`] writes its flushed frames as PNG files.
#[derive(Clone, Debug)]
pub struct FrameSaver {
    dir: PathBuf,
    every: u32,
}

impl FrameSaver {
    /// Saves every `every`-th flush (1 = all of them) as `dir/frame_NNNNN.png`, NNNNN being the
    /// flush number from 1. `dir/latest.png` is rewritten with each saved frame and, when the
    /// display is dropped, with the last flushed frame, so it always ends as the final screen.
    pub fn new(dir: impl Into<PathBuf>, every: u32) -> Self {
        FrameSaver {
            dir: dir.into(),
            every: every.max(1),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// A panel simulated by an in-memory framebuffer: `SimDisplay<Rgb565>` for colour SPI panels,
/// `SimDisplay<BinaryColor>` for 1-bit OLEDs. Drawing outside the panel is clipped, as on a
/// real one.
pub struct SimDisplay<C: ToRgb888> {
    size: Size,
    pixels: Vec<C>,
    flushes: u32,
    saver: Option<FrameSaver>,
    /// The flush whose frame `latest.png` holds.
    latest_saved: u32,
}

impl<C: ToRgb888 + Default> SimDisplay<C> {
    /// A blank (all-default-colour, i.e. black) panel of `width` x `height`.
    pub fn new(width: u32, height: u32) -> Self {
        SimDisplay {
            size: Size::new(width, height),
            pixels: vec![C::default(); width as usize * height as usize],
            flushes: 0,
            saver: None,
            latest_saved: 0,
        }
    }

    /// Creates `saver`'s folder and saves frames there from now on.
    pub fn save_frames(mut self, saver: FrameSaver) -> Result<Self, HalError> {
        std::fs::create_dir_all(&saver.dir).map_err(|e| {
            HalError::io(
                format!("sim display {}", saver.dir.display()),
                "cannot create the folder",
                e,
            )
        })?;
        self.saver = Some(saver);
        Ok(self)
    }

    /// The colour at (x, y), or `None` outside the panel.
    pub fn pixel(&self, x: u32, y: u32) -> Option<C> {
        (x < self.size.width && y < self.size.height)
            .then(|| self.pixels[(y * self.size.width + x) as usize])
    }

    /// All pixels, row by row.
    pub fn pixels(&self) -> &[C] {
        &self.pixels
    }

    /// How many times the panel was flushed.
    pub fn flushes(&self) -> u32 {
        self.flushes
    }
}

impl<C: ToRgb888> SimDisplay<C> {
    /// The framebuffer as an RGB image (what a person would see).
    pub fn to_rgb_image(&self) -> RgbImage {
        let mut img = RgbImage::new(self.size.width, self.size.height);
        for (dst, &c) in img.pixels_mut().zip(&self.pixels) {
            *dst = image::Rgb(c.to_rgb888());
        }
        img
    }

    /// Writes the framebuffer as a PNG. The file appears whole or not at all
    /// ([`sentio_files::write_bytes_atomically`]), so a viewer never opens half a frame.
    pub fn save_png(&self, path: &Path) -> Result<(), HalError> {
        let png = self.png_bytes(path)?;
        write_png(path, &png)
    }

    /// The framebuffer encoded as a PNG file (`path` only names it in an error).
    fn png_bytes(&self, path: &Path) -> Result<Vec<u8>, HalError> {
        let mut png = std::io::Cursor::new(Vec::new());
        self.to_rgb_image()
            .write_to(&mut png, image::ImageFormat::Png)
            .map_err(|e| {
                HalError::new(
                    ErrorKind::Io,
                    format!("sim display {}", path.display()),
                    format!("cannot write PNG: {e}"),
                )
            })?;
        Ok(png.into_inner())
    }
}

fn write_png(path: &Path, png: &[u8]) -> Result<(), HalError> {
    sentio_files::write_bytes_atomically(path, png).map_err(|e| {
        HalError::io(
            format!("sim display {}", path.display()),
            "cannot write PNG",
            e,
        )
    })
}

impl<C: ToRgb888 + Default> OriginDimensions for SimDisplay<C> {
    fn size(&self) -> Size {
        self.size
    }
}

impl<C: ToRgb888 + Default> DrawTarget for SimDisplay<C> {
    type Color = C;
    type Error = core::convert::Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Self::Color>>,
    {
        let (w, h) = (self.size.width as i32, self.size.height as i32);
        for Pixel(p, c) in pixels {
            if (0..w).contains(&p.x) && (0..h).contains(&p.y) {
                self.pixels[(p.y * w + p.x) as usize] = c;
            }
        }
        Ok(())
    }

    fn fill_solid(&mut self, area: &Rectangle, color: Self::Color) -> Result<(), Self::Error> {
        let area = area.intersection(&self.bounding_box());
        let Some(bottom_right) = area.bottom_right() else {
            return Ok(());
        };
        let w = self.size.width as usize;
        for y in area.top_left.y..=bottom_right.y {
            let row = y as usize * w;
            self.pixels[row + area.top_left.x as usize..=row + bottom_right.x as usize].fill(color);
        }
        Ok(())
    }
}

impl<C: ToRgb888 + Default> Display for SimDisplay<C> {
    fn flush(&mut self) -> Result<(), HalError> {
        self.flushes += 1;
        if let Some(saver) = self
            .saver
            .as_ref()
            .filter(|s| self.flushes.is_multiple_of(s.every))
        {
            let frame = saver.dir.join(format!("frame_{:05}.png", self.flushes));
            let png = self.png_bytes(&frame)?;
            write_png(&frame, &png)?;
            write_png(&saver.dir.join("latest.png"), &png)?;
            self.latest_saved = self.flushes;
        }
        Ok(())
    }
}

impl<C: ToRgb888> Drop for SimDisplay<C> {
    fn drop(&mut self) {
        // Bring latest.png up to the last flushed frame. Best effort: a destructor has no one to
        // report to, and the numbered frames are already on disk.
        if let Some(saver) = self
            .saver
            .as_ref()
            .filter(|_| self.latest_saved != self.flushes)
        {
            let _ = self.save_png(&saver.dir.join("latest.png"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_graphics::pixelcolor::{BinaryColor, Rgb565, RgbColor};
    use embedded_graphics::prelude::*;
    use embedded_graphics::primitives::PrimitiveStyle;

    #[test]
    fn draws_clips_and_fills() {
        let mut d = SimDisplay::<Rgb565>::new(10, 8);
        Rectangle::new(Point::new(-2, -2), Size::new(5, 5))
            .into_styled(PrimitiveStyle::with_fill(Rgb565::RED))
            .draw(&mut d)
            .unwrap();
        Pixel(Point::new(9, 7), Rgb565::GREEN).draw(&mut d).unwrap();
        Pixel(Point::new(10, 7), Rgb565::GREEN)
            .draw(&mut d)
            .unwrap(); // clipped
        assert_eq!(d.pixel(0, 0), Some(Rgb565::RED));
        assert_eq!(d.pixel(2, 2), Some(Rgb565::RED));
        assert_eq!(d.pixel(3, 3), Some(Rgb565::BLACK));
        assert_eq!(d.pixel(9, 7), Some(Rgb565::GREEN));
        assert_eq!(d.pixel(10, 7), None);
    }

    #[test]
    fn saves_png_every_n_flushes_and_latest() {
        let dir = tempfile::tempdir().unwrap();
        let mut d = SimDisplay::<BinaryColor>::new(16, 8)
            .save_frames(FrameSaver::new(dir.path().join("frames"), 2))
            .unwrap();
        Pixel(Point::new(3, 4), BinaryColor::On)
            .draw(&mut d)
            .unwrap();
        for _ in 0..5 {
            d.flush().unwrap();
        }
        let mut names: Vec<String> = std::fs::read_dir(dir.path().join("frames"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["frame_00002.png", "frame_00004.png", "latest.png"]);
        let img = image::open(dir.path().join("frames/latest.png"))
            .unwrap()
            .to_rgb8();
        assert_eq!(img.dimensions(), (16, 8));
        assert_eq!(img.get_pixel(3, 4).0, [255, 255, 255]);
        assert_eq!(img.get_pixel(4, 4).0, [0, 0, 0]);
    }

    #[test]
    fn rgb565_png_round_trips_colours() {
        let dir = tempfile::tempdir().unwrap();
        let mut d = SimDisplay::<Rgb565>::new(4, 4);
        d.clear(Rgb565::BLUE).unwrap();
        let path = dir.path().join("a.png");
        d.save_png(&path).unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        assert_eq!(img.get_pixel(1, 1).0, [0, 0, 255]);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["a.png"], "no temporary file left");
    }
}
