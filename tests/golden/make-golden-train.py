#!/usr/bin/env python3
# make-golden-train.py: PyTorch's DCGAN training steps, for test-train.c
#
# Copyright (C) 2026 the gst-anogan authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A small DCGAN with every layer kind DCGAN training uses (ConvTranspose2d,
# BatchNorm2d in training mode, ReLU, Tanh in G; Conv2d, LeakyReLU,
# BatchNorm2d, Sigmoid in D) takes TRAIN_STEPS steps of PyTorch's DCGAN
# example (D on real against 1, on G(z) against 0, Adam on D; then G(z)
# against 1 through the updated D, Adam on G), in float64 from float32
# weights and inputs.  The files hold the start, the inputs of every step
# and what PyTorch computed: losses, gradients, parameters and running
# statistics after each step.
#
#   /usr/bin/python3 tests/golden/make-golden-train.py   (a few seconds)

import importlib.util
import json
import os
import sys

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "make_golden", os.path.join(HERE, "make-golden.py"))
golden = importlib.util.module_from_spec(spec)
spec.loader.exec_module(golden)

TRAIN_STEPS = 3
BATCH = 8
SEED = 7
LR = 2e-4
BETAS = (0.5, 0.999)

ARCH = {
    "version": 1,
    "name": "train16",
    "description": "Test model for training: a DCGAN for 1x16x16 patches.",
    "input": [1, 16, 16],
    "nz": 16,
    "generator": [
        {"type": "ConvTranspose2d", "in_channels": 16, "out_channels": 32,
         "kernel_size": 4, "stride": 1, "padding": 0, "bias": False},
        {"type": "BatchNorm2d", "num_features": 32},
        {"type": "ReLU"},
        {"type": "ConvTranspose2d", "in_channels": 32, "out_channels": 16,
         "kernel_size": 4, "stride": 2, "padding": 1, "bias": False},
        {"type": "BatchNorm2d", "num_features": 16},
        {"type": "ReLU"},
        {"type": "ConvTranspose2d", "in_channels": 16, "out_channels": 1,
         "kernel_size": 4, "stride": 2, "padding": 1, "bias": False},
        {"type": "Tanh"},
    ],
    "discriminator": [
        {"type": "Conv2d", "in_channels": 1, "out_channels": 16,
         "kernel_size": 4, "stride": 2, "padding": 1, "bias": False},
        {"type": "LeakyReLU", "negative_slope": 0.2},
        {"type": "Conv2d", "in_channels": 16, "out_channels": 32,
         "kernel_size": 4, "stride": 2, "padding": 1, "bias": False},
        {"type": "BatchNorm2d", "num_features": 32},
        {"type": "LeakyReLU", "negative_slope": 0.2},
        {"type": "Conv2d", "in_channels": 32, "out_channels": 1,
         "kernel_size": 4, "stride": 1, "padding": 0, "bias": False},
        {"type": "Sigmoid"},
    ],
    "feature_layer": 4,
    "lambda": 0.1,
    "threshold": None,
}


def dcgan_init(net, gen):
    """The DCGAN paper's initialisation, as PyTorch's example does it."""
    with torch.no_grad():
        for layer in net:
            if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
                layer.weight.normal_(0.0, 0.02, generator=gen)
            elif isinstance(layer, nn.BatchNorm2d):
                layer.weight.normal_(1.0, 0.02, generator=gen)
                layer.bias.zero_()


def training_step(G, D, x, z, opt_g, opt_d):
    """One step of PyTorch's DCGAN example, with D's Sigmoid folded into
    the loss as the engine does (exact, and finite when D saturates)."""
    bce = nn.BCEWithLogitsLoss()
    logits = D[:-1]
    ones = torch.ones(len(x), dtype=x.dtype)
    zeros = torch.zeros(len(x), dtype=x.dtype)

    D.zero_grad()
    out_real = logits(x).view(-1)
    loss_real = bce(out_real, ones)
    loss_real.backward()
    fake = G(z.view(len(z), -1, 1, 1))
    out_fake = logits(fake.detach()).view(-1)
    loss_fake = bce(out_fake, zeros)
    loss_fake.backward()
    d_grads = {name: p.grad.clone() for name, p in D.named_parameters()}
    opt_d.step()

    G.zero_grad()
    out = logits(fake).view(-1)
    loss_g = bce(out, ones)
    loss_g.backward()
    g_grads = {name: p.grad.clone() for name, p in G.named_parameters()}
    opt_g.step()

    stats = {
        "d_loss": (loss_real + loss_fake).detach(),
        "g_loss": loss_g.detach(),
        "d_real": torch.sigmoid(out_real).mean().detach(),
        "d_fake": torch.sigmoid(out_fake).mean().detach(),
    }
    return stats, g_grads, d_grads


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(SEED)
    G = golden.build_net(ARCH["generator"])
    D = golden.build_net(ARCH["discriminator"])
    dcgan_init(G, gen)
    dcgan_init(D, gen)

    directory = os.path.join(golden.DATA, "train16")
    os.makedirs(directory, exist_ok=True)
    start = [(f"{prefix}.{key}", t.clone())
             for prefix, net in (("generator", G), ("discriminator", D))
             for key, t in net.state_dict().items()]
    golden.write_safetensors(os.path.join(directory, "model.safetensors"),
                             start, {"format": "pt",
                                     "anogan": json.dumps(ARCH)})

    C, H, W = ARCH["input"]
    nz = ARCH["nz"]
    x = (torch.rand(TRAIN_STEPS, BATCH, C, H, W, generator=gen) * 2 - 1)
    z = torch.randn(TRAIN_STEPS, BATCH, nz, generator=gen)

    G64, D64 = G.double().train(), D.double().train()
    opt_g = torch.optim.Adam(G64.parameters(), lr=LR, betas=BETAS)
    opt_d = torch.optim.Adam(D64.parameters(), lr=LR, betas=BETAS)
    out = [("x", x), ("z", z)]
    for step in range(1, TRAIN_STEPS + 1):
        stats, g_grads, d_grads = training_step(
            G64, D64, x[step - 1].double(), z[step - 1].double(), opt_g,
            opt_d)
        stem = f"step{step}."
        out += [(stem + k, v.reshape(1)) for k, v in stats.items()]
        for prefix, grads in (("generator", g_grads),
                              ("discriminator", d_grads)):
            out += [(f"{stem}grad.{prefix}.{k}", v)
                    for k, v in grads.items()]
        for prefix, net in (("generator", G64), ("discriminator", D64)):
            out += [(f"{stem}{prefix}.{k}", v.clone())
                    for k, v in net.state_dict().items()
                    if not k.endswith("num_batches_tracked")]
        print(f"step {step}: " + ", ".join(
            f"{k} {v.item():.5f}" for k, v in stats.items()))

    tensors = [(k, v.detach().float()) for k, v in out]
    size = golden.write_safetensors(
        os.path.join(directory, "golden.safetensors"), tensors,
        {"case": "train16", "batch": str(BATCH), "steps": str(TRAIN_STEPS),
         "learning_rate": str(LR), "beta1": str(BETAS[0]),
         "beta2": str(BETAS[1]), "torch": torch.__version__})
    print(f"train16: {len(tensors)} tensors, {size / 1e3:.0f} kB")


if __name__ == "__main__":
    sys.exit(main())
