#include <doctest/doctest.h>

#include <algorithm>
#include <nat/data/split.hpp>

using nat::data::image_dataset;
using nat::data::train_validation_split;

namespace {
// Image i has its single pixel = i, so the parts reveal which images they took. Class sizes
// 60/30/10 for n = 100.
image_dataset classes_60_30_10() {
  std::vector<std::uint8_t> px(100);
  std::vector<int> lb(100);
  for (int i = 0; i < 100; ++i) {
    px[std::size_t(i)] = std::uint8_t(i);
    lb[std::size_t(i)] = i < 60 ? 0 : (i < 90 ? 1 : 2);
  }
  return image_dataset("c", 1, 1, 1, px, lb, 3);
}
std::vector<int> ids(const image_dataset& d) { return {d.pixels().begin(), d.pixels().end()}; }
}  // namespace

TEST_CASE("train_validation_split partitions the images, keeping order, seeded") {
  const auto ds = classes_60_30_10();
  const auto s = train_validation_split(ds, 25, 42);
  CHECK(s.train.size() == 75);
  CHECK(s.validation.size() == 25);
  auto tr = ids(s.train), va = ids(s.validation);
  CHECK(std::is_sorted(tr.begin(), tr.end()));
  CHECK(std::is_sorted(va.begin(), va.end()));
  std::vector<int> all = tr;
  all.insert(all.end(), va.begin(), va.end());
  std::sort(all.begin(), all.end());
  for (int i = 0; i < 100; ++i) CHECK(all[std::size_t(i)] == i);
  for (std::size_t k = 0; k < tr.size(); ++k)  // labels travel with their images
    CHECK(s.train.label(k) == (tr[k] < 60 ? 0 : (tr[k] < 90 ? 1 : 2)));
  CHECK(ids(train_validation_split(ds, 25, 42).validation) == va);
  CHECK(ids(train_validation_split(ds, 25, 43).validation) != va);
  CHECK(s.validation.name() == "c/validation");
}

TEST_CASE("stratified split takes each class in proportion") {
  const auto ds = classes_60_30_10();
  const auto s = train_validation_split(ds, 10, 7, true);
  CHECK(s.validation.class_counts() == std::vector<std::size_t>{6, 3, 1});
  CHECK(s.train.class_counts() == std::vector<std::size_t>{54, 27, 9});
  // 15 = 9 + 4.5 + 1.5: floors 9/4/1, one slot left; the remainders tie at .5 and the smaller
  // class id (1) gets it.
  CHECK(train_validation_split(ds, 15, 7, true).validation.class_counts() ==
        std::vector<std::size_t>{9, 5, 1});
  CHECK(train_validation_split(ds, 100, 7, true).train.empty());
}

TEST_CASE("fractions round to the nearest count; bad sizes are config errors") {
  const auto ds = classes_60_30_10();
  CHECK(train_validation_split(ds, 0.2, 1).validation.size() == 20);
  CHECK(train_validation_split(ds, 0.125, 1).validation.size() == 13);  // 12.5 rounds away
  CHECK(train_validation_split(ds, 0.0, 1).validation.empty());
  CHECK(train_validation_split(ds, std::size_t(3), 1).validation.size() == 3);
  CHECK_THROWS_AS(train_validation_split(ds, 101, 1), nat::config_error);
  CHECK_THROWS_AS(train_validation_split(ds, -1, 1), nat::config_error);
  CHECK_THROWS_AS(train_validation_split(ds, 1.5, 1), nat::config_error);
}
