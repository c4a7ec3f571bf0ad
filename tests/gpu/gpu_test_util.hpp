#pragma once
// Shared by the GPU tests: the skip rule, random data and the error measure. The CPU references
// live in the test files themselves, naive and in double, as the oracles (STYLE: naive references
// as oracles).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <nat/ops/cuda/memory.hpp>
#include <random>
#include <vector>

namespace nat_gpu_test {

/// True when a CUDA device is usable; otherwise logs why the test is skipped.
inline bool has_device() {
  if (nat::ops::cuda::device_count() > 0) return true;
  MESSAGE("no CUDA device (or no driver): GPU part skipped");
  return false;
}

/// Skips the rest of the test case when there is no device.
#define NAT_REQUIRE_GPU()                      \
  do {                                         \
    if (!::nat_gpu_test::has_device()) return; \
  } while (0)

/// Uniform [-1, 1) floats from a fixed seed.
inline std::vector<float> random_vector(std::size_t n, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

/// max |got - want| / max |want| (0 when both are all zero): relative to the tensor's scale, so
/// entries that cancel to ~0 do not blow it up.
inline double rel_error(const std::vector<float>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  double num = 0.0;
  double den = 0.0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    num = std::max(num, std::abs(static_cast<double>(got[i]) - want[i]));
    den = std::max(den, std::abs(want[i]));
  }
  return den == 0.0 ? num : num / den;
}

/// Device upload of a host vector.
inline nat::ops::cuda::device_buffer<float> upload(const std::vector<float>& v) {
  return nat::ops::cuda::device_buffer<float>(v);
}

/// Waits for the device and turns any asynchronous error into a test failure.
inline void sync() { nat::ops::cuda::check(nat::ops::cuda::synchronize(), "synchronize"); }

constexpr double forward_tol = 1e-5;
constexpr double gradient_tol = 1e-4;

}  // namespace nat_gpu_test
