#!/usr/bin/env python3
"""Compares two `nat search` fronts (front.csv) at the quartiles of the first front's MAC range.

Issue 8's measure: at each MAC level L in {25, 50, 75, 100 %} of front A's MAC range
[min, max], take the best test accuracy among each front's subnets with MACs <= L; A "wins" the
level when its accuracy is strictly higher. Prints a Markdown table and the number of levels won.
Standard library only (a reporting aid, not a dependency of nat).

usage: compare_fronts.py RUN_A RUN_B [--metric test_acc] [--names NAT,random]
"""
import argparse
import csv
import os
import sys


def load(run):
    path = run if run.endswith(".csv") else os.path.join(run, "front.csv")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"compare_fronts: {path} has no subnets")
    for c in ("macs",):
        if c not in rows[0]:
            sys.exit(f"compare_fronts: {path} has no '{c}' column")
    return path, rows


def best_under(rows, level, metric):
    vals = [float(r[metric]) for r in rows if float(r["macs"]) <= level * (1 + 1e-12)]
    return max(vals) if vals else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_a")
    ap.add_argument("run_b")
    ap.add_argument("--metric", default="test_acc")
    ap.add_argument("--names", default="A,B")
    args = ap.parse_args()
    name_a, name_b = args.names.split(",")
    path_a, a = load(args.run_a)
    path_b, b = load(args.run_b)
    if args.metric not in a[0] or args.metric not in b[0]:
        sys.exit(f"compare_fronts: column '{args.metric}' missing")
    lo = min(float(r["macs"]) for r in a)
    hi = max(float(r["macs"]) for r in a)
    print(f"{name_a}: {path_a} ({len(a)} subnets); {name_b}: {path_b} ({len(b)} subnets)")
    print(f"{name_a}'s MAC range: {lo / 1e6:.2f} M .. {hi / 1e6:.2f} M\n")
    print(f"| MAC level | MACs <= | {name_a} best {args.metric} | {name_b} best {args.metric} | winner |")
    print("|---|---|---|---|---|")
    wins = 0
    for q in (0.25, 0.5, 0.75, 1.0):
        level = lo + q * (hi - lo)
        ba, bb = best_under(a, level, args.metric), best_under(b, level, args.metric)
        fa = "-" if ba is None else f"{ba:.2f}"
        fb = "-" if bb is None else f"{bb:.2f}"
        if ba is not None and (bb is None or ba > bb):
            win, wins = name_a, wins + 1
        elif bb is not None and (ba is None or bb > ba):
            win = name_b
        else:
            win = "tie"
        print(f"| {int(q * 100)} % | {level / 1e6:.2f} M | {fa} | {fb} | {win} |")
    print(f"\n{name_a} wins {wins} of 4 MAC levels")
    return 0


if __name__ == "__main__":
    sys.exit(main())
