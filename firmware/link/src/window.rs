//! Reliability: a go-back-N sliding window over the frames of [`crate::frame`].
//!
//! Each direction of the link has its own sequence space. The sending end keeps every data
//! frame it sent in a [`SenderWindow`] until the other end acknowledges it; the receiving end
//! runs a [`ReceiverWindow`] that delivers data frames exactly once, in sequence order, and
//! says when to acknowledge. An [`Endpoint`] is the pair that one end of a link needs.
//!
//! All of it is pure: time comes in as a `u64` of milliseconds from any monotonic clock, and
//! the caller does the I/O. The rules (also in `docs/protocol.md`):
//!
//! - Data frames carry `seq`, counting up from the sender's initial sequence number and
//!   wrapping from 65535 to 0. The frame with the initial number carries
//!   [`FrameFlags::RESET`] until it is acknowledged; a receiver that sees `RESET` with a `seq`
//!   other than the current session's initial number starts a new session there.
//! - Every frame may carry `ack` = the next `seq` its sender expects (cumulative: every data
//!   frame before it arrived). Ack frames carry only that.
//! - The receiver accepts only `seq == expected`. An older `seq` is a duplicate: dropped and
//!   acknowledged again. A newer `seq` means a frame was lost: dropped, and a Nak (with
//!   `ack = expected`) is sent, once per gap. A corrupt frame also asks for one Nak.
//! - The sender keeps at most `window` frames unacknowledged. A Nak makes it resend every
//!   unacknowledged frame at once; so does a retransmit timeout, which runs while frames are
//!   unacknowledged and restarts whenever an acknowledgement makes progress. After
//!   `max_retries` timeouts in a row without progress the peer is declared unresponsive.

use heapless::Deque;

use crate::frame::{FrameFlags, FrameKind, Header};

/// Largest window allowed. Sequence comparison needs `window < 32768`; this crate caps far
/// below that to bound buffers.
pub const MAX_WINDOW: u16 = 64;

/// Window used unless a device asks for less: 8 frames of `MAX_FRAME` keep a 921600 baud line
/// busy across a 70 ms round trip.
pub const DEFAULT_WINDOW: u16 = 8;

/// Settings of a [`SenderWindow`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowConfig {
    /// Most unacknowledged data frames (clamped to 1..=min(N, [`MAX_WINDOW`])).
    pub window: u16,
    /// How long without an acknowledgement, with frames outstanding, before resending them.
    pub retransmit_timeout_ms: u64,
    /// Timeouts in a row without progress before [`LinkError::Unresponsive`].
    pub max_retries: u8,
}

impl WindowConfig {
    /// Settings for a serial line: the timeout allows for a full window of `max_frame`-byte
    /// frames each way at `baud` (10 bits per byte) twice over, plus 250 ms of slack for the
    /// operating systems at both ends.
    pub const fn for_line(baud: u32, max_frame: usize, window: u16) -> Self {
        let baud = if baud == 0 { 1 } else { baud as u64 };
        let frame_ms = (max_frame as u64).saturating_mul(10_000).div_ceil(baud);
        let retransmit_timeout_ms = (2 * (window as u64 + 1))
            .saturating_mul(frame_ms)
            .saturating_add(250);
        Self {
            window,
            retransmit_timeout_ms,
            max_retries: 5,
        }
    }
}

impl Default for WindowConfig {
    /// [`DEFAULT_WINDOW`] frames, a 1 s timeout, 5 retries.
    fn default() -> Self {
        Self {
            window: DEFAULT_WINDOW,
            retransmit_timeout_ms: 1000,
            max_retries: 5,
        }
    }
}

/// The link is down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// The peer acknowledged nothing through `retries` retransmit timeouts in a row.
    Unresponsive {
        /// Timeouts counted.
        retries: u8,
    },
}

