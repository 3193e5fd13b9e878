#!/usr/bin/env python3
"""Times Sentio's plan, tract's own plan and onnxruntime on the zoo models, as CPUs with fewer
instruction sets would run them, and checks that `runtime.kernels = "auto"` keeps the faster.

Models: the four zoo models (models/zoo/{emoji,fer,ser,anp}) and BlazeFace
(models/zoo/blazeface, fetched by its fetch.sh), f32, 1 thread, batch 1. Kernel sets, on this
machine:
  (a) all kernels: Sentio's best implementation here (AVX-512 on this machine), tract's too;
  (b) AVX2+FMA only: `sentio bench --isa avx2+fma`, tract limited the same way by
      `TRACT_CPU_ISA` (no AVX-512 of any kind);
  (c) portable only: `sentio bench --isa portable`, tract with no AVX, AVX2, FMA or AVX-512
      (tract's generic kernels), as a board without those runs them.
onnxruntime cannot be limited this way: its figure is the same in every row (all its kernels).

Each row: `sentio bench MODEL --threads 1 --json` with `--kernels sentio`, `--kernels tract`
and `--kernels auto` (what the device runs; its choice and the times it measured at load are in
the JSON), in ROUNDS interleaved rounds (every model and set once per round); the best round's
median is reported. "auto kept" is the plan auto chose in each round; "faster" is the faster of
the Sentio and tract medians in this table. The table goes to docs/benchmarks.md under
`## Kernels: Sentio's plan, tract's plan and onnxruntime by instruction set`.

    pip install onnxruntime numpy                    # if missing
    bash models/zoo/blazeface/fetch.sh                # if models/zoo/blazeface/model.onnx is missing
    cargo build --release -p sentio
    python3 tests/bench/bench_kernels.py
"""

import argparse
import collections
import datetime
import json
import os
import pathlib
import sys

import numpy as np

from bench_inference import best, cpu_flags, cpu_model, fmt, nearest_rank, ort_session, sh, time_ort
from benchdoc import replace_section

ROOT = pathlib.Path(__file__).resolve().parents[2]
SECTION = "## Kernels: Sentio's plan, tract's plan and onnxruntime by instruction set"
MODELS = ["emoji", "fer", "ser", "anp", "blazeface"]
# (label, sentio --isa, TRACT_CPU_ISA)
AVX512 = "-avx512f,-avx512vnni,-avx512fp16,-amx-int8,-amx-bf16"
SETS = [
    ("all kernels", None, None),
    ("AVX2+FMA only", "avx2+fma", AVX512),
    ("portable only", "portable", "-avx,-avx2,-fma,-f16c,-avxvnni," + AVX512),
]


