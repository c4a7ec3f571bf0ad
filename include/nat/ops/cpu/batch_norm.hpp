#pragma once
/// \file CPU batch normalisation kernels on raw NCHW pointers (PyTorch conventions).
///
/// One task per channel: a channel's statistics are summed over (n, h, w) in a fixed order by one
/// thread, so results do not depend on the thread count.
///
/// Method (docs/performance/elastic.md). A channel is n rows of hw contiguous values. Each row is
/// added into kLanes independent partial sums in T (GCC vectorises the fixed-width lane loop
/// without -ffast-math, since no sum is reassociated), and every few rows the partials are
/// flushed into double, so no float partial holds more than ~64 terms. Statistics are taken of
/// x − k, with k the channel's first value: the one-pass Σd, Σd² form of the variance then does
/// not cancel for data far from zero (1000 ± 1 keeps full precision), and the forward reads x
/// twice (statistics, normalisation) instead of three times; the backward fuses its two
/// reductions into one pass and writes dx in a second.
#include <algorithm>
#include <cmath>
#include <cstddef>

#include "nat/core/parallel.hpp"

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

namespace nat::ops {

/// Geometry of a batch norm over x [n, c, hw] (hw = H·W, or 1 for [N, C] inputs).
struct batch_norm_shape {
  std::size_t n = 0, c = 0, hw = 1;
  /// Elements per channel, n·hw.
  std::size_t count() const { return n * hw; }
};

namespace cpu {
namespace detail {

/// Independent partial sums per row: one AVX-512 register of floats (two of doubles).
constexpr std::size_t kBnLanes = 16;

// The activation a training batch norm may apply to its output z in the same pass (f), and the
// factor the backward multiplies the incoming gradient by (grad = g·f'(z)); z is recomputed from
// x in the backward, so it is never stored. Derivatives at the kinks are those of the separate
// ops in nat/ops/activation.hpp (PyTorch's one-sided values).
struct bn_identity {
  static constexpr bool is_identity = true;
  template <class T>
  static T f(T z) {
    return z;
  }
  template <class T>
  static T grad(T, T g) {
    return g;
  }
};

struct bn_relu {
  static constexpr bool is_identity = false;
  template <class T>
  static T f(T z) {
    return z > T(0) ? z : T(0);
  }
  template <class T>
  static T grad(T z, T g) {
    return z > T(0) ? g : T(0);
  }
};

struct bn_relu6 {
  static constexpr bool is_identity = false;
  template <class T>
  static T f(T z) {
    return z < T(0) ? T(0) : (z > T(6) ? T(6) : z);
  }
  template <class T>
  static T grad(T z, T g) {
    return (z > T(0) && z < T(6)) ? g : T(0);
  }
};

struct bn_hswish {
  static constexpr bool is_identity = false;
  template <class T>
  static T f(T z) {
    const T t = z + T(3);
    return z * (t < T(0) ? T(0) : (t > T(6) ? T(6) : t)) / T(6);
  }
  template <class T>
  static T grad(T z, T g) {
    if (z < T(-3)) return T(0);
    if (z > T(3)) return g;
    return g * ((T(2) * z + T(3)) / T(6));
  }
};

/// Rows between two flushes of the lane partials into double: each lane then holds at most ~64
/// terms, which bounds the float rounding of a partial to ~64·2⁻²⁴ of its block's magnitude.
inline std::size_t bn_rows_per_flush(std::size_t hw) {
  const std::size_t per_row = (hw + kBnLanes - 1) / kBnLanes;
  return std::max<std::size_t>(1, 64 / (per_row ? per_row : 1));
}

// Generic path (double, or CPUs without AVX-512). The lane arrays are only indexed by the
// fixed-width loop, so GCC keeps them in vector registers; the row tail goes to scalars.

/// Σ (x − k) and Σ (x − k)² over channel c (k: the shift), in double.
template <class T>
void shifted_sums(const T* x, std::size_t c, T k, const batch_norm_shape& s, double& s1,
                  double& s2) {
  constexpr std::size_t L = kBnLanes;
  const std::size_t flush = bn_rows_per_flush(s.hw), full = s.hw / L * L;
  T a[L] = {}, b[L] = {};
  s1 = 0;
  s2 = 0;
  std::size_t rows = 0;
  for (std::size_t n = 0; n < s.n; ++n) {
    const T* p = x + (n * s.c + c) * s.hw;
    for (std::size_t q = 0; q < full; q += L)
      for (std::size_t l = 0; l < L; ++l) {
        const T d = p[q + l] - k;
        a[l] += d;
        b[l] += d * d;
      }
    T ta = 0, tb = 0;  // the row's tail (< L values) goes straight into double
    for (std::size_t q = full; q < s.hw; ++q) {
      const T d = p[q] - k;
      ta += d;
      tb += d * d;
    }
    s1 += double(ta);
    s2 += double(tb);
    if (++rows == flush || n + 1 == s.n) {
      for (std::size_t l = 0; l < L; ++l) {
        s1 += double(a[l]);
        s2 += double(b[l]);
        a[l] = 0;
        b[l] = 0;
      }
      rows = 0;
    }
  }
}

/// Σ g' and Σ g'·(x − k) over channel c, in double, with g' = Act::grad(z, g) and
/// z = (x − k)·scale + shift the forward's pre-activation output (unused for the identity).
template <class Act = bn_identity, class T>
void grad_sums(const T* x, const T* g, std::size_t c, T k, T scale, T shift,
               const batch_norm_shape& s, double& sg, double& sgx) {
  constexpr std::size_t L = kBnLanes;
  const std::size_t flush = bn_rows_per_flush(s.hw), full = s.hw / L * L;
  T a[L] = {}, b[L] = {};
  sg = 0;
  sgx = 0;
  std::size_t rows = 0;
  for (std::size_t n = 0; n < s.n; ++n) {
    const std::size_t off = (n * s.c + c) * s.hw;
    const T* p = x + off;
    const T* r = g + off;
    for (std::size_t q = 0; q < full; q += L)
      for (std::size_t l = 0; l < L; ++l) {
        const T d = p[q + l] - k;
        const T gg = Act::grad(d * scale + shift, r[q + l]);
        a[l] += gg;
        b[l] += gg * d;
      }
    T ta = 0, tb = 0;  // the row's tail (< L values) goes straight into double
    for (std::size_t q = full; q < s.hw; ++q) {
      const T d = p[q] - k;
      const T gg = Act::grad(d * scale + shift, r[q]);
      ta += gg;
      tb += gg * d;
    }
    sg += double(ta);
    sgx += double(tb);
    if (++rows == flush || n + 1 == s.n) {
      for (std::size_t l = 0; l < L; ++l) {
        sg += double(a[l]);
        sgx += double(b[l]);
        a[l] = 0;
        b[l] = 0;
      }
      rows = 0;
    }
  }
}

/// y = Act((x − k)·scale + shift) over channel c.
template <class Act = bn_identity, class T>
void normalise(const T* x, T* y, std::size_t c, T k, T scale, T shift, const batch_norm_shape& s) {
  for (std::size_t n = 0; n < s.n; ++n) {
    const T* p = x + (n * s.c + c) * s.hw;
    T* o = y + (n * s.c + c) * s.hw;
    for (std::size_t q = 0; q < s.hw; ++q) o[q] = Act::f((p[q] - k) * scale + shift);
  }
}

/// gx = a·g' + c1·(x − k) + c0 over channel c, g' as in grad_sums.
template <class Act = bn_identity, class T>
void grad_input(const T* x, const T* g, T* gx, std::size_t c, T k, T scale, T shift, T a, T c1,
                T c0, const batch_norm_shape& s) {
  for (std::size_t n = 0; n < s.n; ++n) {
    const std::size_t off = (n * s.c + c) * s.hw;
    const T* p = x + off;
    const T* r = g + off;
    T* o = gx + off;
    for (std::size_t q = 0; q < s.hw; ++q) {
      const T d = p[q] - k;
      o[q] = a * Act::grad(d * scale + shift, r[q]) + c1 * d + c0;
    }
  }
}

#if defined(__AVX512F__)
// AVX-512 float path: 16 lanes, masked loads for the row tail (every MobileNet map size is
// 1..784 values, so tails are frequent), two accumulator pairs for the add latency, and the next
// row prefetched (rows of one channel lie c·hw apart: a new stream per row for the prefetcher).

// acc (8 doubles) += the 16 float lanes of v.
inline __m512d bn_widen_add(__m512d acc, __m512 v) {
  const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
  // The high half by a lane shuffle: GCC 12 warns (falsely) about extractf64x4's undefined
  // pass-through operand once this is inlined into some callers.
  const __m512d hi = _mm512_cvtps_pd(_mm512_castps512_ps256(_mm512_shuffle_f32x4(v, v, 0xEE)));
  return _mm512_add_pd(acc, _mm512_add_pd(lo, hi));
}

// Σ of the 8 lanes. Not _mm512_reduce_add_pd: GCC 12 warns (falsely) about the undefined
// pass-through operand of the extractf64x4 inside it once inlined into some callers.
inline double bn_hsum(__m512d v) {
  alignas(64) double t[8];
  _mm512_store_pd(t, v);
  return ((t[0] + t[4]) + (t[2] + t[6])) + ((t[1] + t[5]) + (t[3] + t[7]));
}

// Rows ahead to prefetch: at least ~1 kB ahead, so short rows (4x4 maps: one line) still hide
// the latency.
inline std::size_t bn_prefetch_rows(std::size_t hw) { return hw >= 256 ? 1 : 256 / (hw ? hw : 1); }

inline void bn_prefetch_row(const float* p, std::size_t hw) {
  for (std::size_t q = 0; q < hw; q += 16)
    _mm_prefetch(reinterpret_cast<const char*>(p + q), _MM_HINT_T0);
}

// The output row is a recycled pool buffer, usually cold: fetch its lines for writing ahead of
// the stores (each row is a new stream to the hardware prefetcher).
inline void bn_prefetch_row_for_write(float* p, std::size_t hw) {
#if defined(__PRFCHW__)
  for (std::size_t q = 0; q < hw; q += 16) __builtin_prefetch(p + q, 1, 3);
#else
  bn_prefetch_row(p, hw);
#endif
}

inline void shifted_sums(const float* x, std::size_t c, float k, const batch_norm_shape& s,
                         double& s1, double& s2) {
  const std::size_t flush = bn_rows_per_flush(s.hw), full = s.hw / 16 * 16;
  const std::size_t ahead = bn_prefetch_rows(s.hw);
  const __mmask16 tail = __mmask16((1u << (s.hw - full)) - 1u);
  const __m512 vk = _mm512_set1_ps(k);
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, b0 = a0, b1 = a0;
  __m512d da = _mm512_setzero_pd(), db = da;
  std::size_t rows = 0;
  for (std::size_t n = 0; n < s.n; ++n) {
    const float* p = x + (n * s.c + c) * s.hw;
    if (n + ahead < s.n) bn_prefetch_row(p + ahead * s.c * s.hw, s.hw);
    std::size_t q = 0;
    for (; q + 32 <= full; q += 32) {
      const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(p + q), vk);
      const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(p + q + 16), vk);
      a0 = _mm512_add_ps(a0, d0);
      a1 = _mm512_add_ps(a1, d1);
      b0 = _mm512_fmadd_ps(d0, d0, b0);
      b1 = _mm512_fmadd_ps(d1, d1, b1);
    }
    if (q < full) {
      const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(p + q), vk);
      a0 = _mm512_add_ps(a0, d0);
      b0 = _mm512_fmadd_ps(d0, d0, b0);
    }
    if (tail) {
      const __m512 d1 = _mm512_maskz_sub_ps(tail, _mm512_maskz_loadu_ps(tail, p + full), vk);
      a1 = _mm512_add_ps(a1, d1);
      b1 = _mm512_fmadd_ps(d1, d1, b1);
    }
    if (++rows == flush || n + 1 == s.n) {
      da = bn_widen_add(da, _mm512_add_ps(a0, a1));
      db = bn_widen_add(db, _mm512_add_ps(b0, b1));
      a0 = a1 = b0 = b1 = _mm512_setzero_ps();
      rows = 0;
    }
  }
  s1 = bn_hsum(da);
  s2 = bn_hsum(db);
}

