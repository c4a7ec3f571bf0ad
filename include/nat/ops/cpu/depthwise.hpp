#pragma once
/// \file Optimised CPU depthwise 2-D convolution kernels (forward, input gradient, weight gradient)
/// on raw NCHW pointers, for the elastic depthwise layer of the Once-for-All supernet (OFA spec
/// §2.1, §2.8). The differentiable front end (nat::ops::depthwise_conv2d) calls these; the naive
/// oracle they are tested against is nat/ops/reference/depthwise.hpp.
///
/// Method. The feature maps of a MobileNetV3 supernet are tiny (4x4 .. 16x16), so vectorising
/// across one output row wastes most of a 16-lane register and row-boundary checks dominate.
/// Two paths avoid both (measurements: docs/performance/depthwise.md):
///  * channel-blocked (float with AVX-512 or AVX2+FMA; every supernet shape): a register holds
///    16 (AVX-512) or 8 (AVX2) channels of one pixel; planes are transposed into a zero-bordered
///    [row][col][lanes] scratch, so every lane is useful whatever the map size and a stride only
///    changes addresses (detail::cl).
///  * flat (double, other ISAs, strides > 2): each plane is copied into a zero-bordered scratch
///    with row pitch P and the convolution becomes a 1-D sum of shifted copies,
///    out[o] = sum_t w_t * base_t[o] for o = oh*P + ow, without bounds checks; the columns
///    ow >= out_w computed on the way are discarded. A stride s becomes s*s stride-1 problems by
///    splitting the padded plane into its phases (even/odd rows x even/odd columns for s = 2).
/// In both, the input gradient is the same machinery on dy with the kernel flipped, one phase of
/// dx at a time, and the weight gradient the matching dot products over the batch.
///
/// Threads and determinism. Forward and input gradient split (image, channel) work over
/// nat::parallel_for; every output is computed by one task in a fixed order, so results do not
/// depend on the thread count. The weight gradient sums over the batch in fixed blocks of
/// kWeightBatchBlock images per (block, channel) partial, and the partials are added in block
/// order afterwards: bitwise identical for any thread count.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "nat/core/parallel.hpp"
#include "nat/ops/cpu/copy_row.hpp"
#include "nat/ops/reference/depthwise.hpp"

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

/// 1 when the channel-blocked float path is compiled in: AVX-512, or AVX2 with FMA, unless
/// NAT_DEPTHWISE_FLAT_ONLY is defined.
#if !defined(NAT_DEPTHWISE_FLAT_ONLY) && \
    (defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__)))
#define NAT_DEPTHWISE_CL 1
#else
#define NAT_DEPTHWISE_CL 0
#endif

namespace nat::ops::cpu {
namespace detail {

/// Lanes of one step of the flattened loops; scratch is padded to a multiple of this so the
/// vector code may run past the last useful output into zeros.
constexpr std::size_t kLanes = 16;
/// Images per weight-gradient partial sum: fixed, so the summation order never depends on threads.
constexpr std::size_t kWeightBatchBlock = 16;

inline std::size_t round_up(std::size_t v, std::size_t m) { return (v + m - 1) / m * m; }
inline std::size_t ceil_div(std::size_t a, std::size_t b) { return (a + b - 1) / b; }

/// Half-open range [lo, hi) of phase indices a (a < limit) with 0 <= s*a + r - p < extent: the
/// phase-r samples of a padded axis that fall inside the real data.
struct index_range {
  std::size_t lo, hi;
};
inline index_range inside(std::size_t extent, std::size_t pad, std::size_t r, std::size_t s,
                          std::size_t limit) {
  const std::size_t lo = pad > r ? ceil_div(pad - r, s) : 0;
  if (pad + extent <= r) return {0, 0};
  const std::size_t hi = std::min(limit, (pad + extent - 1 - r) / s + 1);
  return {lo, std::max(lo, hi)};
}

/// Layout of the phase-split, zero-padded input used by forward and weight gradient: s*s planes,
/// each `rows` x `pitch` (+ tail slack), plane (ri,rj) holding xpad[s*a+ri][s*b+rj] at a*pitch+b.
struct phase_layout {
  std::size_t s, k, pad, h, w, oh, ow;
  std::size_t pitch, rows, len, plane;  // len = oh*pitch outputs; plane = elements per phase

  explicit phase_layout(const depthwise_shape& sh)
      : s(sh.stride), k(sh.k), pad(sh.pad), h(sh.h), w(sh.w), oh(sh.out_h()), ow(sh.out_w()) {
    const std::size_t e = (k - 1) / s;  // largest tap offset inside one phase
    pitch = ow + e;
    rows = oh + e;
    len = oh * pitch;
    plane = std::max(rows * pitch, round_up(len, kLanes) + e * pitch + e) + kLanes;
  }
  index_range rows_in(std::size_t r) const { return inside(h, pad, r, s, rows); }
  index_range cols_in(std::size_t r) const { return inside(w, pad, r, s, pitch); }
};

/// Copies one input plane into its phases (only the in-image samples; the zero border was set
/// when the scratch was allocated and is never written).
template <class T>
void fill_phases(const T* x, T* scratch, const phase_layout& L) {
  for (std::size_t ri = 0; ri < L.s; ++ri) {
    const index_range ar = L.rows_in(ri);
    for (std::size_t rj = 0; rj < L.s; ++rj) {
      const index_range br = L.cols_in(rj);
      T* dst = scratch + (ri * L.s + rj) * L.plane;
      for (std::size_t a = ar.lo; a < ar.hi; ++a) {
        const T* src = x + (L.s * a + ri - L.pad) * L.w + (L.s * br.lo + rj - L.pad);
        T* d = dst + a * L.pitch + br.lo;
        const std::size_t nb = br.hi - br.lo;
        if (L.s == 1) {
          copy_row(src, nb, d);
        } else {
          for (std::size_t b = 0; b < nb; ++b) d[b] = src[b * L.s];
        }
      }
    }
  }
}

/// out[o] = sum_t wt[t] * base[t][o] for o < round_up(len, kLanes) (scalar / double path).
template <class T>
void tap_sum(T* out, const T* const* base, const T* wt, std::size_t ntaps, std::size_t len) {
  const std::size_t n = round_up(len, kLanes);
  for (std::size_t o = 0; o < n; ++o) out[o] = T(0);
  for (std::size_t t = 0; t < ntaps; ++t) {
    const T* b = base[t];
    const T wv = wt[t];
    for (std::size_t o = 0; o < n; ++o) out[o] += wv * b[o];
  }
}

/// acc[t*kLanes + lane] += sum over o == lane (mod kLanes) of d[o] * base[t][o] (scalar path;
/// same lane split as the vector code so both round alike).
template <class T>
void tap_dot(T* acc, const T* d, const T* const* base, std::size_t ntaps, std::size_t len) {
  const std::size_t n = round_up(len, kLanes);
  for (std::size_t t = 0; t < ntaps; ++t) {
    const T* b = base[t];
    T* a = acc + t * kLanes;
    for (std::size_t o = 0; o < n; o += kLanes)
      for (std::size_t l = 0; l < kLanes; ++l) a[l] += d[o + l] * b[o + l];
  }
}

#if defined(__AVX512F__)
/// Float fast path: kU independent 16-lane accumulators per tap hide the FMA latency; the tap
/// weight is broadcast once per block of outputs.
template <int U>
inline void tap_sum_block(float* out, const float* const* base, const float* wt, std::size_t ntaps,
                          std::size_t o) {
  __m512 acc[U];
  for (int u = 0; u < U; ++u) acc[u] = _mm512_setzero_ps();
  for (std::size_t t = 0; t < ntaps; ++t) {
    const __m512 wv = _mm512_set1_ps(wt[t]);
    const float* b = base[t] + o;
    for (int u = 0; u < U; ++u) acc[u] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(b + 16 * u), acc[u]);
  }
  for (int u = 0; u < U; ++u) _mm512_storeu_ps(out + o + 16 * u, acc[u]);
}

/// Weight-gradient fast path: G taps at a time keep their accumulators in registers while one
/// load of dy feeds G FMAs.
template <int G>
inline void tap_dot_group(float* acc, const float* d, const float* const* base, std::size_t n) {
  __m512 a[G];
  for (int g = 0; g < G; ++g) a[g] = _mm512_loadu_ps(acc + g * 16);
  for (std::size_t o = 0; o < n; o += 16) {
    const __m512 dv = _mm512_loadu_ps(d + o);
    for (int g = 0; g < G; ++g) a[g] = _mm512_fmadd_ps(dv, _mm512_loadu_ps(base[g] + o), a[g]);
  }
  for (int g = 0; g < G; ++g) _mm512_storeu_ps(acc + g * 16, a[g]);
}

/// Taps per tap_dot_group: accumulators that fit the 32 zmm registers.
constexpr int kTapGroup = 8;

#elif defined(__AVX2__) && defined(__FMA__)
/// AVX2 float flat path (the channel-blocked path needs AVX-512): 16 lanes are two 8-float
/// registers, so every lane sums the same products in the same order as the scalar loops
/// (bitwise identical where those contract to FMA). kU 16-lane accumulators per tap hide the FMA
/// latency.
template <int U>
inline void tap_sum_block(float* out, const float* const* base, const float* wt, std::size_t ntaps,
                          std::size_t o) {
  __m256 acc[2 * U];
  for (int u = 0; u < 2 * U; ++u) acc[u] = _mm256_setzero_ps();
  for (std::size_t t = 0; t < ntaps; ++t) {
    const __m256 wv = _mm256_set1_ps(wt[t]);
    const float* b = base[t] + o;
    for (int u = 0; u < 2 * U; ++u)
      acc[u] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(b + 8 * u), acc[u]);
  }
  for (int u = 0; u < 2 * U; ++u) _mm256_storeu_ps(out + o + 8 * u, acc[u]);
}

