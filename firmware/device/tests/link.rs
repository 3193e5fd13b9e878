//! The device binary serving the host link over a real pseudo-terminal, driven by the real
//! host library: flash, pick-up without restart, events, persistence across a restart.

use std::io::{BufRead, BufReader, Lines};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use sentio_flash::serial::open_port;
use sentio_flash::{ConnectOptions, Connection, FlashOptions, FlashOutcome, Push};
use sentio_link::Slot;
use sentio_models::{
    Bundle, DType, InputSpec, LabelSpec, Manifest, Precision, Preprocessing, Task,
};
use serde_json::Value;

struct Device {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    seen: Vec<Value>,
}

impl Device {
    fn start(store: &Path, out: &Path) -> Device {
        Self::start_with(store, out, &[])
    }

    /// A device whose own camera and microphone see nothing (a test pattern and silence),
    /// running; with its link's path.
    fn start_blind(dir: &Path) -> (Device, String) {
        let mut device = Self::start_with(
            &dir.join("store"),
            dir,
            &["--camera", "pattern", "--mic", "silence", "--no-music"],
        );
        let path = device.wait_for(is("link"))["path"]
            .as_str()
            .unwrap()
            .to_string();
        device.wait_for(is("level"));
        (device, path)
    }

    fn start_with(store: &Path, out: &Path, args: &[&str]) -> Device {
        Self::spawn(Self::command(store, out, args).stderr(Stdio::inherit()))
    }

    fn command(store: &Path, out: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sentiod"));
        command
            .args([
                "--board",
                "sim",
                "--forever",
                "--no-beep",
                "--serial",
                "pty",
            ])
            .args(args)
            .arg("--store")
            .arg(store)
            .arg("--display-out")
            .arg(out.join("display"))
            .arg("--speaker-out")
            .arg(out.join("speaker.wav"))
            .stdout(Stdio::piped());
        command
    }

    fn spawn(command: &mut Command) -> Device {
        let mut child = command.spawn().unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Device {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads events until one matches; panics if the device ends first.
    fn wait_for(&mut self, what: impl Fn(&Value) -> bool) -> Value {
        for line in self.lines.by_ref() {
            let event: Value = serde_json::from_str(&line.unwrap()).unwrap();
            self.seen.push(event.clone());
            if what(&event) {
                return event;
            }
        }
        panic!(
            "the device stopped before the expected event; saw {:?}",
            self.seen
        );
    }

    fn stop(mut self) -> Vec<Value> {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        for line in self.lines.by_ref() {
            self.seen
                .push(serde_json::from_str(&line.unwrap()).unwrap());
        }
        assert!(self.child.wait().unwrap().success());
        self.seen
    }
}

#[test]
fn with_rust_log_debug_link_and_pipeline_logs_go_to_stderr_and_stdout_stays_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Device::command(
        &dir.path().join("store"),
        dir.path(),
        &["--camera", "pattern", "--mic", "silence", "--no-music"],
    );
    command
        .env("RUST_LOG", "debug")
        .env_remove("JOURNAL_STREAM");
    let mut device = Device::spawn(command.stderr(Stdio::piped()));
    let mut stderr = device.child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut text).unwrap();
        text
    });
    let path = device.wait_for(is("link"))["path"]
        .as_str()
        .unwrap()
        .to_string();
    let mut conn = connect(&path);
    let outcome = conn
        .flash(
            "fer",
            zoo_fer_bundle("9.0.0", |_| {}).as_slice(),
            &FlashOptions::default(),
            (),
        )
        .unwrap();
    assert_eq!(outcome.outcome, FlashOutcome::Flashed);
    device.wait_for(|e| e["event"] == "model_loaded" && e["version"] == "9.0.0");
    drop(conn);
    // `stop` parses every stdout line as JSON: a log line there would fail it.
    let events = device.stop();
    assert!(events.iter().all(|e| e["event"].is_string()), "{events:?}");
    let logs = stderr.join().unwrap();
    for wanted in [
        "link: the host started a session",
        "link: the host activated a model",
        "link: model loaded from the store",
        "pipeline: started",
        "pipeline: stopped",
    ] {
        assert!(logs.contains(wanted), "{wanted:?} not logged:\n{logs}");
    }
    assert!(logs.lines().any(|l| l.contains("DEBUG")), "{logs}");
    assert!(
        logs.lines().all(|l| !l.trim_start().starts_with('{')),
        "a JSON event went to stderr:\n{logs}"
    );
}

