//! ALSA microphone and speaker: mono signed 16-bit little-endian (S16_LE, native on every board
//! we target), interleaved, at exactly the requested rate.
//!
//! Buffers are sized for speech at 16 kHz: 20 ms periods, 200 ms of capture buffer (so a slow
//! inference step does not lose audio) and 160 ms of playback buffer. Over- and underruns
//! (xruns) are recovered with `snd_pcm_recover` and counted; [`AlsaMicrophone::xruns`] and
//! [`AlsaSpeaker::xruns`] expose the count.
//!
//! alsa-lib prints its own diagnostics to stderr when an open fails (`ALSA lib pcm.c:...
//! Unknown PCM x`); the [`HalError`] carries the same facts and what to do.

use std::ffi::CString;

use alsa::pcm::{Access, Format, Frames, HwParams, PCM, State};
use alsa::{Direction, ValueOr};
use sentio_hal::{ErrorKind, HalError, Microphone, Speaker};

/// Period length: 20 ms (320 frames at 16 kHz).
const PERIOD_MS: u32 = 20;
/// Capture buffer, in periods (200 ms).
const CAPTURE_PERIODS: u32 = 10;
/// Playback buffer, in periods (160 ms).
const PLAYBACK_PERIODS: u32 = 8;
/// Recovery attempts in a row before an xrun is reported as an error.
const MAX_RECOVERIES: u32 = 8;

const EINTR: i32 = 4;
const ENXIO: i32 = 6;
const EBUSY: i32 = 16;
const ENODEV: i32 = 19;
const EPIPE: i32 = 32;
const ESTRPIPE: i32 = 86;
const EBADFD: i32 = 77;
const ENOENT: i32 = 2;
const EACCES: i32 = 13;
const EPERM: i32 = 1;

fn io_kind(errno: i32) -> ErrorKind {
    ErrorKind::from_io(std::io::Error::from_raw_os_error(errno).kind())
}

fn open_error(device: &str, name: &str, dir: Direction, e: alsa::Error) -> HalError {
    let list = match dir {
        Direction::Capture => "arecord -L",
        Direction::Playback => "aplay -L",
    };
    let key = match dir {
        Direction::Capture => "audio capture device",
        Direction::Playback => "audio playback device",
    };
    let (kind, message, help) = match e.errno() {
        ENOENT | ENODEV | ENXIO => (
            ErrorKind::NotFound,
            format!("no ALSA device named '{name}'"),
            format!(
                "list devices with `{list}` (cards with `{}`), check the board profile's {key}",
                if dir == Direction::Capture {
                    "arecord -l"
                } else {
                    "aplay -l"
                }
            ),
        ),
        EBUSY => (
            ErrorKind::Busy,
            format!("'{name}' is in use by another program"),
            "stop the other program (PulseAudio/PipeWire hold `hw:` devices), or share the card \
             through `default`, `dsnoop` (capture) or `dmix` (playback)"
                .to_string(),
        ),
        EACCES | EPERM => (
            ErrorKind::PermissionDenied,
            format!("not allowed to open '{name}'"),
            "add the user to the `audio` group (then log in again)".to_string(),
        ),
        errno => (
            io_kind(errno),
            format!("cannot open '{name}'"),
            format!("check the device name (`{list}`) and the board profile's {key}"),
        ),
    };
    HalError::new(kind, device, format!("{message}: {e}"))
        .with_help(help)
        .with_source(e)
}

fn setup_error(device: &str, what: &str, e: alsa::Error) -> HalError {
    HalError::new(ErrorKind::Unsupported, device, format!("{what}: {e}"))
        .with_source(e)
        .with_help(
            "use the `plughw:CARD,DEV` form of the device (or `default`) so ALSA converts the \
             format, channels and rate",
        )
}

