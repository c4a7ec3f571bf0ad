#pragma once
/// \file log_softmax and the losses NAT trains with: cross entropy with label smoothing, and the
/// soft-target cross entropy of OFA's knowledge distillation (mean over the batch).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include "nat/autograd/backward.hpp"
#include "nat/ops/detail/common.hpp"
#include "nat/tensor/tensor.hpp"

namespace nat::ops {
namespace detail {

// Row-wise log-softmax of a contiguous [n,k] block (max-shifted for stability).
template <class T>
void log_softmax_rows(const T* x, T* y, std::size_t n, std::size_t k) {
  for (std::size_t r = 0; r < n; ++r) {
    const T* row = x + r * k;
    const T m = *std::max_element(row, row + k);
    double s = 0;
    for (std::size_t j = 0; j < k; ++j) s += std::exp(double(row[j] - m));
    const T lse = m + T(std::log(s));
    for (std::size_t j = 0; j < k; ++j) y[r * k + j] = row[j] - lse;
  }
}

// loss = mean_r −Σ_j t[r,j]·logp[r,j] where targets t rows sum to 1; grad = (softmax − t)/n.
template <class T>
tensor<T> soft_target_loss(const char* op, const tensor<T>& logits, const tensor<T>& target) {
  const std::size_t n = logits.size(0), k = logits.size(1);
  const tensor<T> xc = logits.contiguous();
  auto logp = tensor<T>::empty({n, k});
  log_softmax_rows(xc.data(), logp.data(), n, k);
  const T* t = target.data();
  double total = 0;
  for (std::size_t i = 0; i < n * k; ++i) total -= double(t[i]) * double(logp.data()[i]);
  auto y = tensor<T>::full({1}, T(n ? total / double(n) : 0.0));
  autograd::record<T>(op, y, {logits}, [logp, target, n, k](const tensor<T>& gy, auto& gx) {
    gx[0] = tensor<T>::empty({n, k});
    const T scale = gy.data()[0] / T(n);
    const T *lp = logp.data(), *tt = target.data();
    T* o = gx[0].data();
    for (std::size_t r = 0; r < n; ++r) {
      T tsum = 0;
      for (std::size_t j = 0; j < k; ++j) tsum += tt[r * k + j];
      for (std::size_t j = 0; j < k; ++j)
        o[r * k + j] = scale * (std::exp(lp[r * k + j]) * tsum - tt[r * k + j]);
    }
  });
  return y;
}

}  // namespace detail

/// Log-softmax over dimension 1 of [N, K] logits.
template <class T>
tensor<T> log_softmax(const tensor<T>& x) {
  detail::require_rank("log_softmax", "input", x, 2);
  const std::size_t n = x.size(0), k = x.size(1);
  const tensor<T> xc = x.contiguous();
  auto y = tensor<T>::empty({n, k});
  detail::log_softmax_rows(xc.data(), y.data(), n, k);
  autograd::record<T>(
      "log_softmax", y, {x}, [yd = y.detach(), n, k](const tensor<T>& gy, auto& gx) {
        // gx = gy − softmax · Σ_j gy
        gx[0] = tensor<T>::empty({n, k});
        for (std::size_t r = 0; r < n; ++r) {
          T s = 0;
          for (std::size_t j = 0; j < k; ++j) s += gy.data()[r * k + j];
          for (std::size_t j = 0; j < k; ++j)
            gx[0].data()[r * k + j] = gy.data()[r * k + j] - std::exp(yd.data()[r * k + j]) * s;
        }
      });
  return y;
}

/// Mean cross entropy of [N, K] logits against integer labels in [0, K), with PyTorch's label
/// smoothing (target = (1−ε)·onehot + ε/K).
template <class T, class Label>
tensor<T> cross_entropy(const tensor<T>& logits, const std::vector<Label>& labels,
                        double label_smoothing = 0.0) {
  detail::require_rank("cross_entropy", "logits", logits, 2);
  const std::size_t n = logits.size(0), k = logits.size(1);
  if (labels.size() != n)
    throw shape_error("cross_entropy: logits have shape " + to_string(logits.shape()) + ", got " +
                      std::to_string(labels.size()) + " labels");
  if (!(label_smoothing >= 0.0 && label_smoothing <= 1.0))
    throw config_error("cross_entropy: label_smoothing must be in [0, 1]");
  auto target = tensor<T>::full({n, k}, T(label_smoothing / double(k)));
  for (std::size_t r = 0; r < n; ++r) {
    const auto l = labels[r];
    bool negative = false;
    if constexpr (std::is_signed_v<Label>) negative = l < 0;
    if (negative || static_cast<std::size_t>(l) >= k)
      throw shape_error("cross_entropy: label " + std::to_string(l) + " at row " +
                        std::to_string(r) + " is outside [0, " + std::to_string(k) + ")");
    target.data()[r * k + static_cast<std::size_t>(l)] += T(1.0 - label_smoothing);
  }
  return detail::soft_target_loss("cross_entropy", logits, target);
}

/// Mean over the batch of −Σ_k p·log_softmax(logits) for target probabilities p [N, K] (OFA's
/// distillation loss; no gradient flows to the target).
template <class T>
tensor<T> soft_cross_entropy(const tensor<T>& logits, const tensor<T>& target_probs) {
  detail::require_rank("soft_cross_entropy", "logits", logits, 2);
  detail::require_same_shape("soft_cross_entropy", "logits", logits, "target", target_probs);
  return detail::soft_target_loss("soft_cross_entropy", logits, target_probs.contiguous().detach());
}

}  // namespace nat::ops
