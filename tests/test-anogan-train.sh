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

# A checkpoint whose card holds a member of the wrong type (the card's
# seed, a string, made an array in place, the same length): refused,
# naming the file and the member, rather than read as something else.
sed 's/\\"seed\\":\\"3\\",\\"augment\\":\\"/\\"seed\\":[333],\\"augment\\":\\"/' \
  "$tmp/first.safetensors.ckpt" >"$tmp/bad-card.ckpt"
check "a card of the wrong shape is refused" \
  run 1 --resume "$tmp/bad-card.ckpt" --epochs 3 --threads 1 \
  --out "$tmp/bad-card.safetensors"
check "... naming the file and the member" \
  one_line_error ".*bad-card.ckpt: the card's \"seed\" is not a string"

# interrupt SIGNAL OUT ARGS...: a long run to OUT, sent SIGNAL once its
# first checkpoint is written; its exit status in $status, stderr in
# $tmp/err.
interrupt () {
  sig=$1; out=$2; shift 2
  "$tool" "$@" --epochs 100000 --out "$out" --quiet 2>"$tmp/err" &
  pid=$!
  i=0
  while [ ! -s "$out.ckpt" ] && [ $i -lt 600 ]; do
    sleep 0.1; i=$((i + 1))
  done
  kill -"$sig" $pid
  wait $pid
  status=$?
}

# Interrupted: a final checkpoint, exit 130, and it resumes.
interrupt INT "$tmp/long.safetensors" $common
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

# The encoder of a trained model (f-AnoGAN): E is new, G and D stay.
encoder_common="--model $tmp/straight.safetensors --encoder --data $data --batch 8 --stride 8 --threads 1"
check "trains an encoder for a trained model" \
  run 0 $encoder_common --epochs 2 --out "$tmp/encoder.safetensors"
check "... logs each epoch's mean loss" grep -q "^epoch 2/2: mean loss [0-9]" "$tmp/err"
"$score" --info "$tmp/encoder.safetensors" >"$tmp/info" 2>&1
check "... writes a model that loads, with an encoder" \
  grep -qE '^(encoder \(E\): [0-9]+ layers|  encoder: \[\{)' "$tmp/info"
check "... records the encoder's training on the card" grep -q \
  '^  encoder_training: {"data":.*"pictures":6,"patches":126,"epochs":2,"steps":30,.*"final_loss":' \
  "$tmp/info"
check "... keeps the card's other entries" \
  grep -q '^  training: {"data":.*"epochs":3,"steps":45' "$tmp/info"
check "... keeps G and D: the optimising search scores as before" \
  test "$(scores "$tmp/straight.safetensors")" = "$(scores "$tmp/encoder.safetensors")"
encoder_scores () {
  "$score" --model "$1" --mode encoder --json "$data/grey-48x40.png" \
    "$data/scratch-48x40.png" | sed 's/"file":"[^"]*",//'
}
check "... scores in the encoder mode" test -n "$(encoder_scores "$tmp/encoder.safetensors")"

# Resumed, an encoder's run continues bit for bit too; Ctrl-C leaves a
# checkpoint to resume from.
run 0 $encoder_common --epochs 3 --out "$tmp/encoder3.safetensors" --quiet
check "resumes an encoder's run" run 0 --encoder --resume \
  "$tmp/encoder.safetensors.ckpt" --epochs 3 --threads 1 \
  --out "$tmp/encoder-resumed.safetensors"
check "... bit for bit" test "$(encoder_scores "$tmp/encoder3.safetensors")" = \
  "$(encoder_scores "$tmp/encoder-resumed.safetensors")"
check "a GAN's resume refuses an encoder's checkpoint" \
  run 1 --resume "$tmp/encoder.safetensors.ckpt" --epochs 3 --out "$tmp/x"
check "... naming what it lacks" one_line_error ".*no anogan_train metadata"
interrupt TERM "$tmp/long-encoder.safetensors" $encoder_common
check "SIGTERM stops an encoder's run with 130" test "$status" -eq 130
check "... and says how to resume it" \
  grep -q "^interrupted at step .*--encoder --resume" "$tmp/err"

check "trains an encoder of the discriminator's features" \
  run 0 $encoder_common --epochs 1 --encoder-input features \
  --out "$tmp/feature-encoder.safetensors"
