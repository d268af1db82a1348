# texture_common.py: what make-texture-set.py and make-demo-clip.py share
#
# Copyright (C) 2026 the gst-anogan authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The source textures, the split of a texture's rows into train, calibration
# and test regions, the synthetic defects, the belt (bricks re-laid as the
# demo clip shows them), and a PNG writer whose bytes depend on the pixels
# only (no time stamps, fixed filter and compression), so that the same
# seed always gives the same files.
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
    from scipy.ndimage import map_coordinates
    from scipy.signal import find_peaks
except ImportError as e:
    sys.exit("%s: needs numpy, scipy and scikit-image (Debian: "
             "python3-skimage, which brings python3-scipy; run it with "
             "/usr/bin/python3): %s" % (os.path.basename(sys.argv[0]), e))

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


# The belt.  The demo clip does not show the photograph: it shows its bricks
# re-laid on a long belt, and the data set's belt layout makes its pictures
# the same way, so that a model learns the material the clip shows:
#
#  1. the mortar lines between the columns of bricks are found and fitted
#     with straight lines; the photograph's perspective makes them lean and
#     converge, so each column is resampled to a fixed width with its sides
#     vertical (rows far from the clip's are resampled along the column too,
#     to the clip's scale: rectified_rows);
#  2. the horizontal joints in each column are found; as a region holds few
#     whole bricks, more are made by splicing the upper part of one brick
#     (cut below a joint) onto the lower part of another (cut above one);
#  3. a long belt is laid with these bricks, column by column, in a seeded
#     random order, some turned upside down or mirrored, blended over a few
#     pixels across the mortar where they meet.

MARGIN = 3            # pixels of overlap where bricks meet
BAND = 16             # rows per band when looking for mortar lines


def clip_rows(height):
    """Rows [start, end) the demo clip's belt is laid from: the calibration
    and test regions, all that training never sees."""
    regions = split_rows(height, 64)
    return regions["calibration"][0], regions["test"][1]


def mortar_lines(region, what):
    """The vertical mortar lines of region, as (x at row 0, slope) pairs,
    left to right: the bright peaks of each band's column means, followed
    from band to band and fitted with a straight line.  what names the
    region in errors."""
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
    for track in tracks or []:
        if len(track) == bands:
            ys, xs = np.array(track, dtype=float).T
            slope, x0 = np.polyfit(ys, xs, 1)
            lines.append((x0, slope))
    if len(lines) < 4:
        fail("found only %d mortar lines in %s" % (len(lines), what))
    return lines


def straight_columns(region, lines, width, rows=None):
    """Each column of bricks between two mortar lines, resampled so that the
    lines become the vertical edges of a strip width pixels wide, plus
    MARGIN beyond each edge.  The strip's rows are region's rows, or those
    at the (fractional) rows given."""
    if rows is None:
        rows = np.arange(region.shape[0], dtype=float)
    u = np.arange(-MARGIN, width + MARGIN + 1, dtype=float) / width
    y = np.asarray(rows, dtype=float)[:, None]
    strips = []
    for (l0, ls), (r0, rs) in zip(lines[:-1], lines[1:]):
        left, right = l0 + ls * y, r0 + rs * y
        x = left + u[None, :] * (right - left)
        strips.append(map_coordinates(region, [np.broadcast_to(y, x.shape), x],
                                      order=3, mode="nearest"))
    return strips


def joints(strip):
    """The rows of the horizontal joints of a straightened column: bright
    peaks of the mean of its inner pixels, a brick's width apart at least."""
    inner = strip[:, 3 * MARGIN:-3 * MARGIN].mean(axis=1)
    found, _ = find_peaks(inner, distance=40, prominence=15)
    return found


def full_length(lengths):
    """The length of a whole brick, leaving out the half bricks among
    lengths."""
    lengths = np.asarray(lengths)
    return float(np.median(lengths[lengths >= 0.75 * lengths.max()]))


