//! Any bytes as a model manifest (`manifest.json` beside a model, or a bundle's manifest
//! section). It must not panic, and a manifest it accepts must be written back as JSON that it
//! accepts again, unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentio_models::Manifest;

fuzz_target!(|data: &[u8]| {
    match Manifest::from_slice(data) {
        Ok(manifest) => {
            let json = manifest.to_json().expect("an accepted manifest serializes");
            let again = Manifest::from_json(&json).expect("a written manifest parses again");
            let json2 = again.to_json().expect("serializes again");
            assert_eq!(json, json2);
            let _ = manifest.to_json_pretty().expect("pretty too");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
