// OFA elastic-kernel crop + transform (include/nat/ops/cuda/kernel_transform.hpp, ofa_spec §2.1).
// The matrices are tiny (25x25, 9x9) and C is at most a few thousand, so one thread per output
// element with a fixed-order inner loop is both fast enough and deterministic.
#include <nat/ops/cuda/detail/index.hpp>
#include <nat/ops/cuda/kernel_transform.hpp>

#include "common.cuh"
#include "kernel_transform.cuh"

namespace nat::ops::cuda {
namespace {

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
