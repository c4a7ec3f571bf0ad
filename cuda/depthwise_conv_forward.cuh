#pragma once
// Depthwise convolution forward, shared-memory tiled (include/nat/ops/cuda/depthwise_conv.hpp).
// One block computes a T x T output tile of one (n, c) plane: it stages the input window
// (halo and zero padding included) and the k x k filter in shared memory once, so each input value
// is read from global memory once per tile instead of k² times.
// Kernels only (no CUDA runtime API): the .cu file launches them, tests/gpu/emulator.hpp runs them
// on the CPU.
#include <nat/ops/cuda/detail/index.hpp>

#include "device_utils.cuh"

namespace nat::ops::cuda {
namespace {

/// Output tile edge: 8 for maps of at most 8x8 (MBv3's 7x7 stage would leave 207 of 256 threads
/// idle with 16x16 tiles), 16 otherwise. Shared by the launcher and the emulated tests.
constexpr int forward_tile(int ho, int wo) { return ho <= 8 && wo <= 8 ? 8 : 16; }

template <int K, int S, int T>
__global__ void depthwise_forward_tiled(const float* __restrict__ x, const float* __restrict__ w,
                                        float* __restrict__ y, int planes, int channels, int h,
                                        int wd, int ho, int wo, int pad) {
  constexpr int in_h = detail::tile_input_extent(T, K, S);
  constexpr int in_w = detail::tile_input_extent(T, K, S);
  __shared__ float tile[in_h][in_w + 1];  // +1: stride-2 reads avoid some bank conflicts
  __shared__ float filt[K * K];
  const int tid = threadIdx.y * T + threadIdx.x;
  const int oh0 = blockIdx.y * T;
  const int ow0 = blockIdx.x * T;
  const int ih0 = oh0 * S - pad;
  const int iw0 = ow0 * S - pad;
  for (int plane = blockIdx.z; plane < planes; plane += gridDim.z) {
    const int c = plane % channels;
    const float* xp = x + static_cast<long long>(plane) * h * wd;
    __syncthreads();  // the previous plane's tile is no longer read
    for (int i = tid; i < in_h * in_w; i += T * T) {
      const int r = i / in_w;
      const int q = i % in_w;
      const int ih = ih0 + r;
      const int iw = iw0 + q;
      tile[r][q] = (ih >= 0 && ih < h && iw >= 0 && iw < wd) ? xp[ih * wd + iw] : 0.f;
    }
    for (int i = tid; i < K * K; i += T * T) filt[i] = w[c * K * K + i];
    __syncthreads();
    const int oh = oh0 + threadIdx.y;
    const int ow = ow0 + threadIdx.x;
    if (oh < ho && ow < wo) {
      float acc = 0.f;
      NAT_UNROLL
      for (int kh = 0; kh < K; ++kh) {
        NAT_UNROLL
        for (int kw = 0; kw < K; ++kw) {
          acc += tile[threadIdx.y * S + kh][threadIdx.x * S + kw] * filt[kh * K + kw];
        }
      }
      y[static_cast<long long>(plane) * ho * wo + oh * wo + ow] = acc;
    }
  }
}

}  // namespace
}  // namespace nat::ops::cuda
