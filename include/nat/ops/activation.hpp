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

/// What a unary op's derivative is computed from: the input (hswish) or the output (relu,
/// sigmoid). Only that tensor is kept for the backward, which then reads two streams, not three.
enum class saved { input, output };

/// A gradient buffer to write into: gy's own when nobody else holds it (autograd hands over the
/// pending gradient; elementwise backwards read gy[i] before writing gx[i]), else a fresh one.
template <class T>
tensor<T> reuse_or_empty(const tensor<T>& gy) {
  return gy.owns_storage_alone() && gy.is_contiguous() ? gy : tensor<T>::empty(gy.shape());
}

// y = f(x) elementwise; backward gx = gy * df(v) with v = x or y as `Keep` says.
template <saved Keep, class T, class F, class DF>
tensor<T> unary(const char* op, const tensor<T>& x, F f, DF df) {
  if (!x.defined()) throw shape_error(std::string(op) + ": input is an undefined tensor");
  const tensor<T> xc = x.contiguous();
  auto y = tensor<T>::empty(x.shape());
  const T* px = xc.data();
  T* py = y.data();
  nat::parallel_for(0, y.numel(), elementwise_grain(), [&](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) py[i] = f(px[i]);
  });
  const tensor<T> kept = Keep == saved::input ? xc.detach() : y.detach();
  autograd::record<T>(op, y, {x}, [kept, df](const tensor<T>& gy, auto& gx) {
    tensor<T> out = reuse_or_empty(gy);
    const T *g = gy.data(), *v = kept.data();
    T* o = out.data();
    nat::parallel_for(0, kept.numel(), elementwise_grain(), [&](std::size_t lo, std::size_t hi) {
      for (std::size_t i = lo; i < hi; ++i) o[i] = g[i] * df(v[i]);
    });
    gx[0] = out;
  });
  return y;
}

}  // namespace detail

/// max(x, 0).
template <class T>
tensor<T> relu(const tensor<T>& x) {
  // y > 0 exactly where x > 0.
  return detail::unary<detail::saved::output>(
      "relu", x, [](T v) { return v > T(0) ? v : T(0); },
      [](T y) { return y > T(0) ? T(1) : T(0); });
}

/// min(max(x, 0), 6).
template <class T>
tensor<T> relu6(const tensor<T>& x) {
  return detail::unary<detail::saved::input>(
      "relu6", x, [](T v) { return v < T(0) ? T(0) : (v > T(6) ? T(6) : v); },
      [](T v) { return (v > T(0) && v < T(6)) ? T(1) : T(0); });
}

/// relu6(x + 3) / 6, MobileNetV3's hard sigmoid.
template <class T>
tensor<T> hsigmoid(const tensor<T>& x) {
  return detail::unary<detail::saved::input>(
      "hsigmoid", x,
      [](T v) {
        const T t = v + T(3);
        return (t < T(0) ? T(0) : (t > T(6) ? T(6) : t)) / T(6);
      },
      [](T v) { return (v > T(-3) && v < T(3)) ? T(1) / T(6) : T(0); });
}

/// x · relu6(x + 3) / 6, MobileNetV3's hard swish.
template <class T>
tensor<T> hswish(const tensor<T>& x) {
  return detail::unary<detail::saved::input>(
      "hswish", x,
      [](T v) {
        const T t = v + T(3);
        return v * (t < T(0) ? T(0) : (t > T(6) ? T(6) : t)) / T(6);
      },
      [](T v) {
        // PyTorch: 0 for x < -3, 1 for x > 3, (2x + 3)/6 in between (both ends inclusive).
        if (v < T(-3)) return T(0);
        if (v > T(3)) return T(1);
        return (T(2) * v + T(3)) / T(6);
      });
}

/// 1 / (1 + exp(-x)).
template <class T>
tensor<T> sigmoid(const tensor<T>& x) {
  return detail::unary<detail::saved::output>(
      "sigmoid", x, [](T v) { return T(1) / (T(1) + std::exp(-v)); },
      [](T y) { return y * (T(1) - y); });
}

}  // namespace nat::ops