fn is(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |e| e["event"] == kind
}

fn fer_bundle(model: &[u8], version: &str) -> Vec<u8> {
    let manifest = Manifest::new(
        "fer",
        version,
        Task::Fer,
        LabelSpec::new(
            "fer7",
            &[
                "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral",
            ],
        ),
        InputSpec {
            shape: vec![1, 1, 48, 48],
            dtype: DType::F32,
            preprocessing: Preprocessing::gray48(),
            extra: Default::default(),
        },
        Precision::F32,
    );
    Bundle::pack(&manifest, model, None).unwrap()
}

fn connect(path: &str) -> Connection<sentio_flash::serial::SerialTransport> {
    Connection::open(
        open_port(path, 921_600).unwrap(),
        ConnectOptions::new(path, 921_600),
    )
    .unwrap()
}

#[test]
fn host_flashes_a_running_device_which_loads_the_model_without_restarting() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let mut device = Device::start(&store, dir.path());
    let link = device.wait_for(is("link"));
    let path = link["path"].as_str().unwrap().to_string();
    device.wait_for(is("level")); // the app runs

    // Real models: the device's self-check loads and runs each one it activates.
    let v1 = zoo_fer_bundle("1.0.0", |_| {});
    let v2 = zoo_fer_bundle("2.0.0", |_| {});
    let mut conn = connect(&path);
    assert_eq!(conn.device_info().board.as_str(), "sim");
    let report = conn
        .flash("fer", v1.as_slice(), &FlashOptions::default(), ())
        .unwrap();
    assert_eq!(report.outcome, FlashOutcome::Flashed);
    assert!(report.verified && report.activated);

    // Picked up by the running process.
    let loaded = device.wait_for(is("model_loaded"));
    assert_eq!(
        (loaded["name"].as_str(), loaded["version"].as_str()),
        (Some("fer"), Some("1.0.0"))
    );
    assert_eq!(loaded["bytes"].as_u64(), Some(v1.len() as u64));

    // A second version, then a rollback: each reloads the model in the running device.
    conn.flash("fer", v2.as_slice(), &FlashOptions::default(), ())
        .unwrap();
    assert_eq!(device.wait_for(is("model_loaded"))["version"], "2.0.0");
    conn.rollback("fer").unwrap();
    assert_eq!(device.wait_for(is("model_loaded"))["version"], "1.0.0");

    // The app's events reach a subscribed host.
    conn.subscribe(true, true).unwrap();
    let mut got_level = false;
    for _ in 0..100 {
        if let Some(Push::Event(e)) = conn.next_event(Duration::from_millis(100)).unwrap()
            && e.topic.as_str() == "level"
        {
            got_level = true;
            break;
        }
    }
    assert!(got_level, "a level event over the link");
    drop(conn);
    let events = device.stop();
    assert_eq!(events.last().unwrap()["event"], "stop");

    // A restart loads the active model from the store, and the same bundle is skipped.
    let mut device = Device::start(&store, dir.path());
    let loaded = device.wait_for(is("model_loaded"));
    assert_eq!(loaded["version"], "1.0.0");
    let path = device.wait_for(is("link"))["path"]
        .as_str()
        .unwrap()
        .to_string();
    let mut conn = connect(&path);
    let again = conn
        .flash("fer", v1.as_slice(), &FlashOptions::default(), ())
        .unwrap();
    assert_eq!(again.outcome, FlashOutcome::Skipped);
    let active = conn.inspect("fer", Slot::Active).unwrap();
    assert_eq!(active.size, v1.len() as u64);
    drop(conn);
    device.stop();
}

