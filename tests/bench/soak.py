#!/usr/bin/env python3
"""Soak test of the device: the sim mood pipeline (faces, voice, fusion, music) at real-time
pace for a long run, watched from outside.

Every SAMPLE seconds it reads the process's resident memory (/proc/PID/status VmRSS); from the
device's own `stats` events it takes the frame rate of each stats window; at the end the `stop`
event gives the frames and the largest audio lag (how far the microphone read ever fell behind
the clock: past the capture buffer, a live microphone drops audio). Reported: RSS at the end of
the warm-up and at the end, its growth, the fps of the first and last tenth, the audio lag, and
every `model_refused`/`refused` event (none expected). Writes the figures into
docs/reliability.md.

    python3 tests/bench/soak.py --minutes 60         # the release sentiod must be built
    python3 tests/bench/soak.py --minutes 2 --no-doc  # a quick look
"""

import argparse
import datetime
import json
import pathlib
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from benchdoc import replace_section  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
SECTION = "## Soak: the sim mood pipeline at real-time pace"
WARMUP_S = 60
# The capture buffer of the ALSA microphone (sentio-linux): audio read later than this is lost.
CAPTURE_BUFFER_MS = 200.0


def rss_kib(pid):
    try:
        for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--sample", type=float, default=10.0, help="seconds between RSS readings")
    ap.add_argument("--binary", type=pathlib.Path, default=ROOT / "target" / "release" / "sentiod")
    ap.add_argument("--doc", type=pathlib.Path, default=ROOT / "docs" / "reliability.md")
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args()
    if not args.binary.exists():
        sys.exit(f"{args.binary} is missing: cargo build --release -p sentiod")
    fps = 15
    frames = int(args.minutes * 60 * fps)
    events = []
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [str(args.binary), "--board", "sim", "--pace", "realtime", "--frames", str(frames),
               "--save-every", "100000", "--display-out", f"{tmp}/display",
               "--speaker-out", f"{tmp}/speaker.wav"]
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)

        def read():
            for line in proc.stdout:
                try:
                    events.append((time.monotonic(), json.loads(line)))
                except json.JSONDecodeError:
                    events.append((time.monotonic(), {"event": "not_json", "line": line}))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        start = time.monotonic()
        samples = []
        while proc.poll() is None:
            kib = rss_kib(proc.pid)
            if kib is not None:
                samples.append((time.monotonic() - start, kib))
            time.sleep(args.sample)
        reader.join(timeout=10)
        stderr = proc.stderr.read()
    if proc.returncode != 0:
        sys.exit(f"sentiod exited {proc.returncode}: {stderr[-2000:]}")
    stop = next((e for _, e in reversed(events) if e.get("event") == "stop"), None)
    if stop is None:
        sys.exit("no stop event")
    stats = [(t - start, e["fps"]) for t, e in events if e.get("event") == "stats"]
    refused = [e for _, e in events if "refused" in e.get("event", "")]
    after_warmup = [kib for t, kib in samples if t >= WARMUP_S] or [samples[-1][1]]
    rss_start, rss_end = after_warmup[0] / 1024, samples[-1][1] / 1024
    rss_max = max(kib for _, kib in samples) / 1024
    tenth = max(1, len(stats) // 10)
    fps_first = sum(f for _, f in stats[:tenth]) / tenth
    fps_last = sum(f for _, f in stats[-tenth:]) / tenth
    lag = stop.get("audio_lag_max_ms", 0.0)
    tracks = sum(1 for _, e in events if e.get("event") == "track" and e.get("action") == "started")
    moods = sum(1 for _, e in events if e.get("event") == "mood")
    speech = sum(1 for _, e in events if e.get("event") == "speech")
    growth = rss_end - rss_start
    lines = [
        SECTION,
        "",
        "```",
        f"python3 tests/bench/soak.py --minutes {args.minutes:g}",
        "```",
        "",
        f"`sentiod --board sim --pace realtime` for {args.minutes:g} minutes ({stop['frames']} "
        "frames at 15 fps): the mood pipeline (Haar faces, FER, VAD + SER, fusion, mood screen) "
        "with the sim profile's music on the speaker WAV, release build. RSS read from /proc "
        f"every {args.sample:g} s; growth counted from the end of a {WARMUP_S} s warm-up. "
        "Goal (issue 18): RSS growth <= 1 MiB over the hour, no audio buffer dropped.",
        "",
        "| RSS after warm-up | RSS at the end | growth | peak | fps, first / last tenth "
        "| largest audio lag | speech / mood / track events | refusals |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| {rss_start:.1f} MiB | {rss_end:.1f} MiB | {growth:+.2f} MiB | {rss_max:.1f} MiB "
        f"| {fps_first:.2f} / {fps_last:.2f} | {lag:.1f} ms | {speech} / {moods} / {tracks} "
        f"| {len(refused)} |",
        "",
        f"Audio: the largest lag ({lag:.1f} ms) against a {CAPTURE_BUFFER_MS:.0f} ms capture "
        f"buffer: {'no buffer dropped' if lag < CAPTURE_BUFFER_MS else 'BUFFERS DROPPED'}. "
        f"RSS growth {growth:+.2f} MiB: goal {'met' if growth <= 1.0 else 'NOT met'}. "
        f"Date {datetime.date.today().isoformat()}.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if refused:
        print("refusals:", json.dumps(refused[:5]))
    if not args.no_doc:
        if not args.doc.exists():
            args.doc.write_text("# Reliability\n\nLong runs, fuzzing and bad inputs: what was run "
                                "and what came out.\n")
        replace_section(args.doc, SECTION, text)
        print(f"wrote {args.doc} ({SECTION})")
    return 0 if growth <= 1.0 and lag < CAPTURE_BUFFER_MS and not refused else 1


if __name__ == "__main__":
    sys.exit(main())
