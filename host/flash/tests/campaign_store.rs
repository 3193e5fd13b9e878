//! The fault campaign of `campaign.rs`, against the REAL on-device store, with power cuts.
//!
//! The device is `LinkServer<sentio_store::Store<MemFs>>`: the real store over its
//! fault-injecting in-memory disk, which keeps only what was made durable when the power goes.
//! The host flashes real bundles (`sentio_models::Bundle::pack`, signed in the variant whose
//! store has a public key) through a seeded `Faulty` line, reconnecting and resuming after every
//! failure as `sentio flash` would. A device restart is a power cut ([`MemFs::power_cut`]):
//!
//! - *idle*: somewhere in the middle of the bytes the host writes, between store operations;
//! - *armed*: at a store operation a few ahead ([`MemFs::crash_at_op`]), wherever the device is
//!   by then (writing a chunk, checkpointing, committing, activating...);
//! - *aimed*: at one of the store operations of a `Commit` or an `Activate` the device is about
//!   to handle, so that every step of those is hit;
//! - *during recovery*: while `Store::open` repairs what the previous cut left.
//!
//! After each cut the device reboots: `Store::open` over what survived (its `Recovery` is
//! collected), then a new `LinkServer` with a new initial sequence number.
//!
//! Checked after every activation and after every power cut and reopen: the store opens; every
//! listed version is verified, hashes to its SHA-256, is byte for byte an honest bundle the host
//! sent (and, with a key, carries a good signature); the active version of each model is one
//! too (`read_active`); the active version is the one of the last activation the device
//! completed (or of the activation the cut interrupted); and the host's view: the version of
//! the last activation the host saw acknowledged stays active unless a later flash of that name
//! replaced it. A resumable partial upload holds only bytes of its file.
//!
//! `SENTIO_CAMPAIGN_SEED` and `SENTIO_CAMPAIGN_SCALE` replay or vary a campaign, as in
//! `campaign.rs`; `SENTIO_CAMPAIGN_VERBOSE=1` prints every recovery that repaired something.
//! Run with `--nocapture` to see the figures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::rc::Rc;
use std::time::Instant;

use common::{Lying, Rng, sim_config, sim_options};
use sentio_flash::fault::{FaultStats, Faults, Faulty};
use sentio_flash::{
    Clock, Connection, Error, ErrorKind, FlashOptions, FlashOutcome, FlashReport, ManualClock,
};
use sentio_link::{FrameDecoder, MAX_FRAME, Message, Sha256, Slot};
use sentio_models::{
    Bundle, BundleView, DType, Figures as ManifestFigures, InputSpec, LabelSpec, Manifest,
    Precision, Preprocessing, SignaturePolicy, SigningKey, Task, Verified, VerifyingKey,
    bundle_sha256, sign, verify,
};
use sentio_server::LinkServer;
use sentio_store::{MemFs, Recovery, RecoveryEvent, STAGING, Store, StoreConfig};

const NAMES: [&str; 4] = ["fer", "ser", "emoji", "anp"];
const MAX_ATTEMPTS: usize = 16;
const QUOTA: u64 = 8 << 20;
/// Small enough that a power cut in the middle of an upload leaves something to resume.
const CHECKPOINT_EVERY: u64 = 8 * 1024;
/// Mutating store operations of a commit (fsync, rename, remove, fsync_dir, then the slot
/// record: create, write, fsync, rename, fsync_dir, then removing the replaced version).
const COMMIT_OPS: u64 = 10;
/// Of an activation (the slot record).
const ACTIVATE_OPS: u64 = 5;

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Per-frame line fault rates, times `scale` (as in `campaign.rs`).
fn line_faults(scale: f64) -> Faults {
    Faults {
        bit_flip: 0.01 * scale,
        drop_byte: 0.005 * scale,
        drop_frame: 0.01 * scale,
        duplicate: 0.01 * scale,
        reorder: 0.01 * scale,
        disconnect: 0.0015 * scale,
    }
}

/// How often the power goes.
#[derive(Clone, Copy, Debug)]
struct CutRates {
    /// Per host write: a cut somewhere in its bytes.
    idle: f64,
    /// Per host write: a cut armed at one of the next 48 store operations.
    armed: f64,
    /// Per `Commit` frame the device gets: a cut at one of its operations.
    commit: f64,
    /// Per `Activate` (and `Rollback`) frame.
    activate: f64,
    /// Per reboot: a cut during `Store::open`.
    recovery: f64,
}

impl CutRates {
    fn scaled(scale: f64) -> Self {
        Self {
            idle: 0.004 * scale,
            armed: 0.004 * scale,
            commit: (0.25 * scale).min(0.9),
            activate: (0.25 * scale).min(0.9),
            recovery: (0.15 * scale).min(0.9),
        }
    }
}

