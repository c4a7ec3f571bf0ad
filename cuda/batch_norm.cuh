#pragma once
// Batch norm over a channel prefix (include/nat/ops/cuda/batch_norm.hpp, ofa_spec §2.3).
// One block per channel: two passes (mean, then Σ(x-mean)²) for accuracy, each reduced with the
// fixed block_sum tree, so statistics are bitwise reproducible.
// Kernels only (no CUDA runtime API): the .cu file launches them, tests/gpu/emulator.hpp runs them
// on the CPU.
#include <nat/ops/cuda/detail/index.hpp>

#include "device_utils.cuh"

namespace nat::ops::cuda {
namespace {

constexpr int bn_block_threads = 256;

// Element `idx` of channel c's N*HW positions (n-major).
__device__ inline long long offset(long long idx, int c, int channels, int hw) {
  const long long n = idx / hw;
  return (n * channels + c) * hw + idx % hw;
}

__global__ void bn_forward_train(const float* __restrict__ x, const float* __restrict__ gamma,
                                 const float* __restrict__ beta, float* running_mean,
                                 float* running_var, float momentum, float eps,
                                 float* __restrict__ y, float* save_mean, float* save_invstd,
                                 int channels, int hw, long long m) {
  __shared__ float scratch[32];
  __shared__ float stat[2];
  const int c = blockIdx.x;
  float s = 0.f;
  for (long long i = threadIdx.x; i < m; i += blockDim.x) s += x[offset(i, c, channels, hw)];
  s = detail::block_sum(s, scratch);
  if (threadIdx.x == 0) stat[0] = s / static_cast<float>(m);
  __syncthreads();
  const float mean = stat[0];
  float q = 0.f;
  for (long long i = threadIdx.x; i < m; i += blockDim.x) {
    const float d = x[offset(i, c, channels, hw)] - mean;
    q += d * d;
  }
  q = detail::block_sum(q, scratch);
  if (threadIdx.x == 0) {
    const float var = q / static_cast<float>(m);  // biased: what normalisation uses
    stat[1] = rsqrtf(var + eps);
    if (save_mean != nullptr) save_mean[c] = mean;
    if (save_invstd != nullptr) save_invstd[c] = stat[1];
    if (running_mean != nullptr && running_var != nullptr) {
      const float unbiased = m > 1 ? var * static_cast<float>(m) / static_cast<float>(m - 1) : var;
      running_mean[c] = (1.f - momentum) * running_mean[c] + momentum * mean;
      running_var[c] = (1.f - momentum) * running_var[c] + momentum * unbiased;
    }
  }
  __syncthreads();
  const float scale = stat[1] * gamma[c];
  const float shift = beta[c] - mean * scale;
  for (long long i = threadIdx.x; i < m; i += blockDim.x) {
    const long long o = offset(i, c, channels, hw);
    y[o] = x[o] * scale + shift;
  }
}

__global__ void bn_forward_eval(const float* __restrict__ x, const float* __restrict__ gamma,
                                const float* __restrict__ beta, const float* __restrict__ rmean,
                                const float* __restrict__ rvar, float eps, float* __restrict__ y,
                                int channels, int hw, long long total) {
  for (long long idx = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; idx < total;
       idx += static_cast<long long>(gridDim.x) * blockDim.x) {
    const int c = static_cast<int>((idx / hw) % channels);
    const float scale = gamma[c] * rsqrtf(rvar[c] + eps);
    y[idx] = (x[idx] - rmean[c]) * scale + beta[c];
  }
}

__global__ void bn_backward(const float* __restrict__ x, const float* __restrict__ dy,
                            const float* __restrict__ gamma, const float* __restrict__ save_mean,
                            const float* __restrict__ save_invstd, float* __restrict__ dx,
                            float* __restrict__ dgamma, float* __restrict__ dbeta, int channels,
                            int hw, long long m) {
  __shared__ float scratch[32];
  __shared__ float sums[2];
  const int c = blockIdx.x;
  const float mean = save_mean[c];
  const float invstd = save_invstd[c];
  float sdy = 0.f;
  float sdyx = 0.f;
  for (long long i = threadIdx.x; i < m; i += blockDim.x) {
    const long long o = offset(i, c, channels, hw);
    sdy += dy[o];
    sdyx += dy[o] * (x[o] - mean) * invstd;
  }
  sdy = detail::block_sum(sdy, scratch);
  if (threadIdx.x == 0) sums[0] = sdy;
  sdyx = detail::block_sum(sdyx, scratch);
  if (threadIdx.x == 0) {
    sums[1] = sdyx;
    if (dbeta != nullptr) dbeta[c] = sums[0];
    if (dgamma != nullptr) dgamma[c] = sdyx;
  }
  __syncthreads();
  const float inv_m = 1.f / static_cast<float>(m);
  const float k = gamma[c] * invstd;
  const float mean_dy = sums[0] * inv_m;
  const float mean_dyx = sums[1] * inv_m;
  for (long long i = threadIdx.x; i < m; i += blockDim.x) {
    const long long o = offset(i, c, channels, hw);
    const float xhat = (x[o] - mean) * invstd;
    dx[o] = k * (dy[o] - mean_dy - xhat * mean_dyx);
  }
}

}  // namespace
}  // namespace nat::ops::cuda
