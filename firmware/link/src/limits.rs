//! What host and device agree on after the handshake.

use crate::frame::{MAX_FRAME, MIN_FRAME, max_chunk_for_frame};
use crate::message::{Limits, MAX_CHUNK};
use crate::window::{DEFAULT_WINDOW, MAX_WINDOW};

/// Sizes a host uses for one session, from the device's [`Limits`] and its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// Largest frame to send the device, in bytes on the wire: the size of the host's encode
    /// buffer.
    pub max_frame: usize,
    /// Data bytes per chunk: fits in `max_frame`, at most the device's `max_chunk` and
    /// [`MAX_CHUNK`].
    pub chunk_len: usize,
    /// Data frames in flight, and chunks without a reply.
    pub window: u16,
}

impl Limits {
    /// The limits of a device that takes everything this crate can produce, with a store of
    /// `store_quota_bytes`.
    pub const fn full(store_quota_bytes: u64) -> Self {
        Self {
            max_frame: MAX_FRAME as u16,
            max_chunk: MAX_CHUNK as u16,
            window: DEFAULT_WINDOW,
            store_quota_bytes,
        }
    }

    /// What a host built with this crate uses with a device announcing `self`; `None` when
    /// the device's limits are unusable (`max_frame` below [`MIN_FRAME`], or a zero
    /// `max_chunk` or `window`).
    pub fn negotiate(&self) -> Option<Negotiated> {
        let max_frame = usize::from(self.max_frame).min(MAX_FRAME);
        if max_frame < MIN_FRAME || self.max_chunk == 0 || self.window == 0 {
            return None;
        }
        let chunk_len = usize::from(self.max_chunk).min(max_chunk_for_frame(max_frame));
        Some(Negotiated {
            max_frame,
            chunk_len,
            window: self.window.min(MAX_WINDOW),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn negotiation() {
        let full = Limits::full(1 << 20).negotiate().unwrap();
        assert_eq!(
            full,
            Negotiated {
                max_frame: MAX_FRAME,
                chunk_len: MAX_CHUNK,
                window: DEFAULT_WINDOW
            }
        );
        let small = Limits {
            max_frame: 512,
            max_chunk: 1024,
            window: 200,
            store_quota_bytes: 0,
        }
        .negotiate()
        .unwrap();
        assert_eq!(small.max_frame, 512);
        assert_eq!(small.chunk_len, max_chunk_for_frame(512));
        assert!(small.chunk_len > 400);
        assert_eq!(small.window, MAX_WINDOW);
        let unusable = Limits {
            max_frame: 100,
            ..Limits::full(0)
        };
        assert_eq!(unusable.negotiate(), None);
    }
}
