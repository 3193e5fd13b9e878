#!/usr/bin/env python3
"""Regenerates the librosa reference fixtures that sentio-audio's tests compare against.

    pip install librosa numpy
    python3 firmware/audio/tests/reference/make_fixtures.py

Writes, next to this script:
  <signal>.wav              the input, 16-bit PCM mono at 16 kHz (what the Rust test decodes)
  <signal>.<feature>.npy    librosa's output for that input, float32, shape [frames, dims]
                            (transposed from librosa's [dims, frames] to sentio's row-major layout)
  filters.mel.npy           librosa.filters.mel for the config, [n_mels, 1 + n_fft/2]
  filters.chroma.npy        librosa.filters.chroma (tuning 0), [12, 1 + n_fft/2]
  config.json               the feature config and the versions used

The features are computed from the 16-bit samples read back as int16 / 32768, the exact values
sentio_audio::read_wav returns, so the only differences left are the algorithms' own.
Deterministic: fixed seeds, no dependence on time; espeak-ng output depends on its version (the
version is recorded in config.json).
"""
import json
import os
import shutil
import subprocess
import tempfile
import wave

import librosa
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

# Must equal sentio_audio::FeatureConfig::default() (a Rust test checks it).
CONFIG = {
    "sample_rate": 16000,
    "n_fft": 512,
    "win_length": 400,
    "hop_length": 160,
    "n_mels": 64,
    "n_mfcc": 40,
    "fmin": 0.0,
    "fmax": None,
    "top_db": 80.0,
}
SR = CONFIG["sample_rate"]


def chirp():
    # Exponential sweep 100 Hz -> 7 kHz over 0.5 s: exercises every mel band and chroma class.
    t = np.arange(int(0.5 * SR)) / SR
    f0, f1, dur = 100.0, 7000.0, 0.5
    k = np.log(f1 / f0) / dur
    return 0.5 * np.sin(2 * np.pi * f0 * (np.exp(k * t) - 1) / k)


def two_tone():
    # A4 + E5 (a fifth): chroma must peak at A with E second.
    t = np.arange(int(0.3 * SR)) / SR
    return 0.3 * np.sin(2 * np.pi * 440.0 * t) + 0.2 * np.sin(2 * np.pi * 659.255 * t)


def noise_burst():
    # 0.1 s digital silence, 0.2 s white noise with 10 ms raised-cosine ramps, 0.1 s silence:
    # the silent frames hit the top_db floor, chroma's zero-norm rule and ZCR's zero rule.
    rng = np.random.default_rng(7)
    n_sil, n_noise, n_ramp = int(0.1 * SR), int(0.2 * SR), int(0.01 * SR)
    noise = 0.3 * rng.standard_normal(n_noise)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(n_ramp) / n_ramp)
    noise[:n_ramp] *= ramp
    noise[-n_ramp:] *= ramp[::-1]
    return np.concatenate([np.zeros(n_sil), noise, np.zeros(n_sil)])


def vowel_like():
    # Fallback when espeak-ng is missing: 120 Hz glottal-like harmonics shaped by /a/ formants,
    # with a slow pitch glide and a syllable-rate envelope.
    t = np.arange(int(0.8 * SR)) / SR
    f0 = 120 + 20 * t
    phase = 2 * np.pi * np.cumsum(f0) / SR
    formants = [(730, 90), (1090, 110), (2440, 170)]
    out = np.zeros_like(t)
    for h in range(1, 40):
        fh = h * 130
        gain = sum(1.0 / (1 + ((fh - fc) / bw) ** 2) for fc, bw in formants) / h**0.5
        out += gain * np.sin(h * phase)
    env = 0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)
    return 0.4 * out / np.max(np.abs(out)) * env