/// Where the device was when the power went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// Between store operations.
    Idle,
    /// Handling a `BeginTransfer`.
    Begin,
    /// Writing a chunk (or checkpointing it).
    Chunk,
    /// Committing.
    Commit,
    /// Activating.
    Activate,
    /// Rolling back.
    Rollback,
    /// Handling anything else.
    Other,
    /// Inside `Store::open`, repairing the previous cut.
    Recovery,
}

impl Phase {
    fn of(request: Option<&Message>) -> Self {
        match request {
            Some(Message::BeginTransfer(_)) => Self::Begin,
            Some(Message::Chunk(_)) => Self::Chunk,
            Some(Message::Commit { .. }) => Self::Commit,
            Some(Message::Activate { .. }) => Self::Activate,
            Some(Message::Rollback { .. }) => Self::Rollback,
            _ => Self::Other,
        }
    }
}

/// What the invariants are checked against; the test loop keeps the host's half up to date.
#[derive(Default)]
struct Ledger {
    /// Every file the store may hold, by SHA-256: the honest bundles sent.
    honest: HashMap<Sha256, Vec<u8>>,
    /// Files the store must refuse (what a lying host announced, wrong key, unsigned, another
    /// model's bundle): never listed.
    refused: HashSet<Sha256>,
    /// Per name: the version whose activation the host saw acknowledged last...
    host_acked: BTreeMap<String, Sha256>,
    /// ... and the honest versions flashed since (any may have been activated without the host
    /// seeing the `Done`).
    since_ack: BTreeMap<String, BTreeSet<Sha256>>,
    /// Per name: the active version after the last activation the device completed.
    device_active: BTreeMap<String, Sha256>,
}

/// What the device side saw.
#[derive(Clone, Debug, Default)]
struct DeviceFigures {
    power_cuts: usize,
    cuts_by_phase: BTreeMap<Phase, usize>,
    /// Cuts whose activation had landed (durably) though its `Done` was never sent.
    activations_landed_at_cut: usize,
    /// `TransferAccepted` with a resume offset > 0.
    resume_offers: usize,
    /// `Activate` requests answered `Done` (each followed by a check of the store)...
    activations: usize,
    /// ... and those that changed the active version.
    activations_changing_version: usize,
    recoveries_repairing: usize,
    recovery_events: BTreeMap<&'static str, usize>,
    checks: usize,
}

struct Inner {
    server: Option<LinkServer<Store<MemFs>>>,
    fs: MemFs,
    store_config: StoreConfig,
    public_key: Option<VerifyingKey>,
    clock: ManualClock,
    to_host: std::collections::VecDeque<u8>,
    out: Vec<u8>,
    /// Decodes what the host sends, in step with the server's own decoder, to know which
    /// request each piece of bytes completes.
    requests: FrameDecoder,
    /// Decodes what the device sends (to count resume offers).
    replies: FrameDecoder,
    rng: Rng,
    rates: CutRates,
    ledger: Ledger,
    figures: DeviceFigures,
    verbose: bool,
    /// Seed and transfer, for messages.
    context: String,
}

/// The device: a `LinkServer` over the real store on a `MemFs`, stepped in the host's thread on
/// a virtual clock, with power cuts. Clones share it.
#[derive(Clone)]
struct StoreDevice(Rc<RefCell<Inner>>);

impl StoreDevice {
    fn new(store_config: StoreConfig, rates: CutRates, seed: u64) -> Self {
        let fs = MemFs::new();
        let public_key = store_config.public_key;
        let (store, recovery) = Store::open(fs.clone(), store_config.clone()).unwrap();
        assert!(recovery.is_clean(), "{recovery}");
        let server = LinkServer::new(sim_config(), store);
        Self(Rc::new(RefCell::new(Inner {
            server: Some(server),
            fs,
            store_config,
            public_key,
            clock: ManualClock::new(),
            to_host: Default::default(),
            out: vec![0; MAX_FRAME],
            requests: FrameDecoder::new(),
            replies: FrameDecoder::new(),
            rng: Rng::new(seed ^ 0xD15C),
            rates,
            ledger: Ledger::default(),
            figures: DeviceFigures::default(),
            verbose: env_or("SENTIO_CAMPAIGN_VERBOSE", 0u8) != 0,
            context: String::new(),
        })))
    }

    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        f(&mut self.0.borrow_mut())
    }

    fn connect_via<T: Read + Write>(
        &self,
        transport: T,
        seed: u64,
    ) -> Result<Connection<T, ManualClock>, Error> {
        let clock = self.with(|d| d.clock.clone());
        Connection::open_with_clock(transport, sim_options(seed), clock)
    }
}

impl Inner {
    fn server(&mut self) -> &mut LinkServer<Store<MemFs>> {
        self.server.as_mut().expect("a server")
    }