/// Weight gradient: G taps at a time, two registers each (16 lanes), stay in registers while one
/// 16-float load of dy feeds 2G FMAs; G <= 6 fits the 16 ymm registers.
template <int G>
inline void tap_dot_group(float* acc, const float* d, const float* const* base, std::size_t n) {
  __m256 a[2 * G];
  for (int g = 0; g < 2 * G; ++g) a[g] = _mm256_loadu_ps(acc + g * 8);
  for (std::size_t o = 0; o < n; o += 16) {
    const __m256 d0 = _mm256_loadu_ps(d + o), d1 = _mm256_loadu_ps(d + o + 8);
    for (int g = 0; g < G; ++g) {
      a[2 * g] = _mm256_fmadd_ps(d0, _mm256_loadu_ps(base[g] + o), a[2 * g]);
      a[2 * g + 1] = _mm256_fmadd_ps(d1, _mm256_loadu_ps(base[g] + o + 8), a[2 * g + 1]);
    }
  }
  for (int g = 0; g < 2 * G; ++g) _mm256_storeu_ps(acc + g * 8, a[g]);
}

/// Taps per tap_dot_group: 2 registers each within the 16 ymm registers.
constexpr int kTapGroup = 6;
#endif

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
inline void tap_sum(float* out, const float* const* base, const float* wt, std::size_t ntaps,
                    std::size_t len) {
  const std::size_t n = round_up(len, kLanes);
  std::size_t o = 0;
  for (; o + 64 <= n; o += 64) tap_sum_block<4>(out, base, wt, ntaps, o);
  if (o + 32 <= n) {
    tap_sum_block<2>(out, base, wt, ntaps, o);
    o += 32;
  }
  if (o < n) tap_sum_block<1>(out, base, wt, ntaps, o);
}

inline void tap_dot(float* acc, const float* d, const float* const* base, std::size_t ntaps,
                    std::size_t len) {
  const std::size_t n = round_up(len, kLanes), g = std::size_t(kTapGroup);
  std::size_t t = 0;
  for (; t + g <= ntaps; t += g) tap_dot_group<kTapGroup>(acc + t * 16, d, base + t, n);
  // The last ntaps - t < kTapGroup taps as one group of exactly that size.
  switch (ntaps - t) {
#if defined(__AVX512F__)
    case 7:
      tap_dot_group<7>(acc + t * 16, d, base + t, n);
      break;
    case 6:
      tap_dot_group<6>(acc + t * 16, d, base + t, n);
      break;
#endif
    case 5:
      tap_dot_group<5>(acc + t * 16, d, base + t, n);
      break;
    case 4:
      tap_dot_group<4>(acc + t * 16, d, base + t, n);
      break;
    case 3:
      tap_dot_group<3>(acc + t * 16, d, base + t, n);
      break;
    case 2:
      tap_dot_group<2>(acc + t * 16, d, base + t, n);
      break;
    case 1:
      tap_dot_group<1>(acc + t * 16, d, base + t, n);
      break;
    default:
      break;
  }
}
#endif

/// Planes per parallel task: enough work per task to amortise the scratch set-up, enough tasks to
/// balance two or more threads.
inline std::size_t plane_grain(std::size_t planes, std::size_t plane_elems) {
  const std::size_t threads = std::max<std::size_t>(1, nat::max_threads());
  const std::size_t by_balance = std::max<std::size_t>(1, planes / (8 * threads));
  const std::size_t by_size =
      std::max<std::size_t>(1, 4096 / std::max<std::size_t>(1, plane_elems));
  return std::min(std::max(by_balance, by_size), std::max<std::size_t>(1, planes));
}

#if NAT_DEPTHWISE_CL
// GCC 12 reports _mm512_undefined_ps() inside its own shuffle intrinsics as "maybe
// uninitialized" once they are inlined here; the value is never read.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
/// Channel-blocked float path. For the 4x4 and 8x8 maps of the late supernet stages even the
/// flattened planes leave most lanes idle, so here the lanes of a register hold G channels of
/// one pixel instead (G = 16 with AVX-512, 8 with AVX2): every lane does useful work whatever the
/// map size, and the stride only changes addresses. Planes are transposed into a zero-bordered
/// [row][col][G] scratch with GxG register transposes and transposed back at the end. The code
/// is written once against the few vector operations below; only they and the register budgets
/// (kAcc, kDwAcc) differ between the two instruction sets.
/// Defining NAT_DEPTHWISE_FLAT_ONLY before including this header disables it (to measure the
/// flat path against it; the flat path is also reachable as detail::flat_* for tests).
namespace cl {

#if defined(__AVX512F__)
using reg = __m512;
constexpr std::size_t G = 16;  // channels per group = lanes
/// Accumulators one convolution block keeps in the 32 vector registers (plus weight and input).
constexpr int kAcc = 16;
/// Weight-gradient accumulators per pass (K*IR of them: 25 at k = 5, 28 for rows 0-3 of k = 7).
constexpr int kDwAcc = 28;

inline reg vzero() { return _mm512_setzero_ps(); }
inline reg vload(const float* p) { return _mm512_loadu_ps(p); }
inline reg vload_aligned(const float* p) { return _mm512_load_ps(p); }
inline void vstore(float* p, reg v) { _mm512_storeu_ps(p, v); }
inline reg vfma(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
/// The first m lanes of p (m <= G); the others read as zero and are not touched in memory.
inline reg vload_first(const float* p, std::size_t m) {
  return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << m) - 1u), p);
}
inline void vstore_first(float* p, reg v, std::size_t m) {
  _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << m) - 1u), v);
}

