#!/bin/sh
# Tests of the anogan-train tool, in TAP.  meson passes the paths of
# anogan-train and anogan-score as $1 and $2.  The model is the small
# DCGAN of tests/data/train16.json (1x16x16 patches) and the training
# pictures are those of tests/data, cut with stride 8.
set -u

tool=$1
score=$2
data=${ANOGAN_SOURCE_ROOT:?}/tests/data
arch=$data/train16.json
. "$(dirname "$0")/tap.sh"

one_line_error () {
  [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "^anogan-train: $1" "$tmp/err"
}

# scores MODEL: the scores anogan-score gives the test pictures with it,
# which differ when any weight does.
scores () {
  "$score" --model "$1" --iterations 3 --json "$data/grey-48x40.png" \
    "$data/scratch-48x40.png" | sed 's/"file":"[^"]*",//'
}

common="--arch $arch --data $data --batch 8 --stride 8 --threads 1 --seed 3"

# A run of three epochs writes a model with its card, and a checkpoint.
check "trains three epochs" run 0 $common --epochs 3 --out "$tmp/straight.safetensors"
check "writes the model" test -s "$tmp/straight.safetensors"
check "writes a checkpoint beside it" test -s "$tmp/straight.safetensors.ckpt"
"$score" --info "$tmp/straight.safetensors" >"$tmp/info" 2>&1
check "the card says what it was trained on" \
  grep -q '"pictures":6,"patches":126,"epochs":3,"steps":45' "$tmp/info"
check "no threshold without calibration" grep -q "^threshold: none" "$tmp/info"
check "logs plain lines when not on a terminal" \
  grep -q "^epoch 3/3 step 45/45 d_loss" "$tmp/err"

# The same seed and thread count give the same model.
run 0 $common --epochs 3 --out "$tmp/again.safetensors" --quiet
check "deterministic for a seed" \
  test "$(scores "$tmp/straight.safetensors")" = "$(scores "$tmp/again.safetensors")"
run 0 $common --epochs 3 --seed 4 --out "$tmp/other.safetensors" --quiet
check "another seed, another model" \
  test "$(scores "$tmp/straight.safetensors")" != "$(scores "$tmp/other.safetensors")"

# Two epochs, then resumed to three: the same model as three at once.
run 0 $common --epochs 2 --out "$tmp/first.safetensors" --quiet
check "resumes from the checkpoint" \
  run 0 --resume "$tmp/first.safetensors.ckpt" --epochs 3 --threads 1 \
  --out "$tmp/resumed.safetensors"
check "the resumed run says so" grep -q "resumed" "$tmp/err"
"$score" --info "$tmp/resumed.safetensors" >"$tmp/info" 2>&1
check "the resumed card counts every step" grep -q '"epochs":3,"steps":45' "$tmp/info"
losses () { sed -n 's/.*\("final_d_loss":[^,]*,"final_g_loss":[^}]*\).*/\1/p' "$1"; }
run 0 --resume "$tmp/resumed.safetensors.ckpt" --epochs 3 --threads 1 \
  --out "$tmp/again-resumed.safetensors" --quiet
"$score" --info "$tmp/again-resumed.safetensors" >"$tmp/info-again" 2>&1
check "a resume with no step left keeps the card's losses" \
  test -n "$(losses "$tmp/info")" -a "$(losses "$tmp/info")" = "$(losses "$tmp/info-again")"
check "a resumed run continues bit for bit" \
  test "$(scores "$tmp/straight.safetensors")" = "$(scores "$tmp/resumed.safetensors")"

# Interrupted: a final checkpoint, exit 130, and it resumes.
"$tool" $common --epochs 100000 --out "$tmp/long.safetensors" \
  --quiet 2>"$tmp/err" &
pid=$!
i=0
while [ ! -s "$tmp/long.safetensors.ckpt" ] && [ $i -lt 600 ]; do
  sleep 0.1; i=$((i + 1))
done
kill -INT $pid
wait $pid
status=$?
check "Ctrl-C exits with 130" test "$status" -eq 130
check "Ctrl-C says where the checkpoint is" grep -q "^interrupted at step" "$tmp/err"
check "no model is written when interrupted" test ! -e "$tmp/long.safetensors"
reads_as_model () { "$score" --info "$1" >/dev/null; }
check "the final checkpoint is a model anogan-score reads" \
  reads_as_model "$tmp/long.safetensors.ckpt"

# Calibration stores a threshold and the settings it was measured with.
check "calibrates" run 0 $common --epochs 1 --calibrate "$data" \
  --calibration-iterations 3 --quantile 0.5 --out "$tmp/calibrated.safetensors"
"$score" --info "$tmp/calibrated.safetensors" >"$tmp/info" 2>&1
check "the calibrated model has a threshold" grep -q "^threshold: [0-9]" "$tmp/info"
check "the card holds the calibration settings" \
  grep -q 'calibration: {"data":.*"quantile":0.5.*"iterations":3' "$tmp/info"

# --model calibrates a trained model again, with other settings, and
# changes nothing else: the weights, hence the scores, stay.
check "recalibrates a trained model" run 0 --model "$tmp/calibrated.safetensors" \
  --calibrate "$data" --calibration-iterations 4 --calibration-candidates 5 \
  --quantile 0.9 --threads 1 --out "$tmp/recalibrated.safetensors"
"$score" --info "$tmp/recalibrated.safetensors" >"$tmp/info" 2>&1
check "... stores the new settings" grep -q \
  'calibration: {"data":.*"quantile":0.9.*"iterations":4.*"candidates":5' \
  "$tmp/info"
check "... and a threshold" grep -q "^threshold: [0-9]" "$tmp/info"
check "... keeps the weights" test "$(scores "$tmp/calibrated.safetensors")" = \
  "$(scores "$tmp/recalibrated.safetensors")"
check "--model without --calibrate" run 2 --model "$tmp/calibrated.safetensors" \
  --out "$tmp/x"
check "... says what it takes" one_line_error "--model calibrates a trained model"
check "--model with --data" run 2 --model "$tmp/calibrated.safetensors" \
  --calibrate "$data" --data "$data" --out "$tmp/x"

# Bad arguments: one line, exit 2, nothing written.
check "no --out" run 2 --arch "$arch" --data "$data"
check "... says so" one_line_error "--out is required"
check "unknown architecture" run 1 --arch nosuch --data "$data" --out "$tmp/x"
check "... names it" one_line_error ".*nosuch"
check "bad augmentation" run 2 $common --augment flip,spin --out "$tmp/x"
check "... names it" one_line_error "unknown augmentation 'spin'"
check "patch size not the model's" run 2 $common --patch 32x32 --out "$tmp/x"
check "... says what the model takes" one_line_error ".*takes 16x16"
check "missing data" run 1 --arch "$arch" --data "$tmp/none" --out "$tmp/x"
check "... names it" one_line_error ".*$tmp/none"
mkdir "$tmp/tiny"
cp "$data/tiny-20x20.png" "$tmp/tiny/"
check "a picture smaller than a patch is refused, not padded" \
  run 1 --arch dcgan32 --data "$tmp/tiny" --out "$tmp/x"
check "... names it, its size and the patch size" \
  one_line_error "$tmp/tiny/tiny-20x20.png: .*20x20.*32x32 patch"
check "options of the checkpoint cannot change" \
  run 2 --resume "$tmp/first.safetensors.ckpt" --batch 4 --out "$tmp/x"
check "too few patches for a batch" \
  run 2 $common --batch 1000 --out "$tmp/x"
check "... says so" one_line_error ".*at least one batch"
check "nothing written by failed runs" test ! -e "$tmp/x"

tap_end
