#!/usr/bin/env python3
"""Benchmarks face detection: Sentio's Haar cascade in Rust, BlazeFace, and OpenCV's Haar.

Recall (at IoU >= 0.4 against ground-truth boxes written down here) and the median detection
time per image, one thread, on the same images:

- photos: scikit-image's `astronaut` (public domain) and mosaics of `lfw_subset` faces (built by
  tests/faces/make_haar_fixtures.py's functions) at 320x240 and 640x480. The astronaut's face box
  was checked by eye (it is also OpenCV's box within a few pixels); a mosaic's boxes are the tiles
  its faces were pasted on;
- procedural faces: `sentio data synth faces --per-class 2` (48x48 drawn faces, one of each
  class per image), pasted at 1x and 2x on 640x480 backgrounds.

Sentio runs as `target/release/sentio faces IMAGE... --json --repeat N` (the median of N
detections per image, decoding excluded, the RGB-to-gray conversion included); BlazeFace the
same with `--detector blazeface` when models/zoo/blazeface/model.onnx exists; OpenCV as
cv2.CascadeClassifier.detectMultiScale on cv2.cvtColor(RGB2GRAY) (both timed), scaleFactor 1.1,
minNeighbors 3, minSize (24, 24), cv2.setNumThreads(1), the median of N in this process.

    pip install "opencv-python-headless<5" scikit-image; apt-get install opencv-data
    python3 tests/bench/bench_faces.py          # builds the release sentio binary first
"""

import argparse
import datetime
import json
import pathlib
import statistics
import subprocess
import sys
import time

import cv2
import numpy as np
from skimage import data

from benchdoc import replace_section

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "faces"))
from make_haar_fixtures import CASCADE, PARAMS, fit, lfw_mosaic  # noqa: E402

SECTION = "## Face detection"
BLAZEFACE = ROOT / "models" / "zoo" / "blazeface" / "model.onnx"
IOU = 0.4
# The astronaut's face in the 512x512 original (x, y, w, h), checked by eye: forehead to chin,
# ear to ear of the visible face.
ASTRONAUT_FACE = (176, 65, 97, 97)


def sh(cmd):
    res = subprocess.run([str(c) for c in cmd], cwd=ROOT, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"command failed ({res.returncode}): {' '.join(map(str, cmd))}\n{res.stdout}\n{res.stderr}")
    return res.stdout


def cpu_model():
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def astronaut(width, height):
    """The astronaut photo fitted to width x height (as the fixtures are) and its face box."""
    img = fit(data.astronaut(), width, height)
    # fit() crops 512x384 from the top, then scales.
    s = width / 512
    x, y, w, h = ASTRONAUT_FACE
    return img, [(x * s, y * s, w * s, h * s)]


