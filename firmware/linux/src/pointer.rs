//! Touch panels and pens on the Linux input event interface: a pure [`TouchDecoder`] from raw
//! input events to [`PointerEvent`]s, and (feature `evdev`) `EvdevPointer`, which reads
//! `/dev/input/eventN` without blocking and feeds the decoder.
//!
//! The decoder sees what the kernel sends: `(type, code, value)` triples grouped into reports,
//! each ended by `SYN_REPORT`. Within a report the values change together, so the decoder emits
//! at most an `Up`, a `Down` and a `Move` per report, in that order. Position comes from
//! `ABS_X`/`ABS_Y`, or on multi-touch-only panels from `ABS_MT_POSITION_X`/`_Y` of the first
//! finger down; pen-down from `BTN_TOUCH`, or `BTN_LEFT` (absolute tablets such as QEMU's), or
//! `ABS_MT_TRACKING_ID` (-1 is a lift). After `SYN_DROPPED` (the kernel's buffer overflowed
//! because we read too late) it ignores events up to the next `SYN_REPORT` and asks for a
//! [`Snapshot`] of the device's state to carry on from.

use sentio_hal::PointerEvent;

/// Event types and codes of `linux/input-event-codes.h` that the decoder reads.
pub mod codes {
    pub const EV_SYN: u16 = 0x00;
    pub const EV_KEY: u16 = 0x01;
    pub const EV_ABS: u16 = 0x03;
    pub const SYN_REPORT: u16 = 0;
    pub const SYN_DROPPED: u16 = 3;
    pub const BTN_LEFT: u16 = 0x110;
    pub const BTN_TOUCH: u16 = 0x14a;
    pub const ABS_X: u16 = 0x00;
    pub const ABS_Y: u16 = 0x01;
    pub const ABS_MT_SLOT: u16 = 0x2f;
    pub const ABS_MT_POSITION_X: u16 = 0x35;
    pub const ABS_MT_POSITION_Y: u16 = 0x36;
    pub const ABS_MT_TRACKING_ID: u16 = 0x39;
}

use codes::*;

/// The range of an absolute axis as the device declares it (its absinfo), inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AxisRange {
    pub min: i32,
    pub max: i32,
}

/// Which axes carry the position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Axes {
    /// `ABS_X`/`ABS_Y`: single-touch panels, pens, and multi-touch panels' pointer emulation.
    Single,
    /// `ABS_MT_POSITION_X`/`_Y` of the first finger down (panels without `ABS_X`).
    MultiTouch,
}

/// What says the pen is down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contact {
    /// `BTN_TOUCH`: touch panels and pens.
    Touch,
    /// `BTN_LEFT`: absolute pointing devices that click instead of touching.
    LeftButton,
    /// `ABS_MT_TRACKING_ID` of the followed finger: a value >= 0 is down, -1 is a lift.
    TrackingId,
}

/// How a device reports touches: picked once from its capabilities by [`TouchLayout::choose`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TouchLayout {
    pub axes: Axes,
    pub x: AxisRange,
    pub y: AxisRange,
    pub contact: Contact,
}

impl TouchLayout {
    /// Picks axes and contact from a device's absolute axes (code and range) and key codes,
    /// preferring `ABS_X`/`ABS_Y` and `BTN_TOUCH`. The error says what the device lacks.
    pub fn choose(abs: &[(u16, AxisRange)], keys: &[u16]) -> Result<TouchLayout, String> {
        let range = |code: u16| abs.iter().find(|(c, _)| *c == code).map(|(_, r)| *r);
        let (axes, x, y) = match (
            range(ABS_X),
            range(ABS_Y),
            range(ABS_MT_POSITION_X),
            range(ABS_MT_POSITION_Y),
        ) {
            (Some(x), Some(y), _, _) => (Axes::Single, x, y),
            (_, _, Some(x), Some(y)) => (Axes::MultiTouch, x, y),
            _ => {
                return Err(
                    "it has no ABS_X/ABS_Y or ABS_MT_POSITION_X/Y axes, so it is not a touch \
                     panel or pen tablet"
                        .to_owned(),
                );
            }
        };
        for (name, r) in [("X", x), ("Y", y)] {
            if r.max <= r.min {
                return Err(format!(
                    "its {name} axis has the empty range {}..={}",
                    r.min, r.max
                ));
            }
        }
        let contact = if keys.contains(&BTN_TOUCH) {
            Contact::Touch
        } else if keys.contains(&BTN_LEFT) {
            Contact::LeftButton
        } else if range(ABS_MT_TRACKING_ID).is_some() {
            Contact::TrackingId
        } else {
            return Err(
                "it reports no BTN_TOUCH, BTN_LEFT or ABS_MT_TRACKING_ID, so pen-down cannot be \
                 told from hovering"
                    .to_owned(),
            );
        };
        Ok(TouchLayout {
            axes,
            x,
            y,
            contact,
        })
    }
}

