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
#include "nat/ops/cpu/copy_row.hpp"
#include "nat/ops/cpu/gemm.hpp"
#include "nat/tensor/storage.hpp"

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
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
#elif defined(__AVX2__) && defined(__FMA__)
// The same direct kernel for AVX2 (8 lanes, 16 registers), which the AVX-512 one left to the
// packed Eigen path: the packing copies and Eigen's own re-packing cost more than the products
// at these maps (docs/performance/ops.md, "Direct pointwise kernel on AVX2"). A vector is 8
// pixels of one sample or, for 2x2 maps, the 4 pixels of two samples (pair). Maps whose rows end
// in a partial vector stay with Eigen: AVX2 has no cheap masked store (vmaskmovps to memory is
// microcoded on AMD), and measured there the direct kernel was only level with Eigen.
// Summation order is fixed (k ascending), as above.
template <bool Pair>
inline __m256 pw_load(const float* x, const float* x2) {
  if constexpr (Pair)
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(x)), _mm_loadu_ps(x2), 1);
  else
    return _mm256_loadu_ps(x);
}

template <bool Pair>
inline void pw_store(float* o, float* o2, __m256 v) {
  if constexpr (Pair) {
    _mm_storeu_ps(o, _mm256_castps256_ps128(v));
    _mm_storeu_ps(o2, _mm256_extractf128_ps(v, 1));
  } else {
    _mm256_storeu_ps(o, v);
  }
}

