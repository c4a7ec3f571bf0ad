#pragma once
/// \file Naive batch normalisation (training forward with batch statistics, and its backward by
/// the textbook chain rule through mean and variance): the test oracle for ops/cpu/batch_norm.hpp.
#include <cmath>
#include <cstddef>
#include <vector>

#include "nat/ops/cpu/batch_norm.hpp"

namespace nat::ops::reference {

/// y = (x − μ)/sqrt(σ² + eps)·w + b with μ, σ² (biased) over (n, hw); writes mean and var.
template <class T>
void batch_norm_train_forward(const T* x, const T* w, const T* b, T* y, T* mean, T* var, T eps,
                              const batch_norm_shape& s) {
  for (std::size_t c = 0; c < s.c; ++c) {
    double m = 0, v = 0;
    for (std::size_t n = 0; n < s.n; ++n)
      for (std::size_t q = 0; q < s.hw; ++q) m += x[(n * s.c + c) * s.hw + q];
    m /= double(s.count());
    for (std::size_t n = 0; n < s.n; ++n)
      for (std::size_t q = 0; q < s.hw; ++q) {
        const double d = x[(n * s.c + c) * s.hw + q] - m;
        v += d * d;
      }
    v /= double(s.count());
    mean[c] = T(m);
    var[c] = T(v);
    for (std::size_t n = 0; n < s.n; ++n)
      for (std::size_t q = 0; q < s.hw; ++q) {
        const std::size_t i = (n * s.c + c) * s.hw + q;
        y[i] = T((x[i] - m) / std::sqrt(v + double(eps)) * (w ? double(w[c]) : 1.0) +
                 (b ? double(b[c]) : 0.0));
      }
  }
}

/// Gradients of the training forward: gx, gw, gb (overwritten), chain rule through μ and σ².
template <class T>
void batch_norm_train_backward(const T* x, const T* gy, const T* w, T eps, T* gx, T* gw, T* gb,
                               const batch_norm_shape& s) {
  const double cnt = double(s.count());
  for (std::size_t c = 0; c < s.c; ++c) {
    double m = 0, v = 0;
    for (std::size_t n = 0; n < s.n; ++n)
      for (std::size_t q = 0; q < s.hw; ++q) m += x[(n * s.c + c) * s.hw + q];
    m /= cnt;
    for (std::size_t n = 0; n < s.n; ++n)
      for (std::size_t q = 0; q < s.hw; ++q) {
        const double d = x[(n * s.c + c) * s.hw + q] - m;
        v += d * d;
      }
    v /= cnt;
    const double is = 1.0 / std::sqrt(v + double(eps)), wc = w ? double(w[c]) : 1.0;
    double dvar = 0, dmean = 0, sum_d = 0, dw = 0, db = 0;
    for (std::size_t n = 0; n < s.n; ++n)
      for (std::size_t q = 0; q < s.hw; ++q) {
        const std::size_t i = (n * s.c + c) * s.hw + q;
        const double dxhat = double(gy[i]) * wc;
        dvar += dxhat * (x[i] - m) * -0.5 * std::pow(v + double(eps), -1.5);
        dmean += -dxhat * is;
        sum_d += -2.0 * (x[i] - m);
        dw += double(gy[i]) * (x[i] - m) * is;
        db += double(gy[i]);
      }
    dmean += dvar * sum_d / cnt;
    for (std::size_t n = 0; n < s.n; ++n)
      for (std::size_t q = 0; q < s.hw; ++q) {
        const std::size_t i = (n * s.c + c) * s.hw + q;
        gx[i] = T(double(gy[i]) * wc * is + dvar * 2.0 * (x[i] - m) / cnt + dmean / cnt);
      }
    gw[c] = T(dw);
    gb[c] = T(db);
  }
}

}  // namespace nat::ops::reference
