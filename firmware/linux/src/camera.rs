//! V4L2 cameras (UVC webcams and anything else that streams YUYV or MJPEG), always delivered
//! as RGB888.

use std::path::Path;
use std::time::{Duration, Instant};

use sentio_hal::{Camera, ErrorKind, Frame, FrameFormat, HalError, PixelFormat};
use v4l::buffer::Type;
use v4l::framesize::FrameSizeEnum;
use v4l::io::mmap::Stream;
use v4l::io::traits::{CaptureStream, Stream as _};
use v4l::video::Capture;
use v4l::video::capture::Parameters;
use v4l::{Device, Format, FourCC};

use crate::convert::{mjpeg_to_rgb888, yuyv_to_rgb888};

/// Linux's "no such device" errno: what a stream returns once a USB camera is unplugged.
const ENODEV: i32 = 19;

/// Buffers the driver fills while we convert the previous frame.
const BUFFERS: u32 = 4;

/// Undecodable frames skipped in a row before `next_frame` gives up (webcams often send a
/// broken first frame or two after stream-on).
const MAX_BAD_FRAMES: u32 = 5;

/// What the camera sends over the wire. Frames are converted to RGB888 either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceFormat {
    /// Packed YUV 4:2:2 (fourcc `YUYV`), BT.601 limited range. Uncompressed: USB 2.0 webcams
    /// manage 640x480 at 30 fps but often only 5-10 fps at 1280x720.
    Yuyv,
    /// Motion-JPEG (fourcc `MJPG`): higher sizes and rates over USB, costs a JPEG decode.
    Mjpeg,
}

impl SourceFormat {
    /// Parses the names board profiles use: "yuyv", "mjpeg" / "mjpg" (any case).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "yuyv" | "yuy2" => Some(SourceFormat::Yuyv),
            "mjpeg" | "mjpg" => Some(SourceFormat::Mjpeg),
            _ => None,
        }
    }

    pub fn fourcc(self) -> FourCC {
        match self {
            SourceFormat::Yuyv => FourCC::new(b"YUYV"),
            SourceFormat::Mjpeg => FourCC::new(b"MJPG"),
        }
    }
}

/// What to do when the driver answers the requested size with another one (V4L2 drivers pick
/// the nearest size they support instead of failing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SizePolicy {
    /// Fail, listing the sizes the camera offers. What [`V4lCamera::open`] does: the rest of the
    /// pipeline was configured for the size in the board profile.
    Exact,
    /// Use the driver's size; [`Camera::format`] reports it.
    AcceptDriver,
}

/// A V4L2 capture device streaming through mmap buffers.
pub struct V4lCamera {
    /// `None` only while dropping.
    stream: Option<Stream<'static>>,
    format: FrameFormat,
    source: SourceFormat,
    stride: usize,
    rgb: Vec<u8>,
    sequence: u64,
    opened: Instant,
    /// Kernel timestamp of the first frame and our clock at that moment.
    first_timestamp: Option<(Duration, Duration)>,
    bad_in_a_row: u32,
    dropped: u64,
    device: String,
    // Declared last so it is dropped after the stream (the stream holds its own handle too).
    _dev: Device,
}

fn open_error(device: &str, err: std::io::Error) -> HalError {
    let path = device.trim_start_matches("camera ");
    let help = match ErrorKind::from_io(err.kind()) {
        ErrorKind::NotFound => format!(
            "no camera at {path}: list cameras with `v4l2-ctl --list-devices` (package \
             v4l-utils), check the board profile's camera.device"
        ),
        ErrorKind::PermissionDenied => {
            "add the user to the `video` group (then log in again)".to_string()
        }
        ErrorKind::Busy => "another program is using the camera; close it".to_string(),
        _ => "check the board profile's camera.device (`v4l2-ctl --list-devices`)".to_string(),
    };
    HalError::io(device, "cannot open the camera", err).with_help(help)
}

fn stream_error(device: &str, err: std::io::Error) -> HalError {
    if err.raw_os_error() == Some(ENODEV) {
        return HalError::new(
            ErrorKind::Disconnected,
            device,
            "the camera went away while streaming",
        )
        .with_source(err)
        .with_help("check the USB cable and power (a Pi needs a 5 V/3 A supply for a webcam)");
    }
    if err.kind() == std::io::ErrorKind::TimedOut {
        return HalError::new(ErrorKind::Io, device, "no frame arrived in time")
            .with_source(err)
            .with_help(
                "check that the camera streams with `v4l2-ctl --stream-mmap --stream-count=10`; \
                 lower the size or fps, or use MJPEG on a busy USB bus",
            );
    }
    HalError::io(device, "cannot read a frame", err)
        .with_help("check the camera with `v4l2-ctl --stream-mmap --stream-count=10`")
}

