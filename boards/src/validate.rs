//! Value checks: turns the spanned [`RawProfile`] into the plain public types, reporting the
//! first problem with its location, the allowed values and a help line.

use std::ops::{Range, RangeInclusive};
use std::path::PathBuf;

use sentio_mood::{Modality, Mood, MoodConfig, MoodTable};
use sentio_music::{MusicConfig, MusicError};
use toml::Spanned;

use crate::error::{ErrorKind, ProfileError, Source, closest, example_for};
use crate::raw::{
    RawAudio, RawCamera, RawCpu, RawDisplay, RawFaces, RawI2c, RawMood, RawMusic, RawOverrides,
    RawPointer, RawProfile, RawSpi,
};
use crate::types::*;
use crate::{BAUD_RATES, SAMPLE_RATES};

/// A closed set of names (implemented by every `choice_enum!`).
pub(crate) trait Choice: Copy + 'static {
    fn all() -> &'static [Self];
    fn name(self) -> &'static str;
}

/// Everything of a [`crate::BoardProfile`] that comes from the text.
pub(crate) struct Checked {
    pub board: BoardInfo,
    pub cpu: CpuConfig,
    pub camera: CameraConfig,
    pub audio: AudioConfig,
    pub display: DisplayConfig,
    pub gpio: Option<GpioConfig>,
    pub serial: SerialConfig,
    pub runtime: RuntimeConfig,
    pub models: ModelsConfig,
    pub faces: FacesConfig,
    pub mood: MoodConfig,
    /// Paths as written (resolved against the profile's folder by the caller).
    pub music: Option<MusicConfig>,
    /// `strokes` as written (resolved against the profile's folder by the caller).
    pub pointer: PointerConfig,
}

type Result<T> = std::result::Result<T, ProfileError>;

/// GPIO line offsets above this are rejected (the largest gpiochip on supported SoCs has 256).
const MAX_GPIO_LINE: i64 = 1023;

pub(crate) fn check(raw: RawProfile, src: &Source<'_>) -> Result<Checked> {
    let c = Checker { src };

    let board = BoardInfo {
        name: c.non_empty(
            &raw.board.get_ref().name,
            "board.name",
            "name the board, e.g. `name = \"rpi4\"`",
        )?,
        description: raw.board.get_ref().description.get_ref().clone(),
    };
    let cpu = c.cpu(raw.cpu.get_ref())?;
    let camera = c.camera(raw.camera.get_ref())?;
    let audio = c.audio(raw.audio.get_ref())?;
    let display = c.display(&raw.display)?;

    let gpio = match &raw.gpio {
        None => None,
        Some(g) => {
            let g = g.get_ref();
            let consent = g.consent.as_ref().is_some_and(|c| *c.get_ref());
            if let (true, None, Some(flag)) = (consent, &g.button, &g.consent) {
                return Err(c
                    .err(
                        ErrorKind::Conflict,
                        flag.span(),
                        "gpio.consent",
                        "the consent button needs a button",
                    )
                    .help("add `button = 17` (the line offset of the button's GPIO) to [gpio], or set consent = false"));
            }
            Some(GpioConfig {
                consent,
                chip: c.non_empty(
                    &g.chip,
                    "gpio.chip",
                    "the GPIO character device, e.g. \"/dev/gpiochip0\" (`gpiodetect` lists them)",
                )?,
                button: c.optional_gpio_line(&g.button, "gpio.button")?,
                next: c.optional_gpio_line(&g.next, "gpio.next")?,
                volume_up: c.optional_gpio_line(&g.volume_up, "gpio.volume_up")?,
                volume_down: c.optional_gpio_line(&g.volume_down, "gpio.volume_down")?,
            })
        }
    };
    c.pins_unique(&raw, &display, gpio.as_ref())?;

    let serial = {
        let s = raw.serial.get_ref();
        SerialConfig {
            device: c.non_empty(
                &s.device,
                "serial.device",
                "the serial device of the host link, e.g. \"/dev/ttyGS0\"",
            )?,
            baud: c.one_of(
                &s.baud,
                "serial.baud",
                BAUD_RATES,
                "is not a supported baud rate",
                "921600 works with USB gadget serial and most USB-UART adapters",
            )?,
        }
    };

    let runtime = {
        let r = raw.runtime.get_ref();
        let threads = c.range(
            &r.threads,
            "runtime.threads",
            1,
            64,
            "number of inference threads",
        )?;
        if threads > cpu.cores {
            return Err(c
                .err(
                    ErrorKind::Conflict,
                    r.threads.span(),
                    "runtime.threads",
                    format!("{threads} threads but cpu.cores is {}", cpu.cores),
                )
                .allowed([format!("1 to {}", cpu.cores)])
                .help("use at most one thread per core; leaving one core for capture and display keeps the frame rate steady"));
        }
        RuntimeConfig {
            threads,
            precision: c.choice(
                &r.precision,
                "runtime.precision",
                "precision",
                "auto picks int8 where the model has int8 weights and the CPU fast int8 kernels",
            )?,
            kernels: match &r.kernels {
                Some(kernels) => c.choice(
                    kernels,
                    "runtime.kernels",
                    "kernel choice",
                    "auto times Sentio's kernels against tract's own plan at load and keeps the faster",
                )?,
                None => Kernels::Auto,
            },
        }
    };

    let models = ModelsConfig {
        load: c.models(&raw.models.get_ref().load)?,
        dir: match &raw.models.get_ref().dir {
            Some(dir) => Some(c.non_empty(
                dir,
                "models.dir",
                "the folder of shipped models (DIR/<name>/model.onnx + manifest.json)",
            )?),
            None => None,
        },
    };
    let faces = match &raw.faces {
        Some(f) => c.faces(f.get_ref())?,
        None => FacesConfig::default(),
    };
    let mood = match &raw.mood {
        Some(m) => c.mood(m)?,
        None => MoodConfig::default(),
    };
    let music = raw.music.as_ref().map(|m| c.music(m)).transpose()?;
    let pointer = match &raw.pointer {
        Some(p) => c.pointer(p)?,
        None => PointerConfig::default(),
    };

    Ok(Checked {
        board,
        cpu,
        camera,
        audio,
        display,
        gpio,
        serial,
        runtime,
        models,
        faces,
        mood,
        music,
        pointer,
    })
}