impl core::fmt::Display for LinkError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Unresponsive { retries } => write!(
                f,
                "the other end stopped answering (nothing acknowledged after {retries} retransmissions)"
            ),
        }
    }
}

impl core::error::Error for LinkError {}

/// A data frame to put on the wire now: encode `header` with `payload` and write it.
#[derive(Debug)]
pub struct Transmit<'a, T> {
    /// Header with `seq`, kind Data and `RESET` when due. [`Endpoint::poll_transmit`] also
    /// fills in the acknowledgement; with a bare [`SenderWindow`] call
    /// [`ReceiverWindow::stamp`].
    pub header: Header,
    /// The payload given to [`SenderWindow::push`].
    pub payload: &'a T,
    /// Whether this frame was sent before.
    pub retransmission: bool,
}

/// What an incoming header's acknowledgement did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AckOutcome {
    /// Frames acknowledged for the first time (and dropped from the window).
    pub newly_acked: u16,
    /// A Nak made the window go back: the unacknowledged frames will be resent.
    pub go_back: bool,
}

#[derive(Debug)]
struct Entry<T> {
    payload: T,
    sent: bool,
}

/// Sending half of a link: the frames in flight, what to (re)send and when.
///
/// `T` is whatever the caller needs to rebuild a frame (usually [`Message`](crate::Message));
/// the window stores up to `N` of them. Frames are encoded at each transmission, so the
/// acknowledgement they carry is always current.
#[derive(Debug)]
pub struct SenderWindow<T, const N: usize> {
    config: WindowConfig,
    window: usize,
    queue: Deque<Entry<T>, N>,
    /// Sequence number of `queue[0]`.
    base: u16,
    /// Initial sequence number of this session.
    initial_seq: u16,
    initial_acked: bool,
    /// Index in `queue` of the next entry to transmit.
    cursor: usize,
    /// Entries at the front of `queue` transmitted at least once.
    sent: usize,
    /// When the retransmit timer (re)started; `None` while nothing is outstanding.
    timer: Option<u64>,
    retries: u8,
}

impl<T, const N: usize> SenderWindow<T, N> {
    /// A window for a new session whose first frame gets sequence number `initial_seq`.
    ///
    /// Pick `initial_seq` so that it differs from the previous session's (for example
    /// `previous_next_seq.wrapping_add(0x4000)`, or a value from a clock or RNG): a receiver
    /// tells a new session from a resent first frame by it.
    pub fn new(config: WindowConfig, initial_seq: u16) -> Self {
        let limit = if N < MAX_WINDOW as usize {
            N
        } else {
            MAX_WINDOW as usize
        };
        let window = (config.window as usize).clamp(1, limit.max(1));
        Self {
            config,
            window,
            queue: Deque::new(),
            base: initial_seq,
            initial_seq,
            initial_acked: false,
            cursor: 0,
            sent: 0,
            timer: None,
            retries: 0,
        }
    }

    /// Drops every frame and starts a new session at `initial_seq` (see [`SenderWindow::new`]).
    pub fn reset(&mut self, initial_seq: u16) {
        *self = Self::new(self.config, initial_seq);
    }

    /// The settings.
    pub const fn config(&self) -> &WindowConfig {
        &self.config
    }

    /// The effective window size.
    pub const fn window(&self) -> usize {
        self.window
    }

    /// Sequence number the next pushed frame gets.
    pub fn next_seq(&self) -> u16 {
        self.base.wrapping_add(self.queue.len() as u16)
    }

    /// Frames pushed and not acknowledged yet.
    pub fn in_flight(&self) -> usize {
        self.queue.len()
    }

    /// Whether [`push`](Self::push) would take another frame.
    pub fn can_push(&self) -> bool {
        self.queue.len() < self.window
    }