    fn store(&self) -> &Store<MemFs> {
        self.server.as_ref().expect("a server").store()
    }

    fn pump(&mut self) {
        let now = self.clock.now_ms();
        let server = self.server.as_mut().expect("a server");
        while let Some(bytes) = server.poll_output(now, &mut self.out) {
            for frame in self.replies.feed(bytes).flatten() {
                if let Some(Message::TransferAccepted { resume_offset, .. }) = frame.message
                    && resume_offset > 0
                {
                    self.figures.resume_offers += 1;
                }
            }
            self.to_host.extend(bytes);
        }
    }

    /// Arms a power cut at one of the next `within` store operations.
    fn arm(&mut self, within: u64) {
        let at = self.fs.ops() + self.rng.below(within);
        let seed = self.rng.next_u64();
        self.fs.crash_at_op(at, seed);
    }

    fn disarm(&self) {
        self.fs.crash_at_op(u64::MAX, 0);
    }

    /// Takes bytes from the host, one frame at a time, with the power cuts of the campaign.
    fn on_host_bytes(&mut self, buf: &[u8]) {
        let now = self.clock.now_ms();
        let idle_cut = self
            .rng
            .chance(self.rates.idle)
            .then(|| self.rng.below(buf.len() as u64 + 1) as usize);
        if self.rng.chance(self.rates.armed) {
            self.arm(48);
        }
        let bytes = &buf[..idle_cut.unwrap_or(buf.len())];
        for piece in bytes.split_inclusive(|&b| b == 0) {
            // The request this piece completes, if any (at most one: it ends at the first 0x00).
            let request = self
                .requests
                .feed(piece)
                .filter_map(Result::ok)
                .filter_map(|f| f.message)
                .last();
            let phase = Phase::of(request.as_ref());
            let mut aimed = false;
            // What an activation (or rollback) interrupted by the cut may leave active.
            let mut activating = None;
            match &request {
                Some(Message::Commit { .. }) if self.rng.chance(self.rates.commit) => {
                    self.arm(COMMIT_OPS);
                    aimed = true;
                }
                Some(Message::Activate { name } | Message::Rollback { name }) => {
                    activating = self
                        .store()
                        .inspect(name.as_str(), Slot::Previous)
                        .ok()
                        .map(|m| (name.as_str().to_owned(), m.sha256));
                    if self.rng.chance(self.rates.activate) {
                        self.arm(ACTIVATE_OPS);
                        aimed = true;
                    }
                }
                _ => {}
            }
            self.server().on_bytes(piece, now);
            if self.fs.is_down() {
                self.power_cut(phase, activating);
                return;
            }
            if aimed {
                // The request did not get to the store (a duplicate, refused early...).
                self.disarm();
            }
            self.after_request();
        }
        if idle_cut.is_some() {
            self.power_cut(Phase::Idle, None);
        }
    }

    /// After each request: check the store after every activation the device answered `Done`.
    fn after_request(&mut self) {
        let activated: Vec<_> = self.server().take_activations().collect();
        for name in activated {
            let name = name.as_str().to_owned();
            let what = format!("{}: after activating {name}", self.context);
            let sha = self
                .store()
                .inspect(&name, Slot::Active)
                .unwrap_or_else(|e| panic!("{what}: no active version: {e}"))
                .sha256;
            self.figures.activations += 1;
            let before = self.ledger.device_active.insert(name.clone(), sha);
            if before != Some(sha) {
                self.figures.activations_changing_version += 1;
            }
            self.check_store(&what);
        }
    }

    /// The power goes: what was not durable is lost; the device reboots over what survived
    /// (cut again, sometimes, while it repairs), and every invariant is checked.
    fn power_cut(&mut self, phase: Phase, activating: Option<(String, Sha256)>) {
        let what = format!("{}: power cut while {phase:?}", self.context);
        // The store goes with the server; the disk stays.
        self.server = None;
        self.fs.power_cut(self.rng.next_u64());
        self.figures.power_cuts += 1;
        *self.figures.cuts_by_phase.entry(phase).or_default() += 1;
        let (store, recovery) = loop {
            let cut_in_recovery = self.rng.chance(self.rates.recovery);
            if cut_in_recovery {
                self.arm(6);
            }
            let opened = Store::open(self.fs.clone(), self.store_config.clone());
            if self.fs.is_down() {
                // Cut again while repairing: reboot again.
                drop(opened);
                self.fs.power_cut(self.rng.next_u64());
                self.figures.power_cuts += 1;
                *self
                    .figures
                    .cuts_by_phase
                    .entry(Phase::Recovery)
                    .or_default() += 1;
                continue;
            }
            if cut_in_recovery {
                self.disarm();
            }
            match opened {
                Ok(opened) => break opened,
                Err(e) => panic!("{what}: the store does not open: {e}"),
            }
        };
        self.note_recovery(&recovery, &what);
        let isn = self.rng.next_u64() as u16;
        self.server = Some(LinkServer::new(sim_config().with_initial_seq(isn), store));
        self.to_host.clear();
        self.requests.reset();
        self.replies.reset();

        let what = format!("{what}\n{recovery}");
        self.check_store(&what);
        self.check_active_survived(activating, &what);
    }

