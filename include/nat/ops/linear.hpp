#pragma once
/// \file Differentiable fully connected layer and small matrix products (OFA's kernel transform
/// matrices: filter[C, k²] · Mᵀ, ofa_spec §2.1/§2.8).
#include <cstddef>
#include <string>

#include "nat/autograd/backward.hpp"
#include "nat/ops/cpu/gemm.hpp"
#include "nat/ops/detail/common.hpp"
#include "nat/tensor/tensor.hpp"

namespace nat::ops {

/// y = x · wᵀ + b for x [N, I], w [O, I], b [O] (b may be an undefined tensor: no bias).
template <class T>
tensor<T> linear(const tensor<T>& x, const tensor<T>& w, const tensor<T>& b = tensor<T>()) {
  const char* op = "linear";
  detail::require_rank(op, "input", x, 2);
  detail::require_rank(op, "weight", w, 2);
  if (x.size(1) != w.size(1))
    throw shape_error(std::string(op) + ": input has " + std::to_string(x.size(1)) +
                      " features, weight expects " + std::to_string(w.size(1)) + " (input " +
                      to_string(x.shape()) + ", weight " + to_string(w.shape()) + ")");
  if (b.defined()) {
    detail::require_rank(op, "bias", b, 1);
    if (b.size(0) != w.size(0))
      throw shape_error(std::string(op) + ": bias has shape " + to_string(b.shape()) +
                        ", weight has shape " + to_string(w.shape()));
  }
  const std::size_t n = x.size(0), in = x.size(1), out = w.size(0);
  const tensor<T> xc = x.contiguous(), wc = w.contiguous();
  auto y = tensor<T>::empty({n, out});
  cpu::gemm<T>(false, true, n, out, in, T(1), xc.data(), in, wc.data(), in, T(0), y.data(), out);
  if (b.defined()) {
    const tensor<T> bc = b.contiguous();
    for (std::size_t r = 0; r < n; ++r)
      for (std::size_t j = 0; j < out; ++j) y.data()[r * out + j] += bc.data()[j];
  }
  const bool need_x = x.requires_grad(), need_w = w.requires_grad(),
             need_b = b.defined() && b.requires_grad();
  auto fn = [=, xc = xc.detach(), wc = wc.detach()](const tensor<T>& gy, auto& gx) {
    if (need_x) {
      gx[0] = tensor<T>::empty({n, in});
      cpu::gemm<T>(false, false, n, in, out, T(1), gy.data(), out, wc.data(), in, T(0),
                   gx[0].data(), in);
    }
    if (need_w) {
      gx[1] = tensor<T>::empty({out, in});
      cpu::gemm<T>(true, false, out, in, n, T(1), gy.data(), out, xc.data(), in, T(0), gx[1].data(),
                   in);
    }
    if (need_b) {
      auto gb = tensor<T>::zeros({out});
      for (std::size_t r = 0; r < n; ++r)
        for (std::size_t j = 0; j < out; ++j) gb.data()[j] += gy.data()[r * out + j];
      gx[2] = gb;
    }
  };
  if (b.defined())
    autograd::record<T>(op, y, {x, w, b}, fn);
  else
    autograd::record<T>(op, y, {x, w}, fn);
  return y;
}

namespace detail {

template <class T>
tensor<T> matmul_impl(const char* op, const tensor<T>& a, const tensor<T>& b, bool trans_b) {
  require_rank(op, "a", a, 2);
  require_rank(op, "b", b, 2);
  const std::size_t m = a.size(0), k = a.size(1), n = trans_b ? b.size(0) : b.size(1);
  const std::size_t kb = trans_b ? b.size(1) : b.size(0);
  if (k != kb)
    throw shape_error(std::string(op) + ": inner dimensions differ (a " + to_string(a.shape()) +
                      ", b " + to_string(b.shape()) + ")");
  const tensor<T> ac = a.contiguous(), bc = b.contiguous();
  auto y = tensor<T>::empty({m, n});
  const std::size_t ldb = bc.size(1);
  cpu::gemm<T>(false, trans_b, m, n, k, T(1), ac.data(), k, bc.data(), ldb, T(0), y.data(), n);
  const bool need_a = a.requires_grad(), need_b = b.requires_grad();
  autograd::record<T>(op, y, {a, b},
                      [=, ac = ac.detach(), bc = bc.detach()](const tensor<T>& gy, auto& gx) {
                        if (need_a) {  // ga = gy · op(b)ᵀ
                          gx[0] = tensor<T>::empty({m, k});
                          cpu::gemm<T>(false, !trans_b, m, k, n, T(1), gy.data(), n, bc.data(), ldb,
                                       T(0), gx[0].data(), k);
                        }
                        if (need_b) {
                          if (trans_b) {  // b [n,k]: gb = gyᵀ · a
                            gx[1] = tensor<T>::empty({n, k});
                            cpu::gemm<T>(true, false, n, k, m, T(1), gy.data(), n, ac.data(), k,
                                         T(0), gx[1].data(), k);
                          } else {  // b [k,n]: gb = aᵀ · gy
                            gx[1] = tensor<T>::empty({k, n});
                            cpu::gemm<T>(true, false, k, n, m, T(1), ac.data(), k, gy.data(), n,
                                         T(0), gx[1].data(), n);
                          }
                        }
                      });
  return y;
}

}  // namespace detail

/// a [M,K] · b [K,N], gradients to both.
template <class T>
tensor<T> matmul(const tensor<T>& a, const tensor<T>& b) {
  return detail::matmul_impl("matmul", a, b, false);
}

/// a [M,K] · bᵀ for b [N,K], gradients to both: OFA's kernel transform filter[C,k²] · Mᵀ.
template <class T>
tensor<T> matmul_nt(const tensor<T>& a, const tensor<T>& b) {
  return detail::matmul_impl("matmul_nt", a, b, true);
}

}  // namespace nat::ops
