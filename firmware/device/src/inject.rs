//! Hardware-in-the-loop input: camera images and audio a host streams over the link replace
//! what the camera and the microphone deliver, while the host's session holds the device.
//!
//! The link's `InjectInput` pieces carry (see docs/protocol.md, "Input injection"):
//! - `camera`: an image file (PNG or JPEG) split into pieces numbered from 0, the last marked
//!   `last`. Once whole it is decoded, scaled to the camera's size and pixel format, and every
//!   frame shows it until the next image.
//! - `audio`: signed 16-bit little-endian mono samples at the microphone's rate, in pieces
//!   numbered from 0. They are played in order; when they run out the microphone hears silence.
//!
//! Injection starts with the first piece of a session and ends when the session does (the host
//! closes it, stops answering, or a new session starts): the real camera and microphone come
//! back. The real devices keep running underneath, so the loop's pacing does not change.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use image::RgbImage;
use sentio_hal::{Camera, Frame, FrameFormat, HalError, Microphone, PixelFormat};
use sentio_link::{InjectInput, InputStream};

use crate::events::{Event, Refusal};

/// Largest image file accepted (bytes): a camera-sized JPEG or PNG is well below it.
pub const MAX_IMAGE_BYTES: usize = 16 << 20;
/// Most injected audio queued ahead of the microphone (samples: 60 s at 16 kHz).
pub const MAX_AUDIO_SAMPLES: usize = 60 * 16_000;

#[derive(Default)]
struct State {
    active: bool,
    /// The link session the injection belongs to.
    session: u64,
    image: Vec<u8>,
    image_seq: u32,
    /// The latest whole image and a counter that changes with it.
    frame: Option<(u64, Arc<RgbImage>)>,
    frames: u64,
    audio: VecDeque<i16>,
    audio_seq: u32,
    /// A byte of a sample split across two pieces.
    audio_odd: Option<u8>,
}

/// The injection state shared by the link thread (which feeds it) and the app's camera and
/// microphone (which read it).
#[derive(Clone, Default)]
pub struct Injection {
    state: Arc<Mutex<State>>,
}

impl Injection {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether injected input replaces the real devices now.
    pub fn is_active(&self) -> bool {
        self.lock().active
    }

    /// Takes a piece the host sent in link session `session`; `report` gets what the device
    /// should say about it (start of injection, a whole image or clip, a refused piece).
    pub fn accept(&self, input: &InjectInput, session: u64, report: &dyn Fn(Event)) {
        let mut state = self.lock();
        if !state.active || state.session != session {
            *state = State {
                active: true,
                session,
                frames: state.frames,
                ..State::default()
            };
            report(Event::Injection {
                active: true,
                reason: "the host streams input: the camera and microphone are replaced".into(),
            });
        }
        match input.stream {
            InputStream::Camera => accept_image(&mut state, input, report),
            InputStream::Audio => accept_audio(&mut state, input, report),
        }
    }

    /// Ends the injection (the host's session ended); `report` says so once.
    pub fn release(&self, reason: &str, report: &dyn Fn(Event)) {
        let mut state = self.lock();
        if state.active {
            let frames = state.frames;
            *state = State {
                frames,
                ..State::default()
            };
            report(Event::Injection {
                active: false,
                reason: reason.into(),
            });
        }
    }

    /// The injected image to show now, if any.
    fn frame(&self) -> Option<(u64, Arc<RgbImage>)> {
        let state = self.lock();
        state.active.then(|| state.frame.clone()).flatten()
    }

    /// Replaces `samples` with injected audio (silence past its end) while active; `false`
    /// when not active (the real samples stay).
    fn fill_audio(&self, samples: &mut [i16]) -> bool {
        let mut state = self.lock();
        if !state.active {
            return false;
        }
        for slot in samples.iter_mut() {
            *slot = state.audio.pop_front().unwrap_or(0);
        }
        true
    }
}

fn refuse(report: &dyn Fn(Event), stream: &str, reason: String) {
    report(Event::refused_for(
        &format!("injected {stream}"),
        "link InjectInput",
        Refusal::said(reason),
    ));
}

fn accept_image(state: &mut State, input: &InjectInput, report: &dyn Fn(Event)) {
    if input.seq != state.image_seq {
        refuse(
            report,
            "camera",
            format!(
                "piece {} came where piece {} was due: the image is dropped; send it again from \
                 piece 0",
                input.seq, state.image_seq
            ),
        );
        state.image.clear();
        state.image_seq = 0;
        return;
    }
    if state.image.len() + input.data.len() > MAX_IMAGE_BYTES {
        refuse(
            report,
            "camera",
            format!("an image over {MAX_IMAGE_BYTES} bytes: send a smaller PNG or JPEG"),
        );
        state.image.clear();
        state.image_seq = 0;
        return;
    }
    state.image.extend_from_slice(&input.data);
    state.image_seq += 1;
    if !input.last {
        return;
    }
    let bytes = std::mem::take(&mut state.image);
    let pieces = state.image_seq;
    state.image_seq = 0;
    match image::load_from_memory(&bytes) {
        Ok(decoded) => {
            let rgb = decoded.to_rgb8();
            report(Event::Injected {
                stream: "camera".into(),
                pieces,
                bytes: bytes.len() as u64,
                detail: format!("a {}x{} image", rgb.width(), rgb.height()),
            });
            state.frames += 1;
            state.frame = Some((state.frames, Arc::new(rgb)));
        }
        Err(e) => refuse(
            report,
            "camera",
            format!(
                "{} bytes that are not a PNG or JPEG image: {e}",
                bytes.len()
            ),
        ),
    }
}

