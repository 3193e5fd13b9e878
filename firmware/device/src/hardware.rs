//! Builds the devices a board profile describes: simulated ones from files, or the real Linux
//! drivers of `sentio-linux` when sentiod is built with their features.
//!
//! Command-line overrides can swap a single device for a simulated one on any board (for
//! example `--camera pattern` on a Pi whose camera is unplugged, or `--display-out DIR` to
//! capture the screen as PNGs), which is also how test rigs run real boards headless.

use std::fmt::Debug;
use std::path::{Path, PathBuf};

use embedded_graphics::pixelcolor::{BinaryColor, Rgb565};
use sentio_boards::{AudioDriver, BoardProfile, CameraDriver, CameraPixelFormat, DisplayDriver};
use sentio_hal::sim::{
    FrameSaver, Pacing, SilenceMicrophone, SimCamera, SimCameraSource, SimDisplay, WavMicrophone,
    WavSpeaker,
};
use sentio_hal::{Camera, Clock, Display, FrameFormat, HalError, Microphone, PixelFormat, Speaker};
use sentio_ui::Palette;

/// Where the simulated display and speaker write when the options do not say.
pub const DEFAULT_DISPLAY_OUT: &str = "out/display";
pub const DEFAULT_SPEAKER_OUT: &str = "out/speaker.wav";

/// Options that replace what the profile says.
#[derive(Clone, Debug)]
pub struct Overrides {
    /// `pattern`, an image file, a folder of images, or (on v4l boards) a `/dev/video*` node.
    pub camera: Option<String>,
    /// `silence`, a WAV file, or (on alsa boards) an ALSA PCM name.
    pub mic: Option<String>,
    /// Save the screen as PNGs into this folder (on a real board this replaces the panel).
    pub display_out: Option<PathBuf>,
    /// Save every Nth flushed frame (`latest.png` is always kept current).
    pub save_every: u32,
    /// Record the speaker into this WAV file (on a real board this replaces the speaker).
    pub speaker_out: Option<PathBuf>,
    /// Whether simulated sources wait for real time.
    pub pacing: Pacing,
}

impl Default for Overrides {
    fn default() -> Self {
        Overrides {
            camera: None,
            mic: None,
            display_out: None,
            save_every: 15,
            speaker_out: None,
            pacing: Pacing::RealTime,
        }
    }
}

/// Why the hardware could not be set up.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SetupError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Device(#[from] HalError),
    #[error(
        "board {board} needs {what}, but this sentiod was built without the `{feature}` feature"
    )]
    #[diagnostic(
        code(device::sentiod::feature_missing),
        help("rebuild with `cargo build --release -p sentiod --features {feature}`{alternative}")
    )]
    FeatureMissing {
        board: String,
        what: &'static str,
        feature: &'static str,
        /// ", or run with --camera pattern" and the like.
        alternative: &'static str,
    },
}

/// A device plus the words that describe it in the start event.
pub struct Opened<T> {
    pub device: T,
    pub description: String,
}

fn sim_camera_source(spec: &str, base: impl Fn(&str) -> PathBuf) -> SimCameraSource {
    if spec == "pattern" {
        SimCameraSource::TestPattern
    } else {
        SimCameraSource::from_spec(&base(spec))
    }
}

/// Opens the camera of `profile` (or the override).
pub fn open_camera<'c, C: Clock + 'c>(
    profile: &BoardProfile,
    overrides: &Overrides,
    clock: C,
) -> Result<Opened<Box<dyn Camera + 'c>>, SetupError> {
    let cam = &profile.camera;
    let sim_format = |pixel_format| FrameFormat {
        width: cam.width,
        height: cam.height,
        pixel_format,
        fps: cam.fps,
    };
    // A user-given path is relative to the current directory; a profile's to the profile.
    let source = match (&overrides.camera, cam.driver) {
        (Some(spec), CameraDriver::V4l) if spec.starts_with("/dev/") => None,
        (Some(spec), _) => Some(sim_camera_source(spec, |p| PathBuf::from(p))),
        (None, CameraDriver::Sim) => Some(sim_camera_source(&cam.device, |p| profile.resolve(p))),
        (None, CameraDriver::V4l) => None,
    };
    if let Some(source) = source {
        let pixel_format = match cam.pixel_format {
            CameraPixelFormat::Gray8 => PixelFormat::Gray8,
            _ => PixelFormat::Rgb888,
        };
        let description = match &source {
            SimCameraSource::TestPattern => "sim:pattern".to_string(),
            SimCameraSource::Still(p) | SimCameraSource::Folder(p) => {
                format!("sim:{}", p.display())
            }
        };
        let device = SimCamera::open(source, sim_format(pixel_format), overrides.pacing, clock)?;
        return Ok(Opened {
            device: Box::new(device),
            description,
        });
    }
    let device_path = overrides
        .camera
        .clone()
        .unwrap_or_else(|| cam.device.clone());
    open_v4l(profile, &device_path)
}

