#pragma once
/// \file CutMix (Yun et al. 2019) on a transformed batch, with the soft targets it implies.
///
/// NAT's training pipeline wraps its dataset in CutMix (β = 1, p = 0.5, two mixes; nat_spec.md
/// §5.3). The reference draws the pasted image from the whole dataset with its own augmentation;
/// here it comes from the same (shuffled, augmented) batch, before any image of the batch was
/// mixed, so mixing needs no second trip through the loader. Each mix pastes a box whose area is
/// 1 − λ (λ ~ Beta(β, β)) of the partner into the image, and moves the target by the area that
/// was actually pasted (the box is clipped at the border): t ← λ'·t + (1 − λ')·onehot(partner).
/// As in the reference, a second box overlapping the first rescales all earlier shares alike, so
/// with two mixes the target approximates the pixel shares rather than counting them.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/rng.hpp"
#include "nat/data/batch.hpp"

namespace nat::data {

/// Settings of CutMix; prob = 0 switches it off.
struct cutmix_config {
  double prob = 0.0;        ///< chance of each mix being applied (the reference's p = 0.5)
  double beta = 1.0;        ///< λ ~ Beta(beta, beta)
  std::size_t num_mix = 2;  ///< mixing attempts per image

  bool enabled() const { return prob > 0; }

  /// Throws config_error naming the bad field.
  void validate() const {
    if (!(prob >= 0 && prob <= 1)) throw config_error("cutmix: prob must lie in [0, 1]");
    if (!(beta > 0) || !std::isfinite(beta)) throw config_error("cutmix: beta must be positive");
    if (num_mix == 0) throw config_error("cutmix: num_mix must be positive");
  }
};

/// A box of rows [y0, y1) and columns [x0, x1).
struct cut_box {
  std::size_t y0 = 0, y1 = 0, x0 = 0, x1 = 0;
  std::size_t area() const { return (y1 - y0) * (x1 - x0); }
};

/// The reference's `rand_bbox`: sides ⌊H·√(1−λ)⌋ × ⌊W·√(1−λ)⌋ around a uniform centre, clipped
/// to the image.
inline cut_box cutmix_box(std::size_t h, std::size_t w, double lambda, rng& g) {
  const double cut = std::sqrt(std::max(0.0, 1.0 - lambda));
  const auto ch = static_cast<long>(std::floor(static_cast<double>(h) * cut));
  const auto cw = static_cast<long>(std::floor(static_cast<double>(w) * cut));
  const auto cy = static_cast<long>(g.index(h)), cx = static_cast<long>(g.index(w));
  auto clip = [](long v, std::size_t hi) {
    return static_cast<std::size_t>(std::clamp<long>(v, 0, static_cast<long>(hi)));
  };
  return {clip(cy - ch / 2, h), clip(cy + ch / 2, h), clip(cx - cw / 2, w), clip(cx + cw / 2, w)};
}

/// Mixes `b` in place and writes its soft targets, [b.n × n_classes] row-major, to `targets`,
/// with label smoothing applied on top: (1 − ε)·t + ε/K, which for an unmixed image is what
/// cross_entropy(…, ε) uses. `source` is scratch for the unmixed images (reused across calls).
/// Labels stay those of the unmixed images.
inline void cutmix(batch& b, std::size_t n_classes, double label_smoothing, const cutmix_config& c,
                   rng& g, std::vector<float>& targets, std::vector<float>& source) {
  c.validate();
  if (n_classes == 0) throw config_error("cutmix: n_classes must be positive");
  if (!(label_smoothing >= 0 && label_smoothing < 1))
    throw config_error("cutmix: label_smoothing must lie in [0, 1)");
  if (b.images.size() != b.n * b.image_size() || b.labels.size() != b.n)
    throw shape_error("cutmix: the batch holds " + std::to_string(b.images.size()) +
                      " values and " + std::to_string(b.labels.size()) + " labels for " +
                      std::to_string(b.n) + " images of " + std::to_string(b.image_size()));
  const std::size_t n = b.n, k = n_classes, plane = b.h * b.w;
  for (std::size_t i = 0; i < n; ++i)
    if (b.labels[i] < 0 || static_cast<std::size_t>(b.labels[i]) >= k)
      throw shape_error("cutmix: label " + std::to_string(b.labels[i]) + " of image " +
                        std::to_string(i) + " is outside [0, " + std::to_string(k) + ")");
  targets.assign(n * k, 0.0f);
  for (std::size_t i = 0; i < n; ++i) targets[i * k + static_cast<std::size_t>(b.labels[i])] = 1;
  source.assign(b.images.begin(), b.images.end());
  for (std::size_t i = 0; i < n; ++i) {
    float* t = targets.data() + i * k;
    for (std::size_t m = 0; m < c.num_mix; ++m) {
      if (!(g.uniform() < c.prob)) continue;
      const double lambda = g.beta(c.beta, c.beta);
      const std::size_t j = g.index(n);
      const cut_box box = cutmix_box(b.h, b.w, lambda, g);
      if (box.area() == 0) continue;
      for (std::size_t ch = 0; ch < b.c; ++ch) {
        float* dst = b.image(i) + ch * plane;
        const float* src = source.data() + j * b.image_size() + ch * plane;
        for (std::size_t y = box.y0; y < box.y1; ++y)
          std::copy(src + y * b.w + box.x0, src + y * b.w + box.x1, dst + y * b.w + box.x0);
      }
      const auto kept = static_cast<float>(1.0 - static_cast<double>(box.area()) / plane);
      for (std::size_t q = 0; q < k; ++q) t[q] *= kept;
      t[static_cast<std::size_t>(b.labels[j])] += 1.0f - kept;
    }
    const auto eps = static_cast<float>(label_smoothing);
    for (std::size_t q = 0; q < k; ++q) t[q] = (1.0f - eps) * t[q] + eps / static_cast<float>(k);
  }
}

}  // namespace nat::data
