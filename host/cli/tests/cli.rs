//! The `sentio` binary as a user runs it, against a real device link (the device's link server
//! over the real on-device store) on a real pseudo-terminal.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use sentio_server::{LinkServer, ServerConfig, serve};
use sentio_store::{DirFs, Store, StoreConfig};
use serde_json::Value;
use serialport::{SerialPort, TTYPort};

mod common;

use common::{assert_snapshot, fails, ok, s, sentio, sentio_in};

/// A device: the link server over a store in `dir`, served on a new pseudo-terminal.
struct Device {
    path: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    _slave: TTYPort,
}

impl Device {
    fn start(dir: &Path, public_key: Option<&Path>) -> Device {
        let mut config = StoreConfig::new(16 << 20);
        if let Some(key) = public_key {
            config = config.with_public_key(sentio_models::keys::load_public(key).unwrap());
        }
        let (store, _) = Store::open_dir(dir, config).unwrap();
        let (mut master, slave) = TTYPort::pair().unwrap();
        master.set_timeout(Duration::from_millis(10)).unwrap();
        let path = slave.name().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut server: LinkServer<Store<DirFs>> = LinkServer::new(
                    ServerConfig::new("sim", "test", "cli-test").for_line(921_600),
                    store,
                );
                while !stop.load(Ordering::SeqCst) {
                    let flag = Arc::clone(&stop);
                    serve(&mut server, &mut master, move |_| {
                        if flag.load(Ordering::SeqCst) {
                            ControlFlow::Break(())
                        } else {
                            ControlFlow::Continue(())
                        }
                    })
                    .unwrap();
                }
            })
        };
        Device {
            path,
            stop,
            thread: Some(thread),
            _slave: slave,
        }
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn write_model(dir: &Path, name: &str, version: &str, fill: u8, len: usize) -> (PathBuf, PathBuf) {
    let manifest = dir.join(format!("{name}-{version}.json"));
    std::fs::write(
        &manifest,
        format!(
            r#"{{"name":"{name}","version":"{version}","task":"fer",
               "labels":{{"set":"fer7","labels":["angry","disgust","fear","happy","sad","surprise","neutral"]}},
               "input":{{"shape":[1,1,48,48],"dtype":"f32","preprocessing":{{"kind":"gray48"}}}},
               "precision":"f32"}}"#
        ),
    )
    .unwrap();
    let model = dir.join(format!("{name}-{version}.onnx"));
    std::fs::write(&model, vec![fill; len]).unwrap();
    (manifest, model)
}

fn info_json(port: &str) -> Value {
    serde_json::from_str(&ok(sentio(&["info", "--port", port, "--json"]))).unwrap()
}

#[test]
fn keys_bundles_and_flashing_a_device_that_requires_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = d.join("team");
    ok(sentio(&["keys", "gen", "--out", s(&key)]));
    let err = fails(sentio(&["keys", "gen", "--out", s(&key)]));
    assert!(err.contains("exists") && err.contains("--force"), "{err}");
    ok(sentio(&["keys", "gen", "--out", s(&key), "--force"]));
    let (secret, public) = (d.join("team.secret"), d.join("team.pub"));

    let (manifest, model) = write_model(d, "fer", "1.0.0", 1, 120_000);
    let signed = d.join("fer-1.bundle");
    ok(sentio(&[
        "bundle",
        "pack",
        "--manifest",
        s(&manifest),
        "--model",
        s(&model),
        "--key",
        s(&secret),
        "--out",
        s(&signed),
    ]));
    let inspect: Value =
        serde_json::from_str(&ok(sentio(&["bundle", "inspect", s(&signed), "--json"]))).unwrap();
    assert_eq!(inspect["manifest"]["name"], "fer");
    assert!(inspect["signed_by"].is_string());
    let verified = ok(sentio(&[
        "bundle",
        "verify",
        s(&signed),
        "--pubkey",
        s(&public),
        "--require-signed",
    ]));
    assert!(verified.contains("signature OK"), "{verified}");

    // An altered copy fails verification and is never sent.
    let altered = d.join("altered.bundle");
    let mut bytes = std::fs::read(&signed).unwrap();
    let last = bytes.len() - 100;
    bytes[last] ^= 0x40;
    std::fs::write(&altered, &bytes).unwrap();
    assert!(
        fails(sentio(&[
            "bundle",
            "verify",
            s(&altered),
            "--pubkey",
            s(&public)
        ]))
        .contains("altered")
    );

    let device = Device::start(&d.join("store"), Some(&public));
    let port = device.path.as_str();
    let err = fails(sentio(&["flash", "--port", port, s(&altered)]));
    assert!(err.contains("not a valid bundle"), "{err}");

    // An unsigned bundle is refused by the device, with what to do.
    let unsigned = d.join("fer-unsigned.bundle");
    ok(sentio(&[
        "bundle",
        "pack",
        "--manifest",
        s(&manifest),
        "--model",
        s(&model),
        "--out",
        s(&unsigned),
    ]));
    let err = fails(sentio(&["flash", "--port", port, s(&unsigned)]));
    assert!(err.contains("help:") && err.contains("--key"), "{err}");

    let out = ok(sentio(&["flash", "--port", port, s(&signed)]));
    assert!(out.contains("verified") && out.contains("active"), "{out}");
    let info = info_json(port);
    assert_eq!(info["models"][0]["name"], "fer");
    assert_eq!(info["models"][0]["slot"], "active");
    assert!(
        info["capabilities"]
            .as_array()
            .unwrap()
            .contains(&Value::from("signatures"))
    );
    assert!(ok(sentio(&["flash", "--port", port, s(&signed)])).contains("unchanged"));

    // Version 2, then roll back to 1, then delete.
    let (manifest2, model2) = write_model(d, "fer", "2.0.0", 2, 90_000);
    let signed2 = d.join("fer-2.bundle");
    ok(sentio(&[
        "bundle",
        "pack",
        "--manifest",
        s(&manifest2),
        "--model",
        s(&model2),
        "--key",
        s(&secret),
        "--out",
        s(&signed2),
    ]));
    ok(sentio(&["flash", "--port", port, s(&signed2)]));
    let active = |info: &Value| {
        info["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["slot"] == "active")
            .map(|m| m["version"].clone())
    };
    assert_eq!(active(&info_json(port)), Some(Value::from("2.0.0")));
    assert!(ok(sentio(&["rollback", "--port", port, "fer"])).contains("1.0.0"));
    assert_eq!(active(&info_json(port)), Some(Value::from("1.0.0")));
    ok(sentio(&["delete", "--port", port, "fer"]));
    assert_eq!(info_json(port)["models"].as_array().unwrap().len(), 0);
}

