#include <doctest/doctest.h>

#include <cstdio>
#include <nat/core/file.hpp>
#include <string>

TEST_CASE("write_file_atomic replaces the file whole and read_file reads it back") {
  const std::string path = "/tmp/nat_file_test_" + std::to_string(::getpid());
  std::string bytes(100000, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 31);
  nat::write_file_atomic(path, bytes);
  CHECK(nat::read_file(path) == bytes);
  nat::write_file_atomic(path, "short");
  CHECK(nat::read_file(path) == "short");
  nat::append_line_durable(path, "line");
  CHECK(nat::read_file(path) == "shortline\n");
  std::remove(path.c_str());
  CHECK_THROWS_AS(nat::read_file(path), nat::io_error);
  CHECK_THROWS_AS(nat::write_file_atomic("/nonexistent_dir/x", "y"), nat::io_error);
}
