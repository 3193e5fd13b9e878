//! The whole path in one test, with the real binaries: generate a small face dataset, train a
//! small FER model, quantize it to int8, pack and sign a bundle, flash it into a running
//! `sentiod --board sim` over a pseudo-terminal, stream a face into its camera, and check that
//! the device reads it with the flashed model and shows it on its display.
//!
//! The device binary is the one `cargo test --workspace` builds beside `sentio`
//! (target/<profile>/sentiod). With `SENTIO_HIL_PORT` set, the bundle is flashed and the face
//! streamed to that board instead of a local sentiod (its expression events are then checked
//! through the link).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use sentio_flash::serial::open_port;
use sentio_flash::{ConnectOptions, Connection, Push};
use sentio_hil::{InputStream, inject};
use serde_json::Value;

fn sentio(args: &[&str], dir: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sentio"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "sentio {args:?} failed:\n{text}");
    text
}

fn sentiod_binary() -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_sentio")).with_file_name("sentiod");
    assert!(
        path.exists(),
        "{} is missing: `cargo test --workspace` builds it (or `cargo build --bin sentiod`)",
        path.display()
    );
    path
}

/// The device's events, as they come.
struct Device {
    child: Child,
    events: Receiver<Value>,
    seen: Vec<Value>,
}

impl Device {
    fn wait_for(&mut self, what: impl Fn(&Value) -> bool, within: Duration) -> Value {
        let deadline = std::time::Instant::now() + within;
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match self.events.recv_timeout(left) {
                Ok(event) => {
                    self.seen.push(event.clone());
                    if what(&event) {
                        return event;
                    }
                }
                Err(_) => break,
            }
        }
        let kinds: Vec<&Value> = self.seen.iter().map(|e| &e["event"]).collect();
        panic!("the expected event did not come within {within:?}; saw {kinds:?}");
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_model_trained_here_is_flashed_into_a_running_device_and_reads_the_streamed_face() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");

    // Data, training, quantization, a signed bundle.
    sentio(
        &[
            "data",
            "synth",
            "faces",
            "--out",
            "data",
            "--per-class",
            "10",
            "--seed",
            "3",
        ],
        work,
    );
    sentio(
        &[
            "train", "fer", "--data", "data", "--out", "model", "--epochs", "3", "--seed", "3",
        ],
        work,
    );
    std::fs::create_dir_all(work.join("int8")).unwrap();
    let quantized = sentio(
        &[
            "quantize",
            "model/model.onnx",
            "--calib",
            "data",
            "--out",
            "int8/fer.onnx",
        ],
        work,
    );
    assert!(quantized.contains("precision int8"), "{quantized}");
    sentio(&["keys", "gen", "--out", "key"], work);
    let packed = sentio(
        &[
            "bundle",
            "pack",
            "--manifest",
            "int8/fer.manifest.json",
            "--model",
            "int8/fer.onnx",
            "--key",
            "key.secret",
            "--out",
            "fer.bundle",
        ],
        work,
    );
    assert!(packed.contains("signed by key"), "{packed}");

    // A device that only takes bundles signed by that key, with nothing in front of its camera.
    let hil_port = std::env::var("SENTIO_HIL_PORT").ok();
    let mut device = match &hil_port {
        Some(_) => None,
        None => {
            let mut child = Command::new(sentiod_binary())
                .args(["--board", "sim", "--forever", "--no-beep", "--no-music"])
                .args(["--camera", "pattern", "--mic", "silence", "--serial", "pty"])
                .args(["--save-every", "15"])
                .arg("--pubkey")
                .arg(work.join("key.pub"))
                .arg("--store")
                .arg(work.join("store"))
                .arg("--display-out")
                .arg(work.join("display"))
                .arg("--speaker-out")
                .arg(work.join("speaker.wav"))
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap();
            let (send, events) = channel();
            let stdout = BufReader::new(child.stdout.take().unwrap());
            std::thread::spawn(move || {
                for line in stdout.lines().map_while(Result::ok) {
                    if let Ok(event) = serde_json::from_str(&line) {
                        let _ = send.send(event);
                    }
                }
            });
            Some(Device {
                child,
                events,
                seen: Vec::new(),
            })
        }
    };
    let port = match (&hil_port, device.as_mut()) {
        (Some(port), _) => port.clone(),
        (None, Some(d)) => d.wait_for(|e| e["event"] == "link", Duration::from_secs(30))["path"]
            .as_str()
            .unwrap()
            .to_string(),
        (None, None) => unreachable!("a local device is started when no port is given"),
    };

    // Flash with the CLI, as a user would.
    let flashed = sentio(&["flash", "--port", &port, "fer.bundle"], work);
    assert!(flashed.contains("fer"), "{flashed}");
    if let Some(d) = device.as_mut() {
        let loaded = d.wait_for(|e| e["event"] == "model_loaded", Duration::from_secs(30));
        assert_eq!(loaded["name"], "fer");
        let bundle_len = std::fs::metadata(work.join("fer.bundle")).unwrap().len();
        assert_eq!(loaded["bytes"].as_u64(), Some(bundle_len));
        // (the shipped model's `model_active` may come after the link's event, as the models
        // load and time their plans: the flashed one is the one from the store)
        let active = d.wait_for(
            |e| {
                e["event"] == "model_active"
                    && e["role"] == "expression"
                    && e["origin"]
                        .as_str()
                        .is_some_and(|o| o.starts_with("store:"))
            },
            Duration::from_secs(30),
        );
        assert!(
            active["origin"].as_str().unwrap().starts_with("store:fer@"),
            "the flashed model runs: {active}"
        );
    }

    // Stream the sim board's face photo into the camera.
    let photo = std::fs::read(root.join("boards/sim/camera/frame_00.jpg")).unwrap();
    let mut connection = Connection::open(
        open_port(&port, 921_600).unwrap(),
        ConnectOptions::new(&port, 921_600),
    )
    .unwrap();
    connection.subscribe(true, false).unwrap();
    inject(&mut connection, InputStream::Camera, &photo).unwrap();

    match device.as_mut() {
        Some(d) => {
            d.wait_for(
                |e| e["event"] == "injected" && e["stream"] == "camera",
                Duration::from_secs(30),
            );
            let face = d.wait_for(
                |e| e["event"] == "face" && e["state"] == "started",
                Duration::from_secs(30),
            );
            let expression = d.wait_for(|e| e["event"] == "expression", Duration::from_secs(30));
            assert!(
                expression["frame"].as_u64() >= face["frame"].as_u64(),
                "{expression}"
            );
            let scores = expression["scores"].as_object().unwrap();
            assert_eq!(
                scores.len(),
                7,
                "fer7 scores from the flashed model: {expression}"
            );
            // The display shows the mood screen with the face read: frames keep coming.
            let latest = work.join("display/latest.png");
            d.wait_for(|e| e["event"] == "stats", Duration::from_secs(30));
            let frame = image::open(&latest).unwrap();
            assert_eq!((frame.width(), frame.height()), (240, 240));
        }
        None => {
            // A real board: its expression events come over the link.
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            let mut got = false;
            while std::time::Instant::now() < deadline && !got {
                if let Some(Push::Event(e)) =
                    connection.next_event(Duration::from_millis(200)).unwrap()
                {
                    got = e.topic.as_str() == "expression";
                }
            }
            assert!(got, "an expression event from the board over the link");
        }
    }
    drop(connection);
}
