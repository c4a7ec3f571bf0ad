#pragma once
/// \file Pointwise activations of MobileNetV3 (relu, relu6, hswish, hsigmoid) and sigmoid.
///
/// hsigmoid(x) = relu6(x+3)/6 and hswish(x) = x·relu6(x+3)/6 as in OFA (ofa_spec §2.4). At the
/// kinks the derivative takes PyTorch's one-sided values, so gradients match it bit for bit in
/// spirit (relu'(0) = 0, relu6'(0) = relu6'(6) = 0, hswish'(±3) from the inner branch).
#include <cmath>
#include <cstddef>

#include "nat/autograd/backward.hpp"
#include "nat/core/parallel.hpp"
#include "nat/ops/detail/common.hpp"
#include "nat/tensor/tensor.hpp"

namespace nat::ops {
namespace detail {

// y = f(x) elementwise; backward gx = gy * df(x, y). Saves x and y (detached).
template <class T, class F, class DF>
tensor<T> unary(const char* op, const tensor<T>& x, F f, DF df) {
  if (!x.defined()) throw shape_error(std::string(op) + ": input is an undefined tensor");
  const tensor<T> xc = x.contiguous();
  auto y = tensor<T>::empty(x.shape());
  const T* px = xc.data();
  T* py = y.data();
  nat::parallel_for(0, y.numel(), elementwise_grain(), [&](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) py[i] = f(px[i]);
  });
  autograd::record<T>(
      op, y, {x}, [xc = xc.detach(), yd = y.detach(), df](const tensor<T>& gy, auto& gx) {
        gx[0] = tensor<T>::empty(xc.shape());
        const T *g = gy.data(), *a = xc.data(), *b = yd.data();
        T* o = gx[0].data();
        nat::parallel_for(0, xc.numel(), elementwise_grain(), [&](std::size_t lo, std::size_t hi) {
          for (std::size_t i = lo; i < hi; ++i) o[i] = g[i] * df(a[i], b[i]);
        });
      });
  return y;
}

}  // namespace detail

/// max(x, 0).
template <class T>
tensor<T> relu(const tensor<T>& x) {
  return detail::unary(
      "relu", x, [](T v) { return v > T(0) ? v : T(0); },
      [](T v, T) { return v > T(0) ? T(1) : T(0); });
}

/// min(max(x, 0), 6).
template <class T>
tensor<T> relu6(const tensor<T>& x) {
  return detail::unary(
      "relu6", x, [](T v) { return v < T(0) ? T(0) : (v > T(6) ? T(6) : v); },
      [](T v, T) { return (v > T(0) && v < T(6)) ? T(1) : T(0); });
}

/// relu6(x + 3) / 6, MobileNetV3's hard sigmoid.
template <class T>
tensor<T> hsigmoid(const tensor<T>& x) {
  return detail::unary(
      "hsigmoid", x,
      [](T v) {
        const T t = v + T(3);
        return (t < T(0) ? T(0) : (t > T(6) ? T(6) : t)) / T(6);
      },
      [](T v, T) { return (v > T(-3) && v < T(3)) ? T(1) / T(6) : T(0); });
}

/// x · relu6(x + 3) / 6, MobileNetV3's hard swish.
template <class T>
tensor<T> hswish(const tensor<T>& x) {
  return detail::unary(
      "hswish", x,
      [](T v) {
        const T t = v + T(3);
        return v * (t < T(0) ? T(0) : (t > T(6) ? T(6) : t)) / T(6);
      },
      [](T v, T) {
        // PyTorch: 0 for x < -3, 1 for x > 3, (2x + 3)/6 in between (both ends inclusive).
        if (v < T(-3)) return T(0);
        if (v > T(3)) return T(1);
        return (T(2) * v + T(3)) / T(6);
      });
}

/// 1 / (1 + exp(-x)).
template <class T>
tensor<T> sigmoid(const tensor<T>& x) {
  return detail::unary(
      "sigmoid", x, [](T v) { return T(1) / (T(1) + std::exp(-v)); },
      [](T, T y) { return y * (T(1) - y); });
}

}  // namespace nat::ops
