#!/usr/bin/env python3
"""Reference BlazeFace detections for sentio-vision's tests, from onnxruntime.

Runs MediaPipe's short-range BlazeFace (models/zoo/blazeface/model.onnx, fetched by
models/zoo/blazeface/fetch.sh) in onnxruntime with a numpy implementation of the decoding that
firmware/vision/src/blazeface.rs implements in Rust, on a few images from scikit-image, and writes

    firmware/vision/tests/fixtures/blazeface/<image>.png      the images
    firmware/vision/tests/fixtures/blazeface/expected.json    boxes, keypoints and scores

which firmware/vision/tests/blazeface.rs compares against. With --normalization it also prints
what the model finds on the astronaut photo with inputs in [0, 1] and in [-1, 1] (how the
normalization in the manifest was chosen).

    pip install onnxruntime onnx numpy scikit-image
    python3 tests/faces/blazeface_reference.py [--normalization]

The steps, in the same order as the Rust code:
1. letterbox: scale the image by s = 128 / max(w, h) (per axis rw = round(w s), rh = round(h s)),
   resampled with a separable triangle filter whose support widens with the downscale factor
   (PIL's antialiased bilinear), centred in a 128x128 black canvas; gray images repeat the luma;
2. normalize: v = raw * 2/255 - 1 (inputs in [-1, 1]), NHWC;
3. anchors: 16x16 cells with 2 anchors each (stride 8), then 8x8 cells with 6 each (stride 16),
   centres ((x + 0.5) / grid, (y + 0.5) / grid), size 1;
4. decode, in 128x128 input pixels: centre = anchor * 128 + (dx, dy), size = (w, h), keypoint k =
   anchor * 128 + (kx, ky); score = sigmoid(clip(raw, -100, 100));
5. keep scores >= threshold (0.5), weighted NMS (MediaPipe's: the best remaining box takes every
   box overlapping it by IoU > 0.3, corners and keypoints averaged weighted by score, keeps its
   own score);
6. undo the letterbox: x_image = (x_128 - offset_x) * w / rw, y likewise.
"""

import argparse
import json
import os
import sys

import numpy as np
import onnxruntime as ort
import skimage.data
import skimage.io

SIDE = 128
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
MODEL = os.path.join(ROOT, "models", "zoo", "blazeface", "model.onnx")
OUT = os.path.join(ROOT, "firmware", "vision", "tests", "fixtures", "blazeface")
SCORE_THRESHOLD = 0.5
IOU_THRESHOLD = 0.3


def filter_weights(n_in, n_out):
    """[n_out, n_in] matrix of the separable triangle filter from n_in to n_out samples."""
    scale = n_in / n_out
    support = max(scale, 1.0)
    m = np.zeros((n_out, n_in), dtype=np.float64)
    for o in range(n_out):
        c = (o + 0.5) * scale
        lo = max(0, int(np.floor(c - support)))
        hi = min(n_in, int(np.ceil(c + support)))
        i = np.arange(lo, hi)
        w = np.maximum(0.0, 1.0 - np.abs(i + 0.5 - c) / support)
        m[o, lo:hi] = w / w.sum()
    return m


def letterbox(rgb):
    """The model input [1, 128, 128, 3] (raw 0..255 values) and (offset_x, offset_y, rw, rh)."""
    h, w = rgb.shape[:2]
    s = SIDE / max(w, h)
    rw, rh = max(1, min(SIDE, int(round(w * s)))), max(1, min(SIDE, int(round(h * s))))
    ox, oy = (SIDE - rw) // 2, (SIDE - rh) // 2
    wx, wy = filter_weights(w, rw), filter_weights(h, rh)
    img = rgb.astype(np.float64)
    resized = np.einsum("oh,hwc->owc", wy, img)
    resized = np.einsum("pw,owc->opc", wx, resized)
    canvas = np.zeros((SIDE, SIDE, 3), dtype=np.float64)
    canvas[oy : oy + rh, ox : ox + rw] = resized
    return canvas[None], (ox, oy, rw, rh)


def anchors():
    out = []
    for grid, per_cell in ((16, 2), (8, 6)):
        for y in range(grid):
            for x in range(grid):
                for _ in range(per_cell):
                    out.append(((x + 0.5) / grid, (y + 0.5) / grid))
    return np.array(out, dtype=np.float64)


def run(session, tensor):
    """Scores [896] (raw) and regressors [896, 16], in anchor order."""
    outs = session.run(None, {session.get_inputs()[0].name: tensor.astype(np.float32)})
    scores, boxes = [], []
    for n in (512, 384):
        scores.append(next(v for v in outs if v.shape == (1, n, 1)).reshape(n))
        boxes.append(next(v for v in outs if v.shape == (1, n, 16)).reshape(n, 16))
    return np.concatenate(scores), np.concatenate(boxes)


