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
# make-texture-set.py never puts in a training set), by the belt code of
# texture_common.py, which make-texture-set.py --layout belt shares:
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
# The frames go as grey RGB to gst-launch-1.0, which encodes them as VP8
# in WebM; media/demo-line.json gets each defect's kind and its bounding box
# in every frame where it shows.
#
#   /usr/bin/python3 scripts/make-demo-clip.py [--seed S] [--out CLIP]
#       [--json JSON] [--frames DIR]

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from texture_common import (  # noqa: E402
    clip_bricks, clip_rows, fail, foreign_sources, lay_belt_for,
    load_texture, make_defect, run, to_uint8, write_json, write_png)
import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WIDTH, HEIGHT, FPS = 320, 240, 15
FRAMES = 195
SPEED = 4             # rows the belt moves per frame

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
    """Encode grey frames into a WebM file with gst-launch-1.0.

    They go in as RGB with R = G = B: GStreamer converts RGB to the video's
    limited-range YUV and back, so a decoder's RGB (what the tools read) is
    the picture drawn.  GRAY8 would be taken for the Y plane as it is and
    come back with its contrast stretched by 255/219."""
    pipeline = (["gst-launch-1.0", "-q", "fdsrc", "fd=0", "!",
                 "rawvideoparse", "width=%d" % WIDTH, "height=%d" % HEIGHT,
                 "format=rgb", "framerate=%d/1" % FPS, "!", "videoconvert",
                 "!", "video/x-raw,format=I420", "!"] + VP8
                + ["!", "webmmux", "!", "filesink", "location=" + path])
    try:
        gst = subprocess.Popen(pipeline, stdin=subprocess.PIPE)
    except OSError as e:
        fail("cannot run gst-launch-1.0 (Debian: gstreamer1.0-tools): %s" % e)
    try:
        for frame in frames:
            gst.stdin.write(np.repeat(frame[..., None], 3, 2).tobytes())
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
    start, end = clip_rows(texture.shape[0])
    bricks, width = clip_bricks(texture)

    rng = np.random.default_rng(args.seed)
    rows = HEIGHT + SPEED * (FRAMES - 1)
    belt, x_offset = lay_belt_for(rng, bricks, width, rows, WIDTH)
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