/// In-register transpose of a 16x16 block: r[i][j] -> r[j][i].
inline void transpose(reg r[G]) {
  reg t[16];
  for (int a = 0; a < 8; ++a) {
    t[2 * a] = _mm512_unpacklo_ps(r[2 * a], r[2 * a + 1]);
    t[2 * a + 1] = _mm512_unpackhi_ps(r[2 * a], r[2 * a + 1]);
  }
  auto pd = [](reg v) { return _mm512_castps_pd(v); };
  for (int b = 0; b < 4; ++b) {
    r[4 * b] = _mm512_castpd_ps(_mm512_unpacklo_pd(pd(t[4 * b]), pd(t[4 * b + 2])));
    r[4 * b + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(pd(t[4 * b]), pd(t[4 * b + 2])));
    r[4 * b + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(pd(t[4 * b + 1]), pd(t[4 * b + 3])));
    r[4 * b + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(pd(t[4 * b + 1]), pd(t[4 * b + 3])));
  }
  // r[4b+q] now holds, in 128-bit lane L, column 4L+q of rows 4b..4b+3.
  for (int q = 0; q < 4; ++q) {
    const reg v = _mm512_shuffle_f32x4(r[q], r[4 + q], 0x44);
    const reg v2 = _mm512_shuffle_f32x4(r[q], r[4 + q], 0xEE);
    const reg w = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0x44);
    const reg w2 = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0xEE);
    t[q] = _mm512_shuffle_f32x4(v, w, 0x88);
    t[4 + q] = _mm512_shuffle_f32x4(v, w, 0xDD);
    t[8 + q] = _mm512_shuffle_f32x4(v2, w2, 0x88);
    t[12 + q] = _mm512_shuffle_f32x4(v2, w2, 0xDD);
  }
  for (int i = 0; i < 16; ++i) r[i] = t[i];
}
#else  // AVX2 + FMA: 16 ymm registers, so the blocks are half as wide.
using reg = __m256;
constexpr std::size_t G = 8;
constexpr int kAcc = 8;
/// 12 accumulators + dy + one input leave two registers spare: 9 at k = 3, 10 (two tap rows) at
/// k = 5, 7 (one tap row) at k = 7.
constexpr int kDwAcc = 12;

