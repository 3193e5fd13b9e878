#!/usr/bin/env python3
"""Bad inputs for the device binary `sentiod` and the host tool `sentio`: each case makes its
bad file in a temporary folder, runs the real binary on it and records the exit code and the
first lines of what it printed. Writes the table `## Bad inputs` into docs/reliability.md.

A case is a finding when the program panics, prints a backtrace, exits 0 on garbage, runs past
the time limit, or refuses the input without saying what to do about it (no help line).

    cargo build --bin sentiod --bin sentio        # the debug binaries in target/debug
    python3 tests/bench/bad_inputs.py             # runs every case, writes the doc section
    python3 tests/bench/bad_inputs.py --no-doc -k wav   # only the cases whose input mentions "wav"
"""

import argparse
import json
import math
import os
import pathlib
import re
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from benchdoc import replace_section  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
SECTION = "## Bad inputs"
TIMEOUT_S = 120
# sentiod's arguments for a short, quiet run that writes nothing outside the temp folder.
DEVICE = ["--pace", "fast", "--frames", "5", "--no-link", "--no-beep",
          "--display-out", "{tmp}/display", "--speaker-out", "{tmp}/speaker.wav",
          "--store", "{tmp}/store"]
SIM_PROFILE = (ROOT / "boards/profiles/sim.toml").read_text()
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# tracing's timestamp at the start of a log line: differs on every run, says nothing here.
LOG_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\s+", re.MULTILINE)
# Words a help line uses to say what to do.
FIX_WORDS = re.compile(r"help:|hint:|\b(try|check|convert|use|pass|run|add|remove|set|give|make|"
                       r"rename|install|expected|allowed|did you mean|fetch|re-?export|re-?pack|"
                       r"export|record|copy|flash|pack|fix|sign|write|put|close)\b",
                       re.IGNORECASE)


# ---------------------------------------------------------------------------------------------
# Making the bad files

def wav_bytes(samples, rate, channels=1, bits=16):
    data = b"".join(struct.pack("<h", max(-32768, min(32767, int(s * 32767)))) for s in samples)
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * channels * bits // 8,
                      channels * bits // 8, bits)
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE" + b"fmt " +
            struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(data)) + data)


def tone(rate, secs=1.0, hz=440.0):
    return [0.3 * math.sin(2 * math.pi * hz * i / rate) for i in range(int(rate * secs))]


def profile(tmp, edit):
    """The sim profile with absolute media paths (it is copied out of boards/), edited."""
    text = (SIM_PROFILE.replace('"sim/', f'"{ROOT}/boards/sim/')
            .replace('"../models', f'"{ROOT}/models'))
    text = edit(text)
    path = tmp / "board.toml"
    path.write_text(text)
    return path


def npy_bytes(shape, values):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % (
        "".join(f"{d}, " for d in shape) if len(shape) != 1 else f"{shape[0]},")
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * pad + "\n"
    return (b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() +
            struct.pack(f"<{len(values)}f", *values))