fn stream_error(device: &str, what: &str, e: alsa::Error) -> HalError {
    match e.errno() {
        ENODEV | EBADFD | ENXIO => HalError::new(
            ErrorKind::Disconnected,
            device,
            format!("the sound device went away: {e}"),
        )
        .with_source(e)
        .with_help("check the USB cable of the sound card and open it again"),
        EPIPE | ESTRPIPE => HalError::new(
            ErrorKind::Overrun,
            device,
            format!("{what}: xruns keep happening and recovery failed: {e}"),
        )
        .with_source(e)
        .with_help("the device is starved or flooded: check CPU load, or use a `plughw:` device"),
        errno => HalError::new(io_kind(errno), device, format!("{what}: {e}"))
            .with_source(e)
            .with_help("check the sound card with `arecord`/`aplay` on the same device"),
    }
}

/// Opens `name` in `dir` and configures S16 mono interleaved at exactly `rate`.
/// Returns the PCM and its period and buffer sizes in frames.
fn open_pcm(
    device: &str,
    name: &str,
    dir: Direction,
    rate: u32,
    periods: u32,
) -> Result<(PCM, usize, usize), HalError> {
    let cname = CString::new(name).map_err(|_| {
        HalError::new(
            ErrorKind::InvalidData,
            device,
            "the device name contains a NUL byte",
        )
        .with_help("fix the audio device name in the board profile")
    })?;
    if rate == 0 {
        return Err(
            HalError::new(ErrorKind::Unsupported, device, "sample rate 0 Hz")
                .with_help("set the audio rate in the board profile (16000 for speech)"),
        );
    }
    let pcm = PCM::open(&cname, dir, false).map_err(|e| open_error(device, name, dir, e))?;
    let (period, buffer) = {
        let hwp = HwParams::any(&pcm).map_err(|e| setup_error(device, "cannot query", e))?;
        hwp.set_access(Access::RWInterleaved)
            .map_err(|e| setup_error(device, "interleaved access refused", e))?;
        hwp.set_format(Format::s16())
            .map_err(|e| setup_error(device, "S16_LE samples refused", e))?;
        hwp.set_channels(1)
            .map_err(|e| setup_error(device, "mono refused", e))?;
        if let Err(e) = hwp.set_rate(rate, ValueOr::Nearest) {
            let range = match (hwp.get_rate_min(), hwp.get_rate_max()) {
                (Ok(lo), Ok(hi)) if lo == hi => format!(" (it only does {lo} Hz)"),
                (Ok(lo), Ok(hi)) => format!(" (it does {lo}..{hi} Hz)"),
                _ => String::new(),
            };
            return Err(HalError::new(
                ErrorKind::Unsupported,
                device,
                format!("'{name}' refuses {rate} Hz{range}: {e}"),
            )
            .with_source(e)
            .with_help(format!(
                "use `plughw:` instead of `hw:` (for example `plughw:{}`) so ALSA resamples, or \
                 set the board profile's audio rate to one the card does",
                name.strip_prefix("hw:").unwrap_or("CARD,DEV")
            )));
        }
        // Frames is a C long: 32 bits on armv7, 64 on aarch64.
        let want_period = (rate / (1000 / PERIOD_MS)).clamp(16, 1 << 16) as Frames;
        let period = hwp
            .set_period_size_near(want_period, ValueOr::Nearest)
            .map_err(|e| setup_error(device, "period size refused", e))?;
        hwp.set_buffer_size_near(period * periods as Frames)
            .map_err(|e| setup_error(device, "buffer size refused", e))?;
        pcm.hw_params(&hwp)
            .map_err(|e| setup_error(device, "hardware parameters refused", e))?;
        let current = pcm
            .hw_params_current()
            .map_err(|e| setup_error(device, "cannot read back the parameters", e))?;
        // Some devices accept the rate request and still pick another one.
        match current.get_rate() {
            Ok(r) if r == rate => {}
            Ok(r) => {
                return Err(HalError::new(
                    ErrorKind::Unsupported,
                    device,
                    format!("asked for {rate} Hz, '{name}' runs at {r} Hz"),
                )
                .with_help("use `plughw:` instead of `hw:` so ALSA resamples"));
            }
            Err(e) => return Err(setup_error(device, "cannot read the rate", e)),
        }
        let period = current
            .get_period_size()
            .map_err(|e| setup_error(device, "cannot read the period size", e))?;
        let buffer = current
            .get_buffer_size()
            .map_err(|e| setup_error(device, "cannot read the buffer size", e))?;
        (period, buffer)
    };
    {
        let swp = pcm
            .sw_params_current()
            .map_err(|e| setup_error(device, "cannot query software parameters", e))?;
        swp.set_avail_min(period)
            .map_err(|e| setup_error(device, "avail_min refused", e))?;
        if dir == Direction::Playback {
            // Start once two periods are queued: short enough for low latency, long enough
            // that the first write does not underrun at once.
            swp.set_start_threshold((2 * period).min(buffer))
                .map_err(|e| setup_error(device, "start threshold refused", e))?;
        }
        pcm.sw_params(&swp)
            .map_err(|e| setup_error(device, "software parameters refused", e))?;
    }
    let to_usize = |v: Frames| usize::try_from(v).unwrap_or(0);
    Ok((pcm, to_usize(period), to_usize(buffer)))
}