def rectified_rows(region, lines, width, length, what):
    """The rows of region, fractional, to resample its columns at so that a
    whole brick comes out length rows long wherever it lies.

    The photograph looks at the wall at an angle: the farther a row, the
    narrower its columns (w, the mean distance between the mortar lines,
    grows linearly down the picture) and the shorter its bricks, which
    foreshortening shrinks faster than their width, as a power of w (about
    w squared).  The power and the scale are fitted to region's whole bricks
    (half bricks left out), found in its columns straightened at their own
    rows."""
    height = region.shape[0]
    x0s, slopes = np.array(lines, dtype=float).T
    w0, w1 = np.diff(x0s).mean(), np.diff(slopes).mean()
    bricks = []
    for strip in straight_columns(region, lines, width):
        found = joints(strip)
        for a, b in zip(found[:-1], found[1:]):
            bricks.append((b - a, w0 + w1 * (a + b) / 2.0))
    if len(bricks) < 3:
        fail("%s: only %d whole bricks, too few to measure the perspective"
             % (what, len(bricks)))
    found, w = np.array(bricks, dtype=float).T
    ratio = found / w ** 2
    whole = ratio >= 0.75 * np.median(ratio)
    if np.ptp(w[whole]) < 1.0:
        fail("%s: the whole bricks are all at one distance, too few to "
             "measure the perspective" % what)
    power, log_scale = np.polyfit(np.log(w[whole]), np.log(found[whole]), 1)
    # Output row v of source row y: the integral of length / brick(y).
    ys = np.linspace(0.0, height - 1.0, 8 * height)
    step = length / np.exp(log_scale + power * np.log(w0 + w1 * ys))
    v = np.concatenate([[0.0], np.cumsum((step[1:] + step[:-1]) / 2.0
                                         * np.diff(ys))])
    return np.interp(np.arange(int(v[-1]) + 1, dtype=float), v, ys)


