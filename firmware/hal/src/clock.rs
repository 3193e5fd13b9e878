//! Time. Everything that measures or waits goes through a [`Clock`], so a simulated run can use
//! a virtual clock and produce the same output every time.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// A monotonic clock.
pub trait Clock {
    /// Time since the clock was created.
    fn now(&self) -> Duration;
    /// Waits until `now() >= deadline` (returns at once when it already is).
    fn sleep_until(&self, deadline: Duration);
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Duration {
        (**self).now()
    }
    fn sleep_until(&self, deadline: Duration) {
        (**self).sleep_until(deadline)
    }
}

impl<C: Clock + ?Sized> Clock for std::rc::Rc<C> {
    fn now(&self) -> Duration {
        (**self).now()
    }
    fn sleep_until(&self, deadline: Duration) {
        (**self).sleep_until(deadline)
    }
}

/// Wall-clock time from `std::time::Instant`.
#[derive(Clone, Copy, Debug)]
pub struct SystemClock {
    start: Instant,
}

impl SystemClock {
    pub fn new() -> Self {
        SystemClock {
            start: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }
    fn sleep_until(&self, deadline: Duration) {
        let now = self.now();
        if deadline > now {
            std::thread::sleep(deadline - now);
        }
    }
}

/// A clock that only moves when someone sleeps on it or advances it: a run paced by it takes no
/// wall time and measures every stage as taking zero time, which makes its output reproducible.
#[derive(Debug, Default)]
pub struct VirtualClock {
    now: Cell<Duration>,
}

impl VirtualClock {
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves time forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.now.set(self.now.get() + by);
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Duration {
        self.now.get()
    }
    fn sleep_until(&self, deadline: Duration) {
        if deadline > self.now.get() {
            self.now.set(deadline);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_clock_moves_only_when_told() {
        let c = VirtualClock::new();
        assert_eq!(c.now(), Duration::ZERO);
        c.sleep_until(Duration::from_millis(40));
        assert_eq!(c.now(), Duration::from_millis(40));
        c.sleep_until(Duration::from_millis(10)); // in the past: no change
        assert_eq!(c.now(), Duration::from_millis(40));
        c.advance(Duration::from_millis(5));
        assert_eq!(c.now(), Duration::from_millis(45));
    }

    #[test]
    fn system_clock_sleeps_until_deadline() {
        let c = SystemClock::new();
        let deadline = c.now() + Duration::from_millis(20);
        c.sleep_until(deadline);
        assert!(c.now() >= deadline);
    }
}
