#!/usr/bin/python3
# make-golden.py: PyTorch reference data for tests/test-golden.c
#
# Copyright (C) 2026 the gst-anogan authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# For each case it builds the generator G and discriminator D from an
# architecture description in our JSON format, gives them random weights
# and BatchNorm statistics, and writes under tests/golden/data/<case>/:
#
#   model.safetensors   the model in our file format
#   golden.safetensors  inputs, outputs and gradients computed by PyTorch
#
# All references are computed in float64 from the float32 weights that the
# model file holds, so they are exact for those weights, and stored as
# float32.  Run with the interpreter that has torch:
#
#   /usr/bin/python3 tests/golden/make-golden.py

import copy
import json
import os
import struct
import sys

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(HERE, "data")

SEARCH_STEPS = 20
SEARCH_SHORT_STEPS = 5
SEARCH_LR = 0.01
# The search's objective has a kink wherever a ReLU input or x - G(z) is
# zero, and Adam scales each component of the gradient by its own size.
# When the path passes a kink within rounding distance, the gradients of
# two correct implementations differ by a finite step, small components
# of z take visibly different steps, and the paths part.  From random
# starts of dcgan64, float32 PyTorch ends up to 6e-3 from the float64
# reference in z after 20 steps for some samples, 3e-7 for others.  So
# each row of z0 is drawn until float32 PyTorch and float64 with noise in
# every layer (SEARCH_NOISE relative to the layer's largest output, a
# stand-in for other roundings) all stay within SEARCH_SPREAD of the
# reference: a tenth of what test-golden.c allows.
SEARCH_NOISE = 1e-8
SEARCH_NOISE_RUNS = 2
SEARCH_SPREAD = {  # (steps, result): largest scaled error
    (SEARCH_SHORT_STEPS, "z"): 1e-5,
    (SEARCH_STEPS, "z"): 1e-5,
    (SEARCH_SHORT_STEPS, "score"): 1e-5,
    (SEARCH_STEPS, "score"): 1e-5,
    (SEARCH_SHORT_STEPS, "residual"): 1e-5,
    (SEARCH_STEPS, "residual"): 1e-5,
    (SEARCH_SHORT_STEPS, "discrimination"): 1e-5,
    (SEARCH_STEPS, "discrimination"): 1e-5,
}
SEARCH_RESULTS = ("z", "score", "residual", "discrimination")
# Float32 gets the inputs of ReLUs to within ~7e-7 of their largest value
# (PyTorch float32 against float64 on these models).
MIN_MARGIN = 2e-6

# A small model that uses every layer kind the engine knows, with the
# options that make index arithmetic easy to get wrong: biases, a
# non-square kernel and stride, asymmetric padding, output_padding.
MIXED = {
    "version": 1,
    "name": "mixed",
    "description": "Test model for 1x12x12 patches that uses every layer kind "
                   "with non-default options; f(x) is a 32-feature vector.",
    "input": [1, 12, 12],
    "nz": 8,
    "generator": [
        {"type": "Linear", "in_features": 8, "out_features": 72, "bias": True},
        {"type": "BatchNorm1d", "num_features": 72},
        {"type": "ReLU"},
        {"type": "Dropout", "p": 0.3},
        {"type": "Unflatten", "dim": 1, "unflattened_size": [8, 3, 3]},
        {"type": "Upsample", "scale_factor": 2, "mode": "nearest"},
        {"type": "ZeroPad2d", "padding": [1, 0, 1, 1]},
        {"type": "Conv2d", "in_channels": 8, "out_channels": 6,
         "kernel_size": [3, 2], "stride": 1, "padding": 0, "bias": True},
        {"type": "BatchNorm2d", "num_features": 6},
        {"type": "ReLU"},
        {"type": "ConvTranspose2d", "in_channels": 6, "out_channels": 1,
         "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1,
         "bias": True},
        {"type": "Tanh"},
    ],
    "discriminator": [
        {"type": "Conv2d", "in_channels": 1, "out_channels": 8,
         "kernel_size": [4, 3], "stride": [2, 1], "padding": [1, 0],
         "bias": True},
        {"type": "LeakyReLU", "negative_slope": 0.15},
        {"type": "Conv2d", "in_channels": 8, "out_channels": 16,
         "kernel_size": 3, "stride": [1, 2], "padding": 1, "bias": False},
        {"type": "BatchNorm2d", "num_features": 16},
        {"type": "LeakyReLU", "negative_slope": 0.15},
        {"type": "Flatten"},
        {"type": "Linear", "in_features": 480, "out_features": 32,
         "bias": True},
        {"type": "BatchNorm1d", "num_features": 32},
        {"type": "LeakyReLU", "negative_slope": 0.15},
        {"type": "Linear", "in_features": 32, "out_features": 1,
         "bias": True},
        {"type": "Sigmoid"},
    ],
    "feature_layer": 8,
    "lambda": 0.1,
    "threshold": None,
}


