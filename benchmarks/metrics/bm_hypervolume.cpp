// Hypervolume (exact and Monte Carlo) and IGD timings; the pagmo side-by-side comparison is
// benchmarks/compare/pagmo_hv (docs/performance/metrics.md has the numbers).
#include <nat/metrics/hypervolume.hpp>
#include <nat/metrics/igd.hpp>

#include "bench_main.hpp"
#include "fronts.hpp"

namespace {

// Args: objectives, points, front kind (0 sphere, 1 random non-dominated).
void bm_hypervolume(benchmark::State& state) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const auto n = static_cast<std::size_t>(state.range(1));
  const int kind = static_cast<int>(state.range(2));
  const nat::points p = nat_bench::make_front(kind, n, d);
  const std::vector<double> ref(d, 1.1);
  double hv = 0;
  for (auto _ : state) {
    hv = nat::metrics::hypervolume(p, ref);
    benchmark::DoNotOptimize(hv);
  }
  state.counters["hv"] = hv;
  state.SetLabel(nat_bench::front_name(kind));
}
BENCHMARK(bm_hypervolume)
    ->ArgsProduct({{2, 3, 4, 5}, {100, 200}, {0, 1}})
    ->Args({3, 10000, 0})
    ->Args({6, 100, 0})
    ->Unit(benchmark::kMicrosecond);

void bm_hypervolume_monte_carlo(benchmark::State& state) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const nat::points p = nat_bench::sphere_front(100, d, 7);
  const std::vector<double> ref(d, 1.1);
  for (auto _ : state)
    benchmark::DoNotOptimize(nat::metrics::hypervolume_monte_carlo(p, ref, 10000, 1).value);
}
BENCHMARK(bm_hypervolume_monte_carlo)->Arg(5)->Arg(8)->Unit(benchmark::kMillisecond);

void bm_igd(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const nat::points p = nat_bench::sphere_front(n, 3, 1), ref = nat_bench::sphere_front(1000, 3, 2);
  for (auto _ : state) benchmark::DoNotOptimize(nat::metrics::igd(p, ref));
}
BENCHMARK(bm_igd)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace

NAT_BENCHMARK_MAIN();
