#pragma once
// Depthwise convolution input gradient (include/nat/ops/cuda/depthwise_conv.hpp). Gather form: one
// thread per input element sums the k² taps that read it, so every dx is written exactly once —
// deterministic and free of atomics (a scatter from dy would need them).
// Kernels only (no CUDA runtime API): the .cu file launches them, tests/gpu/emulator.hpp runs them
// on the CPU.
#include <nat/ops/cuda/detail/index.hpp>

#include "device_utils.cuh"

namespace nat::ops::cuda {
namespace {

template <int K, int S>
__global__ void depthwise_backward_input(const float* __restrict__ dy, const float* __restrict__ w,
                                         float* __restrict__ dx, long long total, int channels,
                                         int h, int wd, int ho, int wo, int pad) {
  for (long long idx = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; idx < total;
       idx += static_cast<long long>(gridDim.x) * blockDim.x) {
    const int iw = static_cast<int>(idx % wd);
    const int ih = static_cast<int>((idx / wd) % h);
    const long long plane = idx / (static_cast<long long>(h) * wd);
    const int c = static_cast<int>(plane % channels);
    const float* dyp = dy + plane * ho * wo;
    const float* wp = w + c * K * K;
    float acc = 0.f;
    NAT_UNROLL
    for (int kh = 0; kh < K; ++kh) {
      const int oh = detail::output_for_tap(ih, kh, S, pad, ho);
      if (oh < 0) continue;
      NAT_UNROLL
      for (int kw = 0; kw < K; ++kw) {
        const int ow = detail::output_for_tap(iw, kw, S, pad, wo);
        if (ow >= 0) acc += dyp[oh * wo + ow] * wp[kh * K + kw];
      }
    }
    dx[idx] = acc;
  }
}

}  // namespace
}  // namespace nat::ops::cuda
