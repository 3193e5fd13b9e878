use std::path::{Path, PathBuf};
use std::time::Duration;

use image::imageops::FilterType;
use image::{DynamicImage, RgbImage};

use super::Pacing;
use crate::camera::luma_bt601;
use crate::{Camera, Clock, ErrorKind, Frame, FrameFormat, HalError, PixelFormat};

/// Image files a folder source picks up, by extension (lower case).
const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg"];

/// Decoded frames a folder source keeps in memory; beyond this it decodes each frame when due.
const FRAME_CACHE_BYTES: usize = 64 << 20;

/// Where a [`SimCamera`] takes its pictures from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimCameraSource {
    /// One image, delivered as every frame.
    Still(PathBuf),
    /// The images of a folder (png, jpg), in file-name order, looping.
    Folder(PathBuf),
    /// Colour bars with a square moving across them; needs no files.
    TestPattern,
}

impl SimCameraSource {
    /// `"pattern"` is the test pattern, a folder is a folder source, anything else a still image.
    pub fn from_spec(spec: &Path) -> Self {
        if spec.as_os_str() == "pattern" {
            SimCameraSource::TestPattern
        } else if spec.is_dir() {
            SimCameraSource::Folder(spec.to_path_buf())
        } else {
            SimCameraSource::Still(spec.to_path_buf())
        }
    }
}

enum Frames {
    /// Converted frames, ready to hand out.
    Decoded(Vec<Vec<u8>>),
    /// Too many to keep: decoded on demand.
    Lazy(Vec<PathBuf>),
    Pattern,
}

/// A camera that shows images from files or a test pattern, scaled (centre-cropped to the
/// aspect ratio, then resized) to the declared format.
pub struct SimCamera<C: Clock> {
    format: FrameFormat,
    frames: Frames,
    buffer: Vec<u8>,
    sequence: u64,
    pacing: Pacing,
    clock: C,
    /// Clock reading when the first frame was taken, the origin of the pacing schedule.
    start: Option<Duration>,
    name: String,
}

impl<C: Clock> SimCamera<C> {
    /// Opens the source and prepares frames of `format`. Errors name the file and say why.
    pub fn open(
        source: SimCameraSource,
        format: FrameFormat,
        pacing: Pacing,
        clock: C,
    ) -> Result<Self, HalError> {
        if format.width == 0 || format.height == 0 || format.fps == 0 {
            return Err(HalError::new(
                ErrorKind::Unsupported,
                "sim camera",
                format!(
                    "impossible format {}x{} at {} fps",
                    format.width, format.height, format.fps
                ),
            )
            .with_help("width, height and fps must be at least 1"));
        }
        let (frames, name) = match &source {
            SimCameraSource::Still(path) => {
                let frame = load_frame(path, format)?;
                (
                    Frames::Decoded(vec![frame]),
                    format!("sim camera {}", path.display()),
                )
            }
            SimCameraSource::Folder(dir) => {
                let paths = list_images(dir)?;
                let name = format!("sim camera {}", dir.display());
                if paths.len() * format.frame_len() <= FRAME_CACHE_BYTES {
                    let frames = paths
                        .iter()
                        .map(|p| load_frame(p, format))
                        .collect::<Result<Vec<_>, _>>()?;
                    (Frames::Decoded(frames), name)
                } else {
                    // Check the first one now so a bad folder fails at open, not mid-run.
                    load_frame(&paths[0], format)?;
                    (Frames::Lazy(paths), name)
                }
            }
            SimCameraSource::TestPattern => (Frames::Pattern, "sim camera pattern".to_string()),
        };
        Ok(SimCamera {
            format,
            frames,
            buffer: vec![0; format.frame_len()],
            sequence: 0,
            pacing,
            clock,
            start: None,
            name,
        })
    }

    /// How many distinct frames the source holds before it loops (1 for the pattern's period).
    pub fn source_len(&self) -> usize {
        match &self.frames {
            Frames::Decoded(f) => f.len(),
            Frames::Lazy(p) => p.len(),
            Frames::Pattern => 1,
        }
    }
}

impl<C: Clock> Camera for SimCamera<C> {
    fn format(&self) -> FrameFormat {
        self.format
    }

    fn next_frame(&mut self) -> Result<Frame<'_>, HalError> {
        let timestamp = self.format.frame_interval() * self.sequence as u32;
        if self.pacing == Pacing::RealTime {
            let start = *self.start.get_or_insert_with(|| self.clock.now());
            self.clock.sleep_until(start + timestamp);
        }
        let data: &[u8] = match &self.frames {
            Frames::Decoded(frames) => &frames[(self.sequence % frames.len() as u64) as usize],
            Frames::Lazy(paths) => {
                let path = &paths[(self.sequence % paths.len() as u64) as usize];
                self.buffer = load_frame(path, self.format).map_err(|e| {
                    HalError::new(e.kind(), self.name.clone(), e.message().to_string())
                })?;
                &self.buffer
            }
            Frames::Pattern => {
                draw_test_pattern(&mut self.buffer, self.format, self.sequence);
                &self.buffer
            }
        };
        let frame = Frame {
            width: self.format.width,
            height: self.format.height,
            pixel_format: self.format.pixel_format,
            data,
            timestamp,
            sequence: self.sequence,
        };
        self.sequence += 1;
        Ok(frame)
    }
}

