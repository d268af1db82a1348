#!/usr/bin/python3
# make-texture-set.py: the texture data set for training and testing models
#
# Copyright (C) 2026 the gst-anogan authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A uniform material on a production line, with synthetic defects.  The
# normal texture (scikit-image's brick.png by default) is split by rows so
# that no test picture shows a pixel that training saw:
#
#   rows [0, 307)     train/        the region itself, one PNG
#   rows [307, 379)   calibration/  normal crops, to set the threshold on
#   rows [379, 512)   test/normal/ and test/anomalous/, with test/masks/
#
# Test crops are 64x64 at random positions; each anomalous crop gets one
# defect (a foreign patch, a scratch, a blot or a hole, equally many of
# each) lying wholly inside it, and a mask of the same name (255 defect,
# 0 normal).  manifest.json says where every crop comes from and what each
# defect is.  No brightness jitter is applied: see docs/texture-data.md.
#
# That is the photo layout.  The belt layout (brick only) shows the
# material the demo clip shows instead: each region's bricks re-laid on a
# belt by the clip's own code (texture_common.py), straightened columns of
# the clip's width, the clip's brick lengths, blended joints, and the train
# rows brought to the clip's scale as well.  train/ then holds long belt
# pictures, calibration-frames/ defect-free windows the size of the clip's
# frames, and the crops are cut from belts of the calibration and test rows.
#
#   /usr/bin/python3 scripts/make-texture-set.py OUT_DIR [--seed S]
#       [--texture brick|gravel|grass] [--layout photo|belt] [--normal N]
#       [--anomalous N] [--calibration N] [--train-pictures N]
#       [--montage PNG]
#
# The same arguments always give the same bytes.

import argparse
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from texture_common import (  # noqa: E402
    KINDS, TEXTURES, Bricks, clip_bricks, fail, foreign_sources, full_length,
    lay_belt_for, load_texture, make_defect, mortar_lines, rectified_rows,
    split_rows, straight_columns, run, texture_path, to_uint8, write_json,
    write_png)
import numpy as np  # noqa: E402

CROP = 64
SUBDIRS = ("train", "calibration", "calibration-frames", "test")

# The belt layout: pictures as wide as the clip's frames; train pictures
# of TRAIN_ROWS rows; the calibration belt cut into CALIBRATION_FRAMES
# windows of the clip's frame size, one after the other; the test crops cut
# from a belt of TEST_ROWS rows.
FRAME_WIDTH, FRAME_HEIGHT = 320, 240
TRAIN_ROWS = 1024
CALIBRATION_FRAMES = 60
TEST_ROWS = 2048


def random_crops(rng, rows, width, count):
    """count top-left corners of CROP x CROP crops inside rows [start, end)."""
    ys = rng.integers(rows[0], rows[1] - CROP + 1, count)
    xs = rng.integers(0, width - CROP + 1, count)
    return list(zip(xs.tolist(), ys.tolist()))


def defect_inside(rng, kind, crop, sources):
    """A defect of kind whose ground truth lies wholly inside the crop,
    at least one pixel from its border; drawn again until it does."""
    for _ in range(1000):
        cx, cy = rng.uniform(8, CROP - 8, 2)
        defect = make_defect(kind, rng, crop, cx, cy, sources)
        x, y, w, h = defect.bbox()
        if x >= 1 and y >= 1 and x + w <= CROP - 1 and y + h <= CROP - 1:
            return defect
    raise RuntimeError("no %s fits in a %d-pixel crop" % (kind, CROP))


def region_bricks(texture, region, clip, rescale):
    """The bricks of texture's rows region for a belt like the clip's: its
    columns straightened to the clip's width and laid with the clip's brick
    lengths.  The calibration and test rows are the clip's own rows, taken
    at their scale as the clip takes them; the train rows lie farther off
    in the photograph, so they are resampled (rescale) along the columns
    too, to the length of the clip's whole bricks."""
    bricks, width = clip
    start, end = region
    what = "%s rows %d-%d" % (texture_path("brick"), start, end - 1)
    pixels = texture[start:end]
    lines = mortar_lines(pixels, what)
    rows = None
    if rescale:
        rows = rectified_rows(pixels, lines, width,
                              full_length(bricks.lengths), what)
    return Bricks(straight_columns(pixels, lines, width, rows), what,
                  bricks.lengths)


def belt_picture(seed, stream, bricks, width, rows):
    """A belt FRAME_WIDTH wide and rows long, laid from its own random
    numbers (seed, stream) so that each belt stays the same whichever
    others are made."""
    rng = np.random.default_rng([seed] + list(stream))
    belt, x = lay_belt_for(rng, bricks, width, rows, FRAME_WIDTH)
    return belt[:, x:x + FRAME_WIDTH]


