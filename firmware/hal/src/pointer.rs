//! Touch panels and pens, polled once per frame, and the [`StrokeCollector`] that turns their
//! events into drawings for the device's sketch mode (a visitor draws an emoji with a finger or a
//! pen; the device recognises it once the pen has rested long enough).

use std::collections::VecDeque;
use std::time::Duration;

use crate::HalError;

/// One change of a pointer, in panel coordinates: x to the right, y down, both in the range of
/// [`Pointer::extent`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PointerEvent {
    /// The pen (or finger) touched the panel at (x, y).
    Down { x: f32, y: f32 },
    /// The pen moved to (x, y) while touching.
    Move { x: f32, y: f32 },
    /// The pen left the panel.
    Up,
}

/// A touch panel or pen tablet.
pub trait Pointer {
    /// The coordinate space, (width, height): every event has 0 <= x < width and 0 <= y < height.
    fn extent(&self) -> (u32, u32);

    /// Appends the events since the last poll to `events`, oldest first (the caller clears it).
    /// `now` is the device clock's time, as for [`crate::PushButton::pressed`].
    fn poll(&mut self, now: Duration, events: &mut Vec<PointerEvent>) -> Result<(), HalError>;
}

impl<P: Pointer + ?Sized> Pointer for Box<P> {
    fn extent(&self) -> (u32, u32) {
        (**self).extent()
    }

    fn poll(&mut self, now: Duration, events: &mut Vec<PointerEvent>) -> Result<(), HalError> {
        (**self).poll(now, events)
    }
}

/// The points of one stroke, pen-down to pen-up, as [x, y] in panel coordinates.
pub type Stroke = Vec<[f32; 2]>;

/// Builds drawings out of pointer events: a drawing is every stroke up to a pause of at least
/// `idle` with the pen up.
///
/// Feed it every event with [`StrokeCollector::push`] and ask [`StrokeCollector::take_drawing`]
/// once per frame. A drawing is only finished while the pen is up: a stroke still being drawn
/// keeps the drawing open however long it takes. A `Move` or `Up` without a `Down` before it is
/// ignored (a pointer opened while the pen was already on the panel starts with those).
#[derive(Clone, Debug)]
pub struct StrokeCollector {
    idle: Duration,
    /// Strokes of the drawing in progress that the pen has finished.
    strokes: Vec<Stroke>,
    /// The stroke being drawn (pen down).
    open: Option<Stroke>,
    /// When the pen last went up, while `strokes` is not empty.
    last_up: Option<Duration>,
    /// Drawings finished by a pause but not taken yet: the pause can end (a new `Down`) before
    /// the caller asks, when it asks only after feeding a whole poll.
    finished: VecDeque<Vec<Stroke>>,
}

impl StrokeCollector {
    /// A collector that ends a drawing after `idle` with the pen up (the device uses 1.5 s).
    pub fn new(idle: Duration) -> Self {
        Self {
            idle,
            strokes: Vec::new(),
            open: None,
            last_up: None,
            finished: VecDeque::new(),
        }
    }

    pub fn idle(&self) -> Duration {
        self.idle
    }

    /// Feeds one event that arrived at `now` (the time of the poll that returned it).
    pub fn push(&mut self, event: &PointerEvent, now: Duration) {
        match *event {
            PointerEvent::Down { x, y } => {
                // A second Down without an Up between (a driver that lost the Up) ends the stroke.
                self.close_open(now);
                self.finish_if_idle(now);
                self.open = Some(vec![[x, y]]);
            }
            PointerEvent::Move { x, y } => {
                if let Some(stroke) = &mut self.open {
                    stroke.push([x, y]);
                }
            }
            PointerEvent::Up => self.close_open(now),
        }
    }

    /// The finished drawing, once the pen has been up for at least `idle` after at least one
    /// stroke; the collector then starts a new drawing. `None` while the pen is down, before
    /// the pause is long enough, or when nothing was drawn.
    pub fn take_drawing(&mut self, now: Duration) -> Option<Vec<Stroke>> {
        self.finish_if_idle(now);
        self.finished.pop_front()
    }

