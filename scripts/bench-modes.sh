#!/usr/bin/env bash
# bench-modes.sh: how fast anoganfilter analyses every tile of every frame,
# in each of its search modes, on the 640x480 demo clip.
#
# The clip (media/brick-belt-640x480.webm: 20x15 = 300 tiles of 32x32 a
# frame with the default brick model) is decoded once to raw GRAY8, so
# that decoding does not count, through RGB: videoconvert would copy the
# limited-range luma of the VP8 video into GRAY8 as it is, which the
# element reads as full-range grey, a picture of lower contrast than the
# clip's.  Each run is then
#
#   gst-launch-1.0 -m filesrc ! rawvideoparse format=gray8 !
#     anoganfilter schedule=every-frame mode=M ... ! fakesink sync=false
#
# under /usr/bin/time, in a registry of its own (so that no rescan of the
# shared one lands in a timed run).  The runs, as far as the element offers
# them (gst-inspect-1.0) and the model can run them (an encoder for the
# encoder modes, from anogan-score --info):
#
#   optimise         the card's search (the default model: 200 Adam steps
#                    from the best of 256 candidate starts), on
#                    OPTIMISE_FRAMES frames: about 20 s a frame
#   hybrid, encoder  the card's settings for the mode
#   encoder+skip, hybrid+skip
#                    skip-unchanged=SKIP_UNCHANGED, on the clip and on a
#                    "paused" belt, the clip's first frame repeated: the
#                    belt moves 4 rows a frame, so on the clip no tile is
#                    ever unchanged and skipping can only cost; the paused
#                    belt is the case it is for
#
# The runs without "+skip" set skip-unchanged=-1 (off) where the element
# has the property.
#
# Per run: frames; wall seconds of the whole gst-launch-1.0 (start-up and
# model loading included) and fps = frames / wall; the element's own
# analysis time a frame (the "anogan" messages' processing-time) and a
# tile (over the tiles analysed); tiles analysed and reused (the
# messages' tiles-analysed, when the element reports it); Adam steps a
# tile analysed (the messages' iterations, else the configured count);
# CPU use, (user + sys) / wall in cores; peak RSS (maxrss); GEMM GFLOPS of
# the analysis and their share of OpenBLAS's sgemm peak, measured once by
# anogan-bench in the same session; and the CPU share other processes
# took while the run ran (from /proc/stat), since the machine may be
# shared.
#
# GEMM FLOPs of a tile analysed (as docs/performance.md counts them:
# multiply-adds x 2 of the convolution and Linear layers, backward to the
# input counted as its forward), from the model's layers (anogan-score
# --info): f(x) = D[:K+1](x) once; optimise adds, per step, G and D[:K+1]
# forward and backward, and the final G and D[:K+1] forward; the encoder
# modes add E forward and G and D[:K+1] forward at E(x), and hybrid the
# steps.  Choosing among candidate starts is no GEMM and is not counted.
#
#   scripts/bench-modes.sh [BUILD_DIR]
#
# BUILD_DIR defaults to build-release; build it first (release:
# meson setup BUILD_DIR --buildtype=release && ninja -C BUILD_DIR).
# Prints a Markdown table, with the machine, its load and the floors
# checked, and writes it to BENCH_TABLE when that is set.
#
# Environment (defaults in brackets): CLIP [media/brick-belt-640x480.webm],
# FRAMES per run [150, the clip's length], OPTIMISE_FRAMES [3],
# OPTIMISE_ITERATIONS [0 = the card's], RUNS [every run above:
# "optimise hybrid encoder encoder+skip hybrid+skip"], SKIP_UNCHANGED
# [0: identical tiles only], MODEL [empty = the embedded default; the
# file for anogan-score --info then is models/brick/brick.safetensors],
# PROPS [extra anoganfilter properties for every run, e.g. "threads=1"],
# BENCH_SECONDS [2: anogan-bench's --seconds and --peak-seconds],
# BENCH_TABLE [unset], BENCH_LOGS [a directory to keep each run's
# messages and errors in; unset: removed].
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build-release}
clip=${CLIP:-$top/media/brick-belt-640x480.webm}
frames=${FRAMES:-150}
optimise_frames=${OPTIMISE_FRAMES:-3}
optimise_iterations=${OPTIMISE_ITERATIONS:-0}
runs=${RUNS:-optimise hybrid encoder encoder+skip hybrid+skip}
skip=${SKIP_UNCHANGED:-0}
model=${MODEL:-}
props=${PROPS:-}
table=${BENCH_TABLE:-}
logs=${BENCH_LOGS:-}
bench_seconds=${BENCH_SECONDS:-2}
score_tool=$build/src/tools/anogan-score
bench_tool=$build/src/tools/anogan-bench
plugin=$build/gst/libgstanogan.so