def load_arch(name):
    with open(os.path.join(ROOT, "models", "arch", name + ".json")) as f:
        return json.load(f)


# name, description, batch, seed, largest parameter whose gradients are
# stored (None: all).  dcgan64's two 2M-element weights would add 25 MB
# of gradients; the smaller tensors exercise the same code with longer
# reductions.
CASES = [
    ("dcgan32", lambda: load_arch("dcgan32"), 4, 32, None),
    ("dcgan64", lambda: load_arch("dcgan64"), 3, 64, 200000),
    ("mixed", lambda: MIXED, 4, 12, None),
]


# ---------------------------------------------------------------- networks

def build_net(layers):
    """An nn.Sequential from our layer list: each layer is a torch.nn class
    name plus its constructor arguments by PyTorch's names."""
    modules = []
    for spec in layers:
        kwargs = {k: tuple(v) if isinstance(v, list) else v
                  for k, v in spec.items() if k != "type"}
        modules.append(getattr(nn, spec["type"])(**kwargs))
    return nn.Sequential(*modules)


def z_as_input(net, z):
    """z enters G as [B, nz, 1, 1] when its first layer is a convolution."""
    if isinstance(net[0], (nn.Conv2d, nn.ConvTranspose2d)):
        return z.view(z.shape[0], z.shape[1], 1, 1)
    return z


def randomize(net, x, gen):
    """Give the BatchNorm layers random affine parameters and running
    statistics near the statistics of their real input, and scale the layer
    before a squashing activation so it is neither flat nor saturated.
    Layer by layer, so each sees its input as the network will feed it."""
    net.eval()
    with torch.no_grad():
        for i, layer in enumerate(net):
            if isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
                dims = [0] if x.dim() == 2 else [0, 2, 3]
                mean = x.mean(dims)
                var = x.var(dims) + 1e-3
                n = mean.numel()
                shift = torch.randn(n, generator=gen) * 0.3
                layer.running_mean.copy_(mean + shift * var.sqrt())
                layer.running_var.copy_(
                    var * (0.5 + 1.5 * torch.rand(n, generator=gen)))
                layer.weight.copy_(0.6 + 0.8 * torch.rand(n, generator=gen))
                layer.bias.copy_(0.2 * torch.randn(n, generator=gen))
                layer.num_batches_tracked.fill_(1000)
            elif isinstance(layer, (nn.Tanh, nn.Sigmoid)) and i > 0:
                prev = net[i - 1]
                scale = 1.2 / x.std().item()
                prev.weight.mul_(scale)
                if prev.bias is not None:
                    prev.bias.mul_(scale)
                x = x * scale
            x = layer(x)


def set_dropout_eval(net):
    for layer in net:
        if isinstance(layer, nn.Dropout):
            layer.eval()


def exact_zeros(grad, largest):
    """The gradient, or exact zeros where it is zero by structure but for
    float64 rounding (a bias before a training-mode BatchNorm, whose batch
    mean takes it out again): a relative comparison against ~1e-17 would
    be meaningless."""
    if grad.abs().max().item() <= 1e-12 * largest:
        return torch.zeros_like(grad)
    return grad.clone()


def named_params(net, prefix):
    return [(f"{prefix}.{name}", p) for name, p in net.named_parameters()]


# -------------------------------------------------------------- safetensors

DTYPES = {torch.float32: ("F32", "<f4"), torch.int64: ("I64", "<i8")}


def write_safetensors(path, tensors, metadata):
    """Our own minimal writer: 8-byte little-endian header length, the JSON
    header padded with spaces to a multiple of 8, then the raw data."""
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name, t in tensors:
        t = t.detach().contiguous().cpu()
        dtype, layout = DTYPES[t.dtype]
        data = t.numpy().astype(layout).tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)
    os.replace(tmp, path)
    return 8 + len(text) + offset


# ------------------------------------------------------------------ search

