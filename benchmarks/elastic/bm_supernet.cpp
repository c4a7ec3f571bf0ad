// Supernet throughput: forward (eval, no grad) and forward+backward (training step without the
// optimiser) in images/s for the largest and smallest mbv3_small subnets at 28 and 32 px, batch
// 128 — the numbers benchmarks/compare/torch_supernet.py reports for PyTorch.
#include <cstdint>
#include <nat/autograd/backward.hpp>
#include <nat/elastic/supernet.hpp>
#include <nat/ops/loss.hpp>
#include <vector>

#include "bench_main.hpp"

namespace {

constexpr std::size_t batch = 128;

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
  for (auto _ : state) {
    auto loss = nat::ops::cross_entropy(net.forward(x), labels, 0.1f);
    nat::autograd::backward(loss);
    net.zero_grad();
  }
  state.counters["images/cpu-s"] =
      benchmark::Counter(double(batch) * double(state.iterations()), benchmark::Counter::kIsRate);
}

// args: {largest?, resolution}
void args(benchmark::internal::Benchmark* b) {
  for (int largest : {1, 0})
    for (int r : {28, 32}) b->Args({largest, r});
  // Process CPU time (all threads): on a shared machine wall time measures the neighbours;
  // images per CPU-second is what torch_supernet.py reports beside wall-clock images/s.
  b->ArgNames({"largest", "r"})
      ->Unit(benchmark::kMillisecond)
      ->MeasureProcessCPUTime()
      ->MinTime(1.0);
}

}  // namespace

BENCHMARK(bm_forward)->Apply(args);
BENCHMARK(bm_train_step)->Apply(args);

NAT_BENCHMARK_MAIN();
