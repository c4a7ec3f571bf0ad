#!/usr/bin/python3
"""PyTorch reference for benchmarks/ops/bm_pointwise.cpp: 1x1 convolution forward + backward
(input and weight gradients), float32, NCHW, 2 threads. Prints one line per shape with the median
time over --reps timed runs and GFLOP/s counted as in the C++ benchmark (3 GEMMs of 2*N*H*W*Cin*Cout),
and the median process CPU time per iteration (all threads), which the machine's load distorts less.

Run with Debian's Python (torch 1.13): /usr/bin/python3 benchmarks/compare/torch_pointwise.py
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F

SHAPES = [(128, 16, 72, 16), (128, 40, 240, 8), (128, 80, 480, 4), (128, 160, 960, 4)]


def run(n, ci, co, h, reps, inner, fwd_only):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, ci, h, h, generator=g, requires_grad=not fwd_only)
    w = torch.randn(co, ci, 1, 1, generator=g, requires_grad=not fwd_only)
    gy = torch.randn(n, co, h, h, generator=g)

    def step():
        if fwd_only:
            with torch.no_grad():
                F.conv2d(x, w)
            return
        y = F.conv2d(x, w)
        y.backward(gy)
        x.grad = None
        w.grad = None

    for _ in range(3):
        step()
    times, cpus = [], []
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(inner):
            step()
        times.append((time.perf_counter() - t0) / inner)
        cpus.append((time.process_time() - c0) / inner)
    med = statistics.median(times)
    flops = (1 if fwd_only else 3) * 2.0 * n * h * h * ci * co
    return med, flops / med * 1e-9, statistics.median(cpus)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=15)
    p.add_argument("--inner", type=int, default=5)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"mkldnn {torch.backends.mkldnn.is_available()}")
    for fwd_only in (False, True):
        name = "pointwise_fwd" if fwd_only else "pointwise_fwd_bwd"
        for (n, ci, co, h) in SHAPES:
            med, gf, cpu = run(n, ci, co, h, args.reps, args.inner, fwd_only)
            print(f"{name}/N:{n}/Cin:{ci}/Cout:{co}/H:{h}  median {med * 1e3:.3f} ms  "
                  f"{gf:.1f} GFLOP/s  proc_cpu {cpu * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