fn describe_sizes(dev: &Device, fourcc: FourCC) -> String {
    let Ok(sizes) = dev.enum_framesizes(fourcc) else {
        return "the camera does not list its sizes".to_string();
    };
    let list: Vec<String> = sizes
        .into_iter()
        .map(|s| match s.size {
            FrameSizeEnum::Discrete(d) => format!("{}x{}", d.width, d.height),
            FrameSizeEnum::Stepwise(s) => format!(
                "{}x{} to {}x{} in steps of {}x{}",
                s.min_width, s.min_height, s.max_width, s.max_height, s.step_width, s.step_height
            ),
        })
        .collect();
    if list.is_empty() {
        "the camera does not list its sizes".to_string()
    } else {
        format!("it offers {}", list.join(", "))
    }
}

impl V4lCamera {
    /// Opens `path` (`/dev/video0`) streaming `width` x `height` in `source` format at `fps`.
    ///
    /// The size must be one the camera offers ([`SizePolicy::Exact`]): if the driver answers
    /// with another size, this fails and the error lists the sizes offered. The frame rate is
    /// a request: the driver's nearest rate is used and reported by [`Camera::format`].
    pub fn open(
        path: impl AsRef<Path>,
        width: u32,
        height: u32,
        fps: u32,
        source: SourceFormat,
    ) -> Result<Self, HalError> {
        Self::open_with(path, width, height, fps, source, SizePolicy::Exact)
    }

    /// [`V4lCamera::open`] with a choice of what to do when the driver adjusts the size.
    pub fn open_with(
        path: impl AsRef<Path>,
        width: u32,
        height: u32,
        fps: u32,
        source: SourceFormat,
        size_policy: SizePolicy,
    ) -> Result<Self, HalError> {
        let path = path.as_ref();
        let device = format!("camera {}", path.display());
        if width == 0 || height == 0 || fps == 0 {
            return Err(HalError::new(
                ErrorKind::Unsupported,
                &device,
                format!("cannot stream {width}x{height} at {fps} fps"),
            )
            .with_help("set a non-zero camera size and fps in the board profile"));
        }
        let dev = Device::with_path(path).map_err(|e| open_error(&device, e))?;

        let offered = dev.enum_formats().map_err(|e| {
            HalError::io(&device, "cannot list the formats", e).with_help(
                "this is not a V4L2 capture device: `v4l2-ctl --list-devices` lists them",
            )
        })?;
        if offered.is_empty() {
            return Err(HalError::new(
                ErrorKind::Unsupported,
                &device,
                "the device offers no video capture format",
            )
            .with_help(
                "this node is not a video capture device (UVC webcams also create a metadata \
                 node, usually the next /dev/videoN); `v4l2-ctl --list-devices` lists the nodes",
            ));
        }
        let fourcc = source.fourcc();
        if !offered.iter().any(|d| d.fourcc == fourcc) {
            let list: Vec<String> = offered
                .iter()
                .map(|d| format!("{} ({})", d.fourcc, d.description))
                .collect();
            let usable = offered.iter().any(|d| {
                d.fourcc == SourceFormat::Yuyv.fourcc() || d.fourcc == SourceFormat::Mjpeg.fourcc()
            });
            let help = if usable {
                "set the board profile's camera format to one the camera offers (yuyv or mjpeg)"
            } else {
                "this camera offers neither YUYV nor MJPEG; Raspberry Pi CSI cameras deliver raw \
                 Bayer through libcamera: use a USB (UVC) webcam, or run under `libcamerify`"
            };
            return Err(HalError::new(
                ErrorKind::Unsupported,
                &device,
                format!(
                    "format {fourcc} is not offered; the camera offers {}",
                    list.join(", ")
                ),
            )
            .with_help(help));
        }

        let wanted = Format::new(width, height, fourcc);
        let got = dev.set_format(&wanted).map_err(|e| {
            let kind = ErrorKind::from_io(e.kind());
            let help = if kind == ErrorKind::Busy {
                "another program is streaming from the camera; close it"
            } else {
                "check the board profile's camera size and format (`v4l2-ctl --list-formats-ext`)"
            };
            HalError::io(&device, "cannot set the format", e).with_help(help)
        })?;
        if got.fourcc != fourcc {
            return Err(HalError::new(
                ErrorKind::Unsupported,
                &device,
                format!("asked for {fourcc}, the driver chose {}", got.fourcc),
            )
            .with_help("pick the other camera format (yuyv or mjpeg) in the board profile"));
        }
        if (got.width, got.height) != (width, height) {
            match size_policy {
                SizePolicy::Exact => {
                    return Err(HalError::new(
                        ErrorKind::Unsupported,
                        &device,
                        format!(
                            "asked for {width}x{height} {fourcc}, the driver adjusted it to \
                             {}x{}; {}",
                            got.width,
                            got.height,
                            describe_sizes(&dev, fourcc)
                        ),
                    )
                    .with_help(
                        "set the board profile's camera size to one the camera offers, or open \
                         with SizePolicy::AcceptDriver to take the driver's size",
                    ));
                }
                SizePolicy::AcceptDriver => {}
            }
        }
        if source == SourceFormat::Yuyv && !got.width.is_multiple_of(2) {
            return Err(HalError::new(
                ErrorKind::Unsupported,
                &device,
                format!("YUYV needs an even width, the driver chose {}", got.width),
            )
            .with_help("pick an even camera width in the board profile"));
        }

        // The frame rate is advisory: not every driver supports S_PARM.
        let actual_fps = dev
            .set_params(&Parameters::with_fps(fps))
            .ok()
            .and_then(|p| {
                let i = p.interval;
                (i.numerator > 0 && i.denominator > 0)
                    .then(|| ((i.denominator + i.numerator / 2) / i.numerator).max(1))
            })
            .unwrap_or(fps);

        let mut stream = Stream::with_buffers(&dev, Type::VideoCapture, BUFFERS).map_err(|e| {
            HalError::io(&device, "cannot map the capture buffers", e).with_help(
                "the camera may be in use by another program, or short of memory (lower the size)",
            )
        })?;
        let format = FrameFormat {
            width: got.width,
            height: got.height,
            pixel_format: PixelFormat::Rgb888,
            fps: actual_fps,
        };
        // A generous timeout: the first frame after stream-on can take a while (auto exposure).
        stream.set_timeout((format.frame_interval() * 10).max(Duration::from_secs(3)));

        Ok(V4lCamera {
            stream: Some(stream),
            format,
            source,
            stride: got.stride as usize,
            rgb: Vec::with_capacity(format.frame_len()),
            sequence: 0,
            opened: Instant::now(),
            first_timestamp: None,
            bad_in_a_row: 0,
            dropped: 0,
            device,
            _dev: dev,
        })
    }

