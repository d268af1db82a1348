#!/usr/bin/env bash
# Installs what is missing, builds gst-anogan and shows it at work on the
# shipped material: the default model's card, then the anoganfilter
# element on the demo clip (a belt of bricks with four synthetic defects
# riding through), frame by frame beside the clip's ground truth, with a
# summary of what it found and an annotated video; and a short benchmark
# of the latent search.
#
#   bash scripts/demo.sh
#
# Environment, defaults in brackets: DEMO_BUILD, the build directory
# [build]; DEMO_OUT, where the annotated video goes [demo-output];
# DEMO_INTERVAL, analyse every Nth frame [1: all 195, about 10 s on two
# cores in the default model's encoder mode]; DEMO_MODE, the element's
# search mode [auto]; DEMO_ITERATIONS, Adam steps per tile in the
# optimise and hybrid modes [0: as the model card says].
#
# The element part is examples/demo.sh; only bash, awk and the project's
# programs run here: nothing needs Python.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${DEMO_BUILD:-build}
export DEMO_OUT=${DEMO_OUT:-demo-output}
export DEMO_INTERVAL=${DEMO_INTERVAL:-1}
export DEMO_MODE=${DEMO_MODE:-auto}
export DEMO_ITERATIONS=${DEMO_ITERATIONS:-0}

bash scripts/install-deps.sh
[ -d "$build" ] || meson setup "$build" --buildtype=release
ninja -C "$build"

echo
echo "== The default model, compiled into the element (models/brick/brick.safetensors)"
"$build/src/tools/anogan-score" --info models/brick/brick.safetensors

echo
ANOGAN_BUILD=$build bash examples/demo.sh

echo
echo "== Speed of the latent search (dcgan32, 2 threads, 3 seconds)"
"$build/src/tools/anogan-bench" --arch dcgan32 --threads 2 --batch 8 --seconds 3
