//! [`Connection`]: a session with one device over any `Read + Write` transport.

use std::collections::VecDeque;
use std::io::{self, ErrorKind as IoKind, Read, Write};
use std::time::Duration;

use sentio_link::{
    DeviceInfo, Endpoint, ErrorCode, Event, FrameDecoder, FrameError, FrameKind, Hello,
    InjectInput, LinkError, MAX_FRAME, MAX_WINDOW, Message, ModelInfo, ModelName, Negotiated,
    PROTOCOL_VERSION, Slot, Stats, Verdict, WindowConfig, encode_control, encode_frame, model_name,
};
use sentio_rng::SplitMix64;

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};

/// Capacity of the host's send window. The number of requests in flight is capped by the
/// device's negotiated window; the link window itself is set before the handshake, so it is the
/// largest the protocol allows.
const HOST_WINDOW_CAPACITY: usize = MAX_WINDOW as usize;

/// Pushes kept while nobody calls [`Connection::next_event`]; older ones are dropped.
const MAX_QUEUED_PUSHES: usize = 1024;

/// Writes that time out in a row before the transport is declared broken.
const WRITE_STALLS: u32 = 50;

/// How long to wait, and how often to retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Resend unacknowledged frames after this long; `None`: from the baud rate
    /// ([`WindowConfig::for_line`]). After 5 resends without progress the device counts as
    /// stopped.
    pub retransmit: Option<Duration>,
    /// How long one handshake attempt waits for the `HelloReply`; `None`: three retransmit
    /// timeouts, at least one second.
    pub handshake: Option<Duration>,
    /// Handshake attempts (each with a new sequence number and nonce) before
    /// [`Error::NoAnswer`].
    pub handshake_attempts: u8,
    /// While waiting for a reply or an event with nothing unacknowledged, probe the device
    /// with a `Ping` after this long without hearing from it, so that a device that restarted
    /// is noticed ([`Error::DeviceStopped`]) within a few retransmit timeouts instead of at the
    /// reply timeout. `None`: two retransmit timeouts, at least 500 ms.
    pub keepalive: Option<Duration>,
    /// Longest wait for the reply to a request once the link is up (a commit hashes the whole
    /// file on the device).
    pub reply: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            retransmit: None,
            handshake: None,
            handshake_attempts: 3,
            keepalive: None,
            reply: Duration::from_secs(30),
        }
    }
}

/// How to reach the device. The transport is opened by the caller (see
/// [`crate::serial::open_port`]); the name and baud rate here are for timeouts and messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Shown in errors (`/dev/ttyUSB0`).
    pub port_name: String,
    /// Line speed, for the retransmit timeout and messages.
    pub baud: u32,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// Seed for the initial sequence numbers and nonces; `None`: from the time and process.
    /// Tests set it to replay a run.
    pub seed: Option<u64>,
}

impl ConnectOptions {
    /// Options with default timeouts.
    pub fn new(port_name: impl Into<String>, baud: u32) -> Self {
        Self {
            port_name: port_name.into(),
            baud,
            timeouts: Timeouts::default(),
            seed: None,
        }
    }

    /// The same with `seed` (see [`ConnectOptions::seed`]).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    fn retransmit_ms(&self) -> u64 {
        match self.timeouts.retransmit {
            Some(d) => duration_ms(d).max(1),
            None => {
                WindowConfig::for_line(self.baud, MAX_FRAME, sentio_link::DEFAULT_WINDOW)
                    .retransmit_timeout_ms
            }
        }
    }

    fn keepalive_ms(&self) -> u64 {
        match self.timeouts.keepalive {
            Some(d) => duration_ms(d).max(1),
            None => (2 * self.retransmit_ms()).max(500),
        }
    }

    fn handshake_ms(&self) -> u64 {
        match self.timeouts.handshake {
            Some(d) => duration_ms(d).max(1),
            None => (3 * self.retransmit_ms()).max(1000),
        }
    }
}

pub(crate) fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Something the device pushed (not a reply): see [`Connection::subscribe`].
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)] // a few hundred bytes, handed out one at a time
pub enum Push {
    /// An event (mood change, track change, model loaded...).
    Event(Event),
    /// A stats report.
    Stats(Stats),
}

