#pragma once
// The cuBLAS argument sets behind include/nat/ops/cuda/pointwise_conv.hpp, as plain host data so
// the row-major ↔ column-major reasoning is tested on the CPU (tests/gpu/emulated_kernels.test.cpp
// feeds them to a naive column-major GEMM). cuBLAS is column-major: a row-major [R, Cc] matrix is
// the column-major [Cc, R] one, so y[n] (row-major O x HW) = W (O x I) · x[n] (I x HW) is the
// column-major y[n]ᵀ (HW x O) = x[n]ᵀ (HW x I) · Wᵀ (I x O) — no copies or transposes of the data.
#include <nat/ops/cuda/pointwise_conv.hpp>

namespace nat::ops::cuda::detail {

/// One column-major strided-batched SGEMM: C_b = op(A_b) · op(B_b) (+ C_b when accumulating).
struct gemm_args {
  bool trans_a = false;
  bool trans_b = false;
  int m = 0, n = 0, k = 0;
  int lda = 0, ldb = 0, ldc = 0;
  long long stride_a = 0, stride_b = 0, stride_c = 0;
  int batch = 0;
};

/// Forward: A = x (HW x I per image), B = W (stored I x O), C = y (HW x O per image).
inline gemm_args pointwise_forward_gemm(const pointwise_shape& s) {
  return {false,
          false,
          s.hw,
          s.out_c,
          s.in_c,
          s.hw,
          s.in_c,
          s.hw,
          1LL * s.in_c * s.hw,
          0,
          1LL * s.out_c * s.hw,
          s.n};
}

/// Input gradient: A = dy (HW x O per image), B = W used transposed (O x I), C = dx (HW x I).
inline gemm_args pointwise_backward_input_gemm(const pointwise_shape& s) {
  return {false,
          true,
          s.hw,
          s.in_c,
          s.out_c,
          s.hw,
          s.in_c,
          s.hw,
          1LL * s.out_c * s.hw,
          0,
          1LL * s.in_c * s.hw,
          s.n};
}

/// Weight gradient: A = x used transposed (I x HW), B = dy (HW x O), C = dWᵀ (I x O) = row-major
/// dW; stride_c = 0: the batch accumulates into one C, in batch order (beta 0 for the first, then
/// 1).
inline gemm_args pointwise_backward_weight_gemm(const pointwise_shape& s) {
  return {true,
          false,
          s.in_c,
          s.out_c,
          s.hw,
          s.hw,
          s.hw,
          s.in_c,
          1LL * s.in_c * s.hw,
          1LL * s.out_c * s.hw,
          0,
          s.n};
}

}  // namespace nat::ops::cuda::detail
