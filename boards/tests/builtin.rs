//! Every built-in profile loads and says what its board has.

use std::path::Path;

use sentio_boards::*;

fn load(name: &str) -> BoardProfile {
    match BoardProfile::load(name) {
        Ok(p) => p,
        Err(e) => panic!("built-in profile {name} does not load:\n{e}"),
    }
}

#[test]
fn builtin_names_are_the_shipped_profiles() {
    assert_eq!(
        builtin_names(),
        [
            "sim",
            "sim-mono",
            "rpi4",
            "rpi5",
            "rpi-zero2w",
            "jetson-nano",
            "jetson-orin-nano"
        ]
    );
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
    for name in builtin_names() {
        assert!(
            dir.join(format!("{name}.toml")).is_file(),
            "{name}.toml is missing"
        );
    }
}

#[test]
fn every_builtin_loads_with_consistent_basics() {
    for name in builtin_names() {
        let p = load(name);
        assert_eq!(p.board.name, *name);
        assert!(!p.board.description.is_empty(), "{name}: no description");
        assert_eq!(p.origin, ProfileOrigin::BuiltIn((*name).to_owned()));
        assert_eq!(p.base_dir, Path::new(env!("CARGO_MANIFEST_DIR")));
        assert!(p.runtime.threads >= 1 && p.runtime.threads <= p.cpu.cores);
        assert_eq!(p.audio.rate, 16000, "{name}: speech models expect 16 kHz");
        assert_eq!(p.models.load, ["fer", "ser"], "{name}");
        assert_eq!(
            p.display.spi.is_some(),
            p.display.driver.needs_spi(),
            "{name}"
        );
        assert_eq!(
            p.display.i2c.is_some(),
            p.display.driver.needs_i2c(),
            "{name}"
        );
    }
}

#[test]
fn builtins_equal_their_files_loaded_by_path() {
    for name in builtin_names() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("profiles")
            .join(format!("{name}.toml"));
        let path = path.to_str().expect("utf-8 path");
        let from_file = BoardProfile::load(path).expect("loads as a file");
        let builtin = load(name);
        assert_eq!(from_file.camera, builtin.camera);
        assert_eq!(from_file.display, builtin.display);
        assert_eq!(from_file.origin, ProfileOrigin::File(path.into()));
        assert_eq!(
            from_file.base_dir,
            Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles")
        );
    }
}

#[test]
fn sim_uses_simulated_devices_and_resolves_media_under_boards() {
    let p = load("sim");
    assert_eq!(p.camera.driver, CameraDriver::Sim);
    assert_eq!(p.camera.device, "sim/camera");
    assert_eq!(
        (p.camera.width, p.camera.height, p.camera.fps),
        (640, 480, 15)
    );
    assert_eq!(p.camera.pixel_format, CameraPixelFormat::Rgb888);
    assert_eq!(p.audio.driver, AudioDriver::Sim);
    assert_eq!(p.audio.capture, "sim/voice.wav");
    assert_eq!(p.audio.playback, "speaker.wav");
    assert_eq!(p.display.driver, DisplayDriver::SimRgb565);
    assert_eq!((p.display.width, p.display.height), (240, 240));
    assert_eq!(p.display.rotation, Rotation::Deg0);
    assert_eq!(p.gpio, None);
    assert_eq!(p.serial.device, "pty");
    assert_eq!(p.runtime.threads, 1);
    assert_eq!(p.runtime.precision, Precision::F32);
    assert!(p.cpu.features.is_empty());

    let boards = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert_eq!(p.resolve(&p.camera.device), boards.join("sim/camera"));
    assert_eq!(p.resolve(&p.audio.capture), boards.join("sim/voice.wav"));
}

#[test]
fn sim_mono_differs_from_sim_only_in_name_and_display() {
    let sim = load("sim");
    let mono = load("sim-mono");
    assert_eq!(mono.display.driver, DisplayDriver::SimMono);
    assert!(mono.display.driver.is_mono());
    assert_eq!((mono.display.width, mono.display.height), (128, 64));
    assert_eq!(mono.camera, sim.camera);
    assert_eq!(mono.audio, sim.audio);
    assert_eq!(mono.runtime, sim.runtime);
    assert_eq!(mono.serial, sim.serial);
}