    /// Whether every pushed frame has been acknowledged.
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty()
    }

    /// Queues a payload for sending and returns its sequence number, or gives it back when the
    /// window is full. It goes out through [`poll_transmit`](Self::poll_transmit).
    pub fn push(&mut self, payload: T) -> Result<u16, T> {
        if !self.can_push() {
            return Err(payload);
        }
        let seq = self.next_seq();
        self.queue
            .push_back(Entry {
                payload,
                sent: false,
            })
            .map_err(|e| e.payload)?;
        Ok(seq)
    }

    /// The next frame to transmit now, if any: new frames in order, or the resend of every
    /// unacknowledged frame after a timeout or a Nak. Call it until it returns `Ok(None)`,
    /// then again by [`next_deadline`](Self::next_deadline) at the latest.
    pub fn poll_transmit(&mut self, now_ms: u64) -> Result<Option<Transmit<'_, T>>, LinkError> {
        let expired = self.timer.is_some_and(|started| {
            self.sent > 0 && now_ms.saturating_sub(started) >= self.config.retransmit_timeout_ms
        });
        if expired {
            if self.retries >= self.config.max_retries {
                return Err(LinkError::Unresponsive {
                    retries: self.retries,
                });
            }
            self.retries += 1;
            self.cursor = 0;
            self.timer = Some(now_ms);
        }
        let index = self.cursor;
        let seq = self.base.wrapping_add(index as u16);
        let reset = seq == self.initial_seq && !self.initial_acked;
        let Some(entry) = self.queue.get_mut(index) else {
            return Ok(None);
        };
        let retransmission = entry.sent;
        entry.sent = true;
        self.cursor += 1;
        self.sent = self.sent.max(self.cursor);
        if self.timer.is_none() {
            self.timer = Some(now_ms);
        }
        let mut header = Header::data(seq);
        if reset {
            header.flags = FrameFlags::RESET;
        }
        Ok(Some(Transmit {
            header,
            payload: &entry.payload,
            retransmission,
        }))
    }

    /// Takes the acknowledgement of any incoming frame (data with [`FrameFlags::ACK`], Ack or
    /// Nak). Acknowledgements of frames never sent are ignored.
    pub fn on_header(&mut self, header: &Header, now_ms: u64) -> AckOutcome {
        if !header.has_ack() {
            return AckOutcome::default();
        }
        let newly_acked = self.ack_to(header.ack, now_ms);
        let mut go_back = false;
        if header.kind == FrameKind::Nak && self.cursor > 0 {
            self.cursor = 0;
            self.timer = Some(now_ms);
            go_back = true;
        }
        AckOutcome {
            newly_acked,
            go_back,
        }
    }

    fn ack_to(&mut self, ack: u16, now_ms: u64) -> u16 {
        let n = ack.wrapping_sub(self.base);
        if n == 0 || usize::from(n) > self.sent {
            return 0;
        }
        for _ in 0..n {
            self.queue.pop_front();
        }
        self.base = ack;
        self.initial_acked = true;
        self.cursor = self.cursor.saturating_sub(usize::from(n));
        self.sent -= usize::from(n);
        self.retries = 0;
        self.timer = if self.sent > 0 { Some(now_ms) } else { None };
        n
    }

    /// When the retransmit timer fires, if frames are outstanding: call
    /// [`poll_transmit`](Self::poll_transmit) by then.
    pub fn next_deadline(&self) -> Option<u64> {
        match self.timer {
            Some(started) if self.sent > 0 => {
                Some(started.saturating_add(self.config.retransmit_timeout_ms))
            }
            _ => None,
        }
    }
}

/// What a received data frame is to the [`ReceiverWindow`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Next in order: hand the message to the application.
    Deliver {
        /// The peer started a new session with this frame (see [`FrameFlags::RESET`]): reset
        /// whatever per-session state the application keeps.
        new_session: bool,
    },
    /// Delivered before: drop it (it will be acknowledged again).
    Duplicate,
    /// A frame before it was lost: drop it (a Nak is due, once per gap).
    OutOfOrder,
    /// No session yet and no `RESET`: drop it.
    Unsynchronized,
    /// An Ack or Nak frame: nothing to deliver.
    Control,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct RxSession {
    initial_seq: u16,
    expected: u16,
    nak_sent: bool,
}

