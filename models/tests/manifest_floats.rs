//! Free-form numbers in a manifest (`training`, `eval`, fields of a newer format) are kept as
//! they are when it is read and written back.
//!
//! Found by the `manifest` fuzz target (fuzz/fuzz_targets/manifest.rs) from a mutated copy of
//! the shipped speech manifest: `training.normalization.mean` held -0.16856402158737185, which
//! serde_json's default float parser read 1 ULP off, so writing the manifest back (as
//! `sentio bundle pack` does) gave -0.16856402158737183, and a second round trip changed the
//! JSON again. (The typed preprocessing `mean`/`std` are f32 by design and written as f32.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sentio_models::Manifest;

const MANIFEST: &str = r#"{"name":"ser","version":"1.1.0","task":"ser",
"labels":{"set":"ser8","labels":["neutral","calm","happy","sad","angry","fearful","disgust","surprised"]},
"input":{"shape":[1,300,117],"dtype":"f32","preprocessing":{"kind":"audio_features"}},
"precision":"f32",
"training":{"normalization":{"mean":[-0.16856402158737185,0.013235772028565409]}},
"from_the_future":{"x":-0.16856402158737185}}"#;

#[test]
fn free_form_floats_round_trip_exactly() {
    let manifest = Manifest::from_json(MANIFEST).unwrap();
    let json = manifest.to_json().unwrap();
    assert_eq!(json.matches("-0.16856402158737185").count(), 2, "{json}");
    let again = Manifest::from_json(&json).unwrap();
    assert_eq!(again.to_json().unwrap(), json);
}

#[test]
fn the_shipped_manifests_free_form_figures_round_trip_exactly() {
    for name in ["emoji", "fer", "ser", "blazeface", "fer-mini-xception"] {
        let path = format!("{}/zoo/{name}/manifest.json", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let written = Manifest::from_json(&text).unwrap().to_json().unwrap();
        assert_eq!(
            Manifest::from_json(&written).unwrap().to_json().unwrap(),
            written,
            "{path}"
        );
        let source: serde_json::Value = serde_json::from_str(&text).unwrap();
        let written: serde_json::Value = serde_json::from_str(&written).unwrap();
        for pointer in ["/training", "/eval"] {
            assert_eq!(
                source.pointer(pointer),
                written.pointer(pointer),
                "{path} {pointer}"
            );
        }
    }
}
