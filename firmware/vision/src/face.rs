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
    pub fn new(
        width: u32,
        height: u32,
        channels: usize,
        data: &'a [u8],
    ) -> Result<Self, VisionError> {
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

    /// The faces in `image` whose side is between `min_side` and `max_side` pixels: what a
    /// tracker asks for when it looks again near the face it follows. The default filters
    /// [`detect`](Self::detect)'s faces; a detector that can skip the work for other sizes
    /// (a Haar cascade's pyramid) overrides it.
    fn detect_sized(
        &mut self,
        image: &Pixels<'_>,
        min_side: u32,
        max_side: u32,
    ) -> Result<Vec<FaceBox>, VisionError> {
        let fits = |f: &FaceBox| f.w.max(f.h) >= min_side as f32 && f.w.max(f.h) <= max_side as f32;
        Ok(self.detect(image)?.into_iter().filter(fits).collect())
    }
}

impl<D: FaceDetector + ?Sized> FaceDetector for Box<D> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn detect(&mut self, image: &Pixels<'_>) -> Result<Vec<FaceBox>, VisionError> {
        (**self).detect(image)
    }
    fn detect_sized(
        &mut self,
        image: &Pixels<'_>,
        min_side: u32,
        max_side: u32,
    ) -> Result<Vec<FaceBox>, VisionError> {
        (**self).detect_sized(image, min_side, max_side)
    }
}

/// A copy of the part of `image` inside `region` (x, y, w, h in whole pixels, clipped to the
/// image): the bytes, and the region as clipped. A tracker searches this instead of the frame.
pub fn cut(image: &Pixels<'_>, region: [f32; 4]) -> (Vec<u8>, [u32; 4]) {
    let [x, y, w, h] = region;
    let x0 = (x.floor().max(0.0) as u32).min(image.width);
    let y0 = (y.floor().max(0.0) as u32).min(image.height);
    let x1 = ((x + w).ceil().max(0.0) as u32).min(image.width);
    let y1 = ((y + h).ceil().max(0.0) as u32).min(image.height);
    let (cw, ch) = (x1.saturating_sub(x0), y1.saturating_sub(y0));
    let c = image.channels;
    let stride = image.width as usize * c;
    let mut out = Vec::with_capacity(cw as usize * ch as usize * c);
    for row in y0..y1 {
        let start = row as usize * stride + x0 as usize * c;
        out.extend_from_slice(&image.data[start..start + cw as usize * c]);
    }
    (out, [x0, y0, cw, ch])
}

/// Largest side of a face crop, in pixels: a face filling a 640x480 frame is cut at this
/// resolution (far above any expression model's input) so the crop stays cheap.
pub const MAX_CROP_SIDE: u32 = 256;

/// The square crop of `face` that an expression model sees, before [`crate::image_into`] turns
/// it into the model's input (gray, size, normalization: the same function `sentio run`,
/// `sentio eval` and the trainer use).
///
/// The box grows by `margin` of its width and height on each side and becomes a square around
/// its centre. With the eyes known the crop is rotated so they lie level (the face upright),
/// sampled bilinearly; without them it is an axis-aligned cut. Pixels outside the image repeat
/// the nearest edge pixel. The crop is at most [`MAX_CROP_SIDE`] pixels wide.
pub fn face_crop(image: &Pixels<'_>, face: &FaceBox, margin: f32) -> image::RgbImage {
    let margin = if margin.is_finite() {
        margin.max(0.0)
    } else {
        0.0
    };
    let side = (face.w.max(face.h) * (1.0 + 2.0 * margin)).max(1.0);
    let out_side = (side.round() as u32).clamp(1, MAX_CROP_SIDE);
    let step = side / out_side as f32;
    let angle = face
        .eyes()
        .map(|(right, left)| (left[1] - right[1]).atan2(left[0] - right[0]))
        .filter(|a| a.is_finite())
        .unwrap_or(0.0);
    let (sin, cos) = angle.sin_cos();
    let [cx, cy] = face.center();
    let mut out = image::RgbImage::new(out_side, out_side);
    let half = out_side as f32 / 2.0;
    let upright = angle == 0.0 && (step - 1.0).abs() < 1e-6;
    for v in 0..out_side {
        for u in 0..out_side {
            // The output pixel's centre, relative to the crop's centre, in source pixels.
            let du = (u as f32 + 0.5 - half) * step;
            let dv = (v as f32 + 0.5 - half) * step;
            let sx = cx + du * cos - dv * sin - 0.5;
            let sy = cy + du * sin + dv * cos - 0.5;
            let px = if upright {
                // Integer positions need no interpolation: an exact copy of the pixels.
                image.rgb(
                    clamp_coord(sx.round(), image.width),
                    clamp_coord(sy.round(), image.height),
                )
            } else {
                bilinear(image, sx, sy)
            };
            out.put_pixel(u, v, image::Rgb(px));
        }
    }
    out
}

