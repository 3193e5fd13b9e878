//! The validated board profile: plain data, no spans, every value already checked.

use std::fmt;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

/// Defines a closed set of lower-case names (the string choices of the schema) as a plain enum
/// with `ALL`, `as_str`, `from_name` and `Display`.
macro_rules! choice_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $( $(#[$vmeta])* $variant ),+ }

        impl $name {
            /// Every choice, in the order the schema lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name used in profile files.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The choice with this exact (lower-case) name.
            pub fn from_name(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|c| c.as_str() == name)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl crate::validate::Choice for $name {
            fn all() -> &'static [Self] { Self::ALL }
            fn name(self) -> &'static str { self.as_str() }
        }
    };
}

choice_enum! {
    /// Instruction set the board runs (`cpu.arch`).
    pub enum Arch { Aarch64 = "aarch64", Armv7 = "armv7", X86_64 = "x86_64" }
}

choice_enum! {
    /// SIMD / arithmetic extensions the inference kernels may use (`cpu.features`).
    pub enum CpuFeature {
        /// Arm Advanced SIMD.
        Neon = "neon",
        /// Arm SDOT/UDOT int8 dot products (Armv8.2+ optional, e.g. Cortex-A76/A78).
        Dotprod = "dotprod",
        /// Arm half-precision arithmetic (FEAT_FP16).
        Fp16 = "fp16",
        /// Arm int8 matrix multiply (FEAT_I8MM).
        I8mm = "i8mm",
        /// x86 AVX2.
        Avx2 = "avx2",
        /// x86 fused multiply-add.
        Fma = "fma",
    }
}

impl CpuFeature {
    /// The features that exist on `arch` (a feature of another architecture is a profile error).
    pub fn available_on(arch: Arch) -> &'static [CpuFeature] {
        match arch {
            Arch::Aarch64 => &[
                CpuFeature::Neon,
                CpuFeature::Dotprod,
                CpuFeature::Fp16,
                CpuFeature::I8mm,
            ],
            Arch::Armv7 => &[CpuFeature::Neon],
            Arch::X86_64 => &[CpuFeature::Avx2, CpuFeature::Fma],
        }
    }
}

choice_enum! {
    /// How frames are captured (`camera.driver`).
    pub enum CameraDriver {
        /// Video4Linux2 device node (USB UVC webcams and the like).
        V4l = "v4l",
        /// Synthetic frames: a test pattern, an image file or a folder of images.
        Sim = "sim",
    }
}

choice_enum! {
    /// Pixel layout delivered by the camera (`camera.pixel_format`).
    pub enum CameraPixelFormat { Yuyv = "yuyv", Mjpeg = "mjpeg", Rgb888 = "rgb888", Gray8 = "gray8" }
}

impl CameraPixelFormat {
    /// The formats `driver` can deliver.
    pub fn supported_by(driver: CameraDriver) -> &'static [CameraPixelFormat] {
        match driver {
            CameraDriver::V4l => &[CameraPixelFormat::Yuyv, CameraPixelFormat::Mjpeg],
            CameraDriver::Sim => &[CameraPixelFormat::Rgb888, CameraPixelFormat::Gray8],
        }
    }
}

choice_enum! {
    /// How sound is captured and played (`audio.driver`).
    pub enum AudioDriver {
        /// ALSA PCM devices.
        Alsa = "alsa",
        /// WAV files: capture from a file (or "silence"), playback into a file.
        Sim = "sim",
    }
}

choice_enum! {
    /// The panel (`display.driver`).
    pub enum DisplayDriver {
        /// Sitronix ST7789 colour TFT on SPI (240x240 or 240x320).
        St7789 = "st7789",
        /// Ilitek ILI9341 colour TFT on SPI (320x240).
        Ili9341 = "ili9341",
        /// Solomon SSD1306 monochrome OLED on I2C (128x64 or 128x32).
        Ssd1306 = "ssd1306",
        /// In-memory RGB565 framebuffer (simulation, golden-image tests).
        SimRgb565 = "sim-rgb565",
        /// In-memory 1-bit framebuffer (simulation of a mono OLED).
        SimMono = "sim-mono",
        /// No display.
        None = "none",
    }
}

impl DisplayDriver {
    /// Whether the panel is driven over SPI and so needs `[display.spi]`.
    pub fn needs_spi(self) -> bool {
        matches!(self, DisplayDriver::St7789 | DisplayDriver::Ili9341)
    }

    /// Whether the panel is driven over I2C and so needs `[display.i2c]`.
    pub fn needs_i2c(self) -> bool {
        matches!(self, DisplayDriver::Ssd1306)
    }

    /// Whether the panel shows one bit per pixel.
    pub fn is_mono(self) -> bool {
        matches!(self, DisplayDriver::Ssd1306 | DisplayDriver::SimMono)
    }
}

choice_enum! {
    /// Numeric precision the runtime uses (`runtime.precision`).
    pub enum Precision {
        F32 = "f32",
        Int8 = "int8",
        /// int8 where the model ships calibrated int8 weights and the CPU has fast int8 kernels.
        Auto = "auto",
    }
}

