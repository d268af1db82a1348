#!/bin/sh
# Tests of the examples (examples/), in TAP: the C and Python monitors read
# the same results from anoganfilter, the scripts record playable files
# and report, and bad input gets a one-line error.  meson passes the C
# monitor's path as $1 and anogan-score's as $2 (for the model's threshold,
# read independently of the element); the plugin is found through
# GST_PLUGIN_PATH_1_0.
#
# In a sanitizer build, python3 and the GStreamer tools are not
# instrumented but load the instrumented plugin: meson passes the
# sanitizers' runtimes in ANOGAN_SANITIZER_PRELOAD, preloaded for them with
# leak checking off (they do not free everything at exit, by design; leaks
# are checked in the C monitor, instrumented itself).  When the compiler
# has no runtime to preload, meson says why in ANOGAN_SANITIZER_NO_PRELOAD
# and those parts are skipped, in that build only.
set -u

tool=$1
score_tool=$2
root=${ANOGAN_SOURCE_ROOT:?}
: "${ANOGAN_BUILD:?}"           # where the scripts find the plugin
monitor=$1
clip=$root/media/brick-belt.webm
. "$(dirname "$0")/tap.sh"

# uninstrumented COMMAND...: runs a program that is not built here with the
# sanitizers' runtimes preloaded when the plugin needs them.
uninstrumented () {
  if [ -n "${ANOGAN_SANITIZER_PRELOAD:-}" ]; then
    LD_PRELOAD="$ANOGAN_SANITIZER_PRELOAD" \
      ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$@"
  else
    "$@"
  fi
}
python_monitor () {
  uninstrumented /usr/bin/python3 "$root/examples/anogan-monitor.py" "$@"
}
example_script () { "$root/examples/$script" "$@"; }

# The GStreamer tools, here and in the scripts, through wrappers first on
# PATH that preload the runtimes for them alone (not for the shell, awk and
# the rest): a tool that failed to load the plugin would also mark it as
# broken in the registry.
if [ -n "${ANOGAN_SANITIZER_PRELOAD:-}" ]; then
  mkdir "$tmp/bin"
  for program in gst-launch-1.0 gst-inspect-1.0 gst-discoverer-1.0; do
    printf '#!/bin/sh\nLD_PRELOAD="%s" ASAN_OPTIONS="%s" exec "%s" "$@"\n' \
      "$ANOGAN_SANITIZER_PRELOAD" \
      "${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
      "$(command -v "$program")" >"$tmp/bin/$program"
    chmod +x "$tmp/bin/$program"
  done
  PATH=$tmp/bin:$PATH
fi

# one_line_error FILE: exactly one line.
one_line_error () { [ "$(lines "$1")" -eq 1 ] || { diag "$1"; return 1; }; }

# The registry, built once without leak checking: scanning every plugin in
# the process makes GLib outgrow its first table of quarks, which it keeps
# on purpose (readers may still hold it) and LeakSanitizer reports.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
  "$monitor" fakesrc num-buffers=1 ! fakesink >/dev/null 2>&1

# ---- anogan-monitor (C) ---------------------------------------------------

bad_args "unknown option" --bogus
bad_args "a pipeline that does not parse" 'videotestsrc ! ! fakesink'
bad_args "a pipeline without anoganfilter" fakesrc ! fakesink

run 1 videotestsrc num-buffers=1 ! anoganfilter model="$tmp/none.safetensors" ! fakesink &&
  grep -q 'none.safetensors' "$tmp/err" && one_line_error "$tmp/err"
check "a missing model: exit 1, one line naming the file" [ $? -eq 0 ]

# Every 40th frame of the clip (frames 0, 40, 80, 120 and 160), 3 search
# steps a tile: the scores are not the calibrated ones, but they are
# deterministic, which is what the comparisons below need.
pipeline="filesrc location=$clip ! decodebin ! videoconvert !
  anoganfilter schedule=every-frame iterations=3 interval=40 overlay=none !
  fakesink sync=false"
