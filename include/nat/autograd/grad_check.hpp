#pragma once
/// \file Gradient checking against central finite differences (double precision).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "nat/autograd/backward.hpp"
#include "nat/autograd/grad_mode.hpp"
#include "nat/tensor/tensor.hpp"

namespace nat::autograd {

/// Tolerances of grad_check; an entry passes when |analytic - numeric| <= atol + rtol*|numeric|.
struct grad_check_options {
  double eps = 1e-6;           ///< finite-difference step
  double atol = 1e-6;          ///< absolute tolerance
  double rtol = 1e-4;          ///< relative tolerance
  std::uint64_t seed = 12345;  ///< seed of the random projection of the output
};

/// Outcome of grad_check: worst errors and where the worst one sits.
struct grad_check_result {
  bool ok = true;
  double max_abs_error = 0;
  double max_rel_error = 0;
  std::string worst;  ///< "input i, element j: analytic a, numeric n"
};

/// Checks the gradients of fn (inputs → tensor) with respect to every input that requires grad.
///
/// The output is projected on a fixed random tensor r (loss = Σ r⊙fn(x)) so every output entry is
/// tested; the analytic gradient comes from backward(out, r), the numeric one from central
/// differences of the loss with each input entry perturbed by ±eps. Inputs must be contiguous.
template <class Fn>
grad_check_result grad_check(Fn&& fn, const std::vector<tensor<double>>& inputs,
                             const grad_check_options& opt = {}) {
  for (const auto& x : inputs) x.zero_grad();
  const tensor<double> out = fn(inputs);
  const tensor<double> r = tensor<double>::randn(out.shape(), opt.seed);
  backward(out, r);

  auto loss = [&]() {
    no_grad guard;
    const std::vector<double> y = fn(inputs).to_vector();
    const std::vector<double> rv = r.to_vector();
    double s = 0;
    for (std::size_t i = 0; i < y.size(); ++i) s += y[i] * rv[i];
    return s;
  };

  grad_check_result res;
  double worst_excess = -1;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const auto& x = inputs[k];
    if (!x.requires_grad()) continue;
    if (!x.is_contiguous())
      throw shape_error("grad_check: input " + std::to_string(k) + " is not contiguous");
    const tensor<double> g = x.grad();
    const std::vector<double> ga =
        g.defined() ? g.to_vector() : std::vector<double>(x.numel(), 0.0);
    double* p = x.data();
    for (std::size_t i = 0; i < x.numel(); ++i) {
      const double keep = p[i];
      p[i] = keep + opt.eps;
      const double fp = loss();
      p[i] = keep - opt.eps;
      const double fm = loss();
      p[i] = keep;
      const double num = (fp - fm) / (2 * opt.eps);
      const double err = std::abs(ga[i] - num);
      const double rel = err / std::max(std::abs(num), 1e-12);
      res.max_abs_error = std::max(res.max_abs_error, err);
      if (std::abs(num) > opt.atol) res.max_rel_error = std::max(res.max_rel_error, rel);
      const double excess = err - (opt.atol + opt.rtol * std::abs(num));
      if (excess > worst_excess) {
        worst_excess = excess;
        res.worst = "input " + std::to_string(k) + ", element " + std::to_string(i) +
                    ": analytic " + std::to_string(ga[i]) + ", numeric " + std::to_string(num);
      }
      if (excess > 0) res.ok = false;
    }
  }
  return res;
}

}  // namespace nat::autograd
