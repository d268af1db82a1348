#!/usr/bin/env python3
"""Writes the tiny evaluation set tests/test-anogan-eval.sh scores.

tests/data/eval/normal: six 32x32 grey patches of the fabric-like texture
of make-test-images.py, each from another place of it; eval/anomalous: six
more with a defect each (a bright scratch, a dark spot or a bright blob);
eval/masks: the defect mask of each anomalous patch under the same name
(255 = defect, 0 = normal).  Python's standard library only; the outputs
are committed, so the tests do not run this.
"""
import importlib.util
import os

HERE = os.path.dirname(os.path.abspath(__file__))

spec = importlib.util.spec_from_file_location(
    "make_test_images", os.path.join(HERE, "make-test-images.py"))
images = importlib.util.module_from_spec(spec)
spec.loader.exec_module(images)

SIZE = 32


def scratch(x0, y0, length):
    """A one-pixel-wide diagonal, two pixels thick."""
    return lambda x, y: 0 <= x - x0 - (y - y0) <= 1 and y0 <= y < y0 + length


def disc(cx, cy, r):
    return lambda x, y: (x - cx) ** 2 + (y - cy) ** 2 <= r * r


# (name, texture offset, defect, grey level of the defect)
ANOMALOUS = [
    ("scratch-a.png", (3, 7), scratch(6, 4, 20), 250),
    ("scratch-b.png", (11, 2), scratch(14, 10, 16), 245),
    ("spot-a.png", (5, 13), disc(20, 12, 4), 10),
    ("spot-b.png", (17, 9), disc(9, 22, 3), 20),
    ("blob-a.png", (23, 4), disc(16, 16, 6), 235),
    ("blob-b.png", (2, 19), disc(24, 24, 5), 240),
]

NORMAL_OFFSETS = [(0, 0), (7, 3), (13, 11), (21, 5), (4, 17), (29, 23)]


def main():
    for d in ("normal", "anomalous", "masks"):
        os.makedirs(os.path.join(HERE, "eval", d), exist_ok=True)

    for i, (dx, dy) in enumerate(NORMAL_OFFSETS):
        images.write_png(
            os.path.join("eval", "normal", "normal-%d.png" % i), SIZE, SIZE, 1,
            lambda x, y, dx=dx, dy=dy: (images.texture(x + dx, y + dy),))

    for name, (dx, dy), defect, level in ANOMALOUS:
        images.write_png(
            os.path.join("eval", "anomalous", name), SIZE, SIZE, 1,
            lambda x, y, dx=dx, dy=dy, defect=defect, level=level: (
                level if defect(x, y) else images.texture(x + dx, y + dy),))
        images.write_png(
            os.path.join("eval", "masks", name), SIZE, SIZE, 1,
            lambda x, y, defect=defect: (255 if defect(x, y) else 0,))


if __name__ == "__main__":
    main()
