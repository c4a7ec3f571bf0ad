#pragma once
/// \file The bridge from the data layer's float batches to tensors.
#include <algorithm>

#include "nat/data/batch.hpp"
#include "nat/tensor/tensor.hpp"

namespace nat::train {

/// The batch's images as an [n, c, h, w] tensor (one copy into pooled storage).
template <class T>
tensor<T> batch_to_tensor(const data::batch& b) {
  auto x = tensor<T>::empty({b.n, b.c, b.h, b.w});
  std::copy(b.images.begin(), b.images.begin() + static_cast<long>(b.n * b.image_size()), x.data());
  return x;
}

}  // namespace nat::train
