#!/usr/bin/python3
# plot-modes.py: the summary and the plots of scripts/results-modes.sh
#
# Copyright (C) 2026 the gst-anogan authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Reads the reports results-modes.sh leaves in RESULTS_DIR (anogan-eval
# --json with --trace-steps, and the timing runs' reports, one a line):
#
#   fashion-mnist/class-K-optimise.json, class-K-hybrid.json, timing.jsonl
#   texture/optimise.json, hybrid.json, timing.jsonl
#
# and writes RESULTS_DIR/summary.json (per data set, one point per mode
# and step count: the mean over the models of AUROC, average precision
# and best F1, each model's AUROC, and the timed milliseconds per tile and
# per picture, the fastest of a point's timing runs) and one SVG per data set, IMAGES_DIR/modes-DATASET.svg:
# mean AUROC against milliseconds per tile on a log scale, a line per
# mode, the encoder mode marked as the hybrid search's first point.
# Standard library only; the SVG is written by hand.
#
#   /usr/bin/python3 scripts/plot-modes.py RESULTS_DIR IMAGES_DIR

import glob
import json
import math
import os
import re
import sys
from xml.sax.saxutils import escape

DATASETS = {
    "fashion-mnist": "Fashion-MNIST",
    "texture": "Texture (brick)",
}
SEARCHES = ("optimise", "hybrid")
COLOURS = {"optimise": "#1f5fb4", "hybrid": "#e66100", "encoder": "#2b9348"}
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"


def load(path):
    with open(path) as f:
        return json.load(f)


def reports_of(directory):
    """[(model label, {search: report})] for every model scored both ways."""
    found = []
    for path in sorted(glob.glob(os.path.join(directory, "*optimise.json"))):
        prefix = path[:-len("optimise.json")]
        hybrid = prefix + "hybrid.json"
        if not os.path.exists(hybrid):
            continue
        r = {"optimise": load(path), "hybrid": load(hybrid)}
        label = (os.path.basename(prefix).rstrip("-")
                 or r["optimise"]["model_name"])
        found.append((label, r))
    # class-2 before class-10
    found.sort(key=lambda item: [int(n) if n.isdigit() else n
                                 for n in re.split(r"(\d+)", item[0])])
    return found


def timings_of(directory):
    """{(mode, iterations): (report, runs)} of the timing runs: of the runs
    of one point, the fastest, the one other jobs on the machine slowed
    least."""
    path = os.path.join(directory, "timing.jsonl")
    timings = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if not line.strip():
                    continue
                r = json.loads(line)
                key = (r["mode"], r["iterations"])
                best, runs = timings.get(key, (r, 0))
                if r["ms_per_tile"] < best["ms_per_tile"]:
                    best = r
                timings[key] = (best, runs + 1)
    return timings


def mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def summarise(directory):
    reports = reports_of(directory)
    if not reports:
        return None
    timings = timings_of(directory)
    points = []
    for search in SEARCHES:
        steps = [p["iterations"] for p in reports[0][1][search]["trace"]]
        for t in steps:
            at = {}
            for label, r in reports:
                trace = {p["iterations"]: p for p in r[search]["trace"]}
                if t not in trace:
                    sys.exit(f"{directory}: {label} has no {search} point "
                             f"after {t} steps")
                at[label] = trace[t]
            # The hybrid search before its first step is the encoder mode.
            mode = "encoder" if search == "hybrid" and t == 0 else search
            timed, runs = timings.get((mode, t), (None, 0))
            points.append({
                "mode": mode,
                "search": search,
                "iterations": t,
                "auroc_mean": mean(p["auroc"] for p in at.values()),
                "average_precision_mean":
                    mean(p["average_precision"] for p in at.values()),
                "best_f1_mean": mean(p["best_f1"] for p in at.values()),
                "auroc": {label: p["auroc"] for label, p in at.items()},
                "ms_per_tile": timed["ms_per_tile"] if timed else None,
                "ms_per_picture": timed["ms_per_picture"] if timed else None,
                "timing_runs": runs,
            })
    first = reports[0][1]
    any_timing = next(iter(timings.values()), (None, 0))[0]
    return {
        "models": [label for label, _ in reports],
        "n_normal": first["optimise"]["n_normal"],
        "n_anomalous": first["optimise"]["n_anomalous"],
        "tiles": first["optimise"]["tiles"],
        "lambda": first["optimise"]["lambda"],
        "learning_rate": first["optimise"]["learning_rate"],
        "loss": first["optimise"]["loss"],
        "optimise_candidates": first["optimise"].get("candidates", 0),
        "threads": first["optimise"]["threads"],
        "scoring_seconds": sum(r[s]["seconds"] for _, r in reports
                               for s in SEARCHES),
        "timing": None if any_timing is None else {
            "model": any_timing["model"],
            "n_normal": any_timing["n_normal"],
            "n_anomalous": any_timing["n_anomalous"],
            "tiles": any_timing["tiles"],
            "threads": any_timing["threads"],
        },
        "points": points,
    }