/// The zoo FER model as a bundle whose manifest says `version` (and `edit` applied to it).
fn zoo_fer_bundle(version: &str, edit: impl Fn(&mut Manifest)) -> Vec<u8> {
    zoo_bundle("fer", version, edit)
}

/// The zoo model `name` as a bundle whose manifest says `version` (and `edit` applied to it).
fn zoo_bundle(name: &str, version: &str, edit: impl Fn(&mut Manifest)) -> Vec<u8> {
    let zoo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../models/zoo")
        .join(name);
    let mut manifest =
        Manifest::from_slice(&std::fs::read(zoo.join("manifest.json")).unwrap()).unwrap();
    manifest.version = version.to_string();
    edit(&mut manifest);
    Bundle::pack(
        &manifest,
        &std::fs::read(zoo.join("model.onnx")).unwrap(),
        None,
    )
    .unwrap()
}

#[test]
fn a_model_flashed_during_a_run_changes_the_expression_model_the_events_report() {
    let cascade = Path::new("/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml");
    if !cascade.is_file() {
        assert!(
            std::env::var_os("CI").is_none(),
            "apt-get install opencv-data"
        );
        eprintln!(
            "skipped: {} is missing (apt-get install opencv-data)",
            cascade.display()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut device = Device::start(&dir.path().join("store"), dir.path());
    let path = device.wait_for(is("link"))["path"]
        .as_str()
        .unwrap()
        .to_string();
    // The shipped model reads the face first.
    let first = device.wait_for(is("expression"));
    assert_eq!(first["model"], "fer@1.0.0");

    let mut conn = connect(&path);
    conn.flash(
        "fer",
        zoo_fer_bundle("9.0.0", |_| {}).as_slice(),
        &FlashOptions::default(),
        (),
    )
    .unwrap();
    let active = device.wait_for(|e| e["event"] == "model_active" && e["role"] == "expression");
    assert_eq!(active["model"], "fer@9.0.0");
    assert_eq!(active["origin"], "store:fer@9.0.0");
    let next = device.wait_for(is("expression"));
    assert_eq!(
        next["model"], "fer@9.0.0",
        "the new model reads the face from the next frame"
    );

    // A bundle whose labels are not fer7 fails the device's self-check: rolled back, the host
    // told so, the running model stays.
    let bad = zoo_fer_bundle("9.1.0", |m| m.labels.labels[0] = "Anger".into());
    let err = conn
        .flash("fer", bad.as_slice(), &FlashOptions::default(), ())
        .unwrap_err();
    assert_eq!(err.kind(), sentio_flash::ErrorKind::RolledBack, "{err}");
    let check = device.wait_for(is("model_self_check"));
    assert_eq!(check["outcome"], "rolled_back", "{check}");
    assert_eq!(
        (check["version"].as_str(), check["restored"].as_str()),
        (Some("9.1.0"), Some("9.0.0"))
    );
    assert!(
        check["reason"].as_str().unwrap().contains("Anger"),
        "{check}"
    );
    drop(conn);
    let events = device.stop();
    let last_expression = events
        .iter()
        .rev()
        .find(|e| e["event"] == "expression")
        .unwrap();
    assert_eq!(last_expression["model"], "fer@9.0.0");
}

#[test]
fn a_speech_model_flashed_during_a_run_is_heard_from_the_next_window_and_a_bad_one_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut device = Device::start(&dir.path().join("store"), dir.path());
    let path = device.wait_for(is("link"))["path"]
        .as_str()
        .unwrap()
        .to_string();
    let shipped = device.wait_for(|e| e["event"] == "model_active" && e["role"] == "speech");
    assert_eq!(shipped["model"], "ser@1.1.0");

    let mut conn = connect(&path);
    conn.flash(
        "ser",
        zoo_bundle("ser", "9.0.0", |_| {}).as_slice(),
        &FlashOptions::default(),
        (),
    )
    .unwrap();
    let active = device.wait_for(|e| e["event"] == "model_active" && e["role"] == "speech");
    assert_eq!(active["model"], "ser@9.0.0");
    assert_eq!(active["origin"], "store:ser@9.0.0");
    // The sim clip loops every 5.24 s: the next window the device hears is the new model's.
    let next = device.wait_for(is("speech"));
    assert_eq!(next["model"], "ser@9.0.0");

    // A bundle whose manifest's features do not make the model's input is refused; the running
    // model stays.
    let bad = zoo_bundle("ser", "9.1.0", |m| {
        m.input.preprocessing.extra.insert(
            "features".into(),
            serde_json::json!({"sample_rate": 16000, "n_fft": 512, "win_length": 400,
                "hop_length": 160, "n_mels": 64, "n_mfcc": 20, "fmin": 0.0, "fmax": null,
                "top_db": 80.0}),
        );
    });
    let err = conn
        .flash("ser", bad.as_slice(), &FlashOptions::default(), ())
        .unwrap_err();
    assert_eq!(err.kind(), sentio_flash::ErrorKind::RolledBack, "{err}");
    let check = device.wait_for(|e| {
        e["event"] == "model_self_check" && e["name"] == "ser" && e["outcome"] != "passed"
    });
    assert_eq!(check["outcome"], "rolled_back", "{check}");
    assert_eq!(check["restored"], "9.0.0");
    let reason = check["reason"].as_str().unwrap();
    assert!(reason.contains("117") && reason.contains("97"), "{reason}");
    let after = device.wait_for(is("speech"));
    assert_eq!(after["model"], "ser@9.0.0");
    drop(conn);
    device.stop();
}

/// Streams `bytes` into the device as `stream`: the HIL runner's own function.
fn inject(
    conn: &mut Connection<sentio_flash::serial::SerialTransport>,
    stream: sentio_link::InputStream,
    bytes: &[u8],
) {
    sentio_hil::inject(conn, stream, bytes).unwrap();
}

#[test]
fn a_host_streams_a_face_and_a_voice_in_place_of_the_camera_and_microphone_until_its_session_ends()
{
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (mut device, path) = Device::start_blind(dir.path());
    let mut conn = connect(&path);

    // The sim board's face photo as a JPEG, and its voice clip as 16 kHz PCM.
    let photo = std::fs::read(root.join("boards/sim/camera/frame_00.jpg")).unwrap();
    inject(&mut conn, sentio_link::InputStream::Camera, &photo);
    let pcm = sentio_hil::audio_pcm(&root.join("boards/sim/voice.wav")).unwrap();
    inject(&mut conn, sentio_link::InputStream::Audio, &pcm);

    let started = device.wait_for(is("injection"));
    assert_eq!(started["active"], true);
    let image = device.wait_for(|e| e["event"] == "injected" && e["stream"] == "camera");
    assert!(
        image["detail"].as_str().unwrap().contains("640x480"),
        "{image}"
    );
    // The pipeline sees the face and hears the voice.
    let expression = device.wait_for(is("expression"));
    assert_eq!(expression["label"], "happy", "{expression}");
    let speech = device.wait_for(|e| e["event"] == "speech" && e["last"] == true);
    assert_eq!(speech["label"], "happy", "{speech}");

    // A new session (the next test, say) ends this one's injection: the pattern is back, the
    // face is lost.
    drop(conn);
    let conn = connect(&path);
    let released = device.wait_for(is("injection"));
    assert_eq!(released["active"], false, "{released}");
    let lost = device.wait_for(|e| e["event"] == "face" && e["state"] == "lost");
    assert!(lost["frame"].as_u64().is_some());
    drop(conn);
    let events = device.stop();
    assert!(
        !events.iter().any(|e| e["event"] == "model_refused"
            && e["role"]
                .as_str()
                .is_some_and(|r| r.starts_with("injected"))),
        "no injected piece refused"
    );
}

#[test]
fn an_injected_image_that_is_not_one_is_refused_and_the_device_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (mut device, path) = Device::start_blind(dir.path());
    let mut conn = connect(&path);
    inject(
        &mut conn,
        sentio_link::InputStream::Camera,
        b"these bytes are no image at all",
    );
    let refused = device.wait_for(is("model_refused"));
    assert_eq!(refused["role"], "injected camera");
    assert!(
        refused["reason"]
            .as_str()
            .unwrap()
            .contains("not a PNG or JPEG"),
        "{refused}"
    );
    // Out of order: piece 1 first.
    conn.inject_input(sentio_link::InjectInput {
        stream: sentio_link::InputStream::Camera,
        seq: 1,
        last: true,
        data: heapless::Vec::from_slice(b"x").unwrap(),
    })
    .unwrap();
    let refused = device.wait_for(is("model_refused"));
    assert!(
        refused["reason"]
            .as_str()
            .unwrap()
            .contains("send it again from piece 0"),
        "{refused}"
    );
    // The loop goes on (stats come once a second).
    device.wait_for(is("stats"));
    drop(conn);
    device.stop();
}

