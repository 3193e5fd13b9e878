//! Procedural datasets: hand-drawn emoji ([`emoji`], `emoji8`, 64x64) and faces ([`faces`],
//! `fer7`, 48x48), written in the [`ImageFolder`](crate::ImageFolder) layout; and speech
//! ([`speech`], `ser8`, 16 kHz WAV by espeak-ng) in the [`AudioFolder`](crate::AudioFolder)
//! layout. Kiosk scenes ([`scenes`], `anp32`, 64x64 RGB, several labels per image) in the
//! [`SceneSet`](crate::SceneSet) layout.
//!
//! Image `i` of class `c` is drawn from the seed `derive_seed(seed, [c, i])`, so a dataset is a
//! pure function of `(per_class, seed)`: the same arguments give byte-identical PNGs, and a
//! bigger dataset with the same seed contains the smaller one.

mod cards;
mod emoji;
mod faces;
pub mod scenes;
pub mod speech;
mod tones;

use std::path::Path;

use image::GrayImage;
use sentio_models::labels::{EMOJI8, FER7, LabelSet};

use crate::folder::{DatasetInfo, INFO_VERSION, Staging, save_png};
use crate::rng::derive_seed;
use crate::{DataError, DatasetSummary};

pub use cards::{CardFrame, draw_card_frame};
pub use emoji::{
    EmojiDrawing, EmojiStyle, draw_raw as draw_emoji_raw, draw_styled as draw_emoji_styled,
};
pub use tones::tones;

/// Side of the emoji images.
pub const EMOJI_SIZE: u32 = emoji::SIZE;
/// Side of the face images.
pub const FACE_SIZE: u32 = faces::SIZE;
/// Images per class when the caller does not say.
pub const DEFAULT_PER_CLASS: usize = 500;

/// One hand-drawn emoji of `emoji8` class `class` (64x64; classes past 7 wrap around).
pub fn draw_emoji(class: usize, rng_seed: u64) -> GrayImage {
    emoji::draw(class, rng_seed)
}

/// One face with `fer7` expression `class` (48x48; classes past 6 wrap around).
pub fn draw_face(class: usize, rng_seed: u64) -> GrayImage {
    faces::draw(class, rng_seed)
}

/// The seed image `index` of class `class` is drawn from, in a dataset made with `seed`.
pub fn image_seed(seed: u64, class: usize, index: usize) -> u64 {
    derive_seed(seed, &[class as u64, index as u64])
}

