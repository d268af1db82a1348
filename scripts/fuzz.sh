#!/usr/bin/env bash
# fuzz.sh: builds the libFuzzer targets of tests/fuzz with clang, under
# AddressSanitizer and UndefinedBehaviorSanitizer, and runs each for a
# while from its seed corpus.
#
#   bash scripts/fuzz.sh [SECONDS per target, 60] [BUILD_DIR, build-fuzz]
#
# New inputs go to BUILD_DIR/corpus-NAME (the seed corpus is only read);
# an input that fails is written to BUILD_DIR/crash-NAME-* and the script
# exits 1: copy it into tests/fuzz/corpus/NAME/ so that the replay test
# keeps it, then mend the reader.  FUZZ_JOBS runs that many fuzzing
# processes a target at once [1].
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
build=${2:-build-fuzz}
jobs=${FUZZ_JOBS:-1}

if [ ! -d "$build" ]; then
  CC=clang meson setup "$build" --werror -Dfuzz=true -Dbuildtype=debugoptimized \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args=-fsanitize=fuzzer-no-link
fi
ninja -C "$build" tests/fuzz/fuzz-model tests/fuzz/fuzz-data

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
# Every GSlice block through malloc, so that a leaked one is seen (GLib
# 2.74 keeps them in caches of its own, where they stay reachable).
export G_SLICE=always-malloc
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
top=$(pwd)
cd "$build"
# With FUZZ_JOBS > 1, libFuzzer writes each job's log (fuzz-N.log) here.
parallel=()
[ "$jobs" -le 1 ] || parallel=(-jobs="$jobs" -workers="$jobs")
status=0
for name in model data; do
  mkdir -p "corpus-$name"
  echo "== fuzz-$name for $seconds s"
  # -rss_limit_mb: a reader that allocates from an unchecked size fails
  # here rather than swapping.
  "tests/fuzz/fuzz-$name" -max_total_time="$seconds" \
    -rss_limit_mb=1024 -max_len=65536 "${parallel[@]}" \
    -artifact_prefix="crash-$name-" -print_final_stats=1 \
    "corpus-$name" "$top/tests/fuzz/corpus/$name" || status=1
done
exit $status
