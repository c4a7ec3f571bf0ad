// nat::metrics::hypervolume vs pagmo::hypervolume::compute (pagmo picks its default algorithm per
// dimension: hv3d for 3 objectives, WFG for 4 and more) on the same seeded fronts. Before timing,
// every case is checked for agreement to 1e-12 relative; the program exits non-zero otherwise.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nat/metrics/hypervolume.hpp>
#include <pagmo/utils/hypervolume.hpp>

#include "fronts.hpp"

#ifndef CMP_FLAGS
#define CMP_FLAGS "?"
#endif
#ifndef CMP_BUILD_TYPE
#define CMP_BUILD_TYPE "?"
#endif

namespace {

const std::size_t dims[] = {3, 4, 5};
const std::size_t sizes[] = {100, 200};

std::vector<double> ref_for(std::size_t d) { return std::vector<double>(d, 1.1); }

// Args: objectives, points, front kind.
void bm_nat(benchmark::State& state) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const auto n = static_cast<std::size_t>(state.range(1));
  const int kind = static_cast<int>(state.range(2));
  const nat::points p = nat_bench::make_front(kind, n, d);
  const auto ref = ref_for(d);
  for (auto _ : state) benchmark::DoNotOptimize(nat::metrics::hypervolume(p, ref));
  state.SetLabel(nat_bench::front_name(kind));
}

void bm_pagmo(benchmark::State& state) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const auto n = static_cast<std::size_t>(state.range(1));
  const int kind = static_cast<int>(state.range(2));
  const nat::points p = nat_bench::make_front(kind, n, d);
  const auto ref = ref_for(d);
  const pagmo::hypervolume hv(p, true);
  for (auto _ : state) benchmark::DoNotOptimize(hv.compute(ref));
  state.SetLabel(nat_bench::front_name(kind));
}

BENCHMARK(bm_nat)->ArgsProduct({{3, 4, 5}, {100, 200}, {0, 1}})->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_pagmo)->ArgsProduct({{3, 4, 5}, {100, 200}, {0, 1}})->Unit(benchmark::kMicrosecond);

bool check_agreement() {
  bool ok = true;
  for (int kind = 0; kind < 2; ++kind)
    for (std::size_t d : dims)
      for (std::size_t n : sizes) {
        const nat::points p = nat_bench::make_front(kind, n, d);
        const auto ref = ref_for(d);
        const double a = nat::metrics::hypervolume(p, ref);
        const double b = pagmo::hypervolume(p, true).compute(ref);
        const double rel = std::fabs(a - b) / std::max(std::fabs(a), std::fabs(b));
        std::printf("agreement %-9s d=%zu n=%3zu  nat %.17g  pagmo %.17g  rel %.2e\n",
                    nat_bench::front_name(kind), d, n, a, b, rel);
        ok = ok && rel <= 1e-12;
      }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  std::printf("compare build: compiler %s, build type %s, flags [%s]\n", __VERSION__,
              CMP_BUILD_TYPE, CMP_FLAGS);
  if (!check_agreement()) {
    std::printf("nat and pagmo disagree beyond 1e-12 relative\n");
    return 1;
  }
  ::benchmark::Initialize(&argc, argv);
  if (::benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  ::benchmark::RunSpecifiedBenchmarks();
  ::benchmark::Shutdown();
  return 0;
}
