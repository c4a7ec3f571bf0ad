#pragma once
/// \file Index arithmetic shared by the CUDA kernels and their CPU tests. Everything here is
/// host/device (CUTLASS lesson) so the tricky parts — output sizes, crop offsets, the stride
/// inverse of the input gradient, the weight-gradient split — are unit-tested on machines without a
/// GPU.
#include <cstddef>

#ifndef NAT_HD
#if defined(__CUDACC__)
#define NAT_HD __host__ __device__
#else
#define NAT_HD
#endif
#endif

namespace nat::ops::cuda::detail {

/// Output extent of a convolution along one axis (dilation 1); <= 0 when the kernel does not fit.
NAT_HD constexpr int conv_out_size(int in, int kernel, int stride, int pad) {
  return in + 2 * pad < kernel ? 0 : (in + 2 * pad - kernel) / stride + 1;
}

/// Offset of the centre `small`x`small` window inside a `big`x`big` kernel (OFA: big//2 -
/// small//2).
NAT_HD constexpr int crop_offset(int big, int small) { return big / 2 - small / 2; }

/// Row-major index in the big kernel of element `i` of the row-major centre crop.
NAT_HD constexpr int crop_source_index(int i, int big, int small) {
  return (crop_offset(big, small) + i / small) * big + crop_offset(big, small) + i % small;
}

/// Inverse of crop_source_index: index in the crop of big-kernel element `t`, or -1 outside the
/// centre.
NAT_HD constexpr int crop_dest_index(int t, int big, int small) {
  const int off = crop_offset(big, small);
  const int r = t / big - off;
  const int q = t % big - off;
  return (r < 0 || r >= small || q < 0 || q >= small) ? -1 : r * small + q;
}

/// Input extent a tile of `tile` outputs reads (halo included).
NAT_HD constexpr int tile_input_extent(int tile, int kernel, int stride) {
  return (tile - 1) * stride + kernel;
}

/// For the input gradient: the output position that reads input `i` through kernel tap `tap`, or
/// -1. o*stride - pad + tap == i must hold exactly for some 0 <= o < out_size.
NAT_HD constexpr int output_for_tap(int i, int tap, int stride, int pad, int out_size) {
  const int num = i + pad - tap;
  if (num < 0 || num % stride != 0) return -1;
  const int o = num / stride;
  return o < out_size ? o : -1;
}

/// Elements of N*Ho*Wo one block of the weight-gradient kernel reduces; fixed, so the split (and
/// hence the summation order) depends on the shape only, never on the device.
constexpr long long dw_weight_grad_chunk = 8192;
/// Upper bound on the split count (bounds the workspace).
constexpr long long dw_weight_grad_max_splits = 64;

/// Number of blocks per channel the weight gradient is split into.
NAT_HD constexpr long long dw_weight_grad_splits(long long total) {
  const long long s = (total + dw_weight_grad_chunk - 1) / dw_weight_grad_chunk;
  return s < 1 ? 1 : (s > dw_weight_grad_max_splits ? dw_weight_grad_max_splits : s);
}

/// Elements per split (the last split may get fewer).
NAT_HD constexpr long long dw_weight_grad_split_size(long long total, long long splits) {
  return (total + splits - 1) / splits;
}

}  // namespace nat::ops::cuda::detail
