#pragma once
/// \file The bridge from the data layer's float batches to tensors.
#include <algorithm>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/data/batch.hpp"
#include "nat/data/transform.hpp"
#include "nat/tensor/tensor.hpp"

namespace nat::train {

/// The batch's images as an [n, c, h, w] tensor (one copy into pooled storage).
template <class T>
tensor<T> batch_to_tensor(const data::batch& b) {
  auto x = tensor<T>::empty({b.n, b.c, b.h, b.w});
  std::copy(b.images.begin(), b.images.begin() + static_cast<long>(b.n * b.image_size()), x.data());
  return x;
}

/// The batch's images resized (bilinear, as `F.interpolate(..., align_corners=False)`) to
/// [n, c, r, r]. Normalisation is per-channel affine and bilinear weights sum to one, so resizing
/// the normalised batch equals normalising the resized images. `scratch` is reused between calls.
template <class T>
tensor<T> batch_to_tensor(const data::batch& b, std::size_t r, std::vector<float>& scratch) {
  if (r == 0) throw config_error("batch_to_tensor: resolution must be positive");
  if (r == b.h && r == b.w) return batch_to_tensor<T>(b);
  const std::size_t in = b.c * b.h * b.w, out = b.c * r * r;
  if (b.images.size() < b.n * in)
    throw shape_error("batch_to_tensor: the batch holds " + std::to_string(b.images.size()) +
                      " values, its shape needs " + std::to_string(b.n * in));
  auto x = tensor<T>::empty({b.n, b.c, r, r});
  data::crop_window full;
  full.height = static_cast<long>(b.h);
  full.width = static_cast<long>(b.w);
  const data::image_transform identity;  // no normalisation, no channel replication
  scratch.resize(out);
  for (std::size_t i = 0; i < b.n; ++i) {
    data::render_window(b.images.data() + i * in, b.c, b.h, b.w, full, identity, r, r,
                        scratch.data(), 1.0f);
    std::copy(scratch.begin(), scratch.end(), x.data() + i * out);
  }
  return x;
}

}  // namespace nat::train