// The activations on 16 lanes, with the scalar versions' semantics (NaN included). Constants
// are multiplied by 1/6 rather than divided (within an ulp of the separate ops).
inline __m512 bn_vf(bn_identity, __m512 z) { return z; }
inline __m512 bn_vgrad(bn_identity, __m512, __m512 g) { return g; }
inline __m512 bn_vf(bn_relu, __m512 z) {
  return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_GT_OQ), z);
}
inline __m512 bn_vgrad(bn_relu, __m512 z, __m512 g) {
  return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_GT_OQ), g);
}
inline __m512 bn_clamp6(__m512 t) {
  const __m512 r = _mm512_mask_mov_ps(t, _mm512_cmp_ps_mask(t, _mm512_setzero_ps(), _CMP_LT_OQ),
                                      _mm512_setzero_ps());
  const __m512 six = _mm512_set1_ps(6.0f);
  return _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(t, six, _CMP_GT_OQ), six);
}
inline __m512 bn_vf(bn_relu6, __m512 z) { return bn_clamp6(z); }
inline __m512 bn_vgrad(bn_relu6, __m512 z, __m512 g) {
  const __mmask16 in = _mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_GT_OQ) &
                       _mm512_cmp_ps_mask(z, _mm512_set1_ps(6.0f), _CMP_LT_OQ);
  return _mm512_maskz_mov_ps(in, g);
}
inline __m512 bn_vf(bn_hswish, __m512 z) {
  const __m512 t = bn_clamp6(_mm512_add_ps(z, _mm512_set1_ps(3.0f)));
  return _mm512_mul_ps(_mm512_mul_ps(z, t), _mm512_set1_ps(1.0f / 6.0f));
}
inline __m512 bn_vgrad(bn_hswish, __m512 z, __m512 g) {
  const __m512 mid =
      _mm512_mul_ps(g, _mm512_mul_ps(_mm512_fmadd_ps(_mm512_set1_ps(2.0f), z, _mm512_set1_ps(3.0f)),
                                     _mm512_set1_ps(1.0f / 6.0f)));
  const __m512 r =
      _mm512_mask_mov_ps(mid, _mm512_cmp_ps_mask(z, _mm512_set1_ps(3.0f), _CMP_GT_OQ), g);
  return _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(z, _mm512_set1_ps(-3.0f), _CMP_LT_OQ),
                            _mm512_setzero_ps());
}