/// What the recovery loops need from a PCM, so they are tested with a fake.
trait PcmIo {
    fn readi(&self, buf: &mut [i16]) -> alsa::Result<usize>;
    fn writei(&self, buf: &[i16]) -> alsa::Result<usize>;
    fn try_recover(&self, err: alsa::Error) -> alsa::Result<()>;
}

impl PcmIo for PCM {
    fn readi(&self, buf: &mut [i16]) -> alsa::Result<usize> {
        self.io_i16()?.readi(buf)
    }
    fn writei(&self, buf: &[i16]) -> alsa::Result<usize> {
        self.io_i16()?.writei(buf)
    }
    fn try_recover(&self, err: alsa::Error) -> alsa::Result<()> {
        PCM::try_recover(self, err, true)
    }
}

/// Handles one failed read or write: counts xruns, recovers what `snd_pcm_recover` can.
fn recover(
    pcm: &impl PcmIo,
    e: alsa::Error,
    xruns: &mut u64,
    attempts: &mut u32,
) -> alsa::Result<()> {
    *attempts += 1;
    if *attempts > MAX_RECOVERIES {
        return Err(e);
    }
    match e.errno() {
        EINTR => Ok(()),
        EPIPE => {
            *xruns += 1;
            // A capture overrun drops samples the device never hears; a playback underrun is a
            // click. Both are the first thing to look at when speech or music sounds wrong.
            tracing::warn!(
                xruns = *xruns,
                "audio: xrun (buffer over/underrun), samples dropped; recovering"
            );
            pcm.try_recover(e)
        }
        _ => pcm.try_recover(e),
    }
}

fn read_recovering(pcm: &impl PcmIo, buf: &mut [i16], xruns: &mut u64) -> alsa::Result<usize> {
    let mut attempts = 0;
    loop {
        match pcm.readi(buf) {
            Ok(n) => return Ok(n),
            Err(e) => recover(pcm, e, xruns, &mut attempts)?,
        }
    }
}

fn write_all_recovering(pcm: &impl PcmIo, samples: &[i16], xruns: &mut u64) -> alsa::Result<()> {
    let mut done = 0;
    let mut attempts = 0;
    while done < samples.len() {
        match pcm.writei(&samples[done..]) {
            Ok(n) => {
                done += n;
                attempts = 0;
            }
            Err(e) => recover(pcm, e, xruns, &mut attempts)?,
        }
    }
    Ok(())
}

/// An open PCM with what the device granted: the part capture and playback share.
struct AlsaStream {
    pcm: PCM,
    rate: u32,
    period: usize,
    buffer: usize,
    xruns: u64,
    device: String,
}

impl AlsaStream {
    fn open(
        device: String,
        name: &str,
        direction: Direction,
        rate: u32,
        periods: u32,
    ) -> Result<Self, HalError> {
        let (pcm, period, buffer) = open_pcm(&device, name, direction, rate, periods)?;
        Ok(AlsaStream {
            pcm,
            rate,
            period,
            buffer,
            xruns: 0,
            device,
        })
    }
}