/// A generator for the sequence numbers and nonces of a connection opened without a seed:
/// seeded from the time, the process id and a stack address, so two hosts (or two runs) differ.
fn entropy_rng() -> SplitMix64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let local = 0u8;
    let addr = &local as *const u8 as u64;
    SplitMix64::new(nanos ^ (u64::from(std::process::id()) << 32) ^ addr.rotate_left(17))
}

/// A request whose reply has not come.
#[derive(Clone, Copy, Debug)]
struct Outstanding {
    name: &'static str,
    /// A keepalive `Ping` of the connection's own: its reply is swallowed.
    internal: bool,
}

/// A message delivered by the link, in order; `None` for an intact frame whose message did
/// not decode (another protocol version, or a bug).
type Delivered = Option<Message>;

/// A session with one device: handshake done, limits negotiated, requests answered in order.
///
/// Generic over the transport (`T`: a serial port, a pseudo-terminal, an in-memory pipe) and
/// the clock (`C`). The transport must have a read timeout: a read that finds nothing returns
/// `ErrorKind::TimedOut` or `WouldBlock` (as serial ports do); `Ok(0)` means the other end
/// closed it.
pub struct Connection<T: Read + Write, C: Clock = SystemClock> {
    pub(crate) transport: T,
    pub(crate) clock: C,
    pub(crate) options: ConnectOptions,
    endpoint: Box<Endpoint<Message, HOST_WINDOW_CAPACITY>>,
    decoder: Box<FrameDecoder>,
    /// Sequence numbers and nonces.
    rng: SplitMix64,
    /// Requests waiting for room in the window.
    pending: VecDeque<Message>,
    /// Requests sent (or pending) whose reply has not come, in order.
    outstanding: VecDeque<Outstanding>,
    /// When a frame last arrived from the device.
    last_heard: u64,
    inbox: VecDeque<Delivered>,
    pushes: VecDeque<Push>,
    tx_buf: Vec<u8>,
    rx_buf: Vec<u8>,
    frame_limit: usize,
    handshaken: bool,
    session_lost: bool,
    device: DeviceInfo,
    negotiated: Negotiated,
}

impl<T: Read + Write> Connection<T, SystemClock> {
    /// Opens a session over `transport`: writes a 0x00, sends `Hello`, checks the reply's
    /// nonce, retries with a new initial sequence number and nonce, and negotiates the limits.
    pub fn open(transport: T, options: ConnectOptions) -> Result<Self> {
        Self::open_with_clock(transport, options, SystemClock::new())
    }
}

impl<T: Read + Write, C: Clock> Connection<T, C> {
    /// [`Connection::open`] with a given clock (a [`ManualClock`](crate::ManualClock) for
    /// simulations).
    pub fn open_with_clock(transport: T, options: ConnectOptions, clock: C) -> Result<Self> {
        let rng = options.seed.map_or_else(entropy_rng, SplitMix64::new);
        let config = WindowConfig {
            window: MAX_WINDOW,
            retransmit_timeout_ms: options.retransmit_ms(),
            max_retries: 5,
        };
        let mut connection = Self {
            transport,
            clock,
            endpoint: Box::new(Endpoint::new(config, 0)),
            decoder: Box::new(FrameDecoder::new()),
            rng,
            pending: VecDeque::new(),
            outstanding: VecDeque::new(),
            last_heard: 0,
            inbox: VecDeque::new(),
            pushes: VecDeque::new(),
            tx_buf: vec![0; MAX_FRAME],
            rx_buf: vec![0; 4096],
            frame_limit: MAX_FRAME,
            handshaken: false,
            session_lost: false,
            device: DeviceInfo {
                board: heapless::String::new(),
                firmware_version: heapless::String::new(),
                serial_number: heapless::String::new(),
                capabilities: sentio_link::Capabilities::NONE,
                limits: sentio_link::Limits::full(0),
            },
            negotiated: Negotiated {
                max_frame: MAX_FRAME,
                chunk_len: sentio_link::MAX_CHUNK,
                window: 1,
            },
            options,
        };
        connection.handshake()?;
        Ok(connection)
    }

    /// Who the device is: board, firmware, serial number, capabilities, limits.
    pub fn device_info(&self) -> &DeviceInfo {
        &self.device
    }

    /// Frame size, chunk length and window in use.
    pub fn negotiated(&self) -> Negotiated {
        self.negotiated
    }

    /// The options the connection was opened with.
    pub fn options(&self) -> &ConnectOptions {
        &self.options
    }

