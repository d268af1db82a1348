#!/usr/bin/python3
# make-golden-encoder.py: f-AnoGAN's encoder training steps, for
# test-encoder-train.c
#
# Copyright (C) 2026 the gst-anogan authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The train16 DCGAN of make-golden-train.py, with BatchNorm statistics that
# make eval mode normalise (make-golden.py's randomize()), gets the encoder
# anogan_model_default_encoder() gives it: D's layers up to its last
# convolution, which gives nz values.  E then takes TRAIN_STEPS steps of
# izi_f training in float64 from the float32 start: the batch's mean of
# the search's loss at z = E(x),
#
#   (1-λ)·Σ|x - G(E(x))| + λ·Σ|f(x) - f(G(E(x)))|,   f = D[:K+1],
#
# with G and D frozen in eval mode, E in training mode, one Adam step on E
# per batch.  L2_STEPS more from the same start use the squared residual,
# and FEATURE_STEPS train a small encoder that reads f(x) instead of x
# ("encoder_input": "features").
# The files hold the start, the batches and what PyTorch computed: the
# losses and E's gradients of every step, E's parameters and running
# statistics after the last.
#
#   /usr/bin/python3 tests/golden/make-golden-encoder.py   (seconds)

import copy
import importlib.util
import json
import os
import sys

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name, filename):
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(HERE, filename))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


golden = load("make_golden", "make-golden.py")
train = load("make_golden_train", "make-golden-train.py")

TRAIN_STEPS = 3
L2_STEPS = 2
FEATURE_STEPS = 2
BATCH = 8
SEED = 23
# The trainer's defaults (anogan_encoder_train_options_init()).
LR = 1e-4
BETAS = (0.5, 0.999)
# Not the usual 0.1, so that a trainer that ignores the model's λ fails.
LAMBDA = 0.3
# Float32 gets x - G(E(x)) and f(x) - f(G(E(x))) to about 1e-6 of their
# largest value, at the end of three networks; where one is closer to zero
# its sign, hence its gradient, may differ.  Batches are drawn until every
# such difference, and every ReLU input, is clear of zero by this much.
MIN_DIFFERENCE = 1e-5


def default_encoder(desc):
    """anogan_model_default_encoder(): D up to its last Conv2d or Linear,
    which now gives nz values."""
    d = desc["discriminator"]
    last = max(i for i, e in enumerate(d) if e["type"] in ("Conv2d", "Linear"))
    e = copy.deepcopy(d[:last + 1])
    key = "out_channels" if "out_channels" in e[last] else "out_features"
    e[last][key] = desc["nz"]
    return e


# An encoder of f(x) = [32, 4, 4] as anogan_model_default_feature_encoder()
# builds one, with 16 hidden channels instead of 256 to keep the files
# small.
FEATURE_ENCODER = [
    {"type": "Conv2d", "in_channels": 32, "out_channels": 16,
     "kernel_size": [4, 4], "bias": True},
    {"type": "LeakyReLU", "negative_slope": 0.2},
    {"type": "Conv2d", "in_channels": 16, "out_channels": 16,
     "kernel_size": 1, "bias": True},
]


def encoder_input(f, x, features):
    return f(x).detach() if features else x


def losses(E, G, f, x, l2, features):
    """The batch's mean loss, residual and discrimination at z = E(x)."""
    z = E(encoder_input(f, x, features)).flatten(1)
    score, residual, discrimination = golden.anogan_losses(
        G, f, x, f(x).detach(), z, LAMBDA, l2)
    return score.mean(), residual.mean(), discrimination.mean()


def difference_margin(d):
    """Smallest |element| of a difference whose sign the loss takes,
    relative to its largest."""
    d = d.abs()
    return (d.min() / d.max()).item()


def margin(E, G, f, x, features):
    """How close the step on batch x comes to a kink of the loss."""
    with torch.no_grad():
        e_in = encoder_input(f, x, features)
        z = copy.deepcopy(E)(e_in)
        gz = G(z)
        return min(golden.activation_margin(E, e_in) / golden.MIN_MARGIN,
                   golden.activation_margin(G, z) / golden.MIN_MARGIN,
                   golden.activation_margin(f, gz) / golden.MIN_MARGIN,
                   difference_margin(x - gz) / MIN_DIFFERENCE,
                   difference_margin(f(x) - f(gz)) / MIN_DIFFERENCE)