/// Write `per_class` hand-drawn emoji of each `emoji8` class to `out`
/// (`out/<label>/<label>-<i>.png` and `out/dataset.json`), in the training styles.
/// `progress(done, total)` is called after each image. `out` must not exist or be empty; it
/// appears only when complete.
pub fn emoji(
    out: &Path,
    per_class: usize,
    seed: u64,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<DatasetSummary, DataError> {
    emoji_styles(out, per_class, seed, &EmojiStyle::TRAINING, progress)
}

/// [`emoji`] in the style families `styles` (e.g. [`EmojiStyle::HELD_OUT`] for the
/// generalization test set); the families are recorded in `dataset.json`'s generator line.
pub fn emoji_styles(
    out: &Path,
    per_class: usize,
    seed: u64,
    styles: &[EmojiStyle],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<DatasetSummary, DataError> {
    if styles.is_empty() {
        return Err(DataError::BadArgument(
            "no drawing style given: name at least one of classic, doodle, filled, marker".into(),
        ));
    }
    let names: Vec<&str> = styles.iter().map(|s| s.name()).collect();
    generate(
        out,
        &format!("emoji --styles {}", names.join(",")),
        &EMOJI8,
        EMOJI_SIZE,
        per_class,
        seed,
        &|class, seed| emoji::draw_styled(class, seed, styles),
        progress,
    )
}

/// Width and height of the card frames [`cards`] writes by default (a kiosk camera's frame,
/// shrunk as the device shrinks it for the card search).
pub const CARD_FRAME: (u32, u32) = (320, 240);

/// Write `per_class` camera frames of drawn cards of each `emoji8` class to `out`, RGB
/// `width x height` PNGs in the image-folder layout, emoji drawn in `styles`: the sketch mode's
/// test set (`sentio sketch --data`).
pub fn cards(
    out: &Path,
    per_class: usize,
    seed: u64,
    styles: &[EmojiStyle],
    (width, height): (u32, u32),
    progress: &mut dyn FnMut(usize, usize),
) -> Result<DatasetSummary, DataError> {
    if per_class == 0 || styles.is_empty() || width < 64 || height < 48 {
        return Err(DataError::BadArgument(
            "cards need --per-class >= 1, at least one style and frames of at least 64x48".into(),
        ));
    }
    let staging = Staging::begin(out)?;
    let labels: Vec<String> = EMOJI8.labels.iter().map(|l| l.to_string()).collect();
    staging.make_label_dirs(&labels)?;
    let total = per_class * labels.len();
    for (class, label) in labels.iter().enumerate() {
        for i in 0..per_class {
            let card = draw_card_frame(class, image_seed(seed, class, i), styles, width, height);
            let path = staging
                .path()
                .join(label)
                .join(format!("{label}-{i:05}.png"));
            save_png(&card.frame, &path)?;
            progress(class * per_class + i + 1, total);
        }
    }
    let names: Vec<&str> = styles.iter().map(|s| s.name()).collect();
    let info = synth_info(
        format!(
            "sentio-data {} synth cards --styles {}",
            env!("CARGO_PKG_VERSION"),
            names.join(",")
        ),
        EMOJI8.name,
        &labels,
        [width, height],
        per_class,
        seed,
    );
    let root = staging.finish(&info)?;
    Ok(DatasetSummary { root, info })
}

/// Side of the touch panel the stroke files of [`strokes`] are drawn for (a 240x240 display).
pub const STROKE_PANEL: u32 = 240;

/// Write `per_class` touch drawings of each `emoji8` class to `out`: one stroke file each
/// (`out/<label>/<label>-<i>.json`, sentio-hal's format, on a 240x240 panel), the strokes the
/// generator's hand drew for the same drawing as [`draw_emoji_raw`], with made-up times. What
/// `sentio sketch --data` replays as the touch panel.
pub fn strokes(
    out: &Path,
    per_class: usize,
    seed: u64,
    styles: &[EmojiStyle],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<DatasetSummary, DataError> {
    if per_class == 0 || styles.is_empty() {
        return Err(DataError::BadArgument(
            "strokes need --per-class >= 1 and at least one style".into(),
        ));
    }
    let staging = Staging::begin(out)?;
    let labels: Vec<String> = EMOJI8.labels.iter().map(|l| l.to_string()).collect();
    staging.make_label_dirs(&labels)?;
    let total = per_class * labels.len();
    let edge = STROKE_PANEL as f32 - 0.01;
    for (class, label) in labels.iter().enumerate() {
        for i in 0..per_class {
            let image_seed = image_seed(seed, class, i);
            let style = emoji::pick_style(image_seed, styles);
            let drawing = emoji::draw_raw(class, image_seed, style, STROKE_PANEL);
            // A stray mark or a hair may leave the page; a panel cannot report it.
            let strokes: Vec<Vec<[f32; 2]>> = drawing
                .strokes
                .iter()
                .map(|s| {
                    s.iter()
                        .map(|&[x, y]| [x.clamp(0.0, edge), y.clamp(0.0, edge)])
                        .collect()
                })
                .collect();
            let path = staging
                .path()
                .join(label)
                .join(format!("{label}-{i:05}.json"));
            let io = |e: sentio_hal::HalError| DataError::Io {
                action: "cannot write",
                path: path.clone(),
                source: std::io::Error::other(e.to_string()),
            };
            sentio_hal::StrokeFile::from_drawings(
                STROKE_PANEL,
                STROKE_PANEL,
                &[strokes],
                300,
                2000,
            )
            .and_then(|file| file.write(&path))
            .map_err(io)?;
            progress(class * per_class + i + 1, total);
        }
    }
    let names: Vec<&str> = styles.iter().map(|s| s.name()).collect();
    let info = synth_info(
        format!(
            "sentio-data {} synth strokes --styles {}",
            env!("CARGO_PKG_VERSION"),
            names.join(",")
        ),
        EMOJI8.name,
        &labels,
        [STROKE_PANEL, STROKE_PANEL],
        per_class,
        seed,
    );
    let root = staging.finish(&info)?;
    Ok(DatasetSummary { root, info })
}

/// Write `per_class` faces of each `fer7` expression to `out`, as [`emoji`] does.
pub fn faces(
    out: &Path,
    per_class: usize,
    seed: u64,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<DatasetSummary, DataError> {
    generate(
        out, "faces", &FER7, FACE_SIZE, per_class, seed, &draw_face, progress,
    )
}

/// The `dataset.json` of a generated image set.
fn synth_info(
    generator: String,
    label_set: &str,
    labels: &[String],
    image_size: [u32; 2],
    per_class: usize,
    seed: u64,
) -> DatasetInfo {
    DatasetInfo {
        version: INFO_VERSION,
        generator,
        label_set: label_set.to_string(),
        labels: labels.to_vec(),
        image_size: Some(image_size),
        per_class: vec![per_class; labels.len()],
        seed: Some(seed),
        source: None,
        usage: Vec::new(),
        skipped: 0,
        sample_rate: None,
        file_names: None,
        speakers: Vec::new(),
    }
}

#[allow(clippy::too_many_arguments)]
fn generate(
    out: &Path,
    generator: &str,
    set: &LabelSet,
    size: u32,
    per_class: usize,
    seed: u64,
    draw: &dyn Fn(usize, u64) -> GrayImage,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<DatasetSummary, DataError> {
    if per_class == 0 {
        return Err(DataError::BadArgument(
            "--per-class must be at least 1".into(),
        ));
    }
    let staging = Staging::begin(out)?;
    let labels: Vec<String> = set.labels.iter().map(|l| l.to_string()).collect();
    staging.make_label_dirs(&labels)?;
    let total = per_class * labels.len();
    let mut done = 0;
    for (class, label) in labels.iter().enumerate() {
        for i in 0..per_class {
            let image = draw(class, image_seed(seed, class, i));
            let path = staging
                .path()
                .join(label)
                .join(format!("{label}-{i:05}.png"));
            save_png(&image, &path)?;
            done += 1;
            progress(done, total);
        }
    }
    let info = synth_info(
        format!(
            "sentio-data {} synth {generator}",
            env!("CARGO_PKG_VERSION")
        ),
        set.name,
        &labels,
        [size, size],
        per_class,
        seed,
    );
    let root = staging.finish(&info)?;
    Ok(DatasetSummary { root, info })
}
