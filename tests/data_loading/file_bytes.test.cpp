#include <doctest/doctest.h>

#include <nat/data/file_bytes.hpp>

#include "test_files.hpp"

using nat::data::read_file_bytes;

TEST_CASE("read_file_bytes returns plain files unchanged") {
  nat_test::temp_dir dir;
  const std::string raw("\x1f plain, starts like the first byte of gzip only");
  CHECK(read_file_bytes(dir.write("plain.gz", raw), "t") == raw);  // the name does not matter
  CHECK(read_file_bytes(dir.write("empty", ""), "t").empty());
  try {
    read_file_bytes(dir.path + "/missing", "my_reader");
    FAIL("expected io_error");
  } catch (const nat::io_error& e) {
    CHECK(std::string(e.what()).find("my_reader") != std::string::npos);
    CHECK(std::string(e.what()).find("missing") != std::string::npos);
  }
}

#if defined(NAT_WITH_ZLIB)
TEST_CASE("read_file_bytes inflates gzip found by magic bytes, whatever the name") {
  nat_test::temp_dir dir;
  std::string raw;
  for (int i = 0; i < 200000; ++i) raw += char((i * 7) % 251);
  CHECK(read_file_bytes(dir.write("no_extension", nat_test::gzip(raw)), "t") == raw);
  // Concatenated members decompress to the concatenation, as gzip -d does.
  CHECK(read_file_bytes(dir.write("two.gz", nat_test::gzip("abc") + nat_test::gzip("def")), "t") ==
        "abcdef");
}

TEST_CASE("read_file_bytes reports truncated and corrupt gzip files by name") {
  nat_test::temp_dir dir;
  std::string raw;
  for (unsigned i = 0; i < 50000; ++i) raw += char((i * i) % 256u);
  const std::string gz = nat_test::gzip(raw);
  const std::string cut = dir.write("cut.gz", gz.substr(0, gz.size() / 2));
  try {
    read_file_bytes(cut, "reader_x");
    FAIL("expected io_error");
  } catch (const nat::io_error& e) {
    const std::string m = e.what();
    CHECK(m.find("reader_x") != std::string::npos);
    CHECK(m.find("cut.gz") != std::string::npos);
    CHECK(m.find("truncated") != std::string::npos);
  }
  // Missing only the 8-byte trailer (CRC + size) still counts as truncated.
  CHECK_THROWS_AS(read_file_bytes(dir.write("notrailer.gz", gz.substr(0, gz.size() - 8)), "t"),
                  nat::io_error);
  std::string bad = gz;
  for (std::size_t i = 20; i < 60; ++i) bad[i] = char(bad[i] ^ 0x5a);
  CHECK_THROWS_AS(read_file_bytes(dir.write("bad.gz", bad), "t"), nat::io_error);
  CHECK_THROWS_AS(read_file_bytes(dir.write("junk.gz", gz + "xyz"), "t"), nat::io_error);
}
#else
TEST_CASE("without zlib, gzip files give not_supported naming the fix") {
  nat_test::temp_dir dir;
  CHECK_THROWS_AS(read_file_bytes(dir.write("a.gz", std::string("\x1f\x8b\x08\x00", 4)), "t"),
                  nat::not_supported);
}
#endif
