//! `sentiod`: the Sentio device binary. Thin: options, signals, and wiring of the library parts.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Parser, ValueEnum};
use miette::{IntoDiagnostic as _, WrapErr as _};
use sentio_boards::{BoardProfile, CameraDriver, FaceDetectorKind};
use sentio_diagnostics::FileContext as _;
use sentio_hal::sim::Pacing;
use sentio_hal::{Clock, Speaker as _, SystemClock, VirtualClock};
use sentiod::app::AppOptions;
use sentiod::events::Event;
use sentiod::hardware::{self, Overrides};
use sentiod::inject::{InjectedCamera, InjectedMicrophone};
use sentiod::job::DeviceJob;
use sentiod::link::{Link, LinkOptions};
use sentiod::music::MusicSetup;
use sentiod::pipeline::{DevicePipeline, PreviewPipeline};
use sentiod::setup::{self, FaceOptions};

mod sd_notify;

/// Frames a simulated board shows when no --frames is given: a few seconds of demo.
const SIM_DEFAULT_FRAMES: u64 = 90;

#[derive(Parser, Debug)]
#[command(
    name = "sentiod",
    version,
    about = "Sentio device: camera, microphone, display and speaker on a board"
)]
struct Args {
    /// Board profile: a built-in name (sim, sim-mono, rpi4, rpi5, rpi-zero2w, jetson-nano,
    /// jetson-orin-nano) or the path of a profile .toml file.
    #[arg(long, env = "SENTIO_BOARD", default_value = "sim")]
    board: String,
    /// Log more on stderr: -v debug, -vv trace (the default is info; RUST_LOG overrides).
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Log less on stderr: -q warnings, -qq errors, -qqq nothing (RUST_LOG overrides).
    #[arg(short, long, action = clap::ArgAction::Count)]
    quiet: u8,
    /// Camera: `pattern`, an image file, a folder of images, or a /dev/video* node.
    #[arg(long)]
    camera: Option<String>,
    /// Microphone: `silence`, a WAV file, or an ALSA PCM name.
    #[arg(long)]
    mic: Option<String>,
    /// Save the screen as PNG files into this folder (default for simulated displays: out/display).
    #[arg(long)]
    display_out: Option<PathBuf>,
    /// Save every Nth frame as PNG (latest.png is always kept current).
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u32).range(1..))]
    save_every: u32,
    /// Record the speaker into this WAV file (default for simulated audio: out/speaker.wav).
    #[arg(long)]
    speaker_out: Option<PathBuf>,
    /// Stop after N frames (simulated boards default to 90).
    #[arg(long, conflicts_with = "forever", value_parser = clap::value_parser!(u64).range(1..))]
    frames: Option<u64>,
    /// Run until Ctrl-C or SIGTERM, also on simulated boards.
    #[arg(long)]
    forever: bool,
    /// Simulated sources: `realtime` waits like real hardware, `fast` runs as fast as it can,
    /// `virtual` runs as fast as it can on a virtual clock (reproducible timings).
    #[arg(long, value_enum, default_value_t = Pace::Realtime)]
    pace: Pace,
    /// What the device does: `mood` reads the face and the voice and shows the mood they make;
    /// `faces` shows the camera with the followed face and its expression; `preview` only
    /// shows the camera and the microphone level; `sketch` reads a hand-drawn emoji (a card
    /// held up, or the touch panel).
    #[arg(long, value_enum, default_value_t = Mode::Mood)]
    mode: Mode,
    /// Sketch mode: replay this stroke file as the touch panel (instead of the profile's
    /// [pointer]).
    #[arg(long, value_name = "FILE")]
    strokes: Option<PathBuf>,
    /// Face detector (default: the profile's faces.detector).
    #[arg(long, value_enum)]
    detector: Option<Detector>,
    /// Haar cascade XML for the haar detector (default: the profile's faces.cascade).
    #[arg(long)]
    cascade: Option<PathBuf>,
    /// Run this model file for NAME (`fer=model.onnx` with its manifest beside it, or a
    /// bundle): for development; a model the host flashes later replaces it. Repeatable.
    #[arg(long = "model", value_name = "NAME=PATH", value_parser = setup::parse_model_arg)]
    models: Vec<(String, PathBuf)>,
    /// Debugging only: write every speech window the model hears into DIR as a WAV (nothing
    /// the microphone hears is written anywhere otherwise).
    #[arg(long, value_name = "DIR")]
    debug_audio: Option<PathBuf>,
    /// Simulated consent-button presses, seconds after the first frame (repeatable, or
    /// comma-separated): the device starts paused and each press starts or stops sensing. Real
    /// boards use the profile's `[gpio]` button with `consent = true`.
    #[arg(long, value_name = "SECS", value_delimiter = ',')]
    press_at: Vec<f64>,
    /// No start-up beep.
    #[arg(long)]
    no_beep: bool,
    /// No music, even when the profile has a `[music]` section.
    #[arg(long)]
    no_music: bool,
    /// Simulated next-track button presses, seconds after the first frame (repeatable, or
    /// comma-separated). Real boards use the profile's `[gpio]` `next` line.
    #[arg(long, value_name = "SECS", value_delimiter = ',')]
    next_at: Vec<f64>,
    /// Serve the host link on this serial device, or on a new pseudo-terminal with `pty` (its
    /// path is announced in a `link` event). Real boards serve on the profile's serial.device
    /// by default; simulated boards only when this is given.
    #[arg(long)]
    serial: Option<String>,
    /// Do not serve the host link.
    #[arg(long, conflicts_with = "serial")]
    no_link: bool,
    /// The model store's folder (default: out/store on simulated boards,
    /// /var/lib/sentio/store on real ones).
    #[arg(long)]
    store: Option<PathBuf>,
    /// Accept only bundles signed by this public key (from `sentio keys gen`).
    #[arg(long)]
    pubkey: Option<PathBuf>,
    /// Most MiB the model store may hold.
    #[arg(long, default_value_t = 256)]
    store_quota_mib: u64,
    /// Keep each model's plan and which plan was faster here (runtime.kernels = "auto") in
    /// this folder, so a restart neither re-analyses nor re-times the models (default: none on
    /// simulated boards, /var/cache/sentio/plans on real ones).
    #[arg(long, value_name = "DIR")]
    plan_cache: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Pace {
    /// Wait like real hardware.
    Realtime,
    /// As fast as it can; timings are real.
    Fast,
    /// As fast as it can on a virtual clock that moves as real time would: the same events,
    /// timings and screens on every machine (for tests and golden frames).
    Virtual,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Face and voice fused into a mood, on the mood screen.
    Mood,
    /// Faces, tracking and facial expression on the camera preview.
    Faces,
    /// Camera preview, microphone level meter and timings.
    Preview,
    /// A hand-drawn emoji (a card held up to the camera, or drawn on the touch panel) read by
    /// the emoji model; captions of the scene when an ANP tagger is there.
    Sketch,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Detector {
    Haar,
    Blazeface,
}

fn main() -> std::process::ExitCode {
    match real_main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => sentio_diagnostics::report("sentiod", &e),
    }
}

