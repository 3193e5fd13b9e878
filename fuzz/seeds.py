#!/usr/bin/env python3
"""Fills fuzz/corpus/TARGET/ with small real inputs for the targets that read outside files.

Run from anywhere: `python3 fuzz/seeds.py [--sentio PATH]`. Seeds are kept small (libFuzzer's
default -max_len is the largest seed): OpenCV's cascades are cut down to their first stage and
the features it uses, the ONNX seeds are tiny graphs made with the `onnx` package, and bundles
are packed from those with the `sentio` binary (default: target/debug/sentio) when it exists.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
ROOT = FUZZ.parent
CORPUS = FUZZ / "corpus"
CASCADES = Path("/usr/share/opencv4/haarcascades")


def target(name):
    d = CORPUS / name
    d.mkdir(parents=True, exist_ok=True)
    return d


def copy(files, name):
    d = target(name)
    for f in files:
        shutil.copy(f, d / f.name)


def first_stage(src):
    """The cascade with only its first stage and the features that stage uses (renumbered)."""
    tree = ET.parse(src)
    cascade = tree.getroot().find("cascade")
    stages = cascade.find("stages")
    for s in list(stages)[1:]:
        stages.remove(s)
    cascade.find("stageNum").text = "1"
    features = cascade.find("features")
    used = {}
    for internal in stages.iter("internalNodes"):
        vals = internal.text.split()
        # left right featureIdx threshold, per node
        for i in range(0, len(vals), 4):
            old = int(vals[i + 2])
            vals[i + 2] = str(used.setdefault(old, len(used)))
        internal.text = " " + " ".join(vals) + " "
    all_features = list(features)
    for f in all_features:
        features.remove(f)
    for old, _new in sorted(used.items(), key=lambda kv: kv[1]):
        features.append(all_features[old])
    return ET.tostring(tree.getroot(), encoding="unicode")


def onnx_seeds(d):
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    def save(name, nodes, inputs, outputs, inits=()):
        graph = helper.make_graph(nodes, name, inputs, outputs, list(inits))
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        model.ir_version = 8
        onnx.save(model, d / f"{name}.onnx")

    f = TensorProto.FLOAT
    save("relu", [helper.make_node("Relu", ["x"], ["y"])],
         [helper.make_tensor_value_info("x", f, [1, 4])],
         [helper.make_tensor_value_info("y", f, [1, 4])])
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((2, 1, 2, 2)).astype(np.float32), "w")
    save("conv", [helper.make_node("Conv", ["x", "w"], ["y"])],
         [helper.make_tensor_value_info("x", f, [1, 1, 4, 4])],
         [helper.make_tensor_value_info("y", f, [1, 2, 3, 3])], [w])
    g = numpy_helper.from_array(rng.standard_normal((4, 3)).astype(np.float32), "g")
    b = numpy_helper.from_array(np.zeros(3, np.float32), "b")
    save("gemm_softmax",
         [helper.make_node("Gemm", ["x", "g", "b"], ["h"]),
          helper.make_node("Softmax", ["h"], ["y"], axis=1)],
         [helper.make_tensor_value_info("x", f, ["N", 4])],
         [helper.make_tensor_value_info("y", f, ["N", 3])], [g, b])


def bundle_seeds(sentio, onnx_dir, d):
    manifest = (ROOT / "models/zoo/emoji/manifest.json").read_text()
    import json
    m = json.loads(manifest)
    m["name"] = "seed"
    m["labels"] = {"set": "custom", "labels": ["a", "b", "c"]}
    m["input"]["shape"] = [1, 4]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "m.json").write_text(json.dumps(m))
        subprocess.run([sentio, "keys", "gen", "--out", str(tmp / "k")], check=True,
                       capture_output=True)
        for signed in (False, True):
            out = d / f"gemm_softmax{'.signed' if signed else ''}.bundle"
            cmd = [sentio, "bundle", "pack", "--manifest", str(tmp / "m.json"),
                   "--model", str(onnx_dir / "gemm_softmax.onnx"), "--out", str(out)]
            if signed:
                cmd += ["--key", str(tmp / "k.secret")]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                print(f"bundle seed not made: {r.stderr.strip()}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentio", default=str(ROOT / "target/debug/sentio"))
    args = ap.parse_args()

    copy(sorted((ROOT / "boards/profiles").glob("*.toml")), "board_profile")
    copy(sorted((ROOT / "firmware/audio/tests/reference").glob("*.wav")), "wav")
    copy([p for p in sorted((ROOT / "firmware/audio/tests/reference").glob("*.npy"))
          if p.stat().st_size <= 16 * 1024], "npy")
    manifests = target("manifest")
    for p in sorted((ROOT / "models/zoo").glob("*/manifest.json")):
        shutil.copy(p, manifests / f"{p.parent.name}.json")
    haar = target("haar_cascade")
    for name in ["haarcascade_frontalface_default.xml", "haarcascade_frontalface_alt.xml",
                 "haarcascade_frontalface_alt_tree.xml", "haarcascade_eye.xml"]:
        if (CASCADES / name).exists():
            (haar / name).write_text(first_stage(CASCADES / name))
    onnx_dir = target("onnx_model")
    onnx_seeds(onnx_dir)
    if Path(args.sentio).exists():
        bundle_seeds(args.sentio, onnx_dir, target("bundle"))
    else:
        print(f"{args.sentio} not built: no bundle seeds", file=sys.stderr)
    for d in sorted(CORPUS.iterdir()):
        files = list(d.iterdir())
        print(f"{d.name}: {len(files)} seeds, largest {max((f.stat().st_size for f in files), default=0)} bytes")


if __name__ == "__main__":
    main()
