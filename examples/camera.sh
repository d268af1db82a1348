#!/usr/bin/env bash
# camera.sh: a camera watched by anoganfilter, anomalies marked on screen.
#
#   examples/camera.sh [PROPERTY=VALUE...]
#
# The properties go to anoganfilter, e.g. model=parts.safetensors or
# roi=160,120,320,240.  A camera is a live source, so the element analyses
# on a thread of its own, always the newest frame, and the picture runs at
# the camera's rate with the latest result drawn over it.  CAMERA_DEVICE
# picks another camera than /dev/video0.  Ctrl-C stops.
set -euo pipefail
source "$(dirname "$0")/common.sh"

device=${CAMERA_DEVICE:-/dev/video0}
[ -c "$device" ] ||
  die "there is no camera at $device (set CAMERA_DEVICE to one, or try examples/file.sh on a recording)"

exec gst-launch-1.0 v4l2src device="$device" ! videoconvert ! \
  anoganfilter "$@" ! videoconvert ! autovideosink
