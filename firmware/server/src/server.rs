//! [`LinkServer`]: the device's end of the link, as a state machine fed with bytes and time.

use std::collections::VecDeque;

use heapless::String;
use sentio_link::{
    BeginTransfer, Capabilities, DeviceInfo, DownloadState, Endpoint, ErrorCode, Event,
    FrameDecoder, FrameError, FrameFlags, FrameKind, Header, HelloReply, InjectInput, Limits,
    LinkError, MAX_BOARD_LEN, MAX_FRAME, MAX_LISTED_MODELS, MAX_SERIAL_LEN, MAX_VERSION_LEN,
    MAX_WINDOW, MIN_FRAME, Message, ModelList, ModelName, PROTOCOL_VERSION, Sha256, Stats, Verdict,
    WindowConfig, check_version, encode_control, encode_frame, max_chunk_for_frame,
    validate_model_name,
};

use crate::store::{BeginDecision, BeginMode, ModelStore};

/// Capacity of the server's send window (frames kept for retransmission).
pub const SERVER_WINDOW_CAPACITY: usize = MAX_WINDOW as usize;

/// Who the device is and what it announces in its `HelloReply`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// Board profile name (`rpi4`, `sim`, ...).
    pub board: String<MAX_BOARD_LEN>,
    /// Version of `sentiod`.
    pub firmware_version: String<MAX_VERSION_LEN>,
    /// Unique per board.
    pub serial_number: String<MAX_SERIAL_LEN>,
    /// What the application offers besides the store: [`Capabilities::EVENTS`],
    /// [`Capabilities::STATS`], [`Capabilities::INPUT_INJECTION`]. [`Capabilities::MODELS`] and
    /// the store's own capabilities are added.
    pub capabilities: Capabilities,
    /// Largest frame the device takes (clamped to `MIN_FRAME..=MAX_FRAME`).
    pub max_frame: u16,
    /// Most data bytes per chunk (further limited by what fits in `max_frame`).
    pub max_chunk: u16,
    /// Frames (and chunks) the host may have unacknowledged, and the device's own send window
    /// (clamped to `1..=MAX_WINDOW`).
    pub window: u16,
    /// Resend unacknowledged replies after this long (see [`ServerConfig::for_line`]).
    pub retransmit_timeout_ms: u64,
    /// Timeouts in a row without progress before the device forgets the session.
    pub max_retries: u8,
    /// First sequence number of the device's send space; choose it differently at every boot
    /// (e.g. from a clock or a boot counter).
    pub initial_seq: u16,
    /// Most [`InjectInput`] pieces queued for the application; more are refused `Busy`.
    pub max_pending_inputs: usize,
}

/// Copies the longest prefix of `s` that fits in `N` bytes, cut at a character boundary.
pub fn truncated<const N: usize>(s: &str) -> String<N> {
    let mut out = String::new();
    for c in s.chars() {
        if out.push(c).is_err() {
            break;
        }
    }
    out
}

impl ServerConfig {
    /// A device with full-size frames and chunks, the default window, timeouts for 115200 baud
    /// and every application capability; strings longer than the protocol allows are cut.
    pub fn new(board: &str, firmware_version: &str, serial_number: &str) -> Self {
        let window = sentio_link::DEFAULT_WINDOW;
        let line = WindowConfig::for_line(115_200, MAX_FRAME, window);
        Self {
            board: truncated(board),
            firmware_version: truncated(firmware_version),
            serial_number: truncated(serial_number),
            capabilities: Capabilities::EVENTS
                | Capabilities::STATS
                | Capabilities::INPUT_INJECTION,
            max_frame: MAX_FRAME as u16,
            max_chunk: sentio_link::MAX_CHUNK as u16,
            window,
            retransmit_timeout_ms: line.retransmit_timeout_ms,
            max_retries: line.max_retries,
            initial_seq: 0,
            max_pending_inputs: 64,
        }
    }

    /// Sets the retransmit timeout for a line of `baud` bits/s
    /// ([`WindowConfig::for_line`]).
    pub fn for_line(mut self, baud: u32) -> Self {
        let line = WindowConfig::for_line(baud, usize::from(self.max_frame), self.window);
        self.retransmit_timeout_ms = line.retransmit_timeout_ms;
        self
    }

