//! A contact sheet of generated images, one row per class, for looking at the generators:
//!
//! ```text
//! cargo run -p sentio-data --example contact_sheet -- emoji|faces [OUT.png] [COLUMNS] [SEED] [SCALE]
//! ```

use std::process::ExitCode;

use image::{GrayImage, imageops};
use sentio_data::synth;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let kind = args.first().map_or("emoji", String::as_str);
    let out = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| format!("contact_{kind}.png"));
    let columns: u32 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(12);
    let seed: u64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(1);
    let scale: u32 = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(2);
    let (classes, size, draw): (u32, u32, fn(usize, u64) -> GrayImage) = match kind {
        "emoji" => (8, synth::EMOJI_SIZE, synth::draw_emoji),
        "faces" => (7, synth::FACE_SIZE, synth::draw_face),
        other => {
            eprintln!("unknown kind `{other}`: emoji or faces");
            return ExitCode::FAILURE;
        }
    };
    let cell = size * scale + 4;
    let mut sheet = GrayImage::from_pixel(columns * cell, classes * cell, image::Luma([40]));
    for class in 0..classes {
        for i in 0..columns {
            let image = draw(
                class as usize,
                synth::image_seed(seed, class as usize, i as usize),
            );
            let big = imageops::resize(
                &image,
                size * scale,
                size * scale,
                imageops::FilterType::Nearest,
            );
            imageops::replace(
                &mut sheet,
                &big,
                i64::from(i * cell + 2),
                i64::from(class * cell + 2),
            );
        }
    }
    if let Err(e) = sheet.save(&out) {
        eprintln!("cannot write {out}: {e}");
        return ExitCode::FAILURE;
    }
    println!("{out}");
    ExitCode::SUCCESS
}