choice_enum! {
    /// Whose plan runs a model (`runtime.kernels`).
    pub enum Kernels {
        /// Both are timed at load (the choice is cached with the plan) and the faster runs.
        Auto = "auto",
        /// Sentio's kernels for the ops they take, tract's for the rest.
        Sentio = "sentio",
        /// tract's own plan.
        Tract = "tract",
    }
}

choice_enum! {
    /// Which face detector the device runs (`faces.detector`).
    pub enum FaceDetectorKind {
        /// OpenCV's Haar cascades, evaluated in Rust.
        Haar = "haar",
        /// MediaPipe's BlazeFace short-range model, through the inference runtime.
        Blazeface = "blazeface",
    }
}

choice_enum! {
    /// Where sketch mode's pen input comes from (`pointer.driver`).
    pub enum PointerDriver {
        /// No touch panel: no sketch mode.
        None = "none",
        /// A stroke file replayed from the first frame on (recorded or made-up drawings).
        Sim = "sim",
        /// A touch panel or pen on the Linux input event interface (`/dev/input/eventN`).
        Evdev = "evdev",
    }
}

/// Display rotation (`display.rotation`, written as degrees in the profile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Rotation {
    #[default]
    Deg0,
    Deg90,
    Deg180,
    Deg270,
}

impl Rotation {
    /// Every rotation.
    pub const ALL: &'static [Rotation] = &[
        Rotation::Deg0,
        Rotation::Deg90,
        Rotation::Deg180,
        Rotation::Deg270,
    ];

    /// Clockwise rotation in degrees.
    pub const fn degrees(self) -> u16 {
        match self {
            Rotation::Deg0 => 0,
            Rotation::Deg90 => 90,
            Rotation::Deg180 => 180,
            Rotation::Deg270 => 270,
        }
    }

    /// The rotation for 0, 90, 180 or 270 degrees.
    pub fn from_degrees(degrees: i64) -> Option<Rotation> {
        Self::ALL
            .iter()
            .copied()
            .find(|r| i64::from(r.degrees()) == degrees)
    }

    /// Whether width and height trade places at this rotation.
    pub fn swaps_axes(self) -> bool {
        matches!(self, Rotation::Deg90 | Rotation::Deg270)
    }
}

impl fmt::Display for Rotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.degrees())
    }
}

/// `[board]`: what the profile describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardInfo {
    pub name: String,
    pub description: String,
}

/// `[cpu]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuConfig {
    pub arch: Arch,
    /// 1..=64.
    pub cores: u32,
    /// No duplicates; each available on `arch`.
    pub features: Vec<CpuFeature>,
}

impl CpuConfig {
    pub fn has(&self, feature: CpuFeature) -> bool {
        self.features.contains(&feature)
    }
}

/// `[camera]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraConfig {
    pub driver: CameraDriver,
    /// v4l: the device node. sim: `"pattern"`, an image file or a folder of images
    /// (relative paths: see [`crate::BoardProfile::resolve`]).
    pub device: String,
    /// 16..=4096.
    pub width: u32,
    /// 16..=4096.
    pub height: u32,
    /// 1..=240.
    pub fps: u32,
    /// Supported by `driver` (see [`CameraPixelFormat::supported_by`]).
    pub pixel_format: CameraPixelFormat,
}

/// `[audio]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioConfig {
    pub driver: AudioDriver,
    /// alsa: PCM name. sim: a WAV file or `"silence"`.
    pub capture: String,
    /// alsa: PCM name. sim: the WAV file to write.
    pub playback: String,
    /// One of [`SAMPLE_RATES`](crate::SAMPLE_RATES).
    pub rate: u32,
}

/// `[display]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayConfig {
    pub driver: DisplayDriver,
    /// Panel width in pixels, in the panel's native orientation (0 for `none`).
    pub width: u32,
    /// Panel height in pixels, in the panel's native orientation (0 for `none`).
    pub height: u32,
    pub rotation: Rotation,
    /// Present exactly when `driver.needs_spi()`.
    pub spi: Option<SpiDisplayConfig>,
    /// Present exactly when `driver.needs_i2c()`.
    pub i2c: Option<I2cDisplayConfig>,
}

impl DisplayConfig {
    /// The size screen code draws at: width x height with the rotation applied.
    pub fn logical_size(&self) -> (u32, u32) {
        if self.rotation.swaps_axes() {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }
}

/// `[display.spi]`: an SPI panel with its control lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpiDisplayConfig {
    /// spidev node, e.g. `/dev/spidev0.0`.
    pub device: String,
    /// 100_000..=100_000_000.
    pub speed_hz: u32,
    /// GPIO character device holding `dc`, `reset` and `backlight`.
    pub gpio_chip: String,
    /// Data/command line offset on `gpio_chip`.
    pub dc: u32,
    /// Reset line offset on `gpio_chip`.
    pub reset: u32,
    /// Backlight enable line offset on `gpio_chip`, if the backlight is switchable.
    pub backlight: Option<u32>,
}

