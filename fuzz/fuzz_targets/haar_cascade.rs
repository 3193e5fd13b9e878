//! Any text as an OpenCV Haar cascade (`--cascade FILE`, the profile's `[faces] cascade`). The
//! parser must not panic, and a cascade it accepts must run on an image without panicking: its
//! feature rectangles, node and leaf indices are checked at parse time, not trusted later.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sentio_vision::haar::{Cascade, HaarParams, detect_gray};

/// A 48x40 gray image with a gradient and a dark blob, so features take varied values.
fn image() -> &'static [u8] {
    static IMAGE: OnceLock<Vec<u8>> = OnceLock::new();
    IMAGE.get_or_init(|| {
        (0..40u32)
            .flat_map(|y| {
                (0..48u32).map(move |x| {
                    let (dx, dy) = (x as i32 - 24, y as i32 - 20);
                    if dx * dx + dy * dy < 64 { 20 } else { (x * 4 + y * 2) as u8 }
                })
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(xml) = std::str::from_utf8(data) else {
        return;
    };
    match Cascade::parse(xml, Path::new("fuzz.xml")) {
        Ok(cascade) => {
            let params = HaarParams {
                scale_factor: 1.25,
                min_neighbors: 0,
                min_size: 1,
                max_size: 0,
            };
            let _ = detect_gray(&cascade, image(), 48, 40, &params);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
