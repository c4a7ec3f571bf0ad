#!/usr/bin/python3
"""Side-by-side reference for nat::surrogate: scikit-learn 1.2 and scipy 1.10 on the shared
NAS-like surrogate set (never a build dependency).

Run with Debian's Python:  /usr/bin/python3 benchmarks/compare/sklearn_surrogate.py [--repeat 5]
For every model it prints Kendall tau-b and RMSE on the 500-row test split (fitted on the 100-row
training split) and the median fit and predict times over --repeat runs; "gp@300" fits on the
first 300 test rows and predicts all 500 (the fit + predict timing point of issue 7).
Inputs are scaled by their fixed ranges (x0/4, x1/1, genes/9) as the data README asks.
"""
import argparse
import os
import statistics
import time
import warnings

import numpy as np
from scipy.interpolate import RBFInterpolator
from scipy.stats import kendalltau
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
from sklearn.neural_network import MLPRegressor
from sklearn.tree import DecisionTreeRegressor

warnings.filterwarnings("ignore", category=ConvergenceWarning)
here = os.path.dirname(os.path.abspath(__file__))
data = os.path.join(here, "..", "..", "..", "shared", "data", "surrogate")


def load(name):
    a = np.loadtxt(os.path.join(data, name), delimiter=",", skiprows=1)
    X = a[:, :22].copy()
    X[:, 0] /= 4.0
    X[:, 2:] /= 9.0
    return X, a[:, 22]


class Interp:
    def __init__(self, kernel):
        self.kernel = kernel

    def fit(self, X, y):
        self.f = RBFInterpolator(X, y, kernel=self.kernel, degree=1)
        return self

    def predict(self, X):
        return self.f(X)


def gp(ard, d=22):
    ls = np.ones(d) if ard else 1.0
    k = ConstantKernel(1.0) * RBF(length_scale=ls) + WhiteKernel(1e-2)
    return GaussianProcessRegressor(k, normalize_y=True, n_restarts_optimizer=5, random_state=0)


MODELS = {
    "gp (iso RBF + white, 5 restarts)": lambda: gp(False),
    "gp (ARD RBF + white, 5 restarts)": lambda: gp(True),
    "rbf (scipy cubic, linear tail)": lambda: Interp("cubic"),
    "rbf (scipy thin-plate, linear tail)": lambda: Interp("thin_plate_spline"),
    "cart (DecisionTreeRegressor)": lambda: DecisionTreeRegressor(random_state=0),
    "mlp (MLPRegressor (300, 300))": lambda: MLPRegressor((300, 300), random_state=0),
}


def run(make, Xtr, ytr, Xte, yte, repeat):
    fits, preds = [], []
    for _ in range(repeat):
        m = make()
        t0 = time.perf_counter()
        m.fit(Xtr, ytr)
        t1 = time.perf_counter()
        p = m.predict(Xte)
        t2 = time.perf_counter()
        fits.append(t1 - t0)
        preds.append(t2 - t1)
    tau = kendalltau(p, yte)[0]
    rmse = float(np.sqrt(np.mean((p - yte) ** 2)))
    return tau, rmse, statistics.median(fits) * 1e3, statistics.median(preds) * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    Xtr, ytr = load("surrogate_train.csv")
    Xte, yte = load("surrogate_test.csv")
    print(f"{'model':40s} {'tau':>6s} {'rmse':>7s} {'fit ms':>9s} {'pred ms':>8s}")
    for name, make in MODELS.items():
        tau, rmse, fit, pred = run(make, Xtr, ytr, Xte, yte, args.repeat)
        print(f"{name:40s} {tau:6.3f} {rmse:7.3f} {fit:9.1f} {pred:8.2f}", flush=True)
    for name, make in [("gp@300 (iso RBF + white, 5 restarts)", lambda: gp(False))]:
        tau, rmse, fit, pred = run(make, Xte[:300], yte[:300], Xte, yte, max(1, args.repeat // 2))
        print(f"{name:40s} {tau:6.3f} {rmse:7.3f} {fit:9.1f} {pred:8.2f}  (fit on test rows 0..299)")


if __name__ == "__main__":
    main()
