// Batch norm kernels (training forward, backward) at the shapes of the largest mbv3_small subnet at
// 28 px, batch 128, float32: memory-bound, so the counter is bytes moved per CPU-second (the
// forward reads x twice and writes y; the backward reads x and gy twice and writes gx).
#include <ctime>
#include <nat/ops/cpu/batch_norm.hpp>
#include <nat/tensor/tensor.hpp>

#include "bench_main.hpp"

namespace {

double process_cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// args: N, C, H (=W); range(3): 0 forward, 1 backward
void batch_norm_kernel(benchmark::State& st) {
  const nat::ops::batch_norm_shape s{std::size_t(st.range(0)), std::size_t(st.range(1)),
                                     std::size_t(st.range(2) * st.range(2))};
  const bool backward = st.range(3) != 0;
  const std::size_t total = s.n * s.c * s.hw;
  auto x = nat::tensorf::randn({total}, 1, 0.5f, 2.0f), gy = nat::tensorf::randn({total}, 2);
  auto y = nat::tensorf::empty({total});
  auto w = nat::tensorf::randn({s.c}, 3), b = nat::tensorf::randn({s.c}, 4);
  auto mean = nat::tensorf::empty({s.c}), var = nat::tensorf::empty({s.c}),
       invstd = nat::tensorf::empty({s.c}), gw = nat::tensorf::empty({s.c}),
       gb = nat::tensorf::empty({s.c});
  nat::ops::cpu::batch_norm_train_forward(x.data(), w.data(), b.data(), y.data(), mean.data(),
                                          var.data(), invstd.data(), 1e-5f, s);
  const double cpu0 = process_cpu_seconds();
  for (auto _ : st) {
    if (backward)
      nat::ops::cpu::batch_norm_backward(x.data(), gy.data(), w.data(), mean.data(), invstd.data(),
                                         true, y.data(), gw.data(), gb.data(), s);
    else
      nat::ops::cpu::batch_norm_train_forward(x.data(), w.data(), b.data(), y.data(), mean.data(),
                                              var.data(), invstd.data(), 1e-5f, s);
    benchmark::DoNotOptimize(y.data());
  }
  const double cpu = process_cpu_seconds() - cpu0;
  st.counters["proc_cpu_ms"] = cpu * 1e3 / double(st.iterations());
  const double bytes = double(total * sizeof(float)) * (backward ? 5.0 : 3.0);
  st.counters["GB/cpu-s"] = bytes * double(st.iterations()) * 1e-9 / cpu;
}

}  // namespace

BENCHMARK(batch_norm_kernel)
    ->ArgsProduct({{128}, {96}, {28, 14}, {0, 1}})
    ->ArgsProduct({{128}, {288}, {7}, {0, 1}})
    ->ArgsProduct({{128}, {576}, {4}, {0, 1}})
    ->ArgNames({"N", "C", "H", "bwd"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// main() comes from bm_pointwise.cpp (one program per benchmark module).
