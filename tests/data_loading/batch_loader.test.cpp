#include <doctest/doctest.h>

#include <algorithm>
#include <nat/core/parallel.hpp>
#include <nat/data/batch_loader.hpp>
#include <set>

using nat::data::batch;
using nat::data::batch_loader;
using nat::data::image_dataset;
using nat::data::image_transform;
using nat::data::loader_config;

namespace {
// n 1×6×6 images; image i has every pixel = i mod 256 except a marker, label i mod k.
image_dataset make_dataset(std::size_t n, int k = 4) {
  std::vector<std::uint8_t> px(n * 36);
  std::vector<int> lb(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < 36; ++j) px[i * 36 + j] = std::uint8_t((i * 7 + j * 3) % 256);
    lb[i] = int(i % std::size_t(k));
  }
  return image_dataset("synthetic", 1, 6, 6, px, lb, k);
}
image_transform augment() {
  image_transform t;
  t.random_crop = true;
  t.random_crop_padding = 2;
  t.random_resized_crop = true;
  t.scale_min = 0.5;
  t.horizontal_flip = true;
  t.mean = {0.5f};
  t.std = {0.25f};
  return t;
}
// Every batch of one epoch, copied out.
std::vector<batch> epoch_batches(batch_loader& l, std::size_t epoch, std::size_t from = 0) {
  std::vector<batch> all;
  l.start_epoch(epoch, from);
  batch b;
  while (l.next(b)) all.push_back(b);
  return all;
}
bool same(const batch& a, const batch& b) {
  return a.n == b.n && a.c == b.c && a.h == b.h && a.w == b.w && a.images == b.images &&
         a.labels == b.labels && a.indices == b.indices && a.epoch == b.epoch && a.index == b.index;
}
}  // namespace

TEST_CASE("an epoch visits every image once; labels follow their images") {
  const auto ds = make_dataset(50);
  loader_config cfg;
  cfg.batch_size = 8;
  cfg.seed = 11;
  batch_loader l(ds, image_transform{}, cfg);
  CHECK(l.batches_per_epoch() == 7);
  const auto bs = epoch_batches(l, 0);
  REQUIRE(bs.size() == 7);
  std::vector<std::size_t> seen;
  for (std::size_t k = 0; k < bs.size(); ++k) {
    CHECK(bs[k].index == k);
    CHECK(bs[k].n == (k < 6 ? 8u : 2u));
    CHECK((bs[k].c == 1 && bs[k].h == 6 && bs[k].w == 6));
    for (std::size_t i = 0; i < bs[k].n; ++i) {
      const std::size_t idx = bs[k].indices[i];
      seen.push_back(idx);
      CHECK(bs[k].labels[i] == ds.label(idx));
      // No augmentation at the native size: the pixels scaled to [0, 1].
      for (std::size_t j = 0; j < 36; ++j)
        REQUIRE(bs[k].image(i)[j] == doctest::Approx(ds.image(idx)[j] / 255.0f));
    }
  }
  CHECK(seen == l.epoch_order(0));
  std::sort(seen.begin(), seen.end());
  for (std::size_t i = 0; i < seen.size(); ++i) CHECK(seen[i] == i);
  CHECK(l.epoch_order(0) != l.epoch_order(1));  // reshuffled every epoch
}

TEST_CASE("drop_last and no shuffle") {
  const auto ds = make_dataset(50);
  loader_config cfg;
  cfg.batch_size = 8;
  cfg.drop_last = true;
  cfg.shuffle = false;
  batch_loader l(ds, image_transform{}, cfg);
  const auto bs = epoch_batches(l, 3);
  REQUIRE(bs.size() == 6);
  CHECK(bs[5].n == 8);
  CHECK(bs[2].indices[0] == 16);
  loader_config big = cfg;
  big.batch_size = 51;
  CHECK_THROWS_AS(batch_loader(ds, image_transform{}, big), nat::config_error);
}

