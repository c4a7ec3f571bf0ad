#pragma once
/// \file Seeded train/validation split of a dataset (NAT's search validation set is held out from
/// the training set, nat_spec.md §5.4).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/core/rng.hpp"
#include "nat/data/image_dataset.hpp"

namespace nat::data {

/// The two parts of a train/validation split.
struct train_validation {
  image_dataset train;       ///< The images kept for training.
  image_dataset validation;  ///< The held-out images.
};

namespace detail {
inline train_validation split_by_count(const image_dataset& ds, std::size_t n_val,
                                       std::uint64_t seed, bool stratified) {
  const std::size_t n = ds.size();
  if (n_val > n)
    throw config_error("train_validation_split: n_val = " + std::to_string(n_val) +
                       " exceeds the " + std::to_string(n) + " images of " + ds.name());
  nat::rng r(seed);
  std::vector<char> is_val(n, 0);
  if (!stratified) {
    const std::vector<std::size_t> perm = r.permutation(n);
    for (std::size_t k = 0; k < n_val; ++k) is_val[perm[k]] = 1;
  } else {
    // Each class gives floor(n_val·n_c/n) images; the leftover slots go to the classes with the
    // largest remainders (ties: smaller class id), so the total is exactly n_val.
    const std::vector<std::size_t> counts = ds.class_counts();
    const std::size_t k = counts.size();
    std::vector<std::size_t> take(k);
    std::vector<std::pair<std::size_t, std::size_t>> rem(k);  // (remainder·n, class)
    std::size_t total = 0;
    for (std::size_t c = 0; c < k; ++c) {
      const std::size_t prod = n_val * counts[c];
      take[c] = prod / n;
      rem[c] = {prod % n, c};
      total += take[c];
    }
    std::stable_sort(rem.begin(), rem.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    for (std::size_t j = 0; total < n_val; ++j, ++total) ++take[rem[j].second];
    std::vector<std::vector<std::size_t>> members(k);
    for (std::size_t i = 0; i < n; ++i) members[std::size_t(ds.label(i))].push_back(i);
    for (std::size_t c = 0; c < k; ++c) {
      r.shuffle(members[c].begin(), members[c].end());
      for (std::size_t j = 0; j < take[c]; ++j) is_val[members[c][j]] = 1;
    }
  }
  std::vector<std::size_t> tr, va;
  tr.reserve(n - n_val);
  va.reserve(n_val);
  for (std::size_t i = 0; i < n; ++i) (is_val[i] ? va : tr).push_back(i);
  return {ds.subset(tr, "/train"), ds.subset(va, "/validation")};
}
}  // namespace detail

/// Splits `ds` into train and validation parts with a seeded shuffle; both keep the original image
/// order. `n_or_fraction` is the validation size: an integer count, or a floating-point fraction
/// in [0, 1] (rounded to the nearest count). With `stratified`, every class contributes in
/// proportion to its size (largest-remainder rounding). config_error for a count above size() or a
/// fraction outside [0, 1].
template <class Count, class = std::enable_if_t<std::is_arithmetic_v<Count>>>
train_validation train_validation_split(const image_dataset& ds, Count n_or_fraction,
                                        std::uint64_t seed, bool stratified = false) {
  if constexpr (std::is_floating_point_v<Count>) {
    const double f = static_cast<double>(n_or_fraction);
    if (!(f >= 0.0 && f <= 1.0))
      throw config_error("train_validation_split: fraction must be in [0, 1], got " +
                         std::to_string(f));
    return detail::split_by_count(ds, static_cast<std::size_t>(std::llround(f * double(ds.size()))),
                                  seed, stratified);
  } else {
    if constexpr (std::is_signed_v<Count>)
      if (n_or_fraction < 0)
        throw config_error("train_validation_split: n_val must be non-negative, got " +
                           std::to_string(n_or_fraction));
    return detail::split_by_count(ds, static_cast<std::size_t>(n_or_fraction), seed, stratified);
  }
}

}  // namespace nat::data
