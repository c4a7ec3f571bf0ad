#!/usr/bin/env python3
"""PyTorch baseline for `nat train`: one fixed mbv3_small subnet trained from scratch on Fashion-MNIST.

The network is torch_supernet.py's static copy of nat's largest (kernel 7, expand 6, depth 4) or
smallest (3, 3, 2) mbv3_small subnet, plus the preset's classifier dropout (0.1), with OFA's
initialisation (He fan-out normal convs, BN 1/0, linear U(+-1/sqrt(in)) and zero biases). The
recipe is `nat train`'s (examples/nat/cmd_train.cpp):

  SGD, Nesterov momentum 0.9, weight decay 4e-5 on everything but BN parameters and biases; peak
  LR 0.1 on a per-step cosine to 0 with one epoch of linear warm-up from 0 (none for one epoch);
  cross entropy with label smoothing 0.1; batches of 128 (the last partial batch dropped), a fresh
  shuffle per epoch; augmentation: random crop with zero padding 4 (round(28/8)), horizontal flip
  with probability 1/2, normalisation with the training split's mean and std, bilinear resize to
  the resolution (28 = none); evaluation: normalisation only, BN running statistics.

Differences that remain: nat holds its validation images out with its own seeded split (here a
stratified split of the same size from torch's generator); a smaller kernel in nat keeps OFA's form
(centre crop of a 7x7 kernel times a learned transform), here it is a plain 3x3 conv; random
streams differ.

Fashion-MNIST is read from the gzip IDX files of Debian's dataset-fashion-mnist package.

usage: /usr/bin/python3 torch_train.py [--subnet largest|smallest] [--epochs 10] [--max-steps N]
                                       [--stop-after N] [--threads 2] [--json out.json]
"""
import argparse
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_supernet import build  # noqa: E402  (the same static networks as the nat benchmark)

SUBNETS = {"largest": (7, 6, 4), "smallest": (3, 3, 2)}


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(data_dir, split):
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    return torch.from_numpy(x.copy()).unsqueeze(1), torch.from_numpy(y.astype(np.int64))


def stratified_holdout(y, n_val, gen):
    """Indices (train, val): n_val images held out in proportion to the class counts."""
    counts = torch.bincount(y)
    take = (n_val * counts) // len(y)
    rem = (n_val * counts) % len(y)
    for c in torch.sort(rem, descending=True, stable=True).indices[: n_val - int(take.sum())]:
        take[c] += 1
    val = []
    for c in range(len(counts)):
        idx = torch.nonzero(y == c).flatten()
        val.append(idx[torch.randperm(len(idx), generator=gen)[: int(take[c])]])
    val = torch.cat(val) if val else torch.empty(0, dtype=torch.long)
    mask = torch.ones(len(y), dtype=torch.bool)
    mask[val] = False
    return torch.nonzero(mask).flatten(), val


def ofa_init(net, gen):
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
            with torch.no_grad():
                m.weight.normal_(0.0, math.sqrt(2.0 / n), generator=gen)
                if m.bias is not None:
                    m.bias.zero_()
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            bound = 1.0 / math.sqrt(m.in_features)
            with torch.no_grad():
                m.weight.uniform_(-bound, bound, generator=gen)
                m.bias.zero_()


def augment(x_u8, mean, std, resolution, gen, pad=4, flip=True):
    """Random crop (zero padding `pad`), flip, normalise, resize: uint8 [N,1,H,W] -> float."""
    n, _, h, w = x_u8.shape
    x = F.pad(x_u8.float() / 255.0, (pad, pad, pad, pad))
    top = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    left = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    rows = (top[:, None] + torch.arange(h))[:, :, None]
    cols = (left[:, None] + torch.arange(w))[:, None, :]
    x = x[torch.arange(n)[:, None, None], 0, rows, cols].unsqueeze(1)
    if flip:
        f = torch.rand(n, generator=gen) < 0.5
        x = torch.where(f[:, None, None, None], x.flip(-1), x)
    x = (x - mean) / std
    if resolution != h:
        x = F.interpolate(x, size=(resolution, resolution), mode="bilinear", align_corners=False)
    return x