    /// Sends the last acknowledgement and gives the transport back.
    pub fn close(mut self) -> Result<T> {
        self.flush_out()?;
        Ok(self.transport)
    }

    /// Round trip of a `Ping`.
    pub fn ping(&mut self) -> Result<Duration> {
        let nonce = self.rng.next_u64() as u32;
        let start = self.clock.now_ms();
        match self.request(Message::Ping { nonce })? {
            Message::Pong { nonce: got } if got == nonce => Ok(Duration::from_millis(
                self.clock.now_ms().saturating_sub(start),
            )),
            other => Err(unexpected("Ping", &other)),
        }
    }

    /// Every model version on the device (one entry per name and slot), all pages.
    pub fn list_models(&mut self) -> Result<Vec<ModelInfo>> {
        let mut all = Vec::new();
        loop {
            let start = u16::try_from(all.len()).unwrap_or(u16::MAX);
            match self.request(Message::ListModels { start })? {
                Message::ModelList(page) => {
                    let got = page.models.len();
                    all.extend(page.models);
                    if got == 0 || all.len() >= usize::from(page.total) {
                        return Ok(all);
                    }
                }
                Message::Error { code } => return Err(Error::from_code("ListModels", code, "")),
                other => return Err(unexpected("ListModels", &other)),
            }
        }
    }

    /// One stored version of `name`.
    pub fn inspect(&mut self, name: &str, slot: Slot) -> Result<ModelInfo> {
        let model = name_of(name)?;
        match self.request(Message::InspectModel { name: model, slot })? {
            Message::ModelInfo(info) => Ok(info),
            Message::Error { code } => Err(Error::from_code("InspectModel", code, name)),
            other => Err(unexpected("InspectModel", &other)),
        }
    }

    /// Removes both versions of `name`.
    pub fn delete(&mut self, name: &str) -> Result<()> {
        let model = name_of(name)?;
        self.request_done("DeleteModel", Message::DeleteModel { name: model }, name)
    }

    /// Makes the committed, verified version of `name` the active one.
    pub fn activate(&mut self, name: &str) -> Result<()> {
        let model = name_of(name)?;
        self.request_done("Activate", Message::Activate { name: model }, name)
    }

    /// Makes the version of `name` that was active before the current one active again.
    pub fn rollback(&mut self, name: &str) -> Result<()> {
        let model = name_of(name)?;
        self.request_done("Rollback", Message::Rollback { name: model }, name)
    }

    /// Asks the device to restart (it does once this request's reply is acknowledged; the
    /// connection is then over).
    pub fn reboot(&mut self) -> Result<()> {
        self.request_done("Reboot", Message::Reboot, "")?;
        self.flush_out()
    }

    /// Sends a piece of recorded input (hardware-in-the-loop).
    pub fn inject_input(&mut self, input: InjectInput) -> Result<()> {
        self.request_done("InjectInput", Message::InjectInput(input), "")
    }

    /// Chooses which pushes the device sends; read them with
    /// [`next_event`](Self::next_event).
    pub fn subscribe(&mut self, events: bool, stats: bool) -> Result<()> {
        self.request_done(
            "SubscribeEvents",
            Message::SubscribeEvents { events, stats },
            "",
        )
    }

    /// The next pushed event or stats report, waiting up to `timeout`; `None` if none came.
    pub fn next_event(&mut self, timeout: Duration) -> Result<Option<Push>> {
        let deadline = self.clock.now_ms().saturating_add(duration_ms(timeout));
        loop {
            self.check_replies()?;
            self.take_internal_replies()?;
            if let Some(delivered) = self.inbox.pop_front() {
                let name = match delivered {
                    Some(m) => m.name(),
                    None => "an undecodable message",
                };
                return Err(Error::Protocol {
                    detail: format!("{name} with no request outstanding"),
                });
            }
            if let Some(push) = self.pushes.pop_front() {
                self.flush_out()?;
                return Ok(Some(push));
            }
            self.keepalive();
            self.flush_out()?;
            if self.clock.now_ms() >= deadline {
                return Ok(None);
            }
            self.read_once()?;
        }
    }

    /// Sends any request and returns its reply (an `Error` reply is returned as a message,
    /// not an error). For requests this type has no method for.
    pub fn request(&mut self, message: Message) -> Result<Message> {
        self.send(message);
        let reply = self.next_reply()?;
        self.flush_out()?;
        Ok(reply)
    }

