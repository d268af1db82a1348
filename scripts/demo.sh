#!/usr/bin/env bash
# Installs what is missing, builds gst-anogan and shows the engine at work:
# a model's description, anomaly scores of the sample pictures with their
# residual maps, and a short benchmark of the latent search.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
[ -d build ] || meson setup build --buildtype=release
ninja -C build

model=tests/golden/data/dcgan32/model.safetensors
out=${DEMO_OUT:-demo-output}
mkdir -p "$out"

echo
echo "== The model (an untrained dcgan32 with random weights, from the test data)"
build/src/tools/anogan-score --info "$model"

echo
echo "== Scoring the sample pictures: 100 Adam steps per 32x32 tile"
build/src/tools/anogan-score --model "$model" --iterations 100 \
  --z-init normal --residual-out "$out" tests/data/*.png tests/data/*.jpg

echo
echo "== Residual maps |x - G(z*)| written to $out/"
ls "$out"

echo
echo "== Speed of the latent search (dcgan32, 2 threads, 3 seconds)"
build/src/tools/anogan-bench --arch dcgan32 --threads 2 --batch 32 --seconds 3
