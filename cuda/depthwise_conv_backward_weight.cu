// Depthwise convolution weight gradient (include/nat/ops/cuda/depthwise_conv.hpp).
// Deterministic two-phase reduction: block (c, split) walks a fixed slice of the N*Ho*Wo positions
// with a fixed thread assignment, keeps the k² partial sums in registers, reduces them over the
// block with a fixed tree and writes one partial per tap; a second kernel sums the partials of each
// tap in split order. No float atomics, so the result depends on the shape only, not on scheduling.
#include "depthwise_common.cuh"

namespace nat::ops::cuda {
namespace {

constexpr int block_threads = 256;

template <int K, int S>
__global__ void depthwise_backward_weight_partial(const float* __restrict__ x,
                                                  const float* __restrict__ dy,
                                                  float* __restrict__ out, int channels, int h,
                                                  int wd, int ho, int wo, int pad, long long total,
                                                  long long split_size) {
  __shared__ float warp_partials[block_threads / 32][K * K];
  const int c = blockIdx.x;
  const long long begin = blockIdx.y * split_size;
  const long long end = begin + split_size < total ? begin + split_size : total;
  const long long plane_out = static_cast<long long>(ho) * wo;
  float acc[K * K];
#pragma unroll
  for (int t = 0; t < K * K; ++t) acc[t] = 0.f;
  for (long long idx = begin + threadIdx.x; idx < end; idx += blockDim.x) {
    const long long n = idx / plane_out;
    const int r = static_cast<int>(idx % plane_out);
    const int oh = r / wo;
    const int ow = r % wo;
    const long long plane = n * channels + c;
    const float g = dy[plane * plane_out + r];
    const float* xp = x + plane * h * wd;
#pragma unroll
    for (int kh = 0; kh < K; ++kh) {
      const int ih = oh * S - pad + kh;
      if (ih < 0 || ih >= h) continue;
#pragma unroll
      for (int kw = 0; kw < K; ++kw) {
        const int iw = ow * S - pad + kw;
        if (iw >= 0 && iw < wd) acc[kh * K + kw] += g * xp[ih * wd + iw];
      }
    }
  }
  const int lane = threadIdx.x % 32;
  const int warp = threadIdx.x / 32;
#pragma unroll
  for (int t = 0; t < K * K; ++t) {
    const float v = detail::warp_sum(acc[t]);
    if (lane == 0) warp_partials[warp][t] = v;
  }
  __syncthreads();
  for (int t = threadIdx.x; t < K * K; t += blockDim.x) {
    float sum = 0.f;
    for (int i = 0; i < block_threads / 32; ++i) sum += warp_partials[i][t];
    // Layout [split][C][K*K]; with a single split this is dw itself.
    out[(static_cast<long long>(blockIdx.y) * channels + c) * K * K + t] = sum;
  }
}

// dw[j] = Σ_{s = 0..splits-1} partials[s][j], in split order.
__global__ void sum_splits(const float* __restrict__ partials, float* __restrict__ dw, int count,
                           int splits) {
  for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < count; j += gridDim.x * blockDim.x) {
    float sum = 0.f;
    for (int s = 0; s < splits; ++s) sum += partials[static_cast<long long>(s) * count + j];
    dw[j] = sum;
  }
}

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
    depthwise_backward_weight_partial<K, S><<<grid, block_threads, 0, stream>>>(
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
