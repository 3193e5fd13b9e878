//! `UploadState` (host) and `DownloadState` (device) agree with each other: every byte of the
//! file arrives once, in order, including after interruptions and resumes, and out-of-order
//! chunks are refused with the offset the device expects.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::VecDeque;

use common::*;
use proptest::prelude::*;
use sentio_link::*;

/// The device's staging file.
#[derive(Default)]
struct Staging {
    data: Vec<u8>,
    fail_next: bool,
}

impl ChunkSink for Staging {
    type Error = &'static str;
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), Self::Error> {
        if std::mem::take(&mut self.fail_next) {
            return Err("disk full");
        }
        assert_eq!(offset, self.data.len() as u64, "writes are consecutive");
        self.data.extend_from_slice(data);
        Ok(())
    }
}

fn device_reply(download: &mut DownloadState, staging: &mut Staging, request: &Message) -> Message {
    match request {
        Message::Chunk(chunk) => download
            .on_chunk(chunk, staging)
            .unwrap_or_else(|e| e.reply()),
        other => panic!("unexpected request {other:?}"),
    }
}

/// Runs one attempt of an upload: the host pipelines chunks, the device answers them in
/// order, each side working at a random pace. Stops when the upload is complete or after
/// `interrupt_after` steps, dropping whatever is in flight. Returns the bytes sent.
fn attempt(
    up: &mut UploadState,
    download: &mut DownloadState,
    staging: &mut Staging,
    file: &[u8],
    rng: &mut SimRng,
    interrupt_after: Option<usize>,
) -> u64 {
    let mut to_device: VecDeque<Message> = VecDeque::new();
    let mut to_host: VecDeque<Message> = VecDeque::new();
    let mut sent = 0;
    for step in 0.. {
        if up.is_complete() || interrupt_after == Some(step) {
            break;
        }
        while let Some(plan) = up.next_chunk() {
            to_device.push_back(up.chunk_message(plan, file).unwrap());
            sent += plan.len as u64;
        }
        for _ in 0..rng.below(3) {
            if let Some(request) = to_device.pop_front() {
                to_host.push_back(device_reply(download, staging, &request));
            }
        }
        for _ in 0..rng.below(3) {
            if let Some(reply) = to_host.pop_front() {
                up.on_reply(&reply).unwrap();
            }
        }
        assert!(step < 1_000_000);
    }
    sent
}

proptest! {
    #![proptest_config(config(256))]

    /// A file uploaded in up to three attempts, each cut at a random moment, then completed:
    /// the device ends with exactly the file, ready to commit; each resume starts at what
    /// the device has, so an interruption costs at most one window of chunks.
    #[test]
    fn upload_and_download_agree_across_interruptions(
        size in 0usize..20_000,
        chunk_len in 1usize..=MAX_CHUNK,
        window in 1u16..=8,
        interruptions in proptest::collection::vec(0usize..40, 0..3),
        seed in any::<u64>(),
    ) {
        let mut rng = SimRng::new(seed);
        let file: Vec<u8> = (0..size).map(|_| rng.next_u64() as u8).collect();
        let mut staging = Staging::default();
        let mut resume = 0;
        let mut attempts: Vec<Option<usize>> = interruptions.into_iter().map(Some).collect();
        attempts.push(None);
        for (transfer_id, interrupt_after) in (1..).zip(attempts) {
            // BeginTransfer -> TransferAccepted { resume_offset = what the device has }.
            let request = BeginTransfer {
                name: model_name("fer").unwrap(),
                size: size as u64,
                sha256: [1; 32],
                signed: false,
                kind: TransferKind::Model,
            };
            let reply = Message::TransferAccepted { transfer_id, resume_offset: resume };
            let BeginOutcome::Upload(mut up) =
                UploadState::from_reply(&request, &reply, chunk_len, window).unwrap()
            else {
                unreachable!()
            };
            let mut download = DownloadState::new(transfer_id, size as u64, resume);
            prop_assert_eq!(up.acked(), download.received());

            let sent = attempt(&mut up, &mut download, &mut staging, &file, &mut rng, interrupt_after);
            // Whatever the host sent beyond what the device kept is at most one window.
            let lost = (resume + sent).saturating_sub(download.received());
            prop_assert!(lost <= window as u64 * chunk_len as u64, "lost {} bytes", lost);
            prop_assert!(up.acked() <= download.received());
            resume = download.received();
            if interrupt_after.is_none() {
                prop_assert!(up.is_complete());
                prop_assert_eq!(download.check_commit(up.transfer_id()), Ok(()));
                prop_assert_eq!(up.commit_message(), Message::Commit { transfer_id: up.transfer_id() });
            }
        }
        prop_assert_eq!(staging.data, file);
    }
}

