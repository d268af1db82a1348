#!/usr/bin/env bash
# Installs what is missing, builds gst-anogan and shows it at work on the
# shipped material: the brick model's card, then every 15th frame of the
# demo clip (a belt of bricks with four synthetic defects riding through)
# scored against the model's threshold, frame by frame beside the defects
# the clip's ground truth lists, with residual maps; and a short benchmark
# of the latent search.
#
#   bash scripts/demo.sh
#
# Environment, defaults in brackets: DEMO_BUILD, the build directory
# [build]; DEMO_OUT, where the residual maps go [demo-output]; DEMO_MODEL
# [models/brick/brick.safetensors]; DEMO_ITERATIONS, Adam steps per tile
# [200, a little over a minute of scoring on two cores].
#
# Only bash, awk and the project's tools: nothing here needs Python.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${DEMO_BUILD:-build}
out=${DEMO_OUT:-demo-output}
model=${DEMO_MODEL:-models/brick/brick.safetensors}
clip=media/brick-belt.webm
truth=media/demo-line.json
interval=15
stride=32
# 200 steps per tile: what the brick model's threshold was calibrated with
# (its card says so), so that the frames' scores compare with it.  13
# frames of 80 tiles then take some 70 s on two cores, at the search's
# 3000 patch-iterations a second.
iterations=${DEMO_ITERATIONS:-200}

bash scripts/install-deps.sh
[ -d "$build" ] || meson setup "$build" --buildtype=release
ninja -C "$build"
score=$build/src/tools/anogan-score

if [ ! -f "$model" ]; then
  echo "demo: $model is missing: the demo scores with the trained brick model" >&2
  exit 1
fi
mkdir -p "$out"

echo
echo "== The model: $model"
info=$("$score" --info "$model")
echo "$info"

# What the card says, read from the lines --info prints: the tile size, the
# threshold ("none" when the model is not calibrated) and the number of
# steps the calibration took.
read -r tile_h tile_w < <(echo "$info" |
  sed -n 's/^input: \[[0-9]*,\([0-9]*\),\([0-9]*\)\].*/\1 \2/p')
threshold=$(echo "$info" | sed -n 's/^threshold: //p')
calibrated_with=$(echo "$info" |
  sed -n 's/^  calibration: .*"iterations":\([0-9]*\).*/\1/p')
# The search starts as the calibration's did: from the best of as many
# candidates (0, the origin, for a card that does not say).
candidates=$(echo "$info" |
  sed -n 's/^  calibration: .*"candidates":\([0-9]*\).*/\1/p')
candidates=${candidates:-0}

# The ground truth, from the one-object-a-line layout of demo-line.json:
# the clip's frame rate, each defect's kind, and per frame the defects that
# show in it with their boxes [x, y, width, height], as "kind,x,y,w,h".
fps=$(sed -n 's/^ *"fps": *\([0-9]*\).*/\1/p' "$truth")
declare -A defects=()
while read -r frame kind x y w h; do
  defects[$frame]="${defects[$frame]:+${defects[$frame]} }$kind,$x,$y,$w,$h"
