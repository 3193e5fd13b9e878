//! Transfers: uploading a file into the device's store in chunks, as pure state machines.
//!
//! ```text
//! host                                   device
//! BeginTransfer{name,size,sha256,..} ─▶
//!                                     ◀─ TransferSkipped            (sha256 already active)
//!                                     ◀─ TransferAccepted{id, resume_offset}   or Error
//! Chunk{id, offset, data} ×window    ─▶  (offset must equal the bytes received)
//!                                     ◀─ ChunkAck{id, received}  (one reply per chunk)
//! ...
//! Commit{id}                         ─▶  verify sha256 (+ signature)
//!                                     ◀─ Committed{verified}        or Error
//! ```
//!
//! [`UploadState`] is the host's side: which chunk to send next, how many are in flight, when
//! to commit. [`DownloadState`] is the device's: which offset comes next, when the file is
//! complete. Neither hashes nor stores anything: the host reads the file, the device's store
//! writes and hashes through a [`ChunkSink`].
//!
//! Resuming: a device that keeps partial files (capability `RESUME`) answers a
//! `BeginTransfer` for a file it has partly (same name and sha256) with the bytes it has in
//! `resume_offset`; the host builds a new [`UploadState`] from that reply and sends the rest.

use crate::message::{BeginTransfer, Chunk, ErrorCode, MAX_CHUNK, Message, Sha256};

/// The next chunk to send: `len` bytes of the file from `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkPlan {
    /// Where it starts in the file.
    pub offset: u64,
    /// How many bytes (1..=chunk length; less only for the last chunk).
    pub len: usize,
}

/// Why an upload cannot go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UploadError {
    /// The device refused (the reply was `Error { code }`).
    Device(ErrorCode),
    /// The device claims more bytes than the file has.
    ResumeBeyondEnd {
        /// What the device said.
        offset: u64,
        /// The file size.
        size: u64,
    },
    /// A reply for another transfer.
    WrongTransfer {
        /// This upload's id.
        expected: u32,
        /// The reply's id.
        got: u32,
    },
    /// A `ChunkAck` with a `received` below what was acknowledged or beyond what was sent.
    BadAck {
        /// The reply's `received`.
        received: u64,
    },
    /// A reply that does not answer a chunk (or no chunk was outstanding).
    Unexpected {
        /// The reply's variant name.
        reply: &'static str,
    },
    /// The data given is shorter than the chunk asks for.
    ShortData,
}

impl core::fmt::Display for UploadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Device(code) => write!(f, "the device refused: {code}"),
            Self::ResumeBeyondEnd { offset, size } => write!(
                f,
                "the device wants to resume at byte {offset} of a {size}-byte file"
            ),
            Self::WrongTransfer { expected, got } => {
                write!(f, "reply for transfer {got} during transfer {expected}")
            }
            Self::BadAck { received } => {
                write!(f, "the device acknowledged an impossible {received} bytes")
            }
            Self::Unexpected { reply } => write!(f, "unexpected reply {reply} during a transfer"),
            Self::ShortData => f.write_str("file data shorter than the chunk"),
        }
    }
}

impl core::error::Error for UploadError {}

/// What the device said to a `BeginTransfer`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BeginOutcome {
    /// The device already runs this exact file: nothing to send, nothing to commit.
    Skipped,
    /// Send the chunks this state asks for, then commit.
    Upload(UploadState),
}