def evaluate(net, x_u8, y, mean, std, resolution, batch=250):
    net.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(y), batch):
            x = (x_u8[i:i + batch].float() / 255.0 - mean) / std
            if resolution != x.shape[-1]:
                x = F.interpolate(x, size=(resolution, resolution), mode="bilinear",
                                  align_corners=False)
            correct += int((net(x).argmax(1) == y[i:i + batch]).sum())
    return 100.0 * correct / len(y)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--subnet", choices=sorted(SUBNETS), default="largest")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--max-steps", type=int, default=0, help="cap the steps of every epoch")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--resolution", type=int, default=28)
    ap.add_argument("--val-images", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--memory-format", choices=["channels_last", "nchw"], default="channels_last",
                    help="activation layout (channels_last: PyTorch's faster one on this CPU, "
                         "docs/performance/elastic.md)")
    ap.add_argument("--stop-after", type=int, default=0,
                    help="run only the first N epochs of the --epochs schedule (a side-by-side "
                         "throughput and learning-curve check when the whole run does not fit)")
    ap.add_argument("--json", default="", help="also write the summary to this file")
    args = ap.parse_args()
    if args.stop_after < 0 or args.stop_after > args.epochs:
        ap.error(f"--stop-after must be between 0 and --epochs ({args.epochs})")
    run_epochs = args.stop_after or args.epochs
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)

    x_all, y_all = load(args.data, "train")
    x_test, y_test = load(args.data, "test")
    train_idx, val_idx = stratified_holdout(y_all, args.val_images, gen)
    x_train, y_train = x_all[train_idx], y_all[train_idx]
    # Normalisation statistics of the whole training split, as nat's nat_transforms computes them.
    pixels = x_all.double() / 255.0
    mean, std = float(pixels.mean()), float(pixels.std(unbiased=False))

    k, e, d = SUBNETS[args.subnet]
    body = build(k, e, d)
    net = nn.Sequential(*list(body)[:-1], nn.Dropout(0.1), body[-1])  # the preset's dropout
    ofa_init(net, gen)
    fmt = torch.channels_last if args.memory_format == "channels_last" else torch.contiguous_format
    net = net.to(memory_format=fmt)
    decay = [p for p in net.parameters() if p.ndim > 1]
    no_decay = [p for p in net.parameters() if p.ndim <= 1]  # BN parameters and biases
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 4e-5},
                           {"params": no_decay, "weight_decay": 0.0}],
                          lr=args.lr, momentum=0.9, nesterov=True)
    per_epoch = len(y_train) // args.batch
    if args.max_steps:
        per_epoch = min(per_epoch, args.max_steps)
    total = args.epochs * per_epoch
    warm = per_epoch if args.epochs > 1 else 0

    def lr_at(step):
        if step < warm:
            return args.lr * step / warm
        return 0.5 * args.lr * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))

    n_params = sum(p.numel() for p in net.parameters())
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, {args.memory_format}, "
          f"{args.subnet} subnet "
          f"(kernel {k}, expand {e}, depth {d}), {n_params} params, r={args.resolution}, "
          f"{len(y_train)} training / {len(val_idx)} validation images, {per_epoch} steps/epoch",
          flush=True)
    epochs, train_s, images = [], 0.0, 0
    step = 0
    for epoch in range(run_epochs):
        net.train()
        order = torch.randperm(len(y_train), generator=gen)
        t0 = time.perf_counter()
        loss_sum, correct, seen = 0.0, 0, 0
        for s in range(per_epoch):
            idx = order[s * args.batch:(s + 1) * args.batch]
            x = augment(x_train[idx], mean, std, args.resolution, gen).contiguous(memory_format=fmt)
            y = y_train[idx]
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            logits = net(x)
            loss = F.cross_entropy(logits, y, label_smoothing=0.1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            loss_sum += float(loss)
            correct += int((logits.argmax(1) == y).sum())
            seen += len(y)
        wall = time.perf_counter() - t0
        train_s += wall
        images += seen
        row = {"epoch": epoch + 1, "loss": loss_sum / max(1, per_epoch),
               "train_top1": 100.0 * correct / max(1, seen), "seconds": wall,
               "images_per_s": seen / wall if wall > 0 else 0.0}
        epochs.append(row)
        print(f"epoch {epoch + 1}/{args.epochs}: loss {row['loss']:.4f}, train top-1 "
              f"{row['train_top1']:.2f}%, {wall:.1f} s, {row['images_per_s']:.0f} img/s", flush=True)
    val = (evaluate(net, x_all[val_idx], y_all[val_idx], mean, std, args.resolution)
           if len(val_idx) else None)
    test = evaluate(net, x_test, y_test, mean, std, args.resolution)
    summary = {"subnet": args.subnet, "val_top1": val, "test_top1": test, "epochs": args.epochs,
               "epochs_run": run_epochs, "memory_format": args.memory_format,
               "wall_s": train_s, "images_per_s": images / train_s if train_s > 0 else 0.0,
               "params": n_params, "threads": torch.get_num_threads(), "per_epoch": epochs}
    print(f"{args.subnet}: {run_epochs} of {args.epochs} epochs in {train_s:.1f} s "
          f"({summary['images_per_s']:.0f} img/s): "
          f"val top-1 {'-' if val is None else f'{val:.2f} %'}, test top-1 {test:.2f} %", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(summary, fh, indent=1)


if __name__ == "__main__":
    main()
