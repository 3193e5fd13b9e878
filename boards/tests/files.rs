//! Profiles loaded from files: relative media paths resolve against the file's folder, and
//! errors name the file.

mod common;
use common::shown;

use std::fs;

use sentio_boards::*;

const SIM_IN_A_FOLDER: &str = r#"
[board]
name = "desk"
description = "my desk setup"

[cpu]
arch = "x86_64"
cores = 8
features = ["avx2", "fma"]

[camera]
driver = "sim"
device = "frames"
width = 320
height = 240
fps = 10
pixel_format = "gray8"

[audio]
driver = "sim"
capture = "media/voice.wav"
playback = "/tmp/sentio-speaker.wav"
rate = 48000

[display]
driver = "none"

[serial]
device = "pty"
baud = 115200

[runtime]
threads = 8
precision = "int8"

[models]
load = []
"#;

#[test]
fn relative_paths_resolve_against_the_files_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sub = dir.path().join("profiles");
    fs::create_dir(&sub).expect("mkdir");
    let path = sub.join("desk.toml");
    fs::write(&path, SIM_IN_A_FOLDER).expect("write");

    let p = BoardProfile::load(path.to_str().expect("utf-8")).expect("valid profile");
    assert_eq!(p.origin, ProfileOrigin::File(path.clone()));
    assert_eq!(p.base_dir, sub);
    assert_eq!(p.resolve(&p.camera.device), sub.join("frames"));
    assert_eq!(p.resolve(&p.audio.capture), sub.join("media/voice.wav"));
    assert_eq!(
        p.resolve(&p.audio.playback),
        std::path::PathBuf::from("/tmp/sentio-speaker.wav")
    );

    // The rest of the profile came through as written.
    assert_eq!(p.cpu.features, [CpuFeature::Avx2, CpuFeature::Fma]);
    assert_eq!(p.camera.pixel_format, CameraPixelFormat::Gray8);
    assert_eq!(p.display.driver, DisplayDriver::None);
    assert_eq!((p.display.width, p.display.height), (0, 0));
    assert_eq!(p.display.spi, None);
    assert_eq!(p.runtime.precision, Precision::Int8);
    assert!(p.models.load.is_empty());
}

#[test]
fn a_relative_file_path_gets_an_absolute_base_dir() {
    // cargo runs integration tests in the crate folder (boards/).
    let p = BoardProfile::load("profiles/sim.toml").expect("loads");
    assert!(p.base_dir.is_absolute());
    assert_eq!(
        p.base_dir,
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles")
    );
    assert_eq!(p.origin, ProfileOrigin::File("profiles/sim.toml".into()));
}

#[test]
fn errors_in_a_file_name_the_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.toml");
    fs::write(&path, SIM_IN_A_FOLDER.replace("fps = 10", "fps = 300")).expect("write");
    let path = path.to_str().expect("utf-8");

    let e = BoardProfile::load(path).expect_err("fps 300");
    assert_eq!(e.file(), Some(path));
    assert_eq!(e.line(), Some(16));
    assert_eq!(
        shown(&e),
        format!(
            "{path}:16:7: camera.fps: 300 is out of range\n  allowed: 1 to 240\n  help: frames per second asked of the camera; 15 or 30 are typical"
        )
    );
}