/// Maps a raw axis value into `0..size`: the axis' range is cut into equal cells and a value
/// lands in the middle of its cell, so both ends stay inside (`min` near 0, `max` just below
/// `size`). Values outside the declared range (some panels overshoot) are clamped to it.
pub fn scale(raw: i32, range: AxisRange, size: u32) -> f32 {
    let (min, max) = (f64::from(range.min), f64::from(range.max.max(range.min)));
    let cells = max - min + 1.0;
    let v = (f64::from(raw).clamp(min, max) - min + 0.5) / cells * f64::from(size);
    // f32 rounding can land exactly on `size` for very fine axes; the extent excludes it.
    (v as f32).clamp(0.0, (size as f32).next_down().max(0.0))
}

/// The state of a device read back after `SYN_DROPPED` (or at start), in raw units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub touching: bool,
    pub x: i32,
    pub y: i32,
    /// The current multi-touch slot (`ABS_MT_SLOT`; 0 on single-touch devices).
    pub slot: i32,
}

/// Turns raw input events into [`PointerEvent`]s for a [`TouchLayout`], scaled into `extent`.
#[derive(Clone, Debug)]
pub struct TouchDecoder {
    layout: TouchLayout,
    extent: (u32, u32),
    /// The latest raw position (None until the device has sent one).
    x: Option<i32>,
    y: Option<i32>,
    /// The latest raw contact state.
    contact: bool,
    /// Whether the current report moved the position, or lifted the pen.
    moved: bool,
    lifted: bool,
    /// The contact state and position last emitted.
    down: bool,
    last: Option<(f32, f32)>,
    /// Multi-touch: the slot events refer to, and the slot of the finger followed.
    slot: i32,
    followed: Option<i32>,
    /// Between SYN_DROPPED and the next SYN_REPORT.
    dropping: bool,
    needs_resync: bool,
}

impl TouchDecoder {
    pub fn new(layout: TouchLayout, extent: (u32, u32)) -> Self {
        TouchDecoder {
            layout,
            extent,
            x: None,
            y: None,
            contact: false,
            moved: false,
            lifted: false,
            down: false,
            last: None,
            slot: 0,
            followed: None,
            dropping: false,
            needs_resync: false,
        }
    }

    pub fn layout(&self) -> TouchLayout {
        self.layout
    }

    /// Feeds one raw event; a `SYN_REPORT` appends what the report changed to `out`.
    pub fn feed(&mut self, kind: u16, code: u16, value: i32, out: &mut Vec<PointerEvent>) {
        match (kind, code) {
            (EV_SYN, SYN_DROPPED) => {
                self.dropping = true;
                self.needs_resync = true;
            }
            (EV_SYN, SYN_REPORT) if self.dropping => {
                // The report the drop cut into is incomplete: forget it, and carry on from the
                // snapshot the caller reads (see `needs_resync`).
                self.dropping = false;
                self.moved = false;
                self.lifted = false;
            }
            (EV_SYN, SYN_REPORT) => self.report(out),
            _ if self.dropping => {}
            (EV_KEY, BTN_TOUCH) if self.layout.contact == Contact::Touch => {
                self.set_contact(value != 0);
            }
            (EV_KEY, BTN_LEFT) if self.layout.contact == Contact::LeftButton => {
                self.set_contact(value != 0);
            }
            (EV_ABS, ABS_MT_SLOT) => self.slot = value,
            (EV_ABS, ABS_MT_TRACKING_ID) => self.tracking_id(value),
            (EV_ABS, code) => {
                let (x_code, y_code) = match self.layout.axes {
                    Axes::Single => (ABS_X, ABS_Y),
                    Axes::MultiTouch => (ABS_MT_POSITION_X, ABS_MT_POSITION_Y),
                };
                let other_finger = self.layout.axes == Axes::MultiTouch
                    && self.followed.is_some_and(|s| s != self.slot);
                if other_finger {
                    return;
                }
                if code == x_code {
                    self.x = Some(value);
                    self.moved = true;
                } else if code == y_code {
                    self.y = Some(value);
                    self.moved = true;
                }
            }
            _ => {}
        }
    }

    /// Whether a `SYN_DROPPED` lost events: the caller should read the device's state and pass
    /// it to [`TouchDecoder::resync`].
    pub fn needs_resync(&self) -> bool {
        self.needs_resync
    }