    fn request_done(&mut self, request: &'static str, message: Message, name: &str) -> Result<()> {
        match self.request(message)? {
            Message::Done => Ok(()),
            Message::Error { code } => Err(Error::from_code(request, code, name)),
            other => Err(unexpected(request, &other)),
        }
    }

    // ------------------------------------------------------------------ link machinery

    /// Queues a request; it goes out with the next [`flush_out`](Self::flush_out).
    pub(crate) fn send(&mut self, message: Message) {
        self.outstanding.push_back(Outstanding {
            name: message.name(),
            internal: false,
        });
        self.pending.push_back(message);
    }

    /// The reply to the oldest outstanding request, sending what is queued and reading as
    /// needed.
    pub(crate) fn next_reply(&mut self) -> Result<Message> {
        let timeout_ms = duration_ms(self.options.timeouts.reply);
        let deadline = self.clock.now_ms().saturating_add(timeout_ms);
        let Some(request) = self
            .outstanding
            .iter()
            .find(|o| !o.internal)
            .map(|o| o.name)
        else {
            return Err(Error::Protocol {
                detail: "waiting for a reply to a request never sent".into(),
            });
        };
        loop {
            self.take_internal_replies()?;
            if let Some(delivered) = self.inbox.pop_front() {
                self.outstanding.pop_front();
                return match delivered {
                    Some(message) => Ok(message),
                    None => Err(Error::Protocol {
                        detail: format!("undecodable reply to {request}"),
                    }),
                };
            }
            self.check_replies()?;
            self.keepalive();
            self.flush_out()?;
            if self.clock.now_ms() >= deadline {
                return Err(Error::Timeout {
                    request,
                    timeout_ms,
                });
            }
            self.read_once()?;
        }
    }

    /// Consumes the replies still owed after a failed pipelined operation, so that the next
    /// request's reply is matched correctly. Best effort: a link failure ends it.
    pub(crate) fn drain_replies(&mut self) {
        while self.outstanding.iter().any(|o| !o.internal) {
            if self.next_reply().is_err() {
                break;
            }
        }
        let _ = self.flush_out();
    }

