#pragma once
/// \file Inline copy of one short row of floats, for the packing and padding copies of the CPU
/// convolution kernels. Their rows are 1..196 floats (a supernet's 1x1..14x14 maps), where a
/// call to libc's memmove per row costs as much as the copy itself: std::copy of a trivially
/// copyable type becomes exactly that call, which was 11 % of a supernet training step on an
/// AVX-512 CPU and 17 % on an AVX2-only one (docs/performance/elastic.md,
/// docs/performance/ops.md). The loops below stay inline and need no call.

#include <algorithm>
#include <cstddef>

#if defined(__AVX512F__) || defined(__AVX__)
#include <immintrin.h>
#endif

namespace nat::ops::cpu::detail {

/// dst[0, len) = src[0, len); the ranges must not overlap.
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
#elif defined(__AVX__)
// No masked moves here (AVX has them only as vmaskmovps, whose store form is microcoded on AMD):
// the last, partial vector is instead a full one ending at len, overlapping the one before (the
// ranges do not overlap, so those lanes are written twice with the same values), as glibc's
// memmove does; below 8 floats the same with 4-float moves.
inline void copy_row(const float* src, std::size_t len, float* dst) {
  if (len >= 8) {
    std::size_t q = 0;
    for (; q + 8 <= len; q += 8) _mm256_storeu_ps(dst + q, _mm256_loadu_ps(src + q));
    if (q < len) _mm256_storeu_ps(dst + len - 8, _mm256_loadu_ps(src + len - 8));
  } else if (len >= 4) {
    _mm_storeu_ps(dst, _mm_loadu_ps(src));
    _mm_storeu_ps(dst + len - 4, _mm_loadu_ps(src + len - 4));
  } else {
    for (std::size_t q = 0; q < len; ++q) dst[q] = src[q];
  }
}
#endif

}  // namespace nat::ops::cpu::detail
