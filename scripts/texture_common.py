# texture_common.py: what make-texture-set.py and make-demo-clip.py share
#
# Copyright (C) 2026 the gst-anogan authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The source textures, the split of a texture's rows into train, calibration
# and test regions, the synthetic defects, and a PNG writer whose bytes
# depend on the pixels only (no time stamps, fixed filter and compression),
# so that the same seed always gives the same files.
#
# The defects are drawn, not photographed: each one is a blend weight alpha
# (0 = texture untouched, 1 = all defect) and the pixels it blends towards.
# Its ground truth is where alpha >= 0.5, that is where the defect has more
# weight in the pixel than the texture, except for scratches: there it is
# the pixels within the line's width.

import json
import math
import os
import struct
import sys
import zlib

try:
    import numpy as np
    import skimage
    import skimage.io
except ImportError as e:
    sys.exit("%s: needs numpy and scikit-image (Debian: python3-skimage; run "
             "it with /usr/bin/python3): %s"
             % (os.path.basename(sys.argv[0]), e))

# scikit-image's sample pictures, 512x512 grey, all CC0 (see the docstrings
# of skimage.data.brick, .gravel and .grass).
TEXTURES = ("brick", "gravel", "grass")
DATA_DIR = os.path.join(os.path.dirname(skimage.__file__), "data")

KINDS = ("foreign", "scratch", "blot", "hole")

# Rows of the normal texture: the top TRAIN_FRACTION for training, then
# CALIBRATION_ROWS for the threshold, then the rest for testing.  The
# calibration band is a little taller than a 64x64 crop so that its crops
# are not all on the same rows.
TRAIN_FRACTION = 0.6
CALIBRATION_ROWS = 72


def fail(message):
    """Print "PROGRAM: MESSAGE" on one line to stderr and exit with 1."""
    sys.exit("%s: %s" % (os.path.basename(sys.argv[0]), message))


def run(main):
    """Run main, turning a file system error into a one-line message."""
    try:
        main()
    except OSError as e:
        fail("%s: %s" % (e.filename, e.strerror) if e.filename else str(e))


def texture_path(name):
    return os.path.join(DATA_DIR, name + ".png")


def load_texture(name):
    """The named scikit-image texture as a float32 array (rows, columns)."""
    if name not in TEXTURES:
        fail("unknown texture '%s' (one of: %s)" % (name, ", ".join(TEXTURES)))
    path = texture_path(name)
    try:
        pixels = skimage.io.imread(path)
    except (OSError, ValueError) as e:
        fail("%s: cannot read: %s" % (path, e))
    if pixels.ndim != 2 or pixels.dtype != np.uint8:
        fail("%s: not an 8-bit grey picture" % path)
    return pixels.astype(np.float32)


def split_rows(height, crop):
    """Row ranges [start, end) of the train, calibration and test regions."""
    train_end = int(round(height * TRAIN_FRACTION))
    calibration_end = train_end + CALIBRATION_ROWS
    if height - calibration_end < crop:
        fail("texture of %d rows is too small for %d-pixel crops"
             % (height, crop))
    return {"train": (0, train_end),
            "calibration": (train_end, calibration_end),
            "test": (calibration_end, height)}


def to_uint8(pixels):
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8)


def _png_chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))


def write_png(path, pixels):
    """Write an 8-bit grey (rows, columns) or RGB (rows, columns, 3) PNG.

    Every row uses the Paeth filter, which suits photographs, and zlib level
    9; nothing else goes into the file, so equal pixels give equal bytes.
    """
    a = np.ascontiguousarray(pixels, dtype=np.uint8)
    height, width = a.shape[:2]
    channels = 1 if a.ndim == 2 else a.shape[2]
    a = a.reshape(height, width * channels).astype(np.int16)
    # Paeth predicts each byte from the bytes left (a), up (b) and up-left
    # (c) of it in the unfiltered picture, so all rows filter at once.
    left = np.zeros_like(a)
    left[:, channels:] = a[:, :-channels]
    up = np.zeros_like(a)
    up[1:] = a[:-1]
    up_left = np.zeros_like(a)
    up_left[:, channels:] = up[:, :-channels]
    p = left + up - up_left
    pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
    predictor = np.where((pa <= pb) & (pa <= pc), left,
                         np.where(pb <= pc, up, up_left))
    filtered = ((a - predictor) & 0xff).astype(np.uint8)
    raw = np.hstack([np.full((height, 1), 4, np.uint8), filtered]).tobytes()
    header = struct.pack(">IIBBBBB", width, height, 8,
                         0 if channels == 1 else 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
                + _png_chunk(b"IDAT", zlib.compress(raw, 9))
                + _png_chunk(b"IEND", b""))