done < <(awk '
  /"id": *[0-9]+, *"kind":/ {
    id = $0; sub(/^[^0-9]*/, "", id); sub(/[^0-9].*$/, "", id)
    kind = $0; sub(/^.*"kind": *"/, "", kind); sub(/".*$/, "", kind)
    kinds[id] = kind
  }
  /"frame": *[0-9]+, *"defect":/ {
    line = $0; gsub(/[^0-9]+/, " ", line); split(line, n, " ")
    print n[1], kinds[n[2]], n[3], n[4], n[5], n[6]
  }' "$truth")

frames=$(sed -n 's/^ *"frames": *\([0-9]*\).*/\1/p' "$truth")
width=$(sed -n 's/^ *"width": *\([0-9]*\).*/\1/p' "$truth")
height=$(sed -n 's/^ *"height": *\([0-9]*\).*/\1/p' "$truth")
sampled=$(( (frames + interval - 1) / interval ))
echo
echo "== Scoring every ${interval}th frame of $clip: $sampled frames of ${width}x$height,"
echo "   $stride-pixel steps between ${tile_w}x${tile_h} tiles, $iterations Adam steps per tile"
echo "   from the best of $candidates candidate starts"
if [ -n "$calibrated_with" ] && [ "$calibrated_with" != "$iterations" ]; then
  echo "   (the threshold was calibrated with $calibrated_with steps per tile;" \
    "more steps bring a score down)"
fi
if [ "$threshold" = "none" ]; then
  echo "   (the model has no threshold: no verdicts)"
fi
echo
printf '%5s %8s %10s  %-9s  %-19s  %s\n' frame time score verdict "worst tile" \
  "defects in the frame ($truth)"

re='@([0-9]+)\.([0-9]{3})s: score ([^ ]+) .* at tile \(([0-9]+), ([0-9]+)\) of [0-9]+(, (ANOMALOUS|normal))?'
scored=0 flagged=0 with_defect=0 caught=0 false_alarms=0 on_defect=0
start=$(date +%s)
while IFS= read -r line; do
  if ! [[ $line =~ $re ]]; then
    echo "$line"
    continue
  fi
  time="${BASH_REMATCH[1]}.${BASH_REMATCH[2]}s"
  ms=$((10#${BASH_REMATCH[1]} * 1000 + 10#${BASH_REMATCH[2]}))
  frame=$(( (ms * fps + 500) / 1000 ))
  value=${BASH_REMATCH[3]}
  tx=${BASH_REMATCH[4]} ty=${BASH_REMATCH[5]}
  verdict=${BASH_REMATCH[7]:--}
  scored=$((scored + 1))

  # The frame's defects, each marked when the worst tile overlaps its box.
  truth_text="" hit=false
  for defect in ${defects[$frame]:-}; do
    IFS=, read -r kind bx by bw bh <<<"$defect"
    truth_text="${truth_text:+$truth_text, }$kind [$bx,$by,$bw,$bh]"
    if [ "$tx" -lt $((bx + bw)) ] && [ "$bx" -lt $((tx + tile_w)) ] &&
      [ "$ty" -lt $((by + bh)) ] && [ "$by" -lt $((ty + tile_h)) ]; then
      truth_text="$truth_text <- worst tile"
      hit=true
    fi
  done

  if [ -n "$truth_text" ]; then
    with_defect=$((with_defect + 1))
    ! $hit || on_defect=$((on_defect + 1))
    [ "$verdict" != ANOMALOUS ] || caught=$((caught + 1))
  else
    [ "$verdict" != ANOMALOUS ] || false_alarms=$((false_alarms + 1))
    truth_text="-"
  fi
  [ "$verdict" != ANOMALOUS ] || flagged=$((flagged + 1))

  printf '%5d %8s %10s  %-9s  %-19s  %s\n' "$frame" "$time" "$value" \
    "$verdict" "x $tx-$((tx + tile_w - 1)) y $ty-$((ty + tile_h - 1))" \
    "$truth_text"
done < <("$score" --model "$model" --iterations "$iterations" \
  --candidates "$candidates" --stride "$stride" --frame-interval "$interval" --residual-out "$out" \
  "$clip")
seconds=$(( $(date +%s) - start ))

echo
echo "Boxes are [x, y, width, height] in frame pixels; a tile is named by the"
echo "pixels it covers.  $scored frames scored in $seconds s."
if [ "$threshold" != "none" ]; then
  echo "Threshold $threshold: $flagged frames flagged ANOMALOUS:" \
    "$caught of the $with_defect frames with a defect," \
    "$false_alarms of the $((scored - with_defect)) without."
fi
echo "In $on_defect of the $with_defect frames with a defect the worst tile lies on it."

echo
echo "== Residual maps |x - G(z*)| of the frames, in $out/ (white = the frame's largest)"
ls -v "$out" | grep '^brick-belt-.*-residual\.png$' | tr '\n' ' ' || true
echo

echo
echo "== Speed of the latent search (dcgan32, 2 threads, 3 seconds)"
"$build/src/tools/anogan-bench" --arch dcgan32 --threads 2 --batch 8 --seconds 3