struct Checker<'a> {
    src: &'a Source<'a>,
}

impl Checker<'_> {
    fn err(
        &self,
        kind: ErrorKind,
        span: Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> ProfileError {
        ProfileError::new(kind, message).at(self.src, span).key(key)
    }

    fn choice<T: Choice>(
        &self,
        value: &Spanned<String>,
        key: &str,
        noun: &str,
        help: &str,
    ) -> Result<T> {
        let text = value.get_ref();
        if let Some(choice) = T::all().iter().copied().find(|c| c.name() == text) {
            return Ok(choice);
        }
        let names: Vec<&str> = T::all().iter().map(|c| c.name()).collect();
        let help = match closest(text, names.iter().copied()) {
            Some(close) => format!("did you mean \"{close}\"? {help}"),
            None => help.to_owned(),
        };
        Err(self
            .err(
                ErrorKind::BadValue,
                value.span(),
                key,
                format!("unknown {noun} {text:?}"),
            )
            .allowed(names)
            .help(help))
    }

    fn range(&self, value: &Spanned<i64>, key: &str, lo: i64, hi: i64, help: &str) -> Result<u32> {
        let v = *value.get_ref();
        match u32::try_from(v) {
            Ok(n) if (lo..=hi).contains(&v) => Ok(n),
            _ => Err(self
                .err(
                    ErrorKind::BadValue,
                    value.span(),
                    key,
                    format!("{v} is out of range"),
                )
                .allowed([format!("{lo} to {hi}")])
                .help(help)),
        }
    }

    fn one_of(
        &self,
        value: &Spanned<i64>,
        key: &str,
        set: &[u32],
        what: &str,
        help: &str,
    ) -> Result<u32> {
        let v = *value.get_ref();
        match set.iter().copied().find(|s| i64::from(*s) == v) {
            Some(n) => Ok(n),
            None => Err(self
                .err(
                    ErrorKind::BadValue,
                    value.span(),
                    key,
                    format!("{v} {what}"),
                )
                .allowed(set)
                .help(help)),
        }
    }

    fn non_empty(&self, value: &Spanned<String>, key: &str, help: &str) -> Result<String> {
        if value.get_ref().trim().is_empty() {
            return Err(self
                .err(ErrorKind::BadValue, value.span(), key, "must not be empty")
                .help(help));
        }
        Ok(value.get_ref().clone())
    }

    /// A device node path such as `/dev/spidev0.0`.
    fn device_path(&self, value: &Spanned<String>, key: &str, help: &str) -> Result<String> {
        let text = self.non_empty(value, key, help)?;
        if !text.starts_with('/') {
            return Err(self
                .err(
                    ErrorKind::BadValue,
                    value.span(),
                    key,
                    format!("{text:?} is not an absolute device path"),
                )
                .help(help));
        }
        Ok(text)
    }

    fn gpio_line(&self, value: &Spanned<i64>, key: &str) -> Result<u32> {
        self.range(
            value,
            key,
            0,
            MAX_GPIO_LINE,
            "a line offset on the GPIO chip (`gpioinfo` lists them), not a physical header pin number",
        )
    }

    fn optional_gpio_line(&self, value: &Option<Spanned<i64>>, key: &str) -> Result<Option<u32>> {
        value.as_ref().map(|v| self.gpio_line(v, key)).transpose()
    }

    fn cpu(&self, cpu: &RawCpu) -> Result<CpuConfig> {
        let arch: Arch = self.choice(
            &cpu.arch,
            "cpu.arch",
            "architecture",
            "the instruction set of the board's OS (`uname -m`)",
        )?;
        let cores = self.range(
            &cpu.cores,
            "cpu.cores",
            1,
            64,
            "number of CPU cores (`nproc`)",
        )?;
        let mut features: Vec<CpuFeature> = Vec::new();
        for (i, item) in cpu.features.get_ref().iter().enumerate() {
            let key = format!("cpu.features[{i}]");
            let feature: CpuFeature = self.choice(
                item,
                &key,
                "CPU feature",
                "list the SoC's SIMD extensions (the Features line of /proc/cpuinfo)",
            )?;
            if !CpuFeature::available_on(arch).contains(&feature) {
                return Err(self
                    .err(
                        ErrorKind::Conflict,
                        item.span(),
                        key,
                        format!("{:?} is not a feature of {arch}", feature.as_str()),
                    )
                    .allowed(CpuFeature::available_on(arch))
                    .help(format!(
                        "cpu.arch is {:?}; list only extensions this CPU has",
                        arch.as_str()
                    )));
            }
            if features.contains(&feature) {
                return Err(self
                    .err(
                        ErrorKind::BadValue,
                        item.span(),
                        key,
                        format!("{:?} is listed twice", feature.as_str()),
                    )
                    .help("remove the repeated feature"));
            }
            features.push(feature);
        }
        Ok(CpuConfig {
            arch,
            cores,
            features,
        })
    }

    fn camera(&self, cam: &RawCamera) -> Result<CameraConfig> {
        let driver: CameraDriver = self.choice(
            &cam.driver,
            "camera.driver",
            "camera driver",
            "v4l for a V4L2 camera (USB webcams), sim for synthetic frames",
        )?;
        let device = match driver {
            CameraDriver::V4l => self.device_path(
                &cam.device,
                "camera.device",
                "the V4L2 device node, e.g. \"/dev/video0\" (`v4l2-ctl --list-devices` lists them)",
            )?,
            CameraDriver::Sim => self.non_empty(
                &cam.device,
                "camera.device",
                "\"pattern\", an image file or a folder of images",
            )?,
        };
        let width = self.range(
            &cam.width,
            "camera.width",
            16,
            4096,
            "capture width in pixels; 640 is plenty for face models",
        )?;
        let height = self.range(
            &cam.height,
            "camera.height",
            16,
            4096,
            "capture height in pixels; 480 is plenty for face models",
        )?;
        let fps = self.range(
            &cam.fps,
            "camera.fps",
            1,
            240,
            "frames per second asked of the camera; 15 or 30 are typical",
        )?;
        let pixel_format: CameraPixelFormat = self.choice(
            &cam.pixel_format,
            "camera.pixel_format",
            "pixel format",
            "v4l cameras deliver yuyv or mjpeg; the sim driver produces rgb888 or gray8",
        )?;
        let supported = CameraPixelFormat::supported_by(driver);
        if !supported.contains(&pixel_format) {
            return Err(self
                .err(
                    ErrorKind::Conflict,
                    cam.pixel_format.span(),
                    "camera.pixel_format",
                    format!(
                        "pixel format {:?} does not work with camera driver {:?}",
                        pixel_format.as_str(),
                        driver.as_str()
                    ),
                )
                .allowed(supported)
                .help(match driver {
                    CameraDriver::V4l => "V4L2 webcams deliver yuyv or mjpeg (`v4l2-ctl --list-formats-ext` shows which)",
                    CameraDriver::Sim => "the sim camera decodes its images to rgb888 or gray8",
                }));
        }
        Ok(CameraConfig {
            driver,
            device,
            width,
            height,
            fps,
            pixel_format,
        })
    }

    fn audio(&self, audio: &RawAudio) -> Result<AudioConfig> {
        let driver: AudioDriver = self.choice(
            &audio.driver,
            "audio.driver",
            "audio driver",
            "alsa for sound cards, sim for WAV files",
        )?;
        let (capture_help, playback_help) = match driver {
            AudioDriver::Alsa => (
                "an ALSA PCM, e.g. \"plughw:1,0\" (`arecord -l` lists capture devices)",
                "an ALSA PCM, e.g. \"plughw:0,0\" (`aplay -l` lists playback devices)",
            ),
            AudioDriver::Sim => (
                "a WAV file to read, or \"silence\"",
                "the WAV file to write, e.g. \"speaker.wav\"",
            ),
        };
        Ok(AudioConfig {
            driver,
            capture: self.non_empty(&audio.capture, "audio.capture", capture_help)?,
            playback: self.non_empty(&audio.playback, "audio.playback", playback_help)?,
            rate: self.one_of(
                &audio.rate,
                "audio.rate",
                SAMPLE_RATES,
                "is not a supported sample rate",
                "16000 is what the speech models expect; other rates are resampled",
            )?,
        })
    }

    fn display(&self, display: &Spanned<RawDisplay>) -> Result<DisplayConfig> {
        let table = display.span();
        let d = display.get_ref();
        let driver: DisplayDriver = self.choice(
            &d.driver,
            "display.driver",
            "display driver",
            "sim-rgb565 or sim-mono run without a panel; none disables the display",
        )?;

        let rotation = match &d.rotation {
            None => Rotation::Deg0,
            Some(r) => Rotation::from_degrees(*r.get_ref()).ok_or_else(|| {
                self.err(
                    ErrorKind::BadValue,
                    r.span(),
                    "display.rotation",
                    format!("{} is not a supported rotation", r.get_ref()),
                )
                .allowed(Rotation::ALL)
                .help("clockwise rotation in degrees")
            })?,
        };

        let (width, height) = if driver == DisplayDriver::None {
            (0, 0)
        } else {
            self.display_size(driver, table.clone(), d)?
        };

        let spi = match (&d.spi, driver.needs_spi()) {
            (Some(spi), true) => Some(self.spi(spi.get_ref())?),
            (None, false) => None,
            (None, true) => {
                return Err(self
                    .err(
                        ErrorKind::MissingKey,
                        table,
                        "display.spi",
                        format!("display driver {:?} needs a [display.spi] table", driver.as_str()),
                    )
                    .help("add [display.spi] with device, speed_hz, gpio_chip, dc, reset (and backlight); see docs/boards.md"));
            }
            (Some(spi), false) => {
                return Err(self
                    .err(
                        ErrorKind::Conflict,
                        spi.span(),
                        "display.spi",
                        format!("display driver {:?} does not use SPI", driver.as_str()),
                    )
                    .help(stray_bus_help(driver, "spi")));
            }
        };
        let i2c = match (&d.i2c, driver.needs_i2c()) {
            (Some(i2c), true) => Some(self.i2c(driver, i2c.get_ref())?),
            (None, false) => None,
            (None, true) => {
                return Err(self
                    .err(
                        ErrorKind::MissingKey,
                        table,
                        "display.i2c",
                        format!(
                            "display driver {:?} needs a [display.i2c] table",
                            driver.as_str()
                        ),
                    )
                    .help("add [display.i2c] with device and address; see docs/boards.md"));
            }
            (Some(i2c), false) => {
                return Err(self
                    .err(
                        ErrorKind::Conflict,
                        i2c.span(),
                        "display.i2c",
                        format!("display driver {:?} does not use I2C", driver.as_str()),
                    )
                    .help(stray_bus_help(driver, "i2c")));
            }
        };

        Ok(DisplayConfig {
            driver,
            width,
            height,
            rotation,
            spi,
            i2c,
        })
    }

    fn display_size(
        &self,
        driver: DisplayDriver,
        table: Range<usize>,
        d: &RawDisplay,
    ) -> Result<(u32, u32)> {
        let required = |value: &Option<Spanned<i64>>, name: &str| {
            value.clone().ok_or_else(|| {
                let key = format!("display.{name}");
                let example = crate::error::example_for(&key).unwrap_or("");
                self.err(
                    ErrorKind::MissingKey,
                    table.clone(),
                    key,
                    format!("missing key `{name}` in [display]"),
                )
                .help(format!(
                    "display driver {:?} needs the panel size: add `{example}` to [display]",
                    driver.as_str()
                ))
            })
        };
        let w = required(&d.width, "width")?;
        let h = required(&d.height, "height")?;
        let max = match driver {
            DisplayDriver::SimMono => 512,
            DisplayDriver::SimRgb565 => 1024,
            _ => 4096,
        };
        let help = "panel size in pixels in its native orientation";
        let width = self.range(&w, "display.width", 1, max, help)?;
        let height = self.range(&h, "display.height", 1, max, help)?;

        let sizes: &[(u32, u32)] = match driver {
            DisplayDriver::St7789 => &[(240, 240), (240, 320), (320, 240)],
            DisplayDriver::Ili9341 => &[(320, 240), (240, 320)],
            DisplayDriver::Ssd1306 => &[(128, 64), (128, 32)],
            _ => &[],
        };
        if !sizes.is_empty() && !sizes.contains(&(width, height)) {
            return Err(self
                .err(
                    ErrorKind::BadValue,
                    w.span(),
                    "display.width",
                    format!(
                        "{width}x{height} (width x height) is not a {} panel size",
                        driver.as_str()
                    ),
                )
                .allowed(sizes.iter().map(|(w, h)| format!("{w}x{h}")))
                .help(
                    "give the panel's native resolution; use display.rotation to turn the picture",
                ));
        }
        Ok((width, height))
    }

    fn spi(&self, spi: &RawSpi) -> Result<SpiDisplayConfig> {
        Ok(SpiDisplayConfig {
            device: self.device_path(
                &spi.device,
                "display.spi.device",
                "the spidev node, e.g. \"/dev/spidev0.0\" (enable SPI first: dtparam=spi=on on a Pi, jetson-io on a Jetson)",
            )?,
            speed_hz: self.range(
                &spi.speed_hz,
                "display.spi.speed_hz",
                100_000,
                100_000_000,
                "SPI clock in Hz; 40000000 suits ST7789/ILI9341 modules on short wires",
            )?,
            gpio_chip: self.non_empty(
                &spi.gpio_chip,
                "display.spi.gpio_chip",
                "the GPIO character device holding dc/reset/backlight, e.g. \"/dev/gpiochip0\"",
            )?,
            dc: self.gpio_line(&spi.dc, "display.spi.dc")?,
            reset: self.gpio_line(&spi.reset, "display.spi.reset")?,
            backlight: spi
                .backlight
                .as_ref()
                .map(|b| self.gpio_line(b, "display.spi.backlight"))
                .transpose()?,
        })
    }

    fn i2c(&self, driver: DisplayDriver, i2c: &RawI2c) -> Result<I2cDisplayConfig> {
        let device = self.device_path(
            &i2c.device,
            "display.i2c.device",
            "the i2c-dev node, e.g. \"/dev/i2c-1\" (`i2cdetect -l` lists buses)",
        )?;
        let v = *i2c.address.get_ref();
        let allowed: &[u8] = match driver {
            DisplayDriver::Ssd1306 => &[0x3c, 0x3d],
            _ => &[],
        };
        let address = u8::try_from(v).ok().filter(|a| *a <= 0x7f);
        match address {
            Some(a) if allowed.is_empty() || allowed.contains(&a) => {
                Ok(I2cDisplayConfig { device, address: a })
            }
            _ => {
                let shown = if (0..=0xff).contains(&v) {
                    format!("{v:#04x}")
                } else {
                    v.to_string()
                };
                Err(self
                    .err(
                        ErrorKind::BadValue,
                        i2c.address.span(),
                        "display.i2c.address",
                        format!("{shown} is not an {} I2C address", driver.as_str()),
                    )
                    .allowed(allowed.iter().map(|a| format!("{a:#04x}")))
                    .help("SSD1306 modules answer at 0x3c, or 0x3d when the address pad is bridged; `i2cdetect -y 1` shows it"))
            }
        }
    }

    /// No GPIO line may have two jobs on the same chip.
    fn pins_unique(
        &self,
        raw: &RawProfile,
        display: &DisplayConfig,
        gpio: Option<&GpioConfig>,
    ) -> Result<()> {
        let mut claims: Vec<(&str, u32, &str, Range<usize>)> = Vec::new();
        if let (Some(spi), Some(raw_spi)) = (&display.spi, &raw.display.get_ref().spi) {
            let raw_spi = raw_spi.get_ref();
            let chip = spi.gpio_chip.as_str();
            claims.push((chip, spi.dc, "display.spi.dc", raw_spi.dc.span()));
            claims.push((chip, spi.reset, "display.spi.reset", raw_spi.reset.span()));
            if let (Some(line), Some(raw_bl)) = (spi.backlight, &raw_spi.backlight) {
                claims.push((chip, line, "display.spi.backlight", raw_bl.span()));
            }
        }
        if let (Some(g), Some(raw_gpio)) = (gpio, &raw.gpio) {
            let r = raw_gpio.get_ref();
            for (line, raw_line, key) in [
                (g.button, &r.button, "gpio.button"),
                (g.next, &r.next, "gpio.next"),
                (g.volume_up, &r.volume_up, "gpio.volume_up"),
                (g.volume_down, &r.volume_down, "gpio.volume_down"),
            ] {
                if let (Some(line), Some(raw_line)) = (line, raw_line) {
                    claims.push((g.chip.as_str(), line, key, raw_line.span()));
                }
            }
        }

        let same_chip =
            |a: &str, b: &str| a.trim_start_matches("/dev/") == b.trim_start_matches("/dev/");
        for (i, (chip, line, key, span)) in claims.iter().enumerate() {
            if let Some((_, _, first, _)) = claims[..i]
                .iter()
                .find(|(c, l, _, _)| l == line && same_chip(c, chip))
            {
                return Err(self
                    .err(
                        ErrorKind::Conflict,
                        span.clone(),
                        *key,
                        format!("GPIO line {line} on {chip} is used by both {first} and {key}"),
                    )
                    .help("each line can have one job; wire one of them to a free line (`gpioinfo` shows which are used)"));
            }
        }
        Ok(())
    }

    fn faces(&self, f: &RawFaces) -> Result<FacesConfig> {
        let mut faces = FacesConfig::default();
        if let Some(d) = &f.detector {
            faces.detector = self.choice(
                d,
                "faces.detector",
                "face detector",
                "haar runs anywhere with a cascade file; blazeface needs its ONNX model",
            )?;
        }
        if let Some(p) = &f.cascade {
            faces.cascade = self.non_empty(p, "faces.cascade", "the path of a Haar cascade XML")?;
        }
        if let Some(p) = &f.model {
            faces.model = self.non_empty(p, "faces.model", "the path of BlazeFace's ONNX file")?;
        }
        if let Some(v) = &f.scale_factor {
            let x = *v.get_ref();
            if !(1.01..=2.0).contains(&x) {
                return Err(self
                    .err(
                        ErrorKind::BadValue,
                        v.span(),
                        "faces.scale_factor",
                        format!("{x} is out of range"),
                    )
                    .allowed(["1.01 to 2.0"])
                    .help(
                        "1.1 is OpenCV's usual step; larger steps are faster and miss more faces",
                    ));
            }
            faces.scale_factor = x as f32;
        }
        if let Some(v) = &f.min_neighbors {
            faces.min_neighbors =
                self.range(v, "faces.min_neighbors", 0, 50, "3 is OpenCV's usual value")?;
        }
        if let Some(v) = &f.min_size {
            faces.min_size = self.range(
                v,
                "faces.min_size",
                8,
                4096,
                "24 is the cascade's own window",
            )?;
        }
        if let Some(v) = &f.detect_every {
            faces.detect_every = self.range(
                v,
                "faces.detect_every",
                1,
                60,
                "the tracker follows the face in between; 3 is a good start",
            )?;
        }
        if let Some(v) = &f.downscale {
            faces.downscale = self.range(
                v,
                "faces.downscale",
                1,
                8,
                "2 turns 640x480 into 320x240, plenty for a face at kiosk distance",
            )?;
        }
        Ok(faces)
    }

    /// `[pointer]`: the driver, the one of `strokes` and `device` it needs (the other refused),
    /// and the idle time.
    fn pointer(&self, table: &Spanned<RawPointer>) -> Result<PointerConfig> {
        let p = table.get_ref();
        let driver: PointerDriver = self.choice(
            &p.driver,
            "pointer.driver",
            "pointer driver",
            "evdev for a touch panel or pen (/dev/input/eventN), sim to replay a stroke file, none for no sketch mode",
        )?;
        let strokes =
            match self.pointer_key(table, driver, &p.strokes, "strokes", PointerDriver::Sim)? {
                Some(v) => Some(PathBuf::from(self.non_empty(
                    v,
                    "pointer.strokes",
                    "a stroke file (JSON, see docs/boards.md), relative to the profile's folder",
                )?)),
                None => None,
            };
        let device = match self.pointer_key(table, driver, &p.device, "device", PointerDriver::Evdev)? {
            Some(v) => Some(self.device_path(
                v,
                "pointer.device",
                "the touch panel's event device, e.g. \"/dev/input/event0\" (`cat /proc/bus/input/devices` lists them)",
            )?),
            None => None,
        };
        let idle_ms = match &p.idle_ms {
            Some(v) => {
                let range = PointerConfig::IDLE_MS_RANGE;
                self.range(
                    v,
                    "pointer.idle_ms",
                    i64::from(*range.start()),
                    i64::from(*range.end()),
                    "a drawing is finished once the pen has been up this long, in ms; 1500 gives a visitor time to add a stroke",
                )?
            }
            None => PointerConfig::DEFAULT_IDLE_MS,
        };
        Ok(PointerConfig {
            driver,
            strokes,
            device,
            idle_ms,
        })
    }

    /// A `[pointer]` key that driver `uses` needs and every other driver refuses.
    fn pointer_key<'v>(
        &self,
        table: &Spanned<RawPointer>,
        driver: PointerDriver,
        value: &'v Option<Spanned<String>>,
        name: &str,
        uses: PointerDriver,
    ) -> Result<Option<&'v Spanned<String>>> {
        let key = format!("pointer.{name}");
        match (value, driver == uses) {
            (Some(v), true) => Ok(Some(v)),
            (None, false) => Ok(None),
            (None, true) => {
                let example = example_for(&key).unwrap_or("");
                Err(self
                    .err(
                        ErrorKind::MissingKey,
                        table.span(),
                        key,
                        format!("pointer driver {:?} needs `{name}`", driver.as_str()),
                    )
                    .help(format!("add `{example}` to [pointer]")))
            }
            (Some(v), false) => Err(self
                .err(
                    ErrorKind::Conflict,
                    v.span(),
                    key,
                    format!("pointer driver {:?} does not use `{name}`", driver.as_str()),
                )
                .help(format!(
                    "`{name}` belongs to driver = \"{}\": remove it, or switch the driver",
                    uses.as_str()
                ))),
        }
    }

    /// A float key checked against `range` (of `sentio_mood::MoodConfig`).
    fn float_range(
        &self,
        value: &Spanned<f64>,
        key: &str,
        range: &RangeInclusive<f32>,
        help: &str,
    ) -> Result<f32> {
        let v = *value.get_ref();
        let (lo, hi) = (f64::from(*range.start()), f64::from(*range.end()));
        if v.is_finite() && (lo..=hi).contains(&v) {
            return Ok(v as f32);
        }
        Err(self
            .err(
                ErrorKind::BadValue,
                value.span(),
                key,
                format!("{v} is out of range"),
            )
            .allowed([format!("{} to {}", range.start(), range.end())])
            .help(help))
    }

    /// An integer key in milliseconds checked against `range`.
    fn ms_range(
        &self,
        value: &Spanned<i64>,
        key: &str,
        range: &RangeInclusive<u64>,
        help: &str,
    ) -> Result<u64> {
        let v = *value.get_ref();
        match u64::try_from(v) {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(self
                .err(
                    ErrorKind::BadValue,
                    value.span(),
                    key,
                    format!("{v} is out of range"),
                )
                .allowed([format!("{} to {}", range.start(), range.end())])
                .help(help)),
        }
    }

    /// A mood name (`idle_mood`, or the value of a table override).
    fn mood_name(&self, value: &Spanned<String>, key: &str, help: &str) -> Result<Mood> {
        let text = value.get_ref();
        if let Some(mood) = Mood::from_label(text) {
            return Ok(mood);
        }
        let names = Mood::ALL.map(Mood::as_str);
        let help = match closest(text, names) {
            Some(close) => format!("did you mean \"{close}\"? {help}"),
            None => help.to_owned(),
        };
        Err(self
            .err(
                ErrorKind::BadValue,
                value.span(),
                key,
                format!("{text:?} is not a mood"),
            )
            .allowed(names)
            .help(help))
    }

    fn mood(&self, table: &Spanned<RawMood>) -> Result<MoodConfig> {
        let m = table.get_ref();
        let mut mood = MoodConfig::default();
        let help = |key: &str| MoodConfig::key_help(key).unwrap_or("see docs/boards.md");

        let weights = [
            (&m.face_weight, "face_weight", &mut mood.face_weight),
            (&m.voice_weight, "voice_weight", &mut mood.voice_weight),
            (&m.emoji_weight, "emoji_weight", &mut mood.emoji_weight),
        ];
        let mut last_weight = None;
        for (value, name, slot) in weights {
            if let Some(v) = value {
                *slot = self.float_range(
                    v,
                    &format!("mood.{name}"),
                    &MoodConfig::WEIGHT_RANGE,
                    help(name),
                )?;
                last_weight = Some((v, name));
            }
        }
        if Modality::ALL.iter().all(|m| mood.weight(*m) == 0.0) {
            // The defaults are 1.0, so all three are written in the file.
            let (span, key) = match last_weight {
                Some((v, name)) => (v.span(), format!("mood.{name}")),
                None => (table.span(), "mood".to_owned()),
            };
            return Err(self
                .err(
                    ErrorKind::Conflict,
                    span,
                    key,
                    "face_weight, voice_weight and emoji_weight are all 0",
                )
                .help("nothing could ever move the mood; give at least one a weight above 0 (the default is 1.0)"));
        }

        let stale = [
            (&m.face_stale_ms, "face_stale_ms", &mut mood.face_stale_ms),
            (
                &m.voice_stale_ms,
                "voice_stale_ms",
                &mut mood.voice_stale_ms,
            ),
            (
                &m.emoji_stale_ms,
                "emoji_stale_ms",
                &mut mood.emoji_stale_ms,
            ),
        ];
        for (value, name, slot) in stale {
            if let Some(v) = value {
                *slot = self.ms_range(
                    v,
                    &format!("mood.{name}"),
                    &MoodConfig::STALE_MS_RANGE,
                    help(name),
                )?;
            }
        }
        if let Some(v) = &m.smoothing_ms {
            mood.smoothing_ms = self.ms_range(
                v,
                "mood.smoothing_ms",
                &MoodConfig::SMOOTHING_MS_RANGE,
                help("smoothing_ms"),
            )?;
        }
        if let Some(v) = &m.hysteresis {
            mood.hysteresis = self.float_range(
                v,
                "mood.hysteresis",
                &MoodConfig::HYSTERESIS_RANGE,
                help("hysteresis"),
            )?;
        }
        if let Some(v) = &m.min_dwell_ms {
            mood.min_dwell_ms = self.ms_range(
                v,
                "mood.min_dwell_ms",
                &MoodConfig::DWELL_MS_RANGE,
                help("min_dwell_ms"),
            )?;
        }
        if let Some(v) = &m.min_confidence {
            mood.min_confidence = self.float_range(
                v,
                "mood.min_confidence",
                &MoodConfig::CONFIDENCE_RANGE,
                help("min_confidence"),
            )?;
        }
        if let Some(v) = &m.idle_mood {
            mood.idle_mood = self
                .mood_name(v, "mood.idle_mood", help("idle_mood"))?
                .as_str()
                .to_owned();
        }

        for (raw, modality) in [
            (&m.fer7, Modality::Face),
            (&m.ser8, Modality::Voice),
            (&m.emoji8, Modality::Emoji),
        ] {
            if let Some(raw) = raw {
                let overrides = self.overrides(raw.get_ref(), modality.builtin_table())?;
                match modality {
                    Modality::Face => mood.fer7 = overrides,
                    Modality::Voice => mood.ser8 = overrides,
                    Modality::Emoji => mood.emoji8 = overrides,
                }
            }
        }

        // Everything was checked above with its location; this keeps the two checks in step.
        if let Err(e) = mood.validate() {
            return Err(self
                .err(ErrorKind::BadValue, table.span(), "mood", e.to_string())
                .help("see docs/boards.md for the [mood] keys"));
        }
        Ok(mood)
    }

    /// `[mood.<set>]`: each key a label of the set, each value a mood name.
    fn overrides(
        &self,
        raw: &RawOverrides,
        table: MoodTable,
    ) -> Result<std::collections::BTreeMap<String, String>> {
        let set = table.set();
        let mut out = std::collections::BTreeMap::new();
        for (label, mood) in raw {
            let key = format!("mood.{set}.{}", label.get_ref());
            if table.mood_of(label.get_ref()).is_none() {
                let labels = table.labels();
                let help = match closest(label.get_ref(), labels.iter().map(String::as_str)) {
                    Some(close) => format!("did you mean `{close}`? "),
                    None => String::new(),
                };
                return Err(self
                    .err(
                        ErrorKind::UnknownKey,
                        label.span(),
                        key,
                        format!("{:?} is not a label of {set}", label.get_ref()),
                    )
                    .allowed(labels)
                    .help(format!(
                        "{help}the keys of [mood.{set}] are {set}'s labels, each set to the mood it counts for"
                    )));
            }
            let m = self.mood_name(
                mood,
                &key,
                &format!(
                    "write the mood {set}'s {label:?} counts for, e.g. `{label} = \"{builtin}\"` (the built-in choice)",
                    label = label.get_ref(),
                    builtin = table.mood_of(label.get_ref()).map_or("neutral", Mood::as_str)
                ),
            )?;
            out.insert(label.get_ref().clone(), m.as_str().to_owned());
        }
        Ok(out)
    }

    /// `[music]`: every key read into a [`MusicConfig`], which `MusicConfig::validate` checks
    /// (the ranges live in sentio-music only); the key its error names is located in the file.
    /// Folders are not looked at: one that does not exist is skipped by the player at run time.
    fn music(&self, table: &Spanned<RawMusic>) -> Result<MusicConfig> {
        let m = table.get_ref();
        let mut music = MusicConfig::default();
        if let Some(folders) = &m.folders {
            for (mood, path) in folders.get_ref() {
                let key = format!("music.folders.{}", mood.get_ref());
                let path = self.non_empty(
                    path,
                    &key,
                    "a folder of tracks or an .m3u playlist, e.g. \"/var/lib/sentio/music/happy\"",
                )?;
                music
                    .folders
                    .insert(mood.get_ref().clone(), PathBuf::from(path));
            }
        }
        if let Some(v) = &m.fallback_mood {
            music.fallback_mood = v.get_ref().clone();
        }
        // An integer that does not fit a u32 becomes u32::MAX, which no key's range allows, so
        // `validate` refuses it and the error shows the value as written.
        let mut beyond_u32: Option<(&Spanned<i64>, &str)> = None;
        let ints = [
            (&m.crossfade_ms, "crossfade_ms", &mut music.crossfade_ms),
            (
                &m.skip_crossfade_ms,
                "skip_crossfade_ms",
                &mut music.skip_crossfade_ms,
            ),
            (&m.min_dwell_ms, "min_dwell_ms", &mut music.min_dwell_ms),
            (&m.long_dwell_ms, "long_dwell_ms", &mut music.long_dwell_ms),
            (&m.no_repeat, "no_repeat", &mut music.no_repeat),
            (
                &m.duck_attack_ms,
                "duck_attack_ms",
                &mut music.duck_attack_ms,
            ),
            (
                &m.duck_release_ms,
                "duck_release_ms",
                &mut music.duck_release_ms,
            ),
        ];
        for (value, name, slot) in ints {
            if let Some(v) = value {
                *slot = u32::try_from(*v.get_ref()).unwrap_or_else(|_| {
                    beyond_u32.get_or_insert((v, name));
                    u32::MAX
                });
            }
        }
        let floats = [
            (&m.duck_depth_db, &mut music.duck_depth_db),
            (&m.target_lufs, &mut music.target_lufs),
            (&m.max_gain_db, &mut music.max_gain_db),
            (&m.volume, &mut music.volume),
        ];
        for (value, slot) in floats {
            if let Some(v) = value {
                // Too large for f32 becomes infinite, which `validate` refuses.
                *slot = *v.get_ref() as f32;
            }
        }
        if let Some(v) = &m.seed {
            music.seed = u64::try_from(*v.get_ref()).map_err(|_| {
                self.err(
                    ErrorKind::BadValue,
                    v.span(),
                    "music.seed",
                    format!("{} is out of range", v.get_ref()),
                )
                .allowed([format!("0 to {}", i64::MAX)])
                .help(music_help("seed"))
            })?;
        }
        if let Some(v) = &m.loudness_cache {
            music.loudness_cache = Some(PathBuf::from(self.non_empty(
                v,
                "music.loudness_cache",
                "a JSON file the player may write, e.g. \"/var/lib/sentio/loudness.json\"; leave the key out to measure on every start",
            )?));
        }

        if let Err(e) = music.validate() {
            return Err(self.music_error(table, &music, e));
        }
        if let Some((v, name)) = beyond_u32 {
            // Not reached while every range stays below u32::MAX; kept so that it stays an error.
            return Err(self
                .err(
                    ErrorKind::BadValue,
                    v.span(),
                    format!("music.{name}"),
                    format!("{} is out of range", v.get_ref()),
                )
                .help(music_help(name)));
        }
        Ok(music)
    }

    /// Places an error of `MusicConfig::validate` at the key it names.
    fn music_error(
        &self,
        table: &Spanned<RawMusic>,
        music: &MusicConfig,
        error: MusicError,
    ) -> ProfileError {
        let m = table.get_ref();
        let MusicError::InvalidConfig {
            key,
            value,
            allowed,
        } = &error
        else {
            return self
                .err(
                    ErrorKind::BadValue,
                    table.span(),
                    "music",
                    error.to_string(),
                )
                .help("see the [music] keys in docs/boards.md");
        };
        let moods = Mood::ALL.map(Mood::as_str);
        let did_you_mean = |word: &str| match closest(word, moods) {
            Some(close) => format!("did you mean `{close}`? "),
            None => String::new(),
        };
        match *key {
            "folders" => {
                let span = m
                    .folders
                    .as_ref()
                    .and_then(|f| f.get_ref().keys().find(|k| k.get_ref() == value))
                    .map_or_else(|| table.span(), Spanned::span);
                self.err(
                    ErrorKind::UnknownKey,
                    span,
                    format!("music.folders.{value}"),
                    format!("{value:?} is not a mood"),
                )
                .allowed(moods)
                .help(format!(
                    "{}the keys of [music.folders] are moods, each set to a folder of tracks or an .m3u playlist",
                    did_you_mean(value)
                ))
            }
            "fallback_mood" => {
                let span = m
                    .fallback_mood
                    .as_ref()
                    .map_or_else(|| table.span(), Spanned::span);
                self.err(
                    ErrorKind::BadValue,
                    span,
                    "music.fallback_mood",
                    format!("{value:?} is not a mood"),
                )
                .allowed(moods)
                .help(format!(
                    "{}{}",
                    did_you_mean(value),
                    music_help("fallback_mood")
                ))
            }
            _ => {
                let allowed = allowed.replace("..=", " to ");
                match (music_span(m, key), &m.crossfade_ms) {
                    (Some(span), _) if *key == "skip_crossfade_ms" => self
                        .err(
                            ErrorKind::Conflict,
                            span,
                            "music.skip_crossfade_ms",
                            format!(
                                "{} is longer than crossfade_ms ({})",
                                music.skip_crossfade_ms, music.crossfade_ms
                            ),
                        )
                        .allowed([allowed])
                        .help(format!(
                            "a skip's crossfade may not be longer than the crossfade: lower it to at most {} or raise crossfade_ms",
                            music.crossfade_ms
                        )),
                    (Some(span), _) => {
                        let written = self.src.slice(&span).unwrap_or(value).trim().to_owned();
                        self.err(
                            ErrorKind::BadValue,
                            span,
                            format!("music.{key}"),
                            format!("{written} is out of range"),
                        )
                        .allowed([allowed])
                        .help(music_help(key))
                    }
                    // The default skip crossfade (500 ms) is longer than the file's crossfade.
                    (None, Some(crossfade)) if *key == "skip_crossfade_ms" => self
                        .err(
                            ErrorKind::Conflict,
                            crossfade.span(),
                            "music.crossfade_ms",
                            format!(
                                "crossfade_ms = {} is shorter than skip_crossfade_ms (default {})",
                                music.crossfade_ms, music.skip_crossfade_ms
                            ),
                        )
                        .help(format!(
                            "set `skip_crossfade_ms = {}` or less in [music] too, or make crossfade_ms at least {}",
                            music.crossfade_ms, music.skip_crossfade_ms
                        )),
                    (None, _) => self
                        .err(
                            ErrorKind::BadValue,
                            table.span(),
                            format!("music.{key}"),
                            format!("{key} = {value} is out of range"),
                        )
                        .allowed([allowed])
                        .help(music_help(key)),
                }
            }
        }
    }

    fn models(&self, load: &Spanned<Vec<Spanned<String>>>) -> Result<Vec<String>> {
        let mut names: Vec<String> = Vec::new();
        for (i, item) in load.get_ref().iter().enumerate() {
            let key = format!("models.load[{i}]");
            let name = item.get_ref();
            let valid = !name.is_empty()
                && name.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
                });
            if !valid {
                return Err(self
                    .err(
                        ErrorKind::BadValue,
                        item.span(),
                        key,
                        format!("{name:?} is not a valid model name"),
                    )
                    .allowed(["a-z", "0-9", "_", "-"])
                    .help("model names are non-empty and use lower-case letters, digits, '_' and '-', e.g. \"fer\""));
            }
            if names.contains(name) {
                return Err(self
                    .err(
                        ErrorKind::BadValue,
                        item.span(),
                        key,
                        format!("model {name:?} is listed twice"),
                    )
                    .help("remove the repeated name"));
            }
            names.push(name.clone());
        }
        Ok(names)
    }
}

