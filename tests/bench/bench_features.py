#!/usr/bin/env python3
"""Benchmarks the speech features: sentio-audio's extractor vs librosa on the same WAV files.

The script makes a few clips of realistic length (3-10 s, 16 kHz mono 16-bit) in a temporary
folder: espeak-ng speech (two sentences; a vowel-like signal if espeak-ng is missing, brought to
16 kHz by soxr), an exponential sweep and white noise. Both sides read the same files and compute
the same 117 features with the config of firmware/audio/tests/reference/make_fixtures.py
(n_fft 512, win 400, hop 160, Hann, center=True): mfcc 40, zero_crossing_rate, chroma_stft with
tuning=0, melspectrogram -> power_to_db with 64 mels.

- librosa, "per feature": the calls of make_fixtures.py, each feature computed from y (three
  STFTs), as most recipes call it;
- librosa, "one STFT": one power spectrogram S shared by melspectrogram(S=...) and
  chroma_stft(S=...), mfcc from the log-mel (the fastest honest librosa: same numbers);
- sentio: `sentio features FILE... --json --repeat N`, which reports the median compute time per
  file (WAV reading excluded, as for librosa), one thread.

Each time is the median of N runs after a warm-up run. BLAS/OpenMP are held to one thread so both
sides use one core. The script also checks that sentio's values equal librosa's (max difference
relative to each feature's range), so the figures compare the same work.

    pip install librosa soxr numpy; apt-get install espeak-ng
    python3 tests/bench/bench_features.py            # builds the release sentio binary first
    python3 tests/bench/bench_features.py --debug    # the dev binary (sentio-audio at opt-level 2)
"""

import os

# One thread for numpy's BLAS and numba, as sentio's extractor uses one.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import wave  # noqa: E402

import librosa  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from benchdoc import replace_section  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
SECTION = "## Audio features vs librosa"
SR = 16000
N_FFT, WIN, HOP, N_MELS, N_MFCC = 512, 400, 160, 64, 40
SENTENCES = [
    "The quick brown fox jumps over the lazy dog, and then it runs away.",
    "Speech emotion recognition listens to the pitch, the energy and the rhythm of a voice; "
    "a happy voice is often higher and faster, a sad one slower.",
]


def sh(cmd, **kw):
    res = subprocess.run([str(c) for c in cmd], cwd=ROOT, capture_output=True, text=True, **kw)
    if res.returncode != 0:
        sys.exit(f"command failed ({res.returncode}): {' '.join(map(str, cmd))}\n{res.stdout}\n{res.stderr}")
    return res


def cpu_model():
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def write_wav(path, y):
    pcm = np.clip(np.round(np.asarray(y) * 32768.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())


def read_wav(path):
    """int16 / 32768 as float32: what sentio_audio::read_wav returns, and librosa.load's dtype."""
    with wave.open(str(path), "rb") as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return (pcm.astype(np.float32) / 32768.0).astype(np.float32)


def speech(work, i, text):
    exe = shutil.which("espeak-ng")
    if exe is None:
        t = np.arange(int((4 + 4 * i) * SR)) / SR
        f0 = 120 + 30 * np.sin(2 * np.pi * 0.5 * t)
        phase = 2 * np.pi * np.cumsum(f0) / SR
        y = sum(np.sin(h * phase) / h for h in range(1, 30)) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t))
        return 0.5 * y / np.max(np.abs(y)), "vowel-like signal (espeak-ng missing)"
    raw = work / f"espeak_{i}.wav"
    sh([exe, "-v", "en", "-s", "150", "-w", raw, text])
    y, sr = librosa.load(raw, sr=None, mono=True)
    y = librosa.resample(y, orig_sr=sr, target_sr=SR, res_type="soxr_hq")
    return 0.8 * y / np.max(np.abs(y)), "espeak-ng"


def clips(work):
    out = []
    for i, text in enumerate(SENTENCES):
        y, what = speech(work, i, text)
        out.append((f"speech_{i + 1}.wav", y, what))
    secs = 5.0
    t = np.arange(int(secs * SR)) / SR
    f0, f1 = 20.0, 8000.0
    k = np.log(f1 / f0) / secs
    out.append(("sweep.wav", 0.5 * np.sin(2 * np.pi * f0 * (np.exp(k * t) - 1) / k),
                "exponential sweep 20 Hz - 8 kHz"))
    rng = np.random.default_rng(11)
    out.append(("noise.wav", np.clip(0.2 * rng.standard_normal(10 * SR), -1, 1), "white noise"))
    paths = []
    for name, y, what in out:
        p = work / name
        write_wav(p, y)
        paths.append((p, what))
    return paths


