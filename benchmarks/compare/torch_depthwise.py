#!/usr/bin/env python3
"""Depthwise conv: nat's CPU kernels (bm_depthwise) against PyTorch on the same machine.

Times PyTorch's depthwise conv2d (groups == channels, float32, N=128) forward alone and forward +
backward (both gradients) on the issue-3 grid, runs bm_depthwise on the same grid through
subprocess (--benchmark_format=json), and prints per-shape times, GFLOP/s and speed-ups with
their geometric means. Both sides use the same thread count (default 2).

    python3 benchmarks/compare/torch_depthwise.py --bm build-dw/benchmarks/bm_depthwise
"""
import argparse
import json
import math
import statistics
import subprocess
import time

import torch
import torch.nn.functional as F

GRID = [(c, h, k, s) for (c, h) in [(72, 16), (120, 8), (240, 8), (480, 4)]
        for k in (3, 5, 7) for s in (1, 2)]
N = 128


def flops(c, h, k, s):
    o = (h + 2 * (k // 2) - k) // s + 1
    return 2.0 * N * c * o * o * k * k


def median_time(fn, reps, min_seconds=0.15):
    """Median over `reps` samples; each sample repeats fn until it lasts min_seconds."""
    fn()
    fn()
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-6)
    inner = max(1, int(min_seconds / once))
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t0) / inner)
    return statistics.median(samples)


def torch_times(c, h, k, s, reps):
    g = torch.Generator().manual_seed(1)
    x = torch.rand(N, c, h, h, generator=g) * 2 - 1
    w = torch.rand(c, 1, k, k, generator=g) * 2 - 1
    with torch.no_grad():
        fwd = median_time(lambda: F.conv2d(x, w, stride=s, padding=k // 2, groups=c), reps)
    xg = x.clone().requires_grad_(True)
    wg = w.clone().requires_grad_(True)
    dy = torch.rand_like(F.conv2d(x, w, stride=s, padding=k // 2, groups=c))

    def step():
        xg.grad = None
        wg.grad = None
        y = F.conv2d(xg, wg, stride=s, padding=k // 2, groups=c)
        y.backward(dy)

    return fwd, median_time(step, reps)


def nat_times(bm, reps, threads):
    cmd = [bm, "--benchmark_filter=BM_depthwise_(forward|fwdbwd)/", "--benchmark_format=json",
           f"--benchmark_repetitions={reps}", "--benchmark_report_aggregates_only=true",
           "--benchmark_min_time=0.15"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    out = out[out.index("{"):]  # skip the build-configuration line
    res = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name = b["run_name"].split("/")
        kind = name[0].replace("BM_depthwise_", "")
        key = tuple(int(p.split(":")[1]) for p in name[1:5])
        scale = {"us": 1e-6, "ms": 1e-3, "ns": 1e-9}[b["time_unit"]]
        res[(kind, key)] = b["real_time"] * scale
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bm", default="build-dw/benchmarks/bm_depthwise")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--json", help="write all numbers here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, N={N}, float32")
    nat = nat_times(args.bm, args.reps, args.threads)
    rows = []
    hdr = ("C", "H", "k", "s", "torch fwd us", "nat fwd us", "fwd x", "torch f+b us", "nat f+b us",
           "f+b x", "torch f+b GF/s", "nat f+b GF/s")
    print("| " + " | ".join(hdr) + " |")
    print("|" + "---|" * len(hdr))
    for shape in GRID:
        tf, tfb = torch_times(*shape, args.reps)
        nf, nfb = nat[("forward", shape)], nat[("fwdbwd", shape)]
        fl = flops(*shape)
        r = dict(shape=shape, torch_fwd=tf, nat_fwd=nf, torch_fwdbwd=tfb, nat_fwdbwd=nfb,
                 fwd_ratio=tf / nf, fwdbwd_ratio=tfb / nfb)
        rows.append(r)
        print(f"| {shape[0]} | {shape[1]} | {shape[2]} | {shape[3]} | {tf * 1e6:.0f} | "
              f"{nf * 1e6:.0f} | {tf / nf:.2f} | {tfb * 1e6:.0f} | {nfb * 1e6:.0f} | "
              f"{tfb / nfb:.2f} | {3 * fl / tfb * 1e-9:.1f} | {3 * fl / nfb * 1e-9:.1f} |",
              flush=True)
    gm = lambda v: math.exp(sum(math.log(a) for a in v) / len(v))
    gf = gm([r["fwd_ratio"] for r in rows])
    gfb = gm([r["fwdbwd_ratio"] for r in rows])
    print(f"geometric mean speed-up: forward {gf:.2f}x (min {min(r['fwd_ratio'] for r in rows):.2f}),"
          f" forward+backward {gfb:.2f}x (min {min(r['fwdbwd_ratio'] for r in rows):.2f})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(rows=rows, geomean_fwd=gf, geomean_fwdbwd=gfb), f, indent=1)


if __name__ == "__main__":
    main()
