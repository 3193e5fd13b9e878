//! The serial link on the device: serves the host (model store, events, stats) on a thread of
//! its own, alongside the app, over a serial device or a pseudo-terminal.
//!
//! Models the host activates are read back from the store (verified versions only) into a
//! [`ModelRegistry`] the running app shares, so a new model is picked up without restarting
//! the process; each load is reported as a `model_loaded` event.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use sentio_link::{Event as LinkEvent, Slot, Stat, Stats as LinkStats};
use sentio_server::{LinkServer, ServeExit, ServerConfig, monotonic_ms, serve};
use sentio_store::{CheckOutcome, DirFs, Store, StoreConfig};
use serialport::{SerialPort, TTYPort};

use crate::events::{Event, Refusal};
use crate::inject::Injection;

/// How long a read on the serial device waits before the loop goes round (retransmissions and
/// app events are handled at least this often).
const READ_TIMEOUT: Duration = Duration::from_millis(10);

/// What the link needs.
#[derive(Clone, Debug)]
pub struct LinkOptions {
    /// A serial device path, or `pty` for a new pseudo-terminal whose path is announced.
    pub serial: String,
    pub baud: u32,
    /// The model store's folder (created when missing).
    pub store_dir: PathBuf,
    /// Bytes the store may hold.
    pub quota_bytes: u64,
    /// With a key, only bundles signed by it are accepted.
    pub public_key: Option<sentio_models::VerifyingKey>,
    /// Board name reported to the host.
    pub board: String,
    /// The profile's `[runtime]`: threads and kernels for the self-check of activated models.
    pub runtime: sentio_boards::RuntimeConfig,
}

/// Why the link could not start.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LinkError {
    #[error("cannot open the model store in {dir}: {source}")]
    #[diagnostic(
        code(device::sentiod::store),
        help("check that the folder is writable, or give another one with --store DIR")
    )]
    Store {
        dir: String,
        #[diagnostic_source]
        source: sentio_store::StoreError,
    },
    #[error("cannot open the serial device {path}: {source}")]
    #[diagnostic(
        code(device::sentiod::serial),
        help(
            "check the board profile's serial.device (or --serial), that the USB gadget or UART is enabled, and that this user is in the `dialout` group; --no-link runs without the host link"
        )
    )]
    Serial {
        path: String,
        source: serialport::Error,
    },
    #[error("cannot create a pseudo-terminal: {0}")]
    #[diagnostic(code(device::sentiod::pty))]
    Pty(serialport::Error),
}

/// A model the app can use: the verified active version of a name in the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedModel {
    pub version: String,
    pub sha256: [u8; 32],
    /// The whole bundle, as stored.
    pub bundle: Arc<Vec<u8>>,
}

/// The models the running app uses, by name; the link thread updates it when the host
/// activates, rolls back or deletes a model.
#[derive(Clone, Debug, Default)]
pub struct ModelRegistry {
    models: Arc<Mutex<BTreeMap<String, LoadedModel>>>,
}

impl ModelRegistry {
    pub fn get(&self, name: &str) -> Option<LoadedModel> {
        self.models
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned()
    }

    pub fn names(&self) -> Vec<String> {
        self.models
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect()
    }

    fn set(&self, name: &str, model: Option<LoadedModel>) {
        let mut models = self.models.lock().unwrap_or_else(PoisonError::into_inner);
        match model {
            Some(m) => models.insert(name.to_string(), m),
            None => models.remove(name),
        };
    }
}

/// What the app sends to the host. Stats are boxed: they are rare (one a second) and much
/// larger than an event.
enum Outgoing {
    Event(LinkEvent),
    Stats(Box<LinkStats>),
}

/// The running link thread.
pub struct Link {
    outgoing: Sender<Outgoing>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// Where the host connects (the pseudo-terminal's path for `pty`).
    pub path: String,
    pub registry: ModelRegistry,
    /// What the host streams while its session holds the device (hardware-in-the-loop).
    pub injection: Injection,
}

trait Transport: Read + Write + Send {}
impl<T: Read + Write + Send> Transport for T {}