    /// Swallows the replies to the connection's own keepalive pings at the head of the line.
    fn take_internal_replies(&mut self) -> Result<()> {
        while self.outstanding.front().is_some_and(|o| o.internal) {
            match self.inbox.pop_front() {
                None => break,
                Some(Some(Message::Pong { .. })) => {
                    self.outstanding.pop_front();
                }
                Some(Some(other)) => return Err(unexpected("Ping", &other)),
                Some(None) => {
                    return Err(Error::Protocol {
                        detail: "undecodable reply to Ping".into(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Probes a quiet link (see [`Timeouts::keepalive`]): with nothing unacknowledged, the
    /// retransmit timer cannot notice that the device went away.
    fn keepalive(&mut self) {
        let quiet = self.clock.now_ms().saturating_sub(self.last_heard);
        let probing = self.outstanding.iter().any(|o| o.internal);
        if self.handshaken
            && !probing
            && self.pending.is_empty()
            && self.endpoint.tx.is_idle()
            && quiet >= self.options.keepalive_ms()
        {
            let nonce = self.rng.next_u64() as u32;
            self.outstanding.push_back(Outstanding {
                name: "Ping",
                internal: true,
            });
            self.pending.push_back(Message::Ping { nonce });
        }
    }

    fn check_replies(&self) -> Result<()> {
        if self.session_lost {
            return Err(Error::SessionLost {
                port: self.options.port_name.clone(),
            });
        }
        Ok(())
    }

    /// Moves queued requests into the window and writes every frame due, then the Ack or Nak
    /// if one is due.
    pub(crate) fn flush_out(&mut self) -> Result<()> {
        while self.endpoint.can_push() {
            let Some(message) = self.pending.pop_front() else {
                break;
            };
            if let Err(message) = self.endpoint.push(message) {
                self.pending.push_front(message);
                break;
            }
        }
        let now = self.clock.now_ms();
        let mut buf = std::mem::take(&mut self.tx_buf);
        let result = self.write_due(now, &mut buf);
        self.tx_buf = buf;
        result
    }

    fn write_due(&mut self, now: u64, buf: &mut [u8]) -> Result<()> {
        let limit = buf.len().min(self.frame_limit);
        loop {
            let transmit = match self.endpoint.poll_transmit(now) {
                Ok(t) => t,
                Err(LinkError::Unresponsive { .. }) => return Err(self.stopped()),
            };
            let Some(t) = transmit else { break };
            if t.retransmission {
                tracing::debug!(port = %self.options.port_name, seq = t.header.seq, "link: retransmitting a frame the device has not acknowledged");
            }
            let out = buf.get_mut(..limit).unwrap_or_default();
            let len = encode_frame(&t.header, t.payload, out)
                .map(<[u8]>::len)
                .map_err(|e| Error::Protocol {
                    detail: format!("cannot encode {}: {e}", t.payload.name()),
                })?;
            self.write_bytes(buf.get(..len).unwrap_or_default())?;
        }
        if let Some(header) = self.endpoint.take_control() {
            if header.kind == FrameKind::Nak {
                tracing::debug!(port = %self.options.port_name, expected = header.ack, "link: sending a Nak (a frame was lost or corrupt)");
            }
            let len =
                encode_control(&header, buf)
                    .map(<[u8]>::len)
                    .map_err(|e| Error::Protocol {
                        detail: format!("cannot encode an ack: {e}"),
                    })?;
            self.write_bytes(buf.get(..len).unwrap_or_default())?;
        }
        self.transport.flush().map_err(|e| self.io_error(e))
    }

    fn stopped(&self) -> Error {
        if self.handshaken {
            Error::DeviceStopped {
                port: self.options.port_name.clone(),
            }
        } else {
            Error::NoAnswer {
                port: self.options.port_name.clone(),
                baud: self.options.baud,
                attempts: self.options.timeouts.handshake_attempts,
            }
        }
    }

    fn write_bytes(&mut self, mut bytes: &[u8]) -> Result<()> {
        let mut stalls = 0;
        while !bytes.is_empty() {
            match self.transport.write(bytes) {
                Ok(0) => return Err(self.io_error(IoKind::WriteZero.into())),
                Ok(n) => {
                    bytes = bytes.get(n..).unwrap_or_default();
                    stalls = 0;
                }
                Err(e) if e.kind() == IoKind::Interrupted => {}
                Err(e) if is_no_data(&e) && stalls < WRITE_STALLS => {
                    // The other side is not reading: read what it sent meanwhile, so that
                    // neither side waits on a full buffer forever.
                    stalls += 1;
                    self.read_once()?;
                }
                Err(e) => return Err(self.io_error(e)),
            }
        }
        Ok(())
    }

    fn io_error(&self, e: io::Error) -> Error {
        let port = self.options.port_name.clone();
        match e.kind() {
            IoKind::BrokenPipe
            | IoKind::ConnectionReset
            | IoKind::ConnectionAborted
            | IoKind::NotConnected
            | IoKind::UnexpectedEof => Error::Disconnected { port },
            _ => Error::Io { port, source: e },
        }
    }

    /// Reads once (waiting up to the transport's timeout) and handles every frame completed.
    fn read_once(&mut self) -> Result<()> {
        let mut buf = std::mem::take(&mut self.rx_buf);
        let result = self.transport.read(&mut buf);
        let outcome = match result {
            Ok(0) => Err(Error::Disconnected {
                port: self.options.port_name.clone(),
            }),
            Ok(n) => {
                self.on_bytes(buf.get(..n).unwrap_or_default());
                Ok(())
            }
            Err(e) if is_no_data(&e) => Ok(()),
            Err(e) => Err(self.io_error(e)),
        };
        self.rx_buf = buf;
        outcome
    }

    fn on_bytes(&mut self, bytes: &[u8]) {
        let now = self.clock.now_ms();
        let mut frames = Vec::new();
        for result in self.decoder.feed(bytes) {
            self.last_heard = now;
            match result {
                Ok(frame) => frames.push((frame.header, frame.message)),
                Err(FrameError::BadMessage { header }) => frames.push((header, None)),
                Err(e) => {
                    tracing::debug!(port = %self.options.port_name, error = ?e, "link: corrupt frame dropped; asking for a resend (Nak)");
                    self.endpoint.on_corrupt();
                }
            }
        }
        for (header, message) in frames {
            if header.kind == FrameKind::Nak {
                tracing::debug!(port = %self.options.port_name, ack = header.ack, "link: Nak from the device; resending from its ack");
            }
            let Verdict::Deliver { new_session } = self.endpoint.on_frame(&header, now) else {
                continue;
            };
            if new_session && self.handshaken {
                // The device only starts a session in answer to a Hello: it restarted and
                // is answering someone's old Hello, or lost ours. Nothing of that session is
                // a reply to our pending request: queuing it would make its HelloReply look
                // like one (a protocol error) instead of the lost session it is.
                self.session_lost = true;
            }
            if self.session_lost {
                continue;
            }
            match message {
                Some(Message::Event(event)) => self.push_aside(Push::Event(event)),
                Some(Message::Stats(stats)) => self.push_aside(Push::Stats(stats)),
                Some(message) => self.inbox.push_back(Some(message)),
                None => self.inbox.push_back(None),
            }
        }
    }

    fn push_aside(&mut self, push: Push) {
        if self.pushes.len() >= MAX_QUEUED_PUSHES {
            self.pushes.pop_front();
        }
        self.pushes.push_back(push);
    }

    // ------------------------------------------------------------------ handshake

    fn handshake(&mut self) -> Result<()> {
        let attempts = self.options.timeouts.handshake_attempts.max(1);
        let mut last_isn = None;
        for _ in 0..attempts {
            let mut isn = self.rng.next_u64() as u16;
            if Some(isn) == last_isn {
                isn = isn.wrapping_add(0x4000);
            }
            last_isn = Some(isn);
            let nonce = self.rng.next_u64() as u32;
            self.endpoint.tx.reset(isn);
            self.endpoint.rx.reset();
            self.decoder.reset();
            self.pending.clear();
            self.outstanding.clear();
            self.inbox.clear();
            self.session_lost = false;
            // End whatever partial frame the device has buffered.
            self.write_bytes(&[0])?;
            self.pending.push_back(Message::Hello(Hello {
                protocol_version: PROTOCOL_VERSION,
                host_max_frame: MAX_FRAME as u16,
                nonce,
            }));
            if let Some(device) = self.await_hello_reply(nonce)? {
                let negotiated = device.limits.negotiate().ok_or_else(|| Error::Protocol {
                    detail: format!("the device announced unusable limits {:?}", device.limits),
                })?;
                self.negotiated = negotiated;
                self.frame_limit = negotiated.max_frame;
                self.device = device;
                self.handshaken = true;
                self.inbox.clear();
                self.flush_out()?;
                return Ok(());
            }
        }
        Err(Error::NoAnswer {
            port: self.options.port_name.clone(),
            baud: self.options.baud,
            attempts,
        })
    }

    /// Waits for the reply to the Hello with `nonce`: `Ok(None)` when this attempt timed out.
    fn await_hello_reply(&mut self, nonce: u32) -> Result<Option<DeviceInfo>> {
        let deadline = self
            .clock
            .now_ms()
            .saturating_add(self.options.handshake_ms());
        loop {
            while let Some(delivered) = self.inbox.pop_front() {
                match delivered {
                    Some(Message::HelloReply(reply)) if reply.nonce == nonce => {
                        if reply.protocol_version != PROTOCOL_VERSION {
                            return Err(Error::VersionMismatch {
                                host: PROTOCOL_VERSION,
                                device: reply.protocol_version,
                            });
                        }
                        return Ok(Some(reply.device));
                    }
                    Some(Message::Error {
                        code: ErrorCode::VersionMismatch { host, device },
                    }) => return Err(Error::VersionMismatch { host, device }),
                    // A reply to someone's earlier Hello, or other leftovers: not ours.
                    _ => {}
                }
            }
            match self.flush_out() {
                Ok(()) => {}
                Err(Error::NoAnswer { .. }) => return Ok(None),
                Err(e) => return Err(e),
            }
            if self.clock.now_ms() >= deadline {
                return Ok(None);
            }
            self.read_once()?;
        }
    }
}

fn is_no_data(e: &io::Error) -> bool {
    matches!(e.kind(), IoKind::TimedOut | IoKind::WouldBlock)
}

pub(crate) fn name_of(name: &str) -> Result<ModelName> {
    model_name(name).map_err(|_| Error::BadName { name: name.into() })
}

pub(crate) fn unexpected(request: &'static str, reply: &Message) -> Error {
    Error::Protocol {
        detail: format!("{} in reply to {request}", reply.name()),
    }
}

impl<T: Read + Write, C: Clock> std::fmt::Debug for Connection<T, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("options", &self.options)
            .field("device", &self.device)
            .field("negotiated", &self.negotiated)
            .field("outstanding", &self.outstanding)
            .finish_non_exhaustive()
    }
}