fn list_images(dir: &Path) -> Result<Vec<PathBuf>, HalError> {
    let device = format!("sim camera {}", dir.display());
    let entries = std::fs::read_dir(dir).map_err(|e| {
        HalError::io(device.clone(), "cannot read the image folder", e)
            .with_help("give a folder of .png/.jpg frames, an image file, or \"pattern\"")
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| HalError::io(device.clone(), "cannot list the image folder", e))?
            .path();
        let is_image = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
        if is_image && path.is_file() {
            paths.push(path);
        }
    }
    if paths.is_empty() {
        return Err(
            HalError::new(ErrorKind::NotFound, device, "the folder holds no images")
                .with_help("put .png or .jpg frames in it (they play in file-name order)"),
        );
    }
    paths.sort();
    Ok(paths)
}

/// Decodes an image file into a frame of `format`.
fn load_frame(path: &Path, format: FrameFormat) -> Result<Vec<u8>, HalError> {
    let device = format!("sim camera {}", path.display());
    let bytes = std::fs::read(path).map_err(|e| {
        HalError::io(device.clone(), "cannot read the image", e)
            .with_help("check the path, or use --camera pattern for a test pattern")
    })?;
    let image = image::load_from_memory(&bytes).map_err(|e| {
        HalError::new(
            ErrorKind::InvalidData,
            device.clone(),
            format!("cannot decode the image: {e}"),
        )
        .with_help("sim cameras read PNG and JPEG files")
    })?;
    let rgb = fit(image, format.width, format.height);
    Ok(match format.pixel_format {
        PixelFormat::Rgb888 => rgb.into_raw(),
        PixelFormat::Gray8 => rgb.pixels().map(|p| luma_bt601(p[0], p[1], p[2])).collect(),
    })
}

/// Centre-crops `image` to the aspect ratio of `width` x `height`, then resizes it to that size,
/// the way a camera with a different sensor aspect would frame the scene.
fn fit(image: DynamicImage, width: u32, height: u32) -> RgbImage {
    let (w, h) = (image.width(), image.height());
    // Compare w/h with width/height without floating point.
    let (crop_w, crop_h) = if u64::from(w) * u64::from(height) > u64::from(h) * u64::from(width) {
        (
            (u64::from(h) * u64::from(width) / u64::from(height)) as u32,
            h,
        )
    } else {
        (
            w,
            (u64::from(w) * u64::from(height) / u64::from(width)) as u32,
        )
    };
    let cropped = image.crop_imm(
        (w - crop_w) / 2,
        (h - crop_h) / 2,
        crop_w.max(1),
        crop_h.max(1),
    );
    if cropped.width() == width && cropped.height() == height {
        cropped.to_rgb8()
    } else {
        cropped
            .resize_exact(width, height, FilterType::Triangle)
            .to_rgb8()
    }
}

