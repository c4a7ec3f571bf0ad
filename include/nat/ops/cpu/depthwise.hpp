#pragma once
/// \file Optimised CPU depthwise 2-D convolution kernels (forward, input gradient, weight gradient)
/// on raw NCHW pointers, for the elastic depthwise layer of the Once-for-All supernet (OFA spec
/// §2.1, §2.8). The differentiable front end (nat::ops::depthwise_conv2d) calls these; the naive
/// oracle they are tested against is nat/ops/reference/depthwise.hpp.
///
/// Method. The feature maps of a MobileNetV3 supernet are tiny (4x4 .. 16x16), so vectorising
/// across one output row wastes most of a 16-lane register and row-boundary checks dominate. Every
/// (image, channel) plane is therefore first copied into a zero-bordered scratch plane laid out
/// with a row pitch P, and the convolution becomes a 1-D sum of shifted copies over the flattened
/// plane, out[o] = sum_t w_t * base_t[o] for o = oh*P + ow, with no bounds checks at all; the few
/// columns ow >= out_w computed on the way are discarded. A stride s is turned into s*s stride-1
/// problems by splitting the padded plane into its s*s phases (even/odd rows x even/odd columns
/// for s = 2), so no lane is spent on skipped pixels. The input gradient is the same machinery on
/// dy with the kernel flipped, one phase of dx at a time; the weight gradient is the matching
/// dot product g_t = sum_o dy[o] * base_t[o], accumulated per lane and reduced once per block.
///
/// Threads and determinism. Forward and input gradient split the n*c planes over
/// nat::parallel_for; every plane is computed by one thread in a fixed order, so results do not
/// depend on the thread count. The weight gradient sums over the batch in fixed blocks of
/// kWeightBatchBlock images per (channel, block) task into a partial buffer, and the partials are
/// added in block order afterwards: bitwise identical for any thread count.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

#include "nat/core/parallel.hpp"
#include "nat/ops/reference/depthwise.hpp"

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
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
          std::memcpy(d, src, nb * sizeof(T));
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

inline void tap_dot(float* acc, const float* d, const float* const* base, std::size_t ntaps,
                    std::size_t len) {
  const std::size_t n = round_up(len, kLanes);
  std::size_t t = 0;
  for (; t + 8 <= ntaps; t += 8) tap_dot_group<8>(acc + t * 16, d, base + t, n);
  switch (ntaps - t) {
    case 7:
      tap_dot_group<7>(acc + t * 16, d, base + t, n);
      break;
    case 6:
      tap_dot_group<6>(acc + t * 16, d, base + t, n);
      break;
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

}  // namespace detail

/// y[n,c,oh,ow] = sum_{i,j} x[n,c,oh*s-p+i, ow*s-p+j] * w[c,0,i,j] with zero padding. x is
/// [n,c,h,w], w is [c,1,k,k], y is [n,c,out_h,out_w], all contiguous; y is overwritten.
template <class T>
void depthwise_forward(const T* x, const T* w, T* y, const depthwise_shape& s) {
  s.validate("cpu::depthwise_forward");
  const detail::phase_layout L(s);
  const std::size_t planes = s.n * s.c, kk = s.k * s.k, ss = s.stride * s.stride;
  const std::size_t hw = s.h * s.w, ohw = L.oh * L.ow;
  nat::parallel_for(
      0, planes, detail::plane_grain(planes, hw), [&](std::size_t lo, std::size_t hi) {
        // Scratch once per task; borders stay zero because only in-image samples are ever written.
        std::vector<T> scratch(ss * L.plane + detail::round_up(L.len, detail::kLanes) + kk, T(0));
        std::vector<const T*> base(kk);
        T* phases = scratch.data();
        T* out = phases + ss * L.plane;
        T* wt = out + detail::round_up(L.len, detail::kLanes);
        for (std::size_t i = 0; i < s.k; ++i)
          for (std::size_t j = 0; j < s.k; ++j)
            base[i * s.k + j] = phases + ((i % s.stride) * s.stride + j % s.stride) * L.plane +
                                (i / s.stride) * L.pitch + j / s.stride;
        for (std::size_t p = lo; p < hi; ++p) {
          detail::fill_phases(x + p * hw, phases, L);
          std::copy(w + (p % s.c) * kk, w + (p % s.c + 1) * kk, wt);
          detail::tap_sum(out, base.data(), wt, kk, L.len);
          T* yp = y + p * ohw;
          for (std::size_t r = 0; r < L.oh; ++r)
            std::copy(out + r * L.pitch, out + r * L.pitch + L.ow, yp + r * L.ow);
        }
      });
}

/// dx[n,c,ih,iw] = sum over the outputs whose window covers (ih,iw) of dy * w; dx is overwritten.
/// dy is [n,c,out_h,out_w], w [c,1,k,k], dx [n,c,h,w].
template <class T>
void depthwise_backward_input(const T* dy, const T* w, T* dx, const depthwise_shape& s) {
  s.validate("cpu::depthwise_backward_input");
  const std::size_t st = s.stride, k = s.k, p = s.pad, kk = k * k;
  const std::size_t oh = s.out_h(), ow = s.out_w(), hw = s.h * s.w, ohw = oh * ow;
  // dx seen through its padded coordinate u = ih + p = st*oh + i splits into st*st phases
  // u = st*m + ri; phase (ri,rj) is a stride-1 correlation of dy with the taps i = st*a + ri,
  // j = st*b + rj read at dy[m - a][n - b]. dy is stored once with a zero border of A rows and
  // columns on top/left (A = largest a) and pitch P, so every read is in bounds.
  const std::size_t A = (k - 1) / st;
  struct phase {
    detail::index_range m, n;  // dx phase rows / columns inside the image
    std::size_t len;           // (m.hi - m.lo) * P
  };
  std::vector<phase> ph(st * st);
  std::size_t m_max = 0, n_max = 0;
  for (std::size_t ri = 0; ri < st; ++ri)
    for (std::size_t rj = 0; rj < st; ++rj) {
      phase& f = ph[ri * st + rj];
      f.m = detail::inside(s.h, p, ri, st, static_cast<std::size_t>(-1));
      f.n = detail::inside(s.w, p, rj, st, static_cast<std::size_t>(-1));
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
    const std::size_t run = detail::round_up(f.len, detail::kLanes);
    out_len = std::max(out_len, run);
    scratch_len = std::max(scratch_len, (f.m.lo + A) * P + f.n.lo + A + run);
  }
  scratch_len += detail::kLanes;
  nat::parallel_for(
      0, s.n * s.c, detail::plane_grain(s.n * s.c, hw), [&](std::size_t lo, std::size_t hi) {
        std::vector<T> scratch(scratch_len + out_len + kk, T(0));
        std::vector<const T*> base(kk);
        T* dys = scratch.data();
        T* out = dys + scratch_len;
        T* wt = out + out_len;
        for (std::size_t q = lo; q < hi; ++q) {
          const T* dyp = dy + q * ohw;
          for (std::size_t r = 0; r < dy_rows; ++r)
            std::copy(dyp + r * ow, dyp + r * ow + dy_cols, dys + (r + A) * P + A);
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
              detail::tap_sum(out, base.data(), wt, nt, f.len);
              const std::size_t ncols = f.n.hi - f.n.lo;
              for (std::size_t mm = 0; mm < f.m.hi - f.m.lo; ++mm) {
                T* d = dxp + (st * (f.m.lo + mm) + ri - p) * s.w + (st * f.n.lo + rj - p);
                const T* src = out + mm * P;
                if (st == 1) {
                  std::copy(src, src + ncols, d);
                } else {
                  for (std::size_t nn = 0; nn < ncols; ++nn) d[nn * st] = src[nn];
                }
              }
            }
        }
      });
}

