#!/usr/bin/env bash
# record.sh: annotate a recording with anoganfilter and write it to a file.
#
#   examples/record.sh INPUT OUTPUT [PROPERTY=VALUE...]
#
# OUTPUT's extension picks the format: .webm (VP8 in WebM) or .mkv (VP8 in
# Matroska), both from gst-plugins-good, or .ogv (Theora in Ogg, from
# gst-plugins-base).  The properties go to anoganfilter.  Every frame of
# INPUT is analysed (the source is a file, not live) and written with the
# heatmap and boxes drawn on it; the frames keep their time stamps, so the
# output plays at INPUT's speed.
set -euo pipefail
source "$(dirname "$0")/common.sh"

[ $# -ge 2 ] || { echo "usage: $script INPUT OUTPUT [PROPERTY=VALUE...]" >&2; exit 2; }
input=$1 output=$2
shift 2
[ -f "$input" ] || die "$input: no such file"

case $output in
  *.webm) encode=(vp8enc ! webmmux) ;;
  *.mkv) encode=(vp8enc ! matroskamux) ;;
  *.ogv | *.ogg) encode=(theoraenc ! oggmux) ;;
  *) die "$output: unknown format; name it .webm, .mkv or .ogv" ;;
esac
mkdir -p "$(dirname "$output")"

# The encoders take I420, which anoganfilter also analyses and draws on:
# converting once, before the element, is enough.
gst-launch-1.0 -q filesrc location="$input" ! decodebin ! videoconvert ! \
  video/x-raw,format=I420 ! anoganfilter "$@" ! "${encode[@]}" ! \
  filesink location="$output"
echo "$script: wrote $output"
