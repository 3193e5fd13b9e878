//! Board profiles: the schema of `boards/profiles/*.toml`, a validating loader and the built-in
//! profiles (embedded in the binary).
//!
//! A profile says what a board has: CPU, camera, audio, display and its wiring, the serial link,
//! runtime settings, which models to load, and optionally face detection, mood fusion, music and
//! the touch panel of sketch mode. [`BoardProfile::load`] accepts a built-in name or a
//! path; every problem comes back as a [`ProfileError`] naming file, line, column and key, with
//! the allowed values and a help line.
//!
//! This crate only reads and checks text. It must not open devices, probe hardware, print, or
//! depend on anything platform-specific: the device binary acts on the profile.

mod error;
mod raw;
mod types;
mod validate;

use std::path::{Path, PathBuf};

pub use error::{ErrorKind, ProfileError};
pub use sentio_mood::MoodConfig;
pub use sentio_music::MusicConfig;
pub use types::*;

use error::{Source, closest};

/// Baud rates accepted in `serial.baud`.
pub const BAUD_RATES: &[u32] = &[
    9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1000000, 1500000, 2000000, 3000000,
];

/// Sample rates accepted in `audio.rate`.
pub const SAMPLE_RATES: &[u32] = &[8000, 16000, 22050, 32000, 44100, 48000];

/// The built-in profiles: name and TOML text.
const BUILTINS: &[(&str, &str)] = &[
    ("sim", include_str!("../profiles/sim.toml")),
    ("sim-mono", include_str!("../profiles/sim-mono.toml")),
    ("rpi4", include_str!("../profiles/rpi4.toml")),
    ("rpi5", include_str!("../profiles/rpi5.toml")),
    ("rpi-zero2w", include_str!("../profiles/rpi-zero2w.toml")),
    ("jetson-nano", include_str!("../profiles/jetson-nano.toml")),
    (
        "jetson-orin-nano",
        include_str!("../profiles/jetson-orin-nano.toml"),
    ),
];

const BUILTIN_NAMES: &[&str] = &[
    "sim",
    "sim-mono",
    "rpi4",
    "rpi5",
    "rpi-zero2w",
    "jetson-nano",
    "jetson-orin-nano",
];

/// Names of the built-in profiles, for `--board NAME`.
pub fn builtin_names() -> &'static [&'static str] {
    BUILTIN_NAMES
}

/// A checked board profile.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardProfile {
    pub board: BoardInfo,
    pub cpu: CpuConfig,
    pub camera: CameraConfig,
    pub audio: AudioConfig,
    pub display: DisplayConfig,
    pub gpio: Option<GpioConfig>,
    pub serial: SerialConfig,
    pub runtime: RuntimeConfig,
    pub models: ModelsConfig,
    pub faces: FacesConfig,
    /// `[mood]`: the mood fusion's settings (the defaults when the section is absent).
    pub mood: MoodConfig,
    /// `[music]`: the mood music player's settings, `None` when the section is absent (the
    /// device then plays no music). Checked with [`MusicConfig::validate`]; relative paths in
    /// `folders` and `loudness_cache` are already resolved against `base_dir`. Folders are not
    /// looked at here: one that does not exist is skipped by the player at run time.
    pub music: Option<MusicConfig>,
    /// `[pointer]`: sketch mode's touch panel (driver `none` when the section is absent). A sim
    /// driver's `strokes` path is already resolved against `base_dir`.
    pub pointer: PointerConfig,
    /// Where the profile came from.
    pub origin: ProfileOrigin,
    /// Folder that relative media paths are resolved against (see [`BoardProfile::resolve`]).
    pub base_dir: PathBuf,
}

impl BoardProfile {
    /// A built-in name (`"sim"`, `"rpi4"`, ...) or a path to a .toml file (anything containing
    /// `/` or ending in `.toml` is a path).
    ///
    /// Built-in profiles resolve relative media paths against [`builtin_base_dir`], files
    /// against the folder the file is in.
    pub fn load(name_or_path: &str) -> Result<BoardProfile, ProfileError> {
        if is_path(name_or_path) {
            let path = Path::new(name_or_path);
            let text = std::fs::read_to_string(path).map_err(|e| {
                ProfileError::io(name_or_path, e).help(format!(
                    "check the path; built-in boards are: {}",
                    BUILTIN_NAMES.join(", ")
                ))
            })?;
            let base_dir = std::path::absolute(path)
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf))
                .unwrap_or_else(|| PathBuf::from("."));
            return BoardProfile::from_str(
                &text,
                ProfileOrigin::File(path.to_path_buf()),
                &base_dir,
            );
        }
        match BUILTINS.iter().find(|(name, _)| *name == name_or_path) {
            Some((name, text)) => BoardProfile::from_str(
                text,
                ProfileOrigin::BuiltIn((*name).to_owned()),
                &builtin_base_dir(),
            ),
            None => Err(unknown_board(name_or_path)),
        }
    }

    /// Parses and checks profile text. `origin` names the text in error messages; `base_dir` is
    /// stored for [`BoardProfile::resolve`].
    pub fn from_str(
        text: &str,
        origin: ProfileOrigin,
        base_dir: &Path,
    ) -> Result<BoardProfile, ProfileError> {
        let label = origin.label();
        let src = Source {
            text,
            label: &label,
        };
        let document = toml::de::DeTable::parse(text).map_err(|e| error::syntax_error(&e, &src))?;
        let raw: raw::RawProfile =
            serde::Deserialize::deserialize(toml::de::Deserializer::from(document))
                .map_err(|e| error::schema_error(&e, &src))?;
        let c = validate::check(raw, &src)?;
        Ok(BoardProfile {
            board: c.board,
            cpu: c.cpu,
            camera: c.camera,
            audio: c.audio,
            display: c.display,
            gpio: c.gpio,
            serial: c.serial,
            runtime: c.runtime,
            models: c.models,
            faces: c.faces,
            mood: c.mood,
            music: c.music.map(|m| m.with_base_dir(base_dir)),
            pointer: PointerConfig {
                strokes: c.pointer.strokes.map(|p| join_relative(base_dir, p)),
                ..c.pointer
            },
            origin,
            base_dir: base_dir.to_path_buf(),
        })
    }

    /// Resolves a media path of the profile (sim camera/audio files): absolute stays, relative is
    /// joined to `base_dir`. Call it only for values that are paths (not `"pattern"` or
    /// `"silence"`, and not device nodes or ALSA names).
    pub fn resolve(&self, path: &str) -> PathBuf {
        join_relative(&self.base_dir, PathBuf::from(path))
    }
}

