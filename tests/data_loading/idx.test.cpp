#include <doctest/doctest.h>

#include <cstdlib>
#include <nat/data/idx.hpp>

#include "test_files.hpp"

using nat::data::read_idx;
using nat::data::read_idx_dataset;

namespace {
// Two 2×3 images with distinct bytes, labels {1, 0}.
const std::vector<std::uint8_t> k_pixels = {0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255};
std::string images_file() { return nat_test::idx_bytes({2, 2, 3}, k_pixels); }
std::string labels_file() { return nat_test::idx_bytes({2}, {1, 0}); }

// Runs f, expecting an io_error whose message holds every one of `parts`.
template <class F>
void check_io_error(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    FAIL("expected io_error");
  } catch (const nat::io_error& e) {
    const std::string m = e.what();
    for (const auto& p : parts) CHECK_MESSAGE(m.find(p) != std::string::npos, m);
  }
}
}  // namespace

TEST_CASE("read_idx reads dims and bytes of a crafted file") {
  nat_test::temp_dir dir;
  const auto a = read_idx(dir.write("img", images_file()));
  CHECK(a.dims == std::vector<std::size_t>{2, 2, 3});
  CHECK(a.data == k_pixels);
}

TEST_CASE("read_idx_dataset builds a 1-channel dataset from plain files") {
  nat_test::temp_dir dir;
  const auto ds =
      read_idx_dataset(dir.write("i", images_file()), dir.write("l", labels_file()), 2, "crafted");
  CHECK(ds.size() == 2);
  CHECK(ds.channels() == 1);
  CHECK(ds.height() == 2);
  CHECK(ds.width() == 3);
  CHECK(ds.pixels() == k_pixels);
  CHECK(ds.labels() == std::vector<int>{1, 0});
  CHECK(ds.name() == "crafted");
}

#if defined(NAT_WITH_ZLIB)
TEST_CASE("read_idx_dataset reads gzip files the same as plain ones") {
  nat_test::temp_dir dir;
  const auto ds = read_idx_dataset(dir.write("i.gz", nat_test::gzip(images_file())),
                                   dir.write("l", nat_test::gzip(labels_file())), 2);
  CHECK(ds.pixels() == k_pixels);
  CHECK(ds.labels() == std::vector<int>{1, 0});
}

TEST_CASE("read_idx names the file of a truncated gzip IDX") {
  nat_test::temp_dir dir;
  std::vector<std::uint8_t> big(3000 * 28 * 28);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = std::uint8_t((i * 2654435761u) >> 24);
  const std::string gz = nat_test::gzip(nat_test::idx_bytes({3000, 28, 28}, big));
  const std::string path = dir.write("cut-images-idx3-ubyte.gz", gz.substr(0, gz.size() * 3 / 4));
  check_io_error([&] { read_idx(path); }, {"read_idx", path, "truncated"});
}
#endif

TEST_CASE("read_idx rejects malformed files with messages naming the file and the problem") {
  nat_test::temp_dir dir;
  std::string bad_magic = images_file();
  bad_magic[0] = 1;
  const std::string p1 = dir.write("magic", bad_magic);
  check_io_error([&] { read_idx(p1); }, {"read_idx", p1, "magic"});

  std::string bad_type = images_file();
  bad_type[2] = 0x0d;  // float
  const std::string p2 = dir.write("type", bad_type);
  check_io_error([&] { read_idx(p2); }, {p2, "13", "unsigned byte"});

  const std::string full = images_file();
  const std::string p3 = dir.write("short", full.substr(0, full.size() - 1));
  check_io_error([&] { read_idx(p3); }, {p3, "2x2x3", "12", "11", "truncated"});

  const std::string p4 = dir.write("long", full + "x");
  check_io_error([&] { read_idx(p4); }, {p4, "13", "trailing"});

  const std::string p5 = dir.write("header", full.substr(0, 9));
  check_io_error([&] { read_idx(p5); }, {p5, "header"});

  // Dimensions whose product overflows 64 bits are still just "truncated".
  const std::string p7 =
      dir.write("huge", nat_test::idx_bytes({0xffffffffu, 0xffffffffu, 0xffffffffu}, {1, 2, 3}));
  check_io_error([&] { read_idx(p7); }, {p7, "truncated"});

  const std::string p6 = dir.write("tiny", std::string("\0\0", 2));
  check_io_error([&] { read_idx(p6); }, {p6, "2 bytes"});
}