/// The host resumes at an offset the device does not have (behind or ahead of it): the device
/// refuses with `OutOfOrder { expected }`, the host rewinds there and finishes.
#[test]
fn out_of_order_chunks_are_refused_and_the_host_rewinds() {
    for (device_has, host_thinks) in [(3000u64, 5000u64), (5000, 3000), (0, 1024)] {
        let file: Vec<u8> = (0..10_000u32).map(|i| (i * 7) as u8).collect();
        let mut staging = Staging {
            data: file[..device_has as usize].to_vec(),
            fail_next: false,
        };
        let mut download = DownloadState::new(7, file.len() as u64, device_has);
        let mut up = UploadState::new(7, file.len() as u64, [0; 32], 1000, 4, host_thinks).unwrap();

        let plan = up.next_chunk().unwrap();
        let reply = device_reply(
            &mut download,
            &mut staging,
            &up.chunk_message(plan, &file).unwrap(),
        );
        assert_eq!(
            reply,
            Message::Error {
                code: ErrorCode::OutOfOrder {
                    expected: device_has
                }
            }
        );
        up.on_reply(&reply).unwrap();
        assert_eq!(up.next_offset(), device_has);

        let mut rng = SimRng::new(device_has);
        attempt(&mut up, &mut download, &mut staging, &file, &mut rng, None);
        assert!(up.is_complete());
        assert_eq!(staging.data, file);
    }
}

/// Chunks already pipelined when the device refuses one are refused too; the host ignores
/// those replies and still finishes with every byte in place.
#[test]
fn pipelined_chunks_after_a_refusal_are_skipped() {
    let file = vec![0xABu8; 8000];
    let mut staging = Staging::default();
    let mut download = DownloadState::new(1, 8000, 0);
    let mut up = UploadState::new(1, 8000, [0; 32], 1000, 4, 1000).unwrap();
    let mut rng = SimRng::new(3);
    attempt(&mut up, &mut download, &mut staging, &file, &mut rng, None);
    assert!(up.is_complete());
    assert_eq!(staging.data, file);
}

#[test]
fn a_failed_write_changes_nothing_and_the_chunk_can_be_sent_again() {
    let mut staging = Staging {
        data: Vec::new(),
        fail_next: true,
    };
    let mut download = DownloadState::new(1, 4, 0);
    let chunk = Chunk::new(1, 0, b"abcd").unwrap();
    let err = download.on_chunk(&chunk, &mut staging).unwrap_err();
    assert_eq!(err, DownloadError::Sink("disk full"));
    assert_eq!(
        err.reply(),
        Message::Error {
            code: ErrorCode::Storage
        }
    );
    assert_eq!(download.received(), 0);
    download.on_chunk(&chunk, &mut staging).unwrap();
    assert!(download.is_complete());
}

#[test]
fn begin_replies_skip_refuse_or_start() {
    let request = BeginTransfer {
        name: model_name("emoji").unwrap(),
        size: 100,
        sha256: [9; 32],
        signed: true,
        kind: TransferKind::Bundle,
    };
    assert_eq!(
        UploadState::from_reply(&request, &Message::TransferSkipped, 512, 8),
        Ok(BeginOutcome::Skipped)
    );
    let quota = ErrorCode::QuotaExceeded {
        needed: 100,
        available: 10,
    };
    assert_eq!(
        UploadState::from_reply(&request, &Message::Error { code: quota }, 512, 8),
        Err(UploadError::Device(quota))
    );
    assert_eq!(
        UploadState::from_reply(&request, &Message::Pong { nonce: 1 }, 512, 8),
        Err(UploadError::Unexpected { reply: "Pong" })
    );
    assert_eq!(
        UploadState::from_reply(
            &request,
            &Message::TransferAccepted {
                transfer_id: 1,
                resume_offset: 101
            },
            512,
            8
        ),
        Err(UploadError::ResumeBeyondEnd {
            offset: 101,
            size: 100
        })
    );
    let Ok(BeginOutcome::Upload(up)) = UploadState::from_reply(
        &request,
        &Message::TransferAccepted {
            transfer_id: 4,
            resume_offset: 50,
        },
        512,
        8,
    ) else {
        panic!()
    };
    assert_eq!(
        (up.transfer_id(), up.acked(), up.sha256()),
        (4, 50, &[9; 32])
    );
}