def bench(sentio, model, kernels, isa, tract_isa, warmup, runs):
    env = dict(os.environ)
    env.pop("TRACT_CPU_ISA", None)
    if tract_isa:
        env["TRACT_CPU_ISA"] = tract_isa
    cmd = [sentio, "bench", str(model), "--threads", "1", "--warmup", str(warmup), "--runs", str(runs),
           "--kernels", kernels, "--json"]
    if isa:
        cmd += ["--isa", isa]
    return json.loads(sh(cmd, env=env))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentio", default=str(ROOT / "target" / "release" / "sentio"))
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--doc", type=pathlib.Path, default=ROOT / "docs" / "benchmarks.md")
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    models = []
    for name in MODELS:
        path = ROOT / "models" / "zoo" / name / "model.onnx"
        if not path.exists():
            sys.exit(f"{path} is missing (BlazeFace: bash models/zoo/blazeface/fetch.sh)")
        manifest = json.loads(path.with_name("manifest.json").read_text())
        shape = manifest["input"]["shape"]
        x = rng.uniform(0.0, 1.0, size=shape).astype(np.float32)
        models.append({"name": name, "path": path, "x": x, "sess": ort_session(path)})

    results = collections.defaultdict(list)  # (model, set, what) -> [p50 per round]
    choices = collections.defaultdict(list)  # (model, set) -> [chosen plan per round]
    load_times = collections.defaultdict(list)
    for r in range(args.rounds):
        print(f"round {r + 1}/{args.rounds}", flush=True)
        for m in models:
            p50, _ = time_ort(m["sess"], m["x"], args.warmup, args.runs)
            results[(m["name"], None, "ort")].append(p50)
            for label, isa, tract_isa in SETS:
                for kernels in ("sentio", "tract", "auto"):
                    doc = bench(args.sentio, m["path"], kernels, isa, tract_isa, args.warmup, args.runs)
                    results[(m["name"], label, kernels)].append(doc["latency_ms"]["p50"])
                    if kernels == "auto":
                        plan = doc["lowering"]["plan"]
                        choices[(m["name"], label)].append(plan["chosen"])
                        load_times[(m["name"], label)].append(plan["times_ms"])
                    if kernels == "sentio":
                        results[(m["name"], label, "isa")] = doc["lowering"]["plan"]["isa"]
                print(f"  {m['name']:<10} {label:<14} sentio {results[(m['name'], label, 'sentio')][-1]:.3f} "
                      f"tract {results[(m['name'], label, 'tract')][-1]:.3f} "
                      f"auto kept {choices[(m['name'], label)][-1]}", flush=True)

    lines = [
        SECTION,
        "",
        "```",
        "cargo build --release -p sentio",
        "python3 tests/bench/bench_kernels.py",
        "```",
        "",
        f"p50 latency in ms, 1 thread, best of {args.rounds} interleaved rounds of {args.runs} runs after "
        f"{args.warmup} warm-up runs (`sentio bench --json`; onnxruntime in Python around `InferenceSession.run`). "
        "\"Sentio\" is `--kernels sentio` (Sentio's kernels with the instruction set in the row, tract's for the "
        "other ops), \"tract\" is `--kernels tract` (tract's own plan, limited by `TRACT_CPU_ISA` to the same set), "
        "\"auto kept\" is what `--kernels auto` (the device's default) chose at load in each round, "
        "\"faster\" the faster of the two medians here. onnxruntime always runs all its kernels.",
        "",
        "| model | kernel set | Sentio's ISA | Sentio | tract | onnxruntime | Sentio / ort | tract / ort | faster | auto kept | auto right |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    wrong = []
    for m in models:
        ort_p50 = min(results[(m["name"], None, "ort")])
        for label, _, _ in SETS:
            s = min(results[(m["name"], label, "sentio")])
            t = min(results[(m["name"], label, "tract")])
            faster = "sentio" if s <= t else "tract"
            kept = choices[(m["name"], label)]
            counts = collections.Counter("tract" if k == "tract" else "sentio" for k in kept)
            kept_text = ", ".join(f"{k} {n}/{len(kept)}" for k, n in counts.most_common())
            right = counts[faster] == len(kept)
            if not right:
                wrong.append(f"{m['name']} / {label}")
            lines.append(
                f"| {m['name']} | {label} | {results[(m['name'], label, 'isa')]} | {fmt(s)} | {fmt(t)} | {fmt(ort_p50)} | "
                f"**{s / ort_p50:.2f}x** | {t / ort_p50:.2f}x | {faster} ({max(s, t) / min(s, t):.2f}x) | {kept_text} | "
                f"{'yes' if right else 'no'} |"
            )
    lines += [
        "",
        f"Machine: {cpu_model()} (flags {' '.join(cpu_flags())}), {os.cpu_count()} cores; onnxruntime "
        f"{__import__('onnxruntime').__version__}. Date {datetime.date.today().isoformat()}.",
        "",
        "auto's own timings at load (median of 15 runs of each plan, ms), per round: "
        + "; ".join(
            f"{m['name']} / {label}: "
            + " | ".join(", ".join(f"{k} {v:.3f}" for k, v in t.items()) for t in load_times[(m['name'], label)])
            for m in models for label, _, _ in SETS
        ),
        "",
    ]
    if wrong:
        lines.append(f"auto kept the slower plan in some round of: {', '.join(wrong)}.")
        lines.append("")
    text = "\n".join(lines)
    print(text)
    replace_section(args.doc, SECTION, text)


if __name__ == "__main__":
    main()