def run(E, G, f, steps, l2, features, gen, stem):
    """Steps of encoder training on fresh batches; the tensors to store."""
    C, H, W = train.ARCH["input"]
    opt = torch.optim.Adam(E.parameters(), lr=LR, betas=BETAS)
    xs, out = [], []
    for step in range(1, steps + 1):
        draws = 0
        while True:
            draws += 1
            x = (torch.rand(BATCH, C, H, W, generator=gen) * 2 - 1).double()
            if margin(E, G, f, x, features) >= 1:
                break
        xs.append(x)
        opt.zero_grad()
        loss, residual, discrimination = losses(E, G, f, x, l2, features)
        loss.backward()
        grads = {k: p.grad.clone() for k, p in E.named_parameters()}
        opt.step()
        s = f"{stem}step{step}."
        stats = {"loss": loss, "residual": residual,
                 "discrimination": discrimination}
        out += [(s + k, v.detach().reshape(1)) for k, v in stats.items()]
        out += [(f"{s}grad.encoder.{k}", v) for k, v in grads.items()]
        # The parameters at the end only: each step's gradients depend on
        # the parameters before it, and the file stays small.
        if step == steps:
            out += [(f"{s}encoder.{k}", v.clone())
                    for k, v in E.state_dict().items()
                    if not k.endswith("num_batches_tracked")]
        print(f"{stem or 'image.'}step {step}: loss {loss.item():.4f} "
              f"(residual {residual.item():.3f}, discrimination "
              f"{discrimination.item():.3f}), {draws} draw(s)")
    return torch.stack(xs), out


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    # Layers draw their default biases from the global generator.
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    desc = dict(copy.deepcopy(train.ARCH), name="encoder16",
                description="Test model for encoder training: train16 with "
                            "the default encoder.")
    desc["lambda"] = LAMBDA
    desc["encoder"] = default_encoder(desc)
    nz = desc["nz"]
    C, H, W = desc["input"]

    G = golden.build_net(desc["generator"])
    D = golden.build_net(desc["discriminator"])
    E = golden.build_net(desc["encoder"])
    for net in (G, D, E):
        train.dcgan_init(net, gen)
    # Eval mode should normalise: statistics near those of real inputs.
    z = torch.randn(64, nz, 1, 1, generator=gen)
    golden.randomize(G, z, gen)
    with torch.no_grad():
        golden.randomize(D, G(z), gen)
    G.eval()
    D.eval()

    directory = os.path.join(golden.DATA, "encoder16")
    os.makedirs(directory, exist_ok=True)
    start = [(f"{prefix}.{key}", t.clone())
             for prefix, net in (("generator", G), ("discriminator", D),
                                 ("encoder", E))
             for key, t in net.state_dict().items()]
    golden.write_safetensors(os.path.join(directory, "model.safetensors"),
                             start, {"format": "pt",
                                     "anogan": json.dumps(desc)})

    G64, D64 = copy.deepcopy(G).double(), copy.deepcopy(D).double()
    for p in list(G64.parameters()) + list(D64.parameters()):
        p.requires_grad_(False)
    f64 = D64[:desc["feature_layer"] + 1]
    x, out = run(copy.deepcopy(E).double().train(), G64, f64, TRAIN_STEPS,
                 False, False, gen, "")
    x_l2, out_l2 = run(copy.deepcopy(E).double().train(), G64, f64,
                       L2_STEPS, True, False, gen, "l2.")

    # The feature encoder's start is stored here, not in a model file: the
    # test gives the model this encoder with anogan_model_add_feature_encoder.
    E_f = golden.build_net(FEATURE_ENCODER)
    train.dcgan_init(E_f, gen)
    start_f = [(f"features.start.encoder.{k}", v.clone())
               for k, v in E_f.state_dict().items()]
    x_f, out_f = run(copy.deepcopy(E_f).double().train(), G64, f64,
                     FEATURE_STEPS, False, True, gen, "features.")

    tensors = [(k, v.detach().float())
               for k, v in [("x", x), ("l2.x", x_l2), ("features.x", x_f)]
               + out + out_l2 + start_f + out_f]
    size = golden.write_safetensors(
        os.path.join(directory, "golden.safetensors"), tensors,
        {"case": "encoder16", "batch": str(BATCH),
         "steps": str(TRAIN_STEPS), "l2_steps": str(L2_STEPS),
         "feature_steps": str(FEATURE_STEPS),
         "feature_encoder": json.dumps(FEATURE_ENCODER),
         "learning_rate": str(LR), "beta1": str(BETAS[0]),
         "beta2": str(BETAS[1]), "torch": torch.__version__})
    print(f"encoder16: {len(tensors)} tensors, {size / 1e3:.0f} kB")


if __name__ == "__main__":
    sys.exit(main())