def prepare(out_dir, belt):
    """Make out_dir ready: new, empty, or a previous set (replaced)."""
    if os.path.exists(out_dir):
        if not os.path.isdir(out_dir):
            fail("%s: exists and is not a directory" % out_dir)
        entries = set(os.listdir(out_dir))
        if entries and "manifest.json" not in entries:
            fail("%s: not empty and not a texture set; give a new directory"
                 % out_dir)
        for name in SUBDIRS:
            shutil.rmtree(os.path.join(out_dir, name), ignore_errors=True)
    for name in ("train", "calibration", "test/normal", "test/anomalous",
                 "test/masks") + (("calibration-frames",) if belt else ()):
        os.makedirs(os.path.join(out_dir, name), exist_ok=True)


def montage(path, normal, anomalous, masks, kinds, columns=3, scale=2):
    """A figure: a row of normal crops, then a row per defect kind of
    (crop, mask) pairs; white gaps; every pixel scale times."""
    gap = 4
    cell = CROP + gap
    rows = [normal[:2 * columns]]
    for kind in KINDS:
        pairs = [i for i, k in enumerate(kinds) if k == kind][:columns]
        row = []
        for i in pairs:
            row += [anomalous[i], masks[i]]
        rows.append(row)
    width = 2 * columns * cell - gap
    figure = np.full((len(rows) * cell - gap, width), 255, np.uint8)
    for r, row in enumerate(rows):
        for c, picture in enumerate(row):
            y, x = r * cell, c * cell
            figure[y:y + CROP, x:x + CROP] = picture
    write_png(path, np.kron(figure, np.ones((scale, scale), np.uint8)))


