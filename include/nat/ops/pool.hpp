#pragma once
/// \file Global average pooling [N,C,H,W] → [N,C,1,1] (SE squeeze and the classifier head).
#include <cstddef>

#include "nat/autograd/backward.hpp"
#include "nat/core/parallel.hpp"
#include "nat/ops/detail/common.hpp"
#include "nat/tensor/tensor.hpp"

namespace nat::ops {

/// Spatial mean per (sample, channel), keeping the singleton spatial dimensions.
template <class T>
tensor<T> global_avg_pool(const tensor<T>& x) {
  detail::require_rank("global_avg_pool", "input", x, 4);
  const std::size_t n = x.size(0), c = x.size(1), hw = x.size(2) * x.size(3);
  const tensor<T> xc = x.contiguous();
  auto y = tensor<T>::empty({n, c, 1, 1});
  const T* px = xc.data();
  T* py = y.data();
  const T inv = T(1) / T(hw ? hw : 1);
  nat::parallel_for(0, n * c, 256, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t p = lo; p < hi; ++p) {
      T acc = 0;
      for (std::size_t q = 0; q < hw; ++q) acc += px[p * hw + q];
      py[p] = acc * inv;
    }
  });
  autograd::record<T>("global_avg_pool", y, {x},
                      [xs = x.shape(), hw, inv](const tensor<T>& gy, auto& gx) {
                        gx[0] = tensor<T>::empty(xs);
                        const T* g = gy.data();
                        T* o = gx[0].data();
                        const std::size_t planes = gy.numel();
                        nat::parallel_for(0, planes, 256, [&](std::size_t lo, std::size_t hi) {
                          for (std::size_t p = lo; p < hi; ++p)
                            for (std::size_t q = 0; q < hw; ++q) o[p * hw + q] = g[p] * inv;
                        });
                      });
  return y;
}

}  // namespace nat::ops
