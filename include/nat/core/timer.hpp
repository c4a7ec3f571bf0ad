#pragma once
/// \file Wall-clock stopwatch.
#include <chrono>

namespace nat {

/// Monotonic stopwatch started on construction.
class timer {
 public:
  timer() : start_(clock::now()) {}
  /// Restart from zero.
  void reset() { start_ = clock::now(); }
  /// Seconds since construction or the last reset.
  double seconds() const { return std::chrono::duration<double>(clock::now() - start_).count(); }

 private:
  using clock = std::chrono::steady_clock;
  clock::time_point start_;
};

}  // namespace nat
