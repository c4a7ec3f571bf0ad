#pragma once
/// \file In-memory labelled image dataset: uint8 pixels, N×C×H×W contiguous (NCHW), int labels.
///
/// Images stay uint8 in memory (Fashion-MNIST train is 47 MB, CIFAR-10 150 MB) and are converted to
/// float per batch by the transforms, so a dataset is cheap to keep, copy into subsets and split.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "nat/core/error.hpp"

namespace nat::data {

/// Labelled uint8 images stored N×C×H×W contiguously, with the number of classes and a name.
class image_dataset {
 public:
  /// An empty dataset (0 images).
  image_dataset() = default;

  /// Takes ownership of `pixels` (N·C·H·W bytes, NCHW) and `labels` (N values in [0, n_classes)).
  /// shape_error when the sizes disagree, config_error for a bad label or dimension.
  image_dataset(std::string name, std::size_t channels, std::size_t height, std::size_t width,
                std::vector<std::uint8_t> pixels, std::vector<int> labels, int n_classes)
      : name_(std::move(name)),
        channels_(channels),
        height_(height),
        width_(width),
        n_classes_(n_classes),
        pixels_(std::move(pixels)),
        labels_(std::move(labels)) {
    const std::string who = "image_dataset(" + name_ + ")";
    if (channels_ == 0 || height_ == 0 || width_ == 0)
      throw config_error(who +
                         ": image shape must be positive, got C=" + std::to_string(channels_) +
                         " H=" + std::to_string(height_) + " W=" + std::to_string(width_));
    if (n_classes_ <= 0)
      throw config_error(who + ": n_classes must be positive, got " + std::to_string(n_classes_));
    if (pixels_.size() != labels_.size() * image_size())
      throw shape_error(who + ": " + std::to_string(labels_.size()) + " labels need " +
                        std::to_string(labels_.size() * image_size()) + " pixel bytes (" +
                        std::to_string(channels_) + "x" + std::to_string(height_) + "x" +
                        std::to_string(width_) + " each), got " + std::to_string(pixels_.size()));
    for (std::size_t i = 0; i < labels_.size(); ++i)
      if (labels_[i] < 0 || labels_[i] >= n_classes_)
        throw config_error(who + ": label of image " + std::to_string(i) + " is " +
                           std::to_string(labels_[i]) + ", expected 0.." +
                           std::to_string(n_classes_ - 1));
  }

  /// Number of images N.
  std::size_t size() const { return labels_.size(); }
  /// True when the dataset holds no images.
  bool empty() const { return labels_.empty(); }
  /// Channels C per image.
  std::size_t channels() const { return channels_; }
  /// Image height H in pixels.
  std::size_t height() const { return height_; }
  /// Image width W in pixels.
  std::size_t width() const { return width_; }
  /// Bytes per image, C·H·W.
  std::size_t image_size() const { return channels_ * height_ * width_; }
  /// Number of classes; every label lies in [0, n_classes).
  int n_classes() const { return n_classes_; }
  /// Human-readable name ("fashion-mnist/train", file name, …).
  const std::string& name() const { return name_; }

  /// All pixels, N·C·H·W bytes in NCHW order.
  const std::vector<std::uint8_t>& pixels() const { return pixels_; }
  /// All labels, one per image.
  const std::vector<int>& labels() const { return labels_; }
  /// Pointer to image i's C·H·W bytes (CHW order); unchecked.
  const std::uint8_t* image(std::size_t i) const { return pixels_.data() + i * image_size(); }
  /// Label of image i; unchecked.
  int label(std::size_t i) const { return labels_[i]; }

  /// Number of images of each class (size n_classes).
  std::vector<std::size_t> class_counts() const {
    std::vector<std::size_t> counts(static_cast<std::size_t>(n_classes_), 0);
    for (int l : labels_) ++counts[static_cast<std::size_t>(l)];
    return counts;
  }

  /// A new dataset holding the images at `indices`, in that order (repeats allowed); config_error
  /// for an index ≥ size(). The name gets `suffix` appended when given.
  image_dataset subset(const std::vector<std::size_t>& indices,
                       const std::string& suffix = "") const {
    const std::size_t isz = image_size();
    std::vector<std::uint8_t> px(indices.size() * isz);
    std::vector<int> lb(indices.size());
    for (std::size_t k = 0; k < indices.size(); ++k) {
      const std::size_t i = indices[k];
      if (i >= size())
        throw config_error("image_dataset::subset(" + name_ + "): index " + std::to_string(i) +
                           " at position " + std::to_string(k) + " is out of range, size is " +
                           std::to_string(size()));
      std::copy(image(i), image(i) + isz, px.data() + k * isz);
      lb[k] = labels_[i];
    }
    return image_dataset(name_ + suffix, channels_, height_, width_, std::move(px), std::move(lb),
                         n_classes_);
  }

 private:
  std::string name_;
  std::size_t channels_ = 1, height_ = 1, width_ = 1;
  int n_classes_ = 1;
  std::vector<std::uint8_t> pixels_;
  std::vector<int> labels_;
};

}  // namespace nat::data