def mosaic(width, height, cols, rows, face_px, start, seed):
    """An LFW mosaic and its tiles."""
    img = lfw_mosaic(width, height, cols, rows, face_px, start, seed)
    tw, th = width // cols, height // rows
    boxes = [
        (c * tw + (tw - face_px) // 2, r * th + (th - face_px) // 2, face_px, face_px)
        for r in range(rows)
        for c in range(cols)
    ]
    return img, boxes


def procedural(sentio, work):
    """Two 640x480 images of drawn faces (one per class), at 48 px and at 96 px."""
    synth = work / "synth_faces"
    if not synth.exists():
        sh([sentio, "data", "synth", "faces", "--out", synth, "--per-class", "2", "--seed", "1"])
    files = sorted(p for p in synth.rglob("*.png"))
    classes = {}
    for f in files:
        classes.setdefault(f.parent.name, f)
    faces = [cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB) for f in classes.values()]
    rng = np.random.default_rng(5)
    out = []
    for scale in (1, 2):
        bg = np.full((480, 640, 3), 150, np.uint8)
        ramp = np.linspace(-30, 30, 640)[None, :, None]
        bg = np.clip(bg + ramp + rng.normal(0, 5, bg.shape), 0, 255).astype(np.uint8)
        boxes = []
        cols = 4
        for i, face in enumerate(faces):
            side = face.shape[0] * scale
            big = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
            x = 30 + (i % cols) * 150 + int(rng.integers(0, 20))
            y = 40 + (i // cols) * 210 + int(rng.integers(0, 20))
            bg[y : y + side, x : x + side] = big
            boxes.append((x, y, side, side))
        out.append((f"procedural_{face.shape[0] * scale}px_640x480.png", bg, boxes))
    return out


def image_sets(sentio, work):
    """(set name, resolution, [(file name, RGB image, ground-truth boxes)])."""
    sets = []
    for w, h in [(320, 240), (640, 480)]:
        a, a_gt = astronaut(w, h)
        items = [(f"astronaut_{w}x{h}.png", a, a_gt)]
        if w == 320:
            items.append(("lfw_mosaic_320x240.png", *mosaic(320, 240, 4, 3, 56, 0, 1)))
            items.append(("lfw_small_320x240.png", *mosaic(320, 240, 6, 5, 40, 40, 3)))
        else:
            items.append(("lfw_mosaic_640x480.png", *mosaic(640, 480, 5, 4, 90, 12, 2)))
            items.append(("lfw_mosaic_b_640x480.png", *mosaic(640, 480, 4, 3, 110, 60, 4)))
        sets.append(("photos (astronaut, LFW mosaics)", f"{w}x{h}", items))
    sets.append(("procedural faces (sentio data synth)", "640x480", procedural(sentio, work)))
    return sets


def iou(a, b):
    ix = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    iy = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = max(ix, 0) * max(iy, 0)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def hits(found, truth):
    """Ground-truth boxes matched one-to-one by a found box at IoU >= 0.4 (greedy, best first)."""
    pairs = sorted(
        ((iou(f, t), i, j) for i, f in enumerate(found) for j, t in enumerate(truth)), reverse=True
    )
    used_f, used_t = set(), set()
    for v, i, j in pairs:
        if v >= IOU and i not in used_f and j not in used_t:
            used_f.add(i)
            used_t.add(j)
    return len(used_t)


def run_sentio(sentio, paths, detector, repeat):
    out = sh([sentio, "faces", *paths, "--detector", detector, "--blazeface", BLAZEFACE,
              "--json", "--repeat", repeat])
    res = {}
    for line in out.splitlines():
        doc = json.loads(line)
        res[doc["image"]] = ([(f["x"], f["y"], f["w"], f["h"]) for f in doc["faces"]], doc["detect_ms"])
    return res


def run_opencv(cascade, img, repeat):
    times, boxes = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        boxes = cascade.detectMultiScale(
            gray, scaleFactor=PARAMS["scale_factor"], minNeighbors=PARAMS["min_neighbors"],
            minSize=(PARAMS["min_size"], PARAMS["min_size"]),
        )
        times.append((time.perf_counter() - t) * 1e3)
    return [tuple(map(float, b)) for b in boxes], statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-build", action="store_true", help="use the release binary already built")
    ap.add_argument("--work", type=pathlib.Path, default=ROOT / "target" / "bench-faces")
    ap.add_argument("--repeat", type=int, default=5, help="detections per image (median)")
    ap.add_argument("--doc", type=pathlib.Path, default=ROOT / "docs" / "benchmarks.md")
    args = ap.parse_args()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    sentio = ROOT / "target" / "release" / "sentio"
    if not args.no_build:
        print("building sentio ...", flush=True)
        sh(["cargo", "build", "--release", "-p", "sentio"])
    if not CASCADE.exists():
        sys.exit(f"{CASCADE} is missing: apt-get install opencv-data")
    cv2.setNumThreads(1)
    cascade = cv2.CascadeClassifier(str(CASCADE))
    detectors = ["haar"] + (["blazeface"] if BLAZEFACE.exists() else [])
    if not BLAZEFACE.exists():
        print(f"{BLAZEFACE.relative_to(ROOT)} is missing: BlazeFace left out")

    rows, agree = [], [0, 0]
    for name, res, items in image_sets(sentio, work):
        paths = []
        for fname, img, _ in items:
            p = work / fname
            cv2.imwrite(str(p), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
            paths.append(p)
        n_truth = sum(len(gt) for _, _, gt in items)
        cv_hits, cv_ms, cv_boxes = 0, [], {}
        for (fname, img, gt), p in zip(items, paths):
            boxes, ms = run_opencv(cascade, img, args.repeat)
            cv_hits += hits(boxes, gt)
            cv_ms.append(ms)
            cv_boxes[str(p)] = boxes
        cv_med = statistics.median(cv_ms)
        for det in detectors:
            found = run_sentio(sentio, paths, det, args.repeat)
            n_hits = sum(hits(found[str(p)][0], gt) for p, (_, _, gt) in zip(paths, items))
            med = statistics.median(found[str(p)][1] for p in paths)
            if det == "haar":
                for p in paths:
                    ours, theirs = sorted(found[str(p)][0]), sorted(cv_boxes[str(p)])
                    agree[0] += len(theirs)
                    agree[1] += sum(1 for b in theirs if b in ours) if len(ours) == len(theirs) else 0
            label = {"haar": "Sentio Haar (Rust)", "blazeface": "Sentio BlazeFace (tract)"}[det]
            rows.append((label, name, res, len(items), n_hits, n_truth, med, med / cv_med))
        rows.append(("OpenCV 4 Haar", name, res, len(items), cv_hits, n_truth, cv_med, 1.0))
        for r in rows[-len(detectors) - 1:]:
            print(r, flush=True)

    lines = [
        SECTION,
        "",
        "```",
        "python3 tests/bench/bench_faces.py",
        "```",
        "",
        f"Recall at IoU >= {IOU} against ground-truth boxes (the script's), and the median time per "
        f"image (median of {args.repeat} detections each), one thread. Haar: "
        "haarcascade_frontalface_default.xml, scale factor 1.1, 3 neighbours, 24 px; times include "
        "the RGB-to-gray conversion. BlazeFace: the short-range 128x128 model, letterboxed.",
        "",
        "| detector | image set | resolution | images | recall | median ms/image | ratio to OpenCV |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, name, res, n, h, t, med, ratio in rows:
        lines.append(f"| {label} | {name} | {res} | {n} | {h}/{t} = {100 * h / t:.0f}% | {med:.2f} | {ratio:.2f}x |")
    lines += [
        "",
        f"Sentio's Haar boxes equal OpenCV's on {agree[1]} of {agree[0]} OpenCV boxes of these images "
        "(the conformance test, firmware/vision/tests/haar_conformance.rs, checks its fixtures).",
        "",
        "The machine is shared with builds (2 cores): read the ratios of one run, not the "
        "milliseconds. Runs on 2026-12-06 gave Sentio Haar / OpenCV between 0.23x and 0.79x per "
        "row (goal 0.5x). BlazeFace sees the whole frame letterboxed to 128x128, so the mosaics' "
        "40-110 px faces and the drawn faces shrink below what the short-range model finds; it "
        "finds the astronaut (and, on the device, faces at kiosk distance: see the whole-pipeline "
        "table). The device also searches only near the face it follows between whole-frame "
        "searches, which costs a fraction of these figures.",
        "",
        f"Machine: {cpu_model()}; OpenCV {cv2.__version__}. Date {datetime.date.today().isoformat()}.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    replace_section(args.doc, SECTION, text)
    print(f"wrote {args.doc} ({SECTION})")


if __name__ == "__main__":
    sys.exit(main())