template <class Act>
void grad_sums(const float* x, const float* g, std::size_t c, float k, float scale, float shift,
               const batch_norm_shape& s, double& sg, double& sgx) {
  const std::size_t flush = bn_rows_per_flush(s.hw), full = s.hw / 16 * 16;
  const std::size_t ahead = bn_prefetch_rows(s.hw);
  const __mmask16 tail = __mmask16((1u << (s.hw - full)) - 1u);
  const __m512 vk = _mm512_set1_ps(k), vs = _mm512_set1_ps(scale), vb = _mm512_set1_ps(shift);
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, b0 = a0, b1 = a0;
  __m512d da = _mm512_setzero_pd(), db = da;
  // g' for 16 lanes; the pre-activation is dead code for the identity.
  auto gp = [&](__m512 d, __m512 gv) { return bn_vgrad(Act{}, _mm512_fmadd_ps(d, vs, vb), gv); };
  std::size_t rows = 0;
  for (std::size_t n = 0; n < s.n; ++n) {
    const std::size_t off = (n * s.c + c) * s.hw;
    const float* p = x + off;
    const float* r = g + off;
    if (n + ahead < s.n) {
      bn_prefetch_row(p + ahead * s.c * s.hw, s.hw);
      bn_prefetch_row(r + ahead * s.c * s.hw, s.hw);
    }
    std::size_t q = 0;
    for (; q + 32 <= full; q += 32) {
      const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(p + q), vk);
      const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(p + q + 16), vk);
      const __m512 g0 = gp(d0, _mm512_loadu_ps(r + q)), g1 = gp(d1, _mm512_loadu_ps(r + q + 16));
      a0 = _mm512_add_ps(a0, g0);
      a1 = _mm512_add_ps(a1, g1);
      b0 = _mm512_fmadd_ps(g0, d0, b0);
      b1 = _mm512_fmadd_ps(g1, d1, b1);
    }
    if (q < full) {
      const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(p + q), vk);
      const __m512 g0 = gp(d0, _mm512_loadu_ps(r + q));
      a0 = _mm512_add_ps(a0, g0);
      b0 = _mm512_fmadd_ps(g0, d0, b0);
    }
    if (tail) {
      // Masked-off lanes: g = 0 stays 0 through every activation's gradient.
      const __m512 d1 = _mm512_maskz_sub_ps(tail, _mm512_maskz_loadu_ps(tail, p + full), vk);
      const __m512 g1 = _mm512_maskz_mov_ps(tail, gp(d1, _mm512_maskz_loadu_ps(tail, r + full)));
      a1 = _mm512_add_ps(a1, g1);
      b1 = _mm512_fmadd_ps(g1, d1, b1);
    }
    if (++rows == flush || n + 1 == s.n) {
      da = bn_widen_add(da, _mm512_add_ps(a0, a1));
      db = bn_widen_add(db, _mm512_add_ps(b0, b1));
      a0 = a1 = b0 = b1 = _mm512_setzero_ps();
      rows = 0;
    }
  }
  sg = bn_hsum(da);
  sgx = bn_hsum(db);
}

