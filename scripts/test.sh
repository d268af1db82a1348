#!/usr/bin/env bash
# Builds gst-anogan twice, warning-free with -Werror and again with
# AddressSanitizer and UndefinedBehaviorSanitizer, and runs the whole test
# suite in both; the first also runs the element's state changes under
# valgrind (tests/meson.build).  Then fuzzes the model loader and the
# picture readers for a bounded time (scripts/fuzz.sh, a third build with
# clang).  Usage: bash scripts/test.sh
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh || exit 1

status=0
passed=0
failed=0

run_suite() {
  local dir=$1; shift
  if [ ! -d "$dir" ]; then
    meson setup "$dir" --werror "$@" || return 1
  fi
  ninja -C "$dir" || return 1
  meson test -C "$dir" --print-errorlogs --num-processes 2
}

count_results() {
  local log=$1/meson-logs/testlog.json
  [ -f "$log" ] || return 0
  passed=$((passed + $(grep -c '"result": "OK"' "$log")))
  failed=$((failed + $(grep -vc '"result": "OK"' "$log")))
}

echo "== build and test (warnings are errors)"
run_suite build-release || status=1
count_results build-release

echo "== build and test under AddressSanitizer and UndefinedBehaviorSanitizer"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite build-sanitize -Db_sanitize=address,undefined -Db_lundef=false \
  -Dbuildtype=debug || status=1
count_results build-sanitize

# The model loader and the picture readers against inputs libFuzzer
# makes up, FUZZ_SECONDS a target (the replay of the corpus is a test of
# both suites above; this looks for new failures).
echo "== fuzzing the model loader and the picture readers"
if bash scripts/fuzz.sh "${FUZZ_SECONDS:-60}" build-fuzz; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] || status=1
exit $status