STFT = dict(n_fft=N_FFT, hop_length=HOP, win_length=WIN, window="hann", center=True,
            pad_mode="constant")


def librosa_per_feature(y):
    """make_fixtures.py's calls: every feature from y."""
    mel = librosa.feature.melspectrogram(y=y, sr=SR, power=2.0, n_mels=N_MELS, htk=False,
                                         norm="slaney", **STFT)
    logmel = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=80.0)
    mfcc = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=N_MFCC, dct_type=2, norm="ortho", lifter=0,
                                n_mels=N_MELS, htk=False, **STFT)
    chroma = librosa.feature.chroma_stft(y=y, sr=SR, tuning=0.0, norm=np.inf, **STFT)
    zcr = librosa.feature.zero_crossing_rate(y, frame_length=WIN, hop_length=HOP, center=True)
    return np.vstack([mfcc, zcr, chroma, logmel]).T


def librosa_one_stft(y):
    """The same numbers from one power spectrogram."""
    S = np.abs(librosa.stft(y, **STFT)) ** 2
    mel = librosa.feature.melspectrogram(S=S, sr=SR, n_mels=N_MELS, htk=False, norm="slaney")
    logmel = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=80.0)
    mfcc = librosa.feature.mfcc(S=logmel, n_mfcc=N_MFCC, dct_type=2, norm="ortho", lifter=0)
    chroma = librosa.feature.chroma_stft(S=S, sr=SR, tuning=0.0, norm=np.inf, n_fft=N_FFT)
    zcr = librosa.feature.zero_crossing_rate(y, frame_length=WIN, hop_length=HOP, center=True)
    return np.vstack([mfcc, zcr, chroma, logmel]).T


def librosa_default_tuning(y):
    """Context only (other numbers): librosa_per_feature with chroma's default tuning=None, which
    estimates the tuning of each clip with piptrack first, as a librosa recipe calls it."""
    mel = librosa.feature.melspectrogram(y=y, sr=SR, n_mels=N_MELS, **STFT)
    logmel = librosa.power_to_db(mel, top_db=80.0)
    mfcc = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=N_MFCC, n_mels=N_MELS, **STFT)
    chroma = librosa.feature.chroma_stft(y=y, sr=SR, **STFT)
    zcr = librosa.feature.zero_crossing_rate(y, frame_length=WIN, hop_length=HOP, center=True)
    return np.vstack([mfcc, zcr, chroma, logmel]).T