template <class Act>
void normalise(const float* x, float* y, std::size_t c, float k, float scale, float shift,
               const batch_norm_shape& s) {
  const std::size_t full = s.hw / 16 * 16, ahead = bn_prefetch_rows(s.hw);
  const __mmask16 tail = __mmask16((1u << (s.hw - full)) - 1u);
  const __m512 vk = _mm512_set1_ps(k), vs = _mm512_set1_ps(scale), vb = _mm512_set1_ps(shift);
  auto f = [&](__m512 xv) { return bn_vf(Act{}, _mm512_fmadd_ps(_mm512_sub_ps(xv, vk), vs, vb)); };
  for (std::size_t n = 0; n < s.n; ++n) {
    const float* p = x + (n * s.c + c) * s.hw;
    float* o = y + (n * s.c + c) * s.hw;
    if (n + ahead < s.n) bn_prefetch_row_for_write(o + ahead * s.c * s.hw, s.hw);
    for (std::size_t q = 0; q < full; q += 16) _mm512_storeu_ps(o + q, f(_mm512_loadu_ps(p + q)));
    if (tail) _mm512_mask_storeu_ps(o + full, tail, f(_mm512_maskz_loadu_ps(tail, p + full)));
  }
}

template <class Act>
void grad_input(const float* x, const float* g, float* gx, std::size_t c, float k, float scale,
                float shift, float a, float c1, float c0, const batch_norm_shape& s) {
  const std::size_t full = s.hw / 16 * 16, ahead = bn_prefetch_rows(s.hw);
  const __mmask16 tail = __mmask16((1u << (s.hw - full)) - 1u);
  const __m512 vk = _mm512_set1_ps(k), vs = _mm512_set1_ps(scale), vb = _mm512_set1_ps(shift),
               va = _mm512_set1_ps(a), v1 = _mm512_set1_ps(c1), v0 = _mm512_set1_ps(c0);
  auto f = [&](__m512 xv, __m512 gv) {
    const __m512 d = _mm512_sub_ps(xv, vk);
    const __m512 gg = bn_vgrad(Act{}, _mm512_fmadd_ps(d, vs, vb), gv);
    return _mm512_fmadd_ps(va, gg, _mm512_fmadd_ps(v1, d, v0));
  };
  for (std::size_t n = 0; n < s.n; ++n) {
    const std::size_t off = (n * s.c + c) * s.hw;
    const float* p = x + off;
    const float* r = g + off;
    float* o = gx + off;
    if (n + ahead < s.n) bn_prefetch_row_for_write(o + ahead * s.c * s.hw, s.hw);
    for (std::size_t q = 0; q < full; q += 16)
      _mm512_storeu_ps(o + q, f(_mm512_loadu_ps(p + q), _mm512_loadu_ps(r + q)));
    if (tail)
      _mm512_mask_storeu_ps(
          o + full, tail,
          f(_mm512_maskz_loadu_ps(tail, p + full), _mm512_maskz_loadu_ps(tail, r + full)));
  }
}
#elif defined(__AVX2__) && defined(__FMA__)
// AVX2 float path for the two reductions (GCC 12 leaves the generic lane loops of these mostly
// scalar on AVX2, ~20 % of a training step): the 16 lanes of the generic path are two 8-float
// registers, the row tail and the flush into double are the generic path's own, so every partial
// sums the same terms in the same order. normalise and grad_input have no reduction and
// auto-vectorise as they are.

