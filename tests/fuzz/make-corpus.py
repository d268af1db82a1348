#!/usr/bin/python3
# make-corpus.py: the hand-made seeds of the fuzz corpus
#
# Copyright (C) 2026 the gst-anogan authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Small valid inputs from which libFuzzer starts: a model of a few dozen
# parameters that uses Linear, Unflatten, Flatten, the activations and a
# feature-reading encoder (a real model is megabytes, too big to mutate
# well); an IDX file of three 5x4 pictures, a 7x6 grey PNG and an IDX
# header cut short.  Inputs a fuzzing run found to fail are kept beside
# them under names that say what they are.
#
#   /usr/bin/python3 tests/fuzz/make-corpus.py

import json
import os
import struct

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))


def tiny_model(rng):
    desc = {
        "version": 1, "input": [1, 4, 4], "nz": 2,
        "generator": [
            {"type": "Linear", "in_features": 2, "out_features": 16},
            {"type": "Unflatten", "dim": 1, "unflattened_size": [1, 4, 4]},
            {"type": "Tanh"}],
        "discriminator": [
            {"type": "Flatten"},
            {"type": "Linear", "in_features": 16, "out_features": 4},
            {"type": "LeakyReLU", "negative_slope": 0.2},
            {"type": "Linear", "in_features": 4, "out_features": 1},
            {"type": "Sigmoid"}],
        "encoder": [{"type": "Linear", "in_features": 4, "out_features": 2}],
        "encoder_input": "features",
        "feature_layer": 2, "lambda": 0.1, "threshold": 1.5, "name": "tiny"}
    shapes = {
        "generator.0.weight": [16, 2], "generator.0.bias": [16],
        "discriminator.1.weight": [4, 16], "discriminator.1.bias": [4],
        "discriminator.3.weight": [1, 4], "discriminator.3.bias": [1],
        "encoder.0.weight": [2, 4], "encoder.0.bias": [2]}
    header = {"__metadata__": {"anogan": json.dumps(desc), "format": "pt"}}
    data = b""
    for name, shape in shapes.items():
        values = (rng.standard_normal(int(np.prod(shape))) * 0.3)
        raw = values.astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def main():
    rng = np.random.default_rng(1)
    with open(os.path.join(HERE, "corpus", "model", "tiny.safetensors"),
              "wb") as f:
        f.write(tiny_model(rng))
    pictures = rng.integers(0, 256, (3, 5, 4), dtype=np.uint8)
    with open(os.path.join(HERE, "corpus", "data", "three-5x4-idx3"),
              "wb") as f:
        f.write(struct.pack(">IIII", 0x803, 3, 5, 4) + pictures.tobytes())
    Image.fromarray(rng.integers(0, 256, (6, 7), dtype=np.uint8)).save(
        os.path.join(HERE, "corpus", "data", "grey-7x6.png"))
    with open(os.path.join(HERE, "corpus", "data", "short-header"),
              "wb") as f:
        f.write(struct.pack(">II", 0x803, 1))


if __name__ == "__main__":
    main()
