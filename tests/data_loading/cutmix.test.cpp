#include <doctest/doctest.h>

#include <cmath>
#include <nat/data/cutmix.hpp>
#include <numeric>
#include <vector>

namespace {

// n single-channel h×w images, image i filled with the value i and labelled i % k.
nat::data::batch constant_batch(std::size_t n, std::size_t h, std::size_t w, std::size_t k) {
  nat::data::batch b;
  b.reshape(n, 1, h, w);
  for (std::size_t i = 0; i < n; ++i) {
    std::fill(b.image(i), b.image(i) + h * w, static_cast<float>(i));
    b.labels[i] = static_cast<int>(i % k);
  }
  return b;
}

}  // namespace

TEST_CASE("cutmix: prob 0 leaves the images and gives the smoothed one-hot targets") {
  auto b = constant_batch(4, 8, 8, 4);
  const auto before = b.images;
  nat::data::cutmix_config c;
  c.prob = 0;
  nat::rng g(1);
  std::vector<float> t, scratch;
  nat::data::cutmix(b, 4, 0.1, c, g, t, scratch);
  CHECK(b.images == before);
  REQUIRE(t.size() == 16);
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t q = 0; q < 4; ++q)
      CHECK(t[i * 4 + q] == doctest::Approx(q == i ? 0.9 + 0.025 : 0.025));
}

TEST_CASE("cutmix: every target weight is the share of pixels that came from that image") {
  // Distinct labels and constant images: which image a pixel came from is its value, so the
  // target each image gets can be counted back from its pixels. One mix: with two, the second box
  // may cover part of the first, and the reference's rule (kept here) rescales both shares alike.
  const std::size_t n = 16, h = 12, w = 10;
  auto b = constant_batch(n, h, w, n);
  nat::data::cutmix_config c;
  c.prob = 1.0;
  c.num_mix = 1;
  nat::rng g(5);
  std::vector<float> t, scratch;
  std::size_t mixed = 0;
  for (int round = 0; round < 20; ++round) {
    b = constant_batch(n, h, w, n);
    nat::data::cutmix(b, n, 0.0, c, g, t, scratch);
    for (std::size_t i = 0; i < n; ++i) {
      std::vector<double> share(n, 0.0);
      for (std::size_t p = 0; p < h * w; ++p) {
        const float v = b.image(i)[p];
        REQUIRE(v == std::round(v));
        share[static_cast<std::size_t>(v)] += 1.0 / static_cast<double>(h * w);
      }
      double sum = 0;
      for (std::size_t q = 0; q < n; ++q) {
        CHECK(t[i * n + q] == doctest::Approx(share[q]).epsilon(1e-5));
        sum += t[i * n + q];
      }
      CHECK(sum == doctest::Approx(1.0));
      mixed += share[i] < 1.0;
    }
  }
  // 320 images mixed with p = 1; ~6 % pick themselves, ~4 % draw a box of area 0.
  CHECK(mixed > 250);
}

TEST_CASE("cutmix: the box covers 1 - lambda of the image, clipped at the border") {
  nat::rng g(2);
  double area = 0;
  const int trials = 20000;
  for (int i = 0; i < trials; ++i) {
    const auto box = nat::data::cutmix_box(32, 32, 0.75, g);  // sides 16: a quarter unclipped
    CHECK(box.y1 - box.y0 <= 16);
    CHECK(box.x1 - box.x0 <= 16);
    CHECK(box.y1 <= 32);
    CHECK(box.x1 <= 32);
    area += static_cast<double>(box.area()) / (32.0 * 32.0);
  }
  // Clipping: a side is 16 px for centres 8..24, c + 8 below, 40 − c above: 448/32 = 14 px on
  // average, independently for rows and columns.
  CHECK(area / trials == doctest::Approx(14.0 * 14.0 / 1024.0).epsilon(0.02));
  CHECK(nat::data::cutmix_box(32, 32, 1.0, g).area() == 0);
}

TEST_CASE("cutmix: NAT's setting mixes about three images in four, reproducibly") {
  nat::data::cutmix_config c;
  c.prob = 0.5;  // two mixes at p = 0.5: an image stays unmixed with probability 1/4
  const std::size_t n = 256;
  auto b1 = constant_batch(n, 28, 28, 10);
  auto b2 = constant_batch(n, 28, 28, 10);
  nat::rng g1(9), g2(9);
  std::vector<float> t1, t2, s1, s2;
  nat::data::cutmix(b1, 10, 0.0, c, g1, t1, s1);
  nat::data::cutmix(b2, 10, 0.0, c, g2, t2, s2);
  CHECK(b1.images == b2.images);
  CHECK(t1 == t2);
  std::size_t touched = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t p = 0; p < 28 * 28; ++p)
      if (b1.image(i)[p] != static_cast<float>(i)) {
        ++touched;
        break;
      }
  // Pasting from itself or an image of the same value leaves no trace, as does a box of area 0.
  CHECK(touched > n * 60 / 100);
  CHECK(touched < n * 80 / 100);
}

TEST_CASE("cutmix: bad settings and labels are named") {
  auto b = constant_batch(2, 4, 4, 2);
  nat::rng g(1);
  std::vector<float> t, s;
  nat::data::cutmix_config c;
  c.prob = 1.5;
  CHECK_THROWS_WITH_AS(nat::data::cutmix(b, 2, 0.0, c, g, t, s), doctest::Contains("prob"),
                       nat::config_error);
  c.prob = 0.5;
  c.beta = 0;
  CHECK_THROWS_WITH_AS(nat::data::cutmix(b, 2, 0.0, c, g, t, s), doctest::Contains("beta"),
                       nat::config_error);
  c.beta = 1;
  b.labels[1] = 5;
  CHECK_THROWS_WITH_AS(nat::data::cutmix(b, 2, 0.0, c, g, t, s), doctest::Contains("label 5"),
                       nat::shape_error);
}
