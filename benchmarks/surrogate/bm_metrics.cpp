// Kendall tau-b (O(n log n)) timing on archive-sized and larger inputs.
#include <benchmark/benchmark.h>

#include <nat/core/rng.hpp>
#include <nat/metrics/correlation.hpp>
#include <vector>

static void bm_kendall_tau(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  nat::rng r(1);
  std::vector<double> a(n), b(n);
  for (std::size_t i = 0; i < n; ++i) {
    a[i] = static_cast<double>(r.uniform_int(0, 50));
    b[i] = a[i] + r.normal();
  }
  for (auto _ : state) benchmark::DoNotOptimize(nat::metrics::kendall_tau(a, b));
  state.SetComplexityN(state.range(0));
}
BENCHMARK(bm_kendall_tau)->RangeMultiplier(10)->Range(100, 100000)->Complexity();
