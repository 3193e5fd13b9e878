//! Push buttons, polled once per frame.

use std::time::Duration;

use crate::HalError;

/// A push button (debounced by its driver).
pub trait PushButton {
    /// Whether it was pressed since the last poll (one press per press, however long it is
    /// held). `now` is the device clock's time.
    fn pressed(&mut self, now: Duration) -> Result<bool, HalError>;
}

impl<B: PushButton + ?Sized> PushButton for Box<B> {
    fn pressed(&mut self, now: Duration) -> Result<bool, HalError> {
        (**self).pressed(now)
    }
}
