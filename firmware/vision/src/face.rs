//! Faces: the boxes every detector returns, the detector trait, and the crop that feeds the
//! expression model (margin, upright by the eyes) before the one preprocessing of [`crate::image_into`].

use crate::VisionError;

/// An image the detectors read: packed rows, top row first, 1 (gray) or 3 (RGB) bytes a pixel.
/// A camera frame is one without a copy.
#[derive(Clone, Copy, Debug)]
pub struct Pixels<'a> {
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// 1 (gray) or 3 (RGB).
    pub channels: usize,
    /// `width * height * channels` bytes.
    pub data: &'a [u8],
}

impl<'a> Pixels<'a> {
    /// A view of `data`; an error when its length does not match.
    pub fn new(width: u32, height: u32, channels: usize, data: &'a [u8]) -> Result<Self, VisionError> {
        let want = width as usize * height as usize * channels;
        if !(channels == 1 || channels == 3) || data.len() != want || width == 0 || height == 0 {
            return Err(VisionError::Buffer {
                shape: vec![height as usize, width as usize, channels],
                want,
                got: data.len(),
            });
        }
        Ok(Self {
            width,
            height,
            channels,
            data,
        })
    }

    /// A view of an RGB image.
    pub fn of_rgb(image: &'a image::RgbImage) -> Self {
        Self {
            width: image.width(),
            height: image.height(),
            channels: 3,
            data: image.as_raw(),
        }
    }

    /// The pixel at (x, y) as RGB (gray repeats the luma). Panics when out of bounds.
    #[inline]
    pub fn rgb(&self, x: u32, y: u32) -> [u8; 3] {
        let i = y as usize * self.width as usize + x as usize;
        if self.channels == 3 {
            [self.data[3 * i], self.data[3 * i + 1], self.data[3 * i + 2]]
        } else {
            [self.data[i]; 3]
        }
    }

    /// The image as gray bytes, row-major (BT.601 integer luma for RGB, the weights cameras and
    /// OpenCV's `COLOR_RGB2GRAY` use, rounded the same way).
    pub fn to_gray(&self) -> Vec<u8> {
        if self.channels == 1 {
            return self.data.to_vec();
        }
        self.data
            .chunks_exact(3)
            .map(|p| gray_bt601(p[0], p[1], p[2]))
            .collect()
    }

    /// The image as an owned `image` crate RGB image.
    pub fn to_rgb_image(&self) -> image::RgbImage {
        let data = if self.channels == 3 {
            self.data.to_vec()
        } else {
            self.data.iter().flat_map(|&v| [v, v, v]).collect()
        };
        image::RgbImage::from_raw(self.width, self.height, data).unwrap_or_default()
    }
}

/// OpenCV's RGB to gray: `0.299 R + 0.587 G + 0.114 B` in 14-bit fixed point, rounded.
#[inline]
pub fn gray_bt601(r: u8, g: u8, b: u8) -> u8 {
    // cv::cvtColor's integer path: coefficients 4899, 9617, 1868 (sum 16384), round half up.
    ((4899 * u32::from(r) + 9617 * u32::from(g) + 1868 * u32::from(b) + (1 << 13)) >> 14) as u8
}

/// A face found in an image, in that image's pixels.
#[derive(Clone, Debug, PartialEq)]
pub struct FaceBox {
    /// Left edge.
    pub x: f32,
    /// Top edge.
    pub y: f32,
    /// Width.
    pub w: f32,
    /// Height.
    pub h: f32,
    /// The detector's confidence: a probability for BlazeFace, the number of grouped windows
    /// (OpenCV's `numDetections`) for a Haar cascade.
    pub score: f32,
    /// Landmarks in image pixels, in the detector's order. BlazeFace gives six: the right eye,
    /// the left eye (the person's), nose tip, mouth, right ear, left ear. Haar gives none.
    pub keypoints: Vec<[f32; 2]>,
}

impl FaceBox {
    /// A box with no keypoints.
    pub fn new(x: f32, y: f32, w: f32, h: f32, score: f32) -> Self {
        Self {
            x,
            y,
            w,
            h,
            score,
            keypoints: Vec::new(),
        }
    }

    /// Area in square pixels (0 for an empty box).
    pub fn area(&self) -> f32 {
        self.w.max(0.0) * self.h.max(0.0)
    }

    /// Intersection over union with `other` (0 when either is empty).
    pub fn iou(&self, other: &FaceBox) -> f32 {
        let ix = (self.x + self.w).min(other.x + other.w) - self.x.max(other.x);
        let iy = (self.y + self.h).min(other.y + other.h) - self.y.max(other.y);
        let inter = ix.max(0.0) * iy.max(0.0);
        let union = self.area() + other.area() - inter;
        if union > 0.0 { inter / union } else { 0.0 }
    }

    /// The centre of the box.
    pub fn center(&self) -> [f32; 2] {
        [self.x + self.w / 2.0, self.y + self.h / 2.0]
    }

    /// The two eyes (the person's right, then left), when the detector gave them.
    pub fn eyes(&self) -> Option<([f32; 2], [f32; 2])> {
        match self.keypoints.as_slice() {
            [right, left, ..] => Some((*right, *left)),
            _ => None,
        }
    }

    /// The same box with every coordinate multiplied by `s` (from a downscaled frame back to
    /// camera pixels).
    pub fn scaled(&self, s: f32) -> FaceBox {
        FaceBox {
            x: self.x * s,
            y: self.y * s,
            w: self.w * s,
            h: self.h * s,
            score: self.score,
            keypoints: self.keypoints.iter().map(|[x, y]| [x * s, y * s]).collect(),
        }
    }
}

/// Something that finds faces in an image.
pub trait FaceDetector {
    /// A short name for events and stats (`haar`, `blazeface`).
    fn name(&self) -> &str;

    /// The faces in `image`, best first, in `image`'s pixels.
    fn detect(&mut self, image: &Pixels<'_>) -> Result<Vec<FaceBox>, VisionError>;
}

impl<D: FaceDetector + ?Sized> FaceDetector for Box<D> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn detect(&mut self, image: &Pixels<'_>) -> Result<Vec<FaceBox>, VisionError> {
        (**self).detect(image)
    }
}
