//! The Haar detector against OpenCV 4.x on the same images: the fixtures in
//! `tests/fixtures/haar/` and OpenCV's boxes for them (`opencv_boxes.json`, written by
//! `tests/faces/make_haar_fixtures.py`), with Debian opencv-data's frontal-face cascade.
//! Also: cascade files that cannot be used give errors naming the file and the problem.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use sentio_vision::VisionError;
use sentio_vision::face::{FaceBox, FaceDetector, Pixels};
use sentio_vision::haar::{Cascade, HaarDetector, HaarParams};

const CASCADE: &str = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/haar")
}

/// The cascade, or `None` (after saying so) when opencv-data is not installed; under CI its
/// absence fails the test.
fn cascade() -> Option<Cascade> {
    let path = Path::new(CASCADE);
    if !path.exists() {
        if std::env::var_os("CI").is_some() {
            panic!("{CASCADE} is missing: apt-get install opencv-data (CI must run this test)");
        }
        eprintln!("skipped: {CASCADE} is missing (apt-get install opencv-data)");
        return None;
    }
    Some(Cascade::from_file(path).unwrap())
}

// A small JSON reader for the fixture file (the crate has no JSON dependency).
#[derive(Debug, Clone)]
enum Json {
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
    Other,
}

impl Json {
    fn get(&self, key: &str) -> &Json {
        match self {
            Json::Obj(kv) => &kv.iter().find(|(k, _)| k == key).unwrap().1,
            _ => panic!("not an object: {self:?}"),
        }
    }
    fn arr(&self) -> &[Json] {
        match self {
            Json::Arr(v) => v,
            _ => panic!("not an array: {self:?}"),
        }
    }
    fn num(&self) -> f64 {
        match self {
            Json::Num(v) => *v,
            _ => panic!("not a number: {self:?}"),
        }
    }
    fn str(&self) -> &str {
        match self {
            Json::Str(s) => s,
            _ => panic!("not a string: {self:?}"),
        }
    }
}

