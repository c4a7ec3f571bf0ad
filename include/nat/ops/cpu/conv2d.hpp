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
#include "nat/tensor/storage.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

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

/// Samples packed side by side into one pointwise GEMM so that it spans >= 256 columns. At the
/// supernet's 4x4..8x8 maps a per-sample GEMM has 16..64 columns and Eigen would re-pack the
/// whole weight matrix for each of them; packing samples costs two cheap copies instead.
/// A thin, deep product (few output rows, long reduction: the input gradient of an expansion conv)
/// keeps Eigen's kernel busier with 512 columns (measured: 80<-480 at 4x4, 2.3 -> 1.8 ms).
inline std::size_t pointwise_pack(std::size_t hw, std::size_t rows_out = 256,
                                  std::size_t rows_in = 0) {
  const std::size_t target = (rows_out < 128 && rows_in >= 256) ? 512 : 256;
  return hw >= 256 ? 1 : (target + hw - 1) / std::max<std::size_t>(hw, 1);
}

// dst[0, len) = src[0, len) for the short rows of packing (16..196 floats at the supernet's
// 4x4..14x14 maps): inline, since a memmove call per row cost as much as the copy itself (11% of
// a supernet training step in __memmove, docs/performance/elastic.md).
template <class T>
inline void copy_row(const T* src, std::size_t len, T* dst) {
  std::copy(src, src + len, dst);
}
#if defined(__AVX512F__)
inline void copy_row(const float* src, std::size_t len, float* dst) {
  std::size_t q = 0;
  for (; q + 16 <= len; q += 16) _mm512_storeu_ps(dst + q, _mm512_loadu_ps(src + q));
  if (q < len) {
    const __mmask16 m = __mmask16((1u << (len - q)) - 1u);
    _mm512_mask_storeu_ps(dst + q, m, _mm512_maskz_loadu_ps(m, src + q));
  }
}
#endif

// dst[r, b*hw + q] = src[b*sample_stride + r*hw + q] for b < nb, r < rows: nb samples' [rows, hw]
// planes side by side as one [rows, nb*hw] matrix.
template <class T>
void pack_samples(const T* src, std::size_t sample_stride, std::size_t nb, std::size_t rows,
                  std::size_t hw, T* dst) {
  const std::size_t cols = nb * hw;
  for (std::size_t b = 0; b < nb; ++b)
    for (std::size_t r = 0; r < rows; ++r)
      copy_row(src + b * sample_stride + r * hw, hw, dst + r * cols + b * hw);
}

// The inverse of pack_samples.
template <class T>
void unpack_samples(const T* src, std::size_t nb, std::size_t rows, std::size_t hw, T* dst,
                    std::size_t sample_stride) {
  const std::size_t cols = nb * hw;
  for (std::size_t b = 0; b < nb; ++b)
    for (std::size_t r = 0; r < rows; ++r)
      copy_row(src + r * cols + b * hw, hw, dst + b * sample_stride + r * hw);
}

// The direct pointwise kernel below (float, AVX-512) or, for other types and CPUs, not applicable.
template <class T>
bool pointwise_apply_direct(const T*, const T*, bool, T*, std::size_t, std::size_t, std::size_t,
                            std::size_t) {
  return false;
}

