// Genome operations of NAT's search space: they run for every EA offspring (repair, decode for
// dedup, features for the surrogate), so they should cost well under a microsecond.
#include <nat/core/rng.hpp>
#include <nat/search/search.hpp>

#include "bench_main.hpp"

namespace {

std::vector<nat::search::genome> genomes(std::size_t n) {
  const nat::search::nat_mbv3_space s;
  nat::rng r(1);
  std::vector<nat::search::genome> g;
  for (std::size_t i = 0; i < n; ++i) {
    auto x = s.sample(r);
    x[4 + 4 * (i % 5)] = 0;  // some skips in the middle, so repair has work to do
    g.push_back(x);
  }
  return g;
}

void bm_repair(benchmark::State& state) {
  const nat::search::nat_mbv3_space s;
  const auto g = genomes(256);
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(s.repair(g[i++ & 255]));
}
BENCHMARK(bm_repair);

void bm_decode(benchmark::State& state) {
  const nat::search::nat_mbv3_space s;
  const auto g = genomes(256);
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(s.decode(g[i++ & 255]));
}
BENCHMARK(bm_decode);

void bm_features_one_hot(benchmark::State& state) {
  const nat::search::nat_mbv3_space s;
  const auto g = genomes(256);
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(s.features(g[i++ & 255]));
}
BENCHMARK(bm_features_one_hot);

void bm_unique_indices(benchmark::State& state) {
  const nat::search::nat_mbv3_space s;
  const auto g = genomes(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(nat::search::unique_indices(s, g));
}
BENCHMARK(bm_unique_indices)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace

NAT_BENCHMARK_MAIN();
