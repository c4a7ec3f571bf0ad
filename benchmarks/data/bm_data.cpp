// Throughput of nat::data::batch_loader: images per second through random crop (padding 4),
// horizontal flip and bilinear resize, batch 128, from 28×28 grey images (Fashion-MNIST's shape).
#include <memory>
#include <nat/data/batch_loader.hpp>
#include <nat/data/idx.hpp>

#include "bench_main.hpp"

namespace {
// Fashion-MNIST train when installed, else synthetic images of the same shape (the transforms'
// cost does not depend on pixel values).
const nat::data::image_dataset& dataset() {
  static const nat::data::image_dataset ds = [] {
    try {
      return nat::data::load_fashion_mnist(nat::data::split::train);
    } catch (const nat::error&) {
      const std::size_t n = 60000;
      std::vector<std::uint8_t> px(n * 784);
      nat::rng r(1);
      for (auto& p : px) p = std::uint8_t(r.index(256));
      std::vector<int> lb(n);
      for (std::size_t i = 0; i < n; ++i) lb[i] = int(i % 10);
      return nat::data::image_dataset("synthetic-28x28", 1, 28, 28, std::move(px), std::move(lb),
                                      10);
    }
  }();
  return ds;
}

// state.range(0): output resolution; range(1): output channels (1, or 3 = replicated);
// range(2): 1 = prefetch on a background thread.
void bm_loader(benchmark::State& state) {
  nat::data::image_transform t;
  t.random_crop = true;
  t.random_crop_padding = 4;
  t.horizontal_flip = true;
  t.mean = {0.2860f};
  t.std = {0.3530f};
  t.out_channels = std::size_t(state.range(1));
  nat::data::loader_config cfg;
  cfg.batch_size = 128;
  cfg.seed = 1;
  cfg.resolution = std::size_t(state.range(0));
  cfg.prefetch = state.range(2) != 0;
  nat::data::batch_loader loader(dataset(), t, cfg);
  nat::data::batch b;
  std::size_t epoch = 0;
  loader.start_epoch(epoch);
  std::size_t images = 0;
  for (auto _ : state) {
    if (!loader.next(b)) {
      loader.start_epoch(++epoch);
      loader.next(b);
    }
    benchmark::DoNotOptimize(b.images.data());
    images += b.n;
  }
  state.SetItemsProcessed(std::int64_t(images));
  state.counters["MB/s out"] = benchmark::Counter(double(images) * double(b.image_size()) * 4e-6,
                                                  benchmark::Counter::kIsRate);
}
BENCHMARK(bm_loader)
    ->ArgNames({"res", "ch", "prefetch"})
    ->Args({32, 1, 1})
    ->Args({64, 1, 1})
    ->Args({32, 1, 0})
    ->Args({64, 1, 0})
    ->Args({64, 3, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// One image through the whole pipeline with random-resized-crop, no loader around it.
void bm_apply_transform(benchmark::State& state) {
  nat::data::image_transform t;
  t.random_crop = true;
  t.random_crop_padding = 4;
  t.random_resized_crop = true;
  t.horizontal_flip = true;
  const std::size_t r = std::size_t(state.range(0));
  std::vector<float> out(r * r);
  nat::rng g(3);
  const auto& ds = dataset();
  std::size_t i = 0;
  for (auto _ : state) {
    nat::data::apply_transform(t, ds.image(i++ % ds.size()), 1, 28, 28, r, r, g, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(std::int64_t(state.iterations()));
}
BENCHMARK(bm_apply_transform)->Arg(32)->Arg(64)->Arg(224);

// NAT's CIFAR setting (nat_spec §5.2): 3×32×32 images, batch 96, random crop (pad 4) →
// random-resized-crop (ratio 1) → flip, at one of the 17 sizes 192..256 drawn per batch.
// range(0) = 0: no prefetch and one thread, so the CPU column is the whole cost of a batch.
void bm_loader_cifar_nat_sizes(benchmark::State& state) {
  const bool serial = state.range(0) == 0;
  std::unique_ptr<nat::thread_limit> one;
  if (serial) one = std::make_unique<nat::thread_limit>(1);
  static const nat::data::image_dataset ds = [] {
    const std::size_t n = 5000;
    std::vector<std::uint8_t> px(n * 3072);
    nat::rng r(2);
    for (auto& p : px) p = std::uint8_t(r.index(256));
    std::vector<int> lb(n);
    for (std::size_t i = 0; i < n; ++i) lb[i] = int(i % 10);
    return nat::data::image_dataset("synthetic-3x32x32", 3, 32, 32, std::move(px), std::move(lb),
                                    10);
  }();
  auto t = nat::data::nat_transforms(ds, true, 0, 0.35).train;
  nat::data::loader_config cfg;
  cfg.batch_size = 96;
  cfg.resolutions = nat::data::resolution_range(192, 256, 4);
  cfg.prefetch = !serial;
  nat::data::batch_loader loader(ds, t, cfg);
  nat::data::batch b;
  std::size_t epoch = 0, images = 0;
  loader.start_epoch(epoch);
  for (auto _ : state) {
    if (!loader.next(b)) {
      loader.start_epoch(++epoch);
      loader.next(b);
    }
    benchmark::DoNotOptimize(b.images.data());
    images += b.n;
  }
  state.SetItemsProcessed(std::int64_t(images));
}
BENCHMARK(bm_loader_cifar_nat_sizes)
    ->ArgName("prefetch")
    ->Arg(1)
    ->Arg(0)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

NAT_BENCHMARK_MAIN();