def anogan_losses(G, f, x, fx, z, lam, l2):
    """Per sample: score, residual, discrimination."""
    gz = G(z_as_input(G, z))
    diff = x - gz
    residual = (diff * diff if l2 else diff.abs()).flatten(1).sum(1)
    discrimination = (fx - f(gz)).abs().flatten(1).sum(1)
    return ((1 - lam) * residual + lam * discrimination,
            residual, discrimination)


def anogan_search(G, f, x, z0, lam, l2):
    """AnoGAN's search: Adam on z only, the batch's losses summed (samples
    do not interact in eval mode).  Returns, after SEARCH_SHORT_STEPS and
    after SEARCH_STEPS, z and the loss once more at that z: per step count
    a dict of z, score, residual, discrimination."""
    fx = f(x).detach()
    z = z0.clone().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=SEARCH_LR, betas=(0.9, 0.999), eps=1e-8)
    found = {}
    for step in range(1, SEARCH_STEPS + 1):
        opt.zero_grad()
        score, _, _ = anogan_losses(G, f, x, fx, z, lam, l2)
        score.sum().backward()
        opt.step()
        if step in (SEARCH_SHORT_STEPS, SEARCH_STEPS):
            with torch.no_grad():
                losses = anogan_losses(G, f, x, fx, z, lam, l2)
            found[step] = dict(zip(SEARCH_RESULTS,
                                   (z.detach().clone(),) + losses))
    return found


SEARCH_LOSSES = (("", False), ("l2_", True))


def scaled_error(got, want):
    return ((got.double() - want).abs().max() / want.abs().max()).item()


def sample_errors(got, want):
    """Per sample (first dimension): max |got - want| / max |want|."""
    diff = (got.double() - want).abs().reshape(len(want), -1).max(1).values
    return diff / want.abs().reshape(len(want), -1).max(1).values


class ForwardNoise:
    """While active, adds Gaussian noise of `scale` times the largest
    |output| to the output of every layer of `nets`."""

    def __init__(self, nets, scale, seed):
        self.scale = scale
        self.gen = torch.Generator().manual_seed(seed)
        self.handles = [layer.register_forward_hook(self.perturb)
                        for net in nets for layer in net]

    def perturb(self, layer, inputs, output):
        noise = torch.randn(output.shape, generator=self.gen,
                            dtype=output.dtype)
        return output + noise * (self.scale * output.detach().abs().max())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for handle in self.handles:
            handle.remove()


def search_spread(reference, other, spread):
    """Updates `spread` with how far `other` search ended from `reference`;
    returns per sample whether that is within SEARCH_SPREAD."""
    ok = torch.ones(len(reference[SEARCH_STEPS]["z"]), dtype=torch.bool)
    for key, limit in SEARCH_SPREAD.items():
        steps, result = key
        errors = sample_errors(other[steps][result], reference[steps][result])
        spread[key] = max(spread.get(key, 0.0), errors.max().item())
        ok &= errors <= limit
    return ok


def draw_search_start(make_z0, nets64, nets32, x, lam):
    """A z0 from which neither search (L1, L2) depends on rounding more
    than SEARCH_SPREAD allows.  In eval mode the samples of a batch do not
    interact (the losses are summed and Adam works per component), so each
    row of z0 is drawn again on its own until its searches are robust: a
    batch of robust rows costs a few rounds rather than a chance that
    shrinks with every sample.  Returns z0, the reference searches, the
    spread seen in the last round and the draws per row."""
    z0 = make_z0()
    draws = torch.ones(len(z0), dtype=torch.int64)
    for round_ in range(1, 301):
        ok = torch.ones(len(z0), dtype=torch.bool)
        searches, spread = [], {}
        for _, l2 in SEARCH_LOSSES:
            reference = anogan_search(*nets64, x, z0, lam, l2)
            ok &= search_spread(reference, anogan_search(
                *nets32, x.float(), z0.float(), lam, l2), spread)
            for seed in range(SEARCH_NOISE_RUNS):
                with ForwardNoise(nets64, SEARCH_NOISE, seed):
                    ok &= search_spread(reference, anogan_search(
                        *nets64, x, z0, lam, l2), spread)
            searches.append(reference)
        print(f"  search start, round {round_}: {int(ok.sum())} of "
              f"{len(ok)} rows robust; " + ", ".join(
                  f"{r} {e:.0e} ({n})" for (n, r), e in spread.items()),
              file=sys.stderr, flush=True)
        if ok.all():
            return z0, searches, spread, draws.tolist()
        z0 = torch.where(ok[:, None], z0, make_z0())
        draws += (~ok).long()
    sys.exit("no start of the search whose result is robust to rounding")