/// An ALSA capture device (`default`, `plughw:1,0`, `dsnoop:...`), mono S16 at a fixed rate.
pub struct AlsaMicrophone(AlsaStream);

impl AlsaMicrophone {
    /// Opens the capture device `name` at exactly `rate` Hz. A `hw:` device that cannot do the
    /// rate is an error; `plughw:` and `default` resample.
    pub fn open(name: &str, rate: u32) -> Result<Self, HalError> {
        let device = format!("microphone {name}");
        AlsaStream::open(device, name, Direction::Capture, rate, CAPTURE_PERIODS)
            .map(AlsaMicrophone)
    }

    /// Overruns recovered so far (each one lost some audio).
    pub fn xruns(&self) -> u64 {
        self.0.xruns
    }

    /// Frames per period and in the whole buffer, as the device granted them.
    pub fn period_and_buffer_frames(&self) -> (usize, usize) {
        (self.0.period, self.0.buffer)
    }
}

impl Microphone for AlsaMicrophone {
    fn sample_rate(&self) -> u32 {
        self.0.rate
    }

    fn read(&mut self, buf: &mut [i16]) -> Result<usize, HalError> {
        if buf.is_empty() {
            return Ok(0);
        }
        let s = &mut self.0;
        read_recovering(&s.pcm, buf, &mut s.xruns)
            .map_err(|e| stream_error(&s.device, "cannot read samples", e))
    }
}

/// An ALSA playback device (`default`, `plughw:0,0`, `dmix:...`), mono S16 at a fixed rate.
/// Dropping it plays out what was queued.
pub struct AlsaSpeaker(AlsaStream);

impl AlsaSpeaker {
    /// Opens the playback device `name` at exactly `rate` Hz. A `hw:` device that cannot do the
    /// rate is an error; `plughw:` and `default` resample.
    pub fn open(name: &str, rate: u32) -> Result<Self, HalError> {
        let device = format!("speaker {name}");
        AlsaStream::open(device, name, Direction::Playback, rate, PLAYBACK_PERIODS).map(AlsaSpeaker)
    }

    /// Underruns recovered so far (each one was a gap in the sound).
    pub fn xruns(&self) -> u64 {
        self.0.xruns
    }

    /// Frames per period and in the whole buffer, as the device granted them.
    pub fn period_and_buffer_frames(&self) -> (usize, usize) {
        (self.0.period, self.0.buffer)
    }
}

impl Speaker for AlsaSpeaker {
    fn sample_rate(&self) -> u32 {
        self.0.rate
    }

    fn write(&mut self, samples: &[i16]) -> Result<(), HalError> {
        let s = &mut self.0;
        write_all_recovering(&s.pcm, samples, &mut s.xruns)
            .map_err(|e| stream_error(&s.device, "cannot write samples", e))
    }

    fn drain(&mut self) -> Result<(), HalError> {
        match self.0.pcm.drain() {
            Ok(()) => {}
            // Ran dry at the very end: everything was played.
            Err(e) if e.errno() == EPIPE => {}
            Err(e) => return Err(stream_error(&self.0.device, "cannot drain", e)),
        }
        // drain() leaves the PCM stopped; make it ready for the next write.
        self.0
            .pcm
            .prepare()
            .map_err(|e| stream_error(&self.0.device, "cannot restart after draining", e))
    }
}