# shellcheck disable=SC2086
run 0 --all $pipeline
cp "$tmp/out" "$tmp/c.out"
diag "$tmp/c.out"

grep -q '^summary: 195 buffers carried AnoganMeta, 5 frames analysed, 5 anogan messages, [0-5] anomalous frames$' "$tmp/c.out"
check "C: every frame carried the meta; 5 analyses, 5 messages" [ $? -eq 0 ]

# The frames' times as the clip stamps them (whole milliseconds), computed
# here from the frame numbers.
awk 'BEGIN { for (f = 0; f < 195; f += 40) {
    ms = int(f * 1000 / 15 + 0.5)
    printf "0:00:%02d.%03d000000\n", ms / 1000, ms % 1000 } }' >"$tmp/times"
grep '^meta ' "$tmp/c.out" | cut -d' ' -f2 | diff "$tmp/times" - >/dev/null
check "C: the metas of frames 0, 40, 80, 120 and 160, in order" [ $? -eq 0 ]
grep '^message ' "$tmp/c.out" | cut -d' ' -f2 | sort | diff "$tmp/times" - >/dev/null
check "C: one message for each of those frames" [ $? -eq 0 ]

# The same score on the buffer as on the bus, for each frame.
awk '$1 == "meta" { meta[$2] = $4 } $1 == "message" { msg[$2] = $4 }
  END { for (t in meta) { if (!(t in msg) || msg[t] != meta[t] || meta[t] + 0 <= 0) exit 1; n++ }
    exit n != 5 }' "$tmp/c.out"
check "C: meta and message agree on each frame's score, a positive number" [ $? -eq 0 ]

# The element runs the shipped model in encoder mode (mode=auto), at that
# mode's threshold.
threshold=$("$score_tool" --info "$root/models/brick/brick.safetensors" |
  sed -n 's/^threshold of --mode encoder: //p')
awk -v want="$threshold" '$1 == "meta" && $6 != sprintf("%.2f", want) { bad = 1 }
  $1 == "meta" { n++ } END { exit bad || n != 5 }' "$tmp/c.out"
check "C: the threshold is the model card's for the encoder mode ($threshold)" [ $? -eq 0 ]

# The worst tile is one of the grid's: 320x240 in 32x32 tiles is 10
# columns at x = 0, 32, ... 288 and 8 rows at y = 0, 32, ... 192 and 208
# (the last row flush with the bottom).
awk '$1 == "meta" { split($9, cr, ","); split($11, xy, ",")
    if (xy[1] != cr[1] * 32 || xy[2] != (cr[2] < 7 ? cr[2] * 32 : 208) ||
        cr[1] > 9 || cr[2] > 7 || $12 != "32x32") bad = 1 }
  END { exit bad }' "$tmp/c.out"
check "C: worst tiles at the grid's positions" [ $? -eq 0 ]

# threshold=0: every tile of every frame is over it, so every frame is
# anomalous with a region of interest per tile (96x64: 3 x 2 tiles); and
# without --all nothing but anomalous frames is logged.
run 0 videotestsrc num-buffers=3 pattern=snow ! video/x-raw,width=96,height=64 ! \
  anoganfilter iterations=2 threshold=0 schedule=every-frame ! fakesink sync=false &&
  [ "$(grep -c '^meta .* anomalous tile .* regions 6$' "$tmp/out")" -eq 3 ] &&
  grep -q '^summary: 3 buffers carried AnoganMeta, 3 frames analysed, 3 anogan messages, 3 anomalous frames$' "$tmp/out"
check "C: threshold=0 flags every frame, one region of interest per tile" [ $? -eq 0 ]

run 0 videotestsrc num-buffers=3 pattern=snow ! video/x-raw,width=96,height=64 ! \
  anoganfilter iterations=2 threshold=1e30 schedule=every-frame ! fakesink sync=false &&
  ! grep -q '^meta\|^message' "$tmp/out" &&
  grep -q '3 frames analysed, 3 anogan messages, 0 anomalous frames$' "$tmp/out"