#if defined(__AVX512F__)
// Direct pointwise kernel for the small maps (hw < 256) of a supernet's later stages: out[o, q] =
// Σ_k A(o, k)·in[k, q], with A(o, k) = a[o·sa + k·sk] (the weight or its transpose, read in
// place). A tile of R output rows × V vectors of 16 pixels stays in registers while k runs over
// the input channels: each input row is read once per row tile, straight from the sample (L1/L2-
// resident at these sizes), and each output element is stored once. The packed GEMM path it
// replaces copies every input and output twice (pack, unpack), zeroes the output and lets Eigen
// pack the input again (docs/performance/elastic.md). Summation order is fixed (k ascending), so
// results do not depend on the thread count.
//
// The V vectors are columns of one sample (x[v] + k·hw) or, for maps of at most 16 pixels, the
// same pixels of V samples; m[v] masks each vector's lanes (partial rows, small maps).
template <std::size_t R, std::size_t V>
inline void pointwise_tile(const float* a, std::size_t sa, std::size_t sk, std::size_t k_len,
                           const float* const* x, float* const* out, const __mmask16* m,
                           std::size_t hw) {
  __m512 acc[R][V];
#pragma GCC unroll 16
  for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (std::size_t v = 0; v < V; ++v) acc[r][v] = _mm512_setzero_ps();
  for (std::size_t k = 0; k < k_len; ++k) {
    __m512 xv[V];
#pragma GCC unroll 4
    for (std::size_t v = 0; v < V; ++v) xv[v] = _mm512_maskz_loadu_ps(m[v], x[v] + k * hw);
    const float* ak = a + k * sk;
#pragma GCC unroll 16
    for (std::size_t r = 0; r < R; ++r) {
      const __m512 w = _mm512_set1_ps(ak[r * sa]);
#pragma GCC unroll 4
      for (std::size_t v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(w, xv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 16
  for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (std::size_t v = 0; v < V; ++v) _mm512_mask_storeu_ps(out[v] + r * hw, m[v], acc[r][v]);
}

// All rows for one set of V vectors: tiles of R rows (R·V ≤ 24 accumulators, leaving registers
// for the V inputs and the broadcast weight), then single rows.
template <std::size_t R, std::size_t V>
inline void pointwise_rows(const float* a, std::size_t sa, std::size_t sk, std::size_t rows,
                           std::size_t k_len, const float* const* x, float* const* out,
                           const __mmask16* m, std::size_t hw) {
  float* o[V];
  std::size_t r = 0;
  for (; r + R <= rows; r += R) {
    for (std::size_t v = 0; v < V; ++v) o[v] = out[v] + r * hw;
    pointwise_tile<R, V>(a + r * sa, sa, sk, k_len, x, o, m, hw);
  }
  for (; r < rows; ++r) {
    for (std::size_t v = 0; v < V; ++v) o[v] = out[v] + r * hw;
    pointwise_tile<1, V>(a + r * sa, sa, sk, k_len, x, o, m, hw);
  }
}

template <std::size_t V>
inline void pointwise_rows_for(const float* a, std::size_t sa, std::size_t sk, std::size_t rows,
                               std::size_t k_len, const float* const* x, float* const* out,
                               const __mmask16* m, std::size_t hw) {
  constexpr std::size_t R = V == 1 ? 16 : (V == 4 ? 6 : 8);
  pointwise_rows<R, V>(a, sa, sk, rows, k_len, x, out, m, hw);
}

inline void pointwise_rows_any(std::size_t v, const float* a, std::size_t sa, std::size_t sk,
                               std::size_t rows, std::size_t k_len, const float* const* x,
                               float* const* out, const __mmask16* m, std::size_t hw) {
  switch (v) {
    case 4:
      return pointwise_rows_for<4>(a, sa, sk, rows, k_len, x, out, m, hw);
    case 3:
      return pointwise_rows_for<3>(a, sa, sk, rows, k_len, x, out, m, hw);
    case 2:
      return pointwise_rows_for<2>(a, sa, sk, rows, k_len, x, out, m, hw);
    default:
      return pointwise_rows_for<1>(a, sa, sk, rows, k_len, x, out, m, hw);
  }
}

// Samples [s0, s1) of out [n, rows, hw] = A [rows, k_len] · in [n, k_len, hw].
inline void pointwise_direct(const float* a, std::size_t sa, std::size_t sk, std::size_t rows,
                             std::size_t k_len, const float* in, std::size_t hw, float* out,
                             std::size_t s0, std::size_t s1) {
  const float* x[4];
  float* o[4];
  __mmask16 m[4];
  if (hw <= 16) {  // one vector per sample: up to 4 samples side by side
    const __mmask16 mask = __mmask16(hw == 16 ? 0xFFFFu : (1u << hw) - 1u);
    for (std::size_t i = s0; i < s1; i += 4) {
      const std::size_t v = std::min<std::size_t>(4, s1 - i);
      for (std::size_t j = 0; j < v; ++j) {
        x[j] = in + (i + j) * k_len * hw;
        o[j] = out + (i + j) * rows * hw;
        m[j] = mask;
      }
      pointwise_rows_any(v, a, sa, sk, rows, k_len, x, o, m, hw);
    }
    return;
  }
  for (std::size_t i = s0; i < s1; ++i)
    for (std::size_t q0 = 0; q0 < hw; q0 += 64) {  // chunks of up to 4 vectors of one sample
      const std::size_t left = std::min<std::size_t>(64, hw - q0), v = (left + 15) / 16;
      for (std::size_t j = 0; j < v; ++j) {
        const std::size_t len = std::min<std::size_t>(16, left - 16 * j);
        x[j] = in + i * k_len * hw + q0 + 16 * j;
        o[j] = out + i * rows * hw + q0 + 16 * j;
        m[j] = __mmask16(len == 16 ? 0xFFFFu : (1u << len) - 1u);
      }
      pointwise_rows_any(v, a, sa, sk, rows, k_len, x, o, m, hw);
    }
}

// The direct kernel over a batch, in tasks of 4 samples. Returns false where it does not apply.
inline bool pointwise_apply_direct(const float* in, const float* w, bool trans, float* out,
                                   std::size_t n, std::size_t rows_in, std::size_t rows_out,
                                   std::size_t hw) {
  if (hw >= 256 || hw == 0) return false;  // one Eigen GEMM per sample is as good there
  // A(o, k): w[o, k] for the forward (w [rows_out, rows_in]); wᵀ for the input gradient.
  const std::size_t sa = trans ? 1 : rows_in, sk = trans ? rows_out : 1;
  // Tasks of 4 samples, so that maps of <= 16 pixels always fill a 4-sample tile.
  nat::parallel_for(0, (n + 3) / 4, 1, [&](std::size_t lo, std::size_t hi) {
    pointwise_direct(w, sa, sk, rows_out, rows_in, in, hw, out, 4 * lo, std::min(n, 4 * hi));
  });
  return true;
}
#endif

// Pointwise (1x1, stride 1, no padding, groups 1) forward or input gradient:
// out[n] = op(w) · in[n] with op(w) = w [rows_out, rows_in] or, when trans, wᵀ for w [rows_in,
// rows_out]; samples packed pointwise_pack(hw) at a time.
template <class T>
void pointwise_apply(const T* in, const T* w, bool trans, T* out, std::size_t n,
                     std::size_t rows_in, std::size_t rows_out, std::size_t hw) {
  if (pointwise_apply_direct(in, w, trans, out, n, rows_in, rows_out, hw)) return;
  const std::size_t pack =
      std::min(pointwise_pack(hw, rows_out, rows_in), std::max<std::size_t>(n, 1));
  const std::size_t blocks = (n + pack - 1) / pack;
  const std::size_t ldw = trans ? rows_out : rows_in;
  nat::parallel_for(0, blocks, 1, [&](std::size_t lo, std::size_t hi) {
    nat::pooled_buffer<T> ib(pack > 1 ? rows_in * pack * hw : 0),
        ob(pack > 1 ? rows_out * pack * hw : 0);
    for (std::size_t blk = lo; blk < hi; ++blk) {
      const std::size_t n0 = blk * pack, nb = std::min(pack, n - n0);
      if (nb == 1) {
        gemm<T>(trans, false, rows_out, hw, rows_in, T(1), w, ldw, in + n0 * rows_in * hw, hw, T(0),
                out + n0 * rows_out * hw, hw);
        continue;
      }
      const std::size_t cols = nb * hw;
      pack_samples(in + n0 * rows_in * hw, rows_in * hw, nb, rows_in, hw, ib.data());
      gemm<T>(trans, false, rows_out, cols, rows_in, T(1), w, ldw, ib.data(), cols, T(0), ob.data(),
              cols);
      unpack_samples(ob.data(), nb, rows_out, hw, out + n0 * rows_out * hw, rows_out * hw);
    }
  });
}

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
  if (g.pointwise() && g.groups == 1) {
    detail::pointwise_apply(x, w, false, y, g.n, g.c, g.o, hw);
    if (b)
      nat::parallel_for(0, g.n * g.o, 64, [&](std::size_t lo, std::size_t hi) {
        for (std::size_t p = lo; p < hi; ++p)
          for (std::size_t q = 0; q < ohw; ++q) y[p * ohw + q] += b[p % g.o];
      });
    return;
  }
  nat::parallel_for(0, g.n, 1, [&](std::size_t lo, std::size_t hi) {
    nat::pooled_buffer<T> col(g.pointwise() ? 0 : cg * kk * ohw);
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
  if (g.pointwise() && g.groups == 1) {
    detail::pointwise_apply(gy, w, true, gx, g.n, g.o, g.c, hw);
    return;
  }
  nat::parallel_for(0, g.n, 1, [&](std::size_t lo, std::size_t hi) {
    nat::pooled_buffer<T> col(g.pointwise() ? 0 : cg * kk * ohw);
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
  nat::pooled_buffer<T> partial(nb * wsize), partial_b(gb ? nb * g.o : 0);
  std::fill(partial_b.data(), partial_b.data() + partial_b.size(), T(0));
  const bool packed = g.pointwise() && g.groups == 1 && detail::pointwise_pack(hw) > 1;
  const std::size_t pack = packed ? detail::pointwise_pack(hw) : 1;
  nat::parallel_for(0, nb, 1, [&](std::size_t lo, std::size_t hi) {
    nat::pooled_buffer<T> col(g.pointwise() ? 0 : cg * kk * ohw);
    nat::pooled_buffer<T> xb(packed ? g.c * pack * hw : 0), gb_(packed ? g.o * pack * hw : 0);
    for (std::size_t blk = lo; blk < hi; ++blk) {
      const std::size_t s0 = blk * g.n / nb, s1 = (blk + 1) * g.n / nb;
      T* pw = partial.data() + blk * wsize;
      if (packed) {
        // gw = Σ gy[n]·x[n]ᵀ as GEMMs over `pack` samples at a time (K = pack·hw).
        for (std::size_t n0 = s0; n0 < s1; n0 += pack) {
          const std::size_t m = std::min(pack, s1 - n0), cols = m * hw;
          detail::pack_samples(x + n0 * g.c * hw, g.c * hw, m, g.c, hw, xb.data());
          detail::pack_samples(gy + n0 * g.o * hw, g.o * hw, m, g.o, hw, gb_.data());
          gemm<T>(false, true, g.o, g.c, cols, T(1), gb_.data(), cols, xb.data(), cols,
                  n0 == s0 ? T(0) : T(1), pw, g.c);
          if (gb) {
            T* pb = partial_b.data() + blk * g.o;
            for (std::size_t oc = 0; oc < g.o; ++oc) {
              T acc = 0;
              for (std::size_t q = 0; q < cols; ++q) acc += gb_.data()[oc * cols + q];
              pb[oc] += acc;
            }
          }
        }
        continue;
      }
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
  std::copy(partial.data(), partial.data() + wsize, gw);
  for (std::size_t blk = 1; blk < nb; ++blk) {
    const T* p = partial.data() + blk * wsize;
    for (std::size_t i = 0; i < wsize; ++i) gw[i] += p[i];
  }
  if (gb) {
    std::copy(partial_b.data(), partial_b.data() + g.o, gb);
    for (std::size_t blk = 1; blk < nb; ++blk)
      for (std::size_t i = 0; i < g.o; ++i) gb[i] += partial_b.data()[blk * g.o + i];
  }
}

}  // namespace cpu
}  // namespace nat::ops
