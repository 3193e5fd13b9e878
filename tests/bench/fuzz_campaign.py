#!/usr/bin/env python3
"""Runs the cargo-fuzz targets of fuzz/ one after the other for a fixed time each and writes
their figures (time, executions, execs/s, corpus, coverage, crashes) as the `## Fuzzing`
section of docs/reliability.md.

Needs nightly and cargo-fuzz (`cargo install cargo-fuzz --locked`). Seeds come from
`python3 fuzz/seeds.py` (run first; this script runs it when fuzz/corpus is missing).

    python3 tests/bench/fuzz_campaign.py --seconds 90                  # every target
    python3 tests/bench/fuzz_campaign.py --seconds 30 --only wav --no-doc
"""

import argparse
import datetime
import json
import pathlib
import re
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from benchdoc import replace_section  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
FUZZ = ROOT / "fuzz"
SECTION = "## Fuzzing"
# What each target feeds and to which parser (the order of the table).
TARGETS = {
    "frame_decoder": "serial byte stream -> sentio-link `FrameDecoder` (re-encode round trip)",
    "message_decoder": "frame body with valid COBS + CRC -> sentio-link header and message decoders",
    "bundle": "model bundle -> sentio-models `BundleView::parse` + `verify` and `verify_reader` (must agree)",
    "manifest": "manifest JSON -> sentio-models `Manifest::from_slice` (written back, parsed again)",
    "board_profile": "profile text -> sentio-boards `BoardProfile::from_str` (errors rendered)",
    "haar_cascade": "cascade XML -> sentio-vision `Cascade::parse`, then `detect_gray` on a 48x40 image",
    "wav": "WAV bytes -> sentio-audio `decode_wav`, then resampled to 16 kHz (outputs up to 1 s)",
    "npy": ".npy bytes -> sentio-infer `npy::parse` (written back, parsed again, bit-equal)",
    "onnx_model": "ONNX bytes -> sentio-infer `Model::load` (protobuf decode, Sentio's checks, tract)",
}
# What the runs found (each fixed in its own commit with a regression test; the row above is
# the run after the fix). Kept here so the regenerated section keeps saying it.
FOUND = """
Found and fixed:

- `manifest`: a free-form number (`training.normalization.mean` = -0.16856402158737185, in a
  mutated copy of the ser manifest) was read 1 ULP off by serde_json's default float parser and
  written back as ...183, so a manifest changed each time it was parsed and written (as
  `sentio bundle pack` does). sentio-models now enables serde_json's `float_roundtrip`; test:
  `models/tests/manifest_floats.rs`.
- `onnx_model`: a 72-byte Relu graph whose output is `y` while its node writes `d` made
  tract-onnx panic ("no entry found for key") while building the graph: a panic inside
  `Model::load`, which `sentio run` and `sentiod`'s model loading call. sentio-infer now refuses
  it first (`Error::UndefinedOutput`, with a help line); test:
  `a_graph_output_nothing_produces_is_refused_not_a_panic` in `firmware/infer/tests/bad_models.rs`.
- `onnx_model` (the run after that fix): the 203-byte Gemm + Softmax seed with its bias
  initializer retyped to STRING while holding raw bytes reached tract-onnx's
  `unimplemented!("FIXME, raw tensor loading")`. sentio-infer now refuses raw tensors of types
  tract cannot load (`Error::UnsupportedTensorType`); test:
  `a_raw_string_initializer_is_refused_not_a_panic` in the same file.

Notes: `onnx_model` runs tract's typing, decluttering and Sentio's measured lowering on every
input that passes the checks; measured, it still does about 1.5 k execs/s (most inputs stop at
the protobuf decode or Sentio's checks), fast enough to fuzz with tract in the loop, and tract is
where both of its panics were, so the target loads the whole way. `bundle` stays shallow (few corpus entries): a mutated
bundle fails its section-table hash, so the fuzzer rarely reaches the manifest and signature
parsing; the manifest has its own target. The `.npy` reader is real code outside tests
(`sentio-infer::npy`, used by `sentio run --input` and `sentio quantize --calib`), hence `npy`.
"""
LIBFUZZER = "-max_total_time={secs} -rss_limit_mb=2048 -timeout=30 -print_final_stats=1"