/// Where `[music] key` is written, if it is.
fn music_span(m: &RawMusic, key: &str) -> Option<Range<usize>> {
    let int = |v: &Option<Spanned<i64>>| v.as_ref().map(Spanned::span);
    let float = |v: &Option<Spanned<f64>>| v.as_ref().map(Spanned::span);
    match key {
        "crossfade_ms" => int(&m.crossfade_ms),
        "skip_crossfade_ms" => int(&m.skip_crossfade_ms),
        "min_dwell_ms" => int(&m.min_dwell_ms),
        "long_dwell_ms" => int(&m.long_dwell_ms),
        "no_repeat" => int(&m.no_repeat),
        "seed" => int(&m.seed),
        "duck_attack_ms" => int(&m.duck_attack_ms),
        "duck_release_ms" => int(&m.duck_release_ms),
        "duck_depth_db" => float(&m.duck_depth_db),
        "target_lufs" => float(&m.target_lufs),
        "max_gain_db" => float(&m.max_gain_db),
        "volume" => float(&m.volume),
        "fallback_mood" => m.fallback_mood.as_ref().map(Spanned::span),
        "loudness_cache" => m.loudness_cache.as_ref().map(Spanned::span),
        "folders" => m.folders.as_ref().map(Spanned::span),
        _ => None,
    }
}