/// Host side of a transfer.
///
/// ```
/// use sentio_link::{BeginOutcome, BeginTransfer, Message, TransferKind, UploadState, model_name};
///
/// let file = [7u8; 2500];
/// let request = BeginTransfer {
///     name: model_name("fer").unwrap(),
///     size: file.len() as u64,
///     sha256: [0; 32],
///     signed: false,
///     kind: TransferKind::Model,
/// };
/// let reply = Message::TransferAccepted { transfer_id: 3, resume_offset: 1000 };
/// let BeginOutcome::Upload(mut up) = UploadState::from_reply(&request, &reply, 1024, 4).unwrap()
/// else { unreachable!() };
/// let plan = up.next_chunk().unwrap();
/// assert_eq!((plan.offset, plan.len), (1000, 1024));
/// let plan = up.next_chunk().unwrap();
/// assert_eq!((plan.offset, plan.len), (2024, 476));
/// assert!(up.next_chunk().is_none());
/// up.on_reply(&Message::ChunkAck { transfer_id: 3, received: 2024 }).unwrap();
/// up.on_reply(&Message::ChunkAck { transfer_id: 3, received: 2500 }).unwrap();
/// assert!(up.is_complete());
/// assert_eq!(up.commit_message(), Message::Commit { transfer_id: 3 });
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadState {
    transfer_id: u32,
    size: u64,
    sha256: Sha256,
    chunk_len: usize,
    window: u16,
    /// Offset of the next chunk to send.
    next: u64,
    /// Bytes the device confirmed.
    acked: u64,
    /// Chunks sent whose reply counts.
    in_flight: u16,
    /// Chunks sent before a rewind whose replies are still to come and are ignored.
    stale: u16,
}

impl UploadState {
    /// An upload of `size` bytes (hashing to `sha256`) as transfer `transfer_id`, starting at
    /// `resume_offset`, in chunks of `chunk_len` bytes (clamped to 1..=[`MAX_CHUNK`]) with at
    /// most `window` chunks unanswered (at least 1).
    pub fn new(
        transfer_id: u32,
        size: u64,
        sha256: Sha256,
        chunk_len: usize,
        window: u16,
        resume_offset: u64,
    ) -> Result<Self, UploadError> {
        if resume_offset > size {
            return Err(UploadError::ResumeBeyondEnd {
                offset: resume_offset,
                size,
            });
        }
        Ok(Self {
            transfer_id,
            size,
            sha256,
            chunk_len: chunk_len.clamp(1, MAX_CHUNK),
            window: window.max(1),
            next: resume_offset,
            acked: resume_offset,
            in_flight: 0,
            stale: 0,
        })
    }

    /// Reads the device's reply to `request`: skipped, an upload to run, or the refusal.
    pub fn from_reply(
        request: &BeginTransfer,
        reply: &Message,
        chunk_len: usize,
        window: u16,
    ) -> Result<BeginOutcome, UploadError> {
        match reply {
            Message::TransferSkipped => Ok(BeginOutcome::Skipped),
            Message::TransferAccepted {
                transfer_id,
                resume_offset,
            } => Self::new(
                *transfer_id,
                request.size,
                request.sha256,
                chunk_len,
                window,
                *resume_offset,
            )
            .map(BeginOutcome::Upload),
            Message::Error { code } => Err(UploadError::Device(*code)),
            other => Err(UploadError::Unexpected {
                reply: other.name(),
            }),
        }
    }

    /// The transfer id.
    pub const fn transfer_id(&self) -> u32 {
        self.transfer_id
    }

    /// The file size.
    pub const fn size(&self) -> u64 {
        self.size
    }

    /// The file's SHA-256.
    pub const fn sha256(&self) -> &Sha256 {
        &self.sha256
    }

    /// Bytes the device confirmed (for a progress bar; starts at the resume offset).
    pub const fn acked(&self) -> u64 {
        self.acked
    }

    /// Offset of the next chunk to send.
    pub const fn next_offset(&self) -> u64 {
        self.next
    }

    /// Chunks sent whose replies are still to come.
    pub const fn outstanding(&self) -> u16 {
        self.in_flight + self.stale
    }