# ---- the plot ---------------------------------------------------------------

WIDTH, HEIGHT = 760, 560
LEFT, TOP, PLOT_W, PLOT_H = 90, 70, 620, 340


def nice_step(span):
    for step in (0.01, 0.02, 0.05, 0.1, 0.2):
        if span / step <= 10:
            return step
    return 0.25


def log_ticks(lo, hi):
    """Decades from lo to hi (powers of ten), and the 2s and 5s between."""
    major, minor = [], []
    e = int(math.floor(math.log10(lo)))
    while 10.0 ** e <= hi * 1.0001:
        major.append(10.0 ** e)
        for m in (2, 5):
            if lo < m * 10.0 ** e < hi:
                minor.append(m * 10.0 ** e)
        e += 1
    return major, minor


def format_ms(v):
    if v >= 1:
        return f"{v:g}"
    return f"{v:.{max(0, -int(math.floor(math.log10(v))))}f}"


def plot(dataset, summary):
    title = DATASETS.get(dataset, dataset)
    drawn = [p for p in summary["points"]
             if p["ms_per_tile"] and p["auroc_mean"] is not None]
    if not drawn:
        return None
    xs = [p["ms_per_tile"] for p in drawn]
    ys = [p["auroc_mean"] for p in drawn]
    x_lo = 10.0 ** math.floor(math.log10(min(xs)))
    x_hi = 10.0 ** math.ceil(math.log10(max(xs)))
    if x_hi <= x_lo:
        x_hi = x_lo * 10
    step = nice_step(max(ys) - min(ys) + 0.02)
    y_lo = max(0.0, math.floor((min(ys) - 0.01) / step) * step)
    y_hi = min(1.0, math.ceil((max(ys) + 0.01) / step) * step)
    if y_hi <= y_lo:
        y_hi = y_lo + step

    def sx(v):
        return LEFT + (math.log10(v) - math.log10(x_lo)) / (
            math.log10(x_hi) - math.log10(x_lo)) * PLOT_W

    def sy(v):
        return TOP + (y_hi - v) / (y_hi - y_lo) * PLOT_H

    n = len(summary["models"])
    models = "1 model" if n == 1 else f"mean of {n} models"
    timing = summary.get("timing") or {}
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'font-family="{FONT}" font-size="14">',
        f"<title>{escape(title)}: AUROC against time per tile</title>",
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{LEFT + PLOT_W / 2}" y="30" text-anchor="middle" '
        f'font-size="18" font-weight="bold">{escape(title)}: AUROC against '
        "time per tile</text>",
        f'<text x="{LEFT + PLOT_W / 2}" y="52" text-anchor="middle" '
        f'font-size="13" fill="#444">{escape(models)}, '
        f'{summary["n_normal"]} normal and {summary["n_anomalous"]} '
        "anomalous pictures each; a number by a point is its steps</text>",
    ]

    # Grid and ticks.
    major, minor = log_ticks(x_lo, x_hi)
    out.append('<g stroke="#eeeeee" stroke-width="1">')
    for v in minor:
        out.append(f'<line x1="{sx(v):.1f}" y1="{TOP}" x2="{sx(v):.1f}" '
                   f'y2="{TOP + PLOT_H}"/>')
    out.append('</g><g stroke="#d6d6d6" stroke-width="1">')
    for v in major:
        out.append(f'<line x1="{sx(v):.1f}" y1="{TOP}" x2="{sx(v):.1f}" '
                   f'y2="{TOP + PLOT_H}"/>')
    y_ticks = []
    v = y_lo
    while v <= y_hi + 1e-9:
        y_ticks.append(v)
        out.append(f'<line x1="{LEFT}" y1="{sy(v):.1f}" x2="{LEFT + PLOT_W}" '
                   f'y2="{sy(v):.1f}"/>')
        v += step
    out.append('</g><g font-size="13">')
    for v in major:
        out.append(f'<text x="{sx(v):.1f}" y="{TOP + PLOT_H + 20}" '
                   f'text-anchor="middle">{format_ms(v)}</text>')
    for v in minor:
        out.append(f'<text x="{sx(v):.1f}" y="{TOP + PLOT_H + 20}" '
                   f'text-anchor="middle" font-size="11" fill="#777">'
                   f"{format_ms(v)}</text>")
    for v in y_ticks:
        out.append(f'<text x="{LEFT - 8}" y="{sy(v):.1f}" text-anchor="end" '
                   f'dominant-baseline="central">{v:.2f}</text>')
    out.append("</g>")
    threads = timing.get("threads")
    x_label = "milliseconds per tile (log scale"
    if threads:
        x_label += f", {threads} thread{'s' if threads != 1 else ''}"
    x_label += ")"
    out.append(f'<text x="{LEFT + PLOT_W / 2}" y="{TOP + PLOT_H + 46}" '
               f'text-anchor="middle">{escape(x_label)}</text>')
    out.append(f'<text x="{LEFT - 58}" y="{TOP + PLOT_H / 2}" '
               f'text-anchor="middle" transform="rotate(-90 {LEFT - 58} '
               f'{TOP + PLOT_H / 2})">mean AUROC</text>')
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{PLOT_W}" '
               f'height="{PLOT_H}" fill="none" stroke="black" '
               'stroke-width="1.2"/>')

    # One line per search; the encoder mode is the hybrid line's start.
    for search in SEARCHES:
        line = sorted((p for p in drawn if p["search"] == search),
                      key=lambda p: p["iterations"])
        if not line:
            continue
        colour = COLOURS[search]
        pts = " ".join(f"{sx(p['ms_per_tile']):.1f},{sy(p['auroc_mean']):.1f}"
                       for p in line)
        out.append(f'<polyline fill="none" stroke="{colour}" '
                   f'stroke-width="2.5" stroke-linejoin="round" '
                   f'points="{pts}"/>')
        for p in line:
            x, y = sx(p["ms_per_tile"]), sy(p["auroc_mean"])
            if p["mode"] == "encoder":
                out.append(f'<path d="M {x:.1f} {y - 8:.1f} L {x + 8:.1f} '
                           f'{y:.1f} L {x:.1f} {y + 8:.1f} L {x - 8:.1f} '
                           f'{y:.1f} Z" fill="{COLOURS["encoder"]}" '
                           'stroke="white" stroke-width="1.5"/>')
            else:
                out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" '
                           f'fill="{colour}" stroke="white" '
                           'stroke-width="1.5"/>')
            # Optimise labels above left, hybrid below right, so that
            # they keep apart where the lines run close.
            if search == "optimise":
                lx, ly, anchor = x - 5, y - 8, "end"
            else:
                lx, ly, anchor = x + 5, y + 17, "start"
            out.append(f'<text x="{lx:.1f}" y="{ly:.1f}" '
                       f'text-anchor="{anchor}" font-size="11" '
                       f'fill="{colour}">{p["iterations"]}</text>')

    # The legend, under the plot, where no point can be.
    legend_y = TOP + PLOT_H + 78
    entries = [
        ("line", COLOURS["optimise"], "optimise: Adam steps on z"
         + (f" from the best of {summary['optimise_candidates']} starts"
            if summary.get("optimise_candidates") else " from z = 0")),
        ("line", COLOURS["hybrid"], "hybrid: z = E(x), then Adam steps"),
        ("diamond", COLOURS["encoder"],
         "encoder: z = E(x) alone (f-AnoGAN), the hybrid search's 0 steps"),
    ]
    for i, (kind, colour, text) in enumerate(entries):
        y = legend_y + 22 * i
        if kind == "line":
            out.append(f'<line x1="{LEFT}" y1="{y}" x2="{LEFT + 28}" '
                       f'y2="{y}" stroke="{colour}" stroke-width="2.5"/>'
                       f'<circle cx="{LEFT + 14}" cy="{y}" r="4.5" '
                       f'fill="{colour}"/>')
        else:
            out.append(f'<path d="M {LEFT + 14} {y - 8} L {LEFT + 22} {y} '
                       f'L {LEFT + 14} {y + 8} L {LEFT + 6} {y} Z" '
                       f'fill="{colour}"/>')
        out.append(f'<text x="{LEFT + 38}" y="{y}" '
                   f'dominant-baseline="central">{escape(text)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: plot-modes.py RESULTS_DIR IMAGES_DIR")
    results, images = sys.argv[1], sys.argv[2]
    summary = {}
    for dataset in DATASETS:
        s = summarise(os.path.join(results, dataset))
        if s:
            summary[dataset] = s
    if not summary:
        sys.exit(f"{results}: no reports of results-modes.sh")
    with open(os.path.join(results, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")
    os.makedirs(images, exist_ok=True)
    for dataset, s in summary.items():
        svg = plot(dataset, s)
        if svg is None:
            print(f"{dataset}: no timed points to plot", file=sys.stderr)
            continue
        path = os.path.join(images, f"modes-{dataset}.svg")
        with open(path, "w") as f:
            f.write(svg)
        print(path)
        for p in s["points"]:
            ms = p["ms_per_tile"]
            print(f"  {p['mode']:9s} {p['iterations']:4d} steps: AUROC "
                  f"{p['auroc_mean']:.4f}, "
                  + (f"{ms:.3g} ms a tile" if ms else "not timed"))


if __name__ == "__main__":
    main()