TEST_CASE("read_idx_dataset checks ranks, counts and labels") {
  nat_test::temp_dir dir;
  const std::string img = dir.write("i", images_file());
  const std::string lab = dir.write("l", labels_file());
  const std::string three = dir.write("l3", nat_test::idx_bytes({3}, {0, 1, 0}));
  check_io_error([&] { read_idx_dataset(img, three, 2); }, {three, "3 labels", "2 images"});
  check_io_error([&] { read_idx_dataset(lab, lab, 2); }, {lab, "3-dimensional"});
  check_io_error([&] { read_idx_dataset(img, img, 2); }, {img, "1-dimensional"});
  const std::string big = dir.write("lbig", nat_test::idx_bytes({2}, {0, 7}));
  check_io_error([&] { read_idx_dataset(img, big, 5); }, {big, "label 7", "item 1", "5"});
  CHECK_NOTHROW(read_idx_dataset(img, big, 8));
}

TEST_CASE("load_idx_dataset finds MNIST-named files; load_fashion_mnist explains how to install") {
  nat_test::temp_dir dir;
  dir.write("train-images-idx3-ubyte", images_file());
  dir.write("train-labels-idx1-ubyte", labels_file());
  dir.write("t10k-images-idx3-ubyte", nat_test::idx_bytes({1, 2, 3}, {9, 8, 7, 6, 5, 4}));
  dir.write("t10k-labels-idx1-ubyte", nat_test::idx_bytes({1}, {9}));
  const auto tr = nat::data::load_idx_dataset(dir.path, nat::data::split::train);
  CHECK(tr.pixels() == k_pixels);
  CHECK(tr.n_classes() == 10);
  const auto te = nat::data::load_idx_dataset(dir.path, nat::data::split::test);
  CHECK(te.size() == 1);
  CHECK(te.label(0) == 9);
  // Explicit directory wins over the environment, which wins over the default.
  CHECK(nat::data::load_fashion_mnist(nat::data::split::test, dir.path).size() == 1);
  ::setenv("NAT_FASHION_MNIST_DIR", dir.path.c_str(), 1);
  CHECK(nat::data::fashion_mnist_dir() == dir.path);
  CHECK(nat::data::load_fashion_mnist(nat::data::split::train).size() == 2);
  ::setenv("NAT_FASHION_MNIST_DIR", (dir.path + "/nope").c_str(), 1);
  check_io_error([] { nat::data::load_fashion_mnist(nat::data::split::test); },
                 {"nope", "apt-get install dataset-fashion-mnist", "--data DIR"});
  ::unsetenv("NAT_FASHION_MNIST_DIR");
  CHECK(nat::data::fashion_mnist_dir() == "/usr/share/datasets/fashion-mnist");
  CHECK_THROWS_AS(nat::data::load_idx_dataset(dir.path + "/nope", nat::data::split::test),
                  nat::io_error);
}

TEST_CASE("the real Fashion-MNIST test split: 10,000 28x28 images, 1000 per class") {
  const std::string d = nat::data::fashion_mnist_dir();
  if (!nat::data::detail::dir_exists(d)) {
    MESSAGE("skipped: " << d << " is absent (apt-get install dataset-fashion-mnist)");
    return;
  }
  if (!nat::data::with_zlib() && !nat::data::detail::file_exists(d + "/t10k-images-idx3-ubyte")) {
    MESSAGE("skipped: " << d << " holds gzip files and this build has no zlib");
    return;
  }
  const auto ds = nat::data::load_fashion_mnist(nat::data::split::test);
  CHECK(ds.size() == 10000);
  CHECK(ds.channels() == 1);
  CHECK(ds.height() == 28);
  CHECK(ds.width() == 28);
  CHECK(ds.n_classes() == 10);
  CHECK(ds.class_counts() == std::vector<std::size_t>(10, 1000));
  // First labels as Python's gzip module reads them from t10k-labels-idx1-ubyte.gz.
  CHECK(std::vector<int>(ds.labels().begin(), ds.labels().begin() + 5) ==
        std::vector<int>{9, 2, 1, 1, 6});
}
