#!/usr/bin/env bash
# run-benchmarks.sh: the latent search, C engine against PyTorch
#
# Copyright (C) 2026 the gst-anogan authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Builds anogan-bench in release mode, then for each architecture sweeps
# the batch size on both sides at the same thread count, picks each side's
# best batch and prints a Markdown table.
#
# PyTorch runs with OpenBLAS held to one thread: torch calls OpenBLAS for
# the GEMMs that oneDNN does not do (transposed convolutions and their
# gradients), and as installed OpenBLAS starts threads of its own that
# fight torch's OpenMP threads for the same cores, which makes PyTorch
# several times slower.  TORCH_VARIANTS="openblas1 default" measures the
# as-installed setting too; the best variant of each point counts.
#
# Settings, from the environment:
#   ARCHS      architectures (default: "dcgan32 dcgan64")
#   BATCHES    batch sizes to sweep (default: "1 4 8 16 32 64")
#   THREADS    threads on both sides (default: 2)
#   SECONDS_PER_POINT  timing per point, after a warm-up (default: 4)
#   BUILD_DIR  build directory (default: build-bench in the source tree)
#   RESULTS    file for the raw JSON lines (default: BUILD_DIR/benchmarks.jsonl)
#   PYTHON     interpreter with torch (default: /usr/bin/python3)
#   TORCH_VARIANTS  PyTorch settings: openblas1 and/or default
#              (default: openblas1)
#   ROUNDS     sweeps to run; each point keeps its best round (default: 2)
#   IDLE_WAIT  seconds to wait, before each point, for the CPUs to be idle
#              (default: 60; 0 does not wait)
#
# Usage: benchmarks/run-benchmarks.sh > table.md

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ARCHS=${ARCHS:-"dcgan32 dcgan64"}
BATCHES=${BATCHES:-"1 4 8 16 32 64"}
THREADS=${THREADS:-2}
SECONDS_PER_POINT=${SECONDS_PER_POINT:-4}
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
RESULTS=${RESULTS:-$BUILD_DIR/benchmarks.jsonl}
PYTHON=${PYTHON:-/usr/bin/python3}
IDLE_WAIT=${IDLE_WAIT:-60}
ROUNDS=${ROUNDS:-2}
TORCH_VARIANTS=${TORCH_VARIANTS:-openblas1}

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
  local a b
  a=($(head -1 /proc/stat))
  sleep 1
  b=($(head -1 /proc/stat))
  local total=0 i
  for i in 1 2 3 4 5 6 7 8; do
    total=$((total + b[i] - a[i]))
  done
  echo $(( total > 0 ? 100 * (b[4] - a[4]) / total : 100 ))
}

# Other work on the machine skews timings badly (OpenMP threads that spin
# at barriers suffer most), so each point waits for a quiet moment.
wait_until_idle () {
  local waited=0 idle
  while [ "$waited" -lt "$IDLE_WAIT" ]; do
    idle=$(idle_percent)
    [ "$idle" -ge 90 ] && return 0
    waited=$((waited + 1))
  done
  log "  (the CPUs are still busy, ${idle}% idle: timing anyway)"
}

run_c () {
  local arch=$1 batch=$2
  wait_until_idle
  "$BUILD_DIR/src/tools/anogan-bench" --arch "$arch" --batch "$batch" \
    --threads "$THREADS" --seconds "$SECONDS_PER_POINT" --json \
    | sed 's/^{/{"side":"c",/'
}

run_torch () {
  local arch=$1 batch=$2 variant=$3
  local extra=()
  [ "$variant" = openblas1 ] && extra=(--openblas-threads 1)
  wait_until_idle
  "$PYTHON" "$ROOT/benchmarks/pytorch-search-bench.py" --arch "$arch" \
    --batch "$batch" --threads "$THREADS" --seconds "$SECONDS_PER_POINT" \
    --json "${extra[@]}" | sed "s/^{/{\"side\": \"torch-$variant\", /"
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
  "$PYTHON" - "$RESULTS" "$THREADS" <<'EOF'
import json
import sys

def rate(r):
    return r["patch_iterations_per_second"]

# Each point keeps its best round: interference only ever slows it down.
best = {}
for line in open(sys.argv[1]):
    if line.strip():
        r = json.loads(line)
        key = (r["arch"], r["batch"], r["side"])
        if key not in best or rate(r) > rate(best[key]):
            best[key] = r
rows = list(best.values())
threads = sys.argv[2]
archs = list(dict.fromkeys(r["arch"] for r in rows))

print("### Sweep (patch-iterations/s, %s threads)\n" % threads)
print("| arch | batch | C | GFLOPS | % of sgemm peak "
      "| PyTorch | PyTorch, OpenBLAS 1 thread |")
print("|---|---:|---:|---:|---:|---:|---:|")
for arch in archs:
    batches = sorted({r["batch"] for r in rows if r["arch"] == arch})
    for b in batches:
        point = {r["side"]: r for r in rows
                 if r["arch"] == arch and r["batch"] == b}
        c = point.get("c")
        cells = [arch, str(b)]
        cells += (["%.0f" % rate(c), "%.1f" % c["gflops"],
                   "%.0f %%" % c["peak_percent"]] if c else ["-"] * 3)
        for side in ("torch-default", "torch-openblas1"):
            cells.append("%.0f" % rate(point[side]) if side in point else "-")
        print("| " + " | ".join(cells) + " |")

print("\n### Best batch of each side\n")
print("| arch | C: batch | C patch-it/s | PyTorch: batch, variant "
      "| PyTorch patch-it/s | C / PyTorch | C GFLOPS | sgemm peak "
      "| % of peak | C peak RSS |")
print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|")
for arch in archs:
    cs = [r for r in rows if r["arch"] == arch and r["side"] == "c"]
    ts = [r for r in rows if r["arch"] == arch and r["side"] != "c"]
    if not cs or not ts:
        continue
    c = max(cs, key=rate)
    t = max(ts, key=rate)
    variant = "OpenBLAS 1 thread" if t["side"] == "torch-openblas1" \
        else "as installed"
    print("| %s | %d | %.0f | %d, %s | %.0f | %.2fx | %.1f | %.1f | %.0f %% "
          "| %.0f MiB |" % (arch, c["batch"], rate(c), t["batch"], variant,
                           rate(t), rate(c) / rate(t), c["gflops"],
                           c["sgemm_peak_gflops"], c["peak_percent"],
                           c["peak_rss_bytes"] / 1048576.0))

c0 = next(r for r in rows if r["side"] == "c")
t0 = next(r for r in rows if r["side"] != "c")
print("\nOpenBLAS: %s; torch %s (oneDNN %s, CPU capability %s)."
      % (c0["openblas_config"], t0["torch_version"],
         "on" if t0["mkldnn_enabled"] else "off", t0["cpu_capability"]))
EOF
}

build
sweep
report
