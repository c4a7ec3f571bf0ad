// Depthwise convolution kernels (issue 3) on the shapes of an OFA MobileNetV3 supernet, plus the
// two machine ceilings the numbers are judged against: a STREAM-like copy/triad (memory
// bandwidth) and a register-only FMA loop (compute peak), both on nat::parallel_for threads.
//
// Each kernel benchmark reports GFLOP/s (2 flops per multiply-add; every kernel does
// n*c*oh*ow*k*k of them) and GB/s of compulsory traffic (each tensor the kernel touches read or
// written once; write-allocate reads not counted, as in STREAM). NAT_BM_THREADS=1 runs one
// thread, whose cpu_time is the steadiest measure on a shared machine.
//   bm_depthwise --benchmark_filter=depthwise --benchmark_format=json
#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <nat/core/parallel.hpp>
#include <nat/core/rng.hpp>
#include <nat/ops/cpu/depthwise.hpp>
#include <thread>
#include <vector>

#include "bench_main.hpp"

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace {

using nat::ops::depthwise_shape;

constexpr std::size_t kBatch = 128;

/// NAT_BM_THREADS=1 pins the kernels to one thread (per-thread CPU time is the steadiest measure
/// on a shared machine); unset, nat's default (all cores) is used.
nat::thread_limit& thread_setting() {
  static nat::thread_limit limit([] {
    const char* e = std::getenv("NAT_BM_THREADS");
    return e ? std::size_t(std::strtoul(e, nullptr, 10)) : std::size_t(0);
  }()
                                     ?: std::thread::hardware_concurrency());
  return limit;
}
const bool kThreadsApplied = (thread_setting(), true);

struct problem {
  depthwise_shape s;
  std::vector<float> x, w, y, dy, dx, dw;
  explicit problem(const benchmark::State& st)
      : s{kBatch,
          std::size_t(st.range(0)),
          std::size_t(st.range(1)),
          std::size_t(st.range(1)),
          std::size_t(st.range(2)),
          std::size_t(st.range(3)),
          std::size_t(st.range(2) / 2)} {
    nat::rng g(1);
    auto fill = [&](std::vector<float>& v, std::size_t n) {
      v.resize(n);
      for (auto& e : v) e = float(g.uniform(-1, 1));
    };
    const std::size_t in = s.n * s.c * s.h * s.w, out = s.n * s.c * s.out_h() * s.out_w();
    fill(x, in);
    fill(w, s.c * s.k * s.k);
    fill(dy, out);
    y.resize(out);
    dx.resize(in);
    dw.resize(w.size());
  }
  double flops() const { return 2.0 * s.n * s.c * s.out_h() * s.out_w() * s.k * s.k; }
  double in_bytes() const { return 4.0 * s.n * s.c * s.h * s.w; }
  double out_bytes() const { return 4.0 * s.n * s.c * s.out_h() * s.out_w(); }
};

void report(benchmark::State& st, double flops, double bytes) {
  st.counters["GFLOPs"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["GBps"] =
      benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["threads"] = double(nat::max_threads());
}

void BM_depthwise_forward(benchmark::State& st) {
  problem p(st);
  for (auto _ : st) {
    nat::ops::cpu::depthwise_forward(p.x.data(), p.w.data(), p.y.data(), p.s);
    benchmark::DoNotOptimize(p.y.data());
  }
  report(st, p.flops(), p.in_bytes() + p.out_bytes());
}

void BM_depthwise_backward_input(benchmark::State& st) {
  problem p(st);
  for (auto _ : st) {
    nat::ops::cpu::depthwise_backward_input(p.dy.data(), p.w.data(), p.dx.data(), p.s);
    benchmark::DoNotOptimize(p.dx.data());
  }
  report(st, p.flops(), p.in_bytes() + p.out_bytes());
}

void BM_depthwise_backward_weight(benchmark::State& st) {
  problem p(st);
  for (auto _ : st) {
    nat::ops::cpu::depthwise_backward_weight(p.x.data(), p.dy.data(), p.dw.data(), p.s);
    benchmark::DoNotOptimize(p.dw.data());
  }
  report(st, p.flops(), p.in_bytes() + p.out_bytes());
}

/// Both gradients through the fused entry point.
void BM_depthwise_backward(benchmark::State& st) {
  problem p(st);
  for (auto _ : st) {
    nat::ops::cpu::depthwise_backward(p.x.data(), p.dy.data(), p.w.data(), p.dx.data(), p.dw.data(),
                                      p.s);
    benchmark::DoNotOptimize(p.dw.data());
  }
  // x and dy read, dx written: dy is read once by the fused pass.
  report(st, 2 * p.flops(), 2 * p.in_bytes() + p.out_bytes());
}

/// What one training step of the layer costs: forward, then both gradients.
void BM_depthwise_fwdbwd(benchmark::State& st) {
  problem p(st);
  for (auto _ : st) {
    nat::ops::cpu::depthwise_forward(p.x.data(), p.w.data(), p.y.data(), p.s);
    nat::ops::cpu::depthwise_backward(p.x.data(), p.dy.data(), p.w.data(), p.dx.data(), p.dw.data(),
                                      p.s);
    benchmark::DoNotOptimize(p.dw.data());
  }
  report(st, 3 * p.flops(), 3 * p.in_bytes() + 2 * p.out_bytes());
}

/// The same training step on the flat path (detail::flat_*), which the public functions use for
/// double, strides > 2 and machines without AVX2+FMA: the side-by-side baseline for the
/// channel-blocked path in one run.
void BM_depthwise_flat_fwdbwd(benchmark::State& st) {
  problem p(st);
  for (auto _ : st) {
    nat::ops::cpu::detail::flat_forward(p.x.data(), p.w.data(), p.y.data(), p.s);
    nat::ops::cpu::detail::flat_backward_input(p.dy.data(), p.w.data(), p.dx.data(), p.s);
    nat::ops::cpu::detail::flat_backward_weight(p.x.data(), p.dy.data(), p.dw.data(), p.s);
    benchmark::DoNotOptimize(p.dw.data());
  }
  report(st, 3 * p.flops(), 3 * p.in_bytes() + 2 * p.out_bytes());
}

// (C, H) pairs of the MBv3-small supernet stages at these resolutions, x kernel x stride.
void grid(benchmark::internal::Benchmark* b) {
  for (auto ch : {std::pair<int, int>{72, 16}, {120, 8}, {240, 8}, {480, 4}})
    for (int k : {3, 5, 7})
      for (int s : {1, 2}) b->Args({ch.first, ch.second, k, s});
  b->ArgNames({"C", "H", "k", "s"})->Unit(benchmark::kMicrosecond)->UseRealTime();
}

BENCHMARK(BM_depthwise_forward)->Apply(grid);
BENCHMARK(BM_depthwise_backward_input)->Apply(grid);
BENCHMARK(BM_depthwise_backward_weight)->Apply(grid);
BENCHMARK(BM_depthwise_backward)->Apply(grid);
BENCHMARK(BM_depthwise_fwdbwd)->Apply(grid);
BENCHMARK(BM_depthwise_flat_fwdbwd)->Apply(grid);

// ---- machine ceilings -------------------------------------------------------------------------

constexpr std::size_t kStreamN = std::size_t(1) << 25;  // 128 MiB per array, far beyond cache

/// a[i] = b[i]: 8 bytes moved per element (write-allocate traffic not counted, as in STREAM).
void BM_stream_copy(benchmark::State& st) {
  std::vector<float> a(kStreamN, 1.f), b(kStreamN, 2.f);
  for (auto _ : st) {
    nat::parallel_for(0, kStreamN, kStreamN / 64, [&](std::size_t lo, std::size_t hi) {
      std::copy(b.data() + lo, b.data() + hi, a.data() + lo);
    });
    benchmark::DoNotOptimize(a.data());
  }
  st.counters["GBps"] =
      benchmark::Counter(8.0 * kStreamN * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

/// a[i] = b[i] + q*c[i]: 12 bytes per element.
void BM_stream_triad(benchmark::State& st) {
  std::vector<float> a(kStreamN, 1.f), b(kStreamN, 2.f), c(kStreamN, 3.f);
  const float q = 3.f;
  for (auto _ : st) {
    nat::parallel_for(0, kStreamN, kStreamN / 64, [&](std::size_t lo, std::size_t hi) {
      for (std::size_t i = lo; i < hi; ++i) a[i] = b[i] + q * c[i];
    });
    benchmark::DoNotOptimize(a.data());
  }
  st.counters["GBps"] =
      benchmark::Counter(12.0 * kStreamN * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

/// Register-only FMAs, 12 independent chains per thread (enough to cover latency x ports).
void BM_fma_peak(benchmark::State& st) {
  constexpr std::size_t kIters = 1 << 20;
  const std::size_t threads = std::max<std::size_t>(1, nat::max_threads());
  std::vector<float> sink(threads * 16);
  for (auto _ : st) {
    nat::parallel_for(0, threads, 1, [&](std::size_t lo, std::size_t hi) {
      for (std::size_t t = lo; t < hi; ++t) {
#if defined(__AVX512F__)
        __m512 a[12];
        for (int u = 0; u < 12; ++u) a[u] = _mm512_set1_ps(float(u));
        const __m512 m = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(0.001f);
        for (std::size_t i = 0; i < kIters; ++i)
          for (int u = 0; u < 12; ++u) a[u] = _mm512_fmadd_ps(a[u], m, c);
        for (int u = 1; u < 12; ++u) a[0] = _mm512_add_ps(a[0], a[u]);
        _mm512_storeu_ps(sink.data() + 16 * t, a[0]);
#else
        float a[12][16];
        for (int u = 0; u < 12; ++u)
          for (int l = 0; l < 16; ++l) a[u][l] = float(u);
        for (std::size_t i = 0; i < kIters; ++i)
          for (int u = 0; u < 12; ++u)
            for (int l = 0; l < 16; ++l) a[u][l] = a[u][l] * 0.999f + 0.001f;
        for (int l = 0; l < 16; ++l) sink[16 * t + l] = a[0][l];
#endif
      }
    });
    benchmark::DoNotOptimize(sink.data());
  }
  st.counters["GFLOPs"] = benchmark::Counter(2.0 * 16 * 12 * kIters * threads * 1e-9,
                                             benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_stream_copy)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_stream_triad)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_fma_peak)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

NAT_BENCHMARK_MAIN();