/// dw[c,0,i,j] = sum_{n,oh,ow} x[n,c,oh*s-p+i, ow*s-p+j] * dy[n,c,oh,ow]; dw [c,1,k,k] is
/// overwritten. Bitwise identical for any thread count (fixed batch blocks, ordered reduction).
template <class T>
void depthwise_backward_weight(const T* x, const T* dy, T* dw, const depthwise_shape& s) {
  s.validate("cpu::depthwise_backward_weight");
  const detail::phase_layout L(s);
  const std::size_t kk = s.k * s.k, ss = s.stride * s.stride, hw = s.h * s.w;
  const std::size_t ohw = L.oh * L.ow;
  const std::size_t nblocks = detail::ceil_div(s.n, detail::kWeightBatchBlock);
  if (nblocks == 0) {
    std::fill(dw, dw + s.c * kk, T(0));
    return;
  }
  std::vector<T> partial(nblocks * s.c * kk);
  const std::size_t tasks = s.c * nblocks;  // task = c * nblocks + block
  const std::size_t run = detail::round_up(L.len, detail::kLanes);
  const std::size_t grain = detail::plane_grain(tasks, hw * detail::kWeightBatchBlock);
  nat::parallel_for(0, tasks, grain, [&](std::size_t lo, std::size_t hi) {
    std::vector<T> scratch(ss * L.plane + run + L.plane + kk * detail::kLanes, T(0));
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
      const std::size_t n0 = blk * detail::kWeightBatchBlock;
      const std::size_t n1 = std::min(s.n, n0 + detail::kWeightBatchBlock);
      std::fill(acc, acc + kk * detail::kLanes, T(0));
      for (std::size_t n = n0; n < n1; ++n) {
        const std::size_t q = n * s.c + c;
        detail::fill_phases(x + q * hw, phases, L);
        const T* dyp = dy + q * ohw;
        for (std::size_t r = 0; r < L.oh; ++r)
          std::copy(dyp + r * L.ow, dyp + (r + 1) * L.ow, dyf + r * L.pitch);
        detail::tap_dot(acc, dyf, base.data(), kk, L.len);
      }
      T* part = partial.data() + (blk * s.c + c) * kk;
      for (std::size_t t = 0; t < kk; ++t) {
        // Pairwise lane reduction: fixed order, a little more accurate than a running sum.
        T lane[detail::kLanes];
        std::copy(acc + t * detail::kLanes, acc + (t + 1) * detail::kLanes, lane);
        for (std::size_t width = detail::kLanes / 2; width > 0; width /= 2)
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

}  // namespace nat::ops::cpu