    /// Sets the first sequence number (see [`ServerConfig::initial_seq`]).
    pub fn with_initial_seq(mut self, initial_seq: u16) -> Self {
        self.initial_seq = initial_seq;
        self
    }

    fn frame_limit(&self) -> usize {
        usize::from(self.max_frame).clamp(MIN_FRAME, MAX_FRAME)
    }

    fn window(&self) -> u16 {
        self.window.clamp(1, MAX_WINDOW)
    }

    fn limits(&self, quota: u64) -> Limits {
        let max_frame = self.frame_limit();
        let chunk = usize::from(self.max_chunk).min(max_chunk_for_frame(max_frame));
        Limits {
            max_frame: max_frame as u16,
            max_chunk: chunk as u16,
            window: self.window(),
            store_quota_bytes: quota,
        }
    }
}

/// Counters for logs and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Frames that decoded.
    pub frames_received: u64,
    /// Frames lost to corruption (bad CRC, COBS, oversize...).
    pub corrupt_frames: u64,
    /// Requests handled (each answered once).
    pub requests: u64,
    /// Sessions opened by a host.
    pub sessions: u64,
    /// Sessions given up because the host stopped acknowledging.
    pub sessions_dropped: u64,
    /// Events and stats queued for the host.
    pub pushes_sent: u64,
    /// Events and stats dropped (not subscribed, or the window more than half full).
    pub pushes_dropped: u64,
}

#[derive(Clone, Debug)]
struct OpenTransfer {
    name: ModelName,
    download: DownloadState,
}