    /// Carries on from the device's actual state (after a drop, or at start): emits what
    /// changed since the last events emitted, as if a report had said so.
    pub fn resync(&mut self, state: Snapshot, out: &mut Vec<PointerEvent>) {
        self.dropping = false;
        self.needs_resync = false;
        self.slot = state.slot;
        self.followed = state.touching.then_some(state.slot);
        self.x = Some(state.x);
        self.y = Some(state.y);
        self.contact = state.touching;
        // Where the pen rests after a lift is no point of the stroke.
        self.moved = state.touching;
        self.lifted = false;
        self.report(out);
    }

    fn set_contact(&mut self, contact: bool) {
        if self.contact && !contact {
            self.lifted = true;
        }
        self.contact = contact;
    }

    fn tracking_id(&mut self, id: i32) {
        let by_tracking_id = self.layout.contact == Contact::TrackingId;
        if id >= 0 {
            if self.followed.is_none() {
                self.followed = Some(self.slot);
                if by_tracking_id {
                    self.set_contact(true);
                }
            }
        } else if self.followed == Some(self.slot) {
            self.followed = None;
            if by_tracking_id {
                self.set_contact(false);
            }
        }
    }

    fn position(&self) -> Option<(f32, f32)> {
        let (x, y) = (self.x?, self.y?);
        Some((
            scale(x, self.layout.x, self.extent.0),
            scale(y, self.layout.y, self.extent.1),
        ))
    }

    /// Ends a report: Up (after a last Move) if the pen left, Down if it touched, Move if it moved.
    fn report(&mut self, out: &mut Vec<PointerEvent>) {
        let position = self.position();
        if self.down && (self.lifted || !self.contact) {
            if !self.contact && self.moved {
                self.push_move(position, out);
            }
            out.push(PointerEvent::Up);
            self.down = false;
        }
        if self.contact {
            match position {
                // No position yet (a device that sends the touch before any coordinate): the
                // Down waits for one.
                Some((x, y)) if !self.down => {
                    out.push(PointerEvent::Down { x, y });
                    self.down = true;
                    self.last = Some((x, y));
                }
                _ if self.down && self.moved => self.push_move(position, out),
                _ => {}
            }
        }
        self.moved = false;
        self.lifted = false;
    }

    fn push_move(&mut self, position: Option<(f32, f32)>, out: &mut Vec<PointerEvent>) {
        // Jitter below one panel unit scales to the same point: not a move.
        if let Some((x, y)) = position
            && self.last != Some((x, y))
        {
            out.push(PointerEvent::Move { x, y });
            self.last = Some((x, y));
        }
    }
}

#[cfg(feature = "evdev")]
pub use with_evdev::EvdevPointer;

#[cfg(feature = "evdev")]
mod with_evdev {
    use std::fs::OpenOptions;
    use std::os::unix::fs::OpenOptionsExt;
    use std::path::Path;
    use std::time::Duration;

    use evdev::KeyCode;
    use evdev::raw_stream::RawDevice;
    use sentio_hal::{ErrorKind, HalError, Pointer, PointerEvent};

    use super::codes::*;
    use super::{AxisRange, Contact, Snapshot, TouchDecoder, TouchLayout};
    use crate::linux_errors::node_error;

    /// Reads at most this many batches per poll, so a device that never stops sending cannot
    /// hold the frame.
    const MAX_READS_PER_POLL: usize = 64;

    const FIND_DEVICE: &str = "`cat /proc/bus/input/devices` lists input devices with their \
        eventN handler (a touch panel has an `abs` bitmap), `evtest` shows what one sends; set \
        pointer.device in the board profile to its /dev/input/eventN";

    /// A touch panel or pen on `/dev/input/eventN`, read without blocking on every poll.
    pub struct EvdevPointer {
        device: RawDevice,
        decoder: TouchDecoder,
        extent: (u32, u32),
        name: String,
        /// Events found at open (a pen already down), handed out on the first poll.
        pending: Vec<PointerEvent>,
    }

