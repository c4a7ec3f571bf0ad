#pragma once
/// \file OFA elastic-kernel pieces (ofa_spec §2.1): centre crop of a [C, big²] filter to small x
/// small followed by the channel-shared transform v' = M·v (PyTorch: filter · Mᵀ). Chaining 7→5
/// then 5→3 gives K3 = T53(crop(T75(crop(W)))). Device pointers, row-major; `stream` as in
/// depthwise_conv.hpp.
#include <nat/ops/cuda/status.hpp>

namespace nat::ops::cuda {

/// dst[c, j] = Σ_i m[j, i] · crop(src)[c, i]; with m == nullptr only the crop (dst[c,j] =
/// crop(src)[c,j]). src: [C, big*big] (the first C channels of the supernet weight), m: [small²,
/// small²], dst: [C, small*small]. big > small, both odd.
status kernel_transform_forward(int channels, int big, int small, const float* src, const float* m,
                                float* dst, void* stream);

/// Backward of kernel_transform_forward. d_src ([C, big²], overwritten) gets Mᵀ·d_dst in the centre
/// and zeros elsewhere (crop backward = zero-pad); d_m ([small², small²], overwritten; skipped when
/// nullptr or when m is nullptr) gets Σ_c d_dst[c]ᵀ ⊗ crop(src)[c], summed over c in order
/// (deterministic). d_src may be nullptr to compute only d_m.
status kernel_transform_backward(int channels, int big, int small, const float* src, const float* m,
                                 const float* d_dst, float* d_src, float* d_m, void* stream);

}  // namespace nat::ops::cuda
