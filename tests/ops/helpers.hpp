#pragma once
// Shared by the ops tests: finite-difference checks and float-vs-oracle comparisons.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <nat/autograd/grad_check.hpp>
#include <vector>

namespace nat_test {

// max |a − b| / max |b|: a norm-wise relative error (entry-wise ratios are meaningless near 0).
template <class A, class B>
double rel_error(const std::vector<A>& a, const std::vector<B>& b) {
  REQUIRE(a.size() == b.size());
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    num = std::max(num, std::abs(double(a[i]) - double(b[i])));
    den = std::max(den, std::abs(double(b[i])));
  }
  return den > 0 ? num / den : num;
}

template <class Fn>
void check_gradients(Fn&& fn, const std::vector<nat::tensord>& inputs,
                     nat::autograd::grad_check_options opt = {}) {
  for (const auto& x : inputs) REQUIRE(x.requires_grad());
  const auto r = nat::autograd::grad_check(fn, inputs, opt);
  CHECK_MESSAGE(r.ok, r.worst);
}

inline nat::tensord param(const nat::shape& s, std::uint64_t seed, double scale = 1.0) {
  return nat::tensord::randn(s, seed, 0.0, scale).set_requires_grad(true);
}

}  // namespace nat_test