die () { echo "bench-modes.sh: $*" >&2; exit 1; }

for f in "$score_tool" "$bench_tool" "$plugin"; do
  [ -e "$f" ] || die "$f is missing: build first (meson setup $build --buildtype=release && ninja -C $build)"
done
[ -f "$clip" ] || die "$clip: no such file"
for n in "$frames" "$optimise_frames" "$optimise_iterations"; do
  case $n in ''|*[!0-9]*) die "FRAMES, OPTIMISE_FRAMES and OPTIMISE_ITERATIONS must be numbers, not '$n'" ;; esac
done
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (Debian: time)"

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-modes.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ -n "$logs" ]; then
  mkdir -p "$logs"
else
  logs=$work
fi

export GST_PLUGIN_PATH_1_0=$build/gst
export GST_REGISTRY_1_0=$work/registry.bin

# ---- what the element offers and the model can run ----------------------

inspect=$work/inspect.txt
gst-inspect-1.0 anoganfilter >"$inspect" 2>&1 ||
  die "GStreamer finds no anoganfilter in $build/gst: $(tail -1 "$inspect")"
# has_property NAME: whether anoganfilter has the property.
has_property () { grep -Eq "^  $1 +:" "$inspect"; }
# The mode property's values, as gst-inspect-1.0 lists an enum.
modes=
if has_property mode; then
  modes=$(awk '/^  mode +:/ { on = 1; next }
    on && /^  [a-z]/ { exit }
    on && /\([0-9]+\): / { print $2 }' "$inspect" | tr '\n' ' ')
  modes=${modes% }
fi
has_skip=false
has_property skip-unchanged && has_skip=true

info_model=${model:-$top/models/brick/brick.safetensors}
info=$work/info.txt
"$score_tool" --info "$info_model" >"$info" ||
  die "anogan-score --info $info_model failed"
has_encoder=true
grep -q '^encoder (E): none' "$info" && has_encoder=false

# gemm_flops SECTION: GEMM FLOPs of one sample's forward pass through the
# layers anogan-score --info lists under the section whose title starts
# with SECTION, up to the feature layer (marked "<- f(x)") when there is
# one; 0 when the section is absent.
gemm_flops () {
  awk -v section="$1" '
    function count(n, unit) {
      return n * (unit == "G" ? 1e9 : unit == "M" ? 1e6 : unit == "k" ? 1e3 : 1)
    }
    index($0, section) == 1 { on = 1; next }
    on && /^[^ ]/ { exit }
    on && $2 ~ /^(Conv2d|ConvTranspose2d|Linear)$/ {
      # "#  layer  output  params  FLOPs": the FLOPs are "8.96 M" or "512".
      total += ($6 ~ /^[kMG]$/) ? count($5, $6) : $5
    }
    on && /<- f\(x\)/ { exit }
    END { printf "%.0f\n", total }' "$info"
}
g_flops=$(gemm_flops "generator (G)")
d_flops=$(gemm_flops "discriminator (D)")
e_flops=$(gemm_flops "encoder (E)")
# The card's steps for the optimising search, for when the element does
# not report each tile's.
card_iterations=$(grep '^  calibration:' "$info" |
  grep -o '"iterations":[0-9]*' | head -1 | cut -d: -f2)

# ---- the input, decoded once ---------------------------------------------

discover=$work/discover.txt
gst-discoverer-1.0 "$clip" >"$discover" 2>&1 || die "$clip: $(tail -1 "$discover")"
width=$(awk '$1 == "Width:" { print $2; exit }' "$discover")
height=$(awk '$1 == "Height:" { print $2; exit }' "$discover")
if [ -z "$width" ] || [ -z "$height" ]; then die "$clip: no video stream"; fi
frame_bytes=$((width * height))
raw=$work/clip.gray
needed=$((frames > optimise_frames ? frames : optimise_frames))
gst-launch-1.0 -q filesrc location="$clip" ! decodebin ! videoconvert ! \
  video/x-raw,format=RGB ! videoconvert ! video/x-raw,format=GRAY8 ! \
  identity eos-after="$needed" ! filesink location="$raw" \
  >"$work/decode.err" 2>&1 ||
  die "$clip: decoding failed: $(tail -1 "$work/decode.err")"
clip_frames=$(($(stat -c %s "$raw") / frame_bytes))
[ "$clip_frames" -gt 0 ] || die "$clip: no frames decoded"
still=$work/still.gray

# ---- the sgemm peak and the engine's rate with this model -----------------

bench_json=$("$bench_tool" --arch "$info_model" --seconds "$bench_seconds" \
  --peak-seconds "$bench_seconds" --json) ||
  die "anogan-bench failed"
json_number () {
  printf '%s\n' "$bench_json" | grep -o "\"$1\" *: *[0-9.e+-]*" | head -1 |
    sed 's/.*: *//'
}
peak=$(json_number sgemm_peak_gflops)
peak=${peak%.*}
engine_rate=$(json_number patch_iterations_per_second)
engine_gflops=$(json_number gflops)

# ---- the runs ------------------------------------------------------------

# busy_jiffies: CPU time all processes have spent, from /proc/stat.
busy_jiffies () {
  awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}
hz=$(getconf CLK_TCK)
cores=$(nproc)

rows=$work/rows.txt
: >"$rows"
notes=$work/notes.txt
: >"$notes"
warnings=$work/warnings.txt
: >"$warnings"

# run NAME INPUT COUNT PROPERTY...: one timed run; appends its row.
run () {
  local name=$1 input=$2 count=$3 file log err timing busy0 busy1 load0
  shift 3
  case $input in
    clip) file=$raw; [ "$count" -le "$clip_frames" ] || count=$clip_frames ;;
    paused)
      # The paused belt: the first frame, repeated.
      file=$still
      if [ ! -f "$still" ]; then
        head -c "$frame_bytes" "$raw" >"$work/frame0.gray"
        for ((i = 0; i < count; i++)); do cat "$work/frame0.gray"; done >"$still"
      fi ;;
  esac
  log=$logs/$name-$input.log
  err=$logs/$name-$input.err
  timing=$work/time.txt
  echo "bench-modes.sh: $name on the $input input, $count frames: $*" >&2
  load0=$(cut -d' ' -f1 /proc/loadavg)
  busy0=$(busy_jiffies)
  /usr/bin/time -f '%e %U %S %M' -o "$timing" \
    gst-launch-1.0 -m filesrc location="$file" blocksize="$frame_bytes" \
      num-buffers="$count" ! rawvideoparse width="$width" height="$height" \
      format=gray8 framerate=15/1 ! \
      anoganfilter schedule=every-frame "$@" ! fakesink sync=false \
      >"$log" 2>"$err" || {
    cat "$err" >&2
    die "$name: gst-launch-1.0 failed"
  }
  busy1=$(busy_jiffies)
  # The element's warnings (a mode without a threshold, a fallback), once.
  sed -n 's/^WARNING: from element [^ ]*: /- '"$name on the $input input"': /p' \
    "$log" | sort -u >>"$warnings"
  # One row: the figures from the messages, the timing and /proc/stat.
  awk -v name="$name" -v input="$input" -v hz="$hz" -v cores="$cores" \
      -v busy="$((busy1 - busy0))" -v load0="$load0" \
      -v load1="$(cut -d' ' -f1 /proc/loadavg)" -v timing="$(cat "$timing")" \
      -v steps_set="$run_steps" -v want="$run_mode" \
      -v g="$g_flops" -v d="$d_flops" -v e="$e_flops" -v peak="$peak" '
    # field(NAME): the value of NAME=(type)value in the message line.
    function field(key,   rest) {
      if (!match($0, "[ ,]" key "=\\([a-z0-9]+\\)")) return ""
      rest = substr($0, RSTART + RLENGTH)
      sub(/[,;].*/, "", rest)
      return rest
    }
    # sum_array(NAME): the sum of the array NAME=(type)< a, b, ... >.
    function sum_array(key,   rest, n, parts, i, total) {
      if (!match($0, "[ ,]" key "=\\([a-z0-9]+\\)< ")) return ""
      rest = substr($0, RSTART + RLENGTH)
      sub(/ >.*/, "", rest)
      n = split(rest, parts, ", ")
      for (i = 1; i <= n; i++) total += parts[i]
      return total
    }
    /: anogan, / {
      frames++
      proc += field("processing-time")
      t = field("columns") * field("rows")
      tiles += t
      a = field("tiles-analysed")
      analysed += (a == "" ? t : a)
      s = sum_array("iterations")
      if (s == "") no_steps = 1; else steps += s
      m = field("mode")
      if (m != "") mode = m
    }
    END {
      split(timing, tm, " ")
      wall = tm[1]; cpu = tm[2] + tm[3]; rss = tm[4]
      if (frames == 0 || wall <= 0) {
        printf "%s|%s|0|%.1f|-|-|-|-|-|-|%.2f|%.0f|-|-|-\n", name, input,
          wall, cpu / wall, rss / 1024
        exit
      }
      if (no_steps) steps = (steps_set == "" ? "" : steps_set * analysed)
      if (mode == "") mode = want
      # GEMM FLOPs: f(x), then the start (E(x) and the loss there, or the
      # final loss after the steps), then the steps.
      flop = analysed * d
      flop += analysed * (g + d) + (mode == "optimise" ? 0 : analysed * e)
      if (steps != "") flop += steps * 2 * (g + d)
      others = (busy / hz - cpu) / (wall * cores) * 100
      if (others < 0) others = 0
      per_step = "-"; per_tile = "-"; gflops = "-"; share = "-"
      if (steps != "" && analysed) per_step = sprintf("%.1f", steps / analysed)
      if (analysed) per_tile = sprintf("%.2f", proc / analysed / 1e6)
      if (steps != "" && proc) gflops = sprintf("%.1f", flop / proc)
      if (gflops != "-" && peak != "")
        share = sprintf("%.0f %%", 100 * flop / proc / peak)
      printf "%s|%s|%d|%.1f|%.2f|%.1f|%d|%d / %d|%s|%s|%.2f|%.0f|%s|%s|%.0f %% (load %s-%s)%s\n",
        name, input, frames, wall, frames / wall, proc / frames / 1e6,
        tiles / frames, analysed, tiles - analysed, per_step, per_tile,
        cpu / wall, rss / 1024, gflops, share, others, load0, load1,
        mode != want ? " (ran " mode ")" : ""
    }' "$log" >>"$rows"
}

