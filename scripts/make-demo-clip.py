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
# --width and --height make a wider window on a wider belt at the same
# scale (a brick is as many pixels in every size), not an upscale: the
# defects keep their size and sit at the same fractions of the width, and
# their entry frames scale with --length.  The shipped clips:
#
#   /usr/bin/python3 scripts/make-demo-clip.py       # 320x240, 195 frames
#   /usr/bin/python3 scripts/make-demo-clip.py --width 640 --height 480 \
#       --length 150        # brick-belt-640x480.webm, demo-line-640x480.json
#
#   /usr/bin/python3 scripts/make-demo-clip.py [--seed S] [--width W]
#       [--height H] [--length N] [--out CLIP] [--json JSON] [--frames DIR]

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
WIDTH, HEIGHT, FPS = 320, 240, 15     # the default clip's
FRAMES = 195
SPEED = 4             # rows the belt moves per frame

# (kind, frame at which it first shows at the top edge, frame column of
# its centre), in the default clip; other sizes and lengths scale the frame
# and the column.
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


class Clip:
    """The size of the frames and the number of them."""

    def __init__(self, width, height, frames):
        self.width, self.height, self.frames = width, height, frames

    def window_row(self, frame):
        """Belt row shown at the top of a frame: the belt moves down, so
        later frames show rows nearer the start of the belt."""
        return SPEED * (self.frames - 1 - frame)

    def defects(self):
        """DEFECTS for this clip: entry frames scaled to its length and
        columns to its width (the same in the default clip)."""
        return [(kind, first * self.frames // FRAMES,
                 column * self.width // WIDTH)
                for kind, first, column in DEFECTS]


def place_defects(clip, belt, seed, x_offset):
    """Draw the clip's defects on belt (in place); returns their Defect
    objects."""
    sources = foreign_sources("brick")
    defects = []
    for i, (kind, first, column) in enumerate(clip.defects()):
        # Draw the defect once to learn its extent, then again, from the
        # same random numbers, moved so that its lowest row shows at the top
        # of the frame first.
        cx, cy = x_offset + column, clip.window_row(first)
        for attempt in range(100):
            seeds = [seed, i, attempt]
            defect = make_defect(kind, np.random.default_rng(seeds), belt,
                                 cx, cy, sources)
            _, y, w, h = defect.bbox()
            # Big enough to see in a 320x240 picture (and at the same
            # scale in any other).
            if max(w, h) >= 16:
                break
        shift = y + h - 1 - clip.window_row(first)
        defect = make_defect(kind, np.random.default_rng(seeds), belt,
                             cx, cy - shift, sources)
        defect.paint(belt)
        defects.append(defect)
    return defects


def frame_boxes(clip, defect, x_offset, mask):
    """(frame, [x, y, w, h]) for every frame where a pixel of mask (over the
    defect's window) shows."""
    ys, xs = np.nonzero(mask)
    ys, xs = ys + defect.y0, xs + defect.x0 - x_offset
    boxes = []
    for frame in range(clip.frames):
        top = clip.window_row(frame)
        seen = ((ys >= top) & (ys < top + clip.height) & (xs >= 0)
                & (xs < clip.width))
        if seen.any():
            fy, fx = ys[seen] - top, xs[seen]
            boxes.append((frame, [int(fx.min()), int(fy.min()),
                                  int(fx.max() - fx.min() + 1),
                                  int(fy.max() - fy.min() + 1)]))
    return boxes


def normal_runs(clip, shown):
    """[first, last] runs of frames in which no defect shows."""
    runs, start = [], None
    for frame in range(clip.frames + 1):
        clear = frame < clip.frames and frame not in shown
        if clear and start is None:
            start = frame
        elif not clear and start is not None:
            runs.append([start, frame - 1])
            start = None
    return runs


def encode(clip, frames, path):
    """Encode grey frames into a WebM file with gst-launch-1.0.

    They go in as RGB with R = G = B: GStreamer converts RGB to the video's
    limited-range YUV and back, so a decoder's RGB (what the tools read) is
    the picture drawn.  GRAY8 would be taken for the Y plane as it is and
    come back with its contrast stretched by 255/219."""
    pipeline = (["gst-launch-1.0", "-q", "fdsrc", "fd=0", "!",
                 "rawvideoparse", "width=%d" % clip.width,
                 "height=%d" % clip.height,
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
    parser.add_argument("--width", type=int, default=WIDTH,
                        help="frame width in pixels (default %(default)s)")
    parser.add_argument("--height", type=int, default=HEIGHT,
                        help="frame height in pixels (default %(default)s)")
    parser.add_argument("--length", type=int, default=FRAMES, metavar="N",
                        help="number of frames (default %(default)s)")
    parser.add_argument("--out", help="the clip (default: media/"
                        "brick-belt.webm, or brick-belt-WxH.webm for "
                        "another size)")
    parser.add_argument("--json", help="the ground truth (default: media/"
                        "demo-line.json, or demo-line-WxH.json)")
    parser.add_argument("--frames", metavar="DIR",
                        help="also write every frame as a PNG into DIR")
    args = parser.parse_args()
    if args.seed < 0:
        fail("--seed: %d is negative" % args.seed)
    # Even sizes: I420's chroma planes are half the picture each way.
    for name, value in (("--width", args.width), ("--height", args.height)):
        if value < 64 or value > 4096 or value % 2:
            fail("%s: %d is not an even number of pixels in 64-4096"
                 % (name, value))
    if args.length < 1 or args.length > 100000:
        fail("--length: %d is not a number of frames in 1-100000"
             % args.length)
    clip = Clip(args.width, args.height, args.length)
    suffix = ("" if (clip.width, clip.height) == (WIDTH, HEIGHT)
              else "-%dx%d" % (clip.width, clip.height))
    if args.out is None:
        args.out = os.path.join(ROOT, "media", "brick-belt%s.webm" % suffix)
    if args.json is None:
        args.json = os.path.join(ROOT, "media", "demo-line%s.json" % suffix)

    texture = load_texture("brick")
    # The test rows in the wide sense: all that training never sees.
    start, end = clip_rows(texture.shape[0])
    bricks, width = clip_bricks(texture)

    rng = np.random.default_rng(args.seed)
    rows = clip.height + SPEED * (clip.frames - 1)
    belt, x_offset = lay_belt_for(rng, bricks, width, rows, clip.width)
    defects = place_defects(clip, belt, args.seed, x_offset)
    pixels = to_uint8(belt)
    frames = [pixels[clip.window_row(f):clip.window_row(f) + clip.height,
                     x_offset:x_offset + clip.width]
              for f in range(clip.frames)]

    out_dir = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(out_dir):
        fail("%s: no such directory" % out_dir)
    if args.frames:
        os.makedirs(args.frames, exist_ok=True)
        for f, frame in enumerate(frames):
            write_png(os.path.join(args.frames, "%04d.png" % f), frame)
    encode(clip, frames, args.out)

    entries, boxes, shown = [], [], set()
    for i, defect in enumerate(defects):
        visits = frame_boxes(clip, defect, x_offset, defect.mask())
        # Frames with no ground truth may still show the faint rim of a
        # soft edge: only frames that show nothing of it are normal.
        shown.update(f for f, _ in frame_boxes(clip, defect, x_offset,
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
        "width": clip.width, "height": clip.height, "fps": FPS,
        "frames": clip.frames,
        "texture": "brick", "source_rows": [start, end], "seed": args.seed,
        "motion": {"direction": "down", "pixels_per_frame": SPEED},
        "note": "bbox is [x, y, width, height] in frame pixels of the part "
                "of the defect's ground truth inside the frame; y grows by "
                "pixels_per_frame from one frame to the next.  In "
                "normal_frames no pixel differs from the defect-free belt.",
        "normal_frames": normal_runs(clip, shown),
        "defects": entries,
        "boxes": boxes,
    })
    print("%s: %d frames %dx%d at %d fps, %d defects; %s"
          % (args.out, clip.frames, clip.width, clip.height, FPS,
             len(defects), args.json))


if __name__ == "__main__":
    run(main)
