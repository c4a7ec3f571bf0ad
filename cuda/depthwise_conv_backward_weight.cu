// Depthwise convolution weight gradient (include/nat/ops/cuda/depthwise_conv.hpp).
// Deterministic two-phase reduction: block (c, split) walks a fixed slice of the N*Ho*Wo positions
// with a fixed thread assignment, keeps the k² partial sums in registers, reduces them over the
// block with a fixed tree and writes one partial per tap; a second kernel sums the partials of each
// tap in split order. No float atomics, so the result depends on the shape only, not on scheduling.
#include "depthwise_common.cuh"
#include "depthwise_conv_backward_weight.cuh"

namespace nat::ops::cuda {
namespace {

struct backward_weight_launcher {
  const depthwise_shape& s;
  const float* x;
  const float* dy;
  float* dw;
  float* workspace;
  cudaStream_t stream;

  template <int K, int S>
  status operator()() const {
    const long long total = static_cast<long long>(s.n) * s.out_h() * s.out_w();
    const long long splits = detail::dw_weight_grad_splits(total);
    const long long split_size = detail::dw_weight_grad_split_size(total, splits);
    float* out = splits == 1 ? dw : workspace;
    const dim3 grid(s.c, static_cast<unsigned>(splits));
    depthwise_backward_weight_partial<K, S><<<grid, dw_weight_block_threads, 0, stream>>>(
        x, dy, out, s.c, s.h, s.w, s.out_h(), s.out_w(), s.padding, total, split_size);
    if (status st = detail::launch_status(); st != status::ok || splits == 1) return st;
    const int count = s.c * K * K;
    sum_splits<<<detail::grid_for(count, 256), 256, 0, stream>>>(workspace, dw, count,
                                                                 static_cast<int>(splits));
    return detail::launch_status();
  }
};

}  // namespace

std::size_t depthwise_conv2d_backward_weight_workspace(const depthwise_shape& s) {
  if (detail::validate(s) != status::ok || detail::empty(s)) return 0;
  const long long splits =
      detail::dw_weight_grad_splits(static_cast<long long>(s.n) * s.out_h() * s.out_w());
  if (splits == 1) return 0;
  return static_cast<std::size_t>(splits) * s.c * s.kernel * s.kernel * sizeof(float);
}

status depthwise_conv2d_backward_weight(const depthwise_shape& s, const float* x, const float* dy,
                                        float* dw, void* workspace, void* stream) {
  if (status st = detail::validate(s); st != status::ok) return st;
  if (x == nullptr || dy == nullptr || dw == nullptr) {
    if (!detail::empty(s)) return detail::invalid("null pointer");
  }
  if (detail::empty(s)) {
    // No positions: the gradient is zero (the weights still exist when only N or H*W is 0).
    if (s.c == 0 || dw == nullptr) return status::ok;
    return detail::from_cuda(cudaMemsetAsync(dw, 0, sizeof(float) * s.c * s.kernel * s.kernel,
                                             detail::to_stream(stream)));
  }
  if (workspace == nullptr && depthwise_conv2d_backward_weight_workspace(s) > 0)
    return detail::invalid("workspace is null but the shape needs one");
  return detail::dispatch_kernel_stride(
      s.kernel, s.stride,
      backward_weight_launcher{s, x, dy, dw, static_cast<float*>(workspace),
                               detail::to_stream(stream)});
}

}  // namespace nat::ops::cuda
