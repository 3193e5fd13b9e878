#!/usr/bin/env python3
"""How the shipped FER model (trained on procedural faces only) behaves on real face photos.

The photos are the ones scikit-image ships (no download):
- `skimage.data.astronaut()`: Eileen Collins, NASA portrait (public domain), smiling. Her face is
  cropped with a hand-picked square box, (left, top, right, bottom) = ASTRONAUT_BOX, chosen so the
  face fills the frame the way FER2013's crops (and our procedural faces) do: from the top of the
  forehead to below the chin, cheek to cheek.
- `skimage.data.lfw_subset()`: 200 gray 25x25 images, the first 100 faces from Labeled Faces in
  the Wild (news photos: mostly neutral or smiling), the last 100 non-faces (background patches).

Each image becomes 48x48 gray (PIL "L" luma, bilinear resize), is scaled by 1/255 as the manifest
says, and runs through model.onnx with onnxruntime. With `--sentio PATH` the astronaut crop also
runs through `sentio run MODEL --image X.png --json` (tract and sentio-vision's preprocessing, as
on the device) and both answers are reported.

Writes, next to the model (or to --out): real_photos.md, real_photos.json, real_photos.png (the
48x48 inputs with their top prediction: the astronaut, then 30 LFW faces, then 30 non-faces) and
real_photos_astronaut.png (the astronaut's 48x48 input).

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
SIDE = 48


def load_model(path):
    import onnxruntime as ort

    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session, session.get_inputs()[0].name


def predict(session, input_name, gray48):
    """Probabilities for one 48x48 uint8 image."""
    x = (gray48.astype(np.float32) / 255.0).reshape(1, 1, SIDE, SIDE)
    return session.run(None, {input_name: x})[0][0]


def to48(image):
    return np.asarray(image.convert("L").resize((SIDE, SIDE), Image.BILINEAR), dtype=np.uint8)


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
    """items: (gray48, caption); 2x enlarged tiles with the caption under each."""
    tile_w, tile_h = SIDE * 2, SIDE * 2 + 12
    rows = (len(items) + columns - 1) // columns
    canvas = Image.new("L", (columns * tile_w, rows * tile_h), 255)
    draw = ImageDraw.Draw(canvas)
    for i, (gray, caption) in enumerate(items):
        x, y = (i % columns) * tile_w, (i // columns) * tile_h
        canvas.paste(Image.fromarray(gray).resize((SIDE * 2, SIDE * 2), Image.NEAREST), (x, y))
        draw.text((x + 2, y + SIDE * 2), caption[:16], fill=0)
    canvas.save(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=os.path.join(HERE, "model.onnx"))
    parser.add_argument("--manifest", default=None, help="default: manifest.json beside the model")
    parser.add_argument("--out", default=None, help="default: the model's directory")
    parser.add_argument("--sentio", default=None, help="a sentio binary, to cross-check in tract")
    args = parser.parse_args()

    from skimage import data

    model_dir = os.path.dirname(os.path.abspath(args.model))
    out = args.out or model_dir
    manifest = json.load(open(args.manifest or os.path.join(model_dir, "manifest.json")))
    labels = manifest["labels"]["labels"]
    scale = manifest["input"]["preprocessing"].get("scale", 1 / 255)
    assert abs(scale - 1 / 255) < 1e-6, f"this script scales by 1/255, the manifest says {scale}"
    session, input_name = load_model(args.model)

    # The astronaut.
    astronaut = Image.fromarray(data.astronaut()).crop(ASTRONAUT_BOX)
    astronaut48 = to48(astronaut)
    astronaut_png = os.path.join(out, "real_photos_astronaut.png")
    Image.fromarray(astronaut48).save(astronaut_png)
    astronaut_probs = predict(session, input_name, astronaut48)
    astronaut_mirror = predict(session, input_name, astronaut48[:, ::-1].copy())
    result = {
        "model": os.path.relpath(args.model, out),
        "astronaut": {
            "box": ASTRONAUT_BOX,
            "expected": "happy",
            "top3": top(astronaut_probs, labels),
            "probabilities": dict(zip(labels, map(float, astronaut_probs))),
            "mirrored_top3": top(astronaut_mirror, labels),
        },
    }
    if args.sentio:
        answer = sentio_run(args.sentio, args.model, astronaut_png)
        result["astronaut"]["sentio_run"] = answer

    # LFW: 100 faces, 100 non-faces.
    lfw = data.lfw_subset()
    groups = {"faces": lfw[:100], "non_faces": lfw[100:]}
    tiles = [(astronaut48, "astronaut: " + result["astronaut"]["top3"][0][0])]
    for name, images in groups.items():
        predictions, confidences = [], []
        for i, image in enumerate(images):
            gray = Image.fromarray((image * 255).round().astype(np.uint8))
            gray48 = to48(gray)
            probs = predict(session, input_name, gray48)
            label, p = top(probs, labels, 1)[0]
            predictions.append(label)
            confidences.append(p)
            if i < 30:
                tiles.append((gray48, f"{label} {p:.2f}"))
        result[f"lfw_{name}"] = {
            "images": len(images),
            "predicted": distribution(predictions, labels),
            "mean_top_probability": float(np.mean(confidences)),
        }
    sheet(tiles[:61], os.path.join(out, "real_photos.png"))

    with open(os.path.join(out, "real_photos.json"), "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    with open(os.path.join(out, "real_photos.md"), "w") as f:
        f.write(markdown(result, labels))
    sys.stdout.write(markdown(result, labels))


def markdown(result, labels):
    a = result["astronaut"]
    lines = [
        "# The FER model on real face photos (scikit-image's test images)",
        "",
        "Made by `python3 models/zoo/fer/real_photos.py` (onnxruntime on model.onnx).",
        "",
        f"Astronaut (Eileen Collins, smiling; crop box {tuple(a['box'])}, 48x48 gray):",
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
        "Predicted class of each `lfw_subset` image (25x25 upscaled to 48x48):",
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
