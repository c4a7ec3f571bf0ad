#pragma once
// Depthwise convolution weight gradient (include/nat/ops/cuda/depthwise_conv.hpp).
// Deterministic two-phase reduction: block (c, split) walks a fixed slice of the N*Ho*Wo positions
// with a fixed thread assignment, keeps the k² partial sums in registers, reduces them over the
// block with a fixed tree and writes one partial per tap; a second kernel sums the partials of each
// tap in split order. No float atomics, so the result depends on the shape only, not on scheduling.
// Kernels only (no CUDA runtime API): the .cu file launches them, tests/gpu/emulator.hpp runs them
// on the CPU.
#include <nat/ops/cuda/detail/index.hpp>

#include "device_utils.cuh"

namespace nat::ops::cuda {
namespace {

constexpr int dw_weight_block_threads = 256;

template <int K, int S>
__global__ void depthwise_backward_weight_partial(const float* __restrict__ x,
                                                  const float* __restrict__ dy,
                                                  float* __restrict__ out, int channels, int h,
                                                  int wd, int ho, int wo, int pad, long long total,
                                                  long long split_size) {
  __shared__ float warp_partials[dw_weight_block_threads / 32][K * K];
  const int c = blockIdx.x;
  const long long begin = blockIdx.y * split_size;
  const long long end = begin + split_size < total ? begin + split_size : total;
  const long long plane_out = static_cast<long long>(ho) * wo;
  float acc[K * K];
  NAT_UNROLL
  for (int t = 0; t < K * K; ++t) acc[t] = 0.f;
  for (long long idx = begin + threadIdx.x; idx < end; idx += blockDim.x) {
    const long long n = idx / plane_out;
    const int r = static_cast<int>(idx % plane_out);
    const int oh = r / wo;
    const int ow = r % wo;
    const long long plane = n * channels + c;
    const float g = dy[plane * plane_out + r];
    const float* xp = x + plane * h * wd;
    NAT_UNROLL
    for (int kh = 0; kh < K; ++kh) {
      const int ih = oh * S - pad + kh;
      if (ih < 0 || ih >= h) continue;
      NAT_UNROLL
      for (int kw = 0; kw < K; ++kw) {
        const int iw = ow * S - pad + kw;
        if (iw >= 0 && iw < wd) acc[kh * K + kw] += g * xp[ih * wd + iw];
      }
    }
  }
  const int lane = threadIdx.x % 32;
  const int warp = threadIdx.x / 32;
  NAT_UNROLL
  for (int t = 0; t < K * K; ++t) {
    const float v = detail::warp_sum(acc[t]);
    if (lane == 0) warp_partials[warp][t] = v;
  }
  __syncthreads();
  for (int t = threadIdx.x; t < K * K; t += blockDim.x) {
    float sum = 0.f;
    for (int i = 0; i < dw_weight_block_threads / 32; ++i) sum += warp_partials[i][t];
    // Layout [split][C][K*K]; with a single split this is dw itself.
    out[(static_cast<long long>(blockIdx.y) * channels + c) * K * K + t] = sum;
  }
}

// dw[j] = Σ_{s = 0..splits-1} partials[s][j], in split order.
__global__ void sum_splits(const float* __restrict__ partials, float* __restrict__ dw, int count,
                           int splits) {
  for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < count; j += gridDim.x * blockDim.x) {
    float sum = 0.f;
    for (int s = 0; s < splits; ++s) sum += partials[static_cast<long long>(s) * count + j];
    dw[j] = sum;
  }
}

}  // namespace
}  // namespace nat::ops::cuda