"$score" --info "$tmp/feature-encoder.safetensors" >"$tmp/info" 2>&1
check "... which the card says" grep -q '^  encoder_input: "*features' "$tmp/info"

# One run calibrates several modes: each its own threshold and settings.
check "calibrates the encoder and hybrid modes" run 0 $encoder_common \
  --epochs 1 --calibrate "$data" --calibration-mode encoder \
  --calibration-mode hybrid --calibration-iterations 2 --quantile 0.5 \
  --out "$tmp/encoder-calibrated.safetensors"
"$score" --info "$tmp/encoder-calibrated.safetensors" >"$tmp/info" 2>&1
check "... writes calibration_encoder" grep -q \
  '^  calibration_encoder: {"data":.*"quantile":0.5,"threshold":[0-9].*"iterations":0,.*"z_init":"encoder".*"mode":"encoder"}' \
  "$tmp/info"
check "... and calibration_hybrid" grep -q \
  '^  calibration_hybrid: {"data":.*"quantile":0.5,"threshold":[0-9].*"iterations":2,.*"mode":"hybrid"}' \
  "$tmp/info"
check "... and leaves the optimising search's threshold alone" \
  grep -q "^threshold: none" "$tmp/info"
check "recalibrates the hybrid mode of a model" run 0 \
  --model "$tmp/encoder-calibrated.safetensors" --calibrate "$data" \
  --calibration-mode optimise,hybrid --calibration-iterations 3 --threads 1 \
  --out "$tmp/recalibrated-hybrid.safetensors"
"$score" --info "$tmp/recalibrated-hybrid.safetensors" >"$tmp/info" 2>&1
check "... with the iterations asked for" \
  grep -q '^  calibration_hybrid: {.*"iterations":3,.*"mode":"hybrid"}' "$tmp/info"
check "... the optimising search's too" grep -q "^threshold: [0-9]" "$tmp/info"
check "... keeping the other modes' calibration" \
  grep -q '^  calibration_encoder: {.*"mode":"encoder"}' "$tmp/info"
check "the hybrid mode takes its own steps unless told" run 0 \
  --model "$tmp/encoder-calibrated.safetensors" --calibrate "$data" \
  --calibration-mode hybrid --threads 1 --out "$tmp/hybrid-default.safetensors"
"$score" --info "$tmp/hybrid-default.safetensors" >"$tmp/info" 2>&1
check "... 10 of them" grep -q '^  calibration_hybrid: {.*"iterations":10,' "$tmp/info"
check "a new encoder drops the old one's thresholds" run 0 \
  --model "$tmp/encoder-calibrated.safetensors" --encoder --data "$data" \
  --batch 8 --stride 8 --threads 1 --epochs 1 --quiet \
  --out "$tmp/encoder-again.safetensors"
"$score" --info "$tmp/encoder-again.safetensors" >"$tmp/info" 2>&1
check "... calibration_encoder is gone" \
  test -z "$(grep calibration_encoder "$tmp/info")"
check "the encoder modes need an encoder" run 2 --model "$tmp/straight.safetensors" \
  --calibrate "$data" --calibration-mode encoder --out "$tmp/x"
check "... says so" one_line_error ".*need a model with an encoder"

# Bad arguments: one line, exit 2, nothing written.
bad_args "--encoder without --model" --encoder --arch "$arch" --data "$data" --out "$tmp/x"
bad_args "--encoder --model without --data" --model "$tmp/straight.safetensors" \
  --encoder --out "$tmp/x"
bad_args "unknown calibration mode" --model "$tmp/straight.safetensors" \
  --calibrate "$data" --calibration-mode optimise,fast --out "$tmp/x"
bad_args "--calibration-mode without --calibrate" $encoder_common \
  --calibration-mode encoder --out "$tmp/x"
bad_args "bad --encoder-input" $encoder_common --encoder-input pixels --out "$tmp/x"
bad_args "bad --loss" $encoder_common --loss l3 --out "$tmp/x"
bad_args "an encoder's --loss comes from its checkpoint" --encoder \
  --resume "$tmp/encoder.safetensors.ckpt" --loss l2 --out "$tmp/x"
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
