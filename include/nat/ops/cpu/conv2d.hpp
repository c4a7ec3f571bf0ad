#pragma once
/// \file CPU 2-D convolution on raw NCHW pointers: im2col + GEMM per sample and group; 1x1
/// stride-1 unpadded convolutions (pointwise) skip im2col and are one GEMM per sample.
///
/// Threads and determinism: forward and input gradient split the batch over nat::parallel_for,
/// each sample computed by one thread. The weight gradient sums over the batch in fixed blocks of
/// samples (the block count depends only on N) into partial buffers that are added in block
/// order, so results are identical for any thread count.
#include <algorithm>
#include <cstddef>
#include <sstream>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/parallel.hpp"
#include "nat/ops/cpu/gemm.hpp"

namespace nat::ops {

/// Geometry of a grouped 2-D convolution: input [n,c,h,w], weight [o, c/groups, kh, kw], output
/// [n, o, out_h(), out_w()], the same stride and zero padding along both spatial axes.
struct conv2d_shape {
  std::size_t n = 0, c = 0, h = 0, w = 0;  ///< input extents
  std::size_t o = 0, kh = 1, kw = 1;       ///< output channels and kernel extents
  std::size_t stride = 1, pad = 0, groups = 1;

  /// floor((h + 2 pad - kh) / stride) + 1 (the PyTorch rule).
  std::size_t out_h() const { return (h + 2 * pad - kh) / stride + 1; }
  /// floor((w + 2 pad - kw) / stride) + 1.
  std::size_t out_w() const { return (w + 2 * pad - kw) / stride + 1; }
  /// Input channels per group.
  std::size_t cg() const { return c / groups; }
  /// Output channels per group.
  std::size_t og() const { return o / groups; }
  /// True for the 1x1, stride 1, unpadded case that is a plain GEMM per sample.
  bool pointwise() const { return kh == 1 && kw == 1 && stride == 1 && pad == 0; }
};

namespace cpu {
namespace detail {

/// Fixed number of sample blocks for batch reductions: a function of n only (determinism).
inline std::size_t batch_blocks(std::size_t n) { return std::min<std::size_t>(n, 8); }

// col[(ci*kh+i)*kw+j, oh*ow_n+ow] = x[ci, oh*s-p+i, ow*s-p+j] (zero outside).
template <class T>
void im2col(const T* x, std::size_t channels, const conv2d_shape& g, T* col) {
  const std::size_t oh = g.out_h(), ow = g.out_w();
  for (std::size_t ci = 0; ci < channels; ++ci)
    for (std::size_t i = 0; i < g.kh; ++i)
      for (std::size_t j = 0; j < g.kw; ++j) {
        T* dst = col + ((ci * g.kh + i) * g.kw + j) * oh * ow;
        const T* src = x + ci * g.h * g.w;
        for (std::size_t r = 0; r < oh; ++r) {
          const long ih = static_cast<long>(r * g.stride + i) - static_cast<long>(g.pad);
          T* d = dst + r * ow;
          if (ih < 0 || ih >= static_cast<long>(g.h)) {
            std::fill(d, d + ow, T(0));
            continue;
          }
          const T* row = src + static_cast<std::size_t>(ih) * g.w;
          for (std::size_t q = 0; q < ow; ++q) {
            const long iw = static_cast<long>(q * g.stride + j) - static_cast<long>(g.pad);
            d[q] = (iw < 0 || iw >= static_cast<long>(g.w)) ? T(0) : row[iw];
          }
        }
      }
}

// The adjoint of im2col: x[ci, ...] += col[...]; x must be zeroed by the caller.
template <class T>
void col2im(const T* col, std::size_t channels, const conv2d_shape& g, T* x) {
  const std::size_t oh = g.out_h(), ow = g.out_w();
  for (std::size_t ci = 0; ci < channels; ++ci)
    for (std::size_t i = 0; i < g.kh; ++i)
      for (std::size_t j = 0; j < g.kw; ++j) {
        const T* src = col + ((ci * g.kh + i) * g.kw + j) * oh * ow;
        T* dst = x + ci * g.h * g.w;
        for (std::size_t r = 0; r < oh; ++r) {
          const long ih = static_cast<long>(r * g.stride + i) - static_cast<long>(g.pad);
          if (ih < 0 || ih >= static_cast<long>(g.h)) continue;
          T* row = dst + static_cast<std::size_t>(ih) * g.w;
          const T* s = src + r * ow;
          for (std::size_t q = 0; q < ow; ++q) {
            const long iw = static_cast<long>(q * g.stride + j) - static_cast<long>(g.pad);
            if (iw >= 0 && iw < static_cast<long>(g.w)) row[iw] += s[q];
          }
        }
      }
}

}  // namespace detail

/// y = conv(x, w) + b (b may be null): x [n,c,h,w], w [o,c/g,kh,kw], y [n,o,oh,ow], contiguous.
template <class T>
void conv2d_forward(const T* x, const T* w, const T* b, T* y, const conv2d_shape& g) {
  const std::size_t ohw = g.out_h() * g.out_w(), hw = g.h * g.w;
  const std::size_t cg = g.cg(), og = g.og(), kk = g.kh * g.kw;
  nat::parallel_for(0, g.n, 1, [&](std::size_t lo, std::size_t hi) {
    std::vector<T> col(g.pointwise() ? 0 : cg * kk * ohw);
    for (std::size_t s = lo; s < hi; ++s)
      for (std::size_t gr = 0; gr < g.groups; ++gr) {
        const T* xs = x + (s * g.c + gr * cg) * hw;
        T* ys = y + (s * g.o + gr * og) * ohw;
        const T* src = xs;
        if (!g.pointwise()) {
          detail::im2col(xs, cg, g, col.data());
          src = col.data();
        }
        gemm<T>(false, false, og, ohw, cg * kk, T(1), w + gr * og * cg * kk, cg * kk, src, ohw,
                T(0), ys, ohw);
        if (b)
          for (std::size_t oc = 0; oc < og; ++oc) {
            const T bias = b[gr * og + oc];
            T* row = ys + oc * ohw;
            for (std::size_t q = 0; q < ohw; ++q) row[q] += bias;
          }
      }
  });
}

/// gx = conv2d input gradient of gy [n,o,oh,ow] through w; gx [n,c,h,w] is overwritten.
template <class T>
void conv2d_backward_input(const T* gy, const T* w, T* gx, const conv2d_shape& g) {
  const std::size_t ohw = g.out_h() * g.out_w(), hw = g.h * g.w;
  const std::size_t cg = g.cg(), og = g.og(), kk = g.kh * g.kw;
  nat::parallel_for(0, g.n, 1, [&](std::size_t lo, std::size_t hi) {
    std::vector<T> col(g.pointwise() ? 0 : cg * kk * ohw);
    for (std::size_t s = lo; s < hi; ++s)
      for (std::size_t gr = 0; gr < g.groups; ++gr) {
        T* gxs = gx + (s * g.c + gr * cg) * hw;
        const T* gys = gy + (s * g.o + gr * og) * ohw;
        const T* wg = w + gr * og * cg * kk;
        if (g.pointwise()) {
          gemm<T>(true, false, cg, ohw, og, T(1), wg, cg, gys, ohw, T(0), gxs, hw);
        } else {
          gemm<T>(true, false, cg * kk, ohw, og, T(1), wg, cg * kk, gys, ohw, T(0), col.data(),
                  ohw);
          std::fill(gxs, gxs + cg * hw, T(0));
          detail::col2im(col.data(), cg, g, gxs);
        }
      }
  });
}

/// gw (and gb when not null) = weight (bias) gradient from x and gy; both are overwritten.
template <class T>
void conv2d_backward_weight(const T* x, const T* gy, T* gw, T* gb, const conv2d_shape& g) {
  const std::size_t ohw = g.out_h() * g.out_w(), hw = g.h * g.w;
  const std::size_t cg = g.cg(), og = g.og(), kk = g.kh * g.kw;
  const std::size_t wsize = g.o * cg * kk;
  const std::size_t nb = detail::batch_blocks(g.n);
  if (nb == 0) {
    std::fill(gw, gw + wsize, T(0));
    if (gb) std::fill(gb, gb + g.o, T(0));
    return;
  }
  std::vector<T> partial(nb * wsize), partial_b(gb ? nb * g.o : 0, T(0));
  nat::parallel_for(0, nb, 1, [&](std::size_t lo, std::size_t hi) {
    std::vector<T> col(g.pointwise() ? 0 : cg * kk * ohw);
    for (std::size_t blk = lo; blk < hi; ++blk) {
      const std::size_t s0 = blk * g.n / nb, s1 = (blk + 1) * g.n / nb;
      T* pw = partial.data() + blk * wsize;
      for (std::size_t s = s0; s < s1; ++s)
        for (std::size_t gr = 0; gr < g.groups; ++gr) {
          const T* xs = x + (s * g.c + gr * cg) * hw;
          const T* gys = gy + (s * g.o + gr * og) * ohw;
          const T* src = xs;
          if (!g.pointwise()) {
            detail::im2col(xs, cg, g, col.data());
            src = col.data();
          }
          gemm<T>(false, true, og, cg * kk, ohw, T(1), gys, ohw, src, ohw, s == s0 ? T(0) : T(1),
                  pw + gr * og * cg * kk, cg * kk);
          if (gb) {
            T* pb = partial_b.data() + blk * g.o + gr * og;
            for (std::size_t oc = 0; oc < og; ++oc) {
              const T* row = gys + oc * ohw;
              T acc = 0;
              for (std::size_t q = 0; q < ohw; ++q) acc += row[q];
              pb[oc] += acc;
            }
          }
        }
    }
  });
  std::copy(partial.begin(), partial.begin() + wsize, gw);
  for (std::size_t blk = 1; blk < nb; ++blk) {
    const T* p = partial.data() + blk * wsize;
    for (std::size_t i = 0; i < wsize; ++i) gw[i] += p[i];
  }
  if (gb) {
    std::copy(partial_b.begin(), partial_b.begin() + g.o, gb);
    for (std::size_t blk = 1; blk < nb; ++blk)
      for (std::size_t i = 0; i < g.o; ++i) gb[i] += partial_b[blk * g.o + i];
  }
}

}  // namespace cpu
}  // namespace nat::ops