    /// The strokes of the drawing in progress that are finished, to show the ink as it is drawn.
    pub fn strokes(&self) -> &[Stroke] {
        &self.strokes
    }

    /// The stroke being drawn, while the pen is down.
    pub fn open_stroke(&self) -> Option<&Stroke> {
        self.open.as_ref()
    }

    /// Whether the pen is down.
    pub fn is_pen_down(&self) -> bool {
        self.open.is_some()
    }

    /// Forgets everything drawn so far, finished or not (leaving sketch mode).
    pub fn clear(&mut self) {
        self.strokes.clear();
        self.open = None;
        self.last_up = None;
        self.finished.clear();
    }

    fn close_open(&mut self, now: Duration) {
        if let Some(stroke) = self.open.take()
            && !stroke.is_empty()
        {
            self.strokes.push(stroke);
            self.last_up = Some(now);
        }
    }

    fn finish_if_idle(&mut self, now: Duration) {
        if self.open.is_some() || self.strokes.is_empty() {
            return;
        }
        // A clock that steps back counts as no time passed.
        if self
            .last_up
            .is_some_and(|up| now.saturating_sub(up) >= self.idle)
        {
            self.finished.push_back(std::mem::take(&mut self.strokes));
            self.last_up = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    fn down(x: f32, y: f32) -> PointerEvent {
        PointerEvent::Down { x, y }
    }

    fn mv(x: f32, y: f32) -> PointerEvent {
        PointerEvent::Move { x, y }
    }

    /// Feeds (time ms, event) pairs.
    fn feed(c: &mut StrokeCollector, script: &[(u64, PointerEvent)]) {
        for (t, e) in script {
            c.push(e, ms(*t));
        }
    }

    #[test]
    fn a_drawing_is_finished_after_the_pen_rests_idle() {
        let mut c = StrokeCollector::new(ms(1500));
        feed(
            &mut c,
            &[
                (0, down(1.0, 2.0)),
                (10, mv(3.0, 4.0)),
                (20, PointerEvent::Up),
                (500, down(5.0, 6.0)),
                (510, PointerEvent::Up),
            ],
        );
        assert_eq!(c.strokes().len(), 2);
        assert_eq!(c.take_drawing(ms(2009)), None, "1499 ms after the last Up");
        assert_eq!(
            c.take_drawing(ms(2010)),
            Some(vec![vec![[1.0, 2.0], [3.0, 4.0]], vec![[5.0, 6.0]]])
        );
        // It was reset: nothing more, and the next strokes start a new drawing.
        assert_eq!(c.take_drawing(ms(9000)), None);
        assert!(c.strokes().is_empty());
        feed(&mut c, &[(9000, down(7.0, 8.0)), (9100, PointerEvent::Up)]);
        assert_eq!(c.take_drawing(ms(10600)), Some(vec![vec![[7.0, 8.0]]]));
    }

    #[test]
    fn nothing_is_finished_while_the_pen_is_down() {
        let mut c = StrokeCollector::new(ms(100));
        feed(
            &mut c,
            &[
                (0, down(1.0, 1.0)),
                (10, PointerEvent::Up),
                (50, down(2.0, 2.0)),
            ],
        );
        // The first stroke ended long ago, but the pen is down again: one drawing, still open.
        assert_eq!(c.take_drawing(ms(60_000)), None);
        assert!(c.is_pen_down());
        assert_eq!(c.open_stroke(), Some(&vec![[2.0, 2.0]]));
        c.push(&mv(3.0, 3.0), ms(60_000));
        c.push(&PointerEvent::Up, ms(60_001));
        assert_eq!(c.take_drawing(ms(60_100)), None);
        assert_eq!(
            c.take_drawing(ms(60_101)),
            Some(vec![vec![[1.0, 1.0]], vec![[2.0, 2.0], [3.0, 3.0]]])
        );
    }

    #[test]
    fn nothing_drawn_gives_no_drawing() {
        let mut c = StrokeCollector::new(ms(100));
        assert_eq!(c.take_drawing(ms(0)), None);
        assert_eq!(c.take_drawing(ms(10_000)), None);
        // An Up alone is not a stroke.
        c.push(&PointerEvent::Up, ms(10));
        assert_eq!(c.take_drawing(ms(10_000)), None);
    }

    #[test]
    fn moves_and_ups_without_a_down_are_ignored() {
        let mut c = StrokeCollector::new(ms(100));
        feed(
            &mut c,
            &[
                (0, mv(9.0, 9.0)),
                (1, PointerEvent::Up),
                (2, down(1.0, 1.0)),
                (3, PointerEvent::Up),
                (4, mv(8.0, 8.0)),
                (5, PointerEvent::Up),
            ],
        );
        // The second Up did not move the end of the pause either.
        assert_eq!(c.take_drawing(ms(103)), Some(vec![vec![[1.0, 1.0]]]));
    }

    #[test]
    fn a_down_while_down_ends_the_stroke() {
        let mut c = StrokeCollector::new(ms(100));
        feed(
            &mut c,
            &[
                (0, down(1.0, 1.0)),
                (5, down(2.0, 2.0)),
                (6, PointerEvent::Up),
            ],
        );
        assert_eq!(
            c.take_drawing(ms(106)),
            Some(vec![vec![[1.0, 1.0]], vec![[2.0, 2.0]]])
        );
    }

    #[test]
    fn a_pause_that_ended_before_the_caller_asked_still_splits_the_drawings() {
        // One poll delivered the Up of the first drawing's last stroke long ago and the caller
        // fed the next Down before asking: the first drawing still comes out alone.
        let mut c = StrokeCollector::new(ms(1000));
        feed(&mut c, &[(0, down(1.0, 1.0)), (10, PointerEvent::Up)]);
        feed(&mut c, &[(5000, down(2.0, 2.0)), (5010, PointerEvent::Up)]);
        assert_eq!(c.take_drawing(ms(5020)), Some(vec![vec![[1.0, 1.0]]]));
        assert_eq!(c.take_drawing(ms(5020)), None);
        assert_eq!(c.take_drawing(ms(6010)), Some(vec![vec![[2.0, 2.0]]]));
    }

    #[test]
    fn a_clock_stepping_back_does_not_finish_early() {
        let mut c = StrokeCollector::new(ms(100));
        feed(&mut c, &[(1000, down(1.0, 1.0)), (1000, PointerEvent::Up)]);
        assert_eq!(c.take_drawing(ms(10)), None);
        assert!(c.take_drawing(ms(1100)).is_some());
    }

    #[test]
    fn clear_forgets_everything() {
        let mut c = StrokeCollector::new(ms(100));
        feed(
            &mut c,
            &[
                (0, down(1.0, 1.0)),
                (1, PointerEvent::Up),
                (2, down(2.0, 2.0)),
            ],
        );
        c.clear();
        assert!(!c.is_pen_down());
        c.push(&PointerEvent::Up, ms(3));
        assert_eq!(c.take_drawing(ms(1000)), None);
    }

    #[test]
    fn boxed_pointers_are_pointers() {
        struct Fixed;
        impl Pointer for Fixed {
            fn extent(&self) -> (u32, u32) {
                (240, 320)
            }
            fn poll(
                &mut self,
                _: Duration,
                events: &mut Vec<PointerEvent>,
            ) -> Result<(), HalError> {
                events.push(PointerEvent::Up);
                Ok(())
            }
        }
        let mut p: Box<dyn Pointer> = Box::new(Fixed);
        let mut events = Vec::new();
        p.poll(ms(0), &mut events).expect("poll");
        assert_eq!((p.extent(), events), ((240, 320), vec![PointerEvent::Up]));
    }
}