    impl EvdevPointer {
        /// Opens an event device and scales its axes into `extent` (width, height), usually the
        /// display's logical size when the panel covers the display.
        pub fn open(path: impl AsRef<Path>, extent: (u32, u32)) -> Result<Self, HalError> {
            let path = path.as_ref();
            let name = format!("pointer {}", path.display());
            if extent.0 == 0 || extent.1 == 0 {
                return Err(HalError::new(
                    ErrorKind::Unsupported,
                    &name,
                    format!("extent {}x{} has no area", extent.0, extent.1),
                )
                .with_help("give the size of the display the panel covers"));
            }
            // Non-blocking: `poll` runs once per frame and must return at once when the panel
            // is quiet.
            let file = OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
                .open(path)
                .map_err(|e| {
                    node_error(
                        &name,
                        "cannot open the input device",
                        e,
                        FIND_DEVICE,
                        "input",
                    )
                })?;
            let device = RawDevice::try_from(file).map_err(|e| query_error(&name, e))?;
            let abs: Vec<(u16, AxisRange)> = device
                .get_absinfo()
                .map_err(|e| query_error(&name, e))?
                .map(|(code, info)| {
                    (
                        code.0,
                        AxisRange {
                            min: info.minimum(),
                            max: info.maximum(),
                        },
                    )
                })
                .collect();
            let keys: Vec<u16> = device
                .supported_keys()
                .map(|k| k.iter().map(|c| c.code()).collect())
                .unwrap_or_default();
            let device_name = device.name().unwrap_or("unnamed device").to_owned();
            let layout = TouchLayout::choose(&abs, &keys).map_err(|why| {
                HalError::new(
                    ErrorKind::Unsupported,
                    &name,
                    format!("\"{device_name}\" cannot be used as a pointer: {why}"),
                )
                .with_help(FIND_DEVICE)
            })?;
            let mut pointer = EvdevPointer {
                device,
                decoder: TouchDecoder::new(layout, extent),
                extent,
                name,
                pending: Vec::new(),
            };
            // Start from the device's state, so a pen already down starts a stroke.
            let state = pointer.snapshot()?;
            pointer.decoder.resync(state, &mut pointer.pending);
            Ok(pointer)
        }

        /// The device as errors name it ("pointer /dev/input/event0").
        pub fn name(&self) -> &str {
            &self.name
        }

        pub fn layout(&self) -> TouchLayout {
            self.decoder.layout()
        }

        /// The device's contact state and position now, read with ioctls.
        fn snapshot(&self) -> Result<Snapshot, HalError> {
            let layout = self.decoder.layout();
            let abs = self
                .device
                .get_abs_state()
                .map_err(|e| read_error(&self.name, e))?;
            let value = |code: u16| abs.get(usize::from(code)).map_or(0, |a| a.value);
            let touching = match layout.contact {
                Contact::Touch | Contact::LeftButton => {
                    let key = if layout.contact == Contact::Touch {
                        KeyCode::BTN_TOUCH
                    } else {
                        KeyCode::BTN_LEFT
                    };
                    self.device
                        .get_key_state()
                        .map_err(|e| read_error(&self.name, e))?
                        .contains(key)
                }
                // The current slot's finger only: EVIOCGABS does not see the other slots.
                Contact::TrackingId => value(ABS_MT_TRACKING_ID) >= 0,
            };
            let (x_code, y_code) = match layout.axes {
                super::Axes::Single => (ABS_X, ABS_Y),
                super::Axes::MultiTouch => (ABS_MT_POSITION_X, ABS_MT_POSITION_Y),
            };
            Ok(Snapshot {
                touching,
                x: value(x_code),
                y: value(y_code),
                slot: value(ABS_MT_SLOT),
            })
        }
    }

    fn read_error(name: &str, e: std::io::Error) -> HalError {
        if e.raw_os_error() == Some(libc::ENODEV) {
            return HalError::new(ErrorKind::Disconnected, name, "the input device went away")
                .with_source(e)
                .with_help("check the panel's cable; it comes back as a new /dev/input/eventN");
        }
        HalError::io(name, "cannot read the input device", e)
    }

    fn query_error(name: &str, e: std::io::Error) -> HalError {
        if e.raw_os_error() == Some(libc::ENOTTY) || e.raw_os_error() == Some(libc::EINVAL) {
            return HalError::new(
                ErrorKind::Unsupported,
                name,
                "not an input event device (the evdev ioctls failed)",
            )
            .with_source(e)
            .with_help(FIND_DEVICE);
        }
        HalError::io(name, "cannot query the input device", e).with_help(FIND_DEVICE)
    }

    impl Pointer for EvdevPointer {
        fn extent(&self) -> (u32, u32) {
            self.extent
        }

