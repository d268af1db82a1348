#!/usr/bin/env bash
# demo.sh: anoganfilter on the shipped clip, every frame, with the default
# model; an annotated video and a summary of what it found.
#
#   examples/demo.sh
#
# Runs the clip (media/brick-belt.webm, a belt of bricks with four
# synthetic defects riding through, 195 frames) through
#
#   decodebin ! anoganfilter schedule=every-frame ! vp8enc ! webmmux
#
# under examples/anogan-monitor, which reads each frame's AnoganMeta and
# the "anogan" bus messages.  Every analysed frame is listed beside the
# defects the clip's ground truth (media/demo-line.json) puts in it, and
# the summary counts the frames flagged, with a defect and without, and
# names the worst score and where it was.  The video, heatmap and boxes
# drawn in, goes to demo-output/brick-belt-annotated.webm.
#
# Environment, defaults in brackets:
#   DEMO_MODE        the element's search mode [auto: the encoder mode for
#                    the default model]; optimise is AnoGAN's search
#   DEMO_ITERATIONS  Adam steps per tile in the optimise and hybrid modes
#                    [0: as many as the model card says, 200 and 10, which
#                    their thresholds were calibrated with]
#   DEMO_INTERVAL    analyse every Nth frame [1]
#   DEMO_OUT         output directory [demo-output]
#   ANOGAN_BUILD     build directory, built here if needed [build]
#
# Cost: 80 tiles a frame (320x240 in 32x32 tiles); in the encoder mode
# about 30 ms a frame, the whole clip in 10 s on two cores; DEMO_MODE=
# optimise takes 6 s a frame, 20 minutes in all (examples/README.md says
# how it was measured).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

build=${ANOGAN_BUILD:-build}
iterations=${DEMO_ITERATIONS:-0}
mode=${DEMO_MODE:-auto}
interval=${DEMO_INTERVAL:-1}
out=${DEMO_OUT:-demo-output}
clip=media/brick-belt.webm
truth=media/demo-line.json
video=$out/brick-belt-annotated.webm

[[ $iterations =~ ^[0-9]+$ ]] || { echo "demo.sh: DEMO_ITERATIONS=$iterations is not a number" >&2; exit 2; }
[[ $interval =~ ^[1-9][0-9]*$ ]] || { echo "demo.sh: DEMO_INTERVAL=$interval is not a number from 1" >&2; exit 2; }

# The plugin and the monitor, built with the project.
[ -d "$build" ] || meson setup "$build" --buildtype=release
ninja -C "$build" >/dev/null
export ANOGAN_BUILD=$build
source examples/common.sh
mkdir -p "$out"

frames="every frame"
[ "$interval" -eq 1 ] || frames="every ${interval}th frame"
steps="$iterations Adam steps"
[ "$iterations" -ne 0 ] || steps="the card's settings"
echo "== anoganfilter on $clip, $frames, the default model, mode $mode, $steps"
echo "   writing $video"
echo
printf '%5s %8s %8s  %-9s  %-17s  %s\n' frame time score verdict "worst tile" \
  "defects in the frame ($truth)"

# mawk, Debian's awk, reads a pipe in blocks unless told otherwise: the
# frames would show only at the end.
awk_options=()
! awk -W version 2>&1 | grep -q mawk || awk_options=(-W interactive)

# The monitor's lines ("meta TIME score S threshold T VERDICT tile C,R at
# X,Y WxH regions N", then "summary:", "worst:" and "time:") joined with
# the ground truth, read first: each defect's kind, and its box
# [x, y, width, height] in each frame where it shows.
"$build/examples/anogan-monitor" --all \
  filesrc location="$clip" ! decodebin ! videoconvert ! \
  video/x-raw,format=I420 ! \
  anoganfilter schedule=every-frame mode="$mode" iterations="$iterations" \
  interval="$interval" ! vp8enc ! webmmux ! filesink location="$video" |
  awk "${awk_options[@]}" -v truth="$truth" '
    FILENAME == truth {
      if (match($0, /"fps": *[0-9]+/)) {
        fps = substr($0, RSTART, RLENGTH); gsub(/[^0-9]/, "", fps)
      }
      if (match($0, /"normal_frames": *\[.*\]\]/)) {
        runs = substr($0, RSTART + 16, RLENGTH - 16)
        n = split(runs, v, /[^0-9]+/)
        for (i = 1; i < n; i++)
          if (v[i] != "" && v[i + 1] != "") {
            for (f = v[i] + 0; f <= v[i + 1] + 0; f++) normal[f] = 1
            i++
          }
      }
      if ($0 ~ /"id": *[0-9]+, *"kind":/) {
        split($0, q, "\""); kind[$2 + 0] = q[6]
      }
      if ($0 ~ /"frame": *[0-9]+, *"defect":/) {
        line = $0; gsub(/[^0-9]+/, " ", line); split(line, b, " ")
        f = b[1]; k = defects[f]++
        dx[f, k] = b[3]; dy[f, k] = b[4]; dw[f, k] = b[5]; dh[f, k] = b[6]
        dk[f, k] = kind[b[2]]
      }
      next
    }
    $1 == "meta" {
      split($2, t, ":")
      seconds = t[1] * 3600 + t[2] * 60 + t[3]
      f = int(seconds * fps + 0.5)
      split($11, at, ","); split($12, size, "x")
      x = at[1]; y = at[2]; w = size[1]; h = size[2]
      flagged = $7 == "anomalous"
      analysed++; flagged_n += flagged
      text = ""; hit = 0
      for (k = 0; k < defects[f]; k++) {
        on = x < dx[f, k] + dw[f, k] && dx[f, k] < x + w &&
          y < dy[f, k] + dh[f, k] && dy[f, k] < y + h
        hit = hit || on
        text = text (k ? ", " : "") dk[f, k] " [" dx[f, k] "," dy[f, k] "," \
          dw[f, k] "," dh[f, k] "]" (on ? " <- worst tile" : "")
      }
      if (defects[f]) {
        with_defect++; caught += flagged; on_defect += hit && flagged
      } else if (normal[f]) {
        clean++; false_alarms += flagged
      }
      printf "%5d %8.3f %8s  %-9s  x %3d-%3d y %3d-%3d  %s\n", f, seconds, $4,
        flagged ? "ANOMALOUS" : "normal", x, x + w - 1, y, y + h - 1,
        text == "" ? "-" : text
      threshold = $6
      fflush()
      next
    }
    $1 == "message" { next }      # the same results, from the bus
    $1 == "summary:" || $1 == "worst:" || $1 == "time:" {
      monitor[++lines] = $0; next
    }
    { print }
    END {
      if (!analysed) exit 1
      print ""
      printf "%d frames analysed; threshold %s (the model card): %d flagged.\n",
        analysed, threshold, flagged_n
      printf "Frames with a defect: %d, of which %d flagged, %d of those with " \
        "the worst tile on the defect.\n", with_defect, caught, on_defect
      printf "Frames with nothing but the material: %d, of which %d flagged.\n",
        clean, false_alarms
      print ""
      print "anogan-monitor:"
      for (i = 1; i <= lines; i++) print "  " monitor[i]
    }' "$truth" -

echo
echo "Annotated video: $video"
echo "  gst-launch-1.0 filesrc location=$video ! decodebin ! videoconvert ! autovideosink"
