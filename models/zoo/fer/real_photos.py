#!/usr/bin/env python3
"""How the shipped FER model (trained on procedural faces only) behaves on real face photos.

The photos are the ones scikit-image ships (no download):
- `skimage.data.astronaut()`: Eileen Collins, NASA portrait (public domain), smiling. Her face is
  cropped with a hand-picked square box, (left, top, right, bottom) = ASTRONAUT_BOX, chosen so the
  face fills the frame the way FER2013's crops (and our procedural faces) do: from the top of the
  forehead to below the chin, cheek to cheek.
- `skimage.data.lfw_subset()`: 200 gray 25x25 images, the first 100 faces from Labeled Faces in
  the Wild (news photos: mostly neutral or smiling), the last 100 non-faces (background patches).

Each image becomes gray at the manifest's input size (PIL "L" luma, bilinear resize: 48x48 for
this model), is scaled by the manifest's `scale` (1/255 here) and normalized by its `mean`/`std`
when it has them, and runs through the model with onnxruntime. `--model`/`--manifest` run another
model the same way; models/zoo/fer-mini-xception/real_photos.py uses `evaluate` to put the
FER2013-trained model beside this one. With `--sentio PATH` the astronaut crop also
runs through `sentio run MODEL --image X.png --json` (tract and sentio-vision's preprocessing, as
on the device) and both answers are reported.

Writes, next to the model (or to --out): real_photos.md, real_photos.json, real_photos.png (the
48x48 inputs with their top prediction: the astronaut, then 30 LFW faces, then 30 non-faces) and
real_photos_astronaut.png (the astronaut's model-sized input).

    pip install scikit-image onnxruntime pillow
    python3 models/zoo/fer/real_photos.py [--sentio target/release/sentio]
"""

import argparse
import collections
import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))
# (left, top, right, bottom) in the 512x512 astronaut photo: 130x130 px around the face.
ASTRONAUT_BOX = (160, 50, 290, 180)


def load_model(path):
    import onnxruntime as ort

    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session, session.get_inputs()[0].name


class Prep:
    """The manifest's gray preprocessing: size, then x * scale, then (x - mean) / std."""

    def __init__(self, manifest):
        prep = manifest["input"]["preprocessing"]
        shape = manifest["input"]["shape"]
        assert len(shape) == 4 and shape[1] == 1, f"a [1,1,H,W] gray input, not {shape}"
        self.height, self.width = shape[2], shape[3]
        assert (prep.get("width", self.width), prep.get("height", self.height)) == (self.width, self.height)
        self.scale = prep.get("scale", 1 / 255)
        self.mean = prep.get("mean", [0.0])[0]
        self.std = prep.get("std", [1.0])[0]

    def resize(self, image):
        """A PIL image as model-sized gray bytes."""
        size = (self.width, self.height)
        return np.asarray(image.convert("L").resize(size, Image.BILINEAR), dtype=np.uint8)

    def tensor(self, gray):
        if abs(self.scale * 255 - 1) < 1e-6:  # bytes to 0..1, as the manifests round 1/255
            x = gray.astype(np.float32) / 255.0
        else:
            x = gray.astype(np.float32) * np.float32(self.scale)
        if self.mean != 0.0 or self.std != 1.0:
            x = (x - np.float32(self.mean)) / np.float32(self.std)
        return x.reshape(1, 1, self.height, self.width)


def predict(session, input_name, prep, gray):
    """Probabilities for one model-sized uint8 gray image."""
    return session.run(None, {input_name: prep.tensor(gray)})[0][0]


def top(probs, labels, k=3):
    order = np.argsort(-probs)[:k]
    return [(labels[i], float(probs[i])) for i in order]


