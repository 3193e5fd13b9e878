//! Training curves as a PNG: loss and accuracy per epoch, train and validation (drawn with
//! [`crate::draw`]).

use std::path::Path;

use image::{Rgb, RgbImage};

use crate::draw::{fill, line, text, text_width};
use crate::error::Result;
use crate::files;
use crate::progress::History;

const WIDTH: u32 = 960;
const HEIGHT: u32 = 400;
const TRAIN: Rgb<u8> = Rgb([31, 119, 180]);
const VAL: Rgb<u8> = Rgb([255, 127, 14]);
const BEST: Rgb<u8> = Rgb([44, 160, 44]);
const INK: Rgb<u8> = Rgb([40, 40, 40]);
const GRID: Rgb<u8> = Rgb([225, 225, 225]);
const WHITE: Rgb<u8> = Rgb([255, 255, 255]);

/// Draws the curves of `history` (two panels: loss, accuracy; blue train, orange validation,
/// a green line at the kept epoch).
pub fn curves(history: &History) -> RgbImage {
    let mut img = RgbImage::from_pixel(WIDTH, HEIGHT, WHITE);
    let epochs: Vec<f32> = history.epochs.iter().map(|e| e.epoch as f32).collect();
    let best = history.best_epoch.map(|e| e as f32);
    let loss_max = history
        .epochs
        .iter()
        .flat_map(|e| [e.train_loss, e.val_loss])
        .filter(|v| v.is_finite())
        .fold(0.0f32, f32::max)
        .max(1e-3)
        * 1.05;
    let acc_min = history
        .epochs
        .iter()
        .flat_map(|e| [e.train_accuracy, e.val_accuracy])
        .fold(1.0f32, f32::min);
    let acc_min = ((acc_min * 10.0).floor() / 10.0).clamp(0.0, 0.9);
    let panel_w = WIDTH / 2;
    panel(
        &mut img,
        0,
        panel_w,
        "LOSS",
        (0.0, loss_max),
        &epochs,
        &[
            (history.epochs.iter().map(|e| e.train_loss).collect(), TRAIN),
            (history.epochs.iter().map(|e| e.val_loss).collect(), VAL),
        ],
        best,
    );
    panel(
        &mut img,
        panel_w,
        panel_w,
        "ACCURACY",
        (acc_min, 1.0),
        &epochs,
        &[
            (
                history.epochs.iter().map(|e| e.train_accuracy).collect(),
                TRAIN,
            ),
            (history.epochs.iter().map(|e| e.val_accuracy).collect(), VAL),
        ],
        best,
    );
    // Legend, top right.
    let (lx, ly) = (WIDTH - 230, 8);
    fill(&mut img, lx, ly + 3, 16, 4, TRAIN);
    text(&mut img, lx + 22, ly, "TRAIN", INK);
    fill(&mut img, lx + 80, ly + 3, 16, 4, VAL);
    text(&mut img, lx + 102, ly, "VAL", INK);
    fill(&mut img, lx + 146, ly, 3, 10, BEST);
    text(&mut img, lx + 156, ly, "BEST", INK);
    img
}

/// Writes [`curves`] of `history` to `path` as PNG.
pub fn write_curves(history: &History, path: &Path) -> Result<()> {
    files::write_png(path, &curves(history))
}

#[allow(clippy::too_many_arguments)]
fn panel(
    img: &mut RgbImage,
    x0: u32,
    w: u32,
    title: &str,
    (lo, hi): (f32, f32),
    epochs: &[f32],
    series: &[(Vec<f32>, Rgb<u8>)],
    best: Option<f32>,
) {
    let (left, right, top, bottom) = (x0 + 56, x0 + w - 16, 30u32, HEIGHT - 40);
    let (pw, ph) = ((right - left) as f32, (bottom - top) as f32);
    let e_max = epochs.iter().copied().fold(1.0f32, f32::max);
    let e_min = epochs.iter().copied().fold(e_max, f32::min).min(1.0);
    let span = (e_max - e_min).max(1.0);
    let px = |e: f32| left as f32 + (e - e_min) / span * pw;
    let py = |v: f32| bottom as f32 - ((v - lo) / (hi - lo).max(1e-6)).clamp(0.0, 1.0) * ph;

    text(img, left, 10, title, INK);
    // Horizontal grid and value labels.
    for i in 0..=5 {
        let v = lo + (hi - lo) * i as f32 / 5.0;
        let y = py(v).round() as u32;
        fill(img, left, y, right - left, 1, GRID);
        let label = if hi <= 1.0 && lo >= 0.0 && title == "ACCURACY" {
            format!("{:.0}%", v * 100.0)
        } else {
            format!("{v:.2}")
        };
        let lw = text_width(&label);
        text(
            img,
            left.saturating_sub(lw + 6),
            y.saturating_sub(5),
            &label,
            INK,
        );
    }
    // Epoch ticks: about 10 labels at most.
    let step = ((span / 10.0).ceil() as usize).max(1);
    let mut e = e_min as usize;
    while e as f32 <= e_max {
        let x = px(e as f32).round() as u32;
        fill(img, x, bottom, 1, 4, INK);
        let label = e.to_string();
        text(
            img,
            x.saturating_sub(text_width(&label) / 2),
            bottom + 8,
            &label,
            INK,
        );
        e += step;
    }
    text(img, (left + right) / 2 - 20, HEIGHT - 14, "EPOCH", INK);
    // Axes.
    fill(img, left, top, 1, bottom - top + 1, INK);
    fill(img, left, bottom, right - left + 1, 1, INK);
    if let Some(b) = best {
        let x = px(b).round() as u32;
        fill(img, x, top, 2, bottom - top, BEST);
    }
    for (values, color) in series {
        let points: Vec<(f32, f32)> = epochs
            .iter()
            .zip(values)
            .filter(|(_, v)| v.is_finite())
            .map(|(e, v)| (px(*e), py(*v)))
            .collect();
        for pair in points.windows(2) {
            line(img, pair[0], pair[1], *color);
        }
        for &(x, y) in &points {
            fill(
                img,
                (x - 2.0).max(0.0) as u32,
                (y - 2.0).max(0.0) as u32,
                5,
                5,
                *color,
            );
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::progress::EpochRecord;

    #[test]
    fn draws_both_series() {
        let epochs = (1..=12)
            .map(|e| EpochRecord {
                epoch: e,
                train_loss: 2.0 / e as f32,
                train_accuracy: 1.0 - 0.5 / e as f32,
                val_loss: 2.2 / e as f32,
                val_accuracy: 1.0 - 0.6 / e as f32,
                seconds: 1.0,
                learning_rate: 1e-3,
                best: e == 10,
            })
            .collect();
        let history = History {
            epochs,
            best_epoch: Some(10),
            stopped_early: false,
            interrupted: false,
        };
        let img = curves(&history);
        assert_eq!(img.dimensions(), (WIDTH, HEIGHT));
        let count = |c: Rgb<u8>| img.pixels().filter(|p| **p == c).count();
        assert!(count(TRAIN) > 500, "train line drawn");
        assert!(count(VAL) > 500, "validation line drawn");
        assert!(count(BEST) > 100, "best epoch marked");
        // Empty history draws axes without panicking.
        let _ = curves(&History::default());
    }
}