    fn note_recovery(&mut self, recovery: &Recovery, what: &str) {
        if !recovery.events.is_empty() {
            self.figures.recoveries_repairing += 1;
            if self.verbose {
                println!("{what}:\n{recovery}");
            }
        }
        for event in &recovery.events {
            let kind = match event {
                RecoveryEvent::TempFileRemoved { .. } => "TempFileRemoved",
                RecoveryEvent::OrphanRemoved { .. } => "OrphanRemoved",
                RecoveryEvent::SlotDropped { .. } => "SlotDropped",
                RecoveryEvent::SlotNotVerified { .. } => "SlotNotVerified",
                RecoveryEvent::FellBack { .. } => "FellBack",
                RecoveryEvent::RecordRebuilt { .. } => "RecordRebuilt",
                RecoveryEvent::ModelLost { .. } => "ModelLost",
                RecoveryEvent::StagingKept { .. } => "StagingKept",
                RecoveryEvent::StagingTruncated { .. } => "StagingTruncated",
                RecoveryEvent::StagingDiscarded { .. } => "StagingDiscarded",
                RecoveryEvent::UnknownFile { .. } => "UnknownFile",
            };
            *self.figures.recovery_events.entry(kind).or_default() += 1;
            // Each of these means a file that was durable and referenced got lost or damaged.
            assert!(
                !matches!(
                    event,
                    RecoveryEvent::SlotDropped { .. }
                        | RecoveryEvent::SlotNotVerified { .. }
                        | RecoveryEvent::FellBack { .. }
                        | RecoveryEvent::RecordRebuilt { .. }
                        | RecoveryEvent::ModelLost { .. }
                        | RecoveryEvent::UnknownFile { .. }
                ),
                "{what}: the recovery found durable data damaged: {event}\n{recovery}"
            );
        }
    }

    /// Every listed version verifies and is an honest bundle; every active version reads back
    /// as one; a partial upload holds only bytes of its file.
    fn check_store(&mut self, what: &str) {
        self.figures.checks += 1;
        let store = self.store();
        let ledger = &self.ledger;
        for m in store.list() {
            assert!(m.verified, "{what}: unverified version listed: {m:?}");
            assert!(
                !ledger.refused.contains(&m.sha256),
                "{what}: a refused file is stored: {m:?}"
            );
            let bytes = self
                .fs
                .contents(&m.file)
                .unwrap_or_else(|| panic!("{what}: the file of {m:?} is missing"));
            assert_eq!(
                bundle_sha256(&bytes),
                m.sha256,
                "{what}: {m:?} does not hash to its SHA-256"
            );
            assert_eq!(
                ledger.honest.get(&m.sha256),
                Some(&bytes),
                "{what}: {m:?} is not an honest bundle's bytes"
            );
            let view = BundleView::parse(&bytes)
                .unwrap_or_else(|e| panic!("{what}: {m:?} does not parse: {e}"));
            assert_eq!(view.manifest().name, m.name, "{what}: {m:?}");
            if let Some(key) = &self.public_key {
                assert!(
                    matches!(
                        verify(&view, Some(key), SignaturePolicy::RequireSigned),
                        Ok(Verified::Signed { .. })
                    ),
                    "{what}: {m:?} is not signed by the device's key"
                );
            }
            if m.slot == Slot::Active {
                let active = store
                    .read_active(&m.name)
                    .unwrap_or_else(|e| panic!("{what}: read_active({}): {e}", m.name));
                assert_eq!(
                    Some(&active),
                    ledger.honest.get(&m.sha256),
                    "{what}: the active {} is not byte for byte an honest bundle",
                    m.name
                );
            }
        }
        if let Some(t) = store.transfer()
            && let Some(file) = ledger.honest.get(&t.sha256)
        {
            let staged = self.fs.contents(STAGING).unwrap_or_default();
            let n = t.received as usize;
            assert!(
                n <= staged.len() && staged[..n] == file[..n],
                "{what}: the partial upload of {} holds {n} bytes that are not its file's",
                t.name
            );
        }
    }