#[cfg(feature = "v4l")]
fn open_v4l<'c>(
    profile: &BoardProfile,
    device: &str,
) -> Result<Opened<Box<dyn Camera + 'c>>, SetupError> {
    let cam = &profile.camera;
    let source_format = match cam.pixel_format {
        CameraPixelFormat::Mjpeg => sentio_linux::SourceFormat::Mjpeg,
        _ => sentio_linux::SourceFormat::Yuyv,
    };
    let camera = sentio_linux::V4lCamera::open(
        Path::new(device),
        cam.width,
        cam.height,
        cam.fps,
        source_format,
    )?;
    Ok(Opened {
        device: Box::new(camera),
        description: format!("v4l:{device}"),
    })
}

#[cfg(not(feature = "v4l"))]
fn open_v4l<'c>(
    profile: &BoardProfile,
    _device: &str,
) -> Result<Opened<Box<dyn Camera + 'c>>, SetupError> {
    Err(SetupError::FeatureMissing {
        board: profile.board.name.clone(),
        what: "a v4l camera",
        feature: "v4l",
        alternative: ", or run with --camera pattern (or an image file or folder)",
    })
}

/// True when a `--mic` value names a simulated source rather than an ALSA PCM.
fn is_sim_audio_spec(spec: &str) -> bool {
    spec == "silence" || spec.to_ascii_lowercase().ends_with(".wav") || Path::new(spec).is_file()
}

/// Opens the microphone of `profile` (or the override).
pub fn open_microphone<'c, C: Clock + 'c>(
    profile: &BoardProfile,
    overrides: &Overrides,
    clock: C,
) -> Result<Opened<Box<dyn Microphone + 'c>>, SetupError> {
    let audio = &profile.audio;
    let sim_spec = match (&overrides.mic, audio.driver) {
        (Some(spec), AudioDriver::Sim) => Some(PathBuf::from(spec)),
        (Some(spec), AudioDriver::Alsa) if is_sim_audio_spec(spec) => Some(PathBuf::from(spec)),
        (None, AudioDriver::Sim) if audio.capture == "silence" => Some(PathBuf::from("silence")),
        (None, AudioDriver::Sim) => Some(profile.resolve(&audio.capture)),
        _ => None,
    };
    match sim_spec {
        Some(spec) if spec.as_os_str() == "silence" => Ok(Opened {
            device: Box::new(SilenceMicrophone::new(audio.rate, overrides.pacing, clock)),
            description: "sim:silence".into(),
        }),
        Some(path) => {
            // The demo clip loops so a bounded or endless run always has sound.
            let mic = WavMicrophone::open(&path, audio.rate, true, overrides.pacing, clock)?;
            Ok(Opened {
                device: Box::new(mic),
                description: format!("sim:{}", path.display()),
            })
        }
        None => {
            let pcm = overrides
                .mic
                .clone()
                .unwrap_or_else(|| audio.capture.clone());
            open_alsa_capture(profile, &pcm)
        }
    }
}

#[cfg(feature = "alsa")]
fn open_alsa_capture<'c>(
    profile: &BoardProfile,
    pcm: &str,
) -> Result<Opened<Box<dyn Microphone + 'c>>, SetupError> {
    let mic = sentio_linux::AlsaMicrophone::open(pcm, profile.audio.rate)?;
    Ok(Opened {
        device: Box::new(mic),
        description: format!("alsa:{pcm}"),
    })
}

#[cfg(not(feature = "alsa"))]
fn open_alsa_capture<'c>(
    profile: &BoardProfile,
    _pcm: &str,
) -> Result<Opened<Box<dyn Microphone + 'c>>, SetupError> {
    Err(SetupError::FeatureMissing {
        board: profile.board.name.clone(),
        what: "ALSA audio capture",
        feature: "alsa",
        alternative: ", or run with --mic silence (or a WAV file)",
    })
}

