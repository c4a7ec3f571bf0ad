#pragma once
/// \file Inverted dropout with an explicit seed (deterministic, reproducible masks).
#include <cstddef>
#include <cstdint>
#include <string>

#include "nat/autograd/backward.hpp"
#include "nat/core/error.hpp"
#include "nat/core/rng.hpp"
#include "nat/tensor/tensor.hpp"

namespace nat::ops {

/// Zeroes each element with probability p and scales survivors by 1/(1−p); the mask is drawn from
/// nat::rng(seed). Identity when !training or p == 0.
template <class T>
tensor<T> dropout(const tensor<T>& x, double p, std::uint64_t seed, bool training = true) {
  if (!(p >= 0.0 && p < 1.0))
    throw config_error("dropout: probability must be in [0, 1), got " + std::to_string(p));
  if (!training || p == 0.0) return x;
  const tensor<T> xc = x.contiguous();
  auto mask = tensor<T>::empty(x.shape());
  auto y = tensor<T>::empty(x.shape());
  nat::rng g(seed);
  const T keep = T(1.0 / (1.0 - p));
  for (std::size_t i = 0; i < x.numel(); ++i) {
    mask.data()[i] = g.uniform() < p ? T(0) : keep;
    y.data()[i] = xc.data()[i] * mask.data()[i];
  }
  autograd::record<T>("dropout", y, {x}, [mask](const tensor<T>& gy, auto& gx) {
    gx[0] = tensor<T>::empty(gy.shape());
    for (std::size_t i = 0; i < gy.numel(); ++i) gx[0].data()[i] = gy.data()[i] * mask.data()[i];
  });
  return y;
}

}  // namespace nat::ops
