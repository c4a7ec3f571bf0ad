#pragma once
/// \file Optimisers over named parameters: SGD (momentum, Nesterov) and Adam/AdamW, with OFA's rule
/// that BN parameters and biases get no weight decay, and global gradient-norm clipping.
///
/// Update rules follow PyTorch's `torch.optim.SGD` / `Adam` / `AdamW` exactly (tests compare with
/// values PyTorch produced), so recipes from the reference code carry over unchanged.
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "nat/core/error.hpp"
#include "nat/tensor/tensor.hpp"

namespace nat::nn::optim {

/// A trainable tensor with its state-dict name.
template <class T>
struct named_parameter {
  std::string name;
  tensor<T> value;
};

/// OFA's no-decay rule: parameters whose name contains "bn" or "bias" are not decayed.
inline bool default_no_decay(const std::string& name) {
  return name.find("bn") != std::string::npos || name.find("bias") != std::string::npos;
}

/// Global L2 norm of the gradients of `params` (parameters without a gradient count as zero).
template <class T>
double grad_norm(const std::vector<named_parameter<T>>& params) {
  double s = 0.0;
  for (const auto& p : params) {
    const auto g = p.value.grad();
    if (!g.defined()) continue;
    const auto gc = g.contiguous();
    const T* d = gc.data();
    for (std::size_t i = 0; i < gc.numel(); ++i) s += static_cast<double>(d[i]) * d[i];
  }
  return std::sqrt(s);
}

/// Scales gradients so that their global norm is at most `max_norm`
/// (torch.nn.utils.clip_grad_norm_); returns the norm before clipping (NaN/inf is returned as is,
/// for the caller to stop on).
template <class T>
double clip_grad_norm(const std::vector<named_parameter<T>>& params, double max_norm) {
  if (!(max_norm > 0)) throw config_error("clip_grad_norm: max_norm must be positive");
  const double norm = grad_norm(params);
  if (!std::isfinite(norm)) return norm;
  const double scale = max_norm / (norm + 1e-6);
  if (scale >= 1.0) return norm;
  for (const auto& p : params) {
    auto g = p.value.grad();
    if (!g.defined()) continue;
    if (!g.is_contiguous())
      throw shape_error("clip_grad_norm: gradient of " + p.name + " is not contiguous");
    T* d = g.data();
    for (std::size_t i = 0; i < g.numel(); ++i) d[i] = static_cast<T>(d[i] * scale);
  }
  return norm;
}

namespace detail {
template <class T>
void check_params(const std::vector<named_parameter<T>>& params, const char* who) {
  for (const auto& p : params) {
    if (!p.value.defined())
      throw config_error(std::string(who) + ": parameter " + p.name + " is empty");
    if (!p.value.is_contiguous())
      throw shape_error(std::string(who) + ": parameter " + p.name + " is not contiguous");
  }
}
}  // namespace detail

/// Settings of sgd (PyTorch semantics).
struct sgd_params {
  double lr = 0.1;
  double momentum = 0.9;
  double weight_decay = 0.0;
  bool nesterov = false;
  bool no_decay_bn_bias = true;  ///< apply default_no_decay
};

/// Stochastic gradient descent with momentum (optionally Nesterov) and L2 weight decay.
template <class T>
class sgd {
 public:
  sgd(std::vector<named_parameter<T>> params, sgd_params p) : params_(std::move(params)), p_(p) {
    detail::check_params(params_, "sgd");
    if (!(p_.lr >= 0) || !(p_.momentum >= 0) || !(p_.weight_decay >= 0))
      throw config_error("sgd: lr, momentum and weight_decay must be >= 0");
    if (p_.nesterov && p_.momentum <= 0) throw config_error("sgd: Nesterov needs momentum > 0");
    buf_.resize(params_.size());
  }

  /// Sets the learning rate of the next step (schedules call this every step).
  void set_lr(double lr) { p_.lr = lr; }
  double lr() const { return p_.lr; }
  const std::vector<named_parameter<T>>& parameters() const { return params_; }

  /// One update from the accumulated gradients; parameters without a gradient are left alone.
  void step() {
    for (std::size_t k = 0; k < params_.size(); ++k) {
      auto& prm = params_[k];
      const auto g = prm.value.grad();
      if (!g.defined()) continue;
      const auto gc = g.contiguous();
      const double wd = p_.no_decay_bn_bias && default_no_decay(prm.name) ? 0.0 : p_.weight_decay;
      T* w = prm.value.data();
      const T* gd = gc.data();
      const std::size_t n = prm.value.numel();
      if (p_.momentum > 0 && !buf_[k].defined()) {
        buf_[k] = tensor<T>::empty(prm.value.shape());
        T* b = buf_[k].data();
        for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<T>(gd[i] + wd * w[i]);
        apply(w, b, gd, wd, n, /*first=*/true);
      } else if (p_.momentum > 0) {
        apply(w, buf_[k].data(), gd, wd, n, false);
      } else {
        for (std::size_t i = 0; i < n; ++i)
          w[i] = static_cast<T>(w[i] - p_.lr * (gd[i] + wd * w[i]));
      }
    }
  }