#[test]
fn a_flashed_model_that_fails_its_self_check_is_rolled_back_and_the_device_keeps_the_good_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let mut device = Device::start(&store, dir.path());
    let path = device.wait_for(is("link"))["path"]
        .as_str()
        .unwrap()
        .to_string();
    device.wait_for(is("level"));
    let mut conn = connect(&path);
    let good = zoo_fer_bundle("1.0.0", |_| {});
    conn.flash("fer", good.as_slice(), &FlashOptions::default(), ())
        .unwrap();
    let check = device.wait_for(is("model_self_check"));
    assert_eq!(
        (check["version"].as_str(), check["outcome"].as_str()),
        (Some("1.0.0"), Some("passed"))
    );
    // A bundle that verifies (hashes match) but whose model is not an ONNX graph: the store
    // takes and activates it, the self-check fails, the device rolls back and the host hears.
    let broken = fer_bundle(&vec![7u8; 50_000], "2.0.0");
    let err = conn
        .flash("fer", broken.as_slice(), &FlashOptions::default(), ())
        .unwrap_err();
    assert_eq!(err.kind(), sentio_flash::ErrorKind::RolledBack, "{err}");
    assert!(err.help().contains("model_self_check"), "{}", err.help());
    let check = device.wait_for(is("model_self_check"));
    assert_eq!(check["outcome"], "rolled_back", "{check}");
    assert_eq!(check["version"], "2.0.0");
    assert_eq!(check["restored"], "1.0.0");
    assert!(
        check["reason"].as_str().unwrap().contains("store:fer"),
        "{check}"
    );
    // With the error's code and what to do about it.
    assert!(
        check["code"].as_str().unwrap().starts_with("data::"),
        "{check}"
    );
    assert!(check["help"].is_string(), "{check}");
    let loaded = device.wait_for(is("model_loaded"));
    assert_eq!(loaded["version"], "1.0.0", "the good model is what runs");
    let active = conn.inspect("fer", Slot::Active).unwrap();
    assert_eq!(active.size, good.len() as u64);
    drop(conn);
    device.stop();

    // A restart checks the active model again.
    let mut device = Device::start(&store, dir.path());
    let check = device.wait_for(is("model_self_check"));
    assert_eq!(
        (check["version"].as_str(), check["outcome"].as_str()),
        (Some("1.0.0"), Some("passed"))
    );
    device.stop();
}
