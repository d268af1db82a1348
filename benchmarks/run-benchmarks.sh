#!/usr/bin/env bash
# run-benchmarks.sh: the latent search, C engine against PyTorch
#
# Copyright (C) 2026 the gst-anogan authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Builds anogan-bench in release mode, then for each architecture sweeps
# the batch size on both sides at the same thread count, picks each side's
# best batch and prints Markdown tables on standard output (progress goes
# to standard error, every measurement to RESULTS as JSON lines).
#
# PyTorch runs with OpenBLAS held to one thread: torch calls OpenBLAS for
# the GEMMs that oneDNN does not do (transposed convolutions and their
# gradients), and as installed OpenBLAS starts threads of its own that
# fight torch's OpenMP threads for the same cores, which makes PyTorch
# several times slower.  TORCH_VARIANTS="openblas1 default" measures the
# as-installed setting too; the best variant of each point counts.
#
# Other work on the machine slows a point down, and PyTorch's OpenMP
# threads, which spin at barriers, far more than the C engine's workers.
# So each point waits for idle CPUs, and is measured again when other
# processes took more than MAX_OTHERS percent of the CPUs while it ran.
#
# Settings, from the environment:
#   ARCHS      architectures (default: "dcgan32 dcgan64")
#   BATCHES    batch sizes to sweep (default: "1 4 8 16 32 64")
#   THREADS    threads on both sides (default: 2)
#   SECONDS_PER_POINT  timing per point, after a warm-up (default: 4)
#   TORCH_VARIANTS  PyTorch settings: openblas1 and/or default
#              (default: openblas1)
#   ROUNDS     sweeps to run; each point keeps its best round (default: 1)
#   TRIES      tries of a point while other work disturbs it (default: 3)
#   MAX_OTHERS percent of the CPUs that other processes may take while a
#              point runs for it to count as undisturbed (default: 5)
#   IDLE_WAIT  seconds to wait, before each try, for the CPUs to be idle
#              (default: 60; 0 does not wait)
#   BUILD_DIR  build directory (default: build-bench in the source tree)
#   RESULTS    file for the JSON lines (default: BUILD_DIR/benchmarks.jsonl)
#   PYTHON     interpreter with torch (default: /usr/bin/python3)
#   REPORT_ONLY  when 1, only tabulates an existing RESULTS file (several
#              files' lines may be concatenated into one)
#
# Usage: benchmarks/run-benchmarks.sh > table.md

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ARCHS=${ARCHS:-"dcgan32 dcgan64"}
BATCHES=${BATCHES:-"1 4 8 16 32 64"}
THREADS=${THREADS:-2}
SECONDS_PER_POINT=${SECONDS_PER_POINT:-4}
TORCH_VARIANTS=${TORCH_VARIANTS:-openblas1}
ROUNDS=${ROUNDS:-1}
TRIES=${TRIES:-3}
MAX_OTHERS=${MAX_OTHERS:-5}
IDLE_WAIT=${IDLE_WAIT:-60}
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
RESULTS=${RESULTS:-$BUILD_DIR/benchmarks.jsonl}
PYTHON=${PYTHON:-/usr/bin/python3}
REPORT_ONLY=${REPORT_ONLY:-0}

log () { echo "$*" >&2; }

build () {
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    meson setup "$BUILD_DIR" "$ROOT" --buildtype=release >&2
  else
    meson configure "$BUILD_DIR" --buildtype=release >&2
  fi
  ninja -C "$BUILD_DIR" src/tools/anogan-bench >&2
}

# Percent of CPU time spent idle over one second, from /proc/stat.
idle_percent () {
  local a b total=0 i
  a=($(head -1 /proc/stat))
  sleep 1
  b=($(head -1 /proc/stat))
  for i in 1 2 3 4 5 6 7 8; do
    total=$((total + b[i] - a[i]))
  done
  echo $(( total > 0 ? 100 * (b[4] - a[4]) / total : 100 ))
}

wait_until_idle () {
  local waited=0 idle=100
  while [ "$waited" -lt "$IDLE_WAIT" ]; do
    idle=$(idle_percent)
    [ "$idle" -ge 90 ] && return 0
    waited=$((waited + 1))
  done
  [ "$IDLE_WAIT" -gt 0 ] && log "  (the CPUs are still busy: timing anyway)"
  return 0
}

# Percent of the CPUs' time between two /proc/stat lines that went to
# processes other than the one whose JSON line (with its cpu_seconds) is
# given.
others_percent () {
  "$PYTHON" -c '
import json
import os
import sys

before = [int(v) for v in sys.argv[1].split()[1:9]]
after = [int(v) for v in sys.argv[2].split()[1:9]]
delta = [b - a for a, b in zip(before, after)]
total = sum(delta)
busy = total - delta[3] - delta[4]          # less idle and iowait
own = json.loads(sys.argv[3])["cpu_seconds"] * os.sysconf("SC_CLK_TCK")
print(max(0, round(100 * (busy - own) / total)) if total > 0 else 0)
' "$1" "$2" "$3"
}

# Runs one point (a command that prints one JSON line) until other work
# took at most MAX_OTHERS percent of the CPUs meanwhile, TRIES times at
# most.  Every try is printed, labelled with its side and that share.
measure_point () {
  local side=$1 try before after line others
  shift
  for try in $(seq "$TRIES"); do
    wait_until_idle
    before=$(head -1 /proc/stat)
    line=$("$@")
    after=$(head -1 /proc/stat)
    others=$(others_percent "$before" "$after" "$line")
    echo "{\"side\": \"$side\", \"others_cpu_percent\": $others, ${line#\{}"
    [ "$others" -le "$MAX_OTHERS" ] && return 0
    log "  other work took ${others}% of the CPUs meanwhile"
  done
}

