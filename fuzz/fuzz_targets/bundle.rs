//! Any bytes as a model bundle, through both readers the project has: the in-memory
//! `BundleView::parse` + `verify` (the device's store, `sentio bundle inspect`) and the
//! streaming `verify_reader` (`sentio bundle verify`, `sentio flash`). Neither may panic, and
//! they must agree on whether the bundle is good.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentio_models::{BundleView, SignaturePolicy, verify, verify_reader};

fuzz_target!(|data: &[u8]| {
    let in_memory = BundleView::parse(data).and_then(|view| {
        // Exercise what `sentio bundle inspect` prints.
        let _ = view.to_string();
        verify(&view, None, SignaturePolicy::AllowUnsigned)
    });
    let streamed = verify_reader(data, None, SignaturePolicy::AllowUnsigned);
    if let Err(e) = &in_memory {
        let _ = e.to_string();
    }
    if let Err(e) = &streamed {
        let _ = e.to_string();
    }
    assert_eq!(
        in_memory.is_ok(),
        streamed.is_ok(),
        "the readers disagree: in memory {in_memory:?}, streamed {:?}",
        streamed.as_ref().map(|f| f.verified)
    );
    if let Ok(file) = streamed {
        assert_eq!(file.file_len, data.len() as u64);
    }
});
