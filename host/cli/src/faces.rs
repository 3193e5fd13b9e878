//! `sentio faces`: the device's face detectors (a Haar cascade evaluated in Rust, or BlazeFace
//! through sentio-infer) on image files, with the boxes printed per image (a JSON line each with
//! `--json`) and the detection time (the median of `--repeat N` runs).

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use miette::{Result, WrapErr, bail};
use sentio_infer::bench::{self, Budget};
use sentio_models::FER7;
use sentio_vision::blazeface::{BlazeFace, BlazeFaceParams};
use sentio_vision::expression::{ExpressionModel, top_label};
use sentio_vision::face::{FaceBox, FaceDetector, Pixels, face_crop};
use sentio_vision::haar::{Cascade, HaarDetector, HaarParams};
use serde_json::json;

/// Debian's opencv-data puts OpenCV's cascades here.
const DEFAULT_CASCADE: &str = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";

/// Which detector runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Detector {
    /// OpenCV's Haar cascade (`--cascade`), evaluated in Rust as OpenCV does.
    Haar,
    /// MediaPipe's BlazeFace short-range model (`--blazeface`) through sentio-infer.
    Blazeface,
}

/// `sentio faces`.
#[derive(Args, Debug)]
pub struct FacesArgs {
    /// PNG or JPEG images.
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<PathBuf>,
    /// The detector.
    #[arg(long, value_enum, default_value = "haar")]
    pub detector: Detector,
    /// The Haar cascade XML (OpenCV's format; `apt-get install opencv-data` provides them).
    #[arg(long, value_name = "FILE", default_value = DEFAULT_CASCADE)]
    pub cascade: PathBuf,
    /// The BlazeFace ONNX model (models/zoo/blazeface/fetch.sh fetches it).
    #[arg(
        long,
        value_name = "FILE",
        default_value = "models/zoo/blazeface/model.onnx"
    )]
    pub blazeface: PathBuf,
    /// Haar: ratio between two scales of the pyramid (OpenCV's scaleFactor), > 1.
    #[arg(long, default_value_t = 1.1)]
    pub scale_factor: f32,
    /// Haar: windows a face needs (OpenCV's minNeighbors).
    #[arg(long, default_value_t = 3)]
    pub min_neighbors: u32,
    /// Haar: smallest face side in pixels (OpenCV's minSize).
    #[arg(long, default_value_t = 24)]
    pub min_size: u32,
    /// Detect N times per image and report the median time.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub repeat: u32,
    /// Also read each face's expression with this FER model (its manifest beside it, as
    /// `sentio run` finds it): the crop and preprocessing the device uses.
    #[arg(long, value_name = "MODEL")]
    pub fer: Option<PathBuf>,
    /// One JSON line per image instead of text.
    #[arg(long)]
    pub json: bool,
}

/// What `faces` found in one image.
pub struct ImageFaces<'a> {
    pub path: &'a Path,
    pub width: u32,
    pub height: u32,
    pub detector: &'a str,
    pub detect_ms: f64,
    pub faces: &'a [FaceBox],
    /// fer7 scores per face (with `--fer`).
    pub expressions: &'a [Vec<f32>],
}

fn detector(args: &FacesArgs) -> Result<Box<dyn FaceDetector>> {
    Ok(match args.detector {
        Detector::Haar => {
            if !(args.scale_factor > 1.0 && args.scale_factor.is_finite()) {
                bail!(
                    code = "usage::faces::scale_factor",
                    help = "OpenCV's default is 1.1",
                    "--scale-factor {} must be above 1",
                    args.scale_factor
                );
            }
            let cascade = Cascade::from_file(&args.cascade)
                .with_context(|| format!("loading the cascade {}", args.cascade.display()))?;
            let params = HaarParams {
                scale_factor: args.scale_factor,
                min_neighbors: args.min_neighbors,
                min_size: args.min_size,
                max_size: 0,
            };
            Box::new(HaarDetector::new(cascade, params))
        }
        Detector::Blazeface => Box::new(
            BlazeFace::load(
                &args.blazeface,
                BlazeFaceParams::default(),
                &sentio_infer::LoadOptions::new(),
            )
            .with_context(|| format!("loading BlazeFace from {}", args.blazeface.display()))?,
        ),
    })
}