    /// After a cut: each model's active version is the one of the last activation the device
    /// completed (or of the one the cut interrupted), and the host's acknowledged activation
    /// stands unless a later flash of that name replaced it.
    fn check_active_survived(&mut self, activating: Option<(String, Sha256)>, what: &str) {
        let store = self.server.as_ref().expect("a server").store();
        let mut names: BTreeSet<String> = self.ledger.device_active.keys().cloned().collect();
        names.extend(store.list().into_iter().map(|m| m.name));
        for name in names {
            let active = store.inspect(&name, Slot::Active).ok().map(|m| m.sha256);
            let completed = self.ledger.device_active.get(&name).copied();
            let interrupted = activating
                .as_ref()
                .filter(|(n, _)| *n == name)
                .map(|(_, sha)| *sha);
            if active != completed {
                assert!(
                    active.is_some() && active == interrupted,
                    "{what}: {name}: active {:?} after the cut, but the last activation the device completed made {:?} active",
                    active.map(hex::encode),
                    completed.map(hex::encode),
                );
                // The interrupted activation had become durable: it stands.
                self.figures.activations_landed_at_cut += 1;
                if let Some(sha) = active {
                    self.ledger.device_active.insert(name.clone(), sha);
                }
            }
            if let Some(acked) = self.ledger.host_acked.get(&name) {
                let later = self.ledger.since_ack.get(&name);
                assert!(
                    active.is_some_and(|a| a == *acked || later.is_some_and(|l| l.contains(&a))),
                    "{what}: {name}: the activation the host saw acknowledged ({}) was lost: active {:?}",
                    hex::encode(acked),
                    active.map(hex::encode),
                );
            }
        }
    }
}

impl Write for StoreDevice {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().on_host_bytes(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for StoreDevice {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut d = self.0.borrow_mut();
        d.pump();
        if d.to_host.is_empty() {
            d.clock.advance(5);
            d.pump();
        }
        if d.to_host.is_empty() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        let n = buf.len().min(d.to_host.len());
        for (slot, byte) in buf.iter_mut().zip(d.to_host.drain(..n)) {
            *slot = byte;
        }
        Ok(n)
    }
}

// ---- bundles ------------------------------------------------------------------------------

fn trusted_key() -> SigningKey {
    SigningKey::from_bytes(&[42; 32])
}

fn untrusted_key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

fn manifest(name: &str, version: &str) -> Manifest {
    Manifest::new(
        name,
        version,
        Task::Emoji,
        LabelSpec::new(
            "emoji8",
            &["slightly_smiling", "heart_eyes", "neutral", "angry"],
        ),
        InputSpec {
            shape: vec![1, 1, 48, 48],
            dtype: DType::F32,
            preprocessing: Preprocessing::gray48(),
            extra: ManifestFigures::new(),
        },
        Precision::F32,
    )
}

/// A real bundle of model `name` with a random model of `model_len` bytes, signed with `key`.
fn make_bundle(
    name: &str,
    version: &str,
    model_len: usize,
    rng: &mut Rng,
    key: Option<&SigningKey>,
) -> Vec<u8> {
    let bundle = Bundle::pack(&manifest(name, version), &rng.bytes(model_len), None).unwrap();
    match key {
        Some(key) => sign(&bundle, key).unwrap(),
        None => bundle,
    }
}

// ---- the campaign -------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Plan {
    /// A new honest bundle.
    New,
    /// The active one again (skipped).
    Same,
    /// The active one again, forced.
    Force,
    /// A host whose file changes after hashing: `HashMismatch`.
    Lie,
    /// Another model's bundle under this name: `BadName`.
    WrongName,
    /// Signed with a key the device does not trust (store with a key): `BadSignature`.
    WrongKey,
    /// Not signed (store with a key): `UnsignedRefused`.
    Unsigned,
    /// Not a transfer: `Rollback`, once (it is not idempotent: a retry after a lost `Done`
    /// would swap back).
    Rollback,
}

impl Plan {
    fn honest(self) -> bool {
        matches!(self, Self::New | Self::Same | Self::Force)
    }

    /// The refusal a dishonest plan ends with (unless the link fails for good first).
    fn refusal(self) -> Option<ErrorKind> {
        match self {
            Self::New | Self::Same | Self::Force | Self::Rollback => None,
            Self::Lie => Some(ErrorKind::HashMismatch),
            Self::WrongName => Some(ErrorKind::BadName),
            Self::WrongKey => Some(ErrorKind::BadSignature),
            Self::Unsigned => Some(ErrorKind::UnsignedRefused),
        }
    }
}

#[derive(Default)]
struct Figures {
    transfers: usize,
    completed_first_try: usize,
    completed_after_retries: usize,
    resumed: usize,
    skipped: usize,
    refused_as_expected: BTreeMap<ErrorKind, usize>,
    failed: BTreeMap<ErrorKind, usize>,
    attempt_failures: BTreeMap<ErrorKind, usize>,
    attempts: usize,
    plans: BTreeMap<Plan, usize>,
    honest: usize,
    rollbacks: BTreeMap<&'static str, usize>,
    faults: FaultStats,
    bytes_sent: u64,
    device: DeviceFigures,
}