inline reg vzero() { return _mm256_setzero_ps(); }
inline reg vload(const float* p) { return _mm256_loadu_ps(p); }
inline reg vload_aligned(const float* p) { return _mm256_load_ps(p); }
inline void vstore(float* p, reg v) { _mm256_storeu_ps(p, v); }
inline reg vfma(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
inline __m256i first_lanes(std::size_t m) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(m)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
/// The first m lanes of p (m <= G); the others read as zero and are not touched in memory.
inline reg vload_first(const float* p, std::size_t m) {
  return _mm256_maskload_ps(p, first_lanes(m));
}
inline void vstore_first(float* p, reg v, std::size_t m) {
  _mm256_maskstore_ps(p, first_lanes(m), v);
}

/// In-register transpose of an 8x8 block: r[i][j] -> r[j][i].
inline void transpose(reg r[G]) {
  reg t[8], u[8];
  for (int a = 0; a < 4; ++a) {
    t[2 * a] = _mm256_unpacklo_ps(r[2 * a], r[2 * a + 1]);
    t[2 * a + 1] = _mm256_unpackhi_ps(r[2 * a], r[2 * a + 1]);
  }
  // Within each 128-bit half, u[4b+q] holds column q (of that half) of rows 4b..4b+3.
  for (int b = 0; b < 2; ++b) {
    u[4 * b] = _mm256_shuffle_ps(t[4 * b], t[4 * b + 2], 0x44);
    u[4 * b + 1] = _mm256_shuffle_ps(t[4 * b], t[4 * b + 2], 0xEE);
    u[4 * b + 2] = _mm256_shuffle_ps(t[4 * b + 1], t[4 * b + 3], 0x44);
    u[4 * b + 3] = _mm256_shuffle_ps(t[4 * b + 1], t[4 * b + 3], 0xEE);
  }
  for (int q = 0; q < 4; ++q) {
    r[q] = _mm256_permute2f128_ps(u[q], u[4 + q], 0x20);
    r[4 + q] = _mm256_permute2f128_ps(u[q], u[4 + q], 0x31);
  }
}
#endif

/// Pixels [pos0, pos0+m) of nc <= G channel planes (src + l*stride) into channel-last vectors
/// out[j] (j < m); missing channels read as zero.
inline void gather_pixels(const float* src, std::size_t stride, std::size_t nc, std::size_t pos0,
                          std::size_t m, reg r[G]) {
  if (m == G && nc == G) {
    for (std::size_t l = 0; l < G; ++l) r[l] = vload(src + l * stride + pos0);
  } else {
    for (std::size_t l = 0; l < G; ++l)
      r[l] = l < nc ? vload_first(src + l * stride + pos0, m) : vzero();
  }
  transpose(r);
}

/// Inverse of gather_pixels: channel-last vectors v[j] (j < m) back to nc planes.
inline void scatter_pixels(reg r[G], float* dst, std::size_t stride, std::size_t nc,
                           std::size_t pos0, std::size_t m) {
  transpose(r);
  if (m == G) {
    for (std::size_t l = 0; l < nc; ++l) vstore(dst + l * stride + pos0, r[l]);
  } else {
    for (std::size_t l = 0; l < nc; ++l) vstore_first(dst + l * stride + pos0, r[l], m);
  }
}

/// Copies nc channel planes (h x w) into a zero-bordered channel-last scratch with pitch `pitch`
/// pixels and `rows` rows, pixel (ih,iw) at ((ih+top)*pitch + iw+left)*G; pixels that fall
/// outside the scratch (never read) are skipped.
inline void to_channel_last(const float* src, std::size_t plane, std::size_t nc, std::size_t h,
                            std::size_t w, float* dst, std::size_t rows, std::size_t pitch,
                            std::size_t top, std::size_t left) {
  const std::size_t hw = h * w;
  reg r[G];
  for (std::size_t pos0 = 0; pos0 < hw; pos0 += G) {
    const std::size_t m = std::min<std::size_t>(G, hw - pos0);
    gather_pixels(src, plane, nc, pos0, m, r);
    // Walk the pixel coordinates incrementally: a division per pixel costs more than the copy.
    std::size_t ih = pos0 / w + top, iw = pos0 % w + left;
    for (std::size_t j = 0; j < m; ++j) {
      if (ih < rows && iw < pitch) vstore(dst + (ih * pitch + iw) * G, r[j]);
      if (++iw == w + left) {
        iw = left;
        ++ih;
      }
    }
  }
}

/// Channel-last [hw][G] back to nc planes of hw pixels, through `stage` (G*hw floats): the
/// transposed blocks land in cache first and leave as one sequential copy, which measured ~25%
/// faster on 16x16 maps (AVX-512) than storing 16 interleaved 64-byte pieces straight to memory.
inline void from_channel_last(const float* src, std::size_t hw, float* dst, std::size_t plane,
                              std::size_t nc, float* stage) {
  reg r[G];
  for (std::size_t pos0 = 0; pos0 < hw; pos0 += G) {
    const std::size_t m = std::min<std::size_t>(G, hw - pos0);
    for (std::size_t j = 0; j < G; ++j) r[j] = j < m ? vload(src + (pos0 + j) * G) : vzero();
    scatter_pixels(r, stage, hw, nc, pos0, m);
  }
  if (plane == hw) {
    std::memcpy(dst, stage, nc * hw * sizeof(float));
  } else {
    for (std::size_t l = 0; l < nc; ++l)
      std::memcpy(dst + l * plane, stage + l * hw, hw * sizeof(float));
  }
}

/// NR output rows x NW output pixels at once (NR*NW <= kAcc accumulators): for every tap one
/// weight vector feeds NR*NW FMAs. Input pixel (rr,c) of the block is read at
/// in + rr*in_row + c*ISC*G + tap_off[t]; output pixel at out + rr*out_row + c*OSC*G.
template <int NW, int NR, int ISC, int OSC>
void conv_rows(const float* in, std::ptrdiff_t in_row, float* out, std::ptrdiff_t out_row,
               const float* wt, const std::ptrdiff_t* tap_off, std::size_t ntaps) {
  reg acc[NR][NW];
  for (int rr = 0; rr < NR; ++rr)
    for (int c = 0; c < NW; ++c) acc[rr][c] = vzero();
  for (std::size_t t = 0; t < ntaps; ++t) {
    const reg wv = vload(wt + t * G);
    const float* b = in + tap_off[t];
    for (int rr = 0; rr < NR; ++rr)
      for (int c = 0; c < NW; ++c)
        acc[rr][c] = vfma(wv, vload(b + rr * in_row + c * ISC * G), acc[rr][c]);
  }
  for (int rr = 0; rr < NR; ++rr)
    for (int c = 0; c < NW; ++c) vstore(out + rr * out_row + c * OSC * G, acc[rr][c]);
}

/// True when conv_plane has a kernel for rows `nw` pixels wide: any width, split into column
/// chunks of 16/8/4/2/1 pixels (28 = 16+8+4, 14 = 8+4+2, 7 = 4+2+1: the 28 px maps); chunks
/// wider than kAcc are left out (AVX2).
inline bool width_ok(std::size_t nw) { return nw >= 1; }

template <int NW, int ISC, int OSC>
void conv_plane_w(const float* in, std::ptrdiff_t in_row, float* out, std::ptrdiff_t out_row,
                  std::size_t rows, const float* wt, const std::ptrdiff_t* tap_off,
                  std::size_t ntaps) {
  constexpr int kMaxRows = kAcc / NW;
  std::size_t r = 0;
  for (; r + kMaxRows <= rows; r += kMaxRows)
    conv_rows<NW, kMaxRows, ISC, OSC>(in + r * in_row, in_row, out + r * out_row, out_row, wt,
                                      tap_off, ntaps);
  if constexpr (kMaxRows >= 4) {
    if (r + 2 <= rows) {
      conv_rows<NW, 2, ISC, OSC>(in + r * in_row, in_row, out + r * out_row, out_row, wt, tap_off,
                                 ntaps);
      r += 2;
    }
  }
  for (; r < rows; ++r)
    conv_rows<NW, 1, ISC, OSC>(in + r * in_row, in_row, out + r * out_row, out_row, wt, tap_off,
                               ntaps);
}

/// `rows` output rows of `nw` pixels, as column chunks of 16/8/4/2/1 pixels (output pixel c of a
/// chunk at column c0 is pixel c0 + c of the row: inputs at c0*ISC*G, outputs at c0*OSC*G).
template <int ISC, int OSC>
void conv_plane(const float* in, std::ptrdiff_t in_row, float* out, std::ptrdiff_t out_row,
                std::size_t rows, std::size_t nw, const float* wt, const std::ptrdiff_t* tap_off,
                std::size_t ntaps) {
  std::size_t c0 = 0;
  auto chunks = [&](auto nw_tag) {
    constexpr int W = decltype(nw_tag)::value;
    if constexpr (W <= kAcc)
      for (; c0 + W <= nw; c0 += W)
        conv_plane_w<W, ISC, OSC>(in + c0 * ISC * G, in_row, out + c0 * OSC * G, out_row, rows, wt,
                                  tap_off, ntaps);
  };
  chunks(std::integral_constant<int, 16>{});
  chunks(std::integral_constant<int, 8>{});
  chunks(std::integral_constant<int, 4>{});
  chunks(std::integral_constant<int, 2>{});
  chunks(std::integral_constant<int, 1>{});
}

/// Forward rows in blocks of NR, each block running only the tap rows i that reach a real input
/// row for some output row of the block: the others read nothing but zero padding. On a 4x4 map
/// with k = 7 and pad 3 only 4 of 7 tap rows matter per output row; blocks of 2 rows (8
/// accumulators, still enough to keep both FMA units busy) skip ~30% of the FMAs there, the
/// default blocks ~15% on 8x8 and ~10% on 16x16 maps. Skipped terms are exact zeros.
template <int NW, int NR, int ISC>
void forward_rows(const float* xs, std::ptrdiff_t in_row, float* ys, std::ptrdiff_t out_row,
                  std::size_t oh, const float* wt, const std::ptrdiff_t* tap_off,
                  const depthwise_shape& s) {
  const std::size_t k = s.k;
  std::size_t r = 0;
  auto block = [&](auto nr_tag) {
    constexpr int R = decltype(nr_tag)::value;
    // Padded input row of output row r+rr, tap row i: (r+rr)*stride + i; real rows are
    // [pad, pad+h). The last row of the block bounds i from below, the first from above.
    const std::size_t last = (r + R - 1) * s.stride, first = r * s.stride;
    const std::size_t i_lo = s.pad > last ? std::min(k, s.pad - last) : 0;
    const std::size_t i_hi = std::min(k, s.pad + s.h > first ? s.pad + s.h - first : 0);
    const std::size_t t0 = i_lo * k, nt = i_hi > i_lo ? (i_hi - i_lo) * k : 0;
    conv_rows<NW, R, ISC, 1>(xs + r * in_row, in_row, ys + r * out_row, out_row, wt + t0 * G,
                             tap_off + t0, nt);
    r += R;
  };
  while (r + NR <= oh) block(std::integral_constant<int, NR>{});
  if constexpr (NR > 2)
    while (r + 2 <= oh) block(std::integral_constant<int, 2>{});
  while (r < oh) block(std::integral_constant<int, 1>{});
}

template <int ISC>
void forward_plane(const float* xs, std::ptrdiff_t in_row, float* ys, std::ptrdiff_t out_row,
                   std::size_t oh, std::size_t ow, const float* wt, const std::ptrdiff_t* tap_off,
                   const depthwise_shape& s) {
  // Column chunks of 16/8/4/2/1 output pixels (any width; see conv_plane), each with as many
  // rows per block as the kAcc accumulators allow (at most 8). At k >= 5 the 4-pixel chunks
  // take 2-row blocks, which skip more all-padding tap rows on the small maps (forward_rows).
  std::size_t c0 = 0;
  auto run = [&](auto nw_tag, auto nr_tag) {
    constexpr int W = decltype(nw_tag)::value, R = decltype(nr_tag)::value;
    forward_rows<W, R, ISC>(xs + c0 * ISC * G, in_row, ys + c0 * G, out_row, oh, wt, tap_off, s);
    c0 += W;
  };
  using std::integral_constant;
  auto width = [&](auto nw_tag) {
    constexpr int W = decltype(nw_tag)::value;
    constexpr int R = std::min(8, kAcc / W);
    if constexpr (W <= kAcc) {
      while (c0 + W <= ow) {
        if (W == 4 && s.k >= 5)
          run(nw_tag, integral_constant<int, std::min(R, 2)>{});
        else
          run(nw_tag, integral_constant<int, R>{});
      }
    }
  };
  width(integral_constant<int, 16>{});
  width(integral_constant<int, 8>{});
  width(integral_constant<int, 4>{});
  width(integral_constant<int, 2>{});
  width(integral_constant<int, 1>{});
}

/// First vector-aligned element of v (allocated G floats longer than needed; malloc's 16-byte
/// alignment leaves at most G - 4 to skip). Every pixel is one vector, so an aligned base makes
/// every load and store of the path aligned; from 16-byte aligned memory three in four 64-byte
/// vectors would split across cache lines.
inline float* align_vec(std::vector<float>& v) {
  constexpr std::size_t bytes = G * sizeof(float);
  const auto a = reinterpret_cast<std::uintptr_t>(v.data());
  return v.data() + ((bytes - a % bytes) % bytes) / sizeof(float);
}

/// Weights [c][k*k] -> per group [t][G] (zero for channels past c), optionally only a subset
/// of taps in a given order.
inline std::vector<float> group_weights(const float* w, std::size_t c, std::size_t kk,
                                        const std::vector<std::size_t>& taps) {
  const std::size_t ng = ceil_div(c, G), nt = taps.size();
  std::vector<float> out(ng * nt * G + G, 0.f);
  float* o = align_vec(out);
  for (std::size_t g = 0; g < ng; ++g)
    for (std::size_t t = 0; t < nt; ++t)
      for (std::size_t l = 0; l < G && g * G + l < c; ++l)
        o[(g * nt + t) * G + l] = w[(g * G + l) * kk + taps[t]];
  return out;
}

inline bool forward(const float* x, const float* w, float* y, const depthwise_shape& s) {
  const std::size_t oh = s.out_h(), ow = s.out_w(), st = s.stride, k = s.k, kk = k * k;
  if (!width_ok(ow) || st > 2) return false;
  const std::size_t rows = (oh - 1) * st + k, pitch = (ow - 1) * st + k;
  const std::size_t ng = ceil_div(s.c, G), hw = s.h * s.w, ohw = oh * ow;
  std::vector<std::size_t> taps(kk);
  std::vector<std::ptrdiff_t> off(kk);
  for (std::size_t t = 0; t < kk; ++t) {
    taps[t] = t;
    off[t] = std::ptrdiff_t(((t / k) * pitch + t % k) * G);
  }
  std::vector<float> wg_v = group_weights(w, s.c, kk, taps);
  const float* const wg = align_vec(wg_v);
  const std::size_t tasks = s.n * ng;
  nat::parallel_for(0, tasks, plane_grain(tasks, hw * G), [&](std::size_t lo, std::size_t hi) {
    std::vector<float> scratch(rows * pitch * G + 2 * ohw * G + G, 0.f);
    float* xs = align_vec(scratch);
    float* ys = xs + rows * pitch * G;
    float* stage = ys + ohw * G;
    for (std::size_t task = lo; task < hi; ++task) {
      const std::size_t n = task / ng, g = task % ng, c0 = g * G;
      const std::size_t nc = std::min(G, s.c - c0);
      to_channel_last(x + (n * s.c + c0) * hw, hw, nc, s.h, s.w, xs, rows, pitch, s.pad, s.pad);
      const std::ptrdiff_t in_row = std::ptrdiff_t(st * pitch * G),
                           out_row = std::ptrdiff_t(ow * G);
      if (st == 1)
        forward_plane<1>(xs, in_row, ys, out_row, oh, ow, wg + g * kk * G, off.data(), s);
      else
        forward_plane<2>(xs, in_row, ys, out_row, oh, ow, wg + g * kk * G, off.data(), s);
      from_channel_last(ys, ohw, y + (n * s.c + c0) * ohw, ohw, nc, stage);
    }
  });
  return true;
}

/// The input gradient as st*st stride-1 problems: dx phase (ri,rj) (padded dx coordinate
/// st*m+ri, st*n+rj) is the correlation of dy with the taps (st*a+ri, st*b+rj), read at
/// dy[m-a][n-b]. dy sits in a channel-last scratch with an A-pixel zero border on top and left
/// (A = largest a) and `pitch` pixels per row, so every read is in bounds.
struct input_grad_plan {
  struct phase {
    std::size_t ri, rj;
    index_range m, n;  // dx phase rows / columns inside the image
    std::size_t tap0, ntaps;
  };
  std::size_t st, A, pitch = 0, rows = 0, m_max = 0, n_max = 0, nt = 0;
  bool ok = true;  // false: some phase width has no kernel (use the flat path)
  std::vector<phase> ph;
  std::vector<std::ptrdiff_t> off;
  std::vector<float> wg_v;
  const float* wg = nullptr;  // per group [tap][G], taps in phase order

  input_grad_plan(const float* w, const depthwise_shape& s)
      : st(s.stride), A((s.k - 1) / s.stride) {
    const std::size_t k = s.k, p = s.pad;
    constexpr std::size_t kAll = static_cast<std::size_t>(-1);
    for (std::size_t ri = 0; ri < st; ++ri)
      for (std::size_t rj = 0; rj < st; ++rj) {
        const phase f{ri, rj, inside(s.h, p, ri, st, kAll), inside(s.w, p, rj, st, kAll), 0, 0};
        if (f.m.hi == f.m.lo || f.n.hi == f.n.lo) continue;
        if (!width_ok(f.n.hi - f.n.lo)) ok = false;
        m_max = std::max(m_max, f.m.hi);
        n_max = std::max(n_max, f.n.hi);
        ph.push_back(f);
      }
    if (!ok) return;
    pitch = n_max + A;
    rows = m_max + A;
    std::vector<std::size_t> taps;
    for (phase& f : ph) {
      f.tap0 = taps.size();
      for (std::size_t a = 0; st * a + f.ri < k; ++a)
        for (std::size_t b = 0; st * b + f.rj < k; ++b) {
          taps.push_back((st * a + f.ri) * k + st * b + f.rj);
          off.push_back(-std::ptrdiff_t((a * pitch + b) * G));
        }
      f.ntaps = taps.size() - f.tap0;
    }
    nt = taps.size();  // == k*k unless some taps never touch dx
    wg_v = group_weights(w, s.c, k * k, taps);
    wg = align_vec(wg_v);
  }

  /// dx (channel-last, h x w pixels) of channel group g from the bordered dy in ds.
  void run(const float* ds, float* dxs, std::size_t g, const depthwise_shape& s) const {
    for (const phase& f : ph) {
      const float* in = ds + ((f.m.lo + A) * pitch + f.n.lo + A) * G;
      float* out = dxs + ((st * f.m.lo + f.ri - s.pad) * s.w + st * f.n.lo + f.rj - s.pad) * G;
      const std::ptrdiff_t in_row = std::ptrdiff_t(pitch * G);
      const std::ptrdiff_t out_row = std::ptrdiff_t(st * s.w * G);
      const float* wt = wg + (g * nt + f.tap0) * G;
      if (st == 1)
        conv_plane<1, 1>(in, in_row, out, out_row, f.m.hi - f.m.lo, f.n.hi - f.n.lo, wt,
                         off.data() + f.tap0, f.ntaps);
      else
        conv_plane<1, 2>(in, in_row, out, out_row, f.m.hi - f.m.lo, f.n.hi - f.n.lo, wt,
                         off.data() + f.tap0, f.ntaps);
    }
  }
};

inline bool backward_input(const float* dy, const float* w, float* dx, const depthwise_shape& s) {
  if (s.stride > 2) return false;
  const input_grad_plan plan(w, s);
  if (!plan.ok) return false;
  const std::size_t oh = s.out_h(), ow = s.out_w(), hw = s.h * s.w, ohw = oh * ow;
  const std::size_t ng = ceil_div(s.c, G), tasks = s.n * ng;
  const std::size_t dlen = plan.rows * plan.pitch * G;
  nat::parallel_for(0, tasks, plane_grain(tasks, hw * G), [&](std::size_t lo, std::size_t hi) {
    std::vector<float> scratch(dlen + 2 * hw * G + G, 0.f);
    float* ds = align_vec(scratch);
    float* xs = ds + dlen;
    float* stage = xs + hw * G;
    for (std::size_t task = lo; task < hi; ++task) {
      const std::size_t n = task / ng, g = task % ng, c0 = g * G;
      const std::size_t nc = std::min(G, s.c - c0);
      // dy pixels no dx pixel reads (pad >= k) fall outside the scratch and are skipped.
      to_channel_last(dy + (n * s.c + c0) * ohw, ohw, nc, oh, ow, ds, plan.rows, plan.pitch, plan.A,
                      plan.A);
      plan.run(ds, xs, g, s);
      from_channel_last(xs, hw, dx + (n * s.c + c0) * hw, hw, nc, stage);
    }
  });
  return true;
}

/// Weight gradient of tap rows [i0, i0+IR) of a K x K kernel, accumulated into acc (IR*K*G, one
/// G-channel vector per tap): one dy vector feeds IR*K FMAs. xs is the channel-last padded input
/// (pitch pixels per row), ds the channel-last dy (oh x ow).
template <int K, int IR>
void dw_rows(const float* xs, std::size_t pitch, const float* ds, std::size_t dpitch,
             std::size_t oh, std::size_t ow, std::size_t st, std::size_t i0, float* acc) {
  reg a[IR][K];
  for (int i = 0; i < IR; ++i)
    for (int j = 0; j < K; ++j) a[i][j] = vload(acc + (i * K + j) * G);
  for (std::size_t r = 0; r < oh; ++r)
    for (std::size_t c = 0; c < ow; ++c) {
      const reg dv = vload_aligned(ds + (r * dpitch + c) * G);
      const float* xb = xs + ((r * st + i0) * pitch + c * st) * G;
      for (int i = 0; i < IR; ++i)
        for (int j = 0; j < K; ++j) a[i][j] = vfma(dv, vload(xb + (i * pitch + j) * G), a[i][j]);
    }
  for (int i = 0; i < IR; ++i)
    for (int j = 0; j < K; ++j) vstore(acc + (i * K + j) * G, a[i][j]);
}

/// Tap rows [I0, K) of a K x K kernel, in groups of IR rows (IR*K <= kDwAcc accumulators stay in
/// registers; the last group takes what is left).
template <int K, int IR, int I0>
void dw_row_groups(const float* xs, std::size_t pitch, const float* ds, std::size_t dpitch,
                   std::size_t oh, std::size_t ow, std::size_t st, float* acc) {
  if constexpr (I0 < K) {
    constexpr int rows = std::min(IR, K - I0);
    dw_rows<K, rows>(xs, pitch, ds, dpitch, oh, ow, st, I0, acc + I0 * K * G);
    dw_row_groups<K, IR, I0 + rows>(xs, pitch, ds, dpitch, oh, ow, st, acc);
  }
}

/// All K*K taps, in row groups small enough for the vector registers: with AVX-512 all rows at
/// k <= 5 and 4 + 3 at k = 7; with AVX2 3 rows at k = 3, 2 + 2 + 1 at k = 5, one at a time at 7.
template <int K>
void dw_taps(const float* xs, std::size_t pitch, const float* ds, std::size_t dpitch,
             std::size_t oh, std::size_t ow, std::size_t st, float* acc) {
  constexpr int IR = std::max(1, std::min(K, kDwAcc / K));
  dw_row_groups<K, IR, 0>(xs, pitch, ds, dpitch, oh, ow, st, acc);
}

inline void dw_dispatch(std::size_t k, const float* xs, std::size_t pitch, const float* ds,
                        std::size_t dpitch, std::size_t oh, std::size_t ow, std::size_t st,
                        float* acc) {
  switch (k) {
    case 1:
      dw_taps<1>(xs, pitch, ds, dpitch, oh, ow, st, acc);
      break;
    case 3:
      dw_taps<3>(xs, pitch, ds, dpitch, oh, ow, st, acc);
      break;
    case 5:
      dw_taps<5>(xs, pitch, ds, dpitch, oh, ow, st, acc);
      break;
    default:
      dw_taps<7>(xs, pitch, ds, dpitch, oh, ow, st, acc);
      break;
  }
}

/// Adds the per-block partials (lanes are channels, so no horizontal sums) in block order.
inline void reduce_weight_partials(const float* partial, std::size_t nblocks, std::size_t ng,
                                   std::size_t c, std::size_t kk, float* dw) {
  for (std::size_t ch = 0; ch < c; ++ch)
    for (std::size_t t = 0; t < kk; ++t) {
      const std::size_t g = ch / G, l = ch % G;
      float sum = partial[(g * kk + t) * G + l];
      for (std::size_t b = 1; b < nblocks; ++b) sum += partial[((b * ng + g) * kk + t) * G + l];
      dw[ch * kk + t] = sum;
    }
}

/// Channel groups one weight-gradient task walks per image: on small maps a single group is only
/// 1 KiB per tensor, so neighbouring groups are taken along to keep the walk over memory
/// sequential. Each (block, group) partial still sums its images in order, whatever the split.
inline std::size_t groups_per_task(std::size_t hw) {
  return std::max<std::size_t>(1, 1024 / (G * hw));
}

inline bool backward_weight(const float* x, const float* dy, float* dw, const depthwise_shape& s) {
  const std::size_t k = s.k, kk = k * k, st = s.stride;
  if (k != 1 && k != 3 && k != 5 && k != 7) return false;
  const std::size_t oh = s.out_h(), ow = s.out_w(), hw = s.h * s.w, ohw = oh * ow;
  const std::size_t rows = (oh - 1) * st + k, pitch = (ow - 1) * st + k;
  const std::size_t ng = ceil_div(s.c, G), nblocks = ceil_div(s.n, kWeightBatchBlock);
  std::vector<float> partial_v(nblocks * ng * kk * G + G);
  float* const partial = align_vec(partial_v);
  const std::size_t gc = groups_per_task(hw), nchunks = ceil_div(ng, gc);
  nat::parallel_for(0, nblocks * nchunks, 1, [&](std::size_t lo, std::size_t hi) {
    std::vector<float> scratch(rows * pitch * G + ohw * G + G, 0.f);
    float* xs = align_vec(scratch);
    float* ds = xs + rows * pitch * G;
    for (std::size_t task = lo; task < hi; ++task) {
      const std::size_t blk = task / nchunks, g0 = (task % nchunks) * gc;
      const std::size_t g1 = std::min(ng, g0 + gc);
      const std::size_t n0 = blk * kWeightBatchBlock;
      const std::size_t n1 = std::min(s.n, n0 + kWeightBatchBlock);
      float* acc = partial + (blk * ng + g0) * kk * G;
      std::fill(acc, acc + (g1 - g0) * kk * G, 0.f);
      for (std::size_t n = n0; n < n1; ++n)
        for (std::size_t g = g0; g < g1; ++g) {
          const std::size_t c0 = g * G, nc = std::min(G, s.c - c0);
          to_channel_last(x + (n * s.c + c0) * hw, hw, nc, s.h, s.w, xs, rows, pitch, s.pad, s.pad);
          to_channel_last(dy + (n * s.c + c0) * ohw, ohw, nc, oh, ow, ds, oh, ow, 0, 0);
          dw_dispatch(k, xs, pitch, ds, ow, oh, ow, st, acc + (g - g0) * kk * G);
        }
    }
  });
  reduce_weight_partials(partial, nblocks, ng, s.c, kk, dw);
  return true;
}

/// Both gradients in one pass over (channel group, batch block): dy is transposed and read from
/// memory once instead of twice, which is a quarter of the backward's memory traffic.
inline bool backward(const float* x, const float* dy, const float* w, float* dx, float* dw,
                     const depthwise_shape& s) {
  const std::size_t k = s.k, kk = k * k, st = s.stride;
  if (st > 2 || (k != 1 && k != 3 && k != 5 && k != 7)) return false;
  const input_grad_plan plan(w, s);
  const std::size_t oh = s.out_h(), ow = s.out_w(), hw = s.h * s.w, ohw = oh * ow;
  // The input-gradient layout drops dy pixels that feed no dx pixel (pad >= k); dw needs them.
  if (!plan.ok || oh > plan.m_max || ow > plan.n_max) return false;
  const std::size_t rows = (oh - 1) * st + k, pitch = (ow - 1) * st + k;
  const std::size_t ng = ceil_div(s.c, G), nblocks = ceil_div(s.n, kWeightBatchBlock);
  const std::size_t dlen = plan.rows * plan.pitch * G, xlen = rows * pitch * G;
  std::vector<float> partial_v(nblocks * ng * kk * G + G);
  float* const partial = align_vec(partial_v);
  const std::size_t gc = groups_per_task(hw), nchunks = ceil_div(ng, gc);
  nat::parallel_for(0, nblocks * nchunks, 1, [&](std::size_t lo, std::size_t hi) {
    std::vector<float> scratch(dlen + xlen + 2 * hw * G + G, 0.f);
    float* ds = align_vec(scratch);
    float* xs = ds + dlen;
    float* dxs = xs + xlen;
    float* stage = dxs + hw * G;
    const float* dy_origin = ds + (plan.A * plan.pitch + plan.A) * G;
    for (std::size_t task = lo; task < hi; ++task) {
      const std::size_t blk = task / nchunks, g0 = (task % nchunks) * gc;
      const std::size_t g1 = std::min(ng, g0 + gc);
      const std::size_t n0 = blk * kWeightBatchBlock;
      const std::size_t n1 = std::min(s.n, n0 + kWeightBatchBlock);
      float* acc = partial + (blk * ng + g0) * kk * G;
      std::fill(acc, acc + (g1 - g0) * kk * G, 0.f);
      for (std::size_t n = n0; n < n1; ++n)
        for (std::size_t g = g0; g < g1; ++g) {
          const std::size_t c0 = g * G, nc = std::min(G, s.c - c0), q = n * s.c + c0;
          to_channel_last(dy + q * ohw, ohw, nc, oh, ow, ds, plan.rows, plan.pitch, plan.A, plan.A);
          plan.run(ds, dxs, g, s);
          from_channel_last(dxs, hw, dx + q * hw, hw, nc, stage);
          to_channel_last(x + q * hw, hw, nc, s.h, s.w, xs, rows, pitch, s.pad, s.pad);
          dw_dispatch(k, xs, pitch, dy_origin, plan.pitch, oh, ow, st, acc + (g - g0) * kk * G);
        }
    }
  });
  reduce_weight_partials(partial, nblocks, ng, s.c, kk, dw);
  return true;
}

}  // namespace cl
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

