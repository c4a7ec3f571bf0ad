#pragma once
/// \file CPU batch normalisation kernels on raw NCHW pointers (PyTorch conventions).
///
/// One task per channel: a channel's statistics are summed over (n, h, w) in a fixed order by one
/// thread, in double, so results do not depend on the thread count.
#include <cmath>
#include <cstddef>

#include "nat/core/parallel.hpp"

namespace nat::ops {

/// Geometry of a batch norm over x [n, c, hw] (hw = H·W, or 1 for [N, C] inputs).
struct batch_norm_shape {
  std::size_t n = 0, c = 0, hw = 1;
  /// Elements per channel, n·hw.
  std::size_t count() const { return n * hw; }
};

namespace cpu {

/// Training forward: batch mean and biased variance per channel (written to mean, var), then
/// y = (x − mean)·invstd·w + b (w, b may be null: 1 and 0); invstd[c] = 1/sqrt(var + eps).
template <class T>
void batch_norm_train_forward(const T* x, const T* w, const T* b, T* y, T* mean, T* var, T* invstd,
                              T eps, const batch_norm_shape& s) {
  nat::parallel_for(0, s.c, 1, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t c = lo; c < hi; ++c) {
      double sum = 0, sq = 0;
      for (std::size_t n = 0; n < s.n; ++n) {
        const T* p = x + (n * s.c + c) * s.hw;
        for (std::size_t q = 0; q < s.hw; ++q) sum += p[q];
      }
      const double m = sum / double(s.count());
      for (std::size_t n = 0; n < s.n; ++n) {
        const T* p = x + (n * s.c + c) * s.hw;
        for (std::size_t q = 0; q < s.hw; ++q) {
          const double d = p[q] - m;
          sq += d * d;
        }
      }
      const double v = sq / double(s.count());
      const double is = 1.0 / std::sqrt(v + double(eps));
      mean[c] = T(m);
      var[c] = T(v);
      invstd[c] = T(is);
      const T scale = T(is * (w ? double(w[c]) : 1.0));
      const T shift = T((b ? double(b[c]) : 0.0) - m * is * (w ? double(w[c]) : 1.0));
      for (std::size_t n = 0; n < s.n; ++n) {
        const T* p = x + (n * s.c + c) * s.hw;
        T* o = y + (n * s.c + c) * s.hw;
        for (std::size_t q = 0; q < s.hw; ++q) o[q] = p[q] * scale + shift;
      }
    }
  });
}

/// Affine forward with given per-channel statistics (evaluation): y = (x − mean)·invstd·w + b.
template <class T>
void batch_norm_apply(const T* x, const T* w, const T* b, const T* mean, const T* invstd, T* y,
                      const batch_norm_shape& s) {
  nat::parallel_for(0, s.n * s.c, 64, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t p = lo; p < hi; ++p) {
      const std::size_t c = p % s.c;
      const T scale = invstd[c] * (w ? w[c] : T(1));
      const T shift = (b ? b[c] : T(0)) - mean[c] * scale;
      const T* in = x + p * s.hw;
      T* o = y + p * s.hw;
      for (std::size_t q = 0; q < s.hw; ++q) o[q] = in[q] * scale + shift;
    }
  });
}

/// Backward. training: batch statistics (gradient through mean and var); else constant
/// statistics. gx (may be null), gw, gb (may be null) are overwritten.
template <class T>
void batch_norm_backward(const T* x, const T* gy, const T* w, const T* mean, const T* invstd,
                         bool training, T* gx, T* gw, T* gb, const batch_norm_shape& s) {
  nat::parallel_for(0, s.c, 1, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t c = lo; c < hi; ++c) {
      const double m = mean[c], is = invstd[c];
      double sg = 0, sgx = 0;  // Σ gy, Σ gy·xhat
      for (std::size_t n = 0; n < s.n; ++n) {
        const T* p = x + (n * s.c + c) * s.hw;
        const T* g = gy + (n * s.c + c) * s.hw;
        for (std::size_t q = 0; q < s.hw; ++q) {
          sg += g[q];
          sgx += g[q] * ((p[q] - m) * is);
        }
      }
      if (gw) gw[c] = T(sgx);
      if (gb) gb[c] = T(sg);
      if (!gx) continue;
      const double wc = w ? double(w[c]) : 1.0;
      const double cnt = double(s.count());
      // training: gx = w·is·(gy − Σgy/M − xhat·Σ(gy·xhat)/M); eval: gx = w·is·gy.
      const T k1 = T(wc * is);
      const T k2 = T(training ? sg / cnt : 0.0);
      const T k3 = T(training ? sgx / cnt : 0.0);
      for (std::size_t n = 0; n < s.n; ++n) {
        const T* p = x + (n * s.c + c) * s.hw;
        const T* g = gy + (n * s.c + c) * s.hw;
        T* o = gx + (n * s.c + c) * s.hw;
        for (std::size_t q = 0; q < s.hw; ++q) {
          const T xhat = T((p[q] - m) * is);
          o[q] = k1 * (g[q] - k2 - xhat * k3);
        }
      }
    }
  });
}

}  // namespace cpu
}  // namespace nat::ops
