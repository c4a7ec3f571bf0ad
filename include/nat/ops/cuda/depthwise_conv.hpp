#pragma once
/// \file Depthwise convolution launchers of the CUDA back end, NCHW float32 (ofa_spec §2.1, §2.8).
/// Kernel sizes 3, 5, 7 (template instantiations), stride 1 or 2, any padding >= 0, dilation 1.
/// Weights are [C, k, k] (PyTorch's [C, 1, k, k]). All pointers are device pointers; `stream` is a
/// cudaStream_t passed opaquely (nullptr = default stream). Launches are asynchronous; errors of
/// the launch itself come back as a status, asynchronous ones at the next synchronize().
#include <cstddef>
#include <nat/ops/cuda/detail/index.hpp>
#include <nat/ops/cuda/status.hpp>

namespace nat::ops::cuda {

/// Geometry of a depthwise convolution.
struct depthwise_shape {
  int n = 0;        ///< batch
  int c = 0;        ///< channels (= groups)
  int h = 0;        ///< input height
  int w = 0;        ///< input width
  int kernel = 3;   ///< 3, 5 or 7
  int stride = 1;   ///< 1 or 2
  int padding = 1;  ///< zero padding on every side (OFA: kernel / 2)

  /// Output height.
  NAT_HD constexpr int out_h() const { return detail::conv_out_size(h, kernel, stride, padding); }
  /// Output width.
  NAT_HD constexpr int out_w() const { return detail::conv_out_size(w, kernel, stride, padding); }
};

/// y[n,c] = x[n,c] ⋆ w[c] (cross-correlation). x: [N,C,H,W], w: [C,k,k], y: [N,C,Ho,Wo].
status depthwise_conv2d_forward(const depthwise_shape& s, const float* x, const float* w, float* y,
                                void* stream);

/// dx = ∂L/∂x given dy = ∂L/∂y; dx is overwritten. Gather formulation: deterministic, no atomics.
status depthwise_conv2d_backward_input(const depthwise_shape& s, const float* dy, const float* w,
                                       float* dx, void* stream);

/// Bytes of scratch depthwise_conv2d_backward_weight needs for shape `s` (0 when it needs none).
std::size_t depthwise_conv2d_backward_weight_workspace(const depthwise_shape& s);

/// dw = ∂L/∂w ([C,k,k], overwritten). Deterministic: each block reduces a fixed slice of N*Ho*Wo in
/// a fixed order into a partial, then partials are summed in split order — no float atomics, so
/// results are bitwise reproducible for a given shape. `workspace` must hold
/// depthwise_conv2d_backward_weight_workspace(s) bytes (may be nullptr when that is 0).
status depthwise_conv2d_backward_weight(const depthwise_shape& s, const float* x, const float* dy,
                                        float* dw, void* workspace, void* stream);

}  // namespace nat::ops::cuda
