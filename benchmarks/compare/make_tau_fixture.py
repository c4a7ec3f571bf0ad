#!/usr/bin/python3
"""Writes the Kendall tau-b / Spearman fixtures used by tests/metrics/correlation.test.cpp.

Run with Debian's Python (scipy): /usr/bin/python3 benchmarks/compare/make_tau_fixture.py
Produces tests/metrics/fixtures/tau_samples.csv (case,a,b) and tau_expected.csv (case,n,tau_b,rho).
Cases mix continuous data, heavy ties in one or both samples, and integer-valued ranks like the
surrogate's accuracies rounded to a grid.
"""
import os
import numpy as np
from scipy import stats

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "..", "tests", "metrics", "fixtures")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(20240607)

cases = []
for n, levels_a, levels_b in [(2, 0, 0), (7, 3, 0), (25, 4, 4), (50, 0, 5), (120, 10, 3),
                              (300, 0, 0), (301, 2, 50), (500, 20, 20), (1000, 7, 0),
                              (64, 1000, 2)]:
    a = rng.normal(size=n)
    b = 0.5 * a + rng.normal(size=n)
    if levels_a:
        a = np.round(a * levels_a / 3.0)
    if levels_b:
        b = np.round(b * levels_b / 3.0)
    cases.append((a, b))
# Anti-correlated with ties, and a perfectly ranked pair.
a = np.round(rng.normal(size=200) * 2)
cases.append((a, -a + np.round(rng.normal(size=200))))
a = rng.normal(size=40)
cases.append((a, np.exp(a)))

with open(os.path.join(out, "tau_samples.csv"), "w") as fs, \
        open(os.path.join(out, "tau_expected.csv"), "w") as fe:
    fs.write("case,a,b\n")
    fe.write("case,n,tau_b,rho\n")
    for c, (a, b) in enumerate(cases):
        for x, y in zip(a, b):
            fs.write(f"{c},{float(x)!r},{float(y)!r}\n")
        tau = stats.kendalltau(a, b, variant="b").statistic if hasattr(
            stats.kendalltau(a, b), "statistic") else stats.kendalltau(a, b)[0]
        rho = stats.spearmanr(a, b)[0]
        fe.write(f"{c},{len(a)},{float(tau)!r},{float(rho)!r}\n")
