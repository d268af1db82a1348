#!/bin/sh
# Tests of scripts/bench-modes.sh, in TAP: that it runs, on two frames of
# the 640x480 clip with two search steps a tile (a few seconds; the real
# benchmark takes minutes and is not a test), and that its table adds up:
# every tile of both frames analysed, the steps it was given, the
# element's analysis time within the run's wall time, the file it writes
# the same as what it prints.  Timings are not checked.  meson passes the
# build directory as $1.
set -u

build=$1
root=${ANOGAN_SOURCE_ROOT:?}
tool=$root/scripts/bench-modes.sh
. "$(dirname "$0")/tap.sh"

# one_line_naming WORD: stderr is one line with WORD in it.
one_line_naming () {
  [ "$(lines "$tmp/err")" -eq 1 ] && grep -q "$1" "$tmp/err"
}

run 1 "$tmp/no-build"
check "no build: exit 1 with one line naming the build" \
  one_line_naming no-build

export RUNS=optimise OPTIMISE_FRAMES=2 OPTIMISE_ITERATIONS=2 \
  BENCH_SECONDS=0.1 BENCH_TABLE="$tmp/table.md"
run 0 "$build"
check "optimise, 2 frames of 2 steps: exit 0" [ $? -eq 0 ]
check "the table written is the one printed" cmp -s "$tmp/out" "$tmp/table.md"

# The optimise row, cells trimmed: run, input, frames, wall s, fps,
# ms/frame, tiles/frame, analysed / reused, steps/tile, ms/tile, ...
row=$(grep '^| optimise | clip |' "$tmp/out" |
  awk -F'|' '{ for (i = 2; i < NF; i++) { gsub(/^ +| +$/, "", $i);
    printf "%s%s", $i, (i < NF - 1 ? "|" : "\n") } }')
cell () { echo "$row" | cut -d'|' -f"$1"; }
check "one optimise row" [ "$(grep -c '^| optimise |' "$tmp/out")" -eq 1 ]
check "2 frames of 300 tiles, all 600 analysed and none reused, 2 steps each" \
  [ "$(cell 3),$(cell 7),$(cell 8),$(cell 9)" = "2,300,600 / 0,2.0" ]
# The analysis of both frames fits in the run's wall time, and fps is
# frames / wall, to the table's rounding (wall to 0.05 s either way).
check "analysis time within the wall time, fps = frames / wall" \
  awk -v wall="$(cell 4)" -v fps="$(cell 5)" -v ms="$(cell 6)" 'BEGIN {
    d = fps * wall - 2
    exit !(wall > 0 && 2 * ms / 1000 <= wall + 0.05 &&
      d * d <= (0.1 / wall + 0.01) ^ 2) }'
check "GFLOPS and their share of the sgemm peak are reported" \
  sh -c 'echo "$1" | grep -Eq "\|[0-9.]+\|[0-9]+ %\|[0-9]+ % \(load"' - "$row"
check "the floors are checked against the fastest run" \
  grep -q '^Fastest on the moving clip: optimise, ' "$tmp/out"

tap_end
