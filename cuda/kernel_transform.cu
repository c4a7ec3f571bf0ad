// OFA elastic-kernel crop + transform (include/nat/ops/cuda/kernel_transform.hpp, ofa_spec §2.1).
// The matrices are tiny (25x25, 9x9) and C is at most a few thousand, so one thread per output
// element with a fixed-order inner loop is both fast enough and deterministic.
#include <nat/ops/cuda/detail/index.hpp>
#include <nat/ops/cuda/kernel_transform.hpp>

#include "common.cuh"

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

status validate(int channels, int big, int small) {
  if (channels < 0) return detail::invalid("negative channel count");
  if (small < 1 || big <= small || small % 2 == 0 || big % 2 == 0)
    return detail::invalid("need odd kernel sizes with big > small");
  return status::ok;
}

}  // namespace

status kernel_transform_forward(int channels, int big, int small, const float* src, const float* m,
                                float* dst, void* stream) {
  if (status st = validate(channels, big, small); st != status::ok) return st;
  if (channels == 0) return status::ok;
  if (src == nullptr || dst == nullptr) return detail::invalid("null pointer");
  constexpr int block = 256;
  transform_forward<<<detail::grid_for(static_cast<long long>(channels) * small * small, block),
                      block, 0, detail::to_stream(stream)>>>(channels, big, small, src, m, dst);
  return detail::launch_status();
}

status kernel_transform_backward(int channels, int big, int small, const float* src, const float* m,
                                 const float* d_dst, float* d_src, float* d_m, void* stream) {
  if (status st = validate(channels, big, small); st != status::ok) return st;
  constexpr int block = 256;
  const cudaStream_t s = detail::to_stream(stream);
  if (d_m != nullptr && m != nullptr) {
    const int kk = small * small;
    if (channels == 0)
      return detail::from_cuda(cudaMemsetAsync(d_m, 0, sizeof(float) * kk * kk, s));
    if (src == nullptr || d_dst == nullptr) return detail::invalid("null pointer");
    transform_backward_matrix<<<detail::grid_for(static_cast<long long>(kk) * kk, block), block, 0,
                                s>>>(channels, big, small, src, d_dst, d_m);
    if (status st = detail::launch_status(); st != status::ok) return st;
  }
  if (d_src != nullptr && channels > 0) {
    if (d_dst == nullptr) return detail::invalid("null pointer");
    transform_backward_src<<<detail::grid_for(static_cast<long long>(channels) * big * big, block),
                             block, 0, s>>>(channels, big, small, m, d_dst, d_src);
    return detail::launch_status();
  }
  return status::ok;
}

}  // namespace nat::ops::cuda