impl Figures {
    fn completed(&self) -> usize {
        self.completed_first_try + self.completed_after_retries
    }

    fn cuts(&self, phase: Phase) -> usize {
        self.device.cuts_by_phase.get(&phase).copied().unwrap_or(0)
    }
}

fn run_campaign(transfers: usize, seed: u64, scale: f64, signed: bool) -> Figures {
    let seed = env_or("SENTIO_CAMPAIGN_SEED", seed);
    let scale = env_or("SENTIO_CAMPAIGN_SCALE", scale);
    let started = Instant::now();
    let key = trusted_key();
    let mut store_config = StoreConfig::new(QUOTA).with_checkpoint_every(CHECKPOINT_EVERY);
    if signed {
        store_config = store_config.with_public_key(key.verifying_key());
    }
    let sim = StoreDevice::new(store_config, CutRates::scaled(scale), seed);
    let mut rng = Rng::new(seed);
    let mut figures = Figures::default();
    let mut active: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
    let mut connection_seed = seed << 20;
    let mut versions = 0u32;

    while figures.transfers < transfers {
        let transfer = figures.transfers;
        let name = NAMES[rng.below(NAMES.len() as u64) as usize];
        let roll = rng.below(100);
        let plan = match (roll, active.contains_key(name)) {
            (0..=9, true) => Plan::Same,
            (10..=14, true) => Plan::Force,
            (15..=18, _) => Plan::Lie,
            (19..=20, _) => Plan::WrongName,
            (21..=22, _) if signed => Plan::WrongKey,
            (23..=24, _) if signed => Plan::Unsigned,
            (25..=29, true) => Plan::Rollback,
            _ => Plan::New,
        };
        *figures.plans.entry(plan).or_default() += 1;
        if plan == Plan::Rollback {
            connection_seed += 1;
            rollback(
                &sim,
                name,
                connection_seed,
                scale,
                &mut figures,
                &mut active,
                seed,
            );
            continue;
        }
        versions += 1;
        let version = format!("1.{versions}");
        let model_len = match rng.below(20) {
            0 => 1,
            1 => 64 * 1024 + rng.below(16 * 1024) as usize,
            _ => 512 + rng.below(40 * 1024) as usize,
        };
        let trusted = signed.then_some(&key);
        let data = match plan {
            Plan::Same | Plan::Force | Plan::Rollback => active[name].clone(),
            Plan::New | Plan::Lie => make_bundle(name, &version, model_len, &mut rng, trusted),
            Plan::WrongName => {
                let other = NAMES.iter().find(|n| **n != name).unwrap();
                make_bundle(other, &version, model_len, &mut rng, trusted)
            }
            Plan::WrongKey => {
                make_bundle(name, &version, model_len, &mut rng, Some(&untrusted_key()))
            }
            Plan::Unsigned => make_bundle(name, &version, model_len, &mut rng, None),
        };
        let sha = bundle_sha256(&data);
        sim.with(|d| {
            if plan.honest() {
                figures.honest += 1;
                d.ledger.honest.insert(sha, data.clone());
                d.ledger
                    .since_ack
                    .entry(name.to_owned())
                    .or_default()
                    .insert(sha);
            } else {
                d.ledger.refused.insert(sha);
            }
        });
        let options = FlashOptions {
            force: plan == Plan::Force,
            // An unsigned bundle sometimes claims to be signed: refused at the commit then.
            signed: match plan {
                Plan::Unsigned => rng.below(2) == 0,
                _ => signed,
            },
            ..FlashOptions::default()
        };
        figures.transfers += 1;

        let mut outcome: Result<FlashReport, Error> = Err(Error::Busy);
        for attempt in 0..MAX_ATTEMPTS {
            figures.attempts += 1;
            connection_seed += 1;
            sim.with(|d| {
                d.context = format!(
                    "seed {seed:#x} (scale {scale}, signed {signed}), transfer {transfer} ({plan:?} {name}), attempt {attempt}"
                );
            });
            let mut transport = Faulty::new(
                sim.clone(),
                line_faults(scale),
                line_faults(scale),
                connection_seed ^ 0xFA17,
            );
            let result = sim
                .connect_via(&mut transport, connection_seed)
                .and_then(|mut conn| match plan {
                    Plan::Lie => conn.flash(
                        name,
                        Lying {
                            data: data.clone(),
                            hashed: false,
                        },
                        &options,
                        (),
                    ),
                    _ => conn.flash(name, data.as_slice(), &options, ()),
                });
            figures.faults.add(&transport.stats());
            match result {
                Ok(report) => {
                    if attempt == 0 {
                        figures.completed_first_try += 1;
                    } else {
                        figures.completed_after_retries += 1;
                    }
                    outcome = Ok(report);
                    break;
                }
                Err(e) => {
                    *figures.attempt_failures.entry(e.kind()).or_default() += 1;
                    let retry = e.kind().is_link_failure();
                    outcome = Err(e);
                    if !retry {
                        break;
                    }
                }
            }
        }
        let what = format!("seed {seed:#x}, transfer {transfer} ({plan:?} {name})");
        let held = sim.with(|d| d.store().read_active(name).ok());
        match outcome {
            Ok(report) => {
                assert!(plan.honest(), "{what}: accepted");
                assert!(report.verified && report.activated, "{what}: {report:?}");
                figures.bytes_sent += report.bytes_sent;
                if report.resumed_from > 0 {
                    figures.resumed += 1;
                }
                if report.outcome == FlashOutcome::Skipped {
                    figures.skipped += 1;
                }
                assert_eq!(
                    held.as_deref(),
                    Some(&data[..]),
                    "{what}: the device must run exactly the bundle"
                );
                sim.with(|d| {
                    d.ledger.host_acked.insert(name.to_owned(), sha);
                    d.ledger.since_ack.remove(name);
                });
                active.insert(name, data);
            }
            Err(e) => {
                let kind = e.kind();
                match plan.refusal() {
                    Some(expected) if kind == expected => {
                        *figures.refused_as_expected.entry(kind).or_default() += 1;
                    }
                    _ => {
                        assert!(kind.is_link_failure(), "{what}: {e}");
                        *figures.failed.entry(kind).or_default() += 1;
                    }
                }
                // What runs is still an honest bundle: the one before or, when the link failed
                // after the activation, this one.
                if let Some(held) = held {
                    assert!(
                        sim.with(|d| d.ledger.honest.contains_key(&bundle_sha256(&held))),
                        "{what}: the device runs a file that is no honest bundle"
                    );
                    active.insert(name, held);
                }
            }
        }
    }
    figures.device = sim.with(|d| d.figures.clone());
    print_figures(
        &figures,
        seed,
        scale,
        signed,
        started.elapsed().as_secs_f64(),
    );
    figures
}