// R output rows x V vectors: R·V accumulators + V inputs + the broadcast weight <= 16 registers.
// x2/out2 are the second samples of pair vectors (unused otherwise).
template <std::size_t R, std::size_t V, bool Pair>
inline void pointwise_tile8(const float* a, std::size_t sa, std::size_t sk, std::size_t k_len,
                            const float* const* x, const float* const* x2, float* const* out,
                            float* const* out2, std::size_t hw) {
  __m256 acc[R][V];
#pragma GCC unroll 16
  for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (std::size_t v = 0; v < V; ++v) acc[r][v] = _mm256_setzero_ps();
  for (std::size_t k = 0; k < k_len; ++k) {
    __m256 xv[V];
#pragma GCC unroll 4
    for (std::size_t v = 0; v < V; ++v)
      xv[v] = pw_load<Pair>(x[v] + k * hw, Pair ? x2[v] + k * hw : nullptr);
    const float* ak = a + k * sk;
#pragma GCC unroll 16
    for (std::size_t r = 0; r < R; ++r) {
      const __m256 w = _mm256_broadcast_ss(ak + r * sa);
#pragma GCC unroll 4
      for (std::size_t v = 0; v < V; ++v) acc[r][v] = _mm256_fmadd_ps(w, xv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 16
  for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (std::size_t v = 0; v < V; ++v)
      pw_store<Pair>(out[v] + r * hw, Pair ? out2[v] + r * hw : nullptr, acc[r][v]);
}

template <std::size_t V, bool Pair>
inline void pointwise_rows8(const float* a, std::size_t sa, std::size_t sk, std::size_t rows,
                            std::size_t k_len, const float* const* x, const float* const* x2,
                            float* const* out, float* const* out2, std::size_t hw) {
  // Two vectors and more load fewer values per FMA than one (V + R loads for R·V FMAs).
  constexpr std::size_t R = V == 1 ? 12 : (V == 2 ? 6 : 4);
  float *o[V], *o2[V];
  std::size_t r = 0;
  const auto at = [&](std::size_t r0) {
    for (std::size_t v = 0; v < V; ++v) {
      o[v] = out[v] + r0 * hw;
      o2[v] = Pair ? out2[v] + r0 * hw : nullptr;
    }
  };
  for (; r + R <= rows; r += R) {
    at(r);
    pointwise_tile8<R, V, Pair>(a + r * sa, sa, sk, k_len, x, x2, o, o2, hw);
  }
  // The remaining rows (< R) in tiles of R/2, R/4, 2 and 1 rather than one at a time: a single
  // row loads V + 1 values for V FMAs, and 40 input channels left 4 rows after the 12-row tiles.
  if constexpr (R / 2 > 2)
    if (r + R / 2 <= rows) {
      at(r);
      pointwise_tile8<R / 2, V, Pair>(a + r * sa, sa, sk, k_len, x, x2, o, o2, hw);
      r += R / 2;
    }
  if constexpr (R / 4 > 2)
    if (r + R / 4 <= rows) {
      at(r);
      pointwise_tile8<R / 4, V, Pair>(a + r * sa, sa, sk, k_len, x, x2, o, o2, hw);
      r += R / 4;
    }
  for (; r + 2 <= rows; r += 2) {
    at(r);
    pointwise_tile8<2, V, Pair>(a + r * sa, sa, sk, k_len, x, x2, o, o2, hw);
  }
  if (r < rows) {
    at(r);
    pointwise_tile8<1, V, Pair>(a + r * sa, sa, sk, k_len, x, x2, o, o2, hw);
  }
}

template <bool Pair>
inline void pointwise_rows8_any(std::size_t v, const float* a, std::size_t sa, std::size_t sk,
                                std::size_t rows, std::size_t k_len, const float* const* x,
                                const float* const* x2, float* const* out, float* const* out2,
                                std::size_t hw) {
  switch (v) {
    case 3:
      return pointwise_rows8<3, Pair>(a, sa, sk, rows, k_len, x, x2, out, out2, hw);
    case 2:
      return pointwise_rows8<2, Pair>(a, sa, sk, rows, k_len, x, x2, out, out2, hw);
    default:
      return pointwise_rows8<1, Pair>(a, sa, sk, rows, k_len, x, x2, out, out2, hw);
  }
}

// Samples [s0, s1) of out [n, rows, hw] = A [rows, k_len] · in [n, k_len, hw]; hw == 4 or a
// multiple of 8.
inline void pointwise_direct8(const float* a, std::size_t sa, std::size_t sk, std::size_t rows,
                              std::size_t k_len, const float* in, std::size_t hw, float* out,
                              std::size_t s0, std::size_t s1) {
  const float *x[3], *x2[3];
  float *o[3], *o2[3];
  if (hw == 4) {  // two samples per vector, up to 3 vectors (6 samples); an odd last sample is
                  // paired with itself and stored twice, with the same values
    for (std::size_t i = s0; i < s1; i += 6) {
      const std::size_t cnt = std::min<std::size_t>(6, s1 - i), v = (cnt + 1) / 2;
      for (std::size_t j = 0; j < v; ++j) {
        const std::size_t i0 = i + 2 * j, i1 = std::min(i0 + 1, s1 - 1);
        x[j] = in + i0 * k_len * hw;
        x2[j] = in + i1 * k_len * hw;
        o[j] = out + i0 * rows * hw;
        o2[j] = out + i1 * rows * hw;
      }
      pointwise_rows8_any<true>(v, a, sa, sk, rows, k_len, x, x2, o, o2, hw);
    }
    return;
  }
  // A sample's hw/8 vectors in balanced chunks of 2..3 where possible (one vector alone loads
  // R + 1 values for R FMAs): 8 -> 3+3+2, 2 -> 2, 1 -> 1.
  const std::size_t nvec = hw / 8, chunks = (nvec + 2) / 3;
  for (std::size_t i = s0; i < s1; ++i) {
    const float* xi = in + i * k_len * hw;
    float* oi = out + i * rows * hw;
    for (std::size_t c = 0, q = 0; c < chunks; ++c) {
      const std::size_t v = (nvec - q + (chunks - c) - 1) / (chunks - c);
      for (std::size_t j = 0; j < v; ++j) {
        x[j] = xi + 8 * (q + j);
        o[j] = oi + 8 * (q + j);
      }
      q += v;
      pointwise_rows8_any<false>(v, a, sa, sk, rows, k_len, x, x2, o, o2, hw);
    }
  }
}

inline bool pointwise_apply_direct(const float* in, const float* w, bool trans, float* out,
                                   std::size_t n, std::size_t rows_in, std::size_t rows_out,
                                   std::size_t hw) {
  // The forward only: for the input gradient (the transposed product) the kernel was ahead in
  // isolation at 4x4 and 2x2 but a training step measured no faster with it (ops.md, above).
  if (trans || hw >= 256 || (hw % 8 != 0 && hw != 4)) return false;
  const std::size_t sa = rows_in, sk = 1;
  const std::size_t per = hw == 4 ? 6 : 4;  // 2x2 maps: three pair vectors per task
  nat::parallel_for(0, (n + per - 1) / per, 1, [&](std::size_t lo, std::size_t hi) {
    pointwise_direct8(w, sa, sk, rows_out, rows_in, in, hw, out, per * lo, std::min(n, per * hi));
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
  if (hw == 1) {
    // 1x1 maps: in is already the [n, rows_in] matrix the packing would build (transposed), so
    // out [n, rows_out] = in · op(w)ᵀ is one GEMM per block of rows, with no copies.
    const std::size_t ldw = trans ? rows_out : rows_in, block = 64;
    nat::parallel_for(0, (n + block - 1) / block, 1, [&](std::size_t lo, std::size_t hi) {
      for (std::size_t blk = lo; blk < hi; ++blk) {
        const std::size_t n0 = blk * block, nb = std::min(block, n - n0);
        gemm<T>(false, !trans, nb, rows_out, rows_in, T(1), in + n0 * rows_in, rows_in, w, ldw,
                T(0), out + n0 * rows_out, rows_out);
      }
    });
    return;
  }
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