    /// Frames that could not be decoded and were skipped since the camera was opened.
    pub fn dropped_frames(&self) -> u64 {
        self.dropped
    }
}

impl Camera for V4lCamera {
    fn format(&self) -> FrameFormat {
        self.format
    }

    fn next_frame(&mut self) -> Result<Frame<'_>, HalError> {
        let FrameFormat { width, height, .. } = self.format;
        let kernel_time = loop {
            let Some(stream) = self.stream.as_mut() else {
                return Err(HalError::new(
                    ErrorKind::Disconnected,
                    &self.device,
                    "the stream is closed",
                )
                .with_help("open the camera again"));
            };
            let (buf, meta) =
                CaptureStream::next(stream).map_err(|e| stream_error(&self.device, e))?;
            let used = match meta.bytesused as usize {
                0 => buf.len(),
                n => n.min(buf.len()),
            };
            let data = &buf[..used];
            let converted = match self.source {
                SourceFormat::Yuyv => {
                    yuyv_to_rgb888(data, width, height, self.stride, &mut self.rgb)
                }
                SourceFormat::Mjpeg => mjpeg_to_rgb888(data, width, height, &mut self.rgb),
            };
            match converted {
                Ok(()) => {
                    self.bad_in_a_row = 0;
                    break Duration::from(meta.timestamp);
                }
                Err(e) => {
                    self.dropped += 1;
                    self.bad_in_a_row += 1;
                    if self.bad_in_a_row >= MAX_BAD_FRAMES {
                        return Err(HalError::new(
                            ErrorKind::InvalidData,
                            &self.device,
                            format!("{MAX_BAD_FRAMES} frames in a row could not be decoded: {e}"),
                        )
                        .with_source(e)
                        .with_help(
                            "the camera sends broken frames: try the other camera format (yuyv \
                             or mjpeg), a lower size, or another USB port",
                        ));
                    }
                }
            }
        };

        let now = self.opened.elapsed();
        let timestamp = match self.first_timestamp {
            None => {
                self.first_timestamp = Some((kernel_time, now));
                now
            }
            // Kernel timestamps are taken at capture, so they pace frames better than our clock;
            // drivers that leave them at zero fall back to our clock.
            Some((k0, t0)) if kernel_time > k0 => t0 + (kernel_time - k0),
            Some(_) => now,
        };
        let frame = Frame {
            width,
            height,
            pixel_format: PixelFormat::Rgb888,
            data: &self.rgb,
            timestamp,
            sequence: self.sequence,
        };
        self.sequence += 1;
        Ok(frame)
    }
}

impl Drop for V4lCamera {
    fn drop(&mut self) {
        if let Some(mut stream) = self.stream.take()
            && let Err(e) = stream.stop()
            && e.raw_os_error() != Some(ENODEV)
        {
            // v4l's Stream panics in its Drop when stopping fails for any reason but ENODEV.
            // Leak the (already broken) stream's mappings instead of panicking in a destructor.
            std::mem::forget(stream);
        }
    }
}
