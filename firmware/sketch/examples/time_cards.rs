//! Times the card search, the perspective warp and the normalization on camera frames:
//! `cargo run --release -p sentio-sketch --example time_cards -- FRAME.png...`
//! (e.g. the frames of `sentio data synth cards --frame 640x480`). Prints p50 and p99 over
//! five passes. The emoji CNN's own time is in models/zoo/emoji/report.md.

use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let frames: Vec<image::RgbImage> = std::env::args()
        .skip(1)
        .map(|path| image::open(path).map(|i| i.to_rgb8()))
        .collect::<Result<_, _>>()?;
    if frames.is_empty() {
        return Err("give camera frames (PNG or JPEG)".into());
    }
    let mut times: Vec<Duration> = Vec::new();
    let mut found = 0;
    for _ in 0..5 {
        for frame in &frames {
            let start = Instant::now();
            let search = sentio_sketch::find_card(frame)?;
            times.push(start.elapsed());
            found += usize::from(matches!(search, sentio_sketch::CardSearch::Card(_)));
        }
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
    let (w, h) = frames[0].dimensions();
    println!(
        "{} frames of {w}x{h}, 5 passes: card search + warp + normalization p50 {:.2} ms, p99 {:.2} ms ({found} cards found)",
        frames.len(),
        at(0.5),
        at(0.99)
    );
    Ok(())
}
