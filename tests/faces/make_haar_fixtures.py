#!/usr/bin/env python3
"""Writes the Haar conformance fixtures: test images and OpenCV's boxes for each.

    pip install "opencv-python-headless<5" scikit-image   # OpenCV 5 has no CascadeClassifier
    apt-get install opencv-data                            # the cascade XML files
    python3 tests/faces/make_haar_fixtures.py

Writes firmware/vision/tests/fixtures/haar/*.png and opencv_boxes.json, which
firmware/vision/tests/haar_conformance.rs compares sentio-vision's Haar detector with.

The images are freely licensed: scikit-image's `astronaut` (Eileen Collins, NASA, public
domain), mosaics of `lfw_subset` faces (Labeled Faces in the Wild, a research set of public
news photos), `rocket` (NASA, public domain) and seeded noise. OpenCV runs as the detector's
users call it: gray by cv2.cvtColor(RGB2GRAY), haarcascade_frontalface_default.xml, scaleFactor
1.1, minNeighbors 3, minSize (24, 24), one thread.
"""

import json
import sys
from pathlib import Path

import cv2
import numpy as np
from skimage import data

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "firmware" / "vision" / "tests" / "fixtures" / "haar"
CASCADE = Path("/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml")
PARAMS = {"scale_factor": 1.1, "min_neighbors": 3, "min_size": 24}


def fit(rgb, width, height):
    """Centre-crop to the aspect ratio (keeping the top, where faces are), then resize."""
    h, w = rgb.shape[:2]
    want = width / height
    if w / h > want:
        cw = round(h * want)
        x0 = (w - cw) // 2
        rgb = rgb[:, x0 : x0 + cw]
    else:
        ch = round(w / want)
        rgb = rgb[:ch]
    return cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)


def lfw_mosaic(width, height, cols, rows, face_px, start, seed):
    """LFW faces (25x25 crops, the first 100 of lfw_subset) upscaled to face_px, each on a
    tile of background with a margin, in a cols x rows grid."""
    faces = data.lfw_subset()[:100]
    rng = np.random.default_rng(seed)
    canvas = np.full((height, width), 128, np.uint8)
    canvas = np.clip(canvas + rng.normal(0, 6, canvas.shape), 0, 255).astype(np.uint8)
    tw, th = width // cols, height // rows
    k = start
    for r in range(rows):
        for c in range(cols):
            face = (faces[k % len(faces)] * 255).astype(np.uint8)
            k += 1
            big = cv2.resize(face, (face_px, face_px), interpolation=cv2.INTER_CUBIC)
            x0 = c * tw + (tw - face_px) // 2
            y0 = r * th + (th - face_px) // 2
            canvas[y0 : y0 + face_px, x0 : x0 + face_px] = big
    return cv2.cvtColor(canvas, cv2.COLOR_GRAY2RGB)


def images():
    astro = data.astronaut()
    yield "astronaut_320x240.png", fit(astro, 320, 240)
    yield "astronaut_640x480.png", fit(astro, 640, 480)
    gray = cv2.cvtColor(fit(astro, 400, 300), cv2.COLOR_RGB2GRAY)
    yield "astronaut_gray_400x300.png", gray
    yield "lfw_mosaic_320x240.png", lfw_mosaic(320, 240, 4, 3, 56, 0, 1)
    yield "lfw_mosaic_640x480.png", lfw_mosaic(640, 480, 5, 4, 90, 12, 2)
    yield "lfw_mosaic_small_faces_320x240.png", lfw_mosaic(320, 240, 6, 5, 40, 40, 3)
    yield "rocket_320x240.png", fit(data.rocket(), 320, 240)
    rng = np.random.default_rng(7)
    yield "noise_320x240.png", rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)


def main():
    if not hasattr(cv2, "CascadeClassifier"):
        sys.exit("this OpenCV has no CascadeClassifier: pip install 'opencv-python-headless<5'")
    if not CASCADE.exists():
        sys.exit(f"{CASCADE} is missing: apt-get install opencv-data")
    cv2.setNumThreads(1)
    cascade = cv2.CascadeClassifier(str(CASCADE))
    OUT.mkdir(parents=True, exist_ok=True)
    entries = []
    for name, img in images():
        gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        boxes, counts = cascade.detectMultiScale2(
            gray,
            scaleFactor=PARAMS["scale_factor"],
            minNeighbors=PARAMS["min_neighbors"],
            minSize=(PARAMS["min_size"], PARAMS["min_size"]),
        )
        found = [
            [int(x), int(y), int(w), int(h), int(n)] for (x, y, w, h), n in zip(boxes, counts)
        ]
        # PNG stores RGB as written by cv2 in BGR order: flip so the file holds RGB.
        to_write = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(OUT / name), to_write, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        entries.append(
            {
                "file": name,
                "width": int(img.shape[1]),
                "height": int(img.shape[0]),
                "channels": 1 if img.ndim == 2 else 3,
                "boxes": found,
            }
        )
        print(f"{name}: {len(found)} box(es) {found}")
    doc = {
        "about": "OpenCV's detectMultiScale2 boxes [x, y, w, h, numDetections] per image; "
        "written by tests/faces/make_haar_fixtures.py",
        "opencv": cv2.__version__,
        "cascade": CASCADE.name,
        "params": PARAMS,
        "images": entries,
    }
    (OUT / "opencv_boxes.json").write_text(json.dumps(doc, indent=1) + "\n")
    total = sum((OUT / e["file"]).stat().st_size for e in entries)
    print(f"{len(entries)} images, {total / 1e6:.2f} MB in {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
