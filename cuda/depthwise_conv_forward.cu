// Depthwise convolution forward, shared-memory tiled (include/nat/ops/cuda/depthwise_conv.hpp).
// One block computes a T x T output tile of one (n, c) plane: it stages the input window
// (halo and zero padding included) and the k x k filter in shared memory once, so each input value
// is read from global memory once per tile instead of k² times.
#include "depthwise_common.cuh"
#include "depthwise_conv_forward.cuh"

namespace nat::ops::cuda {
namespace {

// Launches the instantiation for one (kernel, stride); called through dispatch_kernel_stride.
struct forward_launcher {
  const depthwise_shape& s;
  const float* x;
  const float* w;
  float* y;
  cudaStream_t stream;

  template <int K, int S>
  status operator()() const {
    const int ho = s.out_h();
    const int wo = s.out_w();
    const int planes = s.n * s.c;
    const int t = forward_tile(ho, wo);
    const dim3 block(t, t);
    const dim3 grid((wo + t - 1) / t, (ho + t - 1) / t, planes < 65535 ? planes : 65535);
    if (t == 8) {
      depthwise_forward_tiled<K, S, 8>
          <<<grid, block, 0, stream>>>(x, w, y, planes, s.c, s.h, s.w, ho, wo, s.padding);
    } else {
      depthwise_forward_tiled<K, S, 16>
          <<<grid, block, 0, stream>>>(x, w, y, planes, s.c, s.h, s.w, ho, wo, s.padding);
    }
    return detail::launch_status();
  }
};

}  // namespace

status depthwise_conv2d_forward(const depthwise_shape& s, const float* x, const float* w, float* y,
                                void* stream) {
  if (status st = detail::validate(s); st != status::ok) return st;
  if (detail::empty(s)) return status::ok;
  if (x == nullptr || w == nullptr || y == nullptr) return detail::invalid("null pointer");
  return detail::dispatch_kernel_stride(s.kernel, s.stride,
                                        forward_launcher{s, x, w, y, detail::to_stream(stream)});
}

}  // namespace nat::ops::cuda