impl Drop for AlsaSpeaker {
    fn drop(&mut self) {
        if matches!(self.0.pcm.state(), State::Running | State::Prepared) {
            let _ = self.0.pcm.drain();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};

    use super::*;

    const EINVAL: i32 = 22;

    /// A PCM that fails with scripted errnos before succeeding.
    struct FakePcm {
        script: RefCell<Vec<Result<usize, i32>>>,
        recoverable: bool,
        recovered: Cell<u32>,
        written: RefCell<Vec<i16>>,
    }

    impl FakePcm {
        fn new(script: Vec<Result<usize, i32>>, recoverable: bool) -> Self {
            FakePcm {
                script: RefCell::new(script.into_iter().rev().collect()),
                recoverable,
                recovered: Cell::new(0),
                written: RefCell::new(Vec::new()),
            }
        }
        fn next(&self, want: usize) -> alsa::Result<usize> {
            match self.script.borrow_mut().pop() {
                Some(Ok(n)) => Ok(n.min(want)),
                Some(Err(errno)) => Err(alsa::Error::new("snd_pcm_fake", errno)),
                None => Ok(want),
            }
        }
    }

    impl PcmIo for FakePcm {
        fn readi(&self, buf: &mut [i16]) -> alsa::Result<usize> {
            let n = self.next(buf.len())?;
            buf[..n].fill(7);
            Ok(n)
        }
        fn writei(&self, buf: &[i16]) -> alsa::Result<usize> {
            let n = self.next(buf.len())?;
            self.written.borrow_mut().extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn try_recover(&self, err: alsa::Error) -> alsa::Result<()> {
            self.recovered.set(self.recovered.get() + 1);
            let handled = matches!(err.errno(), EPIPE | ESTRPIPE | EINTR);
            if self.recoverable && handled {
                Ok(())
            } else {
                Err(err)
            }
        }
    }

    #[test]
    fn overrun_is_recovered_and_counted() {
        let pcm = FakePcm::new(vec![Err(EPIPE), Ok(100)], true);
        let mut xruns = 0;
        let mut buf = [0i16; 160];
        assert_eq!(read_recovering(&pcm, &mut buf, &mut xruns), Ok(100));
        assert_eq!(xruns, 1);
        assert_eq!(pcm.recovered.get(), 1);
    }

    #[test]
    fn underrun_mid_write_resumes_where_it_stopped() {
        // Short write, underrun, suspend, interrupted call, then the rest.
        let pcm = FakePcm::new(
            vec![Ok(3), Err(EPIPE), Err(ESTRPIPE), Err(EINTR), Ok(4)],
            true,
        );
        let samples: Vec<i16> = (0..10).collect();
        let mut xruns = 0;
        write_all_recovering(&pcm, &samples, &mut xruns).unwrap();
        assert_eq!(*pcm.written.borrow(), samples);
        assert_eq!(xruns, 1, "only EPIPE is an xrun");
    }

    #[test]
    fn unrecoverable_errors_are_returned() {
        let pcm = FakePcm::new(vec![Err(ENODEV)], true);
        let mut xruns = 0;
        let err = read_recovering(&pcm, &mut [0; 8], &mut xruns).unwrap_err();
        assert_eq!(err.errno(), ENODEV);
        let hal = stream_error("microphone hw:1,0", "cannot read samples", err);
        assert_eq!(hal.kind(), ErrorKind::Disconnected);
        assert!(hal.help_text().is_some());

        // A device that keeps overrunning gives up after a bounded number of attempts.
        let pcm = FakePcm::new(vec![Err(EPIPE); 50], true);
        let err = read_recovering(&pcm, &mut [0; 8], &mut xruns).unwrap_err();
        assert_eq!(err.errno(), EPIPE);
        assert_eq!(stream_error("m", "read", err).kind(), ErrorKind::Overrun);
        assert!(xruns <= u64::from(MAX_RECOVERIES));
    }

    #[test]
    fn open_errors_say_what_to_do() {
        for (errno, kind) in [
            (ENOENT, ErrorKind::NotFound),
            (EBUSY, ErrorKind::Busy),
            (EACCES, ErrorKind::PermissionDenied),
            (EINVAL, ErrorKind::InvalidData),
        ] {
            let e = open_error(
                "microphone hw:9,0",
                "hw:9,0",
                Direction::Capture,
                alsa::Error::new("snd_pcm_open", errno),
            );
            assert_eq!(e.kind(), kind, "errno {errno}");
            assert!(e.help_text().is_some());
        }
    }
}
