#pragma once
/// \file Learning-rate schedules, evaluated per optimiser step (as timm's and OFA's per-iteration
/// schedulers), so a resumed run continues exactly where it stopped.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "nat/core/error.hpp"

namespace nat::nn::optim {

/// A schedule: learning rate as a function of the global step. Plain data so it can be
/// checkpointed.
struct lr_schedule {
  enum class kind { constant, cosine, step };
  kind type = kind::cosine;
  double base_lr = 0.1;  ///< peak learning rate (after warm-up)
  std::size_t total_steps =
      1;  ///< length of the schedule including warm-up (cosine reaches final_lr)
  std::size_t warmup_steps = 0;  ///< linear warm-up from warmup_lr to base_lr
  double warmup_lr = 0.0;
  double final_lr = 0.0;      ///< cosine floor
  std::size_t step_size = 1;  ///< kind::step: multiply by gamma every step_size steps
  double gamma = 0.1;

  /// Throws config_error on inconsistent settings.
  void validate() const {
    if (!(base_lr > 0) || !std::isfinite(base_lr))
      throw config_error("lr_schedule: base_lr must be positive and finite");
    if (!(warmup_lr >= 0) || !(final_lr >= 0))
      throw config_error("lr_schedule: warmup_lr and final_lr must be >= 0");
    if (type == kind::cosine && total_steps == 0)
      throw config_error("lr_schedule: cosine needs total_steps > 0");
    if (warmup_steps > total_steps && type == kind::cosine)
      throw config_error("lr_schedule: warmup_steps (" + std::to_string(warmup_steps) +
                         ") exceed total_steps (" + std::to_string(total_steps) + ")");
    if (type == kind::step && (step_size == 0 || !(gamma > 0)))
      throw config_error("lr_schedule: step needs step_size > 0 and gamma > 0");
  }

  /// Learning rate at global step t (0-based).
  double at(std::size_t t) const {
    if (t < warmup_steps) {
      return warmup_lr +
             (base_lr - warmup_lr) * static_cast<double>(t) / static_cast<double>(warmup_steps);
    }
    switch (type) {
      case kind::constant:
        return base_lr;
      case kind::step: {
        const std::size_t k = (t - warmup_steps) / step_size;
        return base_lr * std::pow(gamma, static_cast<double>(k));
      }
      case kind::cosine:
      default: {
        const std::size_t span = total_steps - warmup_steps;
        if (span == 0) return base_lr;
        const double p =
            std::min(1.0, static_cast<double>(t - warmup_steps) / static_cast<double>(span));
        return final_lr + 0.5 * (base_lr - final_lr) * (1.0 + std::cos(M_PI * p));
      }
    }
  }
};

/// Cosine decay to `final_lr` over `total_steps` with `warmup_steps` of linear warm-up from
/// `warmup_lr`.
inline lr_schedule cosine_schedule(double base_lr, std::size_t total_steps,
                                   std::size_t warmup_steps = 0, double warmup_lr = 0.0,
                                   double final_lr = 0.0) {
  lr_schedule s;
  s.type = lr_schedule::kind::cosine;
  s.base_lr = base_lr;
  s.total_steps = total_steps;
  s.warmup_steps = warmup_steps;
  s.warmup_lr = warmup_lr;
  s.final_lr = final_lr;
  s.validate();
  return s;
}

/// A constant learning rate.
inline lr_schedule constant_schedule(double lr) {
  lr_schedule s;
  s.type = lr_schedule::kind::constant;
  s.base_lr = lr;
  s.validate();
  return s;
}

/// Step decay: lr·gamma^⌊t/step_size⌋.
inline lr_schedule step_schedule(double lr, std::size_t step_size, double gamma) {
  lr_schedule s;
  s.type = lr_schedule::kind::step;
  s.base_lr = lr;
  s.step_size = step_size;
  s.gamma = gamma;
  s.validate();
  return s;
}

}  // namespace nat::nn::optim