# What each run sets: mode (when the element has the property), skip
# (likewise) and the steps to assume when the messages do not say.
offers () { case " $modes " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
for r in $runs; do
  base=${r%+skip}
  set --
  run_mode=$base
  run_steps=
  if [ -n "$modes" ]; then
    offers "$base" || { echo "- $r: the element has no mode $base" >>"$notes"; continue; }
    set -- "mode=$base"
  elif [ "$base" != optimise ]; then
    echo "- $r: the element has no mode property yet (optimise only)" >>"$notes"
    continue
  fi
  if [ "$base" != optimise ] && ! $has_encoder; then
    echo "- $r: the model has no encoder (anogan-score --info), so the element would search in mode optimise" >>"$notes"
    continue
  fi
  if [ "$r" != "$base" ]; then
    $has_skip || { echo "- $r: the element has no skip-unchanged property yet" >>"$notes"; continue; }
    set -- "$@" "skip-unchanged=$skip"
  elif $has_skip; then
    set -- "$@" skip-unchanged=-1
  fi
  count=$frames
  if [ "$base" = optimise ]; then
    count=$optimise_frames
    if [ "$optimise_iterations" -gt 0 ]; then
      set -- "$@" "iterations=$optimise_iterations"
      run_steps=$optimise_iterations
    else
      run_steps=$card_iterations
    fi
  fi
  [ -n "$model" ] && set -- "$@" "model=$model"
  # shellcheck disable=SC2086  # PROPS is a list of properties
  set -- "$@" $props
  run "$r" clip "$count" "$@"
  if [ "$r" != "$base" ]; then
    run "$r" paused "$count" "$@"
  fi
done

# ---- the report ----------------------------------------------------------

report=$work/report.md
{
  echo "anoganfilter on $(basename "$clip") (${width}x${height} GRAY8, decoded" \
    "beforehand), schedule=every-frame, ${model:-the default model}," \
    "$(date -u +%Y-%m-%d), $(lscpu | sed -n 's/^Model name: *//p' | head -1)," \
    "$cores cores; sgemm peak ${peak:-?} GFLOPS (anogan-bench, $cores threads);" \
    "the search alone on this model: ${engine_rate%.*} patch-iterations/s," \
    "${engine_gflops%.*} GFLOPS. Mode values offered: ${modes:-none (no mode property)}."
  echo
  echo "| run | input | frames | wall s | fps | analysis ms / frame | tiles / frame | tiles analysed / reused | steps / tile | ms / tile | CPU (cores) | peak RSS MiB | GEMM GFLOPS | of sgemm peak | others' CPU (load avg) |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  sed 's/|/ | /g; s/^/| /; s/$/ |/' "$rows"
  echo
  # The floors: the fastest run on the moving clip, and hybrid.
  awk -F'|' '$2 == "clip" && $5 != "-" && $5 > best { best = $5; name = $1 }
    $1 == "hybrid" && $2 == "clip" { hybrid = $5 }
    $2 == "paused" && $5 > paused { paused = $5; pname = $1 }
    END {
      if (name != "")
        printf "Fastest on the moving clip: %s, %.2f fps (floor 10, aim 25 with unchanged tiles skipped): %s.\n",
          name, best, (best >= 10 ? "met" : "not met")
      if (pname != "")
        printf "Fastest on the paused belt: %s, %.2f fps.\n", pname, paused
      if (hybrid != "")
        printf "Hybrid on the moving clip: %.2f fps (floor 3): %s.\n",
          hybrid, (hybrid >= 3 ? "met" : "not met")
    }' "$rows"
  if [ -s "$warnings" ]; then
    echo
    echo "Warnings:"
    echo
    cat "$warnings"
  fi
  if [ -s "$notes" ]; then
    echo
    echo "Not run:"
    echo
    cat "$notes"
  fi
} >"$report"

cat "$report"
[ -z "$table" ] || cp "$report" "$table"