def sentio_run(sentio, model, png):
    out = subprocess.run(
        [sentio, "run", model, "--image", png, "--json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def distribution(predictions, labels):
    counts = collections.Counter(predictions)
    return {label: counts.get(label, 0) for label in labels}


def sheet(items, path, columns=10):
    """items: (gray, caption); 2x enlarged tiles with the caption under each."""
    side = max(max(g.shape) for g, _ in items)
    tile_w, tile_h = side * 2, side * 2 + 12
    rows = (len(items) + columns - 1) // columns
    canvas = Image.new("L", (columns * tile_w, rows * tile_h), 255)
    draw = ImageDraw.Draw(canvas)
    for i, (gray, caption) in enumerate(items):
        x, y = (i % columns) * tile_w, (i // columns) * tile_h
        canvas.paste(Image.fromarray(gray).resize((side * 2, side * 2), Image.NEAREST), (x, y))
        draw.text((x + 2, y + side * 2), caption[:16], fill=0)
    canvas.save(path)


def evaluate(model, manifest, out, sentio=None, astronaut_png=None):
    """Run `model` (an ONNX path) on the astronaut and lfw_subset as `manifest` says.

    Returns the result dict (as real_photos.json holds it) and the sheet's tiles; writes the
    astronaut's model-sized input to `astronaut_png` (default `out`/real_photos_astronaut.png)."""
    from skimage import data

    labels = manifest["labels"]["labels"]
    prep = Prep(manifest)
    session, input_name = load_model(model)

    # The astronaut.
    astronaut = Image.fromarray(data.astronaut()).crop(ASTRONAUT_BOX)
    astronaut_gray = prep.resize(astronaut)
    astronaut_png = astronaut_png or os.path.join(out, "real_photos_astronaut.png")
    Image.fromarray(astronaut_gray).save(astronaut_png)
    astronaut_probs = predict(session, input_name, prep, astronaut_gray)
    astronaut_mirror = predict(session, input_name, prep, astronaut_gray[:, ::-1].copy())
    result = {
        "model": os.path.relpath(model, out),
        "astronaut": {
            "box": ASTRONAUT_BOX,
            "expected": "happy",
            "top3": top(astronaut_probs, labels),
            "probabilities": dict(zip(labels, map(float, astronaut_probs))),
            "mirrored_top3": top(astronaut_mirror, labels),
        },
    }
    if sentio:
        answer = sentio_run(sentio, model, astronaut_png)
        result["astronaut"]["sentio_run"] = answer

    # LFW: 100 faces, 100 non-faces.
    lfw = data.lfw_subset()
    groups = {"faces": lfw[:100], "non_faces": lfw[100:]}
    tiles = [(astronaut_gray, "astronaut: " + result["astronaut"]["top3"][0][0])]
    for name, images in groups.items():
        predictions, confidences = [], []
        for i, image in enumerate(images):
            gray = Image.fromarray((image * 255).round().astype(np.uint8))
            gray_in = prep.resize(gray)
            probs = predict(session, input_name, prep, gray_in)
            label, p = top(probs, labels, 1)[0]
            predictions.append(label)
            confidences.append(p)
            if i < 30:
                tiles.append((gray_in, f"{label} {p:.2f}"))
        result[f"lfw_{name}"] = {
            "images": len(images),
            "predicted": distribution(predictions, labels),
            "mean_top_probability": float(np.mean(confidences)),
        }
    return result, tiles


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=os.path.join(HERE, "model.onnx"))
    parser.add_argument("--manifest", default=None, help="default: manifest.json beside the model")
    parser.add_argument("--out", default=None, help="default: the model's directory")
    parser.add_argument("--sentio", default=None, help="a sentio binary, to cross-check in tract")
    args = parser.parse_args()

    model_dir = os.path.dirname(os.path.abspath(args.model))
    out = args.out or model_dir
    manifest = json.load(open(args.manifest or os.path.join(model_dir, "manifest.json")))
    labels = manifest["labels"]["labels"]
    result, tiles = evaluate(args.model, manifest, out, args.sentio)
    sheet(tiles[:61], os.path.join(out, "real_photos.png"))

    with open(os.path.join(out, "real_photos.json"), "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    text = markdown(result, labels, Prep(manifest))
    with open(os.path.join(out, "real_photos.md"), "w") as f:
        f.write(text)
    sys.stdout.write(text)


def markdown(result, labels, prep):
    a = result["astronaut"]
    lines = [
        "# The FER model on real face photos (scikit-image's test images)",
        "",
        "Made by `python3 models/zoo/fer/real_photos.py` (onnxruntime on model.onnx).",
        "",
        f"Astronaut (Eileen Collins, smiling; crop box {tuple(a['box'])}, {prep.width}x{prep.height} gray):",
        "",
        "| rank | class | probability |",
        "| --- | --- | --- |",
    ]
    for rank, (label, p) in enumerate(a["top3"], 1):
        lines.append(f"| {rank} | {label} | {p:.3f} |")
    mirrored = ", ".join(f"{l} {p:.3f}" for l, p in a["mirrored_top3"])
    lines += ["", f"Mirrored crop: {mirrored}."]
    if "sentio_run" in a:
        theirs = np.array(a["sentio_run"]["outputs"][0]["data"], dtype=np.float64)
        ours = np.array([a["probabilities"][l] for l in labels])
        label, p = top(theirs, labels, 1)[0]
        lines += [
            "",
            f"`sentio run` (tract, sentio-vision's decoding) on the same PNG: {label} {p:.3f}; "
            f"largest difference from onnxruntime {np.abs(theirs - ours).max():.1e}.",
        ]
    lines += [
        "",
        f"Predicted class of each `lfw_subset` image (25x25 upscaled to {prep.width}x{prep.height}):",
        "",
        "| images | " + " | ".join(labels) + " | mean top probability |",
        "| --- |" + " --- |" * (len(labels) + 1),
    ]
    for name in ("faces", "non_faces"):
        g = result[f"lfw_{name}"]
        counts = " | ".join(str(g["predicted"][l]) for l in labels)
        lines.append(
            f"| {g['images']} LFW {name.replace('_', '-')} | {counts} | {g['mean_top_probability']:.3f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
