//! Bad profiles: each error must name the file, the line, the key, what is wrong and what is
//! allowed.

mod common;
use common::{check_error, shown};

use sentio_boards::*;

/// A valid profile; the line numbers in the tests below refer to this text.
const GOOD: &str = r#"[board]
name = "testboard"
description = "test"

[cpu]
arch = "aarch64"
cores = 4
features = ["neon"]

[camera]
driver = "v4l"
device = "/dev/video0"
width = 640
height = 480
fps = 30
pixel_format = "yuyv"

[audio]
driver = "alsa"
capture = "plughw:1,0"
playback = "plughw:0,0"
rate = 16000

[display]
driver = "st7789"
width = 240
height = 240
rotation = 0

[display.spi]
device = "/dev/spidev0.0"
speed_hz = 40000000
gpio_chip = "/dev/gpiochip0"
dc = 25
reset = 27
backlight = 18

[gpio]
chip = "/dev/gpiochip0"
button = 17

[serial]
device = "/dev/ttyGS0"
baud = 921600

[runtime]
threads = 4
precision = "f32"

[models]
load = ["fer", "ser"]
"#;

/// `GOOD` with whole lines replaced; each `from` must be exactly one line of `GOOD`.
fn edit(edits: &[(&str, &str)]) -> String {
    let mut text = GOOD.to_owned();
    for (from, to) in edits {
        let count = text.lines().filter(|l| l == from).count();
        assert_eq!(
            count, 1,
            "{from:?} must be exactly one line of the base profile"
        );
        let needle = format!("\n{from}\n");
        text = text.replacen(&needle, &format!("\n{to}\n"), 1);
    }
    text
}

fn parse(text: &str) -> Result<BoardProfile, ProfileError> {
    BoardProfile::from_str(
        text,
        ProfileOrigin::File("boards/bad.toml".into()),
        std::path::Path::new("boards"),
    )
}

fn fail(edits: &[(&str, &str)]) -> ProfileError {
    match parse(&edit(edits)) {
        Ok(_) => panic!("profile with {edits:?} was accepted"),
        Err(e) => e,
    }
}

/// Checks kind, location and key, and that the rendered message contains `parts`.
#[track_caller]
fn check(e: &ProfileError, kind: ErrorKind, line: usize, key: &str, parts: &[&str]) {
    check_error(e, "boards/bad.toml", kind, line, key, parts);
}

#[test]
fn on_a_terminal_the_offending_line_is_drawn_with_the_key_under_it() {
    let e = fail(&[("fps = 30", "fps = \"thirty\"")]);
    let mut drawn = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .render_report(&mut drawn, &e)
        .unwrap();
    assert!(drawn.contains("[boards/bad.toml:15:"), "{drawn}");
    assert!(drawn.contains("fps = \"thirty\""), "{drawn}");
    assert!(drawn.contains("camera.fps"), "{drawn}");
    assert!(drawn.contains("help:"), "{drawn}");
}

#[test]
fn the_base_profile_is_valid() {
    let p = parse(GOOD).expect("valid");
    assert_eq!(p.board.name, "testboard");
}

#[test]
fn unknown_key_is_named_with_the_allowed_keys() {
    let e = fail(&[("fps = 30", "fps = 30\nframerate = 30")]);
    check(
        &e,
        ErrorKind::UnknownKey,
        16,
        "camera.framerate",
        &[
            "boards/bad.toml:16:1: camera.framerate: unknown key `framerate` in [camera]",
            "allowed: driver, device, width, height, fps, pixel_format",
        ],
    );
}

#[test]
fn misspelled_key_gets_a_suggestion() {
    let e = fail(&[("pixel_format = \"yuyv\"", "pixelformat = \"yuyv\"")]);
    check(
        &e,
        ErrorKind::UnknownKey,
        16,
        "camera.pixelformat",
        &["help: did you mean `pixel_format`?"],
    );
}

