#pragma once
/// \file Accuracy of a network on a dataset, and the batches used to recalibrate BatchNorm
/// statistics of a subnet (ofa_spec.md §5, nat_spec.md §5.4).
#include <cmath>
#include <cstddef>
#include <vector>

#include "nat/autograd/grad_mode.hpp"
#include "nat/core/error.hpp"
#include "nat/data/batch_loader.hpp"
#include "nat/data/image_dataset.hpp"
#include "nat/data/transform.hpp"
#include "nat/nn/mobilenet_v3.hpp"
#include "nat/ops/loss.hpp"
#include "nat/train/batch_tensor.hpp"

namespace nat::train {

/// Top-1 accuracy (%) and mean cross-entropy of a network on a dataset.
struct eval_result {
  double top1 = 0;
  double loss = 0;
  std::size_t images = 0;
};

/// Evaluates `net` in eval mode without gradients on `ds` at `resolution` (0 = the images' own
/// size) with the (deterministic) `transform`; the network's mode is restored afterwards.
template <class T>
eval_result evaluate(nn::basic_mobilenet_v3<T>& net, const data::image_dataset& ds,
                     const data::image_transform& transform, std::size_t resolution,
                     std::size_t batch_size = 250) {
  if (ds.empty()) throw config_error("evaluate: dataset " + ds.name() + " is empty");
  data::loader_config lc;
  lc.batch_size = batch_size;
  lc.shuffle = false;
  lc.resolution = resolution;
  data::batch_loader loader(ds, transform, lc);
  const bool was_training = net.is_training();
  net.eval();
  autograd::no_grad guard;
  eval_result r;
  double loss_sum = 0, correct = 0;
  data::batch b;
  loader.start_epoch(0);
  while (loader.next(b)) {
    const auto logits = net.forward(batch_to_tensor<T>(b)).contiguous();
    const std::size_t k = logits.shape()[1];
    for (std::size_t i = 0; i < b.n; ++i) {
      const T* row = logits.data() + i * k;
      std::size_t best = 0;
      for (std::size_t j = 1; j < k; ++j)
        if (row[j] > row[best]) best = j;
      correct += best == static_cast<std::size_t>(b.labels[i]);
    }
    loss_sum += static_cast<double>(ops::cross_entropy(logits, b.labels, T(0)).item()) *
                static_cast<double>(b.n);
    r.images += b.n;
  }
  net.train(was_training);
  r.top1 = 100.0 * correct / static_cast<double>(r.images);
  r.loss = loss_sum / static_cast<double>(r.images);
  return r;
}

/// `n_images` training images of a fixed seeded subset, transformed with the training pipeline at
/// `resolution`, in batches of `batch_size`: the inputs BN recalibration runs on.
template <class T>
std::vector<tensor<T>> calibration_batches(const data::image_dataset& ds,
                                           const data::image_transform& train_transform,
                                           std::size_t resolution, std::size_t n_images,
                                           std::size_t batch_size, std::uint64_t seed) {
  if (n_images == 0 || batch_size == 0)
    throw config_error("calibration_batches: n_images and batch_size must be positive");
  rng g(seed);
  auto order = g.permutation(ds.size());
  order.resize(std::min(n_images, ds.size()));
  const auto subset = ds.subset(order);
  data::loader_config lc;
  lc.batch_size = batch_size;
  lc.shuffle = false;
  lc.resolution = resolution;
  lc.seed = seed;
  lc.prefetch = false;
  data::batch_loader loader(subset, train_transform, lc);
  std::vector<tensor<T>> out;
  data::batch b;
  loader.start_epoch(0);
  while (loader.next(b)) out.push_back(batch_to_tensor<T>(b));
  return out;
}

}  // namespace nat::train
