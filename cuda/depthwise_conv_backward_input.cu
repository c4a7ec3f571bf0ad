// Depthwise convolution input gradient (include/nat/ops/cuda/depthwise_conv.hpp). Gather form: one
// thread per input element sums the k² taps that read it, so every dx is written exactly once —
// deterministic and free of atomics (a scatter from dy would need them).
#include "depthwise_common.cuh"
#include "depthwise_conv_backward_input.cuh"

namespace nat::ops::cuda {
namespace {

struct backward_input_launcher {
  const depthwise_shape& s;
  const float* dy;
  const float* w;
  float* dx;
  cudaStream_t stream;

  template <int K, int S>
  status operator()() const {
    constexpr int block = 256;
    const long long total = static_cast<long long>(s.n) * s.c * s.h * s.w;
    depthwise_backward_input<K, S><<<detail::grid_for(total, block), block, 0, stream>>>(
        dy, w, dx, total, s.c, s.h, s.w, s.out_h(), s.out_w(), s.padding);
    return detail::launch_status();
  }
};

}  // namespace

status depthwise_conv2d_backward_input(const depthwise_shape& s, const float* dy, const float* w,
                                       float* dx, void* stream) {
  if (status st = detail::validate(s); st != status::ok) return st;
  if (detail::empty(s)) return status::ok;
  if (dy == nullptr || w == nullptr || dx == nullptr) return detail::invalid("null pointer");
  return detail::dispatch_kernel_stride(
      s.kernel, s.stride, backward_input_launcher{s, dy, w, dx, detail::to_stream(stream)});
}

}  // namespace nat::ops::cuda
