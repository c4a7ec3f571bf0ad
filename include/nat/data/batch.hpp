#pragma once
/// \file A batch of transformed images as a plain float buffer (N×C×H×W, NCHW) with labels.
///
/// The buffer is reused from batch to batch: reshape() only grows the vectors, so once a loader has
/// produced its largest batch no further allocation happens.
#include <cstddef>
#include <vector>

namespace nat::data {

/// N transformed images (float, NCHW, contiguous), their labels and dataset indices.
struct batch {
  std::vector<float> images;         ///< n·c·h·w values, NCHW.
  std::vector<int> labels;           ///< n labels.
  std::vector<std::size_t> indices;  ///< n positions of the images in the source dataset.
  std::size_t n = 0;                 ///< Images in the batch.
  std::size_t c = 0;                 ///< Channels.
  std::size_t h = 0;                 ///< Height (the batch's resolution).
  std::size_t w = 0;                 ///< Width.
  std::size_t epoch = 0;             ///< Epoch the batch belongs to.
  std::size_t index = 0;             ///< Batch number within the epoch.

  /// Sets the shape, keeping the storage when it is large enough (vectors never shrink capacity).
  void reshape(std::size_t images_n, std::size_t channels, std::size_t height, std::size_t width) {
    n = images_n;
    c = channels;
    h = height;
    w = width;
    images.resize(n * c * h * w);
    labels.resize(n);
    indices.resize(n);
  }

  /// Floats per image, c·h·w.
  std::size_t image_size() const { return c * h * w; }
  /// Pointer to image i (c·h·w floats).
  const float* image(std::size_t i) const { return images.data() + i * image_size(); }
  /// Mutable pointer to image i.
  float* image(std::size_t i) { return images.data() + i * image_size(); }
};

}  // namespace nat::data
