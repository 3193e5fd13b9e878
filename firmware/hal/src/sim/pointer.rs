use std::path::Path;
use std::time::Duration;

use crate::{HalError, Pointer, PointerEvent, StrokeFile};

/// A touch panel that replays a [`StrokeFile`], with times counted from its first poll (the
/// device's first frame): the simulated board's pointer (`[pointer] driver = "sim"`).
///
/// Each poll hands out every point whose time has come, however long ago: `Down` at a stroke's
/// first point, `Move` at each of the others, and `Up` right after its last point. Once the file
/// has ended it hands out nothing.
#[derive(Clone, Debug)]
pub struct ReplayPointer {
    file: StrokeFile,
    /// The next point to hand out: (stroke, point).
    next: (usize, usize),
    start: Option<Duration>,
}

impl ReplayPointer {
    pub fn new(file: StrokeFile) -> Self {
        Self {
            file,
            next: (0, 0),
            start: None,
        }
    }

    /// Reads and checks a stroke file (see [`StrokeFile::read`]).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, HalError> {
        Ok(Self::new(StrokeFile::read(path)?))
    }

    pub fn file(&self) -> &StrokeFile {
        &self.file
    }

    /// Whether every event of the file has been handed out.
    pub fn is_finished(&self) -> bool {
        self.next.0 >= self.file.strokes.len()
    }
}

/// Whether a point at `t_ms` is due `elapsed` after the start (compared in nanoseconds, so whole
/// milliseconds are exact).
fn due(t_ms: f32, elapsed: Duration) -> bool {
    elapsed.as_nanos() as f64 >= f64::from(t_ms) * 1e6
}

impl Pointer for ReplayPointer {
    fn extent(&self) -> (u32, u32) {
        (self.file.width, self.file.height)
    }

