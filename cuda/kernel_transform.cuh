#pragma once
// OFA elastic-kernel crop + transform (include/nat/ops/cuda/kernel_transform.hpp, ofa_spec §2.1).
// The matrices are tiny (25x25, 9x9) and C is at most a few thousand, so one thread per output
// element with a fixed-order inner loop is both fast enough and deterministic.
// Kernels only (no CUDA runtime API): the .cu file launches them, tests/gpu/emulator.hpp runs them
// on the CPU.
#include <nat/ops/cuda/detail/index.hpp>

#include "device_utils.cuh"

namespace nat::ops::cuda {
namespace {

// dst[c, j] = Σ_i m[j, i] · src[c, crop(i)]  (or the crop alone when m is null).
__global__ void transform_forward(int channels, int big, int small, const float* __restrict__ src,
                                  const float* __restrict__ m, float* __restrict__ dst) {
  const int kk = small * small;
  const int bb = big * big;
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < channels * kk;
       idx += gridDim.x * blockDim.x) {
    const int c = idx / kk;
    const int j = idx % kk;
    const float* s = src + static_cast<long long>(c) * bb;
    float v;
    if (m == nullptr) {
      v = s[detail::crop_source_index(j, big, small)];
    } else {
      v = 0.f;
      for (int i = 0; i < kk; ++i) v += m[j * kk + i] * s[detail::crop_source_index(i, big, small)];
    }
    dst[idx] = v;
  }
}

// d_src[c, t] = Σ_j d_dst[c, j] · m[j, i(t)] in the centre (i(t) = crop index), 0 outside.
__global__ void transform_backward_src(int channels, int big, int small,
                                       const float* __restrict__ m, const float* __restrict__ d_dst,
                                       float* __restrict__ d_src) {
  const int kk = small * small;
  const int bb = big * big;
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < channels * bb;
       idx += gridDim.x * blockDim.x) {
    const int c = idx / bb;
    const int i = detail::crop_dest_index(idx % bb, big, small);
    float v = 0.f;
    if (i >= 0) {
      const float* g = d_dst + static_cast<long long>(c) * kk;
      if (m == nullptr) {
        v = g[i];
      } else {
        for (int j = 0; j < kk; ++j) v += g[j] * m[j * kk + i];
      }
    }
    d_src[idx] = v;
  }
}

// d_m[j, i] = Σ_c d_dst[c, j] · src[c, crop(i)], summed over c in order.
__global__ void transform_backward_matrix(int channels, int big, int small,
                                          const float* __restrict__ src,
                                          const float* __restrict__ d_dst,
                                          float* __restrict__ d_m) {
  const int kk = small * small;
  const int bb = big * big;
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < kk * kk;
       idx += gridDim.x * blockDim.x) {
    const int j = idx / kk;
    const int si = detail::crop_source_index(idx % kk, big, small);
    float v = 0.f;
    for (int c = 0; c < channels; ++c)
      v += d_dst[static_cast<long long>(c) * kk + j] * src[static_cast<long long>(c) * bb + si];
    d_m[idx] = v;
  }
}

}  // namespace
}  // namespace nat::ops::cuda