fn parse_json(s: &[u8], i: &mut usize) -> Json {
    let ws = |i: &mut usize| {
        while *i < s.len() && s[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    ws(i);
    match s[*i] {
        b'{' => {
            *i += 1;
            let mut kv = Vec::new();
            loop {
                ws(i);
                if s[*i] == b'}' {
                    *i += 1;
                    return Json::Obj(kv);
                }
                let Json::Str(k) = parse_json(s, i) else {
                    panic!("key expected at {i}")
                };
                ws(i);
                assert_eq!(s[*i], b':');
                *i += 1;
                kv.push((k, parse_json(s, i)));
                ws(i);
                if s[*i] == b',' {
                    *i += 1;
                }
            }
        }
        b'[' => {
            *i += 1;
            let mut v = Vec::new();
            loop {
                ws(i);
                if s[*i] == b']' {
                    *i += 1;
                    return Json::Arr(v);
                }
                v.push(parse_json(s, i));
                ws(i);
                if s[*i] == b',' {
                    *i += 1;
                }
            }
        }
        b'"' => {
            let start = *i + 1;
            *i = start;
            while s[*i] != b'"' {
                *i += if s[*i] == b'\\' { 2 } else { 1 };
            }
            *i += 1;
            Json::Str(String::from_utf8_lossy(&s[start..*i - 1]).into_owned())
        }
        _ => {
            let start = *i;
            while *i < s.len() && !b",]} \n\r\t".contains(&s[*i]) {
                *i += 1;
            }
            let t = std::str::from_utf8(&s[start..*i]).unwrap();
            t.parse().map(Json::Num).unwrap_or(Json::Other)
        }
    }
}

/// Detections of both for one image: pairs matched greedily by IoU.
fn matched(ours: &[FaceBox], theirs: &[FaceBox]) -> Vec<(f32, usize, usize)> {
    let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
    for (i, a) in ours.iter().enumerate() {
        for (j, b) in theirs.iter().enumerate() {
            pairs.push((a.iou(b), i, j));
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut used_a, mut used_b) = (vec![false; ours.len()], vec![false; theirs.len()]);
    let mut out = Vec::new();
    for (iou, i, j) in pairs {
        if !used_a[i] && !used_b[j] {
            used_a[i] = true;
            used_b[j] = true;
            out.push((iou, i, j));
        }
    }
    out
}

#[test]
fn boxes_match_opencv_on_the_fixtures() {
    let Some(cascade) = cascade() else { return };
    assert_eq!(cascade.window(), (24, 24));
    assert_eq!(cascade.stage_count(), 25);
    assert_eq!(cascade.weak_count(), 2913);
    let text = std::fs::read(fixtures().join("opencv_boxes.json")).unwrap();
    let doc = parse_json(&text, &mut 0);
    let p = doc.get("params");
    let params = HaarParams {
        scale_factor: p.get("scale_factor").num() as f32,
        min_neighbors: p.get("min_neighbors").num() as u32,
        min_size: p.get("min_size").num() as u32,
        max_size: 0,
    };
    let mut detector = HaarDetector::new(cascade, params);
    let (mut images, mut boxes, mut exact, mut same_score) = (0, 0, 0, 0);
    let mut report = Vec::new();
    for entry in doc.get("images").arr() {
        let file = entry.get("file").str();
        let image = sentio_vision::decode_image(&fixtures().join(file)).unwrap();
        let (gray, rgb);
        let pixels = if entry.get("channels").num() as usize == 1 {
            gray = image.to_luma8();
            Pixels::new(gray.width(), gray.height(), 1, gray.as_raw()).unwrap()
        } else {
            rgb = image.to_rgb8();
            Pixels::of_rgb(&rgb)
        };
        assert_eq!(pixels.width as f64, entry.get("width").num(), "{file}");
        let want: Vec<FaceBox> = entry
            .get("boxes")
            .arr()
            .iter()
            .map(|b| {
                let v: Vec<f32> = b.arr().iter().map(|n| n.num() as f32).collect();
                FaceBox::new(v[0], v[1], v[2], v[3], v[4])
            })
            .collect();
        let got = detector.detect(&pixels).unwrap();
        assert_eq!(
            got.len(),
            want.len(),
            "{file}: {} boxes, OpenCV found {}\n  ours:   {got:?}\n  OpenCV: {want:?}",
            got.len(),
            want.len()
        );
        for (iou, i, j) in matched(&got, &want) {
            assert!(
                iou >= 0.9,
                "{file}: box {:?} matches OpenCV's {:?} with IoU {iou:.3} only",
                got[i],
                want[j]
            );
            let same = |a: &FaceBox, b: &FaceBox| (a.x, a.y, a.w, a.h) == (b.x, b.y, b.w, b.h);
            exact += usize::from(same(&got[i], &want[j]));
            same_score += usize::from(got[i].score == want[j].score);
        }
        // Best first: the window counts never increase.
        assert!(got.windows(2).all(|w| w[0].score >= w[1].score), "{file}");
        images += 1;
        boxes += want.len();
        report.push(format!("{file}: {}", want.len()));
    }
    println!(
        "{images} images, {boxes} OpenCV boxes: {boxes} matched at IoU >= 0.9, {exact} exact, \
         {same_score} with the same window count ({})",
        report.join(", ")
    );
    assert!(images >= 6 && boxes >= 20, "the fixtures hold too little");
}

#[test]
fn a_gray_image_and_its_rgb_give_the_same_boxes() {
    let Some(cascade) = cascade() else { return };
    let image = sentio_vision::decode_image(&fixtures().join("astronaut_320x240.png")).unwrap();
    let rgb = image.to_rgb8();
    let gray: Vec<u8> = Pixels::of_rgb(&rgb).to_gray();
    let mut d = HaarDetector::new(cascade, HaarParams::default());
    let a = d.detect(&Pixels::of_rgb(&rgb)).unwrap();
    let b = d
        .detect(&Pixels::new(rgb.width(), rgb.height(), 1, &gray).unwrap())
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(a.len(), 1, "{a:?}");
}

#[test]
fn min_and_max_size_bound_the_boxes() {
    let Some(cascade) = cascade() else { return };
    let image = sentio_vision::decode_image(&fixtures().join("lfw_mosaic_640x480.png")).unwrap();
    let rgb = image.to_rgb8();
    let all = HaarDetector::new(cascade.clone(), HaarParams::default())
        .detect(&Pixels::of_rgb(&rgb))
        .unwrap();
    let params = HaarParams {
        min_size: 84,
        max_size: 200,
        ..HaarParams::default()
    };
    let big = HaarDetector::new(cascade, params)
        .detect(&Pixels::of_rgb(&rgb))
        .unwrap();
    assert!(!big.is_empty() && big.len() < all.len(), "{big:?}");
    // Each window is at least min_size; a group's mean may round a pixel under it.
    assert!(big.iter().all(|b| b.w >= 83.0 && b.w <= 200.0), "{big:?}");
}

fn write_temp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sentio-haar-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The error's message and, on the next line, what its help says.
fn error_of(path: &Path) -> String {
    match Cascade::from_file(path) {
        Err(e @ VisionError::Cascade { .. }) => {
            let help = miette::Diagnostic::help(&e).map(|h| h.to_string());
            format!("{e}\n{}", help.unwrap_or_default())
        }
        Err(e) => panic!("{}: not a Cascade error: {e}", path.display()),
        Ok(_) => panic!("{}: accepted", path.display()),
    }
}

#[test]
fn bad_cascade_files_name_the_file_and_the_problem() {
    // Not XML at all.
    let p = write_temp("notes.xml", "this is not xml\n");
    let e = error_of(&p);
    assert!(
        e.contains("notes.xml") && e.contains("not well-formed XML"),
        "{e}"
    );
    assert!(e.contains("opencv-data"), "the help line is missing: {e}");

    // XML, but not a cascade.
    let p = write_temp(
        "camera.xml",
        "<?xml version=\"1.0\"?><opencv_storage><camera_matrix>1 0 0</camera_matrix></opencv_storage>",
    );
    let e = error_of(&p);
    assert!(
        e.contains("camera.xml") && e.contains("not a cascade"),
        "{e}"
    );

    // An LBP cascade.
    let p = write_temp(
        "lbp.xml",
        "<opencv_storage><cascade><stageType>BOOST</stageType><featureType>LBP</featureType>\
         </cascade></opencv_storage>",
    );
    let e = error_of(&p);
    assert!(e.contains("lbp.xml") && e.contains("HAAR"), "{e}");

    // Missing file.
    let e = error_of(Path::new("/nonexistent/cascade.xml"));
    assert!(
        e.contains("/nonexistent/cascade.xml") && e.contains("cannot read"),
        "{e}"
    );

    let Some(_) = cascade() else { return };
    let real = std::fs::read_to_string(CASCADE).unwrap();

    // Truncated in the middle.
    let p = write_temp("truncated.xml", &real[..real.len() / 2]);
    let e = error_of(&p);
    assert!(
        e.contains("truncated.xml") && e.contains("truncated"),
        "{e}"
    );

    // A node with 3 numbers instead of 4.
    let broken = real.replacen(
        "<internalNodes>\n            0 -1 0 -3.1511999666690826e-02</internalNodes>",
        "<internalNodes>\n            0 -1 0</internalNodes>",
        1,
    );
    assert_ne!(
        broken, real,
        "the first node of the cascade changed; update this test"
    );
    let p = write_temp("three_numbers.xml", &broken);
    let e = error_of(&p);
    assert!(
        e.contains("three_numbers.xml")
            && e.contains("stage 0, weak classifier 0")
            && e.contains("4 per node"),
        "{e}"
    );

    // A stage that lost a weak classifier (its maxWeakCount says 9).
    let start = real.find("<weakClassifiers>").unwrap() + "<weakClassifiers>".len();
    let end = start + real[start..].find("</_>").unwrap() + "</_>".len();
    let p = write_temp(
        "missing_weak.xml",
        &format!("{}{}", &real[..start], &real[end..]),
    );
    let e = error_of(&p);
    assert!(
        e.contains("missing_weak.xml") && e.contains("stage 0") && e.contains("declares 9"),
        "{e}"
    );

    // A feature rectangle outside the 24x24 window.
    let broken = real.replacen("6 4 12 9 -1.", "16 4 12 9 -1.", 1);
    let p = write_temp("outside.xml", &broken);
    let e = error_of(&p);
    assert!(
        e.contains("outside.xml") && e.contains("feature 0") && e.contains("does not fit"),
        "{e}"
    );

    // A node pointing at a feature that does not exist.
    let broken = real.replacen(
        "0 -1 0 -3.1511999666690826e-02",
        "0 -1 99999 -3.1511999666690826e-02",
        1,
    );
    let p = write_temp("feature_index.xml", &broken);
    let e = error_of(&p);
    assert!(
        e.contains("feature_index.xml") && e.contains("feature 99999"),
        "{e}"
    );
}
