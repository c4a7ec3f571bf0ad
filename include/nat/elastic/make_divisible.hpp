#pragma once
/// \file OFA's channel rounding: every width in the supernet is a multiple of 8.
#include <cmath>

namespace nat::elastic {

/// OFA `make_divisible(v, divisor)` (ofa_spec notation `md`): round `v` to the nearest multiple of
/// `divisor` (at least `divisor`), and add one `divisor` when rounding lost more than 10 %.
inline int make_divisible(double v, int divisor = 8) {
  int n = static_cast<int>(std::floor((v + divisor / 2.0) / divisor)) * divisor;
  if (n < divisor) n = divisor;
  if (n < 0.9 * v) n += divisor;
  return n;
}

/// Python's round() for the non-negative values channel arithmetic produces (half to even).
inline int python_round(double v) {
  const double f = std::floor(v);
  const double diff = v - f;
  if (diff > 0.5) return static_cast<int>(f) + 1;
  if (diff < 0.5) return static_cast<int>(f);
  return static_cast<int>(f) + (static_cast<long long>(f) % 2 == 0 ? 0 : 1);
}

/// Middle (expanded) width of an MBConv block: `md(round(c_in * e))` (ofa_spec §1.1, §2.6).
inline int middle_channels(int c_in, double e) { return make_divisible(python_round(c_in * e)); }

/// Squeeze-and-excite hidden width: `md(mid // 4)` (ofa_spec §2.4).
inline int se_channels(int mid) { return make_divisible(mid / 4); }

}  // namespace nat::elastic