#[derive(Clone, Debug, Default)]
struct Session {
    handshaken: bool,
    host_max_frame: usize,
    events: bool,
    stats: bool,
    /// The last request was a `BeginTransfer` of this (name, sha256) answered `TransferSkipped`.
    last_skip: Option<(ModelName, Sha256)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reboot {
    No,
    /// `Done` is queued; reboot once the host acknowledged it.
    Pending,
    Requested,
}

/// The device's end of the link.
///
/// It owns the reliability state (an [`Endpoint`]), a [`FrameDecoder`], the open transfer's
/// [`DownloadState`] and the store, and does no I/O: the caller feeds it what it reads
/// ([`on_bytes`](Self::on_bytes)), writes what it produces ([`poll_output`](Self::poll_output)),
/// and calls again by [`next_deadline`](Self::next_deadline). [`crate::serve`] is such a loop
/// over any `Read + Write`.
///
/// Towards the application: [`push_event`](Self::push_event) / [`push_stats`](Self::push_stats)
/// for a subscribed host; [`take_activations`](Self::take_activations) (reload these models),
/// [`take_deletions`](Self::take_deletions), [`take_inputs`](Self::take_inputs)
/// (hardware-in-the-loop input), [`reboot_requested`](Self::reboot_requested).
pub struct LinkServer<S: ModelStore> {
    config: ServerConfig,
    store: S,
    endpoint: Box<Endpoint<Message, SERVER_WINDOW_CAPACITY>>,
    decoder: Box<FrameDecoder>,
    outbox: VecDeque<Message>,
    scratch: Vec<u8>,
    greeting: bool,
    session: Session,
    transfer: Option<OpenTransfer>,
    next_transfer_id: u32,
    activations: VecDeque<ModelName>,
    deletions: VecDeque<ModelName>,
    inputs: VecDeque<InjectInput>,
    reboot: Reboot,
    stats: ServerStats,
}

impl<S: ModelStore> core::fmt::Debug for LinkServer<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LinkServer")
            .field("config", &self.config)
            .field("handshaken", &self.session.handshaken)
            .field("transfer", &self.transfer)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// The largest header a frame can have: its encoding sizes every reply check.
const WORST_HEADER: Header = Header {
    seq: u16::MAX,
    ack: u16::MAX,
    kind: FrameKind::Data,
    flags: FrameFlags::from_bits_retain(0b11),
};

impl<S: ModelStore> LinkServer<S> {
    /// A server waiting for a host's `Hello`. Its first output is a single 0x00, which ends
    /// whatever partial frame the host had buffered (e.g. from before a device restart).
    pub fn new(config: ServerConfig, store: S) -> Self {
        let window = WindowConfig {
            window: config.window(),
            retransmit_timeout_ms: config.retransmit_timeout_ms,
            max_retries: config.max_retries,
        };
        let next_transfer_id = (u32::from(config.initial_seq) << 16) | 1;
        Self {
            endpoint: Box::new(Endpoint::new(window, config.initial_seq)),
            decoder: Box::new(FrameDecoder::new()),
            outbox: VecDeque::new(),
            scratch: vec![0; MAX_FRAME],
            greeting: true,
            session: Session::default(),
            transfer: None,
            next_transfer_id,
            activations: VecDeque::new(),
            deletions: VecDeque::new(),
            inputs: VecDeque::new(),
            reboot: Reboot::No,
            stats: ServerStats::default(),
            config,
            store,
        }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, mutably (for the application's own use between calls).
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Gives the store back (e.g. to start a new server over it after a simulated restart).
    pub fn into_store(self) -> S {
        self.store
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Counters.
    pub fn stats(&self) -> ServerStats {
        self.stats
    }

    /// What the device announces in its `HelloReply`.
    pub fn device_info(&self) -> DeviceInfo {
        DeviceInfo {
            board: self.config.board.clone(),
            firmware_version: self.config.firmware_version.clone(),
            serial_number: self.config.serial_number.clone(),
            capabilities: Capabilities::MODELS
                | self.config.capabilities
                | self.store.capabilities(),
            limits: self.config.limits(self.store.quota_bytes()),
        }
    }

    /// Whether a host completed the handshake of the current session.
    pub fn is_connected(&self) -> bool {
        self.session.handshaken
    }

    /// Takes bytes read from the line (any amount, frames may be split anywhere), handles
    /// every request they complete and queues the replies.
    pub fn on_bytes(&mut self, bytes: &[u8], now_ms: u64) {
        let mut frames = Vec::new();
        for result in self.decoder.feed(bytes) {
            match result {
                Ok(frame) => frames.push((frame.header, frame.message)),
                Err(FrameError::BadMessage { header }) => frames.push((header, None)),
                Err(e) => {
                    self.stats.corrupt_frames += 1;
                    tracing::debug!(error = ?e, "link: corrupt frame dropped; asking for a resend (Nak)");
                    self.endpoint.on_corrupt();
                }
            }
        }
        for (header, message) in frames {
            self.stats.frames_received += 1;
            if header.kind == FrameKind::Nak {
                tracing::debug!(
                    ack = header.ack,
                    "link: Nak from the host; resending from its ack"
                );
            }
            let verdict = self.endpoint.on_frame(&header, now_ms);
            match verdict {
                Verdict::Duplicate => {
                    tracing::debug!(
                        seq = header.seq,
                        "link: duplicate frame dropped (acknowledged again)"
                    );
                }
                Verdict::OutOfOrder => {
                    tracing::debug!(
                        seq = header.seq,
                        "link: frame out of order (one was lost); a Nak is due"
                    );
                }
                _ => {}
            }
            let Verdict::Deliver { new_session } = verdict else {
                continue;
            };
            if new_session {
                self.start_session();
            }
            self.stats.requests += 1;
            let reply = match message {
                Some(message) => self.handle(message),
                // Intact frame, undecodable message (another protocol version, or a bug).
                None => Message::Error {
                    code: ErrorCode::Unsupported,
                },
            };
            self.outbox.push_back(reply);
        }
    }

    /// The next bytes to write, encoded into `buf` (give it at least `MAX_FRAME` bytes): a
    /// frame to send or resend, or an Ack/Nak. Call until it returns `None`, after every
    /// [`on_bytes`](Self::on_bytes) and by [`next_deadline`](Self::next_deadline).
    pub fn poll_output<'b>(&mut self, now_ms: u64, buf: &'b mut [u8]) -> Option<&'b [u8]> {
        if self.greeting {
            if let Some(first) = buf.first_mut() {
                self.greeting = false;
                *first = 0;
                return buf.get(..1);
            }
            return None;
        }
        self.fill_window();
        let limit = buf.len().min(self.session.host_max_frame.max(MIN_FRAME));
        let transmit = match self.endpoint.poll_transmit(now_ms) {
            Ok(transmit) => transmit,
            Err(LinkError::Unresponsive { .. }) => {
                self.drop_session();
                None
            }
        };
        if let Some(t) = transmit {
            let header = t.header;
            if t.retransmission {
                tracing::debug!(
                    seq = header.seq,
                    "link: retransmitting a frame the host has not acknowledged"
                );
            }
            let payload = t.payload;
            let len = match buf.get_mut(..limit) {
                Some(out) => encode_frame(&header, payload, out).map(<[u8]>::len).ok(),
                None => None,
            };
            // A reply that does not encode was replaced by `fill_window`; only a caller's
            // too-small buffer gets here, and the frame is resent at the next timeout.
            if let Some(len) = len {
                return buf.get(..len);
            }
        }
        self.check_reboot();
        let header = self.endpoint.take_control()?;
        if header.kind == FrameKind::Nak {
            tracing::debug!(
                expected = header.ack,
                "link: sending a Nak (a frame was lost or corrupt)"
            );
        }
        let len = encode_control(&header, buf).map(<[u8]>::len).ok()?;
        buf.get(..len)
    }

    /// When to call [`poll_output`](Self::poll_output) at the latest, in the caller's
    /// milliseconds: `None` when nothing will happen before more bytes arrive, `Some(0)` when
    /// output is ready now.
    pub fn next_deadline(&self) -> Option<u64> {
        let ready = self.greeting || (!self.outbox.is_empty() && self.endpoint.can_push());
        if ready {
            Some(0)
        } else {
            self.endpoint.next_deadline()
        }
    }

    /// Queues an event for a host subscribed to events, if at most half the send window is in
    /// use (replies are never stuck behind events). Returns whether it was queued.
    pub fn push_event(&mut self, event: Event) -> bool {
        let wanted = self.session.events;
        self.push(wanted, Message::Event(event))
    }

    /// Queues a stats report for a host subscribed to stats, under the same rule as
    /// [`push_event`](Self::push_event). Returns whether it was queued.
    pub fn push_stats(&mut self, stats: Stats) -> bool {
        let wanted = self.session.stats;
        self.push(wanted, Message::Stats(stats))
    }

    fn push(&mut self, wanted: bool, message: Message) -> bool {
        let used = self.endpoint.tx.in_flight() + self.outbox.len();
        let room = used <= self.endpoint.tx.window() / 2;
        if wanted && self.session.handshaken && room {
            self.stats.pushes_sent += 1;
            self.outbox.push_back(message);
            true
        } else {
            self.stats.pushes_dropped += 1;
            false
        }
    }

    /// Models made active (by `Activate` or `Rollback`) since the last call: reload them.
    pub fn take_activations(&mut self) -> impl Iterator<Item = ModelName> + '_ {
        self.activations.drain(..)
    }

