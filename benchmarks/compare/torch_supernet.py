#!/usr/bin/env python3
"""PyTorch baseline for benchmarks/elastic/bm_supernet.cpp.

Builds the same static networks as nat's largest and smallest mbv3_small subnets (1 input channel,
10 classes; include/nat/elastic/supernet_config.hpp) and reports images/s for forward (eval,
no_grad) and forward+backward (train mode, cross entropy with label smoothing 0.1) at batch 128,
28 and 32 px, in NCHW and channels-last memory formats. A static network is PyTorch's best case (an
OFA dynamic supernet adds slicing on top), so the comparison favours PyTorch.

usage: python3 torch_supernet.py [--threads N] [--seconds S] [--json out.json]
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def make_divisible(v, d=8):
    n = max(d, int(v + d / 2) // d * d)
    return n + d if n < 0.9 * v else n


class HSwish(nn.Module):
    def forward(self, x):
        return x * F.relu6(x + 3.0) / 6.0


def act(name):
    return nn.ReLU(inplace=True) if name == "relu" else HSwish()


class SE(nn.Module):
    def __init__(self, c):
        super().__init__()
        mid = make_divisible(c // 4)
        self.reduce = nn.Conv2d(c, mid, 1, bias=True)
        self.expand = nn.Conv2d(mid, c, 1, bias=True)

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        return x * (F.relu6(self.expand(F.relu(self.reduce(s))) + 3.0) / 6.0)


class MBConv(nn.Module):
    def __init__(self, cin, cout, k, e, stride, a, se):
        super().__init__()
        mid = cin if e == 1 else make_divisible(round(cin * e))
        layers = []
        if e != 1:
            layers += [nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid), act(a)]
        layers += [nn.Conv2d(mid, mid, k, stride, k // 2, groups=mid, bias=False),
                   nn.BatchNorm2d(mid), act(a)]
        if se:
            layers.append(SE(mid))
        layers += [nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.body = nn.Sequential(*layers)
        self.skip = stride == 1 and cin == cout

    def forward(self, x):
        y = self.body(x)
        return y + x if self.skip else y


# mbv3_small: stem stride 1, stages (out, stride, se, act); head 384 -> 512 (supernet_config.hpp)
STAGES = [(16, 2, False, "relu"), (24, 1, True, "relu"), (48, 2, False, "h_swish"),
          (64, 1, True, "h_swish"), (96, 2, True, "h_swish")]


def build(k, e, d, in_ch=1, classes=10):
    layers = [nn.Conv2d(in_ch, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), HSwish(),
              MBConv(16, 16, 3, 1, 1, "relu", False)]
    c = 16
    for out, stride, se, a in STAGES:
        for b in range(d):
            layers.append(MBConv(c, out, k, e, stride if b == 0 else 1, a, se))
            c = out
    layers += [nn.Conv2d(c, 384, 1, bias=False), nn.BatchNorm2d(384), HSwish(),
               nn.AdaptiveAvgPool2d(1), nn.Conv2d(384, 512, 1, bias=False), HSwish(),
               nn.Flatten(), nn.Linear(512, classes)]
    return nn.Sequential(*layers)


def rate(fn, batch, seconds, min_steps=3):
    """(images/s wall, images per process-CPU-second) from the median step after one warm-up.

    On a shared, oversubscribed machine wall time measures the neighbours; process CPU time (all
    threads) divided by the thread count estimates the wall time on an idle machine.
    """
    fn()
    n, t0 = 0, time.perf_counter()
    wall, cpu = [], []
    while time.perf_counter() - t0 < seconds or n < min_steps:
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        n += 1
    wall.sort()
    cpu.sort()
    return batch / wall[len(wall) // 2], batch / cpu[len(cpu) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--json", default="")
    ap.add_argument("--resolutions", default="28,32")
    ap.add_argument("--steps", type=int, default=3, help="minimum timed steps per measurement")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, batch {args.batch}")
    results = []
    for name, (k, e, d) in [("largest", (7, 6, 4)), ("smallest", (3, 3, 2))]:
        for r in [int(v) for v in args.resolutions.split(",")]:
            for fmt in ("nchw", "channels_last"):
                torch.manual_seed(0)
                net = build(k, e, d)
                mf = torch.channels_last if fmt == "channels_last" else torch.contiguous_format
                net = net.to(memory_format=mf)
                x = torch.randn(args.batch, 1, r, r).to(memory_format=mf)
                y = torch.arange(args.batch) % 10
                net.eval()

                def fwd():
                    with torch.no_grad():
                        net(x)

                f = rate(fwd, args.batch, args.seconds, args.steps)
                net.train()

                def step():
                    loss = F.cross_entropy(net(x), y, label_smoothing=0.1)
                    loss.backward()
                    net.zero_grad(set_to_none=True)

                t = rate(step, args.batch, args.seconds, args.steps)
                results.append({"subnet": name, "r": r, "format": fmt, "forward_img_s": f[0],
                                "forward_img_per_cpu_s": f[1], "train_img_s": t[0],
                                "train_img_per_cpu_s": t[1]})
                print(f"{name:8s} r{r} {fmt:13s} forward {f[0]:8.1f} img/s {f[1]:8.1f} img/cpu-s"
                      f"   fwd+bwd {t[0]:8.1f} img/s {t[1]:8.1f} img/cpu-s", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