        fn poll(&mut self, _now: Duration, events: &mut Vec<PointerEvent>) -> Result<(), HalError> {
            events.append(&mut self.pending);
            for _ in 0..MAX_READS_PER_POLL {
                let batch = match self.device.fetch_events() {
                    Ok(batch) => batch,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(read_error(&self.name, e)),
                };
                let mut read = 0usize;
                for ev in batch {
                    read += 1;
                    self.decoder
                        .feed(ev.event_type().0, ev.code(), ev.value(), events);
                }
                if read == 0 {
                    break;
                }
            }
            // Events were lost: everything buffered has been read, so the device's state now
            // is what the lost events led to.
            if self.decoder.needs_resync() {
                let state = self.snapshot()?;
                self.decoder.resync(state, events);
            }
            Ok(())
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use evdev::{AbsoluteAxisCode, EventType, SynchronizationCode};

        #[test]
        fn our_codes_are_the_kernels() {
            assert_eq!(EventType::SYNCHRONIZATION.0, EV_SYN);
            assert_eq!(EventType::KEY.0, EV_KEY);
            assert_eq!(EventType::ABSOLUTE.0, EV_ABS);
            assert_eq!(SynchronizationCode::SYN_REPORT.0, SYN_REPORT);
            assert_eq!(SynchronizationCode::SYN_DROPPED.0, SYN_DROPPED);
            assert_eq!(KeyCode::BTN_LEFT.code(), BTN_LEFT);
            assert_eq!(KeyCode::BTN_TOUCH.code(), BTN_TOUCH);
            assert_eq!(AbsoluteAxisCode::ABS_X.0, ABS_X);
            assert_eq!(AbsoluteAxisCode::ABS_Y.0, ABS_Y);
            assert_eq!(AbsoluteAxisCode::ABS_MT_SLOT.0, ABS_MT_SLOT);
            assert_eq!(AbsoluteAxisCode::ABS_MT_POSITION_X.0, ABS_MT_POSITION_X);
            assert_eq!(AbsoluteAxisCode::ABS_MT_POSITION_Y.0, ABS_MT_POSITION_Y);
            assert_eq!(AbsoluteAxisCode::ABS_MT_TRACKING_ID.0, ABS_MT_TRACKING_ID);
        }

        fn open_error(path: &str) -> HalError {
            match EvdevPointer::open(path, (240, 240)) {
                Ok(_) => panic!("opened {path}"),
                Err(e) => e,
            }
        }

        #[test]
        fn a_missing_device_is_a_clear_error() {
            let err = open_error("/dev/input/event-sentio-missing");
            assert_eq!(err.kind(), ErrorKind::NotFound);
            let text = err.to_string();
            assert!(
                text.contains("pointer /dev/input/event-sentio-missing"),
                "{text}"
            );
            let help = err.help_text().unwrap_or_default();
            assert!(help.contains("/proc/bus/input/devices"), "{text} / {help}");
        }

        #[test]
        fn a_file_that_is_no_input_device_is_refused() {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("not-evdev");
            std::fs::write(&path, b"hello").expect("write");
            let err = open_error(path.to_str().expect("utf-8"));
            assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
            assert!(err.message().contains("not an input event device"), "{err}");
        }

        #[test]
        fn an_empty_extent_is_refused() {
            let err = match EvdevPointer::open("/dev/input/event0", (0, 240)) {
                Ok(_) => panic!("opened with no area"),
                Err(e) => e,
            };
            assert_eq!(err.kind(), ErrorKind::Unsupported);
            assert!(err.message().contains("0x240"), "{err}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PointerEvent::{Down, Move, Up};

    const RANGE: AxisRange = AxisRange { min: 0, max: 4095 };

    fn single(contact: Contact) -> TouchLayout {
        TouchLayout {
            axes: Axes::Single,
            x: RANGE,
            y: RANGE,
            contact,
        }
    }

    fn multi(contact: Contact) -> TouchLayout {
        TouchLayout {
            axes: Axes::MultiTouch,
            ..single(contact)
        }
    }

    /// Feeds raw (type, code, value) events to a decoder over a 4096x4096 extent (one panel unit
    /// per raw unit, so positions read as raw + 0.5).
    fn decode(d: &mut TouchDecoder, raw: &[(u16, u16, i32)]) -> Vec<PointerEvent> {
        let mut out = Vec::new();
        for &(t, c, v) in raw {
            d.feed(t, c, v, &mut out);
        }
        out
    }

    fn decoder(layout: TouchLayout) -> TouchDecoder {
        TouchDecoder::new(layout, (4096, 4096))
    }

    const SYN: (u16, u16, i32) = (EV_SYN, SYN_REPORT, 0);

    fn at(x: f32, y: f32) -> (f32, f32) {
        (x + 0.5, y + 0.5)
    }

    fn down(p: (f32, f32)) -> PointerEvent {
        Down { x: p.0, y: p.1 }
    }

    fn mv(p: (f32, f32)) -> PointerEvent {
        Move { x: p.0, y: p.1 }
    }

    #[test]
    fn scaling_keeps_both_ends_inside_the_extent() {
        let r = AxisRange {
            min: 200,
            max: 3900,
        };
        assert!((scale(200, r, 240) - 0.5 * 240.0 / 3701.0).abs() < 1e-4);
        let top = scale(3900, r, 240);
        assert!(top < 240.0 && top > 239.9, "{top}");
        // The middle of the range is the middle of the panel.
        assert!((scale(2050, r, 240) - 120.0).abs() < 0.05);
        // Overshoot is clamped to the declared range.
        assert_eq!(scale(-50, r, 240), scale(200, r, 240));
        assert_eq!(scale(5000, r, 240), top);
        // An axis finer than f32 can tell apart still stays below the extent.
        let fine = AxisRange {
            min: i32::MIN,
            max: i32::MAX,
        };
        assert!(scale(i32::MAX, fine, 240) < 240.0);
        assert!(scale(i32::MIN, fine, 240) >= 0.0);
        // A panel whose axis runs the other way is not flipped here; a reversed range (max <
        // min) is refused by `choose`, and `scale` still stays inside.
        let reversed = AxisRange { min: 10, max: 0 };
        assert!((0.0..240.0).contains(&scale(5, reversed, 240)));
    }

    #[test]
    fn a_single_touch_stroke() {
        let mut d = decoder(single(Contact::Touch));
        let events = decode(
            &mut d,
            &[
                (EV_ABS, ABS_X, 100),
                (EV_ABS, ABS_Y, 200),
                (EV_KEY, BTN_TOUCH, 1),
                SYN,
                (EV_ABS, ABS_X, 110),
                SYN,
                (EV_ABS, ABS_Y, 230),
                (EV_ABS, ABS_X, 120),
                SYN,
                (EV_KEY, BTN_TOUCH, 0),
                SYN,
            ],
        );
        assert_eq!(
            events,
            [
                down(at(100.0, 200.0)),
                mv(at(110.0, 200.0)),
                mv(at(120.0, 230.0)),
                Up
            ]
        );
    }

    #[test]
    fn nothing_happens_before_syn_report() {
        let mut d = decoder(single(Contact::Touch));
        let events = decode(
            &mut d,
            &[
                (EV_ABS, ABS_X, 1),
                (EV_ABS, ABS_Y, 2),
                (EV_KEY, BTN_TOUCH, 1),
            ],
        );
        assert!(events.is_empty());
        assert_eq!(decode(&mut d, &[SYN]), [down(at(1.0, 2.0))]);
        // An empty report, or one that only repeats the position, emits nothing.
        assert!(decode(&mut d, &[SYN, (EV_ABS, ABS_X, 1), SYN]).is_empty());
    }

    #[test]
    fn a_move_in_the_lifting_report_comes_before_the_up() {
        let mut d = decoder(single(Contact::Touch));
        decode(
            &mut d,
            &[
                (EV_ABS, ABS_X, 1),
                (EV_ABS, ABS_Y, 1),
                (EV_KEY, BTN_TOUCH, 1),
                SYN,
            ],
        );
        let events = decode(&mut d, &[(EV_ABS, ABS_X, 9), (EV_KEY, BTN_TOUCH, 0), SYN]);
        assert_eq!(events, [mv(at(9.0, 1.0)), Up]);
    }

    #[test]
    fn hovering_is_not_drawing() {
        // A pen in range reports its position without BTN_TOUCH; a mouse-like tablet moves
        // with the button up.
        for contact in [Contact::Touch, Contact::LeftButton] {
            let button = if contact == Contact::Touch {
                BTN_TOUCH
            } else {
                BTN_LEFT
            };
            let mut d = decoder(single(contact));
            let events = decode(
                &mut d,
                &[
                    (EV_ABS, ABS_X, 5),
                    (EV_ABS, ABS_Y, 5),
                    SYN,
                    (EV_ABS, ABS_X, 6),
                    SYN,
                    (EV_KEY, button, 1),
                    SYN,
                    (EV_ABS, ABS_X, 7),
                    SYN,
                    (EV_KEY, button, 0),
                    SYN,
                    (EV_ABS, ABS_X, 8),
                    SYN,
                ],
            );
            assert_eq!(
                events,
                [down(at(6.0, 5.0)), mv(at(7.0, 5.0)), Up],
                "{contact:?}"
            );
        }
    }

    #[test]
    fn the_other_button_is_ignored() {
        // A BTN_LEFT-driven layout ignores BTN_TOUCH and the other way round.
        let mut d = decoder(single(Contact::LeftButton));
        let events = decode(
            &mut d,
            &[
                (EV_ABS, ABS_X, 5),
                (EV_ABS, ABS_Y, 5),
                (EV_KEY, BTN_TOUCH, 1),
                SYN,
            ],
        );
        assert!(events.is_empty());
    }

    #[test]
    fn a_touch_before_any_position_waits_for_one() {
        let mut d = decoder(single(Contact::Touch));
        assert!(decode(&mut d, &[(EV_KEY, BTN_TOUCH, 1), SYN]).is_empty());
        assert!(decode(&mut d, &[(EV_ABS, ABS_X, 3), SYN]).is_empty());
        assert_eq!(
            decode(&mut d, &[(EV_ABS, ABS_Y, 4), SYN]),
            [down(at(3.0, 4.0))]
        );
    }

    #[test]
    fn multi_touch_follows_the_first_finger() {
        let mut d = decoder(multi(Contact::TrackingId));
        let events = decode(
            &mut d,
            &[
                // finger A in slot 0
                (EV_ABS, ABS_MT_SLOT, 0),
                (EV_ABS, ABS_MT_TRACKING_ID, 7),
                (EV_ABS, ABS_MT_POSITION_X, 10),
                (EV_ABS, ABS_MT_POSITION_Y, 20),
                SYN,
                // finger B lands in slot 1 and moves; A moves too
                (EV_ABS, ABS_MT_SLOT, 1),
                (EV_ABS, ABS_MT_TRACKING_ID, 8),
                (EV_ABS, ABS_MT_POSITION_X, 900),
                (EV_ABS, ABS_MT_POSITION_Y, 900),
                (EV_ABS, ABS_MT_SLOT, 0),
                (EV_ABS, ABS_MT_POSITION_X, 11),
                SYN,
                // B lifts: nothing for us
                (EV_ABS, ABS_MT_SLOT, 1),
                (EV_ABS, ABS_MT_TRACKING_ID, -1),
                SYN,
                // A lifts
                (EV_ABS, ABS_MT_SLOT, 0),
                (EV_ABS, ABS_MT_TRACKING_ID, -1),
                SYN,
                // a new finger in slot 1 is followed now
                (EV_ABS, ABS_MT_SLOT, 1),
                (EV_ABS, ABS_MT_TRACKING_ID, 9),
                (EV_ABS, ABS_MT_POSITION_X, 50),
                (EV_ABS, ABS_MT_POSITION_Y, 60),
                SYN,
            ],
        );
        assert_eq!(
            events,
            [
                down(at(10.0, 20.0)),
                mv(at(11.0, 20.0)),
                Up,
                down(at(50.0, 60.0))
            ]
        );
    }

    #[test]
    fn a_lift_and_touch_in_one_report_is_up_then_down() {
        let mut d = decoder(multi(Contact::TrackingId));
        decode(
            &mut d,
            &[
                (EV_ABS, ABS_MT_TRACKING_ID, 1),
                (EV_ABS, ABS_MT_POSITION_X, 10),
                (EV_ABS, ABS_MT_POSITION_Y, 10),
                SYN,
            ],
        );
        let events = decode(
            &mut d,
            &[
                (EV_ABS, ABS_MT_TRACKING_ID, -1),
                (EV_ABS, ABS_MT_TRACKING_ID, 2),
                (EV_ABS, ABS_MT_POSITION_X, 30),
                (EV_ABS, ABS_MT_POSITION_Y, 40),
                SYN,
            ],
        );
        assert_eq!(events, [Up, down(at(30.0, 40.0))]);
    }

    #[test]
    fn syn_dropped_discards_the_cut_report_and_asks_for_a_snapshot() {
        let mut d = decoder(single(Contact::Touch));
        decode(
            &mut d,
            &[
                (EV_ABS, ABS_X, 1),
                (EV_ABS, ABS_Y, 1),
                (EV_KEY, BTN_TOUCH, 1),
                SYN,
            ],
        );
        let events = decode(
            &mut d,
            &[
                (EV_ABS, ABS_X, 2),
                (EV_SYN, SYN_DROPPED, 0),
                // the rest of the damaged report, ignored
                (EV_KEY, BTN_TOUCH, 0),
                (EV_ABS, ABS_X, 500),
                SYN,
            ],
        );
        assert!(events.is_empty());
        assert!(d.needs_resync());
        // The pen is still down, elsewhere: the stroke goes on there.
        let mut out = Vec::new();
        d.resync(
            Snapshot {
                touching: true,
                x: 40,
                y: 50,
                slot: 0,
            },
            &mut out,
        );
        assert_eq!(out, [mv(at(40.0, 50.0))]);
        assert!(!d.needs_resync());
        // Events after the resync decode as usual.
        assert_eq!(decode(&mut d, &[(EV_KEY, BTN_TOUCH, 0), SYN]), [Up]);
    }

    #[test]
    fn a_snapshot_ends_or_starts_a_stroke() {
        let mut d = decoder(single(Contact::Touch));
        decode(
            &mut d,
            &[
                (EV_ABS, ABS_X, 1),
                (EV_ABS, ABS_Y, 1),
                (EV_KEY, BTN_TOUCH, 1),
                SYN,
            ],
        );
        let lifted = Snapshot {
            touching: false,
            x: 300,
            y: 300,
            slot: 0,
        };
        let mut out = Vec::new();
        d.resync(lifted, &mut out);
        // Where the pen rests after the lift is not part of the stroke.
        assert_eq!(out, [Up]);
        out.clear();
        // At start, a pen already down begins a stroke.
        let mut fresh = decoder(multi(Contact::TrackingId));
        fresh.resync(
            Snapshot {
                touching: true,
                x: 7,
                y: 8,
                slot: 3,
            },
            &mut out,
        );
        assert_eq!(out, [down(at(7.0, 8.0))]);
        // ... and follows that finger's slot.
        let events = decode(
            &mut fresh,
            &[
                (EV_ABS, ABS_MT_SLOT, 0),
                (EV_ABS, ABS_MT_POSITION_X, 999),
                (EV_ABS, ABS_MT_SLOT, 3),
                (EV_ABS, ABS_MT_TRACKING_ID, -1),
                SYN,
            ],
        );
        assert_eq!(events, [Up]);
    }

    #[test]
    fn positions_are_scaled_into_the_extent() {
        let layout = TouchLayout {
            axes: Axes::Single,
            x: AxisRange { min: 0, max: 1023 },
            y: AxisRange { min: 0, max: 599 },
            contact: Contact::Touch,
        };
        let mut d = TouchDecoder::new(layout, (320, 240));
        let events = decode(
            &mut d,
            &[
                (EV_ABS, ABS_X, 1023),
                (EV_ABS, ABS_Y, 0),
                (EV_KEY, BTN_TOUCH, 1),
                SYN,
            ],
        );
        let [Down { x, y }] = events[..] else {
            panic!("{events:?}");
        };
        assert!(x > 319.8 && x < 320.0, "{x}");
        assert!(y > 0.0 && y < 0.25, "{y}");
    }

    #[test]
    fn choosing_a_layout_from_capabilities() {
        let r = AxisRange { min: 0, max: 100 };
        let mt = AxisRange { min: 0, max: 2000 };
        // Single-touch panel.
        assert_eq!(
            TouchLayout::choose(&[(ABS_X, r), (ABS_Y, r)], &[BTN_TOUCH]),
            Ok(single_with(r, r, Axes::Single, Contact::Touch))
        );
        // Multi-touch panel with pointer emulation: the emulated axes win.
        assert_eq!(
            TouchLayout::choose(
                &[
                    (ABS_X, r),
                    (ABS_Y, r),
                    (ABS_MT_POSITION_X, mt),
                    (ABS_MT_POSITION_Y, mt),
                    (ABS_MT_TRACKING_ID, AxisRange { min: 0, max: 65535 }),
                ],
                &[BTN_TOUCH],
            ),
            Ok(single_with(r, r, Axes::Single, Contact::Touch))
        );
        // Multi-touch only, no keys.
        assert_eq!(
            TouchLayout::choose(
                &[
                    (ABS_MT_POSITION_X, mt),
                    (ABS_MT_POSITION_Y, mt),
                    (ABS_MT_TRACKING_ID, AxisRange { min: 0, max: 65535 }),
                ],
                &[],
            ),
            Ok(single_with(mt, mt, Axes::MultiTouch, Contact::TrackingId))
        );
        // An absolute tablet that clicks.
        assert_eq!(
            TouchLayout::choose(&[(ABS_X, r), (ABS_Y, r)], &[BTN_LEFT, 0x111]),
            Ok(single_with(r, r, Axes::Single, Contact::LeftButton))
        );
        // A keyboard, a joystick without buttons, a broken range.
        let err = TouchLayout::choose(&[], &[30, 31]).expect_err("keyboard");
        assert!(err.contains("no ABS_X/ABS_Y"), "{err}");
        let err = TouchLayout::choose(&[(ABS_X, r), (ABS_Y, r)], &[]).expect_err("no contact");
        assert!(
            err.contains("no BTN_TOUCH, BTN_LEFT or ABS_MT_TRACKING_ID"),
            "{err}"
        );
        let flat = AxisRange { min: 5, max: 5 };
        let err =
            TouchLayout::choose(&[(ABS_X, r), (ABS_Y, flat)], &[BTN_TOUCH]).expect_err("flat axis");
        assert!(err.contains("Y axis has the empty range 5..=5"), "{err}");
    }

    fn single_with(x: AxisRange, y: AxisRange, axes: Axes, contact: Contact) -> TouchLayout {
        TouchLayout {
            axes,
            x,
            y,
            contact,
        }
    }
}