/// One `Rollback` of `name`, over the faulty line, without retry. Either outcome may stand
/// when the link fails; a `Done` makes the version rolled back to the acknowledged one.
fn rollback(
    sim: &StoreDevice,
    name: &'static str,
    connection_seed: u64,
    scale: f64,
    figures: &mut Figures,
    active: &mut BTreeMap<&'static str, Vec<u8>>,
    seed: u64,
) {
    let what = format!(
        "seed {seed:#x}, rollback of {name} after transfer {}",
        figures.transfers
    );
    let target = sim.with(|d| {
        d.context = what.clone();
        let target = d
            .store()
            .inspect(name, Slot::Previous)
            .ok()
            .filter(|m| !m.pending)
            .map(|m| m.sha256);
        if let Some(sha) = target {
            d.ledger
                .since_ack
                .entry(name.to_owned())
                .or_default()
                .insert(sha);
        }
        target
    });
    let mut transport = Faulty::new(
        sim.clone(),
        line_faults(scale),
        line_faults(scale),
        connection_seed ^ 0xFA17,
    );
    let result = sim
        .connect_via(&mut transport, connection_seed)
        .and_then(|mut conn| conn.rollback(name));
    figures.faults.add(&transport.stats());
    let outcome = match &result {
        Ok(()) => {
            assert!(target.is_some(), "{what}: rolled back to nothing");
            sim.with(|d| {
                let now = d.store().inspect(name, Slot::Active).unwrap().sha256;
                assert_eq!(Some(now), target, "{what}: rolled back to another version");
                d.ledger.host_acked.insert(name.to_owned(), now);
                d.ledger.since_ack.remove(name);
            });
            "done"
        }
        Err(Error::Device {
            code: sentio_link::ErrorCode::NothingToRollBack,
            ..
        }) => {
            assert!(target.is_none(), "{what}: {result:?}");
            "nothing to roll back"
        }
        Err(e) => {
            assert!(e.kind().is_link_failure(), "{what}: {e}");
            "link failed"
        }
    };
    *figures.rollbacks.entry(outcome).or_default() += 1;
    if let Some(held) = sim.with(|d| d.store().read_active(name).ok()) {
        active.insert(name, held);
    }
}