def onnx_model(path, in_shape, out_shape):
    """A tiny Gemm + Softmax classifier made with the `onnx` package."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    n_in, n_out = in_shape[-1], out_shape[-1]
    w = numpy_helper.from_array(np.full((n_in, n_out), 0.01, np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "w"], ["h"]),
         helper.make_node("Softmax", ["h"], ["y"], axis=1)], "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)


def fer_manifest():
    return json.loads((ROOT / "models/zoo/fer/manifest.json").read_text())


def run_sentio(*args, tmp):
    r = subprocess.run([str(BIN / "sentio"), *args], capture_output=True, text=True, cwd=tmp)
    if r.returncode != 0:
        raise RuntimeError(f"sentio {' '.join(args)}: {r.stderr}")


def make_bundles(tmp):
    """A good signed bundle of the shipped emoji model, one with a flipped signature byte, one
    cut short, and a second key pair to verify with."""
    run_sentio("keys", "gen", "--out", "key", tmp=tmp)
    run_sentio("keys", "gen", "--out", "other", tmp=tmp)
    run_sentio("bundle", "pack", "--manifest", str(ROOT / "models/zoo/emoji/manifest.json"),
               "--model", str(ROOT / "models/zoo/emoji/model.onnx"), "--key", "key.secret",
               "--out", "good.bundle", tmp=tmp)
    good = (tmp / "good.bundle").read_bytes()
    bad = bytearray(good)
    bad[-10] ^= 0x01  # inside the ed25519 signature at the end of the trailer
    (tmp / "badsig.bundle").write_bytes(bytes(bad))
    (tmp / "truncated.bundle").write_bytes(good[: len(good) // 2])
    damaged = bytearray(good)
    damaged[len(good) // 2] ^= 0x01  # inside the model section
    (tmp / "damaged.bundle").write_bytes(bytes(damaged))


NOTES = """
Fixed while making the table: `sentio run` with an `.npy` of the wrong element count said what
was wrong but not what to do; it now has a help line (the `np.save` reshape, `--shape`). Fixed
after the first run of the table (2026-12-06): `sentiod --frames 0` ran no frame and exited 0
(now a usage error, exit 2), `--model` with a name other than `fer`, `ser`, `blazeface` was
silently ignored (now refused, naming the three), `--pubkey` was not read with `--no-link`
(now read before anything opens), and the NaN WAV's message guessed truncation (sentio-audio
now says the samples are not finite and what to do); the rows above were made after those
fixes. Sketch mode's cases came with it; `sentio sketch` without its model file had no help
line until this table found it.
"""


# Each case: the input (what is wrong), the argv ({tmp}, {root} filled in), a setup that makes
# the files, and whether the input is garbage (must be refused) or should be accepted.
def cases():
    c = []

    def case(what, argv, setup=None, garbage=True, show=None, note=""):
        c.append(dict(what=what, argv=argv, setup=setup, garbage=garbage, show=show, note=note))

    d = ["sentiod"]
    # --- board profiles
    case("unknown built-in board name", d + ["--board", "nosuch"] + DEVICE)
    case("missing board profile file", d + ["--board", "{tmp}/missing.toml"] + DEVICE)
    case("profile with a TOML syntax error (unclosed string)",
         d + ["--board", "{tmp}/board.toml"] + DEVICE,
         lambda t: profile(t, lambda s: s.replace('name = "sim"', 'name = "sim')))
    case("profile with a typo'd key (`fsp` for `fps`)", d + ["--board", "{tmp}/board.toml"] + DEVICE,
         lambda t: profile(t, lambda s: s.replace("fps = 15", "fsp = 15")))
    case("profile with a misspelled table ([camera_])",
         d + ["--board", "{tmp}/board.toml"] + DEVICE,
         lambda t: profile(t, lambda s: s.replace("[camera]", "[camera_]")))
    case("profile missing a required table ([camera])",
         d + ["--board", "{tmp}/board.toml"] + DEVICE,
         lambda t: profile(t, lambda s: s[:s.index("[camera]")] + s[s.index("[audio]"):]))
    case("profile with an unsupported audio rate (12345)",
         d + ["--board", "{tmp}/board.toml"] + DEVICE,
         lambda t: profile(t, lambda s: s.replace("rate = 16000", "rate = 12345")))
    case("[mood] weight out of range (face_weight = 11)",
         d + ["--board", "{tmp}/board.toml"] + DEVICE,
         lambda t: profile(t, lambda s: s + "\n[mood]\nface_weight = 11\n"))
    case("[mood] weight of the wrong type (voice_weight = \"high\")",
         d + ["--board", "{tmp}/board.toml"] + DEVICE,
         lambda t: profile(t, lambda s: s + '\n[mood]\nvoice_weight = "high"\n'))
    case("[mood] unknown idle mood", d + ["--board", "{tmp}/board.toml"] + DEVICE,
         lambda t: profile(t, lambda s: s + '\n[mood]\nidle_mood = "bored"\n'))
    case("[mood.fer7] a label the set does not have", d + ["--board", "{tmp}/board.toml"] + DEVICE,
         lambda t: profile(t, lambda s: s + '\n[mood.fer7]\ncontempt = "sad"\n'))
    case("[music.folders] unknown mood (`joyful`)", d + ["--board", "{tmp}/board.toml"] + DEVICE,
         lambda t: profile(t, lambda s: s.replace('happy = "', 'joyful = "')))
    case("[music] crossfade_ms negative", d + ["--board", "{tmp}/board.toml"] + DEVICE,
         lambda t: profile(t, lambda s: s.replace("crossfade_ms = 1500", "crossfade_ms = -1")))
    # --- sources and options
    case("--camera: a folder with no images", d + ["--camera", "{tmp}/empty"] + DEVICE,
         lambda t: (t / "empty").mkdir())
    case("--camera: a PNG that is not an image", d + ["--camera", "{tmp}/frame.png"] + DEVICE,
         lambda t: (t / "frame.png").write_text("not a png\n"))
    case("--camera: a path that does not exist", d + ["--camera", "{tmp}/nowhere"] + DEVICE)
    case("--mic: a text file named .wav", d + ["--mic", "{tmp}/voice.wav"] + DEVICE,
         lambda t: (t / "voice.wav").write_text("hello\n"))
    case("--mic: a WAV at 44.1 kHz stereo (accepted: resampled, mixed)",
         d + ["--mic", "{tmp}/voice44k.wav"] + DEVICE,
         lambda t: (t / "voice44k.wav").write_bytes(
             wav_bytes([s for x in tone(44100) for s in (x, x)], 44100, channels=2)),
         garbage=False, show=r"resampl|\"event\":\"(start|stop)\"")
    case("--frames 0", d + DEVICE[:2] + ["--frames", "0"] + DEVICE[4:])
    case("--serial: a port that does not exist",
         d + [a for a in DEVICE if a != "--no-link"] + ["--serial", "/dev/ttyNOSUCH0"])
    case("--cascade: a file that is not a cascade", d + ["--cascade", "{tmp}/c.xml"] + DEVICE,
         lambda t: (t / "c.xml").write_text("<opencv_storage><cascade></cascade></opencv_storage>"),
         show=r"error|help|model_refused|refused")
    case("--model fer=: a truncated ONNX file", d + ["--model", "fer={tmp}/fer/model.onnx"] + DEVICE,
         lambda t: ((t / "fer").mkdir(),
                    (t / "fer/model.onnx").write_bytes(
                        (ROOT / "models/zoo/fer/model.onnx").read_bytes()[:5000]),
                    shutil.copy(ROOT / "models/zoo/fer/manifest.json", t / "fer/manifest.json")),
         show=r"error|help|model_refused")
    case("--model fer=: a model whose input is not its manifest's (1x10 vs 1x1x48x48)",
         d + ["--model", "fer={tmp}/fer/model.onnx"] + DEVICE,
         lambda t: ((t / "fer").mkdir(), onnx_model(t / "fer/model.onnx", [1, 10], [1, 7]),
                    shutil.copy(ROOT / "models/zoo/fer/manifest.json", t / "fer/manifest.json")),
         show=r"error|help|model_refused")
    case("--model with an unknown name", d + ["--model", "smile={root}/models/zoo/fer/model.onnx"] + DEVICE)
    case("--pubkey: a file that is not a key (link on a pty)",
         d + ["--pubkey", "{tmp}/k.pub", "--serial", "pty"] + [a for a in DEVICE if a != "--no-link"],
         lambda t: (t / "k.pub").write_text("not a key\n"))
    case("--pubkey: a file that is not a key, with --no-link",
         d + ["--pubkey", "{tmp}/k.pub"] + DEVICE,
         lambda t: (t / "k.pub").write_text("not a key\n"))
    case("--press-at: not a number", d + ["--press-at", "two"] + DEVICE)

    s = ["sentio"]
    # --- WAV for `sentio features`
    case("features: a corrupt WAV (RIFF header, data cut off)", s + ["features", "{tmp}/cut.wav"],
         lambda t: (t / "cut.wav").write_bytes(wav_bytes(tone(16000), 16000)[:60]))
    case("features: an empty file", s + ["features", "{tmp}/empty.wav"],
         lambda t: (t / "empty.wav").write_bytes(b""))
    case("features: an A-law WAV (format 6)", s + ["features", "{tmp}/alaw.wav"],
         lambda t: (t / "alaw.wav").write_bytes(
             wav_bytes(tone(8000), 8000)[:20] + struct.pack("<H", 6) +
             wav_bytes(tone(8000), 8000)[22:]))
    case("features: a WAV at 44.1 kHz (accepted: resampled)", s + ["features", "{tmp}/t44.wav"],
         lambda t: (t / "t44.wav").write_bytes(wav_bytes(tone(44100, 0.5), 44100)),
         garbage=False, show=r"resampl|Hz|frames")
    case("features: a float WAV holding NaN", s + ["features", "{tmp}/nan.wav"],
         lambda t: (t / "nan.wav").write_bytes(float_wav([0.0, float("nan"), 0.1] * 400, 16000)))
    # --- models for `sentio run`
    case("run: a truncated ONNX file",
         s + ["run", "{tmp}/cut.onnx", "--input", "{tmp}/x.npy"],
         lambda t: ((t / "cut.onnx").write_bytes(
             (ROOT / "models/zoo/emoji/model.onnx").read_bytes()[:4000]),
             (t / "x.npy").write_bytes(npy_bytes([1, 1, 64, 64], [0.0] * 4096))))
    case("run: a model whose input does not match its manifest",
         s + ["run", "{tmp}/m.onnx", "--manifest", "{tmp}/m.json", "--input", "{tmp}/x.npy"],
         lambda t: (onnx_model(t / "m.onnx", [1, 10], [1, 7]),
                    (t / "m.json").write_text(json.dumps(fer_manifest())),
                    (t / "x.npy").write_bytes(npy_bytes([1, 10], [0.0] * 10))))
    case("run: an .npy with the wrong element count",
         s + ["run", "{root}/models/zoo/emoji/model.onnx", "--input", "{tmp}/x.npy"],
         lambda t: (t / "x.npy").write_bytes(npy_bytes([1, 10], [0.0] * 10)))
    case("run: an .npy that is not one (text)",
         s + ["run", "{root}/models/zoo/emoji/model.onnx", "--input", "{tmp}/x.npy"],
         lambda t: (t / "x.npy").write_text("1,2,3\n"))
    case("run: a manifest that is not JSON",
         s + ["run", "{root}/models/zoo/emoji/model.onnx", "--manifest", "{tmp}/m.json",
              "--image", "{root}/boards/sim/drawn/frame_00.png"],
         lambda t: (t / "m.json").write_text("{ name: emoji }\n"))
    # --- manifests and bundles
    case("bundle pack: a manifest with an unknown task",
         s + ["bundle", "pack", "--manifest", "{tmp}/m.json", "--model",
              "{root}/models/zoo/fer/model.onnx", "--out", "{tmp}/x.bundle"],
         lambda t: (t / "m.json").write_text(json.dumps({**fer_manifest(), "task": "telepathy"})),
         garbage=False, show=r"error|bundle|unsigned|task",
         note="accepted by design: unknown tasks are kept for newer tools (docs/bundle.md)")
    case("bundle pack: a secret key file that is not a key",
         s + ["bundle", "pack", "--manifest", "{root}/models/zoo/fer/manifest.json", "--model",
              "{root}/models/zoo/fer/model.onnx", "--key", "{tmp}/k.secret", "--out", "{tmp}/x.bundle"],
         lambda t: (t / "k.secret").write_text("not a key\n"))
    case("bundle verify: a bundle with a bad signature",
         s + ["bundle", "verify", "{tmp}/badsig.bundle", "--pubkey", "{tmp}/key.pub"], make_bundles)
    case("bundle verify: a good bundle checked against another key",
         s + ["bundle", "verify", "{tmp}/good.bundle", "--pubkey", "{tmp}/other.pub"], make_bundles)
    case("bundle verify: a bundle cut in half", s + ["bundle", "verify", "{tmp}/truncated.bundle"],
         make_bundles)
    case("bundle inspect: a file that is not a bundle (an ONNX model)",
         s + ["bundle", "inspect", "{root}/models/zoo/fer/model.onnx"])
    case("flash: a bundle whose model bytes were altered",
         s + ["flash", "--port", "/dev/ttyNOSUCH0", "{tmp}/damaged.bundle"], make_bundles)
    case("flash: a bundle with a bad signature",
         s + ["flash", "--port", "/dev/ttyNOSUCH0", "{tmp}/badsig.bundle"], make_bundles,
         note="flash takes no --pubkey: the device checks signatures, so the port is opened first")
    case("flash: a serial port that does not exist",
         s + ["flash", "--port", "/dev/ttyNOSUCH0", "{tmp}/good.bundle"], make_bundles)
    case("info: a port that is not a serial port (a regular file)",
         s + ["info", "--port", "{tmp}/plain.txt"], lambda t: (t / "plain.txt").write_text("x\n"))
    case("faces: a cascade that is not XML",
         s + ["faces", "--cascade", "{tmp}/c.xml", "{root}/boards/sim/drawn/frame_00.png"],
         lambda t: (t / "c.xml").write_text("GIF89a garbage"))
    # --- sketch mode
    case("sketch --strokes: a PNG renamed .json", d + ["--mode", "sketch", "--strokes", "{tmp}/s.json"] + DEVICE,
         lambda t: shutil.copy(ROOT / "firmware/ui/tests/golden/sketch_240x240_winking.png", t / "s.json"))
    case("sketch --strokes: a point outside the panel",
         d + ["--mode", "sketch", "--strokes", "{tmp}/s.json"] + DEVICE,
         lambda t: (t / "s.json").write_text(json.dumps(
             {"format": "sentio-strokes", "version": 1, "width": 240, "height": 240,
              "strokes": [[[10, 10, 0], [300, 20, 50]]]})))
    case("sketch: a camera frame with no card (accepted: `no_card`)",
         d + ["--mode", "sketch", "--camera", "pattern"] + DEVICE[:2] + ["--frames", "12"] + DEVICE[4:],
         garbage=False, show=r"\"event\":\"(emoji|stop)\"")
    case("sketch --model emoji=: the expression model (wrong labels)",
         d + ["--mode", "sketch", "--model", "emoji={root}/models/zoo/fer/model.onnx"] + DEVICE,
         show=r"model_refused|error")
    case("sentio sketch: a text file as a frame",
         s + ["sketch", "--model", "{root}/models/zoo/emoji/model.onnx", "{tmp}/frame.png"], lambda t: (t / "frame.png").write_text("not a png\n"))
    case("sentio sketch: the emoji model missing (run outside the source tree)",
         s + ["sketch", "{tmp}/frame.png"], lambda t: (t / "frame.png").write_text("x"))
    case("sentio sketch --data: a folder of speech files",
         s + ["sketch", "--model", "{root}/models/zoo/emoji/model.onnx", "--data", "{tmp}/speech"],
         lambda t: ((t / "speech/angry").mkdir(parents=True),
                    (t / "speech/angry/a.wav").write_bytes(wav_bytes(tone(16000), 16000))))
    return c


def float_wav(samples, rate):
    data = struct.pack(f"<{len(samples)}f", *samples)
    fmt = struct.pack("<HHIIHH", 3, 1, rate, rate * 4, 4, 32)
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE" + b"fmt " +
            struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(data)) + data)


# ---------------------------------------------------------------------------------------------
# Running

def run_case(case, tmp):
    if case["setup"]:
        case["setup"](tmp)
    argv = [a.format(tmp=tmp, root=ROOT) for a in case["argv"]]
    argv[0] = str(BIN / argv[0])
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S, cwd=tmp,
                           env={**os.environ, "RUST_BACKTRACE": "0"})
        code, out, err = r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired as e:
        code = None
        out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = (e.stderr or b"").decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
    err, out = LOG_TIME.sub("", ANSI.sub("", err)), ANSI.sub("", out)
    lines = [line.rstrip() for line in err.splitlines() if line.strip()]
    if code == 0 and not case["show"]:
        lines += [line for line in out.splitlines()
                  if re.search(r'"event":"(stop|model_refused|refused)"', line)]
    if case["show"]:
        pat = re.compile(case["show"])
        lines = [line.rstrip() for line in (err + "\n" + out).splitlines()
                 if line.strip() and pat.search(line)]
    lines = [line.replace(str(tmp), "$TMP") for line in lines]
    said = [line if len(line) <= 240 else line[:237] + "..." for line in lines[:3]]
    findings = []
    if "panicked at" in err or "panicked at" in out:
        findings.append("panic")
    if "stack backtrace" in err or "RUST_BACKTRACE" in err:
        findings.append("backtrace")
    if code is None:
        findings.append(f"no exit within {TIMEOUT_S} s")
    elif case["garbage"] and code == 0:
        refused = re.search(r'"event":"(model_refused|refused)"', out)
        if not refused:
            findings.append("exit 0 on garbage")
    elif not case["garbage"] and code != 0:
        findings.append("refused a good input")
    if case["garbage"] and code != 0 and not FIX_WORDS.search(" ".join(lines)):
        findings.append("no help line")
    return dict(what=case["what"], argv=argv, code=code, said=said, findings=findings,
                note=case["note"])


def shown_argv(argv, tmp):
    parts = []
    for i, a in enumerate(argv):
        if i == 0:
            a = pathlib.Path(a).name
        a = a.replace(str(tmp), "$TMP").replace(str(ROOT) + "/", "")
        parts.append(a)
    # The shared short-run options are the same for every sentiod case: shown once above.
    text = " ".join(parts)
    short = " ".join(DEVICE).replace("{tmp}", "$TMP")
    return text.replace(" " + short, " …").replace(
        " " + short.replace("--no-link ", ""), " …")


def cell(text):
    text = text.replace(str(ROOT) + "/", "")
    text = re.sub(r"/tmp/[^/\s\"']+", "$TMP", text)
    return text.replace("|", "\\|").replace("`", "'")


def write_doc(doc, results, tmp_root):
    rows = []
    for r in results:
        code = "timeout" if r["code"] is None else str(r["code"])
        said = "<br>".join(f"`{cell(s)}`" for s in r["said"]) or "(nothing)"
        finding = ", ".join(r["findings"]) or "ok"
        if r["note"]:
            finding += f" ({r['note']})"
        rows.append(f"| {r['what']} | `{cell(r['shown'])}` | {code} | {said} | {finding} |")
    n_find = sum(1 for r in results if r["findings"])
    text = f"""{SECTION}

