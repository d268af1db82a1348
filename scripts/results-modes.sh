#!/usr/bin/env bash
# results-modes.sh: detection quality against time for the search modes
# (--mode optimise, encoder, hybrid), on Fashion-MNIST and on the texture.
#
# Each model is scored twice per data set: once by the optimising search
# (AnoGAN: 500 Adam steps), once by the hybrid search (z = E(x), then 50
# steps).  anogan-eval --trace-steps reads each of those searches after
# fewer steps as well: the search records every tile's loss after every
# step, so the scores a search of t steps would give come from the same
# run, bit for bit (tests/test-anogan-eval.sh checks it).  Step 0 of the
# hybrid search is the encoder mode (f-AnoGAN's one-pass score).
#
# Fashion-MNIST: the protocol of results-fashion-mnist.sh, one model per
# class (models/fashion-mnist/class-K, which need an encoder), class K of
# the test set normal and the nine others anomalous, a seeded sample of
# LIMIT of each; the optimising search starts from z = 0.
# Texture: as results-texture.sh scores it, the brick model on the test
# crops of the photo layout, tiles of 32 stepping by STRIDE, the optimising
# search from the best of CANDIDATES starts.
#
# Time: the traced runs give the metrics of every step count, but not
# what a search of that many steps costs (a 500-step run's time says
# nothing of the encoder's pass alone).  So each (mode, steps) point is
# timed by a run of its own, of exactly that search (--mode encoder for
# the encoder point), on TIMING_LIMIT pictures of each set of the first
# class (the ten Fashion-MNIST models have one architecture, hence one
# cost) and of the texture, with TIMING_THREADS threads: milliseconds of
# scoring per tile, as anogan-eval's "ms_per_tile" reports it (scoring
# only, not loading).  Each point is timed TIMING_REPEATS times and the
# fastest run counts, the one other jobs on the machine disturbed least.
#
#   scripts/results-modes.sh [BUILD_DIR] [RESULTS_DIR] [IMAGES_DIR]
#
# Writes RESULTS_DIR/fashion-mnist/class-K-{optimise,hybrid}.json and
# timing.jsonl, RESULTS_DIR/texture/{optimise,hybrid}.json and
# timing.jsonl, RESULTS_DIR/summary.json, and the plots
# IMAGES_DIR/modes-fashion-mnist.svg and modes-texture.svg
# (scripts/plot-modes.py).  Defaults: build-release, docs/results/modes,
# docs/images.
#
# Environment (defaults in brackets): CLASSES ["0 1 2 3 4 5 6 7 8 9"],
# LIMIT pictures per Fashion-MNIST test set [500], TEXTURE_LIMIT crops per
# texture test set [0 = all 200], OPTIMISE_STEPS ["0 5 10 20 50 100 200
# 500"], HYBRID_STEPS ["0 1 2 5 10 20 50"] (the last of each is the
# length of the traced search), THREADS of the traced runs [0 = every
# core], TIMING_LIMIT [50], TIMING_THREADS [2], TIMING_REPEATS [3], SEED [1],
# DATASETS ["fashion-mnist texture"], MODEL_DIR [models/fashion-mnist],
# BRICK_MODEL [models/brick/brick.safetensors], CANDIDATES [256],
# STRIDE [32].
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build-release}
results=${2:-$top/docs/results/modes}
images=${3:-$top/docs/images}
fashion=/usr/share/datasets/fashion-mnist
classes=${CLASSES:-0 1 2 3 4 5 6 7 8 9}
limit=${LIMIT:-500}
texture_limit=${TEXTURE_LIMIT:-0}
optimise_steps=${OPTIMISE_STEPS:-0 5 10 20 50 100 200 500}
hybrid_steps=${HYBRID_STEPS:-0 1 2 5 10 20 50}
threads=${THREADS:-0}
timing_limit=${TIMING_LIMIT:-50}
timing_threads=${TIMING_THREADS:-2}
timing_repeats=${TIMING_REPEATS:-3}
seed=${SEED:-1}
datasets=${DATASETS:-fashion-mnist texture}
model_dir=${MODEL_DIR:-$top/models/fashion-mnist}
brick=${BRICK_MODEL:-$top/models/brick/brick.safetensors}
candidates=${CANDIDATES:-256}
stride=${STRIDE:-32}
eval_tool=$build/src/tools/anogan-eval
score_tool=$build/src/tools/anogan-score

[ -x "$eval_tool" ] || {
  echo "build first: meson setup $build --buildtype=release && ninja -C $build" >&2
  exit 1
}

