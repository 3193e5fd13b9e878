//! The sliding window over a simulated serial line that drops, duplicates, reorders, truncates
//! and corrupts frames: every message is delivered exactly once and in order, in both
//! directions at once, across sequence-number wrap-around and session restarts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use proptest::prelude::*;
use sentio_link::*;

struct Run {
    host: Station,
    device: Station,
    to_device: Line,
    to_host: Line,
    now: u64,
}

impl Run {
    fn new(faults: Faults, seed: u64, host_isn: u16, device_isn: u16, window: u16) -> Self {
        let config = WindowConfig {
            window,
            retransmit_timeout_ms: 60,
            max_retries: 40,
        };
        Self {
            host: Station::new(config, host_isn),
            device: Station::new(config, device_isn),
            to_device: Line::new(faults, 3, seed),
            to_host: Line::new(faults, 3, seed ^ 0x5555_5555),
            now: 0,
        }
    }

    /// Steps 1 ms at a time until both outboxes are delivered and acknowledged.
    fn run_until_idle(&mut self, limit_ms: u64) {
        let start = self.now;
        loop {
            let now = self.now;
            let bytes = self.to_device.receive(now);
            self.device.receive(&bytes, now);
            let bytes = self.to_host.receive(now);
            self.host.receive(&bytes, now);
            self.host.transmit(&mut self.to_device, now).unwrap();
            self.device.transmit(&mut self.to_host, now).unwrap();
            if self.host.is_idle() && self.device.is_idle() {
                break;
            }
            assert!(now - start < limit_ms, "no progress by {now} ms");
            self.now += 1;
        }
    }
}

fn pings(range: std::ops::Range<u32>) -> Vec<Message> {
    range.map(|nonce| Message::Ping { nonce }).collect()
}

fn pongs(range: std::ops::Range<u32>) -> Vec<Message> {
    range.map(|nonce| Message::Pong { nonce }).collect()
}

fn exchange(faults: Faults, seed: u64, host_isn: u16, device_isn: u16, window: u16, n: u32) -> Run {
    let mut run = Run::new(faults, seed, host_isn, device_isn, window);
    run.host.outbox.extend(pings(0..n));
    run.device.outbox.extend(pongs(0..n / 2));
    run.run_until_idle(2_000_000);
    assert_eq!(run.device.delivered, pings(0..n), "host to device");
    assert_eq!(run.host.delivered, pongs(0..n / 2), "device to host");
    assert_eq!(run.device.new_sessions, 1);
    assert_eq!(run.host.new_sessions, 1);
    run
}

#[test]
fn perfect_line_delivers_everything_once_without_retransmissions() {
    let run = exchange(Faults::default(), 1, 100, 200, 8, 300);
    assert_eq!(run.host.frames_sent, 300);
    assert_eq!(run.device.frames_sent, 150);
}

#[test]
fn lossy_line_delivers_everything_exactly_once_in_order() {
    let faults = Faults {
        drop: 0.1,
        duplicate: 0.1,
        reorder: 0.1,
        reorder_ms: 20,
        corrupt: 0.05,
        truncate: 0.03,
    };
    for seed in 0..8 {
        let run = exchange(faults, seed, seed as u16 * 7919, 40_000, 8, 300);
        assert!(run.host.frames_sent > 300, "losses must cause resends");
    }
}

#[test]
fn sequence_numbers_wrap_around_under_loss() {
    let faults = Faults {
        drop: 0.15,
        duplicate: 0.05,
        reorder: 0.05,
        reorder_ms: 10,
        corrupt: 0.02,
        truncate: 0.02,
    };
    // Both ends start just below 65535, so every window straddles the wrap.
    exchange(faults, 42, 65_530, 65_533, 8, 200);
    exchange(faults, 43, u16::MAX, u16::MAX - 3, 1, 50);
}

#[test]
fn a_full_cycle_of_sequence_numbers() {
    // 70 000 frames: every sequence number is used, the first ones twice.
    exchange(Faults::default(), 7, 12_345, 0, 16, 70_000);
}

#[test]
fn window_of_one_is_stop_and_wait() {
    let faults = Faults {
        drop: 0.2,
        duplicate: 0.2,
        ..Faults::default()
    };
    exchange(faults, 9, 0, 0, 1, 100);
}

#[test]
fn a_restarted_host_starts_a_new_session_and_nothing_old_leaks() {
    let faults = Faults {
        drop: 0.1,
        duplicate: 0.1,
        reorder: 0.1,
        reorder_ms: 15,
        ..Faults::default()
    };
    let mut run = Run::new(faults, 5, 1000, 2000, 8);
    run.host.outbox.extend(pings(0..50));
    run.run_until_idle(1_000_000);
    assert_eq!(run.device.delivered, pings(0..50));

    // The host process dies with frames in flight; a new one opens a session with an initial
    // number far from the old one.
    run.host.outbox.extend(pings(50..60));
    for _ in 0..3 {
        let now = run.now;
        run.host.transmit(&mut run.to_device, now).unwrap();
        run.now += 1;
    }
    let old_next = run.host.ep.tx.next_seq();
    let config = *run.host.ep.tx.config();
    run.host = Station::new(config, old_next.wrapping_add(0x4000));
    run.host.outbox.extend(pings(1000..1040));
    run.run_until_idle(1_000_000);

    // The device saw a second session; in it, exactly the new host's messages, in order. A
    // few old ones (50..) may have arrived before the new session started, never after.
    assert_eq!(run.device.new_sessions, 2);
    let delivered = &run.device.delivered;
    let first_new = delivered
        .iter()
        .position(|m| *m == Message::Ping { nonce: 1000 })
        .unwrap();
    assert_eq!(&delivered[first_new..], pings(1000..1040).as_slice());
    assert!(
        delivered[50..first_new]
            .iter()
            .all(|m| matches!(m, Message::Ping { nonce } if (50..60).contains(nonce)))
    );
}

#[test]
fn a_silent_peer_is_reported_unresponsive() {
    let config = WindowConfig {
        window: 4,
        retransmit_timeout_ms: 50,
        max_retries: 3,
    };
    let mut host = Station::new(config, 0);
    let mut line = Line::new(Faults::default(), 1, 0);
    host.outbox.push_back(Message::Reboot);
    let mut result = Ok(());
    for now in 0..1000 {
        result = host.transmit(&mut line, now);
        if result.is_err() {
            break;
        }
    }
    assert_eq!(result, Err(LinkError::Unresponsive { retries: 3 }));
    assert_eq!(host.frames_sent, 4, "the first send and 3 retries");
}

proptest! {
    #![proptest_config(config(48))]

    /// Random fault mixes, windows and initial numbers: exactly once, in order.
    #[test]
    fn random_faults_never_lose_duplicate_or_reorder_messages(
        seed in any::<u64>(),
        drop in 0.0f64..0.25,
        duplicate in 0.0f64..0.25,
        reorder in 0.0f64..0.25,
        corrupt in 0.0f64..0.1,
        truncate in 0.0f64..0.05,
        host_isn in any::<u16>(),
        device_isn in any::<u16>(),
        window in 1u16..=16,
    ) {
        let faults = Faults { drop, duplicate, reorder, reorder_ms: 25, corrupt, truncate };
        exchange(faults, seed, host_isn, device_isn, window, 120);
    }
}