def main():
    parser = argparse.ArgumentParser(
        description="Write the texture data set: train region, calibration "
        "crops, normal and anomalous test crops with masks, manifest.json.")
    parser.add_argument("out_dir", metavar="OUT_DIR")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--texture", default="brick", choices=TEXTURES)
    parser.add_argument("--layout", default="photo", choices=("photo", "belt"),
                        help="photo: crops of the photograph; belt: of its "
                        "bricks re-laid as the demo clip shows them "
                        "(default photo)")
    parser.add_argument("--normal", type=int, default=200, metavar="N",
                        help="normal test crops (default 200)")
    parser.add_argument("--anomalous", type=int, default=200, metavar="N",
                        help="anomalous test crops (default 200)")
    parser.add_argument("--calibration", type=int, default=100, metavar="N",
                        help="normal calibration crops (default 100)")
    parser.add_argument("--train-pictures", type=int, default=4, metavar="N",
                        help="belt layout: train pictures of %dx%d, each "
                        "laid in its own order (default 4)"
                        % (FRAME_WIDTH, TRAIN_ROWS))
    parser.add_argument("--montage", metavar="PNG",
                        help="also write a figure of examples to PNG")
    args = parser.parse_args()
    for name in ("normal", "anomalous", "calibration"):
        if not 0 <= getattr(args, name) <= 100000:
            fail("--%s: %d is not between 0 and 100000"
                 % (name, getattr(args, name)))
    if not 1 <= args.train_pictures <= 1000:
        fail("--train-pictures: %d is not between 1 and 1000"
             % args.train_pictures)
    if args.seed < 0:
        fail("--seed: %d is negative" % args.seed)
    if args.montage and (args.normal < 6 or args.anomalous < 4 * 3):
        fail("--montage needs at least 6 normal and 12 anomalous crops")
    belt = args.layout == "belt"
    if belt and args.texture != "brick":
        fail("--layout belt: only for --texture brick, whose bricks it "
             "re-lays")

    texture = load_texture(args.texture)
    sources = foreign_sources(args.texture)
    height, width = texture.shape
    regions = split_rows(height, CROP)
    rng = np.random.default_rng(args.seed)
    out = args.out_dir
    prepare(out, belt)

    # Sets made before the belt layout have no "layout": it is "photo",
    # whose manifest stays as it was.  The belt's entries are filled in
    # below; here they take their places.
    manifest = {"texture": args.texture,
                "source": os.path.basename(texture_path(args.texture))}
    if belt:
        manifest["layout"] = "belt"
    manifest.update(seed=args.seed, crop=CROP,
                    regions={k: list(v) for k, v in regions.items()})
    if belt:
        manifest["belt"] = {}
    counts = {"train": args.train_pictures if belt else 1,
              "calibration": args.calibration}
    if belt:
        counts["calibration_frames"] = CALIBRATION_FRAMES
    counts.update(normal=args.normal, anomalous=args.anomalous)
    manifest.update(counts=counts, train=[], calibration=[])
    if belt:
        manifest["calibration_frames"] = []
    manifest.update(normal=[], anomalous=[])

    start, end = regions["train"]
    if belt:
        # Each belt has its own random numbers, apart from those of the
        # crops: stream [0, picture] for train, [1] calibration, [2] test.
        clip = clip_bricks(texture)
        column = clip[1]
        train = region_bricks(texture, regions["train"], clip, True)
        for p in range(args.train_pictures):
            name = "train/brick-rows-%d-%d-belt-%02d.png" % (start, end, p)
            write_png(os.path.join(out, name),
                      to_uint8(belt_picture(args.seed, [0, p], train, column,
                                            TRAIN_ROWS)))
            manifest["train"].append({"file": name, "stream": [0, p],
                                      "width": FRAME_WIDTH,
                                      "height": TRAIN_ROWS})
        calibration = belt_picture(
            args.seed, [1],
            region_bricks(texture, regions["calibration"], clip, False),
            column, CALIBRATION_FRAMES * FRAME_HEIGHT)
        test = belt_picture(
            args.seed, [2],
            region_bricks(texture, regions["test"], clip, False),
            column, TEST_ROWS)
        for i in range(CALIBRATION_FRAMES):
            name = "calibration-frames/%04d.png" % i
            y = i * FRAME_HEIGHT
            write_png(os.path.join(out, name),
                      to_uint8(calibration[y:y + FRAME_HEIGHT]))
            manifest["calibration_frames"].append(
                {"file": name, "x": 0, "y": y, "width": FRAME_WIDTH,
                 "height": FRAME_HEIGHT})
        manifest["belt"].update({
            "column_width": column, "brick_lengths": clip[0].lengths,
            "train_rows_resampled": len(train.strips[0]),
            "calibration": {"stream": [1], "width": FRAME_WIDTH,
                            "height": calibration.shape[0]},
            "test": {"stream": [2], "width": FRAME_WIDTH,
                     "height": TEST_ROWS}})
        regions = {"calibration": (0, calibration.shape[0]),
                   "test": (0, TEST_ROWS)}
        width = FRAME_WIDTH
    else:
        name = "train/%s-rows-%d-%d.png" % (args.texture, start, end)
        write_png(os.path.join(out, name), to_uint8(texture[start:end]))
        manifest["train"].append({"file": name, "x": 0, "y": start,
                                  "width": width, "height": end - start})
        calibration = test = texture

    for i, (x, y) in enumerate(random_crops(rng, regions["calibration"],
                                            width, args.calibration)):
        name = "calibration/%04d.png" % i
        write_png(os.path.join(out, name),
                  to_uint8(calibration[y:y + CROP, x:x + CROP]))
        manifest["calibration"].append({"file": name, "x": x, "y": y})

    normal = []
    for i, (x, y) in enumerate(random_crops(rng, regions["test"], width,
                                            args.normal)):
        name = "test/normal/%04d.png" % i
        normal.append(to_uint8(test[y:y + CROP, x:x + CROP]))
        write_png(os.path.join(out, name), normal[-1])
        manifest["normal"].append({"file": name, "x": x, "y": y})

    # Equally many of each kind, in a seeded order.
    kinds = [KINDS[i % len(KINDS)] for i in range(args.anomalous)]
    rng.shuffle(kinds)
    anomalous, masks = [], []
    for i, (x, y) in enumerate(random_crops(rng, regions["test"], width,
                                            args.anomalous)):
        crop = test[y:y + CROP, x:x + CROP].copy()
        defect = defect_inside(rng, kinds[i], crop, sources)
        mask = np.zeros(crop.shape, bool)
        defect.paint(crop, mask)
        anomalous.append(to_uint8(crop))
        masks.append(np.where(mask, 255, 0).astype(np.uint8))
        base = "%04d-%s.png" % (i, kinds[i])
        write_png(os.path.join(out, "test/anomalous", base), anomalous[-1])
        write_png(os.path.join(out, "test/masks", base), masks[-1])
        entry = {"file": "test/anomalous/" + base,
                 "mask": "test/masks/" + base, "x": x, "y": y,
                 "bbox": defect.bbox(), "pixels": int(mask.sum())}
        entry.update(defect.info)
        manifest["anomalous"].append(entry)

    write_json(os.path.join(out, "manifest.json"), manifest)

    if args.montage:
        montage(args.montage, normal, anomalous, masks, kinds)

    if belt:
        print("%s: belt of brick, seed %d: %d train pictures %dx%d from "
              "rows %d-%d, %d calibration frames %dx%d, %d calibration, "
              "%d normal and %d anomalous test crops"
              % (out, args.seed, args.train_pictures, FRAME_WIDTH,
                 TRAIN_ROWS, start, end, CALIBRATION_FRAMES, FRAME_WIDTH,
                 FRAME_HEIGHT, args.calibration, args.normal, args.anomalous))
    else:
        print("%s: %s texture, seed %d: train rows %d-%d, %d calibration, "
              "%d normal and %d anomalous test crops"
              % (out, args.texture, args.seed, start, end, args.calibration,
                 args.normal, args.anomalous))


if __name__ == "__main__":
    run(main)
