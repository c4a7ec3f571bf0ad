#pragma once
/// \file Pointwise (1x1, stride 1, groups 1) convolution through cuBLAS SGEMM, NCHW float32
/// (ofa_spec §2.2: the filter W[:O, :I] must be contiguous [O, I]). Per image y[n] = W · x[n] with
/// x[n] viewed as [I, H*W] — a strided-batched GEMM over N. Uses a cuBLAS handle owned by the
/// calling host thread (created on first use, bound to `stream` per call), FP32 math (no TF32).
#include <nat/ops/cuda/status.hpp>

namespace nat::ops::cuda {

/// Geometry of a pointwise convolution.
struct pointwise_shape {
  int n = 0;      ///< batch
  int in_c = 0;   ///< input channels I
  int out_c = 0;  ///< output channels O
  int hw = 0;     ///< H*W (unchanged by a 1x1 stride-1 conv)
};

/// y [N,O,HW] = W [O,I] · x [N,I,HW].
status pointwise_conv2d_forward(const pointwise_shape& s, const float* x, const float* w, float* y,
                                void* stream);

/// dx [N,I,HW] = Wᵀ · dy (overwritten).
status pointwise_conv2d_backward_input(const pointwise_shape& s, const float* dy, const float* w,
                                       float* dx, void* stream);

/// dw [O,I] = Σ_n dy[n] · x[n]ᵀ (overwritten); the batch sum runs as N GEMMs with beta = 1 in order
/// n = 0..N-1, so it is deterministic.
status pointwise_conv2d_backward_weight(const pointwise_shape& s, const float* x, const float* dy,
                                        float* dw, void* stream);

}  // namespace nat::ops::cuda