/// SMPTE-like colour bars with a white square bouncing across them, and a frame counter strip.
fn draw_test_pattern(buf: &mut [u8], format: FrameFormat, sequence: u64) {
    const BARS: [[u8; 3]; 8] = [
        [235, 235, 235],
        [235, 235, 16],
        [16, 235, 235],
        [16, 235, 16],
        [235, 16, 235],
        [235, 16, 16],
        [16, 16, 235],
        [16, 16, 16],
    ];
    let (w, h) = (format.width as u64, format.height as u64);
    let side = (w.min(h) / 4).max(1);
    // Bounce: position runs 0..range and back, 4 pixels a frame.
    let bounce = |range: u64, speed: u64| {
        if range == 0 {
            return 0;
        }
        let p = (sequence * speed) % (2 * range);
        if p < range { p } else { 2 * range - p }
    };
    let sx = bounce(w - side, 4);
    let sy = bounce(h - side, 3);
    let bpp = format.pixel_format.bytes_per_pixel();
    for y in 0..h {
        for x in 0..w {
            let in_square = (sx..sx + side).contains(&x) && (sy..sy + side).contains(&y);
            let rgb = if in_square {
                [255, 255, 255]
            } else {
                BARS[(x * 8 / w) as usize]
            };
            let i = (y * w + x) as usize * bpp;
            match format.pixel_format {
                PixelFormat::Rgb888 => buf[i..i + 3].copy_from_slice(&rgb),
                PixelFormat::Gray8 => buf[i] = luma_bt601(rgb[0], rgb[1], rgb[2]),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VirtualClock;

    fn fmt(width: u32, height: u32, pixel_format: PixelFormat) -> FrameFormat {
        FrameFormat {
            width,
            height,
            pixel_format,
            fps: 10,
        }
    }

    fn write_png(path: &Path, w: u32, h: u32, rgb: [u8; 3]) {
        RgbImage::from_pixel(w, h, image::Rgb(rgb))
            .save(path)
            .unwrap();
    }

    #[test]
    fn still_image_is_scaled_and_repeated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("red.png");
        write_png(&path, 100, 50, [200, 10, 20]);
        let clock = VirtualClock::new();
        let mut cam = SimCamera::open(
            SimCameraSource::Still(path),
            fmt(32, 24, PixelFormat::Rgb888),
            Pacing::Fast,
            &clock,
        )
        .unwrap();
        for seq in 0..3 {
            let f = cam.next_frame().unwrap();
            assert_eq!((f.width, f.height, f.data.len()), (32, 24, 32 * 24 * 3));
            assert_eq!(f.sequence, seq);
            assert_eq!(f.timestamp, Duration::from_millis(100 * seq));
            assert_eq!(f.rgb(31, 23), [200, 10, 20]);
        }
        assert_eq!(clock.now(), Duration::ZERO, "fast pacing must not wait");
    }

    #[test]
    fn folder_loops_in_name_order_and_converts_to_gray() {
        let dir = tempfile::tempdir().unwrap();
        write_png(&dir.path().join("b.png"), 8, 8, [255, 255, 255]);
        write_png(&dir.path().join("a.png"), 8, 8, [0, 0, 0]);
        std::fs::write(dir.path().join("notes.txt"), "not an image").unwrap();
        let clock = VirtualClock::new();
        let mut cam = SimCamera::open(
            SimCameraSource::Folder(dir.path().into()),
            fmt(8, 8, PixelFormat::Gray8),
            Pacing::Fast,
            &clock,
        )
        .unwrap();
        assert_eq!(cam.source_len(), 2);
        let lumas: Vec<u8> = (0..4).map(|_| cam.next_frame().unwrap().data[0]).collect();
        assert_eq!(lumas, [0, 255, 0, 255]);
    }

    #[test]
    fn real_time_pacing_waits_for_each_frame() {
        let clock = VirtualClock::new();
        clock.advance(Duration::from_secs(5)); // the schedule starts at the first frame
        let mut cam = SimCamera::open(
            SimCameraSource::TestPattern,
            fmt(16, 16, PixelFormat::Rgb888),
            Pacing::RealTime,
            &clock,
        )
        .unwrap();
        for _ in 0..3 {
            cam.next_frame().unwrap();
        }
        assert_eq!(
            clock.now(),
            Duration::from_secs(5) + Duration::from_millis(200)
        );
    }

    #[test]
    fn test_pattern_moves_and_is_deterministic() {
        let clock = VirtualClock::new();
        let open = || {
            SimCamera::open(
                SimCameraSource::TestPattern,
                fmt(64, 48, PixelFormat::Rgb888),
                Pacing::Fast,
                &clock,
            )
            .unwrap()
        };
        let (mut a, mut b) = (open(), open());
        let a0 = a.next_frame().unwrap().data.to_vec();
        let a1 = a.next_frame().unwrap().data.to_vec();
        assert_ne!(a0, a1, "the square moves");
        assert_eq!(b.next_frame().unwrap().data, &a0[..]);
        assert_eq!(b.next_frame().unwrap().data, &a1[..]);
    }

    #[test]
    fn missing_file_and_bad_image_give_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let clock = VirtualClock::new();
        let f = fmt(8, 8, PixelFormat::Rgb888);
        let missing = dir.path().join("nope.png");
        let err = SimCamera::open(SimCameraSource::Still(missing), f, Pacing::Fast, &clock)
            .err()
            .unwrap();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.to_string().contains("nope.png"), "{err}");

        let junk = dir.path().join("junk.png");
        std::fs::write(&junk, b"definitely not a png").unwrap();
        let err = SimCamera::open(SimCameraSource::Still(junk), f, Pacing::Fast, &clock)
            .err()
            .unwrap();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        assert!(err.to_string().contains("cannot decode"), "{err}");

        let empty = tempfile::tempdir().unwrap();
        let err = SimCamera::open(
            SimCameraSource::Folder(empty.path().into()),
            f,
            Pacing::Fast,
            &clock,
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("no images"), "{err}");
    }

    #[test]
    fn wider_image_is_centre_cropped() {
        // Left third red, middle third green, right third blue; a square frame sees only green.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tri.png");
        let img = RgbImage::from_fn(30, 10, |x, _| match x / 10 {
            0 => image::Rgb([255, 0, 0]),
            1 => image::Rgb([0, 255, 0]),
            _ => image::Rgb([0, 0, 255]),
        });
        img.save(&path).unwrap();
        let clock = VirtualClock::new();
        let mut cam = SimCamera::open(
            SimCameraSource::Still(path),
            fmt(10, 10, PixelFormat::Rgb888),
            Pacing::Fast,
            &clock,
        )
        .unwrap();
        let f = cam.next_frame().unwrap();
        assert_eq!(f.rgb(0, 0), [0, 255, 0]);
        assert_eq!(f.rgb(9, 9), [0, 255, 0]);
    }
}
