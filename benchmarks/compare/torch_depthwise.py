#!/usr/bin/env python3
"""Depthwise conv: nat's CPU kernels (bm_depthwise) against PyTorch on the same machine.

Times PyTorch's depthwise conv2d (groups == channels, float32, N=128) forward alone and forward +
backward (both gradients) on the issue-3 grid, runs bm_depthwise on the same grid through
subprocess (--benchmark_format=json), and prints per-shape times, GFLOP/s and speed-ups with
their geometric means. Both sides use the same thread count (default 2). Each shape alternates
torch and nat samples so that both see the same load on a shared machine.

    python3 benchmarks/compare/torch_depthwise.py --bm build-dw/benchmarks/bm_depthwise
    python3 benchmarks/compare/torch_depthwise.py --threads 1 --cpu-time   # steadier when loaded
"""
import argparse
import json
import math
import os
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


def sample_times(fn, reps, clock, min_seconds=0.1):
    """`reps` samples of fn's duration; each sample repeats fn until it lasts min_seconds."""
    fn()
    t0 = clock()
    fn()
    once = max(clock() - t0, 1e-6)
    inner = max(1, int(min_seconds / once))
    samples = []
    for _ in range(reps):
        t0 = clock()
        for _ in range(inner):
            fn()
        samples.append((clock() - t0) / inner)
    return samples


def torch_samples(c, h, k, s, reps, clock):
    g = torch.Generator().manual_seed(1)
    x = torch.rand(N, c, h, h, generator=g) * 2 - 1
    w = torch.rand(c, 1, k, k, generator=g) * 2 - 1

    def fwd():
        with torch.no_grad():
            F.conv2d(x, w, stride=s, padding=k // 2, groups=c)

    xg = x.clone().requires_grad_(True)
    wg = w.clone().requires_grad_(True)
    dy = torch.rand_like(F.conv2d(x, w, stride=s, padding=k // 2, groups=c))

    def step():
        xg.grad = None
        wg.grad = None
        y = F.conv2d(xg, wg, stride=s, padding=k // 2, groups=c)
        y.backward(dy)

    return sample_times(fwd, reps, clock), sample_times(step, reps, clock)


def nat_samples(bm, shape, reps, threads, use_cpu):
    """Per-repetition times of BM_depthwise_{forward,fwdbwd} for one shape (wall or CPU time)."""
    c, h, k, s = shape
    cmd = [bm, f"--benchmark_filter=BM_depthwise_(forward|fwdbwd)/C:{c}/H:{h}/k:{k}/s:{s}/",
           "--benchmark_format=json", f"--benchmark_repetitions={reps}",
           "--benchmark_min_time=0.1"]
    env = dict(os.environ, NAT_BM_THREADS=str(threads))
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    out = out[out.index("{"):]  # skip the build-configuration line
    res = {"forward": [], "fwdbwd": []}
    for b in json.loads(out)["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        kind = b["run_name"].split("/")[0].replace("BM_depthwise_", "")
        scale = {"us": 1e-6, "ms": 1e-3, "ns": 1e-9}[b["time_unit"]]
        res[kind].append(b["cpu_time" if use_cpu else "real_time"] * scale)
    return res["forward"], res["fwdbwd"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bm", default="build-dw/benchmarks/bm_depthwise")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3, help="samples per side per round")
    ap.add_argument("--rounds", type=int, default=2, help="alternations torch/nat per shape")
    ap.add_argument("--cpu-time", action="store_true",
                    help="compare per-thread CPU time (needs --threads 1; steadier on a loaded host)")
    ap.add_argument("--json", help="write all numbers here")
    args = ap.parse_args()
    if args.cpu_time and args.threads != 1:
        ap.error("--cpu-time measures one thread; use --threads 1")
    torch.set_num_threads(args.threads)
    clock = time.thread_time if args.cpu_time else time.perf_counter
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, N={N}, float32, "
          f"{'thread CPU time' if args.cpu_time else 'wall time'}, median of "
          f"{args.rounds}x{args.reps} interleaved samples per side")
    rows = []
    hdr = ("C", "H", "k", "s", "torch fwd us", "nat fwd us", "fwd x", "torch f+b us", "nat f+b us",
           "f+b x", "torch f+b GF/s", "nat f+b GF/s")
    print("| " + " | ".join(hdr) + " |")
    print("|" + "---|" * len(hdr))
    for shape in GRID:
        tf, tfb, nf, nfb = [], [], [], []
        for _ in range(args.rounds):  # alternate so both sides see the same machine load
            a, b = torch_samples(*shape, args.reps, clock)
            tf += a
            tfb += b
            a, b = nat_samples(args.bm, shape, args.reps, args.threads, args.cpu_time)
            nf += a
            nfb += b
        tf, tfb, nf, nfb = (statistics.median(v) for v in (tf, tfb, nf, nfb))
        fl = flops(*shape)
        rows.append(dict(shape=shape, torch_fwd=tf, nat_fwd=nf, torch_fwdbwd=tfb, nat_fwdbwd=nfb,
                         fwd_ratio=tf / nf, fwdbwd_ratio=tfb / nfb))
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
            json.dump(dict(threads=args.threads, cpu_time=args.cpu_time, rows=rows,
                           geomean_fwd=gf, geomean_fwdbwd=gfb), f, indent=1)


if __name__ == "__main__":
    main()