/// Flat path of depthwise_forward (any type, shape and ISA); see the file comment.
/// y[n,c,oh,ow] = sum_{i,j} x[n,c,oh*s-p+i, ow*s-p+j] * w[c,0,i,j] with zero padding. x is
/// [n,c,h,w], w is [c,1,k,k], y is [n,c,out_h,out_w], all contiguous; y is overwritten.
template <class T>
void flat_forward(const T* x, const T* w, T* y, const depthwise_shape& s) {
  const phase_layout L(s);
  const std::size_t planes = s.n * s.c, kk = s.k * s.k, ss = s.stride * s.stride;
  const std::size_t hw = s.h * s.w, ohw = L.oh * L.ow;
  nat::parallel_for(0, planes, plane_grain(planes, hw), [&](std::size_t lo, std::size_t hi) {
    // Scratch once per task; borders stay zero because only in-image samples are ever written.
    std::vector<T> scratch(ss * L.plane + round_up(L.len, kLanes) + kk, T(0));
    std::vector<const T*> base(kk);
    T* phases = scratch.data();
    T* out = phases + ss * L.plane;
    T* wt = out + round_up(L.len, kLanes);
    for (std::size_t i = 0; i < s.k; ++i)
      for (std::size_t j = 0; j < s.k; ++j)
        base[i * s.k + j] = phases + ((i % s.stride) * s.stride + j % s.stride) * L.plane +
                            (i / s.stride) * L.pitch + j / s.stride;
    for (std::size_t p = lo; p < hi; ++p) {
      fill_phases(x + p * hw, phases, L);
      copy_row(w + (p % s.c) * kk, kk, wt);
      tap_sum(out, base.data(), wt, kk, L.len);
      T* yp = y + p * ohw;
      for (std::size_t r = 0; r < L.oh; ++r) copy_row(out + r * L.pitch, L.ow, yp + r * L.ow);
    }
  });
}