/// Receiving half of a link: delivers data frames exactly once, in order, and says when to
/// acknowledge.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReceiverWindow {
    session: Option<RxSession>,
    ack_due: bool,
    nak_due: bool,
}

impl ReceiverWindow {
    /// A receiver that waits for a frame with [`FrameFlags::RESET`].
    pub const fn new() -> Self {
        Self {
            session: None,
            ack_due: false,
            nak_due: false,
        }
    }

    /// Forgets the session.
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Whether a session has started.
    pub const fn is_synchronized(&self) -> bool {
        self.session.is_some()
    }

    /// Sequence number of the next data frame to deliver.
    pub fn expected(&self) -> Option<u16> {
        self.session.map(|s| s.expected)
    }

    /// Judges a received frame by its header.
    pub fn on_data(&mut self, header: &Header) -> Verdict {
        if header.kind != FrameKind::Data {
            return Verdict::Control;
        }
        let reset = header.flags.contains(FrameFlags::RESET);
        let new_session = reset && self.session.is_none_or(|s| s.initial_seq != header.seq);
        if new_session {
            self.nak_due = false;
            self.session = Some(RxSession {
                initial_seq: header.seq,
                expected: header.seq,
                nak_sent: false,
            });
        }
        let Some(session) = self.session.as_mut() else {
            return Verdict::Unsynchronized;
        };
        let distance = header.seq.wrapping_sub(session.expected) as i16;
        if distance == 0 {
            session.expected = session.expected.wrapping_add(1);
            session.nak_sent = false;
            self.ack_due = true;
            Verdict::Deliver { new_session }
        } else if distance < 0 {
            self.ack_due = true;
            Verdict::Duplicate
        } else {
            if !session.nak_sent {
                session.nak_sent = true;
                self.nak_due = true;
            }
            Verdict::OutOfOrder
        }
    }

    /// Notes a frame lost to corruption (any decode error): a Nak is due, once per gap.
    pub fn on_corrupt(&mut self) {
        if let Some(s) = self.session.as_mut().filter(|s| !s.nak_sent) {
            s.nak_sent = true;
            self.nak_due = true;
        }
    }

    /// Puts the current acknowledgement into an outgoing data frame's header (no-op before a
    /// session starts); the acknowledgement is then no longer due.
    pub fn stamp(&mut self, header: &mut Header) {
        if let Some(s) = self.session {
            header.ack = s.expected;
            header.flags = header.flags | FrameFlags::ACK;
            self.ack_due = false;
        }
    }

    /// The Ack or Nak frame to send now, if one is due. Call it after handling a batch of
    /// input; an acknowledgement carried by a data frame in the meantime makes a plain Ack
    /// unnecessary.
    pub fn take_control(&mut self) -> Option<Header> {
        let s = self.session?;
        if self.nak_due {
            self.nak_due = false;
            self.ack_due = false;
            Some(Header::nak(s.expected))
        } else if self.ack_due {
            self.ack_due = false;
            Some(Header::ack(s.expected))
        } else {
            None
        }
    }
}

/// One end of a link: a [`SenderWindow`] for what it sends and a [`ReceiverWindow`] for what
/// it receives.
///
/// The loop of either end, with `I/O` done by the caller:
///
/// 1. `push` messages to send (while `can_push`);
/// 2. `poll_transmit` until `None`, encoding each with `encode_frame` and writing it;
/// 3. read bytes, feed them to a `FrameDecoder`; for each frame call `on_frame` and deliver
///    the message on `Verdict::Deliver`; for each error call `on_corrupt` (but for
///    `FrameError::BadMessage { header }` call `on_frame(&header)` and answer
///    `Error { Unsupported }` on `Deliver`);
/// 4. `take_control` and write the Ack/Nak it returns;
/// 5. wait for input until `next_deadline`.
#[derive(Debug)]
pub struct Endpoint<T, const N: usize> {
    /// What this end sends.
    pub tx: SenderWindow<T, N>,
    /// What this end receives.
    pub rx: ReceiverWindow,
}

