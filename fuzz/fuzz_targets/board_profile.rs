//! Any text as a board profile (`sentiod --board FILE.toml`): the TOML parser, the schema and
//! the validation must not panic, and every error must render (file:line:col, key, help).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use sentio_boards::{BoardProfile, ProfileOrigin};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let origin = ProfileOrigin::File("fuzz.toml".into());
    match BoardProfile::from_str(text, origin, Path::new("/nonexistent")) {
        Ok(profile) => {
            let _ = profile.display.logical_size();
        }
        Err(e) => {
            let _ = e.to_string();
            let _ = (e.line(), e.column(), e.key_path(), e.help_text());
        }
    }
});