    fn poll(&mut self, now: Duration, events: &mut Vec<PointerEvent>) -> Result<(), HalError> {
        let start = *self.start.get_or_insert(now);
        let elapsed = now.saturating_sub(start);
        while let Some(stroke) = self.file.strokes.get(self.next.0) {
            let (s, p) = self.next;
            let Some(&[x, y, t]) = stroke.get(p) else {
                // An empty stroke (a file built in memory, unchecked) has nothing to replay.
                self.next = (s + 1, 0);
                continue;
            };
            if !due(t, elapsed) {
                break;
            }
            events.push(if p == 0 {
                PointerEvent::Down { x, y }
            } else {
                PointerEvent::Move { x, y }
            });
            if p + 1 == stroke.len() {
                events.push(PointerEvent::Up);
                self.next = (s + 1, 0);
            } else {
                self.next = (s, p + 1);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StrokeCollector;
    use PointerEvent::{Down, Move, Up};

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    fn file() -> StrokeFile {
        StrokeFile {
            width: 240,
            height: 200,
            strokes: vec![
                vec![[1.0, 2.0, 0.0], [3.0, 4.0, 20.0], [5.0, 6.0, 40.0]],
                vec![[7.0, 8.0, 100.0]],
            ],
        }
    }

    fn poll(p: &mut ReplayPointer, t: u64) -> Vec<PointerEvent> {
        let mut events = Vec::new();
        p.poll(ms(t), &mut events).expect("poll");
        events
    }

    #[test]
    fn events_come_in_order_at_their_time_after_the_first_poll() {
        let mut p = ReplayPointer::new(file());
        assert_eq!(p.extent(), (240, 200));
        assert_eq!(poll(&mut p, 5000), [Down { x: 1.0, y: 2.0 }]);
        assert_eq!(poll(&mut p, 5019), []);
        assert_eq!(poll(&mut p, 5020), [Move { x: 3.0, y: 4.0 }]);
        assert_eq!(poll(&mut p, 5040), [Move { x: 5.0, y: 6.0 }, Up]);
        assert_eq!(poll(&mut p, 5099), []);
        assert!(!p.is_finished());
        assert_eq!(poll(&mut p, 5100), [Down { x: 7.0, y: 8.0 }, Up]);
        assert!(p.is_finished());
        assert_eq!(poll(&mut p, 9000), []);
        assert_eq!(poll(&mut p, 90_000), []);
    }

    #[test]
    fn sparse_polls_lose_nothing() {
        let mut p = ReplayPointer::new(file());
        assert_eq!(poll(&mut p, 0), [Down { x: 1.0, y: 2.0 }]);
        // One late poll gets everything that fell due since, in order.
        assert_eq!(
            poll(&mut p, 1000),
            [
                Move { x: 3.0, y: 4.0 },
                Move { x: 5.0, y: 6.0 },
                Up,
                Down { x: 7.0, y: 8.0 },
                Up
            ]
        );
        assert_eq!(poll(&mut p, 2000), []);
    }

    #[test]
    fn appends_to_what_the_caller_has() {
        let mut p = ReplayPointer::new(file());
        let mut events = vec![Up];
        p.poll(ms(0), &mut events).expect("poll");
        assert_eq!(events, [Up, Down { x: 1.0, y: 2.0 }]);
    }

    #[test]
    fn a_clock_stepping_back_replays_nothing_early() {
        let mut p = ReplayPointer::new(file());
        assert_eq!(poll(&mut p, 1000).len(), 1);
        assert_eq!(poll(&mut p, 10), []);
        assert_eq!(poll(&mut p, 1020).len(), 1);
    }

    #[test]
    fn opens_a_real_file_and_reports_a_bad_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.json");
        file().write(&path).expect("write");
        let mut p = ReplayPointer::open(&path).expect("open");
        assert_eq!(p.file(), &file());
        assert_eq!(poll(&mut p, 0).len(), 1);

        std::fs::write(&path, "{}").expect("write");
        let err = ReplayPointer::open(&path).expect_err("bad file");
        assert_eq!(err.kind(), crate::ErrorKind::InvalidData);
        assert!(err.message().contains("no \"format\" key"), "{err}");
    }

    #[test]
    fn replayed_through_a_collector_gives_the_files_drawings() {
        let drawings = vec![
            vec![
                vec![[10.0, 10.0], [20.0, 12.0], [30.0, 15.0], [40.0, 20.0]],
                vec![[50.0, 50.0]],
                vec![[60.0, 60.0], [61.0, 61.0]],
            ],
            vec![vec![[100.0, 100.0], [120.0, 140.0]]],
            vec![
                vec![[5.0, 5.0], [6.0, 7.0], [8.0, 9.0]],
                vec![[200.0, 190.0], [230.0, 199.0]],
            ],
        ];
        let idle = ms(1500);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sketches.json");
        StrokeFile::from_drawings(240, 200, &drawings, 300, 2000)
            .expect("valid")
            .write(&path)
            .expect("write");
        let replayed = StrokeFile::read(&path).expect("read");
        assert_eq!(replayed.drawings(idle), drawings);

        // The device polls once per frame (30 fps here, starting at an odd clock reading) and
        // asks for a drawing after feeding each poll.
        let mut pointer = ReplayPointer::new(replayed);
        let mut collector = StrokeCollector::new(idle);
        let mut got = Vec::new();
        let mut events = Vec::new();
        for frame in 0..300u64 {
            let now = Duration::from_micros(123_456 + frame * 33_333);
            events.clear();
            pointer.poll(now, &mut events).expect("poll");
            for e in &events {
                collector.push(e, now);
            }
            if let Some(drawing) = collector.take_drawing(now) {
                got.push(drawing);
            }
        }
        assert!(pointer.is_finished());
        assert_eq!(got, drawings);
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;
        use crate::Stroke;

        fn drawings() -> impl Strategy<Value = Vec<Vec<Stroke>>> {
            let point = (0u16..240, 0u16..200).prop_map(|(x, y)| [f32::from(x), f32::from(y)]);
            let stroke = prop::collection::vec(point, 1..12);
            prop::collection::vec(prop::collection::vec(stroke, 1..5), 1..5)
        }

        proptest! {
            /// Whatever the frame rate, as long as the pauses within a drawing are shorter than
            /// the idle time by more than a frame and the gaps longer by more than a frame.
            #[test]
            fn a_collector_fed_by_a_replay_gets_the_drawings_back(
                drawings in drawings(),
                frame_ms in 5u64..100,
                clock_start_ms in 0u64..100_000,
            ) {
                let idle = ms(1500);
                let stroke_ms = 1500 - 2 * frame_ms as u32 - 1;
                let gap_ms = 1500 + 2 * frame_ms as u32;
                let file = StrokeFile::from_drawings(240, 200, &drawings, stroke_ms, gap_ms)
                    .expect("valid");
                prop_assert_eq!(&file.drawings(idle), &drawings);
                let end = file.duration() + idle + ms(2 * frame_ms);
                let mut pointer = ReplayPointer::new(file);
                let mut collector = StrokeCollector::new(idle);
                let mut got = Vec::new();
                let mut events = Vec::new();
                let mut t = ms(0);
                while t <= end {
                    let now = ms(clock_start_ms) + t;
                    events.clear();
                    pointer.poll(now, &mut events).expect("poll");
                    for e in &events {
                        collector.push(e, now);
                    }
                    got.extend(collector.take_drawing(now));
                    t += ms(frame_ms);
                }
                prop_assert!(pointer.is_finished());
                prop_assert_eq!(got, drawings);
            }
        }
    }
}
