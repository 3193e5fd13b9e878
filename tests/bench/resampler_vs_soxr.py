#!/usr/bin/env python3
"""Compares sentio-audio's resampler (the project's only one) with soxr, librosa's backend.

Signals (float32, so 16-bit rounding does not hide the filters):
  - an exponential sweep 20 Hz -> 20 kHz, 4 s, amplitude 0.5, at 44.1 kHz and at 48 kHz;
  - speech: espeak-ng at its native 22050 Hz (two sentences, ~6 s).
each brought to 16 kHz by
  - sentio: `firmware/audio/examples/resample_wav.rs` (reads the WAV, writes a float WAV);
  - soxr VHQ: `soxr.resample(x, from, 16000, 'VHQ')`, the reference;
  - librosa's default: `librosa.resample(x, orig_sr=from, target_sr=16000)` (res_type soxr_hq).

Figures, over the output with 0.1 s cut at both ends:
  - SNR vs soxr VHQ in a pass band 0..F: 10 log10(energy of the VHQ output / energy of the
    difference), both restricted to 0..F by FFT, for F = 4 kHz (speech), 6.4 kHz (0.8 of the new
    Nyquist) and 7.6 kHz (0.95);
  - alias: the input's content above 8 kHz alone (FFT high-pass) is resampled; what comes out is
    aliased or leaked energy, in dB relative to that content's energy (lower is better);
  - edges of the pass band: the frequencies where the output's spectrum falls 0.1 dB and 3 dB
    below soxr VHQ's (sweeps only), from 50 Hz bands;
  - lag: the shift (in output samples) that best aligns the output with soxr's (0 = same timing).

    pip install librosa soxr numpy soundfile; apt-get install espeak-ng
    python3 tests/bench/resampler_vs_soxr.py     # builds the example (cargo build --workspace --all-targets)
"""

import argparse
import datetime
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import librosa
import numpy as np
import soundfile as sf
import soxr

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from benchdoc import replace_section  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
SECTION = "## Resampler vs soxr"
TO = 16000
NYQ = TO / 2
BANDS = (4000.0, 6400.0, 7600.0)
TEXT = ("Speech emotion recognition listens to the pitch, the energy and the rhythm of a voice. "
        "Sharp sounds like s, sh and f carry energy far above eight kilohertz.")


def sweep(rate, secs=4.0, f0=20.0, f1=20000.0):
    t = np.arange(int(secs * rate)) / rate
    k = np.log(f1 / f0) / secs
    return (0.5 * np.sin(2 * np.pi * f0 * (np.exp(k * t) - 1) / k)).astype(np.float32)


def speech(work):
    exe = shutil.which("espeak-ng")
    if exe is None:
        sys.exit("espeak-ng is missing: apt-get install espeak-ng")
    path = work / "espeak.wav"
    subprocess.run([exe, "-v", "en", "-s", "150", "-w", str(path), TEXT], check=True)
    y, sr = sf.read(path, dtype="float32")
    assert sr == 22050, sr
    return 0.8 * y / np.max(np.abs(y))


class Sentio:
    def __init__(self, exe, work):
        self.exe, self.work = exe, work

    def __call__(self, x, rate):
        src, dst = self.work / "in.wav", self.work / "out.wav"
        sf.write(src, x, rate, subtype="FLOAT")
        res = subprocess.run([str(self.exe), str(src), str(dst), str(TO)], capture_output=True,
                             text=True, check=True)
        ms = float(res.stderr.rsplit(" in ", 1)[1].split(" ms")[0])
        y, sr = sf.read(dst, dtype="float32")
        assert sr == TO
        return y, ms