fn accept_audio(state: &mut State, input: &InjectInput, report: &dyn Fn(Event)) {
    if input.seq != state.audio_seq {
        refuse(
            report,
            "audio",
            format!(
                "piece {} came where piece {} was due: the audio queued so far plays, this piece \
                 is dropped; number each clip's pieces from 0",
                input.seq, state.audio_seq
            ),
        );
        return;
    }
    state.audio_seq = if input.last { 0 } else { state.audio_seq + 1 };
    let mut bytes = input.data.iter().copied();
    if let Some(low) = state.audio_odd.take()
        && let Some(high) = bytes.next()
    {
        state.audio.push_back(i16::from_le_bytes([low, high]));
    }
    let rest: Vec<u8> = bytes.collect();
    let (pairs, odd) = rest.as_chunks::<2>();
    let room = MAX_AUDIO_SAMPLES.saturating_sub(state.audio.len());
    if pairs.len() > room {
        refuse(
            report,
            "audio",
            format!(
                "more than {MAX_AUDIO_SAMPLES} samples queued ahead of the microphone: {} \
                 dropped; stream the clip no faster than it plays",
                pairs.len() - room
            ),
        );
    }
    state
        .audio
        .extend(pairs.iter().take(room).map(|p| i16::from_le_bytes(*p)));
    state.audio_odd = odd.first().copied();
    if input.last {
        report(Event::Injected {
            stream: "audio".into(),
            pieces: input.seq + 1,
            bytes: 0,
            detail: format!("{} samples queued", state.audio.len()),
        });
    }
}

/// A camera whose frames the injection replaces while it is active.
pub struct InjectedCamera<C> {
    inner: C,
    injection: Injection,
    /// The injected image converted to the camera's format, and which image it was made from.
    converted: Vec<u8>,
    made_from: Option<u64>,
}

impl<C: Camera> InjectedCamera<C> {
    pub fn new(inner: C, injection: Injection) -> Self {
        Self {
            inner,
            injection,
            converted: Vec::new(),
            made_from: None,
        }
    }
}

/// `image` scaled to `format`'s size and converted to its pixel format.
fn convert(image: &RgbImage, format: &FrameFormat, out: &mut Vec<u8>) {
    let scaled = if image.dimensions() == (format.width, format.height) {
        image.clone()
    } else {
        image::imageops::resize(
            image,
            format.width,
            format.height,
            image::imageops::FilterType::Triangle,
        )
    };
    out.clear();
    match format.pixel_format {
        PixelFormat::Rgb888 => out.extend_from_slice(scaled.as_raw()),
        // ITU-R BT.601 luma, as the camera drivers' gray frames.
        PixelFormat::Gray8 => out.extend(scaled.pixels().map(|p| {
            let [r, g, b] = p.0.map(u32::from);
            ((299 * r + 587 * g + 114 * b + 500) / 1000) as u8
        })),
    }
}

impl<C: Camera> Camera for InjectedCamera<C> {
    fn format(&self) -> FrameFormat {
        self.inner.format()
    }

    fn next_frame(&mut self) -> Result<Frame<'_>, HalError> {
        let Some((id, image)) = self.injection.frame() else {
            return self.inner.next_frame();
        };
        // The real camera still paces the loop; its frame's time and number are kept.
        let (timestamp, sequence) = {
            let real = self.inner.next_frame()?;
            (real.timestamp, real.sequence)
        };
        let format = self.inner.format();
        if self.made_from != Some(id) {
            convert(&image, &format, &mut self.converted);
            self.made_from = Some(id);
        }
        Ok(Frame {
            width: format.width,
            height: format.height,
            pixel_format: format.pixel_format,
            data: &self.converted,
            timestamp,
            sequence,
        })
    }
}

/// A microphone whose samples the injection replaces while it is active.
pub struct InjectedMicrophone<M> {
    inner: M,
    injection: Injection,
}

impl<M: Microphone> InjectedMicrophone<M> {
    pub fn new(inner: M, injection: Injection) -> Self {
        Self { inner, injection }
    }
}

impl<M: Microphone> Microphone for InjectedMicrophone<M> {
    fn sample_rate(&self) -> u32 {
        self.inner.sample_rate()
    }

    fn read(&mut self, buf: &mut [i16]) -> Result<usize, HalError> {
        // The real microphone paces the loop; its samples are replaced while injected.
        let n = self.inner.read(buf)?;
        self.injection.fill_audio(&mut buf[..n]);
        Ok(n)
    }
}
