#!/usr/bin/env python3
"""Benchmarks the whole device pipeline on the simulated board: `sentiod --board sim --pace fast`,
640x480 camera frames (boards/sim/camera) + 16 kHz audio (boards/sim/voice.wav, a 5.2 s clip with
one sentence, looped), one inference thread.

For each configuration it runs the release `sentiod` for FRAMES frames (display captured as PNG
only every 100000th frame, so disk writes stay out of the figures) and reads the `stop` event:
frames per second over the run, frame-to-display time (frame captured to display flushed) p50 and
p99, and the process's peak RSS; from the `stats` events it averages the per-stage times. The
preview pipeline (no models) runs in the same script as the peer: what the models cost is the
difference. Each configuration runs ROUNDS times, interleaved; the best round (highest fps) is
reported. The mood pipeline also reports its speech windows and their window-to-result latency
(from the frame's audio read to the window's scores), and one extra run at real-time pace
measures how far the audio read ever fell behind the clock (a live microphone drops audio once
that exceeds its buffer).

    python3 tests/bench/bench_pipeline.py           # builds sentiod (release) first
"""

import argparse
import datetime
import json
import pathlib
import platform
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from benchdoc import replace_section  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
SECTION = "## Whole pipeline: sentiod on the simulated board"


def run(binary, args, frames, pace="fast"):
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            str(binary), "--board", "sim", "--pace", pace, "--frames", str(frames),
            "--no-beep", "--save-every", "100000",
            "--display-out", f"{tmp}/display", "--speaker-out", f"{tmp}/speaker.wav",
            "--store", f"{tmp}/store",
        ] + args
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    events = [json.loads(line) for line in out.stdout.splitlines()]
    stop = events[-1]
    assert stop["event"] == "stop", stop
    stages = {}
    windows = [e for e in events if e["event"] == "stats"]
    for key in ("capture_ms", "audio_ms", "draw_ms", "flush_ms", "detect_ms", "track_ms",
                "crop_ms", "fer_ms", "listen_ms", "features_ms", "ser_ms", "fuse_ms"):
        values = [w[key] for w in windows if key in w]
        if values:
            stages[key] = sum(values) / len(values)
    faces = sum(1 for e in events if e["event"] == "face")
    expressions = sum(1 for e in events if e["event"] == "expression")
    refused = [e for e in events if e["event"] == "model_refused"]
    if refused:
        raise SystemExit(f"{' '.join(args)}: {refused}")
    return {
        "fps": stop["frames"] / (stop["elapsed_ms"] / 1000.0),
        "p50": stop["frame_to_display_p50_ms"],
        "p99": stop["frame_to_display_p99_ms"],
        "rss": stop.get("peak_rss_mib"),
        "stages": stages,
        "faces": faces,
        "expressions": expressions,
        "speech": sum(1 for e in events if e["event"] == "speech"),
        "moods": sum(1 for e in events if e["event"] == "mood"),
        "windows": stop.get("speech_windows", 0),
        "w50": stop.get("window_to_result_p50_ms"),
        "w99": stop.get("window_to_result_p99_ms"),
        "lag": stop.get("audio_lag_max_ms"),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--no-doc", action="store_true", help="print only")
    args = parser.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-p", "sentiod"], cwd=ROOT, check=True)
    binary = ROOT / "target/release/sentiod"
    configs = [
        ("preview (peer: no models)", ["--mode", "preview"]),
        ("faces, Haar (every 3rd frame at 320x240) + FER", ["--mode", "faces"]),
        ("mood: Haar + FER + voice (VAD, SER) + fusion + mood screen + music", ["--mode", "mood"]),
    ]
    if (ROOT / "models/zoo/blazeface/model.onnx").exists():
        configs.append(("mood: BlazeFace (every 3rd frame) + FER + voice",
                        ["--mode", "mood", "--detector", "blazeface"]))
    if (ROOT / "models/zoo/fer-mini-xception/model.onnx").exists():
        configs.append(("mood: Haar + FER2013 mini-Xception (64x64) + voice",
                        ["--mode", "mood", "--model",
                         "fer=models/zoo/fer-mini-xception/model.onnx"]))
    best = {}
    for r in range(args.rounds):
        for name, extra in configs:
            result = run(binary, extra, args.frames)
            print(f"round {r + 1} {name}: {result['fps']:.1f} fps, p50 {result['p50']:.2f} ms, "
                  f"p99 {result['p99']:.2f} ms, rss {result['rss']} MiB", flush=True)
            if name not in best or result["fps"] > best[name]["fps"]:
                best[name] = result
    # Real time: does the loop keep up with the microphone? (10 s of the mood pipeline.)
    realtime = run(binary, ["--mode", "mood"], 150, pace="realtime")
    print(f"realtime mood: audio lag max {realtime['lag']} ms, {realtime['speech']} speech events",
          flush=True)
    lines = [
        SECTION,
        "",
        f"`python3 tests/bench/bench_pipeline.py --frames {args.frames} --rounds {args.rounds}` "
        f"({datetime.date.today()}, {platform.machine()}, release build, 1 inference thread, "
        f"best of {args.rounds} interleaved rounds). `sentiod --board sim --pace fast`: 640x480 "
        "RGB frames from boards/sim/camera (a photo), 16 kHz voice clip, 240x240 RGB565 display "
        "drawn every frame; the mood rows also play the sim profile's music (decoded, resampled "
        "and mixed into the speaker WAV each frame). Frame-to-display: frame captured to display flushed. Goal: >= 100 "
        "frames/s, p99 <= 50 ms, <= 64 MiB, no audio buffer dropped. Window-to-result: from the "
        "frame's audio read (the window's last sample) to the window's scores.",
        "",
        "| pipeline | frames/s | frame-to-display p50 | p99 | peak RSS | per frame: detect / track / crop / fer / features / ser / fuse / draw / flush (ms) | speech windows, window-to-result p50 / p99 | face / expression / speech / mood events |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, _ in configs:
        b = best[name]
        s = b["stages"]
        per = " / ".join(f"{s.get(k, 0.0):.3f}" for k in
                         ("detect_ms", "track_ms", "crop_ms", "fer_ms", "features_ms", "ser_ms",
                          "fuse_ms", "draw_ms", "flush_ms"))
        voice = (f"{b['windows']:.0f}, {b['w50']:.2f} / {b['w99']:.2f} ms" if b["w50"] is not None
                 else "-")
        lines.append(f"| {name} | {b['fps']:.0f} | {b['p50']:.2f} ms | {b['p99']:.2f} ms | "
                     f"{b['rss']} MiB | {per} | {voice} | "
                     f"{b['faces']} / {b['expressions']} / {b['speech']} / {b['moods']} |")
    lines += [
        "",
        f"At real-time pace (`--pace realtime --frames 150`, 10 s of the mood pipeline) the audio "
        f"read was at most {realtime['lag']:.1f} ms behind the clock (one frame is 66.7 ms; an "
        f"ALSA capture buffer holds 100-500 ms), so no audio buffer would be dropped; "
        f"{realtime['speech']} speech events, {realtime['moods']} mood change(s).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_doc:
        replace_section(ROOT / "docs/benchmarks.md", SECTION, text)


if __name__ == "__main__":
    main()
