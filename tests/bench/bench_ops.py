#!/usr/bin/env python3
"""Benchmarks Sentio's kernels one op at a time against onnxruntime, f32, one thread.

Each op is a one-node ONNX model (the mini-Xception's layer shapes: 3x3 depthwise convs, 3x3/2
padded max pools, pointwise convs over 12x12 to 3x3 planes), timed like
tests/bench/bench_inference.py does whole models: `sentio bench MODEL --threads 1 --json` (wall
time of `Model::run`, input copy to output copy: a few microseconds of each figure are copies)
against onnxruntime's `InferenceSession.run` in this process (its figure includes a few
microseconds of Python call overhead). Rounds outside, ops inside, the best round's median
reported, so a slow phase of the shared machine falls on one round of every op. The figures
quoted in the kernels' comments (firmware/infer/src/lowering) come from this script.

    python3 tests/bench/bench_ops.py          # builds the release sentio binary first
"""

import argparse
import datetime
import json
import pathlib
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from bench_inference import ROOT, best, cpu_flags, cpu_model, ort_session, sh, time_ort, time_tract
from benchdoc import replace_section

SECTION = "## Single ops: Sentio's kernels vs onnxruntime"


def one_op_model(path, node, inits, in_shape, out_shape):
    graph = helper.make_graph(
        [node],
        path.stem,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def build_ops(work, rng):
    """(name, what Sentio runs it with, path, input) for every op."""
    ops = []

    def array(shape):
        return rng.standard_normal(shape).astype(np.float32)

    for c, s in [(32, 48), (64, 24), (128, 12), (256, 6)]:
        path = work / f"depthwise_{c}x{s}x{s}.onnx"
        w, b = numpy_helper.from_array(array((c, 1, 3, 3)), "w"), numpy_helper.from_array(array((c,)), "b")
        node = helper.make_node("Conv", ["x", "w", "b"], ["y"], group=c, kernel_shape=[3, 3], pads=[1, 1, 1, 1])
        one_op_model(path, node, [w, b], [1, c, s, s], [1, c, s, s])
        ops.append((f"depthwise 3x3 pad 1, {c}x{s}x{s}", "3x3 row pairs (AVX-512), else flat", path, array((1, c, s, s))))
    for c, s in [(32, 48), (64, 24), (128, 12), (256, 6)]:
        path = work / f"maxpool_{c}x{s}x{s}.onnx"
        node = helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
        one_op_model(path, node, [], [1, c, s, s], [1, c, s // 2, s // 2])
        ops.append((f"max pool 3x3/2 pad 1, {c}x{s}x{s}", "stride-2 pool (AVX-512), else row pool", path, array((1, c, s, s))))
    for ci, co, s in [(128, 128, 12), (128, 256, 6), (256, 256, 6), (128, 256, 3)]:
        path = work / f"pointwise_{ci}_{co}_{s}x{s}.onnx"
        w = numpy_helper.from_array(array((co, ci, 1, 1)), "w")
        node = helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[1, 1])
        one_op_model(path, node, [w], [1, ci, s, s], [1, co, s, s])
        how = "flat" if s * s > 36 else "channels in lanes (AVX-512), else flat"
        ops.append((f"pointwise {ci} -> {co}, {s}x{s}", how, path, array((1, ci, s, s))))
    return ops


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-build", action="store_true", help="use the release binary already built")
    ap.add_argument("--work", type=pathlib.Path, default=ROOT / "target" / "bench-ops")
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--doc", type=pathlib.Path, default=ROOT / "docs" / "benchmarks.md")
    args = ap.parse_args()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    sentio = str(ROOT / "target" / "release" / "sentio")
    if not args.no_build:
        print("building sentio ...", flush=True)
        sh(["cargo", "build", "--release", "-p", "sentio"])

    ops = build_ops(work, np.random.default_rng(0))
    sessions = [ort_session(path) for _, _, path, _ in ops]
    results = [{"sentio": [], "ort": []} for _ in ops]
    for r in range(args.rounds):
        print(f"round {r + 1}/{args.rounds}", flush=True)
        for (_, _, path, x), sess, res in zip(ops, sessions, results):
            p50, p90, _ = time_tract(sentio, str(path), args.warmup, args.runs)
            res["sentio"].append((p50, p90))
            res["ort"].append(time_ort(sess, x, args.warmup, args.runs))

    lines = [
        SECTION,
        "",
        "```",
        "python3 tests/bench/bench_ops.py",
        "```",
        "",
        f"One-op models with the mini-Xception's layer shapes, p50 in µs, best of {args.rounds} "
        f"interleaved rounds of {args.runs} runs after {args.warmup} warm-up runs, 1 thread. Both "
        "figures include a few µs that are not the op (`sentio bench`: the input and output copies; "
        "onnxruntime: the Python call), so small ops look closer than they are.",
        "",
        "| op | Sentio's kernel | tract + Sentio µs | onnxruntime µs | ratio |",
        "| --- | --- | --- | --- | --- |",
    ]
    for (name, how, _, _), res in zip(ops, results):
        ours, theirs = best(res["sentio"])[0] * 1e3, best(res["ort"])[0] * 1e3
        lines.append(f"| {name} | {how} | {ours:.1f} | {theirs:.1f} | {ours / theirs:.2f}x |")
        print(lines[-1], flush=True)
    import onnxruntime

    lines += [
        "",
        f"Machine: {cpu_model()} (flags {' '.join(cpu_flags())}); onnxruntime {onnxruntime.__version__}. "
        f"Date {datetime.date.today().isoformat()}.",
        "",
    ]
    replace_section(args.doc, SECTION, "\n".join(lines))
    print(f"wrote {args.doc} ({SECTION})")
    json.dump(
        [{"op": n, "sentio_ms": best(r["sentio"]), "ort_ms": best(r["ort"])} for (n, _, _, _), r in zip(ops, results)],
        open(work / "results.json", "w"),
        indent=1,
    )


if __name__ == "__main__":
    sys.exit(main())