TEST_CASE("content depends only on (seed, epoch, batch): prefetch, threads and resume agree") {
  const auto ds = make_dataset(70);
  loader_config cfg;
  cfg.batch_size = 16;
  cfg.seed = 5;
  cfg.resolutions = {4, 8, 12};
  batch_loader a(ds, augment(), cfg);
  const auto ref = epoch_batches(a, 2);

  loader_config sync = cfg;
  sync.prefetch = false;
  sync.grain = 1;
  batch_loader b(ds, augment(), sync);
  const auto got = epoch_batches(b, 2);
  REQUIRE(got.size() == ref.size());
  for (std::size_t k = 0; k < ref.size(); ++k) CHECK(same(got[k], ref[k]));

  {
    nat::thread_limit one(1);
    batch_loader c(ds, augment(), cfg);
    const auto serial = epoch_batches(c, 2);
    for (std::size_t k = 0; k < ref.size(); ++k) CHECK(same(serial[k], ref[k]));
  }

  // Exact resume: starting at batch 3 gives batches 3.. unchanged, also after other epochs ran.
  batch_loader d(ds, augment(), cfg);
  epoch_batches(d, 7);
  const auto resumed = epoch_batches(d, 2, 3);
  REQUIRE(resumed.size() == ref.size() - 3);
  for (std::size_t k = 0; k < resumed.size(); ++k) CHECK(same(resumed[k], ref[k + 3]));
  batch one;
  d.get(2, 4, one);
  CHECK(same(one, ref[4]));

  // Another seed or epoch changes the augmentation.
  const auto other = epoch_batches(a, 3);
  CHECK_FALSE(same(other[0], ref[0]));
}

TEST_CASE("one image gets the same augmentation whatever batch it lands in") {
  const auto ds = make_dataset(40);
  loader_config c1;
  c1.batch_size = 40;
  c1.seed = 9;
  c1.resolution = 10;
  loader_config c2 = c1;
  c2.batch_size = 7;
  batch_loader l1(ds, augment(), c1), l2(ds, augment(), c2);
  const auto big = epoch_batches(l1, 1);
  const auto small = epoch_batches(l2, 1);
  std::size_t pos = 0;
  for (const auto& b : small)
    for (std::size_t i = 0; i < b.n; ++i, ++pos) {
      REQUIRE(b.indices[i] == big[0].indices[pos]);
      CHECK(std::equal(b.image(i), b.image(i) + 100, big[0].image(pos)));
    }
  // And equals applying the transform with image_seed(seed, epoch, index) by hand.
  std::vector<float> by_hand(100);
  const std::size_t idx = big[0].indices[5];
  nat::rng r(nat::data::image_seed(9, 1, idx));
  nat::data::apply_transform(augment(), ds.image(idx), 1, 6, 6, 10, 10, r, by_hand.data());
  CHECK(std::equal(by_hand.begin(), by_hand.end(), big[0].image(5)));
}

