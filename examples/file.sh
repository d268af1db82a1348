#!/usr/bin/env bash
# file.sh: a recording played with anoganfilter's heatmap and boxes.
#
#   examples/file.sh [FILE [PROPERTY=VALUE...]]
#
# FILE defaults to the demo clip, media/brick-belt.webm; the properties go
# to anoganfilter (iterations=20 for a faster, rougher look; model=... for
# your own model).  A file is not live, so every frame is analysed before
# it is shown and the video plays at the speed of the analysis, in slow
# motion (about 6 s a frame on the demo clip with the default model on two
# cores): each picture shows its own result.  Ctrl-C stops.
set -euo pipefail
source "$(dirname "$0")/common.sh"

file=${1:-$root/media/brick-belt.webm}
[ $# -eq 0 ] || shift
[ -f "$file" ] || die "$file: no such file"

# sync=false: show each frame when it is ready instead of against the
# clock, which would call every analysed frame late and drop it.
exec gst-launch-1.0 filesrc location="$file" ! decodebin ! videoconvert ! \
  anoganfilter "$@" ! videoconvert ! autovideosink sync=false
