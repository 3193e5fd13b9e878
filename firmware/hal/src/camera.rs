//! Cameras: anything that hands out frames of a fixed size and pixel format.

use std::time::Duration;

use crate::HalError;

/// How the bytes of a [`Frame`] are laid out. Rows are packed, top row first, no padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    /// Three bytes per pixel: red, green, blue.
    Rgb888,
    /// One byte per pixel, luma.
    Gray8,
}

impl PixelFormat {
    pub fn bytes_per_pixel(self) -> usize {
        match self {
            PixelFormat::Rgb888 => 3,
            PixelFormat::Gray8 => 1,
        }
    }
}

/// The stream a camera delivers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FrameFormat {
    pub width: u32,
    pub height: u32,
    pub pixel_format: PixelFormat,
    /// Nominal frames per second (at least 1).
    pub fps: u32,
}

impl FrameFormat {
    /// Bytes in one frame of this format.
    pub fn frame_len(&self) -> usize {
        self.width as usize * self.height as usize * self.pixel_format.bytes_per_pixel()
    }

    /// Time between two frames at the nominal rate.
    pub fn frame_interval(&self) -> Duration {
        Duration::from_nanos(1_000_000_000 / u64::from(self.fps.max(1)))
    }
}

/// One camera frame, borrowed from the camera until the next call to [`Camera::next_frame`].
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    pub width: u32,
    pub height: u32,
    pub pixel_format: PixelFormat,
    /// `width * height * bytes_per_pixel` bytes, rows top to bottom.
    pub data: &'a [u8],
    /// When the frame was captured, since the camera was opened.
    pub timestamp: Duration,
    /// Frame number since the camera was opened, starting at 0.
    pub sequence: u64,
}

impl Frame<'_> {
    /// The pixel at (x, y) as RGB (gray frames repeat the luma). Panics when out of bounds.
    #[inline]
    pub fn rgb(&self, x: u32, y: u32) -> [u8; 3] {
        let i = y as usize * self.width as usize + x as usize;
        match self.pixel_format {
            PixelFormat::Rgb888 => [self.data[3 * i], self.data[3 * i + 1], self.data[3 * i + 2]],
            PixelFormat::Gray8 => [self.data[i]; 3],
        }
    }

    /// The luma of the pixel at (x, y) (ITU-R BT.601 weights for colour frames).
    #[inline]
    pub fn luma(&self, x: u32, y: u32) -> u8 {
        let [r, g, b] = self.rgb(x, y);
        luma_bt601(r, g, b)
    }
}

/// Integer BT.601 luma, the weights cameras and JPEG use.
#[inline]
pub fn luma_bt601(r: u8, g: u8, b: u8) -> u8 {
    ((77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b) + 128) >> 8) as u8
}

/// A source of frames.
pub trait Camera {
    /// The format every frame from [`Camera::next_frame`] has.
    fn format(&self) -> FrameFormat;

    /// Waits for and returns the next frame. A camera that paces itself (a real sensor, or a
    /// simulated one in real-time mode) blocks until the frame is due.
    fn next_frame(&mut self) -> Result<Frame<'_>, HalError>;
}

impl<C: Camera + ?Sized> Camera for Box<C> {
    fn format(&self) -> FrameFormat {
        (**self).format()
    }
    fn next_frame(&mut self) -> Result<Frame<'_>, HalError> {
        (**self).next_frame()
    }
}
