#!/usr/bin/env bash
# results-texture.sh: the texture table of docs/results.md, and the
# default model.
#
# Makes the brick texture set (scripts/make-texture-set.py, seeded),
# trains dcgan32 on the train region, calibrates the threshold on the
# calibration crops, then scores the 200 normal and 200 anomalous test
# crops: image AUROC, and pixel AUROC of the residual maps against the
# defect masks.
#
#   scripts/results-texture.sh [BUILD_DIR] [RESULTS_DIR]
#
# Environment (defaults in brackets): EPOCHS [60], ITERATIONS [200],
# STRIDE of the calibration and test tiles [32], THREADS of the search [0 = every core], TRAIN_THREADS [1], SEED [1],
# MODEL [models/brick/brick.safetensors], LAYOUT of the texture set
# [photo; belt for the demo clip's material, docs/texture-data.md].
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build-release}
results=${2:-$top/docs/results/texture}
epochs=${EPOCHS:-60}
iterations=${ITERATIONS:-200}
stride=${STRIDE:-32}
threads=${THREADS:-0}
# Training is deterministic for a seed and a thread count: the shipped
# models were trained on one OpenBLAS thread.
train_threads=${TRAIN_THREADS:-1}
seed=${SEED:-1}
layout=${LAYOUT:-photo}
model=${MODEL:-$top/models/brick/brick.safetensors}
set_dir=$build/texture-set
cd "$top"

[ -x "$build/src/tools/anogan-train" ] || {
  echo "build first: meson setup $build && ninja -C $build" >&2
  exit 1
}
mkdir -p "$results" "$(dirname "$model")"
/usr/bin/python3 "$top/scripts/make-texture-set.py" "$set_dir" --seed "$seed" \
  --layout "$layout"

start=$(date +%s)
if [ ! -e "$model" ]; then
  "$build/src/tools/anogan-train" --arch dcgan32 --data "$set_dir/train" \
    --stride 4 --augment hflip,vflip --epochs "$epochs" --seed "$seed" \
    --threads "$train_threads" --calibrate "$set_dir/calibration" \
    --calibration-stride "$stride" --calibration-iterations "$iterations" \
    --name brick \
    --description "dcgan32 for 32x32 grey patches of a brick wall (scikit-image's brick.png, CC0), the stand-in for a production line" \
    --out "$model" --checkpoint "$results/brick.ckpt"
  rm -f "$results/brick.ckpt"
fi
trained=$(date +%s)
"$build/src/tools/anogan-eval" --model "$model" \
  --normal "$set_dir/test/normal" --anomalous "$set_dir/test/anomalous" \
  --masks "$set_dir/test/masks" --iterations "$iterations" \
  --stride "$stride" --threads "$threads" --json \
  --scores "$build/texture.scores.jsonl" --roc "$results/roc.svg" \
  --mosaic "$results/mosaic.png" > "$results/eval.json"
done_at=$(date +%s)
echo "texture: train $((trained - start)) s, evaluate $((done_at - trained)) s:" \
  "$(cat "$results/eval.json")"