# "0 5 500" -> "0,5,500"; the last is the traced search's length.
commas () { echo $1 | tr ' ' ','; }
last () { echo $1 | awk '{ print $NF }'; }
optimise_iterations=$(last "$optimise_steps")
hybrid_iterations=$(last "$hybrid_steps")

# need_encoder MODEL: the hybrid and encoder modes need one.
need_encoder () {
  if "$score_tool" --info "$1" | grep -q '^encoder (E): none'; then
    echo "$1 has no encoder: the hybrid and encoder modes need a model" \
      "trained with one (docs/anogan-train.md)" >&2
    exit 1
  fi
}

# traced_runs OUT_PREFIX MODEL OPTIMISE_ARGS DATA_ARGS...: the optimising
# and the hybrid search, each read after its step counts, to
# OUT_PREFIXoptimise.json and OUT_PREFIXhybrid.json.  OPTIMISE_ARGS are
# the optimising search's own options (its start): one word, or "".
traced_runs () {
  out=$1 model=$2 optimise_args=$3; shift 3
  "$eval_tool" --model "$model" "$@" --mode optimise $optimise_args \
    --iterations "$optimise_iterations" \
    --trace-steps "$(commas "$optimise_steps")" --threads "$threads" --json \
    > "${out}optimise.json"
  "$eval_tool" --model "$model" "$@" --mode hybrid \
    --iterations "$hybrid_iterations" \
    --trace-steps "$(commas "$hybrid_steps")" --threads "$threads" --json \
    > "${out}hybrid.json"
}

# timing_runs OUT MODEL OPTIMISE_ARGS DATA_ARGS...: one run per point, its
# report a line of OUT.
timing_runs () {
  out=$1 model=$2 optimise_args=$3; shift 3
  : > "$out"
  for repeat in $(seq "$timing_repeats"); do
    for t in $optimise_steps; do
      "$eval_tool" --model "$model" "$@" --mode optimise $optimise_args \
        --iterations "$t" --threads "$timing_threads" --json >> "$out"
    done
    for t in $hybrid_steps; do
      if [ "$t" -eq 0 ]; then
        "$eval_tool" --model "$model" "$@" --mode encoder \
          --threads "$timing_threads" --json >> "$out"
      else
        "$eval_tool" --model "$model" "$@" --mode hybrid --iterations "$t" \
          --threads "$timing_threads" --json >> "$out"
      fi
    done
  done
}

for dataset in $datasets; do
  start=$(date +%s)
  case $dataset in
    fashion-mnist)
      [ -r "$fashion/t10k-images-idx3-ubyte.gz" ] || {
        echo "no Fashion-MNIST in $fashion: apt-get install dataset-fashion-mnist" >&2
        exit 1
      }
      mkdir -p "$results/fashion-mnist"
      test_set=$fashion/t10k-images-idx3-ubyte.gz
      for k in $classes; do
        model=$model_dir/class-$k.safetensors
        need_encoder "$model"
        traced_runs "$results/fashion-mnist/class-$k-" "$model" "" \
          --normal "$test_set" --anomalous "$test_set" --class "$k" \
          --limit "$limit" --seed "$seed"
        echo "fashion-mnist class $k: $(($(date +%s) - start)) s so far"
      done
      first=$(echo $classes | awk '{ print $1 }')
      timing_runs "$results/fashion-mnist/timing.jsonl" \
        "$model_dir/class-$first.safetensors" "" \
        --normal "$test_set" --anomalous "$test_set" --class "$first" \
        --limit "$timing_limit" --seed "$seed"
      ;;
    texture)
      set_dir=$build/texture-set
      [ -d "$set_dir/test/normal" ] ||
        /usr/bin/python3 "$top/scripts/make-texture-set.py" "$set_dir" \
          --seed "$seed" --layout photo
      need_encoder "$brick"
      mkdir -p "$results/texture"
      sets=(--normal "$set_dir/test/normal" --anomalous "$set_dir/test/anomalous"
        --stride "$stride" --seed "$seed")
      # The optimising search starts as results-texture.sh's does, from
      # the best of the candidates; the hybrid one from E(x).
      traced_runs "$results/texture/" "$brick" "--candidates=$candidates" \
        "${sets[@]}" --limit "$texture_limit"
      timing_runs "$results/texture/timing.jsonl" "$brick" \
        "--candidates=$candidates" "${sets[@]}" --limit "$timing_limit"
      ;;
    *)
      echo "unknown data set $dataset: fashion-mnist or texture" >&2
      exit 1
      ;;
  esac
  echo "$dataset: $(($(date +%s) - start)) s"
done

/usr/bin/python3 "$top/scripts/plot-modes.py" "$results" "$images"
