#pragma once
/// \file Powers for the variation operators: SBX and polynomial mutation raise to eta + 1 and to
/// 1 / (eta + 1) several times per child, and std::pow dominated NSGA-II's run time on ZDT1.
#include <cmath>

namespace nat::evo::detail {

/// x^e; integer exponents in [-64, 64] (the usual eta + 1) by repeated squaring, others std::pow.
inline double power(double x, double e) {
  if (e == static_cast<double>(static_cast<int>(e)) && e >= -64.0 && e <= 64.0) {
    int k = static_cast<int>(e);
    const bool inv = k < 0;
    if (inv) k = -k;
    double r = 1.0, b = x;
    while (k > 0) {
      if (k & 1) r *= b;
      b *= b;
      k >>= 1;
    }
    return inv ? 1.0 / r : r;
  }
  return std::pow(x, e);
}

/// x^(1/n) for x >= 0 via exp(log(x) / n), cheaper than std::pow with the same range.
inline double root(double x, double inv_n) { return x > 0.0 ? std::exp(std::log(x) * inv_n) : 0.0; }

}  // namespace nat::evo::detail