class Bricks:
    """The bricks of the straightened columns.  A whole brick runs from one
    joint to the next.  There are few whole bricks in a region, so new ones
    are made by splicing the top of one brick onto the bottom of another,
    both cut at joints, cross-faded in the brick's plain middle.  Their
    lengths are those of the whole bricks found, or the lengths given (a
    region smaller than a brick holds none).  When no brick end is long
    enough, as in a band of rows lower than a brick, the two ends are
    joined by plain rows from the middles of other bricks."""

    FADE = 8          # rows on each side of a splice
    GUARD = 6         # rows kept clear of the mortar of a joint

    def __init__(self, strips, what, lengths=None):
        self.strips, self.what = strips, what
        self.tops, self.bottoms, self.lengths = [], [], []
        # (strip, first row, end row) of the rows clear of any joint.
        self.plain = []
        for i, strip in enumerate(strips):
            height = strip.shape[0]
            found = joints(strip)
            self.lengths += np.diff(found).tolist()
            # Each end of a brick with the plain rows it has before the
            # next joint or the end of the strip.
            below = np.diff(np.append(found, height))
            above = np.diff(np.insert(found, 0, 0))
            self.tops += [(i, j, n) for j, n in zip(found, below)
                          if j >= MARGIN]
            self.bottoms += [(i, j, n) for j, n in zip(found, above)
                             if j + MARGIN < height]
            edges = [0] + found.tolist() + [height]
            self.plain += [(i, a + self.GUARD, b - self.GUARD)
                           for a, b in zip(edges[:-1], edges[1:])]
        if lengths is not None:
            self.lengths = list(lengths)
        if not self.lengths:
            fail("found no whole brick in %s" % what)

    def _ends(self, ends, rows):
        """The brick ends with at least rows plain rows next to them."""
        return [(i, j) for i, j, n in ends if n >= rows + self.GUARD]

    def make(self, rng):
        """A brick: rows from MARGIN above its top joint to MARGIN below its
        bottom one, a whole brick's length apart."""
        length = self.lengths[int(rng.integers(0, len(self.lengths)))]
        split = int(rng.integers(length // 3, 2 * length // 3 + 1))
        rest = length - split
        tops = self._ends(self.tops, split + self.FADE)
        bottoms = self._ends(self.bottoms, rest + self.FADE)
        if not tops or not bottoms:
            return self._join(self._pieces(rng, length, split))
        s, top = tops[int(rng.integers(0, len(tops)))]
        t, bottom = bottoms[int(rng.integers(0, len(bottoms)))]
        upper = self.strips[s][top - MARGIN:top + split + self.FADE]
        lower = self.strips[t][bottom - rest - self.FADE:bottom + MARGIN + 1]
        return self._join([upper, lower])

    def _pieces(self, rng, length, split):
        """The pieces of a brick spliced from more than two: a top end, as
        much as split rows of it, a bottom end, and as few pieces of plain
        rows as fill the rest, each at least a splice long."""
        fade, guard = self.FADE, self.GUARD
        # An end's splice starts guard rows clear of its joint at least.
        least = fade + guard
        tops = [(i, j, n) for i, j, n in self.tops
                if n >= least + fade + guard]
        bottoms = [(i, j, n) for i, j, n in self.bottoms
                   if n >= least + fade + guard]
        # Runs that give pieces of 4·FADE rows besides their fades, so that
        # the middle shared out evenly leaves each piece 2·FADE rows or more
        # between its fades.
        runs = [(i, lo, hi) for i, lo, hi in self.plain if hi - lo >= 6 * fade]
        if not tops or not bottoms:
            fail("%s: no brick end has the %d plain rows a splice needs"
                 % (self.what, least + fade + guard))
        s, top, n = tops[int(rng.integers(0, len(tops)))]
        above = min(split, n - fade - guard)
        t, bottom, n = bottoms[int(rng.integers(0, len(bottoms)))]
        below = min(length - split, n - fade - guard)
        middle = length - above - below
        if 0 < middle < 2 * fade:
            # A plain piece shorter than its two splices would blend one
            # into the other: shorten the ends instead.
            cut = 2 * fade - middle
            shorter = min(cut, above - least)
            above -= shorter
            below -= cut - shorter
            middle = 2 * fade
            if below < least:
                fail("%s: a brick of %d rows is too short to splice"
                     % (self.what, length))
        pieces = [self.strips[s][top - MARGIN:top + above + fade]]
        if middle:
            if not runs:
                fail("%s: no brick has the %d plain rows a splice needs"
                     % (self.what, 6 * fade))
            most = max(hi - lo for _, lo, hi in runs) - 2 * fade
            count = -(-middle // most)
            for k in range(count):
                size = middle // count + (k < middle % count)
                fits = [r for r in runs if r[2] - r[1] >= size + 2 * fade]
                i, lo, hi = fits[int(rng.integers(0, len(fits)))]
                y = int(rng.integers(lo, hi - size - 2 * fade + 1))
                pieces.append(self.strips[i][y:y + size + 2 * fade])
        pieces.append(self.strips[t][bottom - below - fade:
                                     bottom + MARGIN + 1])
        return pieces

    def _join(self, pieces):
        """The pieces one after the other, each cross-faded into the next
        over their 2·FADE overlapping rows."""
        fade = (np.arange(2 * self.FADE) + 0.5) / (2 * self.FADE)
        brick = pieces[0]
        for piece in pieces[1:]:
            middle = (brick[-2 * self.FADE:] * (1.0 - fade[:, None])
                      + piece[:2 * self.FADE] * fade[:, None])
            brick = np.vstack([brick[:-2 * self.FADE], middle,
                               piece[2 * self.FADE:]])
        return brick


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


def lay_belt_for(rng, bricks, width, rows, picture_width):
    """A belt rows long for pictures picture_width wide, and the belt column
    they start at: one column more than they need, so that a column's
    middle, not a mortar line, lies at their left edge."""
    columns = math.ceil(picture_width / width) + 1
    return lay_belt(rng, bricks, columns, rows, width), width // 2


def clip_bricks(texture):
    """The demo clip's bricks, (Bricks, column width): the clip's rows, each
    column straightened to the median distance between the mortar lines."""
    start, end = clip_rows(texture.shape[0])
    what = "%s rows %d-%d" % (texture_path("brick"), start, end - 1)
    region = texture[start:end]
    lines = mortar_lines(region, what)
    width = int(round(np.median(np.diff([x0 for x0, _ in lines]))))
    return Bricks(straight_columns(region, lines, width), what), width