/// The folder a built-in profile's relative paths (the sim camera frames and voice, `../models/zoo`)
/// resolve against: this crate's folder (`boards/`) when it exists, as on the machine that built
/// the binary; else, for an installed binary, `<prefix>/share/sentio/boards` beside its
/// `<prefix>/bin` (the .deb ships the sim media there), when that exists. A binary copied
/// elsewhere gets the source folder, whose missing media then show in the errors.
pub fn builtin_base_dir() -> PathBuf {
    let exe = std::env::current_exe().ok();
    choose_builtin_base_dir(Path::new(env!("CARGO_MANIFEST_DIR")), exe.as_deref())
}

fn choose_builtin_base_dir(source_dir: &Path, exe: Option<&Path>) -> PathBuf {
    if source_dir.is_dir() {
        return source_dir.to_path_buf();
    }
    let installed = exe
        .and_then(Path::parent)
        .and_then(Path::parent)
        .map(|prefix| prefix.join("share/sentio/boards"));
    match installed {
        Some(dir) if dir.is_dir() => dir,
        _ => source_dir.to_path_buf(),
    }
}

/// `path` if it is absolute, else `base_dir/path`.
fn join_relative(base_dir: &Path, path: PathBuf) -> PathBuf {
    if path.is_absolute() {
        path
    } else {
        base_dir.join(path)
    }
}

fn is_path(name_or_path: &str) -> bool {
    name_or_path.contains('/')
        || name_or_path.contains(std::path::MAIN_SEPARATOR)
        || name_or_path.ends_with(".toml")
}

fn unknown_board(name: &str) -> ProfileError {
    let example = if name.trim().is_empty() {
        "myboard"
    } else {
        name
    };
    let load_file = format!(
        "o load your own profile, pass its path, e.g. `--board ./{example}.toml` (a path contains '/' or ends in .toml)"
    );
    let help = match closest(name, BUILTIN_NAMES.iter().copied()) {
        Some(close) => format!("did you mean \"{close}\"? T{load_file}"),
        None => format!("t{load_file}"),
    };
    ProfileError::new(ErrorKind::UnknownBoard, format!("unknown board {name:?}"))
        .allowed(BUILTIN_NAMES)
        .help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_tables_agree() {
        let names: Vec<&str> = BUILTINS.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, BUILTIN_NAMES);
    }

    #[test]
    fn paths_and_names() {
        assert!(is_path("./x.toml"));
        assert!(is_path("x.toml"));
        assert!(is_path("/etc/sentio/board"));
        assert!(!is_path("rpi4"));
        assert!(!is_path("jetson-orin-nano"));
    }

    #[test]
    fn builtin_base_dir_is_the_source_folder_then_the_installed_share_folder() {
        let root = tempfile::tempdir().expect("tempdir");
        let source = root.path().join("build/boards");
        let exe = root.path().join("usr/bin/sentiod");
        let share = root.path().join("usr/share/sentio/boards");
        // Neither exists: the source folder, so errors name the path the profile meant.
        assert_eq!(choose_builtin_base_dir(&source, Some(&exe)), source);
        std::fs::create_dir_all(&share).expect("mkdir share");
        assert_eq!(choose_builtin_base_dir(&source, Some(&exe)), share);
        assert_eq!(choose_builtin_base_dir(&source, None), source);
        std::fs::create_dir_all(&source).expect("mkdir source");
        assert_eq!(choose_builtin_base_dir(&source, Some(&exe)), source);
    }

    #[test]
    fn resolve_keeps_absolute_and_joins_relative() {
        let p = BoardProfile::load("sim").expect("sim loads");
        assert_eq!(p.resolve("/tmp/a.wav"), PathBuf::from("/tmp/a.wav"));
        assert_eq!(
            p.resolve("sim/voice.wav"),
            Path::new(env!("CARGO_MANIFEST_DIR")).join("sim/voice.wav")
        );
    }
}