TEST_CASE("per-batch resolution: drawn from the list, seeded, or from a callback") {
  const auto ds = make_dataset(200);
  loader_config cfg;
  cfg.batch_size = 4;
  cfg.seed = 1;
  cfg.resolutions = nat::data::resolution_range(4, 12, 4);
  REQUIRE(cfg.resolutions == std::vector<std::size_t>{4, 8, 12});
  batch_loader l(ds, image_transform{}, cfg);
  std::set<std::size_t> sizes;
  for (const auto& b : epoch_batches(l, 0)) {
    CHECK(b.h == l.resolution_for(0, b.index));
    CHECK(b.h == b.w);
    CHECK(b.images.size() == b.n * b.h * b.w);
    sizes.insert(b.h);
  }
  CHECK(sizes == std::set<std::size_t>{4, 8, 12});  // 50 batches: all three appear
  std::vector<std::size_t> e0, e1;
  for (std::size_t b = 0; b < 20; ++b) {
    e0.push_back(l.resolution_for(0, b));
    e1.push_back(l.resolution_for(1, b));
  }
  CHECK(e0 != e1);

  l.set_resolution_fn([](std::size_t epoch, std::size_t b) { return 3 + epoch + b % 2; });
  const auto cb = epoch_batches(l, 2);
  CHECK(cb[0].h == 5);
  CHECK(cb[1].h == 6);
  l.set_resolution(7);
  CHECK(epoch_batches(l, 0)[3].h == 7);
  CHECK_THROWS_AS(l.set_resolution(0), nat::config_error);

  // An error in the background thread reaches the caller.
  l.set_resolution_fn([](std::size_t, std::size_t b) -> std::size_t { return b == 2 ? 0 : 5; });
  l.start_epoch(0);
  batch b;
  CHECK(l.next(b));
  CHECK(l.next(b));
  CHECK_THROWS_AS(l.next(b), nat::config_error);
}

TEST_CASE("steady state reuses two buffers; channel replication gives 3 channels") {
  const auto ds = make_dataset(100);
  image_transform t = augment();
  t.out_channels = 3;
  loader_config cfg;
  cfg.batch_size = 10;
  cfg.resolution = 16;
  batch_loader l(ds, t, cfg);
  l.start_epoch(0);
  batch b;
  std::set<const float*> buffers;
  int k = 0;
  while (l.next(b)) {
    CHECK(b.c == 3);
    // The grey channel is replicated before normalisation, so all three planes agree here.
    CHECK(std::equal(b.image(0), b.image(0) + 256, b.image(0) + 256));
    if (k++ >= 2) buffers.insert(b.images.data());
  }
  CHECK(buffers.size() <= 2);
}

// Counts heap allocations made through operator new, to check the loader's steady state.
#include <atomic>
#include <cstdlib>
#include <new>
namespace {
std::atomic<long> g_allocations{0};
}
// GCC cannot see that these replacements pair malloc with free and warns; they do.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
// Every replaceable non-aligned form, so that no pointer from one allocator reaches another's
// delete (the aligned forms keep the library's aligned_alloc/free pair).
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

TEST_CASE("no heap allocation per batch after the first") {
  const auto ds = make_dataset(300);
  loader_config cfg;
  cfg.batch_size = 16;
  cfg.resolutions = {8, 12, 16};
  batch_loader l(ds, augment(), cfg);
  l.start_epoch(0);
  batch b;
  REQUIRE(l.next(b));  // the first call sizes the caller's buffer for the largest resolution
  const long before = g_allocations.load();
  int steps = 0;
  while (l.next(b)) ++steps;
  const long during = g_allocations.load() - before;  // read before doctest's own allocations
  CHECK(steps == 18);
  CHECK(during == 0);
}

TEST_CASE("prefetch across the epoch boundary: right guess, wrong guess, same content") {
  const auto ds = make_dataset(30);
  loader_config cfg;
  cfg.batch_size = 8;
  cfg.seed = 21;
  cfg.resolutions = {5, 9};
  loader_config sync = cfg;
  sync.prefetch = false;
  batch_loader a(ds, augment(), cfg), s(ds, augment(), sync);
  for (std::size_t e = 0; e < 3; ++e) {  // a prefetches batch 0 of e + 1 while finishing e
    const auto x = epoch_batches(a, e), y = epoch_batches(s, e);
    REQUIRE(x.size() == y.size());
    for (std::size_t k = 0; k < x.size(); ++k) CHECK(same(x[k], y[k]));
  }
  const auto jump = epoch_batches(a, 9, 2);  // the guess (epoch 3, batch 0) was wrong
  const auto want = epoch_batches(s, 9, 2);
  REQUIRE(jump.size() == 2);
  for (std::size_t k = 0; k < jump.size(); ++k) CHECK(same(jump[k], want[k]));
}
