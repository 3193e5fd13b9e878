#!/usr/bin/env python3
"""Writes the simulated camera's frames, boards/sim/camera/frame_NN.jpg: a slow pan over a real
face photo, so the face detectors and the expression model see a person as a kiosk camera would.

The photo is scikit-image's `data.astronaut()` (Eileen Collins, NASA: public domain). Each
640x480 frame is the photo scaled to 640x640 and cut 4 px further down and right than the last.

    pip install scikit-image pillow
    python3 boards/sim/make_camera_frames.py            # writes boards/sim/camera/
"""
import argparse
import pathlib

import numpy as np
from PIL import Image
from skimage import data

FRAMES = 8
WIDTH, HEIGHT = 640, 480


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = pathlib.Path(__file__).resolve().parent
    parser.add_argument("--out", type=pathlib.Path, default=here / "camera")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    photo = Image.fromarray(data.astronaut()).resize((672, 672), Image.LANCZOS)
    pixels = np.asarray(photo)
    for i in range(FRAMES):
        # A pan to the right and down and back: 0, 4, ..., 12, 16, 12, ... px.
        step = i if i < FRAMES // 2 else FRAMES - i
        x, y = 8 + 4 * step, 40 + 2 * step
        frame = pixels[y : y + HEIGHT, x : x + WIDTH]
        path = args.out / f"frame_{i:02d}.jpg"
        Image.fromarray(frame).save(path, quality=90)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