#[test]
fn unknown_key_in_a_sub_table() {
    let e = fail(&[("backlight = 18", "backlight = 18\ncs = 8")]);
    check(
        &e,
        ErrorKind::UnknownKey,
        37,
        "display.spi.cs",
        &[
            "unknown key `cs` in [display.spi]",
            "allowed: device, speed_hz, gpio_chip, dc, reset, backlight",
        ],
    );
}

#[test]
fn unknown_top_level_table() {
    let e = fail(&[("[gpio]", "[gpios]")]);
    check(
        &e,
        ErrorKind::UnknownKey,
        38,
        "gpios",
        &[
            "unknown table or key `gpios`",
            "allowed: board, cpu, camera, audio, display, gpio, serial, runtime, models",
            "did you mean `gpio`?",
        ],
    );
}

#[test]
fn missing_key_points_at_its_table() {
    let e = fail(&[("fps = 30", "")]);
    check(
        &e,
        ErrorKind::MissingKey,
        10,
        "camera.fps",
        &[
            "boards/bad.toml:10:1: camera.fps: missing key `fps` in [camera]",
            "help: add `fps = 30` to [camera]",
        ],
    );
}

#[test]
fn missing_top_level_table_names_the_file() {
    let e = parse(&GOOD.replace("[serial]\ndevice = \"/dev/ttyGS0\"\nbaud = 921600\n", ""))
        .expect_err("no [serial]");
    assert_eq!(e.kind(), ErrorKind::MissingKey);
    assert_eq!(e.line(), None);
    assert_eq!(
        shown(&e),
        "boards/bad.toml: serial: missing table [serial]\n  help: add a [serial] table; docs/boards.md lists its keys"
    );
}

#[test]
fn wrong_type_says_what_was_expected_and_found() {
    let e = fail(&[("cores = 4", "cores = \"4\"")]);
    check(
        &e,
        ErrorKind::WrongType,
        7,
        "cpu.cores",
        &[
            "boards/bad.toml:7:9: cpu.cores: expected an integer, found a string (\"4\")",
            "help: write the number without quotes: `cores = 4`",
        ],
    );
}

#[test]
fn wrong_type_inside_an_array_names_the_item() {
    let e = fail(&[("load = [\"fer\", \"ser\"]", "load = [\"fer\", 2]")]);
    check(
        &e,
        ErrorKind::WrongType,
        51,
        "models.load[1]",
        &["expected a string, found an integer (2)"],
    );
}

#[test]
fn a_string_where_a_list_belongs() {
    let e = fail(&[("load = [\"fer\", \"ser\"]", "load = \"fer\"")]);
    check(
        &e,
        ErrorKind::WrongType,
        51,
        "models.load",
        &["expected an array, found a string (\"fer\")"],
    );
}

#[test]
fn fps_zero_is_out_of_range() {
    let e = fail(&[("fps = 30", "fps = 0")]);
    check(
        &e,
        ErrorKind::BadValue,
        15,
        "camera.fps",
        &[
            "boards/bad.toml:15:7: camera.fps: 0 is out of range",
            "allowed: 1 to 240",
        ],
    );
}

#[test]
fn unknown_display_driver_lists_the_drivers() {
    let e = fail(&[("driver = \"st7789\"", "driver = \"st7735\"")]);
    assert_eq!(
        shown(&e),
        "boards/bad.toml:25:10: display.driver: unknown display driver \"st7735\"\n  \
         allowed: st7789, ili9341, ssd1306, sim-rgb565, sim-mono, none\n  \
         help: did you mean \"st7789\"? sim-rgb565 or sim-mono run without a panel; none disables the display"
    );
    assert_eq!(e.kind(), ErrorKind::BadValue);
    assert_eq!(e.column(), Some(10));
    assert_eq!(
        e.allowed_values(),
        [
            "st7789",
            "ili9341",
            "ssd1306",
            "sim-rgb565",
            "sim-mono",
            "none"
        ]
    );
}