def write_json(path, document):
    """Write a JSON object with each entry of its lists of objects on one
    line, so that long lists of files or frames read and diff well."""
    parts = []
    for key, value in document.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            text = ("[\n" + ",\n".join("  " + json.dumps(v) for v in value)
                    + "\n ]")
        else:
            text = json.dumps(value)
        parts.append(" %s: %s" % (json.dumps(key), text))
    with open(path, "w") as f:
        f.write("{\n" + ",\n".join(parts) + "\n}\n")


def _smoothstep(edge0, edge1, x):
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


class Defect:
    """A defect over the window [y0, y0+h) x [x0, x0+w) of a picture.

    alpha and target are (h, w) float arrays; info describes the defect for
    the manifest.
    """

    def __init__(self, y0, x0, alpha, target, info, mask=None):
        self.y0, self.x0 = y0, x0
        self.alpha, self.target, self.info = alpha, target, info
        self._mask = self.alpha >= 0.5 if mask is None else mask

    def mask(self):
        return self._mask

    def bbox(self):
        """[x, y, width, height] of the ground truth, in picture pixels."""
        ys, xs = np.nonzero(self.mask())
        return [int(self.x0 + xs.min()), int(self.y0 + ys.min()),
                int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)]

    def paint(self, picture, mask=None):
        """Blend the defect into picture (float, in place) and, if a mask
        array (bool, the picture's size) is given, mark its pixels there."""
        h, w = self.alpha.shape
        window = picture[self.y0:self.y0 + h, self.x0:self.x0 + w]
        window += self.alpha * (self.target - window)
        if mask is not None:
            mask[self.y0:self.y0 + h, self.x0:self.x0 + w] |= self.mask()


# Defects reach at most this far from their centre (a 40-pixel scratch,
# or a 24-pixel foreign patch with a soft edge).
REACH = 24


def _window(picture, cx, cy):
    """The window around (cx, cy) a defect may cover, clipped to picture,
    and the coordinates of its pixels relative to the centre."""
    height, width = picture.shape
    y0, y1 = max(0, int(cy) - REACH), min(height, int(cy) + REACH + 1)
    x0, x1 = max(0, int(cx) - REACH), min(width, int(cx) + REACH + 1)
    dy, dx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    return y0, x0, dx - cx, dy - cy


def _blob(rng, dx, dy, size):
    """Signed distance in pixels (positive inside) to the edge of an
    irregular blob about size pixels across: an ellipse at a random angle
    whose radius wobbles with the direction, like a crumb or a chip."""
    angle = rng.uniform(0, math.pi)
    elongation = rng.uniform(0.6, 1.0)
    u = dx * math.cos(angle) + dy * math.sin(angle)
    v = (-dx * math.sin(angle) + dy * math.cos(angle)) / elongation
    rho = np.hypot(u, v)
    theta = np.arctan2(v, u)
    radius = np.full_like(rho, size / 2.0)
    for k, wobble in ((2, 0.15), (3, 0.1), (5, 0.04)):
        radius *= 1.0 + rng.uniform(0, wobble) * np.cos(k * theta
                                                        + rng.uniform(0, 6.3))
    # radius - rho is zero on the edge but measured in the stretched frame;
    # dividing by its gradient makes it a distance in pixels near the edge.
    level = radius - rho
    gy, gx = np.gradient(level)
    return level / np.maximum(np.hypot(gx, gy), 1e-3)


def _foreign(rng, picture, cx, cy, sources):
    """A piece of another material (gravel, grass) lying on the surface."""
    y0, x0, dx, dy = _window(picture, cx, cy)
    size = int(rng.integers(8, 25))
    inside = _blob(rng, dx, dy, size)
    soft = bool(rng.integers(0, 2))
    edge = float(rng.uniform(1.5, 3.5)) if soft else 1.0
    alpha = np.clip(inside / edge + 0.5, 0.0, 1.0)
    names = sorted(sources)
    source = names[int(rng.integers(0, len(names)))]
    texture = sources[source]
    h, w = alpha.shape
    sy = int(rng.integers(0, texture.shape[0] - h + 1))
    sx = int(rng.integers(0, texture.shape[1] - w + 1))
    target = texture[sy:sy + h, sx:sx + w]
    info = {"size": size, "source": source, "edge": "soft" if soft else "hard"}
    return Defect(y0, x0, alpha, target, info)