Every case below was run by `python3 tests/bench/bad_inputs.py` (which makes the bad files in a
temporary folder, `$TMP`) against the debug binaries of `cargo build --bin sentiod --bin sentio`;
the table is its output, not written by hand. "What it says" is the first lines of stderr (or,
for a case the program accepts or a model it refuses at run time, the lines that show it). A
case is a finding when the program panics, prints a backtrace, exits 0 on garbage, does not
exit within {TIMEOUT_S} s, or gives an error with no line saying what to do. `sentiod …` stands
for `sentiod {' '.join(DEVICE).replace('{tmp}', '$TMP')}` (a short quiet run).

{len(results)} cases, {n_find} findings.

| input | command | exit | what it says | finding |
| --- | --- | --- | --- | --- |
""" + "\n".join(rows) + "\n" + NOTES
    replace_section(doc, SECTION, text)


def main():
    global BIN
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", type=pathlib.Path, default=ROOT / "target" / "debug")
    ap.add_argument("--doc", type=pathlib.Path, default=ROOT / "docs" / "reliability.md")
    ap.add_argument("--no-doc", action="store_true")
    ap.add_argument("-k", help="only cases whose input contains this text")
    args = ap.parse_args()
    BIN = args.bin
    for b in ("sentiod", "sentio"):
        if not (BIN / b).exists():
            sys.exit(f"{BIN / b} is missing: cargo build --bin sentiod --bin sentio")
    results = []
    with tempfile.TemporaryDirectory() as tmp_root:
        for i, case in enumerate(cases()):
            if args.k and args.k.lower() not in case["what"].lower():
                continue
            tmp = pathlib.Path(tmp_root) / f"case{i:02}"
            tmp.mkdir()
            r = run_case(case, tmp)
            r["shown"] = shown_argv(r["argv"], tmp)
            results.append(r)
            flag = "FINDING " + ", ".join(r["findings"]) if r["findings"] else "ok"
            flag += f" ({r['note']})" if r["note"] else ""
            print(f"[{r['code']}] {r['what']}: {flag}")
            for s in r["said"]:
                print(f"      {cell(s)}")
    if not args.no_doc and not args.k:
        doc = args.doc
        if not doc.exists():
            doc.write_text("# Reliability\n\nHow Sentio behaves on bad input, under fuzzing and over long runs.\n")
        write_doc(doc, results, tmp_root)
        print(f"wrote {SECTION!r} into {doc.relative_to(ROOT)}")


BIN = ROOT / "target" / "debug"

if __name__ == "__main__":
    main()