/// What the command line says about faces and models (`debug_audio` is for the modes that
/// hear voices to add).
fn face_options(args: &Args) -> FaceOptions {
    FaceOptions {
        detector: args.detector.map(|d| match d {
            Detector::Haar => FaceDetectorKind::Haar,
            Detector::Blazeface => FaceDetectorKind::Blazeface,
        }),
        cascade: args.cascade.clone(),
        models: args.models.clone(),
        debug_audio: None,
    }
}

fn real_main() -> miette::Result<()> {
    let args = Args::parse();
    // Logs go to stderr (journald under systemd); stdout carries only the JSON events.
    sentio_diagnostics::init_logs(sentio_diagnostics::Verbosity {
        default: 1,
        verbose: args.verbose,
        quiet: args.quiet,
    });
    let face_options_of_args = face_options(&args);
    let profile = BoardProfile::load(&args.board)?;
    let simulated = profile.camera.driver == CameraDriver::Sim;
    match (&args.plan_cache, simulated) {
        (Some(dir), _) => sentiod::models::set_plan_cache(dir.clone()),
        (None, false) => sentiod::models::set_plan_cache(PathBuf::from("/var/cache/sentio/plans")),
        (None, true) => {}
    }
    let max_frames = match (args.frames, args.forever) {
        (_, true) => None,
        (Some(n), false) => Some(n),
        (None, false) if simulated => Some(SIM_DEFAULT_FRAMES),
        (None, false) => None,
    };

    // Read even when no link is served: a bad key file is an error before anything opens, not
    // at the first flash after someone drops --no-link.
    let public_key = args
        .pubkey
        .as_deref()
        .map(sentio_models::keys::load_public)
        .transpose()?;

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::SeqCst) {
                // A second Ctrl-C means "now": the first one's clean stop is taking too long.
                std::process::exit(130);
            }
        })
        .into_diagnostic()
        .wrap_err("cannot install the Ctrl-C/SIGTERM handler")?;
    }

    let overrides = Overrides {
        camera: args.camera,
        mic: args.mic,
        display_out: args.display_out,
        save_every: args.save_every,
        speaker_out: args.speaker_out,
        pacing: match args.pace {
            Pace::Realtime | Pace::Virtual => Pacing::RealTime,
            Pace::Fast => Pacing::Fast,
        },
    };
    let clock: Box<dyn Clock> = match args.pace {
        Pace::Virtual => Box::new(VirtualClock::new()),
        Pace::Realtime | Pace::Fast => Box::new(SystemClock::new()),
    };
    let clock = &*clock;
    let mut camera = hardware::open_camera(&profile, &overrides, clock)?;
    let mut microphone = hardware::open_microphone(&profile, &overrides, clock)?;
    let speaker = hardware::open_speaker(&profile, &overrides)?;
    // The link comes up once the devices did, so a missing driver is reported first.
    let link_serial = match (&args.serial, args.no_link) {
        (_, true) => None,
        (Some(serial), false) => Some(serial.clone()),
        (None, false) if simulated => None,
        (None, false) => Some(profile.serial.device.clone()),
    };
    let link = match link_serial {
        Some(serial) => {
            let options = LinkOptions {
                serial,
                baud: profile.serial.baud,
                store_dir: args.store.clone().unwrap_or_else(|| {
                    PathBuf::from(if simulated {
                        "out/store"
                    } else {
                        "/var/lib/sentio/store"
                    })
                }),
                quota_bytes: args.store_quota_mib.saturating_mul(1 << 20),
                public_key,
                board: profile.board.name.clone(),
                runtime: profile.runtime.clone(),
            };
            Some(Link::start(&options, print_event)?)
        }
        None => None,
    };
    // With a link, a host may stream camera images and audio in their place (hardware-in-the-
    // loop tests); the real devices keep pacing the loop underneath.
    if let Some(link) = &link {
        camera.device = Box::new(InjectedCamera::new(camera.device, link.injection.clone()));
        microphone.device = Box::new(InjectedMicrophone::new(
            microphone.device,
            link.injection.clone(),
        ));
    }

    let mut emit = |event: Event| {
        if let Some(link) = &link {
            link.forward(&event);
        }
        print_event(event);
    };
    let mut setup_events = Vec::new();
    let pipeline = match args.mode {
        Mode::Preview => DevicePipeline::Preview(PreviewPipeline::default()),
        Mode::Sketch => {
            let options = face_options_of_args;
            let pointer = hardware::open_pointer(&profile, args.strokes.as_deref())?;
            let registry = link.as_ref().map(|l| l.registry.clone());
            let mut record = |e| setup_events.push(e);
            DevicePipeline::Sketch(Box::new(setup::sketch_pipeline(
                &profile,
                &options,
                registry,
                pointer.map(|p| p.device),
                &mut record,
            )))
        }
        Mode::Mood | Mode::Faces => {
            let options = FaceOptions {
                debug_audio: args.debug_audio.clone(),
                ..face_options_of_args
            };
            if let Some(dir) = &options.debug_audio {
                std::fs::create_dir_all(dir)
                    .file_context(|| format!("cannot create --debug-audio {}", dir.display()))?;
            }
            let registry = link.as_ref().map(|l| l.registry.clone());
            let consent =
                hardware::open_consent_button(&profile, &args.press_at)?.map(|b| b.device);
            let music = match (&profile.music, args.no_music) {
                (Some(config), false) => Some(MusicSetup {
                    config: config.clone(),
                    sample_rate: speaker.device.sample_rate(),
                    channels: speaker.device.channels(),
                    buttons: hardware::open_music_buttons(&profile, &args.next_at)?,
                }),
                _ => None,
            };
            let mut record = |e| setup_events.push(e);
            if args.mode == Mode::Faces {
                DevicePipeline::Faces(Box::new(setup::face_pipeline(
                    &profile,
                    &options,
                    registry,
                    &mut record,
                )))
            } else {
                DevicePipeline::Mood(Box::new(setup::mood_pipeline(
                    &profile,
                    &options,
                    registry,
                    consent,
                    music,
                    &mut record,
                )))
            }
        }
    };
    let job = DeviceJob {
        board: profile.board.name.clone(),
        camera,
        microphone,
        speaker,
        clock,
        options: AppOptions {
            max_frames,
            beep: !args.no_beep,
            report_peak_rss: true,
            ..AppOptions::default()
        },
        stop: &stop,
        pipeline,
        setup_events,
        emit: &mut emit,
    };
    let result = hardware::with_display(&profile, &overrides, job);
    if let Some(link) = link {
        link.stop();
    }
    result??;
    Ok(())
}

/// Prints an event as one JSON line, flushed at once so a pipe sees it live.
fn print_event(event: Event) {
    let mut out = std::io::stdout().lock();
    // stdout closed (the reader went away) is no reason to stop the device.
    let _ = writeln!(out, "{}", event.to_json());
    let _ = out.flush();
    // start, stats and stop tell systemd: ready, alive (the watchdog), stopping.
    sd_notify::notify_event(&event);
}