def speech():
    """A short espeak-ng utterance at 16 kHz, or the vowel-like fallback. Returns (signal, source)."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        return vowel_like(), "vowel_like (espeak-ng not installed)"
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "say.wav")
        subprocess.run(
            [exe, "-v", "en", "-s", "160", "-p", "50", "-w", path, "hello sentio"], check=True
        )
        y, sr = librosa.load(path, sr=None, mono=True)
    y = librosa.resample(y, orig_sr=sr, target_sr=SR, res_type="soxr_hq")
    # Trim leading/trailing silence and keep at most 0.8 s so the fixtures stay small.
    y, _ = librosa.effects.trim(y, top_db=40)
    y = y[: int(0.8 * SR)]
    y = 0.8 * y / np.max(np.abs(y))
    return y.astype(np.float64), f"espeak-ng 'hello sentio' ({version}), resampled with soxr_hq"


def quantize(y):
    """Float in -1..1 -> int16 exactly as sentio_audio::write_wav does (x * 32768, rounded, clipped)."""
    return np.clip(np.round(y * 32768.0), -32768, 32767).astype(np.int16)


def write_wav(path, pcm):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.astype("<i2").tobytes())


def features(y):
    c = CONFIG
    stft_args = dict(
        n_fft=c["n_fft"], hop_length=c["hop_length"], win_length=c["win_length"],
        window="hann", center=True, pad_mode="constant",
    )
    mel_args = dict(n_mels=c["n_mels"], fmin=c["fmin"], fmax=c["fmax"], htk=False, norm="slaney")
    mel = librosa.feature.melspectrogram(y=y, sr=SR, power=2.0, **stft_args, **mel_args)
    logmel = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=c["top_db"])
    # `norm` here is the DCT's; the mel filters keep their default norm="slaney" (asserted
    # equal to `logmel`'s filters by computing both from y).
    mfcc_mel_args = {k: v for k, v in mel_args.items() if k != "norm"}
    mfcc = librosa.feature.mfcc(
        y=y, sr=SR, n_mfcc=c["n_mfcc"], dct_type=2, norm="ortho", lifter=0,
        **stft_args, **mfcc_mel_args,
    )
    chroma = librosa.feature.chroma_stft(y=y, sr=SR, tuning=0.0, norm=np.inf, **stft_args)
    zcr = librosa.feature.zero_crossing_rate(
        y, frame_length=c["win_length"], hop_length=c["hop_length"], center=True
    )
    rms = librosa.feature.rms(
        y=y, frame_length=c["win_length"], hop_length=c["hop_length"], center=True,
        pad_mode="constant",
    )
    return {"mfcc": mfcc, "zcr": zcr, "chroma": chroma, "logmel": logmel, "rms": rms}


def main():
    for name in os.listdir(HERE):
        if name.endswith(".npy") or name.endswith(".wav"):
            os.remove(os.path.join(HERE, name))

    speech_signal, speech_source = speech()
    signals = {
        "chirp": (chirp(), "exponential sweep 100 Hz -> 7 kHz, 0.5 s, amplitude 0.5"),
        "two_tone": (two_tone(), "440 Hz (0.3) + 659.255 Hz (0.2), 0.3 s"),
        "noise_burst": (noise_burst(), "0.1 s zeros, 0.2 s white noise (seed 7, sd 0.3), 0.1 s zeros"),
        "speech": (speech_signal, speech_source),
        "silence": (np.zeros(int(0.1 * SR)), "0.1 s of digital silence"),
    }
    manifest = []
    for name, (signal, source) in signals.items():
        pcm = quantize(signal)
        write_wav(os.path.join(HERE, f"{name}.wav"), pcm)
        y = pcm.astype(np.float32) / np.float32(32768.0)
        for feature, value in features(y).items():
            np.save(
                os.path.join(HERE, f"{name}.{feature}.npy"),
                np.ascontiguousarray(value.T, dtype=np.float32),
            )
        manifest.append({"name": name, "samples": len(pcm), "source": source})

    n_fft = CONFIG["n_fft"]
    mel_fb = librosa.filters.mel(
        sr=SR, n_fft=n_fft, n_mels=CONFIG["n_mels"], fmin=CONFIG["fmin"], fmax=CONFIG["fmax"],
        htk=False, norm="slaney", dtype=np.float64,
    )
    np.save(os.path.join(HERE, "filters.mel.npy"), mel_fb.astype(np.float32))
    chroma_fb = librosa.filters.chroma(sr=SR, n_fft=n_fft, tuning=0.0, n_chroma=12, dtype=np.float64)
    np.save(os.path.join(HERE, "filters.chroma.npy"), chroma_fb.astype(np.float32))

    with open(os.path.join(HERE, "config.json"), "w") as f:
        json.dump(
            {
                "config": CONFIG,
                "librosa": librosa.__version__,
                "numpy": np.__version__,
                "signals": manifest,
            },
            f,
            indent=2,
        )
        f.write("\n")


if __name__ == "__main__":
    main()