def run(target, secs):
    cmd = (["nice", "-n", "15", "cargo", "+nightly", "fuzz", "run", target, "--"] +
           LIBFUZZER.format(secs=secs).split())
    start = time.monotonic()
    r = subprocess.run(cmd, cwd=FUZZ, capture_output=True, text=True)
    wall = time.monotonic() - start
    log = r.stderr + r.stdout
    (FUZZ / "artifacts").mkdir(exist_ok=True)
    (FUZZ / "artifacts" / f"{target}.log").write_text(log)
    stat = dict(re.findall(r"stat::(\w+):\s+(\d+)", log))
    status = [ln for ln in log.splitlines() if re.match(r"#\d+\s", ln)]
    last = status[-1] if status else ""
    cov = re.search(r"cov: (\d+)", last)
    ft = re.search(r"ft: (\d+)", last)
    corpus_dir = FUZZ / "corpus" / target
    crash = re.search(r"Test unit written to (\S+)", log)
    done = re.search(r"Done (\d+) runs in (\d+) second", log)
    result = dict(
        target=target,
        date=datetime.date.today().isoformat(),
        requested=secs,
        # libFuzzer's own count when it ran out its time; wall time (with cargo's start) on a crash
        secs=int(done.group(2)) if done else round(wall),
        runs=int(stat.get("number_of_executed_units", done.group(1) if done else 0)),
        per_sec=int(stat.get("average_exec_per_sec", 0)),
        corpus=len(list(corpus_dir.iterdir())) if corpus_dir.exists() else 0,
        cov=int(cov.group(1)) if cov else None,
        ft=int(ft.group(1)) if ft else None,
        rss=int(stat.get("peak_rss_mb", 0)),
        crash=crash.group(1) if crash else None,
        code=r.returncode,
        last=last,
    )
    (FUZZ / "artifacts" / f"{target}.json").write_text(json.dumps(result, indent=1))
    return result


def write_doc(doc, results):
    secs = max((r.get("requested", 60) for r in results), default=60)
    rows = []
    for r in results:
        crash = "none" if not r["crash"] and r["code"] == 0 else (
            f"yes: `{pathlib.Path(r['crash']).name}`" if r["crash"] else f"exit {r['code']}")
        rows.append(
            f"| `{r['target']}` | {TARGETS[r['target']]} | {r['secs']} | {r['runs']:,} | "
            f"{r['per_sec']:,} | {r['corpus']} | {r['cov']} | {r['ft']} | {r['rss']} | {crash} |")
    dates = ", ".join(sorted({r["date"] for r in results}))
    text = f"""{SECTION}

Every parser of bytes from outside has a cargo-fuzz target in `fuzz/` (its own workspace,
nightly). Each was run for {secs} s ({dates}), one after the other, with its seed corpus
(`python3 fuzz/seeds.py`: the board profiles, the reference WAVs and small `.npy` files, the zoo
manifests, OpenCV's cascades cut to their first stage, three tiny ONNX graphs, and an unsigned
and a signed bundle), on the shared 2-core machine at `nice -n 15` beside a soak test, so the
rates are lower bounds. Made by `python3 tests/bench/fuzz_campaign.py --seconds {secs}`; one
target by hand:

    cd fuzz && cargo +nightly fuzz run TARGET -- {LIBFUZZER.format(secs=secs)}

A target re-run (`--only TARGET`, after a fix) replaces its own row; each row is its latest run.
Columns: executions and the average rate from libFuzzer's final stats; corpus: files in
`fuzz/corpus/TARGET` at the end (seeds included); cov and ft: libFuzzer's coverage (edges) and
feature counts at the end; rss: peak resident MiB.

| target | input -> parser | s | executions | execs/s | corpus | cov | ft | rss MiB | crash |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
""" + "\n".join(rows) + "\n" + FOUND
    replace_section(doc, SECTION, text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=90)
    ap.add_argument("--only", nargs="*", help="these targets only")
    ap.add_argument("--doc", type=pathlib.Path, default=ROOT / "docs" / "reliability.md")
    ap.add_argument("--no-doc", action="store_true")
    ap.add_argument("--doc-only", action="store_true",
                    help="run nothing; rewrite the section from the runs recorded in fuzz/artifacts")
    args = ap.parse_args()
    if args.doc_only:
        args.only = []
    elif not (FUZZ / "corpus").exists():
        subprocess.run([sys.executable, str(FUZZ / "seeds.py")], check=True)
    results = []
    for target in TARGETS if args.only is None else args.only:
        r = run(target, args.seconds)
        results.append(r)
        print(f"{target}: {r['secs']} s, {r['runs']} runs, {r['per_sec']}/s, corpus {r['corpus']}, "
              f"cov {r['cov']}, ft {r['ft']}, rss {r['rss']} MiB, "
              f"crash {r['crash'] or 'none'} (exit {r['code']})", flush=True)
    if not args.no_doc:
        # Every target's latest run (a target re-run after a fix replaces its row).
        latest = []
        for target in TARGETS:
            f = FUZZ / "artifacts" / f"{target}.json"
            if f.exists():
                latest.append(json.loads(f.read_text()))
        if not args.doc.exists():
            args.doc.write_text("# Reliability\n")
        write_doc(args.doc, latest)
        print(f"wrote {SECTION!r} into {args.doc.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
