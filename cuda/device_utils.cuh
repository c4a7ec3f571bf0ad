#pragma once
// Device helpers shared by the kernels. Kept free of the CUDA runtime API so that the kernel
// headers
// (*_kernels.cuh) can also be compiled by the host compiler under tests/gpu/emulator.hpp, which
// runs them on the CPU (one fiber per CUDA thread) on machines without a GPU.

// `#pragma unroll` for nvcc; nothing for a host compiler (which would warn about the unknown
// pragma).
#if defined(__CUDACC__)
#define NAT_UNROLL _Pragma("unroll")
#else
#define NAT_UNROLL
#endif

namespace nat::ops::cuda::detail {

/// Sum over a warp with a fixed shuffle tree (same order every run).
__device__ inline float warp_sum(float v) {
  for (int off = 16; off > 0; off /= 2) v += __shfl_down_sync(0xffffffffu, v, off);
  return v;
}

/// Sum over the block (blockDim.x a multiple of 32, at most 1024); the result is valid in thread 0.
/// `scratch` holds 32 floats. Fixed order: warp trees, then warp totals in warp order.
__device__ inline float block_sum(float v, float* scratch) {
  const int lane = threadIdx.x % 32;
  const int warp = threadIdx.x / 32;
  v = warp_sum(v);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float total = 0.f;
  if (threadIdx.x == 0) {
    const int warps = blockDim.x / 32;
    for (int i = 0; i < warps; ++i) total += scratch[i];
  }
  return total;
}

}  // namespace nat::ops::cuda::detail