def decode(raw_scores, raw_boxes, score_threshold=SCORE_THRESHOLD, iou_threshold=IOU_THRESHOLD):
    """Detections in 128x128 input pixels: list of (xmin, ymin, xmax, ymax, score, keypoints[6,2])."""
    a = anchors() * SIDE
    scores = 1.0 / (1.0 + np.exp(-np.clip(raw_scores.astype(np.float64), -100.0, 100.0)))
    dets = []
    for i in np.nonzero(scores >= score_threshold)[0]:
        r = raw_boxes[i].astype(np.float64)
        cx, cy = a[i, 0] + r[0], a[i, 1] + r[1]
        w, h = r[2], r[3]
        kps = a[i][None, :] + r[4:16].reshape(6, 2)
        dets.append((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, scores[i], kps))
    # Best first; ties keep the lower anchor index first (a stable sort).
    order = sorted(range(len(dets)), key=lambda k: -dets[k][4])
    remaining = [dets[k] for k in order]
    out = []
    while remaining:
        top = remaining[0]
        cand, rest = [], []
        for d in remaining:
            (cand if iou(d, top) > iou_threshold else rest).append(d)
        if not cand:
            cand = [top]
        wsum = sum(d[4] for d in cand)
        corners = sum(np.array(d[:4]) * d[4] for d in cand) / wsum
        kps = sum(d[5] * d[4] for d in cand) / wsum
        out.append((*corners, top[4], kps))
        if len(rest) == len(remaining):
            break
        remaining = rest
    return out


def iou(a, b):
    ix = min(a[2], b[2]) - max(a[0], b[0])
    iy = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(ix, 0.0) * max(iy, 0.0)
    area = lambda d: max(d[2] - d[0], 0.0) * max(d[3] - d[1], 0.0)
    union = area(a) + area(b) - inter
    return inter / union if union > 0 else 0.0


def detect(session, image, normalize=lambda raw: raw * (2.0 / 255.0) - 1.0):
    rgb = image if image.ndim == 3 else np.repeat(image[:, :, None], 3, axis=2)
    raw, (ox, oy, rw, rh) = letterbox(rgb)
    scores, boxes = run(session, normalize(raw))
    h, w = rgb.shape[:2]
    sx, sy = w / rw, h / rh
    faces = []
    for x0, y0, x1, y1, score, kps in decode(scores, boxes):
        faces.append(
            {
                "x": (x0 - ox) * sx,
                "y": (y0 - oy) * sy,
                "w": (x1 - x0) * sx,
                "h": (y1 - y0) * sy,
                "score": float(score),
                "keypoints": [[(kx - ox) * sx, (ky - oy) * sy] for kx, ky in kps],
            }
        )
    return faces


def box_resize(img, w, h):
    """Resizes with the same triangle filter (used only to make the test images)."""
    wy, wx = filter_weights(img.shape[0], h), filter_weights(img.shape[1], w)
    x = img.astype(np.float64)
    if x.ndim == 2:
        out = wy @ x @ wx.T
    else:
        out = np.einsum("pw,owc->opc", wx, np.einsum("oh,hwc->owc", wy, x))
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def images():
    astro = skimage.data.astronaut()  # 512x512 RGB, one face
    # 640x480: the photo at 480x480 on a mid-gray canvas, left of centre (a letterbox with a
    # horizontal offset and a face away from the centre).
    frame = np.full((480, 640, 3), 118, dtype=np.uint8)
    frame[:, 60:540] = box_resize(astro, 480, 480)
    small = box_resize(frame, 320, 240)
    coffee = box_resize(skimage.data.coffee(), 300, 200)  # a cup of coffee: no face
    camera = skimage.data.camera()  # 512x512 gray, a man with a camera (gray input path)
    return {
        "astronaut_640x480": frame,
        "astronaut_320x240": small,
        "coffee_300x200": coffee,
        "camera_gray_512": camera,
    }


def normalization_check(session):
    astro = skimage.data.astronaut()
    for name, fn in (
        ("[0, 1]", lambda raw: raw / 255.0),
        ("[-1, 1]", lambda raw: raw * (2.0 / 255.0) - 1.0),
    ):
        raw, _ = letterbox(astro)
        scores, _ = run(session, fn(raw))
        top = 1.0 / (1.0 + np.exp(-np.clip(scores.max(), -100, 100)))
        faces = detect(session, astro, fn)
        print(f"inputs in {name}: best anchor score {top:.4f}, {len(faces)} face(s)")
        for f in faces:
            print(
                "   box x {x:.1f} y {y:.1f} w {w:.1f} h {h:.1f} score {score:.4f}; eyes {e}".format(
                    e=[[round(v, 1) for v in k] for k in f["keypoints"][:2]], **f
                )
            )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--normalization", action="store_true", help="compare [0,1] and [-1,1] inputs")
    args = ap.parse_args()
    if not os.path.exists(MODEL):
        sys.exit(f"{MODEL} is missing: run models/zoo/blazeface/fetch.sh first")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    session = ort.InferenceSession(MODEL, opts, providers=["CPUExecutionProvider"])
    if args.normalization:
        normalization_check(session)
        return
    os.makedirs(OUT, exist_ok=True)
    expected = {
        "model_sha256": "d388b1cf8a5f6f1af2b3f4c14f6d0f138bab970cd618cccd12dddb7484e82e51",
        "score_threshold": SCORE_THRESHOLD,
        "iou_threshold": IOU_THRESHOLD,
        "onnxruntime": ort.__version__,
        "images": {},
    }
    for name, img in images().items():
        path = os.path.join(OUT, name + ".png")
        skimage.io.imsave(path, img, check_contrast=False)
        # Detect on the image as read back from the PNG (what the Rust test reads).
        faces = detect(session, skimage.io.imread(path))
        expected["images"][name] = {"file": name + ".png", "faces": faces}
        print(f"{name}: {img.shape}, {len(faces)} face(s) " + ", ".join(f"{f['score']:.3f}" for f in faces))
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