/// `[display.i2c]`: an I2C panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct I2cDisplayConfig {
    /// i2c-dev node, e.g. `/dev/i2c-1`.
    pub device: String,
    /// 7-bit address (ssd1306: 0x3c or 0x3d).
    pub address: u8,
}

/// `[gpio]`: extra inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpioConfig {
    pub chip: String,
    /// Push button line offset on `chip` (active low with pull-up is the usual wiring).
    pub button: Option<u32>,
    /// The button is a consent button: the device starts with the camera and microphone
    /// paused, and each press starts or stops sensing.
    pub consent: bool,
    /// "Next track" button line offset on `chip` (the music player skips to another track of
    /// the mood), wired like `button`.
    pub next: Option<u32>,
    /// "Volume up" button line offset on `chip`, wired like `button`.
    pub volume_up: Option<u32>,
    /// "Volume down" button line offset on `chip`, wired like `button`.
    pub volume_down: Option<u32>,
}

/// `[serial]`: the link to the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialConfig {
    pub device: String,
    /// One of [`BAUD_RATES`](crate::BAUD_RATES).
    pub baud: u32,
}

/// `[runtime]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Inference threads, 1..=cpu.cores.
    pub threads: u32,
    pub precision: Precision,
    /// Whose kernels run the f32 models (`runtime.kernels`, default `auto`).
    pub kernels: Kernels,
}

/// `[models]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelsConfig {
    /// Model names to load at start, unique, each `[a-z0-9_-]+`.
    pub load: Vec<String>,
    /// Where the shipped models are: `DIR/<name>/model.onnx` with its `manifest.json`. The
    /// store's active version of a name, when there is one, is used instead.
    pub dir: Option<String>,
}

/// `[faces]`: face detection and tracking. Every key is optional.
#[derive(Debug, Clone, PartialEq)]
pub struct FacesConfig {
    pub detector: FaceDetectorKind,
    /// The Haar cascade XML (OpenCV's format).
    pub cascade: String,
    /// The BlazeFace ONNX model.
    pub model: String,
    /// Haar: ratio between two scales of the pyramid, 1.01 to 2.0.
    pub scale_factor: f32,
    /// Haar: windows a face needs.
    pub min_neighbors: u32,
    /// Smallest face side, in pixels of the image the detector sees.
    pub min_size: u32,
    /// Detect every this many frames while a face is tracked.
    pub detect_every: u32,
    /// The detector sees the frame shrunk by this integer factor.
    pub downscale: u32,
}

impl Default for FacesConfig {
    fn default() -> Self {
        Self {
            detector: FaceDetectorKind::Haar,
            cascade: "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml".into(),
            model: "/usr/share/sentio/models/blazeface/model.onnx".into(),
            scale_factor: 1.1,
            min_neighbors: 3,
            min_size: 24,
            detect_every: 3,
            downscale: 2,
        }
    }
}

/// `[pointer]`: the touch panel or pen of sketch mode. Without the section the driver is
/// `none` and the other keys are at their defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointerConfig {
    pub driver: PointerDriver,
    /// sim: the stroke file to replay, already resolved against the profile's folder (present
    /// exactly when `driver` is `sim`).
    pub strokes: Option<PathBuf>,
    /// evdev: the event device node, e.g. `/dev/input/event0` (present exactly when `driver` is
    /// `evdev`).
    pub device: Option<String>,
    /// A drawing is finished once the pen has been up this long, in ms (see
    /// [`PointerConfig::IDLE_MS_RANGE`]).
    pub idle_ms: u32,
}

impl PointerConfig {
    /// `idle_ms` when the key is left out.
    pub const DEFAULT_IDLE_MS: u32 = 1500;
    /// The `idle_ms` a profile may give.
    pub const IDLE_MS_RANGE: RangeInclusive<u32> = 100..=10_000;

    /// `idle_ms` as a duration.
    pub fn idle(&self) -> Duration {
        Duration::from_millis(u64::from(self.idle_ms))
    }
}

impl Default for PointerConfig {
    fn default() -> Self {
        Self {
            driver: PointerDriver::None,
            strokes: None,
            device: None,
            idle_ms: Self::DEFAULT_IDLE_MS,
        }
    }
}

/// Where a profile came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileOrigin {
    /// One of [`builtin_names`](crate::builtin_names).
    BuiltIn(String),
    /// A profile file.
    File(PathBuf),
}

impl ProfileOrigin {
    /// How error messages name the profile: the file path, or `boards/profiles/NAME.toml`
    /// for a built-in one.
    pub fn label(&self) -> String {
        match self {
            ProfileOrigin::BuiltIn(name) => format!("boards/profiles/{name}.toml"),
            ProfileOrigin::File(path) => path.display().to_string(),
        }
    }
}

impl fmt::Display for ProfileOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProfileOrigin::BuiltIn(name) => write!(f, "built-in board {name}"),
            ProfileOrigin::File(path) => write!(f, "{}", path.display()),
        }
    }
}
