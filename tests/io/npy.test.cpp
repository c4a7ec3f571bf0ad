#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <nat/io/npy.hpp>
#include <string>

namespace {
std::string temp_path(const char* name) {
  return std::string("/tmp/nat_npy_test_") + std::to_string(::getpid()) + "_" + name;
}
void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}
std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
}  // namespace

TEST_CASE_TEMPLATE("save_npy / load_npy round trip, including views and 1-D shapes", T, float,
                   double) {
  const auto path = temp_path("rt.npy");
  auto t = nat::tensor<T>::randn({3, 13, 7, 7}, 1);
  nat::io::save_npy(path, t);
  auto u = nat::io::load_npy<T>(path);
  CHECK(u.shape() == t.shape());
  CHECK(u.to_vector() == t.to_vector());
  const std::string bytes = read_bytes(path);
  CHECK(bytes.substr(0, 6) == "\x93NUMPY");
  CHECK((10 + std::size_t(static_cast<unsigned char>(bytes[8]))) % 64 == 0);
  CHECK(bytes.find("'shape': (3, 13, 7, 7)") != std::string::npos);
  auto v = t.narrow(1, 2, 5);  // non-contiguous view is written in C order
  nat::io::save_npy(path, v);
  CHECK(nat::io::load_npy<T>(path).to_vector() == v.to_vector());
  nat::io::save_npy(path, nat::tensor<T>::ones({5}));
  CHECK(read_bytes(path).find("'shape': (5,)") != std::string::npos);
  CHECK(nat::io::load_npy<T>(path).shape() == nat::shape{5});
  std::remove(path.c_str());
}

TEST_CASE("load_npy: clear io_error for wrong dtype, truncation, garbage, Fortran order") {
  const auto path = temp_path("bad.npy");
  nat::io::save_npy(path, nat::tensord::ones({4, 4}));
  try {
    nat::io::load_npy<float>(path);
    FAIL("no throw");
  } catch (const nat::io_error& e) {
    CHECK(std::string(e.what()).find("float64") != std::string::npos);
    CHECK(std::string(e.what()).find("float32") != std::string::npos);
  }
  const std::string good = read_bytes(path);
  write_bytes(path, good.substr(0, good.size() - 8));
  CHECK_THROWS_AS(nat::io::load_npy<double>(path), nat::io_error);
  write_bytes(path, good.substr(0, 20));
  CHECK_THROWS_AS(nat::io::load_npy<double>(path), nat::io_error);
  write_bytes(path, "not a numpy file at all");
  CHECK_THROWS_AS(nat::io::load_npy<double>(path), nat::io_error);
  std::string fortran = good;
  fortran.replace(fortran.find("False"), 5, "True ");
  write_bytes(path, fortran);
  CHECK_THROWS_AS(nat::io::load_npy<double>(path), nat::io_error);
  std::string big = good;
  big.replace(big.find("<f8"), 3, ">f8");
  write_bytes(path, big);
  CHECK_THROWS_AS(nat::io::load_npy<double>(path), nat::io_error);
  std::remove(path.c_str());
  CHECK_THROWS_AS(nat::io::load_npy<double>(path), nat::io_error);  // missing file
}