/// What a `[music]` key does, with an example line.
fn music_help(key: &str) -> String {
    let meaning = match key {
        "fallback_mood" => "the mood played at start and when a mood has nothing to play",
        "crossfade_ms" => "the crossfade at a track's end and after a long dwell, in ms",
        "skip_crossfade_ms" => "the crossfade on a skip, in ms, not longer than crossfade_ms",
        "min_dwell_ms" => "a mood held less than this is ignored, in ms",
        "long_dwell_ms" => {
            "a mood held this long changes the track without waiting for its end, in ms"
        }
        "no_repeat" => "none of a mood's last N tracks plays again",
        "seed" => "the shuffle's seed",
        "duck_depth_db" => "how far the music goes down while someone speaks, in dB",
        "duck_attack_ms" => "time to go the whole depth down when speech starts, in ms",
        "duck_release_ms" => "time to come back up when speech ends, in ms",
        "target_lufs" => "the loudness (EBU R128) every track is brought to, in LUFS",
        "max_gain_db" => "the most gain normalization gives a quiet track, in dB",
        "volume" => "output volume, 0 (silent) to 1 (full scale)",
        _ => "see the [music] keys in docs/boards.md",
    };
    match example_for(&format!("music.{key}")) {
        Some(example) => {
            format!("{meaning}; e.g. `{example}`, or leave the key out for its default")
        }
        None => meaning.to_owned(),
    }
}

fn stray_bus_help(driver: DisplayDriver, table: &str) -> String {
    let other = match (driver.needs_spi(), driver.needs_i2c()) {
        (true, _) => format!(
            "{} panels are driven over SPI: use [display.spi]",
            driver.as_str()
        ),
        (_, true) => format!(
            "{} panels are driven over I2C: use [display.i2c]",
            driver.as_str()
        ),
        _ => format!("{} needs no bus", driver.as_str()),
    };
    format!("remove [display.{table}]; {other}")
}