def median_ms(fn, y, repeat):
    fn(y)  # warm-up: numba compiles, filter banks are cached
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn(y)
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def max_rel_diff(ours, ref):
    """Largest |ours - librosa| over each feature group, relative to the group's range."""
    worst = 0.0
    groups = [(0, N_MFCC), (N_MFCC, N_MFCC + 1), (N_MFCC + 1, N_MFCC + 13),
              (N_MFCC + 13, N_MFCC + 13 + N_MELS)]
    for a, b in groups:
        scale = float(np.max(np.abs(ref[:, a:b]))) or 1.0
        worst = max(worst, float(np.max(np.abs(ours[:, a:b] - ref[:, a:b]))) / scale)
    return worst


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="timed runs per file (median)")
    ap.add_argument("--debug", action="store_true",
                    help="use target/debug/sentio (built by cargo build --workspace --all-targets)")
    ap.add_argument("--no-build", action="store_true", help="use the binary already built")
    ap.add_argument("--doc", type=pathlib.Path, default=ROOT / "docs" / "benchmarks.md")
    ap.add_argument("--no-doc", action="store_true", help="print the table only")
    args = ap.parse_args()
    profile = "debug" if args.debug else "release"
    sentio = ROOT / "target" / profile / "sentio"
    if not args.no_build:
        print(f"building sentio ({profile}) ...", flush=True)
        cmd = (["cargo", "build", "--workspace", "--all-targets", "--keep-going"] if args.debug
               else ["cargo", "build", "--release", "--bin", "sentio"])
        res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if res.returncode != 0:
            if not sentio.exists():
                sys.exit(f"{' '.join(cmd)} failed:\n{res.stderr[-3000:]}")
            print(f"warning: {' '.join(cmd)} failed; using the existing {sentio}", flush=True)

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        files = clips(work)
        out = sh([sentio, "features", *[p for p, _ in files], "--json", "--repeat", args.repeat])
        docs = {pathlib.Path(d["file"]).name: d for d in map(json.loads, out.stdout.splitlines())}
        for path, what in files:
            y = read_wav(path)
            doc = docs[path.name]
            ours = np.array([f["values"] for f in doc["frames"]], dtype=np.float32)
            ref = librosa_one_stft(y)
            assert ours.shape == ref.shape, (path.name, ours.shape, ref.shape)
            diff = max(max_rel_diff(ours, ref), max_rel_diff(ours, librosa_per_feature(y)))
            per_feature = median_ms(librosa_per_feature, y, args.repeat)
            one_stft = median_ms(librosa_one_stft, y, args.repeat)
            ms = doc["compute_ms"]
            default_tuning = median_ms(librosa_default_tuning, y, max(1, args.repeat // 2))
            row = (path.name, what, len(y) / SR, per_feature, one_stft, ms, one_stft / ms,
                   per_feature / ms, diff, default_tuning / ms)
            rows.append(row)
            print(f"{row[0]:<14} {row[2]:5.2f} s  librosa {row[3]:8.2f} / {row[4]:8.2f} ms  "
                  f"sentio {row[5]:7.3f} ms  x{row[6]:.1f} (x{row[7]:.1f})  diff {row[8]:.1e}",
                  flush=True)

    versions = f"librosa {librosa.__version__}, numpy {np.__version__}"
    worst = min(r[6] for r in rows)
    lines = [
        SECTION,
        "",
        "```",
        "python3 tests/bench/bench_features.py" + (" --debug" if args.debug else ""),
        "```",
        "",
        "The 117 speech features (mfcc 40, zcr, chroma with tuning 0, log-mel 64; n_fft 512, "
        "win 400, hop 160) of the same 16 kHz WAV files, one thread each, median of "
        f"{args.repeat} runs after a warm-up, WAV reading excluded. librosa per feature: the calls "
        "of make_fixtures.py (every feature from y: three STFTs); librosa one STFT: the same "
        "numbers from one shared power spectrogram. sentio: `sentio features FILE... --json "
        f"--repeat {args.repeat}` ({profile} binary), which times `FeatureExtractor::extract`. "
        "Ratio = librosa (one STFT) / sentio, in brackets librosa (per feature) / sentio. "
        "\"max diff\" is sentio vs librosa, relative to each feature's range in the clip.",
        "",
        "| file | signal | seconds | librosa per feature ms | librosa one STFT ms | sentio ms "
        "| ratio | max diff |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, what, secs, pf, one, ms, ratio, ratio_pf, diff, _ in rows:
        lines.append(f"| {name} | {what} | {secs:.2f} | {pf:.1f} | {one:.1f} | {ms:.2f} "
                     f"| {ratio:.1f}x ({ratio_pf:.1f}x) | {diff:.1e} |")
    tuned = [r[9] for r in rows]
    verdict = "met" if worst >= 20 else "NOT met"
    lines += [
        "",
        f"Slowest ratio in this run: {worst:.1f}x: the acceptance (>= 20x, goal 50x) is {verdict}. "
        "sentio computes a block of frames at a time, one frame per vector lane (16 frames "
        "with AVX-512 here): window, a radix-4 f64 FFT, the power spectrum, mel, chroma, dB and a "
        "folded DCT-II as straight-line vector code, bit-identical to its portable (SSE2/NEON) "
        "build. Where its time goes, best of 60 runs on 10 s (`cargo test --release -p "
        "sentio-audio --lib stage_times -- --ignored --nocapture`, 2026-12-06): 1.25 us per "
        "frame in all; windowing the frames 0.21, FFT 0.21, power spectrum 0.14, chroma 0.11, "
        "DCT 0.05, mel 0.04, ZCR and transposition 0.04, dB 0.04, the rest memory traffic. "
        "librosa with one shared STFT runs in numpy on all frames at once (pocketfft in f64, one "
        "BLAS product per filter bank) for 5-17 us per frame here, so >= 20x would need "
        "0.25-0.85 us per frame, about the f64 FFT and its memory traffic alone; an f32 FFT "
        "would halve that part but moves the quiet mel bands by up to 5e-4 dB (half the "
        "tolerance; measured by rounding the f64 FFT to f32). "
        "For context "
        "only (not the same numbers): with chroma's default tuning=None, which estimates the "
        "tuning of each clip with piptrack first, librosa per feature takes "
        f"{min(tuned):.0f}-{max(tuned):.0f}x sentio's time. The machine is "
        "shared with builds (2 cores): read the ratios of one run, not the milliseconds. "
        f"Machine: {cpu_model()}; {versions}. Date {datetime.date.today().isoformat()}.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_doc:
        replace_section(args.doc, SECTION, text)
        print(f"wrote {args.doc} ({SECTION})")
    return 0 if worst >= 20 else 1


if __name__ == "__main__":
    sys.exit(main())
