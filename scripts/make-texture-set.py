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
#   /usr/bin/python3 scripts/make-texture-set.py OUT_DIR [--seed S]
#       [--texture brick|gravel|grass] [--normal N] [--anomalous N]
#       [--calibration N] [--montage PNG]
#
# The same arguments always give the same bytes.

import argparse
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from texture_common import (  # noqa: E402
    KINDS, TEXTURES, fail, foreign_sources, load_texture, make_defect,
    split_rows, run, texture_path, to_uint8, write_json, write_png)
import numpy as np  # noqa: E402

CROP = 64
SUBDIRS = ("train", "calibration", "test")


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


def prepare(out_dir):
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
                 "test/masks"):
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
    parser.add_argument("--normal", type=int, default=200, metavar="N",
                        help="normal test crops (default 200)")
    parser.add_argument("--anomalous", type=int, default=200, metavar="N",
                        help="anomalous test crops (default 200)")
    parser.add_argument("--calibration", type=int, default=100, metavar="N",
                        help="normal calibration crops (default 100)")
    parser.add_argument("--montage", metavar="PNG",
                        help="also write a figure of examples to PNG")
    args = parser.parse_args()
    for name in ("normal", "anomalous", "calibration"):
        if not 0 <= getattr(args, name) <= 100000:
            fail("--%s: %d is not between 0 and 100000"
                 % (name, getattr(args, name)))
    if args.seed < 0:
        fail("--seed: %d is negative" % args.seed)
    if args.montage and (args.normal < 6 or args.anomalous < 4 * 3):
        fail("--montage needs at least 6 normal and 12 anomalous crops")

    texture = load_texture(args.texture)
    sources = foreign_sources(args.texture)
    height, width = texture.shape
    regions = split_rows(height, CROP)
    rng = np.random.default_rng(args.seed)
    out = args.out_dir
    prepare(out)

    manifest = {
        "texture": args.texture,
        "source": os.path.basename(texture_path(args.texture)),
        "seed": args.seed,
        "crop": CROP,
        "regions": {k: list(v) for k, v in regions.items()},
        "counts": {"train": 1, "calibration": args.calibration,
                   "normal": args.normal, "anomalous": args.anomalous},
        "train": [], "calibration": [], "normal": [], "anomalous": [],
    }

    start, end = regions["train"]
    name = "train/%s-rows-%d-%d.png" % (args.texture, start, end)
    write_png(os.path.join(out, name), to_uint8(texture[start:end]))
    manifest["train"].append({"file": name, "x": 0, "y": start,
                              "width": width, "height": end - start})

    for i, (x, y) in enumerate(random_crops(rng, regions["calibration"],
                                            width, args.calibration)):
        name = "calibration/%04d.png" % i
        write_png(os.path.join(out, name),
                  to_uint8(texture[y:y + CROP, x:x + CROP]))
        manifest["calibration"].append({"file": name, "x": x, "y": y})

    normal = []
    for i, (x, y) in enumerate(random_crops(rng, regions["test"], width,
                                            args.normal)):
        name = "test/normal/%04d.png" % i
        normal.append(to_uint8(texture[y:y + CROP, x:x + CROP]))
        write_png(os.path.join(out, name), normal[-1])
        manifest["normal"].append({"file": name, "x": x, "y": y})

    # Equally many of each kind, in a seeded order.
    kinds = [KINDS[i % len(KINDS)] for i in range(args.anomalous)]
    rng.shuffle(kinds)
    anomalous, masks = [], []
    for i, (x, y) in enumerate(random_crops(rng, regions["test"], width,
                                            args.anomalous)):
        crop = texture[y:y + CROP, x:x + CROP].copy()
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

    print("%s: %s texture, seed %d: train rows %d-%d, %d calibration, "
          "%d normal and %d anomalous test crops"
          % (out, args.texture, args.seed, start, end, args.calibration,
             args.normal, args.anomalous))


if __name__ == "__main__":
    run(main)
