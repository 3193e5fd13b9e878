#!/usr/bin/env bash
# Real drivers against a real kernel: boots Debian's kernel under qemu-system-x86_64 with the
# `vivid` test camera and the `snd-aloop` loopback sound card, and runs `sentiod` built with the
# `v4l` and `alsa` features against /dev/video0 and the loopback card (aplay plays the sim voice
# into one end, sentiod captures the other). Passes when camera frames and audio reached the
# pipeline: `stats` events with frames counted, `level` events (speech events are counted).
#
#   bash tests/qemu/real_drivers.sh            # from the repository root; a few minutes
#
# Needs (Debian 12): qemu-system-x86 busybox-static alsa-utils kmod cpio, and apt access to
# download the kernel package. Optional in CI (not run by .ci/run): docs/boards.md, "Real drivers
# against a real kernel". Software emulation (SENTIO_QEMU_ACCEL=kvm to try KVM).
# Work files go to target/qemu-kernel/ (the kernel package is downloaded once).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
work=$repo/target/qemu-kernel
mkdir -p "$work"

for tool in qemu-system-x86_64 busybox aplay depmod cpio; do
  command -v "$tool" >/dev/null || {
    echo "real_drivers.sh: $tool is missing" >&2
    echo "  help: sudo apt install qemu-system-x86 busybox-static alsa-utils kmod cpio" >&2
    exit 2
  }
done

# 1. The kernel: Debian's current amd64 image, unpacked, its module dependencies computed.
kpkg=$(apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n 1)
[ -n "$kpkg" ] || { echo "real_drivers.sh: apt knows no linux-image-amd64 (apt update?)" >&2; exit 2; }
kver=${kpkg#linux-image-}
if [ ! -f "$work/kernel/boot/vmlinuz-$kver" ]; then
  (cd "$work" && rm -f linux-image-*.deb && apt-get download "$kpkg")
  rm -rf "$work/kernel" && dpkg-deb -x "$work"/"$kpkg"_*.deb "$work/kernel"
  depmod -b "$work/kernel" "$kver"
fi
moddir=$work/kernel/lib/modules/$kver

# 2. sentiod with the real camera and audio drivers (the workspace's features, so the build
# shares the test build's dependencies).
cargo build --workspace --bin sentiod --features sentiod/v4l,sentiod/alsa
sentiod=$repo/target/debug/sentiod

# 3. The initramfs: busybox, sentiod and aplay with their shared libraries, ALSA's configuration,
# the modules vivid and snd-aloop need (in load order), the models, a profile and the voice.
root=$work/root
rm -rf "$root" && mkdir -p "$root"/{bin,dev,proc,sys,tmp,etc,modules,sentio/models}
cp /bin/busybox "$root/bin/busybox"
for applet in sh mount insmod cat grep sleep poweroff ls timeout echo; do
  ln -s busybox "$root/bin/$applet"
done
copy_with_libs() { # BINARY DEST
  cp "$1" "$root/$2"
  ldd "$1" | grep -o '/[^ ]*' | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"
  done
}
copy_with_libs "$sentiod" bin/sentiod
copy_with_libs "$(command -v aplay)" bin/aplay
mkdir -p "$root/usr/share" && cp -r /usr/share/alsa "$root/usr/share/alsa"

# Dependencies first: modules.dep lists each module's dependencies, nearest first.
load_order=()
add_module() { # PATH relative to moddir
  local m=$1 dep
  for seen in "${load_order[@]:-}"; do [ "$seen" = "$m" ] && return; done
  for dep in $(awk -v m="$m:" '$1 == m { $1 = ""; print }' "$moddir/modules.dep"); do
    add_module "$dep"
  done
  load_order+=("$m")
}
for name in vivid snd-aloop; do
  path=$(awk -F: -v n="/$name.ko" 'index($1, n) { print $1 }' "$moddir/modules.dep" | head -n 1)
  [ -n "$path" ] || { echo "real_drivers.sh: $kver has no $name module" >&2; exit 2; }
  add_module "$path"
done
: > "$root/modules/order"
for m in "${load_order[@]}"; do
  cp "$moddir/$m" "$root/modules/"
  echo "$(basename "$m")" >> "$root/modules/order"
done

cp -r models/zoo/fer models/zoo/ser "$root/sentio/models/"
cp boards/sim/voice.wav "$root/sentio/voice.wav"
cp /usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml "$root/sentio/" 2>/dev/null || true
cat > "$root/sentio/vm.toml" <<'EOF'
[board]
name = "qemu-vivid"
description = "qemu-system-x86_64 with Debian's kernel: vivid camera, snd-aloop loopback card"

[cpu]
arch = "x86_64"
cores = 2
features = []

[camera]
driver = "v4l"
device = "/dev/video0"
width = 640
height = 480
fps = 15
pixel_format = "yuyv"

[audio]
driver = "alsa"
capture = "plughw:CARD=Loopback,DEV=1"   # aplay plays into DEV=0; the loopback hands it over
playback = "null"
rate = 16000

[display]
driver = "sim-rgb565"
width = 240
height = 240
rotation = 0

[serial]
device = "pty"
baud = 921600

[runtime]
threads = 1
precision = "f32"

[models]
load = ["fer", "ser"]
dir = "models"

[faces]
detector = "haar"
cascade = "haarcascade_frontalface_default.xml"
EOF

cat > "$root/init" <<'EOF'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
for m in $(cat /modules/order); do
  case "$m" in
    vivid.ko) insmod /modules/$m n_devs=1 node_types=0x1 ;;  # one video capture node
    *) insmod /modules/$m ;;
  esac
