#!/usr/bin/env python3
"""Writes the small pictures tests/test-anogan-score.sh scores.

Run once, from anywhere, with a python3 that has PyGObject and gdk-pixbuf
(Debian: /usr/bin/python3 with python3-gi, for the JPEG); the outputs are
committed, so the tests need neither.  PNGs are written by hand with zlib
so that their colour types (grey, RGB, RGBA) are exactly what is named.
"""
import math
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(
        ">I", zlib.crc32(body) & 0xFFFFFFFF)


def write_png(name, width, height, channels, pixel):
    """pixel(x, y) -> tuple of `channels` bytes values."""
    colour_type = {1: 0, 3: 2, 4: 6}[channels]
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            rows.extend(pixel(x, y))
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", header))
        f.write(chunk(b"IDAT", zlib.compress(bytes(rows), 9)))
        f.write(chunk(b"IEND", b""))


def texture(x, y):
    """A smooth, fabric-like grey level in 0..255."""
    v = 128 + 60 * math.sin(x * 0.7) * math.cos(y * 0.5) + 30 * math.sin(
        (x + y) * 0.3)
    return max(0, min(255, int(round(v))))


def with_scratch(x, y):
    """The texture with a bright diagonal scratch: an anomaly."""
    if abs((x - 10) - (y - 5)) <= 1 and 5 <= y < 30:
        return 250
    return texture(x, y)


def colour(x, y):
    t = texture(x, y)
    return (t, (t + 40 * (x % 3)) % 256, 255 - t)


def write_jpeg(name, width, height):
    import gi
    gi.require_version("GdkPixbuf", "2.0")
    from gi.repository import GdkPixbuf, GLib

    data = bytearray()
    for y in range(height):
        for x in range(width):
            data.extend(colour(x, y))
    pixbuf = GdkPixbuf.Pixbuf.new_from_bytes(
        GLib.Bytes.new(bytes(data)), GdkPixbuf.Colorspace.RGB, False, 8,
        width, height, width * 3)
    pixbuf.savev(os.path.join(HERE, name), "jpeg", ["quality"], ["90"])


def main():
    write_png("grey-48x40.png", 48, 40, 1, lambda x, y: (texture(x, y),))
    write_png("scratch-48x40.png", 48, 40, 1,
              lambda x, y: (with_scratch(x, y),))
    write_png("colour-80x50.png", 80, 50, 3, colour)
    write_png("alpha-33x32.png", 33, 32, 4,
              lambda x, y: colour(x, y) + ((x * 8) % 256,))
    write_png("tiny-20x20.png", 20, 20, 1, lambda x, y: (texture(x, y),))
    write_jpeg("photo-40x36.jpg", 40, 36)


if __name__ == "__main__":
    main()