/// One face as JSON, with its expression when there is one.
fn face_json(f: &FaceBox, expression: Option<&Vec<f32>>) -> serde_json::Value {
    let r = |v: f32| (f64::from(v) * 100.0).round() / 100.0;
    let mut face = json!({
        "x": r(f.x),
        "y": r(f.y),
        "w": r(f.w),
        "h": r(f.h),
        "score": r(f.score),
        "keypoints": f.keypoints.iter().map(|[x, y]| [r(*x), r(*y)]).collect::<Vec<_>>(),
    });
    if let Some(scores) = expression {
        let (label, score) = top_label(scores).unwrap_or(("?", 0.0));
        face["expression"] = json!({
            "label": label,
            "score": score,
            "scores": FER7.labels.iter().zip(scores).map(|(l, s)| json!({"label": l, "score": s})).collect::<Vec<_>>(),
        });
    }
    face
}

/// One face for people.
fn face_text(i: usize, f: &FaceBox, expression: Option<&Vec<f32>>) -> String {
    let mut s = format!(
        "  face {i}: x {:.0} y {:.0} w {:.0} h {:.0} score {}",
        f.x,
        f.y,
        f.w,
        f.h,
        if f.score.fract() == 0.0 {
            format!("{:.0}", f.score)
        } else {
            format!("{:.3}", f.score)
        }
    );
    if !f.keypoints.is_empty() {
        let kp: Vec<String> = f
            .keypoints
            .iter()
            .map(|[x, y]| format!("({x:.0}, {y:.0})"))
            .collect();
        s.push_str(&format!(" keypoints {}", kp.join(" ")));
    }
    if let Some((label, score)) = expression.and_then(|e| top_label(e)) {
        s.push_str(&format!(" expression {label} {score:.3}"));
    }
    s
}

/// Prints what was found in one image: a JSON line, or a header line and a line per face.
pub fn print_image(found: &ImageFaces<'_>, as_json: bool) {
    if as_json {
        let line = json!({
            "image": found.path.display().to_string(),
            "width": found.width,
            "height": found.height,
            "detector": found.detector,
            "detect_ms": (found.detect_ms * 1000.0).round() / 1000.0,
            "faces": found.faces.iter().enumerate().map(|(i, f)| face_json(f, found.expressions.get(i))).collect::<Vec<_>>(),
        });
        println!("{line}");
        return;
    }
    println!(
        "{}: {}x{}, {} face(s) by {} in {:.2} ms",
        found.path.display(),
        found.width,
        found.height,
        found.faces.len(),
        found.detector,
        found.detect_ms
    );
    for (i, f) in found.faces.iter().enumerate() {
        println!("{}", face_text(i, f, found.expressions.get(i)));
    }
}

/// The expression model of `--fer`, with its manifest found as `sentio run` finds it.
fn expression_model(path: &Path) -> Result<ExpressionModel> {
    let Some(manifest) = crate::infer::find_manifest(path, None)? else {
        bail!(
            code = "data::faces::no_manifest",
            help = format!("write one with `sentio manifest init {}`", path.display()),
            "{}: no manifest beside it (<stem>.manifest.json or manifest.json)",
            path.display()
        );
    };
    let bytes = crate::infer::read_model(path)?;
    Ok(sentio_vision::expression::load(
        &manifest.manifest,
        &bytes,
        &path.display().to_string(),
        &sentio_infer::LoadOptions::new(),
    )?)
}

pub fn run(args: &FacesArgs) -> Result<()> {
    let mut det = detector(args)?;
    let mut fer = args.fer.as_deref().map(expression_model).transpose()?;
    let repeat = args.repeat.max(1);
    for path in &args.images {
        let image = sentio_vision::decode_image(path)
            .with_context(|| format!("reading {}", path.display()))?;
        let rgb = image.to_rgb8();
        let pixels = Pixels::of_rgb(&rgb);
        let mut faces = Vec::new();
        let times = bench::time(
            || -> Result<()> {
                faces = det
                    .detect(&pixels)
                    .with_context(|| format!("detecting faces in {}", path.display()))?;
                Ok(())
            },
            0,
            Budget::Runs(repeat as usize),
        )?;
        let mut expressions = Vec::new();
        if let Some(model) = fer.as_mut() {
            for face in &faces {
                let crop = face_crop(&pixels, face, model.margin);
                expressions.push(model.scores(&crop)?);
            }
        }
        let detect_ms = times.p50().as_secs_f64() * 1e3;
        print_image(
            &ImageFaces {
                path,
                width: rgb.width(),
                height: rgb.height(),
                detector: det.name(),
                detect_ms,
                faces: &faces,
                expressions: &expressions,
            },
            args.json,
        );
    }
    Ok(())
}