run_c () {
  measure_point c "$BUILD_DIR/src/tools/anogan-bench" --arch "$1" \
    --batch "$2" --threads "$THREADS" --seconds "$SECONDS_PER_POINT" --json
}

run_torch () {
  local extra=()
  [ "$3" = openblas1 ] && extra=(--openblas-threads 1)
  measure_point "torch-$3" "$PYTHON" \
    "$ROOT/benchmarks/pytorch-search-bench.py" --arch "$1" --batch "$2" \
    --threads "$THREADS" --seconds "$SECONDS_PER_POINT" --json "${extra[@]}"
}

# Rounds rather than repeats of a point, so that a burst of other work
# does not hit every try of the same point.
sweep () {
  local round arch batch variant
  : > "$RESULTS"
  for round in $(seq "$ROUNDS"); do
    for arch in $ARCHS; do
      for batch in $BATCHES; do
        log "round $round, $arch batch $batch: C"
        run_c "$arch" "$batch" >> "$RESULTS"
        for variant in $TORCH_VARIANTS; do
          log "round $round, $arch batch $batch: PyTorch ($variant)"
          run_torch "$arch" "$batch" "$variant" >> "$RESULTS"
        done
      done
    done
  done
}

# The Markdown tables, from the JSON lines.
report () {
  "$PYTHON" - "$RESULTS" "$THREADS" "$MAX_OTHERS" <<'EOF'
import json
import sys

results, threads, max_others = sys.argv[1], sys.argv[2], int(sys.argv[3])


def rate(r):
    return r["patch_iterations_per_second"]


def undisturbed(r):
    return r["others_cpu_percent"] <= max_others


def quality(r):
    """Undisturbed tries first, then the faster: other work only ever
    slows a point down."""
    return (undisturbed(r), rate(r))


def show(r, value):
    """A number, flagged when other work disturbed every try."""
    return value + ("" if undisturbed(r) else "*")


best = {}
for line in open(results):
    if line.strip():
        r = json.loads(line)
        key = (r["arch"], r["batch"], r["side"])
        if key not in best or quality(r) > quality(best[key]):
            best[key] = r
rows = list(best.values())
archs = list(dict.fromkeys(r["arch"] for r in rows))
sides = [s for s in ("torch-openblas1", "torch-default")
         if any(r["side"] == s for r in rows)]
side_names = {"torch-openblas1": "PyTorch (OpenBLAS 1 thread)",
              "torch-default": "PyTorch (as installed)"}

print("### Sweep: patch-iterations/s at %s threads\n" % threads)
print("| arch | batch | C | C GFLOPS | sgemm peak | % of peak | "
      + " | ".join(side_names[s] for s in sides) + " |")
print("|---|---:|---:|---:|---:|---:|" + "---:|" * len(sides))
for arch in archs:
    for b in sorted({r["batch"] for r in rows if r["arch"] == arch}):
        point = {r["side"]: r for r in rows
                 if r["arch"] == arch and r["batch"] == b}
        cells = [arch, str(b)]
        c = point.get("c")
        if c:
            cells += [show(c, "%.0f" % rate(c)), "%.1f" % c["gflops"],
                      "%.0f" % c["sgemm_peak_gflops"],
                      "%.0f %%" % c["peak_percent"]]
        else:
            cells += ["-"] * 4
        for s in sides:
            cells.append(show(point[s], "%.0f" % rate(point[s]))
                         if s in point else "-")
        print("| " + " | ".join(cells) + " |")

print("\n### Best batch of each side\n")
print("| arch | C batch | C patch-it/s | PyTorch batch | PyTorch patch-it/s "
      "| C / PyTorch | C GFLOPS | sgemm peak | % of peak | C peak RSS |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for arch in archs:
    cs = [r for r in rows if r["arch"] == arch and r["side"] == "c"]
    ts = [r for r in rows if r["arch"] == arch and r["side"] != "c"]
    if not cs or not ts:
        continue
    c = max(cs, key=quality)
    t = max(ts, key=quality)
    print("| %s | %d | %s | %d%s | %s | %.2fx | %.1f | %.0f | %.0f %% "
          "| %.0f MiB |"
          % (arch, c["batch"], show(c, "%.0f" % rate(c)), t["batch"],
             "" if t["side"] == "torch-openblas1" else " (as installed)",
             show(t, "%.0f" % rate(t)), rate(c) / rate(t), c["gflops"],
             c["sgemm_peak_gflops"], c["peak_percent"],
             c["peak_rss_bytes"] / 1048576.0))

if any(not undisturbed(r) for r in rows):
    print("\n\\* other processes took more than %d %% of the CPUs in every "
          "try of this point." % max_others)
c0 = next((r for r in rows if r["side"] == "c"), None)
t0 = next((r for r in rows if r["side"] != "c"), None)
if c0 and t0:
    print("\n%s; torch %s (oneDNN %s, CPU capability %s)."
          % (c0["openblas_config"], t0["torch_version"],
             "on" if t0["mkldnn_enabled"] else "off", t0["cpu_capability"]))
EOF
}

if [ "$REPORT_ONLY" != 1 ]; then
  build
  sweep
fi
report
