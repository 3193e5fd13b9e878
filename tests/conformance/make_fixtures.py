#!/usr/bin/env python3
"""Runs onnxruntime on the conformance models and writes the expected outputs as fixtures.

The models and their inputs are written by Rust (so `cargo test` can rebuild them byte for byte):

    cargo run -p sentio-infer --example export_conformance_models -- tests/conformance/models
    python3 tests/conformance/make_fixtures.py            # needs: pip install onnxruntime numpy onnx

For every `MODELS/NAME.onnx` and `MODELS/NAME.int8.onnx` (the quantizer's int8 form, run on the
same `NAME.input.json`) it checks the model with onnx.checker, runs it
with onnxruntime (1 thread, all graph optimizations off so the reference is the plain op-by-op
result) and writes `FIXTURES/NAME.json` (`FIXTURES/NAME.int8.json`):

    {"model": "NAME.onnx", "sha256": "...", "onnxruntime": "1.x", "input": {"shape", "data"},
     "outputs": [{"name", "shape", "data"}]}
"""

import argparse
import hashlib
import json
import pathlib
import sys

import numpy as np
import onnx
import onnxruntime as ort

HERE = pathlib.Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=pathlib.Path, default=HERE / "models")
    ap.add_argument("--out", type=pathlib.Path, default=HERE / "fixtures")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    models = sorted(args.models.glob("*.onnx"))
    if not models:
        print(f"no .onnx files in {args.models}; run the export example first", file=sys.stderr)
        return 1
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    for path in models:
        raw = path.read_bytes()
        onnx.checker.check_model(onnx.load_from_string(raw), full_check=True)
        case = path.name.split(".")[0]
        spec = json.loads((path.parent / f"{case}.input.json").read_text())
        x = np.asarray(spec["data"], dtype=np.float32).reshape(spec["shape"])
        sess = ort.InferenceSession(raw, opts, providers=["CPUExecutionProvider"])
        names = [o.name for o in sess.get_outputs()]
        outs = sess.run(names, {sess.get_inputs()[0].name: x})
        fixture = {
            "model": path.name,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "onnxruntime": ort.__version__,
            "input": {"shape": list(x.shape), "data": [float(v) for v in x.ravel()]},
            "outputs": [
                {
                    "name": n,
                    "shape": list(o.shape),
                    "data": [float(v) for v in o.astype(np.float32).ravel()],
                }
                for n, o in zip(names, outs)
            ],
        }
        dest = args.out / (path.name[: -len(".onnx")] + ".json")
        dest.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
        shapes = ", ".join(f"{n}{list(o.shape)}" for n, o in zip(names, outs))
        print(f"{path.name}: {shapes} -> {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