// g' = Act::grad(z, g) on 8 lanes with the scalar semantics (a NaN z gives 0 for the ReLUs and
// NaN for h-swish, as the scalar comparisons do).
inline __m256 bn_vgrad8(bn_identity, __m256, __m256 g) { return g; }
inline __m256 bn_vgrad8(bn_relu, __m256 z, __m256 g) {
  return _mm256_and_ps(_mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_GT_OQ), g);
}
inline __m256 bn_vgrad8(bn_relu6, __m256 z, __m256 g) {
  const __m256 in = _mm256_and_ps(_mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_GT_OQ),
                                  _mm256_cmp_ps(z, _mm256_set1_ps(6.0f), _CMP_LT_OQ));
  return _mm256_and_ps(in, g);
}
inline __m256 bn_vgrad8(bn_hswish, __m256 z, __m256 g) {
  const __m256 mid =
      _mm256_mul_ps(g, _mm256_div_ps(_mm256_fmadd_ps(_mm256_set1_ps(2.0f), z, _mm256_set1_ps(3.0f)),
                                     _mm256_set1_ps(6.0f)));
  const __m256 r = _mm256_blendv_ps(mid, g, _mm256_cmp_ps(z, _mm256_set1_ps(3.0f), _CMP_GT_OQ));
  return _mm256_andnot_ps(_mm256_cmp_ps(z, _mm256_set1_ps(-3.0f), _CMP_LT_OQ), r);
}