# ------------------------------------------------------------- diagnostics

def activation_margin(net, x):
    """Smallest |input| of a ReLU or LeakyReLU relative to the largest
    |input| of that layer.  Float32 computes these inputs to a few 1e-7 of
    that scale; where one is closer to zero, float32 may take the other
    branch and the gradient at that element is off by its whole value.
    Runs a copy, so training mode leaves the running statistics alone."""
    net = copy.deepcopy(net)
    margin = float("inf")
    with torch.no_grad():
        for layer in net:
            if isinstance(layer, (nn.ReLU, nn.LeakyReLU)):
                margin = min(margin,
                             (x.abs().min() / x.abs().max()).item())
            x = layer(x)
    return margin


def saturation(t):
    """Fraction of a tanh or sigmoid output within 1% of its limits."""
    lo, hi = (-1.0, 1.0) if t.min() < 0 else (0.0, 1.0)
    return ((t - lo).abs().lt(0.01 * (hi - lo)) |
            (hi - t).abs().lt(0.01 * (hi - lo))).double().mean().item()


# -------------------------------------------------------------------- case

def make_case(name, describe, batch, seed, grad_max_numel):
    desc = describe()
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    nz = desc["nz"]
    C, H, W = desc["input"]
    K = desc["feature_layer"]
    lam = desc["lambda"]

    G = build_net(desc["generator"])
    D = build_net(desc["discriminator"])

    # Weights: PyTorch's default init, BatchNorm tuned on real inputs.
    calib = 16
    randomize(G, z_as_input(G, torch.randn(calib, nz, generator=gen)), gen)
    with torch.no_grad():
        fake = G(z_as_input(G, torch.randn(calib, nz, generator=gen)))
    randomize(D, torch.cat([fake, torch.rand(calib, C, H, W, generator=gen)
                            * 2 - 1]), gen)

    # Everything below in float64 from the float32 weights.
    G64 = copy.deepcopy(G).double().eval()
    D64 = copy.deepcopy(D).double().eval()
    f64 = D64[:K + 1]

    def randn(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64)

    # z, and x plausible for the search: G of another z plus noise.  Draws
    # that put an input of a ReLU where float32 may see the other sign are
    # drawn again (see activation_margin); z and x separately, as G's
    # margins depend on z only and D's on x only.
    def draw(make, margin_of):
        for attempt in range(1, 5001):
            t = make()
            margin = margin_of(t)
            if margin >= MIN_MARGIN:
                return t, margin, attempt
        sys.exit(f"{name}: no draw without ReLU inputs near 0")

    def make_x():
        with torch.no_grad():
            x = (G64(z_as_input(G64, randn(batch, nz)))
                 + 0.15 * randn(batch, C, H, W))
        return x.clamp(-1, 1).float().double()

    Dt = copy.deepcopy(D).double().train()
    set_dropout_eval(Dt)
    z, margin_z, draws_z = draw(
        lambda: randn(batch, nz).float().double(),
        lambda t: activation_margin(G64, z_as_input(G64, t)))
    x, margin_x, draws_x = draw(
        make_x,
        lambda t: min(activation_margin(f64, t), activation_margin(Dt, t)))

    out = {}
    out["z"] = z
    out["x"] = x

    # G: output and the gradients of <g_cot, G(z)>.
    zg = z.clone().requires_grad_(True)
    g_out = G64(z_as_input(G64, zg))
    g_cot = randn(*g_out.shape).float().double()
    G64.zero_grad()
    (g_cot * g_out).sum().backward()
    out["g_out"] = g_out
    out["g_cot"] = g_cot
    out["g_grad_z"] = zg.grad
    grads = named_params(G64, "generator")

    # D and f: outputs, and the gradients of <f_cot, f(x)>.
    with torch.no_grad():
        out["d_out"] = D64(x)
        out["f_gz"] = f64(g_out)
    xf = x.clone().requires_grad_(True)
    f_x = f64(xf)
    f_cot = randn(*f_x.shape).float().double()
    D64.zero_grad()
    (f_cot * f_x).sum().backward()
    out["f_x"] = f_x
    out["f_cot"] = f_cot
    out["f_grad_x"] = xf.grad
    grads += named_params(D64, "discriminator")

    skipped = []
    for pname, p in grads:
        if grad_max_numel is not None and p.numel() > grad_max_numel:
            skipped.append(pname)
            continue
        # Layers past f receive no gradient from <f_cot, f(x)>.
        g = p.grad if p.grad is not None else torch.zeros_like(p)
        out["grad." + pname] = g.clone()

    # D in training mode: batch statistics, one step of running statistics.
    # Dropout stays in eval mode: its mask is random.
    xt = x.clone().requires_grad_(True)
    train_out = Dt(xt)
    d_cot = randn(*train_out.shape).float().double()
    (d_cot * train_out).sum().backward()
    out["d_cot"] = d_cot
    out["train_d_out"] = train_out
    out["train_grad_x"] = xt.grad
    train_grads = named_params(Dt, "discriminator")
    largest = max(p.grad.abs().max().item() for _, p in train_grads)
    for pname, p in train_grads:
        if grad_max_numel is None or p.numel() <= grad_max_numel:
            out["train_grad." + pname] = exact_zeros(p.grad, largest)
    for bname, b in Dt.named_buffers():
        if bname.endswith("running_mean") or bname.endswith("running_var"):
            out["train_running.discriminator." + bname] = b.clone()

    # The latent search from z0, with the L1 and the L2 residual.
    G32, f32 = G.eval(), D.eval()[:K + 1]
    for net in (G64, D64, G32, D):
        net.requires_grad_(False)
    z0, searches, spread, draws_z0 = draw_search_start(
        lambda: randn(batch, nz).float().double(), (G64, f64), (G32, f32),
        x, lam)
    out["search_z0"] = z0
    for (loss, _), found in zip(SEARCH_LOSSES, searches):
        for stem, steps in (("search_", SEARCH_STEPS),
                            ("search_short_", SEARCH_SHORT_STEPS)):
            for result in SEARCH_RESULTS:
                out[stem + loss + result] = found[steps][result]

    # Files.
    directory = os.path.join(DATA, name)
    os.makedirs(directory, exist_ok=True)
    model_tensors = []
    for prefix, net in (("generator", G), ("discriminator", D)):
        for key, t in net.state_dict().items():
            model_tensors.append((f"{prefix}.{key}", t))
    model_bytes = write_safetensors(
        os.path.join(directory, "model.safetensors"), model_tensors,
        {"format": "pt", "anogan": json.dumps(desc)})
    golden = [(k, v.detach().float()) for k, v in out.items()]
    golden_meta = {
        "case": name,
        "batch": str(batch),
        "torch": torch.__version__,
        "search_steps": str(SEARCH_STEPS),
        "search_short_steps": str(SEARCH_SHORT_STEPS),
        "search_learning_rate": str(SEARCH_LR),
        "grad_max_numel": str(grad_max_numel or 0),
    }
    golden_bytes = write_safetensors(
        os.path.join(directory, "golden.safetensors"), golden, golden_meta)

    # Summary.
    print(f"{name}: batch {batch}, model {model_bytes / 1e6:.2f} MB, "
          f"golden {golden_bytes / 1e6:.2f} MB, {len(golden)} tensors")
    if skipped:
        print(f"  gradients not stored (> {grad_max_numel} elements): "
              + ", ".join(skipped))
    print(f"  G(z) in [{g_out.min().item():.3f}, {g_out.max().item():.3f}], "
          f"std {g_out.std().item():.3f}, "
          f"saturated {saturation(g_out.detach()):.1%}")
    print(f"  D(x) {[round(v, 3) for v in out['d_out'].flatten().tolist()]}")
    print(f"  f(x) std {f_x.std().item():.3f}, "
          f"train D(x) {[round(v, 3) for v in train_out.flatten().tolist()]}")
    print(f"  smallest relative |input| of a ReLU: {margin_z:.2e} in G "
          f"(draw {draws_z} of z), {margin_x:.2e} in D (draw {draws_x} of x)")
    with torch.no_grad():
        start, _, _ = anogan_losses(G64, f64, x, f64(x), z0, lam, False)
    print(f"  search L1: score {[round(v, 2) for v in start.tolist()]} -> "
          f"{[round(v, 2) for v in out['search_score'].tolist()]}")
    print(f"  search L2: score -> "
          f"{[round(v, 2) for v in out['search_l2_score'].tolist()]}")
    print(f"  search start: draws per row {draws_z0}; float32 PyTorch and noisy "
          f"float64 within " + ", ".join(
              f"{result} {e:.1e} ({steps} steps)"
              for (steps, result), e in spread.items()))


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    wanted = sys.argv[1:]
    for case in CASES:
        if not wanted or case[0] in wanted:
            make_case(*case)


if __name__ == "__main__":
    main()