/// Flat path of depthwise_backward_input.
/// dx[n,c,ih,iw] = sum over the outputs whose window covers (ih,iw) of dy * w; dx is overwritten.
/// dy is [n,c,out_h,out_w], w [c,1,k,k], dx [n,c,h,w].
template <class T>
void flat_backward_input(const T* dy, const T* w, T* dx, const depthwise_shape& s) {
  const std::size_t st = s.stride, k = s.k, p = s.pad, kk = k * k;
  const std::size_t oh = s.out_h(), ow = s.out_w(), hw = s.h * s.w, ohw = oh * ow;
  // dx seen through its padded coordinate u = ih + p = st*oh + i splits into st*st phases
  // u = st*m + ri; phase (ri,rj) is a stride-1 correlation of dy with the taps i = st*a + ri,
  // j = st*b + rj read at dy[m - a][n - b]. dy is stored once with a zero border of A rows and
  // columns on top/left (A = largest a) and pitch P, so every read is in bounds.
  const std::size_t A = (k - 1) / st;
  struct phase {
    index_range m, n;  // dx phase rows / columns inside the image
    std::size_t len;   // (m.hi - m.lo) * P
  };
  std::vector<phase> ph(st * st);
  std::size_t m_max = 0, n_max = 0;
  for (std::size_t ri = 0; ri < st; ++ri)
    for (std::size_t rj = 0; rj < st; ++rj) {
      phase& f = ph[ri * st + rj];
      f.m = inside(s.h, p, ri, st, static_cast<std::size_t>(-1));
      f.n = inside(s.w, p, rj, st, static_cast<std::size_t>(-1));
      if (f.m.hi > f.m.lo) m_max = std::max(m_max, f.m.hi);
      if (f.n.hi > f.n.lo) n_max = std::max(n_max, f.n.hi);
    }
  const std::size_t P = n_max + A;                  // columns 0 .. n_max-1+A are read
  const std::size_t dy_rows = std::min(oh, m_max);  // dy rows that reach some dx pixel
  const std::size_t dy_cols = std::min(ow, n_max);  // (pad >= k leaves some unused)
  std::size_t scratch_len = (m_max + A) * P, out_len = 0;
  for (phase& f : ph) {
    f.len = (f.m.hi - f.m.lo) * P;
    if (f.len == 0) continue;
    const std::size_t run = round_up(f.len, kLanes);
    out_len = std::max(out_len, run);
    scratch_len = std::max(scratch_len, (f.m.lo + A) * P + f.n.lo + A + run);
  }
  scratch_len += kLanes;
  nat::parallel_for(0, s.n * s.c, plane_grain(s.n * s.c, hw), [&](std::size_t lo, std::size_t hi) {
    std::vector<T> scratch(scratch_len + out_len + kk, T(0));
    std::vector<const T*> base(kk);
    T* dys = scratch.data();
    T* out = dys + scratch_len;
    T* wt = out + out_len;
    for (std::size_t q = lo; q < hi; ++q) {
      const T* dyp = dy + q * ohw;
      for (std::size_t r = 0; r < dy_rows; ++r)
        copy_row(dyp + r * ow, dy_cols, dys + (r + A) * P + A);
      const T* wc = w + (q % s.c) * kk;
      T* dxp = dx + q * hw;
      for (std::size_t ri = 0; ri < st; ++ri)
        for (std::size_t rj = 0; rj < st; ++rj) {
          const phase& f = ph[ri * st + rj];
          if (f.len == 0 || f.n.hi == f.n.lo) continue;
          std::size_t nt = 0;
          for (std::size_t a = 0; st * a + ri < k; ++a)
            for (std::size_t b = 0; st * b + rj < k; ++b) {
              wt[nt] = wc[(st * a + ri) * k + st * b + rj];
              base[nt++] = dys + (f.m.lo + A - a) * P + (f.n.lo + A - b);
            }
          tap_sum(out, base.data(), wt, nt, f.len);
          const std::size_t ncols = f.n.hi - f.n.lo;
          for (std::size_t mm = 0; mm < f.m.hi - f.m.lo; ++mm) {
            T* d = dxp + (st * (f.m.lo + mm) + ri - p) * s.w + (st * f.n.lo + rj - p);
            const T* src = out + mm * P;
            if (st == 1) {
              copy_row(src, ncols, d);
            } else {
              for (std::size_t nn = 0; nn < ncols; ++nn) d[nn * st] = src[nn];
            }
          }
        }
    }
  });
}

