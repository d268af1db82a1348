#!/usr/bin/env bash
# results-texture.sh: the texture table of docs/results.md, and the
# default model.
#
# Makes the brick texture set (scripts/make-texture-set.py, seeded; by
# default in the photo layout, which made the shipped model), trains
# dcgan32 on its train pictures, calibrates the threshold (belt: on
# defect-free pictures the size of the clip's frames, as the demo scores
# them; photo: on 64x64 crops), then scores the 200 normal and 200
# anomalous test crops: image AUROC, and pixel AUROC of the residual maps
# against the defect masks.
#
#   scripts/results-texture.sh [BUILD_DIR] [RESULTS_DIR]
#
# Environment (defaults in brackets): EPOCHS [belt 20, photo 60],
# TRAIN_STRIDE between training patches [belt 8, photo 4], ITERATIONS [200],
# STRIDE of the calibration and test tiles [32], THREADS of the search
# [0 = every core], TRAIN_THREADS [1], SEED [1],
# MODEL [models/brick/brick.safetensors], LAYOUT of the texture set
# [photo, the photograph's rows as they are; belt, the demo clip's
# material; docs/texture-data.md].
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build-release}
results=${2:-$top/docs/results/texture}
iterations=${ITERATIONS:-200}
stride=${STRIDE:-32}
threads=${THREADS:-0}
# Training is deterministic for a seed and a thread count: the shipped
# models were trained on one OpenBLAS thread.
train_threads=${TRAIN_THREADS:-1}
seed=${SEED:-1}
layout=${LAYOUT:-photo}
case $layout in
  belt) epochs=${EPOCHS:-20} train_stride=${TRAIN_STRIDE:-8}
        calibration=calibration-frames ;;
  photo) epochs=${EPOCHS:-60} train_stride=${TRAIN_STRIDE:-4}
         calibration=calibration ;;
  *) echo "LAYOUT must be belt or photo" >&2; exit 1 ;;
esac
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
    --stride "$train_stride" --augment hflip,vflip --epochs "$epochs" \
    --seed "$seed" --threads "$train_threads" \
    --calibrate "$set_dir/$calibration" \
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
