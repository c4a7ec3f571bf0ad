#include <doctest/doctest.h>

#include <nat/data/cifar.hpp>

#include "test_files.hpp"

namespace {
// One CIFAR record: label bytes then 3072 pixels, pixel k = (seed + k) mod 256.
std::string record(std::vector<std::uint8_t> label_bytes, int seed) {
  std::string r(label_bytes.begin(), label_bytes.end());
  for (int k = 0; k < 3072; ++k) r += char((seed + k) % 256);
  return r;
}
bool message_has(const nat::io_error& e, const std::string& part) {
  return std::string(e.what()).find(part) != std::string::npos;
}
}  // namespace

TEST_CASE("read_cifar10 reads labels and CHW pixels across several files") {
  nat_test::temp_dir dir;
  const std::string a = dir.write("a.bin", record({3}, 0) + record({9}, 7));
  const std::string b = dir.write("b.bin", record({0}, 100));
  const auto ds = nat::data::read_cifar10({a, b});
  REQUIRE(ds.size() == 3);
  CHECK(ds.channels() == 3);
  CHECK(ds.height() == 32);
  CHECK(ds.width() == 32);
  CHECK(ds.n_classes() == 10);
  CHECK(ds.labels() == std::vector<int>{3, 9, 0});
  CHECK(ds.image(0)[0] == 0);
  CHECK(ds.image(0)[1024] == 0);  // green plane starts at byte 1024: (0 + 1024) mod 256
  CHECK(ds.image(1)[5] == 12);    // 7 + 5
  CHECK(ds.image(2)[3071] == (100 + 3071) % 256);
}

TEST_CASE("read_cifar100 picks the fine or the coarse label") {
  nat_test::temp_dir dir;
  const std::string f = dir.write("train.bin", record({19, 99}, 1) + record({4, 30}, 2));
  const auto fine = nat::data::read_cifar100(f);
  CHECK(fine.n_classes() == 100);
  CHECK(fine.labels() == std::vector<int>{99, 30});
  CHECK(fine.image(1)[0] == 2);
  const auto coarse = nat::data::read_cifar100(f, nat::data::cifar100_label::coarse);
  CHECK(coarse.n_classes() == 20);
  CHECK(coarse.labels() == std::vector<int>{19, 4});
  const auto loaded = nat::data::load_cifar100(dir.path, nat::data::split::train);
  CHECK(loaded.labels() == fine.labels());
}

TEST_CASE("load_cifar10 reads the five training batches in order, or the test batch") {
  nat_test::temp_dir dir;
  for (int i = 1; i <= 5; ++i)
    dir.write("data_batch_" + std::to_string(i) + ".bin", record({std::uint8_t(i)}, i));
  dir.write("test_batch.bin", record({7}, 0) + record({8}, 0));
  const auto tr = nat::data::load_cifar10(dir.path, nat::data::split::train);
  CHECK(tr.labels() == std::vector<int>{1, 2, 3, 4, 5});
  CHECK(tr.image(4)[0] == 5);
  CHECK(tr.name() == "cifar10/train");
  CHECK(nat::data::load_cifar10(dir.path, nat::data::split::test).labels() ==
        std::vector<int>{7, 8});
}

TEST_CASE("CIFAR readers reject truncated files and out-of-range labels") {
  nat_test::temp_dir dir;
  const std::string cut = dir.write("cut.bin", record({1}, 0) + record({2}, 0).substr(0, 100));
  try {
    nat::data::read_cifar10({cut});
    FAIL("expected io_error");
  } catch (const nat::io_error& e) {
    CHECK(message_has(e, "cut.bin"));
    CHECK(message_has(e, "3073"));
    CHECK(message_has(e, "truncated"));
  }
  const std::string badlabel = dir.write("l.bin", record({1}, 0) + record({10}, 0));
  try {
    nat::data::read_cifar10({badlabel});
    FAIL("expected io_error");
  } catch (const nat::io_error& e) {
    CHECK(message_has(e, "l.bin"));
    CHECK(message_has(e, "record 1"));
    CHECK(message_has(e, "label 10"));
  }
  const std::string c100 = dir.write("c.bin", record({20, 5}, 0));
  CHECK_THROWS_AS(nat::data::read_cifar100(c100, nat::data::cifar100_label::coarse), nat::io_error);
  CHECK_NOTHROW(nat::data::read_cifar100(c100, nat::data::cifar100_label::fine));
  // A CIFAR-10 file is not a whole number of CIFAR-100 records.
  CHECK_THROWS_AS(nat::data::read_cifar100(dir.write("ten.bin", record({1}, 0))), nat::io_error);
  CHECK_THROWS_AS(nat::data::read_cifar10({dir.write("empty.bin", "")}), nat::io_error);
  CHECK_THROWS_AS(nat::data::load_cifar10(dir.path, nat::data::split::train), nat::io_error);
}