impl<T, const N: usize> Endpoint<T, N> {
    /// An end whose first data frame gets `initial_seq`, waiting for the peer's first frame.
    pub fn new(config: WindowConfig, initial_seq: u16) -> Self {
        Self {
            tx: SenderWindow::new(config, initial_seq),
            rx: ReceiverWindow::new(),
        }
    }

    /// See [`SenderWindow::can_push`].
    pub fn can_push(&self) -> bool {
        self.tx.can_push()
    }

    /// See [`SenderWindow::push`].
    pub fn push(&mut self, payload: T) -> Result<u16, T> {
        self.tx.push(payload)
    }

    /// Takes any received frame's header: a data frame goes to the receiver, and the
    /// acknowledgement to the sender, unless the frame is from no session this end knows
    /// ([`Verdict::Unsynchronized`]: a stale frame of a previous session, whose `ack` counts
    /// in another sequence space).
    pub fn on_frame(&mut self, header: &Header, now_ms: u64) -> Verdict {
        let verdict = self.rx.on_data(header);
        if verdict != Verdict::Unsynchronized {
            self.tx.on_header(header, now_ms);
        }
        verdict
    }

    /// See [`ReceiverWindow::on_corrupt`].
    pub fn on_corrupt(&mut self) {
        self.rx.on_corrupt();
    }