// Adds the 16 float lanes (lo, hi) to `acc` in lane order, as the generic path's flush does.
inline void bn_flush16(double& acc, __m256 lo, __m256 hi) {
  alignas(32) float t[16];
  _mm256_store_ps(t, lo);
  _mm256_store_ps(t + 8, hi);
  for (int l = 0; l < 16; ++l) acc += double(t[l]);
}

inline void shifted_sums(const float* x, std::size_t c, float k, const batch_norm_shape& s,
                         double& s1, double& s2) {
  const std::size_t flush = bn_rows_per_flush(s.hw), full = s.hw / 16 * 16;
  const __m256 vk = _mm256_set1_ps(k);
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, b0 = a0, b1 = a0;
  s1 = 0;
  s2 = 0;
  std::size_t rows = 0;
  for (std::size_t n = 0; n < s.n; ++n) {
    const float* p = x + (n * s.c + c) * s.hw;
    for (std::size_t q = 0; q < full; q += 16) {
      const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(p + q), vk);
      const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(p + q + 8), vk);
      a0 = _mm256_add_ps(a0, d0);
      a1 = _mm256_add_ps(a1, d1);
      b0 = _mm256_fmadd_ps(d0, d0, b0);
      b1 = _mm256_fmadd_ps(d1, d1, b1);
    }
    float ta = 0, tb = 0;
    for (std::size_t q = full; q < s.hw; ++q) {
      const float d = p[q] - k;
      ta += d;
      tb += d * d;
    }
    s1 += double(ta);
    s2 += double(tb);
    if (++rows == flush || n + 1 == s.n) {
      bn_flush16(s1, a0, a1);
      bn_flush16(s2, b0, b1);
      a0 = a1 = b0 = b1 = _mm256_setzero_ps();
      rows = 0;
    }
  }
}