/// Flat path of depthwise_backward_weight.
/// dw[c,0,i,j] = sum_{n,oh,ow} x[n,c,oh*s-p+i, ow*s-p+j] * dy[n,c,oh,ow]; dw [c,1,k,k] is
/// overwritten. Bitwise identical for any thread count (fixed batch blocks, ordered reduction).
template <class T>
void flat_backward_weight(const T* x, const T* dy, T* dw, const depthwise_shape& s) {
  const phase_layout L(s);
  const std::size_t kk = s.k * s.k, ss = s.stride * s.stride, hw = s.h * s.w;
  const std::size_t ohw = L.oh * L.ow;
  const std::size_t nblocks = ceil_div(s.n, kWeightBatchBlock);
  if (nblocks == 0) {
    std::fill(dw, dw + s.c * kk, T(0));
    return;
  }
  std::vector<T> partial(nblocks * s.c * kk);
  const std::size_t tasks = s.c * nblocks;  // task = c * nblocks + block
  const std::size_t run = round_up(L.len, kLanes);
  const std::size_t grain = plane_grain(tasks, hw * kWeightBatchBlock);
  nat::parallel_for(0, tasks, grain, [&](std::size_t lo, std::size_t hi) {
    std::vector<T> scratch(ss * L.plane + run + L.plane + kk * kLanes, T(0));
    std::vector<const T*> base(kk);
    T* phases = scratch.data();
    T* dyf = phases + ss * L.plane;  // dy at the phase pitch; columns >= ow stay zero
    T* acc = dyf + L.plane;
    for (std::size_t i = 0; i < s.k; ++i)
      for (std::size_t j = 0; j < s.k; ++j)
        base[i * s.k + j] = phases + ((i % s.stride) * s.stride + j % s.stride) * L.plane +
                            (i / s.stride) * L.pitch + j / s.stride;
    for (std::size_t task = lo; task < hi; ++task) {
      const std::size_t c = task / nblocks, blk = task % nblocks;
      const std::size_t n0 = blk * kWeightBatchBlock;
      const std::size_t n1 = std::min(s.n, n0 + kWeightBatchBlock);
      std::fill(acc, acc + kk * kLanes, T(0));
      for (std::size_t n = n0; n < n1; ++n) {
        const std::size_t q = n * s.c + c;
        fill_phases(x + q * hw, phases, L);
        const T* dyp = dy + q * ohw;
        for (std::size_t r = 0; r < L.oh; ++r) copy_row(dyp + r * L.ow, L.ow, dyf + r * L.pitch);
        tap_dot(acc, dyf, base.data(), kk, L.len);
      }
      T* part = partial.data() + (blk * s.c + c) * kk;
      for (std::size_t t = 0; t < kk; ++t) {
        // Pairwise lane reduction: fixed order, a little more accurate than a running sum.
        T lane[kLanes];
        std::copy(acc + t * kLanes, acc + (t + 1) * kLanes, lane);
        for (std::size_t width = kLanes / 2; width > 0; width /= 2)
          for (std::size_t l = 0; l < width; ++l) lane[l] += lane[l + width];
        part[t] = lane[0];
      }
    }
  });
  for (std::size_t i = 0; i < s.c * kk; ++i) {
    T sum = partial[i];
    for (std::size_t b = 1; b < nblocks; ++b) sum += partial[b * s.c * kk + i];
    dw[i] = sum;
  }
}

}  // namespace detail

