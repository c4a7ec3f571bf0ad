// Depthwise convolution input gradient (include/nat/ops/cuda/depthwise_conv.hpp). Gather form: one
// thread per input element sums the k² taps that read it, so every dx is written exactly once —
// deterministic and free of atomics (a scatter from dy would need them).
#include "depthwise_common.cuh"

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
#pragma unroll
    for (int kh = 0; kh < K; ++kh) {
      const int oh = detail::output_for_tap(ih, kh, S, pad, ho);
      if (oh < 0) continue;
#pragma unroll
      for (int kw = 0; kw < K; ++kw) {
        const int ow = detail::output_for_tap(iw, kw, S, pad, wo);
        if (ow >= 0) acc += dyp[oh * wo + ow] * wp[kh * K + kw];
      }
    }
    dx[idx] = acc;
  }
}

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