done
echo "SENTIO-VM: devices: $(ls /dev/video* /dev/snd 2>&1 | tr '\n' ' ')"
# The voice played into the loopback again and again while sentiod listens on the other end.
( while true; do aplay -q -D plughw:CARD=Loopback,DEV=0 /sentio/voice.wav || sleep 1; done ) &
cd /sentio
echo "SENTIO-VM: sentiod start"
sentiod --board /sentio/vm.toml --no-link --no-music --no-beep --frames 90 \
  --display-out /tmp/display --speaker-out /tmp/speaker.wav 2>&1
echo "SENTIO-VM: sentiod exit $?"
poweroff -f
EOF
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initramfs.gz"

# 4. Boot, with the console on stdio; its output is the log.
# Software emulation by default: it boots in seconds (NOTES.md: 11-17 s). KVM inside this
# kind of VM (nested) was seen to hang before the kernel printed anything.
accel=${SENTIO_QEMU_ACCEL:-tcg}
log=$work/console.log
echo "booting $kver ($accel), log: target/qemu-kernel/console.log"
start=$(date +%s)
timeout 900 qemu-system-x86_64 -accel "$accel" -m 1536 -smp 2 -nographic -no-reboot \
  -kernel "$work/kernel/boot/vmlinuz-$kver" -initrd "$work/initramfs.gz" \
  -append "console=ttyS0 loglevel=4 panic=-1" > "$log" 2>&1 || true
echo "VM ran $(( $(date +%s) - start )) s"

# 5. What arrived.
grep 'SENTIO-VM' "$log" || true
events=$(grep -o '{"event":.*}' "$log" || true)
frames=$(grep -o '"event":"stats","frame":[0-9]*' <<<"$events" | tail -n 1 | grep -o '[0-9]*$' || echo 0)
levels=$(grep -c '"event":"level"' <<<"$events" || true)
speech=$(grep -c '"event":"speech"' <<<"$events" || true)
echo "start: $(grep -o '"event":"start".*' <<<"$events" | head -c 400)"
echo "last stats frame: $frames, level events: $levels, speech events: $speech"
fail=0
grep -q '"event":"start"' <<<"$events" || { echo "FAIL: sentiod did not start" >&2; fail=1; }
[ "${frames:-0}" -gt 0 ] || { echo "FAIL: no camera frame counted" >&2; fail=1; }
[ "${levels:-0}" -gt 0 ] || { echo "FAIL: no audio level from the loopback card" >&2; fail=1; }
# Speech is reported, not required: under software emulation the pipeline runs at ~1 fps and
# no speech event came in 90 frames (2026-12-06), although the levels show the voice arriving.
grep -q 'sentiod exit 0' "$log" || { echo "FAIL: sentiod did not exit 0" >&2; fail=1; }
[ "$fail" = 0 ] && echo "PASS: frames from vivid and audio from snd-aloop reached sentiod"
exit "$fail"