template <class Act>
void grad_sums(const float* x, const float* g, std::size_t c, float k, float scale, float shift,
               const batch_norm_shape& s, double& sg, double& sgx) {
  const std::size_t flush = bn_rows_per_flush(s.hw), full = s.hw / 16 * 16;
  const __m256 vk = _mm256_set1_ps(k), vs = _mm256_set1_ps(scale), vb = _mm256_set1_ps(shift);
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, b0 = a0, b1 = a0;
  sg = 0;
  sgx = 0;
  std::size_t rows = 0;
  for (std::size_t n = 0; n < s.n; ++n) {
    const std::size_t off = (n * s.c + c) * s.hw;
    const float* p = x + off;
    const float* r = g + off;
    for (std::size_t q = 0; q < full; q += 16) {
      const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(p + q), vk);
      const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(p + q + 8), vk);
      const __m256 g0 = bn_vgrad8(Act{}, _mm256_fmadd_ps(d0, vs, vb), _mm256_loadu_ps(r + q));
      const __m256 g1 = bn_vgrad8(Act{}, _mm256_fmadd_ps(d1, vs, vb), _mm256_loadu_ps(r + q + 8));
      a0 = _mm256_add_ps(a0, g0);
      a1 = _mm256_add_ps(a1, g1);
      b0 = _mm256_fmadd_ps(g0, d0, b0);
      b1 = _mm256_fmadd_ps(g1, d1, b1);
    }
    float ta = 0, tb = 0;
    for (std::size_t q = full; q < s.hw; ++q) {
      const float d = p[q] - k;
      const float gg = Act::grad(d * scale + shift, r[q]);
      ta += gg;
      tb += gg * d;
    }
    sg += double(ta);
    sgx += double(tb);
    if (++rows == flush || n + 1 == s.n) {
      bn_flush16(sg, a0, a1);
      bn_flush16(sgx, b0, b1);
      a0 = a1 = b0 = b1 = _mm256_setzero_ps();
      rows = 0;
    }
  }
}
#endif

/// Channels per parallel task: enough elements (~8k) that scheduling is cheap against the work.
inline std::size_t bn_channel_grain(const batch_norm_shape& s) {
  const std::size_t per = s.count() ? s.count() : 1;
  return std::max<std::size_t>(1, 8192 / per);
}

}  // namespace detail