/// y[n,c,oh,ow] = sum_{i,j} x[n,c,oh*s-p+i, ow*s-p+j] * w[c,0,i,j] with zero padding. x is
/// [n,c,h,w], w is [c,1,k,k], y is [n,c,out_h,out_w], all contiguous; y is overwritten.
template <class T>
void depthwise_forward(const T* x, const T* w, T* y, const depthwise_shape& s) {
  s.validate("cpu::depthwise_forward");
#if NAT_DEPTHWISE_CL
  if constexpr (std::is_same_v<T, float>)
    if (s.n > 0 && detail::cl::forward(x, w, y, s)) return;
#endif
  detail::flat_forward(x, w, y, s);
}

/// dx[n,c,ih,iw] = sum over the outputs whose window covers (ih,iw) of dy * w; dx is overwritten.
/// dy is [n,c,out_h,out_w], w [c,1,k,k], dx [n,c,h,w].
template <class T>
void depthwise_backward_input(const T* dy, const T* w, T* dx, const depthwise_shape& s) {
  s.validate("cpu::depthwise_backward_input");
#if NAT_DEPTHWISE_CL
  if constexpr (std::is_same_v<T, float>)
    if (s.n > 0 && detail::cl::backward_input(dy, w, dx, s)) return;
#endif
  detail::flat_backward_input(dy, w, dx, s);
}

/// dw[c,0,i,j] = sum_{n,oh,ow} x[n,c,oh*s-p+i, ow*s-p+j] * dy[n,c,oh,ow]; dw [c,1,k,k] is
/// overwritten. Bitwise identical for any thread count (fixed batch blocks, ordered reduction).
template <class T>
void depthwise_backward_weight(const T* x, const T* dy, T* dw, const depthwise_shape& s) {
  s.validate("cpu::depthwise_backward_weight");
#if NAT_DEPTHWISE_CL
  if constexpr (std::is_same_v<T, float>)
    if (s.n > 0 && detail::cl::backward_weight(x, dy, dw, s)) return;
#endif
  detail::flat_backward_weight(x, dy, dw, s);
}

/// Both gradients of the depthwise convolution at once (dx and dw overwritten): the same results
/// as depthwise_backward_input followed by depthwise_backward_weight, but dy is read and
/// transposed once. This is what a training step should call.
template <class T>
void depthwise_backward(const T* x, const T* dy, const T* w, T* dx, T* dw,
                        const depthwise_shape& s) {
  s.validate("cpu::depthwise_backward");
#if NAT_DEPTHWISE_CL
  if constexpr (std::is_same_v<T, float>)
    if (s.n > 0 && detail::cl::backward(x, dy, w, dx, dw, s)) return;
#endif
  depthwise_backward_input(dy, w, dx, s);
  depthwise_backward_weight(x, dy, dw, s);
}

}  // namespace nat::ops::cpu