/// Opens the speaker of `profile`, or a WAV file when the board's audio is simulated or
/// `--speaker-out` is given.
pub fn open_speaker(
    profile: &BoardProfile,
    overrides: &Overrides,
) -> Result<Opened<Box<dyn Speaker>>, SetupError> {
    let audio = &profile.audio;
    let out = match (&overrides.speaker_out, audio.driver) {
        (Some(path), _) => Some(path.clone()),
        (None, AudioDriver::Sim) => Some(PathBuf::from(DEFAULT_SPEAKER_OUT)),
        (None, AudioDriver::Alsa) => None,
    };
    match out {
        Some(path) => {
            let spk = WavSpeaker::create(&path, audio.rate)?;
            Ok(Opened {
                device: Box::new(spk),
                description: format!("wav:{}", path.display()),
            })
        }
        None => open_alsa_playback(profile),
    }
}

#[cfg(feature = "alsa")]
fn open_alsa_playback(profile: &BoardProfile) -> Result<Opened<Box<dyn Speaker>>, SetupError> {
    let pcm = &profile.audio.playback;
    let spk = sentio_linux::AlsaSpeaker::open(pcm, profile.audio.rate)?;
    Ok(Opened {
        device: Box::new(spk),
        description: format!("alsa:{pcm}"),
    })
}

#[cfg(not(feature = "alsa"))]
fn open_alsa_playback(profile: &BoardProfile) -> Result<Opened<Box<dyn Speaker>>, SetupError> {
    Err(SetupError::FeatureMissing {
        board: profile.board.name.clone(),
        what: "ALSA audio playback",
        feature: "alsa",
        alternative: ", or run with --speaker-out FILE.wav",
    })
}

/// Something to do with a display whose concrete type is only known at run time (the profile
/// picks it). Rust closures cannot be generic, so the work is a trait with a generic method.
pub trait DisplayJob {
    type Output;
    fn run<D>(self, display: &mut D, description: String) -> Self::Output
    where
        D: Display,
        D::Color: Palette,
        D::Error: Debug;
}

/// Opens the display of `profile` (or a simulated one saving PNGs) and runs `job` on it.
pub fn with_display<J: DisplayJob>(
    profile: &BoardProfile,
    overrides: &Overrides,
    job: J,
) -> Result<J::Output, SetupError> {
    let d = &profile.display;
    let sim_out = |default: Option<&str>| -> Option<PathBuf> {
        overrides
            .display_out
            .clone()
            .or_else(|| default.map(PathBuf::from))
    };
    let mono = matches!(d.driver, DisplayDriver::Ssd1306 | DisplayDriver::SimMono);
    let out = match d.driver {
        DisplayDriver::SimRgb565 | DisplayDriver::SimMono => sim_out(Some(DEFAULT_DISPLAY_OUT)),
        _ => sim_out(None),
    };
    let real = matches!(
        d.driver,
        DisplayDriver::St7789 | DisplayDriver::Ili9341 | DisplayDriver::Ssd1306
    );
    if real && out.is_none() {
        return run_real_display(profile, job);
    }
    let description = match &out {
        Some(dir) => format!("sim:{}", dir.display()),
        None => "none".to_string(),
    };
    let saver = out.map(|dir| FrameSaver::new(dir, overrides.save_every));
    // Screens draw in the rotated (logical) orientation; a "none" display still gets a screen
    // to draw on so --display-out works on boards without a panel.
    let (width, height) = match d.logical_size() {
        (0, _) | (_, 0) => (240, 240),
        size => size,
    };
    if mono {
        let mut display = sim_display::<BinaryColor>(width, height, saver)?;
        Ok(job.run(&mut display, description))
    } else {
        let mut display = sim_display::<Rgb565>(width, height, saver)?;
        Ok(job.run(&mut display, description))
    }
}

fn sim_display<C>(
    width: u32,
    height: u32,
    saver: Option<FrameSaver>,
) -> Result<SimDisplay<C>, HalError>
where
    C: sentio_hal::color::ToRgb888 + Default,
{
    let display = SimDisplay::<C>::new(width, height);
    match saver {
        Some(saver) => display.save_frames(saver),
        None => Ok(display),
    }
}