/// Training forward: batch mean and biased variance per channel (written to mean, var), then
/// y = Act((x − mean)·invstd·w + b) (w, b may be null: 1 and 0); invstd[c] = 1/sqrt(var + eps).
/// `scale`, `shift` (may be null) receive the per-channel affine map the output was computed
/// with, y = Act((x − x[c, first])·scale + shift): the fused backward recomputes z from them.
template <class T, class Act = detail::bn_identity>
void batch_norm_train_forward(const T* x, const T* w, const T* b, T* y, T* mean, T* var, T* invstd,
                              T eps, const batch_norm_shape& s, T* scale = nullptr,
                              T* shift = nullptr) {
  if (s.count() == 0) return;
  const double cnt = double(s.count());
  nat::parallel_for(0, s.c, detail::bn_channel_grain(s), [&](std::size_t lo, std::size_t hi) {
    for (std::size_t c = lo; c < hi; ++c) {
      const T k = x[c * s.hw];
      double s1, s2;
      detail::shifted_sums(x, c, k, s, s1, s2);
      const double dm = s1 / cnt;  // mean − k
      const double v = std::max(0.0, s2 / cnt - dm * dm);
      const double is = 1.0 / std::sqrt(v + double(eps));
      mean[c] = T(double(k) + dm);
      var[c] = T(v);
      invstd[c] = T(is);
      // y = (x − k)·scale + (b − dm·scale): x − k is exact near k, so no cancellation.
      const double sc = is * (w ? double(w[c]) : 1.0);
      const T tsc = T(sc), tsh = T((b ? double(b[c]) : 0.0) - dm * sc);
      if (scale) scale[c] = tsc;
      if (shift) shift[c] = tsh;
      detail::normalise<Act>(x, y, c, k, tsc, tsh, s);
    }
  });
}

/// Affine forward with given per-channel statistics (evaluation): y = (x − mean)·invstd·w + b.
template <class T>
void batch_norm_apply(const T* x, const T* w, const T* b, const T* mean, const T* invstd, T* y,
                      const batch_norm_shape& s) {
  const std::size_t grain = std::max<std::size_t>(1, 16384 / (s.hw ? s.hw : 1));
  nat::parallel_for(0, s.n * s.c, grain, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t p = lo; p < hi; ++p) {
      const std::size_t c = p % s.c;
      const T scale = invstd[c] * (w ? w[c] : T(1));
      const T shift = b ? b[c] : T(0);
      const T m = mean[c];
      const T* in = x + p * s.hw;
      T* o = y + p * s.hw;
      for (std::size_t q = 0; q < s.hw; ++q) o[q] = (in[q] - m) * scale + shift;
    }
  });
}

/// Backward. training: batch statistics (gradient through mean and var); else constant
/// statistics. gx (may be null, or gy itself: computed in place), gw, gb (may be null) are
/// overwritten. With an activation (training only), gy is the gradient of Act's output and
/// `scale`/`shift` are the forward's (batch_norm_train_forward).
template <class T, class Act = detail::bn_identity>
void batch_norm_backward(const T* x, const T* gy, const T* w, const T* mean, const T* invstd,
                         bool training, T* gx, T* gw, T* gb, const batch_norm_shape& s,
                         const T* scale = nullptr, const T* shift = nullptr) {
  if (s.count() == 0) return;
  const double cnt = double(s.count());
  nat::parallel_for(0, s.c, detail::bn_channel_grain(s), [&](std::size_t lo, std::size_t hi) {
    for (std::size_t c = lo; c < hi; ++c) {
      const T k = x[c * s.hw];  // shift, as in the forward
      const double is = invstd[c], dm = double(mean[c]) - double(k);
      const T sc = scale ? scale[c] : T(0), sh = shift ? shift[c] : T(0);
      double sg, sgk;  // Σ gz, Σ gz·(x − k), gz the gradient of the pre-activation output
      detail::grad_sums<Act>(x, gy, c, k, sc, sh, s, sg, sgk);
      const double sgx = (sgk - dm * sg) * is;  // Σ gy·xhat
      if (gw) gw[c] = T(sgx);
      if (gb) gb[c] = T(sg);
      if (!gx) continue;
      const double wc = w ? double(w[c]) : 1.0;
      // training: gx = w·is·(gy − Σgy/M − xhat·Σ(gy·xhat)/M); eval: gx = w·is·gy.
      // As gx = a·gy + c1·(x − k) + c0, with xhat = ((x − k) − dm)·is.
      const double a = wc * is;
      const double k2 = training ? sg / cnt : 0.0, k3 = training ? sgx / cnt : 0.0;
      detail::grad_input<Act>(x, gy, gx, c, k, sc, sh, T(a), T(-a * k3 * is),
                              T(-a * k2 + a * k3 * is * dm), s);
    }
  });
}

}  // namespace cpu
}  // namespace nat::ops
