#!/usr/bin/env bash
# Installs the Debian 12 packages gst-anogan needs to build, test and run,
# skipping those already there.  Needs root (or sudo) only when something
# is missing.
set -euo pipefail

packages=(
  build-essential meson ninja-build pkg-config
  libglib2.0-dev libjson-glib-dev libopenblas-dev libgdk-pixbuf-2.0-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  # xmllint, with which the tests check anogan-eval's SVG
  libxml2-utils
  # memcheck of the element's state changes in the tests
  valgrind
  # clang, libFuzzer and clang's sanitizers: the bounded fuzzing run of
  # the model loader and the picture readers (scripts/fuzz.sh)
  clang libclang-rt-14-dev
  # Fashion-MNIST, for the result scripts; the tests do not need it
  dataset-fashion-mnist
  # GStreamer's Python bindings, for the Python example that reads
  # anoganfilter's metas and messages; nothing else needs them
  python3-gst-1.0 gir1.2-gst-plugins-base-1.0
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
