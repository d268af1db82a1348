#!/usr/bin/python3
# make-demo-clip.py: the demo clip, a belt of brick-like material with defects
#
# Copyright (C) 2026 the gst-anogan authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A camera looks down on a belt carrying a uniform material, which moves
# from the top of the picture to the bottom; now and then a defect rides in
# at the top edge and crosses the picture.  The material is laid from the
# bricks of the TEST rows of scikit-image's brick.png (the rows
# make-texture-set.py never puts in a training set):
#
#  1. the mortar lines between the columns of bricks are found and fitted
#     with straight lines; the photograph's perspective makes them lean and
#     converge, so each column is resampled to a fixed width with its sides
#     vertical;
#  2. the horizontal joints in each column are found; as 205 rows hold few
#     whole bricks, more are made by splicing the upper part of one brick
#     (cut below a joint) onto the lower part of another (cut above one);
#  3. a long belt is laid with these bricks, column by column, in a seeded
#     random order, some turned upside down or mirrored, blended over a few
#     pixels across the mortar where they meet;
#  4. the defects are drawn on the belt (texture_common.py, as in the data
#     set), and each frame is a window of the belt moved SPEED rows further.
#
# The frames go as GRAY8 to gst-launch-1.0, which encodes them as VP8 in
# WebM; media/demo-line.json gets each defect's kind and its bounding box
# in every frame where it shows.
#
#   /usr/bin/python3 scripts/make-demo-clip.py [--seed S] [--out CLIP]
#       [--json JSON] [--frames DIR]

import argparse
import math
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from texture_common import (  # noqa: E402
    fail, foreign_sources, load_texture, make_defect, run, split_rows,
    to_uint8, write_json, write_png)
import numpy as np  # noqa: E402

try:
    from scipy.ndimage import map_coordinates
    from scipy.signal import find_peaks
except ImportError as e:
    fail("needs scipy (Debian: python3-scipy, which python3-skimage "
         "brings): %s" % e)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WIDTH, HEIGHT, FPS = 320, 240, 15
FRAMES = 195
SPEED = 4             # rows the belt moves per frame
MARGIN = 3            # pixels of overlap where bricks meet
BAND = 16             # rows per band when looking for mortar lines

# (kind, frame at which it first shows at the top edge, frame column of
# its centre).
# Two pairs, with defect-free frames before, between and after them.
DEFECTS = (
    ("scratch", 15, 96),
    ("blot", 30, 232),
    ("foreign", 110, 244),
    ("hole", 122, 76),
)

# VP8 at a constant, fine quantizer (4 of 63) so that the texture the model
# looks at survives, a keyframe every 2 s for seeking; one thread and the
# best deadline so the encoder's choices do not depend on timing.
VP8 = ["vp8enc", "deadline=0", "cpu-used=0", "threads=1", "min-quantizer=4",
       "max-quantizer=4", "keyframe-max-dist=30"]


def mortar_lines(region):
    """The vertical mortar lines of region, as (x at row 0, slope) pairs,
    left to right: the bright peaks of each band's column means, followed
    from band to band and fitted with a straight line."""
    height = region.shape[0]
    tracks = None
    for y0 in range(0, height - BAND + 1, BAND):
        peaks, _ = find_peaks(region[y0:y0 + BAND].mean(axis=0),
                              distance=20, prominence=10)
        y = y0 + BAND / 2.0
        if tracks is None:
            tracks = [[(y, p)] for p in peaks]
            continue
        for track in tracks:
            near = peaks[np.abs(peaks - track[-1][1]) <= 6]
            if len(near):
                track.append((y, near[0]))
    bands = height // BAND
    lines = []
    for track in tracks:
        if len(track) == bands:
            ys, xs = np.array(track, dtype=float).T
            slope, x0 = np.polyfit(ys, xs, 1)
            lines.append((x0, slope))
    if len(lines) < 4:
        fail("found only %d mortar lines in the test rows" % len(lines))
    return lines