def _scratch(rng, picture, cx, cy, sources):
    """A thin bright or dark line, straight or gently bent."""
    y0, x0, dx, dy = _window(picture, cx, cy)
    length = float(rng.uniform(10, 40))
    width = int(rng.integers(1, 4))
    angle = rng.uniform(0, math.pi)
    bend = rng.uniform(-0.25, 0.25) * length
    ux, uy = math.cos(angle), math.sin(angle)
    t = np.linspace(0.0, 1.0, int(length) + 2)[:, None]
    # A quadratic Bezier curve from -length/2 to +length/2 along u, pulled
    # sideways by bend at its middle.
    along = (t - 0.5) * length
    side = 2.0 * bend * t * (1.0 - t)
    px = (along * ux - side * uy).ravel()
    py = (along * uy + side * ux).ravel()
    # Distance from each pixel to the nearest segment of the polyline.
    ax, ay = px[:-1, None, None], py[:-1, None, None]
    sx = np.diff(px)[:, None, None]
    sy = np.diff(py)[:, None, None]
    s = np.clip(((dx - ax) * sx + (dy - ay) * sy)
                / np.maximum(sx * sx + sy * sy, 1e-6), 0.0, 1.0)
    distances = np.hypot(dx - ax - s * sx, dy - ay - s * sy)
    nearest = distances.argmin(axis=0)
    distance = distances.min(axis=0)
    coverage = np.clip(width / 2.0 + 0.5 - distance, 0.0, 1.0)
    bright = bool(rng.integers(0, 2))
    level = rng.uniform(205, 240) if bright else rng.uniform(15, 45)
    # Worn unevenly: the strength drifts slowly along the line.
    strength = 0.85 + 0.15 * np.cos(rng.uniform(1, 3) * math.pi * t.ravel()
                                    + rng.uniform(0, 6.3))
    alpha = (coverage * strength[nearest]).astype(np.float32)
    target = np.full_like(alpha, level)
    info = {"length": round(length, 1), "width": width,
            "polarity": "bright" if bright else "dark"}
    # An antialiased one-pixel line lies half on each of two pixels along
    # a diagonal: a quarter pixel of slack keeps its ground truth unbroken.
    return Defect(y0, x0, alpha, target, info,
                  mask=distance <= width / 2.0 + 0.25)


def _blot(rng, picture, cx, cy, sources):
    """A stain: the surface darkened or lightened under a soft ellipse."""
    y0, x0, dx, dy = _window(picture, cx, cy)
    diameter = float(rng.uniform(5, 15))
    # Fading from full strength to none over 2 x falloff pixels, half
    # strength (the ground truth's edge) on the blob's edge.
    falloff = rng.uniform(1.5, 3.0)
    alpha = _smoothstep(-falloff, falloff, _blob(rng, dx, dy, diameter))
    h, w = alpha.shape
    window = picture[y0:y0 + h, x0:x0 + w]
    bright = bool(rng.integers(0, 2))
    if bright:
        target = window + (255.0 - window) * rng.uniform(0.4, 0.6)
    else:
        target = window * rng.uniform(0.4, 0.6)
    info = {"diameter": round(diameter, 1),
            "polarity": "bright" if bright else "dark"}
    return Defect(y0, x0, alpha, target, info)


def _hole(rng, picture, cx, cy, sources):
    """Missing material: a flat dark region where the belt shows through."""
    y0, x0, dx, dy = _window(picture, cx, cy)
    size = int(rng.integers(8, 21))
    alpha = np.clip(_blob(rng, dx, dy, size) + 0.5, 0.0, 1.0)
    level = rng.uniform(20, 55)
    target = level + rng.normal(0.0, 2.0, alpha.shape)
    info = {"size": size, "level": round(float(level), 1)}
    return Defect(y0, x0, alpha.astype(np.float32),
                  target.astype(np.float32), info)


_MAKERS = {"foreign": _foreign, "scratch": _scratch, "blot": _blot,
           "hole": _hole}


def make_defect(kind, rng, picture, cx, cy, sources):
    """Draw a defect of the given kind centred on (cx, cy) of picture
    (float, rows x columns), with its parameters from rng.  sources maps
    names to the textures a foreign patch is cut from.  Returns a Defect;
    the picture is not changed."""
    defect = _MAKERS[kind](rng, picture, cx, cy, sources)
    defect.info = dict(kind=kind, **defect.info)
    return defect


def foreign_sources(texture):
    """The textures other than the normal one, for foreign patches."""
    return {name: load_texture(name) for name in TEXTURES if name != texture}