check "C: a threshold above every score flags nothing and logs no frame" [ $? -eq 0 ]

# ---- anogan-monitor.py ----------------------------------------------------

if [ -n "${ANOGAN_SANITIZER_NO_PRELOAD:-}" ]; then
  skip "Python example, sanitizer build only: $ANOGAN_SANITIZER_NO_PRELOAD"
elif ! uninstrumented /usr/bin/python3 -c 'import gi; gi.require_version("Gst", "1.0"); gi.require_version("GstVideo", "1.0"); from gi.repository import Gst, GstVideo' 2>"$tmp/err"; then
  diag "$tmp/err"
  not_ok "Python example: /usr/bin/python3 cannot import Gst and GstVideo (bash scripts/install-deps.sh installs python3-gst-1.0)"
else
  tool=python_monitor
  # shellcheck disable=SC2086
  run 0 --all $pipeline
  cp "$tmp/out" "$tmp/py.out"
  for kind in meta message summary: worst:; do
    if [ "$kind" = message ]; then order="sort"; else order="cat"; fi
    grep "^$kind " "$tmp/c.out" | $order >"$tmp/c.$kind"
    grep "^$kind " "$tmp/py.out" | $order >"$tmp/py.$kind"
    if [ -s "$tmp/c.$kind" ] && diff "$tmp/c.$kind" "$tmp/py.$kind" >"$tmp/diff"; then
      ok "Python: the same $kind lines as C"
    else
      diag "$tmp/diff"
      not_ok "Python: the same $kind lines as C"
    fi
  done
  grep -q '^time: [0-9.]* s analysing, [0-9]* ms a frame$' "$tmp/py.out"
  check "Python: the analysis time, from the meta's processing-time" [ $? -eq 0 ]

  run 0 videotestsrc num-buffers=3 pattern=snow ! video/x-raw,width=96,height=64 ! \
    anoganfilter iterations=2 threshold=0 schedule=every-frame ! fakesink sync=false &&
    [ "$(grep -c '^meta .* anomalous tile .* regions 6$' "$tmp/out")" -eq 3 ]
  check "Python: one region of interest per tile with threshold=0" [ $? -eq 0 ]

  bad_args "Python: a pipeline that does not parse" 'videotestsrc ! ! fakesink'
  bad_args "Python: a pipeline without anoganfilter" fakesrc ! fakesink
  run 1 videotestsrc num-buffers=1 ! anoganfilter model="$tmp/none.safetensors" ! fakesink &&
    grep -q 'none.safetensors' "$tmp/err" && one_line_error "$tmp/err"
  check "Python: a missing model: exit 1, one line naming the file" [ $? -eq 0 ]
  tool=$monitor
fi

# ---- the scripts ----------------------------------------------------------

if [ -n "${ANOGAN_SANITIZER_NO_PRELOAD:-}" ]; then
  skip "the scripts, sanitizer build only: $ANOGAN_SANITIZER_NO_PRELOAD"
  tap_end
fi

# A short grey input: 10 frames of noise, 96x64, neutral chroma.
gst-launch-1.0 -q videotestsrc num-buffers=10 pattern=snow ! \
  video/x-raw,format=GRAY8,width=96,height=64,framerate=15/1 ! videoconvert ! \
  vp8enc ! webmmux ! filesink location="$tmp/input.webm"

# decode FILE: its frames as 96x64 I420 in $tmp/decoded.yuv, 9216 bytes a
# frame; prints how many frames.
decode () {
  rm -f "$tmp/decoded.yuv"
  gst-launch-1.0 -q filesrc location="$1" ! decodebin ! \
    videoconvert ! video/x-raw,format=I420 ! \
    filesink location="$tmp/decoded.yuv" >/dev/null 2>&1
  echo $(( $(wc -c <"$tmp/decoded.yuv") / 9216 ))
}