#[test]
fn flashes_several_devices_in_parallel_and_reports_each() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (manifest, model) = write_model(d, "ser", "0.3.1", 5, 64_000);
    let bundle = d.join("ser.bundle");
    ok(sentio(&[
        "bundle",
        "pack",
        "--manifest",
        s(&manifest),
        "--model",
        s(&model),
        "--out",
        s(&bundle),
    ]));
    let a = Device::start(&d.join("a"), None);
    let b = Device::start(&d.join("b"), None);
    let out = ok(sentio(&[
        "flash",
        "--port",
        &a.path,
        "--port",
        &b.path,
        s(&bundle),
    ]));
    for port in [&a.path, &b.path] {
        assert!(out.contains(&format!("{port}: ser: ")), "{out}");
        assert_eq!(info_json(port)["models"][0]["version"], "0.3.1");
    }
    // SENTIO_PORT works like --port.
    let out = Command::new(env!("CARGO_BIN_EXE_sentio"))
        .args(["info"])
        .env("SENTIO_PORT", &a.path)
        .output()
        .unwrap();
    assert!(ok(out).contains("ser"));
    // --json: a line per report and per failed device, the failure with its code and help.
    let missing = "/dev/ttyDOES-NOT-EXIST";
    let out = sentio(&[
        "flash",
        "--json",
        "--port",
        &a.path,
        "--port",
        missing,
        s(&bundle),
    ]);
    assert_eq!(out.status.code(), Some(3));
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let failed: Vec<&Value> = lines.iter().filter(|l| l["port"] == missing).collect();
    assert_eq!(failed.len(), 1, "{lines:?}");
    let failed = failed[0];
    assert!(
        failed["error"].as_str().unwrap().contains("not found"),
        "{failed}"
    );
    assert_eq!(failed["code"], "device::flash::port_not_found", "{failed}");
    assert!(failed["help"].is_string(), "{failed}");
    assert!(
        lines.iter().any(|l| l["port"] == a.path.as_str()),
        "{lines:?}"
    );
}

#[test]
fn no_device_and_missing_port_errors_say_what_to_do() {
    let err = fails(sentio(&["info", "--port", "/dev/ttyDOES-NOT-EXIST"]));
    assert!(err.contains("not found") && err.contains("help:"), "{err}");
    // A pseudo-terminal with nobody serving it: no answer, with the help line.
    let (_master, slave) = TTYPort::pair().unwrap();
    let path = slave.name().unwrap();
    let err = fails(sentio(&["info", "--port", &path]));
    assert!(err.contains("help:"), "{err}");
}

/// A handful of errors as a person sees them (plain, as piped), each with its exit code: the
/// code's kind picks it (2 usage, 3 device, 4 data).
#[test]
fn rendered_errors_match_their_snapshots_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("keep.txt"), "not empty").unwrap();
    std::fs::write(dir.path().join("junk.onnx"), b"this is not a model").unwrap();
    let cases: [(&str, &[&str], i32); 8] = [
        (
            "port_not_found",
            &["info", "--port", "/dev/ttyDOES-NOT-EXIST"],
            3,
        ),
        ("sketch_nothing_to_read", &["sketch"], 2),
        (
            "synth_output_exists",
            &[
                "data",
                "synth",
                "emoji",
                "--out",
                "full",
                "--per-class",
                "1",
            ],
            4,
        ),
        (
            "bundle_missing",
            &["bundle", "inspect", "missing.bundle"],
            4,
        ),
        (
            "run_not_onnx",
            &["run", "junk.onnx", "--input", "in.npy"],
            4,
        ),
        (
            "flash_without_bundles",
            &["flash", "--port", "/dev/null"],
            2,
        ),
        // The tool's own checks of an argument are usage errors too, with a help line.
        (
            "features_repeat_zero",
            &["features", "--repeat", "0", "voice.wav"],
            2,
        ),
        ("run_input_kind", &["run", "junk.onnx", "notes.abc"], 2),
    ];
    for (name, args, code) in cases {
        let out = sentio_in(dir.path(), args);
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(code), "{name}: {stderr}");
        assert_snapshot(name, &stderr);
    }
}
