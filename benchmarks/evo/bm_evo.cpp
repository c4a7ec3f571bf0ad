// nat::evo micro- and macro-benchmarks: non-dominated sorting, crowding distance, Das-Dennis and
// Riesz directions, NSGA-II on ZDT1 and NSGA-III on DTLZ2. The pagmo side-by-side comparison lives
// in benchmarks/compare/pagmo_evo.
#include <nat/evo/evo.hpp>

#include "bench_main.hpp"

namespace {

nat::points random_points(std::size_t n, std::size_t m, std::uint64_t seed) {
  nat::rng gen(seed);
  nat::points p(n, std::vector<double>(m));
  for (auto& r : p)
    for (double& v : r) v = gen.uniform();
  return p;
}

void bm_non_dominated_sort(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto m = static_cast<std::size_t>(state.range(1));
  const auto P = random_points(n, m, 1);
  std::size_t fronts = 0;
  for (auto _ : state) {
    auto f = nat::evo::non_dominated_sort(P);
    fronts = f.size();
    benchmark::DoNotOptimize(f);
  }
  state.counters["fronts"] = static_cast<double>(fronts);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(bm_non_dominated_sort)
    ->ArgsProduct({{200, 1000, 10000}, {2, 3, 5}})
    ->Unit(benchmark::kMillisecond);

void bm_crowding_distance(benchmark::State& state) {
  // Points on a 2-D anti-diagonal: one front, the NSGA-II case.
  const auto n = static_cast<std::size_t>(state.range(0));
  nat::points P(n);
  nat::rng gen(2);
  for (auto& r : P) {
    const double u = gen.uniform();
    r = {u, 1.0 - u};
  }
  for (auto _ : state) benchmark::DoNotOptimize(nat::evo::crowding_distance(P));
}
BENCHMARK(bm_crowding_distance)->Arg(200)->Arg(10000)->Unit(benchmark::kMicrosecond);

void bm_das_dennis(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(nat::evo::das_dennis(5, 6));
}
BENCHMARK(bm_das_dennis)->Unit(benchmark::kMicrosecond);

void bm_riesz_energy_directions(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(nat::evo::riesz_energy_directions(3, 100, 42));
}
BENCHMARK(bm_riesz_energy_directions)->Unit(benchmark::kMillisecond)->Iterations(3);

void bm_nsga2_zdt1(benchmark::State& state) {
  // pop 100, 25,100 evaluations (pagmo's 250 generations plus its initial population).
  const auto prob = nat::evo::zdt1(30);
  std::uint64_t seed = 0;
  for (auto _ : state) benchmark::DoNotOptimize(nat::evo::nsga2().solve(prob, 251, ++seed));
}
BENCHMARK(bm_nsga2_zdt1)->Unit(benchmark::kMillisecond);

void bm_nsga3_dtlz2(benchmark::State& state) {
  // Deb & Jain's 3-objective setting: 91 directions, pop 92, 250 generations.
  const auto prob = nat::evo::dtlz2(3);
  const auto dirs = nat::evo::das_dennis(3, 12);
  nat::evo::nsga3_params p;
  p.pop_size = 92;
  std::uint64_t seed = 0;
  for (auto _ : state) benchmark::DoNotOptimize(nat::evo::nsga3(p, dirs).solve(prob, 250, ++seed));
}
BENCHMARK(bm_nsga3_dtlz2)->Unit(benchmark::kMillisecond);

}  // namespace

NAT_BENCHMARK_MAIN()