def timed(fn):
    def run(x, rate):
        fn(x[: rate // 10], rate)  # warm-up: imports, filter design and caches stay untimed
        t = time.perf_counter()
        y = fn(x, rate)
        return np.asarray(y, dtype=np.float32), (time.perf_counter() - t) * 1e3
    return run


RESAMPLERS = {
    "soxr VHQ": timed(lambda x, r: soxr.resample(x, r, TO, "VHQ")),
    "librosa default (soxr_hq)": timed(lambda x, r: librosa.resample(x, orig_sr=r, target_sr=TO)),
}


def middle(y):
    cut = TO // 10
    return y[cut: len(y) - cut]


def band_limit(y, f):
    spec = np.fft.rfft(y)
    freqs = np.fft.rfftfreq(len(y), 1 / TO)
    spec[freqs > f] = 0
    return spec


def snr(y, ref, f):
    n = min(len(y), len(ref))
    a, b = middle(y[:n]), middle(ref[:n])
    diff, sig = band_limit(a - b, f), band_limit(b, f)
    return 10 * np.log10(np.sum(np.abs(sig) ** 2) / max(np.sum(np.abs(diff) ** 2), 1e-30))


def lag(y, ref, reach=8):
    n = min(len(y), len(ref))
    a, b = middle(y[:n]), middle(ref[:n])
    scores = [np.dot(a[max(0, s): len(a) + min(0, s)], b[max(0, -s): len(b) - max(0, s)])
              for s in range(-reach, reach + 1)]
    return int(np.argmax(scores)) - reach


def high_part(x, rate):
    """x's content above the new Nyquist only."""
    spec = np.fft.rfft(x)
    spec[np.fft.rfftfreq(len(x), 1 / rate) < NYQ] = 0
    return np.fft.irfft(spec, len(x)).astype(np.float32)


def alias_db(resample, x, rate):
    hi = high_part(x, rate)
    y, _ = resample(hi, rate)
    e_in = np.mean(middle_at(hi, rate) ** 2)
    e_out = np.mean(middle(y) ** 2)
    return 10 * np.log10(max(e_out, 1e-30) / e_in)


def middle_at(x, rate):
    cut = rate // 10
    return x[cut: len(x) - cut]


def edges(y, ref):
    """Frequencies where y's band energy falls 0.1 dB and 3 dB below ref's (50 Hz bands)."""
    n = min(len(y), len(ref))
    a, b = np.abs(np.fft.rfft(middle(y[:n]))) ** 2, np.abs(np.fft.rfft(middle(ref[:n]))) ** 2
    freqs = np.fft.rfftfreq(len(middle(y[:n])), 1 / TO)
    found = {}
    for f in np.arange(1000, NYQ, 50):
        sel = (freqs >= f) & (freqs < f + 50)
        g = 10 * np.log10(max(a[sel].sum(), 1e-30) / max(b[sel].sum(), 1e-30))
        for drop in (0.1, 3.0):
            if drop not in found and g < -drop:
                found[drop] = f
    return found.get(0.1), found.get(3.0)


def logmel(y):
    """The features' log-mel (make_fixtures.py's config) of a 16 kHz signal, [bands, frames]."""
    mel = librosa.feature.melspectrogram(y=y, sr=TO, n_fft=512, hop_length=160, win_length=400,
                                         window="hann", center=True, pad_mode="constant",
                                         n_mels=64, htk=False, norm="slaney")
    return librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=80.0)


def feature_impact(ours, theirs):
    """Mean |log-mel difference| (dB) over loud cells (within 40 dB of the clip's maximum) of
    the bands centred below 6.4 kHz and above 7 kHz."""
    n = min(len(ours), len(theirs))
    a, b = logmel(ours[:n]), logmel(theirs[:n])
    centres = librosa.mel_frequencies(n_mels=66, fmin=0.0, fmax=NYQ, htk=False)[1:-1]
    loud = b > b.max() - 40
    low, high = centres < 6400, centres > 7000
    diff = np.abs(a - b)
    return (float(diff[low[:, None] & loud].mean()), float(diff[high[:, None] & loud].mean())
            if (high[:, None] & loud).any() else float("nan"))


def build():
    res = subprocess.run(["cargo", "build", "--workspace", "--all-targets", "--keep-going"], cwd=ROOT,
                         capture_output=True, text=True)
    exe = ROOT / "target" / "debug" / "examples" / "resample_wav"
    if res.returncode != 0:
        if not exe.exists():
            sys.exit(f"cargo build failed:\n{res.stderr[-3000:]}")
        print("warning: cargo build --workspace --all-targets failed; using the existing example",
              flush=True)
    return exe


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--doc", type=pathlib.Path, default=ROOT / "docs" / "benchmarks.md")
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args()
    exe = ROOT / "target" / "debug" / "examples" / "resample_wav"
    if not args.no_build:
        exe = build()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        resamplers = {"sentio-audio": Sentio(exe, work), **RESAMPLERS}
        cases = [
            ("sweep 20 Hz-20 kHz", 44100, sweep(44100)),
            ("sweep 20 Hz-20 kHz", 48000, sweep(48000)),
            ("speech (espeak-ng)", 22050, speech(work)),
        ]
        impact = None
        for name, rate, x in cases:
            ref, _ = resamplers["soxr VHQ"](x, rate)
            if name.startswith("speech"):
                ours, _ = resamplers["sentio-audio"](x, rate)
                default, _ = resamplers["librosa default (soxr_hq)"](x, rate)
                impact = feature_impact(ours, default)
            for label, resample in resamplers.items():
                y, ms = resample(x, rate)
                snrs = [snr(y, ref, f) if label != "soxr VHQ" else float("inf") for f in BANDS]
                e01, e3 = edges(y, ref) if name.startswith("sweep") else (None, None)
                row = (name, rate, label, len(y), *snrs, alias_db(resample, x, rate),
                       lag(y, ref), e01, e3, ms)
                rows.append(row)
                print(row, flush=True)

    def db(v):
        return "ref" if v == float("inf") else f"{v:.1f}"

    def hz(v):
        return "-" if v is None else f"{v / 1000:.2f}"

    lines = [
        SECTION,
        "",
        "```",
        "python3 tests/bench/resampler_vs_soxr.py",
        "```",
        "",
        "sentio-audio's `resample` (Kaiser-windowed sinc, 32 zero crossings, beta 9, cut-off 0.9 of "
        "the new Nyquist; the only resampler of the project, also used by the simulated "
        "microphone) against soxr's VHQ and librosa's default (soxr_hq), float32 signals to "
        "16 kHz. SNR: the output against soxr VHQ's in the pass band 0..F (dB, higher = closer). "
        "Alias: the input's content above 8 kHz alone, resampled: the energy that comes out, "
        "relative to its energy (dB, lower = better). -0.1 / -3 dB: where the output's spectrum "
        "falls that far below soxr VHQ's (kHz, sweeps). Lag: the shift in output samples that "
        "best aligns with soxr (0 = same timing). ms: one call after a warm-up on 0.1 s (sentio's "
        "measured inside the debug example, sentio-audio at opt-level 2, its kernel table built "
        "in the call).",
        "",
        "| signal | from Hz | resampler | SNR 0-4 kHz | SNR 0-6.4 kHz | SNR 0-7.6 kHz | alias dB "
        "| -0.1 dB at | -3 dB at | lag | ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, rate, label, _n, s4, s64, s76, alias, lg, e01, e3, ms in rows:
        lines.append(f"| {name} | {rate} | {label} | {db(s4)} | {db(s64)} | {db(s76)} | "
                     f"{alias:.1f} | {hz(e01)} | {hz(e3)} | {lg} | {ms:.1f} |")
    mine = [r for r in rows if r[2] == "sentio-audio"]
    lines += [
        "",
        "Reading: sentio's filter agrees with soxr VHQ to "
        f"{min(r[4] for r in mine):.0f} dB or better below 4 kHz and "
        f"{min(r[5] for r in mine):.0f} dB below 6.4 kHz, with the same timing (lag 0). Its pass "
        "band is narrower by design (cut-off 0.9 of Nyquist so that the whole transition band "
        f"lies below 8 kHz): -0.1 dB at {hz(mine[0][9])} kHz and -3 dB at {hz(mine[0][10])} kHz, "
        "where soxr stays flat to ~7.5 kHz, hence the low 0-7.6 kHz figures. Its stop band "
        f"passes {max(r[7] for r in mine):.0f} dB of what lies above 8 kHz (Kaiser beta 9, ~90 dB "
        "design) against soxr's ~-135 dB: at the level of 16-bit quantization (-98 dB), so no "
        "aliasing defect. Effect on the features, speech clip resampled by sentio vs "
        f"by librosa's default: mean |log-mel difference| {impact[0]:.3f} dB in the bands below "
        f"6.4 kHz and {impact[1]:.2f} dB in the bands above 7 kHz (loud cells, within 40 dB of "
        "the maximum). So the top 2 of the 64 mel bands (centred above 7 kHz) of a clip recorded "
        "above 16 kHz are "
        "markedly darker than librosa's, and darker than those of a clip recorded at 16 kHz; the "
        "same on the device, in `sentio features` and in the synthetic speech data (espeak-ng at "
        "22.05 kHz, resampled by this function). Not changed here: widening the pass band "
        "(cut-off 0.95, 64 zero crossings: ~2x the work) would change every generated speech "
        "dataset and so the zoo model's training data; a decision for the speech-model owner.",
        "",
        f"soxr {soxr.__version__}, librosa {librosa.__version__}. "
        f"Date {datetime.date.today().isoformat()}.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_doc:
        replace_section(args.doc, SECTION, text)
        print(f"wrote {args.doc} ({SECTION})")


if __name__ == "__main__":
    sys.exit(main())
