#!/usr/bin/env python3
"""Makes the simulated board's microphone clip, boards/sim/voice.wav: one happy sentence spoken by
the project's own speech generator (espeak-ng with the happy prosody of `sentio data synth
speech`), with 0.6 s of room tone before it and 2.4 s after, so the device hears an utterance
start and end and then silence (the clip loops in the demo).

    cargo build --bin sentio
    python3 boards/sim/make_voice.py [--sentio target/debug/sentio]

Needs espeak-ng (apt-get install espeak-ng) and numpy. The sentence is the generator's utterance
`happy/03-01-03-01-14-01-02.wav` of `--per-class 4 --speakers 4 --seed 11`, which the zoo speech
model hears as happy (0.99); espeak-ng's output depends on its version (1.51 here), so a
different version gives a slightly different clip.
"""
import argparse
import os
import subprocess
import tempfile
import wave

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RATE = 16000
CLIP = os.path.join("happy", "03-01-03-01-14-01-02.wav")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentio", default=os.path.join(ROOT, "target", "debug", "sentio"))
    parser.add_argument("--out", default=os.path.join(HERE, "voice.wav"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "speech")
        subprocess.run(
            [args.sentio, "data", "synth", "speech", "--out", data, "--per-class", "4",
             "--speakers", "4", "--seed", "11"],
            check=True,
        )
        with wave.open(os.path.join(data, CLIP)) as w:
            assert w.getframerate() == RATE and w.getnchannels() == 1 and w.getsampwidth() == 2
            speech = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    # Room tone at -62 dBFS (a quiet room through a MEMS microphone), fixed seed.
    rng = np.random.default_rng(7)
    lead, tail = int(0.6 * RATE), int(2.4 * RATE)
    clip = np.concatenate([np.zeros(lead), speech.astype(np.float64), np.zeros(tail)])
    clip += rng.normal(0.0, 32768.0 * 10 ** (-62 / 20), len(clip))
    clip = np.clip(np.round(clip), -32768, 32767).astype(np.int16)
    with wave.open(args.out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(clip.tobytes())
    print(f"wrote {args.out}: {len(clip) / RATE:.2f} s at {RATE} Hz")


if __name__ == "__main__":
    main()