impl Link {
    /// Opens the store and the serial device, loads the store's active models, and starts
    /// serving. `report` receives the device events the link produces (`link`,
    /// `model_loaded`, `model_unloaded`, `store_recovery`); it is called from the link thread
    /// too, so it must be `Send`.
    pub fn start(
        options: &LinkOptions,
        report: impl Fn(Event) + Send + 'static,
    ) -> Result<Link, LinkError> {
        let mut config = StoreConfig::new(options.quota_bytes);
        if let Some(key) = options.public_key {
            config = config.with_public_key(key);
        }
        let store_error = |source| LinkError::Store {
            dir: options.store_dir.display().to_string(),
            source,
        };
        let (store, recovery) = Store::open_dir(&options.store_dir, config).map_err(store_error)?;
        for event in &recovery.events {
            tracing::info!(store = %options.store_dir.display(), "model store recovery: {event}");
        }
        if !recovery.is_clean() {
            report(Event::StoreRecovery {
                report: recovery.to_string(),
            });
        }

        // A pseudo-terminal's slave end is kept open by the device, so the pty stays up
        // between host connections instead of hanging up when a host closes it.
        let (transport, path, keep_open): (Box<dyn Transport>, String, Option<TTYPort>) =
            if options.serial == "pty" {
                let (mut master, slave) = TTYPort::pair().map_err(LinkError::Pty)?;
                master.set_timeout(READ_TIMEOUT).map_err(LinkError::Pty)?;
                let path = slave.name().unwrap_or_default();
                (Box::new(master), path, Some(slave))
            } else {
                let port = serialport::new(&options.serial, options.baud)
                    .timeout(READ_TIMEOUT)
                    .open_native()
                    .map_err(|source| LinkError::Serial {
                        path: options.serial.clone(),
                        source,
                    })?;
                (Box::new(port), options.serial.clone(), None)
            };

        let registry = ModelRegistry::default();
        let load_options = crate::models::device_load_options(&options.runtime);
        let mut store = store;
        let active: Vec<String> = store
            .list()
            .into_iter()
            .filter(|m| m.slot == Slot::Active)
            .map(|m| m.name)
            .collect();
        for name in active {
            // A power cut between an activation and its rollback is finished here.
            self_check(&mut store, &name, &load_options, &report);
            load(&store, &registry, &name, &report);
        }
        report(Event::Link {
            path: path.clone(),
            baud: options.baud,
        });

        let (outgoing, incoming) = channel();
        let stop = Arc::new(AtomicBool::new(false));
        let injection = Injection::default();
        let thread = {
            let (stop, registry) = (Arc::clone(&stop), registry.clone());
            let injection = injection.clone();
            let board = options.board.clone();
            let baud = options.baud;
            let load_options = load_options.clone();
            std::thread::Builder::new()
                .name("sentio-link".into())
                .spawn(move || {
                    let _keep_open = keep_open;
                    run(
                        transport,
                        store,
                        &board,
                        baud,
                        incoming,
                        &stop,
                        &registry,
                        &injection,
                        &load_options,
                        &report,
                    );
                })
                .map_err(|e| LinkError::Pty(serialport::Error::from(e)))?
        };
        Ok(Link {
            outgoing,
            stop,
            thread: Some(thread),
            path,
            registry,
            injection,
        })
    }

    /// Forwards an app event to the host (when it subscribed); never blocks the app.
    pub fn forward(&self, event: &Event) {
        if let Some(message) = to_link(event) {
            // The link thread only goes away at stop; a failed send then loses nothing of value.
            let _ = self.outgoing.send(message);
        }
    }

