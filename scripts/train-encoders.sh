#!/usr/bin/env bash
# train-encoders.sh: gives the shipped models their f-AnoGAN encoders.
#
# Each model keeps its generator and discriminator; anogan-train --encoder
# trains an encoder that reads the discriminator's features f(x) (see
# docs/architecture.md for why) on the model's own normal training data,
# and the brick model is then calibrated for the encoder and hybrid modes
# on the same 60 belt frames its optimising search was calibrated on.
#
#   scripts/train-encoders.sh [BUILD_DIR] [brick|fashion-mnist|all]
#
# Environment (defaults in brackets): EPOCHS [20], BRICK_EPOCHS [30],
# CLASSES ["0 1 2 3 4 5 6 7 8 9"], THREADS of calibration [0 = every core],
# SEED [1].  Training runs on one OpenBLAS thread, so that it is
# deterministic; run two of these side by side to use both cores.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build-release}
which=${2:-all}
epochs=${EPOCHS:-20}
brick_epochs=${BRICK_EPOCHS:-30}
classes=${CLASSES:-0 1 2 3 4 5 6 7 8 9}
threads=${THREADS:-0}
seed=${SEED:-1}
data=/usr/share/datasets/fashion-mnist
train=$build/src/tools/anogan-train

[ -x "$train" ] || {
  echo "build first: meson setup $build && ninja -C $build" >&2
  exit 1
}

train_encoder () {           # MODEL EPOCHS DATA-ARGS...
  local model=$1 n=$2
  shift 2
  "$train" --model "$model" --encoder --encoder-input features \
    --epochs "$n" --seed "$seed" --threads 1 "$@" \
    --checkpoint "$model.ckpt" --out "$model.new"
  rm -f "$model.ckpt"
  mv "$model.new" "$model"
}

if [ "$which" = all ] || [ "$which" = fashion-mnist ]; then
  for k in $classes; do
    start=$(date +%s)
    train_encoder "$top/models/fashion-mnist/class-$k.safetensors" "$epochs" \
      --data "$data/train-images-idx3-ubyte.gz" --class "$k"
    echo "fashion-mnist class $k: encoder trained in $(($(date +%s) - start)) s"
  done
fi

if [ "$which" = all ] || [ "$which" = brick ]; then
  set_dir=$build/texture-set
  belt_dir=$build/texture-set-belt
  [ -d "$set_dir/train" ] ||
    /usr/bin/python3 "$top/scripts/make-texture-set.py" "$set_dir" \
      --seed "$seed" --layout photo
  [ -d "$belt_dir/calibration-frames" ] ||
    /usr/bin/python3 "$top/scripts/make-texture-set.py" "$belt_dir" \
      --seed "$seed" --layout belt
  model=$top/models/brick/brick.safetensors
  start=$(date +%s)
  train_encoder "$model" "$brick_epochs" --data "$set_dir/train" --stride 4 \
    --augment hflip,vflip
  trained=$(date +%s)
  "$train" --model "$model" --calibrate "$belt_dir/calibration-frames" \
    --calibration-mode encoder,hybrid --calibration-stride 32 \
    --threads "$threads" --out "$model.new"
  mv "$model.new" "$model"
  echo "brick: encoder trained in $((trained - start)) s, calibrated in" \
    "$(($(date +%s) - trained)) s"
fi