fn assert_pi_st7789(p: &BoardProfile) {
    let spi = p.display.spi.as_ref().expect("spi");
    assert_eq!(spi.device, "/dev/spidev0.0");
    assert_eq!(spi.gpio_chip, "/dev/gpiochip0");
    assert_eq!((spi.dc, spi.reset, spi.backlight), (25, 27, Some(18)));
    let gpio = p.gpio.as_ref().expect("gpio");
    assert_eq!(gpio.button, Some(17));
}

#[test]
fn rpi4() {
    let p = load("rpi4");
    assert_eq!(p.cpu.arch, Arch::Aarch64);
    assert_eq!(p.cpu.cores, 4);
    assert_eq!(p.cpu.features, [CpuFeature::Neon]);
    assert_eq!(p.camera.driver, CameraDriver::V4l);
    assert_eq!(p.camera.device, "/dev/video0");
    assert_eq!(p.camera.pixel_format, CameraPixelFormat::Yuyv);
    assert_eq!(p.audio.driver, AudioDriver::Alsa);
    assert_eq!(p.display.driver, DisplayDriver::St7789);
    assert_eq!((p.display.width, p.display.height), (240, 240));
    assert_pi_st7789(&p);
    assert_eq!(p.serial.device, "/dev/ttyGS0");
    assert_eq!(p.runtime.precision, Precision::F32);
}

#[test]
fn rpi5() {
    let p = load("rpi5");
    assert_eq!(
        p.cpu.features,
        [CpuFeature::Neon, CpuFeature::Dotprod, CpuFeature::Fp16]
    );
    assert_eq!(p.display.driver, DisplayDriver::St7789);
    assert_eq!((p.display.width, p.display.height), (240, 320));
    assert_eq!(p.display.rotation, Rotation::Deg90);
    assert_eq!(p.display.logical_size(), (320, 240));
    assert_pi_st7789(&p);
    assert_eq!(p.serial.device, "/dev/ttyGS0");
    assert_eq!(p.runtime.precision, Precision::Auto);
}

#[test]
fn rpi_zero2w() {
    let p = load("rpi-zero2w");
    assert_eq!(p.cpu.features, [CpuFeature::Neon]);
    assert_eq!(p.camera.driver, CameraDriver::V4l);
    assert_eq!(p.camera.fps, 15);
    assert_eq!(p.display.driver, DisplayDriver::Ssd1306);
    assert_eq!((p.display.width, p.display.height), (128, 64));
    let i2c = p.display.i2c.as_ref().expect("i2c");
    assert_eq!((i2c.device.as_str(), i2c.address), ("/dev/i2c-1", 0x3c));
    assert_eq!(p.gpio.as_ref().and_then(|g| g.button), Some(17));
    assert_eq!(p.serial.device, "/dev/serial0");
    assert_eq!(p.runtime.precision, Precision::F32);
}

#[test]
fn jetson_nano() {
    let p = load("jetson-nano");
    assert_eq!(p.cpu.features, [CpuFeature::Neon]);
    assert_eq!(p.display.driver, DisplayDriver::Ili9341);
    assert_eq!(p.display.logical_size(), (320, 240));
    let spi = p.display.spi.as_ref().expect("spi");
    assert_eq!((spi.dc, spi.reset, spi.backlight), (13, 14, Some(79)));
    assert_eq!(p.gpio.as_ref().and_then(|g| g.button), Some(50));
    assert_eq!(p.serial.device, "/dev/ttyTHS1");
    assert_eq!(p.runtime.precision, Precision::F32);
}

#[test]
fn jetson_orin_nano() {
    let p = load("jetson-orin-nano");
    assert_eq!(p.cpu.cores, 6);
    assert!(p.cpu.has(CpuFeature::Dotprod) && p.cpu.has(CpuFeature::Fp16));
    assert!(!p.cpu.has(CpuFeature::I8mm), "Cortex-A78AE has no i8mm");
    assert_eq!(p.display.driver, DisplayDriver::St7789);
    let spi = p.display.spi.as_ref().expect("spi");
    assert_eq!((spi.dc, spi.reset, spi.backlight), (123, 122, Some(50)));
    assert_eq!(p.gpio.as_ref().and_then(|g| g.button), Some(112));
    assert_eq!(p.serial.device, "/dev/ttyTHS0");
    assert_eq!(p.runtime.threads, 4);
    assert_eq!(p.runtime.precision, Precision::Auto);
}
