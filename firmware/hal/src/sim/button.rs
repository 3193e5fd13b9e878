use std::time::Duration;

use crate::{HalError, PushButton};

/// A button pressed at given times, counted from its first poll (the device's first frame):
/// the simulated board's buttons (`sentiod --press-at SECS`).
#[derive(Clone, Debug)]
pub struct ScriptedButton {
    presses: Vec<Duration>,
    next: usize,
    start: Option<Duration>,
}

impl ScriptedButton {
    /// A button pressed at each of `presses` (any order) after the first poll.
    pub fn new(mut presses: Vec<Duration>) -> Self {
        presses.sort();
        Self {
            presses,
            next: 0,
            start: None,
        }
    }
}

impl PushButton for ScriptedButton {
    fn pressed(&mut self, now: Duration) -> Result<bool, HalError> {
        let start = *self.start.get_or_insert(now);
        let elapsed = now.saturating_sub(start);
        // Presses that fell between two polls count once each poll, so none is lost.
        if self.presses.get(self.next).is_some_and(|p| *p <= elapsed) {
            self.next += 1;
            return Ok(true);
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presses_come_once_each_at_their_time_after_the_first_poll() {
        let ms = Duration::from_millis;
        let mut b = ScriptedButton::new(vec![ms(250), ms(100)]);
        let polls: Vec<bool> = [1000, 1050, 1100, 1150, 1200, 1300, 1400]
            .iter()
            .map(|t| b.pressed(ms(*t)).unwrap_or(false))
            .collect();
        assert_eq!(polls, [false, false, true, false, false, true, false]);
    }
}
