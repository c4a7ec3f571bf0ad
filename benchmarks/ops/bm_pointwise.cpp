// Pointwise (1x1) convolution forward + backward at MobileNetV3 supernet sizes, float32, and the
// Eigen sgemm ceiling these GEMMs are measured against. Compare with
// benchmarks/compare/torch_pointwise.py (same shapes, same counters).
#include <ctime>
#include <nat/autograd/backward.hpp>
#include <nat/core/parallel.hpp>
#include <nat/ops/conv2d.hpp>
#include <nat/ops/cpu/gemm.hpp>
#include <vector>

#include "bench_main.hpp"

namespace {

// CPU seconds used by the whole process (all threads): a load-robust measure of the work done,
// reported beside wall time because the benchmark machine is shared.
double process_cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// args: N, Cin, Cout, H (=W)
void pointwise_fwd_bwd(benchmark::State& st) {
  const auto n = std::size_t(st.range(0)), ci = std::size_t(st.range(1)),
             co = std::size_t(st.range(2)), h = std::size_t(st.range(3));
  auto x = nat::tensorf::randn({n, ci, h, h}, 1).set_requires_grad(true);
  auto w = nat::tensorf::randn({co, ci, 1, 1}, 2).set_requires_grad(true);
  auto gy = nat::tensorf::randn({n, co, h, h}, 3);
  const double cpu0 = process_cpu_seconds();
  for (auto _ : st) {
    auto y = nat::ops::conv2d(x, w);
    nat::autograd::backward(y, gy);
    benchmark::DoNotOptimize(w.grad().data());
    x.zero_grad();
    w.zero_grad();
  }
  st.counters["proc_cpu_ms"] = (process_cpu_seconds() - cpu0) * 1e3 / double(st.iterations());
  // forward, input grad, weight grad: three GEMMs of 2·N·H·W·Cin·Cout flops each.
  const double flops = 3.0 * 2.0 * double(n * h * h * ci * co);
  st.counters["GFLOPs"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void pointwise_fwd(benchmark::State& st) {
  const auto n = std::size_t(st.range(0)), ci = std::size_t(st.range(1)),
             co = std::size_t(st.range(2)), h = std::size_t(st.range(3));
  auto x = nat::tensorf::randn({n, ci, h, h}, 1);
  auto w = nat::tensorf::randn({co, ci, 1, 1}, 2);
  const double cpu0 = process_cpu_seconds();
  for (auto _ : st) benchmark::DoNotOptimize(nat::ops::conv2d(x, w).data());
  st.counters["proc_cpu_ms"] = (process_cpu_seconds() - cpu0) * 1e3 / double(st.iterations());
  const double flops = 2.0 * double(n * h * h * ci * co);
  st.counters["GFLOPs"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// The input gradient alone (the transposed product), on the CPU kernel.
void pointwise_bwd_input(benchmark::State& st) {
  const auto n = std::size_t(st.range(0)), ci = std::size_t(st.range(1)),
             co = std::size_t(st.range(2)), h = std::size_t(st.range(3));
  const auto gy = nat::tensorf::randn({n, co, h, h}, 3).to_vector();
  const auto w = nat::tensorf::randn({co, ci, 1, 1}, 2).to_vector();
  std::vector<float> gx(n * ci * h * h);
  const nat::ops::conv2d_shape g{n, ci, h, h, co, 1, 1, 1, 0, 1};
  for (auto _ : st) {
    nat::ops::cpu::conv2d_backward_input(gy.data(), w.data(), gx.data(), g);
    benchmark::DoNotOptimize(gx.data());
  }
  st.counters["GFLOPs"] = benchmark::Counter(2.0 * double(n * h * h * ci * co) * 1e-9,
                                             benchmark::Counter::kIsIterationInvariantRate);
}

void shapes(benchmark::internal::Benchmark* b) {
  // The supernet's maps at 28 and 32 px: 16x16 (Eigen per sample), 8x8, 7x7 (masked tails),
  // 4x4, 2x2 (AVX2: two samples per vector) and 1x1 (one plain GEMM per 64 samples).
  b->Args({128, 16, 72, 16})
      ->Args({128, 40, 240, 8})
      ->Args({128, 40, 240, 7})
      ->Args({128, 24, 72, 14})
      ->Args({128, 80, 480, 4})
      ->Args({128, 160, 960, 4})
      ->Args({128, 112, 672, 2})
      ->Args({128, 160, 960, 1});
  b->ArgNames({"N", "Cin", "Cout", "H"})->Unit(benchmark::kMillisecond)->UseRealTime();
}

// C = A·B, square, row-major; threads = 1 or 2 (rows of C split between threads).
void sgemm_square(benchmark::State& st) {
  const auto m = std::size_t(st.range(0)), threads = std::size_t(st.range(1));
  std::vector<float> a(m * m, 1.0f), b(m * m, 0.5f), c(m * m);
  nat::thread_limit limit(threads);
  const double cpu0 = process_cpu_seconds();
  for (auto _ : st) {
    nat::parallel_for(0, threads, 1, [&](std::size_t lo, std::size_t hi) {
      for (std::size_t t = lo; t < hi; ++t) {
        const std::size_t r0 = t * m / threads, r1 = (t + 1) * m / threads;
        nat::ops::cpu::gemm<float>(false, false, r1 - r0, m, m, 1.0f, a.data() + r0 * m, m,
                                   b.data(), m, 0.0f, c.data() + r0 * m, m);
      }
    });
    benchmark::DoNotOptimize(c.data());
  }
  st.counters["proc_cpu_ms"] = (process_cpu_seconds() - cpu0) * 1e3 / double(st.iterations());
  st.counters["GFLOPs"] = benchmark::Counter(2.0 * double(m * m * m) * 1e-9,
                                             benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK(pointwise_fwd_bwd)->Apply(shapes);
BENCHMARK(pointwise_fwd)->Apply(shapes);
BENCHMARK(pointwise_bwd_input)->Apply(shapes);
BENCHMARK(sgemm_square)
    ->Args({1024, 1})
    ->Args({1024, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

NAT_BENCHMARK_MAIN();