    /// The next chunk to send, if the file has more and the window has room. Counts it as
    /// sent: read its bytes and send them (see [`chunk_message`](Self::chunk_message)).
    pub fn next_chunk(&mut self) -> Option<ChunkPlan> {
        if self.next >= self.size || self.outstanding() >= self.window {
            return None;
        }
        let left = self.size - self.next;
        let len = if left < self.chunk_len as u64 {
            left as usize
        } else {
            self.chunk_len
        };
        let plan = ChunkPlan {
            offset: self.next,
            len,
        };
        self.next += len as u64;
        self.in_flight += 1;
        Some(plan)
    }

    /// The `Chunk` message for `plan`, taking its bytes from `data`, which holds either the
    /// chunk's bytes (`data.len() == plan.len`) or the whole file.
    pub fn chunk_message(&self, plan: ChunkPlan, data: &[u8]) -> Result<Message, UploadError> {
        let bytes = if data.len() == plan.len {
            data
        } else {
            let start = usize::try_from(plan.offset).map_err(|_| UploadError::ShortData)?;
            data.get(start..start.saturating_add(plan.len))
                .ok_or(UploadError::ShortData)?
        };
        Chunk::new(self.transfer_id, plan.offset, bytes)
            .map(Message::Chunk)
            .ok_or(UploadError::ShortData)
    }

    /// Takes the device's reply to a chunk (replies come in chunk order, one each).
    ///
    /// `ChunkAck` moves the confirmed offset. `Error { OutOfOrder { expected } }` rewinds: the
    /// next chunk starts at `expected`, and the replies to chunks already sent after the
    /// refused one are skipped. Any other error ends the upload.
    pub fn on_reply(&mut self, reply: &Message) -> Result<(), UploadError> {
        if self.stale > 0 {
            self.stale -= 1;
            return match reply {
                Message::ChunkAck { .. }
                | Message::Error {
                    code: ErrorCode::OutOfOrder { .. },
                } => Ok(()),
                Message::Error { code } => Err(UploadError::Device(*code)),
                other => Err(UploadError::Unexpected {
                    reply: other.name(),
                }),
            };
        }
        if self.in_flight == 0 {
            return Err(UploadError::Unexpected {
                reply: reply.name(),
            });
        }
        match reply {
            Message::ChunkAck {
                transfer_id,
                received,
            } => {
                if *transfer_id != self.transfer_id {
                    return Err(UploadError::WrongTransfer {
                        expected: self.transfer_id,
                        got: *transfer_id,
                    });
                }
                if *received < self.acked || *received > self.next {
                    return Err(UploadError::BadAck {
                        received: *received,
                    });
                }
                self.acked = *received;
                self.in_flight -= 1;
                Ok(())
            }
            Message::Error {
                code: ErrorCode::OutOfOrder { expected },
            } => {
                if *expected > self.size {
                    return Err(UploadError::ResumeBeyondEnd {
                        offset: *expected,
                        size: self.size,
                    });
                }
                self.stale = self.in_flight - 1;
                self.in_flight = 0;
                self.acked = *expected;
                self.next = *expected;
                Ok(())
            }
            Message::Error { code } => Err(UploadError::Device(*code)),
            other => Err(UploadError::Unexpected {
                reply: other.name(),
            }),
        }
    }

    /// Every byte confirmed and no reply outstanding: send [`commit_message`](Self::commit_message).
    pub const fn is_complete(&self) -> bool {
        self.acked == self.size && self.in_flight == 0 && self.stale == 0
    }

    /// The `Commit` for this transfer.
    pub const fn commit_message(&self) -> Message {
        Message::Commit {
            transfer_id: self.transfer_id,
        }
    }

    /// The `Abort` for this transfer.
    pub const fn abort_message(&self) -> Message {
        Message::Abort {
            transfer_id: self.transfer_id,
        }
    }
}

/// Where a device puts the bytes of accepted chunks (the store's staging file), in order.
pub trait ChunkSink {
    /// Why a write failed.
    type Error;

    /// Stores `data` at `offset` of the file being received. Called with consecutive
    /// offsets, so a sink may also hash `data` as it goes.
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), Self::Error>;
}

