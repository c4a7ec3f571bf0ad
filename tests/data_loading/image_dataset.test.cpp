#include <doctest/doctest.h>

#include <nat/data/image_dataset.hpp>

using nat::data::image_dataset;

namespace {
// Three 2-channel 1×2 images whose bytes encode (image, channel, column) so mix-ups show.
image_dataset tiny() {
  std::vector<std::uint8_t> px;
  for (int i = 0; i < 3; ++i)
    for (int c = 0; c < 2; ++c)
      for (int x = 0; x < 2; ++x) px.push_back(std::uint8_t(100 * i + 10 * c + x));
  return image_dataset("tiny", 2, 1, 2, px, {2, 0, 2}, 3);
}
}  // namespace

TEST_CASE("image_dataset exposes NCHW pixels, labels and counts") {
  const image_dataset ds = tiny();
  CHECK(ds.size() == 3);
  CHECK(ds.channels() == 2);
  CHECK(ds.height() == 1);
  CHECK(ds.width() == 2);
  CHECK(ds.image_size() == 4);
  CHECK(ds.n_classes() == 3);
  CHECK(ds.name() == "tiny");
  CHECK(ds.image(1)[0] == 100);  // image 1, channel 0, x 0
  CHECK(ds.image(2)[3] == 211);  // image 2, channel 1, x 1
  CHECK(ds.label(1) == 0);
  CHECK(ds.class_counts() == std::vector<std::size_t>{1, 0, 2});
}

TEST_CASE("image_dataset::subset copies the chosen images in order, repeats allowed") {
  const image_dataset s = tiny().subset({2, 0, 2}, "/sub");
  REQUIRE(s.size() == 3);
  CHECK(s.name() == "tiny/sub");
  CHECK(s.labels() == std::vector<int>{2, 2, 2});
  CHECK(s.pixels() ==
        std::vector<std::uint8_t>{200, 201, 210, 211, 0, 1, 10, 11, 200, 201, 210, 211});
  CHECK_THROWS_AS(tiny().subset({3}), nat::config_error);
  CHECK(tiny().subset({}).empty());
}

TEST_CASE("image_dataset rejects inconsistent sizes and labels") {
  CHECK_THROWS_AS(image_dataset("x", 1, 2, 2, std::vector<std::uint8_t>(7), {0, 0}, 2),
                  nat::shape_error);
  CHECK_THROWS_AS(image_dataset("x", 1, 2, 2, std::vector<std::uint8_t>(8), {0, 2}, 2),
                  nat::config_error);
  CHECK_THROWS_AS(image_dataset("x", 1, 2, 2, std::vector<std::uint8_t>(8), {0, -1}, 2),
                  nat::config_error);
  CHECK_THROWS_AS(image_dataset("x", 0, 2, 2, {}, {}, 2), nat::config_error);
  CHECK_THROWS_AS(image_dataset("x", 1, 2, 2, {}, {}, 0), nat::config_error);
}