def straight_columns(region, lines, width):
    """Each column of bricks between two mortar lines, resampled so that the
    lines become the vertical edges of a strip width pixels wide, plus
    MARGIN beyond each edge."""
    height = region.shape[0]
    u = np.arange(-MARGIN, width + MARGIN + 1, dtype=float) / width
    y = np.arange(height, dtype=float)[:, None]
    strips = []
    for (l0, ls), (r0, rs) in zip(lines[:-1], lines[1:]):
        left, right = l0 + ls * y, r0 + rs * y
        x = left + u[None, :] * (right - left)
        strips.append(map_coordinates(region, [np.broadcast_to(y, x.shape), x],
                                      order=3, mode="nearest"))
    return strips


class Bricks:
    """The bricks of the straightened columns.  A joint is a bright peak of
    the mean of a strip's inner pixels; a whole brick runs from one joint to
    the next.  There are few whole bricks in 205 rows, so new ones are made
    by splicing the top of one brick onto the bottom of another, both cut
    at joints, cross-faded in the brick's plain middle."""

    FADE = 8          # rows on each side of a splice
    GUARD = 6         # rows kept clear of the mortar of a joint

    def __init__(self, strips):
        self.strips = strips
        self.tops, self.bottoms, self.lengths = [], [], []
        for i, strip in enumerate(strips):
            height = strip.shape[0]
            inner = strip[:, 3 * MARGIN:-3 * MARGIN].mean(axis=1)
            joints, _ = find_peaks(inner, distance=40, prominence=15)
            self.lengths += np.diff(joints).tolist()
            # Each end of a brick with the plain rows it has before the
            # next joint or the end of the strip.
            below = np.diff(np.append(joints, height))
            above = np.diff(np.insert(joints, 0, 0))
            self.tops += [(i, j, n) for j, n in zip(joints, below)
                          if j >= MARGIN]
            self.bottoms += [(i, j, n) for j, n in zip(joints, above)
                             if j + MARGIN < height]
        if not self.lengths:
            fail("found no whole brick in the test rows")

    def _pick(self, rng, ends, rows):
        """A brick end with at least rows plain rows next to it."""
        ends = [(i, j) for i, j, n in ends if n >= rows + self.GUARD]
        if not ends:
            fail("the test rows hold no brick end long enough to splice")
        return ends[int(rng.integers(0, len(ends)))]

    def make(self, rng):
        """A brick: rows from MARGIN above its top joint to MARGIN below its
        bottom one, a whole brick's length apart."""
        length = self.lengths[int(rng.integers(0, len(self.lengths)))]
        split = int(rng.integers(length // 3, 2 * length // 3 + 1))
        rest = length - split
        s, top = self._pick(rng, self.tops, split + self.FADE)
        t, bottom = self._pick(rng, self.bottoms, rest + self.FADE)
        upper = self.strips[s][top - MARGIN:top + split + self.FADE]
        lower = self.strips[t][bottom - rest - self.FADE:bottom + MARGIN + 1]
        fade = (np.arange(2 * self.FADE) + 0.5) / (2 * self.FADE)
        middle = (upper[-2 * self.FADE:] * (1.0 - fade[:, None])
                  + lower[:2 * self.FADE] * fade[:, None])
        return np.vstack([upper[:-2 * self.FADE], middle,
                          lower[2 * self.FADE:]])


def ramp(n):
    """Weights over n samples that rise over the first 2·MARGIN+1 and fall
    over the last, crossing 1/2 at MARGIN from each end, so that two pieces
    overlapping by 2·MARGIN+1 samples add up to 1 everywhere."""
    i = np.arange(n, dtype=float)
    edge = np.minimum(i, n - 1 - i)
    return np.clip((edge + 1) / (2 * MARGIN + 2), 0.0, 1.0)


def lay_belt(rng, bricks, columns, rows, width):
    """A belt rows x columns·width, each column a seeded random run of
    bricks, blended where they meet."""
    pad = max(bricks.lengths) + 2 * MARGIN + 1
    total = np.zeros((rows + 2 * pad, columns * width + 2 * MARGIN + 1))
    weight = np.zeros_like(total)
    for column in range(columns):
        # Start each column at a different height so joints do not line up.
        y = int(rng.integers(0, pad))
        while y < rows + pad:
            brick = bricks.make(rng)
            if rng.integers(0, 2):
                brick = brick[::-1]
            if rng.integers(0, 2):
                brick = brick[:, ::-1]
            h, w = brick.shape
            wy = np.outer(ramp(h), ramp(w))
            x = column * width
            total[y:y + h, x:x + w] += wy * brick
            weight[y:y + h, x:x + w] += wy
            y += h - 2 * MARGIN - 1
    return (total / np.maximum(weight, 1e-6))[pad:pad + rows,
                                              MARGIN:MARGIN + columns * width]


def window_row(frame):
    """Belt row shown at the top of a frame: the belt moves down, so later
    frames show rows nearer the start of the belt."""
    return SPEED * (FRAMES - 1 - frame)


def place_defects(belt, seed, x_offset):
    """Draw DEFECTS on belt (in place); returns their Defect objects."""
    sources = foreign_sources("brick")
    defects = []
    for i, (kind, first, column) in enumerate(DEFECTS):
        # Draw the defect once to learn its extent, then again, from the
        # same random numbers, moved so that its lowest row shows at the top
        # of the frame first.
        cx, cy = x_offset + column, window_row(first)
        for attempt in range(100):
            seeds = [seed, i, attempt]
            defect = make_defect(kind, np.random.default_rng(seeds), belt,
                                 cx, cy, sources)
            _, y, w, h = defect.bbox()
            # Big enough to see in a 320x240 picture.
            if max(w, h) >= 16:
                break
        shift = y + h - 1 - window_row(first)
        defect = make_defect(kind, np.random.default_rng(seeds), belt,
                             cx, cy - shift, sources)
        defect.paint(belt)
        defects.append(defect)
    return defects


def frame_boxes(defect, x_offset, mask):
    """(frame, [x, y, w, h]) for every frame where a pixel of mask (over the
    defect's window) shows."""
    ys, xs = np.nonzero(mask)
    ys, xs = ys + defect.y0, xs + defect.x0 - x_offset
    boxes = []
    for frame in range(FRAMES):
        top = window_row(frame)
        seen = (ys >= top) & (ys < top + HEIGHT) & (xs >= 0) & (xs < WIDTH)
        if seen.any():
            fy, fx = ys[seen] - top, xs[seen]
            boxes.append((frame, [int(fx.min()), int(fy.min()),
                                  int(fx.max() - fx.min() + 1),
                                  int(fy.max() - fy.min() + 1)]))
    return boxes


def normal_runs(shown):
    """[first, last] runs of frames in which no defect shows."""
    runs, start = [], None
    for frame in range(FRAMES + 1):
        clear = frame < FRAMES and frame not in shown
        if clear and start is None:
            start = frame
        elif not clear and start is not None:
            runs.append([start, frame - 1])
            start = None
    return runs


def encode(frames, path):
    """Encode GRAY8 frames into a WebM file with gst-launch-1.0."""
    pipeline = (["gst-launch-1.0", "-q", "fdsrc", "fd=0", "!",
                 "rawvideoparse", "width=%d" % WIDTH, "height=%d" % HEIGHT,
                 "format=gray8", "framerate=%d/1" % FPS, "!", "videoconvert",
                 "!", "video/x-raw,format=I420", "!"] + VP8
                + ["!", "webmmux", "!", "filesink", "location=" + path])
    try:
        gst = subprocess.Popen(pipeline, stdin=subprocess.PIPE)
    except OSError as e:
        fail("cannot run gst-launch-1.0 (Debian: gstreamer1.0-tools): %s" % e)
    try:
        for frame in frames:
            gst.stdin.write(frame.tobytes())
        gst.stdin.close()
    except BrokenPipeError:
        pass
    if gst.wait() != 0:
        fail("%s: gst-launch-1.0 failed to encode the clip" % path)


def main():
    parser = argparse.ArgumentParser(
        description="Write the demo clip, a moving belt with defects, and "
        "the JSON that says where the defects are in each frame.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=os.path.join(ROOT, "media",
                                                      "brick-belt.webm"))
    parser.add_argument("--json", default=os.path.join(ROOT, "media",
                                                       "demo-line.json"))
    parser.add_argument("--frames", metavar="DIR",
                        help="also write every frame as a PNG into DIR")
    args = parser.parse_args()
    if args.seed < 0:
        fail("--seed: %d is negative" % args.seed)

    texture = load_texture("brick")
    # The test rows in the wide sense: all that training never sees.
    regions = split_rows(texture.shape[0], 64)
    start, end = regions["calibration"][0], regions["test"][1]
    region = texture[start:end]
    lines = mortar_lines(region)
    width = int(round(np.median(np.diff([x0 for x0, _ in lines]))))
    bricks = Bricks(straight_columns(region, lines, width))

    rng = np.random.default_rng(args.seed)
    columns = math.ceil(WIDTH / width) + 1
    rows = HEIGHT + SPEED * (FRAMES - 1)
    belt = lay_belt(rng, bricks, columns, rows, width)
    # Put a column's middle, not a mortar line, at the left edge.
    x_offset = width // 2
    defects = place_defects(belt, args.seed, x_offset)
    pixels = to_uint8(belt)
    frames = [pixels[window_row(f):window_row(f) + HEIGHT,
                     x_offset:x_offset + WIDTH] for f in range(FRAMES)]

    out_dir = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(out_dir):
        fail("%s: no such directory" % out_dir)
    if args.frames:
        os.makedirs(args.frames, exist_ok=True)
        for f, frame in enumerate(frames):
            write_png(os.path.join(args.frames, "%04d.png" % f), frame)
    encode(frames, args.out)

    entries, boxes, shown = [], [], set()
    for i, defect in enumerate(defects):
        visits = frame_boxes(defect, x_offset, defect.mask())
        # Frames with no ground truth may still show the faint rim of a
        # soft edge: only frames that show nothing of it are normal.
        shown.update(f for f, _ in frame_boxes(defect, x_offset,
                                               defect.alpha > 0.004))
        entry = {"id": i}
        entry.update(defect.info)
        entry.update({"first_frame": visits[0][0], "last_frame": visits[-1][0],
                      "pixels": int(defect.mask().sum())})
        entries.append(entry)
        for frame, bbox in visits:
            boxes.append({"frame": frame, "defect": i, "bbox": bbox})
    boxes.sort(key=lambda b: (b["frame"], b["defect"]))
    write_json(args.json, {
        "clip": os.path.basename(args.out),
        "width": WIDTH, "height": HEIGHT, "fps": FPS, "frames": FRAMES,
        "texture": "brick", "source_rows": [start, end], "seed": args.seed,
        "motion": {"direction": "down", "pixels_per_frame": SPEED},
        "note": "bbox is [x, y, width, height] in frame pixels of the part "
                "of the defect's ground truth inside the frame; y grows by "
                "pixels_per_frame from one frame to the next.  In "
                "normal_frames no pixel differs from the defect-free belt.",
        "normal_frames": normal_runs(shown),
        "defects": entries,
        "boxes": boxes,
    })
    print("%s: %d frames %dx%d at %d fps, %d defects; %s"
          % (args.out, FRAMES, WIDTH, HEIGHT, FPS, len(defects), args.json))


if __name__ == "__main__":
    run(main)