fn clamp_coord(v: f32, len: u32) -> u32 {
    (v.max(0.0) as u32).min(len.saturating_sub(1))
}

/// The colour at a fractional position (pixel centres at integers), edges repeated.
fn bilinear(image: &Pixels<'_>, x: f32, y: f32) -> [u8; 3] {
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let xs = [
        clamp_coord(x0, image.width),
        clamp_coord(x0 + 1.0, image.width),
    ];
    let ys = [
        clamp_coord(y0, image.height),
        clamp_coord(y0 + 1.0, image.height),
    ];
    let p00 = image.rgb(xs[0], ys[0]);
    let p10 = image.rgb(xs[1], ys[0]);
    let p01 = image.rgb(xs[0], ys[1]);
    let p11 = image.rgb(xs[1], ys[1]);
    let mut px = [0u8; 3];
    for c in 0..3 {
        let top = f32::from(p00[c]) * (1.0 - fx) + f32::from(p10[c]) * fx;
        let bottom = f32::from(p01[c]) * (1.0 - fx) + f32::from(p11[c]) * fx;
        px[c] = (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8;
    }
    px
}

/// Shrinks `image` by an integer `factor` (box average), the cheap downscale a detector runs
/// on between full-resolution frames; returns the small image's bytes and size.
pub fn downscale(image: &Pixels<'_>, factor: u32) -> (Vec<u8>, u32, u32) {
    let f = factor.max(1);
    let (w, h) = (image.width / f, image.height / f);
    let c = image.channels;
    let mut out = Vec::with_capacity(w as usize * h as usize * c);
    let area = f * f;
    let stride = image.width as usize * c;
    for y in 0..h as usize {
        for x in 0..w as usize {
            for ch in 0..c {
                let mut sum = 0u32;
                for dy in 0..f as usize {
                    let row = (y * f as usize + dy) * stride;
                    for dx in 0..f as usize {
                        sum += u32::from(image.data[row + (x * f as usize + dx) * c + ch]);
                    }
                }
                out.push(((sum + area / 2) / area) as u8);
            }
        }
    }
    (out, w, h)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32) -> Vec<u8> {
        (0..h)
            .flat_map(|y| (0..w).flat_map(move |x| [(x * 3) as u8, (y * 5) as u8, 77]))
            .collect()
    }

    #[test]
    fn iou_of_boxes() {
        let a = FaceBox::new(0.0, 0.0, 10.0, 10.0, 1.0);
        let b = FaceBox::new(5.0, 0.0, 10.0, 10.0, 1.0);
        assert!((a.iou(&b) - 50.0 / 150.0).abs() < 1e-6);
        assert_eq!(a.iou(&FaceBox::new(20.0, 20.0, 5.0, 5.0, 1.0)), 0.0);
        assert_eq!(a.iou(&a), 1.0);
    }

    #[test]
    fn an_upright_crop_is_an_exact_cut_with_its_margin() {
        let data = gradient(40, 30);
        let img = Pixels::new(40, 30, 3, &data).unwrap();
        // A 10x10 box at (10, 8) with 20% margin: a 14x14 cut from (8, 6).
        let crop = face_crop(&img, &FaceBox::new(10.0, 8.0, 10.0, 10.0, 1.0), 0.2);
        assert_eq!(crop.dimensions(), (14, 14));
        for (u, v, px) in crop.enumerate_pixels() {
            assert_eq!(px.0, img.rgb(8 + u, 6 + v), "at {u},{v}");
        }
        // Past the edge, the edge pixel repeats.
        let crop = face_crop(&img, &FaceBox::new(-4.0, -4.0, 8.0, 8.0, 1.0), 0.0);
        assert_eq!(crop.get_pixel(0, 0).0, img.rgb(0, 0));
        assert_eq!(crop.get_pixel(7, 7).0, img.rgb(3, 3));
    }

    #[test]
    fn a_tilted_face_is_turned_upright_by_its_eyes() {
        // A bright bar along the line between two eyes tilted by 30 degrees: after the crop it
        // must be horizontal (the row through the crop's centre bright, the column not).
        let (w, h) = (100u32, 100u32);
        let angle = 30f32.to_radians();
        let mut data = vec![0u8; (w * h * 3) as usize];
        for t in -30..=30 {
            for off in -1..=1 {
                let x = 50.0 + t as f32 * angle.cos() - off as f32 * angle.sin();
                let y = 50.0 + t as f32 * angle.sin() + off as f32 * angle.cos();
                let i = ((y.round() as u32 * w + x.round() as u32) * 3) as usize;
                data[i..i + 3].copy_from_slice(&[255, 255, 255]);
            }
        }
        let img = Pixels::new(w, h, 3, &data).unwrap();
        let mut face = FaceBox::new(30.0, 30.0, 40.0, 40.0, 1.0);
        face.keypoints = vec![
            [50.0 - 15.0 * angle.cos(), 50.0 - 15.0 * angle.sin()],
            [50.0 + 15.0 * angle.cos(), 50.0 + 15.0 * angle.sin()],
        ];
        let crop = face_crop(&img, &face, 0.0);
        let mid = crop.height() / 2;
        let row: u32 = (5..35)
            .map(|u| u32::from(crop.get_pixel(u, mid).0[0]))
            .sum();
        let col: u32 = (5..35)
            .map(|v| u32::from(crop.get_pixel(mid, v).0[0]))
            .sum();
        assert!(row > 30 * 150, "the eye line is level: row sum {row}");
        assert!(col < 8 * 255, "and not vertical: column sum {col}");
    }

    #[test]
    fn cut_copies_the_region_clipped_to_the_image() {
        let data = gradient(40, 30);
        let img = Pixels::new(40, 30, 3, &data).unwrap();
        let (bytes, [x, y, w, h]) = cut(&img, [30.5, -4.0, 20.0, 10.0]);
        assert_eq!([x, y, w, h], [30, 0, 10, 6]);
        let part = Pixels::new(w, h, 3, &bytes).unwrap();
        assert_eq!(part.rgb(0, 0), img.rgb(30, 0));
        assert_eq!(part.rgb(9, 5), img.rgb(39, 5));
        assert_eq!(cut(&img, [50.0, 50.0, 5.0, 5.0]).1, [40, 30, 0, 0]);
    }

    #[test]
    fn downscale_averages_blocks() {
        let data: Vec<u8> = vec![0, 10, 20, 30, 40, 50, 60, 70];
        let img = Pixels::new(4, 2, 1, &data).unwrap();
        let (small, w, h) = downscale(&img, 2);
        assert_eq!((w, h), (2, 1));
        assert_eq!(small, vec![25, 45]);
    }
}