/// Why a device did not take a chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DownloadError<E> {
    /// The chunk breaks the rules: answer `Error { code }`.
    Refused(ErrorCode),
    /// The sink failed: answer `Error { Storage }` (the chunk was not counted; the host may
    /// send it again).
    Sink(E),
}

impl<E> DownloadError<E> {
    /// The code to answer the host with.
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::Refused(code) => *code,
            Self::Sink(_) => ErrorCode::Storage,
        }
    }

    /// The reply to send the host.
    pub const fn reply(&self) -> Message {
        Message::Error { code: self.code() }
    }
}

/// Device side of a transfer: checks that chunks come in order and within the announced size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DownloadState {
    transfer_id: u32,
    size: u64,
    received: u64,
}

impl DownloadState {
    /// A transfer of `size` bytes whose first `resume_offset` bytes the store already has
    /// (0 for a fresh one; clamped to `size`).
    pub const fn new(transfer_id: u32, size: u64, resume_offset: u64) -> Self {
        Self {
            transfer_id,
            size,
            received: if resume_offset < size {
                resume_offset
            } else {
                size
            },
        }
    }

    /// The transfer id.
    pub const fn transfer_id(&self) -> u32 {
        self.transfer_id
    }

    /// Announced size.
    pub const fn size(&self) -> u64 {
        self.size
    }

    /// Bytes received (the offset the next chunk must have, and the resume offset to offer if
    /// the transfer is interrupted now).
    pub const fn received(&self) -> u64 {
        self.received
    }

    /// Whether every byte arrived.
    pub const fn is_complete(&self) -> bool {
        self.received == self.size
    }

    /// Whether `chunk` may be written now: right transfer, offset equal to
    /// [`received`](Self::received), within the size.
    pub fn check(&self, chunk: &Chunk) -> Result<(), ErrorCode> {
        if chunk.transfer_id != self.transfer_id {
            return Err(ErrorCode::UnknownTransfer);
        }
        if chunk.offset != self.received {
            return Err(ErrorCode::OutOfOrder {
                expected: self.received,
            });
        }
        let end = self.received.checked_add(chunk.data.len() as u64);
        if end.is_none_or(|end| end > self.size) {
            return Err(ErrorCode::BeyondEnd { size: self.size });
        }
        Ok(())
    }

    /// Checks `chunk`, writes its data through `sink` at its offset, counts it, and returns
    /// the `ChunkAck` to send. A refused chunk or a failed write changes nothing.
    pub fn on_chunk<S: ChunkSink>(
        &mut self,
        chunk: &Chunk,
        sink: &mut S,
    ) -> Result<Message, DownloadError<S::Error>> {
        self.check(chunk).map_err(DownloadError::Refused)?;
        if !chunk.data.is_empty() {
            sink.write_at(chunk.offset, &chunk.data)
                .map_err(DownloadError::Sink)?;
        }
        self.received += chunk.data.len() as u64;
        Ok(Message::ChunkAck {
            transfer_id: self.transfer_id,
            received: self.received,
        })
    }