fn print_figures(f: &Figures, seed: u64, scale: f64, signed: bool, seconds: f64) {
    let d = &f.device;
    let mut out = String::new();
    let store = if signed {
        "real store with a public key, signed bundles"
    } else {
        "real store without a key, unsigned bundles"
    };
    writeln!(
        out,
        "power-cut campaign ({store}), seed {seed:#x}, rates x{scale}: {} transfers in {seconds:.1} s",
        f.transfers
    )
    .unwrap();
    writeln!(out, "  plans: {:?}", f.plans).unwrap();
    writeln!(
        out,
        "  completed {} of {} honest ({} first try, {} after reconnecting; {} resumed a partial upload, {} skipped as identical)",
        f.completed(),
        f.honest,
        f.completed_first_try,
        f.completed_after_retries,
        f.resumed,
        f.skipped
    )
    .unwrap();
    writeln!(
        out,
        "  refused as they must be: {:?}",
        f.refused_as_expected
    )
    .unwrap();
    writeln!(out, "  failed (link gave out): {:?}", f.failed).unwrap();
    writeln!(out, "  rollbacks (one attempt each): {:?}", f.rollbacks).unwrap();
    writeln!(
        out,
        "  attempts {} (failed attempts by kind: {:?})",
        f.attempts, f.attempt_failures
    )
    .unwrap();
    writeln!(
        out,
        "  power cuts {}: {:?}; {} hit a commit, {} an activation or rollback ({} of those had landed)",
        d.power_cuts,
        d.cuts_by_phase,
        f.cuts(Phase::Commit),
        f.cuts(Phase::Activate) + f.cuts(Phase::Rollback),
        d.activations_landed_at_cut
    )
    .unwrap();
    writeln!(
        out,
        "  recoveries that repaired something {}: {:?}",
        d.recoveries_repairing, d.recovery_events
    )
    .unwrap();
    writeln!(
        out,
        "  resume offers {}; activations and rollbacks {} ({} changed the version), every one checked; {} store checks",
        d.resume_offers, d.activations, d.activations_changing_version, d.checks
    )
    .unwrap();
    writeln!(
        out,
        "  line faults: {} frames, {} bit flips, {} bytes dropped, {} frames dropped, {} duplicated, {} reordered, {} disconnects; {} chunk bytes sent",
        f.faults.frames,
        f.faults.bit_flips,
        f.faults.bytes_dropped,
        f.faults.frames_dropped,
        f.faults.duplicated,
        f.faults.reordered,
        f.faults.disconnects,
        f.bytes_sent
    )
    .unwrap();
    print!("{out}");
}

fn check(f: &Figures, min_transfers: usize, min_cuts: usize, min_percent: usize) {
    let failed: usize = f.failed.values().sum();
    let refused: usize = f.refused_as_expected.values().sum();
    assert_eq!(
        f.completed() + failed + refused,
        f.transfers,
        "every transfer ends one way or the other"
    );
    assert!(f.transfers >= min_transfers, "{} transfers", f.transfers);
    assert!(
        f.device.power_cuts >= min_cuts,
        "only {} power cuts",
        f.device.power_cuts
    );
    assert!(
        f.cuts(Phase::Commit) > 0,
        "coverage: no power cut hit a commit"
    );
    assert!(
        f.cuts(Phase::Activate) > 0,
        "coverage: no power cut hit an activation"
    );
    assert!(
        f.cuts(Phase::Recovery) > 0,
        "coverage: no power cut hit a recovery"
    );
    assert!(
        f.completed() >= f.honest * min_percent / 100,
        "too few honest transfers completed: {} of {}",
        f.completed(),
        f.honest
    );
    assert!(
        f.completed_after_retries > 0 && f.resumed > 0 && f.device.resume_offers > 0,
        "coverage: reconnects and resumes"
    );
    assert!(refused > 0, "coverage: dishonest hosts");
    assert!(
        f.rollbacks.get("done").is_some_and(|n| *n > 0),
        "coverage: rollbacks"
    );
}

#[test]
fn power_cut_campaign_of_200_transfers() {
    let figures = run_campaign(200, 0x5709_E001, 1.0, false);
    check(&figures, 200, 100, 90);
}

#[test]
fn power_cut_campaign_of_200_signed_transfers() {
    let figures = run_campaign(200, 0x5709_E002, 1.0, true);
    check(&figures, 200, 100, 90);
}

#[test]
#[ignore = "long: 1000 transfers (cargo test -p sentio-flash --release --test campaign_store -- --ignored --nocapture)"]
fn power_cut_campaign_of_1000_transfers() {
    let figures = run_campaign(1000, 0x5709_E003, 1.0, false);
    check(&figures, 1000, 200, 90);
}

#[test]
#[ignore = "long: 1000 transfers (cargo test -p sentio-flash --release --test campaign_store -- --ignored --nocapture)"]
fn power_cut_campaign_of_1000_signed_transfers() {
    let figures = run_campaign(1000, 0x5709_E004, 1.0, true);
    check(&figures, 1000, 200, 90);
}