    /// The next data frame to write, with the current acknowledgement in its header.
    pub fn poll_transmit(&mut self, now_ms: u64) -> Result<Option<Transmit<'_, T>>, LinkError> {
        let mut transmit = self.tx.poll_transmit(now_ms)?;
        if let Some(t) = &mut transmit {
            self.rx.stamp(&mut t.header);
        }
        Ok(transmit)
    }

    /// See [`ReceiverWindow::take_control`].
    pub fn take_control(&mut self) -> Option<Header> {
        self.rx.take_control()
    }

    /// See [`SenderWindow::next_deadline`].
    pub fn next_deadline(&self) -> Option<u64> {
        self.tx.next_deadline()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn config() -> WindowConfig {
        WindowConfig {
            window: 4,
            retransmit_timeout_ms: 100,
            max_retries: 2,
        }
    }

    #[test]
    fn first_frame_carries_reset_until_acked() {
        let mut tx: SenderWindow<u32, 8> = SenderWindow::new(config(), 65535);
        assert_eq!(tx.push(10), Ok(65535));
        assert_eq!(tx.push(11), Ok(0));
        let t = tx.poll_transmit(0).unwrap().unwrap();
        assert_eq!((t.header.seq, t.header.flags), (65535, FrameFlags::RESET));
        let t = tx.poll_transmit(0).unwrap().unwrap();
        assert_eq!((t.header.seq, t.header.flags), (0, FrameFlags::EMPTY));
        assert!(tx.poll_transmit(0).unwrap().is_none());
        // Timeout: both again, the first still with RESET.
        let t = tx.poll_transmit(100).unwrap().unwrap();
        assert!(t.retransmission);
        assert_eq!(t.header.flags, FrameFlags::RESET);
        assert_eq!(tx.on_header(&Header::ack(0), 101).newly_acked, 1);
        let t = tx.poll_transmit(101).unwrap().unwrap();
        assert_eq!((t.header.seq, t.header.flags), (0, FrameFlags::EMPTY));
    }

    #[test]
    fn window_limits_pushes() {
        let mut tx: SenderWindow<u32, 8> = SenderWindow::new(config(), 0);
        for i in 0..4 {
            assert_eq!(tx.push(i), Ok(i as u16));
        }
        assert_eq!(tx.push(4), Err(4));
        // An ack for frames never transmitted is ignored.
        assert_eq!(tx.on_header(&Header::ack(2), 0).newly_acked, 0);
        while tx.poll_transmit(0).unwrap().is_some() {}
        assert_eq!(tx.on_header(&Header::ack(2), 0).newly_acked, 2);
        assert_eq!(tx.on_header(&Header::ack(9), 0).newly_acked, 0);
        assert_eq!(tx.on_header(&Header::ack(1), 0).newly_acked, 0);
        assert!(tx.can_push());
    }

    #[test]
    fn nak_goes_back_and_timeouts_give_up() {
        let mut tx: SenderWindow<u32, 8> = SenderWindow::new(config(), 7);
        tx.push(1).unwrap();
        tx.push(2).unwrap();
        while tx.poll_transmit(0).unwrap().is_some() {}
        let out = tx.on_header(&Header::nak(8), 5);
        assert_eq!(
            out,
            AckOutcome {
                newly_acked: 1,
                go_back: true
            }
        );
        let t = tx.poll_transmit(5).unwrap().unwrap();
        assert_eq!((t.header.seq, t.retransmission), (8, true));
        assert_eq!(tx.next_deadline(), Some(105));
        assert!(tx.poll_transmit(105).unwrap().is_some());
        assert!(tx.poll_transmit(205).unwrap().is_some());
        assert_eq!(
            tx.poll_transmit(305).map(|t| t.is_some()),
            Err(LinkError::Unresponsive { retries: 2 })
        );
    }

    #[test]
    fn acks_of_frames_from_no_known_session_are_ignored() {
        let mut ep: Endpoint<u32, 8> = Endpoint::new(config(), 10);
        ep.push(1).unwrap();
        assert!(ep.poll_transmit(0).unwrap().is_some());
        // A data frame of some old session, without RESET, claiming to acknowledge ours.
        let mut stale = Header::data(500);
        stale.ack = 11;
        stale.flags = FrameFlags::ACK;
        assert_eq!(ep.on_frame(&stale, 1), Verdict::Unsynchronized);
        assert!(!ep.tx.is_idle());
        // The peer's Ack frame counts.
        assert_eq!(ep.on_frame(&Header::ack(11), 2), Verdict::Control);
        assert!(ep.tx.is_idle());
    }

    #[test]
    fn receiver_rules() {
        let mut rx = ReceiverWindow::new();
        let mut h = Header::data(100);
        assert_eq!(rx.on_data(&h), Verdict::Unsynchronized);
        assert_eq!(rx.take_control(), None);
        h.flags = FrameFlags::RESET;
        assert_eq!(rx.on_data(&h), Verdict::Deliver { new_session: true });
        assert_eq!(rx.on_data(&h), Verdict::Duplicate);
        assert_eq!(rx.take_control(), Some(Header::ack(101)));
        assert_eq!(rx.on_data(&Header::data(103)), Verdict::OutOfOrder);
        assert_eq!(rx.on_data(&Header::data(104)), Verdict::OutOfOrder);
        assert_eq!(rx.take_control(), Some(Header::nak(101)));
        assert_eq!(rx.take_control(), None);
        rx.on_corrupt();
        assert_eq!(rx.take_control(), None, "one Nak per gap");
        assert_eq!(
            rx.on_data(&Header::data(101)),
            Verdict::Deliver { new_session: false }
        );
        let mut out = Header::data(5);
        rx.stamp(&mut out);
        assert_eq!((out.ack, out.flags), (102, FrameFlags::ACK));
        assert_eq!(rx.take_control(), None);
        // A new session: RESET with another initial number.
        let mut h2 = Header::data(9);
        h2.flags = FrameFlags::RESET;
        assert_eq!(rx.on_data(&h2), Verdict::Deliver { new_session: true });
        assert_eq!(rx.expected(), Some(10));
    }
}
