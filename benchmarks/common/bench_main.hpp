#pragma once
// Shared main for nat's benchmark programs: prints the build configuration first, then runs Google
// Benchmark (pass --benchmark_out=FILE.json --benchmark_out_format=json to keep a run).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <nat/core/parallel.hpp>

#ifndef NAT_BUILD_FLAGS
#define NAT_BUILD_FLAGS "?"
#endif
#ifndef NAT_BUILD_TYPE
#define NAT_BUILD_TYPE "?"
#endif

namespace nat_bench {
inline void print_build_configuration() {
  std::printf(
      "nat build: compiler %s, build type %s, flags [%s], -march=native %s, TBB %s, threads %zu\n",
      __VERSION__, NAT_BUILD_TYPE, NAT_BUILD_FLAGS,
#if defined(__AVX2__)
      "(AVX2 on)",
#else
      "(AVX2 off)",
#endif
      nat::with_tbb() ? "on" : "off", nat::max_threads());
}
}  // namespace nat_bench

#define NAT_BENCHMARK_MAIN()                                            \
  int main(int argc, char** argv) {                                     \
    nat_bench::print_build_configuration();                             \
    ::benchmark::Initialize(&argc, argv);                               \
    if (::benchmark::ReportUnrecognizedArguments(argc, argv)) return 1; \
    ::benchmark::RunSpecifiedBenchmarks();                              \
    ::benchmark::Shutdown();                                            \
    return 0;                                                           \
  }