# chroma_spread: how far the decoded frames' chroma strays from grey (128),
# at most, over every pixel.
chroma_spread () {
  od -An -v -tu1 -w16 "$tmp/decoded.yuv" | awk -v frame=9216 '
    { for (i = 1; i <= NF; i++) { k = pos++ % frame
        if (k >= 6144) { d = $i - 128; if (d < 0) d = -d; if (d > m) m = d } } }
    END { print m + 0 }'
}

script=record.sh
tool=example_script
for format in webm mkv ogv; do
  out=$tmp/recorded.$format
  if run 0 "$tmp/input.webm" "$out" iterations=2 threshold=0 &&
    gst-discoverer-1.0 "$out" >"$tmp/discovered" 2>&1 &&
    grep -q 'Duration: 0:00:00.6' "$tmp/discovered" &&
    grep -q 'Width: 96' "$tmp/discovered" && [ "$(decode "$out")" -eq 10 ]; then
    ok "record.sh writes a playable .$format file of the 10 frames"
  else
    diag "$tmp/discovered"
    not_ok "record.sh writes a playable .$format file of the 10 frames"
  fi
done

# The heatmap and boxes are in the recording: colour over a grey input.
# overlay=none is the control, grey but for the codec's error.
run 0 "$tmp/input.webm" "$tmp/plain.webm" iterations=2 threshold=0 overlay=none
decode "$tmp/plain.webm" >/dev/null
spread_plain=$(chroma_spread)
decode "$tmp/recorded.webm" >/dev/null
spread_drawn=$(chroma_spread)
echo "# chroma spread: overlay=none $spread_plain, default $spread_drawn"
[ "$spread_plain" -le 4 ] && [ "$spread_drawn" -ge 40 ]
check "record.sh: the drawing is recorded (colour only with the overlay)" [ $? -eq 0 ]

run 1 "$tmp/input.webm" "$tmp/out.mp4" && one_line_error "$tmp/err" &&
  grep -q 'out.mp4' "$tmp/err"
check "record.sh: an unknown format, one line naming the file" [ $? -eq 0 ]
run 1 "$tmp/missing.webm" "$tmp/out.webm" && one_line_error "$tmp/err" &&
  grep -q 'missing.webm' "$tmp/err"
check "record.sh: a missing input, one line naming the file" [ $? -eq 0 ]

script=camera.sh
CAMERA_DEVICE=$tmp/video0 run 1 && one_line_error "$tmp/err" &&
  grep -q "no camera at $tmp/video0" "$tmp/err"
check "camera.sh: no camera, one line naming the device" [ $? -eq 0 ]

script=file.sh
run 1 "$tmp/missing.webm" && one_line_error "$tmp/err" &&
  grep -q 'missing.webm' "$tmp/err"
check "file.sh: a missing file, one line naming it" [ $? -eq 0 ]

# demo.sh's report, at 2 steps a tile on every 40th frame: by the clip's
# ground truth (media/README.md), frame 0 shows nothing but the material
# and frames 40, 80, 120 and 160 a defect each.
script=demo.sh
DEMO_ITERATIONS=2 DEMO_INTERVAL=40 DEMO_OUT=$tmp/demo run 0 &&
  grep -q '^5 frames analysed; threshold' "$tmp/out" &&
  grep -q '^Frames with a defect: 4, ' "$tmp/out" &&
  grep -q '^Frames with nothing but the material: 1, ' "$tmp/out" &&
  grep -q '^  worst: score [0-9.]* at ' "$tmp/out" &&
  [ "$(decode "$tmp/demo/brick-belt-annotated.webm")" -gt 0 ]
check "demo.sh: frames, defects and the worst score reported; video written" [ $? -eq 0 ]
DEMO_ITERATIONS=many run 2 && one_line_error "$tmp/err"
check "demo.sh: DEMO_ITERATIONS not a number, one line" [ $? -eq 0 ]

tap_end
