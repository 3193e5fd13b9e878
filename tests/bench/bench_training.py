#!/usr/bin/env python3
"""One epoch of the emoji CNN in burn (sentio-train) vs PyTorch on the CPU, same data, same run.

Both train the seed's network (4 blocks of conv 2x2 16/32/64/128 + ReLU + max-pool 2x2, dropout
0.5, dense 8) with Adam, cross-entropy, batch 32, on 3200 training images of the same procedural
emoji folder (a stratified 80/10/10 split in each: the same sizes per class, drawn by each
side's own RNG), then validate on 400. The figure is the wall time of epoch 2 (epoch 1 includes
one-time warm-up in both frameworks), training and validation included, as `sentio train`
records it in history.json.

burn: `sentio train emoji --epochs 2` (release build), flex CPU backend, rayon on every core.
PyTorch: the same loop in eager mode, torch.set_num_threads(os.cpu_count()), float32. Data
loading is outside the timed loop in both (images are decoded once, before training).

    pip install torch pillow numpy
    python3 tests/bench/bench_training.py [--data DIR] [--no-build]

Writes the section `## Training: burn vs PyTorch` of docs/benchmarks.md.
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from PIL import Image

from benchdoc import replace_section

ROOT = pathlib.Path(__file__).resolve().parents[2]
SECTION = "## Training: burn vs PyTorch"
LABELS = ["slightly_smiling", "heart_eyes", "neutral", "angry", "tears_of_joy", "winking", "tongue_out", "frowning"]


def sh(cmd):
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"command failed ({res.returncode}): {' '.join(map(str, cmd))}\n{res.stdout}\n{res.stderr}")
    return res.stdout


def load_folder(root):
    """The ImageFolder as float32 [N, 1, 64, 64] in 0..1 and labels in emoji8 order, sorted by path."""
    xs, ys = [], []
    for label_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        label = LABELS.index(label_dir.name)
        for png in sorted(label_dir.glob("*.png")):
            xs.append(np.asarray(Image.open(png).convert("L"), dtype=np.float32) / 255.0)
            ys.append(label)
    return np.stack(xs)[:, None, :, :], np.array(ys, dtype=np.int64)


class EmojiCnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        layers, c = [], 1
        for f in (16, 32, 64, 128):
            layers += [torch.nn.Conv2d(c, f, 2), torch.nn.ReLU(), torch.nn.MaxPool2d(2)]
            c = f
        self.trunk = torch.nn.Sequential(*layers)
        self.drop = torch.nn.Dropout(0.5)
        self.dense = torch.nn.Linear(128 * 3 * 3, 8)

    def forward(self, x):
        return self.dense(self.drop(torch.flatten(self.trunk(1.0 - x), 1)))


def torch_epochs(x_train, y_train, x_val, y_val, epochs, batch=32, lr=2e-3, seed=42):
    torch.manual_seed(seed)
    model = EmojiCnn()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    xv, yv = torch.from_numpy(x_val), torch.from_numpy(y_val)
    rng = np.random.default_rng(seed)
    times, accs = [], []
    for _ in range(epochs):
        start = time.perf_counter()
        model.train()
        order = torch.from_numpy(rng.permutation(len(yt)))
        for i in range(0, len(order), batch):
            idx = order[i : i + batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            correct = sum(int((model(xv[i : i + 256]).argmax(1) == yv[i : i + 256]).sum()) for i in range(0, len(yv), 256))
        times.append(time.perf_counter() - start)
        accs.append(correct / len(yv))
    return times, accs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=pathlib.Path, help="an emoji folder (default: generate 500/class, seed 42)")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--doc", type=pathlib.Path, default=ROOT / "docs" / "benchmarks.md")
    args = ap.parse_args()
    sentio = str(ROOT / "target" / "release" / "sentio")
    if not args.no_build:
        print("building sentio (release) ...", flush=True)
        sh(["cargo", "build", "--release", "-p", "sentio"])
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-training-"))
    data = args.data
    if data is None:
        data = work / "emoji"
        sh([sentio, "data", "synth", "emoji", "--out", str(data), "--per-class", "500", "--seed", "42"])

    # burn: two epochs through the CLI; history.json has each epoch's wall time.
    out = work / "burn"
    sh([sentio, "train", "emoji", "--data", str(data), "--out", str(out), "--epochs", "2"])
    history = json.loads((out / "history.json").read_text())
    burn_s = [e["seconds"] for e in history["epochs"]]
    manifest = json.loads((out / "manifest.json").read_text())
    split = manifest["training"]["split"]

    # PyTorch: the same sizes of split (stratified 80/10/10), same images.
    x, y = load_folder(data)
    rng = np.random.default_rng(42)
    train_idx, val_idx = [], []
    for c in range(len(LABELS)):
        members = np.flatnonzero(y == c)
        rng.shuffle(members)
        n_val = round(len(members) * 0.1)
        n_test = round(len(members) * 0.1)
        val_idx += list(members[n_test : n_test + n_val])
        train_idx += list(members[n_test + n_val :])
    assert len(train_idx) == split["train"] and len(val_idx) == split["val"], (len(train_idx), split)
    torch.set_num_threads(os.cpu_count())
    torch_s, torch_acc = torch_epochs(x[train_idx], y[train_idx], x[val_idx], y[val_idx], epochs=2)

    ratio = burn_s[1] / torch_s[1]
    rustc = sh(["rustc", "--version"]).strip()
    load = os.getloadavg()
    lines = [
        SECTION,
        "",
        "One epoch of the seed's emoji CNN (4 conv 2x2 blocks 16/32/64/128, dropout 0.5, dense 8; "
        f"Adam, batch 32) on {split['train']} training images (64x64) plus validation on {split['val']}, "
        "wall time of the second epoch (the first carries one-time warm-up), same data, same run. "
        f"Both use all {os.cpu_count()} cores. Data decoding is outside the timing in both.",
        "",
        "```",
        "python3 tests/bench/bench_training.py",
        "```",
        "",
        "| framework | epoch 1 (s) | epoch 2 (s) | val accuracy after 2 epochs |",
        "| --- | --- | --- | --- |",
        f"| burn 0.22.1 (flex CPU backend, rayon + simd; `sentio train`, release) | {burn_s[0]:.1f} | **{burn_s[1]:.1f}** | {history['epochs'][1]['val_accuracy'] * 100:.1f}% |",
        f"| PyTorch {torch.__version__} (eager, float32, {torch.get_num_threads()} threads) | {torch_s[0]:.1f} | **{torch_s[1]:.1f}** | {torch_acc[1] * 100:.1f}% |",
        "",
        f"**burn / PyTorch: {ratio:.2f}x** per epoch. Machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, load average {load[0]:.2f} at the end; {rustc}; Python {platform.python_version()}. "
        f"Date {datetime.date.today().isoformat()}. (burn's epoch also converts each batch into a tensor "
        "and applies the mirror/shift augmentation; PyTorch's indexes a ready tensor. The accuracies "
        "differ because the schedules and initializations differ; only the time is compared.)",
        "",
    ]
    replace_section(args.doc, SECTION, "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