    /// Stops serving and waits for the link thread.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Runs the device's self-check on the active version of `name` and rolls it back when it
/// fails (see `sentio_store::Store::check_active`); reports what happened.
fn self_check(
    store: &mut Store<DirFs>,
    name: &str,
    options: &sentio_infer::LoadOptions,
    report: &impl Fn(Event),
) {
    let origin = format!("store:{name}");
    // The store keeps the reason as text; the event also carries the error's code and help.
    let mut failure: Option<Refusal> = None;
    let outcome = store.check_active(name, |bundle| {
        crate::models::self_check(bundle, &origin, options).map_err(|why| {
            let reason = why.reason.clone();
            failure = Some(why);
            reason
        })
    });
    let why = |reason: String| match failure.clone() {
        Some(why) if why.reason == reason => why,
        _ => Refusal::said(reason),
    };
    let event = match outcome {
        Ok(CheckOutcome::Passed { version }) => Event::ModelSelfCheck {
            name: name.into(),
            version,
            outcome: "passed".into(),
            restored: None,
            why: None,
        },
        Ok(CheckOutcome::RolledBack {
            failed,
            restored,
            reason,
        }) => Event::ModelSelfCheck {
            name: name.into(),
            version: failed,
            outcome: "rolled_back".into(),
            restored: Some(restored),
            why: Some(why(reason)),
        },
        Ok(CheckOutcome::FailedNoPrevious { version, reason }) => Event::ModelSelfCheck {
            name: name.into(),
            version,
            outcome: "failed_no_previous".into(),
            restored: None,
            why: Some(why(reason)),
        },
        Err(e) => Event::refused("self-check", &origin, &e),
    };
    report(event);
}

/// Reads the verified active version of `name` into the registry (or removes it when there is
/// none) and reports it.
fn load(store: &Store<DirFs>, registry: &ModelRegistry, name: &str, report: &impl Fn(Event)) {
    let active = store
        .inspect(name, Slot::Active)
        .ok()
        .filter(|m| m.verified);
    match (active, store.read_active(name)) {
        (Some(info), Ok(bytes)) => {
            tracing::info!(model = name, version = %info.version, bytes = bytes.len(), "link: model loaded from the store");
            report(Event::ModelLoaded {
                name: name.to_string(),
                version: info.version.clone(),
                sha256: hex_string(&info.sha256),
                bytes: bytes.len() as u64,
            });
            registry.set(
                name,
                Some(LoadedModel {
                    version: info.version,
                    sha256: info.sha256,
                    bundle: Arc::new(bytes),
                }),
            );
        }
        _ => {
            if registry.get(name).is_some() {
                registry.set(name, None);
                report(Event::ModelUnloaded {
                    name: name.to_string(),
                });
            }
        }
    }
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[allow(clippy::too_many_arguments)]
fn run(
    mut transport: Box<dyn Transport>,
    store: Store<DirFs>,
    board: &str,
    baud: u32,
    incoming: Receiver<Outgoing>,
    stop: &AtomicBool,
    registry: &ModelRegistry,
    injection: &Injection,
    load_options: &sentio_infer::LoadOptions,
    report: &impl Fn(Event),
) {
    let report_dyn = |e: Event| report(e);
    // The session whose input is injected now.
    let mut injecting: Option<u64> = None;
    let config = |seq: u64| {
        ServerConfig::new(board, env!("CARGO_PKG_VERSION"), &serial_number())
            .for_line(baud)
            // A new session's sequence numbers differ from the last one's, even after a restart.
            .with_initial_seq((seq ^ (seq >> 16)) as u16)
    };
    let mut server = LinkServer::new(
        config(monotonic_ms() ^ u64::from(std::process::id())),
        store,
    );
    loop {
        let exit = serve(&mut server, &mut *transport, |server| {
            loop {
                match incoming.try_recv() {
                    Ok(Outgoing::Event(e)) => _ = server.push_event(e),
                    Ok(Outgoing::Stats(s)) => _ = server.push_stats(*s),
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                }
            }
            let activated: Vec<String> = server.take_activations().map(|n| n.to_string()).collect();
            let deleted: Vec<String> = server.take_deletions().map(|n| n.to_string()).collect();
            for name in &activated {
                tracing::info!(model = %name, "link: the host activated a model");
                // The update's commit point: a model that fails is rolled back before it runs.
                self_check(server.store_mut(), name, load_options, report);
            }
            for name in activated.iter().chain(&deleted) {
                load(server.store(), registry, name, report);
            }
            let session = server.stats().sessions;
            if injecting.is_some_and(|s| s != session || !server.is_connected()) {
                injection.release(
                    "the host's session ended: the real camera and microphone are back",
                    &report_dyn,
                );
                injecting = None;
            }
            for input in server.take_inputs() {
                injection.accept(&input, session, &report_dyn);
                injecting = Some(session);
            }
            if stop.load(Ordering::SeqCst) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        if injecting.take().is_some() {
            injection.release(
                "the link went down: the real camera and microphone are back",
                &report_dyn,
            );
        }
        match exit {
            Ok(ServeExit::Stopped) => return,
            Ok(ServeExit::Reboot) => {
                // A soft reboot: a fresh link session over the same store.
                report(Event::LinkReboot {});
                let store = server.into_store();
                server = LinkServer::new(config(monotonic_ms().wrapping_add(0x4000)), store);
            }
            Ok(ServeExit::Disconnected) => {
                tracing::debug!("link: the serial line closed; waiting for a host");
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => {
                tracing::warn!(error = %e, "link: I/O error; the link restarts");
                report(Event::LinkError {
                    message: e.to_string(),
                });
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        if stop.load(Ordering::SeqCst) {
            return;
        }
    }
}

/// The board's serial number as the host sees it: the machine id where there is one.
fn serial_number() -> String {
    [
        "/etc/machine-id",
        "/sys/firmware/devicetree/base/serial-number",
    ]
    .iter()
    .find_map(|p| std::fs::read_to_string(p).ok())
    .map(|s| {
        s.trim_matches(|c: char| c.is_whitespace() || c == '\0')
            .chars()
            .take(32)
            .collect()
    })
    .unwrap_or_else(|| "unknown".to_string())
}

/// The scores of `by_label` in the order of `set` (0 for a label it lacks): a link event's
/// values have a fixed order per topic.
fn in_order<'a>(
    set: &'a sentio_models::LabelSet,
    by_label: &'a std::collections::BTreeMap<String, f32>,
) -> impl Iterator<Item = f32> + 'a {
    set.labels
        .iter()
        .map(|l| by_label.get(*l).copied().unwrap_or(0.0))
}

/// The link form of an app event: levels and lifecycle as events, timings as stats.
fn to_link(event: &Event) -> Option<Outgoing> {
    fn text<const N: usize>(s: &str) -> Option<heapless::String<N>> {
        heapless::String::try_from(s).ok()
    }
    let at = |t_ms: f64| t_ms.max(0.0) as u64;
    match event {
        Event::Level { t_ms, dbfs, .. } => Some(Outgoing::Event(LinkEvent {
            at_ms: at(*t_ms),
            topic: text("level")?,
            label: text("mic")?,
            values: heapless::Vec::from_slice(&[*dbfs]).ok()?,
        })),
        Event::Stats {
            t_ms,
            fps,
            capture_ms,
            audio_ms,
            draw_ms,
            flush_ms,
            max_frame_ms,
            stages,
            ..
        } => {
            // A report holds MAX_STATS (12) figures and must fit the smallest frame a device may
            // announce: the totals, then the pipeline's stages by how much they tell about a
            // slow device (model stages first; the sub-millisecond ones last, dropped first).
            let stage = |name: &str| stages.get(name).map(|v| (name.to_string(), *v));
            let order = [
                "detect_ms",
                "fer_ms",
                "features_ms",
                "ser_ms",
                "fuse_ms",
                "crop_ms",
                "track_ms",
                "listen_ms",
            ];
            let totals = [
                ("fps", *fps),
                ("capture_ms", *capture_ms),
                ("draw_ms", *draw_ms),
                ("flush_ms", *flush_ms),
                ("max_frame_ms", *max_frame_ms),
            ];
            let mut entries = heapless::Vec::new();
            for (name, value) in totals
                .iter()
                .map(|(n, v)| (n.to_string(), *v))
                .chain(order.iter().filter_map(|n| stage(n)))
                .chain(
                    stages
                        .iter()
                        .filter(|(k, _)| !order.contains(&k.as_str()))
                        .map(|(k, v)| (k.clone(), *v)),
                )
                .chain(std::iter::once(("audio_ms".to_string(), *audio_ms)))
            {
                if entries
                    .push(Stat {
                        name: text(&name)?,
                        value,
                    })
                    .is_err()
                {
                    break;
                }
            }
            Some(Outgoing::Stats(Box::new(LinkStats {
                at_ms: at(*t_ms),
                entries,
            })))
        }
        Event::Face {
            t_ms,
            track,
            state,
            x,
            y,
            w,
            h,
            score,
            ..
        } => Some(Outgoing::Event(LinkEvent {
            at_ms: at(*t_ms),
            topic: text("face")?,
            label: text(match state {
                crate::events::FaceState::Started => "started",
                crate::events::FaceState::Lost => "lost",
            })?,
            values: heapless::Vec::from_slice(&[*track as f32, *x, *y, *w, *h, *score]).ok()?,
        })),
        // The label is the top expression; the values are the fer7 scores in fer7 order.
        Event::Expression {
            t_ms,
            label,
            scores,
            ..
        } => Some(Outgoing::Event(LinkEvent {
            at_ms: at(*t_ms),
            topic: text("expression")?,
            label: text(label)?,
            values: in_order(&sentio_models::FER7, scores).collect(),
        })),
        // The label is the top speech emotion; the values are the ser8 scores in ser8 order,
        // then the window's start and end (ms since the microphone started) and 1 for the
        // utterance's last window.
        Event::Speech {
            t_ms,
            label,
            scores,
            start_ms,
            end_ms,
            last,
            ..
        } => Some(Outgoing::Event(LinkEvent {
            at_ms: at(*t_ms),
            topic: text("speech")?,
            label: text(label)?,
            values: in_order(&sentio_models::SER8, scores)
                .chain([*start_ms as f32, *end_ms as f32, f32::from(u8::from(*last))])
                .collect(),
        })),
        // The label is the new mood; the values are the smoothed scores in mood order, then the
        // face's and the voice's share of the fusion.
        Event::Mood {
            t_ms,
            mood,
            smoothed,
            contributions,
            ..
        } => Some(Outgoing::Event(LinkEvent {
            at_ms: at(*t_ms),
            topic: text("mood")?,
            label: text(mood)?,
            values: in_order(&sentio_models::MOOD, smoothed)
                .chain(
                    ["face", "voice"]
                        .iter()
                        .map(|m| contributions.get(*m).map_or(0.0, |c| c.share)),
                )
                .collect(),
        })),
        // The label is the emoji read (or `no_card`, `two_cards`, `blank`); the value is its
        // score.
        Event::Emoji {
            t_ms,
            state,
            label,
            score,
            ..
        } => Some(Outgoing::Event(LinkEvent {
            at_ms: at(*t_ms),
            topic: text("emoji")?,
            label: text(label.as_deref().unwrap_or(state))?,
            values: score.iter().copied().collect(),
        })),
        // A caption is longer than a label: the link carries its forced pairs' first one as the
        // label and the count; the whole sentence is on stdout.
        Event::Caption {
            t_ms,
            forced,
            faces,
            ..
        } => Some(Outgoing::Event(LinkEvent {
            at_ms: at(*t_ms),
            topic: text("caption")?,
            label: text(forced.first().map_or("none", String::as_str))?,
            values: heapless::Vec::from_slice(&[forced.len() as f32, *faces as f32]).ok()?,
        })),
        Event::Track(track) => Some(Outgoing::Event(LinkEvent {
            at_ms: track.t_ms,
            topic: text("track")?,
            label: text(&track.action)?,
            values: heapless::Vec::new(),
        })),
        Event::ModelRefused { role, .. } => Some(Outgoing::Event(LinkEvent {
            at_ms: monotonic_ms(),
            topic: text("refused")?,
            label: text(role)?,
            values: heapless::Vec::new(),
        })),
        Event::ModelLoaded { name, .. } => Some(Outgoing::Event(LinkEvent {
            at_ms: monotonic_ms(),
            topic: text("model")?,
            label: text(name)?,
            values: heapless::Vec::new(),
        })),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::events::FaceState;

    fn link_event(event: &Event) -> LinkEvent {
        match to_link(event) {
            Some(Outgoing::Event(e)) => e,
            _ => panic!("{event:?} is not sent as a link event"),
        }
    }

    #[test]
    fn face_and_expression_events_reach_the_host() {
        let face = link_event(&Event::Face {
            frame: 3,
            t_ms: 200.0,
            track: 2,
            state: FaceState::Started,
            x: 10.0,
            y: 20.0,
            w: 30.0,
            h: 40.0,
            score: 0.9,
            detector: "haar".into(),
        });
        assert_eq!(
            (face.topic.as_str(), face.label.as_str()),
            ("face", "started")
        );
        assert_eq!(face.values.as_slice(), &[2.0, 10.0, 20.0, 30.0, 40.0, 0.9]);

        let scores: BTreeMap<String, f32> = sentio_models::FER7
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| ((*l).to_string(), i as f32 / 10.0))
            .collect();
        let expression = link_event(&Event::Expression {
            frame: 3,
            t_ms: 200.0,
            track: 2,
            model: "fer@1.0.0".into(),
            label: "neutral".into(),
            score: 0.6,
            scores,
        });
        assert_eq!(expression.topic.as_str(), "expression");
        assert_eq!(expression.label.as_str(), "neutral");
        // The scores in fer7 order, whatever order the map keeps them in.
        assert_eq!(
            expression.values.as_slice(),
            &[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
        );
    }

    #[test]
    fn speech_and_mood_events_reach_the_host() {
        let scores: BTreeMap<String, f32> = sentio_models::SER8
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| ((*l).to_string(), i as f32 / 10.0))
            .collect();
        let speech = link_event(&Event::Speech {
            frame: 40,
            t_ms: 2700.0,
            start_ms: 900,
            end_ms: 1890,
            last: true,
            model: "ser@1.0.0".into(),
            label: "surprised".into(),
            score: 0.7,
            scores,
        });
        assert_eq!(
            (speech.topic.as_str(), speech.label.as_str(), speech.at_ms),
            ("speech", "surprised", 2700)
        );
        assert_eq!(
            speech.values.as_slice(),
            &[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 900.0, 1890.0, 1.0]
        );

        let smoothed: BTreeMap<String, f32> = sentio_models::MOOD
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| ((*l).to_string(), i as f32))
            .collect();
        let share = |share| crate::events::Contribution {
            weight: 0.5,
            share,
            confidence: 0.9,
            freshness: 1.0,
            age_ms: Some(0),
            mood: Some("happy".into()),
        };
        let mood = link_event(&Event::Mood {
            frame: 21,
            t_ms: 1400.0,
            mood: "happy".into(),
            previous: Some("neutral".into()),
            score: 0.6,
            fused: BTreeMap::new(),
            smoothed,
            contributions: [
                ("face".to_string(), share(0.75)),
                ("voice".to_string(), share(0.25)),
            ]
            .into(),
        });
        assert_eq!(
            (mood.topic.as_str(), mood.label.as_str()),
            ("mood", "happy")
        );
        assert_eq!(
            mood.values.as_slice(),
            &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 0.75, 0.25]
        );
    }

    /// The names of the figures a stats event with these stages sends to the host.
    fn stat_names(stages: BTreeMap<String, f32>) -> Vec<String> {
        let Some(Outgoing::Stats(stats)) = to_link(&Event::Stats {
            frame: 1,
            t_ms: 1000.0,
            fps: 15.0,
            capture_ms: 1.0,
            audio_ms: 0.1,
            draw_ms: 0.2,
            flush_ms: 0.3,
            max_frame_ms: 4.0,
            stages,
        }) else {
            panic!("stats are sent as stats");
        };
        stats.entries.iter().map(|s| s.name.to_string()).collect()
    }

    #[test]
    fn pipeline_stages_follow_the_totals_in_stats() {
        let stages: BTreeMap<String, f32> =
            [("detect_ms".to_string(), 1.5), ("fer_ms".to_string(), 0.5)].into();
        let names = stat_names(stages);
        assert_eq!(
            names,
            [
                "fps",
                "capture_ms",
                "draw_ms",
                "flush_ms",
                "max_frame_ms",
                "detect_ms",
                "fer_ms",
                "audio_ms"
            ]
        );
        // The mood pipeline's 14 figures: the 12 that fit, the model stages kept.
        let stages: BTreeMap<String, f32> = [
            "detect_ms",
            "track_ms",
            "crop_ms",
            "fer_ms",
            "listen_ms",
            "features_ms",
            "ser_ms",
            "fuse_ms",
        ]
        .iter()
        .map(|n| (n.to_string(), 1.0))
        .collect();
        let names = stat_names(stages);
        assert_eq!(
            names,
            [
                "fps",
                "capture_ms",
                "draw_ms",
                "flush_ms",
                "max_frame_ms",
                "detect_ms",
                "fer_ms",
                "features_ms",
                "ser_ms",
                "fuse_ms",
                "crop_ms",
                "track_ms"
            ]
        );
    }
}