#[test]
fn upper_case_choice_gets_a_suggestion() {
    let e = fail(&[("precision = \"f32\"", "precision = \"F32\"")]);
    check(
        &e,
        ErrorKind::BadValue,
        48,
        "runtime.precision",
        &[
            "unknown precision \"F32\"",
            "allowed: f32, int8, auto",
            "did you mean \"f32\"?",
        ],
    );
}

#[test]
fn an_unknown_kernel_choice_lists_the_three() {
    let e = fail(&[(
        "precision = \"f32\"",
        "precision = \"f32\"\nkernels = \"fastest\"",
    )]);
    check(
        &e,
        ErrorKind::BadValue,
        49,
        "runtime.kernels",
        &[
            "unknown kernel choice \"fastest\"",
            "allowed: auto, sentio, tract",
        ],
    );
}

#[test]
fn gpio_line_used_twice_names_both_keys() {
    let e = fail(&[("button = 17", "button = 25")]);
    check(
        &e,
        ErrorKind::Conflict,
        40,
        "gpio.button",
        &["GPIO line 25 on /dev/gpiochip0 is used by both display.spi.dc and gpio.button"],
    );

    let e = fail(&[("reset = 27", "reset = 25")]);
    check(
        &e,
        ErrorKind::Conflict,
        35,
        "display.spi.reset",
        &["is used by both display.spi.dc and display.spi.reset"],
    );
}

#[test]
fn same_line_number_on_another_chip_is_fine() {
    let text = edit(&[
        ("button = 17", "button = 25"),
        ("chip = \"/dev/gpiochip0\"", "chip = \"/dev/gpiochip1\""),
    ]);
    assert!(parse(&text).is_ok());
    // "gpiochip0" and "/dev/gpiochip0" are the same chip.
    let e = fail(&[
        ("button = 17", "button = 18"),
        ("chip = \"/dev/gpiochip0\"", "chip = \"gpiochip0\""),
    ]);
    check(
        &e,
        ErrorKind::Conflict,
        40,
        "gpio.button",
        &["display.spi.backlight and gpio.button"],
    );
}

#[test]
fn rotation_45_is_rejected() {
    let e = fail(&[("rotation = 0", "rotation = 45")]);
    check(
        &e,
        ErrorKind::BadValue,
        28,
        "display.rotation",
        &[
            "boards/bad.toml:28:12: display.rotation: 45 is not a supported rotation",
            "allowed: 0, 90, 180, 270",
        ],
    );
}

#[test]
fn baud_12345_is_rejected() {
    let e = fail(&[("baud = 921600", "baud = 12345")]);
    check(
        &e,
        ErrorKind::BadValue,
        44,
        "serial.baud",
        &[
            "12345 is not a supported baud rate",
            "allowed: 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1000000, 1500000, 2000000, 3000000",
        ],
    );
}

#[test]
fn sample_rate_must_be_standard() {
    let e = fail(&[("rate = 16000", "rate = 16001")]);
    check(
        &e,
        ErrorKind::BadValue,
        22,
        "audio.rate",
        &["allowed: 8000, 16000, 22050, 32000, 44100, 48000"],
    );
}

#[test]
fn more_threads_than_cores() {
    let e = fail(&[("threads = 4", "threads = 8")]);
    check(
        &e,
        ErrorKind::Conflict,
        47,
        "runtime.threads",
        &["8 threads but cpu.cores is 4", "allowed: 1 to 4"],
    );
}

#[test]
fn st7789_without_spi_table() {
    let text = GOOD.replace(
        "[display.spi]\ndevice = \"/dev/spidev0.0\"\nspeed_hz = 40000000\ngpio_chip = \"/dev/gpiochip0\"\ndc = 25\nreset = 27\nbacklight = 18\n",
        "",
    );
    let e = parse(&text).expect_err("no spi table");
    check(
        &e,
        ErrorKind::MissingKey,
        24,
        "display.spi",
        &["display driver \"st7789\" needs a [display.spi] table"],
    );
}

