//! Flashing: [`Connection::flash`] and what it takes and gives.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::time::Duration;

use sentio_link::{
    BeginOutcome, BeginTransfer, ErrorCode, Message, Sha256, Slot, TransferKind, UploadError,
    UploadState,
};
use sha2::Digest;

use crate::clock::Clock;
use crate::connection::{Connection, name_of, unexpected};
use crate::error::{Error, Result};
use crate::progress::Progress;

/// How to flash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlashOptions {
    /// Upload even if the device already runs a file with this SHA-256.
    pub force: bool,
    /// Make the new version active after the commit (otherwise it waits in the `Previous`
    /// slot for [`Connection::activate`]).
    pub activate: bool,
    /// After the commit (and the activation), ask the device for the stored version and compare
    /// its SHA-256 and size with the file's.
    pub verify: bool,
    /// What the file is.
    pub kind: TransferKind,
    /// Whether the bundle carries a signature (read from the bundle by the caller).
    pub signed: bool,
}

impl Default for FlashOptions {
    /// Activate and verify an unsigned bundle; no force.
    fn default() -> Self {
        Self {
            force: false,
            activate: true,
            verify: true,
            kind: TransferKind::Bundle,
            signed: false,
        }
    }
}

/// What a flash did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlashOutcome {
    /// The file was uploaded and committed.
    Flashed,
    /// The device already ran this exact file: nothing was sent.
    Skipped,
}

/// The result of a successful [`Connection::flash`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlashReport {
    /// Model name.
    pub name: String,
    /// File size.
    pub size: u64,
    /// SHA-256 of the file.
    pub sha256: Sha256,
    /// Uploaded or skipped.
    pub outcome: FlashOutcome,
    /// Bytes the device already had from an interrupted transfer.
    pub resumed_from: u64,
    /// File bytes sent in chunks in this flash (more than `size - resumed_from` when chunks
    /// had to be resent after the device lost its place).
    pub bytes_sent: u64,
    /// The device's stored SHA-256 was read back and matched.
    pub verified: bool,
    /// The version is active.
    pub activated: bool,
    /// Time from the first request to the end, by the connection's clock.
    pub elapsed: Duration,
}

/// A file to flash, read at any offset (chunks are resent after a rewind).
pub trait FlashSource {
    /// Size in bytes.
    fn size(&mut self) -> io::Result<u64>;
    /// Fills `buf` with the bytes at `offset`.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
}

impl FlashSource for &[u8] {
    fn size(&mut self) -> io::Result<u64> {
        Ok(self.len() as u64)
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let start = usize::try_from(offset).map_err(|_| io::ErrorKind::UnexpectedEof)?;
        let bytes = self
            .get(start..start.saturating_add(buf.len()))
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(bytes);
        Ok(())
    }
}

impl FlashSource for Vec<u8> {
    fn size(&mut self) -> io::Result<u64> {
        Ok(self.len() as u64)
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.as_slice().read_at(offset, buf)
    }
}

impl<S: FlashSource + ?Sized> FlashSource for &mut S {
    fn size(&mut self) -> io::Result<u64> {
        (**self).size()
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        (**self).read_at(offset, buf)
    }
}

/// A [`FlashSource`] over a seekable reader (a `File`): nothing is loaded into memory.
#[derive(Debug)]
pub struct ReaderSource<R>(pub R);

impl<R: Read + Seek> FlashSource for ReaderSource<R> {
    fn size(&mut self) -> io::Result<u64> {
        self.0.seek(SeekFrom::End(0))
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.0.seek(SeekFrom::Start(offset))?;
        self.0.read_exact(buf)
    }
}

/// Size and SHA-256 of a source, read once from start to end.
pub fn hash_source<S: FlashSource + ?Sized>(source: &mut S) -> io::Result<(u64, Sha256)> {
    let size = source.size()?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut offset = 0;
    while offset < size {
        let len = usize::try_from((size - offset).min(buf.len() as u64)).unwrap_or(buf.len());
        let piece = buf.get_mut(..len).unwrap_or_default();
        source.read_at(offset, piece)?;
        hasher.update(&*piece);
        offset += len as u64;
    }
    Ok((size, hasher.finalize().into()))
}

fn upload_error(e: UploadError, name: &str) -> Error {
    match e {
        UploadError::Device(code) => Error::from_code("Chunk", code, name),
        other => Error::Protocol {
            detail: other.to_string(),
        },
    }
}

impl<T: Read + Write, C: Clock> Connection<T, C> {
    /// Flashes `source` as model `name`: hashes it, `BeginTransfer` (skipped when the device
    /// runs the same SHA-256, unless `force`), uploads from the device's resume offset in
    /// chunks with the negotiated window, commits (the device verifies), optionally verifies
    /// by reading the stored SHA-256 back and activates. Progress goes to `progress`.
    ///
    /// A link failure leaves the device holding what it acknowledged: flashing the same file
    /// again, on a new connection, resumes there.
    pub fn flash<S: FlashSource, P: Progress>(
        &mut self,
        name: &str,
        mut source: S,
        options: &FlashOptions,
        mut progress: P,
    ) -> Result<FlashReport> {
        let result = self.flash_inner(name, &mut source, options, &mut progress);
        progress.finish(result.as_ref());
        result
    }

