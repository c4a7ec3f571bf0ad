#pragma once
/// \file Row-major GEMM on raw pointers, backed by Eigen (single-threaded per call: nat
/// parallelises over samples/blocks outside, which keeps results independent of the thread count).
#include <Eigen/Core>
#include <cstddef>

namespace nat::ops::cpu {

/// C[M,N] = alpha * op(A) * op(B) + beta * C, all row-major with leading dimensions lda, ldb, ldc;
/// op(A) is A[M,K] or, when trans_a, Aᵀ with A stored [K,M] (likewise B: [K,N] or [N,K]).
/// beta == 0 overwrites C without reading it.
template <class T>
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha,
          const T* a, std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
  using row_mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using cmap = Eigen::Map<const row_mat, 0, Eigen::OuterStride<>>;
  using mmap = Eigen::Map<row_mat, 0, Eigen::OuterStride<>>;
  const auto M = static_cast<Eigen::Index>(m), N = static_cast<Eigen::Index>(n),
             K = static_cast<Eigen::Index>(k);
  mmap C(c, M, N, Eigen::OuterStride<>(static_cast<Eigen::Index>(ldc)));
  if (beta == T(0))
    C.setZero();
  else if (beta != T(1))
    C *= beta;
  if (k == 0) return;
  const cmap A(a, trans_a ? K : M, trans_a ? M : K,
               Eigen::OuterStride<>(static_cast<Eigen::Index>(lda)));
  const cmap B(b, trans_b ? N : K, trans_b ? K : N,
               Eigen::OuterStride<>(static_cast<Eigen::Index>(ldb)));
  if (!trans_a && !trans_b)
    C.noalias() += alpha * A * B;
  else if (trans_a && !trans_b)
    C.noalias() += alpha * A.transpose() * B;
  else if (!trans_a && trans_b)
    C.noalias() += alpha * A * B.transpose();
  else
    C.noalias() += alpha * A.transpose() * B.transpose();
}

}  // namespace nat::ops::cpu