#[test]
fn stray_i2c_table_for_an_spi_panel() {
    let e = fail(&[(
        "backlight = 18",
        "backlight = 18\n\n[display.i2c]\ndevice = \"/dev/i2c-1\"\naddress = 0x3c",
    )]);
    check(
        &e,
        ErrorKind::Conflict,
        38,
        "display.i2c",
        &[
            "display driver \"st7789\" does not use I2C",
            "help: remove [display.i2c]; st7789 panels are driven over SPI: use [display.spi]",
        ],
    );
}

fn ssd1306(address: &str) -> String {
    GOOD.replace(
        "[display]\ndriver = \"st7789\"\nwidth = 240\nheight = 240\nrotation = 0\n\n[display.spi]\ndevice = \"/dev/spidev0.0\"\nspeed_hz = 40000000\ngpio_chip = \"/dev/gpiochip0\"\ndc = 25\nreset = 27\nbacklight = 18\n",
        &format!("[display]\ndriver = \"ssd1306\"\nwidth = 128\nheight = 64\n\n[display.i2c]\ndevice = \"/dev/i2c-1\"\naddress = {address}\n"),
    )
}

#[test]
fn ssd1306_on_i2c_is_valid() {
    let p = parse(&ssd1306("0x3d")).expect("valid ssd1306");
    assert_eq!(p.display.i2c.map(|i| i.address), Some(0x3d));
    assert_eq!(p.display.rotation, Rotation::Deg0, "rotation defaults to 0");
}

#[test]
fn bad_ssd1306_address() {
    let e = parse(&ssd1306("0x3a")).expect_err("bad address");
    check(
        &e,
        ErrorKind::BadValue,
        31,
        "display.i2c.address",
        &[
            "boards/bad.toml:31:11: display.i2c.address: 0x3a is not an ssd1306 I2C address",
            "allowed: 0x3c, 0x3d",
        ],
    );
}

#[test]
fn panel_size_must_match_the_driver() {
    let e = fail(&[("height = 240", "height = 200")]);
    check(
        &e,
        ErrorKind::BadValue,
        26,
        "display.width",
        &[
            "240x200 (width x height) is not a st7789 panel size",
            "allowed: 240x240, 240x320, 320x240",
        ],
    );
}

#[test]
fn sim_mono_size_limit() {
    let text = GOOD.replace(
        "[display]\ndriver = \"st7789\"\nwidth = 240\nheight = 240\nrotation = 0\n\n[display.spi]\ndevice = \"/dev/spidev0.0\"\nspeed_hz = 40000000\ngpio_chip = \"/dev/gpiochip0\"\ndc = 25\nreset = 27\nbacklight = 18\n",
        "[display]\ndriver = \"sim-mono\"\nwidth = 600\nheight = 64\n",
    );
    let e = parse(&text).expect_err("too wide");
    check(
        &e,
        ErrorKind::BadValue,
        26,
        "display.width",
        &["600 is out of range", "allowed: 1 to 512"],
    );
}

#[test]
fn pixel_format_must_suit_the_camera_driver() {
    let e = fail(&[("pixel_format = \"yuyv\"", "pixel_format = \"rgb888\"")]);
    check(
        &e,
        ErrorKind::Conflict,
        16,
        "camera.pixel_format",
        &[
            "pixel format \"rgb888\" does not work with camera driver \"v4l\"",
            "allowed: yuyv, mjpeg",
        ],
    );
}

#[test]
fn cpu_feature_of_another_architecture() {
    let e = fail(&[("features = [\"neon\"]", "features = [\"neon\", \"avx2\"]")]);
    check(
        &e,
        ErrorKind::Conflict,
        8,
        "cpu.features[1]",
        &[
            "boards/bad.toml:8:21: cpu.features[1]: \"avx2\" is not a feature of aarch64",
            "allowed: neon, dotprod, fp16, i8mm",
        ],
    );
}

