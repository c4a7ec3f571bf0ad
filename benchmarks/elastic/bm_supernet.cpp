// Supernet throughput: forward (eval, no grad) and forward+backward (training step without the
// optimiser) in images/s for the largest and smallest mbv3_small subnets at 28 and 32 px, batch
// 128 — the numbers benchmarks/compare/torch_supernet.py reports for PyTorch.
#include <cstdint>
#include <nat/autograd/backward.hpp>
#include <nat/elastic/supernet.hpp>
#include <nat/ops/loss.hpp>
#include <vector>

#if defined(__unix__)
#include <sys/resource.h>
#endif

#include "bench_main.hpp"

namespace {

constexpr std::size_t batch = 128;

// Minor page faults of the process so far (0 where getrusage is unavailable): a steady-state step
// that reuses pooled buffers should add none.
double minor_faults() {
#if defined(__unix__)
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_minflt);
#else
  return 0;
#endif
}

nat::elastic::subnet_config pick(const nat::elastic::supernet_config& p, bool largest, int r) {
  return largest ? p.largest(r) : p.smallest(r);
}

void bm_forward(benchmark::State& state) {
  const bool largest = state.range(0) != 0;
  const int r = static_cast<int>(state.range(1));
  auto p = nat::elastic::mbv3_small(1, 10);
  nat::elastic::supernet net(p, 1);
  net.set_active(pick(p, largest, r));
  net.eval();
  auto x = nat::tensorf::randn({batch, 1, std::size_t(r), std::size_t(r)}, 2);
  nat::autograd::no_grad ng;
  net.forward(x);  // warm-up, untimed: first-touch of the pooled buffers (as the PyTorch script)
  for (auto _ : state) benchmark::DoNotOptimize(net.forward(x).data());
  state.counters["images/cpu-s"] =
      benchmark::Counter(double(batch) * double(state.iterations()), benchmark::Counter::kIsRate);
}

void bm_train_step(benchmark::State& state) {
  const bool largest = state.range(0) != 0;
  const int r = static_cast<int>(state.range(1));
  auto p = nat::elastic::mbv3_small(1, 10);
  nat::elastic::supernet net(p, 1);
  net.set_active(pick(p, largest, r));
  net.train();
  auto x = nat::tensorf::randn({batch, 1, std::size_t(r), std::size_t(r)}, 2);
  std::vector<int> labels(batch);
  for (std::size_t i = 0; i < batch; ++i) labels[i] = int(i % 10);
  auto step = [&] {
    auto loss = nat::ops::cross_entropy(net.forward(x), labels, 0.1f);
    nat::autograd::backward(loss);
    net.zero_grad();
  };
  step();  // warm-up, untimed: the first step faults in every pooled buffer
  const double faults = minor_faults();
  for (auto _ : state) step();
  state.counters["images/cpu-s"] =
      benchmark::Counter(double(batch) * double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["faults/step"] = (minor_faults() - faults) / double(state.iterations());
  state.counters["peak_live_MB"] = double(nat::storage_pool::instance().peak_live_bytes()) / 1e6;
}

// OFA-style supernet training: a random subnet (and resolution) per step, so activation sizes
// change from step to step; faults/step shows whether the storage pool still serves them.
void bm_train_random(benchmark::State& state) {
  auto p = nat::elastic::mbv3_small(1, 10);
  nat::elastic::supernet net(p, 1);
  net.train();
  nat::rng g(3);
  std::vector<int> labels(batch);
  for (std::size_t i = 0; i < batch; ++i) labels[i] = int(i % 10);
  auto step = [&] {
    const auto cfg = net.sample_active(g);
    auto x = nat::tensorf::randn({batch, 1, std::size_t(cfg.r), std::size_t(cfg.r)}, 2);
    auto loss = nat::ops::cross_entropy(net.forward(x), labels, 0.1f);
    nat::autograd::backward(loss);
    net.zero_grad();
  };
  for (int i = 0; i < 8; ++i) step();  // warm-up
  const double faults = minor_faults();
  for (auto _ : state) step();
  state.counters["images/cpu-s"] =
      benchmark::Counter(double(batch) * double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["faults/step"] = (minor_faults() - faults) / double(state.iterations());
  const auto& pool = nat::storage_pool::instance();
  state.counters["pool_cached_MB"] = double(pool.cached_bytes()) / 1e6;
  state.counters["peak_live_MB"] = double(pool.peak_live_bytes()) / 1e6;
}

// args: {largest?, resolution}
void args(benchmark::internal::Benchmark* b) {
  for (int largest : {1, 0})
    for (int r : {28, 32}) b->Args({largest, r});
  // Process CPU time (all threads): on a shared machine wall time measures the neighbours;
  // images per CPU-second is what torch_supernet.py reports beside wall-clock images/s.
  // Like the PyTorch script: one warm-up step, then the median (of 5 repetitions of >= 1 CPU-s).
  b->ArgNames({"largest", "r"})
      ->Unit(benchmark::kMillisecond)
      ->MeasureProcessCPUTime()
      ->MinTime(1.0)
      ->Repetitions(5)
      ->ReportAggregatesOnly(true);
}

}  // namespace

BENCHMARK(bm_forward)->Apply(args);
BENCHMARK(bm_train_step)->Apply(args);
BENCHMARK(bm_train_random)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->MinTime(10.0);

NAT_BENCHMARK_MAIN();
