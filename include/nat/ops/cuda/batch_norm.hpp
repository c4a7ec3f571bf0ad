#pragma once
/// \file Batch norm over a channel prefix, NCHW float32 (ofa_spec §2.3, DynamicBatchNorm2d). The
/// parameter and running-stat pointers point at the supernet's full [Cmax] buffers; only the first
/// C entries (C = the input's channels) are read or written, so the EMA updates the prefix in
/// place. One block per channel with a fixed reduction order: deterministic, no atomics.
#include <nat/ops/cuda/status.hpp>

namespace nat::ops::cuda {

/// Geometry of a batch-norm call.
struct batch_norm_shape {
  int n = 0;   ///< batch
  int c = 0;   ///< active channels (prefix length)
  int hw = 0;  ///< H*W
};

/// Training forward: batch mean and biased variance over (N,H,W); y = (x-mean)/sqrt(var+eps)·γ + β.
/// save_mean / save_invstd ([C], may be nullptr) keep what backward needs. When running_mean and
/// running_var are non-null: r ← (1-momentum)·r + momentum·stat, with the unbiased variance
/// var·M/(M-1), M = N·H·W (PyTorch's rule; pass momentum = 1/num_batches_tracked for the cumulative
/// average).
status batch_norm_forward_train(const batch_norm_shape& s, const float* x, const float* gamma,
                                const float* beta, float* running_mean, float* running_var,
                                float momentum, float eps, float* y, float* save_mean,
                                float* save_invstd, void* stream);

/// Eval forward: y = (x - running_mean)/sqrt(running_var + eps)·γ + β over the prefix.
status batch_norm_forward_eval(const batch_norm_shape& s, const float* x, const float* gamma,
                               const float* beta, const float* running_mean,
                               const float* running_var, float eps, float* y, void* stream);

/// Training backward from the saved batch stats: dγ = Σ dy·x̂, dβ = Σ dy (both [C], overwritten),
/// dx = γ·invstd·(dy - dβ/M - x̂·dγ/M) (overwritten).
status batch_norm_backward(const batch_norm_shape& s, const float* x, const float* dy,
                           const float* gamma, const float* save_mean, const float* save_invstd,
                           float* dx, float* dgamma, float* dbeta, void* stream);

}  // namespace nat::ops::cuda