  /// Clears every parameter's gradient.
  void zero_grad() {
    for (auto& prm : params_) prm.value.zero_grad();
  }

  /// Momentum buffers by parameter name (for checkpoints); parameters without one are absent.
  std::vector<std::pair<std::string, tensor<T>>> state() const {
    std::vector<std::pair<std::string, tensor<T>>> s;
    for (std::size_t k = 0; k < params_.size(); ++k)
      if (buf_[k].defined()) s.emplace_back("momentum." + params_[k].name, buf_[k]);
    return s;
  }
  /// Restores what state() returned (copies); unknown names or shapes are a config_error.
  void load_state(const std::vector<std::pair<std::string, tensor<T>>>& s) {
    for (auto& b : buf_) b = tensor<T>();
    for (const auto& kv : s) {
      bool found = false;
      for (std::size_t k = 0; k < params_.size(); ++k) {
        if (kv.first != "momentum." + params_[k].name) continue;
        if (kv.second.shape() != params_[k].value.shape())
          throw config_error("sgd::load_state: " + kv.first + " has shape " +
                             to_string(kv.second.shape()) + ", parameter has " +
                             to_string(params_[k].value.shape()));
        buf_[k] = kv.second.clone();
        found = true;
      }
      if (!found) throw config_error("sgd::load_state: no parameter for state " + kv.first);
    }
  }

 private:
  void apply(T* w, T* b, const T* g, double wd, std::size_t n, bool first) {
    const double m = p_.momentum;
    for (std::size_t i = 0; i < n; ++i) {
      const double d = g[i] + wd * w[i];
      if (!first) b[i] = static_cast<T>(m * b[i] + d);
      const double step = p_.nesterov ? d + m * b[i] : b[i];
      w[i] = static_cast<T>(w[i] - p_.lr * step);
    }
  }

  std::vector<named_parameter<T>> params_;
  sgd_params p_;
  std::vector<tensor<T>> buf_;
};

/// Settings of adam.
struct adam_params {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool decoupled = false;        ///< AdamW (decay applied to the weights, not the gradient)
  bool no_decay_bn_bias = true;  ///< apply default_no_decay
};

/// Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), with bias correction.
template <class T>
class adam {
 public:
  adam(std::vector<named_parameter<T>> params, adam_params p) : params_(std::move(params)), p_(p) {
    detail::check_params(params_, "adam");
    if (!(p_.lr >= 0) || !(p_.beta1 >= 0 && p_.beta1 < 1) || !(p_.beta2 >= 0 && p_.beta2 < 1) ||
        !(p_.eps > 0) || !(p_.weight_decay >= 0))
      throw config_error("adam: need lr >= 0, betas in [0, 1), eps > 0, weight_decay >= 0");
    m_.resize(params_.size());
    v_.resize(params_.size());
    t_.assign(params_.size(), 0);
  }

  void set_lr(double lr) { p_.lr = lr; }
  double lr() const { return p_.lr; }
  const std::vector<named_parameter<T>>& parameters() const { return params_; }

  /// One update from the accumulated gradients; parameters without a gradient are left alone.
  void step() {
    for (std::size_t k = 0; k < params_.size(); ++k) {
      auto& prm = params_[k];
      const auto g = prm.value.grad();
      if (!g.defined()) continue;
      const auto gc = g.contiguous();
      const std::size_t n = prm.value.numel();
      if (!m_[k].defined()) {
        m_[k] = tensor<T>::zeros(prm.value.shape());
        v_[k] = tensor<T>::zeros(prm.value.shape());
      }
      const double wd = p_.no_decay_bn_bias && default_no_decay(prm.name) ? 0.0 : p_.weight_decay;
      const double t = static_cast<double>(++t_[k]);
      const double bc1 = 1.0 - std::pow(p_.beta1, t), bc2 = 1.0 - std::pow(p_.beta2, t);
      T* w = prm.value.data();
      T* m = m_[k].data();
      T* v = v_[k].data();
      const T* gd = gc.data();
      for (std::size_t i = 0; i < n; ++i) {
        double gi = gd[i];
        if (p_.decoupled)
          w[i] = static_cast<T>(w[i] * (1.0 - p_.lr * wd));
        else
          gi += wd * w[i];
        m[i] = static_cast<T>(p_.beta1 * m[i] + (1 - p_.beta1) * gi);
        v[i] = static_cast<T>(p_.beta2 * v[i] + (1 - p_.beta2) * gi * gi);
        const double denom = std::sqrt(v[i] / bc2) + p_.eps;
        w[i] = static_cast<T>(w[i] - p_.lr * (m[i] / bc1) / denom);
      }
    }
  }

  /// Clears every parameter's gradient.
  void zero_grad() {
    for (auto& prm : params_) prm.value.zero_grad();
  }

 private:
  std::vector<named_parameter<T>> params_;
  adam_params p_;
  std::vector<tensor<T>> m_, v_;
  std::vector<std::size_t> t_;
};

}  // namespace nat::nn::optim