fn run_real_display<J: DisplayJob>(
    profile: &BoardProfile,
    job: J,
) -> Result<J::Output, SetupError> {
    match profile.display.driver {
        DisplayDriver::St7789 | DisplayDriver::Ili9341 => run_spi_display(profile, job),
        _ => run_i2c_display(profile, job),
    }
}

/// The `[display.spi]` or `[display.i2c]` table the loader guarantees for a real panel.
#[cfg(any(feature = "spi-display", feature = "i2c-display"))]
fn missing_bus_table(profile: &BoardProfile, table: &str) -> SetupError {
    SetupError::Device(HalError::new(
        sentio_hal::ErrorKind::Unsupported,
        format!("display of board {}", profile.board.name),
        format!("the profile has no [display.{table}] table"),
    ))
}

#[cfg(feature = "spi-display")]
fn run_spi_display<J: DisplayJob>(profile: &BoardProfile, job: J) -> Result<J::Output, SetupError> {
    let d = &profile.display;
    let spi = d
        .spi
        .as_ref()
        .ok_or_else(|| missing_bus_table(profile, "spi"))?;
    let model = match d.driver {
        DisplayDriver::Ili9341 => sentio_linux::PanelModel::Ili9341,
        _ => sentio_linux::PanelModel::St7789,
    };
    // The panel driver takes the size as drawn, i.e. after rotation.
    let (width, height) = d.logical_size();
    let mut panel = sentio_linux::open_spidev(
        &spi.device,
        spi.speed_hz,
        &spi.gpio_chip,
        spi.dc,
        Some(spi.reset),
        spi.backlight,
        model,
        u16::try_from(width).unwrap_or(u16::MAX),
        u16::try_from(height).unwrap_or(u16::MAX),
        d.rotation.degrees(),
    )?;
    let description = format!("{}:{}", d.driver, spi.device);
    Ok(job.run(&mut panel, description))
}

#[cfg(not(feature = "spi-display"))]
fn run_spi_display<J: DisplayJob>(
    profile: &BoardProfile,
    _job: J,
) -> Result<J::Output, SetupError> {
    Err(SetupError::FeatureMissing {
        board: profile.board.name.clone(),
        what: "an SPI display",
        feature: "spi-display",
        alternative: ", or run with --display-out DIR to save the screen as PNGs",
    })
}

#[cfg(feature = "i2c-display")]
fn run_i2c_display<J: DisplayJob>(profile: &BoardProfile, job: J) -> Result<J::Output, SetupError> {
    let d = &profile.display;
    let i2c = d
        .i2c
        .as_ref()
        .ok_or_else(|| missing_bus_table(profile, "i2c"))?;
    let mut panel = sentio_linux::open_i2cdev(
        &i2c.device,
        i2c.address,
        d.width,
        d.height,
        d.rotation.degrees(),
    )?;
    let description = format!("{}:{}@{:#04x}", d.driver, i2c.device, i2c.address);
    Ok(job.run(&mut panel, description))
}

#[cfg(not(feature = "i2c-display"))]
fn run_i2c_display<J: DisplayJob>(
    profile: &BoardProfile,
    _job: J,
) -> Result<J::Output, SetupError> {
    Err(SetupError::FeatureMissing {
        board: profile.board.name.clone(),
        what: "an I2C display",
        feature: "i2c-display",
        alternative: ", or run with --display-out DIR to save the screen as PNGs",
    })
}

/// The consent button: simulated presses at `press_at` (seconds after the first frame) when
/// given, else the profile's `[gpio]` button when `gpio.consent` is set, else none (the device
/// senses from the start).
pub fn open_consent_button(
    profile: &BoardProfile,
    press_at: &[f64],
) -> Result<Option<Opened<Box<dyn sentio_hal::PushButton>>>, SetupError> {
    if !press_at.is_empty() {
        let presses = press_at
            .iter()
            .map(|s| std::time::Duration::from_secs_f64(s.max(0.0)))
            .collect();
        return Ok(Some(Opened {
            device: Box::new(sentio_hal::sim::ScriptedButton::new(presses)),
            description: "sim button".into(),
        }));
    }
    match &profile.gpio {
        Some(gpio) if gpio.consent => match gpio.button {
            Some(line) => open_gpio_button(profile, &gpio.chip, line).map(Some),
            None => Ok(None),
        },
        _ => Ok(None),
    }
}

