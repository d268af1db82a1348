# common.sh: what the example scripts share, sourced by them.
#
# Finds the anoganfilter plugin: in the build directory ANOGAN_BUILD
# (relative to the source tree; default "build") when it was built there,
# else wherever GStreamer looks (an installed plugin, GST_PLUGIN_PATH).
# Exits with a one-line error when GStreamer finds no anoganfilter.

script=$(basename "$0")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ANOGAN_BUILD:-build}
case $build in
  /*) ;;
  *) build=$root/$build ;;
esac

if [ -f "$build/gst/libgstanogan.so" ]; then
  export GST_PLUGIN_PATH="$build/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
fi

# die MESSAGE: the one-line error, and exit 1.
die () {
  echo "$script: $*" >&2
  exit 1
}

command -v gst-launch-1.0 >/dev/null ||
  die "gst-launch-1.0 is missing: install gstreamer1.0-tools (bash scripts/install-deps.sh)"
gst-inspect-1.0 anoganfilter >/dev/null 2>&1 ||
  die "GStreamer finds no anoganfilter: build gst-anogan (meson setup build && ninja -C build) or set ANOGAN_BUILD to your build directory"