#[test]
fn duplicate_model_names() {
    let e = fail(&[(
        "load = [\"fer\", \"ser\"]",
        "load = [\"fer\", \"ser\", \"fer\"]",
    )]);
    check(
        &e,
        ErrorKind::BadValue,
        51,
        "models.load[2]",
        &["boards/bad.toml:51:23: models.load[2]: model \"fer\" is listed twice"],
    );
}

#[test]
fn invalid_model_name() {
    let e = fail(&[("load = [\"fer\", \"ser\"]", "load = [\"Fer v2\"]")]);
    check(
        &e,
        ErrorKind::BadValue,
        51,
        "models.load[0]",
        &["\"Fer v2\" is not a valid model name"],
    );
}

#[test]
fn v4l_device_must_be_a_path() {
    let e = fail(&[("device = \"/dev/video0\"", "device = \"video0\"")]);
    check(
        &e,
        ErrorKind::BadValue,
        12,
        "camera.device",
        &["\"video0\" is not an absolute device path", "/dev/video0"],
    );
}

#[test]
fn negative_gpio_line() {
    let e = fail(&[("dc = 25", "dc = -1")]);
    check(
        &e,
        ErrorKind::BadValue,
        34,
        "display.spi.dc",
        &[
            "-1 is out of range",
            "allowed: 0 to 1023",
            "not a physical header pin number",
        ],
    );
}

#[test]
fn toml_syntax_error_has_a_line() {
    let e = fail(&[("fps = 30", "fps = = 30")]);
    assert_eq!(e.kind(), ErrorKind::Syntax, "{e}");
    assert_eq!(e.line(), Some(15), "{e}");
    assert_eq!(e.key_path(), None);
    assert!(
        shown(&e).starts_with("boards/bad.toml:15:7: invalid TOML:"),
        "{e}"
    );

    let e = fail(&[("device = \"/dev/video0\"", "device = \"/dev/video0")]);
    assert_eq!((e.kind(), e.line()), (ErrorKind::Syntax, Some(12)), "{e}");
}

#[test]
fn duplicate_key_is_a_syntax_error() {
    let e = fail(&[("fps = 30", "fps = 30\nfps = 25")]);
    assert_eq!(e.kind(), ErrorKind::Syntax, "{e}");
    assert_eq!(e.line(), Some(16), "{e}");
    assert!(
        shown(&e).starts_with("boards/bad.toml:16:1: duplicate key `fps`"),
        "{e}"
    );
}

#[test]
fn unknown_builtin_board_lists_the_builtins() {
    let e = BoardProfile::load("rpi3").expect_err("no rpi3");
    assert_eq!(e.kind(), ErrorKind::UnknownBoard);
    assert_eq!(e.file(), None);
    let text = shown(&e);
    assert!(
        text.starts_with(
            "unknown board \"rpi3\"\n  allowed: sim, sim-mono, rpi4, rpi5, rpi-zero2w, jetson-nano, jetson-orin-nano\n  help: did you mean \"rpi4\"?"
        ),
        "{text}"
    );
    assert!(text.contains("./rpi3.toml"), "{text}");
}

#[test]
fn missing_file_names_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nope.toml");
    let path = path.to_str().expect("utf-8");
    let e = BoardProfile::load(path).expect_err("no such file");
    assert_eq!(e.kind(), ErrorKind::Io);
    assert_eq!(e.file(), Some(path));
    assert_eq!(
        e.io_error().map(|io| io.kind()),
        Some(std::io::ErrorKind::NotFound)
    );
    let text = shown(&e);
    assert!(
        text.starts_with(&format!("{path}: cannot read board profile: ")),
        "{text}"
    );
    assert!(
        text.contains("built-in boards are: sim, sim-mono, rpi4"),
        "{text}"
    );
}

#[test]
fn built_in_profile_errors_name_the_profile_file() {
    let e = BoardProfile::from_str(
        "[board]\nname = 5\n",
        ProfileOrigin::BuiltIn("x".into()),
        std::path::Path::new("."),
    )
    .expect_err("bad");
    assert!(
        shown(&e).starts_with("boards/profiles/x.toml:2:8: board.name: "),
        "{e}"
    );
}