/// Opens the music's buttons: `[gpio]` next / volume_up / volume_down, or a simulated next-track
/// button pressed at `next_at` (seconds after the first frame).
pub fn open_music_buttons(
    profile: &BoardProfile,
    next_at: &[f64],
) -> Result<crate::music::MusicButtons, SetupError> {
    let mut buttons = crate::music::MusicButtons::default();
    if !next_at.is_empty() {
        let presses = next_at
            .iter()
            .map(|s| std::time::Duration::from_secs_f64(s.max(0.0)))
            .collect();
        buttons.next = Some(Box::new(sentio_hal::sim::ScriptedButton::new(presses)));
    }
    let Some(gpio) = &profile.gpio else {
        return Ok(buttons);
    };
    let open = |line: Option<u32>| {
        line.map(|line| open_gpio_button(profile, &gpio.chip, line).map(|b| b.device))
            .transpose()
    };
    if buttons.next.is_none() {
        buttons.next = open(gpio.next)?;
    }
    buttons.volume_up = open(gpio.volume_up)?;
    buttons.volume_down = open(gpio.volume_down)?;
    Ok(buttons)
}

#[cfg(feature = "gpio")]
fn open_gpio_button(
    _profile: &BoardProfile,
    chip: &str,
    line: u32,
) -> Result<Opened<Box<dyn sentio_hal::PushButton>>, SetupError> {
    let button = sentio_linux::open_cdev_button(chip, line, true)?;
    Ok(Opened {
        device: Box::new(button),
        description: format!("gpio:{chip}:{line}"),
    })
}

#[cfg(not(feature = "gpio"))]
fn open_gpio_button(
    profile: &BoardProfile,
    _chip: &str,
    _line: u32,
) -> Result<Opened<Box<dyn sentio_hal::PushButton>>, SetupError> {
    Err(SetupError::FeatureMissing {
        board: profile.board.name.clone(),
        what: "GPIO buttons",
        feature: "gpio",
        alternative: ", or remove the buttons (button/consent, next, volume_up, volume_down) from \
                      the profile's [gpio]",
    })
}

/// Opens sketch mode's pen input: `--strokes FILE` (replayed), else the profile's `[pointer]`
/// (a replayed stroke file, or a touch panel on evdev); `None` when there is none.
pub fn open_pointer(
    profile: &BoardProfile,
    strokes: Option<&std::path::Path>,
) -> Result<Option<Opened<Box<dyn sentio_hal::Pointer>>>, SetupError> {
    use sentio_boards::PointerDriver;
    let replay = |path: &std::path::Path| -> Result<_, SetupError> {
        let pointer = sentio_hal::sim::ReplayPointer::open(path)?;
        Ok(Some(Opened {
            device: Box::new(pointer) as Box<dyn sentio_hal::Pointer>,
            description: format!("strokes {}", path.display()),
        }))
    };
    if let Some(path) = strokes {
        return replay(path);
    }
    let pointer = &profile.pointer;
    match (pointer.driver, &pointer.strokes, &pointer.device) {
        (PointerDriver::Sim, Some(path), _) => replay(path),
        (PointerDriver::Evdev, _, Some(device)) => open_evdev_pointer(profile, device),
        _ => Ok(None),
    }
}

#[cfg(feature = "evdev")]
fn open_evdev_pointer(
    profile: &BoardProfile,
    device: &str,
) -> Result<Option<Opened<Box<dyn sentio_hal::Pointer>>>, SetupError> {
    // Touch coordinates are scaled to the panel, so strokes are in display pixels.
    let extent = (profile.display.width, profile.display.height);
    let pointer = sentio_linux::EvdevPointer::open(device, extent)?;
    Ok(Some(Opened {
        device: Box::new(pointer),
        description: format!("evdev {device}"),
    }))
}

#[cfg(not(feature = "evdev"))]
fn open_evdev_pointer(
    profile: &BoardProfile,
    _device: &str,
) -> Result<Option<Opened<Box<dyn sentio_hal::Pointer>>>, SetupError> {
    Err(SetupError::FeatureMissing {
        board: profile.board.name.clone(),
        what: "a touch panel (evdev)",
        feature: "evdev",
        alternative: ", or set the profile's pointer.driver to \"none\"",
    })
}
