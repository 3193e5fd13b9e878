#!/usr/bin/env python3
"""Synthesizes the simulated board's music: a few short tracks per mood.

Writes boards/sim/music/<mood>/<mood>_<n>.wav (16-bit PCM, 22.05 kHz, mono, 5 s each: two per mood stay near 3 MB in all) for the
seven moods of the `mood` label set (sentio-models MOOD). Each mood has its own tempo, mode
(major/minor/other), register and timbre; each track of a mood a different seed for its melody.
Only numpy is needed; the output is the same on every run (fixed seeds).

    python3 boards/sim/make_music.py
"""

import os
import wave

import numpy as np

RATE = 22050
SECONDS = 5.0
TRACKS_PER_MOOD = 2
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "music")

MAJOR = [0, 2, 4, 5, 7, 9, 11]
MINOR = [0, 2, 3, 5, 7, 8, 10]
PHRYGIAN = [0, 1, 3, 5, 7, 8, 10]
WHOLE_TONE = [0, 2, 4, 6, 8, 10]
LYDIAN = [0, 2, 4, 6, 7, 9, 11]

# mood: tempo (bpm), scale, root (MIDI), harmonics (timbre), note length in beats, level,
# vibrato depth (semitones), attack seconds
MOODS = {
    "happy": dict(bpm=132, scale=MAJOR, root=67, harmonics=[1.0, 0.5, 0.3, 0.15], beats=0.5,
                  level=0.5, vibrato=0.0, attack=0.01),
    "sad": dict(bpm=62, scale=MINOR, root=57, harmonics=[1.0, 0.25, 0.08], beats=2.0,
                level=0.35, vibrato=0.15, attack=0.25),
    "angry": dict(bpm=150, scale=PHRYGIAN, root=45, harmonics=[1.0, 0.9, 0.8, 0.7, 0.6, 0.5],
                  beats=0.25, level=0.6, vibrato=0.0, attack=0.003),
    "surprised": dict(bpm=120, scale=WHOLE_TONE, root=72, harmonics=[1.0, 0.0, 0.4, 0.0, 0.2],
                      beats=0.33, level=0.45, vibrato=0.3, attack=0.005),
    "neutral": dict(bpm=96, scale=MAJOR, root=60, harmonics=[1.0, 0.3, 0.1], beats=1.0,
                    level=0.4, vibrato=0.0, attack=0.03),
    "calm": dict(bpm=56, scale=LYDIAN, root=55, harmonics=[1.0, 0.1], beats=3.0, level=0.3,
                 vibrato=0.05, attack=0.6),
    "fearful": dict(bpm=80, scale=[0, 1, 6, 7], root=50, harmonics=[1.0, 0.6, 0.0, 0.3],
                    beats=0.75, level=0.4, vibrato=0.5, attack=0.08),
}


def midi_hz(note):
    return 440.0 * 2.0 ** ((note - 69) / 12.0)


def tone(freq, seconds, harmonics, attack, vibrato):
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    # vibrato at 5 Hz, depth in semitones
    inst = freq * 2.0 ** (vibrato * np.sin(2 * np.pi * 5.0 * t) / 12.0)
    phase = 2 * np.pi * np.cumsum(inst) / RATE
    x = sum(a * np.sin((k + 1) * phase) for k, a in enumerate(harmonics) if a > 0.0)
    x /= sum(harmonics)
    env = np.minimum(1.0, t / max(attack, 1e-3))
    release = min(0.05, seconds / 4)
    env *= np.clip((seconds - t) / release, 0.0, 1.0)
    env *= np.exp(-1.5 * t / seconds)
    return x * env


def track(mood, spec, seed):
    rng = np.random.default_rng(seed)
    total = int(SECONDS * RATE)
    out = np.zeros(total)
    beat = 60.0 / spec["bpm"]
    note_len = spec["beats"] * beat
    degree = 0
    start = 0.0
    while start < SECONDS:
        degree = int(np.clip(degree + rng.integers(-2, 3), -3, 10))
        octave, step = divmod(degree, len(spec["scale"]))
        note = spec["root"] + 12 * octave + spec["scale"][step]
        seconds = min(note_len * 0.95, SECONDS - start)
        x = tone(midi_hz(note), seconds, spec["harmonics"], spec["attack"], spec["vibrato"])
        # a soft fifth below on every bar for some body
        if int(round(start / beat)) % 4 == 0:
            x = x + 0.4 * tone(midi_hz(note - 12), seconds, [1.0], spec["attack"], 0.0)
        i = int(start * RATE)
        out[i:i + len(x)] += x[: total - i]
        start += note_len
    # fade the whole track in and out (20 ms / 300 ms) so it starts and ends at zero
    fade_in = int(0.02 * RATE)
    fade_out = int(0.3 * RATE)
    out[:fade_in] *= np.linspace(0.0, 1.0, fade_in)
    out[-fade_out:] *= np.linspace(1.0, 0.0, fade_out)
    out *= spec["level"] / max(1e-9, np.max(np.abs(out)))
    return out


def write_wav(path, samples):
    pcm = np.round(np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())


def main():
    total = 0
    for m, (mood, spec) in enumerate(MOODS.items()):
        folder = os.path.join(OUT, mood)
        os.makedirs(folder, exist_ok=True)
        for n in range(TRACKS_PER_MOOD):
            path = os.path.join(folder, f"{mood}_{n + 1}.wav")
            write_wav(path, track(mood, spec, seed=1000 * m + n))
            total += os.path.getsize(path)
    print(f"wrote {len(MOODS) * TRACKS_PER_MOOD} tracks, {total / 1e6:.2f} MB, into {OUT}")


if __name__ == "__main__":
    main()