    /// Models deleted since the last call: stop using them.
    pub fn take_deletions(&mut self) -> impl Iterator<Item = ModelName> + '_ {
        self.deletions.drain(..)
    }

    /// Hardware-in-the-loop input received since the last call, in order.
    pub fn take_inputs(&mut self) -> impl Iterator<Item = InjectInput> + '_ {
        self.inputs.drain(..)
    }

    /// The host asked for a reboot and its `Done` was acknowledged (or the host went away):
    /// restart the device now.
    pub fn reboot_requested(&self) -> bool {
        self.reboot == Reboot::Requested
    }

    fn check_reboot(&mut self) {
        if self.reboot == Reboot::Pending && self.outbox.is_empty() && self.endpoint.tx.is_idle() {
            self.reboot = Reboot::Requested;
        }
    }

    /// A host opened a new session: drop what was meant for the previous one and restart the
    /// send space far from the old one. Open transfers end; their staged bytes stay in the
    /// store for resuming.
    fn start_session(&mut self) {
        let isn = self.endpoint.tx.next_seq().wrapping_add(0x4000);
        self.endpoint.tx.reset(isn);
        self.outbox.clear();
        self.session = Session::default();
        self.transfer = None;
        self.stats.sessions += 1;
        tracing::info!(
            session = self.stats.sessions,
            "link: the host started a session"
        );
        if self.reboot == Reboot::Pending {
            self.reboot = Reboot::Requested;
        }
    }

    /// The host stopped acknowledging: forget the session and wait for the next `Hello`.
    fn drop_session(&mut self) {
        let isn = self.endpoint.tx.next_seq().wrapping_add(0x4000);
        self.endpoint.tx.reset(isn);
        self.endpoint.rx.reset();
        self.outbox.clear();
        self.session = Session::default();
        self.stats.sessions_dropped += 1;
        tracing::info!(
            "link: the host stopped answering; session dropped, waiting for its next hello"
        );
        if self.reboot == Reboot::Pending {
            self.reboot = Reboot::Requested;
        }
    }

    /// Moves queued replies into the send window, replacing any that would not fit in the
    /// host's frames with `Error { Internal }` so the link never stalls on one.
    fn fill_window(&mut self) {
        while self.endpoint.can_push() {
            let Some(message) = self.outbox.pop_front() else {
                break;
            };
            let message = if self.fits(&message) {
                message
            } else {
                Message::Error {
                    code: ErrorCode::Internal,
                }
            };
            if self.endpoint.push(message).is_err() {
                break;
            }
        }
    }

    fn fits(&mut self, message: &Message) -> bool {
        let limit = self.session.host_max_frame.clamp(MIN_FRAME, MAX_FRAME);
        match self.scratch.get_mut(..limit) {
            Some(out) => encode_frame(&WORST_HEADER, message, out).is_ok(),
            None => false,
        }
    }

    fn handle(&mut self, request: Message) -> Message {
        let last_skip = self.session.last_skip.take();
        let refuse = |code| Message::Error { code };
        if let Message::Hello(hello) = &request {
            return match check_version(hello, PROTOCOL_VERSION) {
                Err(code) => refuse(code),
                Ok(()) => {
                    self.session = Session {
                        handshaken: true,
                        host_max_frame: usize::from(hello.host_max_frame)
                            .clamp(MIN_FRAME, MAX_FRAME),
                        ..Session::default()
                    };
                    Message::HelloReply(HelloReply {
                        protocol_version: PROTOCOL_VERSION,
                        nonce: hello.nonce,
                        device: self.device_info(),
                    })
                }
            };
        }
        if request.direction() == sentio_link::Direction::DeviceToHost {
            return refuse(ErrorCode::Unsupported);
        }
        if !self.session.handshaken {
            return refuse(ErrorCode::HandshakeRequired);
        }
        let result = match request {
            Message::Ping { nonce } => Ok(Message::Pong { nonce }),
            Message::ListModels { start } => self.list(start),
            Message::InspectModel { name, slot } => {
                self.store.inspect(&name, slot).map(Message::ModelInfo)
            }
            Message::DeleteModel { name } => self.delete(name),
            Message::Activate { name } => self.store.activate(&name).map(|()| {
                self.activations.push_back(name);
                Message::Done
            }),
            Message::Rollback { name } => self.store.rollback(&name).map(|()| {
                self.activations.push_back(name);
                Message::Done
            }),
            Message::BeginTransfer(begin) => self.begin(begin, last_skip),
            Message::Chunk(chunk) => match &mut self.transfer {
                Some(open) if open.download.transfer_id() == chunk.transfer_id => {
                    match self.store.sink(&open.name) {
                        Ok(mut sink) => Ok(open
                            .download
                            .on_chunk(&chunk, &mut sink)
                            .unwrap_or_else(|e| e.reply())),
                        Err(code) => Err(code),
                    }
                }
                _ => Err(ErrorCode::UnknownTransfer),
            },
            Message::Commit { transfer_id } => self.commit(transfer_id),
            Message::Abort { transfer_id } => match self.transfer.take() {
                Some(open) if open.download.transfer_id() == transfer_id => {
                    self.store.abort(&open.name).map(|()| Message::Done)
                }
                other => {
                    self.transfer = other;
                    Err(ErrorCode::UnknownTransfer)
                }
            },
            Message::Reboot => {
                self.reboot = Reboot::Pending;
                Ok(Message::Done)
            }
            Message::SubscribeEvents { events, stats } => {
                let caps = self.config.capabilities;
                if (events && !caps.contains(Capabilities::EVENTS))
                    || (stats && !caps.contains(Capabilities::STATS))
                {
                    Err(ErrorCode::Unsupported)
                } else {
                    self.session.events = events;
                    self.session.stats = stats;
                    Ok(Message::Done)
                }
            }
            Message::InjectInput(input) => {
                if !self
                    .config
                    .capabilities
                    .contains(Capabilities::INPUT_INJECTION)
                {
                    Err(ErrorCode::Unsupported)
                } else if self.inputs.len() >= self.config.max_pending_inputs {
                    Err(ErrorCode::Busy)
                } else {
                    self.inputs.push_back(input);
                    Ok(Message::Done)
                }
            }
            // Hello is handled above, device-to-host messages refused above.
            _ => Err(ErrorCode::Unsupported),
        };
        result.unwrap_or_else(refuse)
    }

    fn list(&mut self, start: u16) -> Result<Message, ErrorCode> {
        let all = self.store.list()?;
        let total = u16::try_from(all.len()).unwrap_or(u16::MAX);
        let mut page = ModelList {
            start,
            total,
            models: heapless::Vec::new(),
        };
        for info in all
            .into_iter()
            .skip(usize::from(start))
            .take(MAX_LISTED_MODELS)
        {
            if page.models.push(info).is_err() {
                break;
            }
            if !self.fits(&Message::ModelList(page.clone())) {
                page.models.pop();
                break;
            }
        }
        Ok(Message::ModelList(page))
    }

    fn delete(&mut self, name: ModelName) -> Result<Message, ErrorCode> {
        if self.transfer.as_ref().is_some_and(|t| t.name == name) {
            return Err(ErrorCode::Busy);
        }
        self.store.delete(&name)?;
        self.deletions.push_back(name);
        Ok(Message::Done)
    }

    /// `BeginTransfer`. A second `BeginTransfer` of the same file right after it was answered
    /// `TransferSkipped` is a forced re-send (`sentio flash --force`): accepted.
    fn begin(
        &mut self,
        request: BeginTransfer,
        last_skip: Option<(ModelName, Sha256)>,
    ) -> Result<Message, ErrorCode> {
        validate_model_name(request.name.as_str())?;
        if self
            .transfer
            .as_ref()
            .is_some_and(|t| t.name != request.name)
        {
            return Err(ErrorCode::Busy);
        }
        // A new begin of the same name replaces its open transfer (old id now unknown).
        self.transfer = None;
        let insisted = last_skip.is_some_and(|(n, s)| n == request.name && s == request.sha256);
        let mode = if insisted {
            BeginMode::Force
        } else {
            BeginMode::SkipIfActive
        };
        match self.store.begin(&request, mode)? {
            BeginDecision::Skip => {
                self.session.last_skip = Some((request.name, request.sha256));
                Ok(Message::TransferSkipped)
            }
            BeginDecision::Accept { resume_offset } => {
                let transfer_id = self.next_transfer_id;
                self.next_transfer_id = self.next_transfer_id.wrapping_add(1).max(1);
                let download = DownloadState::new(transfer_id, request.size, resume_offset);
                let resume_offset = download.received();
                if resume_offset > 0 {
                    tracing::info!(
                        model = request.name.as_str(),
                        offset = resume_offset,
                        size = request.size,
                        "link: resuming a transfer where an earlier one stopped"
                    );
                } else {
                    tracing::debug!(
                        model = request.name.as_str(),
                        size = request.size,
                        "link: transfer begins"
                    );
                }
                self.transfer = Some(OpenTransfer {
                    name: request.name,
                    download,
                });
                Ok(Message::TransferAccepted {
                    transfer_id,
                    resume_offset,
                })
            }
        }
    }

    fn commit(&mut self, transfer_id: u32) -> Result<Message, ErrorCode> {
        let open = match &self.transfer {
            Some(open) if open.download.transfer_id() == transfer_id => open,
            _ => return Err(ErrorCode::UnknownTransfer),
        };
        open.download.check_commit(transfer_id)?;
        let name = open.name.clone();
        match self.store.commit(&name) {
            Ok(info) => {
                self.transfer = None;
                Ok(Message::Committed {
                    verified: info.verified,
                })
            }
            // The commit did not happen and may be retried.
            Err(ErrorCode::Storage) => Err(ErrorCode::Storage),
            // Verification failed: the store discarded the file.
            Err(code) => {
                self.transfer = None;
                Err(code)
            }
        }
    }
}
