#!/usr/bin/python3
# pytorch-search-bench.py: AnoGAN's latent search in PyTorch on the CPU
#
# Copyright (C) 2026 the gst-anogan authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The reference point for anogan-bench: the same search, written the way a
# PyTorch user would write it, on the same architecture, batch and thread
# count.  G and D[:K+1] are built from models/arch/<arch>.json, put in eval
# mode with their parameters frozen (so backward computes gradients of the
# input only, as the C engine does), and z is searched with
# torch.optim.Adam(lr=0.01) on
#
#   L(z) = (1-λ)·Σ|x - G(z)| + λ·Σ|f(x) - f(G(z))|,   f = D[:K+1],
#
# f(x) computed once per batch without autograd; after the last step the
# loss is evaluated once more, without autograd, as the score.
#
# Run it with the interpreter that has torch:
#
#   /usr/bin/python3 benchmarks/pytorch-search-bench.py --arch dcgan64 \
#       --batch 16 --threads 2 --seconds 4

import argparse
import ctypes
import json
import math
import os
import platform
import statistics
import sys
import time

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
ARCH_DIR = os.path.join(os.path.dirname(HERE), "models", "arch")

# With --iterations 0, a search lasts about this share of --seconds, so
# that the timing takes several runs and their median means something.
RUNS_PER_TIMING = 8
AUTO_MIN_ITERATIONS = 5
AUTO_MAX_ITERATIONS = 500

# Keys of our layer descriptions that are not PyTorch keyword arguments.
NOT_KWARGS = {"type"}


def build_sequential(layers):
    """nn.Sequential from a list of {"type": class name, kwargs...}."""
    modules = []
    for spec in layers:
        cls = getattr(nn, spec["type"])
        kwargs = {k: v for k, v in spec.items() if k not in NOT_KWARGS}
        for key, value in kwargs.items():
            if isinstance(value, list):
                kwargs[key] = tuple(value)
        modules.append(cls(**kwargs))
    return nn.Sequential(*modules)


def init_dcgan_weights(module):
    """Radford et al.'s initialisation, and running statistics that are
    not the identity, so that eval-mode BatchNorm does real work."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
        module.running_mean.normal_(0.0, 0.1)
        module.running_var.uniform_(0.5, 1.5)


def load_arch(name):
    path = name if name.endswith(".json") else os.path.join(ARCH_DIR,
                                                            name + ".json")
    with open(path) as f:
        return json.load(f)


class Search:
    """The latent search on one batch of patches, as a PyTorch user
    writes it."""

    def __init__(self, arch, lr):
        self.nz = arch["nz"]
        self.lam = float(arch["lambda"])
        self.lr = lr
        self.G = build_sequential(arch["generator"])
        D = build_sequential(arch["discriminator"])
        self.f = D[:arch["feature_layer"] + 1]
        for net in (self.G, self.f):
            net.apply(init_dcgan_weights)
            net.eval()
            for p in net.parameters():
                p.requires_grad_(False)

    def z_shape(self, n):
        first = self.G[0]
        if isinstance(first, nn.ConvTranspose2d) or isinstance(first,
                                                                nn.Conv2d):
            return (n, self.nz, 1, 1)
        return (n, self.nz)

    def make_patches(self, n, generator):
        """Realistic input: G of random z plus noise, in G's range."""
        with torch.no_grad():
            z = torch.randn(self.z_shape(n), generator=generator)
            x = self.G(z)
            x += 0.1 * torch.randn(x.shape, generator=generator)
            return x.clamp_(-1.0, 1.0)

    def loss(self, x, f_x, z):
        gz = self.G(z)
        residual = (x - gz).abs().sum()
        discrimination = (f_x - self.f(gz)).abs().sum()
        return (1.0 - self.lam) * residual + self.lam * discrimination

    def run(self, x, iterations, generator):
        """Searches z for every patch of x; returns the scores."""
        n = x.shape[0]
        with torch.no_grad():
            f_x = self.f(x)
        z = torch.randn(self.z_shape(n), generator=generator)
        z.requires_grad_(True)
        opt = torch.optim.Adam([z], lr=self.lr)
        for _ in range(iterations):
            opt.zero_grad(set_to_none=True)
            # The patches are independent, so the sum over the batch has
            # each patch's own gradient in its own z.
            self.loss(x, f_x, z).backward()
            opt.step()
        with torch.no_grad():
            gz = self.G(z)
            dims = tuple(range(1, gz.dim()))
            fdims = tuple(range(1, f_x.dim()))
            scores = ((1.0 - self.lam) * (x - gz).abs().sum(dims)
                      + self.lam * (f_x - self.f(gz)).abs().sum(fdims))
        return scores


def openblas_info():
    """The OpenBLAS that torch's BLAS calls reach, if it is OpenBLAS: its
    kernel and how many threads of its own it runs beside torch's."""
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_config.restype = ctypes.c_char_p
        return {
            "openblas_config": lib.openblas_get_config().decode(),
            "openblas_threads": lib.openblas_get_num_threads(),
        }
    except (OSError, AttributeError):
        return {}