    /// Whether a `Commit` for `transfer_id` may go on to verification.
    pub const fn check_commit(&self, transfer_id: u32) -> Result<(), ErrorCode> {
        if transfer_id != self.transfer_id {
            Err(ErrorCode::UnknownTransfer)
        } else if self.received != self.size {
            Err(ErrorCode::Incomplete {
                received: self.received,
                size: self.size,
            })
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    struct Mem(std::vec::Vec<u8>);

    impl ChunkSink for Mem {
        type Error = ();
        fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), ()> {
            assert_eq!(offset as usize, self.0.len());
            self.0.extend_from_slice(data);
            Ok(())
        }
    }

    #[test]
    fn download_rules() {
        let mut d = DownloadState::new(1, 10, 0);
        let mut mem = Mem(std::vec::Vec::new());
        let c = |id, off, data: &[u8]| Chunk::new(id, off, data).unwrap();
        assert_eq!(
            d.on_chunk(&c(2, 0, b"abc"), &mut mem),
            Err(DownloadError::Refused(ErrorCode::UnknownTransfer))
        );
        assert_eq!(
            d.on_chunk(&c(1, 3, b"abc"), &mut mem),
            Err(DownloadError::Refused(ErrorCode::OutOfOrder {
                expected: 0
            }))
        );
        assert_eq!(
            d.on_chunk(&c(1, 0, b"abcdef"), &mut mem),
            Ok(Message::ChunkAck {
                transfer_id: 1,
                received: 6
            })
        );
        assert_eq!(
            d.on_chunk(&c(1, 6, b"ghijk"), &mut mem),
            Err(DownloadError::Refused(ErrorCode::BeyondEnd { size: 10 }))
        );
        assert_eq!(
            d.check_commit(1),
            Err(ErrorCode::Incomplete {
                received: 6,
                size: 10
            })
        );
        d.on_chunk(&c(1, 6, b"ghij"), &mut mem).unwrap();
        assert!(d.is_complete());
        assert_eq!(d.check_commit(1), Ok(()));
        assert_eq!(mem.0, b"abcdefghij");
    }

    #[test]
    fn upload_rewinds_on_out_of_order() {
        let mut up = UploadState::new(9, 100, [0; 32], 10, 4, 0).unwrap();
        let plans: std::vec::Vec<_> = core::iter::from_fn(|| up.next_chunk()).collect();
        assert_eq!(plans.len(), 4);
        up.on_reply(&Message::ChunkAck {
            transfer_id: 9,
            received: 10,
        })
        .unwrap();
        // The device lost its place: it has 10 bytes and refused the chunk at 10.
        up.on_reply(&Message::Error {
            code: ErrorCode::OutOfOrder { expected: 10 },
        })
        .unwrap();
        assert_eq!(up.next_offset(), 10);
        // Two stale replies (for the chunks at 20 and 30) still count against the window.
        assert_eq!(up.outstanding(), 2);
        assert_eq!(up.next_chunk().map(|p| p.offset), Some(10));
        up.on_reply(&Message::Error {
            code: ErrorCode::OutOfOrder { expected: 10 },
        })
        .unwrap();
        up.on_reply(&Message::Error {
            code: ErrorCode::OutOfOrder { expected: 10 },
        })
        .unwrap();
        up.on_reply(&Message::ChunkAck {
            transfer_id: 9,
            received: 20,
        })
        .unwrap();
        assert_eq!(up.acked(), 20);
        assert_eq!(
            up.on_reply(&Message::ChunkAck {
                transfer_id: 9,
                received: 30
            }),
            Err(UploadError::Unexpected { reply: "ChunkAck" })
        );
    }

    #[test]
    fn upload_errors() {
        assert_eq!(
            UploadState::new(1, 10, [0; 32], 4, 1, 11),
            Err(UploadError::ResumeBeyondEnd {
                offset: 11,
                size: 10
            })
        );
        let mut up = UploadState::new(1, 10, [0; 32], 4, 2, 0).unwrap();
        up.next_chunk().unwrap();
        assert_eq!(
            up.on_reply(&Message::ChunkAck {
                transfer_id: 1,
                received: 5
            }),
            Err(UploadError::BadAck { received: 5 })
        );
        assert_eq!(
            up.on_reply(&Message::ChunkAck {
                transfer_id: 2,
                received: 4
            }),
            Err(UploadError::WrongTransfer {
                expected: 1,
                got: 2
            })
        );
        assert_eq!(
            up.on_reply(&Message::Error {
                code: ErrorCode::Storage
            }),
            Err(UploadError::Device(ErrorCode::Storage))
        );
        // An empty file is complete at once.
        let empty = UploadState::new(1, 0, [0; 32], 4, 2, 0).unwrap();
        assert!(empty.is_complete());
    }
}