    fn flash_inner(
        &mut self,
        name: &str,
        source: &mut dyn FlashSource,
        options: &FlashOptions,
        progress: &mut dyn Progress,
    ) -> Result<FlashReport> {
        let start = self.clock.now_ms();
        let model = name_of(name)?;
        let (size, sha256) = hash_source(source).map_err(Error::Source)?;
        let request = BeginTransfer {
            name: model,
            size,
            sha256,
            signed: options.signed,
            kind: options.kind,
        };
        let mut report = FlashReport {
            name: name.into(),
            size,
            sha256,
            outcome: FlashOutcome::Skipped,
            resumed_from: 0,
            bytes_sent: 0,
            verified: false,
            activated: false,
            elapsed: Duration::ZERO,
        };
        let mut reply = self.request(Message::BeginTransfer(request.clone()))?;
        if reply == Message::TransferSkipped && options.force {
            progress.message("the device runs this exact file; sending it again (--force)");
            // Asking again right after a skip is the protocol's way to insist.
            reply = self.request(Message::BeginTransfer(request.clone()))?;
        }
        let negotiated = self.negotiated();
        let outcome =
            UploadState::from_reply(&request, &reply, negotiated.chunk_len, negotiated.window);
        let upload = match outcome {
            Ok(BeginOutcome::Skipped) => {
                progress.message(if options.force {
                    "the device does not support forced re-sends; it keeps its identical copy"
                } else {
                    "the device already runs this exact file: skipped"
                });
                if options.verify {
                    self.verify_slot(name, Slot::Active, size, &sha256)?;
                    report.verified = true;
                }
                report.activated = true;
                report.elapsed = self.elapsed_since(start);
                return Ok(report);
            }
            Ok(BeginOutcome::Upload(upload)) => upload,
            Err(UploadError::Device(code)) => {
                return Err(Error::from_code("BeginTransfer", code, name));
            }
            Err(UploadError::Unexpected { .. }) => return Err(unexpected("BeginTransfer", &reply)),
            Err(e) => return Err(upload_error(e, name)),
        };
        report.outcome = FlashOutcome::Flashed;
        report.resumed_from = upload.acked();
        progress.begin(name, size);
        if upload.acked() > 0 {
            tracing::info!(
                model = name,
                offset = upload.acked(),
                size,
                "flash: resuming a transfer where an earlier one stopped"
            );
            progress.message(&format!(
                "the device has {} of {size} bytes from an earlier attempt: resuming",
                upload.acked()
            ));
        }
        progress.advance(upload.acked());
        let transfer_id = upload.transfer_id();
        let uploaded = self.upload(name, upload, source, progress, &mut report.bytes_sent);
        if let Err(e) = uploaded {
            if !e.kind().is_link_failure() {
                self.drain_replies();
            }
            return Err(e);
        }
        match self.request(Message::Commit { transfer_id })? {
            Message::Committed { verified: true } => {}
            Message::Committed { verified: false } => {
                return Err(Error::Device {
                    request: "Commit",
                    code: ErrorCode::NotVerified,
                });
            }
            Message::Error { code } => return Err(Error::from_code("Commit", code, name)),
            other => return Err(unexpected("Commit", &other)),
        }
        if options.verify {
            progress.message("verifying");
            self.verify_slot(name, Slot::Previous, size, &sha256)?;
        }
        if options.activate {
            progress.message("activating");
            self.activate(name)?;
            report.activated = true;
            if options.verify {
                self.verify_slot(name, Slot::Active, size, &sha256)?;
            }
        }
        report.verified = options.verify;
        report.elapsed = self.elapsed_since(start);
        Ok(report)
    }

    fn elapsed_since(&self, start: u64) -> Duration {
        Duration::from_millis(self.clock.now_ms().saturating_sub(start))
    }

    /// Sends the chunks `upload` asks for, keeping the window full, until every byte is
    /// confirmed.
    fn upload(
        &mut self,
        name: &str,
        mut upload: UploadState,
        source: &mut dyn FlashSource,
        progress: &mut dyn Progress,
        bytes_sent: &mut u64,
    ) -> Result<()> {
        let mut buf = vec![0u8; self.negotiated().chunk_len];
        let mut reported = upload.acked();
        loop {
            while let Some(plan) = upload.next_chunk() {
                let data = buf.get_mut(..plan.len).unwrap_or_default();
                source.read_at(plan.offset, data).map_err(Error::Source)?;
                let chunk = upload
                    .chunk_message(plan, data)
                    .map_err(|e| upload_error(e, name))?;
                self.send(chunk);
                *bytes_sent += plan.len as u64;
            }
            if upload.is_complete() {
                return Ok(());
            }
            let reply = self.next_reply()?;
            upload.on_reply(&reply).map_err(|e| upload_error(e, name))?;
            if upload.acked() > reported {
                reported = upload.acked();
                progress.advance(reported);
            }
        }
    }

    /// Reads the `slot` version of `name` back and compares it with what was sent.
    fn verify_slot(&mut self, name: &str, slot: Slot, size: u64, sha256: &Sha256) -> Result<()> {
        let info = self.inspect(name, slot)?;
        if slot == Slot::Active && info.verified && info.sha256 != *sha256 {
            // Another verified version runs: the previous one, put back by the device.
            let previous = self.inspect(name, Slot::Previous).ok();
            if previous.is_some_and(|p| p.sha256 == *sha256 && p.size == size) {
                return Err(Error::RolledBack {
                    name: name.into(),
                    running: format!("{} ({} bytes)", hex::encode(info.sha256), info.size),
                });
            }
        }
        if info.sha256 != *sha256 || info.size != size || !info.verified {
            return Err(Error::VerifyFailed {
                name: name.into(),
                expected: hex::encode(sha256),
                actual: format!(
                    "{} ({} bytes, {})",
                    hex::encode(info.sha256),
                    info.size,
                    if info.verified {
                        "verified"
                    } else {
                        "not verified"
                    }
                ),
            });
        }
        Ok(())
    }
}