def cpu_capability():
    """The vector extensions torch's own kernels were dispatched to."""
    for line in torch.__config__.show().splitlines():
        if "CPU capability usage:" in line:
            return line.split(":", 1)[1].strip()
    return "unknown"


def set_openblas_threads(n):
    lib = ctypes.CDLL("libopenblas.so.0")
    lib.openblas_set_num_threads(n)


def backend_info():
    info = {
        "torch_version": torch.__version__,
        "python": platform.python_version(),
        "num_threads": torch.get_num_threads(),
        "num_interop_threads": torch.get_num_interop_threads(),
        "mkldnn_available": torch.backends.mkldnn.is_available(),
        "mkldnn_enabled": bool(torch.backends.mkldnn.enabled),
        "mkl_available": torch.backends.mkl.is_available(),
        "openmp_available": torch.backends.openmp.is_available(),
        "cpu_capability": cpu_capability(),
    }
    info.update(openblas_info())
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS",
                "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        if var in os.environ:
            info["env_" + var] = os.environ[var]
    return info


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def positive_float(text):
    value = float(text)
    if not (value > 0.0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Time AnoGAN's latent search (Adam on z) in PyTorch "
                    "on the CPU and report patch-iterations per second.")
    p.add_argument("--arch", default="dcgan32",
                   help="architecture name in models/arch, or a .json path "
                        "(default: dcgan32)")
    p.add_argument("--batch", type=positive_int, default=16,
                   help="patches per forward/backward pass (default: 16)")
    p.add_argument("--threads", type=positive_int, default=2,
                   help="torch.set_num_threads (default: 2)")
    p.add_argument("--seconds", type=positive_float, default=4.0,
                   help="how long to time, after a warm-up (default: 4)")
    p.add_argument("--iterations", type=int, default=0,
                   help="Adam steps per search; 0 picks a count that makes "
                        "a search last about an eighth of --seconds "
                        "(default: 0)")
    p.add_argument("--lr", type=positive_float, default=0.01,
                   help="Adam's learning rate (default: 0.01)")
    p.add_argument("--openblas-threads", type=positive_int, default=None,
                   help="threads of OpenBLAS, which torch calls for GEMMs "
                        "oneDNN does not do (default: OpenBLAS's own choice;"
                        " 1 avoids its threads competing with torch's)")
    p.add_argument("--no-mkldnn", action="store_true",
                   help="disable oneDNN (torch.backends.mkldnn.enabled)")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object instead of a table")
    args = p.parse_args(argv)
    if args.iterations < 0:
        p.error("--iterations must not be negative")
    return args


def auto_iterations(search, x, seconds, generator):
    """Steps that make one search of the batch last about
    seconds/RUNS_PER_TIMING, as anogan-bench chooses them."""
    probe_steps = 1
    search.run(x, probe_steps, generator)
    start = time.perf_counter()
    search.run(x, probe_steps, generator)
    # f(x) and the final evaluation cost about one more step.
    per_step = (time.perf_counter() - start) / (probe_steps + 1)
    steps = int(round(seconds / RUNS_PER_TIMING / per_step))
    return max(AUTO_MIN_ITERATIONS, min(AUTO_MAX_ITERATIONS, steps))


def main(argv):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    if args.no_mkldnn:
        torch.backends.mkldnn.enabled = False
    if args.openblas_threads:
        set_openblas_threads(args.openblas_threads)
    if torch.get_num_threads() != args.threads:
        sys.exit("torch runs %d threads, not the %d asked for"
                 % (torch.get_num_threads(), args.threads))

    arch = load_arch(args.arch)
    search = Search(arch, args.lr)
    gen = torch.Generator().manual_seed(args.seed)
    x = search.make_patches(args.batch, gen)

    # Warm-up: first calls choose kernels and allocate.
    iterations = args.iterations or auto_iterations(search, x, args.seconds,
                                                    gen)
    search.run(x, min(iterations, AUTO_MIN_ITERATIONS), gen)

    run_times = []
    while sum(run_times) < args.seconds:
        start = time.perf_counter()
        scores = search.run(x, iterations, gen)
        run_times.append(time.perf_counter() - start)
    if not torch.isfinite(scores).all():
        sys.exit("the search produced non-finite scores")

    per_run = args.batch * iterations
    median_run = statistics.median(run_times)
    result = {
        "engine": "pytorch",
        "arch": arch["name"],
        "batch": args.batch,
        "threads": args.threads,
        "patches": args.batch,
        "iterations": iterations,
        "runs": len(run_times),
        "seconds": sum(run_times),
        "median_run_seconds": median_run,
        "patch_iterations_per_second": per_run / median_run,
        "mean_patch_iterations_per_second":
            per_run * len(run_times) / sum(run_times),
        "mean_score": float(scores.mean()),
        # CPU time of the whole process, all threads: beside the wall
        # time it shows whether other work took the cores.
        "cpu_seconds": time.process_time(),
    }
    result.update(backend_info())

    if args.json:
        print(json.dumps(result))
        return
    width = max(len(k) for k in result)
    for key, value in result.items():
        if isinstance(value, float):
            value = "%.4g" % value
        print("%-*s  %s" % (width, key, value))


if __name__ == "__main__":
    main(sys.argv[1:])
